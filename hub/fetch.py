"""Fetching partner feeds without trusting the network.

Timeouts and an overall deadline, a body size limit, retries with exponential backoff and
jitter on 429, 5xx and connection errors only, ``Retry-After`` honoured up to a cap,
conditional requests (ETag, Last-Modified), truncation detection, host checks (no private,
loopback or link-local addresses unless the partner entry allows them, in any spelling, and
checked again on the connected socket, so a name that resolves elsewhere a second time is
not followed) and no redirects to another host. Secrets come from environment variables named in the registry and are never
part of a message.
"""

from __future__ import annotations

import errno
import io
import ipaddress
import os
import random
import socket
import stat
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import IncompleteRead

RETRY_STATUS = {429, 500, 502, 503, 504}


class FetchError(Exception):
    """The feed could not be fetched. The message is one line for a person, without secrets.
    ``transient`` is true when the failure may pass (server errors, timeouts, connection
    problems after the fetcher's own retries), false for answers that will not change by
    asking again (404, a refused host, a missing credential)."""

    def __init__(self, message: str, transient: bool = False, http_status: int | None = None):
        super().__init__(message)
        self.transient = transient
        self.http_status = http_status  # the server's final answer, where there was one


@dataclass
class FetchResult:
    status: str  # "changed" or "unchanged"
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    attempts: int = 1
    url: str = ""
    path: Path | None = None  # the inbox file this came from
    stamp: tuple[int, ...] | None = None  # the file's hub.inbox.file_stamp before it was read
    # fetched ``into`` a landing store: the body's hash there (``body`` stays empty)
    sha256: str | None = None
    size: int = 0


@dataclass
class ProbeResult:
    """What a conditional HEAD request says about a feed, without reading it."""

    status: str  # "changed", "unchanged" or "unknown" (the server gives no validator)
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None

    @property
    def validator(self) -> str | None:
        """The ETag, else the Last-Modified date: names this version of the feed."""
        return self.etag or self.last_modified


@dataclass
class FetchPolicy:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float = 120.0  # seconds for the whole fetch, retries included
    max_bytes: int = 512 * 1024 * 1024
    max_retries: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_cap: float = 60.0
    max_redirects: int = 5
    user_agent: str = "WelcomeHub/0.1 (+https://welcome-hub.example)"
    sleep: object = field(default=time.sleep, repr=False)


def check_host(url: str, allow_private: bool) -> None:
    """Refuse URLs whose host resolves to a non-global address unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {parts.scheme!r}")
    host = parts.hostname
    if not host:
        raise FetchError(f"URL without a host: {safe_url(url)}")
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        # a name no DNS knows is a typo in the registry, not worth five tries (with
        # allow_private_network it was 'connection failed (ConnectionError)'); a DNS server
        # that does not answer now is left to the connection's retries there
        unknown = exc.errno == socket.EAI_NONAME
        if allow_private and not unknown:
            return
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror}"
                         + ("; check the host name in the feed's source: in the registry"
                            if unknown else "")) from None
    if allow_private:
        return
    for info in infos:
        _refuse_non_public(host, info[4][0], "resolves to")


# IPv6 prefixes that carry an IPv4 address which a gateway or the host itself reaches:
# NAT64 (64:ff9b::/96, RFC 6052) and the deprecated IPv4-compatible form (::a.b.c.d)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global address, and for IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo,
    NAT64, IPv4-compatible) the embedded one global too: ``64:ff9b::7f00:1`` and
    ``2002:7f00:1::`` name 127.0.0.1 though Python calls them global."""
    if not address.is_global:
        return False
    if address.version == 6:
        embedded = [address.ipv4_mapped, address.sixtofour,
                    address.teredo[1] if address.teredo else None]
        if address in _NAT64 or address in _IPV4_COMPATIBLE:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        return all(inner is None or inner.is_global for inner in embedded)
    return True


def _refuse_non_public(host: str, text: str, how: str) -> None:
    address = ipaddress.ip_address(text.split("%")[0])
    if not is_public(address):
        raise FetchError(
            f"refused: host {host!r} {how} the non-public address {address}; "
            "set allow_private_network: true in the registry entry to allow it"
        )


# The address checked by check_host is not necessarily the one connected to: the HTTP library
# asks DNS again, and a partner's DNS may answer 203.0.113.5 to the check and 127.0.0.1 (or
# 169.254.169.254) a second later ("DNS rebinding"). The connections of a fetch without
# allow_private_network therefore check the address of the socket they connected, before a
# byte (or a credential) is sent on it.
def _checked_conn(conn) -> "socket.socket":
    sock = HTTPConnection._new_conn(conn)  # urllib3's, for HTTPS too
    try:
        _refuse_non_public(conn.host, sock.getpeername()[0], "connected to")
    except FetchError:
        sock.close()
        raise
    return sock


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _checked_conn(self)


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _checked_conn(self)


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicAdapter(HTTPAdapter):
    """Connects only to public addresses, checked on the connected socket."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool,
                                                   "https": _PublicHTTPSPool}


def _session(public_only: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or netrc from the environment
    if public_only:
        adapter = _PublicAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def status_hint(status: int, auth_env: str | None) -> str:
    """What to do about a final answer that asking again will not change, for the end of
    its message: a 404 or 410 is a wrong or moved address, a 401 or 403 a question of
    credentials (the variable's name is said, never its value); '' for other statuses."""
    if status in (404, 410):
        return (f" ({'not found' if status == 404 else 'gone'}): the address is wrong or has "
                "moved; check the feed's source: in the registry")
    if status in (401, 403):
        said = "unauthorized" if status == 401 else "forbidden"
        if auth_env:
            return (f" ({said}): check the credentials (auth_env: {auth_env}, the environment "
                    "variable that holds them)")
        return (f" ({said}): check the credentials (auth_env in the registry: the feed's entry "
                "names none)")
    return ""


def safe_url(url: str) -> str:
    """The URL without user info and query string (which may carry secrets)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class FeedFetcher:
    def __init__(self, policy: FetchPolicy | None = None):
        self.policy = policy or FetchPolicy()
        self.session = _session(public_only=True)
        self.private_session = _session(public_only=False)  # feeds with allow_private_network

    def fetch(
        self,
        source: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private: bool = False,
        auth_env: str | None = None,
        auth_header: str = "Authorization",
        into=None,
    ) -> FetchResult:
        """Fetch ``source`` (http(s)://, file:// or inbox:FOLDER). With ``into`` (a
        LandingStore) the body is streamed into it as it arrives and the result names it by
        ``sha256``: a big body is never in memory; else the result holds the ``body``."""
        if source.startswith("file://"):
            return self._read_file(Path(unquote(urlsplit(source).path)), into)
        if source.startswith("inbox:"):
            return self._read_inbox(Path(source.removeprefix("inbox:")), into)
        headers = self._headers(etag, last_modified, auth_env, auth_header)
        return self._fetch_http(source, headers, allow_private, into, auth_env)

    def probe(
        self,
        source: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private: bool = False,
        auth_env: str | None = None,
        auth_header: str = "Authorization",
    ) -> ProbeResult:
        """Ask an HTTP feed whether it changed since the version named by ``etag`` /
        ``last_modified``, with one conditional HEAD request (same host checks, redirect rule
        and credentials as :meth:`fetch`; no retries: the next probe is the retry).

        304, or the same ETag/Last-Modified again, is "unchanged"; a 200 with another
        validator is "changed"; a server that names no version (or refuses HEAD) is "unknown".
        Raises FetchError when the server cannot be asked."""
        if not source.startswith(("http://", "https://")):
            raise FetchError(f"only HTTP feeds can be probed, not {source.split(':', 1)[0]}:")
        headers = self._headers(etag, last_modified, auth_env, auth_header)
        try:
            response = self._attempt(source, headers, allow_private, time.monotonic(), method="HEAD")
        except _Retryable as exc:
            raise FetchError(f"{safe_url(source)}: {exc}", transient=True) from None
        new_etag = response.etag
        new_modified = response.last_modified
        if response.http_status == 304:
            return ProbeResult("unchanged", etag or new_etag, last_modified or new_modified, 304)
        if response.http_status != 200 or not (new_etag or new_modified):
            return ProbeResult("unknown", new_etag, new_modified, response.http_status)
        same = (new_etag is not None and new_etag == etag) or (
            new_etag is None and new_modified is not None and new_modified == last_modified
        )
        return ProbeResult("unchanged" if same else "changed", new_etag, new_modified, 200)

    def _headers(self, etag, last_modified, auth_env, auth_header) -> dict:
        headers = {"User-Agent": self.policy.user_agent, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if auth_env:
            secret = os.environ.get(auth_env)
            if not secret:
                raise FetchError(
                    f"environment variable {auth_env} (the feed's credential) is "
                    f"{'empty' if auth_env in os.environ else 'not set'}: export "
                    f"{auth_env}=<the partner's key> where hub and the Dagster daemon run "
                    "(the registry names only the variable)")
            if secret != secret.strip() or not secret.isascii() or any(
                    ord(c) < 32 or ord(c) == 127 for c in secret):
                # the HTTP library refused it with an internal error quoting the secret
                raise FetchError(
                    f"environment variable {auth_env} (the feed's credential) holds a line break, "
                    "blanks at its ends or a character outside ASCII (an environment file saved "
                    f"with Windows line ends?): export {auth_env} with the key alone")
            headers[auth_header] = secret
        return headers

    # -- HTTP -------------------------------------------------------------------------------

    def _fetch_http(self, url: str, headers: dict, allow_private: bool, into=None,
                    auth_env: str | None = None) -> FetchResult:
        policy = self.policy
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            remaining = policy.deadline - (time.monotonic() - started)
            if remaining <= 0:
                raise FetchError(f"{safe_url(url)}: gave up after {policy.deadline:.0f} s deadline",
                                 transient=True)
            try:
                result = self._attempt(url, headers, allow_private, started, into=into,
                                       auth_env=auth_env)
                result.attempts = attempt
                return result
            except _Retryable as exc:
                if attempt > policy.max_retries:
                    raise FetchError(
                        f"{safe_url(url)}: {exc} (gave up after {attempt} attempts)",
                        transient=True,
                    ) from None
                delay = min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
                delay = random.uniform(delay / 2, delay)  # jitter
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, policy.retry_after_cap))
                if time.monotonic() - started + delay > policy.deadline:
                    raise FetchError(
                        f"{safe_url(url)}: {exc}; no time left for another try "
                        f"within the {policy.deadline:.0f} s deadline",
                        transient=True,
                    ) from None
                policy.sleep(delay)

    def _attempt(self, url: str, headers: dict, allow_private: bool, started: float,
                 method: str = "GET", into=None, auth_env: str | None = None) -> FetchResult:
        """One request, following same-host redirects. ``HEAD`` returns the status and the
        validators without a body (405/501 and other statuses come back as they are).
        ``auth_env``: the variable the credentials came from, named in a 401/403 message."""
        policy = self.policy
        current = url
        origin_host = urlsplit(url).hostname
        for _ in range(policy.max_redirects + 1):
            check_host(current, allow_private)
            try:
                session = self.private_session if allow_private else self.session
                response = session.request(
                    method,
                    current,
                    headers=headers,
                    timeout=(policy.connect_timeout, policy.read_timeout),
                    allow_redirects=False,
                    stream=True,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise _Retryable(f"connection failed ({type(exc).__name__})") from None
            with response:
                if response.is_redirect:
                    target = urljoin(current, response.headers.get("Location", ""))
                    if urlsplit(target).hostname != origin_host:
                        raise FetchError(
                            f"{safe_url(url)}: refused redirect to another host "
                            f"({urlsplit(target).hostname})"
                        )
                    current = target
                    continue
                if response.status_code == 304:
                    return FetchResult(
                        status="unchanged",
                        http_status=304,
                        etag=response.headers.get("ETag") or headers.get("If-None-Match"),
                        last_modified=response.headers.get("Last-Modified")
                        or headers.get("If-Modified-Since"),
                        url=safe_url(current),
                    )
                if method == "HEAD":
                    return FetchResult(
                        status="unchanged" if response.status_code == 304 else "changed",
                        etag=response.headers.get("ETag"),
                        last_modified=response.headers.get("Last-Modified"),
                        http_status=response.status_code,
                        url=safe_url(current),
                    )
                if response.status_code in RETRY_STATUS:
                    raise _Retryable(
                        f"HTTP {response.status_code}",
                        retry_after=_retry_after(response.headers.get("Retry-After")),
                    )
                if response.status_code != 200:
                    raise FetchError(f"{safe_url(url)}: HTTP {response.status_code}"
                                     + status_hint(response.status_code, auth_env),
                                     http_status=response.status_code)
                body, sha, size = self._read_body(response, url, started, into)
                return FetchResult(
                    status="changed",
                    body=body,
                    sha256=sha,
                    size=size,
                    content_type=response.headers.get("Content-Type"),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    http_status=200,
                    url=safe_url(current),
                )
        raise FetchError(f"{safe_url(url)}: more than {policy.max_redirects} redirects")

    def _read_body(self, response: requests.Response, url: str, started: float,
                   into=None) -> tuple[bytes, str | None, int]:
        """The body (in memory, or streamed into the landing store ``into``): (bytes, hash
        in the store, size). A partial body never lands."""
        policy = self.policy
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise FetchError(
                f"{safe_url(url)}: body of {int(declared)} bytes exceeds the limit of {policy.max_bytes}"
            )
        sink = into.writer() if into is not None else io.BytesIO()
        size = 0
        try:
            try:
                for chunk in response.iter_content(chunk_size=256 * 1024):
                    size += len(chunk)
                    if size > policy.max_bytes:
                        raise FetchError(
                            f"{safe_url(url)}: body exceeds the limit of {policy.max_bytes} bytes"
                        )
                    if time.monotonic() - started > policy.deadline:
                        raise FetchError(
                            f"{safe_url(url)}: body not complete within the {policy.deadline:.0f} s deadline"
                        )
                    sink.write(chunk)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                    requests.Timeout) as exc:
                short = _incomplete_read(exc)
                if short is not None and declared and declared.isdigit():
                    # urllib3 ends a body shorter than its Content-Length so, before the
                    # check below sees it; said as what it is, with the figures
                    raise _Retryable(f"truncated body: {short} of {declared} bytes (the "
                                     "connection closed early)") from None
                raise _Retryable(f"connection broke while reading the body ({type(exc).__name__})") from None
            encoding = response.headers.get("Content-Encoding")
            if declared and declared.isdigit() and not encoding and size != int(declared):
                raise _Retryable(f"truncated body: {size} of {declared} bytes")
        except BaseException:
            if into is not None:
                sink.discard()
            raise
        if into is None:
            return sink.getvalue(), None, size
        return b"", sink.commit(), size

    # -- files ------------------------------------------------------------------------------

    def _read_file(self, path: Path, into=None, handle=None) -> FetchResult:
        """The file at ``path``, or read from ``handle`` (opened already: an inbox file)."""
        try:
            info = os.fstat(handle.fileno()) if handle is not None else path.stat()
        except FileNotFoundError:
            raise FetchError(f"file not found: {path}") from None
        except OSError as exc:
            raise FetchError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        size = info.st_size
        if stat.S_ISDIR(info.st_mode):
            raise FetchError(f"{path} is a folder, not a file (a folder of deliveries is an "
                             "inbox: source inbox:FOLDER)")
        if size > self.policy.max_bytes:
            raise FetchError(f"{path}: {size} bytes exceeds the limit of {self.policy.max_bytes}")
        if handle is None:
            with path.open("rb") as opened:
                return self._read_file(path, into, opened)
        if into is None:
            return FetchResult(status="changed", body=handle.read(), url=f"file://{path}",
                               size=size)
        sink = into.writer()
        try:
            while block := handle.read(1 << 20):
                sink.write(block)
        except BaseException:
            sink.discard()
            raise
        return FetchResult(status="changed", url=f"file://{path}", sha256=sink.commit(),
                           size=sink.size)

    def _read_inbox(self, folder: Path, into=None) -> FetchResult:
        """The oldest waiting file of an inbox folder (the caller moves it aside once its
        bytes are safely landed)."""
        from hub.inbox import file_stamp, folder_problem, waiting_files

        problem = folder_problem(folder)
        if problem:
            raise FetchError(f"inbox {folder}: {problem}")
        files = waiting_files(folder)  # a file still being written waits for a later sync
        nothing = FetchResult(status="unchanged", url=f"inbox:{folder}")
        if not files:
            return nothing
        try:
            # not through a symbolic link put in the file's place since it was listed: the
            # link's target is no delivery of the partner's (waiting_files skips links)
            fd = os.open(files[0], os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:  # removed since it was listed: none is waiting now
            return nothing
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return nothing
            raise FetchError(f"{files[0]}: cannot be read ({exc.strerror or exc})") from None
        with os.fdopen(fd, "rb") as handle:
            stamp = file_stamp(os.fstat(fd))
            result = self._read_file(files[0], into, handle)
        result.path, result.stamp = files[0], stamp
        return result


def _incomplete_read(exc: BaseException) -> int | None:
    """The bytes that arrived of a body cut short (urllib3's IncompleteRead somewhere in the
    exception's arguments), else None."""
    seen, todo = set(), [exc]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, IncompleteRead) and isinstance(item.partial, int):
            return item.partial
        todo += [arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException)]
    return None


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
