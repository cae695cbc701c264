"""Connector acceptance, in the manner of Airbyte's: a crash (the process killed, not an
exception) between writing data and committing state at each stage boundary, then a re-run:
nothing lost, nothing doubled. And a full refresh twice gives the same directory."""

from __future__ import annotations

import json
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
