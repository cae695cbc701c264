"""Where each partner feed stands, from the hub's database: what ``hub status`` prints.

One row per feed of the registry, and one per partner feed that left the registry while
records of it are still published; a partner asked for by id also with its feeds the
registry no longer lists and nothing of which is published (a steward checking a
withdrawal). A feed's state is the first of these that holds:

- ``left``: not in the registry, records still published (``hub withdraw`` takes them out);
- ``withdrawn``: not in the registry and none of its records published (nothing to do);
- ``fetch failing``: its last fetches failed (how many in a row, the last error);
- ``held``: its last delivery waits for a steward (``hub release``), or ``released`` once a
  steward let it through and the next sync has not run yet;
- ``failed``: its last delivery could not be used (wrong format, truncated, empty);
- ``waiting``: nothing synced yet (a new partner, an inbox nobody dropped a file into), or
  not since ``hub withdraw`` took its records out (a partner that came back);
- ``stale``: the feed has not changed for longer than its registry ``max_age_days`` (the
  partner's export may have stopped: the Dagster check ``feed_freshness`` warns of it too);
- ``ok``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from hub import clock
from hub.quality.feed import days_since
from hub.registry import Registry
from hub.store.tables import fetch_state, source_records, syncs

WITHDRAWN = "its records were withdrawn (hub withdraw) and it has not been synced since"

# states a steward has to act on (``hub status`` exits 1 when a feed is in one)
NEEDS_A_STEWARD = ("left", "fetch failing", "held", "failed", "stale")


@dataclass
class FeedStatus:
    partner_id: str
    domain: str
    format: str | None  # None: the feed is not in the registry
    state: str
    published: int  # the feed's records in the directory now
    last_sync_at: dt.datetime | None = None  # the newest sync, whatever its outcome
    last_sync: dict | None = None  # its figures (items, accepted, rejected, added, changed, withdrawn)
    last_good_sync_at: dt.datetime | None = None  # the newest sync that published
    message: str | None = None  # why it is held or failed, or the last fetch error
    fetched_at: dt.datetime | None = None
    fetch_failures: int = 0  # failed fetches in a row
    changed_at: dt.datetime | None = None  # when the feed's content last changed
    max_age_days: float | None = None  # the registry's limit for that

    @property
    def needs_a_steward(self) -> bool:
        return self.state in NEEDS_A_STEWARD

    def as_json(self) -> dict:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, dt.datetime):
                data[key] = _aware(value).isoformat()
        return data


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives the stored UTC time without its zone."""
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def feed_statuses(engine: sa.Engine, registry: Registry, partners: list[str] | None = None,
                  live: Registry | None = None) -> list[FeedStatus]:
    """Every feed of ``registry`` (only those of ``partners`` if given) and every partner
    feed with published records that the registry no longer lists, in partner order; with
    ``partners``, their feeds the registry no longer lists that the database knows (synced
    once, records withdrawn) too. With ``live`` (the configured registry, where ``registry``
    is a trial file beside it) a feed that ``live`` lists has not left: it is left out, as
    hub sync leaves it to the live one."""
    with engine.connect() as conn:
        published, stored = {}, set()  # active records per feed; every feed with records
        for p, d, state, n in conn.execute(
                sa.select(source_records.c.partner_id, source_records.c.domain,
                          source_records.c.status, sa.func.count())
                .group_by(source_records.c.partner_id, source_records.c.domain,
                          source_records.c.status)):
            stored.add((p, d))
            if state == "active":
                published[p, d] = n
        newest = sa.select(sa.func.max(syncs.c.id)).group_by(syncs.c.partner_id, syncs.c.domain)
        latest = {(row.partner_id, row.domain): row for row in conn.execute(
            sa.select(syncs).where(syncs.c.id.in_(newest)))}
        good = {(p, d): at for p, d, at in conn.execute(
            sa.select(syncs.c.partner_id, syncs.c.domain, sa.func.max(syncs.c.started_at))
            .where(syncs.c.status == "ok").group_by(syncs.c.partner_id, syncs.c.domain))}
        fetched = {(row.partner_id, row.domain): row for row in conn.execute(sa.select(fetch_state))}

    feeds = {(partner.id, feed.domain): feed for partner in registry.partners for feed in partner.feeds}
    listed = [(p, d, feed.format) for (p, d), feed in feeds.items()]
    known = set(feeds)
    if live is not None:
        known |= {(partner.id, feed.domain) for partner in live.partners for feed in partner.feeds}
    # a partner that left is shown while records of it stay published; asked for by id, also
    # once they are withdrawn (whoever checks a withdrawal must not read 'no partner ...')
    gone = {key for key in published if published[key]}
    if partners:
        gone |= {(p, d) for p, d in stored | set(latest) if p in partners}
    left = [(p, d, None) for p, d in sorted(gone - known)]
    rows = []
    for partner_id, domain, fmt in sorted(listed + left):
        if partners and partner_id not in partners:
            continue
        key = (partner_id, domain)
        sync, state_row = latest.get(key), fetched.get(key)
        status = FeedStatus(partner_id=partner_id, domain=domain, format=fmt, state="ok",
                            published=published.get(key, 0),
                            last_good_sync_at=good.get(key) and _aware(good[key]))
        if sync is not None:
            status.last_sync_at = _aware(sync.started_at)
            status.last_sync = {name: sync._mapping[name] for name in
                                ("items", "accepted", "rejected", "added", "changed", "withdrawn")}
        status.max_age_days = feeds[key].max_age_days if key in feeds else None
        if state_row is not None:
            status.fetched_at = state_row.fetched_at and _aware(state_row.fetched_at)
            status.fetch_failures = state_row.failures or 0
            status.changed_at = state_row.changed_at and _aware(state_row.changed_at)
        if fmt is None:
            status.state = "left" if status.published else "withdrawn"
        elif status.fetch_failures:
            status.state, status.message = "fetch failing", state_row.last_error
        elif sync is None:
            status.state = "waiting"
        elif sync.status == "ok" and state_row is None and not status.published:
            # hub withdraw took its records out and forgot its fetches: a partner that came
            # back, not synced since (its last sync's figures are from before it left)
            status.state, status.message = "waiting", WITHDRAWN
        elif sync.status in ("held", "failed"):
            status.state, status.message = sync.status, sync.message
            if sync.status == "held" and state_row is not None and state_row.released_sha256 \
                    and state_row.released_sha256 == sync.content_sha256:
                status.state = "released"
        elif status.max_age_days is not None and status.changed_at is not None \
                and days_since(status.changed_at) > status.max_age_days:
            status.state = "stale"
        rows.append(status)
    return rows


# the daemon loops that start syncs (schedules) and mail alerts and reports (sensors), as
# Dagster names them in its heartbeats (SchedulerDaemon.daemon_type(), SensorDaemon's)
TICKING_DAEMONS = ("SCHEDULER", "SENSOR")
# a quarter hour without a heartbeat: a partner_cadence tick missed (a busy sensor loop
# still writes one every few minutes)
DAEMON_SILENCE_SECONDS = 900


def daemon_silence(heartbeats: dict[str, float], now: float,
                   tolerance: float = DAEMON_SILENCE_SECONDS) -> str | None:
    """What ``hub status`` says when the Dagster daemon stopped: ``heartbeats`` maps daemon
    types to the epoch seconds of their last heartbeat in the instance. None while both
    loops that start syncs and mail report, and when no daemon ever ran on the instance (a
    deployment of ``hub sync`` alone)."""
    seen = [heartbeats[name] for name in TICKING_DAEMONS if name in heartbeats]
    if not seen or now - min(seen) <= tolerance:
        return None
    last = clock.wall_time(dt.datetime.fromtimestamp(min(seen), dt.timezone.utc))
    return (f"the Dagster daemon has not reported since {last} "
            f"({(now - min(seen)) / 60:.0f} min ago): no schedule or sensor starts a sync, and no "
            "feedback retry or steward alert is mailed; start it (dagster-daemon run -w "
            "workspace.yaml, deploy/README.md) or read its log")
