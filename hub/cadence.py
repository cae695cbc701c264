"""Each partner feed's cadence: the registry's ``schedule`` (a cron expression, in the
hub's time zone) or the default, daily at 05:00 Europe/Berlin. The per-domain schedules tick
every 15 minutes and sync the feeds whose cron time fell into the window just ended.

Cron arithmetic comes from Dagster's own cron utilities (no extra dependency)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hub.clock import TIMEZONE
from hub.registry import Registry

DEFAULT_CRON = "0 5 * * *"
TICK_CRON = "*/15 * * * *"
TICK = dt.timedelta(minutes=15)


def valid_cron(expression: str) -> bool:
    from dagster._utils.schedules import is_valid_cron_string

    return is_valid_cron_string(expression)


def latest_tick(expression: str, at: dt.datetime, timezone: str = TIMEZONE) -> dt.datetime:
    """The latest time at or before ``at`` that ``expression`` names."""
    from dagster._utils.schedules import reverse_cron_string_iterator

    return next(reverse_cron_string_iterator(at.timestamp(), expression, timezone))


@dataclass(frozen=True)
class DueFeed:
    partner_id: str
    domain: str
    source: str
    cron: str
    due_at: dt.datetime  # the cron time that fell into the window


def due_feeds(registry: Registry, domain: str, window_end: dt.datetime,
              window: dt.timedelta = TICK, timezone: str = TIMEZONE) -> list[DueFeed]:
    """The ``domain`` feeds whose cron time lies in (window_end - window, window_end]. Inbox
    feeds are left out: a file arriving starts their sync."""
    start = window_end - window
    out = []
    for partner in registry.partners:
        feed = partner.feed_for(domain)
        if feed is None or feed.source.startswith("inbox:"):
            continue
        cron = feed.schedule or DEFAULT_CRON
        if not valid_cron(cron):
            continue  # the registry refuses these; an old file must not stop the others
        tick = latest_tick(cron, window_end, timezone)
        if tick > start:
            out.append(DueFeed(partner.id, domain, feed.source, cron, tick))
    return out


def invalid_schedules(registry: Registry, domain: str) -> list[str]:
    """``partner: cron`` for the ``domain`` feeds whose schedule is not a cron expression
    Dagster understands (five fields); those feeds are synced by no schedule."""
    return [f"{p.id}: {f.schedule!r}" for p in registry.partners for f in p.feeds
            if f.domain == domain and f.schedule and not valid_cron(f.schedule)]
