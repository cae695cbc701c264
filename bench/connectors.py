"""Connector benchmarks, printed as JSON.

  .venv/bin/python bench/connectors.py [--sizes 10000,100000] [--formats ba-jobsuche,openimmo]

For each format: parse throughput (records/s, MB/s) on an in-memory feed, and the whole
fetch + parse + store path over loopback into a fresh SQLite database: the feed is generated
by this process and served by a child process, and each size is fetched, parsed and stored by
another child of its own, so that its peak memory (max RSS) and CPU time are the hub's alone.
Targets (issue 3): >= 20,000 records/s per core through fetch, parse and store for BA JSON and
OpenImmo XML; peak memory under 500 MB for a 1M-record feed, flat as the feed grows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.feedgen import DOMAINS, GENERATORS  # noqa: E402
from bench.machine import machine  # noqa: E402


def parse_only(fmt: str, n: int) -> dict:
    from hub.formats import get_format

    body = GENERATORS[fmt](n)
    started = time.perf_counter()
    result = get_format(fmt).parse(body, "bench")
    seconds = time.perf_counter() - started
    return {"format": fmt, "records": n, "accepted": len(result.records), "mb": round(len(body) / 1e6, 1), "seconds": round(seconds, 2),
            "records_per_s": round(n / seconds), "mb_per_s": round(len(body) / 1e6 / seconds, 1)}


def end_to_end(fmt: str, n: int, url: str) -> dict:
    """Runs in a child process of its own, so that its peak memory is the hub's alone: fetch
    the feed at ``url`` (served by another process), parse, check and store it."""
    from hub.fetch import FeedFetcher, FetchPolicy
    from hub.pipeline import fetch_partner_feed, stage_partner_feed
    from hub.registry import parse_registry
    from hub.store.db import make_engine, migrate
    from hub.store.landing import LandingStore

    with tempfile.TemporaryDirectory() as tmp:
        registry = parse_registry(
            f"partners:\n  - id: bench\n    name: Bench\n    allow_private_network: true\n"
            f"    feeds:\n      - format: {fmt}\n        source: {url}\n")
        engine = make_engine(f"sqlite:///{tmp}/hub.db")
        migrate(engine)
        store = LandingStore(Path(tmp) / "landing")
        partner, domain = registry.partners[0], DOMAINS[fmt]
        # a 1M-record body is bigger than the default limit (512 MiB): raised, as a steward
        # would for such a partner (the feed_client resource's max_bytes)
        fetcher = FeedFetcher(FetchPolicy(max_bytes=4 << 30, deadline=1800))
        started = time.perf_counter()
        fetch_partner_feed(engine, store, fetcher, partner, domain)
        fetched = time.perf_counter()
        outcome = stage_partner_feed(engine, store, partner, domain)
        done = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    from hub.quality.suites import gx_engine

    return {"format": fmt, "records": n, "accepted": outcome.counts.accepted,
            "fetch_s": round(fetched - started, 2), "parse_store_s": round(done - fetched, 2),
            # importing GX and making its context, once per process: part of parse_store_s
            "gx_startup_s": round(gx_engine().startup_s, 2),
            "records_per_s": round(n / (done - started)),
            "cpu_s": round(cpu.ru_utime + cpu.ru_stime, 2),
            "records_per_cpu_s": round(n / (cpu.ru_utime + cpu.ru_stime)),
            "peak_rss_mb": round(_peak_kb() / 1024)}


def _peak_kb() -> int:
    """This process's peak RSS since it started its program (VmHWM; ``ru_maxrss`` would
    also count what the parent held when it forked the child)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(fmt: str, n: int) -> dict:
    """Generate the feed, serve it from a child process, run ``end_to_end`` in another."""
    from bench.run import FeedServerProcess

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "feed").write_bytes(GENERATORS[fmt](n))
        (folder / "manifest.json").write_text(json.dumps(
            [{"path": "/feed", "file": str(folder / "feed"), "content_type": "application/octet-stream"}]))
        server = FeedServerProcess(folder)
        try:
            proc = subprocess.run([sys.executable, __file__, "--child", fmt, str(n),
                                   f"{server.base_url}/feed"], capture_output=True, text=True)
        finally:
            server.stop()
    if proc.returncode != 0:
        return {"format": fmt, "records": n, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--formats", default="ba-jobsuche,openimmo,csv-courses")
    parser.add_argument("--child", nargs=3, metavar=("FORMAT", "N", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(end_to_end(args.child[0], int(args.child[1]), args.child[2])))
        return
    formats = args.formats.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    report = {"machine": machine(), "parse": [parse_only(f, min(sizes[0], 50_000)) for f in formats],
              "fetch_parse_store": []}
    for fmt in formats:
        for n in sizes:
            report["fetch_parse_store"].append(measure(fmt, n))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
