"""Retention: offers that are over leave the directory, and contact persons' personal data is
dropped once the hub no longer needs it. Plain functions; the Dagster asset
``maintenance/retention`` (``hub/assets/maintenance.py``) runs them daily.

What is withdrawn (``withdraw_expired``; the next publication writes a ``deleted`` tombstone,
``run_retention`` publishes the affected domains itself):

- a job posting whose ``valid_through`` lies before today (valid through today is still
  shown, the same boundary as the rule JOB_EXPIRED). Today is the day in Berlin at ``now``
  (``hub.clock``): a posting valid through 30.11. goes with the first pass after midnight
  Berlin time (23:00 UTC, in summer 22:00 UTC), on any server zone;
- a course whose ``end_date`` lies before today (as COURSE_ENDED);
- a course without an end date whose ``start_date`` lies more than ``course_open_days``
  (``HUB_COURSE_OPEN_DAYS``, default 365) before today, unless the partner delivered it as
  new or changed within those days (``source_records.last_seen``): a course with rolling
  entry that the partner keeps updating stays, one that nobody touched for a year goes.
  Should the partner send it again later, it is published again like any new record.
- housing vacancies carry no end date; their partner's feed decides.

What is purged (``purge_personal_data``), ``contact_days`` (``HUB_CONTACT_RETENTION_DAYS``,
default 180) after the hub stopped needing it:

- ``source_records.record.contact`` of a withdrawn record, counted from its withdrawal
  (``last_seen`` is set when a record is withdrawn). An active record keeps its contact: the
  partner still publishes it, and a public contact is part of the directory entry.
- ``rejections.value`` of the contact fields (``contact.*``), counted from the delivery, and
  the value where the row's messages and hint quote it.
- ``changes.entry.contact`` of change-feed items that a later item of the same entity
  superseded, counted from that later item: the current state of an entity stays readable,
  its history loses the contact. ``directory.entry`` holds only public contacts of active
  records and follows the records at every publication.
- raw payloads in the landing store that no feed uses any more (neither the last fetched,
  staged nor released payload) and that no delivery newer than the period used: their bytes
  are removed (a payload may hold contacts that were never accepted), the row stays with
  ``erased_at`` so that a replay says why the payload is gone; so are the bytes of payload
  files older than the period that no delivery in the database names (a database restored
  from an older backup does not know the deliveries since); an inbox partner's files
  moved aside into ``processed/`` and ``failed/`` that are copies of such payloads are
  deleted (``purge_inbox_copies``; the Dagster asset does it, it needs the registry).
- the partners' feedback reports on disk are written again from the database afterwards
  (``refresh_feedback_reports``; the Dagster asset does it, it needs the registry).

What is compacted (``compact_changes``), ``history_days`` (``HUB_CHANGES_HISTORY_DAYS``,
default 30) after a later item superseded it: a change-feed item of an entity that has a
later item. Every entity keeps its newest item (its state, or its tombstone), so the feed
read from ``after=0`` still gives exactly the directory, and a reader at any cursor still ends
at the same state: an item removed after its cursor has its successor after the cursor too.
The newest ``seq`` stays; the feed has gaps where items went. Without it the feed grows by
every change for ever (a national jobs feed: tens of thousands of items a day, each with the
whole entry).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from hub import clock
from hub.config import env_int
from hub.store.db import forget_deleted
from hub.store.landing import LandingStore
from hub.store.tables import changes, fetch_state, landing, rejections, source_records, syncs

if TYPE_CHECKING:
    from hub.store.publish import PublishOutcome

DEFAULT_CONTACT_DAYS = 180
DEFAULT_COURSE_OPEN_DAYS = 365
DEFAULT_HISTORY_DAYS = 30
BATCH = 500


class RetentionError(ValueError):
    """A retention setting is unusable; the message is one line."""


@dataclass(frozen=True)
class RetentionPolicy:
    contact_days: int = DEFAULT_CONTACT_DAYS
    course_open_days: int = DEFAULT_COURSE_OPEN_DAYS
    history_days: int = DEFAULT_HISTORY_DAYS  # superseded change-feed items kept this long

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "RetentionPolicy":
        env = os.environ if environ is None else environ
        return cls(
            contact_days=env_int(env, "HUB_CONTACT_RETENTION_DAYS", DEFAULT_CONTACT_DAYS,
                                 minimum=1, error=RetentionError),
            course_open_days=env_int(env, "HUB_COURSE_OPEN_DAYS", DEFAULT_COURSE_OPEN_DAYS,
                                     minimum=1, error=RetentionError),
            history_days=env_int(env, "HUB_CHANGES_HISTORY_DAYS", DEFAULT_HISTORY_DAYS,
                                 minimum=1, error=RetentionError),
        )


@dataclass
class PurgeCounts:
    records: int = 0  # withdrawn source records whose contact was dropped
    rejections: int = 0  # rejection values of contact fields dropped
    changes: int = 0  # superseded change-feed items whose contact was dropped
    payloads: int = 0  # raw payloads (and pages) whose bytes were removed


@dataclass
class RetentionReport:
    withdrawn: dict[str, int] = field(default_factory=dict)  # domain -> records withdrawn
    deleted: dict[str, int] = field(default_factory=dict)  # domain -> tombstones published
    # domain -> the publication that withdrew them (the directory's new state)
    published: dict[str, PublishOutcome] = field(default_factory=dict)
    purged: PurgeCounts = field(default_factory=PurgeCounts)
    compacted: int = 0  # superseded change-feed items removed


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite returns naive UTC timestamps, PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or dt.datetime.now(dt.timezone.utc)
    return now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)


# -- expired offers -----------------------------------------------------------------------


def expired_records(
    conn: sa.Connection, today: dt.date, policy: RetentionPolicy, now: dt.datetime
) -> list[tuple[str, str, str]]:
    """(domain, partner_id, source_id) of the active records that are over (see the module
    docstring). Dates are ISO strings in the record JSON, so they compare as text."""
    rec = source_records.c.record
    key = (source_records.c.domain, source_records.c.partner_id, source_records.c.source_id)
    active = source_records.c.status == "active"
    jobs = sa.select(*key).where(
        active, source_records.c.domain == "jobs",
        rec["valid_through"].as_string() < today.isoformat(),
    )
    open_start = (today - dt.timedelta(days=policy.course_open_days)).isoformat()
    untouched = _utc(now) - dt.timedelta(days=policy.course_open_days)
    courses = sa.select(*key).where(
        active, source_records.c.domain == "courses",
        sa.or_(
            rec["end_date"].as_string() < today.isoformat(),
            sa.and_(
                rec["end_date"].as_string().is_(None),
                rec["start_date"].as_string() < open_start,
                source_records.c.last_seen < untouched,
            ),
        ),
    )
    found = [tuple(row) for row in conn.execute(jobs)] + [tuple(row) for row in conn.execute(courses)]
    return sorted(found)


def withdraw_expired(
    engine: sa.Engine,
    today: dt.date | None = None,
    policy: RetentionPolicy | None = None,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Withdraw the records that are over, in one transaction; returns the count per domain.
    ``last_seen`` becomes the withdrawal time (the contact retention counts from it)."""
    now = _utc(now)
    today = today or clock.today(now)
    policy = policy or RetentionPolicy()
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        found = expired_records(conn, today, policy, now)
        by_feed: dict[tuple[str, str], list[str]] = {}
        for domain, partner_id, source_id in found:
            by_feed.setdefault((domain, partner_id), []).append(source_id)
        for (domain, partner_id), ids in by_feed.items():
            for start in range(0, len(ids), BATCH):
                conn.execute(
                    source_records.update()
                    .where(
                        source_records.c.domain == domain,
                        source_records.c.partner_id == partner_id,
                        source_records.c.source_id.in_(ids[start : start + BATCH]),
                        source_records.c.status == "active",
                    )
                    .values(status="withdrawn", last_seen=now)
                )
            counts[domain] = counts.get(domain, 0) + len(ids)
    return counts


def withdraw_partner(engine: sa.Engine, partner_id: str, domain: str | None = None,
                     now: dt.datetime | None = None) -> dict[str, int]:
    """Withdraw every active record of a partner that left (of ``domain``, else of every
    domain) and forget what was fetched from it, so that a partner who comes back is fetched
    and staged in full; returns the records withdrawn per domain. The caller publishes the
    domains (tombstones in the change feed); contact data goes after the retention period,
    as for any withdrawn record."""
    now = _utc(now)
    where = [source_records.c.partner_id == partner_id, source_records.c.status == "active"]
    state = [fetch_state.c.partner_id == partner_id]
    if domain:
        where.append(source_records.c.domain == domain)
        state.append(fetch_state.c.domain == domain)
    with engine.begin() as conn:
        counts = dict(conn.execute(
            sa.select(source_records.c.domain, sa.func.count()).where(*where)
            .group_by(source_records.c.domain)).all())
        conn.execute(source_records.update().where(*where).values(status="withdrawn", last_seen=now))
        conn.execute(fetch_state.delete().where(*state))
    return {d: int(n) for d, n in sorted(counts.items())}


# -- personal data ------------------------------------------------------------------------


def purge_personal_data(
    engine: sa.Engine,
    store: LandingStore | None = None,
    policy: RetentionPolicy | None = None,
    now: dt.datetime | None = None,
) -> PurgeCounts:
    """Drop contact data the hub no longer needs (see the module docstring)."""
    now = _utc(now)
    policy = policy or RetentionPolicy()
    cutoff = now - dt.timedelta(days=policy.contact_days)
    counts = PurgeCounts()
    with engine.begin() as conn:
        counts.records = _purge_records(conn, cutoff)
        counts.rejections = _purge_rejections(conn, cutoff)
        counts.changes = _purge_changes(conn, cutoff)
    forget_deleted(engine)
    if store is not None:
        counts.payloads = purge_payloads(engine, store, cutoff, now)
    return counts


def _purge_records(conn: sa.Connection, cutoff: dt.datetime) -> int:
    rec = source_records.c.record
    rows = conn.execute(
        sa.select(source_records.c.domain, source_records.c.partner_id, source_records.c.source_id,
                  rec)
        .where(
            source_records.c.status == "withdrawn",
            source_records.c.last_seen < cutoff,
            rec["contact"].as_string().is_not(None),
        )
    ).all()
    stmt = (
        source_records.update()
        .where(
            source_records.c.domain == sa.bindparam("k_domain"),
            source_records.c.partner_id == sa.bindparam("k_partner"),
            source_records.c.source_id == sa.bindparam("k_source"),
        )
        .values(record=sa.bindparam("new_record"))
    )
    params = []
    for row in rows:
        if not row.record.get("contact"):
            continue
        params.append({"k_domain": row.domain, "k_partner": row.partner_id,
                       "k_source": row.source_id, "new_record": {**row.record, "contact": None}})
    for start in range(0, len(params), BATCH):
        conn.execute(stmt, params[start : start + BATCH])
    return len(params)


def _purge_rejections(conn: sa.Connection, cutoff: dt.datetime) -> int:
    """The values of rejected contact fields, from their column and from the messages and
    the hint that quote them (the rules' texts say "The contact's e-mail address '...' is
    invalid")."""
    old_syncs = sa.select(syncs.c.id).where(syncs.c.started_at < cutoff)
    rows = conn.execute(
        sa.select(rejections.c.id, rejections.c.value, rejections.c.message,
                  rejections.c.message_en, rejections.c.hint)
        .where(
            rejections.c.field.like("contact%"),
            rejections.c.value.is_not(None),
            rejections.c.sync_id.in_(old_syncs),
        )
    ).all()
    params = [{"k_id": row.id, "new_message": without_value(row.message, row.value),
               "new_message_en": without_value(row.message_en, row.value),
               "new_hint": without_value(row.hint, row.value)} for row in rows]
    stmt = (rejections.update().where(rejections.c.id == sa.bindparam("k_id"))
            .values(value=None, message=sa.bindparam("new_message"),
                    message_en=sa.bindparam("new_message_en"), hint=sa.bindparam("new_hint")))
    for start in range(0, len(params), BATCH):
        conn.execute(stmt, params[start : start + BATCH])
    return len(params)


PURGED = "…"  # stands in a rejection's message where the purged value stood


def without_value(text: str | None, value: str) -> str | None:
    """``text`` with every occurrence of ``value`` replaced by ``PURGED``."""
    return text.replace(value, PURGED) if text and value else text


def _purge_changes(conn: sa.Connection, cutoff: dt.datetime) -> int:
    later = changes.alias("later")
    superseded_at = (
        sa.select(sa.func.min(later.c.created_at))
        .where(later.c.entity_id == changes.c.entity_id, later.c.seq > changes.c.seq)
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(changes.c.seq, changes.c.entry).where(
            changes.c.op == "updated",
            sa.cast(changes.c.entry, sa.Text).like('%"contact"%'),
            superseded_at < cutoff,
        )
    ).all()
    params = []
    for row in rows:
        entry = dict(row.entry or {})
        if "contact" not in entry:
            continue
        entry.pop("contact")
        provenance = dict(entry.get("provenance") or {})
        provenance.pop("contact", None)
        if "provenance" in entry:
            entry["provenance"] = provenance
        params.append({"k_seq": row.seq, "new_entry": entry})
    stmt = changes.update().where(changes.c.seq == sa.bindparam("k_seq")).values(
        entry=sa.bindparam("new_entry"))
    for start in range(0, len(params), BATCH):
        conn.execute(stmt, params[start : start + BATCH])
    return len(params)


def purge_payloads(engine: sa.Engine, store: LandingStore, cutoff: dt.datetime,
                   now: dt.datetime) -> int:
    """Remove the bytes of raw payloads no feed uses any more and no delivery since
    ``cutoff`` used; returns how many payloads (manifests and pages) lost their bytes."""
    store.sweep_incoming(before=cutoff.timestamp())  # writes that never finished
    with engine.connect() as conn:
        current = set()
        for row in conn.execute(sa.select(fetch_state.c.content_sha256, fetch_state.c.staged_sha256,
                                          fetch_state.c.released_sha256)):
            current.update(sha for sha in row if sha)
        recent = {sha for (sha,) in conn.execute(
            sa.select(syncs.c.content_sha256).where(syncs.c.started_at >= cutoff).distinct()) if sha}
        rows = conn.execute(sa.select(landing.c.sha256, landing.c.first_seen)).all()
    # a payload erased once may have been fetched again: the file decides, not erased_at
    old = sorted(r.sha256 for r in rows if _aware(r.first_seen) < cutoff
                 and r.sha256 not in current and r.sha256 not in recent
                 and r.sha256 in store)
    unnamed = _unnamed_payloads(store, rows, cutoff)
    when = now.isoformat()
    removed = sum(store.erase(sha, "retention period; no delivery in the database named it", when)
                  for sha in unnamed)
    if not old:
        return removed
    going = set(old)
    kept_pages = {page for r in rows if r.sha256 not in going for page in store.pages(r.sha256)}
    for sha in old:
        for page in store.pages(sha):
            if page not in kept_pages and store.erase(page, "retention period", when):
                removed += 1
        if store.erase(sha, "retention period", when):
            removed += 1
    with engine.begin() as conn:
        for start in range(0, len(old), BATCH):
            conn.execute(landing.update().where(landing.c.sha256.in_(old[start : start + BATCH]))
                         .values(erased_at=now))
    return removed


def _unnamed_payloads(store: LandingStore, rows, cutoff: dt.datetime) -> list[str]:
    """Payload files written before ``cutoff`` that no ``landing`` row names, nor the manifest
    of one: deliveries the database does not know, as after it was restored from an older
    backup (the landing store's files since then stay). No feed uses them and no erasure
    finds them; they held contacts for ever."""
    if not store.root.is_dir():
        return []
    named = {r.sha256 for r in rows}
    before = cutoff.timestamp()
    candidates = []
    for path in store.root.glob("??/??/*"):
        if len(path.name) != 64 or path.name in named:  # markers, temporary files
            continue
        try:
            if path.stat().st_mtime < before:
                candidates.append(path.name)
        except FileNotFoundError:
            continue
    if not candidates:
        return []
    for r in rows:  # pages and details of manifests have no row of their own
        named.update(store.pages(r.sha256))
    return sorted(sha for sha in candidates if sha not in named)


def purge_inbox_copies(engine: sa.Engine, store: LandingStore, folders, cutoff: dt.datetime) -> int:
    """Delete the files of the inboxes' ``processed/`` and ``failed/`` folders (``folders``:
    the inbox folders) that moved aside before ``cutoff`` and whose bytes the landing store no
    longer keeps (``purge_payloads`` or an erasure removed them): they are copies of those
    payloads, with the same contacts. Returns how many files were deleted."""
    import hashlib
    from pathlib import Path

    from hub.inbox import files_aside

    with engine.connect() as conn:
        dropped = {sha for (sha,) in conn.execute(
            sa.select(landing.c.sha256).where(landing.c.erased_at.is_not(None)))}
    if not dropped:
        return 0
    removed = 0
    for path in (path for folder in folders for path in files_aside(Path(folder))):
        try:
            if path.stat().st_mtime >= cutoff.timestamp():
                continue
            with path.open("rb") as handle:
                sha = hashlib.file_digest(handle, "sha256").hexdigest()
            if sha in dropped and sha not in store:
                path.unlink()
                removed += 1
        except OSError:
            continue  # gone meanwhile, or unreadable: the next daily pass tries again
    return removed


# -- feedback reports on disk -------------------------------------------------------------


def refresh_feedback_reports(engine: sa.Engine, partners, folder, only=None) -> int:
    """Write the partners' stored feedback reports (``folder/<partner>/<domain>/``) again from
    the database, so that a report on disk keeps nothing that retention or an erasure removed
    from the rejections. Only folders that exist are rewritten; ``only``: a set of
    (partner_id, domain) to limit it to. Returns how many folders were rewritten."""
    from pathlib import Path

    from hub.quality.feedback import REPORT_FILES, latest_report, write_report

    root = Path(folder)
    count = 0
    for partner in partners:
        for feed in partner.feeds:
            if only is not None and (partner.id, feed.domain) not in only:
                continue
            target = root / partner.id / feed.domain
            if not target.is_dir():
                continue
            report = latest_report(engine, partner, feed.domain,
                                   getattr(partner, "feedback_language", "de"))
            if report is None:
                for name in REPORT_FILES.values():
                    (target / name).unlink(missing_ok=True)
            else:
                write_report(report, target)
            count += 1
    return count


# -- the daily pass -----------------------------------------------------------------------


def run_retention(
    engine: sa.Engine,
    store: LandingStore | None = None,
    *,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    policy: RetentionPolicy | None = None,
) -> RetentionReport:
    """Withdraw what is over, publish the domains that changed (tombstones in the change
    feed), then purge personal data past its period."""
    from hub.store.publish import publish_domain

    now = _utc(now)
    policy = policy or RetentionPolicy()
    report = RetentionReport()
    report.withdrawn = withdraw_expired(engine, today or clock.today(now), policy, now)
    for domain in sorted(d for d, n in report.withdrawn.items() if n):
        report.published[domain] = outcome = publish_domain(engine, domain, now=now)
        report.deleted[domain] = outcome.deleted
    report.purged = purge_personal_data(engine, store, policy, now)
    report.compacted = compact_changes(engine, now - dt.timedelta(days=policy.history_days))
    return report


def compact_changes(engine: sa.Engine, cutoff: dt.datetime) -> int:
    """Remove the change-feed items that a later item of the same entity superseded before
    ``cutoff`` (see the module docstring); how many went."""
    later = changes.alias("later")
    superseded = sa.exists().where(later.c.entity_id == changes.c.entity_id,
                                   later.c.seq > changes.c.seq, later.c.created_at < cutoff)
    with engine.begin() as conn:
        return conn.execute(changes.delete().where(superseded)).rowcount
