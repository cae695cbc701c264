"""ba-jobsuche: BA Jobsuche search responses (v6 and v4) -> JobPosting."""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats import FORMATS, FormatError
from hub.formats.ba_jobsuche import FORMAT, parse
from hub.models import ContractDuration, EmploymentType, JobPosting, WorkingTime
from hub.quality.rules import RULES

BERLIN = ZoneInfo("Europe/Berlin")
PARTNER = "ba-saarland"


def _v6(*items: object, **extra: object) -> bytes:
    return json.dumps({"ergebnisliste": list(items), "maxErgebnisse": len(items), **extra}).encode()


def _item(**overrides: object) -> dict:
    item = {
        "referenznummer": "10001-1200000001-S",
        "stellenangebotsTitel": "Lagerhelfer (m/w/d)",
        "firma": "Logistik Ostertal GmbH",
        "stellenlokationen": [
            {"adresse": {"plz": "66538", "ort": "Neunkirchen", "region": "SAARLAND",
                         "land": "DEUTSCHLAND"}}
        ],
    }
    item.update(overrides)
    return item


def test_registered():
    assert FORMATS["ba-jobsuche"] is FORMAT
    assert FORMAT.domain == "jobs"


# --------------------------------------------------------------------------- real sample


def test_real_v6_sample(samples_dir):
    data = (samples_dir / "ba_jobsuche_v6_search_response_recorded.json").read_bytes()
    result = parse(data, PARTNER)

    assert result.rejections == []
    assert result.items == 1
    (job,) = result.records
    assert isinstance(job, JobPosting)
    assert job.source_id == "14225-d678889039fc0001-S"
    assert job.ba_reference == "14225-d678889039fc0001-S"
    assert job.title == "Informatiker (m/w/d)"
    assert job.organisation == "Bundesinstitut für Risikobewertung (BfR)"
    assert job.address.street == "Max-Dohrn-Str."
    assert job.address.house_number == "8-10"
    assert job.address.postal_code == "10589"
    assert job.address.city == "Berlin"
    assert job.address.state == "Berlin"
    assert job.address.country == "DE"
    assert (job.geo.lat, job.geo.lon) == (52.530795, 13.296708)
    assert job.salary_min == 60772.4
    assert job.salary_max == 87110
    assert job.salary_period == "year"
    assert job.employment_type == EmploymentType.EMPLOYEE
    assert job.working_time == [WorkingTime.FULL_TIME]
    assert job.contract_duration is None  # KEINE_ANGABE
    assert job.remote_possible is True
    assert job.occupation == "Informatiker/in"
    assert job.start_date == dt.date(2026, 9, 14)
    assert job.published_from == dt.date(2026, 9, 14)
    assert job.valid_through is None
    assert str(job.url).startswith("https://www.jobvector.de/job/informatiker-d678889039fc0001/")
    # local time without zone, in September: CEST
    assert job.updated_at == dt.datetime(2026, 9, 14, 7, 57, 38, 33000, tzinfo=BERLIN)
    assert job.updated_at.utcoffset() == dt.timedelta(hours=2)


def test_real_v4_field_map_is_not_a_payload(samples_dir):
    # the wunderfrucht file maps v4 fields, it is not a response: refused as a whole
    data = (samples_dir / "ba_jobsuche_v4_live_schema_baseline_wunderfrucht.json").read_bytes()
    with pytest.raises(FormatError, match="not a BA Jobsuche response"):
        parse(data, PARTNER)


def test_v4_fixture_covers_the_v4_search_fields(samples_dir, fixtures_dir):
    field_map = json.loads(
        (samples_dir / "ba_jobsuche_v4_live_schema_baseline_wunderfrucht.json").read_text()
    )["endpoints"]["search"]["fields"]
    fixture = json.loads((fixtures_dir / "formats" / "ba_jobsuche_v4_neunkirchen.json").read_text())
    item = fixture["stellenangebote"][0]
    for dotted in field_map:
        # every field the live responses always carry, and the optional ones the parser maps
        mapped = dotted.endswith((".beruf", ".externeUrl", ".plz"))
        wanted = field_map[dotted]["required"] or mapped
        if not dotted.startswith("stellenangebote[].") or not wanted:
            continue
        value = item
        for part in dotted.removeprefix("stellenangebote[].").split("."):
            assert part in value, f"fixture lacks v4 field {dotted}"
            value = value[part]


# --------------------------------------------------------------------------- own fixtures


def test_v6_fixture_two_records_and_one_rejection(fixtures_dir):
    data = (fixtures_dir / "formats" / "ba_jobsuche_v6_neunkirchen.json").read_bytes()
    result = parse(data, PARTNER)

    assert result.items == 3
    assert [job.source_id for job in result.records] == [
        "10001-1203456789-S",
        "10001-1203456790-S",
    ]
    nurse, helper = result.records

    assert nurse.title == "Pflegefachkraft (m/w/d) ambulante Pflege"
    assert nurse.organisation == "Pflegedienst Bliestal GmbH"
    assert nurse.address.street == "Wilhelm-Heinrich-Straße"
    assert nurse.address.house_number == "12a"
    assert nurse.address.postal_code == "66564"
    assert nurse.address.city == "Ottweiler"
    assert nurse.address.state == "Saarland"
    assert nurse.working_time == [WorkingTime.FULL_TIME, WorkingTime.SHIFT]
    assert nurse.employment_type == EmploymentType.EMPLOYEE
    assert nurse.contract_duration == ContractDuration.PERMANENT
    assert (nurse.salary_min, nurse.salary_max, nurse.salary_period) == (3400, 3950.5, "month")
    assert nurse.remote_possible is False
    assert nurse.start_date == dt.date(2026, 5, 1)
    assert nurse.published_from == dt.date(2026, 3, 30)
    assert nurse.valid_through == dt.date(2026, 6, 30)
    assert nurse.updated_at == dt.datetime(2026, 3, 30, 14, 5, 12, 500000, tzinfo=BERLIN)
    assert nurse.updated_at.utcoffset() == dt.timedelta(hours=2)

    assert helper.title == "Aushilfe Verkauf Bäckerei (m/w/d)"  # stripped
    assert helper.employment_type == EmploymentType.MINI_JOB
    assert helper.working_time == [WorkingTime.PART_TIME, WorkingTime.FLEXIBLE, WorkingTime.MINI]
    assert helper.contract_duration == ContractDuration.FIXED_TERM
    assert (helper.salary_min, helper.salary_max, helper.salary_period) == (13.9, None, "hour")
    assert helper.url is None  # empty externeURL
    assert helper.start_date is None
    # January: CET
    assert helper.updated_at.utcoffset() == dt.timedelta(hours=1)

    (rejection,) = result.rejections
    assert rejection.rule == "ADDRESS_POSTAL_CODE_INVALID"
    assert rejection.field == "address.postal_code"
    assert rejection.value == "6653"
    assert rejection.source_id == "10001-1203456791-S"
    assert rejection.title == "Ausbildung Mechatroniker/in 2026"
    assert rejection.partner_id == PARTNER
    assert rejection.domain == "jobs"


def test_v4_fixture(fixtures_dir):
    data = (fixtures_dir / "formats" / "ba_jobsuche_v4_neunkirchen.json").read_bytes()
    result = parse(data, PARTNER)

    assert result.rejections == []
    assert result.items == 2
    driver, educator = result.records
    assert driver.source_id == driver.ba_reference == "10000-1198765432-S"
    assert driver.title == "LKW-Fahrer (m/w/d) Nahverkehr Saarland"
    assert driver.organisation == "Spedition Kohlhof GmbH & Co. KG"
    assert driver.occupation == "Berufskraftfahrer/in (Güterverkehr/LKW)"
    assert driver.address.street == "Zweibrücker Straße"
    assert driver.address.postal_code == "66538"
    assert driver.address.city == "Neunkirchen"
    assert driver.address.state == "Saarland"
    assert driver.address.country == "DE"
    assert (driver.geo.lat, driver.geo.lon) == (49.338211, 7.186402)
    assert str(driver.url) == "https://spedition-kohlhof.example/jobs/lkw-nahverkehr"
    assert driver.start_date == dt.date(2026, 4, 1)
    assert driver.published_from == dt.date(2026, 3, 2)
    assert driver.updated_at == dt.datetime(2026, 3, 2, 11, 20, 45, 913000, tzinfo=BERLIN)
    assert driver.employment_type == EmploymentType.EMPLOYEE  # v4 search does not say
    assert driver.working_time == []

    assert educator.address.street is None  # empty string
    assert educator.url is None


# --------------------------------------------------------------------------- mapping details


@pytest.mark.parametrize(
    ("region", "state"),
    [
        ("SAARLAND", "Saarland"),
        ("BADEN_WUERTTEMBERG", "Baden-Württemberg"),
        ("THUERINGEN", "Thüringen"),
        ("NORDRHEIN_WESTFALEN", "Nordrhein-Westfalen"),
        ("Rheinland-Pfalz", "Rheinland-Pfalz"),
        ("UEBERREGIONAL", "Ueberregional"),
    ],
)
def test_region_is_readable(region, state):
    item = _item()
    item["stellenlokationen"][0]["adresse"]["region"] = region
    (job,) = parse(_v6(item), PARTNER).records
    assert job.address.state == state


@pytest.mark.parametrize(
    ("art", "expected"),
    [
        ("ARBEIT", EmploymentType.EMPLOYEE),
        ("AUSBILDUNG", EmploymentType.APPRENTICESHIP),
        ("PRAKTIKUM_TRAINEE", EmploymentType.INTERNSHIP),
        ("SELBSTAENDIGKEIT", EmploymentType.SELF_EMPLOYED),
        ("ARBEITNEHMERUEBERLASSUNG_XYZ", EmploymentType.OTHER),
    ],
)
def test_employment_type(art, expected):
    (job,) = parse(_v6(_item(stellenangebotsart=art)), PARTNER).records
    assert job.employment_type == expected


def test_the_first_place_of_work_with_a_postal_code_counts():
    places = [{"adresse": {"ort": "bundesweit", "region": "UEBERREGIONAL"}},
              {"adresse": {"plz": "66538", "ort": "Neunkirchen", "strasse": "Hauptstraße 12"}},
              {"adresse": {"plz": "10115", "ort": "Berlin"}}]
    result = parse(_v6(_item(stellenlokationen=places)), PARTNER)
    assert result.rejections == []
    (job,) = result.records
    assert (job.address.postal_code, job.address.city) == ("66538", "Neunkirchen")
    # without hausnummer the number is in strasse
    assert (job.address.street, job.address.house_number) == ("Hauptstraße", "12")


def test_v4_street_holds_the_house_number_and_a_www_url_gets_its_scheme():
    item = {"refnr": "10000-1", "titel": "Koch (m/w/d)", "arbeitgeber": "Hotel Post",
            "externeUrl": "www.hotel-post.example/jobs",
            "arbeitsort": {"plz": "66538", "ort": "Neunkirchen", "strasse": "Hauptstraße 12a"}}
    result = parse(json.dumps({"stellenangebote": [item]}).encode(), PARTNER)
    assert result.rejections == []
    (job,) = result.records
    assert (job.address.street, job.address.house_number) == ("Hauptstraße", "12a")
    assert str(job.url) == "https://www.hotel-post.example/jobs"


@pytest.mark.parametrize(
    ("description", "level", "required"),
    [("Wir erwarten Deutschkenntnisse auf B1-Niveau und einen Führerschein.", "B1", True),
     ("Keine Deutschkenntnisse erforderlich, Englisch reicht.", None, False),
     ("Sie packen gern mit an.", None, None)],
)
def test_the_description_of_job_details_tells_the_german_wanted(description, level, required):
    """Job details carry the description; what it says about German is read as in schema.org
    postings (search lists carry no description: nothing is said)."""
    (job,) = parse(_v6(_item(stellenangebotsBeschreibung=description)), PARTNER).records
    assert (job.german_level, job.german_required) == (level, required)


def test_teilzeit_flags_give_part_time_once():
    item = _item(
        arbeitszeitTeilzeitVormittag=True,
        arbeitszeitTeilzeitNachmittag=True,
        arbeitszeitTeilzeitAbend=True,
    )
    (job,) = parse(_v6(item), PARTNER).records
    assert job.working_time == [WorkingTime.PART_TIME]


def test_no_match_is_an_empty_result():
    payload = {"maxErgebnisse": 0, "page": 1, "size": 25, "facetten": {}}
    result = parse(json.dumps(payload).encode(), PARTNER)
    assert (result.records, result.rejections, result.items) == ([], [], 0)


def test_utf8_bom_is_accepted():
    (job,) = parse(b"\xef\xbb\xbf" + _v6(_item(firma="Bäckerei Größ")), PARTNER).records
    assert job.organisation == "Bäckerei Größ"


def test_integer_plz_keeps_its_leading_zero():
    item = _item()
    item["stellenlokationen"][0]["adresse"]["plz"] = 6108
    (job,) = parse(_v6(item), PARTNER).records
    assert job.address.postal_code == "06108"


def test_broken_record_among_good_ones_is_rejected_alone():
    missing_title = _item(referenznummer="10001-2", stellenangebotsTitel="  ")
    no_location = _item(referenznummer="10001-3", stellenlokationen=[])
    bad_date = _item(referenznummer="10001-4", eintrittszeitraum={"von": "demnächst"})
    result = parse(
        _v6(_item(), "kein Objekt", missing_title, no_location, bad_date), PARTNER
    )

    assert [job.source_id for job in result.records] == ["10001-1200000001-S"]
    assert result.items == 5
    found = {(r.rule, r.source_id, r.field, r.value) for r in result.rejections}
    assert found == {
        ("RECORD_UNREADABLE", None, None, "ergebnisliste[2] is a string, not an object"),
        ("RECORD_FIELD_MISSING", "10001-2", "title", None),
        ("RECORD_FIELD_MISSING", "10001-3", "address.postal_code", None),
        ("RECORD_FIELD_MISSING", "10001-3", "address.city", None),
        ("RECORD_FIELD_INVALID", "10001-4", "start_date", "demnächst"),
    }


def test_duplicate_reference_is_rejected():
    result = parse(_v6(_item(), _item(stellenangebotsTitel="Zweiter Eintrag")), PARTNER)
    assert len(result.records) == 1
    (rejection,) = result.rejections
    assert rejection.rule == "RECORD_ID_DUPLICATE"
    assert rejection.source_id == "10001-1200000001-S"


def test_a_later_item_of_a_rejected_id_is_a_duplicate():
    """The first item of an id counts even when it is rejected: the second is not published
    in its place."""
    first = _item(stellenangebotsTitel="")  # no title: rejected
    result = parse(_v6(first, _item(stellenangebotsTitel="Zweiter Eintrag")), PARTNER)
    assert result.records == []
    assert [(r.rule, r.source_id, r.title) for r in result.rejections] == [
        ("RECORD_FIELD_MISSING", "10001-1200000001-S", None),
        ("RECORD_ID_DUPLICATE", "10001-1200000001-S", "Zweiter Eintrag")]
    assert result.items == 2


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b'{"ergebnisliste": [{"referenznummer": "1"', "invalid JSON at line 1 column"),
        (b"<html>Wartungsarbeiten</html>", r"the file is a web page \(HTML\), not JSON"),
        (b"[]", "not a BA Jobsuche response"),
        (b'"text"', "not a BA Jobsuche response"),
        (b'{"results": []}', "not a BA Jobsuche response"),
        (b'{"ergebnisliste": {"a": 1}}', "not a BA Jobsuche response"),
        (b"\xff\xfe{}", "UTF-16 text, where JSON is read as UTF-8"),
        (b"[" * 100_000, "invalid JSON"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


def test_truncated_real_sample_is_refused(samples_dir):
    data = (samples_dir / "ba_jobsuche_v6_search_response_recorded.json").read_bytes()
    with pytest.raises(FormatError, match=r"invalid JSON at line \d+ column \d+"):
        parse(data[: len(data) // 2], PARTNER)


# --------------------------------------------------------------------------- property


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            [
                "ergebnisliste", "stellenangebote", "maxErgebnisse", "referenznummer", "refnr",
                "stellenangebotsTitel", "titel", "stellenlokationen", "adresse", "plz", "ort",
                "breite", "laenge", "arbeitsort", "koordinaten", "lat", "lon", "aenderungsdatum",
                "gehaltsspanneVon", "eintrittszeitraum", "von", "externeURL", "region", "land",
                "homeofficemoeglich", "istGeringfuegigeBeschaeftigung", "stellenangebotsart",
            ]
        )
        | st.text(max_size=6),
        inner,
        max_size=6,
    ),
    max_leaves=30,
)


def _mangle(text: str, cut: int, junk: str) -> str:
    return text[: cut % (len(text) + 1)] + junk


@settings(max_examples=300, deadline=None)
@given(
    value=_json_values,
    cut=st.integers(min_value=0),
    junk=st.text(max_size=3),
    mangle=st.booleans(),
)
def test_only_format_errors_escape(value, cut, junk, mangle):
    text = json.dumps(value)
    if mangle:
        text = _mangle(text, cut, junk)
    try:
        result = parse(text.encode("utf-8", "surrogatepass"), PARTNER)
    except FormatError as error:
        assert "\n" not in str(error)
        return
    assert result.items >= len(result.records)
    assert all(rejection.rule in RULES for rejection in result.rejections)


def test_deeply_nested_input_is_fast():
    started = time.perf_counter()
    with pytest.raises(FormatError):
        parse(b'{"ergebnisliste": ' + b"[" * 50_000, PARTNER)
    assert time.perf_counter() - started < 2
