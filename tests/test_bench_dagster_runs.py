"""Smoke test of the per-run benchmark: ``bench/dagster_runs.py`` materializes a trivial
asset on the hub's instance and on Dagster's own way of making a run's database, and reports
milliseconds per run for each (the figures themselves are the harness's, not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_dagster_runs_reports_both_variants():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "dagster_runs.py"), "--runs", "2",
                           "--rounds", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["runs"] == 2
    assert set(report["ms_per_run"]) == {"hub", "dagster_init"}
    assert all(len(v) == 1 and v[0] > 0 for v in report["ms_per_run"].values())
    assert isinstance(report["saved_ms_per_run"], int)
