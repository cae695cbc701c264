"""Where personal data could linger: every table of the hub's database and every file of the
landing store, searched as text for the given strings (a contact's name, e-mail, phone)."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from hub.store.tables import metadata


def table_hits(engine: sa.Engine, needles: list[str]) -> dict[str, int]:
    """Table name -> rows whose text or JSON contains any of ``needles`` (case-insensitive)."""
    wanted = [n.lower() for n in needles]
    hits: dict[str, int] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                text = json.dumps(dict(row._mapping), default=str, ensure_ascii=False).lower()
                if any(n in text for n in wanted):
                    hits[table.name] = hits.get(table.name, 0) + 1
    return hits


def file_hits(root: Path, needles: list[str]) -> list[Path]:
    """Files under ``root`` whose bytes contain any of ``needles``."""
    found = []
    if not root.exists():
        return found
    for path in root.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            if any(n.encode() in body for n in needles):
                found.append(path)
    return found
