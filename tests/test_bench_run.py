"""Smoke test of the whole-pipeline benchmark: ``bench/run.py --scale small --json`` runs every
stage through Dagster on loopback feeds and reports seconds, records and peak memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("generate", "fetch", "stage", "publish", "total")


def test_bench_run_small_reports_every_stage(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("HUB_HOME", "HUB_DATABASE_URL", "HUB_REGISTRY", "DAGSTER_HOME")}
    env["TMPDIR"] = str(tmp_path)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--scale", "small", "--json", "--quiet"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["scale"] == "small"
    # the machine's speed goes with the figures, so that reports of two machines compare
    assert report["machine"]["cores"] == os.cpu_count()
    assert 0 < report["machine"]["python_loop_10m_s"] < 30
    for name in STAGES:
        stage = report["stages"][name]
        assert stage["seconds"] >= 0, name
        assert stage["records"] > 0, name
        assert stage["peak_rss_mb"] and stage["peak_rss_mb"] > 0, name
    assert report["stages"]["fetch"]["records"] == report["stages"]["generate"]["records"]
    publish = report["stages"]["publish"]
    assert publish["ok"] is True
    assert all(publish["directory"][domain] > 0 for domain in ("jobs", "courses", "housing")), publish
    assert not report["stages"]["stage"]["failed_feeds"]
    assert report["peak_rss_mb"]["process"] > 0
    assert list(tmp_path.glob("hub-bench-*")) == []  # the temporary folder is removed
    assert seconds < 60, f"bench/run.py --scale small took {seconds:.0f} s"


def test_bench_run_incremental_reports_the_changed_run_and_the_unchanged_floor(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("HUB_HOME", "HUB_DATABASE_URL", "HUB_REGISTRY", "DAGSTER_HOME")}
    env["TMPDIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--scale", "tiny",
                           "--incremental", "--json", "--quiet", "--workers", "1"],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    inc = json.loads(proc.stdout)["incremental"]
    assert inc["changed_records"] > 0
    assert inc["stages"]["publish"]["ok"] is True
    assert sum(inc["resolved"].values()) > 0  # the changed records were resolved again
    unchanged = inc["unchanged"]
    assert set(unchanged["stages"]) == {"fetch", "stage", "publish"}
    assert unchanged["resolved"] == {"jobs": 0, "courses": 0, "housing": 0}
    assert unchanged["stages"]["fetch"]["steps"] == inc["stages"]["fetch"]["steps"] > 0
    assert 0 < unchanged["share_of_full"] and unchanged["pipeline_s"] > 0
