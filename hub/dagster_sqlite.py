"""Dagster's SQLite event log, with its database connections kept open.

Dagster's ``SqliteEventLogStorage`` creates a SQLAlchemy engine, opens the file and throws both
away for every event it stores, several times per event for asset and check events (they are
mirrored into the index database). A partner run stores some forty events, so on the embedded
default that was a tenth of a whole ``hub sync`` (``bench/run.py --scale region``). This
subclass keeps an engine per database file, for the index and the few runs in use; a new run's
database is made with the revision scripts of Dagster's schema read once per process (Dagster
reads its ninety-odd scripts twice for every run: a tenth of a second a run). Everything else
(files, schema, the UI's watching) is Dagster's own. The run and schedule storage below keep
their connections likewise, and no commit of the three waits for the disk (WAL with
``synchronous=NORMAL``). The instance files of the hub (``dagster.yaml``,
``hub.runner.MINIMAL_INSTANCE``) name these classes.

Dagster reads a relative ``base_dir`` from the working folder, so the project's dagster.yaml
(``.hub/dagster/...``) kept the runs of a command started elsewhere where the UI never looks.
The storages here, and Dagster's SQLite run and schedule storage and artifact folder as
subclassed below, read it from DAGSTER_HOME, the folder that holds the file (the folder
``DagsterInstance.get()`` reads; ``DagsterInstance.from_config(dir)`` of another folder
than DAGSTER_HOME would find the storage of DAGSTER_HOME's).

``TickLogManager`` keeps what sensors and schedules log at a tick (the UI shows it with the
tick), not the steps' stdout and stderr.
"""

from __future__ import annotations

import functools
import io
import os
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from dagster._core.storage.compute_log_manager import CapturedLogContext, ComputeIOType
from dagster._core.storage.event_log.schema import SqlEventLogStorageMetadata
from dagster._core.storage.event_log.sqlite import sqlite_event_log
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.local_compute_log_manager import (
    IO_TYPE_EXTENSION,
    LocalComputeLogManager,
)
from dagster._core.storage.root import LocalArtifactStorage
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.schedules import SqliteScheduleStorage
from dagster._core.storage.sql import get_alembic_config
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

def under_home(config_value: dict) -> dict:
    """``config_value`` with a relative ``base_dir`` taken from DAGSTER_HOME (where the
    instance file is), not from the working folder."""
    base, home = config_value.get("base_dir"), os.environ.get("DAGSTER_HOME")
    if isinstance(base, str) and home and not os.path.isabs(os.path.expanduser(base)):
        # '~' as Dagster reads DAGSTER_HOME itself
        return {**config_value,
                "base_dir": os.path.join(os.path.abspath(os.path.expanduser(home)), base)}
    return config_value


class _KeptConnections:
    """For Dagster's SQLite run and schedule storage: its connections kept open in a pool of
    the process (Dagster's makes an engine and opens the file for every statement it runs, a
    run's some dozen), their commits not waiting for the disk (``_no_sync_per_commit``)."""

    _conn_string: str
    _kept: Engine | None = None
    _making = threading.Lock()  # the engine is made once, whichever thread asks first

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._making:
            if self._kept is None:
                self._kept = create_engine(
                    self._conn_string, poolclass=QueuePool, pool_size=1,
                    max_overflow=7,  # the webserver's threads
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                event.listen(self._kept, "connect", _no_sync_per_commit)
            engine = self._kept
        with engine.connect() as conn:
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        with self._making:
            kept, self._kept = self._kept, None
        if kept is not None:
            kept.dispose()
        super().dispose()


class HomeSqliteRunStorage(_KeptConnections, SqliteRunStorage):
    """Dagster's SQLite run storage, a relative ``base_dir`` read from DAGSTER_HOME, its
    connections kept (``_KeptConnections``)."""

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> HomeSqliteRunStorage:
        return cls.from_local(inst_data=inst_data, **under_home(config_value))


class HomeSqliteScheduleStorage(_KeptConnections, SqliteScheduleStorage):
    """Dagster's SQLite schedule storage, a relative ``base_dir`` read from DAGSTER_HOME, its
    connections kept (``_KeptConnections``)."""

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> HomeSqliteScheduleStorage:
        return cls.from_local(inst_data=inst_data, **under_home(config_value))


class HomeLocalArtifactStorage(LocalArtifactStorage):
    """Dagster's artifact folder, a relative ``base_dir`` read from DAGSTER_HOME."""

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> HomeLocalArtifactStorage:
        return cls(inst_data=inst_data, **under_home(config_value))


class TickLogManager(LocalComputeLogManager):
    """Keeps what the sensors and schedules log at a tick, which the UI shows under the tick
    (Automation, a sensor, a tick's logs: which feeds a probe could not reach, a feedback mail
    that failed, a cron expression refused), and not the steps' stdout and stderr: the steps
    report through the event log, and capturing their streams costs two helper processes a
    step. Dagster's NoOpComputeLogManager kept neither, so every tick showed no logs. A
    relative ``base_dir`` is read from DAGSTER_HOME; a tick that logs nothing writes no file."""

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> TickLogManager:
        return cls(inst_data=inst_data, **under_home(config_value))

    @contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[CapturedLogContext]:
        yield CapturedLogContext(log_key)  # a step's streams: not captured

    def is_capture_complete(self, log_key: Sequence[str]) -> bool:
        return True

    KEEP_DAYS = 30  # a tick's log is kept this long (a probe that fails every tick writes one a tick)
    PRUNE_EVERY = 3600.0  # seconds between two looks for logs past KEEP_DAYS, per process
    _pruned_at = 0.0

    @contextmanager
    def open_log_stream(self, log_key: Sequence[str], io_type: ComputeIOType) -> Iterator[IO]:
        stream = _FileOnFirstWrite(self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[io_type]),
                                   on_create=self.prune)
        try:
            yield stream
        finally:
            stream.close()

    def prune(self, now: float | None = None) -> int:
        """Delete the tick logs older than KEEP_DAYS (at most once in PRUNE_EVERY seconds):
        Dagster's purge of old ticks leaves their files, and a feed that cannot be reached
        has its probe log a line at every tick, for months. How many files went."""
        now = time.time() if now is None else now
        if now - self._pruned_at < self.PRUNE_EVERY:
            return 0
        self._pruned_at = now
        removed = 0
        for folder, _, names in os.walk(self._base_dir):
            for name in names:
                path = os.path.join(folder, name)
                try:
                    if now - os.stat(path).st_mtime > self.KEEP_DAYS * 86400:
                        os.unlink(path)
                        removed += 1
                except OSError:
                    continue  # gone meanwhile: another process pruned it
        return removed


class _FileOnFirstWrite(io.TextIOBase):
    """A text file made when the first line is written to it: the sensors tick every 30 s,
    most of the time with nothing to say."""

    def __init__(self, path: str, on_create=None):
        self._path, self._file, self._on_create = path, None, on_create

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._file is None:
            if self._on_create is not None:
                self._on_create()
            os.makedirs(os.path.dirname(self._path), exist_ok=True)
            self._file = open(self._path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close)
        written = self._file.write(text)
        self._file.flush()  # the UI reads the tick's logs while the daemon still runs
        return written

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        super().close()


OPEN_RUNS = 4  # run databases kept open besides the index (a process works on one run or few)


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` that keeps one engine (one pooled connection) per database
    file, for the index and the ``OPEN_RUNS`` run files used last."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **under_home(config_value))

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(self.conn_string_for_shard(shard), poolclass=QueuePool,
                               pool_size=1, max_overflow=2,  # _initdb inspects on a second one
                               connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _no_sync_per_commit)
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        runs = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for name in runs[:-OPEN_RUNS]:  # the least recently used beyond OPEN_RUNS
            self._engines.pop(name).dispose()
        return engine

    def _initdb(self, engine: Engine, for_index_shard: bool = False) -> None:
        """A run's database as Dagster makes it (its tables, WAL, stamped with the schema's
        head revision), with the revision scripts read once per process. The index, a
        database that holds tables but no stamp, and a race with another process that makes
        the same file go Dagster's own way (which retries)."""
        if not for_index_shard:
            try:
                if _init_run_database(engine):
                    return
            except (DatabaseError, sqlite3.DatabaseError):
                pass
        super()._initdb(engine, for_index_shard=for_index_shard)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            with self._engine(shard).connect() as conn:
                with conn.begin():
                    yield conn

    def wipe(self) -> None:
        self._dispose_engines()
        super().wipe()

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def _no_sync_per_commit(dbapi_conn, _record) -> None:
    """In WAL mode (the event databases' journal) a commit need not wait for the disk: the
    log is synced at checkpoints. A power cut may lose the last events, never corrupt the
    file (SQLite's documentation); each of a run's forty-odd events waited for the disk
    (bench/dagster_runs.py --runs 40: 103-115 ms a run before, 68-71 ms after). WAL is the
    journal Dagster gives these files anyway, set here at once (a new run's file is made on
    this connection); in the rollback journal a commit that does not sync can corrupt the
    file, so a file that cannot be switched (another process holds it) keeps syncing."""
    if dbapi_conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal":
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")


@functools.cache
def _event_log_scripts() -> ScriptDirectory:
    """The revision scripts of Dagster's event log schema (read from disk once)."""
    return ScriptDirectory.from_config(get_alembic_config(sqlite_event_log.__file__))


def _init_run_database(engine: Engine) -> bool:
    """Make a run's event database unless it is there: True when it is ready (made now, or
    stamped before: Dagster, too, only checks that there is a revision), False when it holds
    tables without a revision (left to Dagster)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        if context.get_current_revision() is not None:
            return True
        if inspect(conn).get_table_names():
            return False
        SqlEventLogStorageMetadata.create_all(engine)
        conn.execute(text("PRAGMA journal_mode=WAL;"))
        context.stamp(_event_log_scripts(), "head")
        conn.commit()
    return True
