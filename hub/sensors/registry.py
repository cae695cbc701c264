"""Keeps the per-domain partner partitions in step with the partner registry."""


import dagster as dg

from hub.assets.partitions import PARTNER_PARTITIONS
from hub.registry import RegistryError, partition_changes
from hub.resources import HubStore


@dg.sensor(
    name="partner_registry",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for every partner feed in the registry and removes the "
    "partitions of partners that left it.",
)
def registry_sensor(context: dg.SensorEvaluationContext, hub_store: HubStore):
    try:
        registry = hub_store.registry()
    except RegistryError as exc:
        return dg.SkipReason(f"registry not usable, partitions left as they are: {exc}")
    existing = {
        domain: list(context.instance.get_dynamic_partitions(pdef.name))
        for domain, pdef in PARTNER_PARTITIONS.items()
    }
    requests = []
    summary = []
    for domain, (add, remove) in partition_changes(registry, existing).items():
        pdef = PARTNER_PARTITIONS[domain]
        if add:
            requests.append(pdef.build_add_request(add))
            summary.append(f"{domain}: +{', '.join(add)}")
        if remove:
            requests.append(pdef.build_delete_request(remove))
            summary.append(f"{domain}: -{', '.join(remove)}")
    if not requests:
        return dg.SkipReason("partitions match the registry")
    context.log.info("partition changes: %s", "; ".join(summary))
    return dg.SensorResult(dynamic_partitions_requests=requests)
