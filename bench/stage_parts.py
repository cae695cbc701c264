"""Where staging spends its time, per record, printed as JSON (issue 3's throughput target).

  .venv/bin/python bench/stage_parts.py [--format ba-jobsuche] [--records 100000]
                                        [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]

A generated feed of the format (``bench/feedgen.py``) is written to a file, fetched from it
(``file://``) into a fresh database's landing store (an SQLite file, or with ``--database`` a
throw-away schema on that PostgreSQL server, as ``bench/run.py`` makes it) and staged once
(``hub.pipeline.stage_partner_feed``: parse, checks, the delivery's rows, the merge into
``source_records``), in this process, with Great Expectations imported before the clock starts.
Each part's CPU time (``time.process_time``: the machine's other load counts less than in wall
time) is summed over the whole delivery and reported in seconds, as a share of the staging's
CPU time and in microseconds per record. Parts nest: ``checks`` holds ``checks.frame`` (the
records as a DataFrame) and ``checks.suite`` (the expectations); ``writer.add`` holds
``writer.add.insert`` (the rows of the temporary delivery table). Compare runs on one machine
one after the other: this machine's speed drifts (``python_loop_10m_s`` in ``machine``).
Each part's wall time is reported beside (``wall_s``): on PostgreSQL much of staging is
waiting for the server, which CPU time does not see.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.feedgen import DOMAINS, GENERATORS  # noqa: E402
from bench.machine import machine  # noqa: E402
from bench.run import DEFAULT_PG, _drop_schema, _postgres_schema  # noqa: E402


@contextmanager
def _timing(spent: collections.Counter, waited: collections.Counter):
    """The staging's parts wrapped with counters of CPU time into ``spent`` and of wall time
    into ``waited``; unwrapped after."""
    import gc

    import hub.pipeline as pipeline
    import hub.quality.suites as suites
    import hub.store.staging as staging

    wrapped = []

    def wrap(owner, name: str, part: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started, wall = time.process_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[part] += time.process_time() - started
                waited[part] += time.perf_counter() - wall

        setattr(owner, name, timed)
        wrapped.append((owner, name, original))

    wrap(pipeline, "check_records", "checks")
    wrap(suites, "records_frame", "checks.frame")
    wrap(suites, "run_suite", "checks.suite")
    wrap(staging.StageWriter, "new_ids", "writer.new_ids")
    wrap(staging.StageWriter, "add", "writer.add")
    wrap(staging, "insert_tuples", "writer.add.insert")
    wrap(staging.StageWriter, "apply", "writer.apply")
    wrap(pipeline.FieldCoverage, "add", "coverage")
    wrap(gc, "collect", "gc")

    chunks = pipeline.parse_chunks

    def parse_chunks(*args, **kwargs):
        parts = chunks(*args, **kwargs)
        while True:
            started, wall = time.process_time(), time.perf_counter()
            try:
                part = next(parts)
            except StopIteration:
                return
            finally:
                spent["parse"] += time.process_time() - started
                waited["parse"] += time.perf_counter() - wall
            yield part

    pipeline.parse_chunks = parse_chunks
    wrapped.append((pipeline, "parse_chunks", chunks))
    try:
        yield
    finally:
        for owner, name, original in reversed(wrapped):
            setattr(owner, name, original)


def measure(fmt: str, records: int, database: str | None = None) -> dict:
    from hub.fetch import FeedFetcher, FetchPolicy
    from hub.pipeline import fetch_partner_feed, stage_partner_feed
    from hub.quality.suites import gx_engine
    from hub.registry import parse_registry
    from hub.store.db import make_engine, migrate
    from hub.store.landing import LandingStore

    gx_engine()  # imported once per process: not a per-record cost
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed"
        feed.write_bytes(GENERATORS[fmt](records))
        registry = parse_registry(f"partners:\n  - id: bench\n    name: Bench\n    feeds:\n"
                                  f"      - format: {fmt}\n        source: file://{feed}\n")
        schema, url = _postgres_schema(database) if database else (None, f"sqlite:///{tmp}/hub.db")
        try:
            engine = make_engine(url)
            migrate(engine)
            store = LandingStore(Path(tmp) / "landing")
            partner, domain = registry.partners[0], DOMAINS[fmt]
            fetch_partner_feed(engine, store, FeedFetcher(FetchPolicy(max_bytes=4 << 30)), partner, domain)
            spent: collections.Counter = collections.Counter()
            waited: collections.Counter = collections.Counter()
            with _timing(spent, waited):
                started, wall = time.process_time(), time.perf_counter()
                outcome = stage_partner_feed(engine, store, partner, domain)
                cpu, wall = time.process_time() - started, time.perf_counter() - wall
            engine.dispose()
        finally:
            if schema:
                _drop_schema(database, schema)
    return {
        "machine": machine(), "format": fmt, "records": records,
        "database": "postgresql" if database else "sqlite",
        "accepted": outcome.counts.accepted, "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
        "records_per_cpu_s": round(records / cpu),
        "parts": {part: {"cpu_s": round(seconds, 2), "share": round(seconds / cpu, 3),
                         "us_per_record": round(seconds / records * 1e6, 1),
                         "wall_s": round(waited[part], 2)}
                  for part, seconds in sorted(spent.items(), key=lambda item: -item[1])},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="ba-jobsuche", choices=sorted(GENERATORS))
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database", nargs="?", const=DEFAULT_PG, default=None,
                        help=f"PostgreSQL URL (a schema is made and dropped); without value: {DEFAULT_PG}")
    args = parser.parse_args()
    print(json.dumps(measure(args.format, args.records, args.database), indent=2))


if __name__ == "__main__":
    main()
