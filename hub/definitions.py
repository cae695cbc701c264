"""The Dagster code location: assembles assets, jobs, sensors and resources."""

import dagster as dg

from hub.assets import ALL_ASSETS
from hub.jobs import PUBLISH_JOB, SYNC_JOBS
from hub.resources import FeedClient, HubStore
from hub.sensors import inbox_sensor, registry_sensor

defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[*SYNC_JOBS.values(), PUBLISH_JOB],
    sensors=[registry_sensor, inbox_sensor],
    resources={"hub_store": HubStore(), "feed_client": FeedClient()},
)
