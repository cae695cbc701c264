"""The feed fetcher against a real HTTP server on loopback."""

from __future__ import annotations

import pytest
from werkzeug import Response

from hub.fetch import FeedFetcher, FetchError, FetchPolicy, check_host


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def fetcher(sleeps):
    return FeedFetcher(FetchPolicy(max_retries=3, backoff_base=0.01, deadline=20, retry_after_cap=5,
                                   sleep=sleeps.append, max_bytes=10_000))


def test_retries_a_server_error_then_succeeds(httpserver, fetcher):
    httpserver.expect_ordered_request("/feed").respond_with_data("kaputt", status=500)
    httpserver.expect_ordered_request("/feed").respond_with_data('{"ok": 1}', headers={"ETag": '"v1"'})
    result = fetcher.fetch(httpserver.url_for("/feed"), allow_private=True)
    assert (result.status, result.body, result.etag, result.attempts) == ("changed", b'{"ok": 1}', '"v1"', 2)


def test_honours_retry_after_up_to_the_cap(httpserver, fetcher, sleeps):
    httpserver.expect_ordered_request("/feed").respond_with_data("", status=429, headers={"Retry-After": "3"})
    httpserver.expect_ordered_request("/feed").respond_with_data("", status=429, headers={"Retry-After": "3600"})
    httpserver.expect_ordered_request("/feed").respond_with_data("ok")
    assert fetcher.fetch(httpserver.url_for("/feed"), allow_private=True).body == b"ok"
    assert sleeps[0] >= 3 and sleeps[1] == 5


def test_client_errors_are_not_retried(httpserver, fetcher):
    httpserver.expect_ordered_request("/feed").respond_with_data("nope", status=404)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetcher.fetch(httpserver.url_for("/feed"), allow_private=True)
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(("status", "auth_env", "ending"), [
    (404, None, "HTTP 404 (not found): the address is wrong or has moved; check the feed's source: "
                "in the registry"),
    (410, "NK_FEED_KEY", "HTTP 410 (gone): the address is wrong or has moved; check the feed's "
                         "source: in the registry"),
    (401, "NK_FEED_KEY", "HTTP 401 (unauthorized): check the credentials (auth_env: NK_FEED_KEY, "
                         "the environment variable that holds them)"),
    (403, "NK_FEED_KEY", "HTTP 403 (forbidden): check the credentials (auth_env: NK_FEED_KEY, the "
                         "environment variable that holds them)"),
    (401, None, "HTTP 401 (unauthorized): check the credentials (auth_env in the registry: the "
                "feed's entry names none)"),
])
def test_an_answer_that_will_not_change_says_what_to_check(httpserver, fetcher, monkeypatch,
                                                           status, auth_env, ending):
    """A steward read 'HTTP 404' and 'HTTP 401' and had to guess whether the partner's server
    was down, the URL wrong or the key expired."""
    monkeypatch.setenv("NK_FEED_KEY", "s3cr3t-value")
    httpserver.expect_request("/feed").respond_with_data("", status=status)
    with pytest.raises(FetchError) as info:
        fetcher.fetch(httpserver.url_for("/feed"), allow_private=True, auth_env=auth_env)
    assert str(info.value) == f"{httpserver.url_for('/feed')}: {ending}"
    assert "s3cr3t" not in str(info.value) and not info.value.transient


def test_gives_up_after_the_retries(httpserver, fetcher):
    httpserver.expect_request("/feed").respond_with_data("", status=503)
    with pytest.raises(FetchError, match=r"HTTP 503 \(gave up after 4 attempts\)"):
        fetcher.fetch(httpserver.url_for("/feed"), allow_private=True)


def test_conditional_request_gives_unchanged(httpserver, fetcher):
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    result = fetcher.fetch(httpserver.url_for("/feed"), etag='"v1"', allow_private=True)
    assert result.status == "unchanged" and result.body == b""


def test_body_over_the_limit_is_refused(httpserver, fetcher):
    httpserver.expect_request("/feed").respond_with_data("x" * 20_000)
    with pytest.raises(FetchError, match="exceeds the limit"):
        fetcher.fetch(httpserver.url_for("/feed"), allow_private=True)


def test_redirect_to_another_host_is_refused(httpserver, fetcher):
    httpserver.expect_request("/feed").respond_with_response(
        Response(status=302, headers={"Location": "http://evil.example/feed"}))
    with pytest.raises(FetchError, match="redirect to another host"):
        fetcher.fetch(httpserver.url_for("/feed"), allow_private=True)


def test_redirect_on_the_same_host_is_followed(httpserver, fetcher):
    httpserver.expect_request("/old").respond_with_response(Response(status=301, headers={"Location": "/new"}))
    httpserver.expect_request("/new").respond_with_data("moved")
    assert fetcher.fetch(httpserver.url_for("/old"), allow_private=True).body == b"moved"


@pytest.mark.parametrize("url", ["http://127.0.0.1/feed", "http://[::1]/feed", "http://169.254.169.254/latest",
                                 "http://2130706433/feed", "http://10.1.2.3/feed", "http://localhost/feed"])
def test_private_addresses_are_refused_without_permission(url):
    with pytest.raises(FetchError, match="refused"):
        check_host(url, allow_private=False)


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_host_name_no_dns_knows_is_told_as_a_typo_at_once(fetcher, allow_private):
    """A typo in the host of a new partner's source: 'cannot resolve host' did not say where to
    look, and with allow_private_network (a loopback trial) it was 'connection failed
    (ConnectionError) (gave up after 5 attempts)' after five tries."""
    with pytest.raises(FetchError) as info:
        fetcher.fetch("http://feeds.partner.invalid/karriere.html", allow_private=allow_private)
    assert str(info.value) == ("cannot resolve host 'feeds.partner.invalid': Name or service not "
                               "known; check the host name in the feed's source: in the registry")
    assert not info.value.transient


def test_secret_comes_from_the_environment_and_stays_out_of_messages(httpserver, fetcher, monkeypatch):
    monkeypatch.setenv("NK_FEED_KEY", "s3cr3t-value")
    httpserver.expect_request("/feed", headers={"X-API-Key": "s3cr3t-value"}).respond_with_data("", status=403)
    with pytest.raises(FetchError) as info:
        fetcher.fetch(httpserver.url_for("/feed"), allow_private=True, auth_env="NK_FEED_KEY", auth_header="X-API-Key")
    assert "403" in str(info.value) and "s3cr3t" not in str(info.value)
    monkeypatch.delenv("NK_FEED_KEY")
    with pytest.raises(FetchError) as info:
        fetcher.fetch(httpserver.url_for("/feed"), allow_private=True, auth_env="NK_FEED_KEY")
    # what to do, not only what is wrong: a new partner's key not exported yet
    assert str(info.value) == ("environment variable NK_FEED_KEY (the feed's credential) is not "
                               "set: export NK_FEED_KEY=<the partner's key> where hub and the "
                               "Dagster daemon run (the registry names only the variable)")
    for spoilt in ("s3cr3t-value\r", " s3cr3t-value", "s3cr3t\n-value", "s3cr3t-€"):
        # a key from an environment file with Windows line ends: an internal error of the
        # HTTP library that quoted the secret in the run's log
        monkeypatch.setenv("NK_FEED_KEY", spoilt)
        with pytest.raises(FetchError) as info:
            fetcher.fetch(httpserver.url_for("/feed"), allow_private=True, auth_env="NK_FEED_KEY")
        assert str(info.value) == (
            "environment variable NK_FEED_KEY (the feed's credential) holds a line break, blanks "
            "at its ends or a character outside ASCII (an environment file saved with Windows "
            "line ends?): export NK_FEED_KEY with the key alone")
    monkeypatch.setenv("NK_FEED_KEY", "")
    with pytest.raises(FetchError, match="NK_FEED_KEY \\(the feed's credential\\) is empty: export"):
        fetcher.fetch(httpserver.url_for("/feed"), allow_private=True, auth_env="NK_FEED_KEY")


def test_file_sources(tmp_path, fetcher):
    path = tmp_path / "kurse.csv"
    path.write_bytes(b"Kurs-ID;Titel\n")
    assert fetcher.fetch(f"file://{path}").body == b"Kurs-ID;Titel\n"
    with pytest.raises(FetchError, match="file not found"):
        fetcher.fetch(f"file://{tmp_path}/missing.csv")
    with pytest.raises(FetchError, match="is a folder, not a file"):  # was IsADirectoryError
        fetcher.fetch(f"file://{tmp_path}")


def test_a_body_fetched_into_the_landing_store_lands_whole_or_not_at_all(httpserver, fetcher, tmp_path):
    """``into``: the body streams into the landing store (never all in memory); a refused
    or broken body leaves nothing there, a good one lands under its hash."""
    import hashlib

    from hub.store.landing import LandingStore

    store = LandingStore(tmp_path / "landing")
    body = b'{"ergebnisliste": []}' + b" " * 6000
    httpserver.expect_ordered_request("/big").respond_with_data(b"x" * 20_000)
    httpserver.expect_ordered_request("/feed").respond_with_data("kaputt", status=503)
    httpserver.expect_ordered_request("/feed").respond_with_data(body)
    with pytest.raises(FetchError, match="exceeds the limit"):
        fetcher.fetch(httpserver.url_for("/big"), allow_private=True, into=store)
    assert not [p for p in store.root.rglob("*") if p.is_file()]

    result = fetcher.fetch(httpserver.url_for("/feed"), allow_private=True, into=store)
    assert (result.status, result.body, result.size) == ("changed", b"", len(body))
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    assert store.get(result.sha256) == body
    assert [p.name for p in store.root.rglob("*") if p.is_file()] == [result.sha256]

    source = tmp_path / "feed.csv"
    source.write_bytes(body)
    landed = fetcher.fetch(f"file://{source}", into=store)
    assert landed.sha256 == result.sha256


def test_a_damaged_landed_payload_is_not_read(tmp_path):
    from hub.store.landing import LandingStore

    store = LandingStore(tmp_path / "landing")
    sha = store.put(b"<openimmo/>")
    with store.open(sha) as handle:
        assert handle.read() == b"<openimmo/>"
    store.path_for(sha).write_bytes(b"<openimmo>")
    with pytest.raises(KeyError, match="damaged"):
        store.open(sha)


def test_a_body_cut_short_is_said_to_be_truncated_with_its_figures(fetcher, tmp_path):
    """A server that announces a Content-Length and closes the connection early (a proxy
    that timed out, a crashed export): the steward reads 'truncated body' and how much
    arrived, not a ChunkedEncodingError; it is retried like a broken connection and lands
    nothing."""
    import socket
    import threading

    from hub.store.landing import LandingStore

    body = b'{"ergebnisliste": [' + b" " * 3000
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    served = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 9000\r\nConnection: close\r\n\r\n" + body)
                served.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    store = LandingStore(tmp_path / "landing")
    try:
        with pytest.raises(FetchError) as failed:
            fetcher.fetch(f"http://127.0.0.1:{server.getsockname()[1]}/feed.json",
                          allow_private=True, into=store)
    finally:
        server.close()
    message = str(failed.value)
    assert f"truncated body: {len(body)} of 9000 bytes (the connection closed early)" in message
    assert "gave up after 4 attempts" in message and len(served) == 4  # retried as before
    assert getattr(failed.value, "transient", False)  # Dagster's retry policy tries again later
    assert not [p for p in store.root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("url", [
    "http://0x7f.1/feed", "http://017700000001/feed", "http://127.1/feed",
    "http://[0:0:0:0:0:0:0:1]/feed", "http://[::ffff:127.0.0.1]/feed", "http://[::ffff:a9fe:a9fe]/feed",
    # IPv6 forms that embed a private IPv4 address, which Python's is_global calls global
    "http://[64:ff9b::7f00:1]/feed", "http://[64:ff9b::a9fe:a9fe]/feed",  # NAT64
    "http://[2002:7f00:1::]/feed", "http://[2002:a00:1::1]/feed",  # 6to4
    "http://[::127.0.0.1]/feed",  # IPv4-compatible
])
def test_other_spellings_of_private_addresses_are_refused(url):
    with pytest.raises(FetchError, match="refused: host .* the non-public address"):
        check_host(url, allow_private=False)


def test_a_public_ipv6_address_passes_the_check():
    check_host("http://[2001:4860:4860::8888]/feed", allow_private=False)


def test_a_name_that_rebinds_to_loopback_after_the_check_is_not_connected(httpserver, fetcher,
                                                                          monkeypatch):
    """DNS rebinding: the partner's DNS answers a public address to the host check and
    127.0.0.1 to the connection a moment later. The fetch reached the loopback server (with
    the feed's credential); now the connected socket's address is checked before a byte is
    sent."""
    import socket

    httpserver.expect_request("/internal").respond_with_data("internal secrets")
    real = socket.getaddrinfo
    answers = []

    def rebinding_dns(host, port, *args, **kwargs):
        if host != "feeds.partner.example":
            return real(host, port, *args, **kwargs)
        answers.append(host)
        address = "93.184.216.34" if len(answers) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    monkeypatch.setenv("NK_FEED_KEY", "s3cr3t-value")
    url = f"http://feeds.partner.example:{httpserver.port}/internal"
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url, auth_env="NK_FEED_KEY")
    assert str(info.value) == ("refused: host 'feeds.partner.example' connected to the non-public "
                               "address 127.0.0.1; set allow_private_network: true in the "
                               "registry entry to allow it")
    assert not info.value.transient
    assert len(answers) == 2  # the check's question, then the connection's
    assert httpserver.log == []  # nothing reached the loopback server


def test_a_feed_allowed_on_the_private_network_still_connects(httpserver, fetcher):
    httpserver.expect_request("/feed").respond_with_data("ok")
    assert fetcher.fetch(httpserver.url_for("/feed"), allow_private=True).body == b"ok"
