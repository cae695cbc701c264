"""ba-courses: BA Weiterbildungssuche (KURSNET) and Sprachfoerderung responses -> CourseOffer."""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats import FormatError
from hub.formats.ba_courses import FORMAT, parse
from hub.models import CEFRLevel, CourseOffer, CourseSchedule, CourseType
from tests.format_properties import json_values, parse_or_refuse

BERLIN = ZoneInfo("Europe/Berlin")
PARTNER = "ba-kursnet-saarland"
SAMPLE = "ba_weiterbildungssuche_v1_bildungsangebot_response_trimmed.json"
PAGE = {"size": 20, "totalElements": 0, "totalPages": 0, "number": 0}


def _response(*items: object, **extra: object) -> bytes:
    return json.dumps({"_embedded": {"termine": list(items)}, "page": PAGE, **extra}).encode()


def _item(**overrides: object) -> dict:
    item = {
        "id": 100,
        "angebot": {"titel": "Kurs", "bildungsanbieter": {"name": "VHS Neunkirchen"}},
        "adresse": {
            "strasse": "Lindenallee 8",
            "ortStrasse": {"plz": "66538", "name": "Neunkirchen"},
        },
    }
    item.update(overrides)
    return item


def _one(**overrides: object) -> CourseOffer:
    result = parse(_response(_item(**overrides)), PARTNER)
    assert result.rejections == [], result.rejections
    (course,) = result.records
    return course


def test_format():
    assert FORMAT.name == "ba-courses"
    assert FORMAT.domain == "courses"
    assert FORMAT.parse is parse


# --------------------------------------------------------------------------- real sample


def test_real_weiterbildungssuche_sample(samples_dir):
    result = parse((samples_dir / SAMPLE).read_bytes(), PARTNER)

    assert result.rejections == []
    assert result.items == 2  # one page of a paginated answer (totalElements 10000)
    scrum, consultant = result.records

    assert scrum.source_id == "179752566"
    assert scrum.title == "C++ und Scrum Master"
    assert scrum.organisation == "alfatraining gmbh"
    assert scrum.description.startswith("Der Lehrgang vermittelt die objektorientierte")
    assert "<" not in scrum.description
    # the venue, not the provider's head office (Schachtweg 1, 38440 Wolfsburg)
    assert scrum.address.model_dump() == {
        "street": "Neumärkter Straße",
        "house_number": "1a-3",
        "postal_code": "38350",
        "city": "Helmstedt",
        "municipality_key": None,
        "state": "Niedersachsen",
        "country": "DE",
    }
    assert (scrum.geo.lat, scrum.geo.lon) == (52.230655, 10.995727)
    assert scrum.start_date is None and scrum.end_date is None  # dates only in bemerkungZeit
    assert scrum.schedule == [CourseSchedule.FULL_TIME, CourseSchedule.BLENDED]  # Combined L.
    # kostenWert '0.0' beside 'Inklusive Schulungsunterlagen und ggf. Prüfungskosten' on a
    # further training funded by Bildungsgutschein: no price given, not a free course
    assert scrum.price_eur is None
    assert scrum.funded is True
    assert str(scrum.url) == "https://www.bildung.alfatraining.com/"  # angebot.link
    assert scrum.course_type == CourseType.FURTHER_TRAINING
    assert scrum.cefr_levels == []
    assert scrum.contact.model_dump() == {
        "name": "Team Bildungsberatung",
        "email": "kursnet-helmstedt@alfatraining.com",
        "phone": "0800 7330733",  # telefonVorwahl + telefonDurchwahl
        "public": False,
    }
    # aktualisierungsdatum 1686607200000 = 2023-06-12T22:00Z, local midnight
    assert scrum.updated_at == dt.datetime(2023, 6, 13, tzinfo=BERLIN)

    assert consultant.source_id == "184336343"
    assert consultant.title == "Consultant für Forschungsmethoden im Therapiewesen (m/w/d)"
    assert consultant.organisation == "IU Akademie IU Internationale Hochschule"
    assert consultant.address.postal_code == "48153"
    assert consultant.address.city == "Münster"  # 'Münster, Westfalen'
    assert consultant.address.state == "Nordrhein-Westfalen"
    assert (consultant.address.street, consultant.address.house_number) == ("Höfflingerweg", "1")
    assert (consultant.geo.lat, consultant.geo.lon) == (51.941842, 7.627118)
    # beginn 1689544800000 = 2023-07-16T22:00Z and ende 1710630000000 = 2024-03-16T23:00Z:
    # local midnight in Berlin, one day later than the UTC date
    assert consultant.start_date == dt.date(2023, 7, 17)
    assert consultant.end_date == dt.date(2024, 3, 17)
    assert consultant.schedule == [CourseSchedule.PART_TIME, CourseSchedule.BLENDED]
    assert consultant.price_eur is None  # kostenWert null, 'Gebühren auf Anfrage'
    assert str(consultant.url) == "https://www.iu-akademie.de/short/d_328/M%C3%BCnster/"
    assert consultant.description.splitlines()[1:3] == [
        "Evidenzbasierte Praxis", "- Evidenzbasierte Praxis und Leitlinien",
    ]
    assert consultant.contact.phone == "030 22027281"
    assert consultant.updated_at == dt.datetime(2023, 7, 13, tzinfo=BERLIN)


def test_real_sample_as_a_sprachfoerderung_answer(samples_dir):
    # the Sprachfoerderung API answers in the same shape; its courses carry MC/MB systematiken
    payload = json.loads((samples_dir / SAMPLE).read_text())
    first, second = payload["_embedded"]["termine"]
    first["angebot"]["systematiken"] = [{"id": 1, "codeNr": "MC 01 3", "kurzbezeichnung": None}]
    second["angebot"]["titel"] = "Integrationskurs (A1-B1)"
    result = parse(json.dumps(payload).encode(), PARTNER)
    job_language, integration = result.records
    assert job_language.course_type == CourseType.JOB_LANGUAGE_COURSE
    assert job_language.cefr_levels == [CEFRLevel.B2]
    assert integration.course_type == CourseType.INTEGRATION_COURSE
    assert integration.cefr_levels == [CEFRLevel.A1, CEFRLevel.A2, CEFRLevel.B1]


def test_real_sample_without_results_is_empty(samples_dir):
    payload = json.loads((samples_dir / SAMPLE).read_text())
    del payload["_embedded"]
    result = parse(json.dumps(payload).encode(), PARTNER)
    assert (result.records, result.rejections, result.items) == ([], [], 0)


def test_truncated_real_sample_is_refused(samples_dir):
    data = (samples_dir / SAMPLE).read_bytes()
    with pytest.raises(FormatError, match=r"invalid JSON at line \d+ column \d+"):
        parse(data[: len(data) // 2], PARTNER)


def test_other_real_samples_are_refused(samples_dir):
    for name in ("ba_jobsuche_v6_search_response_recorded.json", "hsds3_service_full.json"):
        with pytest.raises(FormatError, match="not a BA course response"):
            parse((samples_dir / name).read_bytes(), PARTNER)


def _schema_paths(schema: dict, prefix: str = "") -> list[str]:
    """Dotted paths of every property an OpenAPI schema names (lists as '[]')."""
    if schema.get("type") == "array":
        return _schema_paths(schema.get("items") or {}, prefix + "[]")
    paths = []
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}" if prefix else name
        paths.append(path)
        paths.extend(_schema_paths(sub or {}, path))
    return paths


def test_sprachfoerderung_fixture_has_the_documented_item_fields(samples_dir, fixtures_dir):
    spec = yaml.safe_load(
        (samples_dir.parent / "specs" / "ba_sprachfoerderung_berufssprachkurssuche_openapi.yaml")
        .read_text(encoding="utf-8-sig")
    )
    termine = spec["components"]["schemas"]["Response"]["properties"]["_embedded"]["properties"]
    documented = _schema_paths(termine["termine"]["items"])
    fixture = json.loads(
        (fixtures_dir / "formats" / "ba_courses_sprachfoerderung_neunkirchen.json").read_text()
    )
    item = fixture["_embedded"]["termine"][0]
    for dotted in documented:
        value = item
        for part in dotted.split("."):
            if part.endswith("[]"):  # a list: look into its first entry, if any
                value = value.get(part[:-2])
                assert isinstance(value, list), dotted
                if not value:
                    break
                value = value[0]
                continue
            assert part in value, f"fixture lacks documented field {dotted}"
            value = value[part]
            if value is None:
                break


# --------------------------------------------------------------------------- own fixtures


def test_sprachfoerderung_fixture(fixtures_dir):
    data = (fixtures_dir / "formats" / "ba_courses_sprachfoerderung_neunkirchen.json").read_bytes()
    result = parse(data, PARTNER)

    assert result.items == 6
    assert [c.source_id for c in result.records] == ["201004711", "201004712", "201004713"]
    b2, integration, care = result.records

    assert b2.title == "Berufsbezogene Deutschsprachförderung DeuFöV - B2 - allgemein"
    assert b2.course_type == CourseType.JOB_LANGUAGE_COURSE  # MC
    assert b2.cefr_levels == [CEFRLevel.B2]  # MC 01 3
    assert b2.organisation == "Sprachschule Bliestal gGmbH"
    assert b2.address.street == "Hüttenbergstraße"
    assert b2.address.house_number == "44a"
    assert b2.address.city == "Neunkirchen"  # 'Neunkirchen, Saar'
    assert b2.address.state == "Saarland"
    assert (b2.geo.lat, b2.geo.lon) == (49.345871, 7.180352)
    assert b2.start_date == dt.date(2026, 9, 7)
    assert b2.end_date == dt.date(2027, 3, 26)
    assert b2.schedule == [CourseSchedule.PART_TIME]  # 'Vor-Ort-Teilzeit'
    assert b2.price_eur is None
    assert b2.funded is True
    assert str(b2.url) == "https://sprachschule-bliestal.example/kurse/bsk-b2-2026-09"
    assert b2.description == (
        "Deutsch für den Beruf: Sie üben Gespräche mit Kollegen & Kunden.\n"
        "Inhalte\n- Telefonieren und E-Mails\n- Bewerbung und Vorstellungsgespräch"
    )
    assert b2.contact.model_dump() == {
        "name": "Dr. Petra Klein",
        "email": "p.klein@sprachschule-bliestal.example",
        "phone": "06821 91234-12",
        "public": False,
    }
    assert b2.updated_at == dt.datetime(2026, 3, 30, tzinfo=BERLIN)  # a string of digits

    assert integration.course_type == CourseType.INTEGRATION_COURSE  # MB
    assert integration.cefr_levels == [CEFRLevel.A1, CEFRLevel.A2, CEFRLevel.B1]  # from title
    assert integration.address.model_dump() == {
        "street": "Schloßstraße",
        "house_number": "8-10",
        "postal_code": "66564",
        "city": "Ottweiler",
        "municipality_key": None,
        "state": "Saarland",  # land.name null: from the code SAA
        "country": "DE",
    }
    assert integration.geo is None
    assert integration.schedule == [CourseSchedule.FULL_TIME]
    assert integration.price_eur is None  # kostenWert '0.0' and no remark: not known
    assert integration.url is None
    # no contact person: the provider's own phone and e-mail, not personal data
    assert integration.contact.model_dump() == {
        "name": None, "email": "vhs@ottweiler.example", "phone": "06824 3071", "public": True,
    }
    assert integration.start_date == dt.date(2026, 10, 5)
    assert integration.end_date == dt.date(2027, 7, 30)

    assert care.course_type == CourseType.JOB_LANGUAGE_COURSE
    assert care.cefr_levels == []  # MC 02: Spezialberufskurs, no level
    assert care.schedule == [CourseSchedule.ONLINE]  # only the id 5 (E-Learning)
    assert care.start_date == dt.date(2026, 8, 14)  # beginn as a string of digits
    assert care.end_date is None
    assert care.geo is None  # 0/0
    assert care.address.house_number is None
    assert care.description is None and care.contact is None

    found = {(r.rule, r.source_id, r.field, r.value) for r in result.rejections}
    assert found == {
        ("RECORD_UNREADABLE", None, None, "termine[4] is a string, not an object"),
        ("ADDRESS_POSTAL_CODE_INVALID", "201004715", "address.postal_code", "6657"),
        ("RECORD_FIELD_INVALID", "201004716", "start_date", "demnächst"),
    }
    for rejection in result.rejections:
        assert rejection.partner_id == PARTNER
        assert rejection.domain == "courses"
    titles = {r.source_id: r.title for r in result.rejections}
    assert titles["201004716"] == "Berufssprachkurs A2 Gastronomie"


def test_weiterbildung_fixture(fixtures_dir):
    data = (fixtures_dir / "formats" / "ba_courses_weiterbildung_neunkirchen.json").read_bytes()
    result = parse(data, PARTNER)

    assert result.rejections == []
    retraining, german, licence, teachers = result.records

    assert retraining.course_type == CourseType.VOCATIONAL_TRAINING  # bildungsart Umschulung
    assert retraining.schedule == [CourseSchedule.FULL_TIME, CourseSchedule.ONLINE]
    assert retraining.price_eur == 18450
    assert retraining.start_date == dt.date(2026, 11, 2)
    assert retraining.end_date == dt.date(2028, 4, 28)
    assert retraining.updated_at == dt.datetime(2026, 3, 2, tzinfo=BERLIN)
    # no venue: the provider's address
    assert retraining.address.street == "Zweibrücker Straße"
    assert retraining.address.house_number == "61"
    assert retraining.address.postal_code == "66538"
    assert (retraining.geo.lat, retraining.geo.lon) == (49.338211, 7.186402)
    # 'www.' link completed; the item's link is null, the offer's is used
    assert str(retraining.url) == (
        "https://www.bildungswerk-ostertal.example/umschulung-bueromanagement"
    )
    assert retraining.description == "Inhalte\nBüroprozesse, Kundenbeziehungen,\nRechnungswesen"
    assert retraining.contact.model_dump() == {  # a mobile number only
        "name": None, "email": None, "phone": "0151 2345678", "public": False,
    }

    assert german.course_type == CourseType.LANGUAGE_COURSE
    assert german.cefr_levels == [CEFRLevel.B1]
    assert german.schedule == [CourseSchedule.EVENING, CourseSchedule.WEEKEND]
    assert german.price_eur == 320.5
    assert german.funded is False
    assert german.address.postal_code == "66538"

    # 'C1' in a driving-licence course is not a language level
    assert licence.course_type == CourseType.FURTHER_TRAINING
    assert licence.cefr_levels == []
    assert licence.price_eur is None  # CHF, not euro
    assert licence.schedule == [CourseSchedule.PART_TIME]

    # a course for teachers of German is not a German course
    assert teachers.course_type == CourseType.FURTHER_TRAINING
    assert teachers.schedule == [CourseSchedule.BLENDED]


# --------------------------------------------------------------------------- mapping details


@pytest.mark.parametrize(
    ("angebot", "expected"),
    [
        ({"systematiken": [{"codeNr": "MB"}]}, CourseType.INTEGRATION_COURSE),
        ({"titel": "Integrationskurs Intensiv"}, CourseType.INTEGRATION_COURSE),
        ({"titel": "Jugendintegrationskurs (A1-B1)"}, CourseType.INTEGRATION_COURSE),
        ({"titel": "Frauenintegrationskurs mit Kinderbetreuung"}, CourseType.INTEGRATION_COURSE),
        ({"titel": "Berufssprachkurs für Absolventen eines Integrationskurses"},
         CourseType.JOB_LANGUAGE_COURSE),
        ({"systematiken": [{"codeNr": "MC 03"}]}, CourseType.JOB_LANGUAGE_COURSE),
        ({"bildungsart": {"bezeichnung": "Berufssprachkurse"}, "titel": "Berufssprachkurs A2"},
         CourseType.JOB_LANGUAGE_COURSE),
        ({"titel": "Alphabetisierungskurs für Erwachsene"}, CourseType.LITERACY_COURSE),
        ({"titel": "Deutschkurs für Anfänger"}, CourseType.LANGUAGE_COURSE),
        ({"titel": "Deutsch als Fremdsprache, Stufe 2"}, CourseType.LANGUAGE_COURSE),
        ({"titel": "Intensivkurs Deutsch"}, CourseType.LANGUAGE_COURSE),
        ({"titel": "Deutsche Buchführung"}, CourseType.FURTHER_TRAINING),
        ({"titel": "Dozent/in für Integrationskurs"}, CourseType.FURTHER_TRAINING),
        ({"bildungsart": {"bezeichnung": "Berufsausbildung"}}, CourseType.VOCATIONAL_TRAINING),
        ({"bildungsart": {"bezeichnung": "Aufstiegsweiterbildung"}}, CourseType.FURTHER_TRAINING),
        ({}, CourseType.FURTHER_TRAINING),
    ],
)
def test_course_type(angebot, expected):
    assert _one(angebot={"titel": "Kurs", **angebot}).course_type == expected


@pytest.mark.parametrize(
    ("form", "time_", "expected"),
    [
        ({"id": 101, "bezeichnung": "Präsenzveranstaltung"}, None, []),
        ({"id": 201, "bezeichnung": "Virtuelles Klassenzimmer"}, None, [CourseSchedule.ONLINE]),
        ({"id": 401, "bezeichnung": "Fernunterricht"}, None, [CourseSchedule.ONLINE]),
        ({"id": 5, "bezeichnung": "E-Learning"}, None, [CourseSchedule.ONLINE]),
        ({"id": 302, "bezeichnung": "Combined Learning"}, None, [CourseSchedule.BLENDED]),
        ({"id": 301}, None, [CourseSchedule.BLENDED]),
        ({"id": 3, "bezeichnung": "Wochenendveranstaltung"}, None, [CourseSchedule.WEEKEND]),
        ({"id": 6, "bezeichnung": "Blockunterricht"}, {"id": 1}, [CourseSchedule.FULL_TIME]),
        (None, {"id": 2, "bezeichnung": "Teilzeit"}, [CourseSchedule.PART_TIME]),
        ("Vollzeit", ["x"], []),
    ],
)
def test_schedule(form, time_, expected):
    assert _one(unterrichtsform=form, unterrichtszeit=time_).schedule == expected


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [("0.0", "EUR", None), (0, "EUR", None), ("1500.0", "EUR", 1500), ("1500", None, 1500), (250, "EUR", 250),
     (99.5, "EUR", 99.5), (None, "EUR", None), ("1500.0", "CHF", None)],
)
def test_price(value, currency, expected):
    assert _one(kostenWert=value, kostenWaehrung=currency).price_eur == expected


def test_a_rate_per_lesson_is_no_price_of_the_course():
    rate = _one(kostenWert="2.29", kostenWaehrung="EUR",
                kostenBemerkung="<p>2,29 € pro Unterrichtseinheit</p>")
    assert rate.price_eur is None
    whole = _one(kostenWert="1500.0", kostenWaehrung="EUR",
                 kostenBemerkung="<p>Inklusive Schulungsunterlagen und ggf. Prüfungskosten</p>")
    assert whole.price_eur == 1500


@pytest.mark.parametrize(
    ("remark", "expected"),
    [("<p>Die Teilnahme ist f&uuml;r Arbeitsuchende kostenfrei.</p>", 0),
     ("Für Teilnehmende kostenlos", 0),
     ("Es fallen keine Kursgebühren an.", 0),
     ("Der Kurs wird zu 100 % gefördert.", 0),
     ("<p>Inklusive Schulungsunterlagen und ggf. Prüfungskosten</p>", None),
     ("Förderung mit Bildungsgutschein möglich", None),
     ("gefördert durch das BAMF", None),
     ("kostenlose Kinderbetreuung im Haus", None),
     (None, None)],
)
def test_a_price_of_zero_is_free_only_where_the_remark_says_so(remark, expected):
    """The BA answers kostenWert '0.0' where the provider gave no price (the real sample: a
    C++ and Scrum course, 'Inklusive Schulungsunterlagen', funded by Bildungsgutschein): it was
    published as a free course. Now 0 only with a remark that says free; else no price."""
    course = _one(kostenWert="0.0", kostenWaehrung="EUR", kostenBemerkung=remark)
    assert course.price_eur == expected


def test_unreadable_price_rejects_the_course():
    result = parse(_response(_item(kostenWert="auf Anfrage")), PARTNER)
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.field, rejection.value) == (
        "RECORD_FIELD_INVALID", "price_eur", "auf Anfrage",
    )


def test_levels_only_for_language_courses():
    assert _one(angebot={"titel": "Deutsch B1/B2 kompakt"}).cefr_levels == [
        CEFRLevel.B1, CEFRLevel.B2,
    ]
    assert _one(angebot={"titel": "Lkw-Führerschein C1"}).cefr_levels == []
    berufssprachkurs = _one(
        angebot={
            "titel": "Berufssprachkurs Pflege",
            "systematiken": [{"codeNr": "MC  01 4"}, {"codeNr": "MC 02", "kurzbezeichnung": "C2"}],
        }
    )
    assert berufssprachkurs.cefr_levels == [CEFRLevel.C1, CEFRLevel.C2]


def test_missing_pieces_are_rejected_by_name():
    result = parse(_response({"id": 7}, {"angebot": {"titel": "Ohne Id"}}), PARTNER)
    found = {(r.rule, r.source_id, r.field) for r in result.rejections}
    assert found == {
        ("RECORD_FIELD_MISSING", "7", "title"),
        ("RECORD_FIELD_MISSING", "7", "address.postal_code"),
        ("RECORD_FIELD_MISSING", "7", "address.city"),
        ("RECORD_FIELD_MISSING", None, "source_id"),
        ("RECORD_FIELD_MISSING", None, "address.postal_code"),
        ("RECORD_FIELD_MISSING", None, "address.city"),
    }
    assert result.items == 2


def test_duplicate_course_dates_are_rejected():
    result = parse(_response(_item(), _item(angebot={"titel": "Zweiter"})), PARTNER)
    assert [c.title for c in result.records] == ["Kurs"]
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.source_id) == ("RECORD_ID_DUPLICATE", "100")


def test_utf8_bom_is_accepted():
    assert parse(b"\xef\xbb\xbf" + _response(_item()), PARTNER).records[0].source_id == "100"


@pytest.mark.parametrize(
    "payload",
    [
        {"page": PAGE},
        {"_embedded": None, "page": PAGE},
        {"_embedded": {}, "page": PAGE, "_links": {"self": {"href": "/pc/v1/bildungsangebot"}}},
        {"_embedded": {"termine": None}, "page": PAGE},
        {"_embedded": {"termine": []}},
        # the Sprachfoerderung OpenAPI nests page and aggregations in '_embedded'
        {"_embedded": {"page": PAGE, "aggregations": {"ANZAHL_GESAMT": {"COUNT": 0}}}},
    ],
)
def test_empty_results(payload):
    result = parse(json.dumps(payload).encode(), PARTNER)
    assert (result.records, result.rejections, result.items) == ([], [], 0)


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a BA course response: the input is empty"),
        (b'{"_embedded": {"termine": [{"id": 1', "invalid JSON at line 1 column"),
        (b"<html>Wartung</html>", r"the file is a web page \(HTML\), not JSON"),
        (b"[]", "the top level is a JSON list"),
        (b"{}", "neither '_embedded.termine' nor 'page' found"),
        (b'{"maxErgebnisse": 0, "page": 1}', "neither '_embedded.termine' nor 'page' found"),
        (b'{"_embedded": [], "page": {}}', "'_embedded' is a list, expected an object"),
        (b'{"_embedded": {"termine": {"id": 1}}}', "'_embedded.termine' is an object"),
        (
            b'{"_embedded": {"bildungsanbieter": [], "page": {}}, "page": {}}',
            "'_embedded' holds bildungsanbieter, not 'termine'",
        ),
        (b'{"_embedded": {"_links": {}}}', "neither '_embedded.termine' nor 'page' found"),
        (b"\xff\xfe{}", "UTF-16 text, where JSON is read as UTF-8"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


def test_deeply_nested_input_is_fast():
    started = time.perf_counter()
    with pytest.raises(FormatError):
        parse(b'{"_embedded": {"termine": ' + b"[" * 50_000, PARTNER)
    assert time.perf_counter() - started < 2


# --------------------------------------------------------------------------- property


_json_values = json_values(
    [
        "_embedded", "termine", "page", "id", "angebot", "titel", "inhalt", "adresse", "strasse",
        "ortStrasse", "plz", "name", "land", "laenderCode", "koordinaten", "lat", "lon", "beginn",
        "ende", "aktualisierungsdatum", "unterrichtsform", "unterrichtszeit", "bezeichnung",
        "kostenWert", "kostenWaehrung", "link", "bildungsanbieter", "systematiken", "codeNr",
        "ansprechpartner", "telefonVorwahl", "telefonDurchwahl", "foerderung", "bildungsart",
    ]
)


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
        text = text[: cut % (len(text) + 1)] + junk
    parse_or_refuse(parse, text.encode("utf-8", "surrogatepass"), PARTNER)


@settings(max_examples=200, deadline=None)
@given(items=st.lists(_json_values, max_size=5))
def test_any_list_of_course_dates_only_rejects(items):
    result = parse_or_refuse(parse, _response(*items), PARTNER)
    assert result is not None and result.items == len(items)
