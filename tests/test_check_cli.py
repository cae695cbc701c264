"""`hub check`: a partner tests a file before sending it; the report lands in --out."""

from __future__ import annotations

import gzip
import html
import io
import json

import pytest

from hub.formats import FORMATS, FormatError
from tests.conftest import FIXTURES, ROOT
from tests.test_cli import assert_one_line_error, hub


def test_clean_file_exits_0_with_a_report(tmp_path):
    proc = hub("check", "--format", "csv-courses", "schemas/csv/courses.example.csv", "--out", str(tmp_path),
               "--today", "2026-01-15")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["counts"]["rejected"] == 0 and report["problems"] == []
    assert (tmp_path / "report.html").read_text().count("<html") == 1


def test_file_with_defects_exits_1_and_lists_them(tmp_path):
    source = tmp_path / "kurse.csv"
    source.write_text(
        "Kurs-ID;Titel;Kursart;Sprachniveau;Beginn;Ende;PLZ;Ort\n"
        "K1;Integrationskurs;Integrationskurs;A1-B1;02.03.2027;30.10.2027;66538;Neunkirchen\n"
        "K2;Deutsch B3;Sprachkurs;B3;02.03.2027;30.10.2027;66538;Neunkirchen\n"
        "K3;Alpha-Kurs;Alphabetisierungskurs;A1;02.03.2027;30.10.2027;6653;Neunkirchen\n",
        encoding="utf-8")
    out = tmp_path / "out"
    proc = hub("check", "--format", "csv-courses", str(source), "--out", str(out), "--lang", "en",
               "--today", "2027-01-10")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "3 records, 1 accepted, 2 rejected" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["lang"] == "en"
    assert {(p["source_id"], p["rule"]) for p in report["problems"]} == {
        ("K2", "COURSE_LEVEL_INVALID"), ("K3", "ADDRESS_POSTAL_CODE_INVALID")}
    csv_rows = (out / "report.csv").read_bytes().decode("utf-8-sig").splitlines()
    assert len(csv_rows) == 3


def test_unusable_input_exits_2_and_still_explains(tmp_path):
    proc = hub("check", "--format", "openimmo", str(FIXTURES / "formats" / "courses_defects.csv"),
               "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "unusable: invalid XML" in proc.stderr and "Traceback" not in proc.stderr
    assert json.loads((tmp_path / "report.json").read_text())["status"] == "failed"


# a partner's web server answering with its login page (status 200) where the export should be
LOGIN_PAGE = ("\ufeff\n  <!DOCTYPE html>\n<html lang='de'><head><meta charset='utf-8'>"
              "<title>Anmeldung &ndash; Portal</title></head><body><form>Benutzer; Passwort, "
              "bitte</form></body></html>\n")


@pytest.mark.parametrize(("fmt", "stderr", "german"), [
    # a file checked: no server 'served' it, the page was saved in place of the export
    ("csv-jobs", "unusable: not a job CSV: the file is a saved web page (HTML, title 'Anmeldung – "
                 "Portal'), not CSV; often a login or error page saved in place of the export",
     "Die Datei ist eine gespeicherte Webseite (HTML) mit dem Titel 'Anmeldung – Portal', keine "
     "CSV-Datei. Oft ist das eine Anmelde- oder Fehlerseite, die statt des Exports gespeichert "
     "wurde"),
    ("schemaorg-jobposting", "unusable: HTML page without JSON-LD (title 'Anmeldung – Portal')",
     "Die Webseite mit dem Titel 'Anmeldung – Portal' enthält keine Angebote als schema.org-Daten"),
])
def test_a_web_page_where_the_file_should_be_is_named_as_such(tmp_path, fmt, stderr, german):
    """The page's lines read as a header row: the partner was told 'required column(s)
    missing: Stellen-ID, Titel, PLZ, Ort' of a file that holds no columns at all; a page
    without JSON-LD got the report's general 'incomplete, damaged or not in the agreed
    format'. A file is no page 'served in place of the data' (as a fetched feed's is)."""
    source = tmp_path / "stellen.csv"
    source.write_text(LOGIN_PAGE, encoding="utf-8")
    proc = hub("check", "--format", fmt, str(source), "--out", str(tmp_path / "out"))
    assert_one_line_error(proc, stderr)
    assert "column" not in proc.stderr
    assert german in html.unescape((tmp_path / "out" / "report.html").read_text())


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_every_format_names_a_web_page_and_its_title(name, encoding):
    """The JSON formats said 'invalid JSON at line 2 column 3: Expecting value', OpenImmo
    'Opening and ending tag mismatch: meta line 3 and head'; the schema.org formats read web
    pages and say that this one holds no JSON-LD, naming its title."""
    page = LOGIN_PAGE.replace("Portal", "Übersicht")
    if encoding == "cp1252":  # as a Windows server writes it: no BOM, its charset declared
        page = page.lstrip("\ufeff").replace("utf-8", "windows-1252")
    data = page.encode(encoding)
    fmt = FORMATS[name]
    inputs = [data, io.BytesIO(data)] if fmt.chunks else [data]  # the streamed readers too
    for given in inputs:
        with pytest.raises(FormatError) as error:
            fmt.parse(given, "p") if isinstance(given, bytes) else list(fmt.chunks(given, "p"))
        if name.startswith("schemaorg-"):
            assert str(error.value).startswith(
                "HTML page without JSON-LD (title 'Anmeldung – Übersicht'): no <script")
        else:
            kind = "CSV" if name.startswith("csv-") else "XML" if name == "openimmo" else "JSON"
            assert (f"the file is a web page (HTML, title 'Anmeldung – Übersicht'), not {kind}; "
                    "often a login or error page" in str(error.value))


# what partners save or upload in place of the export: a screenshot, a printout, the packed file
NOT_TEXT = {"a PNG image": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "a PDF document": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n",
            "a gzip archive (.gz)": gzip.compress(b"Stellen-ID;Titel;PLZ;Ort\nA-1;Koch;66538;Neunkirchen\n"),
            "a ZIP archive": b"PK\x03\x04\x14\x00\x00\x00\x00\x00" + bytes(40)}


@pytest.mark.parametrize("name", sorted(FORMATS))
@pytest.mark.parametrize("kind", sorted(NOT_TEXT))
def test_every_format_names_a_picture_a_printout_or_an_archive(name, kind):
    """A PNG given as a job CSV was 'required column(s) missing: Stellen-ID, Titel, PLZ, Ort'
    (its bytes read as Windows-1252), as OpenImmo 'invalid XML at line 1 column 1: Start tag
    expected', as JSON 'not UTF-8 text (byte 0)' or, for a ZIP whose first bytes read as UTF-8,
    'invalid JSON at line 1 column 1': none said what the file is or what to do."""
    fmt = FORMATS[name]
    expected = "CSV" if name.startswith("csv-") else "XML" if name == "openimmo" else "JSON"
    todo = ("unpack it and use the file inside" if "archive" in kind else
            "use the file your program exports, not a "
            + ("printout" if kind == "a PDF document" else "picture") + " of it")
    said = f": the file is {kind}, not {expected}; {todo}"
    if name.startswith("csv-") and kind == "a ZIP archive":  # what an .xlsx or .ods file is
        said = (": the file is a spreadsheet workbook (Excel or LibreOffice), not CSV; save it "
                "as 'CSV UTF-8' or 'CSV (Trennzeichen-getrennt)'")
    if name == "openimmo" and kind == "a ZIP archive":  # OpenImmo reads the XML file of a ZIP
        said = ": a ZIP archive that cannot be read (File is not a zip file)"
    data = NOT_TEXT[kind]
    for given in [data, io.BytesIO(data)] if fmt.chunks else [data]:  # the streamed readers too
        with pytest.raises(FormatError) as error:
            fmt.parse(given, "p") if isinstance(given, bytes) else list(fmt.chunks(given, "p"))
        assert str(error.value).endswith(said)


@pytest.mark.parametrize("name", sorted(n for n in FORMATS if not n.startswith("csv-") and n != "openimmo"))
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_json_document_saved_as_utf16_is_named_so(name, encoding):
    """JSON saved as 'Unicode' (Windows PowerShell's and Notepad's UTF-16) said 'not UTF-8
    text (byte 0)', and without a byte order mark (its zero bytes read as UTF-8) 'invalid JSON
    at line 1 column 2'."""
    data = '{"ergebnisliste": [], "maxErgebnisse": 0}'.encode(encoding)
    fmt = FORMATS[name]
    for given in [data, io.BytesIO(data)] if fmt.chunks else [data]:
        with pytest.raises(FormatError) as error:
            fmt.parse(given, "p") if isinstance(given, bytes) else list(fmt.chunks(given, "p"))
        assert str(error.value).endswith(": UTF-16 text, where JSON is read as UTF-8; save the file "
                                         "as UTF-8"), str(error.value)


def test_a_json_feed_not_in_utf8_is_not_told_to_save_as_csv(tmp_path):
    """The partner's report told a BA or schema.org JSON file in UTF-16 (or Windows-1252) to
    be saved as 'CSV UTF-8'."""
    for encoding in ("utf-16", "cp1252"):
        source = tmp_path / f"stellen-{encoding}.json"
        source.write_bytes('{"ergebnisliste": [], "titel": "Bäcker"}'.encode(encoding))
        out = tmp_path / encoding
        proc = hub("check", "--format", "ba-jobsuche", str(source), "--out", str(out))
        assert proc.returncode == 2, proc.stderr
        page = html.unescape((out / "report.html").read_text())
        assert "Die Datei ist nicht als UTF-8 gespeichert; exportieren oder speichern Sie sie als UTF-8." in page
        assert "CSV" not in page


def test_a_screenshot_checked_as_the_export_is_named_so_in_the_report(tmp_path):
    source = tmp_path / "stellen.csv"
    source.write_bytes(NOT_TEXT["a PNG image"])
    proc = hub("check", "--format", "csv-jobs", str(source), "--out", str(tmp_path / "out"))
    assert_one_line_error(proc, "unusable: not a job CSV: the file is a PNG image, not CSV; use the "
                                "file your program exports, not a picture of it")
    assert "column" not in proc.stderr
    assert ("Die Datei ist ein PNG-Bild, keine CSV-Datei; verwenden Sie die Datei, die Ihr Programm "
            "exportiert, kein Bild davon." in html.unescape((tmp_path / "out" / "report.html").read_text()))


def test_a_careers_page_with_a_doctype_is_still_read_for_its_json_ld():
    page = ('<!DOCTYPE html><html><head><title>Karriere</title><script type="application/ld+json">'
            '{"@context": "https://schema.org", "@type": "JobPosting", "identifier": "J-1", '
            '"title": "Pflegefachkraft (m/w/d)", "hiringOrganization": {"name": "Klinik"}, '
            '"jobLocation": {"address": {"postalCode": "66538", "addressLocality": "Neunkirchen"}}}'
            '</script></head><body></body></html>').encode()
    result = FORMATS["schemaorg-jobposting"].parse(page, "p")
    assert [record.source_id for record in result.records] == ["J-1"]


def test_rules_catalogue():
    proc = hub("rules", "--json")
    assert proc.returncode == 0
    rules = {r["code"]: r for r in json.loads(proc.stdout)}
    assert {"ADDRESS_POSTAL_CODE_INVALID", "HOUSING_RENT_INCONSISTENT", "JOB_EXPIRED"} <= set(rules)
    assert all(r["severity"] in ("error", "warning") and r["message_de"] and r["message_en"] for r in rules.values())


def test_a_report_that_cannot_be_written_is_a_usage_error_and_writes_nothing(tmp_path):
    example = "schemas/csv/courses.example.csv"
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    proc = hub("check", "--format", "csv-courses", example, "--out", str(a_file))
    assert proc.returncode == 2 and "not a folder" in proc.stderr and "internal error" not in proc.stderr
    blocked = tmp_path / "blocked"
    (blocked / "report.json").mkdir(parents=True)
    proc = hub("check", "--format", "csv-courses", example, "--out", str(blocked))
    assert proc.returncode == 2 and "report.json" in proc.stderr and "internal error" not in proc.stderr
    assert sorted(p.name for p in blocked.iterdir()) == ["report.json"]  # no half of a report


def test_reports_are_readable_by_others_as_the_umask_allows(tmp_path):
    import os

    mask = os.umask(0)
    os.umask(mask)  # the child process inherits it
    out = tmp_path / "out"
    hub("check", "--format", "csv-courses", "schemas/csv/courses.example.csv", "--out", str(out))
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o666 & ~mask}  # not 0o600


def test_bad_option_values_are_usage_errors(tmp_path):
    example = "schemas/csv/courses.example.csv"
    for args, fragment in [
        (("check", "--format", "csv-courses", example, "--out", str(tmp_path), "--region", "abc"),
         "'abc' is not an AGS prefix"),
        (("check", "--format", "csv-courses", example, "--out", str(tmp_path), "--region", "10034"),
         "'10034' lies in no district of Saarland (10); did you mean 10043 (Landkreis Neunkirchen) "
         "or 10044 (Landkreis Saarlouis)?"),
        (("check", "--format", "csv-courses", example, "--out", str(tmp_path), "--today", "2026-13-45"),
         "'2026-13-45' is not a day"),
        (("demo", "--today", "bogus"), "'bogus' is not a day"),
        # a day the checks cannot count from: 'internal error: ValueError: year 10004 is out of
        # range', and before 2000 a GX error of several thousand characters
        *((("check", "--format", "csv-courses", example, "--out", str(tmp_path / "out"), "--today", day),
           f"'{day}' is not a day the checks can take as today: give one from 2000-01-01 to 2999-12-31")
          for day in ("9999-12-31", "0001-01-01", "1999-12-31")),
        (("serve", "--port", "99999"), "'99999' is not a port"),
        (("keys", "create", "--name", "x", "--scope", "read", "--rate-limit", "99999999999999999999"),
         "--rate-limit must be 1 to 1,000,000"),
    ]:
        proc = hub(*args, env={"HUB_HOME": str(tmp_path / "home")})
        assert proc.returncode == 2, (args, proc.stderr)
        assert fragment in proc.stderr and "internal error" not in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "out").exists()


def test_a_database_file_that_is_not_a_database_is_one_line(tmp_path):
    garbage = tmp_path / "hub.db"
    garbage.write_bytes(bytes(range(256)) * 20)
    proc = hub("keys", "list", env={"HUB_DATABASE_URL": f"sqlite:///{garbage}", "HUB_HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"hub keys: error: cannot use the database sqlite:///{garbage}: file is not a database"]


def test_a_checked_file_is_reported_as_a_check_and_says_when_a_sync_would_hold_it(tmp_path):
    """hub check publishes nothing: its report makes no claim about the directory or an earlier
    delivery, and says when a delivery of the file would be held for its rejection share."""
    clean = tmp_path / "clean"
    assert hub("check", "--format", "csv-courses", "schemas/csv/courses.example.csv", "--out", str(clean)).returncode == 0
    report = json.loads((clean / "report.json").read_text())
    assert report["trial"] is True and "würden angenommen" in report["headline"]
    page = (clean / "report.html").read_text()
    assert "Sie können sie so liefern" in page
    assert "veröffentlicht" not in page and "letzten Lieferung" not in page

    source = tmp_path / "kurse.csv"
    rows = [f"G-{n};Deutschkurs {n};Sprachkurs;66538;Neunkirchen;B1" for n in range(4)]
    rows += [f"B-{n};Deutschkurs X{n};Sprachkurs;6653;Neunkirchen;B9" for n in range(12)]  # 2 problems each
    source.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "held"
    proc = hub("check", "--format", "csv-courses", str(source), "--out", str(out))
    assert proc.returncode == 1
    assert "16 records, 4 accepted, 12 rejected" in proc.stdout and "a sync would be held" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "held" and report["counts"]["rejected"] == 12
    page = (out / "report.html").read_text()
    assert "In dieser Datei würden 12 von 16 Angeboten abgelehnt" in page
    assert "Abgelehnt – würden nicht veröffentlicht (12 Angebote)" in page  # 24 rows, 12 offers


def test_the_report_names_fields_as_the_partners_format_does(tmp_path):
    """A CSV partner reads its own column names (Bewerbungsfrist, Kurs-ID), not the model's
    labels; an OpenImmo partner the element that lacks the id."""
    proc = hub("check", "--format", "csv-jobs", "schemas/csv/jobs.example.csv", "--out", str(tmp_path / "j"),
               "--today", "2029-01-01")
    assert proc.returncode == 1
    (problem,) = {p["field"]: p for p in json.loads((tmp_path / "j" / "report.json").read_text())["problems"]
                  if p["rule"] == "JOB_EXPIRED"}.values()
    assert problem["field_label"] == "Bewerbungsfrist" and "'Bewerbungsfrist'" in problem["hint"]
    source = tmp_path / "kurse.csv"
    source.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\n;Deutschkurs;Sprachkurs;66538;Neunkirchen\n", encoding="utf-8")
    hub("check", "--format", "csv-courses", str(source), "--out", str(tmp_path / "c"))
    (problem,) = json.loads((tmp_path / "c" / "report.json").read_text())["problems"]
    assert problem["field_label"] == "Kurs-ID" and "'Kurs-ID'" in problem["message"]
    import re

    xml = (FIXTURES / "formats" / "openimmo_voll_neunkirchen.xml").read_text(encoding="utf-8")
    no_id = tmp_path / "ohne-id.xml"
    no_id.write_text(re.sub(r"<objektnr_extern>[^<]*</objektnr_extern>", "", xml, count=1), encoding="utf-8")
    hub("check", "--format", "openimmo", str(no_id), "--out", str(tmp_path / "o"))
    problems = json.loads((tmp_path / "o" / "report.json").read_text())["problems"]
    assert [p["field_label"] for p in problems if p["field"] == "source_id"] == ["objektnr_extern"]


def test_options_that_would_be_ignored_or_empty_are_refused(tmp_path):
    example = "schemas/csv/courses.example.csv"
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    region: '10043'\n    feeds:\n"
                        "      - format: csv-courses\n        source: file:///dev/null\n")
    for args, fragment in [
        (("--registry", str(registry)), "--registry needs --partner"),
        (("--registry", str(registry), "--partner", "vhs-test", "--region", "10041"), "use one of them"),
        (("--out", ""), "--out is empty"),
    ]:
        out = () if "--out" in args else ("--out", str(tmp_path / "out"))
        proc = hub("check", "--format", "csv-courses", example, *out, *args)
        assert proc.returncode == 2 and fragment in proc.stderr, (args, proc.stderr)
    proc = hub("export", "--format", "ndjson", "--out", "", env={"HUB_HOME": str(tmp_path / "home")})
    assert proc.returncode == 2 and "--out is empty" in proc.stderr


def test_a_row_rejected_while_parsing_is_checked_for_its_other_problems_too(tmp_path):
    """A partner learns all of a row's problems in one report: a row whose childcare cell the
    template cannot read is also checked for its e-mail address and its dates."""
    source = tmp_path / "kurse.csv"
    source.write_text(
        "Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau;Beginn;Ende;Kinderbetreuung;E-Mail;Kontakt oeffentlich\n"
        "M-1;Deutschkurs A2;Sprachkurs;66538;Neunkirchen;A2;01.01.2028;30.10.2027;vielleicht;x(at)y;ja\n"
        "M-2;Deutschkurs B1;Sprachkurs;66538;Neunkirchen;B1;01.01.2028;30.10.2028;ja;kurse@vhs.example;ja\n",
        encoding="utf-8")
    out = tmp_path / "out"
    proc = hub("check", "--format", "csv-courses", str(source), "--out", str(out), "--today", "2027-06-01")
    assert proc.returncode == 1, proc.stderr
    assert "2 records, 1 accepted, 1 rejected" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert {(p["source_id"], p["rule"]) for p in report["problems"]} == {
        ("M-1", "RECORD_FIELD_INVALID"), ("M-1", "CONTACT_EMAIL_INVALID"), ("M-1", "COURSE_DATES_INCONSISTENT")}


def test_the_report_leads_the_partner_to_the_line_of_each_rejected_row(tmp_path):
    """Each problem names the line of the file its row starts on: a row without an id, a
    second row with an id that came before, a row the checks reject (an ended course) and
    one rejected while parsing. A description with a line break moves the rows after it
    down a line; the problems come in the order of the file."""
    source = tmp_path / "kurse.csv"
    source.write_text(
        "Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau;Beginn;Ende;Beschreibung\n"
        'K-1;Deutschkurs A2;Sprachkurs;66538;Neunkirchen;A2;01.01.2028;30.10.2028;"Vormittags,\n'
        'mit Kinderbetreuung"\n'
        "K-2;Deutschkurs B1;Sprachkurs;66538;Neunkirchen;B1;01.01.2027;30.03.2027;\n"
        ";Deutschkurs B2;Sprachkurs;66538;Neunkirchen;B2;01.01.2028;30.10.2028;\n"
        "K-1;Deutschkurs C1;Sprachkurs;66538;Neunkirchen;C1;01.01.2028;30.10.2028;\n"
        "K-5;Deutschkurs A1;Sprachkurs;6653;Neunkirchen;A1;01.01.2028;30.10.2028;\n",
        encoding="utf-8")
    out = tmp_path / "out"
    proc = hub("check", "--format", "csv-courses", str(source), "--out", str(out), "--today", "2027-06-01")
    assert proc.returncode == 1, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert [(p["line"], p["source_id"], p["rule"]) for p in report["problems"]] == [
        (4, "K-2", "COURSE_ENDED"),
        (5, None, "RECORD_FIELD_MISSING"),
        (6, "K-1", "RECORD_ID_DUPLICATE"),
        (7, "K-5", "ADDRESS_POSTAL_CODE_INVALID"),
    ]
    rows = [line.split(";") for line in (out / "report.csv").read_bytes().decode("utf-8-sig").splitlines()]
    assert rows[0][:2] == ["Kennung", "Zeile"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("K-2", "4"), ("", "5"), ("K-1", "6"), ("K-5", "7")]
    assert "Zeile 5" in (out / "report.html").read_text()


def test_the_summary_line_names_the_columns_it_did_not_read(tmp_path):
    """An unread column is values the partner meant to send: the one line a partner reads in
    the terminal says so, not only the report."""
    source = tmp_path / "kurse.csv"
    source.write_text(
        "Kurse der VHS Neunkirchen\n"
        "Kurs-ID;Titel;Kursart;PLZ;Ort;Preisx;Sonstiges\n"
        "M-1;Deutschkurs A2;Sprachkurs;66538;Neunkirchen;100;x\n", encoding="utf-8")
    proc = hub("check", "--format", "csv-courses", str(source), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert ("1 record, 1 accepted, 0 rejected, 0 with warnings; notes on the file: "
            "2 columns not read (Preisx, Sonstiges); the header is in line 2") in proc.stdout


def test_the_summary_line_names_one_column_not_read_in_the_singular(tmp_path):
    """'notes on the file: 1 column(s) not read (Bemerkung)': one column is one column."""
    source = tmp_path / "stellen.csv"
    source.write_text("Stellen-ID;Titel;PLZ;Ort;Bemerkung\nA1;Koch (m/w/d);66538;Neunkirchen;x\n",
                      encoding="utf-8")
    proc = hub("check", "--format", "csv-jobs", str(source), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(
        f"{source}: 1 record, 1 accepted, 0 rejected, 0 with warnings; notes on the file: "
        "1 column not read (Bemerkung)\n"), proc.stdout


def test_the_summary_line_names_a_column_passed_over_for_another_of_its_meaning(tmp_path):
    source = tmp_path / "kurse.csv"
    source.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort;Telefon;Telefonnummer\n"
                      "M-1;Deutschkurs A2;Sprachkurs;66538;Neunkirchen;06821 1;06821 2\n",
                      encoding="utf-8")
    proc = hub("check", "--format", "csv-courses", str(source), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert ("notes on the file: column G 'Telefonnummer' not read (column F 'Telefon' is read "
            "instead)") in proc.stdout


def test_a_file_without_offers_is_not_clean(tmp_path):
    """An export that lost its rows is what an empty file usually is: a sync would change
    nothing with it, so the check does not say it is fine to deliver."""
    source = tmp_path / "kurse.csv"
    source.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = hub("check", "--format", "csv-courses", str(source), "--out", str(out))
    assert proc.returncode == 2, proc.stdout
    assert "no offers in the file" in proc.stderr
    assert "Eine leere Lieferung nimmt keine Angebote aus dem Verzeichnis" in (out / "report.html").read_text()


def test_an_unknown_word_is_answered_with_the_words_the_template_reads(tmp_path):
    source = tmp_path / "stellen.csv"
    source.write_text("Stellen-ID;Titel;PLZ;Ort;Art;Arbeitszeit\n"
                      "J1;Lagerhelfer (m/w/d);66538;Neunkirchen;Lagerhalle;Kurzarbeit\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = hub("check", "--format", "csv-jobs", str(source), "--out", str(out))
    assert proc.returncode == 1, proc.stderr
    hints = {p["field_label"]: p["hint"] for p in json.loads((out / "report.json").read_text())["problems"]}
    assert hints["Art"] == ("Schreiben Sie eines dieser Wörter: Arbeit, Ausbildung, Praktikum, Minijob, "
                            "Selbststaendig, Sonstiges.")
    assert hints["Arbeitszeit"].startswith("Schreiben Sie eines oder mehrere dieser Wörter, mit Komma "
                                           "getrennt: Vollzeit, Teilzeit")


def test_a_file_checked_against_the_wrong_template_names_the_one_it_fits(tmp_path):
    source = tmp_path / "kurse.csv"
    source.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nK1;Deutsch A1;Sprachkurs;66538;Neunkirchen\n",
                      encoding="utf-8")
    out = tmp_path / "out"
    proc = hub("check", "--format", "csv-jobs", str(source), "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("the file reads as csv-courses (use --format csv-courses)")
    assert ("Die Datei passt nicht zu dieser Vorlage, aber zur Vorlage für Kursangebote"
            in (out / "report.html").read_text())


def test_the_summary_line_counts_the_records_a_delta_delivery_deletes(tmp_path):
    source = tmp_path / "teil.xml"
    source.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<openimmo><uebertragung umfang="TEIL"/>'
        "<anbieter><firma>WBG</firma>"
        "<immobilie><verwaltung_techn><aktion aktionart=\"DELETE\"/><objektnr_extern>A-1</objektnr_extern>"
        "</verwaltung_techn></immobilie>"
        "<immobilie><geo><plz>66538</plz><ort>Neunkirchen</ort></geo><freitexte><objekttitel>"
        "3-Zimmer-Wohnung</objekttitel></freitexte><verwaltung_techn><objektnr_extern>A-2"
        "</objektnr_extern></verwaltung_techn></immobilie></anbieter></openimmo>", encoding="utf-8")
    proc = hub("check", "--format", "openimmo", str(source), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert "1 record, 1 accepted, 0 rejected, 0 with warnings; 1 record deleted by the delivery" in proc.stdout


def test_a_partners_feed_is_fetched_and_checked_before_it_goes_live(tmp_path, httpserver):
    """A steward tries a new partner: hub check --fetch fetches its feed as a sync would (with
    the credentials the registry names, under the host rules) and writes the report; nothing
    lands in the hub's home or database."""
    from werkzeug import Response

    body = (FIXTURES / "formats" / "ba_jobsuche_v6_neunkirchen.json").read_bytes()
    asked = []

    def answer(request):
        asked.append(request.headers.get("X-API-Key"))
        return Response(body, content_type="application/json")

    httpserver.expect_request("/jobs").respond_with_handler(answer)
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    courses = tmp_path / "kurse.csv"
    courses.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau\nK-1;Deutschkurs;Sprachkurs;66538;Neunkirchen;B1\n",
                       encoding="utf-8")

    def registry(jobs_url: str, private: bool) -> str:
        path = tmp_path / f"registry-{private}.yaml"
        path.write_text(
            "partners:\n  - id: jc-neu\n    name: Jobcenter Neu\n"
            f"    allow_private_network: {'true' if private else 'false'}\n    feeds:\n"
            f"      - format: ba-jobsuche\n        source: {jobs_url}\n"
            "        auth_env: NEU_KEY\n        auth_header: X-API-Key\n"
            f"      - format: csv-courses\n        source: {courses.as_uri()}\n", encoding="utf-8")
        return str(path)

    home = tmp_path / "home"
    env = {"HUB_HOME": str(home), "NEU_KEY": "s3cret"}
    out = tmp_path / "report"
    live = registry(httpserver.url_for("/jobs"), private=True)
    which = hub("check", "--fetch", "--partner", "jc-neu", "--registry", live, "--out", str(out), env=env)
    assert which.returncode == 2 and "name one with --format" in which.stderr
    assert "ba-jobsuche, csv-courses" in which.stderr
    other = hub("check", "--fetch", "--partner", "jc-neu", "--registry", live, "--format", "csv-jobs",
                "--out", str(out), env=env)
    assert_one_line_error(other, "jc-neu has no csv-jobs feed in the registry; its feeds: ba-jobsuche, csv-courses")
    done = hub("check", "--fetch", "--partner", "jc-neu", "--registry", live, "--format", "ba-jobsuche",
               "--out", str(out), env=env)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert done.returncode == (1 if report["counts"]["rejected"] else 0), done.stderr
    assert done.stdout.startswith(f"{httpserver.url_for('/jobs')}: 3 records")
    assert asked == ["s3cret"] and "s3cret" not in done.stdout + done.stderr
    assert not home.exists()  # nothing stored: no home, no database, no landed payload
    # a feed that cannot be fetched, and a host the registry does not allow: one line, exit 2
    gone = hub("check", "--fetch", "--partner", "jc-neu", "--registry",
               registry(httpserver.url_for("/gone"), private=True), "--format", "ba-jobsuche",
               "--out", str(out), env=env)
    assert gone.returncode == 2 and "the feed cannot be fetched" in gone.stderr
    assert gone.stderr.strip().endswith("HTTP 404 (not found): the address is wrong or has moved; "
                                        "check the feed's source: in the registry")
    refused = hub("check", "--fetch", "--partner", "jc-neu", "--registry", registry(httpserver.url_for("/jobs"), private=False),
                  "--format", "ba-jobsuche", "--out", str(out), env=env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert asked == ["s3cret"]  # the refused host was never asked


def test_a_check_of_a_live_partners_feed_says_what_a_sync_would_withdraw(tmp_path):
    """A partner whose feed shrank from 15 courses to 2: the trial says that a sync would
    withdraw 13 of the 15 published records and be held for it (exit 1), before the sync."""
    from tests.test_cli import courses_partner

    header = "Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau\n"
    rows = [f"K-{n};Deutschkurs {n};Sprachkurs;66538;Neunkirchen;B1\n" for n in range(15)]
    courses, env = courses_partner(tmp_path, header + "".join(rows))
    assert hub("sync", env=env).returncode == 0
    courses.write_text(header + "".join(rows[:2]))
    out = tmp_path / "report"
    trial = hub("check", "--fetch", "--partner", "vhs-a", "--out", str(out), env=env)
    assert trial.returncode == 1, trial.stderr
    assert ("2 records, 2 accepted, 0 rejected, 0 with warnings; a sync would withdraw 13 of the 15 "
            "published records; a sync would be held (13 of 15 withdrawn)") in trial.stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "held" and "hub release vhs-a" in report["status_message"]
    # the check changed nothing: the sync is held as the check said
    held = hub("sync", "--json", env=env)
    assert json.loads(held.stdout)["partners"][0]["status"] == "held"


def test_the_check_tells_an_employer_which_missing_details_newcomers_search_by(tmp_path):
    """Offers without the German they ask for and without working time are all accepted,
    and the report says that newcomers search by those columns; a file that gives them gets
    no such tip."""
    bare = tmp_path / "stellen.csv"
    bare.write_text("Stellen-ID;Titel;Arbeitgeber;PLZ;Ort\n"
                    "J1;Lagerhelfer (m/w/d);Firma A;66538;Neunkirchen\n"
                    "J2;Koch (m/w/d);Firma A;66538;Neunkirchen\n", encoding="utf-8")
    proc = hub("check", "--format", "csv-jobs", str(bare), "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [(tip["field_label"], tip["filled"]) for tip in report["tips"]] == [
        ("Deutschkenntnisse", 0.0), ("Arbeitszeit", 0.0)]
    assert "Damit Ihre Angebote gefunden werden" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    full = tmp_path / "voll.csv"
    full.write_text("Stellen-ID;Titel;Arbeitgeber;PLZ;Ort;Deutschkenntnisse;Arbeitszeit\n"
                    "J1;Lagerhelfer (m/w/d);Firma A;66538;Neunkirchen;keine;Vollzeit\n"
                    "J2;Koch (m/w/d);Firma A;66538;Neunkirchen;B1;Teilzeit\n", encoding="utf-8")
    assert hub("check", "--format", "csv-jobs", str(full), "--out", str(tmp_path / "out2")).returncode == 0
    assert json.loads((tmp_path / "out2" / "report.json").read_text(encoding="utf-8"))["tips"] == []


def test_a_format_name_in_capitals_is_the_format_of_that_name(tmp_path, monkeypatch, capsys):
    """'CSV-Courses' on the command line, 'OpenImmo' as the standard spells it: the hub's
    lowercase format, for a file and for --fetch of a registry's feed."""
    from hub.cli import main

    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    example = ROOT / "schemas" / "csv" / "courses.example.csv"
    assert main(["check", "--format", "CSV-Courses", str(example), "--out", str(tmp_path / "a"),
                 "--today", "2026-01-15"]) == 0
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n"
                        "      - format: CSV-Courses\n"
                        f"        source: {example.as_uri()}\n", encoding="utf-8")
    assert main(["check", "--fetch", "--partner", "vhs-a", "--registry", str(registry),
                 "--format", "Csv-Courses", "--out", str(tmp_path / "b"), "--today", "2026-01-15"]) == 0
    assert capsys.readouterr().out.count("accepted, 0 rejected") == 2


def test_a_partner_checked_without_its_region_is_told_the_region_rule_was_not_applied(
        tmp_path, monkeypatch, capsys):
    """hub check --partner of a partner the registry does not list (a typo): the summary says
    the region rule was left out and names the id meant, not a clean 'all accepted' alone."""
    from hub.cli import main

    example = str(ROOT / "schemas" / "csv" / "courses.example.csv")
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-neunkirchen\n    name: VHS Neunkirchen\n"
                        "    region: '10043'\n    feeds:\n      - format: csv-courses\n"
                        "        source: file:///srv/kurse.csv\n  - id: vhs-ohne\n    name: VHS\n"
                        "    feeds:\n      - format: csv-courses\n        source: file:///srv/k.csv\n",
                        encoding="utf-8")
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_REGISTRY", str(registry))

    def note(*options: str) -> list[str]:
        assert main(["check", "--format", "csv-courses", example, "--out", str(tmp_path / "out"),
                     "--today", "2026-01-15", *options]) == 0
        return [line for line in capsys.readouterr().out.splitlines() if "note" in line]

    skipped = "so the region rule (ADDRESS_OUTSIDE_REGION) was not applied"
    assert note("--partner", "vhs-neunkirchn") == [
        f"hub check: note: vhs-neunkirchn is not in the registry {registry}, {skipped} "
        "(did you mean --partner vhs-neunkirchen?)"]
    assert note("--partner", "vhs-ohne") == [
        f"hub check: note: vhs-ohne has no region: in the registry {registry}, {skipped}"]
    assert note("--partner", "vhs-ohne", "--registry", str(registry)) == [
        f"hub check: note: vhs-ohne has no region: in the registry {registry}, {skipped}"]
    # a partner the configured registry lists: its name and region from there, as its sync
    # has them (a course in Berlin is outside Landkreis Neunkirchen)
    assert note("--partner", "vhs-neunkirchen") == []
    berlin = tmp_path / "berlin.csv"
    berlin.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nB-1;Deutschkurs A1;Sprachkurs;10115;Berlin\n",
                      encoding="utf-8")
    main(["check", "--format", "csv-courses", str(berlin), "--out", str(tmp_path / "berlin"),
          "--partner", "vhs-neunkirchen"])
    capsys.readouterr()
    checked = json.loads((tmp_path / "berlin" / "report.json").read_text(encoding="utf-8"))
    assert checked["partner_name"] == "VHS Neunkirchen"
    assert [problem["rule"] for problem in checked["problems"]] == ["ADDRESS_OUTSIDE_REGION"]
    assert note("--partner", "vhs-neunkirchen", "--registry", str(registry)) == []
    assert note("--partner", "vhs-neunkirchn", "--region", "10043") == []
    assert note() == []  # a partner's own check of its file, no partner named
    monkeypatch.setenv("HUB_REGISTRY", str(tmp_path / "none.yaml"))
    assert note("--partner", "vhs-neunkirchen") == [
        f"hub check: note: no region given (--region AGS, or --registry FILE for the partner's), {skipped}"]


def test_a_check_of_an_inbox_partners_feed_names_the_file_waiting_there(tmp_path, monkeypatch, capsys):
    """hub check --fetch of a partner that drops files into an inbox: nothing to fetch, so
    the message says which file the next sync takes (or that none waits) and the command that
    checks it; the command given works."""
    import os
    import shlex
    import time

    from hub.cli import main

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n"
                        f"      - format: csv-courses\n        source: inbox:{inbox}\n",
                        encoding="utf-8")
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    out = str(tmp_path / "report")
    check = ["check", "--fetch", "--partner", "vhs-a", "--registry", str(registry), "--out", out]
    said = f"hub check: error: vhs-a/courses delivers files into {inbox}, not from an address to fetch: "

    assert main(check) == 2
    assert capsys.readouterr().err == (
        f"{said}no file is waiting there; check a file with: hub check --format csv-courses FILE "
        f"--partner vhs-a --registry {registry} --out {out}\n")

    example = (ROOT / "schemas" / "csv" / "courses.example.csv").read_bytes()
    for name, age in (("kurse-2.csv", 60), ("kurse-1.csv", 120)):
        (inbox / name).write_bytes(example)
        os.utime(inbox / name, (time.time() - age,) * 2)
    assert main(check) == 2
    err = capsys.readouterr().err
    command = (f"hub check --format csv-courses {inbox / 'kurse-1.csv'} --partner vhs-a "
               f"--registry {registry} --out {out}")
    assert err == f"{said}the next sync takes kurse-1.csv (2 files waiting); check it with: {command}\n"
    assert main([*shlex.split(command)[1:], "--today", "2026-01-15"]) == 0
    assert "2 records, 2 accepted" in capsys.readouterr().out


def test_the_report_names_both_providers_of_an_id_repeated_across_providers(tmp_path):
    """An OpenImmo file of two <anbieter> numbering their objects alike: the report says the
    id came first for the other provider (German and English), not only that it repeats."""
    immobilie = ("<immobilie><geo><plz>66538</plz><ort>Neunkirchen</ort></geo><freitexte>"
                 "<objekttitel>2-Zimmer-Wohnung</objekttitel></freitexte><preise><kaltmiete>450"
                 "</kaltmiete></preise><verwaltung_techn><objektnr_extern>1</objektnr_extern>"
                 "</verwaltung_techn></immobilie>")
    source = tmp_path / "export.xml"
    source.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<openimmo><uebertragung umfang="VOLL"/>'
                      f"<anbieter><firma>Wohnbau Blies eG</firma>{immobilie}</anbieter>"
                      f"<anbieter><firma>Hausverwaltung Sinn</firma>{immobilie}</anbieter></openimmo>",
                      encoding="utf-8")
    for lang, words in (("de", "zuerst bei 'Wohnbau Blies eG', hier bei 'Hausverwaltung Sinn'"),
                        ("en", "first for 'Wohnbau Blies eG', here for 'Hausverwaltung Sinn'")):
        out = tmp_path / lang
        proc = hub("check", "--format", "openimmo", str(source), "--out", str(out), "--lang", lang,
                   "--today", "2026-06-01")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        (problem,) = json.loads((out / "report.json").read_text())["problems"]
        assert (problem["rule"], problem["source_id"], problem["value"]) == ("RECORD_ID_DUPLICATE", "1", "1")
        assert words in problem["message"]
        assert words.replace("'", "&#39;") in (out / "report.html").read_text()


def test_the_report_names_a_column_as_the_partners_file_wrote_it(tmp_path):
    """A landlord whose file says 'Postleitzahl' and 'Miete' (other usual names of PLZ and
    Kaltmiete) read its problems under 'PLZ' and 'Kaltmiete', columns its file does not
    have; a column under the template's own name keeps it (Ort)."""
    source = tmp_path / "wohnungen.csv"
    source.write_text(
        "Wohnungs-ID;Titel;Postleitzahl;Ort;Miete;Wohnflaeche;Zimmer\n"
        "W-1;2-Zimmer-Wohnung;6653;Neunkirchen;450;58;2\n"
        "W-2;3-Zimmer-Wohnung;66538;;-50;72;3\n", encoding="utf-8")
    for lang, postal, rent in (("de", "Postleitzahl", "Feld 'Miete' hat einen ungültigen Wert"),
                               ("en", "postal code (Postleitzahl)", "Field 'cold rent (Miete)'")):
        out = tmp_path / lang
        proc = hub("check", "--format", "csv-housing", str(source), "--out", str(out), "--lang", lang,
                   "--today", "2026-06-01")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        problems = {p["field"]: p for p in json.loads((out / "report.json").read_text())["problems"]}
        assert problems["address.postal_code"]["format_field"] == "Postleitzahl"
        assert problems["address.postal_code"]["field_label"] == postal
        assert problems["cold_rent"]["format_field"] == "Miete" and rent in problems["cold_rent"]["message"]
        assert problems["address.city"]["format_field"] == "Ort"
        page = (out / "report.html").read_text()
        assert f"<td>{postal}</td>" in page and "<td>PLZ</td>" not in page


def test_a_row_without_a_required_field_is_checked_for_its_other_problems_too(tmp_path):
    """A row without PLZ got no contact checks (its record could not be built without an
    address): the clerk mended the PLZ, sent again, and only then learnt that the e-mail was
    wrong too. Now one report says both; the missing parts themselves are reported once, as
    missing, and nothing is said of them by the region or the other checks."""
    source = tmp_path / "stellen.csv"
    source.write_text(
        "Stellen-ID;Titel;PLZ;Ort;E-Mail;Telefon;Kontakt oeffentlich\n"
        "S-1;Lagerhelfer (m/w/d);;Neunkirchen;personal(at)saar-logistik;06821 12345;ja\n"
        "S-2;;6653;;bewerbung@@saar-logistik.example;12;ja\n"
        "S-3;Fahrer (m/w/d);66538;Neunkirchen;fahrer@saar-logistik.example;06821 12345;ja\n",
        encoding="utf-8")
    out = tmp_path / "out"
    proc = hub("check", "--format", "csv-jobs", str(source), "--out", str(out), "--region", "10043",
               "--today", "2026-06-01")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "3 records, 1 accepted, 2 rejected" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert sorted((p["source_id"], p["rule"], p["field"], p["line"]) for p in report["problems"]) == [
        ("S-1", "CONTACT_EMAIL_INVALID", "contact.email", 2),
        ("S-1", "RECORD_FIELD_MISSING", "address.postal_code", 2),
        ("S-2", "ADDRESS_POSTAL_CODE_INVALID", "address.postal_code", 3),
        ("S-2", "CONTACT_EMAIL_INVALID", "contact.email", 3),
        ("S-2", "CONTACT_PHONE_INVALID", "contact.phone", 3),
        ("S-2", "RECORD_FIELD_MISSING", "address.city", 3),
        ("S-2", "RECORD_FIELD_MISSING", "title", 3),
    ]
