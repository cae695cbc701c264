"""Smoke test of ``bench/stage_parts.py``: a small feed staged, each part's CPU time reported,
the parts adding up to no more than the staging's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = ("parse", "checks", "writer.new_ids", "writer.add", "writer.apply", "coverage", "gc")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bench_stage_parts_reports_where_staging_spends_its_time(database):
    """On SQLite, and on PostgreSQL (--database: a schema made and dropped), where much of
    staging is waiting for the server: each part's wall time beside its CPU time."""
    from tests.db import PG_URL, admin_engine

    where = []
    if database == "postgresql":
        admin_engine("SELECT 1").dispose()  # skipped where no server answers (fails under CI)
        where = ["--database", PG_URL]
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "stage_parts.py"),
                           "--format", "ba-jobsuche", "--records", "3000", *where],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["records"] == report["accepted"] == 3000 and report["database"] == database
    assert all(part["wall_s"] >= 0 for part in report["parts"].values())
    parts = report["parts"]
    assert set(TOP) - {"gc"} <= set(parts)  # every part ran (gc: when a chunk was collected)
    assert all(parts[p]["cpu_s"] >= 0 and 0 <= parts[p]["share"] <= 1 for p in parts)
    # the top-level parts do not overlap: together at most the staging's CPU (rounding aside)
    assert sum(parts[p]["cpu_s"] for p in TOP if p in parts) <= report["cpu_s"] + 0.05
    assert parts["checks.frame"]["cpu_s"] <= parts["checks"]["cpu_s"] + 0.01
    assert parts["parse"]["us_per_record"] > 0 and report["records_per_cpu_s"] > 0
