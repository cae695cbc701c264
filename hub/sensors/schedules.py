"""One schedule per domain that honours each partner feed's own cadence: it ticks every 15
minutes (Europe/Berlin) and starts the sync of the partner feeds whose cron time fell into
the quarter hour just ended (``hub.cadence``). The run key names the feed and its cron time,
so a tick evaluated twice starts nothing twice."""

import dagster as dg

from hub.assets.partitions import DOMAINS, PARTNER_PARTITIONS
from hub.cadence import TICK_CRON, TIMEZONE, due_feeds, invalid_schedules
from hub.jobs import SYNC_JOBS, sync_request
from hub.registry import RegistryError
from hub.resources import HubStore


def build_cadence_schedule(domain: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"partner_cadence_{domain}",
        job=SYNC_JOBS[domain],
        cron_schedule=TICK_CRON,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Syncs each partner's {domain} feed at the times of its registry "
        "`schedule` (cron, Europe/Berlin; default daily 05:00). Inbox feeds sync when a file "
        "arrives.",
    )
    def cadence(context: dg.ScheduleEvaluationContext, hub_store: HubStore):
        try:
            registry = hub_store.registry()
        except RegistryError as exc:
            return dg.SkipReason(f"registry not usable: {exc}")
        for bad in invalid_schedules(registry, domain):
            context.log.warning(f"schedule is not a cron expression, feed not scheduled: {bad}")
        partitions = set(context.instance.get_dynamic_partitions(PARTNER_PARTITIONS[domain].name))
        due = [item for item in due_feeds(registry, domain, context.scheduled_execution_time)
               if item.partner_id in partitions]
        if not due:
            return dg.SkipReason(f"no {domain} feed is due")
        return [
            sync_request(item.partner_id, domain, item.source,
                         run_key=f"cadence:{item.partner_id}/{domain}:{item.due_at.isoformat()}",
                         tags={"hub/trigger": "schedule", "hub/cron": item.cron})
            for item in due
        ]

    return cadence


CADENCE_SCHEDULES = [build_cadence_schedule(domain) for domain in DOMAINS]
