"""schemaorg-course: schema.org Course with CourseInstance (JSON-LD or page) -> CourseOffer."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats.base import FormatError
from hub.formats.schemaorg_course import FORMAT, parse
from hub.models import CourseOffer, CourseSchedule, CourseType
from tests.format_properties import parse_or_refuse

BERLIN = ZoneInfo("Europe/Berlin")
PARTNER = "vhs-neunkirchen"
PLACE = {
    "@type": "Place",
    "address": {"@type": "PostalAddress", "streetAddress": "Lindenallee 13",
                "postalCode": "66538", "addressLocality": "Neunkirchen"},
}


def _course(*instances: object, **overrides: object) -> dict:
    course: dict = {
        "@context": "https://schema.org",
        "@type": "Course",
        "@id": "https://vhs.example/kurs/1",
        "name": "Deutschkurs A1",
    }
    if instances:
        course["hasCourseInstance"] = list(instances)
    course.update(overrides)
    return course


def _instance(**overrides: object) -> dict:
    instance: dict = {"@type": "CourseInstance", "startDate": "2026-04-13", "location": PLACE}
    instance.update(overrides)
    return instance


def _parse(*nodes: dict):
    return parse(json.dumps(list(nodes)).encode(), PARTNER)


def _one(*instances: object, **overrides: object) -> CourseOffer:
    result = _parse(_course(*instances, **overrides))
    assert result.rejections == [], [r.message_en for r in result.rejections]
    (course,) = result.records
    return course


def test_format():
    assert (FORMAT.name, FORMAT.domain, FORMAT.parse) == ("schemaorg-course", "courses", parse)


# --------------------------------------------------------------------------- real sample


def test_real_sample_is_rejected_for_what_it_lacks(samples_dir):
    # a MOOC: no name, no ids, no place - one instance, rejected with every missing field
    data = (samples_dir / "schemaorg_Course_CourseInstance_eg-0332.jsonld").read_bytes()
    result = parse(data, PARTNER)

    assert result.records == []
    assert result.items == 1
    found = [(r.rule, r.field, r.source_id, r.title) for r in result.rejections]
    assert found == [
        ("RECORD_FIELD_MISSING", "source_id", None, None),
        ("RECORD_FIELD_MISSING", "title", None, None),
        ("RECORD_FIELD_MISSING", "address.postal_code", None, None),
        ("RECORD_FIELD_MISSING", "address.city", None, None),
    ]


def test_real_sample_fields(samples_dir):
    # what the sample maps to, shown by giving it the fields it lacks
    sample = samples_dir / "schemaorg_Course_CourseInstance_eg-0332.jsonld"
    course = json.loads(sample.read_text())
    course["@id"] = "eg-0332"
    course["name"] = "Data Scientist's Toolbox"
    course["hasCourseInstance"]["location"] = PLACE
    (offer,) = parse(json.dumps(course).encode(), PARTNER).records

    assert offer.source_id == "eg-0332#2019-02-15"
    assert offer.description.startswith("In this course you will get an introduction")
    assert offer.course_type == CourseType.OTHER
    assert offer.cefr_levels == []
    assert (offer.start_date, offer.end_date) == (dt.date(2019, 2, 15), dt.date(2019, 3, 21))
    assert offer.schedule == [CourseSchedule.ONLINE]  # MOOC, online
    assert offer.price_eur is None
    assert offer.language == "de"  # no inLanguage: the model's default


# --------------------------------------------------------------------------- own fixture


def test_course_page(fixtures_dir):
    data = (fixtures_dir / "formats" / "schemaorg_kursseite_vhs_neunkirchen.html").read_bytes()
    result = parse(data, PARTNER)

    assert result.items == 8
    assert [offer.source_id for offer in result.records] == [
        "IK-2026-04-NK",
        "https://vhs-nk.example/kurse/ik-vormittag#2026-09-07",
        "https://sprachschule-saarbogen.example/bsk-b2#termin-mai",
        "https://vhs-nk.example/kurse/deutsch-a2-abend#2026-04-14",
        "https://vhs-nk.example/kurse/excel-grundlagen",
    ]
    spring, autumn, job_course, evening, excel = result.records

    assert spring.title == "Integrationskurs A1–B1 (Vormittag)"
    assert spring.organisation == "Volkshochschule Beispielkreis Neunkirchen"  # by @id
    assert spring.course_type == CourseType.INTEGRATION_COURSE
    assert spring.cefr_levels == ["A1", "A2", "B1"]  # from the name
    assert (spring.start_date, spring.end_date) == (dt.date(2026, 4, 13), dt.date(2026, 11, 27))
    assert spring.schedule == [CourseSchedule.FULL_TIME]
    assert spring.price_eur == 0
    assert spring.funded is None
    assert spring.seats == 6
    assert spring.address.street == "Lindenallee"
    assert spring.address.house_number == "13"
    assert (spring.address.postal_code, spring.address.city) == ("66538", "Neunkirchen")
    assert (spring.geo.lat, spring.geo.lon) == (49.3469, 7.1806)
    assert str(spring.url) == "https://vhs-nk.example/kurse/ik-vormittag"
    assert spring.updated_at == dt.datetime(2026, 3, 2, 9, 30, tzinfo=BERLIN)
    assert spring.description == (
        "Allgemeiner Integrationskurs mit 600 Stunden Sprachkurs und 100 Stunden Orientierungskurs."
    )

    assert (autumn.address.postal_code, autumn.address.city) == ("66564", "Ottweiler")
    assert autumn.schedule == []  # onsite only
    assert autumn.price_eur is None
    assert autumn.seats is None

    assert job_course.course_type == CourseType.JOB_LANGUAGE_COURSE
    assert job_course.organisation == "Sprachschule Saarbogen (Beispiel)"
    assert job_course.cefr_levels == ["B2"]  # educationalLevel
    assert job_course.schedule == [CourseSchedule.BLENDED]  # online and onsite
    assert job_course.start_date == dt.date(2026, 5, 4)
    # the VirtualLocation is passed over for the Place
    assert (job_course.address.street, job_course.address.house_number) == (
        "Bahnhofstraße", "21-23"
    )
    assert job_course.price_eur == 0

    assert evening.course_type == CourseType.LANGUAGE_COURSE
    assert evening.cefr_levels == ["A2"]
    assert evening.schedule == [CourseSchedule.PART_TIME, CourseSchedule.EVENING]
    assert evening.price_eur == 145

    # a course without instances, with a location of its own
    assert excel.course_type == CourseType.OTHER
    assert excel.language == "de"  # de-DE
    assert excel.price_eur == 89
    assert excel.start_date is None

    found = [(r.rule, r.field, r.value, r.source_id) for r in result.rejections]
    assert found == [
        ("RECORD_UNREADABLE", None, "hasCourseInstance entry 2 is a string, not an object",
         "https://vhs-nk.example/kurse/deutsch-a2-abend"),
        ("ADDRESS_POSTAL_CODE_INVALID", "address.postal_code", "6653",
         "https://vhs-nk.example/kurse/deutsch-a2-abend#2026-09-15"),
        # a course without instances and without a location
        ("RECORD_FIELD_MISSING", "address.postal_code", None,
         "https://vhs-nk.example/kurse/einbuergerungstest"),
        ("RECORD_FIELD_MISSING", "address.city", None,
         "https://vhs-nk.example/kurse/einbuergerungstest"),
    ]


# --------------------------------------------------------------------------- source ids


def test_instance_ids_come_first():
    result = _parse(
        _course(
            _instance(identifier="T-1"),
            _instance(**{"@id": "https://vhs.example/kurs/1#herbst"}),
            _instance(url="https://vhs.example/kurs/1/termin-3"),
        )
    )
    assert [offer.source_id for offer in result.records] == [
        "T-1", "https://vhs.example/kurs/1#herbst", "https://vhs.example/kurs/1/termin-3"
    ]


def test_fallback_id_is_the_start_date_when_dates_differ():
    result = _parse(_course(_instance(startDate="2026-04-13"), _instance(startDate="2026-09-07")))
    assert [offer.source_id for offer in result.records] == [
        "https://vhs.example/kurs/1#2026-04-13", "https://vhs.example/kurs/1#2026-09-07"
    ]


def test_fallback_id_is_the_position_when_dates_repeat_or_are_missing():
    repeated = _parse(_course(_instance(name="Vormittag"), _instance(name="Abend")))
    assert [offer.source_id for offer in repeated.records] == [
        "https://vhs.example/kurs/1#1", "https://vhs.example/kurs/1#2"
    ]
    undated = _parse(_course(_instance(startDate=None), _instance(startDate="2026-04-13")))
    assert [offer.source_id for offer in undated.records] == [
        "https://vhs.example/kurs/1#1", "https://vhs.example/kurs/1#2"
    ]


def test_instance_url_that_is_the_course_page_is_no_id():
    course = _course(_instance(url="https://vhs.example/kurs/1"), url="https://vhs.example/kurs/1")
    assert _one(course["hasCourseInstance"][0], url="https://vhs.example/kurs/1").source_id == (
        "https://vhs.example/kurs/1#2026-04-13"
    )


def test_single_instance_object():
    course = _course(**{"hasCourseInstance": _instance()})
    (offer,) = _parse(course).records
    assert offer.source_id == "https://vhs.example/kurs/1#2026-04-13"


def test_course_without_any_id_is_rejected():
    result = _parse(_course(_instance(), **{"@id": None}))
    assert [(r.rule, r.field) for r in result.rejections] == [("RECORD_FIELD_MISSING", "source_id")]


# --------------------------------------------------------------------------- mapping details


@pytest.mark.parametrize(
    ("course", "expected"),
    [
        ({"name": "Integrationskurs mit Alphabetisierung"}, CourseType.INTEGRATION_COURSE),
        ({"name": "Berufssprachkurs B1 (DeuFöV)"}, CourseType.JOB_LANGUAGE_COURSE),
        ({"name": "Deutsch für den Beruf"}, CourseType.JOB_LANGUAGE_COURSE),
        ({"name": "Alphabetisierungskurs"}, CourseType.LITERACY_COURSE),
        ({"name": "Deutschkurs für Eltern"}, CourseType.LANGUAGE_COURSE),
        ({"name": "German course for beginners"}, CourseType.LANGUAGE_COURSE),
        ({"name": "Deutsch B1 am Vormittag"}, CourseType.LANGUAGE_COURSE),
        ({"name": "Kurs 17", "keywords": "Abendkurs, Integrationskurs"},
         CourseType.INTEGRATION_COURSE),
        ({"name": "Kurs 18", "keywords": ["Sprachkurs", "DaF"]}, CourseType.LANGUAGE_COURSE),
        ({"name": "Kurs 19", "educationalCredentialAwarded": {
            "@type": "EducationalOccupationalCredential", "name": "Zertifikat Berufssprachkurs"}},
         CourseType.JOB_LANGUAGE_COURSE),
        ({"name": "Kurs 20", "about": {"@type": "Thing", "name": "Deutsch"}},
         CourseType.LANGUAGE_COURSE),
        ({"name": "Erste Hilfe"}, CourseType.OTHER),
        ({"name": "Buchhaltung auf Deutsch"}, CourseType.OTHER),
        ({"name": "Führerschein Klasse C1"}, CourseType.OTHER),
    ],
)
def test_course_type(course, expected):
    assert _one(_instance(), **course).course_type == expected


@pytest.mark.parametrize(
    ("course", "expected"),
    [
        ({"educationalLevel": "B1"}, ["B1"]),
        ({"educationalLevel": "a2"}, ["A2"]),
        ({"educationalLevel": "A1-B1"}, ["A1", "A2", "B1"]),
        ({"educationalLevel": ["B1", "B2"]}, ["B1", "B2"]),
        ({"educationalLevel": {"@type": "DefinedTerm", "name": "C1", "inDefinedTermSet": "GER"}},
         ["C1"]),
        ({"educationalLevel": "Anfänger", "name": "Deutschkurs A1.2"}, ["A1"]),
        ({"name": "Deutschkurs B1/B2"}, ["B1", "B2"]),
        ({"name": "Führerschein Klasse C1"}, []),  # not a German course: the name is not read
        ({"name": "Führerschein", "educationalLevel": "Klasse C1"}, []),
        ({"name": "Englisch für den Urlaub", "educationalLevel": "a2-B1"}, ["A2", "B1"]),
    ],
)
def test_levels(course, expected):
    assert _one(_instance(), **course).cefr_levels == expected


@pytest.mark.parametrize(
    ("instance", "expected"),
    [
        ({"courseMode": "online"}, [CourseSchedule.ONLINE]),
        ({"courseMode": ["MOOC", "online"]}, [CourseSchedule.ONLINE]),
        ({"courseMode": "Blended"}, [CourseSchedule.BLENDED]),
        ({"courseMode": "hybrid"}, [CourseSchedule.BLENDED]),
        ({"courseMode": ["onsite", "online"]}, [CourseSchedule.BLENDED]),
        ({"courseMode": ["onsite", "part-time"]}, [CourseSchedule.PART_TIME]),
        ({"courseMode": "Vollzeit"}, [CourseSchedule.FULL_TIME]),
        ({"courseMode": "https://example.org/unbekannt"}, []),
        ({"courseSchedule": {"@type": "Schedule", "byDay": ["Saturday", "Sunday"],
                             "startTime": "09:00"}}, [CourseSchedule.WEEKEND]),
        ({"courseSchedule": {"@type": "Schedule", "byDay": "https://schema.org/Monday",
                             "startTime": "17:30:00"}}, [CourseSchedule.EVENING]),
    ],
)
def test_schedule(instance, expected):
    assert _one(_instance(**instance)).schedule == expected


@pytest.mark.parametrize(
    ("offers", "extra", "expected"),
    [
        ({"@type": "Offer", "price": 250, "priceCurrency": "EUR"}, {}, 250),
        ({"@type": "Offer", "price": "1.290,00", "priceCurrency": "EUR"}, {}, 1290),
        ({"@type": "Offer", "price": "kostenlos"}, {}, 0),
        ({"@type": "AggregateOffer", "lowPrice": 80, "highPrice": 120}, {}, 80),
        ({"@type": "Offer", "priceSpecification": {"price": 99, "priceCurrency": "EUR"}}, {}, 99),
        ({"@type": "Offer", "price": 300, "priceCurrency": "USD"}, {}, None),
        # a rate per lesson or hour is not what the course costs
        ({"@type": "Offer", "price": "2,29", "description": "pro Unterrichtseinheit"}, {}, None),
        ({"@type": "Offer", "priceSpecification": {"@type": "UnitPriceSpecification", "price": 2.29,
          "referenceQuantity": {"@type": "QuantitativeValue", "value": 1, "unitCode": "HUR"}}}, {}, None),
        ({"@type": "Offer", "priceSpecification": {"price": 2.29, "unitText": "UE"}}, {}, None),
        ({"@type": "Offer", "price": 480, "description": "inkl. Lehrbuch"}, {}, 480),
        # the rate beside the price does not make the price a rate
        ({"@type": "Offer", "price": 1603, "priceCurrency": "EUR", "priceSpecification": [
          {"@type": "UnitPriceSpecification", "price": 2.29, "unitText": "UE"}]}, {}, 1603),
        ({"@type": "Offer", "price": 1603, "description": "700 UE, 2,29 € pro UE"}, {}, 1603),
        ({"@type": "Offer", "price": "2,29", "description": "2,29 € pro UE"}, {}, None),
        (None, {"isAccessibleForFree": True}, 0),
        # Google's course markup names the kind of offer, without a price for a free course
        ([{"@type": "Offer", "category": "Free"}], {}, 0),
        ({"@type": "Offer", "category": "Partially Free"}, {}, None),
        ({"@type": "Offer", "category": "Paid"}, {}, None),
        (None, {}, None),
    ],
)
def test_price(offers, extra, expected):
    assert _one(_instance(offers=offers, **extra)).price_eur == expected


def test_course_offers_when_the_instance_has_none():
    assert _one(_instance(), offers={"@type": "Offer", "price": 60}).price_eur == 60


def test_negative_seats_are_rejected():
    result = _parse(_course(_instance(remainingAttendeeCapacity=-1)))
    assert [(r.rule, r.field) for r in result.rejections] == [("RECORD_FIELD_INVALID", "seats")]


def test_location_of_the_course_when_the_instance_has_none():
    offer = _one(_instance(location=None), location=PLACE)
    assert offer.address.postal_code == "66538"


def test_online_instance_without_place_is_rejected_for_its_address():
    online = {"@type": "VirtualLocation", "url": "https://x.example"}
    result = _parse(_course(_instance(location=online, courseMode="online")))
    assert [(r.rule, r.field) for r in result.rejections] == [
        ("RECORD_FIELD_MISSING", "address.postal_code"),
        ("RECORD_FIELD_MISSING", "address.city"),
    ]


def test_an_instance_without_place_is_listed_at_its_providers_address():
    """An online date of a school's course names no place; the school's address is where
    the directory lists it (as the BA course search gives the provider's)."""
    online = {"@type": "VirtualLocation", "url": "https://x.example"}
    school = {"@type": "Organization", "name": "VHS Neunkirchen",
              "address": {"@type": "PostalAddress", "postalCode": "66538", "addressLocality": "Neunkirchen"}}
    offer = _one(_instance(location=online, courseMode="online"), provider=school)
    assert (offer.address.postal_code, offer.organisation, offer.schedule) == (
        "66538", "VHS Neunkirchen", ["online"])
    organizer = _one(_instance(location=None, organizer=school))
    assert organizer.address.city == "Neunkirchen"
    # a place of its own comes first
    assert _one(_instance(), provider={**school, "address": {
        "@type": "PostalAddress", "postalCode": "66111", "addressLocality": "Saarbrücken"}}
    ).address.postal_code == "66538"


def test_language_of_other_courses():
    assert _one(_instance(), name="Excel", inLanguage="en").language == "en"
    assert _one(_instance(), name="Excel", inLanguage={"@type": "Language", "name": "English"}
                ).language == "en"
    assert _one(_instance(), name="Excel", inLanguage="Klingonisch").language == "de"
    assert _one(_instance(), name="Deutschkurs A1", inLanguage="en").language == "de"


def test_end_before_start_is_left_to_the_quality_stage():
    offer = _one(_instance(startDate="2026-05-01", endDate="2026-04-01"))
    assert offer.end_date < offer.start_date


def test_unreadable_start_date_is_rejected():
    result = _parse(_course(_instance(startDate="Frühjahr 2026")))
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.field, rejection.value) == (
        "RECORD_FIELD_INVALID", "start_date", "Frühjahr 2026"
    )


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the input is empty"),
        (b"Kursprogramm folgt", "invalid JSON at line 1 column 1"),
        (b"<html><body><h1>Kurse</h1></body></html>", "HTML page without JSON-LD"),
        (b'{"@type": "CourseInstance", "startDate": "2026-04-13"}',
         r"no schema.org Course found \(the input has: CourseInstance\)"),
        (b'{"@type": "JobPosting"}', "no schema.org Course found"),
        (b'{"@type": "course"}', "no schema.org Course found"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


def test_invalid_json_in_one_of_two_blocks():
    page = (
        "<html><head>"
        '<script type="application/ld+json">{"@type": "Course", "name": </script>'
        f'<script type="application/ld+json">{json.dumps(_course(_instance()))}</script>'
        "</head></html>"
    ).encode()
    result = parse(page, PARTNER)
    assert [offer.source_id for offer in result.records] == [
        "https://vhs.example/kurs/1#2026-04-13"
    ]
    (rejection,) = result.rejections
    assert rejection.rule == "RECORD_UNREADABLE"
    assert rejection.value.startswith("JSON-LD block 1 of 2: invalid JSON")
    assert rejection.domain == "courses"


# --------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_format_error(data):
    parse_or_refuse(parse, data, PARTNER)


_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["online", "onsite", "Integrationskurs", "A1-B1", "B3", "66538",
                       "2026-04-13", "2026-04-13T18:00:00+02:00", "Saturday", "18:30", "0,00",
                       "EUR", "VirtualLocation", "Place"])
)
_keys = st.sampled_from(
    ["@type", "@id", "identifier", "name", "url", "provider", "description", "keywords",
     "educationalLevel", "hasCourseInstance", "courseMode", "courseSchedule", "byDay",
     "startTime", "startDate", "endDate", "location", "address", "postalCode",
     "addressLocality", "offers", "price", "priceCurrency", "remainingAttendeeCapacity",
     "inLanguage", "about"]
) | st.text(max_size=5)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=8),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values, instances=st.lists(_json_values, max_size=3))
def test_course_shaped_input_only_raises_format_error(value, instances):
    node = {**value, "@type": "Course"} if isinstance(value, dict) else {"@type": "Course"}
    node["hasCourseInstance"] = [
        {**item, "@type": "CourseInstance"} if isinstance(item, dict) else item
        for item in instances
    ]
    parse_or_refuse(parse, json.dumps([node, value]).encode("utf-8", "surrogatepass"), PARTNER)


def test_dates_in_the_course_schedule_are_the_instance_s_dates():
    """Google's course markup puts the dates into courseSchedule: they were left out, and the
    instances' ids fell back to their positions (which shift when a date drops off the page)."""
    schedule = {"@type": "Schedule", "byDay": ["https://schema.org/Monday"], "startTime": "18:30",
                "startDate": "2027-01-11", "endDate": "2027-03-31", "repeatFrequency": "P1W"}
    later = {**schedule, "startDate": "2027-04-12", "endDate": "2027-06-30"}
    result = _parse(_course(_instance(startDate=None, courseSchedule=schedule),
                            _instance(startDate=None, courseSchedule=later)))
    assert result.rejections == [], [r.message_en for r in result.rejections]
    assert [(c.start_date, c.end_date) for c in result.records] == [
        (dt.date(2027, 1, 11), dt.date(2027, 3, 31)), (dt.date(2027, 4, 12), dt.date(2027, 6, 30))]
    assert [c.source_id.rsplit("#", 1)[1] for c in result.records] == ["2027-01-11", "2027-04-12"]


def test_course_dates_marked_up_as_education_events():
    """A course system that marks its dates up for search engines' event results writes
    EducationEvent, not Course: the page was refused with 'no schema.org Course found (the
    input has: EducationEvent, Place, ...)'. Each event is now a course date."""
    events = [
        {"@context": "https://schema.org", "@type": "EducationEvent", "name": "Deutsch B1 – Abendkurs",
         "identifier": "26F-4711", "startDate": "2027-01-12T18:30:00+01:00",
         "endDate": "2027-06-01T20:00:00+02:00", "educationalLevel": "B1",
         "location": {"@type": "Place", "address": {"@type": "PostalAddress", "postalCode": "66538",
                                                    "addressLocality": "Neunkirchen"}},
         "organizer": {"@type": "Organization", "name": "VHS Neunkirchen"},
         "offers": {"@type": "Offer", "price": "189.00", "priceCurrency": "EUR"}},
        {"@type": "EducationEvent", "name": "Integrationskurs", "identifier": "26F-4800",
         "startDate": "2027-02-01", "location": "Marienstr. 2, 66538 Neunkirchen",
         "isAccessibleForFree": True},
    ]
    result = _parse(*events)
    assert result.rejections == []
    evening, integration = result.records
    assert (evening.source_id, evening.title, evening.organisation) == (
        "26F-4711", "Deutsch B1 – Abendkurs", "VHS Neunkirchen")
    assert (evening.course_type, evening.cefr_levels, evening.price_eur) == (
        "language_course", ["B1"], 189)
    assert (evening.start_date, evening.end_date) == (dt.date(2027, 1, 12), dt.date(2027, 6, 1))
    assert (integration.course_type, integration.price_eur, integration.address.street) == (
        "integration_course", 0, "Marienstr.")
