"""Connector benchmarks, printed as JSON.

  .venv/bin/python bench/connectors.py [--sizes 10000,100000] [--formats ba-jobsuche,openimmo]

For each format: parse throughput (records/s, MB/s) on an in-memory feed, and the whole
fetch + parse + store path over loopback into a fresh SQLite database, each size in a child
process of its own so that its peak memory (max RSS) is its own.
Targets (issue 3): >= 20,000 records/s per core through fetch, parse and store for BA JSON and
OpenImmo XML; peak memory under 500 MB for a 1M-record feed, flat as the feed grows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.feedgen import DOMAINS, GENERATORS  # noqa: E402


def parse_only(fmt: str, n: int) -> dict:
    from hub.formats import get_format

    body = GENERATORS[fmt](n)
    started = time.perf_counter()
    result = get_format(fmt).parse(body, "bench")
    seconds = time.perf_counter() - started
    return {"format": fmt, "records": n, "accepted": len(result.records), "mb": round(len(body) / 1e6, 1), "seconds": round(seconds, 2),
            "records_per_s": round(n / seconds), "mb_per_s": round(len(body) / 1e6 / seconds, 1)}


def end_to_end(fmt: str, n: int) -> dict:
    """Runs in a child process: serve the feed on loopback, fetch, parse, store."""
    from hub.demo.server import FeedServer
    from hub.fetch import FeedFetcher
    from hub.pipeline import fetch_partner_feed, stage_partner_feed
    from hub.registry import parse_registry
    from hub.store.db import make_engine, migrate
    from hub.store.landing import LandingStore

    body = GENERATORS[fmt](n)
    with tempfile.TemporaryDirectory() as tmp, FeedServer() as server:
        server.set_feed("/feed", body, "application/octet-stream")
        registry = parse_registry(
            f"partners:\n  - id: bench\n    name: Bench\n    allow_private_network: true\n"
            f"    feeds:\n      - format: {fmt}\n        source: {server.base_url}/feed\n")
        engine = make_engine(f"sqlite:///{tmp}/hub.db")
        migrate(engine)
        store = LandingStore(Path(tmp) / "landing")
        partner, domain = registry.partners[0], DOMAINS[fmt]
        del body
        started = time.perf_counter()
        fetch_partner_feed(engine, store, FeedFetcher(), partner, domain)
        fetched = time.perf_counter()
        outcome = stage_partner_feed(engine, store, partner, domain)
        done = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return {"format": fmt, "records": n, "accepted": outcome.counts.accepted,
            "fetch_s": round(fetched - started, 2), "parse_store_s": round(done - fetched, 2),
            "records_per_s": round(n / (done - started)),
            "cpu_s": round(cpu.ru_utime + cpu.ru_stime, 2),
            "peak_rss_mb": round(cpu.ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--formats", default="ba-jobsuche,openimmo,csv-courses")
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(end_to_end(args.child[0], int(args.child[1]))))
        return
    formats = args.formats.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    report = {"cores": os.cpu_count(), "parse": [parse_only(f, min(sizes[0], 50_000)) for f in formats],
              "fetch_parse_store": []}
    for fmt in formats:
        for n in sizes:
            proc = subprocess.run([sys.executable, __file__, "--child", fmt, str(n)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                report["fetch_parse_store"].append({"format": fmt, "records": n,
                                                    "error": proc.stderr.strip().splitlines()[-1:]})
                continue
            report["fetch_parse_store"].append(json.loads(proc.stdout))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
