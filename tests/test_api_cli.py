"""`hub keys` and `hub serve` as people call them: the key printed once and only its hash
stored, one-line errors, and the API served on loopback from the configured database."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import ROOT

HUB = str(Path(sys.executable).with_name("hub"))


def hub(tmp_path, *args, timeout=120):
    env = {**os.environ, "HUB_HOME": str(tmp_path / "home")}
    env.pop("HUB_DATABASE_URL", None)
    return subprocess.run([HUB, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def one_line_error(proc, fragment):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert fragment in lines[0], lines[0]


def test_keys_create_list_revoke(tmp_path):
    created = hub(tmp_path, "keys", "create", "--name", "VHS Neunkirchen", "--scope", "feedback",
                  "--partner", "vhs-nk", "--rate-limit", "30")
    assert created.returncode == 0, created.stderr
    assert "partner 'vhs-nk' not checked" in created.stderr  # no registry in this home
    key = created.stdout.strip()
    assert key.startswith("hub_") and len(key) > 40 and "\n" not in key
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'home' / 'hub.db'}")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT prefix, key_hash, scopes, partner_id, rate_limit FROM api_keys")).one()
    engine.dispose()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() and row.prefix == key[:12]
    assert (row.scopes, row.partner_id, row.rate_limit) == ("feedback", "vhs-nk", 30)

    listed = hub(tmp_path, "keys", "list")
    assert listed.returncode == 0 and key[:12] in listed.stdout and "vhs-nk" in listed.stdout
    assert key not in listed.stdout  # the key itself is never shown again

    revoked = hub(tmp_path, "keys", "revoke", key[:12])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    one_line_error(hub(tmp_path, "keys", "revoke", key[:12]), "no active key")


def test_keys_errors_are_one_line(tmp_path):
    one_line_error(hub(tmp_path, "keys", "create", "--name", "x", "--scope", "feedback"), "needs --partner")
    one_line_error(hub(tmp_path, "keys", "create", "--name", "x"), "at least one --scope")
    one_line_error(hub(tmp_path, "keys", "create", "--name", "x", "--scope", "read", "--rate-limit", "0"),
                   "--rate-limit")
    one_line_error(hub(tmp_path, "keys", "create", "--name", "x", "--scope", "feedback", "--partner", "Bad Id"),
                   "not a partner id")
    one_line_error(hub(tmp_path, "keys", "revoke", "hub"), "prefix")
    one_line_error(hub(tmp_path, "keys", "create", "--name", "x", "--scope", "read", "--partner", "vhs-nk"),
                   "--partner goes with the scope feedback only")
    unknown = hub(tmp_path, "keys", "create", "--name", "x", "--scope", "admin")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr and "Traceback" not in unknown.stderr


def test_a_key_name_of_several_lines_or_pages_long_is_refused(tmp_path):
    """A name with a line break was stored as given, and hub keys list printed its second line
    as a row of its own below the table's header; a name of 5,000 characters was taken too."""
    for name in ("Portal\nLandkreis", "Portal\tLandkreis", "P" * 201):
        one_line_error(hub(tmp_path, "keys", "create", "--name", name, "--scope", "read"),
                       "--name is one line of at most 200 characters, without line breaks or "
                       "control characters")
    listed = hub(tmp_path, "keys", "list")
    assert listed.stdout.startswith("no API keys"), listed.stdout
    created = hub(tmp_path, "keys", "create", "--name", "Portal Landkreis – Öffentlich " + "P" * 170,
                  "--scope", "read")
    assert created.returncode == 0, created.stderr


def test_an_empty_host_or_a_thousand_workers_are_refused_before_serving(tmp_path):
    """``--host "$HOST"`` with HOST unset listened on every address of the machine (the
    default is loopback alone); ``--workers 1000`` started a thousand processes, each with its
    own database connections."""
    for host in ("", "  "):
        proc = hub(tmp_path, "serve", "--port", str(_free_port()), "--host", host, timeout=30)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert ("hub serve: error: argument --host: empty (an unset variable?); name the address "
                "to listen on: 127.0.0.1 for this machine alone, 0.0.0.0 for every address") in proc.stderr
    most = 4 * (os.cpu_count() or 1)
    one_line_error(hub(tmp_path, "serve", "--port", str(_free_port()), "--workers", str(most + 1), timeout=30),
                   f"--workers {most + 1}: at most {most} on this machine (4 per core)")


def test_a_proxy_address_that_is_none_is_refused_before_serving(tmp_path):
    """uvicorn takes a word it cannot read as an address for a Unix socket's name and trusts
    no proxy: 'proxy.local', '10.0.0.5/8' (host bits set) or '*' in a list served with links
    in http:// behind the TLS proxy, and said nothing."""
    for value, said in (("proxy.local", "'proxy.local' is not an address or network"),
                        ("127.0.0.1, 10.0.0.5/8", "'10.0.0.5/8' is not an address or network"),
                        ("*, 10.0.0.1", "'*' (every address) stands alone, not in a list")):
        proc = hub(tmp_path, "serve", "--port", str(_free_port()), "--forwarded-allow-ips", value,
                   timeout=30)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert f"hub serve: error: argument --forwarded-allow-ips: {said}" in proc.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_on_loopback(tmp_path):
    port = _free_port()
    env = {**os.environ, "HUB_HOME": str(tmp_path / "home"), "HUB_API_REQUIRE_KEYS": "1"}
    env.pop("HUB_DATABASE_URL", None)
    proc = subprocess.Popen([HUB, "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "hub serve did not answer"
                time.sleep(0.2)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/jobs", timeout=5)
            raise AssertionError("HUB_API_REQUIRE_KEYS=1 must refuse a read without a key")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401 and json.loads(exc.read())["status"] == 401
    finally:
        proc.terminate()
        access, log = proc.communicate(timeout=20)  # uvicorn: requests on stdout, the rest on stderr
    # each line with its time, as an operator reading the log the next day needs
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} INFO: "
    assert re.search(stamp + r'.*"GET /v1/jobs HTTP/1.1" 401', access, re.MULTILINE), access
    assert re.search(stamp + r".*Application startup complete", log, re.MULTILINE), log
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        taken = hub(tmp_path, "serve", "--port", str(busy.getsockname()[1]))
        one_line_error(taken, "cannot serve on 127.0.0.1")
    finally:
        busy.close()


def _serving(port: int, env: dict, *options: str) -> subprocess.Popen:
    """``hub serve`` on ``port`` with ``options``, once it answers /health."""
    proc = subprocess.Popen([HUB, "serve", "--port", str(port), *options], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                assert json.loads(answer.read())["status"] == "pass"
            return proc
        except (urllib.error.URLError, ConnectionError):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "hub serve did not answer"
            time.sleep(0.2)


def test_behind_a_tls_proxy_the_links_carry_https_when_the_proxy_is_trusted(tmp_path):
    """A portal reads the API through a reverse proxy that ends TLS (an ingress, nginx): the
    proxy says X-Forwarded-Proto: https, and the next page's link must be https, or the
    portal's client follows it in plain text. The proxy is believed when --forwarded-allow-ips
    names it ('*': any, as in a pod only the ingress reaches), not otherwise."""
    from hub.config import Settings
    from hub.store.db import make_engine, migrate
    from tests.test_api import fill

    env = {**os.environ, "HUB_HOME": str(tmp_path / "home")}
    env.pop("HUB_DATABASE_URL", None)
    engine = make_engine(Settings.from_env(env).database_url)
    migrate(engine)
    fill(engine)
    engine.dispose()

    def next_link(options: tuple[str, ...]) -> str:
        port = _free_port()
        proc = _serving(port, env, *options)
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/jobs?limit=1",
                                             headers={"X-Forwarded-Proto": "https"})
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())["next"]
        finally:
            proc.terminate()
            proc.communicate(timeout=20)

    assert next_link(("--forwarded-allow-ips", "*")).startswith("https://127.0.0.1:")
    # a proxy elsewhere is named: this request's X-Forwarded-Proto is not the proxy's word
    assert next_link(("--forwarded-allow-ips", "192.0.2.10")).startswith("http://127.0.0.1:")


HOLDER = """
import sqlite3, sys, time
from pathlib import Path
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")  # the write lock, as a publication holds it until it commits
Path(sys.argv[2], "held").touch()
while not Path(sys.argv[2], "release").exists():
    time.sleep(0.01)
conn.execute("ROLLBACK")
"""


def test_a_database_locked_for_longer_than_the_busy_timeout_is_told_not_an_internal_error(
        tmp_path, monkeypatch, capsys):
    """A command that waited longer than SQLite's busy timeout (60 s) for another process's
    write lock (a long publication) ended in 'internal error: OperationalError: ... database
    is locked', exit 70, as if the hub were broken. Now it says the database is busy and to
    run it again, exit 75 (EX_TEMPFAIL); the timeout is shortened here, the lock is real."""
    from hub.cli import main
    from hub.resources import dispose_engines
    from hub.store import db

    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    assert main(["db"]) == 0
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.2)
    dispose_engines()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "home" / "hub.db"), str(tmp_path)])
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "held").exists():
            assert holder.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        capsys.readouterr()
        assert main(["keys", "create", "--name", "portal", "--scope", "read"]) == 75
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("hub keys: error: the database is busy: another "
                                                   "process"), err
        assert "run the command again" in err[0] and "internal error" not in err[0]
    finally:
        (tmp_path / "release").touch()
        assert holder.wait(timeout=30) == 0
    assert main(["keys", "create", "--name", "portal", "--scope", "read"]) == 0
    dispose_engines()
