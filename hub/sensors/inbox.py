"""Starts a partner's sync when a file lands in its inbox folder.

Cursor: per partner feed, the key (name, size, modification time) of the file whose run was
requested last. While that file still waits (its run is queued or running), the feed is left
alone; a new file, or the same name dropped again later, is a new delivery."""

import dagster as dg

from hub.inbox import pending
from hub.jobs import SYNC_JOBS, sync_request
from hub.registry import RegistryError
from hub.resources import HubStore
from hub.sensors import cursor as jc


@dg.sensor(
    name="inbox_files",
    jobs=list(SYNC_JOBS.values()),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the sync of a partner whose inbox folder received a file; the file is "
    "processed once and moved aside into processed/ (into failed/ when its sync failed).",
)
def inbox_sensor(context: dg.SensorEvaluationContext, hub_store: HubStore):
    try:
        registry = hub_store.registry()
    except RegistryError as exc:
        return dg.SkipReason(f"registry not usable: {exc}")
    files = pending(registry)
    if not files:
        return dg.SkipReason("no file waiting in any inbox")
    requested: dict[str, str] = jc.load(context.cursor).get("requested", {})
    requests = []
    seen: set[str] = set()
    for item in files:
        feed_key = f"{item.partner_id}/{item.domain}"
        # one run per partner feed at a time: the run takes the oldest file, the next tick the next
        if feed_key in seen:
            continue
        seen.add(feed_key)
        if requested.get(feed_key) == item.key:
            continue  # its run is on the way
        requested[feed_key] = item.key
        requests.append(sync_request(item.partner_id, item.domain, "inbox:", item.key,
                                     tags={"hub/inbox_file": item.path.name}))
    # forget feeds whose inbox is empty again
    requested = {k: v for k, v in requested.items() if k in seen}
    cursor = jc.dump({"requested": requested})
    if not requests:
        context.update_cursor(cursor)
        return dg.SkipReason("the waiting files' runs were requested already")
    return dg.SensorResult(run_requests=requests, cursor=cursor)
