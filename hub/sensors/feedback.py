"""Feedback mails the staging step could not deliver (mail server down, say) are sent later
by this sensor (``hub.quality.dispatch``).

Cursor: per partner feed whose mail failed, the number of failed attempts and the time of the
next try (15 min, 30 min, ... up to 6 h), so a broken mail server is not hammered."""

import datetime as dt
import os

import dagster as dg

from hub.quality.dispatch import deliver_pending
from hub.quality.mail import Mailer, MailError, MailSettings
from hub.registry import RegistryError
from hub.resources import HubStore
from hub.sensors import cursor as jc

FIRST_RETRY = dt.timedelta(minutes=15)
MAX_RETRY = dt.timedelta(hours=6)


def next_try(now: dt.datetime, attempts: int) -> dt.datetime:
    return now + min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1))


@dg.sensor(
    name="feedback_mail",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Mails partner feedback reports that are due but were not delivered after "
    "staging (for example while the mail server was down).",
)
def feedback_sensor(context: dg.SensorEvaluationContext, hub_store: HubStore):
    if not os.environ.get("HUB_SMTP_HOST"):
        return dg.SkipReason("mail not configured (HUB_SMTP_HOST)")
    try:
        registry = hub_store.registry()
        mailer = Mailer(MailSettings.from_env())
    except (RegistryError, MailError) as exc:
        return dg.SkipReason(f"cannot send feedback: {exc}")
    now = dt.datetime.now(dt.timezone.utc)
    failing: dict[str, dict] = jc.load(context.cursor).get("failing", {})
    wait = {key for key, entry in failing.items()
            if dt.datetime.fromisoformat(entry["next_try"]) > now}
    result = deliver_pending(hub_store.engine(), registry, hub_store.settings().home / "feedback",
                             mailer, now=now, skip=wait)
    for key in result.sent:
        failing.pop(key, None)
    for key, reason in result.failed.items():
        attempts = failing.get(key, {}).get("attempts", 0) + 1
        failing[key] = {"attempts": attempts, "next_try": next_try(now, attempts).isoformat()}
        context.log.warning(f"feedback for {key} not sent (attempt {attempts}): {reason}")
    failing = {k: v for k, v in failing.items() if k in wait or k in result.failed}
    context.update_cursor(jc.dump({"failing": failing}))
    if result.sent:
        context.log.info(f"feedback sent: {', '.join(result.sent)}")
    return dg.SkipReason(
        f"{len(result.sent)} report(s) sent, {len(result.failed)} failed, {len(wait)} waiting "
        "for their next try")
