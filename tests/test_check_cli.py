"""`hub check`: a partner tests a file before sending it; the report lands in --out."""

from __future__ import annotations

import json

from tests.conftest import FIXTURES
from tests.test_cli import hub


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


def test_rules_catalogue():
    proc = hub("rules", "--json")
    assert proc.returncode == 0
    rules = {r["code"]: r for r in json.loads(proc.stdout)}
    assert {"ADDRESS_POSTAL_CODE_INVALID", "HOUSING_RENT_INCONSISTENT", "JOB_EXPIRED"} <= set(rules)
    assert all(r["severity"] in ("error", "warning") and r["message_de"] and r["message_en"] for r in rules.values())
