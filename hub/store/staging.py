"""Writing a partner's accepted records, withdrawals and rejections, together with the sync
state that covers them, in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa

from hub.models import CanonicalRecord, Rejection
from hub.store.db import (
    JsonText,
    batches,
    conflict_insert,
    insert_many,
    insert_tuples,
    json_text,
    param_marker,
)
from hub.store.tables import TS, fetch_state, rejections, source_records, syncs


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
    errors: dict[str, int] = field(default_factory=dict)  # the rules that rejected records


def record_json(data: dict) -> JsonText:
    """A record's JSON text: keys sorted, so that equal records give equal text (and hash)."""
    return JsonText(json_text(data, sort_keys=True))


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


# the delivery being staged, on the staging connection only: the source ids of all its
# records (record NULL for a rejected one) and the accepted records' JSON and hash
_delivery = sa.Table(
    "hub_stage_delivery",
    sa.MetaData(),
    sa.Column("source_id", sa.String(255), primary_key=True),
    sa.Column("record", sa.JSON),
    sa.Column("content_hash", sa.String(64)),
    # the record's organisation: a repeat of its id from another provider says so
    sa.Column("organisation", sa.Text),
    prefixes=["TEMPORARY"],
)

# likewise the delivery's rejections, in the order found, until the sync row they belong to
# is written (``StageWriter.open_sync``)
_found = sa.Table(
    "hub_stage_rejections",
    sa.MetaData(),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=True),
    *(sa.Column(c.name, c.type) for c in rejections.c if c.name not in ("id", "sync_id")),
    prefixes=["TEMPORARY"],
)


class StageWriter:
    """Writes one delivery chunk by chunk, so that a big delivery is never all in memory:
    ``add`` puts each chunk's records and rejections into temporary tables of the connection
    (no lock on the database, so other partners' syncs go on meanwhile); the decision whether
    the delivery may change the directory (rejection share, withdrawals) is taken once all
    of it has been read, in the transaction that writes: ``open_sync`` writes the sync row
    and the rejections (on SQLite its first statement takes the write lock), the figures come
    from ``withdrawals`` and ``active``, then ``apply`` merges the delivery into
    ``source_records`` in one statement, or ``hold`` leaves them as they were. That
    transaction commits the sync row with everything it covers, or nothing.

    A source id seen before in the same delivery is rejected as a duplicate (the first one
    counts, as in ``drop_duplicate_ids``)."""

    def __init__(self, conn: sa.Connection, *, partner_id: str, domain: str,
                 content_sha256: str, now: dt.datetime):
        self.conn, self.partner_id, self.domain, self.now = conn, partner_id, domain, now
        self.content_sha256 = content_sha256
        self.counts = StageCounts()
        self.sync_id: int | None = None
        for table in (_delivery, _found):  # left by an earlier failure on this connection
            table.drop(conn, checkfirst=True)
            table.create(conn)
        marker = param_marker(conn)
        self._lookup = f"SELECT source_id, organisation FROM {_delivery.name} WHERE source_id IN "
        self._marker = marker
        self._seen = np.empty(0, dtype=np.int64)  # hashes of the delivery's ids (``_earlier``)

    # -- reading the delivery ---------------------------------------------------------

    def new_ids(self, records: list[CanonicalRecord], found: list[Rejection]) -> list[CanonicalRecord]:
        """``records`` without those whose source id came before in the delivery; each of
        those is added to ``found`` as RECORD_ID_DUPLICATE."""
        from hub.formats.base import duplicate

        earlier = self._earlier(list({record.source_id for record in records}))
        kept = []
        for record in records:
            if record.source_id in earlier:
                found.append(duplicate(record, first=earlier[record.source_id]))
                continue
            earlier[record.source_id] = record.organisation
            kept.append(record)
        return kept

    def _earlier(self, ids: list[str]) -> dict[str, str | None]:
        """Those of ``ids`` that the delivery holds already (source id -> the organisation of
        its first record). The ids handed to ``add`` so far are known here by their hashes, a
        sorted array of 8 bytes per record (8 MB for a million); only an id whose hash is
        among them, a repeat (or, seldom, another id of the same hash), is looked up in the
        delivery's table. Looking every id up cost seconds per 100,000 records on PostgreSQL,
        where a big delivery's table outgrows the server's buffers for temporary tables.
        The ids become known as they are returned: the caller hands them to ``add`` next."""
        hashes = np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids))
        order = np.argsort(hashes, kind="stable")
        hashes = hashes[order]
        seen = self._seen
        at = np.searchsorted(seen, hashes)
        hit = (seen[np.minimum(at, len(seen) - 1)] == hashes if len(seen)
               else np.zeros(len(hashes), dtype=bool))
        self._seen = np.insert(seen, at, hashes)
        earlier: dict[str, str | None] = {}
        for part in batches([ids[i] for i in order[hit]], 500):
            marks = ", ".join([self._marker] * len(part))
            earlier.update(tuple(row) for row in self.conn.exec_driver_sql(
                self._lookup + f"({marks})", tuple(part)))
        return earlier

    def forget(self, source_ids: set[str]) -> int:
        """Take the records of ``source_ids`` out of the delivery again (a later DELETE of the
        same object counts: ``ParseResult.later_entries``); returns how many of them had been
        accepted, which no longer count as items of the delivery."""
        accepted = 0
        for part in batches(sorted(source_ids), 500):
            chosen = _delivery.c.source_id.in_(part)
            accepted += self.conn.execute(
                sa.select(sa.func.count()).select_from(_delivery)
                .where(chosen, _delivery.c.record.is_not(None))).scalar_one()
            self.conn.execute(_delivery.delete().where(chosen))
        self.counts.accepted -= accepted
        return accepted

    def add(self, checked: list[CanonicalRecord], accepted: list[CanonicalRecord],
            found: list[Rejection]) -> None:
        """One chunk: ``checked`` the records of the chunk that ``new_ids`` kept, ``accepted``
        those of them that passed the checks, ``found`` the chunk's rejections."""
        ok = {id(record) for record in accepted}
        rows = []
        for record in checked:
            if id(record) in ok:
                # model_dump(mode="json"), without its wrapper's keywords (1 us a record)
                data = record_json(record.__pydantic_serializer__.to_python(record, mode="json"))
                rows.append((record.source_id, data, text_hash(data), record.organisation))
            else:
                rows.append((record.source_id, None, None, record.organisation))
        insert_tuples(self.conn, _delivery, ["source_id", "record", "content_hash", "organisation"],
                      rows)
        self.counts.accepted += len(accepted)
        for r in found:
            self.counts.rules[r.rule] = self.counts.rules.get(r.rule, 0) + 1
            if r.severity == "error":
                self.counts.errors[r.rule] = self.counts.errors.get(r.rule, 0) + 1
        insert_many(self.conn, _found, _rejection_rows(self.partner_id, self.domain, found))

    def open_sync(self) -> int:
        """The sync row and the delivery's rejections, written: the first writes of the
        transaction that decides and applies (on SQLite it waits here for the write lock,
        and reads what is committed from then on)."""
        if self.sync_id is None:
            self.sync_id = self.conn.execute(
                syncs.insert()
                .values(partner_id=self.partner_id, domain=self.domain, started_at=self.now,
                        content_sha256=self.content_sha256, status="ok")
                .returning(syncs.c.id)
            ).scalar_one()
            names = [c.name for c in _found.c if c.name != "position"]
            self.conn.execute(rejections.insert().from_select(
                ["sync_id", *names],
                sa.select(sa.literal(self.sync_id), *(_found.c[n] for n in names))
                .order_by(_found.c.position)))
        return self.sync_id

    # -- the decision -----------------------------------------------------------------

    def _mine(self):
        return sa.and_(source_records.c.domain == self.domain,
                       source_records.c.partner_id == self.partner_id,
                       source_records.c.status == "active")

    def active(self) -> int:
        """The partner's records in the directory before this delivery."""
        return self.conn.execute(
            sa.select(sa.func.count()).select_from(source_records).where(self._mine())
        ).scalar_one()

    def _gone(self, deletions: list[str] | None):
        """The condition on ``source_records`` for what this delivery withdraws: a snapshot
        every record it does not accept; a delta only those it deletes (``deletions``)."""
        accepted_now = sa.exists().where(_delivery.c.source_id == source_records.c.source_id,
                                         _delivery.c.record.is_not(None))
        condition = sa.and_(self._mine(), ~accepted_now)
        if deletions is not None:
            condition = sa.and_(condition, source_records.c.source_id.in_(
                sa.bindparam("deleted", expanding=True)))
        return condition

    def withdrawals(self) -> int:
        """How many of the partner's records the delivery, as a snapshot, would withdraw."""
        return self.conn.execute(sa.select(sa.func.count()).select_from(source_records)
                                 .where(self._gone(None))).scalar_one()

    def apply(self, *, items: int, snapshot: bool, deletions: list[str],
              field_coverage: dict[str, float] | None = None,
              headers: dict[str, str] | None = None) -> StageCounts:
        """Merge the delivery into ``source_records``: new and changed records written,
        unchanged ones left alone; withdrawn what a snapshot no longer holds, or what a delta
        deletes. Commits nothing: the caller's transaction does."""
        self.open_sync()
        counts = self.counts
        counts.items = items
        counts.rejected = max(0, items - counts.accepted)
        active_before = self.active()
        old = source_records.alias("old")
        known = sa.and_(old.c.domain == self.domain, old.c.partner_id == self.partner_id,
                        old.c.source_id == _delivery.c.source_id, old.c.status == "active")
        joined = _delivery.outerjoin(old, known)
        added, changed = self.conn.execute(
            sa.select(
                sa.func.count().filter(old.c.source_id.is_(None)),
                sa.func.count().filter(old.c.content_hash != _delivery.c.content_hash),
            ).select_from(joined).where(_delivery.c.record.is_not(None))
        ).one()
        counts.added, counts.changed = added, changed
        counts.unchanged = counts.accepted - added - changed

        insert = conflict_insert(self.conn, source_records)
        rows = sa.select(
            sa.literal(self.domain), sa.literal(self.partner_id), _delivery.c.source_id,
            _delivery.c.record, _delivery.c.content_hash, sa.literal("active"),
            sa.literal(self.now, TS), sa.literal(self.sync_id), sa.literal(self.now, TS),
        ).select_from(joined).where(
            _delivery.c.record.is_not(None),
            sa.or_(old.c.source_id.is_(None), old.c.content_hash != _delivery.c.content_hash),
        )
        insert = insert.from_select(
            ["domain", "partner_id", "source_id", "record", "content_hash", "status",
             "last_seen", "sync_id", "first_seen"], rows)
        self.conn.execute(insert.on_conflict_do_update(
            index_elements=["domain", "partner_id", "source_id"],
            set_={name: getattr(insert.excluded, name)
                  for name in ("record", "content_hash", "status", "last_seen", "sync_id")},
        ))

        withdraw = source_records.update().values(status="withdrawn", last_seen=self.now,
                                                  sync_id=self.sync_id)
        if snapshot:
            counts.withdrawn = self.conn.execute(withdraw.where(self._gone(None))).rowcount
        else:
            counts.withdrawn = sum(
                self.conn.execute(withdraw.where(self._gone(part)), {"deleted": part}).rowcount
                for part in batches(sorted(set(deletions)), 500))
        counts.active = active_before - counts.withdrawn + counts.added
        self.conn.execute(
            syncs.update().where(syncs.c.id == self.sync_id).values(
                finished_at=self.now, items=counts.items, accepted=counts.accepted,
                rejected=counts.rejected, added=counts.added, changed=counts.changed,
                withdrawn=counts.withdrawn, field_coverage=field_coverage,
                headers=headers or None))
        self.conn.execute(
            fetch_state.update()
            .where(fetch_state.c.partner_id == self.partner_id, fetch_state.c.domain == self.domain)
            .values(staged_sha256=self.content_sha256))
        self._done()
        return counts

    def hold(self, *, status: str, message: str, items: int,
             field_coverage: dict[str, float] | None = None,
             headers: dict[str, str] | None = None) -> None:
        """The delivery does not change the directory: its sync row says why (``held`` until
        a steward releases it, or ``failed``); its rejections stay, for the partner's
        feedback, and its field coverage, for the check that compares it with the last good
        delivery (a broken export that drops a column is what a hold often is)."""
        self.open_sync()
        self.conn.execute(
            syncs.update().where(syncs.c.id == self.sync_id).values(
                finished_at=self.now, status=status, message=message, items=items,
                accepted=self.counts.accepted, rejected=max(0, items - self.counts.accepted),
                field_coverage=field_coverage, headers=headers or None))
        self._done()

    def _done(self) -> None:
        _delivery.drop(self.conn)
        _found.drop(self.conn)


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
    """Write one staged delivery whose records are all checked and accepted, in one chunk;
    returns the sync id and the counts. The caller owns the transaction (``conn`` inside
    ``engine.begin()``)."""
    writer = StageWriter(conn, partner_id=partner_id, domain=domain,
                         content_sha256=content_sha256, now=now)
    found = list(record_rejections)
    kept = writer.new_ids(records, found)
    writer.add(kept, kept, found)
    counts = writer.apply(items=items, snapshot=snapshot, deletions=deletions,
                          field_coverage=field_coverage)
    return writer.sync_id, counts


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


def _rejection_rows(partner_id: str, domain: str, found: list[Rejection]):
    for r in found:
        yield {"partner_id": partner_id, "domain": domain,
               **r.model_dump(include={"source_id", "rule", "severity", "field", "value",
                                       "message", "message_en", "hint", "title", "line"})}
