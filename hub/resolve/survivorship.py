"""Survivorship: one directory entry from the records of one entity, each field taken from
the best source that has it, with the source recorded per field."""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from hub.clock import BERLIN
from hub.quality.regions import state_of
from hub.store.db import json_text

SKIP = {"partner_id", "source_id"}
# fields that say one thing together: the first source that fills one of them gives all of
# them (a posting must not say 'no German needed' from one source and 'C1' from another)
TOGETHER = {"german_level": "german", "german_required": "german"}


def _filled(value: object) -> bool:
    return value not in (None, "", [], {})


def _changed(record: dict) -> float:
    """When the source last changed the record, in seconds since 1970, as an instant: the
    partners write ``updated_at`` with their own offsets ('2026-10-25T02:30:00+02:00' is
    earlier than '2026-10-25T01:45:00Z'), a time without one is Berlin time. None or
    unreadable: earliest."""
    value = record.get("updated_at")
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return -math.inf
    if not isinstance(value, dt.datetime):
        return -math.inf
    return (value if value.tzinfo else value.replace(tzinfo=BERLIN)).timestamp()


def _rank(item: tuple[str, str, dict, object]) -> tuple:
    """Best first: the most recently changed at the source, then the most complete."""
    _, _, record, _ = item
    filled = sum(1 for key, value in record.items() if _filled(value))
    return (_changed(record), filled)


def build_entry(
    domain: str, entity_id: str, records: list[tuple[str, str, dict, object]]
) -> dict:
    """``records``: (partner_id, source_id, canonical record dict, first seen) of one entity."""
    by_source = sorted(records, key=lambda item: (item[0], item[1]))
    # best first (sorted is stable: ties keep the source order); most entities have one record
    ordered = by_source if len(by_source) == 1 else sorted(by_source, key=_rank, reverse=True)
    entry: dict = {"id": entity_id, "domain": domain}
    provenance: dict[str, str] = {}
    given: dict[str, tuple[str, str]] = {}  # a group of TOGETHER -> the record that gave it
    for partner_id, source_id, record, _ in ordered:
        for key, value in record.items():
            if key in SKIP or not _filled(value):
                continue
            group = TOGETHER.get(key)
            if group is not None and given.setdefault(group, (partner_id, source_id)) != (partner_id, source_id):
                continue
            if key == "contact" and not value.get("public"):
                continue  # personal data stays unpublished unless the partner marks it public
            if key not in entry:
                entry[key] = value
                provenance[key] = partner_id
            elif key == "address" and isinstance(value, dict):
                _complete_address(entry, provenance, value, partner_id)
    _derive_state(entry, provenance)
    entry["sources"] = [
        {"partner_id": p, "source_id": s, "url": r.get("url")}
        for p, s, r, _ in by_source
    ]
    entry["provenance"] = provenance
    return entry


def _complete_address(entry: dict, provenance: dict[str, str], other: dict, partner_id: str) -> None:
    """The parts the best source's address leaves out (the municipality key, the Land, the
    street), taken from a lesser source's address of the same place (postal code and town):
    a merge must not lose the key that region searches find the entry by. Each part taken
    is credited in ``provenance`` as ``address.<part>``."""
    best = entry["address"]
    same_place = (best.get("postal_code") == other.get("postal_code")
                  and str(best.get("city") or "").casefold() == str(other.get("city") or "").casefold())
    if not same_place:
        return
    if not _filled(best.get("street")) and _filled(other.get("street")):
        parts = ("street", "house_number")  # a street with its own number, never another's
    else:
        parts = ()
    parts += tuple(part for part in ("municipality_key", "state") if not _filled(best.get(part)))
    taken = {part: other[part] for part in parts if _filled(other.get(part))}
    if taken:
        entry["address"] = {**best, **taken}
        provenance.update({f"address.{part}": partner_id for part in taken})


def _derive_state(entry: dict, provenance: dict[str, str]) -> None:
    """An address without its Land (the CSV templates have no column for it) gets it from its
    municipality key or postal code (``regions.state_of``), credited as ``address.state`` to
    the source of the address: portals show every entry's Land alike, as the HSDS export
    always did."""
    address = entry.get("address")
    if not isinstance(address, dict) or _filled(address.get("state")):
        return
    state = state_of(address)
    if state:
        entry["address"] = {**address, "state": state}
        provenance["address.state"] = provenance.get("address", "")


def content_hash(entry: dict) -> str:
    """SHA-256 of the entry's JSON text with sorted keys (json.dumps' text, written by orjson)."""
    return hashlib.sha256(json_text(entry, sort_keys=True).encode()).hexdigest()
