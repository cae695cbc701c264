"""Read API benchmark, printed as JSON.

  .venv/bin/python bench/api.py [--entries 100000] [--seconds 10] [--connections 32] [--workers 1]

Builds ``--entries`` job postings in a throw-away schema of the local PostgreSQL server
(``--database``, default postgresql+psycopg://postgres@127.0.0.1:5432/test; migrated with
hub.store.db, rows written with COPY, the schema dropped at the end), starts the read API as
``hub serve --workers N`` does (uvicorn's command line with the factory
``hub.api.app:app_from_env``) on loopback in a child process, and drives
filtered pages of ``/v1/jobs`` with a load generator over loopback:

- ``postal_code``: ``/v1/jobs?postal_code=66538&limit=50``
- ``region``: ``/v1/jobs?region=10043&limit=50`` (Landkreis Neunkirchen)

For each: requests/s, latency p50/p90/p99/max, errors, and what the load generator cost
(its CPU time per second: it runs on the same cores as the server). Beside them the floor:
the same page as the API's own query function (``hub.api.query.list_entries``) in-process on
one connection, sequentially.

The load generator is ``wrk`` when it is on PATH (and ``--client python`` is not given),
else a small asyncio HTTP/1.1 keep-alive client in this process (``--connections``
connections). Each scenario runs twice: against the server as configured by default (list
pages kept in memory per publication, hub/api/version.py: a repeated page is served without
the database) and with ``HUB_API_CACHE_MB=0`` (every request queries), reported as
``scenarios`` and ``scenarios_without_page_cache``. Target (issue 6): >= 1000 requests/s and
p99 < 50 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402

DEFAULT_DB = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCENARIOS = {
    "postal_code": "/v1/jobs?postal_code=66538&limit=50",
    "region": "/v1/jobs?region=10043&limit=50",
}
TARGET = {"requests_per_s": 1000, "p99_ms": 50}

# Landkreis Neunkirchen (AGS 10043): postal code, town, AGS, lat, lon
DISTRICT = [
    ("66538", "Neunkirchen", "10043111", 49.3447, 7.1802), ("66539", "Neunkirchen", "10043111", 49.3300, 7.1900),
    ("66540", "Neunkirchen", "10043111", 49.3600, 7.1500), ("66557", "Illingen", "10043113", 49.3731, 7.0478),
    ("66564", "Ottweiler", "10043115", 49.4010, 7.1633), ("66571", "Eppelborn", "10043112", 49.4000, 6.9663),
    ("66578", "Schiffweiler", "10043116", 49.3636, 7.1289), ("66583", "Spiesen-Elversberg", "10043117", 49.3180, 7.1260),
    ("66589", "Merchweiler", "10043114", 49.3590, 7.0560),
]
TITLES = ["Pflegefachkraft (m/w/d)", "Fachkraft für Lagerlogistik (m/w/d)", "Busfahrer (m/w/d)", "Koch (m/w/d)",
          "Erzieher (m/w/d)", "Elektroniker für Betriebstechnik (m/w/d)", "Verkäufer (m/w/d)",
          "Helfer Lager (m/w/d)", "Maschinen- und Anlagenführer (m/w/d)", "Reinigungskraft (m/w/d)"]
EMPLOYERS = ["Saar Logistik GmbH", "Kreiskrankenhaus Neunkirchen", "Seniorenhilfe Ottweiler e.V.",
             "Kohlbach Logistik GmbH & Co. KG", "Bäckerei Klein", "Stadtwerke Neunkirchen GmbH"]


def _places(rng: random.Random) -> list[tuple]:
    """The district's nine postal codes and 51 places elsewhere in Germany."""
    places = list(DISTRICT)
    for n in range(51):
        state = rng.choice(["05", "06", "07", "08", "09", "03", "14"])
        postal = f"{rng.randint(10000, 99999)}"
        places.append((postal, f"Ort {n}", f"{state}{rng.randint(100000, 999999)}",
                       round(rng.uniform(47.5, 54.5), 4), round(rng.uniform(6.0, 14.5), 4)))
    return places


def job_rows(n: int, seed: int = 6):
    """``n`` directory rows of the jobs domain, as publication writes them."""
    from hub.store.search import search_columns

    rng = random.Random(seed)
    places = _places(rng)
    now = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
    for i in range(n):
        postal, city, ags, lat, lon = places[i % len(places)]
        eid = "job-" + hashlib.sha256(f"bench|{i}".encode()).hexdigest()[:16]
        ref = f"10001-{1000000000 + i}-S"
        entry = {
            "id": eid, "domain": "jobs", "title": TITLES[i % len(TITLES)],
            "organisation": EMPLOYERS[i % len(EMPLOYERS)],
            "description": "Wir suchen Verstärkung für unser Team. Einarbeitung, Tarifvertrag, 30 Tage Urlaub.",
            "address": {"street": "Bahnhofstraße", "house_number": str(i % 90 + 1), "postal_code": postal,
                        "city": city, "municipality_key": ags, "state": None, "country": "DE"},
            "geo": {"lat": lat, "lon": lon},
            "url": f"https://jobs.example/{ref}",
            "updated_at": "2026-11-01T08:00:00+01:00", "ba_reference": ref,
            "employment_type": "apprenticeship" if i % 9 == 0 else "employee",
            "working_time": ["full_time"] if i % 3 else ["part_time", "shift"],
            "contract_duration": "permanent" if i % 2 else "fixed_term",
            "german_level": ["A2", "B1", "B2", None][i % 4],
            "salary_min": 2400 + i % 1000, "salary_period": "month",
            "start_date": (dt.date(2026, 12, 1) + dt.timedelta(days=i % 120)).isoformat(),
            "sources": [{"partner_id": "jobcenter-nk", "source_id": ref, "url": f"https://jobs.example/{ref}"}],
            "provenance": {"title": "jobcenter-nk"},
        }
        entry = {k: v for k, v in entry.items() if v is not None}
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        search = search_columns("jobs", entry)
        yield (eid, "jobs", entry["title"], entry["organisation"], postal, city, ags, lat, lon, text,
               hashlib.sha256(text.encode()).hexdigest(), i + 1, now, search["search_text"], search["tags"],
               search["start_date"], search["rent"], search["rooms"], search["area"])


COPY_COLUMNS = ("entity_id", "domain", "title", "organisation", "postal_code", "city", "municipality_key",
                "lat", "lon", "entry", "content_hash", "seq", "updated_at", "search_text", "tags",
                "start_date", "rent", "rooms", "area")


def fill(engine, n: int) -> float:
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy(f"COPY directory ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
                for row in job_rows(n):
                    copy.write_row(row)
            cur.execute("ANALYZE directory")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(url: str, port: int, workers: int, cache_mb: int | None = None) -> subprocess.Popen:
    env = dict(os.environ, HUB_DATABASE_URL=url, PYTHONPATH=str(ROOT), HUB_API_ANON_RATE_LIMIT="0")
    env.pop("HUB_API_CACHE_MB", None)
    if cache_mb is not None:
        env["HUB_API_CACHE_MB"] = str(cache_mb)
    env.pop("HUB_API_REQUIRE_KEYS", None)
    cmd = [sys.executable, "-m", "uvicorn", "hub.api.app:app_from_env", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the API server exited: " + server.stderr.read().decode(errors="replace")[-500:])
        try:
            status, _ = asyncio.run(_one_request(port, "/v1/jobs?limit=1"))
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API server did not answer within {timeout:.0f} s")


# ----------------------------------------------------------------------------- load


def _request_bytes(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if not match:
        raise ConnectionError("response without Content-Length")
    body = await reader.readexactly(int(match.group(1)))
    return status, len(body)


async def _one_request(port: int, path: str) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request_bytes(path))
        return await _read_response(reader)
    finally:
        writer.close()


async def _load(port: int, path: str, seconds: float, connections: int) -> dict:
    request = _request_bytes(path)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    body_bytes = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors, body_bytes
        reader = writer = None
        while time.perf_counter() < stop:
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                started = time.perf_counter()
                writer.write(request)
                status, size = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                body_bytes = size
            except (OSError, asyncio.IncompleteReadError, ConnectionError, ValueError):
                errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {"latencies": latencies, "statuses": statuses, "errors": errors, "wall": wall, "client_cpu": cpu,
            "body_bytes": body_bytes}


def _ms(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return round(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] * 1000, 2)


def python_load(port: int, path: str, seconds: float, connections: int) -> dict:
    asyncio.run(_load(port, path, min(1.0, seconds / 4), connections))  # warm-up, not counted
    run = asyncio.run(_load(port, path, seconds, connections))
    lat = sorted(run["latencies"])
    ok = run["statuses"].get(200, 0)
    return {
        "path": path,
        "requests": len(lat),
        "ok": ok,
        "non_200": {str(k): v for k, v in run["statuses"].items() if k != 200},
        "errors": run["errors"],
        "requests_per_s": round(len(lat) / run["wall"], 1),
        "p50_ms": _ms(lat, 0.50), "p90_ms": _ms(lat, 0.90), "p99_ms": _ms(lat, 0.99),
        "max_ms": round(lat[-1] * 1000, 2) if lat else None,
        "response_bytes": run["body_bytes"],
        "client_cpu_per_s": round(run["client_cpu"] / run["wall"], 2),
    }


def wrk_load(port: int, path: str, seconds: float, connections: int) -> dict:
    url = f"http://127.0.0.1:{port}{path}"
    subprocess.run(["wrk", "-t1", f"-c{connections}", "-d1s", url], capture_output=True, check=False)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency", url],
                         capture_output=True, text=True, check=False).stdout

    def value(pattern: str) -> str | None:
        match = re.search(pattern, out)
        return match.group(1) if match else None

    def ms(text: str | None) -> float | None:
        if not text:
            return None
        match = re.match(r"([\d.]+)([a-z]+)", text)
        if not match:
            return None
        number, unit = match.groups()
        return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)

    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = int(value(r"Non-2xx or 3xx responses: (\d+)") or 0)
    return {"path": path, "requests": int(value(r"(\d+) requests in") or 0),
            "non_200": {"non_2xx_or_3xx": non_2xx} if non_2xx else {},
            "errors": sum(int(n) for n in sockets.groups()) if sockets else 0,
            "requests_per_s": float(value(r"Requests/sec:\s+([\d.]+)") or 0),
            "p50_ms": ms(value(r"(?m)^\s+50%\s+(\S+)")), "p90_ms": ms(value(r"(?m)^\s+90%\s+(\S+)")),
            "p99_ms": ms(value(r"(?m)^\s+99%\s+(\S+)")), "raw": out.strip().splitlines()[-6:]}


def sql_floor(engine, path: str, seconds: float) -> dict:
    """The same page through the API's query function, in-process, one connection."""
    from urllib.parse import parse_qs, urlsplit

    from hub.api.query import Filters, list_entries

    params = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
    filters = Filters(postal_code=params.get("postal_code"), region=params.get("region"))
    limit = int(params.get("limit", 50))
    times = []
    with engine.connect() as conn:
        list_entries(conn, "jobs", filters, None, limit)
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            started = time.perf_counter()
            rows, _, _ = list_entries(conn, "jobs", filters, None, limit)
            times.append(time.perf_counter() - started)
            conn.rollback()
    times.sort()
    return {"rows": len(rows), "queries": len(times), "queries_per_s": round(len(times) / sum(times), 1),
            "p50_ms": _ms(times, 0.5), "p99_ms": _ms(times, 0.99)}


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--database", default=DEFAULT_DB, help="PostgreSQL URL (a schema is made and dropped)")
    args = parser.parse_args(argv)
    if args.entries < 1 or args.seconds <= 0 or args.connections < 1 or args.workers < 1:
        print("bench/api.py: --entries, --seconds, --connections and --workers must be positive", file=sys.stderr)
        return 2

    import sqlalchemy as sa

    from hub.store.db import make_engine, migrate

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if client == "wrk" and not shutil.which("wrk"):
        print("bench/api.py: wrk is not installed", file=sys.stderr)
        return 2

    schema = f"bench_api_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.database, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        print(f"bench/api.py: PostgreSQL not reachable at {args.database}: {str(exc.orig).splitlines()[0]}",
              file=sys.stderr)
        return 2
    separator = "&" if "?" in args.database else "?"
    url = f"{args.database}{separator}options={quote(f'-csearch_path={schema}')}"
    server = None
    engine = None
    try:
        engine = make_engine(url)
        migrate(engine)
        insert_s = fill(engine, args.entries)
        load = wrk_load if client == "wrk" else python_load
        runs = {}
        for config, cache_mb in (("default", None), ("without_page_cache", 0)):
            port = free_port()
            server = start_server(url, port, args.workers, cache_mb)
            wait_ready(port, server)
            runs[config] = {name: load(port, path, args.seconds, args.connections)
                            for name, path in SCENARIOS.items()}
            server.terminate()
            server.wait(timeout=10)
            server = None
        scenarios = runs["default"]
        floor = {name: sql_floor(engine, path, min(args.seconds / 2, 3.0)) for name, path in SCENARIOS.items()}
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    report = {
        "entries": args.entries,
        "database": "postgresql",
        "insert_seconds": round(insert_s, 2),
        "machine": machine(),
        "server": f"uvicorn, {args.workers} worker(s), hub.api.app.create_app, loopback",
        "load_generator": ("wrk -t2" if client == "wrk" else
                           "python asyncio HTTP/1.1 keep-alive client in the benchmark process (same cores as the server)"),
        "connections": args.connections,
        "seconds": args.seconds,
        "scenarios": scenarios,
        "scenarios_without_page_cache": runs["without_page_cache"],
        "sql_floor": floor,
        "target": TARGET,
        "meets_target": all(
            (s.get("requests_per_s") or 0) >= TARGET["requests_per_s"] and (s.get("p99_ms") or 1e9) < TARGET["p99_ms"]
            for s in scenarios.values()
        ),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
