"""The loopback feed server, exercised with real HTTP requests (no mocks)."""

from __future__ import annotations

import datetime as dt
import hashlib
import socket
import threading
from email.utils import parsedate_to_datetime

import pytest
import requests

from hub.demo import FeedServer, generate, serve_demo

BODY = '{"ergebnisliste": [], "maxErgebnisse": 0, "page": 1, "size": 0}\n'.encode()


@pytest.fixture
def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never through a proxy from the environment
    yield session
    session.close()


@pytest.fixture
def server() -> FeedServer:
    with FeedServer() as running:
        yield running


def test_serves_the_bytes_with_type_length_etag_and_date(server: FeedServer, http) -> None:
    server.set_feed("/feeds/jobs.json", BODY, "application/json")
    assert server.base_url.startswith("http://127.0.0.1:")
    response = http.get(server.base_url + "/feeds/jobs.json", timeout=5)
    assert response.status_code == 200
    assert response.content == BODY
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Length"] == str(len(BODY))
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert hashlib.sha256(BODY).hexdigest().startswith(etag.strip('"'))
    modified = parsedate_to_datetime(response.headers["Last-Modified"])
    assert abs((dt.datetime.now(dt.timezone.utc) - modified).total_seconds()) < 60
    assert server.requests_seen == [("GET", "/feeds/jobs.json", 200)]


def test_if_none_match_gives_304_without_a_body(server: FeedServer, http) -> None:
    etag = server.set_feed("/a.xml", b"<openimmo/>", "application/xml")
    url = server.base_url + "/a.xml"
    first = http.get(url, timeout=5)
    assert first.headers["ETag"] == etag
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = http.get(url, headers={"If-None-Match": header}, timeout=5)
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["ETag"] == etag
        assert again.headers["Last-Modified"] == first.headers["Last-Modified"]
    stale = http.get(url, headers={"If-None-Match": '"something-else"'}, timeout=5)
    assert stale.status_code == 200 and stale.content == b"<openimmo/>"
    assert [status for _, _, status in server.requests_seen] == [200, 304, 304, 304, 304, 200]


def test_if_modified_since_without_etag(server: FeedServer, http) -> None:
    server.set_feed("/c.csv", b"Kurs-ID;Titel\n", "text/csv; charset=utf-8")
    url = server.base_url + "/c.csv"
    modified = http.get(url, timeout=5).headers["Last-Modified"]
    assert http.get(url, headers={"If-Modified-Since": modified}, timeout=5).status_code == 304
    old = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert http.get(url, headers={"If-Modified-Since": old}, timeout=5).status_code == 200


def test_set_feed_replaces_the_body_and_the_etag(server: FeedServer, http) -> None:
    url = server.base_url + "/feed.json"
    old_etag = server.set_feed("/feed.json", b"[1]", "application/json")
    assert http.get(url, timeout=5).headers["ETag"] == old_etag
    new_etag = server.set_feed("/feed.json", b"[1, 2]", "application/json")
    assert new_etag != old_etag
    response = http.get(url, headers={"If-None-Match": old_etag}, timeout=5)
    assert response.status_code == 200
    assert response.content == b"[1, 2]"
    assert response.headers["ETag"] == new_etag
    # the same bytes again: the same ETag, so clients still see "unchanged"
    assert server.set_feed("/feed.json", b"[1, 2]", "application/json") == new_etag


def test_unknown_path_is_404(server: FeedServer, http) -> None:
    server.set_feed("/known", b"x", "text/plain")
    assert http.get(server.base_url + "/unknown", timeout=5).status_code == 404
    assert http.head(server.base_url + "/unknown", timeout=5).status_code == 404
    assert http.get(server.base_url + "/known/", timeout=5).status_code == 404
    assert http.post(server.base_url + "/known", data=b"x" * 100, timeout=5).status_code == 405
    assert http.get(server.base_url + "/known", timeout=5).content == b"x"  # still usable
    assert server.requests_seen == [
        ("GET", "/unknown", 404), ("HEAD", "/unknown", 404), ("GET", "/known/", 404),
        ("POST", "/known", 405), ("GET", "/known", 200),
    ]


def test_query_string_is_ignored_for_lookup(server: FeedServer, http) -> None:
    server.set_feed("/pc/v6/jobs", BODY, "application/json")
    response = http.get(server.base_url + "/pc/v6/jobs?page=1&size=100", timeout=5)
    assert response.content == BODY
    assert server.requests_seen == [("GET", "/pc/v6/jobs?page=1&size=100", 200)]


def test_head_has_the_headers_and_no_body(server: FeedServer, http) -> None:
    etag = server.set_feed("/h.json", BODY, "application/json")
    response = http.head(server.base_url + "/h.json", timeout=5)
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["Content-Length"] == str(len(BODY))
    assert response.headers["ETag"] == etag
    assert response.headers["Content-Type"] == "application/json"
    assert "Last-Modified" in response.headers
    assert http.head(server.base_url + "/h.json", headers={"If-None-Match": etag},
                     timeout=5).status_code == 304


def test_keep_alive_serves_several_requests_on_one_connection(server: FeedServer, http) -> None:
    server.set_feed("/k", b"abc", "text/plain")
    for _ in range(5):
        assert http.get(server.base_url + "/k", timeout=5).content == b"abc"


def test_stop_frees_the_port(http) -> None:
    server = FeedServer().start()
    server.set_feed("/x", b"x", "text/plain")
    port = server.port
    assert http.get(server.base_url + "/x", timeout=5).status_code == 200  # leaves a keep-alive
    server.stop()
    assert not server.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/x", timeout=2,
                     proxies={"http": "", "https": ""})
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # raises if the port were still held
    server.stop()  # stopping twice is harmless
    with pytest.raises(RuntimeError):
        server.base_url


def test_concurrent_reads_while_feeds_change(server: FeedServer) -> None:
    bodies = [f"version {i}\n".encode() * 200 for i in range(20)]
    server.set_feed("/live", bodies[0], "text/plain")
    url = server.base_url + "/live"
    errors: list[str] = []

    def reader() -> None:
        with requests.Session() as session:
            session.trust_env = False
            for _ in range(15):
                response = session.get(url, timeout=5)
                if response.content not in bodies:
                    errors.append("torn body")
                expected = hashlib.sha256(response.content).hexdigest()
                if not expected.startswith(response.headers["ETag"].strip('"')):
                    errors.append("ETag does not match the body it came with")

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    for body in bodies[1:]:
        server.set_feed("/live", body, "text/plain")
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(server.requests_seen) == 6 * 15


def test_serve_demo_serves_every_feed(http) -> None:
    data = generate(dt.date(2026, 5, 20))
    with serve_demo(data) as server:
        for feed in data.feeds:
            response = http.get(server.base_url + feed.path, timeout=5)
            assert response.status_code == 200
            assert response.content == feed.body
            assert response.headers["Content-Type"] == feed.content_type
    assert not server.running


def test_the_server_is_quiet(capfd, http) -> None:
    with FeedServer() as server:
        server.set_feed("/q", b"q", "text/plain")
        http.get(server.base_url + "/q", timeout=5)
        http.get(server.base_url + "/missing", timeout=5)
        http.put(server.base_url + "/q", data=b"x", timeout=5)
        # a client that hangs up in the middle of a request
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            raw.sendall(b"GET /q HTTP/1.1\r\nHost: x\r\n")
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""
