"""Migrations, the landing store and the basic write paths, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.store.db import _json_deserializer, current_revision, head_revision, make_engine, migrate
from hub.store.landing import LandingStore
from hub.store.tables import metadata, source_records


def test_migrations_build_exactly_the_declared_tables(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert current_revision(conn) == head_revision()
    assert diff == [], f"migrations and hub/store/tables.py disagree: {diff}"


def test_migrate_is_idempotent(db_url):
    eng = make_engine(db_url)
    migrate(eng)
    migrate(eng)
    with eng.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    eng.dispose()
    assert {"directory", "changes", "entity_map", "source_records", "fetch_state"} <= tables


def test_migrations_started_together_all_succeed(db_url):
    """Run pods and commands that start at once each migrate a new database on first use."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HUB_DATABASE_URL": db_url}
    procs = [subprocess.Popen([sys.executable, "-m", "hub.cli", "db"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)]
    outcomes = [(proc.wait(timeout=120), proc.stderr.read()) for proc in procs]
    assert outcomes == [(0, "")] * 4
    eng = make_engine(db_url)
    with eng.connect() as conn:
        assert current_revision(conn) == head_revision()
    eng.dispose()


def test_hub_db_says_whether_it_created_upgraded_or_found_the_schema_up_to_date(db_url, tmp_path):
    """An operator running hub db for a release read 'schema at revision 0011' whether the
    database was upgraded or already was: the line now says what was done."""
    import os
    import subprocess
    import sys

    from tests.test_api import database_at

    def hub_db(url: str) -> str:
        env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_HOME": str(tmp_path / "home")}
        proc = subprocess.run([sys.executable, "-m", "hub.cli", "db"], env=env, text=True,
                              capture_output=True, timeout=120)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        return proc.stdout.strip()

    database_at(db_url, "0010").dispose()  # a database an older release left
    assert hub_db(db_url).endswith(f"schema at revision {head_revision()} (upgraded from 0010)")
    assert hub_db(db_url).endswith(f"schema at revision {head_revision()} (up to date)")
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert hub_db(fresh).endswith(f"schema at revision {head_revision()} (created)")


def test_a_schema_newer_than_the_hub_is_refused_with_a_message(db_url):
    from hub.store.db import DatabaseError

    eng = make_engine(db_url)
    migrate(eng)
    with eng.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    try:
        migrate(eng)
    except DatabaseError as exc:
        assert "schema revision 9999, which this hub does not know" in str(exc)
        assert f"its newest is {head_revision()}" in str(exc)
    else:
        raise AssertionError("a newer schema was taken as it is")
    finally:
        eng.dispose()


def test_landing_store_is_content_addressed(tmp_path):
    store = LandingStore(tmp_path)
    sha = store.put(b"<openimmo/>")
    assert store.put(b"<openimmo/>") == sha
    assert store.get(sha) == b"<openimmo/>"
    assert len(list(tmp_path.rglob("*"))) == 3  # two folder levels and one file
    store.path_for(sha).write_bytes(b"tampered")
    try:
        store.get(sha)
    except KeyError as exc:
        assert "damaged" in str(exc)
    else:
        raise AssertionError("a damaged payload must not be returned")


def test_json_columns_read_what_orjson_refuses(engine):
    """JSON columns are read by orjson; text it refuses (an integer beyond 64 bits, written
    by json.dumps) still reads, by json.loads."""
    now = dt.datetime(2026, 11, 27, tzinfo=dt.timezone.utc)
    big = 2**70 + 1
    with engine.begin() as conn:
        conn.execute(source_records.insert(), [
            {"domain": "jobs", "partner_id": "p", "source_id": "big", "record": {"n": big},
             "content_hash": "x", "status": "active", "first_seen": now, "last_seen": now},
            {"domain": "jobs", "partner_id": "p", "source_id": "plain",
             "record": {"title": "Köchin", "n": 3, "geo": {"lat": 49.35}},
             "content_hash": "y", "status": "active", "first_seen": now, "last_seen": now}])
        read = dict(conn.execute(sa.select(source_records.c.source_id, source_records.c.record)).all())
    assert read == {"big": {"n": big}, "plain": {"title": "Köchin", "n": 3, "geo": {"lat": 49.35}}}



def test_bulk_rows_keep_their_text_and_a_broken_load_raises_as_sqlalchemy_errors(engine):
    """``insert_tuples`` (COPY on PostgreSQL, executemany on SQLite) writes values with tabs,
    line breaks, backslashes and NULLs as they are, a record's JSON text into its JSON
    column; a row that breaks the table's key raises SQLAlchemy's IntegrityError, as every
    other write does, and nothing of the load stays."""
    from hub.store.db import JsonText, insert_tuples

    odd = "Köchin\tin Teilzeit\nab sofort \\N \\ \"50 %\""
    table = sa.Table("bulk_probe", sa.MetaData(), sa.Column("source_id", sa.String(255), primary_key=True),
                     sa.Column("record", sa.JSON), sa.Column("note", sa.Text))
    with engine.begin() as conn:
        table.create(conn)
        insert_tuples(conn, table, ["source_id", "record", "note"],
                      [("a", JsonText('{"title":"Köchin\\tin","n":3}'), odd), ("b", None, None)])
        read = {r.source_id: (r.record, r.note) for r in conn.execute(sa.select(table))}
    assert read == {"a": ({"title": "Köchin\tin", "n": 3}, odd), "b": (None, None)}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        insert_tuples(conn, table, ["source_id", "record", "note"], [("c", None, "x"), ("a", None, "y")])
    with engine.begin() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 2
        table.drop(conn)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=10**17, max_value=10**25)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(alphabet="0123456789 .-aä€"),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values)
def test_json_column_reads_what_json_loads_reads(value):
    """The fast way (orjson) must give what json.loads gives for every text, as str (SQLite)
    and as bytes (psycopg): big integers and digit runs in strings included."""
    text = json.dumps(value, ensure_ascii=False)
    expected = json.dumps(json.loads(text))  # as text: 1e+20 (a float) is not 10**20
    assert json.dumps(_json_deserializer(text)) == expected
    assert json.dumps(_json_deserializer(text.encode())) == expected


def test_page_cache_is_raised_for_a_publication_and_set_back(tmp_path):
    """A publication raises the SQLite connection's page cache and gives it back: the
    connection returns to the pool with SQLite's default, not holding 256 MiB."""
    from hub.store.db import PUBLISH_CACHE_KIB, page_cache

    engine = make_engine(f"sqlite:///{tmp_path}/hub.db")
    with engine.begin() as conn:
        default = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        with page_cache(conn):
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -PUBLISH_CACHE_KIB
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == default
    assert default != -PUBLISH_CACHE_KIB


def test_hub_backup_copies_the_database_with_its_write_ahead_log_while_a_sync_writes(tmp_path):
    """A steward's `cp hub.db` right after `hub demo` copied 4 KiB without a table: the
    directory was still in hub.db-wal. `hub backup --out FILE` copies by SQLite's backup API
    what is committed, the log included, while a writer holds its transaction open (a sync),
    into one file that opens on its own; an existing file is refused, and PostgreSQL is sent to
    pg_dump."""
    import os
    import shutil
    import sqlite3
    import subprocess
    import sys

    from tests.test_api import fill

    home = tmp_path / "home"
    eng = make_engine(f"sqlite:///{home / 'hub.db'}")
    migrate(eng)
    fill(eng)
    with eng.connect() as conn:
        published = conn.execute(sa.text("SELECT count(*) FROM changes")).scalar()
    assert published > 0
    # what a file copy of hub.db alone holds: the pages not yet checkpointed are missing
    shutil.copy(home / "hub.db", tmp_path / "copied.db")
    with sqlite3.connect(tmp_path / "copied.db") as copied:
        assert "changes" not in {r[0] for r in copied.execute("SELECT name FROM sqlite_master")}

    writer = sqlite3.connect(home / "hub.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a sync in the middle of its transaction
    writer.execute("DELETE FROM changes")

    def hub(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "HUB_HOME": str(home)}
        env.pop("HUB_DATABASE_URL", None)
        if url:
            env["HUB_DATABASE_URL"] = url
        return subprocess.run([sys.executable, "-m", "hub.cli", *args], env=env, text=True,
                              capture_output=True, timeout=120)

    out = tmp_path / "backups" / "hub-1.db"
    out.parent.mkdir()
    try:
        done = hub("backup", "--out", str(out))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert str(out) in done.stdout and "landing" in done.stdout
    assert sorted(p.name for p in out.parent.iterdir()) == ["hub-1.db"]  # nothing beside it
    with sqlite3.connect(out) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM changes").fetchone() == (published,)
    restored = make_engine(f"sqlite:///{out}")
    with restored.connect() as conn:
        assert current_revision(conn) == head_revision()
    restored.dispose()

    before = out.read_bytes()
    again = hub("backup", "--out", str(out))
    assert again.returncode == 2 and "exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1 and out.read_bytes() == before
    pg = hub("backup", "--out", str(tmp_path / "pg.db"), url="postgresql://hub@db.example/hub")
    assert pg.returncode == 2 and "pg_dump" in pg.stderr and not (tmp_path / "pg.db").exists()
    eng.dispose()
