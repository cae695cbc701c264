"""Which partner feeds changed since their last fetch, asked cheaply: one conditional HEAD
request per HTTP feed with the ETag / Last-Modified kept in ``fetch_state``. The
``feed_changes`` sensor turns the answers into sync runs; this module knows no Dagster."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

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


def http_feeds(registry: Registry) -> list[tuple]:
    """(partner, feed) for every feed fetched over HTTP(S)."""
    return [(p, f) for p in registry.partners for f in p.feeds
            if f.source.startswith(("http://", "https://"))]


def probe_feeds(engine: sa.Engine, fetcher: FeedFetcher, registry: Registry,
                only: set[str] | None = None) -> ProbeRound:
    """Probe every HTTP feed of the registry (or the ``partner/domain`` keys in ``only``)
    against its stored validators. A feed never fetched counts as changed."""
    with engine.connect() as conn:
        states = {(r.partner_id, r.domain): r for r in conn.execute(sa.select(
            fetch_state.c.partner_id, fetch_state.c.domain, fetch_state.c.source,
            fetch_state.c.etag, fetch_state.c.last_modified, fetch_state.c.content_sha256))}
    out = ProbeRound([], [], [], {})
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
        try:
            result = fetcher.probe(
                feed.source, etag=state.etag, last_modified=state.last_modified,
                allow_private=partner.allow_private_network, auth_env=feed.auth_env,
                auth_header=feed.auth_header,
            )
        except FetchError as exc:
            out.errors[key] = str(exc)
            continue
        if result.status == "changed" and result.validator:
            out.changed.append(FeedChange(partner.id, feed.domain, result.validator))
        elif result.status == "unchanged":
            out.unchanged.append(key)
        else:
            out.unknown.append(key)
    return out
