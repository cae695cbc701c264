"""Publishes a domain again when a partner's staging ended while the domain's last publication
was running. Declarative automation (``hub.assets.feeds``) takes that publication as having
handled the staging, whether or not the publication read its records, so a release in the UI
could stay unpublished until the next staging anywhere. Publishing again is cheap: the
publication is incremental and changes nothing when it had the records already."""

import dagster as dg

from hub.jobs import PUBLISH_JOB
from hub.assets.partitions import DOMAINS


def staged_during(staged: float, started: float, published: float) -> bool:
    """Whether a staging that ended at ``staged`` ended while the publication that started
    at ``started`` and ended at ``published`` was running (after it ended, the automation
    publishes it anyway)."""
    return started < staged <= published


@dg.sensor(
    name="publication_catch_up",
    job=PUBLISH_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Publishes a domain again when a partner's staging ended while its last "
    "publication was running (the automation counts it as published).",
)
def publication_catch_up_sensor(context: dg.SensorEvaluationContext):
    instance = context.instance
    requests = []
    for domain in DOMAINS:
        staged = instance.get_latest_materialization_event(dg.AssetKey(["staged", domain]))
        published = instance.get_latest_materialization_event(dg.AssetKey(["directory", domain]))
        if staged is None or published is None or not published.run_id:
            continue
        run = instance.get_run_record_by_id(published.run_id)
        started = run.start_time if run is not None and run.start_time else published.timestamp
        if staged_during(staged.timestamp, started, published.timestamp):
            requests.append(dg.RunRequest(
                run_key=f"catch-up:{domain}:{staged.timestamp:.6f}",  # once per staging
                asset_selection=[dg.AssetKey(["directory", domain])],
                tags={"hub/trigger": "publication_catch_up"}))
    if not requests:
        return dg.SkipReason("nothing to publish again: no partner's staging ended while a "
                             "publication of its domain was running")
    context.log.info("publishing again: %s", ", ".join(
        r.asset_selection[0].path[-1] for r in requests))
    return requests
