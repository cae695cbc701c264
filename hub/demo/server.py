"""A loopback HTTP server that plays the partners' feed endpoints for the demo and the tests.

It binds 127.0.0.1 on a free port and serves whatever was registered with ``set_feed``, the
way a partner's web server serves an export file: ``ETag`` and ``Last-Modified`` on every
answer, ``304 Not Modified`` for a matching ``If-None-Match`` (or, without one, an
``If-Modified-Since`` not older than the feed), ``HEAD`` without a body, ``404`` for anything
else. Feeds can be replaced while it runs, so a test can play a partner's next delivery;
``delay`` makes every answer wait that many seconds (a slow partner), and ``peak_in_flight``
tells how many requests it answered at once at most.

    with FeedServer() as server:
        server.set_feed("/jobs.json", body, "application/json")
        requests.get(server.base_url + "/jobs.json")
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from hub.demo.feeds import DemoData

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class _Feed:
    body: bytes
    content_type: str
    etag: str
    modified: float  # epoch seconds of the last set_feed

    @property
    def last_modified(self) -> str:
        return formatdate(self.modified, usegmt=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: "FeedServer") -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__((LOOPBACK, 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would look up the host's FQDN, a DNS query: not needed here
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        """Quiet: a client that hangs up early is no reason to print a traceback."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "WelcomeHubDemoFeeds/1.0"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed after this many seconds

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the requests are in ``FeedServer.requests_seen``."""

    # ----------------------------------------------------------------- methods

    def do_GET(self) -> None:  # noqa: N802
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(with_body=False)

    def _not_allowed(self) -> None:
        # the request body is not read, so the connection cannot carry another request
        self.close_connection = True
        self._send(405, b"method not allowed\n", "text/plain; charset=utf-8",
                   {"Allow": "GET, HEAD", "Connection": "close"}, with_body=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815

    # ----------------------------------------------------------------- answers

    def _answer(self, *, with_body: bool) -> None:
        with self.server.owner._in_flight():
            self._answer_now(with_body=with_body)

    def _answer_now(self, *, with_body: bool) -> None:
        path = urlsplit(self.path).path
        feed = self.server.owner._get(path)
        if feed is None:
            self._send(404, b"not found\n", "text/plain; charset=utf-8", {}, with_body)
            return
        headers = {"ETag": feed.etag, "Last-Modified": feed.last_modified,
                   "Cache-Control": "no-cache"}
        if self._not_modified(feed):
            self._send(304, b"", None, headers, with_body=False, length=False)
            return
        self._send(200, feed.body, feed.content_type, headers, with_body)

    def _not_modified(self, feed: _Feed) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or feed.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since:
            try:
                since = parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(feed.modified) <= since
        return False

    def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str],
              with_body: bool, length: bool = True) -> None:
        self.server.owner._seen(self.command, self.path, status)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body and body:
            self.wfile.write(body)


class FeedServer:
    """Partner feeds on http://127.0.0.1:PORT (a free port), in a daemon thread."""

    def __init__(self, delay: float = 0.0) -> None:
        self._feeds: dict[str, _Feed] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests_seen: list[tuple[str, str, int]] = []
        self.delay = delay  # seconds every answer waits
        self.peak_in_flight = 0
        self._now_in_flight = 0

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> "FeedServer":
        if self._server is not None:
            return self
        server = _Server(self)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  name=f"demo-feed-server:{server.server_address[1]}",
                                  daemon=True)
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        with server.connections_lock:
            open_connections = list(server.connections)
        for connection in open_connections:  # idle keep-alive clients
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> "FeedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the feed server is not running; call start() first")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # ----------------------------------------------------------------- feeds

    def set_feed(self, path: str, body: bytes, content_type: str) -> str:
        """Serve ``body`` at ``path`` (added or replaced); returns the new ETag."""
        if not path.startswith("/"):
            raise ValueError(f"feed path must start with '/': {path!r}")
        if not isinstance(body, (bytes, bytearray)):
            raise TypeError("feed body must be bytes")
        body = bytes(body)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self._lock:
            self._feeds[path] = _Feed(body, content_type, etag, time.time())
        return etag

    def remove_feed(self, path: str) -> None:
        with self._lock:
            self._feeds.pop(path, None)

    def url(self, path: str) -> str:
        return self.base_url + path

    def _get(self, path: str) -> _Feed | None:
        with self._lock:
            return self._feeds.get(path)

    @contextlib.contextmanager
    def _in_flight(self):
        """A request counts as in flight from its arrival until its answer is about to be
        written (after ``delay``): a client that starts its next request once it has read
        an answer is never counted twice (counted until the answer was written, a client
        with 3 requests at most at once was seen with 4 now and then)."""
        with self._lock:
            self._now_in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._now_in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
        finally:
            with self._lock:
                self._now_in_flight -= 1
        yield

    def _seen(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests_seen.append((method, path, status))


def serve_demo(data: "DemoData") -> FeedServer:
    """A started server with every feed of ``data``; stop it (or use it in ``with``) when done."""
    server = FeedServer()
    for feed in data.feeds:
        server.set_feed(feed.path, feed.body, feed.content_type)
    return server.start()
