"""Which partner feeds changed since their last fetch, asked cheaply: one conditional HEAD
request per HTTP feed with the ETag / Last-Modified kept in ``fetch_state``. The
``feed_changes`` sensor turns the answers into sync runs; this module knows no Dagster.

With hundreds of feeds the probes go out in parallel (``workers`` threads, at most
``per_host`` at once to one host) and stop at a time ``budget``: a sensor tick must end within
Dagster's sensor timeout (60 s by default), and 500 feeds asked one after the other from a
partner answering in 2 s would take 1000 s. Feeds not asked within the budget are returned
in ``left``, in the order a next round should ask them (``start_at`` the first of them)."""

from __future__ import annotations

import bisect
import hashlib
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa

from hub.fetch import FeedFetcher, FetchError
from hub.registry import Registry
from hub.store.tables import fetch_state


@dataclass(frozen=True)
class FeedChange:
    partner_id: str
    domain: str
    validator: str  # the new ETag or Last-Modified: names the version that is waiting
    first: bool = False  # never fetched before

    @property
    def key(self) -> str:
        return f"{self.partner_id}/{self.domain}"


@dataclass
class ProbeRound:
    changed: list[FeedChange]
    unchanged: list[str]
    unknown: list[str]  # the server names no version: left to the schedule
    errors: dict[str, str]  # feed key -> one-line reason
    left: list[str] = field(default_factory=list)  # not asked within the budget, next first


def http_feeds(registry: Registry) -> list[tuple]:
    """(partner, feed) for every feed fetched over HTTP(S)."""
    return [(p, f) for p in registry.partners for f in p.feeds
            if f.source.startswith(("http://", "https://"))]


def probe_feeds(engine: sa.Engine, fetcher: FeedFetcher, registry: Registry,
                only: set[str] | None = None, *, workers: int = 1, per_host: int | None = None,
                budget: float | None = None, start_at: str | None = None) -> ProbeRound:
    """Probe every HTTP feed of the registry (or the ``partner/domain`` keys in ``only``)
    against its stored validators. A feed never fetched counts as changed.

    Feeds are asked in the order of their keys, beginning at ``start_at`` (then round to the
    start), ``workers`` at a time and at most ``per_host`` at once to one host; a probe not
    begun (or not answered) ``budget`` seconds after the first is left for the next round."""
    with engine.connect() as conn:
        states = {(r.partner_id, r.domain): r for r in conn.execute(sa.select(
            fetch_state.c.partner_id, fetch_state.c.domain, fetch_state.c.source,
            fetch_state.c.etag, fetch_state.c.last_modified, fetch_state.c.content_sha256))}
    out = ProbeRound([], [], [], {})
    to_ask = []
    for partner, feed in http_feeds(registry):
        key = f"{partner.id}/{feed.domain}"
        if only is not None and key not in only:
            continue
        state = states.get((partner.id, feed.domain))
        known = state is not None and state.source == feed.source and bool(state.content_sha256)
        if not known:
            # named after the source, so that a partner's new address is a new first sync
            tag = hashlib.sha256(feed.source.encode()).hexdigest()[:12]
            out.changed.append(FeedChange(partner.id, feed.domain, f"new-source-{tag}", first=True))
            continue
        if not (state.etag or state.last_modified):
            out.unknown.append(key)  # nothing to compare with: the schedule syncs it
            continue
        to_ask.append((key, partner, feed, state))
    to_ask.sort(key=lambda item: item[0])
    if start_at:
        first = bisect.bisect_left([item[0] for item in to_ask], start_at)
        to_ask = to_ask[first:] + to_ask[:first]
    answers = _ask(fetcher, to_ask, workers, per_host, budget)
    for key, partner, feed, _state in to_ask:
        result = answers.get(key)
        if result is None:
            out.left.append(key)
        elif isinstance(result, FetchError):
            out.errors[key] = str(result)
        elif result.status == "changed" and result.validator:
            out.changed.append(FeedChange(partner.id, feed.domain, result.validator))
        elif result.status == "unchanged":
            out.unchanged.append(key)
        else:
            out.unknown.append(key)
    return out


def _ask(fetcher: FeedFetcher, to_ask: list[tuple], workers: int, per_host: int | None,
         budget: float | None) -> dict:
    """feed key -> ProbeResult or FetchError, for the probes answered within the budget.

    ``workers`` threads (each with its own HTTP session, the fetcher's policy) take the feeds
    strictly in their order, skipping those whose host has ``per_host`` probes running, so
    the feeds left at the budget are the end of the order (and the few still running): the
    next round, beginning with the first of them, asks every feed in turn."""
    if not to_ask:
        return {}
    deadline = None if budget is None else time.monotonic() + budget
    limit = per_host or len(to_ask)
    hosts = [urlsplit(item[2].source).hostname for item in to_ask]
    busy: dict[str | None, int] = dict.fromkeys(hosts, 0)
    claimed = [False] * len(to_ask)
    answers: dict = {}
    turn = threading.Condition()

    def remaining() -> float | None:
        return None if deadline is None else deadline - time.monotonic()

    def claim() -> int | None:
        """The first feed not taken whose host has a free slot; None when none is left
        or the budget is spent (under ``turn``)."""
        while True:
            left = remaining()
            if left is not None and left <= 0:
                return None
            free = [i for i, taken in enumerate(claimed) if not taken]
            if not free:
                return None
            index = next((i for i in free if busy[hosts[i]] < limit), None)
            if index is not None:
                claimed[index] = True
                busy[hosts[index]] += 1
                return index
            turn.wait(left)

    def worker() -> None:
        own = FeedFetcher(fetcher.policy)
        while True:
            with turn:
                index = claim()
            if index is None:
                return
            key, partner, feed, state = to_ask[index]
            try:
                result = own.probe(
                    feed.source, etag=state.etag, last_modified=state.last_modified,
                    allow_private=partner.allow_private_network, auth_env=feed.auth_env,
                    auth_header=feed.auth_header,
                )
            except FetchError as exc:
                result = exc
            with turn:
                busy[hosts[index]] -= 1
                answers[key] = result
                turn.notify_all()

    threads = [threading.Thread(target=worker, name=f"feed-probe-{n}", daemon=True)
               for n in range(max(1, min(workers, len(to_ask))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        # a probe still running at the budget ends by the fetcher's own timeouts, its answer
        # unread (the next round asks that feed again)
        left = remaining()
        thread.join(None if left is None else max(0.0, left))
    with turn:
        return dict(answers)
