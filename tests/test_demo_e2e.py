"""`hub demo` end to end, as a newcomer runs it: on the embedded SQLite default and on
PostgreSQL, publishing all three domains; a second run on unchanged feeds changes nothing;
the runs land in the Dagster instance."""

from __future__ import annotations

import json

import dagster as dg
import sqlalchemy as sa

from hub.demo import feeds as demo_feeds
from tests.test_cli import hub


def test_demo_publishes_all_domains_and_a_rerun_changes_nothing(db_url, tmp_path):
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": db_url,
           "DAGSTER_HOME": str(tmp_path / "dagster"), "HUB_REGISTRY": ""}
    # the demo's dates are relative to its day, and the pipeline's date rules use the real
    # day: both today, so that the planted defects (and only they) are found on any day
    today = __import__("datetime").date.today()
    first = hub("demo", "--json", "--today", today.isoformat(), env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    summary = json.loads(first.stdout)
    data = demo_feeds.generate(today=today, seed=2026)
    planted = data.duplicates
    feeds = {(f["partner_id"], f["domain"]): f for f in summary["partners"]}
    assert len(feeds) == len(data.feeds)
    assert all(f["status"] == "ok" and not f["unchanged"] for f in feeds.values())

    # every planted defect is rejected in its partner's feed, nothing else is
    for broken in data.broken:
        partner = next(f for f in summary["partners"] if f["partner_id"] == broken.partner_id)
        assert partner["rejected"] >= 1
    assert summary["rejected"] == len(data.broken)

    # ... and shows up in the partner's feedback report, with its rule and field
    for broken in data.broken:
        domain = next(f.domain for f in data.feeds if f.partner_id == broken.partner_id)
        report = json.loads((tmp_path / "home" / "feedback" / broken.partner_id / domain / "report.json").read_text())
        assert any(p["rule"] == broken.rule and p["field"] == broken.field
                   and (broken.source_id is None or p["source_id"] == broken.source_id)
                   for p in report["problems"]), (broken, report["problems"])

    # the directory holds each real offer once
    for domain in ("jobs", "courses", "housing"):
        accepted = sum(f["accepted"] for f in summary["partners"] if f["domain"] == domain)
        assert summary["published"][domain] == accepted - planted[domain] > 0

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        seq = conn.execute(sa.text("SELECT max(seq) FROM changes")).scalar_one()
    second = hub("demo", "--json", "--today", today.isoformat(), env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    again = json.loads(second.stdout)
    assert again["published"] == summary["published"]
    # every feed says it was unchanged, with the counts of its delivery
    assert [(f["partner_id"], f["status"], f["unchanged"], f["fetched"], f["rejected"])
            for f in again["partners"]] == \
        [(f["partner_id"], "ok", True, f["fetched"], f["rejected"]) for f in summary["partners"]]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT max(seq) FROM changes")).scalar_one() == seq
        last = conn.execute(sa.text("SELECT added, updated, deleted FROM publications "
                                    "ORDER BY id DESC LIMIT 3")).all()
    engine.dispose()
    assert all(tuple(row) == (0, 0, 0) for row in last)

    # the runs are in the Dagster instance that `dagster dev` shows
    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        runs = instance.get_runs()
        jobs = {run.job_name for run in runs}
        assert {"sync_jobs", "sync_courses", "sync_housing", "publish_directory"} <= jobs
        assert len(runs) == 2 * (len(data.feeds) + 1)
        assert set(instance.get_dynamic_partitions("housing_feeds")) == {
            f.partner_id for f in data.feeds if f.domain == "housing"}


def test_the_demo_names_a_dagster_command_that_works_from_any_folder(tmp_path):
    """Run outside the repository (no .venv, no workspace.yaml there), the demo prints the
    UI's command with its hub home and Dagster instance as absolute paths and the module."""
    import shlex
    import sys
    from pathlib import Path

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    import os
    import subprocess

    from tests.test_cli import HUB

    unset = {k: v for k, v in os.environ.items()
             if k not in ("HUB_HOME", "DAGSTER_HOME", "HUB_REGISTRY", "HUB_DATABASE_URL")}
    proc = subprocess.run([HUB, "demo"], capture_output=True, text=True, timeout=300,
                          cwd=elsewhere, env=unset)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("Dagster UI: "))
    words = shlex.split(line.removeprefix("Dagster UI: "))
    assert words[:3] == ["cd", str(elsewhere.resolve()), "&&"]
    assert words[3] == f"HUB_HOME={elsewhere.resolve() / '.hub'}"
    assert words[4] == f"DAGSTER_HOME={elsewhere.resolve() / '.hub' / 'dagster'}"
    assert Path(words[5]) == Path(sys.executable).parent / "dagster" and Path(words[5]).is_file()
    assert words[6:] == ["dev", "-m", "hub.definitions"]


def test_a_demo_of_feeds_from_months_ago_holds_them_and_says_so_by_its_exit_code(tmp_path):
    """The feeds of a day four months back, checked against the real day: the Jobcenter's
    postings have mostly expired, so its sync is held for its rejection share. The demo
    printed that and exited 0; a script that runs the demo to see that the hub works read it
    as success. Now 1, as hub sync."""
    import datetime as dt

    day = dt.date.today() - dt.timedelta(days=120)
    proc = hub("demo", "--json", "--today", day.isoformat(),
               env={"HUB_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "d"), "HUB_REGISTRY": ""})
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    summary = json.loads(proc.stdout)
    held = [f["partner_id"] for f in summary["partners"] if f["status"] == "held"]
    assert "jobcenter-nk" in held and summary["published"]["housing"] > 0  # the rest went through


def test_demo_refuses_to_overwrite_a_real_registry(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "registry.yaml").write_text("partners: []\n")
    proc = hub("demo", env={"HUB_HOME": str(home), "DAGSTER_HOME": str(tmp_path / "d"), "HUB_REGISTRY": ""})
    assert proc.returncode == 2
    assert "is a real registry" in proc.stderr and "Traceback" not in proc.stderr
    assert (home / "registry.yaml").read_text() == "partners: []\n"


def test_demo_where_its_registry_file_is_a_folder_is_one_line(tmp_path):
    """'internal error: IsADirectoryError: [Errno 21] Is a directory: .../registry.yaml',
    exit 70, before anything was generated."""
    from tests.test_cli import assert_one_line_error

    home = tmp_path / "home"
    (home / "registry.yaml").mkdir(parents=True)
    proc = hub("demo", env={"HUB_HOME": str(home), "DAGSTER_HOME": str(tmp_path / "d"), "HUB_REGISTRY": ""})
    assert_one_line_error(proc, f"{home / 'registry.yaml'} is a folder where the demo writes its "
                                "registry file; run the demo with another HUB_HOME (or HUB_REGISTRY "
                                "naming a file)")
    assert list((home / "registry.yaml").iterdir()) == []


def test_ctrl_c_stops_the_sync_with_one_line(tmp_path):
    """Ctrl-C in a terminal reaches the hub command and Dagster's helpers alike: the sync stops
    after the run it interrupts, publishes nothing, prints no traceback and exits 130."""
    import os

    from tests.test_cli import hub_interrupted

    env = {**os.environ, "HUB_HOME": str(tmp_path / "home")}
    env.pop("DAGSTER_HOME", None)
    env.pop("HUB_DATABASE_URL", None)
    returncode, stderr = hub_interrupted("demo", env=env, cwd=tmp_path)
    assert returncode == 130, stderr
    assert stderr.rstrip().endswith("hub demo: interrupted"), stderr
    assert "Traceback" not in stderr and "publishing" not in stderr, stderr


def test_demo_refuses_to_overwrite_its_registry_once_a_steward_edited_it(tmp_path):
    """A steward who starts from the demo's registry keeps its first line: the checksum in it
    tells the demo that the file is no longer what it wrote."""
    from hub.cli import _demo_checksum

    home = tmp_path / "home"
    home.mkdir()
    body = "partners: []\n"
    head = f"# generated by hub demo on 2026-11-29; feeds served on loopback while it runs (content {_demo_checksum(body)}: the demo replaces this file only unedited)\n"
    edited = head + body + "# my own partners follow\n"
    (home / "registry.yaml").write_text(edited)
    proc = hub("demo", env={"HUB_HOME": str(home), "DAGSTER_HOME": str(tmp_path / "d"), "HUB_REGISTRY": ""})
    assert proc.returncode == 2
    assert "was written by hub demo and edited since" in proc.stderr and "Traceback" not in proc.stderr
    assert (home / "registry.yaml").read_text() == edited


def test_demo_refuses_a_database_that_holds_other_partners(db_url, tmp_path):
    """In a shell with production's HUB_DATABASE_URL (and no HUB_REGISTRY), hub demo published
    its made-up offers of Landkreis Neunkirchen into the production directory; a database that
    holds deliveries of partners the demo does not have is now refused before anything is
    fetched, with one line, exit 2."""
    from tests.test_api import database_at
    from tests.test_cli import assert_one_line_error
    from hub.store.db import current_revision
    from hub.store.tables import directory, syncs

    engine = database_at(db_url, "0010")  # production on the release before: not migrated either
    with engine.begin() as conn:
        conn.execute(sa.insert(syncs).values(
            partner_id="jobcenter-echt", domain="jobs", status="ok",
            started_at=__import__("datetime").datetime.now(__import__("datetime").timezone.utc)))
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": db_url,
           "DAGSTER_HOME": str(tmp_path / "dagster"), "HUB_REGISTRY": ""}
    proc = hub("demo", env=env)
    assert_one_line_error(proc, "holds deliveries of partners the demo does not have (jobcenter-echt)",
                          "another HUB_DATABASE_URL")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(directory)).scalar_one() == 0
        assert current_revision(conn) == "0010"
    engine.dispose()
    assert not (tmp_path / "home" / "registry.yaml").exists()
