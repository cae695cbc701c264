"""Run failures e-mailed to the data stewards (HUB_STEWARD_EMAILS). The message is built and
sent by ``hub.alerts``; this sensor only reads the failed run. Dagster keeps the sensor's
cursor (the last run status event handled), so each failure is reported once. Dagster moves
that cursor on whether the mail went out or not: a failure whose alert the mail server did
not take gets the run tag ``hub/alert: unsent``, and ``steward_alerts_retry`` sends it once
the server answers (the tag then reads ``sent``)."""

import dagster as dg

from hub.alerts import FailedStep, RunFailure, send_failure_alert
from hub.quality.mail import MailError


def step_message(event: dg.DagsterEvent) -> str:
    """The reason of a failed step: the hub's own one-line description (dg.Failure), else the
    error's type and first line (no stack trace)."""
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        first = (data.error.message or "").strip().splitlines()
        return first[0] if first else data.error.cls_name or "unknown error"
    return "the step failed"


# the run tag of a failure whose alert is still to be mailed ("unsent"), then "sent"
ALERT_TAG = "hub/alert"


def run_failure(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunFailure:
    steps = [FailedStep(entry.step_key or "?", step_message(entry.dagster_event))
             for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)]
    ends = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    job = run.job_name
    if job.startswith("__"):  # an ad-hoc materialization (from the UI): name its assets
        keys = sorted(key.to_user_string() for key in (run.asset_selection or ()))
        job = ", ".join(keys) or "asset materialization"
    return RunFailure(
        job=job,
        run_id=run.run_id,
        partner=run.tags.get("dagster/partition"),
        steps=steps,
        run_message=None if steps or not ends else ends[-1].dagster_event.message,
        holds=failed_blocking_checks(instance, run.run_id),
    )


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """(check name, description) of the run's failed checks of severity ERROR: the guard
    that held the delivery says why, with the numbers and the release command."""
    out = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            out.append((evaluation.check_name, evaluation.description or "failed"))
    return out


@dg.run_failure_sensor(
    name="steward_alerts",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    # runs of the hub command (hub sync, in-process) have no code location: without this the
    # sensor would see only the runs it launched itself
    monitor_all_code_locations=True,
    description="E-mails the data stewards (HUB_STEWARD_EMAILS) when a sync or publication run "
    "fails, hub sync's runs included: job, partner, failed step and error message; for a held "
    "delivery the guard's numbers and how to release it.",
)
def steward_alert_sensor(context: dg.RunFailureSensorContext):
    failure = run_failure(context.instance, context.dagster_run)
    try:
        sent = send_failure_alert(failure)
    except MailError as exc:
        context.instance.add_run_tags(failure.run_id, {ALERT_TAG: "unsent"})
        context.log.warning(f"steward alert for run {failure.run_id} not sent: {exc}; "
                            "steward_alerts_retry sends it once the mail server answers")
        return
    if sent:
        context.log.info(f"steward alert for run {failure.run_id} sent to {len(sent)} steward(s)")


@dg.sensor(
    name="steward_alerts_retry",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends the steward alerts that steward_alerts could not mail (mail server down; "
    "the failed runs tagged hub/alert: unsent), oldest first, every 5 minutes until the mail "
    "server takes them.",
)
def steward_alert_retry_sensor(context: dg.SensorEvaluationContext):
    waiting = context.instance.get_runs(dg.RunsFilter(tags={ALERT_TAG: "unsent"}), limit=100)
    sent = 0
    for run in reversed(waiting):  # get_runs lists the newest first
        try:
            send_failure_alert(run_failure(context.instance, run))
        except MailError as exc:
            context.log.warning(f"{len(waiting) - sent} steward alert(s) still not sent: {exc}")
            return dg.SkipReason(f"{sent} late steward alert(s) sent, {len(waiting) - sent} "
                                 f"waiting for the mail server: {exc}")
        context.instance.add_run_tags(run.run_id, {ALERT_TAG: "sent"})
        sent += 1
        context.log.info(f"late steward alert for run {run.run_id} sent")
    return dg.SkipReason(f"{sent} late steward alert(s) sent" if sent else
                         "no steward alert waits for the mail server")
