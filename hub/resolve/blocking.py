"""Blocking: which records are compared at all.

A record gets a few block keys (postal code plus an organisation word, a title word, a
street, a start date, ...); only records that share a block key are compared, so the work
grows with the number of candidate pairs, not with n². Records of the same partner are never
candidates (a partner lists each offer once; see docs/resolution.md). Blocks larger than
``MAX_BLOCK`` are compared within a sliding date window of at most ``MAX_BLOCK`` neighbours
(jobs) or not at all (counted in ``BlockIndex.skipped``): a block that large is a generic
word, not evidence, and the work stays linear in its size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from hub.resolve.compare import JOB_WINDOW_DAYS, Features, possible_pairs
from hub.resolve.normalize import house_numbers

MAX_BLOCK = 400
BULK_FROM = 12  # blocks of this many records or more have their vetoes applied in bulk
_GENERIC_ORG = frozenset(
    "und service services gruppe group deutschland saar saarland international holding "
    "verwaltung zentrum stadt gemeinde kreis landkreis co".split()
)


def _significant(words: Iterable[str], generic: frozenset[str] = frozenset(), n: int = 2) -> list[str]:
    """The ``n`` longest words (ties alphabetically), skipping generic ones."""
    useful = sorted({w for w in words if len(w) > 2 and w not in generic}, key=lambda w: (-len(w), w))
    return useful[:n]


def block_keys(domain: str, f: Features) -> list[str]:
    if not f.postal:
        return []
    keys: list[str] = []
    if domain == "jobs":
        keys += [f"{f.postal}|o:{w}" for w in _significant(f.org.split(), _GENERIC_ORG)]
        keys += [f"{f.postal}|t:{w}" for w in _significant(f.tokens, n=1)]
    elif domain == "courses":
        if f.start is not None:
            keys.append(f"{f.postal}|d:{f.start}")
    else:
        if f.street:
            keys.append(f"{f.postal}|s:{f.street[:6]}")
        number = house_numbers(f.house)
        if number:
            keys.append(f"{f.postal}|h:{number[0]}")
    return keys


class BlockIndex:
    """Block key -> record keys; new records can be matched against it (incremental)."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.blocks: dict[str, list] = defaultdict(list)
        self.features: dict = {}
        self.skipped = 0
        self.vetoed = 0  # pairs of a block ruled out before compare (one partner, or a veto)

    def add(self, rk, f: Features, keys: list[str] | None = None) -> list[str]:
        """Puts ``rk`` into the blocks of its features (or into ``keys``, made already)."""
        keys = block_keys(self.domain, f) if keys is None else keys
        self.features[rk] = f
        for key in keys:
            self.blocks[key].append(rk)
        return keys

    def pairs(self) -> Iterator[tuple]:
        """Every candidate pair of the index once (lower record key first)."""
        seen: set = set()
        for key in sorted(self.blocks):
            members = self.blocks[key]
            for a, b in self._block_pairs(members):
                pair = (a, b) if a < b else (b, a)
                if pair not in seen:
                    seen.add(pair)
                    yield pair

    def candidates(self, rk, keys: list[str]) -> set:
        """Records of the index sharing a block with ``rk`` (already added)."""
        f = self.features[rk]
        out: set = set()
        for key in keys:
            members = self.blocks[key]
            if len(members) > MAX_BLOCK and (self.domain != "jobs" or f.date is None):
                self.skipped += 1
                continue
            found = []
            for other in members:
                if other == rk:
                    continue
                g = self.features[other]
                if g.partner == f.partner:
                    continue
                if len(members) > MAX_BLOCK and (g.date is None or abs(g.date - f.date) > JOB_WINDOW_DAYS):
                    continue
                found.append(other)
            if len(found) > MAX_BLOCK:  # as in pairs(): the nearest in date only
                found.sort(key=lambda other: abs(self.features[other].date - f.date))
                found = found[:MAX_BLOCK]
            out.update(found)
        return out

    def _block_pairs(self, members: list) -> Iterator[tuple]:
        feats = self.features
        if BULK_FROM <= len(members) <= MAX_BLOCK:
            # the pairs no cheap veto rules out, found for the whole block at once
            pairs = possible_pairs(self.domain, [feats[m] for m in members])
            self.vetoed += len(members) * (len(members) - 1) // 2 - len(pairs)
            for i, j in pairs:
                yield members[i], members[j]
            return
        if len(members) <= MAX_BLOCK:
            for i, a in enumerate(members):
                pa = feats[a].partner
                for b in members[i + 1:]:
                    if feats[b].partner != pa:
                        yield a, b
            return
        if self.domain != "jobs":
            self.skipped += 1
            return
        # sorted neighbourhood: only records within the date window of each other, and at
        # most MAX_BLOCK neighbours each (a block of thousands posted on the same days would
        # otherwise be compared pair by pair); the vetoes applied in bulk, as above
        dated = sorted((feats[m].date, m) for m in members if feats[m].date is not None)
        self.skipped += len(members) - len(dated)
        order = [m for _, m in dated]
        pairs = possible_pairs(self.domain, [feats[m] for m in order], within=MAX_BLOCK)
        n = len(order)
        self.vetoed += sum(n - d for d in range(1, min(MAX_BLOCK, n - 1) + 1)) - len(pairs)
        for i, j in pairs:
            yield order[i], order[j]
