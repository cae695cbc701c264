"""Canonical models and the JSON Schemas generated from them."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from hub.models import CourseOffer, HousingVacancy, JobPosting, schema_files
from tests.conftest import ROOT

ADDRESS = {"street": "Bahnhofstraße", "house_number": "12", "postal_code": "66538",
           "city": "Neunkirchen", "municipality_key": "10043114", "state": "Saarland"}


def test_schema_files_match_the_models():
    stale = schema_files.drifted(ROOT / "schemas")
    assert stale == [], f"run `hub schemas --write`: {stale} drifted from hub/models"


def test_drift_is_detected(tmp_path):
    schema_files.write(tmp_path)
    assert schema_files.drifted(tmp_path) == []
    path = tmp_path / "job_posting.schema.json"
    doc = json.loads(path.read_text())
    doc["properties"].pop("title")
    path.write_text(json.dumps(doc))
    assert schema_files.drifted(tmp_path) == ["job_posting.schema.json"]


@pytest.mark.parametrize(
    "model, extra",
    [
        (JobPosting, {"working_time": ["full_time"], "german_level": "B1", "salary_min": 2400}),
        (CourseOffer, {"course_type": "integration_course", "cefr_levels": ["A1", "A2", "B1"],
                       "start_date": "2026-03-02", "end_date": "2026-10-30", "childcare": True,
                       "schedule": ["part_time"]}),
        (HousingVacancy, {"rooms": 2.5, "living_area": 61.4, "cold_rent": 420, "warm_rent": 590,
                          "wbs_required": True, "available_from_text": "sofort"}),
    ],
)
def test_records_validate_against_their_published_schema(model, extra):
    record = model(partner_id="p", source_id="1", title="Angebot", address=ADDRESS, **extra)
    schema = json.loads((ROOT / "schemas" / schema_files_name(model)).read_text())
    jsonschema.Draft202012Validator(schema).validate(record.model_dump(mode="json"))


def schema_files_name(model) -> str:
    return next(name for name, m in schema_files.MODELS.items() if m is model)


@pytest.mark.parametrize("postal_code", ["6653", "665380", "ABCDE", ""])
def test_postal_code_must_be_five_digits(postal_code):
    with pytest.raises(ValidationError):
        JobPosting(partner_id="p", source_id="1", title="Koch (m/w/d)",
                   address={**ADDRESS, "postal_code": postal_code})


def test_postal_code_keeps_leading_zero():
    job = JobPosting(partner_id="p", source_id="1", title="Koch", address={**ADDRESS, "postal_code": "06108"})
    assert job.address.postal_code == "06108"


def test_unknown_fields_and_levels_are_refused():
    with pytest.raises(ValidationError):
        CourseOffer(partner_id="p", source_id="1", title="Kurs", address=ADDRESS,
                    course_type="integration_course", cefr_levels=["B3"])
    with pytest.raises(ValidationError):
        HousingVacancy(partner_id="p", source_id="1", title="Wohnung", address=ADDRESS, balcony=True)
