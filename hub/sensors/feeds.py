"""Starts a partner's sync when its HTTP feed changed: a conditional HEAD per feed with the
ETag / Last-Modified of the last fetch (``hub.changes``); unchanged feeds cost one 304.

Probes go out in parallel and stop after the ``feed_client`` resource's probe budget (40 s,
inside Dagster's 60 s sensor timeout); feeds not asked by then are asked first at the next
tick, so with many slow partners a round spans ticks instead of failing every tick.

Cursor: per partner feed, the version (ETag or Last-Modified) whose run was requested last,
so a version is synced once even across restarts; the run key carries it as well. And the
feed the next round begins with, while a round spans ticks."""

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
    state = jc.load(context.cursor)
    found = probe_feeds(hub_store.engine(), feed_client.fetcher(), registry, only=known,
                        workers=feed_client.probe_workers, per_host=feed_client.probe_per_host,
                        budget=feed_client.probe_budget_seconds, start_at=state.get("probe_next"))
    for key, reason in sorted(found.errors.items()):
        context.log.warning(f"{key}: not reachable for a probe: {reason}")
    if found.left:
        context.log.warning(
            f"{len(found.left)} feed(s) not probed within {feed_client.probe_budget_seconds:g} s "
            f"(slow partners); the next tick begins with {found.left[0]}")
    requested: dict[str, str] = state.get("requested", {})
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
    cursor = jc.dump({"requested": requested, **({"probe_next": found.left[0]} if found.left else {})})
    if not requests:
        context.update_cursor(cursor)
        return dg.SkipReason(
            f"no feed changed ({len(found.unchanged)} unchanged, {len(found.unknown)} without "
            f"version information, {len(found.errors)} not reachable"
            + (f", {len(found.left)} left for the next tick)" if found.left else ")"))
    context.log.info("changed feeds: %s", ", ".join(r.partition_key for r in requests))
    return dg.SensorResult(run_requests=requests, cursor=cursor)
