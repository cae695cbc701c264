"""The fault matrix: every way a partner server or delivery can go wrong, each run through
fetch -> stage -> publish against a directory that already holds the partner's good records.
None of them may empty or corrupt the directory."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import sqlalchemy as sa
from werkzeug import Response

from hub.fetch import FeedFetcher, FetchError, FetchPolicy
from hub.pipeline import StageError, fetch_partner_feed, stage_partner_feed
from hub.registry import parse_registry
from hub.store.landing import LandingStore
from hub.store.publish import publish_domain
from hub.store.tables import directory
from tests.conftest import FIXTURES
from tests.feeds import ba_v6, posting, registry_text, years_ahead

GOOD = ba_v6([posting(n) for n in range(8)])


class RawServer:
    """A socket server on loopback of its own for faults HTTP libraries will not produce: a
    connection reset in the middle of the body, or an answer that takes too long."""

    def __init__(self, body: bytes, cut_at: int, delay: float = 0.0):
        self.delay = delay
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.body, self.cut_at = body, cut_at
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed.json"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                time.sleep(self.delay)
                head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(self.body)}\r\n\r\n").encode()
                conn.sendall(head + self.body[: self.cut_at])
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    def close(self):
        self.sock.close()


def run_once(engine, store, fetcher, partner, domain="jobs") -> str:
    try:
        fetch_partner_feed(engine, store, fetcher, partner, domain)
        outcome = stage_partner_feed(engine, store, partner, domain)
        return outcome.status
    except (FetchError, StageError) as exc:
        return f"refused: {exc}"
    finally:
        publish_domain(engine, domain)


def snapshot(engine):
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(directory.c.entity_id, directory.c.content_hash)).all())


@pytest.fixture
def setup(engine, tmp_path, httpserver):
    """A published directory from a good first delivery; returns a function that points the
    partner at another URL and runs one sync."""
    store = LandingStore(tmp_path / "landing")
    fetcher = FeedFetcher(FetchPolicy(max_retries=2, backoff_base=0.01, deadline=3, read_timeout=1,
                                      retry_after_cap=0.2, max_bytes=200_000))
    httpserver.expect_ordered_request("/good.json").respond_with_data(GOOD, content_type="application/json")
    good = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", httpserver.url_for("/good.json"))))
    assert run_once(engine, store, fetcher, good.partners[0]) == "ok"
    before = snapshot(engine)
    assert len(before) == 8

    def sync_from(url: str, allow_private: bool = True) -> str:
        text = registry_text(("jobcenter-nk", "ba-jobsuche", url))
        if not allow_private:
            text = text.replace("allow_private_network: true", "allow_private_network: false")
        partner = parse_registry(text).partners[0]
        return run_once(engine, store, fetcher, partner)

    return sync_from, before


def serve(httpserver, path, *responses):
    for response in responses:
        httpserver.expect_ordered_request(path).respond_with_response(response)
    return httpserver.url_for(path)


def json_response(body=GOOD, status=200, headers=None, content_type="application/json"):
    return Response(body, status=status, headers=headers or {}, content_type=content_type)


def test_500_then_success(setup, httpserver, engine):
    sync_from, before = setup
    changed = ba_v6([posting(n) for n in range(9)])
    url = serve(httpserver, "/f", json_response(b"Internal Server Error", 500), json_response(changed))
    assert sync_from(url) == "ok"
    after = snapshot(engine)
    assert set(before) < set(after) and len(after) == 9


def test_429_with_retry_after(setup, httpserver, engine):
    sync_from, before = setup
    url = serve(httpserver, "/f", json_response(b"", 429, {"Retry-After": "1"}), json_response(GOOD))
    assert sync_from(url) == "unchanged"  # the same delivery as before, fetched on the retry
    assert [response.status_code for _, response in httpserver.log][-2:] == [429, 200]
    assert snapshot(engine) == before


def test_response_slower_than_the_deadline(setup, httpserver, engine):
    sync_from, before = setup

    server = RawServer(ba_v6([]), cut_at=10_000, delay=1.5)  # read timeout 1 s, deadline 3 s
    try:
        result = sync_from(server.url)
    finally:
        server.close()
    assert result.startswith("refused:")
    assert snapshot(engine) == before


def test_connection_reset_mid_body(setup, engine):
    sync_from, before = setup
    server = RawServer(ba_v6([posting(n) for n in range(8, 20)]), cut_at=300)
    try:
        result = sync_from(server.url)
    finally:
        server.close()
    assert result.startswith("refused:") and ("connection broke" in result or "truncated" in result)
    assert snapshot(engine) == before


@pytest.mark.parametrize("body", [GOOD[: len(GOOD) // 2], b"", b"<html><h1>Wartungsarbeiten</h1></html>"])
def test_truncated_empty_or_foreign_body(setup, httpserver, engine, body):
    sync_from, before = setup
    url = serve(httpserver, "/f", json_response(body, content_type="text/html" if body.startswith(b"<") else "application/json"))
    assert sync_from(url).startswith("refused:")
    assert snapshot(engine) == before


def test_empty_result_list_is_not_an_empty_directory(setup, httpserver, engine):
    sync_from, before = setup
    url = serve(httpserver, "/f", json_response(ba_v6([])))
    assert "the feed is empty" in sync_from(url)
    assert snapshot(engine) == before


def test_304_is_unchanged(setup, httpserver, engine):
    sync_from, before = setup
    url = serve(httpserver, "/f", json_response(GOOD, headers={"ETag": '"v1"'}),
                Response(status=304, headers={"ETag": '"v1"'}))
    assert sync_from(url) in ("ok", "unchanged")
    assert sync_from(url) == "unchanged"
    assert snapshot(engine) == before


def test_body_over_the_size_limit(setup, httpserver, engine):
    sync_from, before = setup
    url = serve(httpserver, "/f", json_response(ba_v6([posting(n) for n in range(1000)])))
    assert "exceeds the limit" in sync_from(url)
    assert snapshot(engine) == before


def test_redirect_to_another_host(setup, httpserver, engine):
    sync_from, before = setup
    url = serve(httpserver, "/f", Response(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data"}))
    assert "redirect to another host" in sync_from(url)
    assert snapshot(engine) == before


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/feed.json", "http://[::1]:9/feed.json",
                                 "http://169.254.169.254/latest/meta-data", "http://2130706433:9/feed.json"])
def test_private_addresses_without_permission(setup, engine, url):
    sync_from, before = setup
    assert "refused: " in sync_from(url, allow_private=False)
    assert "non-public address" in sync_from(url, allow_private=False)
    assert snapshot(engine) == before


@pytest.mark.parametrize("name", ["entity_external", "entity_bomb"])
def test_xml_with_entities_never_expands(engine, tmp_path, httpserver, name):
    store = LandingStore(tmp_path)
    fetcher = FeedFetcher(FetchPolicy(max_retries=0))
    good = (FIXTURES / "formats" / "openimmo_voll_neunkirchen.xml").read_bytes()
    httpserver.expect_ordered_request("/oi.xml").respond_with_data(good, content_type="application/xml")
    bodies = {
        "entity_external": b'<?xml version="1.0"?>\n<!DOCTYPE openimmo [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
                           b"<openimmo><anbieter><firma>&x;</firma></anbieter></openimmo>",
        "entity_bomb": b'<?xml version="1.0"?>\n<!DOCTYPE openimmo [<!ENTITY a "aaaaaaaaaa">'
                       + b"".join(b'<!ENTITY %s "%s">' % (chr(98 + i).encode(), (b"&" + chr(97 + i).encode() + b";") * 10)
                                  for i in range(8))
                       + b"]>\n<openimmo><anbieter><firma>&i;</firma></anbieter></openimmo>",
    }
    httpserver.expect_ordered_request("/oi.xml").respond_with_data(bodies[name], content_type="application/xml")
    partner = parse_registry(registry_text(("gemeinde-ottweiler", "openimmo", httpserver.url_for("/oi.xml")))).partners[0]
    assert run_once(engine, store, fetcher, partner, "housing") == "ok"
    before = snapshot(engine)
    assert before
    result = run_once(engine, store, fetcher, partner, "housing")
    assert result.startswith("refused:") and "entit" in result.lower()
    assert snapshot(engine) == before


def test_windows_1252_csv(engine, tmp_path, httpserver):
    body = years_ahead((FIXTURES / "formats" / "courses_comma_cp1252.csv").read_bytes())
    httpserver.expect_request("/kurse.csv").respond_with_data(body, content_type="text/csv; charset=windows-1252")
    partner = parse_registry(registry_text(("sprachschule-ottweiler", "csv-courses", httpserver.url_for("/kurse.csv")))).partners[0]
    assert run_once(engine, LandingStore(tmp_path), FeedFetcher(), partner, "courses") == "ok"
    with engine.connect() as conn:
        titles = " ".join(conn.execute(sa.select(directory.c.title)).scalars())
    assert "\ufffd" not in titles and any(ch in titles for ch in "äöüßÄÖÜ–")
