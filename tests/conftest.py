"""Fixtures shared by the whole suite."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CONFORMANCE = ROOT.parent / "shared" / "conformance"

# The suite never reads or writes a hub that people run: the hub's settings of the shell that
# starts it (a production HUB_DATABASE_URL, DAGSTER_HOME, SMTP or API settings) are dropped,
# and HUB_HOME is a folder of the session's own instead of the checkout's .hub/, where
# `hub demo` (the README's first command) leaves its registry and database for the second.
# What a test needs it sets itself. The suite's own switches stay.
_SUITE_SWITCHES = {"HUB_REQUIRE_POSTGRES", "HUB_REQUIRE_BROWSER", "HUB_TEST_POSTGRES_URL", "HUB_CHROMIUM"}
for _name in [name for name in os.environ
              if (name.startswith("HUB_") and name not in _SUITE_SWITCHES)
              or name in ("DAGSTER_HOME", "DAGSTER_PG_URL", "FORWARDED_ALLOW_IPS")]:
    del os.environ[_name]
os.environ["HUB_HOME"] = tempfile.mkdtemp(prefix="hub-tests-")
atexit.register(shutil.rmtree, os.environ["HUB_HOME"], ignore_errors=True)

# Hypothesis checks what the code gives, not how fast: its default deadline (200 ms an
# example) and its too-slow health check failed a property test of canonical_url now and then
# while the machine's two cores ran the suite's other workers. Speed is bench/'s to measure.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("hub", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hub")


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto`` (pyproject's addopts): one worker more than cores on a small machine. Most
    of the suite's time is spent waiting for the ``hub`` processes its tests start (each
    imports Dagster) and for servers on loopback, so two workers kept two cores busy about
    60 % of the time; measured on 2 cores (2026-11-29): 968 s with three workers, about
    1,400 s with two. Above four cores, one worker per core."""
    cores = os.cpu_count() or 1
    return cores + 1 if cores <= 4 else cores


@pytest.fixture
def samples_dir() -> Path:
    """The real payloads in ../shared/conformance/samples (skipped where that folder is absent)."""
    path = CONFORMANCE / "samples"
    if not path.is_dir():
        pytest.skip(f"conformance samples not found at {path} (../shared is not beside the clone)")
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database URL, once for SQLite and once for PostgreSQL."""
    from tests.db import new_database_url

    url, cleanup = new_database_url(request.param, tmp_path)
    yield url
    from hub.resources import dispose_engines

    dispose_engines()
    cleanup()


@pytest.fixture
def engine(db_url):
    """A migrated engine on each database."""
    from hub.store.db import make_engine, migrate

    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()
