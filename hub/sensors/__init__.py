"""Dagster sensors (thin glue)."""

from hub.sensors.inbox import inbox_sensor
from hub.sensors.registry import registry_sensor

__all__ = ["inbox_sensor", "registry_sensor"]
