"""csv-courses: the hub's CSV template for course offers -> CourseOffer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats import FORMATS, FormatError
from hub.formats.csv_courses import FORMAT, normalise_header, parse
from hub.models import CEFRLevel, CourseSchedule, CourseType
from hub.quality.rules import RULES

BERLIN = ZoneInfo("Europe/Berlin")
PARTNER = "vhs-neunkirchen"
ROOT = Path(__file__).resolve().parents[1]
HEADER = "Kurs-ID;Titel;Kursart;Sprachniveau;PLZ;Ort"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


def _one(row: str, header: str = HEADER):
    result = parse(_csv(row, header=header), PARTNER)
    assert result.rejections == [], result.rejections
    (course,) = result.records
    return course


def test_registered():
    assert FORMATS["csv-courses"] is FORMAT
    assert FORMAT.domain == "courses"


def test_template_example_file():
    result = parse((ROOT / "schemas" / "csv" / "courses.example.csv").read_bytes(), PARTNER)
    assert result.rejections == []
    assert [c.source_id for c in result.records] == ["VHS-IK-2026-04", "VHS-BSK-2026-07"]
    first, second = result.records
    assert first.cefr_levels == [CEFRLevel.A1, CEFRLevel.A2, CEFRLevel.B1]
    assert second.schedule == [CourseSchedule.EVENING, CourseSchedule.ONLINE]
    assert second.contact is None


def test_semicolon_utf8_bom(fixtures_dir):
    data = (fixtures_dir / "formats" / "courses_semicolon_utf8_bom.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    result = parse(data, PARTNER)

    assert result.rejections == []
    assert result.items == 3  # the empty rows at the end are not counted
    ik, alpha, orient = result.records

    assert ik.source_id == "VHS-IK-2026-09"
    assert ik.title == "Integrationskurs am Vormittag"
    assert ik.organisation == "VHS Neunkirchen"
    assert ik.course_type == CourseType.INTEGRATION_COURSE
    assert ik.cefr_levels == [CEFRLevel.A1, CEFRLevel.A2, CEFRLevel.B1]
    assert ik.start_date == dt.date(2026, 9, 7)
    assert ik.end_date == dt.date(2027, 6, 30)
    assert ik.schedule == [CourseSchedule.PART_TIME]
    assert ik.childcare is True
    assert ik.price_eur == 0
    assert ik.funded is True
    assert ik.seats == 14
    assert ik.address.street == "Hüttenbergstraße"
    assert ik.address.house_number == "42"
    assert ik.address.postal_code == "66538"
    assert ik.address.city == "Neunkirchen"
    assert ik.address.municipality_key == "10043114"
    assert str(ik.url) == "https://vhs-neunkirchen.example/kurse/ik-2026-09"
    assert ik.description == "Montag bis Freitag; 8:30 bis 12:45 Uhr"  # quoted separator
    assert ik.contact.model_dump() == {
        "name": "Frau Schmitt",
        "email": "kurse@vhs-neunkirchen.example",
        "phone": "06821 12345",
        "public": True,
    }
    assert ik.updated_at == dt.datetime(2026, 2, 1, tzinfo=BERLIN)

    assert alpha.course_type == CourseType.LITERACY_COURSE  # lower-case Kursart
    assert alpha.cefr_levels == [CEFRLevel.A1]
    assert alpha.schedule == [CourseSchedule.FULL_TIME, CourseSchedule.BLENDED]
    assert alpha.childcare is True  # 'x'
    assert alpha.funded is True  # 'j'
    assert alpha.price_eur == 0  # 'kostenlos'
    assert alpha.url is None
    assert alpha.contact.model_dump() == {
        "name": "Herr Becker", "email": None, "phone": "06821 12346", "public": False,
    }
    assert alpha.updated_at == dt.datetime(2026, 2, 3, 14, 30, tzinfo=BERLIN)

    assert orient.organisation == "Caritasverband Neunkirchen"
    assert orient.course_type == CourseType.ORIENTATION
    assert orient.cefr_levels == []
    assert orient.start_date is None
    assert orient.schedule == [CourseSchedule.EVENING]
    assert (orient.childcare, orient.price_eur, orient.funded, orient.seats) == (None,) * 4
    assert orient.address.street == "Lindenallee"
    assert orient.address.house_number == "8-10"
    assert orient.contact is None


def test_comma_windows_1252(fixtures_dir):
    data = (fixtures_dir / "formats" / "courses_comma_cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse(data, PARTNER)

    # the file's extra column is named to the partner once (a renamed column would lose data)
    (unknown,) = result.rejections
    assert (unknown.rule, unknown.severity, unknown.value, unknown.line) == (
        "CSV_COLUMN_UNKNOWN", "warning", "Unbekannte Spalte", 1)
    assert unknown.source_id is None
    bsk, gastro = result.records
    assert bsk.source_id == "SB-BSK-2026-11"
    assert bsk.course_type == CourseType.JOB_LANGUAGE_COURSE
    assert bsk.address.street == "Schloßstraße"
    assert bsk.address.house_number == "8-10"
    assert bsk.address.postal_code == "66564"
    assert bsk.address.city == "Ottweiler"
    assert bsk.start_date == dt.date(2026, 11, 2)
    assert bsk.end_date == dt.date(2027, 4, 30)
    assert bsk.schedule == [CourseSchedule.EVENING, CourseSchedule.WEEKEND]
    assert bsk.childcare is False
    assert bsk.contact.name == "Frau Öztürk"
    assert bsk.contact.public is False

    assert gastro.title == "Deutsch für den Beruf – Gastronomie"
    assert gastro.course_type == CourseType.LANGUAGE_COURSE
    assert gastro.cefr_levels == [CEFRLevel.A2, CEFRLevel.B1]
    assert gastro.price_eur == 1250.5
    assert gastro.funded is False
    assert gastro.childcare is None
    assert gastro.contact is None


def test_defective_rows_are_rejected_one_by_one(fixtures_dir):
    data = (fixtures_dir / "formats" / "courses_defects.csv").read_bytes()
    result = parse(data, PARTNER)

    # good row and the row ending before it starts (left to the quality stage)
    assert [c.source_id for c in result.records] == ["OK-1", "ENDS-EARLY"]
    early = result.records[1]
    assert early.end_date < early.start_date
    assert result.items == 9

    found = {(r.rule, r.source_id, r.field, r.value) for r in result.rejections}
    assert found == {
        ("ADDRESS_POSTAL_CODE_INVALID", "BAD-PLZ", "address.postal_code", "6564"),
        ("COURSE_LEVEL_INVALID", "BAD-LEVEL", "cefr_levels", "B3"),
        ("COURSE_TYPE_UNKNOWN", "BAD-TYPE", "course_type", "Elterncafé"),
        ("RECORD_FIELD_MISSING", "NO-TITLE", "title", None),
        ("RECORD_FIELD_INVALID", "BAD-DATE", "start_date", "31.02.2026"),
        ("RECORD_ID_DUPLICATE", "OK-1", "source_id", "OK-1"),
        (
            "RECORD_UNREADABLE",
            "SHIFTED",
            None,
            "Zeile 10: 12 Zellen, die Kopfzeile hat 11 Spalten "
            "(Trennzeichen im Text? Text in Anführungszeichen setzen)",
        ),
    }
    for rejection in result.rejections:
        assert rejection.partner_id == PARTNER
        assert rejection.domain == "courses"
    by_id = {r.source_id: r for r in result.rejections}
    assert by_id["BAD-LEVEL"].title == "Sprachkurs Mittelstufe"
    assert "B3" in by_id["BAD-LEVEL"].message


# --------------------------------------------------------------------------- cell details


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Kurs-ID", "kursid"),
        (" kurs id ", "kursid"),
        ("KURS_ID", "kursid"),
        ("Straße", "strasse"),
        ("Strasse", "strasse"),
        ("Plätze", "plaetze"),
        ("Gefördert", "gefoerdert"),
        ("Kontakt öffentlich", "kontaktoeffentlich"),
        ("Geändert am", "geaendertam"),
        ("Gea\u0308ndert am", "geaendertam"),  # decomposed umlaut (macOS)
        ("E-Mail", "email"),
    ],
)
def test_header_names_are_matched_loosely(name, key):
    assert normalise_header(name) == key


@pytest.mark.parametrize(
    ("text", "levels"),
    [
        ("A1-B1", ["A1", "A2", "B1"]),
        ("A1 – B2", ["A1", "A2", "B1", "B2"]),
        ("A2, B1", ["A2", "B1"]),
        ("b1/a2", ["A2", "B1"]),
        ("C1", ["C1"]),
        ("A1.1-A1.2", ["A1"]),
        ("A2 bis B1", ["A2", "B1"]),
    ],
)
def test_levels(text, levels):
    course = _one(f"K1;Kurs;Sprachkurs;{text};66538;Neunkirchen")
    assert [level.value for level in course.cefr_levels] == levels


@pytest.mark.parametrize("text", ["B3", "A1-B3", "B1-A1", "Anfänger", "A1 B1"])
def test_invalid_levels_are_rejected_with_the_text(text):
    result = parse(_csv(f"K1;Kurs;Sprachkurs;{text};66538;Neunkirchen"), PARTNER)
    assert result.records == []
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.field, rejection.value) == (
        "COURSE_LEVEL_INVALID", "cefr_levels", text,
    )


@pytest.mark.parametrize(
    ("kursart", "course_type"),
    [
        ("Integrationskurs", CourseType.INTEGRATION_COURSE),
        ("BERUFSSPRACHKURS", CourseType.JOB_LANGUAGE_COURSE),
        ("sprachkurs", CourseType.LANGUAGE_COURSE),
        ("Alphabetisierungskurs", CourseType.LITERACY_COURSE),
        ("Ausbildung", CourseType.VOCATIONAL_TRAINING),
        ("Weiterbildung", CourseType.FURTHER_TRAINING),
        ("Orientierung", CourseType.ORIENTATION),
        ("Sonstiges", CourseType.OTHER),
        # BAMF's own names for its courses, as schools write them
        ("Jugendintegrationskurs", CourseType.INTEGRATION_COURSE),
        ("Elternintegrationskurs", CourseType.INTEGRATION_COURSE),
        ("Frauenintegrationskurs", CourseType.INTEGRATION_COURSE),
        ("Integrationskurs mit Alphabetisierung", CourseType.INTEGRATION_COURSE),
        ("Zweitschriftlernerkurs", CourseType.INTEGRATION_COURSE),
        ("DeuFöV-Kurs", CourseType.JOB_LANGUAGE_COURSE),
        ("Spezialberufssprachkurs", CourseType.JOB_LANGUAGE_COURSE),
        ("Deutschkurs", CourseType.LANGUAGE_COURSE),
        ("Erstorientierungskurs", CourseType.ORIENTATION),
    ],
)
def test_course_types(kursart, course_type):
    assert _one(f"K1;Kurs;{kursart};;66538;Neunkirchen").course_type == course_type


@pytest.mark.parametrize(
    ("cost", "price"),
    [("0", 0), ("kostenlos", 0), ("Kostenlos", 0), ("kostenfrei", 0), ("120", 120), ("120,50", 120.5),
     ("1.250,00 €", 1250), ("99.90", 99.9), ("150,- EUR", 150)],
)
def test_cost(cost, price):
    header = HEADER + ";Kosten"
    assert _one(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{cost}", header).price_eur == price


@pytest.mark.parametrize(
    ("cost", "price"),
    [("kostenlos für Teilnahmeberechtigte", 0), ("Kostenfrei mit Bildungsgutschein", 0),
     ("1.603 € (2,29 € pro UE)", 1603), ("1.603 €, 2,29 € je UE", 1603),
     ("1.603,00 € (700 UE à 2,29 €)", 1603)],
)
def test_cost_as_schools_write_it(cost, price):
    """An integration course costs nothing for those entitled to it; a school that gives its
    rate per lesson beside the price has given the price."""
    header = HEADER + ";Kosten"
    assert _one(f"K1;Kurs;Integrationskurs;;66538;Neunkirchen;{cost}", header).price_eur == price


@pytest.mark.parametrize(
    ("cost", "price"),
    [("keine Kosten", 0), ("keine", 0), ("350 € inkl. Material", 350), ("350 € zzgl. Prüfungsgebühr", 350),
     ("Selbstzahler: 1.603 €", 1603), ("150 € pro Monat", None), ("k.A.", None)],
)
def test_cost_with_who_pays_and_what_it_includes(cost, price):
    header = HEADER + ";Kosten"
    assert parse(_csv(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{cost}", header=header),
                 PARTNER).records[0].price_eur == price


@pytest.mark.parametrize(
    ("kursart", "course_type"),
    [("IK", "integration_course"), ("BSK", "job_language_course"), ("Alphakurs", "literacy_course"),
     ("Alpha-Kurs", "literacy_course"), ("Umschulung", "vocational_training"),
     ("Fortbildung", "further_training"), ("Qualifizierung", "further_training"), ("EOK", "orientation"),
     # with the level after the kind; German courses under the names schools give them
     ("BSK B2", "job_language_course"), ("Alphakurs A1", "literacy_course"),
     ("Integrationskurs (A1-B1)", "integration_course"), ("Deutsch-Intensivkurs", "language_course"),
     ("Intensivkurs", "language_course"), ("Sprachcafé", "language_course"),
     ("Prüfungsvorbereitung", "language_course"), ("DTZ-Vorbereitung", "language_course"),
     ("Einbürgerungstest", "orientation")],
)
def test_course_types_as_schools_shorten_them(kursart, course_type):
    assert _one(f"K1;Kurs;{kursart};;66538;Neunkirchen").course_type.value == course_type


@pytest.mark.parametrize(
    ("niveau", "levels"),
    [("A1-B1 (GER)", ["A1", "A2", "B1"]), ("A2-B1 (DTZ)", ["A2", "B1"]), ("A2 + B1", ["A2", "B1"]),
     ("Zielniveau B1", ["B1"]), ("B 1", ["B1"]),
     # a note after the level
     ("B1 (Zielniveau)", ["B1"]), ("A1 (Alpha)", ["A1"]), ("B1 - Zielniveau", ["B1"]),
     ("C1 Hochschule", ["C1"]), ("A2-B1 (Zielniveau)", ["A2", "B1"])],
)
def test_levels_as_schools_write_them(niveau, levels):
    assert [level.value for level in _one(f"K1;Kurs;Sprachkurs;{niveau};66538;Neunkirchen").cefr_levels] == levels


@pytest.mark.parametrize(
    ("zeitmodell", "schedule"),
    [("Präsenz", []), ("Präsenz/Online", ["blended"]), ("Onlinekurs", ["online"]),
     ("Online-Kurs", ["online"]), ("Vormittagskurs", []), ("samstags", ["weekend"]),
     ("Teilzeit oder Vollzeit", ["part_time", "full_time"]),
     ("Abend", ["evening"]), ("Blended Learning", ["blended"]), ("Intensiv", ["full_time"]),
     ("Sa", ["weekend"]),
     # the hours and days it meets: evening from 17 h, weekend for Saturday, else nothing
     ("Mo, Mi 18:00-20:15", ["evening"]), ("Mo-Do 9-12 Uhr", []), ("Sa 9-13 Uhr", ["weekend"]),
     ("Teilzeit, 2x pro Woche 18-20 Uhr", ["part_time", "evening"]), ("3x wöchentlich", []),
     # the hours after the days need no 'Uhr'; a time of day beside a word; lessons a week
     ("Mo-Do 9-12", []), ("Di, Do 18-20.30", ["evening"]), ("Teilzeit vormittags", ["part_time"]),
     ("Vormittag", []), ("Vollzeit 25 UE/Woche", ["full_time"])],
)
def test_schedules_as_schools_write_them(zeitmodell, schedule):
    course = _one(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{zeitmodell}", HEADER + ";Zeitmodell")
    assert [item.value for item in course.schedule] == schedule


@pytest.mark.parametrize(
    ("betreuung", "gefoerdert", "plaetze", "expected"),
    [("keine", "AVGS", "max. 16", (False, True, 16)), ("nicht vorhanden", "JC", "16 TN", (False, True, 16)),
     ("kostenlos", "Förderung möglich", "3 Restplätze", (True, True, 3)),
     ("", "kostenlos", "bis zu 16", (None, True, 16))],
)
def test_childcare_funding_and_seats_in_words(betreuung, gefoerdert, plaetze, expected):
    header = HEADER + ";Kinderbetreuung;Gefoerdert;Plaetze"
    course = _one(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{betreuung};{gefoerdert};{plaetze}", header)
    assert (course.childcare, course.funded, course.seats) == expected


def test_a_cost_on_request_or_per_lesson_publishes_the_course_without_a_price_and_warns():
    data = (HEADER + ";Kosten\n"
            "K1;Kurs;Integrationskurs;;66538;Neunkirchen;auf Anfrage\n"
            "K2;Kurs;Integrationskurs;;66538;Neunkirchen;2,29 € pro UE\n"
            "K3;Kurs;Sprachkurs;;66538;Neunkirchen;15 €/Std.\n"
            "K4;Kurs;Sprachkurs;;66538;Neunkirchen;teuer\n").encode()
    result = parse(data, PARTNER)
    assert {r.source_id: r.price_eur for r in result.records} == {"K1": None, "K2": None, "K3": None}
    assert [(r.source_id, r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("K1", "COURSE_PRICE_IN_WORDS", "warning", "price_eur", "auf Anfrage"),
        ("K2", "COURSE_PRICE_IN_WORDS", "warning", "price_eur", "2,29 € pro UE"),
        ("K3", "COURSE_PRICE_IN_WORDS", "warning", "price_eur", "15 €/Std."),
        ("K4", "RECORD_FIELD_INVALID", "error", "price_eur", "teuer"),
    ]
    assert "ohne Preis" in result.rejections[0].message
    assert "ganzen Kurses" in result.rejections[0].hint


@pytest.mark.parametrize("ende", ["offen", "laufend", "nach 700 UE", "nach Abschluss des Moduls"])
def test_an_end_that_is_no_date_publishes_none(ende):
    course = _one(f"K1;Kurs;Integrationskurs;;66538;Neunkirchen;{ende}", HEADER + ";Ende")
    assert course.end_date is None


def test_an_end_after_bis_and_levels_on_two_lines():
    header = HEADER + ";Ende"
    course = _one('K1;Kurs;Integrationskurs;"A1\r\nA2";66538;Neunkirchen;bis 30.10.2027', header)
    assert course.end_date == dt.date(2027, 10, 30)
    assert [level.value for level in course.cefr_levels] == ["A1", "A2"]


def test_an_unknown_course_type_is_refused_with_the_text():
    result = parse(_csv("K1;Kochkurs;Kochkurs;;66538;Neunkirchen"), PARTNER)
    assert result.records == []
    assert [(r.rule, r.value) for r in result.rejections] == [("COURSE_TYPE_UNKNOWN", "Kochkurs")]


@pytest.mark.parametrize(
    ("beginn", "start"),
    [("02.03.2028", dt.date(2028, 3, 2)), ("laufender Einstieg", None), ("laufend", None),
     ("Einstieg jederzeit möglich", None), ("fortlaufend", None), ("", None),
     ("laufend ab 01.09.2026", dt.date(2026, 9, 1)),
     ("01.09.2026 (Einstieg jederzeit)", dt.date(2026, 9, 1)), ("ab 02.03.2027", dt.date(2027, 3, 2)),
     ("am 02.03.2027", dt.date(2027, 3, 2)), ("zum 02.03.2027", dt.date(2027, 3, 2)),
     ("46448", dt.date(2027, 3, 2))],  # the column formatted as a number in the spreadsheet
)
def test_a_course_one_joins_at_any_time_has_no_start_date(beginn, start):
    course = _one(f"K1;Kurs;Integrationskurs;;66538;Neunkirchen;{beginn}", HEADER + ";Beginn")
    assert course.start_date == start


@pytest.mark.parametrize(
    ("plaetze", "seats"),
    [("12 frei", 12), ("noch 3", 3), ("ca. 15", 15), ("noch 3 Plätze frei", 3), ("3 freie Plätze", 3),
     # free out of the course's places; or taken ones
     ("12/16", 12), ("12 / 16", 12), ("noch 3 von 16 Plätzen frei", 3), ("12 von 16 belegt", 4),
     ("16/16 belegt", 0)],
)
def test_free_seats_in_words(plaetze, seats):
    assert _one(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{plaetze}", HEADER + ";Plaetze").seats == seats


@pytest.mark.parametrize(
    ("betreuung", "childcare"),
    [("vorhanden", True), ("möglich", True), ("ja, kostenlos", True), ("auf Anfrage", None),
     ("nach Absprache", None), ("Nein", False), ("kursbegleitend", True), ("begrenzt", True)],
)
def test_childcare_as_schools_write_it(betreuung, childcare):
    """'auf Anfrage': childcare one has to ask for is not known to be there; the course is
    published all the same."""
    course = _one(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{betreuung}", HEADER + ";Kinderbetreuung")
    assert course.childcare is childcare


@pytest.mark.parametrize(
    ("gefoerdert", "funded"),
    [("BAMF", True), ("ja (BAMF)", True), ("Bildungsgutschein", True), ("AZAV-zertifiziert", True),
     ("Förderung durch das Jobcenter", True), ("Selbstzahler", False), ("nein", False)],
)
def test_funding_named_by_its_funder(gefoerdert, funded):
    course = _one(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{gefoerdert}", HEADER + ";Gefoerdert")
    assert course.funded is funded


def test_answers_the_template_cannot_read_still_reject_the_course():
    data = (HEADER + ";Kinderbetreuung;Gefoerdert;Plaetze\n"
            "K1;Kurs;Sprachkurs;;66538;Neunkirchen;vielleicht;;\n"
            "K2;Kurs;Sprachkurs;;66538;Neunkirchen;;teilweise;\n"
            "K3;Kurs;Sprachkurs;;66538;Neunkirchen;;;10-15\n").encode()
    result = parse(data, PARTNER)
    assert result.records == []
    assert [(r.source_id, r.rule, r.field, r.value) for r in result.rejections] == [
        ("K1", "RECORD_FIELD_INVALID", "childcare", "vielleicht"),
        ("K2", "RECORD_FIELD_INVALID", "funded", "teilweise"),
        ("K3", "RECORD_FIELD_INVALID", "seats", "10-15"),
    ]


def test_a_course_that_names_only_its_month_starts_on_the_first_with_a_warning():
    """'Beginn: März 2028' is what many schools know months ahead: the course is published
    with 1 March and the school is told to give the day; 'Mitte März' stays an error."""
    data = (HEADER + ";Beginn\n"
            "K1;Kurs;Integrationskurs;;66538;Neunkirchen;März 2028\n"
            "K2;Kurs;Integrationskurs;;66538;Neunkirchen;ab 04/2028\n"
            "K3;Kurs;Integrationskurs;;66538;Neunkirchen;Mitte März 2028\n").encode()
    result = parse(data, PARTNER)
    assert {r.source_id: r.start_date for r in result.records} == {
        "K1": dt.date(2028, 3, 1), "K2": dt.date(2028, 4, 1)}
    assert [(r.source_id, r.rule, r.severity, r.field, r.value, r.line) for r in result.rejections] == [
        ("K1", "DATE_MONTH_ONLY", "warning", "start_date", "März 2028", 2),
        ("K2", "DATE_MONTH_ONLY", "warning", "start_date", "ab 04/2028", 3),
        ("K3", "RECORD_FIELD_INVALID", "error", "start_date", "Mitte März 2028", 4),
    ]
    assert "1. dieses Monats" in result.rejections[0].message


def test_a_course_that_names_only_the_month_it_ends_ends_on_its_last_day_with_a_warning():
    data = (HEADER + ";Ende\n"
            "K1;Kurs;Integrationskurs;;66538;Neunkirchen;Juni 2027\n"
            "K2;Kurs;Integrationskurs;;66538;Neunkirchen;Ende Februar 2028\n"
            "K3;Kurs;Integrationskurs;;66538;Neunkirchen;06/2027\n"
            "K4;Kurs;Integrationskurs;;66538;Neunkirchen;30.06.2027\n").encode()
    result = parse(data, PARTNER)
    assert {r.source_id: r.end_date for r in result.records} == {
        "K1": dt.date(2027, 6, 30), "K2": dt.date(2028, 2, 29), "K3": dt.date(2027, 6, 30),
        "K4": dt.date(2027, 6, 30)}
    assert [(r.source_id, r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("K1", "COURSE_END_MONTH_ONLY", "warning", "end_date", "Juni 2027"),
        ("K2", "COURSE_END_MONTH_ONLY", "warning", "end_date", "Ende Februar 2028"),
        ("K3", "COURSE_END_MONTH_ONLY", "warning", "end_date", "06/2027"),
    ]
    assert "letzte Tag dieses Monats" in result.rejections[0].message


@pytest.mark.parametrize(("plaetze", "seats"), [("12", 12), ("ausgebucht", 0), ("Warteliste", 0), ("", None)])
def test_seats(plaetze, seats):
    assert _one(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{plaetze}", HEADER + ";Plaetze").seats == seats


@pytest.mark.parametrize(
    ("zeitmodell", "schedule"),
    [("Teilzeit, vormittags", [CourseSchedule.PART_TIME]), ("halbtags", [CourseSchedule.PART_TIME]),
     ("Ganztags", [CourseSchedule.FULL_TIME]), ("nachmittags", []),
     ("Teilzeit (vormittags, mit Kinderbetreuung)", [CourseSchedule.PART_TIME])],
)
def test_schedule_words(zeitmodell, schedule):
    course = _one(f"K1;Kurs;Sprachkurs;;66538;Neunkirchen;{zeitmodell}", HEADER + ";Zeitmodell")
    assert course.schedule == schedule


def test_invalid_cells_show_their_value():
    header = HEADER + ";Kosten;Kinderbetreuung;Plaetze;Zeitmodell;AGS"
    result = parse(
        _csv(
            "K1;Kurs;Sprachkurs;;66538;Neunkirchen;teuer;;;;",
            "K2;Kurs;Sprachkurs;;66538;Neunkirchen;;vielleicht;;;",
            "K3;Kurs;Sprachkurs;;66538;Neunkirchen;;;zwölf;;",
            "K4;Kurs;Sprachkurs;;66538;Neunkirchen;;;;irgendwann;",
            "K5;Kurs;Sprachkurs;;66538;Neunkirchen;;;;;1043114",
            header=header,
        ),
        PARTNER,
    )
    assert result.records == []
    found = {(r.rule, r.source_id, r.field, r.value) for r in result.rejections}
    assert found == {
        ("RECORD_FIELD_INVALID", "K1", "price_eur", "teuer"),
        ("RECORD_FIELD_INVALID", "K2", "childcare", "vielleicht"),
        ("RECORD_FIELD_INVALID", "K3", "seats", "zwölf"),
        ("RECORD_FIELD_INVALID", "K4", "schedule", "irgendwann"),
        ("RECORD_FIELD_INVALID", "K5", "address.municipality_key", "1043114"),
    }


def test_missing_required_cells_name_the_field():
    data = _csv(" ; ;  ;;;;nur eine Beschreibung", header=HEADER + ";Beschreibung")
    result = parse(data, PARTNER)
    assert result.records == []
    assert result.items == 1
    assert {r.field for r in result.rejections} == {
        "source_id", "title", "course_type", "address.postal_code", "address.city",
    }
    assert {r.rule for r in result.rejections} == {"RECORD_FIELD_MISSING"}


def test_short_rows_and_unknown_columns():
    header = "Bemerkung;Kurs-ID;Titel;Kursart;PLZ;Ort;Beginn"
    result = parse(_csv("intern;K1;Kurs;Sprachkurs;66538;Neunkirchen", header=header), PARTNER)
    (course,) = result.records
    assert course.start_date is None  # no Beginn cell
    # the column the template does not know is named once, as a note (nothing is rejected)
    assert [(r.rule, r.severity, r.value, r.line) for r in result.rejections] == [
        ("CSV_COLUMN_UNKNOWN", "warning", "Bemerkung", 1)]


def test_a_unit_after_a_column_name_is_ignored():
    header = "Kurs-ID;Titel;Kursart;PLZ;Ort;Kosten (EUR);Plaetze"
    course = _one("K1;Kurs;Sprachkurs;66538;Neunkirchen;1.250,00;12", header)
    assert (course.price_eur, course.seats) == (1250.0, 12)


def test_a_row_with_one_cell_too_many_is_shifted_even_when_the_extra_cell_is_empty():
    header = "Kurs-ID;Titel;Kursart;PLZ;Ort;Beschreibung;Ansprechperson;E-Mail"
    data = _csv("K1;Kurs;Sprachkurs;66538;Neunkirchen;Mo; Mi abends;;",
                "K2;Kurs 2;Sprachkurs;66538;Ottweiler;Di abends;Frau Roth;roth@vhs.example", header=header)
    result = parse(data, PARTNER)
    assert [c.source_id for c in result.records] == ["K2"]
    assert [(r.rule, r.source_id, r.line) for r in result.rejections] == [
        ("RECORD_UNREADABLE", "K1", 2)]


def test_rows_that_all_end_with_a_separator_are_read():
    header = "Kurs-ID;Titel;Kursart;PLZ;Ort"
    data = (header + "\nK1;Kurs;Sprachkurs;66538;Neunkirchen;\nK2;Kurs 2;Sprachkurs;66538;Ottweiler;\n")
    result = parse(data.encode(), PARTNER)
    assert [c.source_id for c in result.records] == ["K1", "K2"]
    assert result.rejections == []


def test_a_tab_separated_export_is_read():
    """Excel's 'Text (Tabstopp-getrennt)': the cells are separated by tabs; commas and
    semicolons in a text stay in it."""
    data = ("Kurs-ID\tTitel\tKursart\tPLZ\tOrt\tBeschreibung\n"
            "K1\tKurs\tSprachkurs\t66538\tNeunkirchen\tMo; Mi, Fr\n").encode("cp1252")
    (course,) = parse(data, PARTNER).records
    assert (course.source_id, course.address.city, course.description) == ("K1", "Neunkirchen", "Mo; Mi, Fr")


def test_comma_header_with_semicolons_in_cells():
    data = (
        "Kurs-ID,Titel,Kursart,PLZ,Ort,Beschreibung\n"
        'K1,Kurs,Sprachkurs,66538,Neunkirchen,"Mo; Mi; Fr"\n'
    ).encode()
    (course,) = parse(data, PARTNER).records
    assert course.description == "Mo; Mi; Fr"


def test_a_description_with_line_breaks_is_one_cell():
    data = (
        "Kurs-ID;Titel;Kursart;PLZ;Ort;Beschreibung\n"
        'K1;Kurs;Sprachkurs;66538;Neunkirchen;"Vormittags;\nnachmittags frei"\n'
        "K2;Kurs 2;Sprachkurs;66538;Neunkirchen;\n"
    ).encode()
    result = parse(data, PARTNER)
    assert [c.description for c in result.records] == ["Vormittags;\nnachmittags frei", None]


@pytest.mark.parametrize("rows, line", [
    # a quote opened in the title: the rest of the file became one cell of a short row
    (['Q-1;Kurs A2;Sprachkurs;66538;Neunkirchen;', 'Q-2;"Kurs B2;Sprachkurs;66538;Neunkirchen;',
      'Q-3;Kurs C1;Sprachkurs;66538;Neunkirchen;'], 3),
    # a quote opened in the last cell: the row is whole, the rows after it are in its cell
    (['Q-1;Kurs A2;Sprachkurs;66538;Neunkirchen;"Vormittags', 'Q-2;Kurs B1;Sprachkurs;66538;Neunkirchen;x',
      'Q-3;Kurs C1;Sprachkurs;66538;Neunkirchen;y'], 2),
])
def test_an_unclosed_quote_refuses_the_file_instead_of_swallowing_rows(rows, line):
    """Read as one cell, the rows after the quote would vanish from the delivery, and a
    snapshot would withdraw their records: the file is refused, naming the line."""
    data = ("Kurs-ID;Titel;Kursart;PLZ;Ort;Beschreibung\n" + "\n".join(rows) + "\n").encode()
    with pytest.raises(FormatError, match=f"line {line}: a quote") as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


def test_an_unclosed_quote_in_a_long_file_names_its_line_not_the_csv_module_s_limit():
    """In a file of a few thousand rows the cell an unclosed quote opened outgrew the csv
    module's limit before the file ended: 'not a readable CSV at line 1655: field larger than
    field limit (131072)', naming neither the quote nor its line."""
    rows = [f"Q-{n};Deutsch am Abend, Kurs {n} mit Beschreibung;Sprachkurs;66538;Neunkirchen;"
            for n in range(5000)]
    rows[1] = rows[1].replace("Deutsch", '"Deutsch')  # line 3 of the file
    data = ("Kurs-ID;Titel;Kursart;PLZ;Ort;Beschreibung\n" + "\n".join(rows) + "\n").encode()
    with pytest.raises(FormatError) as error:
        parse(data, PARTNER)
    said = str(error.value)
    assert said.startswith('line 3: a quote (") opens a cell that runs on past line '), said
    assert said.endswith(" and takes in the rows between; close the quote in line 3 or remove it")
    # a cell that long without a quote: the line, and what the limit means
    data = ("Kurs-ID;Titel;Kursart;PLZ;Ort\nQ-1;" + "x" * 200_000 + ";Sprachkurs;66538;Neunkirchen\n").encode()
    with pytest.raises(FormatError, match=r"^line 2: a cell of more than 131,072 characters, "
                                          r"longer than any offer's text; is the file the CSV export\?$"):
        parse(data, PARTNER)


def test_excel_separator_hint_line():
    data = (
        b"sep=;\r\nKurs-ID;Titel;Kursart;PLZ;Ort\r\n"
        b"K1;Kurs, Abend;Sprachkurs;66538;Neunkirchen\r\n"
    )
    (course,) = parse(data, PARTNER).records
    assert course.title == "Kurs, Abend"


def test_only_the_first_row_is_a_header():
    # a header row repeated further down (two exports pasted together) is just a bad row
    result = parse(_csv(HEADER, "K1;Kurs;Sprachkurs;;66538;Neunkirchen"), PARTNER)
    assert [c.source_id for c in result.records] == ["K1"]
    assert {r.source_id for r in result.rejections} == {"Kurs-ID"}
    assert {r.rule for r in result.rejections} == {
        "COURSE_TYPE_UNKNOWN", "COURSE_LEVEL_INVALID", "ADDRESS_POSTAL_CODE_INVALID",
    }


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "empty"),
        (b"Kurs-ID;Titel;Kursart\nK1;Kurs;Sprachkurs\n", "required column.*PLZ, Ort"),
        (b"Titel;Kursart;PLZ;Ort\n", "required column.*Kurs-ID"),
        (b'{"ergebnisliste": []}', "required column.*Kurs-ID, Titel, Kursart, PLZ, Ort"),
        (b"\xff\xfe" + "Kurs-ID;Titel".encode("utf-16-le")[:-1], "UTF-16 text that breaks off"),
        (b"Kurs-ID;Titel;Kursart;PLZ;Ort\n\x81\x8d\x8f", "neither UTF-8 nor Windows-1252"),
        (b"sep=;\n", "no header"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


def test_oversized_cell_is_refused_not_crashing():
    data = _csv("K1;" + "x" * 200_000 + ";Sprachkurs;;66538;Neunkirchen")
    with pytest.raises(FormatError, match="line 2"):
        parse(data, PARTNER)


# --------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_format_error(data):
    try:
        result = parse(data, PARTNER)
    except FormatError as error:
        assert "\n" not in str(error)
        return
    assert result.items >= len(result.records)


_cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["66538", "Neunkirchen", "A1-B1", "B3", "02.03.2026", "2026-13-01", "ja", "kostenlos",
     "Integrationskurs", "Teilzeit, Online", "Hüttenbergstraße 42", '"', "", "1,5"]
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(_cells, max_size=8), max_size=6),
    delimiter=st.sampled_from([";", ","]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_template_shaped_input_only_raises_format_error(rows, delimiter, encoding):
    columns = ["Kurs-ID", "Titel", "Kursart", "Sprachniveau", "Beginn", "PLZ", "Ort", "Kosten"]
    header = delimiter.join(columns)
    text = "\n".join([header, *(delimiter.join(row) for row in rows)])
    try:
        result = parse(text.encode(encoding, "replace"), PARTNER)
    except FormatError:
        return
    assert all(rejection.rule in RULES for rejection in result.rejections)


@pytest.mark.parametrize("magic", [b"PK\x03\x04\x14\x00\x06\x00", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"])
def test_a_spreadsheet_workbook_is_named_as_such(magic):
    with pytest.raises(FormatError, match="a spreadsheet workbook .* not CSV; save it as 'CSV UTF-8'"):
        parse(magic + b"\x00" * 64, PARTNER)
