"""The rule catalogue and its published files (schemas/rules.md, schemas/rules.json)."""

from __future__ import annotations

import json
import re

import pytest

from hub.quality import rules
from hub.quality.rules import RULES, RULES_EN_HINTS, reject
from tests.conftest import ROOT

# codes partners and portals already rely on: they must never change
CONTRACT = {
    "RECORD_FIELD_MISSING": "error",
    "RECORD_FIELD_INVALID": "error",
    "RECORD_UNREADABLE": "error",
    "RECORD_ID_DUPLICATE": "error",
    "ADDRESS_POSTAL_CODE_INVALID": "error",
    "ADDRESS_POSTAL_CODE_ZERO_ADDED": "warning",
    "ADDRESS_AGS_ZERO_ADDED": "warning",
    "HOUSING_DEPOSIT_WITHOUT_RENT": "warning",
    "HOUSING_RENT_IN_WORDS": "warning",
    "DEADLINE_MONTH_ONLY": "warning",
    "COURSE_LEVEL_INVALID": "error",
    "COURSE_TYPE_UNKNOWN": "error",
    "COURSE_DATES_INCONSISTENT": "error",
    "HOUSING_RENT_INCONSISTENT": "error",
    "JOB_SALARY_RANGE_INVERTED": "error",
    "HOUSING_NOT_FOR_RENT": "error",
    "CSV_COLUMN_UNKNOWN": "warning",
    "HOUSING_FLOOR_WITHOUT_NUMBER": "warning",
    "JOB_SALARY_IN_WORDS": "warning",
    "JOB_REMOTE_WITHOUT_WORKPLACE": "error",
    "DATE_MONTH_ONLY": "warning",
    "CHANGED_AT_UNREADABLE": "warning",
    "AMOUNT_COMMA_THOUSANDS": "warning",
    "CSV_CELL_ERROR": "warning",
    "CSV_ROW_AFTER_OFFERS": "warning",
    "HOUSING_RENT_PERIOD_NOT_MONTHLY": "warning",
    "CSV_HEADER_NOT_FIRST": "warning",
    "CSV_COLUMN_REPEATED": "warning",
    "COURSE_END_MONTH_ONLY": "warning",
    "JOB_GERMAN_LEVEL_IN_WORDS": "warning",
    "JOB_SALARY_PERIOD_MISSING": "warning",
    "COURSE_PRICE_IN_WORDS": "warning",
    "JOB_SALARY_PERIOD_NOT_PUBLISHED": "warning",
    "JOB_LOCATIONS_PASSED_OVER": "warning",
    "HOUSING_DELETE_WITHOUT_ID": "error",
}

SEMANTIC = {
    "ADDRESS_OUTSIDE_REGION": "warning",
    "GEO_OUTSIDE_GERMANY": "error",
    "GEO_FAR_FROM_POSTAL_CODE": "warning",
    "DATE_IMPLAUSIBLE": "warning",
    "JOB_EXPIRED": "error",
    "COURSE_ENDED": "error",
    "HOUSING_RENT_PER_SQM_IMPLAUSIBLE": "warning",
    "HOUSING_WARM_RENT_NOT_ITS_PARTS": "warning",
    "HOUSING_AREA_IMPLAUSIBLE": "error",
    "HOUSING_ROOMS_IMPLAUSIBLE": "error",
    "JOB_SALARY_IMPLAUSIBLE": "warning",
    "URL_INVALID": "warning",
    "URL_NOT_HTTPS": "warning",
    "CONTACT_EMAIL_INVALID": "error",
    "CONTACT_PHONE_INVALID": "error",
    "CONTACT_NOT_PUBLIC_INVALID": "warning",
    "TEXT_PLACEHOLDER": "error",
    "TEXT_TOO_SHORT": "warning",
}


def test_contract_codes_and_severities_are_unchanged():
    for code, severity in CONTRACT.items():
        assert RULES[code].severity == severity


def test_every_semantic_rule_is_in_the_catalogue_with_its_severity():
    assert {code: RULES[code].severity for code in SEMANTIC} == SEMANTIC
    assert set(RULES) == set(CONTRACT) | set(SEMANTIC)


def test_codes_are_stable_identifiers():
    for code in RULES:
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", code), code


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_speaks_german_and_english(code):
    rule = RULES[code]
    assert rule.severity in ("error", "warning")
    for text in (rule.message_de, rule.message_en, rule.hint_de, rule.hint_en):
        assert text.strip() and text == text.strip()
        text.format(field="title", value="x")  # only {field} and {value} placeholders
    assert rule.message_de != rule.message_en and rule.hint_de != rule.hint_en
    assert RULES_EN_HINTS[code] == rule.hint_en
    assert set(rule.domains) <= {"jobs", "courses", "housing"} and rule.domains
    assert rule.description


def test_reject_fills_in_both_languages():
    rejection = reject("JOB_EXPIRED", partner_id="jobcenter-nk", domain="jobs",
                       source_id="10000-1186993412-S", field="valid_through",
                       value="2026-11-21", title="Koch (m/w/d)")
    assert rejection.severity == "error"
    assert rejection.message == "Die Stelle ist abgelaufen (gültig bis 2026-11-21)."
    assert rejection.message_en == "The job posting has expired (valid until 2026-11-21)."
    assert rejection.hint.startswith("Nehmen Sie abgelaufene Stellen")


def test_published_catalogue_matches_the_code():
    stale = rules.drifted(ROOT / "schemas")
    assert stale == [], f"run `python -m hub.quality.rules --write`: {stale} drifted"


def test_drift_is_detected(tmp_path):
    assert sorted(rules.write(tmp_path)) == ["rules.json", "rules.md"]
    assert rules.drifted(tmp_path) == []
    (tmp_path / "rules.md").write_text(rules.rules_markdown().replace("warning", "error", 1))
    assert rules.drifted(tmp_path) == ["rules.md"]
    (tmp_path / "rules.json").unlink()
    assert rules.drifted(tmp_path) == ["rules.md", "rules.json"]


def test_markdown_documents_every_rule():
    text = rules.rules_markdown()
    for code, rule in RULES.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{code}` |"))
        assert f"| {rule.severity} |" in row
        assert rule.message_de.replace("|", "\\|") in text
        assert rule.message_en.replace("|", "\\|") in text
        assert rule.hint_de.replace("|", "\\|") in text
        assert rule.hint_en.replace("|", "\\|") in text


def test_json_catalogue_is_machine_readable():
    document = json.loads(rules.rules_json())
    by_code = {entry["code"]: entry for entry in document["rules"]}
    assert list(by_code) == list(RULES)
    entry = by_code["HOUSING_AREA_IMPLAUSIBLE"]
    assert entry["severity"] == "error" and entry["field"] == "living_area"
    assert entry["domains"] == ["housing"] and entry["layer"] == "semantic"
    assert {"message_de", "message_en", "hint_de", "hint_en", "check"} <= set(entry)
