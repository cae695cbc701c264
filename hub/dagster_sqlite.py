"""Dagster's SQLite event log, with its database connections kept open.

Dagster's ``SqliteEventLogStorage`` creates a SQLAlchemy engine, opens the file and throws both
away for every event it stores, several times per event for asset and check events (they are
mirrored into the index database). A partner run stores some forty events, so on the embedded
default that was a tenth of a whole ``hub sync`` (``bench/run.py --scale region``). This
subclass keeps an engine per database file, for the index and the few runs in use; everything
else (files, schema, the UI's watching) is Dagster's own. The instance files of the hub
(``dagster.yaml``, ``hub.runner.MINIMAL_INSTANCE``) name it as ``event_log_storage``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

OPEN_RUNS = 4  # run databases kept open besides the index (a process works on one run or few)


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` that keeps one engine (one pooled connection) per database
    file, for the index and the ``OPEN_RUNS`` run files used last."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(self.conn_string_for_shard(shard), poolclass=QueuePool,
                               pool_size=1, max_overflow=2,  # _initdb inspects on a second one
                               connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        runs = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for name in runs[:-OPEN_RUNS]:  # the least recently used beyond OPEN_RUNS
            self._engines.pop(name).dispose()
        return engine

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
