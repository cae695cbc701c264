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

``--queries`` measures instead each query a portal asks (``QUERIES``: the OpenAPI examples of
the three lists, radius searches, counts, pages deep into a list) through the app in-process
(starlette's TestClient, no page cache): median and p95 of ``--repeat`` calls, items and
total, and for each SQL statement on ``directory`` the call sent, its EXPLAIN (ANALYZE,
BUFFERS) in short (nodes, a Seq Scan, a Sort, buffers). ``--national`` fills a national
directory (1,000,000 jobs, 200,000 courses, 200,000 flats over 2,000 postal codes; some
three minutes to write); ``--schema NAME`` keeps it in that schema for the next run (filled
only when empty; drop it by hand). Beside the queries, ``hsds_index``: what building the
HSDS API's index of the directory costs (``hub.api.hsds``; a server builds it at the first
/hsds request, and on PostgreSQL again after each publication): wall and CPU seconds of
``--repeat`` builds (at most three), and the services, locations and organisations it holds.
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
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402
from hub.resolve.cluster import PREFIX  # noqa: E402

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


def _places(rng: random.Random, count: int = 60) -> list[tuple]:
    """The district's nine postal codes and ``count - 9`` places elsewhere in Germany."""
    places = list(DISTRICT)
    for n in range(count - len(DISTRICT)):
        state = rng.choice(["05", "06", "07", "08", "09", "03", "14"])
        postal = f"{rng.randint(10000, 99999)}"
        places.append((postal, f"Ort {n}", f"{state}{rng.randint(100000, 999999)}",
                       round(rng.uniform(47.5, 54.5), 4), round(rng.uniform(6.0, 14.5), 4)))
    return places


def job_rows(n: int, seed: int = 6, places: int = 60):
    """``n`` directory rows of the jobs domain, as publication writes them."""
    rng = random.Random(seed)
    places = _places(rng, places)
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
            "german_required": False if i % 40 == 3 else None,
            "salary_min": 2400 + i % 1000, "salary_period": "month",
            "start_date": (dt.date(2026, 12, 1) + dt.timedelta(days=i % 120)).isoformat(),
            "sources": [{"partner_id": "jobcenter-nk", "source_id": ref, "url": f"https://jobs.example/{ref}"}],
            "provenance": {"title": "jobcenter-nk"},
        }
        yield _row(entry, i, now)


COURSE_TYPES = (["integration_course"] * 7 + ["job_language_course"] * 5 + ["language_course"] * 3
                + ["literacy_course", "vocational_training", "vocational_training", "further_training",
                   "orientation"])
COURSE_LEVELS = {"integration_course": ["A1", "A2", "B1"], "job_language_course": ["B1", "B2"],
                 "literacy_course": ["A1"]}
SCHEDULES = [["part_time"], ["full_time"], ["part_time", "evening"], ["part_time"], ["full_time", "online"],
             ["weekend"], ["part_time", "blended"], ["full_time"], ["evening"], ["part_time"]]


def course_rows(n: int, seed: int = 7, places: int = 60):
    """``n`` directory rows of the courses domain: integration and vocational language courses
    mostly, childcare at one in seven, funded at three in five (the rest says nothing or costs)."""
    rng = random.Random(seed)
    places = _places(rng, places)
    now = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
    for i in range(n):
        kind = COURSE_TYPES[i % len(COURSE_TYPES)]
        entry = _entry("courses", i, places[i % len(places)], "Schulstraße", i % 90 + 1, i % 5 != 0,
                       title=f"{kind.replace('_', ' ').title()} Nr. {i}",
                       organisation=f"Bildungsträger {i % 997} gGmbH",
                       description="Deutsch für Alltag und Beruf, mit Prüfung am Ende des Kurses.")
        entry.update({
            "course_type": kind, "language": "de",
            "cefr_levels": COURSE_LEVELS.get(kind, [["A2"], ["B1"], ["B2"], ["C1"]][i % 4]),
            "start_date": (dt.date(2026, 12, 1) + dt.timedelta(days=i % 180)).isoformat(),
            "schedule": SCHEDULES[i % len(SCHEDULES)],
            "childcare": [True, None, False, None, None, None, None][i % 7],
            "funded": [True, True, True, None, False][i % 5],
            "sources": [{"partner_id": "bench-courses", "source_id": f"K-{i}"}],
        })
        yield _row(entry, i, now)


PROPERTY_TYPES = ["apartment"] * 16 + ["room", "room", "house", "other"]


def flat_rows(n: int, seed: int = 8, places: int = 60):
    """``n`` directory rows of the housing domain: 1 to 5 rooms, warm rent given for four in
    five, a WBS needed for one in five, free from a date, 'sofort' or 'nach Vereinbarung'."""
    rng = random.Random(seed)
    places = _places(rng, places)
    now = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
    for i in range(n):
        rooms = i % 5 + 1
        area = 20 + rooms * 18 + i % 11
        cold = round(area * (5.5 + (i % 7) * 0.8))
        entry = _entry("housing", i, places[i % len(places)], "Gartenstraße", i % 150 + 1, i % 4 != 0,
                       title=f"{rooms}-Zimmer-Wohnung in {places[i % len(places)][1]}",
                       organisation=f"Wohnbau {i % 311} eG",
                       description="Helle Wohnung mit Balkon, Keller und Einbauküche.")
        entry.update({
            "property_type": PROPERTY_TYPES[i % len(PROPERTY_TYPES)],
            "rooms": rooms, "living_area": area, "cold_rent": cold,
            "warm_rent": cold + 150 + rooms * 20 if i % 5 else None,
            "available_from": (dt.date(2026, 12, 1) + dt.timedelta(days=i % 90)).isoformat() if i % 5 < 3 else None,
            "available_from_text": [None, None, None, "sofort", "nach Vereinbarung"][i % 5],
            "wbs_required": [True, False, None, False, None][i % 5],
            "barrier_free": True if i % 10 == 0 else None,
            "max_persons": rooms + 1 if i % 3 else None,
            "sources": [{"partner_id": "bench-housing", "source_id": f"W-{i}"}],
        })
        yield _row(entry, i, now)


def _entry(domain: str, i: int, place: tuple, street: str, number: int, with_geo: bool, **fields) -> dict:
    """What every bench entry of ``domain`` has: its id, address at ``place``, position
    (``with_geo``: else none, as a CSV template's entry), the time of its last change."""
    postal, city, ags, lat, lon = place
    return {"id": f"{PREFIX[domain]}-" + hashlib.sha256(f"bench|{domain}|{i}".encode()).hexdigest()[:16],
            "domain": domain, **fields,
            "address": {"street": street, "house_number": str(number), "postal_code": postal, "city": city,
                        "municipality_key": ags, "country": "DE"},
            "geo": {"lat": lat, "lon": lon} if with_geo else None, "updated_at": "2026-11-01T08:00:00+01:00"}


def _row(entry: dict, i: int, now: dt.datetime) -> tuple:
    """The ``COPY_COLUMNS`` of one entry, as publication fills them (hub/store/search.py)."""
    from hub.store.search import search_columns

    entry = {k: v for k, v in entry.items() if v is not None}
    text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    search = search_columns(entry["domain"], entry)
    address, geo = entry["address"], entry.get("geo") or {}
    return (entry["id"], entry["domain"], entry["title"], entry["organisation"], address["postal_code"],
            address["city"], address.get("municipality_key"), geo.get("lat"), geo.get("lon"), text,
            hashlib.sha256(text.encode()).hexdigest(), i + 1, now, search["search_text"], search["tags"],
            search["start_date"], search["rent"], search["rooms"], search["area"], search["cold_rent"],
            search["persons"])


COPY_COLUMNS = ("entity_id", "domain", "title", "organisation", "postal_code", "city", "municipality_key",
                "lat", "lon", "entry", "content_hash", "seq", "updated_at", "search_text", "tags",
                "start_date", "rent", "rooms", "area", "cold_rent", "persons")
ROWS = {"jobs": job_rows, "courses": course_rows, "housing": flat_rows}


def fill(engine, n: int, courses: int = 0, housing: int = 0, places: int = 60) -> float:
    """Writes ``n`` job postings (and ``courses``, ``housing`` entries) with COPY, then ANALYZE."""
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy(f"COPY directory ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
                for domain, count in (("jobs", n), ("courses", courses), ("housing", housing)):
                    for row in ROWS[domain](count, places=places):
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


# ----------------------------------------------------------------------------- portal queries

# what portals ask (the OpenAPI examples of the three lists, hub/api/app.py LIST_EXAMPLES),
# radius searches, counts and deep pages; "{deep}" is a cursor nine tenths into the domain
QUERIES = {
    "jobs_first_page": "/v1/jobs?limit=50",
    "jobs_postal_code": "/v1/jobs?postal_code=66538",
    "jobs_region_district": "/v1/jobs?region=10043",
    "jobs_region_land": "/v1/jobs?region=10",
    "jobs_radius_parttime_A2": "/v1/jobs?postal_code=66538&radius=20&working_time=part_time&german_level=A2",
    "jobs_radius_latlon_50km": "/v1/jobs?lat=49.35&lon=7.18&radius=50",
    "jobs_no_german": "/v1/jobs?german_required=false",
    "jobs_apprenticeship_region": "/v1/jobs?region=10043&apprenticeship=true",
    "jobs_q_pflege": "/v1/jobs?q=pflege",
    "jobs_q_rare": "/v1/jobs?q=zahntechniker",
    "jobs_count_all": "/v1/jobs?count=true",
    "jobs_count_region": "/v1/jobs?region=10043&count=true",
    "jobs_count_parttime": "/v1/jobs?working_time=part_time&count=true",
    "jobs_deep_page": "/v1/jobs?cursor={deep}",
    "jobs_deep_page_parttime": "/v1/jobs?working_time=part_time&cursor={deep}",
    "courses_first_page": "/v1/courses",
    "courses_radius_B1_after": "/v1/courses?cefr=B1&postal_code=66538&radius=10&starting_after=2027-02-01",
    "courses_integration_childcare": "/v1/courses?course_type=integration_course&childcare=true",
    "courses_evening_funded": "/v1/courses?schedule=evening&funded=true",
    "courses_count_B1": "/v1/courses?cefr=B1&count=true",
    "courses_deep_page": "/v1/courses?cursor={deep}",
    "housing_first_page": "/v1/housing",
    "housing_rent_rooms_available_no_wbs": "/v1/housing?rent_max=600&rooms_min=2&available_by=2027-01-01&wbs=false",
    "housing_cold_rent_town": "/v1/housing?cold_rent_max=400&region=10043114",
    "housing_rent_family": "/v1/housing?rent_max=500&persons=3",
    "housing_radius_rooms": "/v1/housing?postal_code=66538&radius=25&rooms_min=3",
    "housing_count_rent": "/v1/housing?rent_max=600&count=true",
}


def _plan_summary(plan: dict) -> dict:
    """What an EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) says in short: its nodes (type,
    relation or index, rows), whether it read all of ``directory`` (Seq Scan) or sorted, and
    the buffers it touched."""
    nodes = []

    def walk(node: dict, depth: int) -> None:
        name = node["Node Type"]
        if node.get("Index Name"):
            name += f" {node['Index Name']}"
        elif node.get("Relation Name"):
            name += f" {node['Relation Name']}"
        nodes.append(f"{'  ' * depth}{name} rows={node.get('Actual Rows')} loops={node.get('Actual Loops')}"
                     + (f" removed={node['Rows Removed by Filter']}" if node.get("Rows Removed by Filter") else ""))
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    top = plan["Plan"]
    walk(top, 0)
    return {"ms": round(plan["Execution Time"], 2), "nodes": nodes,
            "seq_scan": any("Seq Scan directory" in n for n in nodes),
            "sort": any(n.strip().startswith(("Sort", "Incremental Sort")) for n in nodes),
            "buffers_hit": top.get("Shared Hit Blocks"), "buffers_read": top.get("Shared Read Blocks")}


def portal_queries(engine, repeat: int, max_seconds: float, explain: bool, only: list[str] | None) -> dict:
    """Each of ``QUERIES`` through the app (starlette's TestClient, no page cache: every call
    queries): median and p95 of ``repeat`` calls (fewer when they pass ``max_seconds``), and
    with ``explain`` EXPLAIN (ANALYZE, BUFFERS) of each SQL statement on ``directory`` the
    call sent, with the parameters it sent them with."""
    import sqlalchemy as sa
    from starlette.testclient import TestClient

    from hub.api.app import ApiSettings, create_app
    from hub.api.query import encode_cursor

    sent: list[tuple[str, Any]] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM directory" in statement:
            sent.append((statement, parameters))

    deep = {}
    with engine.connect() as conn:
        for domain in ("jobs", "courses", "housing"):
            n = conn.execute(sa.text("SELECT count(*) FROM directory WHERE domain = :d"), {"d": domain}).scalar()
            eid = conn.execute(sa.text("SELECT entity_id FROM directory WHERE domain = :d ORDER BY entity_id "
                                       "LIMIT 1 OFFSET :o"), {"d": domain, "o": n * 9 // 10}).scalar()
            deep[domain] = encode_cursor(eid) if eid else ""
    out = {}
    app = create_app(engine, ApiSettings(cache_mb=0))
    with TestClient(app) as client:
        for name, path in QUERIES.items():
            if only and name not in only:
                continue
            path = path.replace("{deep}", deep[name.split("_")[0]])
            sent.clear()
            first = client.get(path)
            if first.status_code != 200:
                out[name] = {"path": path, "status": first.status_code, "error": first.text[:300]}
                continue
            statements = list(sent)
            body = first.json()
            times = []
            stop = time.perf_counter() + max_seconds
            while len(times) < repeat and (len(times) < 3 or time.perf_counter() < stop):
                started = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - started)
            times.sort()
            result = {"path": path, "items": len(body["items"]), "total": body.get("total"), "calls": len(times),
                      "p50_ms": _ms(times, 0.5), "p95_ms": _ms(times, 0.95)}
            if explain:
                plans = []
                raw = engine.raw_connection()
                try:
                    with raw.cursor() as cur:
                        for statement, parameters in statements:
                            cur.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
                            plans.append(_plan_summary(cur.fetchone()[0][0]))
                    raw.rollback()
                finally:
                    raw.close()
                result["plans"] = plans
            out[name] = result
    sa.event.remove(engine, "before_cursor_execute", capture)
    return out


def hsds_index_build(engine, repeat: int) -> dict:
    """The HSDS index built from the directory as a server builds it (``_build_index``):
    median wall and CPU seconds of ``repeat`` builds, and what it holds."""
    import statistics

    from hub.api.hsds import _build_index

    walls, cpus = [], []
    with engine.connect() as conn:
        for _ in range(repeat):
            started, cpu = time.perf_counter(), time.process_time()
            index = _build_index(conn, (0,), {})
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
    return {"builds": repeat, "seconds": round(statistics.median(walls), 3),
            "cpu_seconds": round(statistics.median(cpus), 3), "services": len(index.services),
            "locations": len(index.locations), "organizations": len(index.org_keys)}


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--database", default=DEFAULT_DB, help="PostgreSQL URL (a schema is made and dropped)")
    parser.add_argument("--courses", type=int, default=0, help="course entries beside the job postings")
    parser.add_argument("--housing", type=int, default=0, help="flats beside the job postings")
    parser.add_argument("--places", type=int, default=60, help="postal codes the entries spread over")
    parser.add_argument("--national", action="store_true",
                        help="1,000,000 jobs, 200,000 courses, 200,000 flats over 2,000 postal codes")
    parser.add_argument("--queries", action="store_true",
                        help="instead of the load: each portal query's latency and query plans")
    parser.add_argument("--only", nargs="*", help="with --queries: these of them")
    parser.add_argument("--repeat", type=int, default=20, help="with --queries: calls per query")
    parser.add_argument("--schema", help="use and keep this schema (filled when empty) instead of a throw-away one")
    args = parser.parse_args(argv)
    if args.national:
        args.entries, args.courses, args.housing, args.places = 1_000_000, 200_000, 200_000, 2000
    if args.entries < 1 or args.seconds <= 0 or args.connections < 1 or args.workers < 1 or args.repeat < 1:
        print("bench/api.py: --entries, --seconds, --connections, --workers and --repeat must be positive",
              file=sys.stderr)
        return 2

    import sqlalchemy as sa

    from hub.store.db import make_engine, migrate

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if client == "wrk" and not shutil.which("wrk"):
        print("bench/api.py: wrk is not installed", file=sys.stderr)
        return 2

    schema = args.schema or f"bench_api_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(args.database, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA {"IF NOT EXISTS " if args.schema else ""}"{schema}"'))
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
        with engine.connect() as conn:
            filled = conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM directory)")).scalar()
        insert_s = None if filled else fill(engine, args.entries, args.courses, args.housing, args.places)
        if args.queries:
            with engine.connect() as conn:
                entries = dict(conn.execute(sa.text("SELECT domain, count(*) FROM directory GROUP BY domain")).all())
            report = {"entries": entries, "database": "postgresql", "insert_seconds": insert_s and round(insert_s, 2),
                      "machine": machine(), "client": "starlette TestClient, in-process, no page cache",
                      "queries": portal_queries(engine, args.repeat, args.seconds, True, args.only),
                      "hsds_index": hsds_index_build(engine, min(args.repeat, 3))}
            print(json.dumps(report, indent=2, ensure_ascii=False))
            return 0
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
        if not args.schema:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    report = {
        "entries": args.entries,
        "database": "postgresql",
        "insert_seconds": insert_s and round(insert_s, 2),
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
