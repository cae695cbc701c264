"""Validation against the official HSDS 3.0 JSON Schemas in ../shared/conformance/specs/hsds-3.0.

The schema files reference each other by bare file name (``"$ref": "phone.json"``) and carry
no ``$schema``: all of them go into one ``referencing.Registry`` keyed by file name and are
read as draft 2020-12. Formats are checked (uuid, email, uri, date-time), with small checkers
of our own for ``uri`` and ``date-time`` (jsonschema needs extra packages for those).

``strict=True`` also refuses properties the specification does not define (the official schemas
allow them), so a field written under a wrong name is caught too.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

SPECS = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "specs" / "hsds-3.0"


def require_specs() -> Path:
    if not (SPECS / "service.json").is_file():
        pytest.skip(f"HSDS 3.0 schemas not found at {SPECS} (../shared is not beside the clone)")
    return SPECS


def _format_checker():
    from jsonschema import FormatChecker

    checker = FormatChecker()

    @checker.checks("uri", raises=ValueError)
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("urn", "mailto")) \
            and not any(c.isspace() for c in value)

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if "T" not in value.upper():
            return False
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.tzinfo is not None  # RFC 3339 needs an offset

    return checker


def _strict(schema: dict) -> dict:
    schema = copy.deepcopy(schema)
    if schema.get("type") == "object" and "properties" in schema:
        schema["additionalProperties"] = False
    return schema


@lru_cache(maxsize=2)
def _registry(strict: bool):
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    for path in sorted(require_specs().glob("*.json")):
        if path.name == "openapi.json":
            continue
        contents = json.loads(path.read_text(encoding="utf-8"))
        if strict:
            contents = _strict(contents)
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


def validator(schema_file: str, strict: bool = False):
    from jsonschema import Draft202012Validator

    registry = _registry(strict)
    schema = registry.contents(schema_file)
    return Draft202012Validator(schema, registry=registry, format_checker=_format_checker())


def errors(obj: dict, schema_file: str, strict: bool = False) -> list[str]:
    """Every violation as 'path: message' (empty when valid)."""
    found = validator(schema_file, strict).iter_errors(obj)
    return sorted(f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in found)


def page_schema() -> dict:
    """The Page envelope of the HSDS openapi.json."""
    spec = json.loads((require_specs() / "openapi.json").read_text(encoding="utf-8"))
    return spec["components"]["schemas"]["Page"]
