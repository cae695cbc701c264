"""The Dagster glue: assets materialized with dagster.materialize, the blocking/warning check,
the registry sensor with build_sensor_context, and the code location itself."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import pytest

from hub.assets import ALL_ASSETS, PARTNER_PARTITIONS
from hub.resources import FeedClient, HubStore
from hub.sensors import registry_sensor
from tests.conftest import ROOT
from tests.feeds import Feed, ba_v6, posting, registry_text


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def resources(db_url, tmp_path, registry_path):
    return {
        "hub_store": HubStore(database_url=db_url, home=str(tmp_path / "home"),
                              registry_path=str(registry_path)),
        "feed_client": FeedClient(max_retries=1, deadline=10),
    }


def materialization(result, *key):
    return next(
        e.event_specific_data.materialization
        for e in result.all_events
        if e.is_step_materialization and e.asset_key == dg.AssetKey(list(key))
    )


def test_assets_fetch_stage_and_publish_a_partner(db_url, tmp_path, httpserver, instance):
    postings = [posting(n) for n in range(6)]
    postings[0]["stellenangebotsTitel"] = ""
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])
    res = resources(db_url, tmp_path, registry)
    raw_and_staged = [a for a in ALL_ASSETS if a.key.path[0] in ("raw", "staged") and a.key.path[1] == "jobs"]

    result = dg.materialize(raw_and_staged, partition_key="jobcenter-nk", resources=res, instance=instance)
    assert result.success
    staged = materialization(result, "staged", "jobs").metadata
    assert staged["rows_in"].value == 6
    # the steward reads what the partner reads
    assert staged["feedback_report"].value.endswith("/feedback/jobcenter-nk/jobs/report.html")
    assert staged["accepted"].value == 5
    assert staged["rejected"].value == 1
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert set(checks) == {"records_accepted", "withdrawal_guard", "rejection_share", "feed_volume",
                           "feed_fields", "feed_freshness"}
    check = checks["records_accepted"]
    assert not check.passed and check.metadata["failed"].value == 1
    assert checks["withdrawal_guard"].passed and checks["rejection_share"].passed
    # a guard that passes shows what it measured, not zeros
    share = checks["rejection_share"]
    assert (share.metadata["records"].value, share.metadata["of"].value) == (1, 6)
    assert share.metadata["limit"].value == 0.5 and "1 of 6 records of the delivery rejected" in share.description
    assert "no limit set" in checks["feed_freshness"].description
    assert "RECORD_FIELD_MISSING" in check.metadata["rules"].value
    assert materialization(result, "raw", "jobs").metadata["status"].value == "changed"

    directory = [a for a in ALL_ASSETS if a.key == dg.AssetKey(["directory", "jobs"])]
    published = dg.materialize(directory, resources=res, instance=instance, selection=directory)
    assert materialization(published, "directory", "jobs").metadata["entries"].value == 5
    # the publication's phases are in the run's log, as the UI shows it
    logged = [entry.user_message for entry in instance.all_logs(published.run_id)]
    assert "jobs: 5 records resolved into 5 entities" in logged
    assert "jobs: 5 entries published (5 added, 0 updated, 0 deleted); committing" in logged

    again = dg.materialize(raw_and_staged, partition_key="jobcenter-nk", resources=res, instance=instance)
    assert materialization(again, "raw", "jobs").metadata["status"].value == "unchanged"
    unchanged = materialization(again, "staged", "jobs").metadata
    assert unchanged["status"].value == "unchanged"
    # an unchanged delivery still reports its records and its open problems
    assert (unchanged["accepted"].value, unchanged["rejected"].value) == (5, 1)
    again_checks = {c.check_name: c for c in again.get_asset_check_evaluations()}
    assert not again_checks["records_accepted"].passed
    # the same delivery again: said so, not 'first delivery' or 'last good delivery: none'
    assert again_checks["feed_volume"].description == "The same delivery as the last good one: 6 records."
    assert again_checks["feed_fields"].description == "The same delivery as the last good one: the same fields."


def test_unparsable_feed_fails_the_staging_step_with_the_reason(db_url, tmp_path, httpserver, instance):
    feed = Feed(httpserver, "/jc.json", b"<html>Wartung</html>", content_type="text/html")
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])
    selection = [a for a in ALL_ASSETS if a.key.path[0] in ("raw", "staged") and a.key.path[1] == "jobs"]
    result = dg.materialize(selection, partition_key="jobcenter-nk", instance=instance,
                            resources=resources(db_url, tmp_path, registry), raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert ("the file is a web page (HTML), not JSON"
            in failure.step_failure_data.user_failure_data.description)


def test_registry_sensor_adds_and_removes_partitions(tmp_path, instance):
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", "https://a.example/j"),
                                      ("vhs-nk", "csv-courses", "https://b.example/k.csv")))
    instance.add_dynamic_partitions("jobs_feeds", ["gone-employer"])
    store = HubStore(registry_path=str(registry), home=str(tmp_path))
    result = registry_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store}))
    requests = {(r.partitions_def_name, type(r).__name__): list(r.partition_keys)
                for r in result.dynamic_partitions_requests}
    assert requests == {
        ("jobs_feeds", "AddDynamicPartitionsRequest"): ["jobcenter-nk"],
        ("jobs_feeds", "DeleteDynamicPartitionsRequest"): ["gone-employer"],
        ("courses_feeds", "AddDynamicPartitionsRequest"): ["vhs-nk"],
    }
    for request in result.dynamic_partitions_requests:
        if type(request).__name__.startswith("Add"):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)
    again = registry_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store}))
    assert isinstance(again, dg.SkipReason) and "match the registry" in again.skip_message

    registry.write_text("partners:\n  - id: BAD ID\n")
    broken = registry_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store}))
    assert isinstance(broken, dg.SkipReason)
    assert "registry not usable" in broken.skip_message and "partner 'BAD ID': id:" in broken.skip_message
    assert set(instance.get_dynamic_partitions(PARTNER_PARTITIONS["jobs"].name)) == {"jobcenter-nk"}


def test_code_location_validates_and_groups_assets_by_stage(tmp_path):
    from hub.definitions import defs

    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["raw/jobs"] == "raw" and groups["staged/courses"] == "staged"
    assert groups["directory/housing"] == "directory"
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_held_delivery_fails_the_blocking_check_with_the_numbers(db_url, tmp_path, httpserver, instance):
    postings = [posting(n) for n in range(30)]
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])
    res = resources(db_url, tmp_path, registry)
    selection = [a for a in ALL_ASSETS if a.key.path[0] in ("raw", "staged") and a.key.path[1] == "jobs"]
    assert dg.materialize(selection, partition_key="jobcenter-nk", resources=res, instance=instance).success

    feed.body = ba_v6(postings[:5])
    held = dg.materialize(selection, partition_key="jobcenter-nk", resources=res, instance=instance,
                          raise_on_error=False)
    checks = {c.check_name: c for c in held.get_asset_check_evaluations()}
    guard = checks["withdrawal_guard"]
    assert not guard.passed and guard.severity == dg.AssetCheckSeverity.ERROR
    assert "would withdraw 25 of 30" in guard.description
    # how to release it, with the command and in the UI the steward reads this in
    assert guard.description.endswith(
        "(hub release jobcenter-nk, or in the Dagster UI: open the launchpad of staged/jobs (the "
        "menu beside Materialize), pick the partition jobcenter-nk, set release_withdrawals: true "
        "and materialize)")
    # the run's failed step says the hold in its first line, not only the check's name
    failure = next(e for e in held.all_events if e.is_step_failure)
    assert failure.step_failure_data.user_failure_data.description == guard.description
    assert failure.step_failure_data.error.message.splitlines()[0].endswith(guard.description)
    assert materialization(held, "staged", "jobs").metadata["status"].value == "held"
    assert not checks["feed_volume"].passed and "holds 5 records, the last good one held 30" in checks["feed_volume"].description

    released = dg.materialize(selection, partition_key="jobcenter-nk", resources=res, instance=instance,
                              run_config={"ops": {"staged__jobs": {"config": {"release_withdrawals": True}}}})
    staged = materialization(released, "staged", "jobs").metadata
    assert (staged["status"].value, staged["withdrawn"].value) == ("ok", 25)
    # the guard passes because a steward let the delivery through, not 'within the limits'
    guard = {c.check_name: c for c in released.get_asset_check_evaluations()}["withdrawal_guard"]
    assert guard.passed and guard.metadata["released"].value is True
    assert guard.description == ("Released by a steward: 25 of 30 published records withdrawn "
                                 "(83%; held above 10% when 10 or more, let through by the release).")


def test_a_delivery_held_for_its_rejections_names_their_rules(db_url, tmp_path, httpserver, instance):
    """The steward deciding whether to release a held delivery sees which rules rejected its
    records, in the check and in the materialization, as for a delivery that went through."""
    postings = [posting(n) for n in range(20)]
    for item in postings[:12]:  # an export that lost its postal codes
        item["stellenlokationen"][0]["adresse"]["plz"] = ""
    Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", httpserver.url_for("/jc.json"))))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])
    selection = [a for a in ALL_ASSETS if a.key.path[0] in ("raw", "staged") and a.key.path[1] == "jobs"]
    held = dg.materialize(selection, partition_key="jobcenter-nk", resources=resources(db_url, tmp_path, registry),
                          instance=instance, raise_on_error=False)
    checks = {c.check_name: c for c in held.get_asset_check_evaluations()}
    assert not checks["rejection_share"].passed
    accepted = checks["records_accepted"]
    assert accepted.description.startswith("jobcenter-nk: 12 of 20 records rejected (RECORD_FIELD_MISSING)")
    assert "| `RECORD_FIELD_MISSING` | 12 |" in accepted.metadata["rules"].value
    staged = materialization(held, "staged", "jobs").metadata
    assert staged["status"].value == "held" and "| `RECORD_FIELD_MISSING` | 12 |" in staged["rules"].value
    assert not checks["withdrawal_guard"].metadata["released"].value

    released = dg.materialize(selection, partition_key="jobcenter-nk", instance=instance,
                              resources=resources(db_url, tmp_path, registry),
                              run_config={"ops": {"staged__jobs": {"config": {"release_withdrawals": True}}}})
    checks = {c.check_name: c for c in released.get_asset_check_evaluations()}
    assert checks["rejection_share"].passed and checks["rejection_share"].description.startswith(
        "Released by a steward: 12 of 20 records of the delivery rejected (60%;")
    assert checks["withdrawal_guard"].description.startswith("Within the limits: 0 of 0 ")


def test_checks_are_kept_per_partner_partition(db_url, tmp_path, httpserver, instance):
    """A held partner's failed guard stays its own latest result when another partner of the
    domain syncs cleanly afterwards: the UI shows the checks per partner feed."""
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    postings = [posting(n) for n in range(30)]
    held_feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    other_feed = Feed(httpserver, "/pb.json", ba_v6([posting(n) for n in range(40, 43)]))
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", held_feed.url),
                                      ("portal-b", "ba-jobsuche", other_feed.url)))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk", "portal-b"])
    res = resources(db_url, tmp_path, registry)
    selection = [a for a in ALL_ASSETS if a.key.path[0] in ("raw", "staged") and a.key.path[1] == "jobs"]
    assert dg.materialize(selection, partition_key="jobcenter-nk", resources=res, instance=instance).success
    held_feed.body = ba_v6(postings[:5])
    held = dg.materialize(selection, partition_key="jobcenter-nk", resources=res, instance=instance,
                          raise_on_error=False)
    evaluations = {c.check_name: c for c in held.get_asset_check_evaluations()}
    assert evaluations["withdrawal_guard"].partition == "jobcenter-nk"
    # the held delivery's fields are compared with the last good one's (they were not kept)
    assert "No field coverage" not in evaluations["feed_fields"].description
    assert dg.materialize(selection, partition_key="portal-b", resources=res, instance=instance).success

    guard = dg.AssetCheckKey(dg.AssetKey(["staged", "jobs"]), "withdrawal_guard")
    history = instance.event_log_storage.get_asset_check_execution_history(guard, limit=10)
    latest: dict = {}
    for record in history:  # newest first
        latest.setdefault(record.partition, record.status)
    assert latest == {"portal-b": AssetCheckExecutionRecordStatus.SUCCEEDED,
                      "jobcenter-nk": AssetCheckExecutionRecordStatus.FAILED}
    accepted = {c.check_name: c for c in held.get_asset_check_evaluations()}["records_accepted"]
    assert accepted.description.startswith("jobcenter-nk: all 5 records accepted")


def test_contact_data_of_rejected_records_stays_out_of_the_event_log(db_url, tmp_path, httpserver,
                                                                     instance):
    """Personal data never goes into Dagster's logs: the check's sample table hides the value
    of a contact field (the partner's own report shows it)."""
    header = (ROOT / "schemas" / "csv" / "jobs.example.csv").read_text(encoding="utf-8").splitlines()[0]
    columns = header.split(";")
    rows = []
    for n in range(3):
        row = dict.fromkeys(columns, "")
        row.update({"Stellen-ID": f"K-{n}", "Titel": f"Lagerhelfer {n} (m/w/d)", "Arbeitgeber": "Saar Logistik",
                    "PLZ": "66538", "Ort": "Neunkirchen", "Ansprechperson": "Herr Tuerkoglu",
                    "E-Mail": "tuerkoglu@saar-logistik.example", "Kontakt oeffentlich": "nein"})
        rows.append(row)
    rows[1].update({"E-Mail": "r.tuerkoglu(at)saar-logistik", "Kontakt oeffentlich": "ja"})  # an error
    rows[2]["Stellen-ID"] = ""  # named by its title in the sample
    body = "\n".join([header] + [";".join(r[c] for c in columns) for r in rows]) + "\n"
    feed = Feed(httpserver, "/jobs.csv", body.encode("utf-8"), content_type="text/csv")
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("saar-logistik", "csv-jobs", feed.url)))
    instance.add_dynamic_partitions("jobs_feeds", ["saar-logistik"])
    res = resources(db_url, tmp_path, registry)
    raw_and_staged = [a for a in ALL_ASSETS if a.key.path[0] in ("raw", "staged") and a.key.path[1] == "jobs"]

    result = dg.materialize(raw_and_staged, partition_key="saar-logistik", resources=res, instance=instance)
    assert result.success
    check = {c.check_name: c for c in result.get_asset_check_evaluations()}["records_accepted"]
    sample = check.metadata["sample"].value
    assert "K-1" in sample and "CONTACT_EMAIL_INVALID" in sample
    # 2 of 3 is over the share, but a few records never hold a delivery: the check says so
    share = {c.check_name: c for c in result.get_asset_check_evaluations()}["rejection_share"]
    assert share.passed and share.description == (
        "Within the limits: 2 of 3 records of the delivery rejected (67%; held above 50% when "
        "10 or more).")
    # the stewards' words (the partner's report has the German ones)
    assert "| 'Lagerhelfer 2 (m/w/d)' | `RECORD_FIELD_MISSING` | source_id |  | Required field 'source_id' is missing" in sample
    logged = "\n".join(str(e) for e in result.all_events)
    assert "(at)saar-logistik" not in logged
    assert "personal data" in sample


def test_runs_started_by_the_daemon_or_the_ui_run_their_steps_in_their_own_process():
    """A run is one partner feed or one publication: its steps run one after the other in the
    run's process (in_process_executor), where a step waiting for FETCH_RETRY sleeps; Dagster's
    multiprocess executor spins meanwhile and kept a core busy for minutes per dead feed."""
    from hub.definitions import defs

    for job in ("sync_jobs", "sync_courses", "sync_housing", "publish_directory", "__ASSET_JOB"):
        assert defs.resolve_job_def(job).executor_def.name == "in_process", job
