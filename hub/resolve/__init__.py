"""Entity resolution: normalisation, match keys, blocking, comparison, clustering, stable ids,
survivorship."""

from hub.resolve.cluster import Assignment, EntityInfo, assign_ids, cluster, entity_id_for
from hub.resolve.engine import Resolver, resolve_clusters
from hub.resolve.keys import match_keys
from hub.resolve.survivorship import build_entry, content_hash


def resolve_records(domain: str, records: list[dict]) -> dict[tuple[str, str], str]:
    """Entity ids for canonical records (dicts with partner_id and source_id), with no
    history: what ``hub resolve`` prints. The same resolution as publication."""
    by_key = {(r["partner_id"], r["source_id"]): r for r in records}
    groups = resolve_clusters(domain, by_key)
    order = {rk: i for i, rk in enumerate((r["partner_id"], r["source_id"]) for r in records)}
    return assign_ids(domain, groups, order, {}, {}).record_entity


__all__ = [
    "Assignment",
    "EntityInfo",
    "Resolver",
    "assign_ids",
    "build_entry",
    "cluster",
    "content_hash",
    "entity_id_for",
    "match_keys",
    "resolve_clusters",
    "resolve_records",
]
