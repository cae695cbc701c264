"""The search columns of a directory entry: what the read API filters on in SQL.

Publication writes them next to the entry (``directory`` table), so that every filter of the
read API runs as plain SQL on both databases instead of unpacking JSON per row:

- ``search_text``: title, organisation, description and a job's occupation, case-folded with the umlauts
  written out (the text query ``q``, word by word)
- ``tags``: enumerations, lists and flags as `` name:value `` words between spaces, e.g.
  `` level:B1 schedule:online childcare:true `` (matched with ``LIKE '% level:B1 %'``)
- ``start_date``: job start, course start, or the date a flat is free
- ``rent`` (warm rent where given, else cold rent), ``cold_rent``, ``rooms``, ``area``, ``persons``
  (a flat's ``max_persons``) (housing)
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from hub.quality.regions import postal_area
from hub.resolve.normalize import transliterate

# the entry fields the text query searches (a job's occupation: BA postings often name it only
# there)
SEARCHED = ("title", "organisation", "description", "occupation")

# columns this module fills, in the order of the table
COLUMNS = ("search_text", "tags", "start_date", "rent", "rooms", "area", "cold_rent", "persons")

# the entry fields whose values become tags, per domain: field -> tag name
TAG_FIELDS: dict[str, dict[str, str]] = {
    "jobs": {"employment_type": "employment_type", "working_time": "working_time",
             "german_level": "german", "german_required": "german_required",
             "contract_duration": "contract",
             "remote_possible": "remote"},
    "courses": {"course_type": "course_type", "cefr_levels": "level", "schedule": "schedule",
                "childcare": "childcare", "funded": "funded", "language": "language"},
    "housing": {"property_type": "property_type", "wbs_required": "wbs",
                "barrier_free": "barrier_free"},
}
DATE_FIELD = {"jobs": "start_date", "courses": "start_date", "housing": "available_from"}

# a flat's availability text that means "at once" ('sofort', 'ab sofort', 'bezugsfrei'), unless
# it speaks of an arrangement ('frei nach Vereinbarung')
_AT_ONCE = re.compile(r"\b(?:sofort|jetzt|frei|bezugsfrei|leer|immediately|now)\b", re.IGNORECASE)
_ARRANGED = re.compile(r"vereinbar|absprache|abspr\.|arrangement|agreement|request|anfrage", re.IGNORECASE)
AVAILABLE_LATER = "available:later"  # the tag of a flat without a date that is not free at once


def fold(text: str) -> str:
    """The form both the column and the query are compared in: Unicode case folding, then
    ä, ö, ü written out as ae, oe, ue (folding already makes ß ss), so that 'STRASSE' finds
    'Straße', 'KÖCH' 'Köchin' and 'mueller' 'Müller', on SQLite as on PostgreSQL."""
    return transliterate(text.casefold())


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def words(query: str) -> list[str]:
    """The words of a text query, folded: each must occur in an entry's ``search_text``.
    Control characters separate words (a NUL would end the pattern early on SQLite and is
    refused by PostgreSQL)."""
    return _CONTROL.sub(" ", fold(query)).split()


def region_key(address: dict | None) -> str | None:
    """What the ``region`` filter compares with: the address's municipality key (AGS, eight
    digits), else the most specific AGS prefix its postal code is known to lie in (a
    district's five digits or a Land's two; ``hub/quality/regions.py``), else None. Feeds that
    carry no AGS (the BA's job postings) are found by district all the same."""
    address = address or {}
    return address.get("municipality_key") or postal_area(address.get("postal_code"))


def tag(name: str, value: Any) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"{name}:{value}"


def search_columns(domain: str, entry: dict) -> dict[str, Any]:
    """The search columns for one directory entry."""
    text = "\n".join(str(entry.get(key) or "") for key in SEARCHED)
    tags = []
    for field, name in TAG_FIELDS.get(domain, {}).items():
        value = entry.get(field)
        for item in value if isinstance(value, list) else [value]:
            if item is not None and item != "":
                tags.append(tag(name, item))
    rent = rooms = area = cold_rent = persons = None
    if domain == "housing" and _available_later(entry):
        tags.append(AVAILABLE_LATER)
    if domain == "housing":
        cold_rent = _number(entry.get("cold_rent"))
        rent = _number(entry.get("warm_rent"))
        if rent is None:
            rent = cold_rent
        rooms = _number(entry.get("rooms"))
        area = _number(entry.get("living_area"))
        persons = _number(entry.get("max_persons"))
        persons = int(persons) if persons is not None else None
    return {
        "search_text": fold(text),
        "tags": " " + " ".join(tags) + " " if tags else " ",
        "start_date": _date(entry.get(DATE_FIELD.get(domain, ""))),
        "rent": rent,
        "rooms": rooms,
        "area": area,
        "cold_rent": cold_rent,
        "persons": persons,
    }


def refill(conn: Any, names: tuple[str, ...], domain: str, batch: int = 5000) -> None:
    """Write the search columns ``names`` again for the published entries of ``domain``, in
    pages of ids (a national directory is not read into memory at once): for a migration that
    adds or changes a search column, since a publication rewrites only the entries whose
    content changed. Names only the columns it writes, which the schema has at that revision."""
    import sqlalchemy as sa

    table = sa.table("directory", sa.column("entity_id", sa.String()), sa.column("domain", sa.String()),
                     sa.column("entry", sa.JSON()), *(sa.column(name) for name in names))
    stmt = (table.update().where(table.c.entity_id == sa.bindparam("b_entity_id"))
            .values(**{name: sa.bindparam(f"b_{name}") for name in names}))
    last = ""
    while True:
        rows = conn.execute(
            sa.select(table.c.entity_id, table.c.entry)
            .where(table.c.entity_id > last, table.c.domain == domain)
            .order_by(table.c.entity_id).limit(batch)).all()
        if not rows:
            return
        params = []
        for row in rows:
            columns = search_columns(domain, row.entry or {})
            params.append({"b_entity_id": row.entity_id, **{f"b_{name}": columns[name] for name in names}})
        conn.execute(stmt, params)
        last = rows[-1].entity_id


def _available_later(entry: dict) -> bool:
    """A flat without a date whose text does not say it is free at once ('nach Vereinbarung',
    'ab Mai'): it does not match ``available_by``. Without a date or a text a flat counts as
    free at once."""
    text = str(entry.get("available_from_text") or "").strip()
    if entry.get("available_from") or not text:
        return False
    return _ARRANGED.search(text) is not None or _AT_ONCE.search(text) is None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None
