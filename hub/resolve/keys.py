"""Deterministic match keys: records of one domain that share a key are the same offer.

Keys with a prefix in ``EXCLUSIVE`` are identities: two records with different such keys are
never the same offer, whatever else they share (two BA postings with two reference numbers
are two openings, even with the same title at the same employer)."""

from __future__ import annotations

from hub.resolve.normalize import (
    canonical_url,
    house_number_key,
    org_key,
    street_key,
    title_key,
)


EXCLUSIVE = ("ba:",)


def match_keys(domain: str, record: dict) -> list[str]:
    """Keys for a canonical record (as a JSON dict). Every key identifies one real offer."""
    address = record.get("address") or {}
    postal = address.get("postal_code") or ""
    keys: list[str] = []
    if domain == "jobs":
        if record.get("ba_reference"):
            keys.append(f"ba:{record['ba_reference'].strip().upper()}")
        org, title = org_key(record.get("organisation")), title_key(record.get("title"))
        if org and title and postal:
            keys.append(f"job:{org}|{title}|{postal}")
    elif domain == "courses":
        title = title_key(record.get("title"))
        start = record.get("start_date") or ""
        if title and start and postal:
            levels = ",".join(sorted(record.get("cefr_levels") or []))
            keys.append(
                f"course:{title}|{record.get('course_type')}|{levels}|{start}|{postal}"
                f"|{street_key(address.get('street'))}"
            )
        url = canonical_url(record.get("url"))
        if url and start:
            levels = ",".join(sorted(record.get("cefr_levels") or []))
            keys.append(f"course-url:{url}|{start}|{levels}")
    elif domain == "housing":
        street = street_key(address.get("street"))
        number = house_number_key(address.get("house_number"))
        if street and number and postal:
            keys.append(
                f"flat:{postal}|{street}|{number}|{record.get('floor')}"
                f"|{record.get('rooms')}|{record.get('living_area')}"
            )
    return keys
