"""Keeps the per-domain partner partitions in step with the partner registry.

Cursor: a fingerprint of the registry file and of the partitions it produced. While neither
changes, a tick is a file hash and three partition look-ups, nothing more."""

import hashlib
import json

import dagster as dg

from hub.alerts import send_registry_alert
from hub.assets.partitions import PARTNER_PARTITIONS
from hub.quality.mail import MailError
from hub.registry import RegistryError, partition_changes
from hub.resources import HubStore
from hub.sensors import cursor as jc


def fingerprint(registry_bytes: bytes, partitions: dict[str, list[str]]) -> str:
    state = json.dumps({d: sorted(keys) for d, keys in sorted(partitions.items())})
    return hashlib.sha256(registry_bytes + b"\0" + state.encode()).hexdigest()


@dg.sensor(
    name="partner_registry",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for every partner feed in the registry and removes the "
    "partitions of partners that left it. When the registry cannot be read, or lists no "
    "partners at all (no feed is synced then), leaves the partitions as they are and mails the "
    "stewards (HUB_STEWARD_EMAILS) once per problem.",
)
def registry_sensor(context: dg.SensorEvaluationContext, hub_store: HubStore):
    path = hub_store.settings().registry_path
    state = jc.load(context.cursor)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return _unusable(context, state, f"{path}: registry file not found")
    except OSError as exc:
        return _unusable(context, state, f"{path}: {exc.strerror or exc}")
    existing = {
        domain: list(context.instance.get_dynamic_partitions(pdef.name))
        for domain, pdef in PARTNER_PARTITIONS.items()
    }
    if state.get("fingerprint") == fingerprint(data, existing) and not state.get("alerted"):
        return dg.SkipReason("registry unchanged and partitions match it")
    try:
        registry = hub_store.registry()
    except RegistryError as exc:
        return _unusable(context, state, str(exc))
    if not registry.partners and any(existing.values()):
        # a file emptied by mistake (an editor's accident, a failed copy) would remove every
        # partition; hub sync refuses such a registry too
        return _unusable(context, state, f"{path} lists no partners (an emptied file?); the "
                         "partitions of the partners it listed are left as they are")
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
    if state.get("alerted"):
        context.log.info("the registry is usable again")
    # after the requests are applied the partitions are the registry's
    cursor = jc.dump({"fingerprint": fingerprint(data, registry.partitions())})
    if not requests:
        context.update_cursor(cursor)
        return dg.SkipReason("partitions match the registry")
    context.log.info("partition changes: %s", "; ".join(summary))
    return dg.SensorResult(dynamic_partitions_requests=requests, cursor=cursor)


def _unusable(context: dg.SensorEvaluationContext, state: dict, problem: str) -> dg.SkipReason:
    """Partitions left as they are; the stewards are mailed once per problem (every sensor
    and schedule skips while the registry cannot be read: nothing is synced)."""
    if state.get("alerted") != problem:
        try:
            sent = send_registry_alert(problem)
        except MailError as exc:
            context.log.warning(f"steward alert on the registry not sent: {exc}")
        else:
            context.update_cursor(jc.dump({**state, "alerted": problem}))
            if sent:
                context.log.info(f"steward alert on the registry sent to {len(sent)} steward(s)")
    return dg.SkipReason(f"registry not usable, partitions left as they are: {problem}")
