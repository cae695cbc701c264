"""Dagster's cost per run on the hub's SQLite instance, printed as JSON.

  .venv/bin/python bench/dagster_runs.py [--runs 30] [--rounds 2]

Every partner feed is a Dagster run of its own, so what Dagster spends on a run (creating it,
its event database, storing its events) is paid once per feed: 500 times at national scale,
and it is the floor under an incremental sync (``bench/run.py --incremental``). This measures
it on a trivial asset (one step, one check), materialized ``--runs`` times on a fresh instance
written by ``hub.runner.ensure_dagster_home`` (the hub's ``PooledSqliteEventLogStorage``),
and, for comparison, with the storage making each run's database Dagster's own way (its
revision scripts read twice per run). Each variant runs in a child process of its own,
``--rounds`` times alternately; the figures are milliseconds per run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402


@dg.asset
def numbers() -> int:
    return 3


@dg.asset_check(asset=numbers)
def numbers_are_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def child(variant: str, runs: int) -> float:
    """Milliseconds per run of ``runs`` materializations (after one to warm up)."""
    import hub.dagster_sqlite as pooled
    from hub.config import Settings
    from hub.runner import ensure_dagster_home

    if variant == "dagster_init":
        pooled._init_run_database = lambda engine: False  # every run database Dagster's way
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DAGSTER_HOME"] = str(Path(tmp) / "dagster")
        ensure_dagster_home(Settings(home=Path(tmp), database_url="sqlite://",
                                     registry_path=Path(tmp) / "registry.yaml"))
        with dg.DagsterInstance.get() as instance:
            dg.materialize([numbers, numbers_are_positive], instance=instance)
            started = time.perf_counter()
            for _ in range(runs):
                dg.materialize([numbers, numbers_are_positive], instance=instance)
            return (time.perf_counter() - started) / runs * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.runs)))
        return
    figures: dict[str, list[float]] = {"hub": [], "dagster_init": []}
    for _ in range(args.rounds):
        for variant in figures:
            out = subprocess.run([sys.executable, __file__, "--child", variant, "--runs", str(args.runs)],
                                 capture_output=True, text=True, check=True)
            figures[variant].append(round(json.loads(out.stdout.splitlines()[-1])))
    print(json.dumps({"machine": machine(), "runs": args.runs, "ms_per_run": figures,
                      "saved_ms_per_run": round(min(figures["dagster_init"]) - min(figures["hub"]))}))


if __name__ == "__main__":
    main()
