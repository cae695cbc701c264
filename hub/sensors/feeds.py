"""Starts a partner's sync when its HTTP feed changed: a conditional HEAD per feed with the
ETag / Last-Modified of the last fetch (``hub.changes``); unchanged feeds cost one 304.

Cursor: per partner feed, the version (ETag or Last-Modified) whose run was requested last,
so a version is synced once even across restarts; the run key carries it as well."""

import dagster as dg

from hub.changes import probe_feeds
from hub.jobs import SYNC_JOBS, sync_request
from hub.assets.partitions import PARTNER_PARTITIONS
from hub.registry import RegistryError
from hub.resources import FeedClient, HubStore
from hub.sensors import cursor as jc


@dg.sensor(
    name="feed_changes",
    jobs=list(SYNC_JOBS.values()),
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Asks every HTTP partner feed whether it changed since the last fetch "
    "(conditional HEAD with ETag / Last-Modified) and syncs only the partner feeds that did.",
)
def feed_change_sensor(context: dg.SensorEvaluationContext, hub_store: HubStore,
                       feed_client: FeedClient):
    try:
        registry = hub_store.registry()
    except RegistryError as exc:
        return dg.SkipReason(f"registry not usable: {exc}")
    # only partitions the registry sensor has created can be run
    known = {f"{key}/{domain}" for domain, pdef in PARTNER_PARTITIONS.items()
             for key in context.instance.get_dynamic_partitions(pdef.name)}
    found = probe_feeds(hub_store.engine(), feed_client.fetcher(), registry, only=known)
    for key, reason in sorted(found.errors.items()):
        context.log.warning(f"{key}: not reachable for a probe: {reason}")
    requested: dict[str, str] = jc.load(context.cursor).get("requested", {})
    sources = {(p.id, f.domain): f.source for p in registry.partners for f in p.feeds}
    requests = []
    for change in found.changed:
        if requested.get(change.key) == change.validator:
            continue  # this version's run was requested already
        requested[change.key] = change.validator
        requests.append(sync_request(
            change.partner_id, change.domain, sources[(change.partner_id, change.domain)],
            run_key=f"feed:{change.key}:{change.validator}",
            tags={"hub/trigger": "feed_changed"},
        ))
    requested = {k: v for k, v in requested.items() if k in known}
    cursor = jc.dump({"requested": requested})
    if not requests:
        context.update_cursor(cursor)
        return dg.SkipReason(
            f"no feed changed ({len(found.unchanged)} unchanged, {len(found.unknown)} without "
            f"version information, {len(found.errors)} not reachable)")
    context.log.info("changed feeds: %s", ", ".join(r.partition_key for r in requests))
    return dg.SensorResult(run_requests=requests, cursor=cursor)
