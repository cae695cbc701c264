"""Smoke test of the publication benchmark: ``bench/publish.py --scale tiny`` stages a
domain's feeds, publishes them in full in a child process and reports the figures; a second
run with the same ``--keep`` folder reuses the staged database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(keep: Path) -> dict:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "publish.py"), "--scale", "tiny",
                           "--domain", "jobs", "--keep", str(keep)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_bench_publish_reports_the_publication_and_reuses_the_staging(tmp_path):
    first = _run(tmp_path)
    assert first["staged"]["records"] == 200 and first["staged"]["feeds"] == 1
    publish = first["publish"]
    assert publish["mode"] == "full" and publish["records"] == 200
    assert 0 < publish["entries"] == publish["added"] <= 200
    assert publish["peak_rss_mb"] > 0 and publish["cpu_user_s"] >= 0
    assert [p.name for p in tmp_path.iterdir()] == ["staged-tiny-jobs.db"]

    again = _run(tmp_path)
    assert again["staged"] is None  # the staged database was reused
    assert again["publish"]["entries"] == publish["entries"]
