"""Writing a partner's accepted records, withdrawals and rejections, together with the sync
state that covers them, in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from hub.models import CanonicalRecord, Rejection
from hub.store.db import JsonText, insert_many, upsert
from hub.store.tables import fetch_state, rejections, source_records, syncs


@dataclass
class StageCounts:
    items: int = 0
    accepted: int = 0
    rejected: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    active: int = 0
    rules: dict[str, int] = field(default_factory=dict)


def record_json(data: dict) -> JsonText:
    """A record's JSON text: keys sorted, so that equal records give equal text (and hash)."""
    return JsonText(json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def record_hash(data: dict) -> str:
    return text_hash(record_json(data))


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def active_source_ids(conn: sa.Connection, partner_id: str, domain: str) -> dict[str, str]:
    rows = conn.execute(
        sa.select(source_records.c.source_id, source_records.c.content_hash).where(
            source_records.c.domain == domain,
            source_records.c.partner_id == partner_id,
            source_records.c.status == "active",
        )
    )
    return {row.source_id: row.content_hash for row in rows}


def write_stage(
    conn: sa.Connection,
    *,
    partner_id: str,
    domain: str,
    content_sha256: str,
    records: list[CanonicalRecord],
    record_rejections: list[Rejection],
    items: int,
    snapshot: bool,
    deletions: list[str],
    now: dt.datetime,
    field_coverage: dict[str, float] | None = None,
) -> tuple[int, StageCounts]:
    """Write one staged delivery; returns the sync id and the counts. The caller owns the
    transaction (``conn`` inside ``engine.begin()``)."""
    counts = StageCounts(items=items, accepted=len(records))
    counts.rejected = max(0, items - len(records))
    for r in record_rejections:
        counts.rules[r.rule] = counts.rules.get(r.rule, 0) + 1

    sync_id = conn.execute(
        syncs.insert()
        .values(
            partner_id=partner_id,
            domain=domain,
            started_at=now,
            content_sha256=content_sha256,
            status="ok",
            field_coverage=field_coverage,
        )
        .returning(syncs.c.id)
    ).scalar_one()

    existing = active_source_ids(conn, partner_id, domain)

    def changed_rows():
        for record in records:
            data = record_json(record.model_dump(mode="json"))
            digest = text_hash(data)
            sid = record.source_id
            if sid in existing and existing[sid] == digest:
                counts.unchanged += 1
                continue
            if sid in existing:
                counts.changed += 1
            else:
                counts.added += 1
            yield {
                "domain": domain,
                "partner_id": partner_id,
                "source_id": sid,
                "record": data,
                "content_hash": digest,
                "status": "active",
                "last_seen": now,
                "sync_id": sync_id,
                "first_seen": now,
            }

    # a generator: upsert writes it in batches, so a big delivery's JSON texts are never all
    # in memory at once
    upsert(conn, source_records, changed_rows(), ["domain", "partner_id", "source_id"],
           keep=("first_seen",))

    seen = {record.source_id for record in records}
    if snapshot:
        gone = [sid for sid in existing if sid not in seen]
    else:
        gone = [sid for sid in deletions if sid in existing and sid not in seen]
    for start in range(0, len(gone), 500):
        conn.execute(
            source_records.update()
            .where(
                source_records.c.domain == domain,
                source_records.c.partner_id == partner_id,
                source_records.c.source_id.in_(gone[start : start + 500]),
            )
            .values(status="withdrawn", last_seen=now, sync_id=sync_id)
        )
    counts.withdrawn = len(gone)
    counts.active = len(existing) - len(gone) + counts.added

    write_rejections(conn, sync_id, partner_id, domain, record_rejections)
    conn.execute(
        syncs.update()
        .where(syncs.c.id == sync_id)
        .values(
            finished_at=now,
            items=counts.items,
            accepted=counts.accepted,
            rejected=counts.rejected,
            added=counts.added,
            changed=counts.changed,
            withdrawn=counts.withdrawn,
        )
    )
    conn.execute(
        fetch_state.update()
        .where(fetch_state.c.partner_id == partner_id, fetch_state.c.domain == domain)
        .values(staged_sha256=content_sha256)
    )
    return sync_id, counts


def record_failed_sync(
    conn: sa.Connection, *, partner_id: str, domain: str, content_sha256: str | None,
    message: str, now: dt.datetime, status: str = "failed", items: int = 0, accepted: int = 0,
) -> int:
    return conn.execute(
        syncs.insert()
        .values(
            partner_id=partner_id,
            domain=domain,
            started_at=now,
            finished_at=now,
            content_sha256=content_sha256,
            status=status,
            message=message,
            items=items,
            accepted=accepted,
            rejected=items - accepted,
        )
        .returning(syncs.c.id)
    ).scalar_one()


def last_sync_counts(conn: sa.Connection, partner_id: str, domain: str) -> tuple[int | None, StageCounts]:
    """The counts of the partner's last staged delivery, for an unchanged re-sync: the same
    records are accepted and the same problems are still open."""
    row = conn.execute(
        sa.select(syncs)
        .where(syncs.c.partner_id == partner_id, syncs.c.domain == domain, syncs.c.status == "ok")
        .order_by(syncs.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None, StageCounts()
    rules = dict(
        conn.execute(
            sa.select(rejections.c.rule, sa.func.count())
            .where(rejections.c.sync_id == row.id)
            .group_by(rejections.c.rule)
        ).all()
    )
    counts = StageCounts(items=row._mapping["items"], accepted=row.accepted, rejected=row.rejected,
                         unchanged=row.accepted, rules={k: int(v) for k, v in rules.items()})
    return row.id, counts


def write_rejections(
    conn: sa.Connection, sync_id: int, partner_id: str, domain: str, found: list[Rejection]
) -> None:
    """The problems of one delivery, kept per sync: the quarantine and its history."""
    insert_many(
        conn,
        rejections,
        [
            {
                "sync_id": sync_id,
                "partner_id": partner_id,
                "domain": domain,
                **r.model_dump(include={
                    "source_id", "rule", "severity", "field", "value", "message",
                    "message_en", "hint", "title",
                }),
            }
            for r in found
        ],
    )
