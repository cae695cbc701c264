"""The stages of one partner feed, as plain functions: fetch -> stage (parse + validate) ->
publish (resolve + write the directory). Dagster assets and the ``hub`` command call these."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import sqlalchemy as sa

from hub import collector
from hub.fetch import FeedFetcher, FetchError
from hub.formats import FormatError, ParseResult, get_format
from hub.formats.base import as_file_error, merged
from hub.faults import crash_point
from hub.inbox import inbox_folder, move_aside, set_aside_failed, taking, written_on
from hub.models import SyncMode
from hub.paging import MAX_PAGES, PAGERS, next_url
from hub.quality.checks import check_records
from hub.quality.feed import FieldCoverage
from hub.registry import Partner
from hub.store.db import insert_missing, upsert
from hub.store.landing import LandingStore
from hub.store.staging import (
    StageCounts,
    StageWriter,
    last_sync_counts,
    record_failed_sync,
)
from hub.store.tables import fetch_state, landing, source_records, syncs


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
    status: str  # ok, unchanged, held; waiting: an inbox where no file arrived yet
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
    """Fetch the partner's feed into the landing store and record the fetch state. An inbox
    feed's file is taken by one process at a time (hub.inbox.taking): another that looks
    meanwhile takes none, as if the inbox were empty."""
    feed = _feed(partner, domain)
    folder = inbox_folder(feed)
    if folder is None or not folder.is_dir():  # not an inbox (a missing folder: the fetch says so)
        return _fetch_feed(engine, store, fetcher, partner, feed)
    with taking(folder) as ours:
        if ours:
            return _fetch_feed(engine, store, fetcher, partner, feed)
    state = _fetch_state(engine, partner.id, domain)
    return FetchOutcome(partner.id, domain, "unchanged", state.content_sha256 if state else None,
                        0, None, 0, False)


def _fetch_feed(engine: sa.Engine, store: LandingStore, fetcher: FeedFetcher, partner: Partner,
                feed) -> FetchOutcome:
    domain = feed.domain
    state = _fetch_state(engine, partner.id, domain)
    same_source = state is not None and state.source == feed.source
    now = _now()
    try:
        result, landed, details, size = _land_feed(
            fetcher, store, partner, feed,
            etag=state.etag if same_source else None,
            last_modified=state.last_modified if same_source else None,
            previous=state.content_sha256 if same_source else None)
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
    if result.status == "changed":
        sha = store.put_manifest(landed, details)
        crash_point("fetch:landed")
        if result.path is not None and written_on(result.path, result.stamp):
            # an upload that went on while the file was read: it waits for a later sync
            # (the landed bytes, named by no delivery, go with the retention pass)
            result.status = "unchanged"
    if result.status == "unchanged" and state is not None and state.content_sha256:
        with engine.begin() as conn:
            upsert(conn, fetch_state, [row], ["partner_id", "domain"])
        return FetchOutcome(partner.id, domain, "unchanged", state.content_sha256, 0,
                            result.http_status, result.attempts, False)
    if result.status == "unchanged":
        # nothing fetched before and nothing now (an empty inbox): nothing to stage
        return FetchOutcome(partner.id, domain, "unchanged", None, 0, result.http_status,
                            result.attempts, False)
    new_payload = state is None or state.content_sha256 != sha
    row.update(
        etag=result.etag,
        last_modified=result.last_modified,
        content_sha256=sha,
    )
    if new_payload:
        row["changed_at"] = now
    with engine.begin() as conn:
        insert_missing(conn, landing, {"sha256": sha, "size": size, "content_type": result.content_type,
                                       "first_seen": now}, ["sha256"])
        upsert(conn, fetch_state, [row], ["partner_id", "domain"])
    crash_point("fetch:committed")
    if result.path is not None:
        move_aside(result.path)  # after the commit: a crash before this re-reads the same bytes
    return FetchOutcome(partner.id, domain, "changed" if new_payload else "unchanged", sha,
                        size, result.http_status, result.attempts, new_payload, len(landed))


def _land_feed(fetcher: FeedFetcher, store: LandingStore, partner: Partner, feed, *,
               etag: str | None = None, last_modified: str | None = None,
               previous: str | None = None):
    """Fetch the feed as a sync does (its URL, credentials, host rules, pagination and
    details) into ``store``: (the first response, the landed pages' hashes, the details'
    hashes, the pages' size). Nothing is landed when the server says unchanged."""
    result = fetcher.fetch(
        feed.source,
        etag=etag,
        last_modified=last_modified,
        allow_private=partner.allow_private_network,
        auth_env=feed.auth_env,
        auth_header=feed.auth_header,
        into=store,  # the body streams into the landing store
    )
    if result.status != "changed":
        return result, [], [], 0
    # each page lands as it arrives: a feed is never all in memory
    landed, size = _land_pages(fetcher, PAGERS.get(feed.format), partner, feed, result, store)
    details = _details(fetcher, partner, feed, landed, store, previous) if feed.details else []
    return result, landed, details, size


def fetch_for_check(store: LandingStore, fetcher: FeedFetcher, partner: Partner, domain: str) -> str:
    """The partner's feed for ``domain`` fetched into ``store`` as a sync would fetch it, but
    outside the hub's database (``hub check --fetch``: a trial before a partner goes live);
    returns the payload's hash for ``parse_payload``. FetchError as a sync's fetch fails."""
    from hub.inbox import inbox_folder, next_delivery

    feed = _feed(partner, domain)
    folder = inbox_folder(feed)
    if folder is not None:
        raise FetchError(f"{partner.id}/{domain} delivers files into {folder}: "
                         f"{next_delivery(folder)[1]}; check such a file itself (hub check "
                         f"--format {feed.format} FILE)")
    _, landed, details, _ = _land_feed(fetcher, store, partner, feed)
    return store.put_manifest(landed, details)


def _land_pages(fetcher: FeedFetcher, pager, partner: Partner, feed, first,
                store: LandingStore) -> tuple[list[str], int]:
    """The pages of a fetch, landed: the first (``first``, fetched into ``store``) and, for a
    paginated API, every page after it, one at a time; returns the pages' hashes in order and
    their total size. Each page is read once for the pager, from the store; pages that do
    not add up to the announced total fail the fetch."""
    hashes, size = [first.sha256], first.size
    if pager is None:
        return hashes, size
    read = [_read_page(pager, store, first.sha256)]
    url = next_url(feed.source, read[-1])
    while url is not None:
        if len(hashes) >= MAX_PAGES:
            raise FetchError(f"more than {MAX_PAGES} pages; refusing to read further")
        page = fetcher.fetch(url, allow_private=partner.allow_private_network,
                             auth_env=feed.auth_env, auth_header=feed.auth_header, into=store)
        if page.status != "changed":
            raise FetchError(f"page {len(hashes) + 1} answered {page.http_status} without a body")
        hashes.append(page.sha256)
        size += page.size
        read.append(_read_page(pager, store, page.sha256))
        url = next_url(url, read[-1])
    pager.check(read)
    return hashes, size


def _read_page(pager, store: LandingStore, sha: str):
    with store.open(sha) as handle:
        return pager.read(handle)


def _details(fetcher: FeedFetcher, partner: Partner, feed, pages: list[str],
             store: LandingStore, previous: str | None) -> list[str]:
    """The details response of each posting in the landed search pages (registry
    ``details``), landed; returns their hashes. A posting that the search shows unchanged
    since the last fetch (same change time) keeps the details landed then, without a request:
    a partner's API is asked only for what changed. A posting withdrawn between the search and
    its details (404) is left out; any other failure fails the fetch, as a failed page does:
    records are never half completed."""
    from hub.formats.ba_jobsuche import posting_versions

    landed = _landed_details(store, previous)
    hashes = []
    for ref, version in posting_versions(store.get(page) for page in pages).items():
        kept = landed.get(ref)
        if kept is not None and version is not None and kept[0] == version:
            hashes.append(kept[1])
            continue
        url = feed.details.replace("{refnr}", quote(ref, safe=""))
        try:
            got = fetcher.fetch(url, allow_private=partner.allow_private_network,
                                auth_env=feed.auth_env, auth_header=feed.auth_header, into=store)
        except FetchError as exc:
            if exc.http_status == 404:
                continue
            raise FetchError(f"details of {ref}: {exc}", transient=exc.transient) from None
        if got.status != "changed":
            raise FetchError(f"details of {ref}: answered {got.http_status} without a body")
        hashes.append(got.sha256)
    return hashes


def _landed_details(store: LandingStore, sha: str | None) -> dict[str, tuple[str, str]]:
    """Reference number -> (its change time in that search, hash of its landed details) of
    the payload ``sha``; empty when there is none or it cannot be read (erased, damaged)."""
    from hub.formats.ba_jobsuche import details_reference, posting_versions

    if not sha:
        return {}
    found = {}
    try:
        versions = posting_versions(store.bodies(sha))
        for body_sha in store.part_hashes(sha, "details"):
            ref = details_reference(store.get(body_sha))
            if versions.get(ref) is not None:
                found[ref] = (versions[ref], body_sha)
    except (KeyError, OSError, ValueError, FormatError):
        return {}
    return found


def _fetch_state(engine: sa.Engine, partner_id: str, domain: str):
    """The feed's row of ``fetch_state`` (None before its first fetch)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(fetch_state).where(
                fetch_state.c.partner_id == partner_id, fetch_state.c.domain == domain
            )
        ).first()


@collector.paused()
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
        if feed.source.startswith("inbox:"):  # no file dropped yet: nothing to stage, no fault
            return StageOutcome(partner.id, domain, "waiting", None, StageCounts())
        raise StageError(f"{partner.id}/{domain}: nothing fetched yet; fetch the feed first")
    sha = state.content_sha256
    # unchanged: the payload the records came from, and no later delivery was held or failed
    # since (a partner that sends its good file again after a bad one is staged once more:
    # the sync, the checks and the feedback report say ok again instead of the old hold)
    latest = _latest_sync(engine, partner.id, domain)
    released = release or state.released_sha256 == sha
    if latest is not None and latest.status == "failed" and latest.content_sha256 == sha \
            and not force and not released:
        # the same unusable delivery again (an inbox file, a feed that did not change): it
        # fails as before, without another sync, another feedback mail to the partner
        raise StageError(latest.message + _inbox_file_failed(feed, store, sha))
    if state.staged_sha256 == sha and not force and latest is not None and latest.status == "ok":
        with engine.connect() as conn:
            sync_id, counts = last_sync_counts(conn, partner.id, domain)
            counts.active = _active_count(conn, partner.id, domain)
        return StageOutcome(partner.id, domain, "unchanged", sync_id, counts)
    now = _now()
    try:
        with engine.connect() as conn:
            # read, check and keep the delivery in the connection's temporary tables: no lock
            # on the database while it is parsed and checked (other feeds stage meanwhile)
            with conn.begin():
                writer = StageWriter(conn, partner_id=partner.id, domain=domain,
                                     content_sha256=sha, now=now)
                delivery = _read_delivery(
                    writer, parse_chunks(feed.format, store, sha, partner.id), partner)
            # then decide and write in one transaction, with the figures as they are now
            with conn.begin():
                writer.open_sync()
                snapshot = (delivery.mode or feed.mode) == SyncMode.SNAPSHOT
                active = writer.active()
                accepted = writer.counts.accepted
                message = held = None
                if snapshot and delivery.items == 0 and active and not released:
                    # an empty export is a broken one, unless a steward says it is not
                    message = (f"{partner.id}/{domain}: the feed is empty; the directory keeps the "
                               f"{active} records of the last good sync (if the partner has no "
                               f"offers any more: hub release {partner.id})")
                elif not released:
                    held = rejection_hold(delivery.items, accepted, feed.max_rejection_share,
                                          writer.counts.errors)
                    if held is None and snapshot:
                        held = withdrawal_hold(writer.withdrawals(), active,
                                               feed.max_withdrawal_share)
                    elif held is not None and snapshot:
                        held.withdraws = writer.withdrawals()  # what a release would take out
                if held:
                    held.partner_id = partner.id
                if message or held:
                    # the held delivery's rejections stay: the partner's feedback lists them
                    writer.hold(status="held" if held else "failed",
                                message=message or held.message, items=delivery.items,
                                field_coverage=delivery.coverage.shares(),
                                headers=delivery.headers)
                else:
                    counts = writer.apply(items=delivery.items, snapshot=snapshot,
                                          deletions=delivery.deletions,
                                          field_coverage=delivery.coverage.shares(),
                                          headers=delivery.headers)
                    crash_point("stage:written")
    except (FormatError, KeyError) as exc:
        if isinstance(exc, FormatError) and feed.delivers_files:  # no server 'served' a page
            exc = as_file_error(exc)
        # a KeyError's text is its key's repr ('sha...'); a FormatError's ends as written,
        # also with a quote ("save it as ... 'CSV (Trennzeichen-getrennt)'")
        said = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        message = f"{partner.id}/{domain}: {said}" + (
            _registry_format_note(feed, store, sha) if isinstance(exc, FormatError) else "")
        with engine.begin() as conn:
            # the payload's hash only when its bytes are unusable (FormatError): that delivery
            # fails the same way again. A payload missing from the landing store (erased,
            # damaged: KeyError) is fine once fetched again.
            record_failed_sync(conn, partner_id=partner.id, domain=domain,
                               content_sha256=sha if isinstance(exc, FormatError) else None,
                               message=message, now=now)
        raise StageError(message + (_inbox_file_failed(feed, store, sha)
                                    if isinstance(exc, FormatError) else "")) from None
    if message:
        raise StageError(message + _inbox_file_failed(feed, store, sha))
    if held:
        counts = StageCounts(items=delivery.items, accepted=accepted,
                             rejected=delivery.items - accepted, active=active,
                             rules=dict(writer.counts.rules))  # what the steward releases
        return StageOutcome(partner.id, domain, "held", writer.sync_id, counts, held)
    return StageOutcome(partner.id, domain, "ok", writer.sync_id, counts)


def _registry_format_note(feed, store: LandingStore, sha: str) -> str:
    """Where a CSV delivery that its template refused reads as another template (a course
    list where the registry says csv-jobs): the steward's mistake, said so, since the
    message alone ('required column(s) missing: Stellen-ID') blamed the partner's file."""
    from hub.formats import reads_as

    if not feed.format.startswith("csv-") or store.pages(sha) or sha not in store:
        return ""
    other = reads_as(store.get(sha), feed.format)
    return (f"; the file reads as {other} (the registry's format: for the feed says "
            f"{feed.format})" if other else "")


def _inbox_file_failed(feed, store: LandingStore, sha: str) -> str:
    """An inbox feed's delivery ``sha`` failed: its file goes from ``processed/`` into
    ``failed/`` (the steward sees which files failed); other feeds have no file to move.
    Returns what the steward reads after the failure's message: where the file is now (the
    message named no file, and the inbox was empty); empty when no file moved."""
    folder = inbox_folder(feed)
    if folder is not None and store.pages(sha) == [] and sha in store:
        moved = set_aside_failed(folder, sha, store.path_for(sha).stat().st_size)
        if moved is not None:
            return f" (the file is now {moved})"
    return ""


CHUNK = 20_000  # records checked and written at a time: bounds a big delivery's memory


@dataclass
class Delivery:
    """What staging learns of a delivery by reading it through (its records are written as
    they come)."""

    items: int = 0
    mode: SyncMode | None = None
    deletions: list[str] = field(default_factory=list)
    coverage: FieldCoverage = field(default_factory=FieldCoverage)
    # the columns the delivery wrote under another usual name (``ParseResult.headers``)
    headers: dict[str, str] = field(default_factory=dict)


def _read_delivery(writer: StageWriter, chunks: Iterator[ParseResult], partner: Partner) -> Delivery:
    """Read the parsed delivery through, CHUNK records at a time: each chunk's records are
    checked (the domain's suite) and handed to ``writer`` with the chunk's rejections."""
    delivery = Delivery()
    records: list = []
    found: list = []
    shadows: list = []  # records rejected while parsing, checked for their other problems
    located = ParseResult()  # where each record starts in the input (CSV lines)
    # the ids of the items rejected in the chunks read so far, with the records not yet
    # written and the deletions, as the chunks that follow see them (``later_entries``)
    refused = ParseResult(records=records, deletions=delivery.deletions)

    def flush() -> None:
        kept = writer.new_ids(records, found)
        for record in (*kept, *shadows):
            if record.organisation is None:
                record.organisation = partner.name
        accepted, problems = check_records(kept, region=partner.region, rejected=shadows)
        located.locate(problems)
        delivery.coverage.add(accepted)
        writer.add(kept, accepted, found + problems)
        records.clear()
        found.clear()
        shadows.clear()
        del kept, accepted, problems
        # the collector is paused (hub/collector.py): the chunk's cycles (the suite's
        # DataFrames) go now, while little else is alive; what survives is frozen, not
        # walked again (the first chunk imports Great Expectations: walking its objects at
        # every chunk cost 1 s of the 13 s of a 100,000-posting feed)
        gc.collect()
        gc.freeze()

    for chunk in chunks:
        # the chunk's deletions join the delivery's; of an object and its DELETE the later
        # entry counts, also when the object's chunk is written already
        gone, taken = refused.later_entries(chunk)
        delivery.items += chunk.items - taken - (writer.forget(gone) if gone else 0)
        delivery.mode = delivery.mode or chunk.mode
        found.extend(chunk.rejections)
        records.extend(refused.refuse_repeats(chunk.records, found))
        refused.refused_ids |= chunk.refused_ids
        shadows.extend(chunk.shadows)
        located.take_lines(chunk)
        delivery.headers = {**chunk.headers, **delivery.headers}
        if len(records) >= CHUNK:
            flush()
    flush()
    return delivery


MIN_WITHDRAWALS = 10  # fewer vanishing records never hold a sync
MIN_REJECTIONS = 10  # likewise for rejected records


@dataclass
class Hold:
    """Why a delivery waits for a steward: ``check`` names the Dagster check that reports it."""

    check: str  # "withdrawal_guard" or "rejection_share"
    count: int  # records that would be withdrawn / that were rejected
    total: int  # records published now / records delivered
    partner_id: str = "PARTNER"  # named in the release command of the message
    withdraws: int | None = None  # held for its rejections: published records a release withdraws
    reasons: dict[str, int] = field(default_factory=dict)  # held for its rejections: rule -> records

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def message(self) -> str:
        return self.describe()

    def describe(self, elsewhere: str | None = None) -> str:
        """The message, with ``elsewhere``: another way to release than the command (the
        Dagster UI's, ``hub.assets.feeds.ui_release``)."""
        if self.check == "withdrawal_guard":
            what = (f"this delivery would withdraw {self.count} of {self.total} published "
                    f"records ({self.share:.0%})")
        else:
            what = (f"{self.count} of the {self.total} records of this delivery were rejected "
                    f"({self.share:.0%}{self._most_often()})")
            if self.withdraws:  # the rejected ones that are published now leave with a release
                what += f"; released, it withdraws {self.withdraws} published records"
        how = f"hub release {self.partner_id}" + (f", or {elsewhere}" if elsewhere else "")
        return (f"held: {what}; the directory keeps the last good state until a steward "
                f"releases the sync ({how})")


    def _most_often(self) -> str:
        """'; most often JOB_EXPIRED (40 records), DATE_IMPLAUSIBLE (3)': why, before the
        steward opens the report (expired postings: a stale export; a missing field: a
        changed one)."""
        top = sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))[:2]
        if not top:
            return ""
        (rule, n), rest = top[0], top[1:]
        return (f"; most often {rule} ({n} record{'s' if n != 1 else ''})"
                + "".join(f", {other} ({m})" for other, m in rest))


def withdrawal_hold(gone: int, active: int, max_share: float) -> Hold | None:
    """A Hold when a snapshot would withdraw ``gone`` of the partner's ``active`` records,
    more than ``max_share`` of them (and at least MIN_WITHDRAWALS); else None."""
    if gone >= MIN_WITHDRAWALS and gone > max_share * active:
        return Hold("withdrawal_guard", gone, active)
    return None


def rejection_hold(items: int, accepted: int, max_share: float,
                   reasons: dict[str, int] | None = None) -> Hold | None:
    """A Hold when more than ``max_share`` of a delivery's records (and at least
    MIN_REJECTIONS) were rejected: a broken export should not replace a good one."""
    rejected = items - accepted
    if rejected >= MIN_REJECTIONS and rejected > max_share * items:
        return Hold("rejection_share", rejected, items, reasons=dict(reasons or {}))
    return None


def parse_chunks(format_name: str, store: LandingStore, sha: str,
                 partner_id: str) -> Iterator[ParseResult]:
    """Parse a landed payload in parts: page by page for a multi-page manifest (each page
    read when its turn comes), and in chunks within a page for formats that read their input
    as a stream. Source ids may repeat across parts: the reader drops the later ones."""
    fmt = get_format(format_name)
    pages = store.part_hashes(sha, "pages")
    extra = {}
    details = store.details(sha) if fmt.details_index is not None else []
    if details:
        extra["details"] = fmt.details_index(details)
    for number, page in enumerate(pages, start=1):
        try:
            if fmt.chunks is None:
                yield fmt.parse(store.get(page), partner_id, **extra)
                continue
            with store.open(page) as handle:  # read from the file: never all in memory
                yield from fmt.chunks(handle, partner_id, **extra)
        except FormatError as exc:
            if len(pages) == 1:
                raise
            raise FormatError(f"page {number} of {len(pages)}: {exc}") from None


def parse_payload(format_name: str, store: LandingStore, sha: str, partner_id: str) -> ParseResult:
    """Parse a landed payload into one result (all pages, duplicates dropped)."""
    return merged(parse_chunks(format_name, store, sha, partner_id))


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


def _latest_sync(engine: sa.Engine, partner_id: str, domain: str):
    """The feed's newest sync (status ok, held or failed; its payload and message), None
    before the first."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(syncs.c.status, syncs.c.content_sha256, syncs.c.message)
            .where(syncs.c.partner_id == partner_id, syncs.c.domain == domain)
            .order_by(syncs.c.id.desc()).limit(1)
        ).first()


def _active_count(conn: sa.Connection, partner_id: str, domain: str) -> int:
    return conn.execute(
        sa.select(sa.func.count()).select_from(source_records).where(
            source_records.c.domain == domain,
            source_records.c.partner_id == partner_id,
            source_records.c.status == "active",
        )
    ).scalar_one()
