"""Maintenance assets: ``maintenance/retention`` withdraws offers that are over and purges
contact data past its retention period (HUB_CONTACT_RETENTION_DAYS). Thin glue over
``hub.store.retention``; the ``retention`` job runs it daily on the ``retention_daily``
schedule."""

import datetime as dt

import dagster as dg

from hub.inbox import inbox_folder
from hub.registry import RegistryError
from hub.resources import HubStore
from hub.store.retention import (
    RetentionError,
    RetentionPolicy,
    purge_inbox_copies,
    refresh_feedback_reports,
    run_retention,
)

RETENTION_KEY = dg.AssetKey(["maintenance", "retention"])


@dg.asset(
    key=RETENTION_KEY,
    group_name="maintenance",
    kinds={"sql"},
    pool="publish",  # one at a time with other publishers where the instance limits the pool
    description="Withdraws job postings past valid_through and courses that are over (the "
    "directory gets deleted tombstones), then drops contact persons' data the hub no longer "
    "needs: withdrawn records, old rejections, superseded change-feed items and unused raw "
    "payloads, HUB_CONTACT_RETENTION_DAYS (default 180) after they stopped being current; "
    "change-feed items superseded by a later item of their entity for HUB_CHANGES_HISTORY_DAYS "
    "(default 30) are removed (each entity keeps its newest item).",
)
def retention(context: dg.AssetExecutionContext, hub_store: HubStore) -> dg.MaterializeResult:
    try:
        policy = RetentionPolicy.from_env()
    except RetentionError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    engine = hub_store.engine()
    now = dt.datetime.now(dt.timezone.utc)
    report = run_retention(engine, hub_store.landing(), now=now, policy=policy)
    for domain, outcome in sorted(report.published.items()):
        # the directory changed: its asset shows the entries as they are now, not those of
        # the last sync
        context.log_event(dg.AssetMaterialization(
            asset_key=["directory", domain],
            description=f"retention: {report.withdrawn[domain]} {domain} over withdrawn, "
                        f"{outcome.deleted} directory entries deleted (tombstones in the change feed)",
            metadata={"entries": outcome.entries, "deleted": outcome.deleted,
                      "withdrawn_records": report.withdrawn[domain],
                      "publication_id": outcome.publication_id, "resolution": outcome.mode},
        ))
    purged = report.purged
    refreshed = inbox_files = 0
    try:
        partners = hub_store.registry().partners
    except RegistryError as exc:
        context.log.warning(f"inbox copies not purged, feedback reports not rewritten: {exc}")
    else:
        # the inboxes' processed/ and failed/ hold copies of the payloads just dropped
        inbox_files = purge_inbox_copies(
            engine, hub_store.landing(),
            [folder for partner in partners for feed in partner.feeds
             if (folder := inbox_folder(feed)) is not None],
            now - dt.timedelta(days=policy.contact_days))
        if purged.rejections:  # reports on disk may still show the values just dropped
            refreshed = refresh_feedback_reports(engine, partners,
                                                 hub_store.settings().home / "feedback")
    return dg.MaterializeResult(
        metadata={  # counts only: no record data, no personal data
            "contact_retention_days": policy.contact_days,
            "course_open_days": policy.course_open_days,
            "changes_history_days": policy.history_days,
            "withdrawn_jobs": report.withdrawn.get("jobs", 0),
            "withdrawn_courses": report.withdrawn.get("courses", 0),
            "tombstones": sum(report.deleted.values()),
            "contacts_purged_records": purged.records,
            "contacts_purged_rejections": purged.rejections,
            "contacts_purged_changes": purged.changes,
            "payloads_erased": purged.payloads,
            "inbox_files_removed": inbox_files,
            "changes_compacted": report.compacted,
            "feedback_reports_rewritten": refreshed,
        }
    )


MAINTENANCE_ASSETS = [retention]

RETENTION_JOB = dg.define_asset_job(
    "retention",
    selection=dg.AssetSelection.assets(RETENTION_KEY),
    description="Withdraw offers that are over and purge contact data past its retention period.",
    tags={"dagster/max_runtime": "3600"},  # failed by run monitoring when stuck for an hour
)

RETENTION_SCHEDULE = dg.ScheduleDefinition(
    name="retention_daily",
    job=RETENTION_JOB,
    cron_schedule="30 3 * * *",
    execution_timezone="Europe/Berlin",
    default_status=dg.DefaultScheduleStatus.RUNNING,  # deleting personal data is not optional
    description="Daily retention pass at 03:30, before the morning syncs.",
)
