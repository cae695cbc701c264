"""Jobs: one sync job per domain (fetch + stage, per partner partition) and the publication.

Every run the sensors and schedules start for a partner carries the tag ``hub/host`` (the
feed's host): the instance's run queue (dagster.yaml, ``tag_concurrency_limits`` with
``applyLimitPerUniqueValue``) runs at most one sync per host at a time, so one slow partner
cannot hold all run slots. ``dagster/max_runtime`` ends a run that hangs (run monitoring)."""

from urllib.parse import urlsplit

import dagster as dg

from hub.assets.partitions import DOMAINS

SYNC_MAX_RUNTIME_SECONDS = 30 * 60
PUBLISH_MAX_RUNTIME_SECONDS = 60 * 60
HOST_TAG = "hub/host"

SYNC_JOBS = {
    domain: dg.define_asset_job(
        f"sync_{domain}",
        selection=dg.AssetSelection.assets(["raw", domain], ["staged", domain]),
        description=f"Fetch and stage one partner's {domain} feed and send its feedback.",
        tags={"dagster/max_runtime": str(SYNC_MAX_RUNTIME_SECONDS)},
    )
    for domain in DOMAINS
}

PUBLISH_JOB = dg.define_asset_job(
    "publish_directory",
    selection=dg.AssetSelection.groups("directory"),
    description="Resolve and publish the directory of every domain.",
    tags={"dagster/max_runtime": str(PUBLISH_MAX_RUNTIME_SECONDS)},
)


def feed_host(source: str) -> str:
    """The value of the ``hub/host`` tag: the feed's host name, or ``local`` for files and
    inbox folders."""
    if source.startswith(("http://", "https://")):
        return (urlsplit(source).hostname or "unknown").lower()
    return "local"


def sync_request(partner_id: str, domain: str, source: str, run_key: str | None,
                 tags: dict[str, str] | None = None) -> dg.RunRequest:
    """A run of ``sync_<domain>`` for one partner's partition, tagged with the feed's host."""
    return dg.RunRequest(
        run_key=run_key,
        job_name=f"sync_{domain}",
        partition_key=partner_id,
        tags={HOST_TAG: feed_host(source), **(tags or {})},
    )
