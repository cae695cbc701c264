"""Dagster resources: thin wrappers that hand the plain modules their engine, landing store,
registry and HTTP client."""

from __future__ import annotations

import os
import threading

import dagster as dg
import sqlalchemy as sa

from hub.config import Settings
from hub.fetch import FeedFetcher, FetchPolicy
from hub.registry import Registry, load_registry
from hub.store.db import make_engine, migrate
from hub.store.landing import LandingStore

_ENGINES: dict[str, sa.Engine] = {}
_LOCK = threading.Lock()


def engine_for(url: str) -> sa.Engine:
    """One migrated engine per database URL and process."""
    with _LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = make_engine(url)
            migrate(engine)
            _ENGINES[url] = engine
        return engine


class HubStore(dg.ConfigurableResource):
    """The hub's database, landing store and partner registry. Unset fields come from the
    environment (HUB_HOME, HUB_DATABASE_URL, HUB_REGISTRY)."""

    database_url: str | None = None
    home: str | None = None
    registry_path: str | None = None

    def settings(self) -> Settings:
        env = dict(os.environ)
        for name, value in (
            ("HUB_HOME", self.home),
            ("HUB_DATABASE_URL", self.database_url),
            ("HUB_REGISTRY", self.registry_path),
        ):
            if value:
                env[name] = value
        return Settings.from_env(env)

    def engine(self) -> sa.Engine:
        return engine_for(self.settings().database_url)

    def landing(self) -> LandingStore:
        return LandingStore(self.settings().landing_dir)

    def registry(self) -> Registry:
        return load_registry(self.settings().registry_path)


class FeedClient(dg.ConfigurableResource):
    """HTTP client for partner feeds: timeouts, deadline, size limit, retries; and how the
    feed_changes sensor probes them (``hub.changes.probe_feeds``): so many at once, so many
    at once per host, and for how long per tick (Dagster ends a sensor tick after 60 s)."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float = 120.0
    max_bytes: int = 512 * 1024 * 1024
    max_retries: int = 4
    retry_after_cap: float = 60.0
    probe_workers: int = 32
    probe_per_host: int = 8
    probe_budget_seconds: float = 40.0

    def fetcher(self) -> FeedFetcher:
        return FeedFetcher(
            FetchPolicy(
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                deadline=self.deadline,
                max_bytes=self.max_bytes,
                max_retries=self.max_retries,
                retry_after_cap=self.retry_after_cap,
            )
        )


def dispose_engines() -> None:
    """Close every cached engine (tests, and before a process forks)."""
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
