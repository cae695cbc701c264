"""The Dagster code location: assembles assets, jobs, sensors and resources."""

import dagster as dg

from hub.assets import ALL_ASSETS
from hub.assets.maintenance import MAINTENANCE_ASSETS, RETENTION_JOB, RETENTION_SCHEDULE
from hub.jobs import PUBLISH_JOB, SYNC_JOBS
from hub.resources import FeedClient, HubStore
from hub.sensors import CADENCE_SCHEDULES, SENSORS

defs = dg.Definitions(
    assets=[*ALL_ASSETS, *MAINTENANCE_ASSETS],
    jobs=[*SYNC_JOBS.values(), PUBLISH_JOB, RETENTION_JOB],
    sensors=SENSORS,
    schedules=[*CADENCE_SCHEDULES, RETENTION_SCHEDULE],
    resources={"hub_store": HubStore(), "feed_client": FeedClient()},
)
