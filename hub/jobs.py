"""Jobs: one sync job per domain (fetch + stage, per partner partition) and the publication."""

import dagster as dg

from hub.assets.partitions import DOMAINS

SYNC_JOBS = {
    domain: dg.define_asset_job(
        f"sync_{domain}",
        selection=dg.AssetSelection.assets(["raw", domain], ["staged", domain]),
        description=f"Fetch and stage one partner's {domain} feed and send its feedback.",
    )
    for domain in DOMAINS
}

PUBLISH_JOB = dg.define_asset_job(
    "publish_directory",
    selection=dg.AssetSelection.groups("directory"),
    description="Resolve and publish the directory of every domain.",
)
