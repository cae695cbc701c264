"""The feedback report without a database: building it from a sync and its rejections,
and the HTML, CSV and JSON a partner receives."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import typing

import jsonschema
import lxml.html
import pytest
from pydantic import BaseModel

from hub.models import CourseOffer, HousingVacancy, JobPosting
from hub.quality import report as rp
from hub.quality.report import FeedbackReport, build_report, render_csv, render_html, render_json, render_text
from hub.quality.rules import RULES, reject
from hub.registry import Partner
from tests.conftest import ROOT

PARTNER = Partner(id="jobcenter-nk", name="Jobcenter Landkreis Neunkirchen", kind="jobcenter",
                  contact_email="it@jobcenter-nk.example",
                  feeds=[{"format": "ba-jobsuche", "source": "https://jc.example/feed.json"}])
DELIVERED = dt.datetime(2026, 11, 3, 8, 15)  # naive, as SQLite hands it back: UTC


def sync_row(**overrides) -> dict:
    row = {"id": 42, "started_at": DELIVERED, "status": "ok", "items": 123, "accepted": 120,
           "rejected": 3, "added": 5, "changed": 2, "withdrawn": 1, "message": None}
    row.update(overrides)
    return row


def problems() -> list:
    """Three rejected postings (one with two problems) and two flagged ones, in feed order."""
    common = {"partner_id": "jobcenter-nk", "domain": "jobs"}
    warning = reject("RECORD_FIELD_INVALID", source_id="J-9", field="address.city", value="Neunkirchn",
                     title="Koch (m/w/d)", **common).model_copy(update={"severity": "warning"})
    return [
        reject("ADDRESS_POSTAL_CODE_INVALID", source_id="J-2", field="address.postal_code",
               value="6653", title="Busfahrer (m/w/d)", **common),
        warning,
        reject("RECORD_FIELD_MISSING", source_id="J-4", field="title", **common),
        reject("ADDRESS_POSTAL_CODE_INVALID", source_id="J-5", field="address.postal_code",
               value="=HYPERLINK(\"http://evil.example\")", title="+49 Erzieher <b>(m/w/d)</b>", **common),
        reject("RECORD_FIELD_MISSING", source_id="J-2", field="address.city",
               title="Busfahrer (m/w/d)", **common),
        reject("RECORD_FIELD_INVALID", source_id="J-11", field="url", value="-ftp:x",
               title="Erzieher (m/w/d)", **common).model_copy(update={"severity": "warning"}),
    ]


@pytest.fixture(params=["de", "en"])
def lang(request):
    return request.param


def test_report_counts_and_headline_in_german():
    report = build_report(PARTNER, "jobs", sync_row(), problems(), "de")
    assert report.partner_id == "jobcenter-nk" and report.partner_name == PARTNER.name
    assert report.sync_id == 42 and report.status == "ok" and report.lang == "de"
    assert report.delivered_at == dt.datetime(2026, 11, 3, 8, 15, tzinfo=dt.timezone.utc)
    c = report.counts
    assert (c.items, c.accepted, c.rejected, c.added, c.changed, c.withdrawn) == (123, 120, 3, 5, 2, 1)
    assert c.warnings == 2  # J-9 and J-11: published, flagged
    assert report.headline == "Ihre Lieferung vom 03.11.2026: 120 Angebote angenommen, 3 abgelehnt, 2 mit Hinweisen."
    assert rp.subject(report) == ("Rückmeldung zu Ihrer Lieferung vom 03.11.2026: 3 Angebote abgelehnt, 2 mit Hinweisen "
                                  "(Stellenangebote)")


def test_report_in_english():
    report = build_report(PARTNER, "jobs", sync_row(), problems(), "en")
    assert report.headline == "Your delivery of 3 November 2026: 120 offers accepted, 3 rejected, 2 with notes."
    assert rp.subject(report) == "Feedback on your delivery of 3 November 2026: 3 offers rejected, 2 with notes (job postings)"
    postal = next(p for p in report.problems if p.source_id == "J-2" and p.rule.startswith("ADDRESS"))
    # the label, with the field's name in the partner's format (a BA export)
    assert postal.field_label == "postal code (stellenlokationen.adresse.plz, v4: arbeitsort.plz)"
    assert postal.message == "The postal code '6653' is not a five-digit German postal code."
    missing = next(p for p in report.problems if p.source_id == "J-4")
    assert missing.message == "Required field 'title (stellenangebotsTitel, v4: titel)' is missing or empty."
    hint_en = getattr(RULES["RECORD_FIELD_MISSING"], "hint_en", None)
    if hint_en:  # the catalogue's English hint, with the English label
        assert missing.hint == hint_en.format(field=missing.field_label, value="")
        assert postal.hint == RULES["ADDRESS_POSTAL_CODE_INVALID"].hint_en.format(field=postal.field_label, value="6653")
    else:  # until the catalogue has English hints, the German one is kept
        assert missing.hint == "Tragen Sie einen Wert für 'title' ein."


def test_problems_errors_first_grouped_by_record_with_labels():
    report = build_report(PARTNER, "jobs", sync_row(), problems(), "de")
    order = [(p.source_id, p.field, p.severity) for p in report.problems]
    assert order == [
        ("J-2", "address.postal_code", "error"),
        ("J-2", "address.city", "error"),  # the record's problems together
        ("J-4", "title", "error"),
        ("J-5", "address.postal_code", "error"),
        ("J-9", "address.city", "warning"),
        ("J-11", "url", "warning"),
    ]
    labels = {p.field: p.field_label for p in report.problems}
    # as people know them, with the name in the partner's format (a BA export)
    assert labels == {"address.postal_code": "PLZ (stellenlokationen.adresse.plz, v4: arbeitsort.plz)",
                      "address.city": "Ort (stellenlokationen.adresse.ort, v4: arbeitsort.ort)",
                      "title": "Titel (stellenangebotsTitel, v4: titel)",
                      "url": "Link zum Angebot (externeURL, v4: externeUrl)"}
    missing = report.problems[2]
    # the catalogue's words with the field named so
    assert missing.message == "Pflichtfeld 'Titel (stellenangebotsTitel, v4: titel)' fehlt oder ist leer."
    assert missing.hint == "Tragen Sie einen Wert für 'Titel (stellenangebotsTitel, v4: titel)' ein."
    assert report.problems[0].hint.startswith("Geben Sie die PLZ mit fünf Ziffern an")
    rules = [(r.code, r.severity, r.count) for r in report.rules]
    assert rules == [("ADDRESS_POSTAL_CODE_INVALID", "error", 2), ("RECORD_FIELD_MISSING", "error", 2),
                     ("RECORD_FIELD_INVALID", "warning", 2)]
    assert report.rules[0].message == "Die Postleitzahl '…' ist keine fünfstellige deutsche PLZ."


def test_labels_depend_on_domain_and_unknown_fields_stay():
    assert rp.field_label("start_date", "jobs", "de") == "Eintrittsdatum"
    assert rp.field_label("start_date", "courses", "de") == "Kursbeginn"
    assert rp.field_label("start_date", "courses", "en") == "course start"
    assert rp.field_label("address.postal_code", "housing", "en") == "postal code"
    assert rp.field_label("warm_rent", "housing", "de") == "Warmmiete"
    assert rp.field_label("something.new", "jobs", "de") == "something.new"
    assert rp.field_label(None, "jobs", "de") is None


def _model_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    names = set()
    for name, info in model.model_fields.items():
        names.add(prefix + name)
        for arg in [info.annotation, *typing.get_args(info.annotation)]:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= _model_fields(arg, f"{prefix}{name}.")
    return names


@pytest.mark.parametrize("model", [JobPosting, CourseOffer, HousingVacancy])
def test_every_record_field_has_a_label(model):
    missing = sorted(f for f in _model_fields(model) if f not in rp.FIELD_LABELS)
    assert missing == [], f"add German/English labels to hub/quality/report.py FIELD_LABELS: {missing}"


def test_html_summary_first_then_problem_rows(lang):
    report = build_report(PARTNER, "jobs", sync_row(), problems(), lang)
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in page
    t = rp.TEXTS[lang]
    headline_at = page.index(report.headline)
    errors_at = page.index(t["errors_title"])
    warnings_at = page.index(t["warnings_title"])
    assert headline_at < errors_at < warnings_at  # summary first, errors before warnings
    for p in report.problems:
        assert p.source_id in page
    assert page.index("J-2") < page.index("J-4") < page.index("J-5") < page.index("J-9")
    assert ("PLZ" if lang == "de" else "postal code") in page
    assert (">6653<") in page
    assert t["col_fix"] in page and report.problems[0].hint in page
    assert PARTNER.name in page
    assert ("09:15 Uhr" if lang == "de" else "09:15 CET") in page  # local (Berlin) time, zone in English
    assert "5 neu, 2 geändert, 1 nicht mehr enthalten" in page if lang == "de" else "5 new, 2 changed" in page


def test_html_escapes_partner_data():
    report = build_report(PARTNER, "jobs", sync_row(), problems(), "de")
    page = render_html(report)
    assert "<b>(m/w/d)</b>" not in page
    assert "&lt;b&gt;(m/w/d)&lt;/b&gt;" in page


def test_clean_delivery_gets_a_short_confirmation(lang):
    row = sync_row(items=120, accepted=120, rejected=0)
    report = build_report(PARTNER, "jobs", row, [], lang)
    assert report.clean and report.rules == [] and report.problems == []
    page = render_html(report)
    assert rp.TEXTS[lang]["clean"] in page
    assert rp.TEXTS[lang]["errors_title"] not in page and rp.TEXTS[lang]["overview"] not in page
    if lang == "de":
        assert report.headline == "Ihre Lieferung vom 03.11.2026: alle 120 Angebote angenommen."
        assert rp.subject(report) == "Rückmeldung zu Ihrer Lieferung vom 03.11.2026: alle 120 Angebote angenommen (Stellenangebote)"
    else:
        assert report.headline == "Your delivery of 3 November 2026: all 120 offers accepted."


def test_warnings_only_delivery():
    flagged = [p for p in problems() if p.severity == "warning"]
    report = build_report(PARTNER, "jobs", sync_row(rejected=0, accepted=123), flagged, "de")
    assert report.counts.warnings == 2 and report.errors == []
    assert report.headline == "Ihre Lieferung vom 03.11.2026: 123 Angebote angenommen, 2 mit Hinweisen."
    assert rp.subject(report) == "Rückmeldung zu Ihrer Lieferung vom 03.11.2026: 2 Angebote mit Hinweisen (Stellenangebote)"
    page = render_html(report)
    assert rp.TEXTS["de"]["warnings_title"] in page and rp.TEXTS["de"]["errors_title"] not in page
    assert rp.TEXTS["de"]["todo"] not in page


def test_failed_delivery_explains_and_keeps_the_last_good_state(lang):
    row = sync_row(status="failed", items=0, accepted=0, rejected=0, added=0, changed=0, withdrawn=0,
                   message="jobcenter-nk/jobs: invalid JSON (Expecting value: line 1 column 1)")
    report = build_report(PARTNER, "jobs", row, [], lang)
    page = render_html(report)
    t = rp.TEXTS[lang]
    for key in ("failed_title", "failed_what", "failed_keep", "failed_todo"):
        assert t[key] in page
    assert "invalid JSON" in page  # the technical detail, for the partner's IT
    text = render_text(report)
    assert t["failed_keep"] in text
    if lang == "de":
        # the system's English line is announced as such, for the partner's IT
        assert "Die Meldung des Systems (auf Englisch, für Ihre IT-Betreuung): jobcenter-nk" in text
        assert "Technische Angabe" not in page + text
        assert "letzten guten Stand" in report.headline
        assert rp.subject(report) == "Ihre Lieferung vom 03.11.2026 konnte nicht verarbeitet werden (Stellenangebote)"


def test_empty_feed_is_named_as_such():
    row = sync_row(status="failed", items=0, accepted=0, rejected=0,
                   message="p/jobs: the feed is empty; the directory keeps the 5 records of the last good sync")
    page = render_html(build_report(PARTNER, "jobs", row, [], "de"))
    assert "Die Lieferung enthielt keine Angebote." in page


def test_held_delivery_says_how_many_would_go(lang):
    row = sync_row(status="held", items=0, accepted=0, rejected=0, message=(
        "held: this delivery would withdraw 30 of 40 published records (75%); the directory "
        "keeps the last good state until a steward releases the sync (hub release PARTNER)"))
    report = build_report(PARTNER, "jobs", row, [], lang)
    page = render_html(report)
    assert "hub release" not in page  # the steward's command is not the partner's business
    if lang == "de":
        assert "würde 30 von 40 veröffentlichten Angeboten" in page
        assert "Stand Ihrer letzten erfolgreichen Lieferung" in page
    else:
        assert "would take 30 of 40 published offers" in page
        assert "last successful delivery" in page


def test_held_for_rejections_says_how_many_were_rejected():
    row = sync_row(status="held", items=20, accepted=8, rejected=12, message=(
        "held: 12 of the 20 records of this delivery were rejected (60%); the directory keeps "
        "the last good state until a steward releases the sync (hub release PARTNER)"))
    page = render_html(build_report(PARTNER, "jobs", row, [], "en"))
    assert "12 of the 20 offers in this delivery were rejected" in page
    assert "does not replace a good one" in page


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_csv_one_row_per_problem_with_language_headers(lang):
    report = build_report(PARTNER, "jobs", sync_row(), problems(), lang)
    rows = _csv_rows(render_csv(report))
    if lang == "de":
        assert rows[0] == ["Kennung", "Zeile", "Titel", "Art", "Feld", "Wert", "Was ist falsch",
                           "So beheben Sie es", "Code (für Rückfragen)",
                           "Feldname im System (für Ihre IT-Betreuung)"]
        # a BA posting has no line in a file: the cell stays empty
        assert rows[1] == ["J-2", "", "Busfahrer (m/w/d)", "Fehler", "PLZ (stellenlokationen.adresse.plz, v4: arbeitsort.plz)", "6653",
                           "Die Postleitzahl '6653' ist keine fünfstellige deutsche PLZ.",
                           report.problems[0].hint, "ADDRESS_POSTAL_CODE_INVALID", "address.postal_code"]
    else:
        assert rows[0][:6] == ["Record id", "Line", "Title", "Type", "Field", "Value"]
        assert rows[1][3:6] == ["error", "postal code (stellenlokationen.adresse.plz, v4: arbeitsort.plz)", "6653"]
    assert len(rows) == 1 + len(report.problems)
    assert [r[0] for r in rows[1:]] == [p.source_id for p in report.problems]


def test_csv_cells_cannot_run_as_formulas():
    report = build_report(PARTNER, "jobs", sync_row(), problems(), "de")
    rows = _csv_rows(render_csv(report))
    j5 = next(r for r in rows if r[0] == "J-5")
    assert j5[2] == "'+49 Erzieher <b>(m/w/d)</b>"
    assert j5[5] == "'=HYPERLINK(\"http://evil.example\")"
    j11 = next(r for r in rows if r[0] == "J-11")
    assert j11[5] == "'-ftp:x"
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert rp.csv_cell("@SUM(A1)") == "'@SUM(A1)" and rp.csv_cell("66538") == "66538"
    # a negative rent is shown as the partner wrote it: a number is no formula
    assert rp.csv_cell("-5") == "-5" and rp.csv_cell("-5,50") == "-5,50"
    assert rp.csv_cell("-5+A1") == "'-5+A1"
    assert rp.csv_cell(None) == ""


def test_json_is_the_model_and_validates_against_the_published_schema(lang):
    schema = json.loads((ROOT / "schemas" / "feedback_report.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for row, rows in ((sync_row(), problems()), (sync_row(status="held", message="held"), [])):
        report = build_report(PARTNER, "jobs", row, rows, lang)
        document = json.loads(render_json(report))
        validator.validate(document)
        assert FeedbackReport.model_validate(document) == report
    bad = json.loads(render_json(build_report(PARTNER, "jobs", sync_row(), problems(), lang)))
    bad["status"] = "maybe"
    assert not validator.is_valid(bad)


def test_schema_file_is_generated_with_the_record_schemas():
    from hub.models import schema_files

    assert "feedback_report.schema.json" in schema_files.schema_documents()
    assert "feedback_report.schema.json" not in schema_files.drifted(ROOT / "schemas")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language"):
        build_report(PARTNER, "jobs", sync_row(), [], "fr")


def test_long_lists_are_cut_in_the_mail_body_but_not_in_the_csv():
    many = [reject("ADDRESS_POSTAL_CODE_INVALID", partner_id="p", domain="jobs", source_id=f"J-{n}",
                   field="address.postal_code", value="123") for n in range(30)]
    report = build_report(PARTNER, "jobs", sync_row(rejected=30), many, "de")
    page = render_html(report, limit=10)
    assert "J-9<" in page and "J-10<" not in page
    assert "… und 20 weitere Probleme; alle stehen in der Tabelle (CSV)." in page
    assert "(30 Angebote)" in page  # the heading counts offers
    assert len(_csv_rows(render_csv(report))) == 31
    assert "J-29<" in render_html(report)
    assert "… und 1 weiteres Problem;" in render_html(report, limit=29)
    # what is left out are problems, which the heading does not count: a second problem of
    # one offer makes 31 rows for 30 offers
    twice = [*many, reject("JOB_SALARY_RANGE_INVERTED", partner_id="p", domain="jobs", source_id="J-0",
                           field="salary_min", value="3000.0 > 2000.0")]
    report = build_report(PARTNER, "jobs", sync_row(rejected=30), twice, "en")
    page = render_html(report, limit=10)
    assert "(30 offers)" in page and "… and 21 more problems; the table (CSV) lists them all." in page


def test_german_reports_write_numbers_days_and_periods_as_german_readers_do():
    found = [
        reject("JOB_SALARY_RANGE_INVERTED", partner_id="p", domain="jobs", source_id="J-1",
               field="salary_min", value="3000.0 > 2000.0"),
        reject("JOB_SALARY_IMPLAUSIBLE", partner_id="p", domain="jobs", source_id="J-2",
               field="salary_min", value="2.5 / hour"),
        reject("JOB_EXPIRED", partner_id="p", domain="jobs", source_id="J-3", field="valid_through",
               value="2026-10-30"),
    ]
    german = build_report(PARTNER, "jobs", sync_row(rejected=3), found, "de")
    messages = {p.source_id: (p.message, p.value) for p in german.problems}
    assert "(3000 > 2000)" in messages["J-1"][0] and messages["J-1"][1] == "3000 > 2000"
    assert "2,5 / Stunde" in messages["J-2"][0]
    assert messages["J-3"][1] == "30.10.2026"
    english = build_report(PARTNER, "jobs", sync_row(rejected=3), found, "en")
    assert {p.source_id: p.value for p in english.problems}["J-1"] == "3000.0 > 2000.0"


@pytest.mark.parametrize("lang, inverted, per_hour, rent, per_sqm", [
    ("de", "3.500 € > 3.000 €", "2,50 € / Stunde", "1.100 € < 1.200,50 €", "214,05 €/m²"),
    ("en", "3,500 € > 3,000 €", "2.50 € / hour", "1,100 € < 1,200.50 €", "214.05 €/m²"),
])
def test_amounts_the_checks_show_read_as_the_partner_writes_them(lang, inverted, per_hour, rent,
                                                                 per_sqm):
    """Amounts in euro with their thousands marked and cents in full, in the reader's way."""
    found = [reject(code, partner_id="p", domain=domain, source_id=f"X-{at}", field=field,
                    value=value)
             for at, (code, domain, field, value) in enumerate([
                 ("JOB_SALARY_RANGE_INVERTED", "jobs", "salary_min", "3500 € > 3000 €"),
                 ("JOB_SALARY_IMPLAUSIBLE", "jobs", "salary_min", "2.5 € / hour"),
                 ("HOUSING_RENT_INCONSISTENT", "housing", "warm_rent", "1100 € < 1200.5 €"),
                 ("HOUSING_RENT_PER_SQM_IMPLAUSIBLE", "housing", "cold_rent", "214.05 €/m²")])]
    report = build_report(PARTNER, "jobs", sync_row(rejected=2), found, lang)
    shown = {p.source_id: p.value for p in report.problems}
    assert [shown[f"X-{at}"] for at in range(4)] == [inverted, per_hour, rent, per_sqm]


@pytest.mark.parametrize("lang, rent, rooms, rent_hint", [
    ("de", "-1.200,50 €", "-2,5", "nicht negativ"), ("en", "-1,200.50 €", "-2.5", "cannot be negative")])
def test_a_number_the_partner_sent_that_the_model_refused_reads_as_written(lang, rent, rooms, rent_hint):
    """'-50' in a rent cell was shown as '-50.0' (the number read from it)."""
    data = ("Wohnungs-ID;Titel;PLZ;Ort;Kaltmiete;Zimmer;Wohnflaeche\n"
            "W1;Wohnung;66538;Neunkirchen;-50;2;50\n"
            "W2;Wohnung;66538;Neunkirchen;-1.200,50;-2,5;50\n").encode("cp1252")
    from hub.formats.csv_housing import parse as parse_housing

    rejections = parse_housing(data, "p").rejections
    report = build_report(PARTNER, "housing", sync_row(rejected=2), rejections, lang, fmt="csv-housing")
    shown = sorted((p.source_id, p.field, p.value) for p in report.problems)
    assert shown == [("W1", "cold_rent", "-50 €"), ("W2", "cold_rent", rent), ("W2", "rooms", rooms)]
    first = next(p for p in report.problems if p.source_id == "W1")
    assert rent_hint in first.hint and "-50 €" in first.message
    assert ".0" not in render_text(report)


def test_a_value_the_partner_sent_is_shown_as_sent():
    found = [reject("RECORD_FIELD_INVALID", partner_id="p", domain="jobs", source_id="J-1",
                    field="salary_min", value="2.800,00"),
             reject("RECORD_FIELD_INVALID", partner_id="p", domain="jobs", source_id="J-2",
                    field="valid_through", value="2027-02-31")]
    report = build_report(PARTNER, "jobs", sync_row(rejected=2), found, "de")
    shown = {p.source_id: (p.value, p.message) for p in report.problems}
    assert shown["J-1"] == ("2.800,00", "Feld 'Gehalt von (gehaltsspanneVon)' hat einen ungültigen Wert: 2.800,00")
    assert shown["J-2"][0] == "2027-02-31"  # not turned into a German day that does not exist


@pytest.mark.parametrize("fmt, field, shown", [
    ("ba-jobsuche", "salary_min", "Gehalt von (gehaltsspanneVon)"),
    ("openimmo", "floor", "Etage (geo/etage)"),
    ("schemaorg-jobposting", "valid_through", "Gültig bis (validThrough)"),
    ("csv-jobs", "salary_min", "Gehalt von"),  # a CSV template's column is the label
])
def test_fields_are_named_as_the_partners_format_names_them(fmt, field, shown):
    found = [reject("RECORD_FIELD_INVALID", partner_id="p", domain="jobs", source_id="J-1",
                    field=field, value="x")]
    report = build_report(PARTNER, "jobs", sync_row(rejected=1), found, "de", fmt=fmt)
    assert report.problems[0].message == f"Feld '{shown}' hat einen ungültigen Wert: x"


def test_an_english_report_names_a_csv_column_after_the_english_label():
    found = [reject("RECORD_FIELD_INVALID", partner_id="p", domain="jobs", source_id="J-1",
                    field="salary_min", value="x")]
    report = build_report(PARTNER, "jobs", sync_row(rejected=1), found, "en", fmt="csv-jobs")
    assert report.problems[0].field_label == "salary from (Gehalt von)"


def test_an_invalid_date_from_a_machine_format_gets_the_standards_form(lang):
    """A JSON feed (BA course search) writes dates as ISO 8601: its hint says that form, not
    the CSV templates' TT.MM.JJJJ."""
    found = [reject("RECORD_FIELD_INVALID", partner_id="p", domain="courses", source_id="C-1",
                    field="start_date", value="2027-02-30")]
    machine = build_report(PARTNER, "courses", sync_row(rejected=1), found, lang, fmt="ba-courses")
    template = build_report(PARTNER, "courses", sync_row(rejected=1), found, lang, fmt="csv-courses")
    assert ("JJJJ-MM-TT" if lang == "de" else "YYYY-MM-DD") in machine.problems[0].hint
    assert ("TT.MM.JJJJ" if lang == "de" else "DD.MM.YYYY") in template.problems[0].hint


def test_an_invalid_date_or_amount_gets_a_hint_that_says_how_to_write_it(lang):
    found = [reject("RECORD_FIELD_INVALID", partner_id="p", domain="jobs", source_id="J-1",
                    field="valid_through", value="01.08.27"),
             reject("RECORD_FIELD_INVALID", partner_id="p", domain="jobs", source_id="J-2",
                    field="salary_min", value="auf Anfrage"),
             reject("RECORD_FIELD_INVALID", partner_id="p", domain="jobs", source_id="J-3",
                    field="occupation", value="?")]
    hints = [p.hint for p in build_report(PARTNER, "jobs", sync_row(rejected=3), found, lang,
                                          fmt="csv-jobs").problems]
    if lang == "de":
        assert "TT.MM.JJJJ mit vierstelligem Jahr" in hints[0]
        assert "Betrag in Euro" in hints[1]
        assert hints[2] == "Prüfen Sie Schreibweise und Format des Werts."
    else:
        assert "DD.MM.YYYY with a four-digit year" in hints[0]
        assert "amount in euro" in hints[1]


def test_the_german_hint_for_a_date_and_time_shows_the_german_form_only():
    found = [reject("RECORD_FIELD_INVALID", partner_id="p", domain="jobs", source_id="J-1",
                    field="updated_at", value="gestern 14 Uhr")]
    (problem,) = build_report(PARTNER, "jobs", sync_row(rejected=1), found, "de", fmt="csv-jobs").problems
    assert problem.hint == ("Schreiben Sie das Datum als TT.MM.JJJJ, mit Uhrzeit als TT.MM.JJJJ "
                            "HH:MM (z. B. 01.08.2027 09:30).")


def test_an_invalid_key_number_storey_or_answer_gets_a_hint_that_says_how_to_write_it(lang):
    fields = [("address.municipality_key", "1004311"), ("rooms", "viele"), ("seats", "einige"),
              ("floor", "oben"), ("barrier_free", "vielleicht")]
    found = [reject("RECORD_FIELD_INVALID", partner_id="p", domain="housing", source_id=f"W-{at}",
                    field=field, value=value) for at, (field, value) in enumerate(fields)]
    hints = [p.hint for p in build_report(PARTNER, "housing", sync_row(rejected=5), found, lang).problems]
    expected = (["acht Ziffern", "eine Zahl", "ganze Zahl", "0 für das Erdgeschoss", "ja oder nein"]
                if lang == "de" else
                ["eight digits", "a number", "whole number", "0 for the ground floor", "ja (yes)"])
    assert [said in hint for said, hint in zip(expected, hints)] == [True] * 5, hints


def test_an_unknown_column_is_a_note_on_the_file_not_an_offer_with_notes():
    found = [reject("CSV_COLUMN_UNKNOWN", partner_id="p", domain="courses", value="Interne Notiz",
                    line=1)]
    report = build_report(PARTNER, "courses", sync_row(items=1, accepted=1, rejected=0), found,
                          "de", trial=True, fmt="csv-courses")
    assert report.counts.warnings == 0 and report.warnings == []
    assert report.headline == "Prüfung vom 03.11.2026: 1 Angebot würde angenommen."
    page, text = render_html(report), rp.render_text(report)
    for rendered in (page, text):
        assert "Hinweise zur Datei" in rendered
        assert "Die Spalte &#39;Interne Notiz&#39;" in rendered or "Die Spalte 'Interne Notiz'" in rendered
        assert rp.texts(report)["warnings_title"] not in rendered


def test_the_history_of_deliveries_speaks_the_partners_words_not_the_stewards():
    held = ("held: 12 of the 15 records of this delivery were rejected (80%); the directory keeps "
            "the last good state until a steward releases the sync (hub release stadt-nk)")
    german = rp.status_line("held", held, "de")
    assert german.startswith("In dieser Lieferung wurden 12 von 15 Angeboten abgelehnt")
    assert "hub release" not in german
    failed = "stadt-nk/housing: not a housing CSV: required column(s) missing: Wohnungs-ID, PLZ"
    assert rp.status_line("failed", failed, "de") == "Es fehlen Pflichtspalten: Wohnungs-ID, PLZ."
    assert rp.status_line("failed", failed, "en") == "Required columns are missing: Wohnungs-ID, PLZ."
    assert rp.status_line("ok", None, "de") is None


def test_an_unreadable_item_is_described_in_german():
    found = [reject("RECORD_UNREADABLE", partner_id="p", domain="jobs",
                    value="ergebnisliste[2] is a number, not an object"),
             reject("RECORD_UNREADABLE", partner_id="p", domain="jobs",
                    value="JSON-LD block 1 of 3: invalid JSON at line 4 column 7: Expecting ','"),
             reject("RECORD_UNREADABLE", partner_id="p", domain="jobs",
                    value="JSON-LD block 2 of 3: invalid JSON at line 40 column 2 of the page: "
                          "Expecting ','")]
    german = build_report(PARTNER, "jobs", sync_row(rejected=2), found, "de")
    assert [p.message for p in german.problems] == [
        "Der Eintrag ist nicht lesbar: ergebnisliste[2] ist eine Zahl, kein Objekt",
        "Der Eintrag ist nicht lesbar: JSON-LD-Block 1 von 3: kein gültiges JSON (Zeile 4, Spalte 7)",
        "Der Eintrag ist nicht lesbar: JSON-LD-Block 2 von 3: kein gültiges JSON (Zeile 40, "
        "Spalte 2 der Seite)"]
    english = build_report(PARTNER, "jobs", sync_row(rejected=2), found, "en")
    assert english.problems[0].value == "ergebnisliste[2] is a number, not an object"


def test_one_offer_is_not_all_of_one(lang):
    live = build_report(PARTNER, "jobs", sync_row(items=1, accepted=1, rejected=0), [], lang)
    trial = build_report(PARTNER, "jobs", sync_row(items=1, accepted=1, rejected=0), [], lang,
                         trial=True)
    if lang == "de":
        assert live.headline == "Ihre Lieferung vom 03.11.2026: 1 Angebot angenommen."
        assert trial.headline == "Prüfung vom 03.11.2026: 1 Angebot würde angenommen."
    else:
        assert live.headline == "Your delivery of 3 November 2026: 1 offer accepted."
        assert trial.headline == "Check of 3 November 2026: 1 offer would be accepted."


@pytest.mark.parametrize("message, german, english", [
    ("not a course CSV: required column(s) missing: Kurs-ID, PLZ",
     "Es fehlen Pflichtspalten: Kurs-ID, PLZ.", "Required columns are missing: Kurs-ID, PLZ."),
    ('line 4: a quote (") opens a cell that runs on to line 9 and takes in the rows between',
     "In Zeile 4 öffnet ein Anführungszeichen", "In line 4 a quote"),
    ("invalid JSON at line 1 column 50: Unterminated string starting at",
     "kein gültiges JSON (Zeile 1, Spalte 50)", "not valid JSON (line 1, column 50)"),
    # the format's name after 'not' takes no article ('a XML file' was the English before)
    ("not an OpenImmo document: the file is a saved web page (HTML, title 'Login'), not XML; use",
     "mit dem Titel &#39;Login&#39;, keine XML-Datei.", "titled &#39;Login&#39;, not the XML export."),
    ("HTML page without JSON-LD: it marks up schema.org JobPosting as Microdata "
     "or RDFa (itemtype, typeof), which the hub does not read; add the offers as JSON-LD",
     "Die Webseite enthält ihre Angebote als schema.org-Microdata oder -RDFa (JobPosting)",
     "The web page holds its offers as schema.org Microdata or RDFa (JobPosting)"),
    ("no schema.org JobPosting found (the input has: BreadcrumbList); skipped: JSON-LD block 2 "
     "of 2: invalid JSON at line 6 column 2 of the page: Expecting ',' delimiter",
     "Die Seite enthält kein lesbares JobPosting: der JSON-LD-Block 2 von 2 ist kein gültiges "
     "JSON (Zeile 6, Spalte 2 der Seite)",
     "The page holds no readable JobPosting: JSON-LD block 2 of 2 is not valid JSON (line 6, "
     "column 2 of the page)"),
    ("not a job CSV: the file is a web page (HTML), not CSV; check",
     "Die Datei ist eine Webseite (HTML), keine CSV-Datei.", "The file is a web page (HTML), not the CSV export."),
])
def test_an_unusable_delivery_says_why_in_the_partners_language(message, german, english):
    for lang, expected in (("de", german), ("en", english)):
        report = build_report(PARTNER, "courses", sync_row(status="failed", message=message), [], lang)
        page = render_html(report)
        assert expected in page
        assert message.split(":")[0] in page  # the technical line stays, for the partner's IT


def _field_cells(page: str) -> list[str]:
    """The 'Feld' cell (the third) of each problem row of a report page, as text."""
    import html
    import re

    rows = re.findall(r'<tr class="(?:error|warning)-row">\s*<td>.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>',
                      page, re.DOTALL)
    return [html.unescape(re.sub(r"<br>", " | ", re.sub(r"<(?!br>)[^>]*>", "", cell))) for cell in rows]


@pytest.mark.parametrize(("fmt", "lang", "cells"), [
    # a CSV template: the partner's column, not the hub's 'address.postal_code' in grey
    ("csv-jobs", "de", ["PLZ", "Gehalt von", "Koordinaten | Feld im Verzeichnis: geo",
                        "Feld im Verzeichnis: something.new"]),
    ("csv-jobs", "en", ["postal code (PLZ)", "salary from (Gehalt von)",
                        "coordinates | field in the directory: geo",
                        "field in the directory: something.new"]),
    # a machine format: its key where the adapter knows it, else the hub's name, said to be one
    ("ba-jobsuche", "de", ["PLZ (stellenlokationen.adresse.plz, v4: arbeitsort.plz)",
                           "Gehalt von (gehaltsspanneVon)",
                           "Koordinaten (stellenlokationen.breite/laenge, v4: arbeitsort.koordinaten)",
                           "Feld im Verzeichnis: something.new"]),
    ("schemaorg-jobposting", "de", ["PLZ (jobLocation.address.postalCode)",
                                    "Gehalt von (baseSalary (minValue / value))",
                                    "Koordinaten | Feld im Verzeichnis: geo",
                                    "Feld im Verzeichnis: something.new"]),
])
def test_the_page_names_a_field_as_the_partner_knows_it(fmt, lang, cells):
    """Each problem's field showed the hub's internal name in grey beside the label
    ('address.postal_code' under 'PLZ'), a name the partner's file never uses."""
    common = {"partner_id": "p", "domain": "jobs", "source_id": "J-1"}
    found = [reject("ADDRESS_POSTAL_CODE_INVALID", field="address.postal_code", value="6653", **common),
             reject("RECORD_FIELD_INVALID", field="salary_min", value="x", **common),
             reject("RECORD_FIELD_INVALID", field="geo", value="x", **common),
             reject("RECORD_FIELD_INVALID", field="something.new", value="x", **common)]
    report = build_report(PARTNER, "jobs", sync_row(rejected=1), found, lang, fmt=fmt)
    assert _field_cells(render_html(report)) == cells


# --------------------------------------------------------------------------- tips


def _course_school(fmt: str = "csv-courses") -> Partner:
    return Partner(id="vhs-nk", name="VHS Neunkirchen", kind="language_school",
                   feeds=[{"format": fmt, "source": "https://vhs.example/kurse.csv"}])


def test_fields_people_search_by_get_a_tip_when_most_offers_leave_them_out(lang):
    """The accepted offers' field coverage (syncs.field_coverage): a field newcomers and
    portals search by, filled in fewer than half of them, gets a tip naming the partner's
    column and why it matters; one filled in half or more gets none."""
    row = sync_row(items=10, accepted=10, rejected=0,
                   field_coverage={"cefr_levels": 1.0, "start_date": 0.5, "childcare": 0.2})
    report = build_report(_course_school(), "courses", row, [], lang)
    assert [(tip.field, tip.filled) for tip in report.tips] == [("childcare", 0.2)]
    tip = report.tips[0]
    assert tip.field_label == ("Kinderbetreuung" if lang == "de" else "childcare (Kinderbetreuung)")
    assert ("Kinderbetreuung" if lang == "de" else "childcare") in tip.message
    page = render_html(report)
    assert (rp.TEXTS[lang]["tips_title"] in page
            and ("20 %" if lang == "de" else "20%") in page and tip.message in page)
    assert tip.message in render_text(report)
    assert json.loads(render_json(report))["tips"][0]["field"] == "childcare"


def test_no_tip_to_give_a_date_or_sofort_to_a_landlord_that_wrote_sofort():
    """A housing company whose every flat said <verfuegbar_ab>sofort</verfuegbar_ab> was told
    'Frei ab' was filled in 0 % of its offers: give a date or 'sofort'. The words fill
    available_from_text, not the date; they answer the question as a date does."""
    landlord = Partner(id="wbg-a", name="WBG A", kind="housing_company",
                       feeds=[{"format": "openimmo", "source": "https://wbg.example/openimmo.xml"}])
    said = sync_row(items=10, accepted=10, rejected=0, field_coverage={
        "rooms": 1.0, "wbs_required": 1.0, "available_from_text": 1.0})
    assert build_report(landlord, "housing", said, [], "de").tips == []
    silent = sync_row(items=10, accepted=10, rejected=0, field_coverage={
        "rooms": 1.0, "wbs_required": 1.0, "available_from_text": 0.3, "available_from": 0.1})
    assert [(tip.field, tip.filled) for tip in build_report(landlord, "housing", silent, [], "de").tips] == [
        ("available_from", 0.3)]


def test_no_tip_for_a_field_the_format_has_no_place_for_nor_for_a_delivery_that_failed():
    """BA Jobsuche responses have no field for the German a job asks for (and the report has
    no name of theirs for the working-time flags): no tip a Jobcenter could not act on; a
    delivery that was not processed gets none."""
    row = sync_row(field_coverage={"working_time": 0.1, "german_required": 0.0})
    assert build_report(PARTNER, "jobs", row, [], "de").tips == []
    employer = Partner(id="firma-x", name="Firma X", kind="employer",
                       feeds=[{"format": "csv-jobs", "source": "https://firma.example/jobs.csv"}])
    assert [tip.field for tip in build_report(employer, "jobs", row, [], "de").tips] == [
        "german_required", "working_time"]
    failed = sync_row(status="failed", message="not a course CSV", field_coverage={"childcare": 0.0})
    assert build_report(_course_school(), "courses", failed, [], "de").tips == []
    assert build_report(_course_school(), "courses", sync_row(field_coverage=None), [], "de").tips == []
def test_a_rejected_offers_warnings_stand_with_it_not_among_the_published(lang):
    """A row rejected for its postal code with a warning on its deadline was listed under 'Hinweise
    – würden veröffentlicht' too, and a second row with the same id (rejected as a duplicate)
    was not counted: the headings said '2 Angebote' abgelehnt where 3 rows were, and '3
    Angebote' with notes where the headline said 1."""
    common = {"partner_id": "arbeitgeber", "domain": "jobs"}
    rows = [
        reject("ADDRESS_POSTAL_CODE_INVALID", source_id="A1", field="address.postal_code", value="6653",
               title="Verkäufer (m/w/d)", line=2, **common),
        reject("DEADLINE_MONTH_ONLY", source_id="A1", field="valid_through", value="Ende Mai 2027",
               title="Verkäufer (m/w/d)", line=2, **common),
        reject("RECORD_ID_DUPLICATE", source_id="B7", field="source_id", value="B7",
               title="Koch (m/w/d)", line=5, **common),
        reject("CHANGED_AT_UNREADABLE", source_id="B7", field="updated_at", value="gestern",
               title="Koch (m/w/d)", line=3, **common),
    ]
    assert [r.severity for r in rows] == ["error", "warning", "error", "warning"]
    row = sync_row(items=3, accepted=1, rejected=2, added=1, changed=0, withdrawn=0)
    report = build_report(PARTNER, "jobs", row, rows, lang)
    assert report.counts.warnings == 1  # B7 on line 3, accepted; its duplicate on line 5 rejected
    t = rp.texts(report)
    text = lxml.html.fromstring(render_html(report)).text_content()
    rejected = text[text.index(t["errors_title"]):text.index(t["warnings_title"])]
    flagged = text[text.index(t["warnings_title"]):]
    one, two = ("1 Angebot", "2 Angebote") if lang == "de" else ("1 offer", "2 offers")
    assert f"{t['errors_title']} ({two})" in rejected and f"{t['warnings_title']} ({one})" in flagged
    assert "Ende Mai 2027" in rejected and "Ende Mai 2027" not in flagged
    assert "gestern" in flagged and "gestern" not in rejected
    plain = render_text(report)
    assert f"{t['errors_title']} ({two})" in plain and f"{t['warnings_title']} ({one})" in plain
    sections = plain[plain.index(t["errors_title"]):]  # after the overview of the rules
    assert sections.index("Ende Mai 2027") < sections.index(t["warnings_title"]) < sections.index("gestern")


def test_an_unreadable_change_date_is_said_in_whole_german():
    """'das Angebot wird ohne veröffentlicht' left the clerk to guess without what."""
    flagged = reject("CHANGED_AT_UNREADABLE", source_id="A1", field="updated_at", value="gestern",
                     partner_id="arbeitgeber", domain="jobs", line=2)
    report = build_report(PARTNER, "jobs", sync_row(items=1, accepted=1, rejected=0), [flagged], "de")
    assert report.problems[0].message == ("Das Änderungsdatum 'gestern' ist kein Datum; das Angebot "
                                          "wird ohne Änderungsdatum veröffentlicht.")


def test_an_inverted_salary_range_says_which_amount_goes_where():
    """'Tauschen Sie die Werte von und bis.' read as a sentence missing its words."""
    inverted = reject("JOB_SALARY_RANGE_INVERTED", source_id="B1", field="salary_min", value="3.000 € > 2.000 €",
                      partner_id="arbeitgeber", domain="jobs", line=2)
    report = build_report(PARTNER, "jobs", sync_row(items=1, accepted=0, rejected=1), [inverted], "de")
    assert report.problems[0].hint == ("Tauschen Sie die beiden Beträge: der niedrigere ist das Gehalt "
                                       "'von', der höhere das Gehalt 'bis'.")
