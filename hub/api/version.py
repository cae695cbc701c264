"""Which publication the directory is at, and the list pages already rendered for it.

The directory changes only by publication, and every publication that changes it advances the
change-feed sequence (``changes.seq``). A list page rendered at sequence N is therefore the
right answer until the sequence moves on, and the read API keeps such pages in memory
(``PageCache``) instead of asking the database again.

To know the sequence without a query per request, ``DirectoryVersion`` listens on
PostgreSQL: publication sends ``NOTIFY`` with the new sequence inside its transaction, which
PostgreSQL delivers on commit, so a reader never learns of a version before its data is
visible. A listener thread keeps a connection of its own; until it listens (and whenever its
connection is lost) every request asks the database, as without the cache. On SQLite, which
has no notifications and no network round trip, every request reads the sequence.
Publications in the same process are announced directly after their commit
(``hub.store.publish.announce``)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa

from hub.store.publish import channel_name, checkpoint_text, on_announce
from hub.store.tables import changes, publications

log = logging.getLogger("hub.api")

RECONNECT_SECONDS = 1.0


class DirectoryVersion:
    """The latest change-feed sequence of ``engine``'s directory."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._seq: int | None = None
        self._marked: tuple[int, str] | None = None  # (seq, version) read for the notified seq
        self._listening = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connection = None
        self._thread: threading.Thread | None = None
        self._announced: list = []  # called with each seq the listener is told of
        on_announce(engine, self._advance)

    def on_publication(self, callback) -> None:
        """``callback(seq)`` for each publication the listener is told of (a server on
        PostgreSQL; nothing elsewhere), in the listener's thread: it must return at once."""
        self._announced.append(callback)

    def start(self) -> None:
        """Listen for publications (PostgreSQL; elsewhere nothing to do)."""
        if self.engine.dialect.name == "postgresql" and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._listen, name="hub-api-version", daemon=True)
            self._thread.start()

    @property
    def listening(self) -> bool:
        return self._listening

    def current(self) -> str:
        """The version: the newest change's seq and the checkpoint of the publication that
        wrote it (``"261.9-3f0a..."``). The seq alone named the state of one history only: a
        database restored from an older backup reaches a seq again with other changes, and a
        page's ETag of the lost history matched (304 for a page that is not the reader's).
        While the listener runs, the notified seq; its checkpoint is read once per seq."""
        if self._listening:
            with self._lock:
                seq, marked = self._seq, self._marked
            if seq is not None:
                if marked is None or marked[0] != seq:
                    with self.engine.connect() as conn:
                        marked = (seq, _version(conn, seq))
                    with self._lock:
                        self._marked = marked
                return marked[1]
        return self.read()

    def read(self) -> str:
        with self.engine.connect() as conn:
            return _version(conn)

    def _advance(self, seq: int) -> None:
        with self._lock:
            if self._seq is None or seq > self._seq:
                self._seq = seq

    def close(self) -> None:
        self._stop.set()
        connection = self._connection
        if connection is not None:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing a connection that may be gone already
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _listen(self) -> None:
        dialect = self.engine.dialect
        args, params = dialect.create_connect_args(self.engine.url)
        said = None  # the failure logged last: a lasting one (a database down) is said once
        while not self._stop.is_set():
            try:
                connection = dialect.dbapi.connect(*args, **params, autocommit=True)
                self._connection = connection
                schema = connection.execute("SELECT current_schema()").fetchone()[0]
                channel = channel_name(schema)
                # named, so that a steward sees in pg_stat_activity what this connection is
                connection.execute("SELECT set_config('application_name', %s, false)",
                                   (f"hub-api {channel}"[:63],))
                connection.execute(f'LISTEN "{channel}"')
                # after LISTEN, so that no publication falls between the two
                seq = connection.execute("SELECT max(seq) FROM changes").fetchone()[0] or 0
                with self._lock:
                    self._seq = max(self._seq or 0, int(seq))
                self._listening = True
                if said is not None:
                    log.warning("read API: listening for publications again")
                    said = None
                while not self._stop.is_set():
                    for note in connection.notifies(timeout=1.0):
                        self._advance(int(note.payload))
                        for callback in self._announced:
                            callback(int(note.payload))
            except Exception as exc:  # noqa: BLE001 - any failure: fall back to queries, retry
                if self._stop.is_set():
                    break
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                if reason != said:
                    log.warning("read API: not listening for publications (%s); reading the "
                                "version per request until the listener is back", reason)
                    said = reason
            finally:
                self._listening = False
                if self._connection is not None:
                    try:
                        self._connection.close()
                    except Exception:  # noqa: BLE001
                        pass
                    self._connection = None
            self._stop.wait(RECONNECT_SECONDS)


def _version(conn: sa.Connection, seq: int | None = None) -> str:
    """The version at the newest change (or at the change ``seq``): its seq and checkpoint;
    "0" for an empty feed."""
    query = (sa.select(changes.c.seq, publications.c.id, publications.c.published_at)
             .select_from(changes.join(publications, publications.c.id == changes.c.publication_id)))
    query = (query.where(changes.c.seq == seq) if seq is not None
             else query.order_by(changes.c.seq.desc()).limit(1))
    row = conn.execute(query).first()
    if row is None:
        return str(seq or 0)
    return f"{row.seq}.{checkpoint_text(row.id, row.published_at)}"


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    headers: dict[str, str]


class PageCache:
    """Rendered pages by key (the page's ETag, which names the version, the request and what
    the reader may see), least recently used first out beyond ``max_bytes``."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[str, CachedPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def peek(self, key: str) -> CachedPage | None:
        """The page under ``key``, without counting or reordering."""
        with self._lock:
            return self._pages.get(key)

    def put(self, key: str, page: CachedPage) -> None:
        size = len(page.body)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._pages[key] = page
            self._bytes += size
            while self._bytes > self.max_bytes and self._pages:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.body)
