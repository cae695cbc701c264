"""Clustering of records by shared keys, and stable entity ids across runs.

Ids survive re-syncs; when clusters merge the oldest entity id survives and the others are
recorded as merged into it; when an entity splits, the part holding its anchor record keeps
the id and the other parts get ids of their own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from hub.resolve.keys import EXCLUSIVE

PREFIX = {"jobs": "job", "courses": "crs", "housing": "hsg"}

RecordKey = tuple[str, str]  # (partner_id, source_id)


@dataclass
class EntityInfo:
    entity_id: str
    status: str  # active, withdrawn, merged
    anchor: RecordKey
    created_at: object  # anything ordered: the older entity wins a merge
    merged_into: str | None = None


@dataclass
class Assignment:
    record_entity: dict[RecordKey, str] = field(default_factory=dict)
    clusters: dict[str, list[RecordKey]] = field(default_factory=dict)  # entity id -> records
    anchors: dict[str, RecordKey] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)  # merged id -> survivor
    new: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    split_from: dict[str, str] = field(default_factory=dict)  # new id -> id it split from


def entity_id_for(domain: str, anchor: RecordKey, salt: int = 0) -> str:
    text = f"{domain}|{anchor[0]}|{anchor[1]}" + (f"|{salt}" if salt else "")
    return f"{PREFIX[domain]}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def cluster(records: dict[RecordKey, list[str]]) -> list[list[RecordKey]]:
    """Groups of records that share a key (transitively), never joining two different
    exclusive keys. Deterministic: records are visited in sorted order."""
    order = sorted(records)
    parent = {rk: rk for rk in order}
    exclusive: dict[RecordKey, set[str]] = {
        rk: {k for k in records[rk] if k.startswith(EXCLUSIVE)} for rk in order
    }

    def find(node: RecordKey) -> RecordKey:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    first_holder: dict[str, RecordKey] = {}
    for rk in order:
        for key in sorted(records[rk]):
            holder = first_holder.setdefault(key, rk)
            if holder is rk:
                continue
            a, b = find(holder), find(rk)
            if a == b:
                continue
            ea, eb = exclusive[a], exclusive[b]
            if ea and eb and ea != eb:
                continue  # cannot-link: two different identities
            if b < a:
                a, b = b, a
            parent[b] = a
            exclusive[a] = ea | eb
    groups: dict[RecordKey, list[RecordKey]] = {}
    for rk in order:
        groups.setdefault(find(rk), []).append(rk)
    return list(groups.values())


def assign_ids(
    domain: str,
    groups: list[list[RecordKey]],
    seen_order: dict[RecordKey, object],
    previous: dict[RecordKey, str],
    entities: dict[str, EntityInfo],
    taken=frozenset(),
) -> Assignment:
    """Give each group an entity id that is stable across runs.

    ``seen_order``: when each record was first seen (ordered values; earlier = older);
    ``previous``: the entity each record belonged to after the last publication;
    ``entities``: every entity id known for the domain;
    ``taken``: ids owned by groups not given (an incremental publication passes the active
    entities outside its scope, which keep their records).
    """
    out = Assignment()

    def resolve_merged(eid: str) -> str:
        hops = 0
        while eid in entities and entities[eid].status == "merged" and hops < 50:
            target = entities[eid].merged_into
            if not target:
                break
            eid, hops = target, hops + 1
        return eid

    # which groups claim which previous entity ids, with how many records
    claims: dict[str, list[tuple[int, list[RecordKey]]]] = {}
    for index, group in enumerate(groups):
        counts: dict[str, int] = {}
        for rk in group:
            eid = previous.get(rk)
            if eid:
                eid = resolve_merged(eid)
                counts[eid] = counts.get(eid, 0) + 1
        for eid in counts:
            claims.setdefault(eid, []).append((index, group))

    # the owner of an entity id: the group with its anchor record, else the group with the
    # most of its records, else the one with the oldest record
    owner: dict[str, int] = {}
    for eid, claimants in claims.items():
        info = entities.get(eid)
        anchor = info.anchor if info else None
        with_anchor = [i for i, g in claimants if anchor in g]
        if with_anchor:
            owner[eid] = with_anchor[0]
            continue

        def weight(item: tuple[int, list[RecordKey]]) -> tuple:
            i, g = item
            mine = [rk for rk in g if previous.get(rk) and resolve_merged(previous[rk]) == eid]
            return (-len(mine), min(seen_order.get(rk, "") for rk in mine))

        owner[eid] = min(claimants, key=weight)[0]

    def age(eid: str) -> tuple:
        info = entities.get(eid)
        return (info.created_at if info else "", eid)

    owned_by: dict[int, list[str]] = {}  # group -> the entity ids it owns (built once:
    for eid, index in owner.items():     # scanning ``owner`` per group was quadratic)
        owned_by.setdefault(index, []).append(eid)

    used: set[str] = set()
    for index, group in enumerate(groups):
        owned = sorted(owned_by.get(index, ()), key=age)
        anchor = min(group, key=lambda rk: (seen_order.get(rk, ""), rk))
        if owned:
            survivor = owned[0]
            for other in owned[1:]:
                out.merged[other] = survivor
            info = entities.get(survivor)
            if info and info.anchor in group:
                anchor = info.anchor
        else:
            salt = 0
            survivor = entity_id_for(domain, anchor)
            while (survivor in used or survivor in taken
                   or (survivor in owner and owner[survivor] != index)):
                salt += 1
                survivor = entity_id_for(domain, anchor, salt)
            if survivor not in entities or entities[survivor].status != "active":
                out.new.append(survivor)
            split_parents = {resolve_merged(previous[rk]) for rk in group if previous.get(rk)}
            if split_parents:
                out.split_from[survivor] = sorted(split_parents)[0]
        used.add(survivor)
        out.clusters[survivor] = list(group)
        out.anchors[survivor] = anchor
        for rk in group:
            out.record_entity[rk] = survivor

    for eid, info in entities.items():
        if info.status == "active" and eid not in used and eid not in out.merged:
            out.withdrawn.append(eid)
    out.withdrawn.sort()
    return out
