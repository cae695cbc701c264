"""Publication: resolve a domain's active records into entities and write the directory, the
entity map and the change feed in one transaction. Readers never see half a publication."""

from __future__ import annotations

import datetime as dt
import hashlib
import weakref
from array import array
from dataclasses import dataclass
from typing import Callable, NamedTuple

import sqlalchemy as sa

from hub import collector
from hub.faults import crash_point
from hub.resolve import EntityInfo, Resolver, assign_ids, build_entry, content_hash
from hub.resolve.engine import record_keys
from hub.store.affected import CHUNK, ScopeTooLarge, find_scope, key_hash, record_chunks
from hub.store.db import JsonText, batches, begin_writes, insert_tuples, json_text, page_cache, upsert
from hub.store.search import region_key, search_columns
from hub.store.tables import (
    changes,
    directory,
    entities,
    entity_map,
    publications,
    resolution_keys,
    source_records,
)

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
    mode: str = "full"  # or incremental: only what changed and what it can reach was resolved


Progress = Callable[[str], None]
PROGRESS_EVERY = 100_000  # entries written between two progress lines


def _silent(_message: str) -> None:
    pass


@collector.paused()
def publish_domain(engine: sa.Engine, domain: str, now: dt.datetime | None = None,
                   mode: str = "auto", progress: Progress = _silent) -> PublishOutcome:
    """``mode``: auto (incremental where it can be), full or incremental (see ``_publish``).
    ``progress``: called with a line for each phase of the publication and every
    PROGRESS_EVERY entries written (a national one takes minutes; the Dagster asset logs
    them). The garbage collector is paused meanwhile (hub/collector.py)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLISH_LOCK})
        with page_cache(conn):
            outcome = _publish(conn, domain, now, mode=mode, progress=progress)
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
                  source_records.c.first_seen, source_records.c.content_hash)
        .where(source_records.c.domain == domain, source_records.c.status == "active"),
        execution_options={"yield_per": STREAM},
    )


RESOLUTION_VERSION = 4  # raise when match keys, blocking or comparison change, or what an
#                         entry is built of (2: the Land derived where an address lacks it;
#                         3: jobs compare roles and driving licence classes; both
#                         forms of a title, 'Erzieherin / Erzieher', as one; flats at
#                         14 and 14a apart; a rent written with its costs; compounds
#                         written apart, course titles as the BA writes them;
#                         4: the source changed last is found by the instant of its
#                         updated_at, whatever offset the partner writes):
#                         the next publication of each domain is then full, stores the new
#                         keys and rebuilds every entry
INCREMENTAL_UP_TO = 0.25  # at most this share of a domain's records changed: incremental
READ_UP_TO = 0.5  # ... and what the changes reach (with their blocks) is at most this share


def _publish(conn: sa.Connection, domain: str, now: dt.datetime, *, mode: str = "auto",
             seeds: set[str] = frozenset(), erased: set = frozenset(),
             progress: Progress = _silent) -> PublishOutcome:
    """``mode``: ``full`` resolves every active record; ``incremental`` only what changed
    since the last publication and what that can reach (hub/store/affected.py), with the same
    result; ``auto`` takes incremental when the last publication stored this version's keys,
    at most INCREMENTAL_UP_TO of the records changed and what they reach, with the blocks it
    lies in, is at most READ_UP_TO of them; else full. ``seeds``: entities an incremental
    publication must look at besides, ``erased``: record keys whose rows were deleted except
    their resolution keys (an erased record's; hub/store/erasure.py)."""
    if mode != "full":
        auto = mode == "auto"
        changed = _changed_since_last(conn, domain, INCREMENTAL_UP_TO if auto else None, progress)
        if changed is not None:
            dirty, gone, active = changed
            try:
                scope = find_scope(conn, domain, dirty, gone | set(erased), seeds=set(seeds),
                                   limit=int(READ_UP_TO * active) if auto else None)
            except ScopeTooLarge:
                scope = None
            if scope is not None:
                progress(f"{domain}: incremental resolution of {len(dirty)} changed and "
                         f"{len(gone)} withdrawn records ({len(scope.loaded)} read of {active})")
                outcome = _publish_scope(conn, domain, now, scope, progress)
                if outcome is not None:
                    return outcome
    return _publish_full(conn, domain, now, progress)


def _changed_since_last(conn: sa.Connection, domain: str, limit: float | None,
                        progress: Progress = _silent):
    """(active records changed since the last publication, records it resolved that are
    no longer active, the number of active records), or None where an incremental
    publication cannot be: no publication with this RESOLUTION_VERSION's keys yet (after an
    upgrade that raised it ``progress`` says so), or more than ``limit`` of the records changed."""
    last = conn.execute(
        sa.select(publications.c.resolution_version).where(publications.c.domain == domain)
        .order_by(publications.c.id.desc()).limit(1)).first()
    if last is None:
        return None
    if last.resolution_version != RESOLUTION_VERSION:
        was = (f"RESOLUTION_VERSION {last.resolution_version}" if last.resolution_version
               else "a release that recorded no RESOLUTION_VERSION")
        progress(f"{domain}: the last publication was made by {was}, this release's is "
                 f"{RESOLUTION_VERSION} (an upgrade): every record is resolved again and "
                 "every entry rebuilt, once (docs/resolution.md)")
        return None
    sr, em = source_records.c, entity_map.c
    same = sa.and_(em.domain == sr.domain, em.partner_id == sr.partner_id, em.source_id == sr.source_id)
    dirty = {(r.partner_id, r.source_id) for r in conn.execute(
        sa.select(sr.partner_id, sr.source_id)
        .select_from(source_records.outerjoin(entity_map, same))
        .where(sr.domain == domain, sr.status == "active",
               sa.or_(em.record_hash.is_(None), em.record_hash != sr.content_hash)))}
    gone = {(r.partner_id, r.source_id) for r in conn.execute(
        sa.select(em.partner_id, em.source_id)
        .select_from(entity_map.outerjoin(source_records, same))
        .where(em.domain == domain, em.record_hash.is_not(None),
               sa.or_(sr.status.is_(None), sr.status != "active")))}
    active = conn.execute(sa.select(sa.func.count()).select_from(source_records)
                          .where(sr.domain == domain, sr.status == "active")).scalar_one()
    if limit is not None and len(dirty) + len(gone) > limit * max(active, 1):
        return None
    return dirty, gone, active


def _publish_full(conn: sa.Connection, domain: str, now: dt.datetime,
                  progress: Progress) -> PublishOutcome:
    """Resolve the whole domain and write what changed. Memory: the records are read twice as
    a stream, once for resolution (which keeps only their features and keys) and once to build
    the entries, each entry written (when it changed) and dropped as soon as all its records
    are read; only the records of entities of several records wait for their last one."""
    seen_order: dict = {}
    keys = _KeyRows(domain)
    resolved = _Resolved()

    def for_resolution():
        for row in _active_records(conn, domain):
            rk = (row.partner_id, row.source_id)
            seen_order[rk] = (_ts(row.first_seen), rk)
            resolved.add(rk, row.content_hash)
            yield rk, row.record

    progress(f"{domain}: full resolution: reading the active records")
    resolver = Resolver(domain)
    resolver.build(for_resolution(), sink=keys.add_prepared)
    keys.entangled(resolver)
    groups = resolver.clusters()
    del resolver
    progress(f"{domain}: {len(seen_order)} records resolved into {len(groups)} entities")
    previous = {
        (r.partner_id, r.source_id): r.entity_id
        for r in conn.execute(
            sa.select(entity_map.c.partner_id, entity_map.c.source_id, entity_map.c.entity_id).where(
                entity_map.c.domain == domain
            )
        )
    }
    known = _entities(conn, entities.c.domain == domain)
    assignment = assign_ids(domain, groups, seen_order, previous, known)
    del groups, seen_order
    # the domain's keys replaced: millions of rows, whose (domain, key) index costs less built
    # once afterwards than kept up row by row (SQLite: 15 s -> 6 s for 800,000 rows)
    begin_writes(conn)
    index = next(iter(resolution_keys.indexes))
    index.drop(conn)
    conn.execute(resolution_keys.delete().where(resolution_keys.c.domain == domain))
    keys.write(conn)
    index.create(conn)
    del keys
    current = {
        r.entity_id: r.content_hash
        for r in conn.execute(
            sa.select(directory.c.entity_id, directory.c.content_hash).where(directory.c.domain == domain)
        )
    }
    return _write(conn, domain, now, "full", assignment, previous, known, current,
                  lambda: _active_records(conn, domain), resolved, None, progress)


def _publish_scope(conn: sa.Connection, domain: str, now: dt.datetime, scope,
                   progress: Progress) -> PublishOutcome | None:
    """The incremental publication of ``scope`` (hub/store/affected.py); None where the scope
    turns out not to be closed (it cannot, by construction: then the caller publishes in full
    rather than write a result that could differ from a full one)."""
    resolver = Resolver(domain)
    resolver.build_prepared([(rk, scope.prepared[rk]) for rk in scope.loaded])
    groups = []
    for group in resolver.clusters():
        inside = sum(1 for rk in group if rk in scope.affected)
        if inside and inside != len(group):
            return None
        if inside:
            groups.append(group)
    known = _entities_by_id(conn, scope.entities)
    if any(info.status == "merged" for info in known.values()):
        return None  # a record still maps to a merged entity: its survivor's records decide
    keys = _KeyRows(domain)
    for rk in scope.affected:
        keys.add(rk, scope.keys[rk])
    keys.entangled(resolver, only=scope.affected)
    del resolver
    seen_order = {rk: (_ts(scope.loaded[rk][1]), rk) for rk in scope.affected}
    previous = scope.previous
    assignment = assign_ids(domain, groups, seen_order, previous, known,
                            taken=_ActiveElsewhere(conn, domain, scope.entities))
    # entities coming back (an id withdrawn before) keep their first creation time
    back = [eid for eid in assignment.new if eid not in known]
    _entities_by_id(conn, back, known)  # with their creation times and sizes
    records = sorted(scope.affected | scope.gone)
    for where in record_chunks(resolution_keys, records):
        conn.execute(resolution_keys.delete().where(resolution_keys.c.domain == domain, where))
    keys.write(conn)
    ids = sorted(scope.entities | set(assignment.clusters) | set(assignment.merged))
    current = {}
    for part in batches(ids, CHUNK):
        current.update(conn.execute(
            sa.select(directory.c.entity_id, directory.c.content_hash)
            .where(directory.c.entity_id.in_(part))).all())

    def rows():
        for rk in sorted(scope.affected):
            record, first_seen, _ = scope.loaded[rk]
            yield _Row(rk[0], rk[1], record, first_seen)

    resolved = _Resolved()
    for rk in scope.affected:
        resolved.add(rk, scope.loaded[rk][2])
    return _write(conn, domain, now, "incremental", assignment, previous, known, current, rows,
                  resolved, records, progress)


def _write(conn, domain, now, mode, assignment, previous, known, current, rows, resolved,
           marked, progress: Progress) -> PublishOutcome:
    """Writes what resolution decided: entities, entity map (with the records' resolved
    hashes), directory entries and change feed, the publication row. ``rows()`` streams the
    resolved records (partner_id, source_id, record, first_seen); ``resolved`` holds the
    content hashes resolution read, ``marked`` the records whose entity map row gets them
    (None: the whole domain)."""
    def entity_row(eid: str, status: str, anchor, merged_into: str | None = None, records=None) -> dict:
        return {"entity_id": eid, "domain": domain, "status": status, "merged_into": merged_into,
                "anchor_partner_id": anchor[0], "anchor_source_id": anchor[1],
                "created_at": known.created.get(eid) or now, "updated_at": now, "records": records}

    def entity_rows():
        for eid, members in assignment.clusters.items():
            yield entity_row(eid, "active", assignment.anchors[eid], records=len(members))
        for eid, survivor in assignment.merged.items():
            yield entity_row(eid, "merged", known[eid].anchor, survivor)
        for eid in assignment.withdrawn:
            yield entity_row(eid, "withdrawn", known[eid].anchor)

    upsert(conn, entities, _changed_entities(entity_rows(), known), ["entity_id"])

    # entity map: only rows whose entity changed; then the resolved hashes
    upsert(conn, entity_map, (
        {"domain": domain, "partner_id": rk[0], "source_id": rk[1], "entity_id": eid, "updated_at": now}
        for rk, eid in assignment.record_entity.items()
        if previous.get(rk) != eid
    ), ["domain", "partner_id", "source_id"])
    resolved.mark(conn, domain, marked)

    # directory entries: built as their records stream by, written when they changed
    publication_id = conn.execute(
        publications.insert()
        .values(domain=domain, published_at=now, entries=len(assignment.clusters), added=0, updated=0,
                deleted=0, merged=len(assignment.merged), mode=mode,
                resolution_version=RESOLUTION_VERSION, resolved=len(assignment.record_entity))
        .returning(publications.c.id)
    ).scalar_one()
    progress(f"{domain}: building the entries of {len(assignment.clusters)} entities and "
             "writing those that changed")
    writer = _EntryWriter(conn, domain, publication_id, now, current, progress)
    waiting: dict[str, dict] = {}  # entity id -> its records read so far (entities of several)
    for row in rows():
        rk = (row.partner_id, row.source_id)
        eid = assignment.record_entity.get(rk)
        if eid is None:  # staged after resolution read the domain: it has no resolved hash,
            continue     # so the next publication takes it up
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
    entries, multi, largest = _sizes(conn, domain)
    conn.execute(
        publications.update()
        .where(publications.c.id == publication_id)
        .values(added=writer.added, updated=writer.updated, deleted=len(removed), entries=entries)
    )
    if seq is not None:
        _notify(conn, seq)
    progress(f"{domain}: {entries} entries published ({writer.added} added, {writer.updated} "
             f"updated, {len(removed)} deleted); committing")
    return PublishOutcome(
        domain=domain,
        publication_id=publication_id,
        entries=entries,
        added=writer.added,
        updated=writer.updated,
        deleted=len(removed),
        merged=len(assignment.merged),
        clusters_multi=multi,
        largest_cluster=largest,
        records=len(assignment.record_entity),
        splits=len(assignment.split_from),
        new_entities=len(assignment.new),
        withdrawn_entities=len(assignment.withdrawn),
        seq=seq,
        mode=mode,
    )


class _Row(NamedTuple):
    partner_id: str
    source_id: str
    record: dict
    first_seen: object


class _Known(dict):
    """Entity id -> EntityInfo, with each entity's creation time as stored (``created``) and
    its size (``records``)."""

    def __init__(self):
        super().__init__()
        self.created: dict[str, dt.datetime] = {}
        self.records: dict[str, int | None] = {}


def _entities(conn: sa.Connection, where, out: _Known | None = None) -> _Known:
    out = _Known() if out is None else out
    for r in conn.execute(sa.select(entities).where(where)):
        out[r.entity_id] = EntityInfo(entity_id=r.entity_id, status=r.status,
                                      anchor=(r.anchor_partner_id, r.anchor_source_id),
                                      created_at=_ts(r.created_at), merged_into=r.merged_into)
        out.created[r.entity_id], out.records[r.entity_id] = r.created_at, r.records
    return out


def _entities_by_id(conn: sa.Connection, ids, out: _Known | None = None) -> _Known:
    """``_entities`` of the given ids, CHUNK at a time (a large scope names more entities
    than a statement may have parameters)."""
    out = _Known() if out is None else out
    for part in batches(sorted(ids), CHUNK):
        _entities(conn, entities.c.entity_id.in_(part), out)
    return out


# the content hash of each record as resolution read it, on the publication's connection only
_resolved_table = sa.Table(
    "hub_publish_resolved",
    sa.MetaData(),
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("source_id", sa.String(255), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    prefixes=["TEMPORARY"],
)


class _Resolved:
    """The content hashes resolution read (a million of them: record keys in a list, the
    digests in one bytearray): ``entity_map.record_hash`` gets exactly these. Taking the
    current hash instead would mark a record that a sync changed while the publication ran
    (read before SQLite's write lock, or in another statement's snapshot on PostgreSQL) as
    resolved in a version that never was. Written only in ``mark``, after the publication's
    first write: a write before it would hold an SQLite read snapshot through resolution,
    and the first write to the database would then fail if a sync committed meanwhile."""

    def __init__(self):
        self.records: list = []
        self.digests = bytearray()
        self.other: dict[int, str] = {}  # hashes that are not SHA-256 hex (written by hand)

    def add(self, rk, content_hash: str) -> None:
        try:
            digest = bytes.fromhex(content_hash)
        except ValueError:
            digest = b""
        if len(digest) != 32:
            self.other[len(self.records)] = content_hash
            digest = bytes(32)
        self.records.append(rk)
        self.digests += digest

    def _hash(self, digests: memoryview, i: int) -> str:
        return self.other[i] if i in self.other else digests[32 * i:32 * i + 32].hex()

    def mark(self, conn: sa.Connection, domain: str, records) -> None:
        """entity_map.record_hash := the hash resolution read, NULL for a record it did not
        resolve (no longer active), for ``records`` (None: the whole domain)."""
        _resolved_table.drop(conn, checkfirst=True)  # left by an earlier failure
        _resolved_table.create(conn)
        digests = memoryview(self.digests)
        insert_tuples(conn, _resolved_table, ["partner_id", "source_id", "content_hash"],
                      ((rk[0], rk[1], self._hash(digests, i)) for i, rk in enumerate(self.records)))
        em, t = entity_map.c, _resolved_table.c
        read = (sa.select(t.content_hash)
                .where(t.partner_id == em.partner_id, t.source_id == em.source_id)
                .scalar_subquery())
        statement = (entity_map.update().where(em.domain == domain, em.record_hash.is_distinct_from(read))
                     .values(record_hash=read))
        if records is None:
            conn.execute(statement)
        else:
            for where in record_chunks(entity_map, records):
                conn.execute(statement.where(where))
        _resolved_table.drop(conn)


def _sizes(conn: sa.Connection, domain: str) -> tuple[int, int, int]:
    """(directory entries, entities of several records, the largest entity's records)."""
    entries = conn.execute(sa.select(sa.func.count()).select_from(directory)
                           .where(directory.c.domain == domain)).scalar_one()
    e = entities.c
    multi, largest = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(sa.case((e.records > 1, 1), else_=0)), 0),
                  sa.func.coalesce(sa.func.max(e.records), 0))
        .where(e.domain == domain, e.status == "active")).one()
    return entries, int(multi), int(largest)


class _ActiveElsewhere:
    """``in``: an active entity of the domain outside the scope (its records keep it)."""

    def __init__(self, conn: sa.Connection, domain: str, scope: set[str]):
        self.conn, self.domain, self.scope = conn, domain, scope

    def __contains__(self, eid: str) -> bool:
        return eid not in self.scope and self.conn.execute(
            sa.select(entities.c.entity_id).where(
                entities.c.entity_id == eid, entities.c.domain == self.domain,
                entities.c.status == "active")).first() is not None


class _KeyRows:
    """The records' resolution keys as rows of ``resolution_keys``, kept compact (a million
    records have some four million keys): record keys and 64-bit hashes in arrays."""

    def __init__(self, domain: str):
        self.domain = domain
        self.records: list = []
        self.counts = array("i")
        self.hashes = array("q")

    def add(self, rk, hashes: list[int]) -> None:
        self.records.append(rk)
        self.counts.append(len(hashes))
        self.hashes.extend(hashes)

    def add_prepared(self, rk, prepared: tuple) -> None:
        self.add(rk, [key_hash(k) for k in record_keys(prepared)])

    def entangled(self, resolver: Resolver, only: set | None = None) -> None:
        for rk, found in resolver.entanglement_keys().items():
            if only is None or rk in only:
                self.add(rk, [key_hash(k) for k in found])

    def write(self, conn: sa.Connection) -> None:
        insert_tuples(conn, resolution_keys, ["domain", "partner_id", "source_id", "key"], self._rows())

    def _rows(self):
        at = 0
        for rk, n in zip(self.records, self.counts):
            for key in set(self.hashes[at:at + n]):
                yield self.domain, rk[0], rk[1], key
            at += n


class _EntryWriter:
    """Writes the entries that changed (content hash differs from the directory's), ``WRITE``
    at a time: their change-feed rows first, then the directory rows with those sequence
    numbers."""

    def __init__(self, conn: sa.Connection, domain: str, publication_id: int, now: dt.datetime,
                 current: dict[str, str], progress: Progress) -> None:
        self.conn, self.domain, self.publication_id, self.now = conn, domain, publication_id, now
        self.current, self.progress = current, progress
        self.reported = 0
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
        # the entry's JSON text once, for its change row and its directory row
        batch = sorted(((eid, JsonText(json_text(entry)), entry, digest)
                        for eid, entry, digest in self.pending), key=lambda item: item[0])
        self.pending = []
        result = self.conn.execute(
            changes.insert().returning(changes.c.seq, changes.c.entity_id, sort_by_parameter_order=True),
            [{"publication_id": self.publication_id, "entity_id": eid, "domain": self.domain, "op": "updated",
              "entry": text, "created_at": self.now} for eid, text, _, _ in batch],
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
                "municipality_key": region_key(entry.get("address")),
                "lat": (entry.get("geo") or {}).get("lat"),
                "lon": (entry.get("geo") or {}).get("lon"),
                "entry": text,
                "content_hash": digest,
                "seq": seqs[eid],
                "updated_at": now,
                **search_columns(domain, entry),
            }
            for eid, text, entry, digest in batch
        ], ["entity_id"])
        written = self.added + self.updated
        if written - self.reported >= PROGRESS_EVERY:
            self.reported = written
            self.progress(f"{domain}: {written} entries written")


def _changed_entities(rows, known: _Known):
    for row in rows:
        info = known.get(row["entity_id"])
        if (
            info
            and known.records.get(row["entity_id"]) == row["records"]
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


# ----------------------------------------------------------------------------- the feed's history


def feed_checkpoint(conn: sa.Connection, publication_id: int | None) -> str | None:
    """The change feed's checkpoint after the items of publication ``publication_id``: its id
    and a digest of the moment it was published, ``"42-1f0c9a3b7d2e"`` (None before the first
    publication). A database restored from an older backup numbers the publications (and the
    feed's seqs) after the backup again as the lost ones were numbered, but publishes them at
    other moments: a checkpoint of the lost history names a publication it does not have, or
    has at another time (``feed_checkpoint_known``)."""
    if publication_id is None:
        return None
    published_at = conn.execute(sa.select(publications.c.published_at)
                                .where(publications.c.id == publication_id)).scalar()
    return None if published_at is None else checkpoint_text(publication_id, published_at)


def feed_checkpoint_known(conn: sa.Connection, checkpoint: str) -> bool:
    """Whether ``checkpoint`` (of ``feed_checkpoint``) names a publication of this database's
    history: False for one of a history lost to a restore, or of another hub's database."""
    number, _, _digest = checkpoint.partition("-")
    if not number.isdigit() or int(number) > 2**31 - 1:  # publications.id has 32 bits
        return False
    published_at = conn.execute(sa.select(publications.c.published_at)
                                .where(publications.c.id == int(number))).scalar()
    return published_at is not None and checkpoint_text(int(number), published_at) == checkpoint


def checkpoint_text(publication_id: int, published_at: dt.datetime) -> str:
    """The checkpoint of publication ``publication_id`` published at ``published_at``."""
    if published_at.tzinfo is not None:  # PostgreSQL gives it with its zone, SQLite without
        published_at = published_at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    moment = published_at.isoformat(sep=" ", timespec="microseconds")
    return f"{publication_id}-{hashlib.sha256(moment.encode()).hexdigest()[:12]}"
