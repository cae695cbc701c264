"""Starts a partner's sync when a file lands in its inbox folder."""

import dagster as dg

from hub.inbox import pending
from hub.jobs import SYNC_JOBS
from hub.registry import RegistryError
from hub.resources import HubStore


@dg.sensor(
    name="inbox_files",
    jobs=list(SYNC_JOBS.values()),
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts the sync of a partner whose inbox folder received a file; the file is "
    "processed once and moved aside into processed/.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, hub_store: HubStore):
    try:
        registry = hub_store.registry()
    except RegistryError as exc:
        return dg.SkipReason(f"registry not usable: {exc}")
    files = pending(registry)
    if not files:
        return dg.SkipReason("no file waiting in any inbox")
    requests = []
    started: set[tuple[str, str]] = set()
    for item in files:
        # one run per partner feed at a time: the run takes the oldest file, the next tick the next
        if (item.partner_id, item.domain) in started:
            continue
        started.add((item.partner_id, item.domain))
        requests.append(
            dg.RunRequest(
                run_key=item.key,
                job_name=f"sync_{item.domain}",
                partition_key=item.partner_id,
                tags={"hub/inbox_file": item.path.name},
            )
        )
    return dg.SensorResult(run_requests=requests, cursor=files[-1].key)
