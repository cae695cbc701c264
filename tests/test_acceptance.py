"""Connector acceptance, in the manner of Airbyte's: a crash (the process killed, not an
exception) between writing data and committing state at each stage boundary, then a re-run:
nothing lost, nothing doubled. And a full refresh twice gives the same directory."""

from __future__ import annotations

import json
import re
import signal

import pytest
import sqlalchemy as sa

from hub.faults import POINTS
from hub.fetch import FeedFetcher
from hub.pipeline import fetch_partner_feed, stage_partner_feed
from hub.registry import load_registry
from hub.store.db import make_engine, migrate
from hub.store.landing import LandingStore
from hub.store.publish import publish_domain
from hub.store.tables import changes, directory, source_records, syncs
from tests.db import new_database_url
from tests.feeds import Feed, ba_v6, posting, registry_text
from tests.test_cli import hub

V1 = [posting(n) for n in range(10)]
# the second delivery: two postings vanish, one changes its title, four are new
V2 = [V1[2], posting(3, stellenangebotsTitel="Koch/Köchin (m/w/d)"), *V1[4:],
      *(posting(n) for n in range(10, 14))]


def expected_ids(postings):
    return sorted({p["referenznummer"] for p in postings})


def state(engine):
    with engine.connect() as conn:
        entries = {r.entity_id: r.entry for r in conn.execute(sa.select(directory.c.entity_id, directory.c.entry))}
        replay: dict[str, dict] = {}
        for row in conn.execute(sa.select(changes).order_by(changes.c.seq)):
            if row.op == "updated":
                replay[row.entity_id] = row.entry
            else:
                replay.pop(row.entity_id, None)
        active = sorted(conn.execute(sa.select(source_records.c.source_id)
                                     .where(source_records.c.status == "active")).scalars())
        ok_syncs = conn.execute(sa.select(syncs.c.content_sha256, sa.func.count())
                                .where(syncs.c.status == "ok").group_by(syncs.c.content_sha256)).all()
    return entries, replay, active, ok_syncs


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_each_boundary_then_rerun_loses_and_doubles_nothing(db_url, tmp_path, httpserver, point):
    feed = Feed(httpserver, "/jc.json", ba_v6(V1))
    registry_path = tmp_path / "registry.yaml"
    registry_path.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": db_url, "HUB_REGISTRY": str(registry_path),
           "DAGSTER_HOME": str(tmp_path / "dagster")}
    # the first delivery, synced cleanly in this process
    engine = make_engine(db_url)
    migrate(engine)
    store = LandingStore(tmp_path / "home" / "landing")
    partner = load_registry(registry_path).partners[0]
    fetch_partner_feed(engine, store, FeedFetcher(), partner, "jobs")
    stage_partner_feed(engine, store, partner, "jobs")
    publish_domain(engine, "jobs")

    feed.body = ba_v6(V2)
    killed = hub("sync", "--json", env={**env, "HUB_CRASH_AT": point})
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr[-2000:])
    rerun = hub("sync", "--json", env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert json.loads(rerun.stdout)["published"]["jobs"] == len(expected_ids(V2))

    entries, replay, active, ok_syncs = state(engine)
    assert active == expected_ids(V2)
    assert sorted(s["source_id"] for e in entries.values() for s in e["sources"]) == expected_ids(V2)
    assert replay == entries
    assert all(count == 1 for _, count in ok_syncs), ok_syncs  # each delivery staged once
    titles = {e["sources"][0]["source_id"]: e["title"] for e in entries.values()}
    assert titles[V1[3]["referenznummer"]] == "Koch/Köchin (m/w/d)"
    engine.dispose()


def test_full_refresh_twice_gives_the_same_directory(tmp_path, httpserver):
    feed = Feed(httpserver, "/jc.json", ba_v6(V2))
    registry_path = tmp_path / "registry.yaml"
    registry_path.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    partner = load_registry(registry_path).partners[0]
    results = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        url, cleanup = new_database_url("sqlite", tmp_path / run)
        engine = make_engine(url)
        migrate(engine)
        store = LandingStore(tmp_path / run / "landing")
        fetch_partner_feed(engine, store, FeedFetcher(), partner, "jobs")
        stage_partner_feed(engine, store, partner, "jobs")
        publish_domain(engine, "jobs")
        results.append(state(engine)[0])
        engine.dispose()
        cleanup()
    assert results[0] == results[1] and len(results[0]) == len(expected_ids(V2))


# -- hub sync --workers: feeds in worker processes --------------------------------------------

OTHER = [posting(n, employer="Pflegedienst Sonnenschein") for n in range(20, 24)]


def _three_partners(tmp_path, httpserver):
    """Three partners; the second lists five of the first's postings (same BA reference
    numbers: one entity each), the third its own."""
    urls = [Feed(httpserver, f"/{name}.json", ba_v6(body)).url
            for name, body in (("a", V1), ("b", V1[5:] + V2[-4:]), ("c", OTHER))]
    path = tmp_path / "registry.yaml"
    path.write_text(registry_text(("jobcenter-a", "ba-jobsuche", urls[0]), ("portal-b", "ba-jobsuche", urls[1]),
                                  ("employer-c", "ba-jobsuche", urls[2])))
    return path


def test_sync_in_worker_processes_gives_the_directory_of_a_sync_in_one(db_url, tmp_path, httpserver):
    registry_path = _three_partners(tmp_path, httpserver)
    results = []
    for name, url, workers in (("one", f"sqlite:///{tmp_path / 'one.db'}", "1"), ("workers", db_url, "2")):
        env = {"HUB_HOME": str(tmp_path / name), "HUB_DATABASE_URL": url, "HUB_REGISTRY": str(registry_path),
               "DAGSTER_HOME": str(tmp_path / name / "dagster")}
        proc = hub("sync", "--json", "--workers", workers, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        # the publication's phases on the terminal, under the line that announces it
        n = len(expected_ids(V1 + V2[-4:] + OTHER))
        # every line begins with the time of day
        lines = [line for line in proc.stderr.splitlines() if re.match(r"\d\d:\d\d:\d\d ", line)]
        said = [line[9:] for line in lines]
        publication = said[said.index("publishing the directory ...") + 1:]
        assert publication[0].startswith("  courses: full resolution"), proc.stderr[-3000:]
        assert f"  jobs: {n} entries published ({n} added, 0 updated, 0 deleted); committing" in publication
        engine = make_engine(url)
        results.append((json.loads(proc.stdout), state(engine)[0]))
        engine.dispose()
    (one, one_entries), (parallel, parallel_entries) = results
    assert [(p["partner_id"], p["status"], p["fetched"], p["published"]) for p in parallel["partners"]] == \
        [(p["partner_id"], p["status"], p["fetched"], p["published"]) for p in one["partners"]]
    assert parallel["published"]["jobs"] == len(expected_ids(V1 + V2[-4:] + OTHER))
    # the same entries; a new entity that two partners list is named after the record staged
    # first, which among feeds running at once is a matter of timing
    assert _by_sources(parallel_entries) == _by_sources(one_entries)
    assert sum(1 for e in parallel_entries.values() if len(e["sources"]) == 2) == 5


def _by_sources(entries: dict) -> dict:
    return {tuple(sorted((s["partner_id"], s["source_id"]) for s in entry["sources"])):
            {k: v for k, v in entry.items() if k != "id"} for entry in entries.values()}


def test_a_killed_worker_fails_its_feed_and_the_rerun_loses_nothing(db_url, tmp_path, httpserver):
    registry_path = _three_partners(tmp_path, httpserver)
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": db_url, "HUB_REGISTRY": str(registry_path),
           "DAGSTER_HOME": str(tmp_path / "dagster")}
    killed = hub("sync", "--json", "--workers", "2", env={**env, "HUB_CRASH_AT": "stage:written"})
    assert killed.returncode == 1, killed.stderr[-3000:]
    assert "Traceback" not in killed.stderr
    summary = json.loads(killed.stdout)
    assert [p["status"] for p in summary["partners"]] == ["failed"] * 3
    assert all("ended unexpectedly" in p["message"] for p in summary["partners"])
    engine = make_engine(db_url)
    assert state(engine)[2] == []  # each worker died before its staging committed

    rerun = hub("sync", "--json", "--workers", "2", env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    entries, replay, active, ok_syncs = state(engine)
    assert active == sorted(expected_ids(V1) + expected_ids(V1[5:] + V2[-4:]) + expected_ids(OTHER))
    assert replay == entries and len(entries) == len(expected_ids(V1 + V2[-4:] + OTHER))
    assert all(count == 1 for _, count in ok_syncs), ok_syncs
    engine.dispose()


def test_ctrl_c_stops_a_sync_in_workers_with_one_line(tmp_path, httpserver):
    """Ctrl-C reaches the hub command and its workers alike (the terminal's process group):
    the feed running is interrupted, idle workers stay quiet, nothing is published, no
    traceback, exit 130."""
    import os
    import time

    from werkzeug import Response

    from tests.test_cli import hub_interrupted

    def slow(request):  # the third feed is still being fetched when Ctrl-C comes
        time.sleep(4)
        return Response(ba_v6(OTHER), content_type="application/json")

    httpserver.expect_request("/slow.json").respond_with_handler(slow)
    urls = [Feed(httpserver, f"/{name}.json", ba_v6(body)).url for name, body in (("a", V1), ("b", V2))]
    path = tmp_path / "registry.yaml"
    path.write_text(registry_text(("jobcenter-a", "ba-jobsuche", urls[0]), ("portal-b", "ba-jobsuche", urls[1]),
                                  ("employer-c", "ba-jobsuche", httpserver.url_for("/slow.json"))))
    env = {**os.environ, "HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(path),
           "DAGSTER_HOME": str(tmp_path / "dagster")}
    env.pop("HUB_DATABASE_URL", None)
    returncode, stderr = hub_interrupted("sync", "--workers", "2", env=env, cwd=tmp_path)
    assert returncode == 130, stderr
    assert stderr.rstrip().endswith("hub sync: interrupted"), stderr
    assert "Traceback" not in stderr and "publishing" not in stderr, stderr


def test_a_ctrl_c_that_a_handler_swallowed_is_still_seen():
    """Dagster notes a SIGINT during parts of a run and forgets it when the run ends; the
    sync looks at the signal itself (hub.runner.SigintWatch), whoever handled it."""
    import os

    from hub.runner import SigintWatch

    previous = signal.signal(signal.SIGINT, lambda *_: None)  # as Dagster's capture does
    try:
        with SigintWatch() as watch:
            assert not watch.seen()
            os.kill(os.getpid(), signal.SIGINT)
            assert watch.seen()
            assert not watch.seen()  # each Ctrl-C once
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_that_lands_in_a_finalizer_still_stops_the_command_without_a_traceback():
    """Python cannot raise a KeyboardInterrupt inside a finalizer or a weakref callback: it
    prints 'Exception ignored in ...' with a traceback and forgets it (a CI run met it in
    SQLAlchemy's callback during a sync). The hub delivers it again where it can be raised."""
    import subprocess
    import sys

    script = (
        "import gc, time\n"
        "from hub.runner import keep_interrupts\n"
        "keep_interrupts()\n"
        "class Finalized:\n"
        "    def __del__(self):\n"
        "        raise KeyboardInterrupt\n"
        "try:\n"
        "    Finalized()\n"
        "    deadline = time.monotonic() + 10\n"
        "    while time.monotonic() < deadline:\n"
        "        pass\n"
        "    print('went on')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "interrupted", (done.stdout, done.stderr)
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr
