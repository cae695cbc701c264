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
    # a run's steps one after the other in the run's own process: a run is one partner feed
    # (fetch, then stage) or one publication, so steps in processes of their own would run no
    # faster; and Dagster's multiprocess executor spins while a step waits for its retry (a
    # dead feed's fetch kept a core busy for the 5 minutes of FETCH_RETRY), where this one
    # sleeps
    executor=dg.in_process_executor,
)
