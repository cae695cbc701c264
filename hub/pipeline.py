"""The stages of one partner feed, as plain functions: fetch -> stage (parse + validate) ->
publish (resolve + write the directory). Dagster assets and the ``hub`` command call these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import quote

import sqlalchemy as sa

from hub.fetch import FeedFetcher, FetchError
from hub.formats import FormatError, ParseResult, get_format
from hub.formats.base import drop_duplicate_ids
from hub.faults import crash_point
from hub.inbox import move_aside
from hub.models import SyncMode
from hub.paging import MAX_PAGES, PAGERS
from hub.quality.checks import check_records
from hub.quality.feed import field_coverage
from hub.registry import Partner
from hub.store.db import upsert
from hub.store.landing import LandingStore
from hub.store.staging import (
    StageCounts,
    active_source_ids,
    last_sync_counts,
    record_failed_sync,
    write_rejections,
    write_stage,
)
from hub.store.tables import fetch_state, landing, source_records


class StageError(Exception):
    """A feed could not be staged; the directory keeps the partner's last good state."""


@dataclass
class FetchOutcome:
    partner_id: str
    domain: str
    status: str  # changed, unchanged
    content_sha256: str | None
    size: int
    http_status: int | None
    attempts: int
    new_payload: bool  # the payload differs from the last one fetched
    pages: int = 1


@dataclass
class StageOutcome:
    partner_id: str
    domain: str
    status: str  # ok, unchanged, held
    sync_id: int | None
    counts: StageCounts = field(default_factory=StageCounts)
    hold: "Hold | None" = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _feed(partner: Partner, domain: str):
    feed = partner.feed_for(domain)
    if feed is None:
        raise StageError(f"partner {partner.id!r} has no {domain} feed in the registry")
    return feed


def fetch_partner_feed(
    engine: sa.Engine,
    store: LandingStore,
    fetcher: FeedFetcher,
    partner: Partner,
    domain: str,
) -> FetchOutcome:
    """Fetch the partner's feed into the landing store and record the fetch state."""
    feed = _feed(partner, domain)
    state = _fetch_state(engine, partner.id, domain)
    same_source = state is not None and state.source == feed.source
    now = _now()
    pager = PAGERS.get(feed.format)
    try:
        result = fetcher.fetch(
            feed.source,
            etag=state.etag if same_source else None,
            last_modified=state.last_modified if same_source else None,
            allow_private=partner.allow_private_network,
            auth_env=feed.auth_env,
            auth_header=feed.auth_header,
        )
        pages = [result.body]
        details: list[bytes] = []
        if pager is not None and result.status == "changed":
            pages = _remaining_pages(fetcher, pager, partner, feed, result)
        if feed.details and result.status == "changed":
            details = _details(fetcher, partner, feed, pages, store,
                               state.content_sha256 if same_source else None)
    except FetchError as exc:
        with engine.begin() as conn:
            upsert(conn, fetch_state, [{
                "partner_id": partner.id, "domain": domain, "source": feed.source,
                "failures": (state.failures if state else 0) + 1, "last_error": str(exc),
                "fetched_at": now,
            }], ["partner_id", "domain"])
        raise
    row = {
        "partner_id": partner.id,
        "domain": domain,
        "source": feed.source,
        "http_status": result.http_status,
        "fetched_at": now,
        "failures": 0,
        "last_error": None,
    }
    if result.status == "unchanged" and state is not None and state.content_sha256:
        with engine.begin() as conn:
            upsert(conn, fetch_state, [row], ["partner_id", "domain"])
        return FetchOutcome(partner.id, domain, "unchanged", state.content_sha256, 0,
                            result.http_status, result.attempts, False)
    if result.status == "unchanged":
        # nothing fetched before and nothing now (an empty inbox): nothing to stage
        return FetchOutcome(partner.id, domain, "unchanged", None, 0, result.http_status,
                            result.attempts, False)
    sha = store.put_pages(pages, details)
    crash_point("fetch:landed")
    size = sum(len(page) for page in pages)
    new_payload = state is None or state.content_sha256 != sha
    row.update(
        etag=result.etag,
        last_modified=result.last_modified,
        content_sha256=sha,
    )
    if new_payload:
        row["changed_at"] = now
    with engine.begin() as conn:
        if not conn.execute(sa.select(landing.c.sha256).where(landing.c.sha256 == sha)).first():
            conn.execute(landing.insert().values(
                sha256=sha, size=size, content_type=result.content_type, first_seen=now,
            ))
        upsert(conn, fetch_state, [row], ["partner_id", "domain"])
    crash_point("fetch:committed")
    if result.path is not None:
        move_aside(result.path)  # after the commit: a crash before this re-reads the same bytes
    return FetchOutcome(partner.id, domain, "changed" if new_payload else "unchanged", sha,
                        size, result.http_status, result.attempts, new_payload, len(pages))


def _remaining_pages(fetcher: FeedFetcher, pager, partner: Partner, feed, first) -> list[bytes]:
    pages = [first.body]
    url = pager.next_url(feed.source, first.body)
    while url is not None:
        if len(pages) >= MAX_PAGES:
            raise FetchError(f"more than {MAX_PAGES} pages; refusing to read further")
        page = fetcher.fetch(url, allow_private=partner.allow_private_network,
                             auth_env=feed.auth_env, auth_header=feed.auth_header)
        if page.status != "changed":
            raise FetchError(f"page {len(pages) + 1} answered {page.http_status} without a body")
        pages.append(page.body)
        url = pager.next_url(url, page.body)
    pager.check(pages)
    return pages


def _details(fetcher: FeedFetcher, partner: Partner, feed, pages: list[bytes],
             store: LandingStore, previous: str | None) -> list[bytes]:
    """The details response of each posting in the search pages (registry ``details``). A
    posting that the search shows unchanged since the last fetch (same change time) keeps the
    details landed then, without a request: a partner's API is asked only for what changed.
    A posting withdrawn between the search and its details (404) is left out; any other
    failure fails the fetch, as a failed page does: records are never half completed."""
    from hub.formats.ba_jobsuche import posting_versions

    landed = _landed_details(store, previous)
    bodies = []
    for ref, version in posting_versions(pages).items():
        kept = landed.get(ref)
        if kept is not None and version is not None and kept[0] == version:
            bodies.append(kept[1])
            continue
        url = feed.details.replace("{refnr}", quote(ref, safe=""))
        try:
            got = fetcher.fetch(url, allow_private=partner.allow_private_network,
                                auth_env=feed.auth_env, auth_header=feed.auth_header)
        except FetchError as exc:
            if exc.http_status == 404:
                continue
            raise FetchError(f"details of {ref}: {exc}", transient=exc.transient) from None
        if got.status != "changed":
            raise FetchError(f"details of {ref}: answered {got.http_status} without a body")
        bodies.append(got.body)
    return bodies


def _landed_details(store: LandingStore, sha: str | None) -> dict[str, tuple[str, bytes]]:
    """Reference number -> (its change time in that search, details bytes) of the payload
    ``sha``; empty when there is none or it cannot be read (erased, damaged)."""
    from hub.formats.ba_jobsuche import details_entries, posting_versions

    if not sha:
        return {}
    try:
        versions = posting_versions(store.bodies(sha))
        entries = details_entries(store.details(sha))
    except (KeyError, OSError, ValueError, FormatError):
        return {}
    return {ref: (versions[ref], body) for ref, _, body in entries if versions.get(ref) is not None}


def _fetch_state(engine: sa.Engine, partner_id: str, domain: str):
    """The feed's row of ``fetch_state`` (None before its first fetch)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(fetch_state).where(
                fetch_state.c.partner_id == partner_id, fetch_state.c.domain == domain
            )
        ).first()


def stage_partner_feed(
    engine: sa.Engine,
    store: LandingStore,
    partner: Partner,
    domain: str,
    *,
    force: bool = False,
    release: bool = False,
) -> StageOutcome:
    """Parse and check the last fetched payload and write the partner's records.

    An unusable payload (wrong format, truncated, empty snapshot) raises StageError and
    changes no record: the directory keeps the partner's last good state. A snapshot that
    would withdraw too many records is held (status "held") until released: ``release=True``
    or ``hub release``."""
    feed = _feed(partner, domain)
    state = _fetch_state(engine, partner.id, domain)
    if state is None or not state.content_sha256:
        raise StageError(f"{partner.id}/{domain}: nothing fetched yet; fetch the feed first")
    sha = state.content_sha256
    if state.staged_sha256 == sha and not force:
        with engine.connect() as conn:
            sync_id, counts = last_sync_counts(conn, partner.id, domain)
            counts.active = _active_count(conn, partner.id, domain)
        return StageOutcome(partner.id, domain, "unchanged", sync_id, counts)
    now = _now()
    try:
        parsed = parse_payload(feed.format, store, sha, partner.id)
    except (FormatError, KeyError) as exc:
        message = f"{partner.id}/{domain}: {str(exc).strip(chr(39))}"
        with engine.begin() as conn:
            record_failed_sync(conn, partner_id=partner.id, domain=domain, content_sha256=sha,
                               message=message, now=now)
        raise StageError(message) from None
    for record in parsed.records:
        if record.organisation is None:
            record.organisation = partner.name
    accepted, problems = check_records(parsed.records, region=partner.region)
    snapshot = (parsed.mode or feed.mode) == SyncMode.SNAPSHOT
    released = release or state.released_sha256 == sha
    with engine.begin() as conn:
        active = active_source_ids(conn, partner.id, domain)
        message = held = None
        if snapshot and parsed.items == 0 and active:
            message = (f"{partner.id}/{domain}: the feed is empty; the directory keeps the "
                       f"{len(active)} records of the last good sync")
        elif not released:
            held = rejection_hold(parsed.items, len(accepted), feed.max_rejection_share)
            if held is None and snapshot:
                held = withdrawal_hold(active, accepted, feed.max_withdrawal_share)
        if message or held:
            sync_id = record_failed_sync(conn, partner_id=partner.id, domain=domain,
                                         content_sha256=sha, message=message or held.message,
                                         now=now, status="held" if held else "failed",
                                         items=parsed.items, accepted=len(accepted))
            if held:  # the partner's feedback lists what was wrong with the held delivery
                write_rejections(conn, sync_id, partner.id, domain, parsed.rejections + problems)
        else:
            sync_id, counts = write_stage(
                conn,
                partner_id=partner.id,
                domain=domain,
                content_sha256=sha,
                records=accepted,
                record_rejections=parsed.rejections + problems,
                items=parsed.items,
                snapshot=snapshot,
                deletions=parsed.deletions,
                now=now,
                field_coverage=field_coverage(accepted),
            )
            crash_point("stage:written")
    if message:
        raise StageError(message)
    if held:
        counts = StageCounts(items=parsed.items, accepted=len(accepted),
                             rejected=parsed.items - len(accepted), active=len(active))
        return StageOutcome(partner.id, domain, "held", sync_id, counts, held)
    return StageOutcome(partner.id, domain, "ok", sync_id, counts)


MIN_WITHDRAWALS = 10  # fewer vanishing records never hold a sync
MIN_REJECTIONS = 10  # likewise for rejected records


@dataclass
class Hold:
    """Why a delivery waits for a steward: ``check`` names the Dagster check that reports it."""

    check: str  # "withdrawal_guard" or "rejection_share"
    count: int  # records that would be withdrawn / that were rejected
    total: int  # records published now / records delivered

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def message(self) -> str:
        if self.check == "withdrawal_guard":
            what = (f"this delivery would withdraw {self.count} of {self.total} published "
                    f"records ({self.share:.0%})")
        else:
            what = (f"{self.count} of the {self.total} records of this delivery were rejected "
                    f"({self.share:.0%})")
        return (f"held: {what}; the directory keeps the last good state until a steward "
                "releases the sync (hub release PARTNER)")


def withdrawal_hold(active: dict[str, str], accepted: list, max_share: float) -> Hold | None:
    """A Hold when a snapshot would withdraw more than ``max_share`` of the partner's records
    (and at least MIN_WITHDRAWALS of them); else None."""
    seen = {record.source_id for record in accepted}
    gone = sum(1 for source_id in active if source_id not in seen)
    if gone >= MIN_WITHDRAWALS and gone > max_share * len(active):
        return Hold("withdrawal_guard", gone, len(active))
    return None


def rejection_hold(items: int, accepted: int, max_share: float) -> Hold | None:
    """A Hold when more than ``max_share`` of a delivery's records (and at least
    MIN_REJECTIONS) were rejected: a broken export should not replace a good one."""
    rejected = items - accepted
    if rejected >= MIN_REJECTIONS and rejected > max_share * items:
        return Hold("rejection_share", rejected, items)
    return None


def parse_payload(format_name: str, store: LandingStore, sha: str, partner_id: str) -> ParseResult:
    """Parse a landed payload; a multi-page manifest is parsed page by page into one result."""
    fmt = get_format(format_name)
    bodies = store.bodies(sha)
    extra = {}
    details = store.details(sha) if fmt.details_index is not None else []
    if details:
        extra["details"] = fmt.details_index(details)
    if len(bodies) == 1:
        return fmt.parse(bodies[0], partner_id, **extra)
    merged = ParseResult()
    for number, body in enumerate(bodies, start=1):
        try:
            page = fmt.parse(body, partner_id, **extra)
        except FormatError as exc:
            raise FormatError(f"page {number} of {len(bodies)}: {exc}") from None
        merged.records.extend(page.records)
        merged.rejections.extend(page.rejections)
        merged.deletions.extend(page.deletions)
        merged.items += page.items
        merged.mode = merged.mode or page.mode
    return drop_duplicate_ids(merged)


def release_partner(engine: sa.Engine, partner_id: str, domain: str | None = None) -> list[str]:
    """Release the partner's held syncs: the payloads now fetched may withdraw records.
    Returns the domains released."""
    with engine.begin() as conn:
        query = sa.select(fetch_state).where(fetch_state.c.partner_id == partner_id)
        if domain:
            query = query.where(fetch_state.c.domain == domain)
        released = []
        for state in conn.execute(query).all():
            if state.content_sha256 and state.content_sha256 != state.staged_sha256:
                conn.execute(
                    fetch_state.update()
                    .where(fetch_state.c.partner_id == partner_id, fetch_state.c.domain == state.domain)
                    .values(released_sha256=state.content_sha256)
                )
                released.append(state.domain)
    return released


def _active_count(conn: sa.Connection, partner_id: str, domain: str) -> int:
    return conn.execute(
        sa.select(sa.func.count()).select_from(source_records).where(
            source_records.c.domain == domain,
            source_records.c.partner_id == partner_id,
            source_records.c.status == "active",
        )
    ).scalar_one()
