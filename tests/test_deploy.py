"""deploy/dagster.yaml: a production Dagster instance on PostgreSQL. The instance is loaded
from the file with DAGSTER_PG_URL pointing at a fresh database on the local server, assets are
materialized through it, and the run and its materializations are read back from PostgreSQL.
Under CI (or HUB_REQUIRE_POSTGRES=1) an unreachable server fails the test instead of skipping."""

from __future__ import annotations

import shutil
import uuid

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hub.assets import ALL_ASSETS
from hub.assets.maintenance import MAINTENANCE_ASSETS, RETENTION_KEY
from hub.resources import FeedClient, HubStore, dispose_engines
from tests.conftest import ROOT
from tests.db import PG_URL, admin_engine, new_database_url
from tests.feeds import Feed, ba_v6, posting, registry_text

DEPLOY_YAML = ROOT / "deploy" / "dagster.yaml"


@pytest.fixture
def dagster_pg_url():
    """A database of its own on the PostgreSQL server, dropped afterwards."""
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    admin = admin_engine(f'CREATE DATABASE "{name}"')
    # dagster-postgres needs psycopg2 (SQLAlchemy 2.1 picks psycopg 3 for a bare postgresql://)
    url = make_url(PG_URL).set(drivername="postgresql+psycopg2", database=name, query={})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def hub_pg_url(tmp_path):
    url, cleanup = new_database_url("postgresql", tmp_path)
    yield url
    dispose_engines()
    cleanup()


def test_deploy_instance_stores_runs_and_materializations_in_postgres(
    dagster_pg_url, hub_pg_url, tmp_path, monkeypatch, httpserver
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_pg_url)

    feed = Feed(httpserver, "/jc.json", ba_v6([posting(n) for n in range(3)]))
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    resources = {
        "hub_store": HubStore(database_url=hub_pg_url, home=str(tmp_path / "home"),
                              registry_path=str(registry)),
        "feed_client": FeedClient(max_retries=1, deadline=10),
    }
    jobs = [a for a in ALL_ASSETS if a.key.path[-1] == "jobs"]
    synced = [a for a in jobs if a.key.path[0] in ("raw", "staged")]
    published = [a for a in jobs if a.key.path[0] == "directory"] + MAINTENANCE_ASSETS

    with dg.DagsterInstance.from_config(str(home)) as instance:
        # the settings of deploy/dagster.yaml are in force
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_max_runtime_seconds == 7200
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert not instance.telemetry_enabled

        instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])
        first = dg.materialize(synced, partition_key="jobcenter-nk", resources=resources,
                               instance=instance)
        second = dg.materialize(published, resources=resources, instance=instance)
        assert first.success and second.success
        for result in (first, second):
            assert instance.get_run_by_id(result.run_id).status == dg.DagsterRunStatus.SUCCESS
        entries = instance.get_latest_materialization_event(dg.AssetKey(["directory", "jobs"]))
        assert entries.asset_materialization.metadata["entries"].value == 3
        assert instance.get_latest_materialization_event(RETENTION_KEY) is not None

    # and the rows really are in PostgreSQL
    engine = sa.create_engine(dagster_pg_url)
    try:
        with engine.connect() as conn:
            runs = set(conn.execute(sa.text("SELECT run_id FROM runs")).scalars())
            keys = set(conn.execute(sa.text(
                "SELECT DISTINCT asset_key FROM event_logs "
                "WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")).scalars())
            partitions = set(conn.execute(sa.text(
                "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'jobs_feeds'"
            )).scalars())
    finally:
        engine.dispose()
    assert {first.run_id, second.run_id} <= runs
    assert {'["raw", "jobs"]', '["staged", "jobs"]', '["directory", "jobs"]',
            '["maintenance", "retention"]'} <= keys
    assert partitions == {"jobcenter-nk"}


# --------------------------------------------------------------------------- Helm values

HELM_VALUES = ROOT / "deploy" / "helm" / "values.yaml"


def _chart_instance_sections(values: dict) -> dict:
    """The dagster.yaml sections the official chart writes from the values this project sets
    (its instance templates for run_coordinator, concurrency, run_retries and telemetry, as
    far as these keys go)."""
    daemon = values["dagsterDaemon"]
    coordinator = daemon["runCoordinator"]
    queued = (coordinator.get("config") or {}).get("queuedRunCoordinator") or {}
    sections: dict = {"run_coordinator": {
        "module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
        "config": {key: value for key, value in (
            ("max_concurrent_runs", queued.get("maxConcurrentRuns")),
            ("tag_concurrency_limits", queued.get("tagConcurrencyLimits"))) if value}}}
    concurrency = values.get("concurrency") or {}
    if concurrency.get("enabled"):
        pools, runs = concurrency.get("pools") or {}, concurrency.get("runs") or {}
        sections["concurrency"] = {
            "pools": {"default_limit": pools["defaultLimit"]},
            "runs": {"max_concurrent_runs": runs["maxConcurrentRuns"],
                     "tag_concurrency_limits": runs["tagConcurrencyLimits"]}}
    retries = daemon["runRetries"]
    sections["run_retries"] = {"enabled": retries["enabled"], "max_retries": retries["maxRetries"],
                               **({"retry_on_asset_or_op_failure": retries["retryOnAssetOrOpFailure"]}
                                  if "retryOnAssetOrOpFailure" in retries else {})}
    sections["telemetry"] = values["telemetry"]
    for key, value in (values.get("additionalInstanceConfig") or {}).items():
        sections[key] = value
    return sections


def test_helm_values_give_an_instance_dagster_loads_with_the_deploy_settings(tmp_path):
    import yaml

    values = yaml.safe_load(HELM_VALUES.read_text())
    sections = _chart_instance_sections(values)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(sections))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:  # refused if they clash
        deploy = yaml.safe_load(DEPLOY_YAML.read_text())
        runs = instance.get_concurrency_config().run_queue_config
        assert runs.max_concurrent_runs == deploy["concurrency"]["runs"]["max_concurrent_runs"]
        assert [limit["key"] for limit in runs.tag_concurrency_limits] == ["hub/host"]
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert instance.run_retries_max_retries == 2
        # a held or unusable delivery is not fetched again by a retry (Dagster's default is to)
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert not instance.telemetry_enabled


def test_helm_run_pods_keep_their_own_resources():
    import yaml

    values = yaml.safe_load(HELM_VALUES.read_text())
    (code,) = values["dagster-user-deployments"]["deployments"]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    # with includeConfigInLaunchedRuns, Dagster merges the code server's container settings
    # into each run pod and its resources win over runK8sConfig's
    assert not (code["includeConfigInLaunchedRuns"]["enabled"] and code.get("resources"))
    assert launcher["runK8sConfig"]["containerConfig"]["resources"]["limits"]["memory"] == "4Gi"
    # so the run pods are given the code server's environment, secrets and volumes themselves
    assert sorted(launcher["envVars"]) == sorted(f"{k}={v}" for k, v in code["env"].items())
    assert launcher["envSecrets"] == code["envSecrets"]
    assert launcher["volumes"] == code["volumes"]
    assert launcher["volumeMounts"] == code["volumeMounts"]


# --------------------------------------------------------------------------- read API on Kubernetes

READ_API = ROOT / "deploy" / "k8s" / "read-api.yaml"


def test_the_read_api_manifest_runs_hub_serve_as_the_helm_release_runs_the_code():
    """deploy/k8s/read-api.yaml stays true to the code and to the Helm values: its command is
    one `hub serve` takes, its readiness probe asks a route the API answers on the port it
    serves, and it uses the release's image, database Secret and registry ConfigMap."""
    import yaml

    from hub.api.app import ApiSettings, create_app
    from hub.cli import build_parser

    deployment, service = yaml.safe_load_all(READ_API.read_text())
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    args = build_parser().parse_args(container["args"])  # exits (SystemExit) on an unknown option
    assert container["command"] == ["hub"] and args.func.__name__ == "cmd_serve"
    assert args.forwarded_allow_ips == "*"  # the pods are reached through the ingress only
    (port,) = container["ports"]
    assert port["containerPort"] == args.port and service["spec"]["ports"][0]["targetPort"] == port["name"]

    ready = container["readinessProbe"]["httpGet"]
    paths = create_app(sa.create_engine("sqlite://"), ApiSettings()).openapi()["paths"]
    assert "get" in paths[ready["path"]] and ready["port"] == port["name"]
    # a database outage takes pods out of the Service; it must not restart them
    assert "httpGet" not in container["livenessProbe"]

    values = yaml.safe_load(HELM_VALUES.read_text())
    (code,) = values["dagster-user-deployments"]["deployments"]
    assert container["image"] == f"{code['image']['repository']}:{code['image']['tag']}"
    database_secret = next(s["name"] for s in code["envSecrets"] if "database" in s["name"])
    assert {"secretRef": {"name": database_secret}} in container["envFrom"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    registry = next(v for v in code["volumes"] if "configMap" in v)
    assert volumes[registry["name"]]["configMap"] == registry["configMap"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["HUB_REGISTRY"] == code["env"]["HUB_REGISTRY"]


DB_JOB = ROOT / "deploy" / "k8s" / "db-job.yaml"


def test_the_schema_job_runs_hub_db_with_the_release_image_and_database():
    """deploy/k8s/db-job.yaml, the `hub db` the docs tell operators to run first at every
    release: its command is the one `hub db` takes, once (a failed pod is not restarted in
    place), with the Helm release's image and database Secret, and a new name per release."""
    import yaml

    from hub.cli import build_parser

    (job,) = yaml.safe_load_all(DB_JOB.read_text())
    assert job["kind"] == "Job" and "generateName" in job["metadata"] and "name" not in job["metadata"]
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = build_parser().parse_args(container["args"])
    assert container["command"] == ["hub"] and args.func.__name__ == "cmd_db"
    assert pod["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] <= 3
    label = job["metadata"]["labels"]["app.kubernetes.io/name"]
    assert f"-l app.kubernetes.io/name={label}" in (ROOT / "deploy" / "README.md").read_text()

    values = yaml.safe_load(HELM_VALUES.read_text())
    (code,) = values["dagster-user-deployments"]["deployments"]
    assert container["image"] == f"{code['image']['repository']}:{code['image']['tag']}"
    database_secret = next(s["name"] for s in code["envSecrets"] if "database" in s["name"])
    assert container["envFrom"] == [{"secretRef": {"name": database_secret}}]
