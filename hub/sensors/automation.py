"""The sensor that evaluates the assets' automation conditions (staged/ follows raw/,
directory/ follows staged/; see hub.assets.feeds). Defined here so that it runs by default."""

import dagster as dg

automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Requests staged/ and directory/ materializations when their upstream updated.",
)
