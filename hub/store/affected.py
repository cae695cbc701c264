"""What an incremental publication re-resolves: the records a change can reach.

Resolution is local: whether two records become one entity depends only on the records
they are connected to by candidate pairs (records sharing a block, hub/resolve/blocking.py),
identity keys (BA reference, offer URL) and accepted pairs the guards kept apart; and the
stable ids depend on the records' previous entities. ``find_scope`` starts from the records
that changed since the last publication (new, changed, withdrawn or erased) and adds, until
nothing more comes:

- the other records of every entity a record in the scope belonged to;
- every record sharing an identity key or an entanglement key (``e:``, an accepted pair
  left apart) with a record in the scope, or one of the changed records' old keys;
- every candidate pair partner of a record in the scope, found in the complete block (all
  its members are loaded, so the pairs are those a full resolution makes);
- the whole of a block above ``MAX_BLOCK`` whose membership changed (its sorted
  neighbourhood windows shift for every member).

Resolving the scope together with the complete blocks its records lie in gives its records
the entities a full resolution would give them (tests/test_publish_incremental.py compares
the two on random changes). The keys come from ``resolution_keys``, which every publication
keeps up to date for the records it resolves.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from hub.resolve.blocking import MAX_BLOCK, BlockIndex
from hub.resolve.engine import RecordKey, Resolver, record_keys
from hub.store.db import batches
from hub.store.tables import entity_map, resolution_keys, source_records

CHUNK = 400  # record keys (two bind parameters each) or hashes per IN list


def key_hash(key: str) -> int:
    """A key's 64-bit hash, signed (a BIGINT); the lowest bit tells the kind: 1 for keys
    whose records all belong together in the scope (``i:`` identity, ``e:`` entanglement),
    0 for blocks (``b:``), whose candidate pairs decide."""
    value = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    return (value & ~1) | (0 if key.startswith("b:") else 1)


def _whole(hashed: int) -> bool:
    return bool(hashed & 1)


@dataclass
class Scope:
    """``affected``: the active records to re-resolve; ``gone``: records the last publication
    resolved that are no longer active; ``loaded``: every active record read (the affected
    ones and the other members of their blocks), record key -> (record, first_seen,
    content_hash); ``prepared``: their features and keys (Resolver.prepare); ``keys``: their
    resolution keys' hashes (``record_keys``); ``entities``: the previous entities of affected
    and gone records (and the seeds); ``previous``: record key -> its previous entity."""

    affected: set[RecordKey] = field(default_factory=set)
    gone: set[RecordKey] = field(default_factory=set)
    loaded: dict[RecordKey, tuple] = field(default_factory=dict)
    prepared: dict[RecordKey, tuple] = field(default_factory=dict)
    keys: dict[RecordKey, list[int]] = field(default_factory=dict)
    entities: set[str] = field(default_factory=set)
    previous: dict[RecordKey, str] = field(default_factory=dict)


def record_chunks(table: sa.Table, rks):
    """Conditions on ``table`` (partner_id, source_id) that together select the record keys
    ``rks``: one partner and up to CHUNK source ids each (a row-value IN list would make
    SQLite scan the table once per list)."""
    by_partner: dict[str, list[str]] = defaultdict(list)
    for partner, source in rks:
        by_partner[partner].append(source)
    for partner in sorted(by_partner):
        for part in batches(sorted(by_partner[partner]), CHUNK):
            yield sa.and_(table.c.partner_id == partner, table.c.source_id.in_(part))


class ScopeTooLarge(Exception):
    """The records a change reaches are too many for an incremental publication to pay."""


class _Finder:
    def __init__(self, conn: sa.Connection, domain: str, dirty: set[RecordKey], gone: set[RecordKey],
                 limit: int | None):
        self.conn, self.domain, self.limit = conn, domain, limit
        self.dirty, self.scope = dirty, Scope(gone=set(gone))
        self.resolver = Resolver(domain)  # only to prepare records
        self.index = BlockIndex(domain)  # features by record key, for pairs of a block
        self.members: dict[int, set[RecordKey]] = {}  # expanded key -> its active members now
        self.changed_keys: set[int] = set()  # keys whose membership a change altered
        self._sizes: dict[int, int] = {}  # expanded key -> its members at the last publication

    # -- reading ------------------------------------------------------------------------

    def load(self, rks) -> None:
        """Reads and prepares the active records among ``rks`` not read yet."""
        todo = [rk for rk in rks if rk not in self.scope.loaded]
        sr = source_records.c
        if self.limit is not None and len(self.scope.loaded) + len(todo) > self.limit:
            raise ScopeTooLarge(f"{len(self.scope.loaded) + len(todo)} records to read")
        for where in record_chunks(source_records, todo):
            rows = self.conn.execute(
                sa.select(sr.partner_id, sr.source_id, sr.record, sr.first_seen, sr.content_hash)
                .where(sr.domain == self.domain, sr.status == "active", where))
            for row in rows:
                rk = (row.partner_id, row.source_id)
                self.scope.loaded[rk] = (row.record, row.first_seen, row.content_hash)
                prepared = self.resolver.prepare(row.record)
                self.scope.prepared[rk] = prepared
                self.index.features[rk] = prepared[0]
                self.scope.keys[rk] = [key_hash(k) for k in record_keys(prepared)]

    def stored_keys(self, rks) -> dict[RecordKey, list[int]]:
        out: dict[RecordKey, list[int]] = defaultdict(list)
        rk_ = resolution_keys.c
        for where in record_chunks(resolution_keys, rks):
            for row in self.conn.execute(
                    sa.select(rk_.partner_id, rk_.source_id, rk_.key)
                    .where(rk_.domain == self.domain, where)):
                out[(row.partner_id, row.source_id)].append(row.key)
        return out

    def previous(self, rks) -> set[str]:
        """The entities ``rks`` belonged to (and their rows, kept in the scope)."""
        em = entity_map.c
        found = set()
        for where in record_chunks(entity_map, [rk for rk in rks if rk not in self.scope.previous]):
            for row in self.conn.execute(
                    sa.select(em.partner_id, em.source_id, em.entity_id)
                    .where(em.domain == self.domain, where)):
                self.scope.previous[(row.partner_id, row.source_id)] = row.entity_id
                found.add(row.entity_id)
        return found

    def co_members(self, eids) -> set[RecordKey]:
        em, sr = entity_map.c, source_records.c
        out = set()
        for part in batches(eids, CHUNK):
            # from the entities' rows, each record's status looked up (as a join SQLite read
            # the domain's active records and looked each up in entity_map). No condition on
            # entity_map's domain: an entity id names its domain (hub.resolve.cluster), and
            # with one SQLite reads every entity row of the domain for each chunk of ids (the
            # primary key's first column) instead of looking the ids up
            rows = self.conn.execute(
                sa.select(em.partner_id, em.source_id)
                .where(em.entity_id.in_(part), sa.exists().where(
                    sr.domain == em.domain, sr.partner_id == em.partner_id,
                    sr.source_id == em.source_id, sr.status == "active")))
            out.update((r.partner_id, r.source_id) for r in rows)
        return out

    def expand(self, keys: set[int]) -> None:
        """Reads the members of ``keys`` now: the stored rows, less the stale rows of changed
        records, plus the changed records by their new keys; loads them."""
        rk_ = resolution_keys.c
        for key in keys:
            self.members[key] = set()
        for part in batches(keys, CHUNK):
            for row in self.conn.execute(
                    sa.select(rk_.partner_id, rk_.source_id, rk_.key)
                    .where(rk_.domain == self.domain, rk_.key.in_(part))):
                rk = (row.partner_id, row.source_id)
                self._sizes[row.key] = self._sizes.get(row.key, 0) + 1  # as last published
                if rk in self.dirty or rk in self.scope.gone:
                    continue  # stale: these records' keys come from their new content
                self.members[row.key].add(rk)
        for rk in self.dirty:
            for key in self.scope.keys.get(rk, ()):
                if key in self.members:
                    self.members[key].add(rk)
        self.load(set().union(*(self.members[k] for k in keys)) if keys else ())
        for key in keys:  # a stored row of a record that is no longer active
            self.members[key] = {rk for rk in self.members[key] if rk in self.scope.loaded}

    # -- the closure --------------------------------------------------------------------

    def run(self, seeds: set[str]) -> Scope:
        scope = self.scope
        old = self.stored_keys(self.dirty | scope.gone)
        self.load(self.dirty)
        for rk in self.dirty:
            self.changed_keys.update(old.get(rk, ()))
            self.changed_keys.update(self.scope.keys.get(rk, ()))
        for rk in scope.gone:
            self.changed_keys.update(old.get(rk, ()))
        entities = set(seeds) | self.previous(self.dirty | scope.gone)
        expanded: set[int] = set()
        frontier = {rk for rk in self.dirty if rk in scope.loaded}
        keys = set(self.changed_keys)
        while True:
            new_entities = entities - scope.entities
            scope.entities |= new_entities
            frontier |= self.co_members(new_entities)
            self.load(frontier)
            frontier = {rk for rk in frontier if rk in scope.loaded and rk not in scope.affected}
            scope.affected |= frontier
            entities |= self.previous(frontier)
            for rk in frontier:
                keys.update(self.scope.keys[rk])
            if not keys and not (entities - scope.entities):
                return scope
            self.expand(keys - expanded)
            expanded |= keys
            # every key of a record that came in is looked at again: its pairs may reach
            # records the key's earlier look did not have to
            frontier = set()
            for key in keys:
                frontier |= self._reached(key)
            keys = set()

    def _reached(self, key: int) -> set[RecordKey]:
        """Records of ``key``'s block (or group) that the scope must take in now."""
        members = self.members[key]
        affected = self.scope.affected
        if _whole(key):
            return members - affected
        if key in self.changed_keys and max(len(members), self._sizes.get(key, 0)) > MAX_BLOCK:
            return members - affected  # its sorted neighbourhood windows moved
        reached = set()
        for a, b in self.index._block_pairs(sorted(members)):
            if (a in affected) != (b in affected):
                reached.add(b if a in affected else a)
        return reached


def find_scope(conn: sa.Connection, domain: str, dirty: set[RecordKey], gone: set[RecordKey],
               seeds: set[str] = frozenset(), limit: int | None = None) -> Scope:
    """The scope of an incremental publication (see the module's text): ``dirty`` the active
    records whose content the last publication did not resolve, ``gone`` those it resolved
    that are no longer active, ``seeds`` entities to take in besides (an erased record's).
    Raises ScopeTooLarge when it would read more than ``limit`` records (the affected ones
    and the other members of their blocks: a block of a generic word can hold thousands)."""
    return _Finder(conn, domain, set(dirty), set(gone), limit).run(set(seeds))
