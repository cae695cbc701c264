"""Database URLs for the suite: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from HUB_TEST_POSTGRES_URL (default: the local server, database `test`).
Each test gets a schema of its own, dropped afterwards. Where the server is unreachable the
PostgreSQL variants are skipped, except under CI (CI=true) or HUB_REQUIRE_POSTGRES=1, where
they fail: in CI they must run.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get(
    "HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("HUB_REQUIRE_POSTGRES"))


def admin_engine(statement: str) -> sa.Engine:
    """An autocommit engine on the PostgreSQL server, after running ``statement`` (CREATE
    SCHEMA / DATABASE) on it; skips the test where the server is unreachable (fails under CI)."""
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(statement))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL not reachable at {PG_URL}: {str(exc.orig).splitlines()[0]}"
        if postgres_required():
            pytest.fail(message + " (CI requires the PostgreSQL tests to run)")
        pytest.skip(message)
    return admin


def new_database_url(kind: str, tmp_path) -> tuple[str, callable]:
    """A fresh, empty database of ``kind``; returns (url, cleanup)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}", lambda: None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = admin_engine(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"

    def cleanup() -> None:
        from hub.resources import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url, cleanup
