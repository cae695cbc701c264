"""Feed-level checks: how a whole delivery compares with the partner's last good one.

Each check returns a FeedCheck (passed, a one-line description, numbers for the Dagster UI).
The checks that protect the directory (mass withdrawal, rejection share) hold the sync in
``hub.pipeline``; the ones here only warn.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from hub.models import CanonicalRecord
from hub.store.tables import fetch_state, syncs

VOLUME_DROP_SHARE = 0.5  # warn when a delivery holds less than half of the last good one
FIELD_PRESENT = 0.5  # a field filled in at least half of the records counts as present


@dataclass
class FeedCheck:
    name: str
    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


class FieldCoverage:
    """Share of records that fill each top-level field (nested objects count as one field),
    counted over a delivery read in parts."""

    def __init__(self) -> None:
        self.records = 0
        self.counts: dict[str, int] = {}

    def add(self, records: list[CanonicalRecord]) -> None:
        counts, empty = self.counts, (str, list, dict)
        self.records += len(records)
        for record in records:
            for name, value in record.__dict__.items():
                # by type first: comparing a nested model with "" runs its __eq__ (slow)
                if value is None or (isinstance(value, empty) and not value):
                    continue
                counts[name] = counts.get(name, 0) + 1

    def shares(self) -> dict[str, float]:
        if not self.records:
            return {}
        return {name: round(count / self.records, 3) for name, count in sorted(self.counts.items())}


def field_coverage(records: list[CanonicalRecord]) -> dict[str, float]:
    """Share of records that fill each top-level field, of one list of records."""
    coverage = FieldCoverage()
    coverage.add(records)
    return coverage.shares()


def _previous_ok(conn: sa.Connection, partner_id: str, domain: str, before_id: int | None):
    query = sa.select(syncs).where(
        syncs.c.partner_id == partner_id, syncs.c.domain == domain, syncs.c.status == "ok"
    )
    if before_id is not None:
        query = query.where(syncs.c.id < before_id)
    return conn.execute(query.order_by(syncs.c.id.desc()).limit(1)).first()


SAME_DELIVERY = "The same delivery as the last good one"


def volume_check(conn: sa.Connection, partner_id: str, domain: str, sync_id: int | None,
                 unchanged: bool = False) -> FeedCheck:
    """``unchanged``: ``sync_id`` is the last good delivery itself, staged again (the feed
    answered the same bytes): nothing to compare with the one before it."""
    current = conn.execute(sa.select(syncs).where(syncs.c.id == sync_id)).first() if sync_id else None
    if current is None:
        return FeedCheck("feed_volume", True, "No delivery staged yet.")
    if unchanged:
        now = current._mapping["items"]
        return FeedCheck("feed_volume", True, f"{SAME_DELIVERY}: {now} records.",
                         {"items": now, "previous_items": now})
    previous = _previous_ok(conn, partner_id, domain, current.id)
    now, before = current._mapping["items"], previous._mapping["items"] if previous else None
    meta = {"items": now, "previous_items": before or 0}
    if before and now < VOLUME_DROP_SHARE * before:
        return FeedCheck("feed_volume", False,
                         f"The delivery holds {now} records, the last good one held {before}: "
                         f"a drop of {1 - now / before:.0%}.", meta)
    return FeedCheck("feed_volume", True, f"{now} records (last good delivery: {before or 'none'}).", meta)


def fields_check(conn: sa.Connection, partner_id: str, domain: str, sync_id: int | None,
                 unchanged: bool = False) -> FeedCheck:
    current = conn.execute(sa.select(syncs).where(syncs.c.id == sync_id)).first() if sync_id else None
    if current is None or current.field_coverage is None:
        return FeedCheck("feed_fields", True, "No field coverage recorded yet.")
    if unchanged:
        return FeedCheck("feed_fields", True, f"{SAME_DELIVERY}: the same fields.",
                         {"vanished": "-", "appeared": "-"})
    previous = _previous_ok(conn, partner_id, domain, current.id)
    if previous is None or previous.field_coverage is None:
        return FeedCheck("feed_fields", True, "First delivery: nothing to compare with.",
                         {"fields": len(current.field_coverage)})
    now, before = current.field_coverage, previous.field_coverage
    vanished = sorted(f for f, share in before.items() if share >= FIELD_PRESENT and now.get(f, 0) == 0)
    appeared = sorted(f for f, share in now.items() if share >= FIELD_PRESENT and before.get(f, 0) == 0)
    meta = {"vanished": ", ".join(vanished) or "-", "appeared": ", ".join(appeared) or "-"}
    if vanished or appeared:
        parts = []
        if vanished:
            parts.append(f"fields no longer delivered: {', '.join(vanished)}")
        if appeared:
            parts.append(f"new fields: {', '.join(appeared)}")
        return FeedCheck("feed_fields", False, "; ".join(parts).capitalize() + ".", meta)
    return FeedCheck("feed_fields", True, "The same fields as in the last good delivery.", meta)


def days_since(changed_at: dt.datetime, now: dt.datetime | None = None) -> float:
    """Days from ``changed_at`` (a feed's last change; SQLite gives it without its zone, UTC)
    to ``now``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    changed = changed_at if changed_at.tzinfo else changed_at.replace(tzinfo=dt.timezone.utc)
    return (now - changed).total_seconds() / 86400


def freshness_check(conn: sa.Connection, partner_id: str, domain: str, max_age_days: float | None,
                    now: dt.datetime | None = None) -> FeedCheck:
    state = conn.execute(sa.select(fetch_state).where(
        fetch_state.c.partner_id == partner_id, fetch_state.c.domain == domain)).first()
    if state is None or state.changed_at is None:
        return FeedCheck("feed_freshness", True, "Nothing fetched yet.")
    age_days = days_since(state.changed_at, now)
    meta = {"days_since_change": round(age_days, 2),
            "max_age_days": "not set (registry max_age_days)" if max_age_days is None else max_age_days}
    if max_age_days is not None and age_days > max_age_days:
        return FeedCheck("feed_freshness", False,
                         f"The feed has not changed for {age_days:.1f} days (expected within "
                         f"{max_age_days:g}).", meta)
    limit = "" if max_age_days is not None else "; no limit set (registry max_age_days)"
    return FeedCheck("feed_freshness", True, f"Last change {age_days:.1f} days ago{limit}.", meta)
