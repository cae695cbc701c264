"""The hub's day. The hub serves Germany: a day is a calendar day in Europe/Berlin (CET/CEST),
whatever the server's clock zone (TZ) is. A posting valid through 30.11. counts as valid
until midnight Berlin time (23:00 UTC in winter, 22:00 UTC in summer), not until midnight UTC
or midnight of the server's zone: a sync's checks accept it until then, and the first
retention pass after it (daily at 03:30) withdraws it. Instants are kept and compared in UTC."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIMEZONE = "Europe/Berlin"
BERLIN = ZoneInfo(TIMEZONE)


def today(now: dt.datetime | None = None) -> dt.date:
    """The day in Berlin at ``now`` (default: the current instant); a naive ``now`` is UTC,
    as SQLite gives back the hub's times."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    return now.astimezone(BERLIN).date()


def wall_time(moment: dt.datetime) -> str:
    """An instant as a steward in Germany reads it: '2026-10-25 02:30 CET' (Berlin time and
    its zone, which tells the two 02:30 of the night summer time ends apart); a naive
    ``moment`` is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z")
