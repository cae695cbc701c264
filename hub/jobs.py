"""Jobs: one sync job per domain (fetch + stage, per partner partition) and the publication.

Every run of a sync job for a partner carries the tag ``hub/host`` (the feed's host): the
sensors and schedules set it, and the jobs' partitioned config gives it to the runs launched
for a partition from the UI (the job's launchpad, its partitions, a backfill) too. The
instance's run queue (dagster.yaml, ``tag_concurrency_limits`` with
``applyLimitPerUniqueValue``) runs at most one sync per host at a time, so one slow partner
cannot hold all run slots. ``dagster/max_runtime`` ends a run that hangs (run monitoring).
Runs the UI launches from the asset graph are runs of Dagster's implicit asset job, which
takes no tags: those get the instance's limits (max_runtime_seconds, no per-host limit)."""

from urllib.parse import urlsplit

import dagster as dg

from hub.assets.partitions import DOMAINS, PARTNER_PARTITIONS

SYNC_MAX_RUNTIME_SECONDS = 30 * 60
PUBLISH_MAX_RUNTIME_SECONDS = 60 * 60
HOST_TAG = "hub/host"



def host_tags(domain: str, partner_id: str) -> dict[str, str]:
    """The ``hub/host`` tag of a run for the partner's ``domain`` feed, from the registry the
    environment names; none when the registry cannot be read or does not list the feed (the
    run then goes without the per-host limit rather than not at all)."""
    from hub.config import Settings, SettingsError
    from hub.registry import RegistryError, load_registry

    try:
        feed = load_registry(Settings.from_env().registry_path).get(partner_id).feed_for(domain)
    except (RegistryError, SettingsError):
        return {}
    return {HOST_TAG: feed_host(feed.source)} if feed is not None else {}


def _sync_job(domain: str):
    return dg.define_asset_job(
        f"sync_{domain}",
        selection=dg.AssetSelection.assets(["raw", domain], ["staged", domain]),
        description=f"Fetch and stage one partner's {domain} feed and send its feedback.",
        tags={"dagster/max_runtime": str(SYNC_MAX_RUNTIME_SECONDS)},
        # a run for a partition, however launched, is tagged with the partner feed's host
        config=dg.PartitionedConfig(
            partitions_def=PARTNER_PARTITIONS[domain],
            run_config_for_partition_key_fn=lambda partner_id: {},
            tags_for_partition_key_fn=lambda partner_id: host_tags(domain, partner_id),
        ),
    )


SYNC_JOBS = {domain: _sync_job(domain) for domain in DOMAINS}

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
