"""Resolution of one domain: exact identity keys, blocking, pairwise comparison, guarded
union-find. Used by publication, ``hub resolve`` and the benchmarks alike.

Two phases:

1. identity keys (``ba:`` reference numbers, canonical offer URLs that are unique within
   their partner's feed, course page + start + levels) join records unconditionally, except
   that two different ``ba:`` keys never join (EXCLUSIVE);
2. candidate pairs from blocking are compared (compare.py); accepted pairs are joined best
   score first, and only when the two clusters have no partner in common and no conflicting
   ``ba:`` key (a partner lists each offer once, so two records of one partner are two offers
   unless an identity key says otherwise).

``Resolver`` keeps its index, so new records can be resolved against a large existing set
without redoing the pairs of the old ones (``add_records``).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field

from hub.resolve.blocking import BlockIndex, block_keys
from hub.resolve.compare import THRESHOLD, Features, compare
from hub.resolve.keys import EXCLUSIVE, match_keys
from hub.resolve.normalize import canonical_url

RecordKey = tuple[str, str]
IDENTITY = ("ba:", "url:", "course-url:")  # the keys that join without comparison
AMBIGUITY_MARGIN = 0.05


@dataclass
class Stats:
    records: int = 0
    candidate_pairs: int = 0
    accepted_pairs: int = 0
    fuzzy_joins: int = 0
    refused_joins: int = 0  # accepted pairs the guards kept apart
    ambiguous: int = 0  # records left alone because they fit two offers equally well
    exact_joins: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def identity_keys(domain: str, record: dict, keys: list[str] | None = None) -> list[str]:
    keys = [k for k in (keys if keys is not None else match_keys(domain, record)) if k.startswith(IDENTITY)]
    if domain in ("jobs", "housing"):
        url = canonical_url(record.get("url")) if record.get("url") else ""
        if url:
            keys.append(f"url:{url}")
    return keys


def attribute_keys(domain: str, record: dict, keys: list[str] | None = None) -> list[str]:
    """The old exact attribute keys (org|title|postal, ...): now only blocking keys, so the
    pair still goes through the vetoes and the guards."""
    return [k for k in (keys if keys is not None else match_keys(domain, record)) if not k.startswith(IDENTITY)]


class Resolver:
    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.keys: list[RecordKey] = []
        self.ids: dict[RecordKey, int] = {}
        self.parent: list[int] = []
        self.partners: dict[int, frozenset[str]] = {}
        self.exclusive: dict[int, frozenset[str]] = {}
        self.members: dict[int, list[int]] = {}  # root -> records, for clusters of two or more
        self.index = BlockIndex(domain)
        self._identity: list[tuple[str, ...]] = []
        self._url_owners: dict[tuple[str, str], int] = defaultdict(int)  # (partner, key) -> n
        # accepted pairs left apart (ambiguous, or refused by a guard): their records depend
        # on each other without sharing an entity (record_keys' ``e:`` keys)
        self.entangled: list[tuple[int, int]] = []
        self.stats = Stats()

    # -- union-find --------------------------------------------------------------------------

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def _join(self, a: int, b: int, guard_partners: bool) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        ea, eb = self.exclusive.get(ra, frozenset()), self.exclusive.get(rb, frozenset())
        if ea and eb and ea != eb:
            return False
        pa = self.partners.get(ra) or frozenset((self.keys[ra][0],))
        pb = self.partners.get(rb) or frozenset((self.keys[rb][0],))
        if guard_partners and pa & pb:
            return False
        ma, mb = self.members.get(ra, [ra]), self.members.get(rb, [rb])
        if guard_partners and (len(ma) > 1 or len(mb) > 1):
            # no record of one cluster may contradict a record of the other (a re-posting
            # chained to an opening outside the window, a sibling through a vague record)
            feats = self.index.features
            for x in ma:
                for y in mb:
                    if compare(self.domain, feats[x], feats[y])[0] == 0.0:
                        return False
        if self.keys[rb] < self.keys[ra]:
            ra, rb = rb, ra
            ma, mb = mb, ma
        self.members[ra] = ma + mb
        self.members.pop(rb, None)
        self.parent[rb] = ra
        self.partners[ra] = pa | pb
        if ea or eb:
            self.exclusive[ra] = ea | eb
        self.partners.pop(rb, None)
        self.exclusive.pop(rb, None)
        return True

    # -- building ----------------------------------------------------------------------------

    def prepare(self, record: dict) -> tuple:
        """What resolution keeps of a record: its features, its identity keys and its blocks
        (those of its features, then ``a:`` its attribute keys; interned, as a block's
        members share them). The record itself can go once this is made."""
        exact = match_keys(self.domain, record)
        features = Features(self.domain, record)
        blocks = [sys.intern(key) for key in block_keys(self.domain, features)]
        blocks += [sys.intern(f"a:{key}") for key in attribute_keys(self.domain, record, exact)]
        return features, tuple(identity_keys(self.domain, record, exact)), blocks

    def _add(self, rk: RecordKey, prepared: tuple) -> int:
        features, ident, blocks = prepared
        i = len(self.keys)
        self.keys.append(rk)
        self.ids[rk] = i
        self.parent.append(i)
        excl = frozenset(k for k in ident if k.startswith(EXCLUSIVE))
        if excl:
            self.exclusive[i] = excl
        for key in ident:
            if not key.startswith(EXCLUSIVE):
                self._url_owners[(rk[0], key)] += 1
        self._identity.append(ident)
        self.index.add(i, features, blocks)
        return i

    def _exact(self, nodes: list[int], holders: dict[str, int]) -> None:
        for i in nodes:
            partner = self.keys[i][0]
            for key in sorted(self._identity[i]):
                if not key.startswith(EXCLUSIVE) and self._url_owners[(partner, key)] > 1:
                    continue  # a URL several offers of one partner share is a listing page
                holder = holders.setdefault(key, i)
                if holder != i and self._join(holder, i, guard_partners=False):
                    self.stats.exact_joins += 1

    def _fuzzy(self, pairs) -> None:
        accepted = []
        feats = self.index.features
        threshold = THRESHOLD[self.domain]
        for a, b in pairs:
            self.stats.candidate_pairs += 1
            if self.find(a) == self.find(b):
                continue
            score, reason = compare(self.domain, feats[a], feats[b])
            self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1
            if score >= threshold:
                accepted.append((-score, self.keys[a], self.keys[b], a, b))
        accepted = self._unambiguous(accepted)
        accepted.sort()
        self.stats.accepted_pairs += len(accepted)
        for _, _, _, a, b in accepted:
            if self._join(a, b, guard_partners=True):
                self.stats.fuzzy_joins += 1
            else:
                self.stats.refused_joins += 1
                self.entangled.append((a, b))

    def _unambiguous(self, accepted: list) -> list:
        """Drops the pairs of a record that fits two different offers about equally well
        (a course without schedule next to the morning and the evening course): better
        two entries than a wrong merge."""
        best: dict[int, list] = defaultdict(list)
        for item in accepted:
            best[item[3]].append(item)
            best[item[4]].append(item)
        feats = self.index.features
        threshold = THRESHOLD[self.domain]
        dropped: set[int] = set()
        for node, items in best.items():
            if len(items) < 2:
                continue
            items.sort()
            s1, s2 = items[0][0], items[1][0]
            if s2 - s1 >= AMBIGUITY_MARGIN:
                continue  # scores are negated: the best is clearly better
            o1 = items[0][4] if items[0][3] == node else items[0][3]
            o2 = items[1][4] if items[1][3] == node else items[1][3]
            if self.find(o1) == self.find(o2):
                continue
            if compare(self.domain, feats[o1], feats[o2])[0] >= threshold:
                continue  # the two candidates are one offer themselves
            self.stats.ambiguous += 1
            dropped.update(id(item) for item in items)
            self.entangled.extend((item[3], item[4]) for item in items)
        return [item for item in accepted if id(item) not in dropped]

    def build(self, records, sink=None) -> None:
        """Resolve a whole set: ``records`` is an iterable of (record key, record dict), in
        any order; each record is read once, as it comes (a stream from the database need
        not be held in memory). ``sink(record key, prepared)``, if given, sees each record's
        features and keys as they are made (publication stores the keys, ``record_keys``)."""
        items = []
        for rk, record in records:
            prepared = self.prepare(record)
            if sink is not None:
                sink(rk, prepared)
            items.append((rk, prepared))
        self.build_prepared(items)

    def build_prepared(self, items: list[tuple[RecordKey, tuple]]) -> None:
        """``build`` for records already prepared (``prepare``)."""
        items.sort(key=lambda item: item[0])
        nodes = [self._add(rk, prepared) for rk, prepared in items]
        del items
        self.stats.records += len(nodes)
        self._holders: dict[str, int] = {}
        self._exact(nodes, self._holders)
        self._fuzzy(self._all_pairs())

    def _all_pairs(self):
        seen: set[int] = set()
        n = 1 << 32
        feats = self.index.features
        for members in self.index.blocks.values():
            for a, b in self.index._block_pairs(members):
                if feats[a].partner == feats[b].partner:
                    continue
                code = a * n + b if a < b else b * n + a
                if code not in seen:
                    seen.add(code)
                    yield (a, b) if a < b else (b, a)

    def add_records(self, records) -> dict[RecordKey, int]:
        """Resolve new records against everything already built; returns their cluster roots."""
        prepared = [(rk, self.prepare(record)) for rk, record in records]
        new = [self._add(rk, p) for rk, p in prepared]
        self.stats.records += len(new)
        self._exact(new, self._holders)
        pairs: set[tuple[int, int]] = set()
        for i, (_, (_, _, blocks)) in zip(new, prepared):
            for j in self.index.candidates(i, blocks):
                pairs.add((i, j) if i < j else (j, i))
        self._fuzzy(sorted(pairs))
        return {self.keys[i]: self.find(i) for i in new}

    def entanglement_keys(self) -> dict[RecordKey, list[str]]:
        """``e:`` keys of the records of ``entangled`` pairs, one per pair, on both records."""
        out: dict[RecordKey, list[str]] = defaultdict(list)
        for a, b in self.entangled:
            ka, kb = sorted((self.keys[a], self.keys[b]))
            key = f"e:{ka[0]}|{ka[1]}|{kb[0]}|{kb[1]}"
            out[ka].append(key)
            out[kb].append(key)
        return out

    def clusters(self) -> list[list[RecordKey]]:
        groups: dict[int, list[RecordKey]] = {}
        for i, rk in enumerate(self.keys):
            groups.setdefault(self.find(i), []).append(rk)
        return [sorted(g) for g in groups.values()]


def record_keys(prepared: tuple) -> list[str]:
    """Every key under which resolution puts a prepared record together with others: its
    blocks (``b:``) and its identity keys (``i:``). Two records can only end up in one
    entity through a chain of records that share such keys: an incremental publication
    (hub/store/affected.py) finds what a change can reach by them."""
    _, ident, blocks = prepared
    return [f"b:{key}" for key in blocks] + [f"i:{key}" for key in ident]


def resolve_clusters(domain: str, records) -> list[list[RecordKey]]:
    """Groups of records that are one offer: what publication and ``hub resolve`` use.
    ``records``: record key -> record dict, or a stream of (record key, record dict)."""
    resolver = Resolver(domain)
    resolver.build(records.items() if isinstance(records, dict) else records)
    return resolver.clusters()
