"""Dagster sensors and schedules (thin glue over plain modules)."""

from hub.sensors.automation import automation_sensor
from hub.sensors.alerts import steward_alert_retry_sensor, steward_alert_sensor
from hub.sensors.feedback import feedback_sensor
from hub.sensors.feeds import feed_change_sensor
from hub.sensors.inbox import inbox_sensor
from hub.sensors.publication import publication_catch_up_sensor
from hub.sensors.registry import registry_sensor
from hub.sensors.schedules import CADENCE_SCHEDULES

SENSORS = [registry_sensor, inbox_sensor, feed_change_sensor, feedback_sensor, steward_alert_sensor,
           steward_alert_retry_sensor, automation_sensor, publication_catch_up_sensor]

__all__ = ["CADENCE_SCHEDULES", "SENSORS", "feed_change_sensor", "feedback_sensor", "inbox_sensor",
           "publication_catch_up_sensor", "registry_sensor", "steward_alert_retry_sensor",
           "steward_alert_sensor"]
