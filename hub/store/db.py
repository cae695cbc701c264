"""Engines and migrations for the two supported databases: SQLite (embedded default) and
PostgreSQL via psycopg 3."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from itertools import islice
from pathlib import Path

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url

from hub.config import redact_url

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseError(Exception):
    """The database cannot be used. The message is one line for a person."""


class JsonText(str):
    """A value serialised as JSON already: a JSON column stores it as it is (staging hashes a
    record's JSON text and stores the same text, instead of serialising the record twice)."""


def json_text(value: object, sort_keys: bool = False) -> str:
    """Compact UTF-8 JSON by orjson (several times faster than json.dumps, which a million
    records notice; with ``sort_keys`` the same text as ``json.dumps(sort_keys=True,
    ensure_ascii=False)`` with compact separators); json.dumps for what orjson cannot write
    (an integer beyond 64 bits, keys that are not strings)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))


def _json_serializer(value: object) -> str:
    """JSON columns (keys in their order)."""
    return str(value) if isinstance(value, JsonText) else json_text(value)


# digits -> "0", everything else -> " ": a run of 19 zeros in the translation is a run of 19
# digits in the text (bytes.translate and ``in`` are C loops; a regular expression \d{19}
# cost four times orjson's own parse)
_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_RUN = b"0" * 19


def _json_deserializer(text: str | bytes) -> object:
    """JSON columns read by orjson (publication reads every record of a domain twice);
    json.loads where orjson would differ: text with a run of 19 digits or more (orjson reads an
    integer beyond 64 bits as a float) and text orjson refuses (NaN)."""
    raw = text.encode() if isinstance(text, str) else text  # psycopg hands JSON over as bytes
    if _RUN not in raw.translate(_DIGITS):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def begin_writes(conn: sa.Connection) -> None:
    """Opens the database transaction now on SQLite, where Python's driver begins one only
    before INSERT, UPDATE and DELETE: DDL that comes first (dropping an index to build it
    again) would otherwise commit on its own, outside the caller's transaction. Takes the
    write lock at the first write, as any transaction."""
    if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN")


PUBLISH_CACHE_KIB = 256 * 1024


@contextmanager
def page_cache(conn: sa.Connection, kib: int = PUBLISH_CACHE_KIB) -> Iterator[None]:
    """SQLite's page cache of ``conn`` raised to ``kib`` for a big write, then set back (the
    cache shrinks again). Its default, 2 MiB, is a small part of the B-trees a national
    publication writes at random places: every page it evicts is read back from the file
    (1,000,000 postings: 84 s system time, 43 s with 256 MiB). No-op on PostgreSQL, whose
    shared buffers are the server's."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def forget_deleted(engine: Engine, wait_ms: int = 1000) -> bool:
    """After deleting personal data on SQLite: the write-ahead log, which still holds the pages
    as they were before, is copied into the database and emptied. It waits at most ``wait_ms``
    for readers (other writers wait meanwhile, so not longer); False when they kept the log
    from being emptied: the caller says so. PostgreSQL: nothing to do here (its autovacuum
    reclaims deleted rows)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        before = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait_ms)}")
        try:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()[0]
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(before)}")
    return not busy


# seconds a statement on SQLite waits for another connection's write lock (a publication
# holds it from its first write until it commits) before it fails with 'database is locked'
SQLITE_BUSY_SECONDS = 60


def busy_message(exc: BaseException) -> str | None:
    """For SQLite's 'database is locked' (another process held the write lock for longer than
    SQLITE_BUSY_SECONDS) what to tell a person; None for any other error."""
    orig = getattr(exc, "orig", exc)
    if not (type(orig).__module__ == "sqlite3" and "database is locked" in str(orig)):
        return None
    return (f"the database is busy: another process (a sync's publication, hub erase, "
            f"a backup) kept its write lock for more than {SQLITE_BUSY_SECONDS} s; "
            "run the command again when it has ended (what was done before stays)")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a PostgreSQL URL without a driver, or naming psycopg2, gets
    psycopg 3 (the read API's publication listener speaks psycopg 3; a URL written like
    Dagster's, postgresql+psycopg2://, would have the hub work without it)."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # noqa: BLE001
        raise DatabaseError(f"HUB_DATABASE_URL is not a database URL: {exc}") from None
    if parsed.drivername == "postgres":  # the scheme many hosting providers hand out
        parsed = parsed.set(drivername="postgresql")
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise DatabaseError(
            f"unsupported PostgreSQL driver {parsed.get_driver_name()!r} in {redact_url(url)!r}: "
            "use postgresql://... (psycopg 3)")
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_SECONDS},
                                  json_serializer=_json_serializer,
                                  json_deserializer=_json_deserializer)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # deleted rows are overwritten, not left in free pages: an erased record's personal
            # data must not stay readable in the file (the default of most builds, not of all)
            cursor.execute("PRAGMA secure_delete=ON")
            # ...but not in the connection's temporary database (a staged delivery, dropped
            # once applied): its file is unlinked as it is made and gone with the connection,
            # and zeroing every page it frees cost 4 % of staging a 1,000,000-posting feed
            cursor.execute("PRAGMA temp.secure_delete=OFF")
            cursor.close()

        return engine
    if backend == "postgresql":
        engine = sa.create_engine(parsed, pool_pre_ping=True, json_serializer=_json_serializer,
                                  json_deserializer=_json_deserializer)

        @sa.event.listens_for(engine, "connect")
        def _utc_session(dbapi_conn, _record):
            # times come back in UTC, as from SQLite, whatever the server's timezone setting
            # (a server set up in Germany says Europe/Berlin): the API, hub status --json and
            # hub keys write the same instants the same way on both databases
            autocommit, dbapi_conn.autocommit = dbapi_conn.autocommit, True
            dbapi_conn.execute("SET TIME ZONE 'UTC'")
            dbapi_conn.autocommit = autocommit

        return engine
    raise DatabaseError(
        f"unsupported database {redact_url(url)!r}: use sqlite:///PATH or postgresql://..."
    )


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine) -> str | None:
    """Bring the schema to the newest migration (idempotent); returns the revision the
    database had before (None: it had none, the tables were created)."""
    cfg = _alembic_config()
    try:
        with engine.begin() as conn:
            head = head_revision()
            if current_revision(conn) == head:
                return head
            # one migration at a time (run pods and commands that start together): the others
            # wait here, then find the schema upgraded
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            elif conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before the first read
            current = current_revision(conn)
            if current == head:
                return current
            if current is not None and not known_revision(current):
                raise DatabaseError(
                    f"the database {redact_url(str(engine.url))} has schema revision {current}, "
                    f"which this hub does not know (its newest is {head}): a newer "
                    "release upgraded it; run that release, or restore the backup taken before")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            return current
    except sa.exc.DatabaseError as exc:  # not reachable, or not a database (a stray file)
        what = "reach" if isinstance(exc, sa.exc.OperationalError) else "use"
        raise DatabaseError(
            f"cannot {what} the database {redact_url(str(engine.url))}: {_first_line(exc)}"
        ) from None


# the key of the PostgreSQL advisory lock migrations take ('hub' as an integer)
_MIGRATION_LOCK = int.from_bytes(b"hub", "big")


@lru_cache(maxsize=1)
def _scripts() -> tuple[str, frozenset[str]]:
    """This release's newest migration and all of them (read from the scripts once a
    process: each reading costs milliseconds, and every engine asks)."""
    scripts = ScriptDirectory.from_config(_alembic_config())
    return scripts.get_current_head(), frozenset(s.revision for s in scripts.walk_revisions())


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of this release's migrations (else a newer release wrote it)."""
    return revision in _scripts()[1]


def current_revision(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    return _scripts()[0]


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


BATCH = 5000


def batches(rows: Iterable, size: int = BATCH) -> Iterator[list]:
    """``rows`` in lists of ``size``; a generator is consumed as it goes, so a big write never
    holds all its rows at once."""
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def conflict_insert(conn: sa.Connection, table: sa.Table):
    """An INSERT of the connection's dialect, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def param_marker(conn: sa.Connection) -> str:
    """The driver's placeholder for a value in SQL written by hand (sqlite3 ``?``, psycopg
    ``%s``)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    rows: Iterable[dict],
    keys: list[str],
    keep: tuple[str, ...] = (),
) -> None:
    """Insert ``rows`` (dicts with the same columns) or update them where the key columns
    match, in batches. Columns in ``keep`` are written on insert only (e.g. a first-seen
    time). One INSERT ... ON CONFLICT statement, written once and sent with plain tuples: the
    values go through the columns' own bind processing (JSON, timestamps), without
    SQLAlchemy's per-row work for an executemany (a third of a national publication)."""
    sql = columns = None
    for batch in batches(rows):
        if sql is None:
            names = list(batch[0])
            sql = _upsert_sql(conn, table, names, keys, keep)
            dialect = conn.dialect
            columns = [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
                       for name in names]
        conn.exec_driver_sql(sql, [
            tuple([row[name] if process is None else process(row[name])
                   for name, process in columns])
            for row in batch
        ])


def _upsert_sql(conn: sa.Connection, table: sa.Table, names: list[str], keys: list[str],
                keep: tuple[str, ...]) -> str:
    preparer = conn.dialect.identifier_preparer
    quote = preparer.quote
    updated = [name for name in names if name not in keys and name not in keep]
    action = ("DO UPDATE SET " + ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in updated)
              if updated else "DO NOTHING")
    values = ", ".join([param_marker(conn)] * len(names))
    return (f"INSERT INTO {preparer.format_table(table)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({values}) ON CONFLICT ({', '.join(quote(k) for k in keys)}) {action}")


def insert_missing(conn: sa.Connection, table: sa.Table, row: dict, keys: list[str]) -> None:
    """Insert ``row`` unless a row with its key columns exists: one statement, so two
    processes inserting the same key at once do not collide (ON CONFLICT DO NOTHING)."""
    conn.execute(conflict_insert(conn, table).values(**row)
                 .on_conflict_do_nothing(index_elements=keys))


def insert_many(conn: sa.Connection, table: sa.Table, rows: Iterable[dict]) -> None:
    """Multi-row inserts (executemany, compiled once)."""
    for batch in batches(rows):
        conn.execute(table.insert(), batch)


def insert_tuples(conn: sa.Connection, table: sa.Table, names: list[str], rows: Iterable[tuple],
                  size: int = BATCH) -> None:
    """Inserts of plain tuples (values of ``names``, as the driver takes them) straight
    through the driver, ``size`` at a time on SQLite, by COPY on PostgreSQL: millions of rows
    without SQLAlchemy's per-row work."""
    if conn.dialect.name == "postgresql":
        _copy_tuples(conn, table, names, rows)
        return
    marker = param_marker(conn)
    sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
           f"VALUES ({', '.join([marker] * len(names))})")
    for batch in batches(rows, size):
        conn.exec_driver_sql(sql, batch)


def _copy_tuples(conn: sa.Connection, table: sa.Table, names: list[str],
                 rows: Iterable[tuple]) -> None:
    """PostgreSQL's bulk load, ``COPY ... FROM STDIN``, in the connection's transaction: a
    quarter of executemany's CPU in the hub's process (measured: 100,000 rows of a staged
    delivery, 0.25 CPU-s against 1.0) and less time on the server. Values go as text, which
    the columns' types read (a record's JSON text into its JSON column). A driver error is
    raised as SQLAlchemy raises the others (``sa.exc.DBAPIError`` and its kinds)."""
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    dbapi = conn.dialect.dbapi
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, None, exc, dbapi.Error) from exc
    finally:
        cursor.close()


def backup_sqlite(database: Path, out: Path) -> int:
    """A consistent copy of the SQLite database ``database`` into the new file ``out`` by
    SQLite's online backup API, while syncs, publications and the read API go on: one read
    transaction (writers are not held up in WAL mode), the write-ahead log's committed pages
    included, which a file copy of the database alone lacks (right after ``hub sync`` ended
    the whole directory can still be in ``hub.db-wal``). Written beside ``out`` and linked into
    place at the end: ``out`` is the whole copy or not there, and a file that exists (an
    earlier backup) is never overwritten. Returns the copy's size in bytes."""
    import os
    import sqlite3
    import tempfile

    if not database.is_file():
        raise DatabaseError(f"no SQLite database at {database}: HUB_HOME or HUB_DATABASE_URL "
                            "names another place")
    if out.exists() or out.is_symlink():
        raise DatabaseError(f"{out} exists: a backup never replaces a file; name a new one")
    if not out.parent.is_dir():
        raise DatabaseError(f"{out.parent} is not a folder: create it, or name another --out")
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".incoming")
    os.close(fd)
    try:
        source = sqlite3.connect(database, timeout=SQLITE_BUSY_SECONDS)
        try:
            target = sqlite3.connect(tmp)
            try:
                source.backup(target)  # all pages in one step: one snapshot of the database
                target.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside it
            finally:
                target.close()
        finally:
            source.close()
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.link(tmp, out)  # fails if out appeared meanwhile: never overwritten
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"cannot back up {database}: {_first_line(exc)}") from None
    except FileExistsError:
        raise DatabaseError(f"{out} exists: a backup never replaces a file; name a new one") from None
    except OSError as exc:
        raise DatabaseError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out.stat().st_size
