"""Assets per domain: ``raw/<domain>`` (fetch) -> ``staged/<domain>`` (parse + validate), both
partitioned by partner, -> ``directory/<domain>`` (resolve + publish). Thin glue: the work is
done by ``hub.pipeline`` and ``hub.store.publish``."""

import warnings

import dagster as dg
from pydantic import Field

from hub.assets.partitions import DOMAINS, PARTNER_PARTITIONS
from hub.config import SettingsError
from hub.fetch import FetchError, safe_url
from hub.models import SyncMode
from hub.pipeline import (
    MIN_REJECTIONS,
    MIN_WITHDRAWALS,
    StageError,
    fetch_partner_feed,
    rejection_hold,
    stage_partner_feed,
    withdrawal_hold,
)
from hub.registry import RegistryError
from hub.quality.feed import FeedCheck, fields_check, freshness_check, volume_check
from hub.quality.feedback import deliver_feedback
from hub.quality.mail import MailError
from hub.resources import FeedClient, HubStore
from hub.store.publish import publish_domain
from hub.store.tables import rejections


def _partner(hub_store: HubStore, partner_id: str):
    try:
        return hub_store.registry().get(partner_id)
    except RegistryError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None


FEEDBACK_NOT_SENT = "not sent: "  # how the step's feedback note begins when the mail failed


def _send_feedback(context, hub_store: HubStore, partner, domain: str) -> str:
    """Write the partner's report and mail it when due. A mail problem is logged and noted,
    never fails the staging: the ledger keeps the report due, so the next sync tries again.
    The note goes into the step's metadata as ``feedback`` (hub.runner reads it there)."""
    try:
        outcome = deliver_feedback(hub_store.engine(), partner, domain,
                                   hub_store.settings().home / "feedback")
    except MailError as exc:
        context.log.warning(f"feedback mail for {partner.id}/{domain} not sent: {exc}")
        return f"{FEEDBACK_NOT_SENT}{exc}"
    return outcome.note


def staged_report(engine, partner, domain: str, outcome, feedback_note: str, report=None
                  ) -> tuple[dict, list[tuple[FeedCheck, dg.AssetCheckSeverity]]]:
    """What a staging tells the Dagster UI: the metadata of the ``staged/<domain>``
    materialization (``report``: the path of the partner's feedback report, where one was
    written), and the results of its checks with their severities (the guards that hold a
    delivery are errors, the rest warnings). The asset yields them; ``hub replay`` reports
    them for the syncs it stages outside a run."""
    counts = outcome.counts
    rate = counts.rejected / counts.items if counts.items else 0.0
    metadata = {
        "status": outcome.status,
        "rows_in": counts.items,
        "accepted": counts.accepted,
        "rejected": counts.rejected,
        "rejection_rate": round(rate, 4),
        "added": counts.added,
        "changed": counts.changed,
        "withdrawn": counts.withdrawn,
        "active_records": counts.active,
        "rules": dg.MetadataValue.md(_rules_markdown(counts.rules)),
        "feedback": feedback_note,
    }
    if report is not None:  # what the partner reads, for the steward to read the same
        metadata["feedback_report"] = dg.MetadataValue.path(str(report))
    checks = [(FeedCheck(
        "records_accepted", counts.rejected == 0,
        f"{partner.id}: {counts.rejected} of {counts.items} records rejected "
        f"({', '.join(sorted(counts.rules)) or 'no rule named'}); the partner's "
        "feedback report lists each with its field and value."
        if counts.rejected else f"{partner.id}: all {counts.accepted} records accepted.",
        {"failed": counts.rejected,
         "rules": dg.MetadataValue.md(_rules_markdown(counts.rules)),
         "sample": dg.MetadataValue.md(_sample_markdown(engine, outcome.sync_id))},
    ), dg.AssetCheckSeverity.WARN)]
    hold = outcome.hold
    feed = partner.feed_for(domain)
    # what each guard measured: the records this delivery withdrew of those published
    # before it, the records it rejected of those it held
    withdrawn, published = counts.withdrawn, counts.active - counts.added + counts.withdrawn
    measured = {
        "withdrawal_guard": (withdrawn, published, feed.max_withdrawal_share, MIN_WITHDRAWALS,
                             "published records withdrawn",
                             # (a delta feed's deletions are not guarded)
                             withdrawal_hold(withdrawn, published, feed.max_withdrawal_share)
                             if feed.mode == SyncMode.SNAPSHOT else None),
        "rejection_share": (counts.rejected, counts.items, feed.max_rejection_share,
                            MIN_REJECTIONS, "records of the delivery rejected",
                            rejection_hold(counts.items, counts.accepted, feed.max_rejection_share)),
    }
    for check, (count, total, limit, minimum, what, over) in measured.items():
        failed = hold is not None and hold.check == check
        if failed:
            count, total = hold.count, hold.total
        share = count / total if total else 0.0
        # a delivery over the limit that went through was let through by a steward's
        # release (hub release, or the run config): said so, not 'within the limits'
        released = not failed and hold is None and over is not None
        checks.append((FeedCheck(
            check, not failed,
            held_description(hold, domain) if failed else (
                f"Released by a steward: {count} of {total} {what} ({share:.0%}; held above "
                f"{limit:.0%} when {minimum} or more, let through by the release)."
                if released else
                # a few records over the share do not hold (a small feed's one bad record)
                f"Within the limits: {count} of {total} {what} ({share:.0%}; held above "
                f"{limit:.0%} when {minimum} or more)."),
            {"records": count, "of": total, "share": round(share, 4), "limit": limit,
             "released": released},
        ), dg.AssetCheckSeverity.ERROR))
    same = outcome.status == "unchanged"  # the last good delivery, staged again
    with engine.connect() as conn:
        checks += [(check, dg.AssetCheckSeverity.WARN) for check in (
            volume_check(conn, partner.id, domain, outcome.sync_id, same),
            fields_check(conn, partner.id, domain, outcome.sync_id, same),
            freshness_check(conn, partner.id, domain, feed.max_age_days),
        )]
    return metadata, checks


def ui_release(domain: str, partner: str | None = None) -> str:
    """How a steward releases a held delivery in the Dagster UI: the staging asset's
    launchpad (its Materialize button opens no config), the partner's partition, the
    staging's run config ``release_withdrawals`` (pre-filled there as false)."""
    return (f"in the Dagster UI: open the launchpad of staged/{domain} (the menu beside "
            f"Materialize), pick the partition {partner or 'of the partner'}, set "
            "release_withdrawals: true and materialize")


def held_description(hold, domain: str) -> str:
    """A held delivery as its failed guard and its failed step say it in the UI: the hold's
    numbers and both ways to release it, the command and the UI's own."""
    return hold.describe(ui_release(domain, hold.partner_id))


def _rules_markdown(rules: dict[str, int]) -> str:
    if not rules:
        return "No problems."
    lines = ["| rule | records |", "|---|---|"]
    lines += [f"| `{code}` | {count} |" for code, count in sorted(rules.items())]
    return "\n".join(lines)


FEED_CHECKS = {
    "feed_volume": "Warns when a delivery holds less than half the records of the last good one.",
    "feed_fields": "Warns when fields the partner used to fill are no longer delivered, or new "
    "ones appear.",
    "feed_freshness": "Warns when the feed has not changed for longer than the registry's "
    "max_age_days.",
}


INTERRUPTED = "interrupted (Ctrl-C)"

# A fetch that failed for a reason that may pass (the fetcher's own retries on 429/5xx and
# connection errors exhausted, deadline) is tried again after ~30 s, ~60 s and ~120 s (+-50 %);
# not in runs of the hub command (tag hub/trigger=cli), where a person waits for the answer.
FETCH_RETRY = dg.RetryPolicy(
    max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

# Declarative automation (the default automation condition sensor evaluates it): a partner's
# staged records follow a raw fetch that ran on its own (from the UI, say); the directory is
# published after any partner's staging, once no staging is in progress. A partner that never
# delivered does not hold the others back; a held delivery (failed blocking check) changes no
# published record, so it does not hold the publication either.
STAGED_AUTOMATION = dg.AutomationCondition.eager()
DIRECTORY_AUTOMATION = (
    dg.AutomationCondition.eager()
    .without(~dg.AutomationCondition.any_deps_missing())
    .with_label("eager_allow_missing_partners")
)


class DirectoryConfig(dg.Config):
    max_cluster_size: int = 20
    """The cluster_size check fails when one entity joins more records than this."""
    full_resolution: bool = False
    """Resolve every record of the domain again, even where only a few changed (by default
    a publication re-resolves only what changed since the last one and what that reaches)."""


class StageConfig(dg.Config):
    release_withdrawals: bool = Field(False, description=(
        "A steward's release of a held delivery: true lets this run stage it although it "
        "withdraws more published records than withdrawal_guard allows, or rejects more than "
        "rejection_share allows (the same as hub release PARTNER)."))


def _partner_check(name: str, *, asset: dg.AssetKey, partitions, **kwargs) -> dg.AssetCheckSpec:
    """A check of the staged records evaluated per partner partition: the UI shows each
    partner's result and its history, instead of the last partner's result for the whole
    asset (a held partner's failed guard was hidden by the next partner's pass). Dagster 1.13
    calls a check's partitions_def a preview; the pinned version is what the tests exercise
    (tests/test_dagster.py), so its warning is not repeated at every load."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Specifying a partitions_def on an AssetCheckSpec")
        return dg.AssetCheckSpec(name, asset=asset, partitions_def=partitions, **kwargs)


def build_domain_assets(domain: str) -> list:
    partitions = PARTNER_PARTITIONS[domain]
    raw_key = dg.AssetKey(["raw", domain])
    staged_key = dg.AssetKey(["staged", domain])

    @dg.asset(
        key=raw_key,
        group_name="raw",
        partitions_def=partitions,
        kinds={"http"},
        retry_policy=FETCH_RETRY,
        description=f"The partner's {domain} feed as fetched, kept in the content-addressed "
        "landing store. Unchanged (304 or same hash) is not empty.",
    )
    def raw_feed(context: dg.AssetExecutionContext, hub_store: HubStore, feed_client: FeedClient):
        partner = _partner(hub_store, context.partition_key)
        someone_waits = context.run.tags.get("hub/trigger") == "cli"  # the hub command's runs
        try:
            outcome = fetch_partner_feed(
                hub_store.engine(), hub_store.landing(), feed_client.fetcher(), partner, domain
            )
        except (FetchError, StageError, SettingsError) as exc:
            # (SettingsError: HUB_INBOX_SETTLE_SECONDS is not a number; said, not retried)
            # only a failure that may pass is worth FETCH_RETRY's later tries, and only where
            # no one waits for the run (the hub command reports it at once)
            # (the last try fails with the reason, not with Dagster's 'Exceeded max_retries')
            retry = getattr(exc, "transient", False) and not someone_waits \
                and context.retry_number < FETCH_RETRY.max_retries
            raise dg.Failure(description=str(exc), allow_retries=retry) from None
        except (dg.DagsterExecutionInterruptedError, KeyboardInterrupt):
            if not someone_waits:
                raise
            # Dagster retries an interrupted step that has a retry policy: not when a person
            # pressed Ctrl-C (hub.runner sees this description and stops)
            raise dg.Failure(description=INTERRUPTED, allow_retries=False) from None
        except Exception as exc:
            if not someone_waits:
                raise  # FETCH_RETRY tries again later; the event log keeps the traceback
            # the hub command reports it at once (no retry 30 s later while a person waits)
            raise dg.Failure(description=f"{type(exc).__name__}: {exc}".splitlines()[0],
                             allow_retries=False) from exc
        feed = partner.feed_for(domain)
        return dg.MaterializeResult(
            metadata={
                "status": outcome.status,
                "bytes": outcome.size,
                "sha256": outcome.content_sha256 or "",
                "http_status": outcome.http_status or 0,
                "attempts": outcome.attempts,
                "format": feed.format,
                "source": safe_url(feed.source) if "://" in feed.source else feed.source,
            }
        )

    @dg.asset(
        key=staged_key,
        group_name="staged",
        partitions_def=partitions,
        deps=[raw_key],
        kinds={"python"},
        automation_condition=STAGED_AUTOMATION,
        description=f"The partner's {domain} records parsed into canonical records and checked; "
        "rejected records are quarantined with their rule codes, and the partner's feedback "
        "report is written (HUB_HOME/feedback/) and mailed when its result changed.",
        check_specs=[
            _partner_check(
                "records_accepted",
                asset=staged_key,
                partitions=partitions,
                description="Warns when records of the delivery were rejected; lists the rules.",
            ),
            _partner_check(
                "withdrawal_guard",
                asset=staged_key,
                partitions=partitions,
                blocking=True,
                description="Fails when a snapshot would withdraw too many published records at "
                "once; the partner's records stay as they were until a steward releases the sync "
                f"(`hub release PARTNER`, or {ui_release(domain)}).",
            ),
            _partner_check(
                "rejection_share",
                asset=staged_key,
                partitions=partitions,
                blocking=True,
                description="Fails when too large a share of the delivery was rejected (a broken "
                "export): more than the feed's max_rejection_share (registry; default 50 %) and at "
                f"least {MIN_REJECTIONS} records. The partner's records stay as they were until a "
                f"steward releases the sync (`hub release PARTNER`, or {ui_release(domain)}).",
            ),
            *[
                _partner_check(name, asset=staged_key, partitions=partitions, description=text)
                for name, text in FEED_CHECKS.items()
            ],
        ],
    )
    def staged_records(context: dg.AssetExecutionContext, config: StageConfig, hub_store: HubStore):
        partner = _partner(hub_store, context.partition_key)
        engine = hub_store.engine()
        try:
            outcome = stage_partner_feed(engine, hub_store.landing(), partner, domain,
                                         release=config.release_withdrawals)
        except StageError as exc:
            note = _send_feedback(context, hub_store, partner, domain)  # the partner learns why
            raise dg.Failure(description=str(exc), allow_retries=False,
                             metadata={"feedback": note}) from None
        feedback_note = _send_feedback(context, hub_store, partner, domain)
        report = hub_store.settings().home / "feedback" / partner.id / domain / "report.html"
        metadata, checks = staged_report(engine, partner, domain, outcome, feedback_note,
                                         report if report.is_file() else None)
        yield dg.MaterializeResult(metadata=metadata)
        for check, severity in checks:
            yield dg.AssetCheckResult(check_name=check.name, passed=check.passed, severity=severity,
                                      description=check.description, metadata=check.metadata)
        if outcome.hold is not None:
            # the failed guard (a blocking check) stops the run either way; failing the step
            # here gives it the hold's message, where Dagster's own error for a blocking check
            # names only the check ("DagsterAssetCheckFailedError: 1 blocking asset check ...")
            raise dg.Failure(description=held_description(outcome.hold, domain),
                             allow_retries=False)

    @dg.asset(
        key=dg.AssetKey(["directory", domain]),
        group_name="directory",
        deps=[staged_key],
        kinds={"sql"},
        automation_condition=DIRECTORY_AUTOMATION,
        description=f"The published {domain} directory: one entry per real offer, stable ids, "
        "written with the entity map and the change feed in one transaction.",
        check_specs=[dg.AssetCheckSpec(
            "cluster_size", asset=dg.AssetKey(["directory", domain]),
            description="Fails when one entity joins more records than max_cluster_size (run "
            "config, default 20): an implausibly large cluster is a wrong merge.",
        )],
    )
    def directory(context: dg.AssetExecutionContext, config: DirectoryConfig, hub_store: HubStore):
        outcome = publish_domain(hub_store.engine(), domain,
                                 mode="full" if config.full_resolution else "auto",
                                 progress=context.log.info)
        yield dg.MaterializeResult(
            metadata={
                "entries": outcome.entries,
                "added": outcome.added,
                "updated": outcome.updated,
                "deleted": outcome.deleted,
                "merged": outcome.merged,
                "multi_source_entities": outcome.clusters_multi,
                "largest_cluster": outcome.largest_cluster,
                "publication_id": outcome.publication_id,
                # resolution of this run: full, or incremental (only what changed and what it
                # reaches; docs/resolution.md)
                "resolution": outcome.mode,
                "records": outcome.records,
                "entities": outcome.entries,
                "clusters": outcome.clusters_multi,
                "merges": outcome.merged,
                "splits": outcome.splits,
                "new_entities": outcome.new_entities,
                "withdrawn_entities": outcome.withdrawn_entities,
            }
        )
        too_large = outcome.largest_cluster > config.max_cluster_size
        yield dg.AssetCheckResult(
            check_name="cluster_size",
            passed=not too_large,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(f"An entity joins {outcome.largest_cluster} records (more than "
                         f"{config.max_cluster_size}): probably a wrong merge; look at it."
                         if too_large else "No implausibly large cluster."),
            metadata={"largest_cluster": outcome.largest_cluster,
                      "max_cluster_size": config.max_cluster_size},
        )

    return [raw_feed, staged_records, directory]


def _sample_markdown(engine, sync_id: int | None, limit: int = 10) -> str:
    if sync_id is None:
        return "Nothing staged yet."
    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(rejections.c.source_id, rejections.c.title, rejections.c.line,
                      rejections.c.rule, rejections.c.field, rejections.c.value,
                      rejections.c.message_en.label("message"))
            .where(rejections.c.sync_id == sync_id)
            .order_by(rejections.c.id)
            .limit(limit)
        ).all()
    if not rows:
        return "No problems."
    cell = lambda v: ("" if v is None else str(v)).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| record | rule | field | value | message |", "|---|---|---|---|---|"]
    for r in rows:
        value, message = r.value, r.message
        if _personal(r.field):  # contact persons' data never goes into Dagster's event log
            if value:
                message = (message or "").replace(str(value), HIDDEN)
            value = HIDDEN if value else value
        # an item without its id is named by its title or its line, as the partner's report does
        record = r.source_id or (f"'{r.title}'" if r.title else f"line {r.line}" if r.line else "")
        lines.append(f"| {cell(record)} | `{r.rule}` | {cell(r.field)} | {cell(value)} "
                     f"| {cell(message)} |")
    return "\n".join(lines)


HIDDEN = "(personal data: see the partner's feedback report)"


def _personal(field: str | None) -> bool:
    return bool(field) and (field == "contact" or field.startswith("contact."))


ALL_ASSETS = [asset for domain in DOMAINS for asset in build_domain_assets(domain)]
