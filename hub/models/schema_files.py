"""The JSON Schemas in ``schemas/``, generated from the models (``hub schemas --write``)."""

from __future__ import annotations

import json
from pathlib import Path

from hub.models.records import CourseOffer, HousingVacancy, JobPosting
from hub.models.rejection import Rejection

BASE = "https://welcome-hub.example/schemas/"
MODELS = {
    "job_posting.schema.json": JobPosting,
    "course_offer.schema.json": CourseOffer,
    "housing_vacancy.schema.json": HousingVacancy,
    "rejection.schema.json": Rejection,
}


def _models() -> dict[str, type]:
    from hub.quality.report import FeedbackReport  # the report builds on the models

    return {**MODELS, "feedback_report.schema.json": FeedbackReport}


def schema_documents() -> dict[str, str]:
    out = {}
    for filename, model in _models().items():
        schema = model.model_json_schema(mode="serialization")
        document = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": BASE + filename,
            **schema,
        }
        out[filename] = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    return out


def drifted(folder: Path) -> list[str]:
    """Files in ``folder`` that differ from what the models generate (or are missing)."""
    stale = []
    for filename, text in schema_documents().items():
        path = folder / filename
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(filename)
    return stale


def write(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for filename, text in schema_documents().items():
        (folder / filename).write_text(text, encoding="utf-8")
    return sorted(schema_documents())
