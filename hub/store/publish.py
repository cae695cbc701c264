"""Publication: resolve a domain's active records into entities and write the directory, the
entity map and the change feed in one transaction. Readers never see half a publication."""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass

import sqlalchemy as sa

from hub.faults import crash_point
from hub.resolve import EntityInfo, assign_ids, build_entry, content_hash, resolve_clusters
from hub.store.db import upsert
from hub.store.search import search_columns
from hub.store.tables import changes, directory, entities, entity_map, publications, source_records

PUBLISH_LOCK = 727_001  # PostgreSQL advisory lock: one publisher at a time keeps seq monotonic


@dataclass
class PublishOutcome:
    domain: str
    publication_id: int
    entries: int
    added: int
    updated: int
    deleted: int
    merged: int
    clusters_multi: int
    largest_cluster: int
    records: int = 0  # active source records resolved
    splits: int = 0  # entities that split off an existing one this run
    new_entities: int = 0
    withdrawn_entities: int = 0
    seq: int | None = None  # the change-feed sequence after this publication, if it moved


def publish_domain(engine: sa.Engine, domain: str, now: dt.datetime | None = None) -> PublishOutcome:
    now = now or dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLISH_LOCK})
        outcome = _publish(conn, domain, now)
        crash_point("publish:written")
    announce(engine, outcome.seq)
    return outcome


# ------------------------------------------------------------------ telling readers (read API)
#
# A publication that changes the directory advances the change-feed sequence. Readers that
# cache pages by that sequence (hub/api/version.py) learn of it by PostgreSQL's NOTIFY on the
# channel of the schema, sent inside the publication's transaction and so delivered on commit,
# and in the same process by ``announce``, called after the commit.

_ANNOUNCED: dict[str, list] = {}


def channel_name(schema: str) -> str:
    return f"hub_directory:{schema}"[:63]


def _engine_key(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def on_announce(engine: sa.Engine, callback) -> None:
    """Call ``callback(seq)`` (a bound method, held weakly) after each publication through
    this process on ``engine``'s database that advanced the sequence to ``seq``."""
    _ANNOUNCED.setdefault(_engine_key(engine), []).append(weakref.WeakMethod(callback))


def announce(engine: sa.Engine, seq: int | None) -> None:
    """After a commit: tell this process's readers of ``engine``'s database."""
    if seq is None:
        return
    listeners = _ANNOUNCED.get(_engine_key(engine), [])
    for ref in list(listeners):
        callback = ref()
        if callback is None:
            listeners.remove(ref)
        else:
            callback(seq)


def _notify(conn: sa.Connection, seq: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_notify(:channel, :seq)"),
                     {"channel": channel_name(conn.execute(sa.text("SELECT current_schema()")).scalar()),
                      "seq": str(seq)})


STREAM = 5_000  # rows fetched at a time when publication reads a domain's records
WRITE = 2_000  # changed entries written at a time


def _active_records(conn: sa.Connection, domain: str):
    """The domain's active source records, streamed (a national domain holds a million)."""
    return conn.execute(
        sa.select(source_records.c.partner_id, source_records.c.source_id, source_records.c.record,
                  source_records.c.first_seen)
        .where(source_records.c.domain == domain, source_records.c.status == "active"),
        execution_options={"yield_per": STREAM},
    )


def _publish(conn: sa.Connection, domain: str, now: dt.datetime) -> PublishOutcome:
    """Resolve the domain and write what changed. Memory: the records are read twice as a
    stream, once for resolution (which keeps only their features and keys) and once to build
    the entries, each entry written (when it changed) and dropped as soon as all its records
    are read; only the records of entities of several records wait for their last one."""
    seen_order: dict = {}

    def for_resolution():
        for row in _active_records(conn, domain):
            rk = (row.partner_id, row.source_id)
            seen_order[rk] = (_ts(row.first_seen), rk)
            yield rk, row.record

    groups = resolve_clusters(domain, for_resolution())
    previous = {
        (r.partner_id, r.source_id): r.entity_id
        for r in conn.execute(
            sa.select(entity_map.c.partner_id, entity_map.c.source_id, entity_map.c.entity_id).where(
                entity_map.c.domain == domain
            )
        )
    }
    created: dict[str, dt.datetime] = {}
    known: dict[str, EntityInfo] = {}
    for r in conn.execute(sa.select(entities).where(entities.c.domain == domain)):
        created[r.entity_id] = r.created_at
        known[r.entity_id] = EntityInfo(entity_id=r.entity_id, status=r.status,
                                        anchor=(r.anchor_partner_id, r.anchor_source_id),
                                        created_at=_ts(r.created_at), merged_into=r.merged_into)
    assignment = assign_ids(domain, groups, seen_order, previous, known)
    del groups, seen_order

    # entities
    def entity_row(eid: str, status: str, anchor, merged_into: str | None = None) -> dict:
        return {"entity_id": eid, "domain": domain, "status": status, "merged_into": merged_into,
                "anchor_partner_id": anchor[0], "anchor_source_id": anchor[1],
                "created_at": created.get(eid) or now, "updated_at": now}

    def entity_rows():
        for eid in assignment.clusters:
            yield entity_row(eid, "active", assignment.anchors[eid])
        for eid, survivor in assignment.merged.items():
            yield entity_row(eid, "merged", known[eid].anchor, survivor)
        for eid in assignment.withdrawn:
            yield entity_row(eid, "withdrawn", known[eid].anchor)

    upsert(conn, entities, _changed_entities(entity_rows(), known), ["entity_id"])
    del created, known

    # entity map: only rows whose entity changed
    upsert(conn, entity_map, (
        {"domain": domain, "partner_id": rk[0], "source_id": rk[1], "entity_id": eid, "updated_at": now}
        for rk, eid in assignment.record_entity.items()
        if previous.get(rk) != eid
    ), ["domain", "partner_id", "source_id"])
    del previous

    # directory entries: built as their records stream by, written when they changed
    current = {
        r.entity_id: r.content_hash
        for r in conn.execute(
            sa.select(directory.c.entity_id, directory.c.content_hash).where(directory.c.domain == domain)
        )
    }
    publication_id = conn.execute(
        publications.insert()
        .values(domain=domain, published_at=now, entries=len(assignment.clusters), added=0, updated=0,
                deleted=0, merged=len(assignment.merged))
        .returning(publications.c.id)
    ).scalar_one()
    writer = _EntryWriter(conn, domain, publication_id, now, current)
    waiting: dict[str, dict] = {}  # entity id -> its records read so far (entities of several)
    for row in _active_records(conn, domain):
        rk = (row.partner_id, row.source_id)
        eid = assignment.record_entity[rk]
        members = assignment.clusters[eid]
        item = (rk[0], rk[1], row.record, row.first_seen)
        if len(members) > 1:
            got = waiting.setdefault(eid, {})
            got[rk] = item
            if len(got) < len(members):
                continue
            items = [got[m] for m in members]
            del waiting[eid]
        else:
            items = [item]
        writer.add(eid, build_entry(domain, eid, items))
    writer.flush()
    if waiting:  # cannot be: the records changed under the publication's transaction
        raise RuntimeError(f"publication of {domain}: records of {len(waiting)} entities went missing")

    removed = sorted(eid for eid in current if eid not in assignment.clusters)
    tombstones = []
    for eid in removed:
        tombstone = {"id": eid, "domain": domain}
        if eid in assignment.merged:
            tombstone["merged_into"] = assignment.merged[eid]
        tombstones.append({"publication_id": publication_id, "entity_id": eid, "domain": domain,
                           "op": "deleted", "entry": tombstone, "created_at": now})
    seq = writer.seq
    for start in range(0, len(tombstones), WRITE):
        result = conn.execute(changes.insert().returning(changes.c.seq), tombstones[start:start + WRITE])
        seq = max([seq or 0, *result.scalars()])
    for start in range(0, len(removed), 500):
        conn.execute(directory.delete().where(directory.c.entity_id.in_(removed[start : start + 500])))
    conn.execute(
        publications.update()
        .where(publications.c.id == publication_id)
        .values(added=writer.added, updated=writer.updated, deleted=len(removed))
    )
    if seq is not None:
        _notify(conn, seq)
    sizes = [len(m) for m in assignment.clusters.values()]
    return PublishOutcome(
        domain=domain,
        publication_id=publication_id,
        entries=len(assignment.clusters),
        added=writer.added,
        updated=writer.updated,
        deleted=len(removed),
        merged=len(assignment.merged),
        clusters_multi=sum(1 for s in sizes if s > 1),
        largest_cluster=max(sizes, default=0),
        records=len(assignment.record_entity),
        splits=len(assignment.split_from),
        new_entities=len(assignment.new),
        withdrawn_entities=len(assignment.withdrawn),
        seq=seq,
    )


class _EntryWriter:
    """Writes the entries that changed (content hash differs from the directory's), ``WRITE``
    at a time: their change-feed rows first, then the directory rows with those sequence
    numbers."""

    def __init__(self, conn: sa.Connection, domain: str, publication_id: int, now: dt.datetime,
                 current: dict[str, str]) -> None:
        self.conn, self.domain, self.publication_id, self.now = conn, domain, publication_id, now
        self.current = current
        self.pending: list[tuple[str, dict, str]] = []
        self.added = self.updated = 0
        self.seq: int | None = None

    def add(self, eid: str, entry: dict) -> None:
        digest = content_hash(entry)
        if self.current.get(eid) == digest:
            return
        if eid in self.current:
            self.updated += 1
        else:
            self.added += 1
        self.pending.append((eid, entry, digest))
        if len(self.pending) >= WRITE:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch = sorted(self.pending, key=lambda item: item[0])
        self.pending = []
        result = self.conn.execute(
            changes.insert().returning(changes.c.seq, changes.c.entity_id, sort_by_parameter_order=True),
            [{"publication_id": self.publication_id, "entity_id": eid, "domain": self.domain, "op": "updated",
              "entry": entry, "created_at": self.now} for eid, entry, _ in batch],
        )
        seqs = {row.entity_id: row.seq for row in result}
        self.seq = max(self.seq or 0, *seqs.values())
        domain, now = self.domain, self.now
        upsert(self.conn, directory, [
            {
                "entity_id": eid,
                "domain": domain,
                "title": entry.get("title", ""),
                "organisation": entry.get("organisation"),
                "postal_code": (entry.get("address") or {}).get("postal_code"),
                "city": (entry.get("address") or {}).get("city"),
                "municipality_key": (entry.get("address") or {}).get("municipality_key"),
                "lat": (entry.get("geo") or {}).get("lat"),
                "lon": (entry.get("geo") or {}).get("lon"),
                "entry": entry,
                "content_hash": digest,
                "seq": seqs[eid],
                "updated_at": now,
                **search_columns(domain, entry),
            }
            for eid, entry, digest in batch
        ], ["entity_id"])


def _changed_entities(rows, known: dict[str, EntityInfo]):
    for row in rows:
        info = known.get(row["entity_id"])
        if (
            info
            and info.status == row["status"]
            and info.merged_into == row["merged_into"]
            and info.anchor == (row["anchor_partner_id"], row["anchor_source_id"])
        ):
            continue
        yield row


def _ts(value: dt.datetime | None) -> str:
    """Comparable text for a timestamp (SQLite returns naive, PostgreSQL aware datetimes)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat()
