"""The sensor that evaluates the assets' automation conditions (staged/ follows raw/,
directory/ follows staged/; see hub.assets.feeds). Defined here so that it runs by default."""

import dagster as dg

from hub.jobs import PUBLISH_MAX_RUNTIME_SECONDS

automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    # its runs are ended by run monitoring like the publication job's (staging runs too)
    run_tags={"dagster/max_runtime": str(PUBLISH_MAX_RUNTIME_SECONDS)},
    description="Requests staged/ and directory/ materializations when their upstream updated.",
)
