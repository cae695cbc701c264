"""Publication alone, printed as JSON: one domain of a scale, resolved and published in full
into an empty directory (the biggest single step of a national run).

  .venv/bin/python bench/publish.py [--scale national] [--domain jobs] [--keep DIR]

The domain's feeds of that scale (``bench/run.py``'s plan and generators) are written as
files, fetched and staged into an SQLite file without Dagster (``hub.pipeline``); that staged
file is kept in DIR (``--keep``; default: a temporary folder) and reused by the next run with
the same DIR, scale and domain. Each run copies it and publishes the copy in a child process
of its own, so that the figures are the publication's alone: wall seconds, user and system
CPU seconds, peak RSS (VmHWM), entries written.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import machine  # noqa: E402


def stage(scale: str, domain: str, folder: Path, database: Path) -> dict:
    """Write, fetch and stage the domain's feeds of ``scale`` into ``database``."""
    from bench import run
    from hub.fetch import FeedFetcher, FetchPolicy
    from hub.pipeline import fetch_partner_feed, stage_partner_feed
    from hub.registry import parse_registry
    from hub.store.db import make_engine, migrate
    from hub.store.landing import LandingStore

    feeds = [feed for feed in run.plan(scale) if feed.domain == domain]
    run.write_feeds(feeds, run.places(scale), folder / "feeds", 0)
    registry = parse_registry(run.registry_text(feeds, (folder / "feeds").as_uri(), None))
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    store = LandingStore(folder / "landing")
    fetcher = FeedFetcher(FetchPolicy(max_bytes=4 << 30, deadline=1800))
    started = time.perf_counter()
    for partner in registry.partners:
        fetch_partner_feed(engine, store, fetcher, partner, domain)
        stage_partner_feed(engine, store, partner, domain)
    engine.dispose()
    shutil.rmtree(folder / "feeds")
    shutil.rmtree(folder / "landing")
    return {"feeds": len(feeds), "records": sum(feed.count for feed in feeds),
            "seconds": round(time.perf_counter() - started, 1)}


def publish_child(database: str, domain: str) -> dict:
    """In a child process: publish ``domain`` of ``database`` and measure it."""
    from hub.store.db import make_engine
    from hub.store.publish import publish_domain

    engine = make_engine(f"sqlite:///{database}")
    started = time.perf_counter()
    outcome = publish_domain(engine, domain)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    return {"seconds": round(seconds, 1), "cpu_user_s": round(usage.ru_utime, 1),
            "cpu_sys_s": round(usage.ru_stime, 1), "peak_rss_mb": round(peak_kb / 1024),
            "records": outcome.records, "entries": outcome.entries, "added": outcome.added,
            "mode": outcome.mode}


def main() -> None:
    from bench.run import SCALES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="national")
    parser.add_argument("--domain", choices=["jobs", "courses", "housing"], default="jobs")
    parser.add_argument("--keep", metavar="DIR", help="keep the staged database here and reuse it")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(publish_child(*args.child)))
        return
    with tempfile.TemporaryDirectory(prefix="hub-bench-publish-") as tmp:
        keep = Path(args.keep) if args.keep else Path(tmp)
        keep.mkdir(parents=True, exist_ok=True)
        staged = keep / f"staged-{args.scale}-{args.domain}.db"
        report: dict = {"machine": machine(), "scale": args.scale, "domain": args.domain, "staged": None}
        if not staged.exists():
            partial = staged.with_suffix(".partial")
            report["staged"] = stage(args.scale, args.domain, keep, partial)
            partial.rename(staged)  # only a whole staging is reused
        work = Path(tmp) / "publish.db"
        shutil.copy(staged, work)
        proc = subprocess.run([sys.executable, __file__, "--child", str(work), args.domain],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"bench/publish.py: the publication failed: {proc.stderr.strip()[-2000:]}")
        report["publish"] = json.loads(proc.stdout)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
