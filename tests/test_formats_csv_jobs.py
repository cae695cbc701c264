"""csv-jobs: the hub's CSV template for job offers of small employers -> JobPosting."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats import FormatError
from hub.formats.csv_jobs import COLUMNS, FORMAT, parse
from hub.models import CEFRLevel, ContractDuration, EmploymentType, WorkingTime
from hub.quality.checks import record_problems
from hub.quality.report import build_report, render_csv
from tests.format_properties import (
    DELIMITERS,
    ENCODINGS,
    csv_rows,
    parse_or_refuse,
    template_csv,
)

BERLIN = ZoneInfo("Europe/Berlin")
PARTNER = "baeckerei-kunz"
ROOT = Path(__file__).resolve().parents[1]
HEADER = "Stellen-ID;Titel;PLZ;Ort"


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


def _one(row: str, header: str = HEADER):
    result = parse(_csv(row, header=header), PARTNER)
    # (an amount without its period is said: test_an_amount_without_its_period_is_published_...)
    assert [r for r in result.rejections if r.rule != "JOB_SALARY_PERIOD_MISSING"] == [], \
        result.rejections
    (job,) = result.records
    return job


def test_format():
    assert FORMAT.name == "csv-jobs"
    assert FORMAT.domain == "jobs"
    assert FORMAT.parse is parse


def test_template_example_file():
    result = parse((ROOT / "schemas" / "csv" / "jobs.example.csv").read_bytes(), PARTNER)
    assert result.rejections == []
    assert [job.source_id for job in result.records] == ["BK-2026-03", "BK-2026-04"]
    seller, trainee = result.records
    assert seller.description == (
        "Verkauf an der Theke, Frühschicht ab 5:30 Uhr; Einarbeitung auf Deutsch und Englisch"
    )
    assert (seller.salary_min, seller.salary_max, seller.salary_period) == (2450, 2800, "month")
    assert trainee.employment_type == EmploymentType.APPRENTICESHIP
    assert trainee.ba_reference == "10001-1203456799-S"
    assert trainee.contact is None


def test_template_example_documents_every_column():
    doc = (ROOT / "schemas" / "csv" / "jobs.md").read_text()
    example = (ROOT / "schemas" / "csv" / "jobs.example.csv").read_text().splitlines()[0]
    for name in COLUMNS.values():
        assert f"| `{name}` |" in doc
        assert name in example.split(";")


def test_semicolon_utf8_bom(fixtures_dir):
    data = (fixtures_dir / "formats" / "jobs_semicolon_utf8_bom.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    result = parse(data, PARTNER)

    assert result.rejections == []
    assert result.items == 4  # the empty rows at the end are not counted
    care, office, drinks, cleaning = result.records

    assert care.source_id == "NK-PFL-01"
    assert care.title == "Pflegehelfer (m/w/d) ambulante Pflege"
    assert care.organisation == "Pflegedienst Sonnenblick GmbH"
    assert care.occupation == "Helfer/in - Altenpflege"
    assert care.employment_type == EmploymentType.EMPLOYEE
    # 'Teilzeit / Schicht / Wochenende': weekend work is shift work, listed once
    assert care.working_time == [WorkingTime.PART_TIME, WorkingTime.SHIFT]
    assert care.contract_duration == ContractDuration.PERMANENT
    assert care.german_level == CEFRLevel.B1  # 'B1.2'
    assert (care.salary_min, care.salary_max, care.salary_period) == (15.5, 17, "hour")
    assert care.remote_possible is False
    assert care.start_date is None  # 'sofort'
    assert care.published_from == dt.date(2026, 4, 1)
    assert care.valid_through == dt.date(2026, 5, 31)
    assert care.ba_reference == "10001-1204455667-S"
    assert care.address.model_dump() == {
        "street": "Am Zoo",
        "house_number": "5a",
        "postal_code": "66538",
        "city": "Neunkirchen",
        "municipality_key": "10043114",
        "state": None,
        "country": "DE",
    }
    assert str(care.url) == "https://www.pflege-sonnenblick.example/jobs"  # 'www.' completed
    assert care.description == "Touren im Stadtgebiet; Dienstwagen wird gestellt"
    assert care.contact.model_dump() == {
        "name": "Frau Weber",
        "email": "bewerbung@pflege-sonnenblick.example",
        "phone": "06821 77810",
        "public": True,
    }
    assert care.updated_at == dt.datetime(2026, 4, 2, 9, 15, tzinfo=BERLIN)

    assert office.employment_type == EmploymentType.EMPLOYEE  # 'Anstellung'
    assert office.contract_duration == ContractDuration.FIXED_TERM
    assert office.german_level == CEFRLevel.C1
    assert (office.salary_min, office.salary_max, office.salary_period) == (38000, 42000, "year")
    assert office.remote_possible is True  # 'teilweise'
    assert office.start_date == dt.date(2026, 6, 1)  # 'ab 01.06.2026'
    assert (office.address.street, office.address.house_number) == ("Lindenallee", "8-10")
    assert office.contact.public is False  # 'Kontakt oeffentlich' empty
    assert office.contact.phone is None
    assert office.updated_at == dt.datetime(2026, 4, 1, 8, 0, tzinfo=BERLIN)

    # Art 'Minijob' adds the working time
    assert drinks.employment_type == EmploymentType.MINI_JOB
    assert drinks.working_time == [WorkingTime.FLEXIBLE, WorkingTime.MINI]
    assert drinks.german_level is None  # 'keine'
    assert drinks.german_required is False  # ... which a newcomer without German looks for
    assert office.german_required is True
    assert (drinks.salary_min, drinks.salary_max) == (13.9, None)
    assert drinks.address.city == "Spiesen-Elversberg"
    assert drinks.contact is None

    # Arbeitszeit 'Minijob' with Art empty: a mini job
    assert cleaning.employment_type == EmploymentType.MINI_JOB
    assert cleaning.working_time == [WorkingTime.MINI]
    assert cleaning.address.street is None
    assert cleaning.start_date == dt.date(2026, 5, 1)


def test_comma_windows_1252(fixtures_dir):
    data = (fixtures_dir / "formats" / "jobs_comma_cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse(data, PARTNER)

    assert result.rejections == []
    mechanic, courier, intern = result.records
    assert mechanic.source_id == "OTW-KFZ-11"
    assert mechanic.address.street == "Schloßstraße"  # header 'Straße'
    assert mechanic.address.postal_code == "66564"
    assert mechanic.salary_min == 3100  # '3.100,00' quoted
    assert mechanic.salary_period == "month"
    assert mechanic.published_from == dt.date(2026, 4, 15)  # header 'Veröffentlicht ab'
    assert mechanic.updated_at == dt.datetime(2026, 4, 15, tzinfo=BERLIN)
    assert mechanic.description == "Werkstatt, Diagnose, Service"

    assert courier.employment_type == EmploymentType.SELF_EMPLOYED  # 'Selbstständig'
    assert courier.organisation == "Blies-Kurier Müller"
    assert courier.description == "Über eigene Gewerbeanmeldung; Fahrzeug wird gestellt"
    assert courier.remote_possible is True

    assert intern.employment_type == EmploymentType.INTERNSHIP
    assert intern.organisation == "Grünwerk Illtal"
    assert intern.address.street == "Im Großen Garten"


def test_defective_rows_are_rejected_one_by_one(fixtures_dir):
    data = (fixtures_dir / "formats" / "jobs_defects.csv").read_bytes()
    result = parse(data, PARTNER)

    assert [job.source_id for job in result.records] == ["OK-1", "INVERTED", "WEEKLY"]
    inverted = result.records[1]
    # left to the quality stage
    assert [p.rule for p in record_problems(inverted)] == ["JOB_SALARY_RANGE_INVERTED"]
    assert result.items == 14

    found = {(r.rule, r.source_id, r.field, r.value) for r in result.rejections}
    assert found == {
        ("ADDRESS_POSTAL_CODE_INVALID", "BAD-PLZ", "address.postal_code", "6653"),
        ("COURSE_LEVEL_INVALID", "BAD-LEVEL", "german_level", "B3"),
        ("RECORD_FIELD_INVALID", "BAD-ART", "employment_type", "Lagerhalle"),
        ("RECORD_FIELD_INVALID", "BAD-TIME", "working_time", "Kurzarbeit"),
        # pay per week: published without it, and said (JOB_SALARY_PERIOD_NOT_PUBLISHED)
        ("JOB_SALARY_PERIOD_NOT_PUBLISHED", "WEEKLY", "salary_period", "Woche"),
        ("RECORD_FIELD_INVALID", "BAD-SALARY", "salary_min", "2.3OO"),
        ("RECORD_FIELD_INVALID", "BAD-DATE", "start_date", "31.04.2026"),
        ("RECORD_FIELD_MISSING", "NO-TITLE", "title", None),
        ("RECORD_FIELD_INVALID", "BAD-LINK", "url", "Bewerbung per Post"),
        # every problem of a row is reported
        ("RECORD_FIELD_INVALID", "MULTI", "salary_period", "Quartal"),
        ("ADDRESS_POSTAL_CODE_INVALID", "MULTI", "address.postal_code", "665380"),
        (
            "RECORD_UNREADABLE",
            "SHIFTED",
            None,
            "Zeile 14: 13 Zellen, die Kopfzeile hat 12 Spalten "
            "(Trennzeichen im Text? Text in Anführungszeichen setzen)",
        ),
        ("RECORD_ID_DUPLICATE", "OK-1", "source_id", "OK-1"),
    }
    for rejection in result.rejections:
        assert rejection.partner_id == PARTNER
        assert rejection.domain == "jobs"
    by_id = {r.source_id: r for r in result.rejections}
    assert by_id["WEEKLY"].title == "Fahrer (m/w/d)"
    assert "Woche" in by_id["WEEKLY"].message
    assert by_id["SHIFTED"].title == "Hausmeister (m/w/d)"


# --------------------------------------------------------------------------- cell details


@pytest.mark.parametrize(
    ("art", "expected"),
    [
        ("Arbeit", EmploymentType.EMPLOYEE),
        ("Ausbildung", EmploymentType.APPRENTICESHIP),
        ("PRAKTIKUM", EmploymentType.INTERNSHIP),
        ("Minijob", EmploymentType.MINI_JOB),
        ("Selbststaendig", EmploymentType.SELF_EMPLOYED),
        ("Selbstständig", EmploymentType.SELF_EMPLOYED),
        ("Sonstiges", EmploymentType.OTHER),
        ("Werkstudent", EmploymentType.EMPLOYEE),
        ("Ausbildungsplatz", EmploymentType.APPRENTICESHIP),
        ("", EmploymentType.EMPLOYEE),
    ],
)
def test_employment_types(art, expected):
    job = _one(f"J1;Job;{art};66538;Neunkirchen", "Stellen-ID;Titel;Art;PLZ;Ort")
    assert job.employment_type == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vollzeit", [WorkingTime.FULL_TIME]),
        ("Teilzeit, flexibel", [WorkingTime.PART_TIME, WorkingTime.FLEXIBLE]),
        ("Schichtarbeit / Nachtarbeit", [WorkingTime.SHIFT]),
        ("Vollzeit und Gleitzeit", [WorkingTime.FULL_TIME, WorkingTime.FLEXIBLE]),
        ("Mini-Job", [WorkingTime.MINI]),
        # what stands in brackets is an aside, also when it holds a separator
        ("Teilzeit (20 Std./Woche)", [WorkingTime.PART_TIME]),
        ("Vollzeit (39 h), Schicht", [WorkingTime.FULL_TIME, WorkingTime.SHIFT]),
        ("Halbtags", [WorkingTime.PART_TIME]), ("ganztags", [WorkingTime.FULL_TIME]),
        # a time of day is no working time the hub keeps: passed over, not refused
        ("Teilzeit, vormittags", [WorkingTime.PART_TIME]), ("Nachmittags", []),
        ("", []),
    ],
)
def test_working_times(text, expected):
    header = "Stellen-ID;Titel;Art;Arbeitszeit;PLZ;Ort"
    assert _one(f"J1;Job;Arbeit;{text};66538;Neunkirchen", header).working_time == expected


@pytest.mark.parametrize(
    ("period", "expected"),
    [("Jahr", "year"), ("monatlich", "month"), ("Stundenlohn", "hour"), ("", None),
     ("mtl.", "month"), ("Mon.", "month"), ("pro Monat", "month"), ("Monatsbrutto", "month"),
     ("Std.", "hour"), ("pro Stunde", "hour"), ("h", "hour"), ("p.a.", "year"), ("pro Jahr", "year")],
)
def test_salary_periods(period, expected):
    header = "Stellen-ID;Titel;Gehalt von;Gehalt pro;PLZ;Ort"
    assert _one(f"J1;Job;2000;{period};66538;Neunkirchen", header).salary_period == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [("01.08.2026", dt.date(2026, 8, 1)), ("ab 01.08.2026", dt.date(2026, 8, 1)),
     ("zum 2026-08-01", dt.date(2026, 8, 1)), ("sofort", None), ("Ab sofort", None), ("", None),
     ("nach Vereinbarung", None), ("zum nächstmöglichen Zeitpunkt", None), ("baldmöglichst", None),
     ("ab sofort möglich", None), ("schnellstmöglich", None), ("ab dem 01.08.2026", dt.date(2026, 8, 1)),
     ("n.V.", None), ("-", None)],
)
def test_start(start, expected):
    job = _one(f"J1;Job;{start};66538;Neunkirchen", "Stellen-ID;Titel;Beginn;PLZ;Ort")
    assert job.start_date == expected


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [("30.04.2027", dt.date(2027, 4, 30)), ("bis 30.04.2027", dt.date(2027, 4, 30)),
     ("bis zum 30.04.2027", dt.date(2027, 4, 30)), ("spätestens 30.04.2027", dt.date(2027, 4, 30)),
     ("keine Frist", None), ("fortlaufend", None), ("laufend", None), ("k.A.", None),
     ("asap", None), ("ab sofort", None)],
)
def test_deadline(deadline, expected):
    job = _one(f"J1;Job;{deadline};66538;Neunkirchen", "Stellen-ID;Titel;Bewerbungsfrist;PLZ;Ort")
    assert job.valid_through == expected


@pytest.mark.parametrize(
    ("arbeitszeit", "expected"),
    [("Voll- oder Teilzeit", ["full_time", "part_time"]), ("Vollzeit oder Teilzeit", ["full_time", "part_time"]),
     ("Voll-/Teilzeit", ["full_time", "part_time"]), ("VZ/TZ", ["full_time", "part_time"]),
     ("Wechselschicht", ["shift"]), ("Früh-/Spätschicht", ["shift"]),
     ("flexible Arbeitszeiten", ["flexible"]),
     # weekly hours: full time from 35 on; the hours of the day say no kind
     ("39 Std./Woche", ["full_time"]), ("40 h", ["full_time"]), ("20-30 Std.", ["part_time"]),
     ("15 Wochenstunden", ["part_time"]), ("30-40 Std./Woche", ["part_time", "full_time"]),
     ("Teilzeit (20 Std./Woche)", ["part_time"]), ("Schicht, 38,5 Stunden pro Woche", ["shift", "full_time"]),
     ("Vollzeit, Mo-Fr 7:30 - 16:00 Uhr", ["full_time"]), ("Mo-Fr 8-16 Uhr", []),
     ("geringfügig", ["mini"]),
     # the hours beside a word, without a comma between
     ("Teilzeit 20h", ["part_time"]), ("Vollzeit 38,5 Std.", ["full_time"]),
     ("20 Std. Teilzeit", ["part_time"]), ("Schichtdienst 40 Std.", ["shift", "full_time"]),
     ("Teilzeit vormittags", ["part_time"]), ("Vollzeit Vormittag", ["full_time"])],
)
def test_working_times_as_postings_shorten_them(arbeitszeit, expected):
    job = _one(f"J1;Job;{arbeitszeit};66538;Neunkirchen", "Stellen-ID;Titel;Arbeitszeit;PLZ;Ort")
    assert [time.value for time in job.working_time] == expected


@pytest.mark.parametrize(
    ("art", "expected"),
    [("Aushilfe", "employee"), ("Zeitarbeit", "employee"), ("duale Ausbildung", "apprenticeship"),
     ("geringfügig", "mini_job"), ("Pflichtpraktikum", "internship"),
     ("450-Euro-Job", "mini_job"), ("auf 538-Euro-Basis", "mini_job"), ("duales Studium", "apprenticeship"),
     ("Leiharbeit", "employee"), ("Saisonarbeit", "employee"), ("Ferienjob", "employee"),
     ("Praktikum (Pflicht)", "internship"), ("Ausbildung (m/w/d)", "apprenticeship"),
     ("Bundesfreiwilligendienst", "other"), ("FSJ", "other"), ("Ehrenamt", "other")],
)
def test_kinds_of_employment_as_postings_name_them(art, expected):
    job = _one(f"J1;Job;{art};66538;Neunkirchen", "Stellen-ID;Titel;Art;PLZ;Ort")
    assert job.employment_type.value == expected


def test_a_line_break_in_a_list_cell_separates_its_items():
    """Alt+Enter in an Excel cell: 'Vollzeit' and 'Schicht' on two lines are two working times."""
    job = _one('J1;Job;"Vollzeit\r\nSchicht";66538;Neunkirchen', "Stellen-ID;Titel;Arbeitszeit;PLZ;Ort")
    assert [time.value for time in job.working_time] == ["full_time", "shift"]


@pytest.mark.parametrize(
    ("befristung", "expected"),
    [("unbefristet", "permanent"), ("befristet", "fixed_term"),
     ("befristet auf 2 Jahre", "fixed_term"), ("Befristet (12 Monate)", "fixed_term"),
     ("unbefristet nach Probezeit", "permanent"), ("befristete Stelle", "fixed_term"),
     ("Unbefristeter Vertrag", "permanent")],
)
def test_contract_durations(befristung, expected):
    job = _one(f"J1;Job;{befristung};66538;Neunkirchen", "Stellen-ID;Titel;Befristung;PLZ;Ort")
    assert job.contract_duration == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [("B1", "B1"), ("B1-B2", "B1"), ("B2/C1", "B2"), ("Niveau A2 bis B1", "A2"), ("keine", None)],
)
def test_a_range_of_german_levels_asks_for_its_lowest(level, expected):
    job = _one(f"J1;Job;{level};66538;Neunkirchen", "Stellen-ID;Titel;Deutschkenntnisse;PLZ;Ort")
    assert job.german_level == expected


@pytest.mark.parametrize(
    ("von", "bis", "expected"),
    [("ab 2.500 €", "", (2500, None)), ("ca. 2.400", "bis 2.900", (2400, 2900))],
)
def test_salary_with_a_word_before_the_amount(von, bis, expected):
    job = _one(f"J1;Job;{von};{bis};66538;Neunkirchen",
               "Stellen-ID;Titel;Gehalt von;Gehalt bis;PLZ;Ort")
    assert (job.salary_min, job.salary_max) == expected


@pytest.mark.parametrize(
    ("pay", "amount"),
    [("2.500 € VB", 2500), ("3.000 € nach Tarif", 3000), ("2.500 €, VB", 2500),
     ("ab 2.800 € oder nach Vereinbarung", 2800)],
)
def test_an_amount_before_pay_words_is_the_salary(pay, amount):
    """The amount counts, the words after it do not silence it (and no warning)."""
    header = "Stellen-ID;Titel;Gehalt von;PLZ;Ort"
    assert _one(f"J1;Koch;{pay};66538;Neunkirchen", header).salary_min == amount


@pytest.mark.parametrize(
    ("von", "bis", "pro", "expected"),
    [("14,50 €/Std.", "", "", (14.5, None, "hour")),
     ("14,50 € pro Stunde", "16 € pro Stunde", "", (14.5, 16, "hour")),
     ("45.000 € p.a.", "", "", (45000, None, "year")),
     ("2.500 € brutto/Monat", "", "", (2500, None, "month")),
     ("3.000 € mtl. brutto", "", "", (3000, None, "month")),
     ("3000-3500", "", "Monat", (3000, 3500, "month")),
     ("", "3.000 € bis 3.500 €", "", (3000, 3500, None)),
     ("2.500,- – 3.000,-", "", "", (2500, 3000, None)),
     ("14,50 €/Std.", "", "Monat", (14.5, None, "month"))],
)
def test_pay_as_postings_write_it(von, bis, pro, expected):
    """An hourly wage names its period after the amount ('14,50 €/Std.', where minimum-wage
    jobs state it so); Gehalt pro, where given, counts. A range in one cell gives both ends."""
    job = _one(f"J1;Job;{von};{bis};{pro};66538;Neunkirchen",
               "Stellen-ID;Titel;Gehalt von;Gehalt bis;Gehalt pro;PLZ;Ort")
    assert (job.salary_min, job.salary_max, job.salary_period) == expected


@pytest.mark.parametrize(
    ("von", "expected"),
    [("2.800 € lt. TVöD", (2800, None, None)), ("14,50 €/Std. nach Tarif", (14.5, None, "hour")),
     ("3.000 €/Monat nach Tarif", (3000, None, "month")), ("12,82 € (Mindestlohn)", (12.82, None, None)),
     ("2.450 € + Zulagen", (2450, None, None)), ("2.450 € zzgl. Zuschläge", (2450, None, None)),
     ("mind. 2.450 €", (2450, None, None)), ("45.000 € pa", (45000, None, "year")),
     ("14,50 € Stundenlohn", (14.5, None, "hour")), ("zwischen 3.000 und 3.500 €", (3000, 3500, None))],
)
def test_an_amount_with_words_around_it_is_the_salary(von, expected):
    job = _one(f"J1;Job;{von};66538;Neunkirchen", "Stellen-ID;Titel;Gehalt von;PLZ;Ort")
    assert (job.salary_min, job.salary_max, job.salary_period) == expected


@pytest.mark.parametrize(
    ("befristung", "expected"),
    [("zunächst befristet", "fixed_term"), ("auf 1 Jahr befristet", "fixed_term"), ("befr.", "fixed_term"),
     ("nicht befristet", "permanent"), ("keine Befristung", "permanent"), ("Festanstellung", "permanent"),
     ("Option auf Übernahme", "fixed_term"), ("12 Monate", "fixed_term"), ("für 2 Jahre", "fixed_term"),
     ("Elternzeitvertretung", "fixed_term"), ("saisonal", "fixed_term"),
     ("unbefristet, Übernahme aus der Ausbildung", "permanent")],
)
def test_contract_duration_in_words(befristung, expected):
    job = _one(f"J1;Job;{befristung};66538;Neunkirchen", "Stellen-ID;Titel;Befristung;PLZ;Ort")
    assert job.contract_duration.value == expected


@pytest.mark.parametrize(
    ("homeoffice", "expected"),
    [("mobiles Arbeiten", True), ("hybrid", True), ("remote", True), ("2 Tage pro Woche", True),
     ("nicht möglich", False), ("vor Ort", False), ("kein Homeoffice", False),
     ("nach Absprache", True), ("nach Vereinbarung", True)],
)
def test_home_office_in_words(homeoffice, expected):
    job = _one(f"J1;Job;{homeoffice};66538;Neunkirchen", "Stellen-ID;Titel;Homeoffice;PLZ;Ort")
    assert job.remote_possible is expected


@pytest.mark.parametrize("deutsch", ["nein", "nicht notwendig", "keine", "nicht erforderlich"])
def test_no_german_asked_for_publishes_no_level_and_no_warning(deutsch):
    job = _one(f"J1;Job;{deutsch};66538;Neunkirchen", "Stellen-ID;Titel;Deutschkenntnisse;PLZ;Ort")
    assert job.german_level is None


def test_minimum_wage_in_words_publishes_no_salary_and_says_so():
    result = parse(_csv("J1;Job;Mindestlohn;66538;Neunkirchen", header="Stellen-ID;Titel;Gehalt von;PLZ;Ort"),
                   PARTNER)
    assert [j.salary_min for j in result.records] == [None]
    assert [(r.rule, r.value) for r in result.rejections] == [("JOB_SALARY_IN_WORDS", "Mindestlohn")]


@pytest.mark.parametrize(("von", "bis"), [
    ("3500", ""), ("14,50", ""), ("", "3.000 €"), ("2.800", "3.200"), ("3.000-3.500", "")])
def test_an_amount_without_its_period_is_published_as_written_with_a_warning(von, bis):
    """No period is guessed: the employer is told to fill in Gehalt pro. The report's row
    names that column with what it holds, nothing (not the amount of Gehalt von, which read
    as if it had been written under Gehalt pro)."""
    header = "Stellen-ID;Titel;Gehalt von;Gehalt bis;Gehalt pro;PLZ;Ort"
    result = parse(_csv(f"J1;Koch;{von};{bis};;66538;Neunkirchen", header=header).decode()
                   .encode("cp1252"), PARTNER)
    (job,) = result.records
    assert job.salary_period is None and (job.salary_min or job.salary_max)
    assert [(r.rule, r.severity, r.field, r.value, r.line) for r in result.rejections] == [
        ("JOB_SALARY_PERIOD_MISSING", "warning", "salary_period", None, 2)]
    report = build_report(SimpleNamespace(id="p", name="Koch GmbH"), "jobs",
                          {"started_at": dt.datetime(2026, 11, 3, 9, tzinfo=dt.timezone.utc),
                           "status": "ok", "items": 1, "accepted": 1},
                          result.rejections, "de", trial=True, fmt="csv-jobs")
    (note,) = report.warnings
    assert (note.field_label, note.value, note.message, note.hint) == (
        "Gehalt pro", None,
        "Beim Gehalt steht nicht, ob der Betrag pro Stunde, Monat oder Jahr gilt; die Stelle "
        "wird mit dem Betrag, aber ohne Zeitraum veröffentlicht.",
        "Tragen Sie in 'Gehalt pro' ein, wofür der Betrag gilt: Stunde, Monat oder Jahr.")
    (_, row) = csv.reader(io.StringIO(render_csv(report).decode("utf-8-sig")), delimiter=";")
    assert row[4:6] == ["Gehalt pro", ""]  # the report's columns Feld and Wert


@pytest.mark.parametrize(("von", "pro"), [("3500", "Monat"), ("14,50 €/Std.", ""), ("nach Tarif", ""),
                                          ("", "")])
def test_an_amount_with_its_period_or_none_is_no_period_warning(von, pro):
    header = "Stellen-ID;Titel;Gehalt von;Gehalt pro;PLZ;Ort"
    result = parse(_csv(f"J1;Koch;{von};{pro};66538;Neunkirchen", header=header), PARTNER)
    assert "JOB_SALARY_PERIOD_MISSING" not in [r.rule for r in result.rejections]


def test_a_range_beside_another_amount_is_still_an_error():
    header = "Stellen-ID;Titel;Gehalt von;Gehalt bis;PLZ;Ort"
    result = parse(_csv("J1;Job;3000-3500;4000;66538;Neunkirchen", header=header), PARTNER)
    assert result.records == []
    assert [(r.rule, r.field, r.value) for r in result.rejections] == [
        ("RECORD_FIELD_INVALID", "salary_min", "3000-3500")]


def test_pay_in_words_publishes_the_posting_without_a_salary_and_says_so():
    """'nach Tarif' is a statement, not a typo: the posting is published, the partner learns
    that its pay shows nowhere; a value that is neither stays an error."""
    header = "Stellen-ID;Titel;Gehalt von;Gehalt bis;Bewerbungsfrist;PLZ;Ort"
    result = parse(_csv("J1;Pflegekraft;nach Tarif (TVöD);;laufend;66538;Neunkirchen",
                        "J2;Koch;VB;nach Vereinbarung;;66538;Neunkirchen",
                        "J3;Maler;2.3OO;;;66538;Neunkirchen", header=header), PARTNER)
    assert {j.source_id: (j.salary_min, j.salary_max, j.valid_through) for j in result.records} == {
        "J1": (None, None, None), "J2": (None, None, None)}
    assert [(r.source_id, r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("J1", "JOB_SALARY_IN_WORDS", "warning", "salary_min", "nach Tarif (TVöD)"),
        ("J2", "JOB_SALARY_IN_WORDS", "warning", "salary_min", "VB"),
        ("J2", "JOB_SALARY_IN_WORDS", "warning", "salary_max", "nach Vereinbarung"),
        ("J3", "RECORD_FIELD_INVALID", "error", "salary_min", "2.3OO"),
    ]


def test_pay_per_week_or_day_publishes_the_posting_without_a_salary_and_says_so():
    """'Gehalt pro: Woche' rejected the posting (an invalid period); the directory shows pay
    per hour, month or year, so the posting is published without it and the partner told,
    as schema.org's unitText WEEK is."""
    header = "Stellen-ID;Titel;Gehalt von;Gehalt bis;Gehalt pro;PLZ;Ort"
    result = parse(_csv("J1;Aushilfe;500;;Woche;66538;Neunkirchen",
                        "J2;Messebau;110;130;Tag;66538;Neunkirchen",
                        "J3;Erntehelfer;120 € pro Tag;;;66538;Neunkirchen",
                        "J4;Koch;;;Woche;66538;Neunkirchen",
                        "J5;Maler;14,50;;Stunde;66538;Neunkirchen", header=header), PARTNER)
    assert {j.source_id: (j.salary_min, j.salary_max, j.salary_period) for j in result.records} == {
        "J1": (None, None, None), "J2": (None, None, None), "J3": (None, None, None),
        "J4": (None, None, None), "J5": (14.5, None, "hour")}
    assert [(r.source_id, r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("J1", "JOB_SALARY_PERIOD_NOT_PUBLISHED", "warning", "salary_period", "Woche"),
        ("J2", "JOB_SALARY_PERIOD_NOT_PUBLISHED", "warning", "salary_period", "Tag"),
        ("J3", "JOB_SALARY_PERIOD_NOT_PUBLISHED", "warning", "salary_min", "120 € pro Tag"),
    ]


def test_missing_required_cells_name_the_field():
    result = parse(_csv(" ; ;;;Lager", header=HEADER + ";Beschreibung"), PARTNER)
    assert result.records == []
    assert {(r.rule, r.field) for r in result.rejections} == {
        ("RECORD_FIELD_MISSING", "source_id"),
        ("RECORD_FIELD_MISSING", "title"),
        ("RECORD_FIELD_MISSING", "address.postal_code"),
        ("RECORD_FIELD_MISSING", "address.city"),
    }


def test_excel_separator_hint_and_crlf():
    data = b"sep=,\r\nStellen-ID,Titel,PLZ,Ort\r\nJ1,Koch; Beikoch,66538,Neunkirchen\r\n"
    (job,) = parse(data, PARTNER).records
    assert job.title == "Koch; Beikoch"


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a job CSV: the input is empty"),
        (b"\xef\xbb\xbf\r\n", "empty"),
        (b"Stellen-ID;Titel\nJ1;Job\n", "required column.*PLZ, Ort"),
        (
            "Kurs-ID;Titel;Kursart;PLZ;Ort\n".encode(),
            r"not a job CSV: required column\(s\) missing: Stellen-ID$",
        ),
        (b'{"ergebnisliste": []}', "required column.*Stellen-ID, Titel, PLZ, Ort"),
        (b"\xff\xfe" + "Stellen-ID;Titel".encode("utf-16-le")[:-1], "UTF-16 text that breaks off"),
        (b"Stellen-ID;Titel;PLZ;Ort\n\x81\x8d", "neither UTF-8 nor Windows-1252"),
        (b"sep=;\n", "no header"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


# --------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_format_error(data):
    parse_or_refuse(parse, data, PARTNER)


@settings(max_examples=300, deadline=None)
@given(
    rows=csv_rows(
        ["66538", "Neunkirchen", "Minijob", "Vollzeit, Schicht", "B1", "B3", "keine", "3.100,00",
         "Monat", "Woche", "sofort", "ab 01.08.2026", "31.02.2026", "teilweise", "www.x.example",
         "Am Zoo 5a"]
    ),
    delimiter=DELIMITERS,
    encoding=ENCODINGS,
)
def test_template_shaped_input_only_raises_format_error(rows, delimiter, encoding):
    columns = ["Stellen-ID", "Titel", "Art", "Arbeitszeit", "Deutschkenntnisse", "Gehalt von",
               "Gehalt pro", "Beginn", "PLZ", "Ort"]
    parse_or_refuse(parse, template_csv(columns, rows, delimiter, encoding), PARTNER)


@pytest.mark.parametrize(
    ("art", "arbeitszeit", "employment", "working"),
    [("Vollzeit", "", EmploymentType.EMPLOYEE, [WorkingTime.FULL_TIME]),
     ("Vollzeit", "Schicht", EmploymentType.EMPLOYEE, [WorkingTime.FULL_TIME, WorkingTime.SHIFT]),
     ("Teilzeit / Minijob", "", EmploymentType.MINI_JOB, [WorkingTime.PART_TIME, WorkingTime.MINI])],
)
def test_a_working_time_in_the_art_column_is_read_as_one(art, arbeitszeit, employment, working):
    """Job boards name the kind of position 'Vollzeit': written into Art, it is an
    employment with that working time, not an unknown Art."""
    job = _one(f"J1;Job;{art};{arbeitszeit};66538;Neunkirchen", "Stellen-ID;Titel;Art;Arbeitszeit;PLZ;Ort")
    assert (job.employment_type, job.working_time) == (employment, working)


def test_art_minijob_with_arbeitszeit_empty_is_a_mini_job_working_time():
    job = _one("J1;Aushilfe;66538;Neunkirchen;Minijob;", header=HEADER + ";Art;Arbeitszeit")
    assert job.employment_type == EmploymentType.MINI_JOB
    assert job.working_time == [WorkingTime.MINI]


def test_a_start_month_without_its_day_is_published_with_a_warning():
    result = parse("Stellen-ID;Titel;Beginn;PLZ;Ort\nJ1;Job;ab März 2028;66538;Neunkirchen\n".encode(),
                   "firma-x")
    assert [r.start_date for r in result.records] == [dt.date(2028, 3, 1)]
    assert [(r.rule, r.severity, r.value) for r in result.rejections] == [
        ("DATE_MONTH_ONLY", "warning", "ab März 2028")]


@pytest.mark.parametrize(("frist", "last_day"), [("Ende März 2028", dt.date(2028, 3, 31)),
                                                 ("bis Ende Februar 2028", dt.date(2028, 2, 29)),
                                                 ("03/2028", dt.date(2028, 3, 31))])
def test_a_deadline_month_without_its_day_is_its_last_day_with_a_warning(frist, last_day):
    result = parse(f"Stellen-ID;Titel;Bewerbungsfrist;PLZ;Ort\nJ1;Job;{frist};66538;Neunkirchen\n".encode(),
                   "firma-x")
    assert [r.valid_through for r in result.records] == [last_day]
    assert [(r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("DEADLINE_MONTH_ONLY", "warning", "valid_through", frist)]


@pytest.mark.parametrize(
    ("kenntnisse", "level", "warned"),
    [("B2 erforderlich", CEFRLevel.B2, False), ("mindestens B1", CEFRLevel.B1, False),
     ("A2 (besser B1)", CEFRLevel.A2, False), ("gute Deutschkenntnisse", None, True),
     ("Grundkenntnisse", None, True), ("verhandlungssicher", None, True),
     ("fließend in Wort und Schrift", None, True), ("keine", None, False),
     ("Keine Deutschkenntnisse nötig, Englisch reicht", None, False),
     ("Deutsch nicht erforderlich", None, False), ("no German required", None, False),
     # a level of another language is not German's: it was published as German B1
     ("keine, Englisch B1", None, False), ("Deutsch A2, Englisch C1", CEFRLevel.A2, False)],
)
def test_german_skills_in_words(kenntnisse, level, warned):
    """A level among words is that level; German described without one publishes the
    posting without a level and tells the employer which to give; a cell saying no German is
    needed is published as such (german_required false), without a warning."""
    result = parse(f"Stellen-ID;Titel;Deutschkenntnisse;PLZ;Ort\nJ1;Job;{kenntnisse};66538;Neunkirchen\n"
                   .encode(), "firma-x")
    assert [r.german_level for r in result.records] == [level]
    assert [r.german_required for r in result.records] == [level is not None or warned]
    assert [(r.rule, r.severity, r.value) for r in result.rejections] == (
        [("JOB_GERMAN_LEVEL_IN_WORDS", "warning", kenntnisse)] if warned else [])


def test_german_skills_that_say_nothing_of_german_still_reject():
    result = parse("Stellen-ID;Titel;Deutschkenntnisse;PLZ;Ort\nJ1;Job;ja;66538;Neunkirchen\n".encode(),
                   "firma-x")
    assert result.records == []
    assert [(r.rule, r.value) for r in result.rejections] == [("COURSE_LEVEL_INVALID", "ja")]


@pytest.mark.parametrize("written", ["March 1, 2027", "Mar. 1st, 2027", "1 March 2027", "1. März 2027",
                                     "Monday, March 1, 2027"])
def test_a_date_with_its_month_named_in_english_is_read(written):
    """An employer's English spreadsheet writes 'March 1, 2027': the month is named, so the
    day is not in doubt (all-digit '03/01/2027' stays day first)."""
    header = "Stellen-ID;Titel;Beginn;Bewerbungsfrist;PLZ;Ort"
    data = _csv(f'J1;Koch;"{written}";"{written.replace("1", "31", 1)}";66538;Neunkirchen',
                header=header).decode().encode("cp1252")
    result = parse(data, PARTNER)
    assert result.rejections == []
    (job,) = result.records
    assert (job.start_date, job.valid_through) == (dt.date(2027, 3, 1), dt.date(2027, 3, 31))
