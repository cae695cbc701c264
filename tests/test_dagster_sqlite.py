"""The hub's Dagster instance on SQLite: Dagster's event log with its connections kept open
(hub/dagster_sqlite.py), in the files where Dagster's default storage keeps them."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
import yaml

from hub.config import Settings
from hub.dagster_sqlite import OPEN_RUNS, PooledSqliteEventLogStorage
from hub.runner import ensure_dagster_home

ROOT = Path(__file__).resolve().parents[1]


@dg.asset
def numbers(context) -> int:
    context.log.info("counting")
    return 3


@dg.asset_check(asset=numbers)
def numbers_are_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"checked": 1})


def test_runs_on_the_hub_instance_keep_every_event_and_few_open_files(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    ensure_dagster_home(Settings(home=tmp_path, database_url="sqlite://", registry_path=tmp_path / "r.yaml"))
    runs = OPEN_RUNS + 3
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        for _ in range(runs):
            result = dg.materialize([numbers, numbers_are_positive], instance=instance)
            assert result.success
        assert len(storage._engines) <= OPEN_RUNS + 1  # the index and the runs used last
        run_ids = [run.run_id for run in instance.get_runs()]
        # commits do not wait for the disk, which WAL makes safe (1: NORMAL; 2: FULL), in
        # every database of the instance: a run's events, the index, the runs, the schedules
        for connection in (storage.run_connection(run_ids[0]), storage.index_connection(),
                           instance.run_storage.connect(), instance.schedule_storage.connect()):
            with connection as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    # another process (the webserver, a later hub command) reads all of it from the files
    with dg.DagsterInstance.get() as instance:
        assert len(run_ids) == runs
        for run_id in run_ids:
            types = {e.dagster_event_type for e in instance.all_logs(run_id) if e.is_dagster_event}
            assert {dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.ASSET_MATERIALIZATION,
                    dg.DagsterEventType.ASSET_CHECK_EVALUATION} <= types
            assert any(e.user_message == "counting" for e in instance.all_logs(run_id))
        materializations = instance.fetch_materializations(dg.AssetKey("numbers"), limit=100)
        assert len(materializations.records) == runs
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("numbers"), "numbers_are_positive")])
        assert len(check) == 1
    # where Dagster's default SQLite storage keeps them: an older hub home reads the same way
    assert {p.stem for p in (home / "history" / "runs").glob("*.db")} == {*run_ids, "index"}
    assert (home / "history" / "runs.db").is_file()


def test_the_project_instance_file_names_the_pooled_event_log_under_hub(tmp_path):
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert config["event_log_storage"]["class"] == "PooledSqliteEventLogStorage"
    bases = {key: config[key]["config"]["base_dir"]
             for key in ("run_storage", "event_log_storage", "schedule_storage")}
    # the layout of Dagster's `storage: sqlite: base_dir: .hub/dagster/storage`
    assert bases == {"run_storage": ".hub/dagster/storage/history",
                     "event_log_storage": ".hub/dagster/storage/history/runs",
                     "schedule_storage": ".hub/dagster/storage/schedules"}


def _schema(path: Path) -> tuple[set, list]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        tables = set(conn.execute("SELECT type, name, sql FROM sqlite_master"))
        stamp = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        mode = conn.execute("PRAGMA journal_mode").fetchone()
    return tables, [*stamp, mode]


def test_a_run_database_is_made_as_dagster_makes_it(tmp_path):
    """The pooled storage makes a run's database with the revision scripts read once; the
    file must be the one Dagster's own storage makes (tables, indexes, stamp, WAL), and one
    Dagster made is taken as it is."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    ours = PooledSqliteEventLogStorage(str(tmp_path / "ours"))
    theirs = SqliteEventLogStorage(str(tmp_path / "theirs"))
    for storage in (ours, theirs):
        with storage.run_connection("run-1") as conn:
            conn.exec_driver_sql("SELECT 1")
    made = _schema(tmp_path / "ours" / "run-1.db")
    assert made == _schema(tmp_path / "theirs" / "run-1.db")
    assert made[1][0][0] and made[1][-1] == ("wal",)
    # a database Dagster made: read as it is, not made again
    with PooledSqliteEventLogStorage(str(tmp_path / "theirs")).run_connection("run-1") as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM event_logs").scalar() == 0
    assert _schema(tmp_path / "theirs" / "run-1.db") == made
    ours.dispose()
    theirs.dispose()


def test_the_instance_the_hub_command_writes_has_the_projects_run_limits(tmp_path, monkeypatch):
    """dagster dev on the instance of a hub home outside the repository (hub demo elsewhere)
    queues runs as the project's dagster.yaml says (README, Runs and retries)."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)  # not the repository, whose own dagster.yaml would be used
    home = ensure_dagster_home(Settings(home=tmp_path, database_url="sqlite://", registry_path=tmp_path / "r.yaml"))
    assert home == tmp_path / "dagster"
    written = yaml.safe_load((home / "dagster.yaml").read_text())
    project = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    for key in ("concurrency", "run_monitoring", "run_retries"):
        assert written[key] == project[key], key
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_retries_enabled and instance.run_monitoring_enabled


def test_relative_storage_is_read_from_dagster_home_with_a_tilde_expanded(monkeypatch):
    from hub.dagster_sqlite import under_home

    monkeypatch.setenv("HOME", "/home/steward")
    monkeypatch.setenv("DAGSTER_HOME", "~/hub")
    assert under_home({"base_dir": ".hub/dagster/storage"}) == {
        "base_dir": "/home/steward/hub/.hub/dagster/storage"}
    assert under_home({"base_dir": "/srv/dagster"}) == {"base_dir": "/srv/dagster"}


def test_what_a_sensor_logs_at_a_tick_is_kept_for_the_ui_and_steps_streams_are_not(
        tmp_path, monkeypatch, httpserver):
    """The steward opens a feed_changes tick in the UI to see which feed the probe could not
    reach: the UI reads a tick's logs from the instance's compute log manager, which on the
    project's instance file kept nothing (NoOpComputeLogManager). Now they are there; a tick
    that logs nothing leaves no file, and a run's steps still have no stdout/stderr files."""
    import shutil

    import sqlalchemy as sa
    from dagster._core.definitions.instigation_logger import get_instigation_log_records
    from dagster._core.log_manager import LOG_RECORD_METADATA_ATTR

    from hub.pipeline import fetch_partner_feed
    from hub.registry import parse_registry
    from hub.resources import FeedClient, HubStore
    from hub.sensors import feed_change_sensor, inbox_sensor
    from tests.feeds import Feed, ba_v6, posting, registry_text
    from tests.test_sensors import free_port

    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    feed = Feed(httpserver, "/jc.json", ba_v6([posting(1)]))
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    store = HubStore(database_url=f"sqlite:///{tmp_path / 'hub.db'}", home=str(tmp_path / "home"),
                     registry_path=str(registry))
    client = FeedClient(max_retries=0, deadline=5)
    fetch_partner_feed(store.engine(), store.landing(), client.fetcher(),
                       parse_registry(registry.read_text()).get("jobcenter-nk"), "jobs")
    gone = f"http://127.0.0.1:{free_port()}/jc.json"  # the partner's server is gone
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", gone)))
    with store.engine().begin() as conn:
        conn.execute(sa.text("UPDATE fetch_state SET source = :s"), {"s": gone})
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])

        def tick(sensor, number: int):
            key = ["__repository__", sensor.name, str(number)]  # as the daemon names a tick
            with dg.SensorEvaluationContext(
                    instance_ref=instance.get_ref(), instance=instance, log_key=key,
                    repository_name="__repository__", sensor_name=sensor.name,
                    resources={"hub_store": store, "feed_client": client}) as context:
                result = sensor(context)
            # what the UI shows under the tick (dagster_graphql's get_tick_log_events)
            return result, [(r["levelname"], r[LOG_RECORD_METADATA_ATTR]["orig_message"])
                            for r in get_instigation_log_records(instance, key)]

        probed, logged = tick(feed_change_sensor, 7)
        assert "1 not reachable" in probed.skip_message
        assert logged == [("WARNING", f"jobcenter-nk/jobs: not reachable for a probe: {gone}: "
                                      "connection failed (ConnectionError)")]
        quiet, logged = tick(inbox_sensor, 8)
        assert quiet.skip_message == "no file waiting in any inbox" and logged == []

        assert dg.materialize([numbers], instance=instance).success
    logs = home / ".hub" / "dagster" / "logs"
    kept = sorted(p.relative_to(logs).as_posix() for p in logs.rglob("*") if p.is_file())
    assert kept == ["__repository__/feed_changes/7.err"]

    # a tick's log goes after KEEP_DAYS (Dagster's purge of old ticks leaves the files)
    from hub.dagster_sqlite import TickLogManager

    with dg.DagsterInstance.get() as instance:
        manager = instance.compute_log_manager
        assert isinstance(manager, TickLogManager)
        old = logs / "__repository__" / "feed_changes" / "7.err"
        month = time.time() - (TickLogManager.KEEP_DAYS + 1) * 86400
        os.utime(old, (month, month))
        tick(feed_change_sensor, 9)  # a new log: the first of the process prunes
        assert not old.exists() and (logs / "__repository__" / "feed_changes" / "9.err").is_file()


# the dagster.yaml the hub command of the first releases wrote into a hub home (runner.py,
# 2026-11-26), and the one of 2026-11-27 (no compute logs), both with Dagster's default storage
FIRST_RELEASE_INSTANCE = """# Dagster instance of the hub (written by the hub command)
telemetry:
  enabled: false
"""
NOVEMBER_27_INSTANCE = FIRST_RELEASE_INSTANCE + """# the steps log through Dagster's event log; capturing their stdout costs two processes a step
compute_logs:
  module: dagster._core.storage.noop_compute_log_manager
  class: NoOpComputeLogManager
"""


def test_an_upgraded_hub_home_gets_this_releases_instance_and_keeps_its_runs(tmp_path, monkeypatch, capsys):
    """A hub home synced for weeks by an older release kept the dagster.yaml that release
    wrote: no run limits, no run monitoring, Dagster's slower storage. The hub command rewrites
    such a file (unedited) and the runs stay readable; a file someone edited is left alone."""
    from hub.runner import HUB_INSTANCES, MINIMAL_INSTANCE, instance_digest

    assert instance_digest(MINIMAL_INSTANCE) == HUB_INSTANCES[-1]  # a changed template: add it
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(home=tmp_path, database_url="sqlite://", registry_path=tmp_path / "r.yaml")
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(FIRST_RELEASE_INSTANCE)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as old:  # the runs of the old release
        assert not old.run_monitoring_enabled
        assert dg.materialize([numbers], instance=old).success
    monkeypatch.delenv("DAGSTER_HOME")
    capsys.readouterr()
    assert ensure_dagster_home(settings) == home
    assert "written by an older release of the hub; rewrote it" in capsys.readouterr().err
    project = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert yaml.safe_load((home / "dagster.yaml").read_text())["concurrency"] == project["concurrency"]
    with dg.DagsterInstance.get() as instance:
        assert instance.run_monitoring_enabled and instance.run_retries_enabled
        assert len(instance.get_runs()) == 1
        assert instance.fetch_materializations(dg.AssetKey("numbers"), limit=10).records
    ensure_dagster_home(settings)  # this release's file: written once
    assert "rewrote" not in capsys.readouterr().err

    edited = NOVEMBER_27_INSTANCE.replace("enabled: false", "enabled: true")
    for text, kept in ((NOVEMBER_27_INSTANCE, False), (edited, True)):
        (home / "dagster.yaml").write_text(text)
        ensure_dagster_home(settings)
        assert ((home / "dagster.yaml").read_text() == text) is kept
