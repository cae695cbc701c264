"""Sensor cursors as small JSON objects (kept by Dagster across restarts)."""

from __future__ import annotations

import json


def load(cursor: str | None) -> dict:
    """The cursor's JSON object; an empty or foreign cursor (an older format) reads as {}."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def dump(value: dict) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
