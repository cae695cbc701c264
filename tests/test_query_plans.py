"""SQLite's query plans for one partner's records: a question about one partner must not read
the whole domain (at national scale a million job postings per stage of a 4,000-record feed).

SQLite has no statistics here (the hub never runs ANALYZE), so it picks indexes by their
shape alone; these tests capture every statement a stage and an incremental publication
send and ask SQLite how it would run those on ``source_records``. And PostgreSQL's plan for
a page of the read API on a directory of three domains."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.feedgen import ba_jobs
from hub.fetch import FeedFetcher, FetchPolicy
from hub.pipeline import fetch_partner_feed, stage_partner_feed
from hub.quality.feedback import latest_report
from hub.registry import parse_registry
from hub.store.affected import CHUNK, _Finder
from hub.store.db import make_engine, migrate
from hub.store.landing import LandingStore
from hub.store.publish import publish_domain
from hub.store.staging import last_sync_counts
from hub.store.tables import publications


def _registry(folder: Path):
    """Two employers whose feeds are files in ``folder`` (fetched as a partner's inbox is)."""
    return parse_registry("partners:\n" + "".join(
        f"  - id: employer-{n}\n    name: Employer {n}\n    allow_private_network: true\n"
        f"    feeds:\n      - format: ba-jobsuche\n        source: file://{folder}/{n}.json\n"
        for n in (1, 2)))


def _plans(tmp_path: Path, statements: list[str], table: str = "source_records") -> dict[str, list[str]]:
    """Statement -> SQLite's plan lines, for those that read or change ``table``."""
    db = sqlite3.connect(tmp_path / "hub.db")
    db.execute("CREATE TEMP TABLE hub_stage_delivery (source_id VARCHAR(255) PRIMARY KEY, "
               "record JSON, content_hash VARCHAR(64))")
    out = {}
    for sql in statements:
        if re.search(rf"\b{table}\b", sql) and re.match(r"\s*(SELECT|UPDATE|INSERT|DELETE)", sql, re.I):
            if "hub_stage_rejections" in sql:  # copies the delivery's rejections: no lookup
                continue
            out[" ".join(sql.split())] = [row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
    db.close()
    return out


def test_one_partner_s_records_are_found_by_index_in_stage_and_incremental_publication(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    statements: list[str] = []
    sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.set_trace_callback(statements.append))
    engine.dispose()
    store = LandingStore(tmp_path / "landing")
    fetcher = FeedFetcher(FetchPolicy(max_retries=0))
    registry = _registry(tmp_path)
    for count in (60, 59):  # then one posting of each partner withdrawn: an incremental publication
        for seed, partner in enumerate(registry.partners, start=1):
            (tmp_path / f"{seed}.json").write_bytes(ba_jobs(count, seed=seed))
            assert fetch_partner_feed(engine, store, fetcher, partner, "jobs").status == "changed"
            assert stage_partner_feed(engine, store, partner, "jobs").status == "ok"
            assert latest_report(engine, partner, "jobs") is not None
            with engine.connect() as conn:
                assert last_sync_counts(conn, partner.id, "jobs")[0] is not None
        publish_domain(engine, "jobs")
    with engine.connect() as conn:
        modes = conn.execute(sa.select(publications.c.mode).order_by(publications.c.id)).scalars().all()
        # and the co-members of a full chunk of entities (above, an IN list of one id is an
        # equality; with more, SQLite chose by the primary key's domain column and read every
        # entity row of the domain per chunk: minutes at national scale)
        _Finder(conn, "jobs", set(), set(), None).co_members([f"J-{n:016x}" for n in range(CHUNK)])
    assert modes == ["full", "incremental"]
    engine.dispose()

    plans = _plans(tmp_path, statements)
    by_sync = {sql: plan for sql, plan in _plans(tmp_path, statements, "rejections").items()
               if "rejections.sync_id = " in sql}
    assert len(by_sync) >= 2, list(by_sync)  # the feedback report's rows, the counts by rule
    for sql, plan in by_sync.items():  # one delivery's rejections, not every partner's
        assert not any(line.startswith("SCAN rejections") for line in plan), (sql, plan)
    partner_scoped = {sql: plan for sql, plan in plans.items()
                      if re.search(r"source_records(?:\.| AS old\.|old\.)partner_id = '", sql)
                      or "old.partner_id = '" in sql}
    assert len(partner_scoped) >= 4, list(plans)  # counts, comparison, withdrawal, incremental reads
    for sql, plan in partner_scoped.items():
        on_records = [line for line in plan if re.search(r"\b(source_records|old)\b", line)]
        assert on_records, (sql, plan)
        assert all("partner_id=?" in line for line in on_records), (sql, plan)
    # the co-members of entities: from the entities' rows, not from every active record
    co_members = [plan for sql, plan in plans.items() if "entity_map.entity_id IN" in sql]
    assert len(co_members) >= 2
    for plan in co_members:
        assert any("entity_map USING INDEX ix_entity_map_entity" in line for line in plan), plan
        assert not any(line.startswith("SCAN") or "(domain=? AND status=?)" in line
                       for line in plan), plan


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_page_of_jobs_starts_at_the_jobs_ids_on_postgresql(engine):
    """A portal's first page of /v1/jobs, on a directory that also holds courses and flats:
    PostgreSQL reads the page from the jobs' ids, not along the primary key from the courses'
    and flats' ids before them (``crs-`` and ``hsg-`` sort before ``job-``). It did: on a
    national directory 1.5 s for the first page, and as long for ``german_required=false``
    or ``q``, with 400,000 rows of other domains read and dropped (bench/api.py --queries)."""
    from starlette.testclient import TestClient

    from bench.api import fill
    from hub.api.app import ApiSettings, create_app

    fill(engine, 6000, courses=2000, housing=2000)
    sent: list[tuple[str, object]] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cur, sql, params, ctx, many: sent.append((sql, params))
                    if "FROM directory" in sql else None)
    client = TestClient(create_app(engine, ApiSettings(cache_mb=0)))
    with engine.connect() as conn:
        first_ids = conn.execute(sa.text("SELECT entity_id FROM directory WHERE domain = 'jobs' "
                                         "ORDER BY entity_id LIMIT 100")).scalars().all()
    for path in ("/v1/jobs?limit=50", "/v1/jobs?german_required=false&limit=5"):
        sent.clear()
        page = client.get(path)
        assert page.status_code == 200
        items = page.json()["items"]
        assert items and all(item["domain"] == "jobs" for item in items)
        read = 0
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                for sql, params in sent:
                    cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                    stack = [cur.fetchone()[0][0]["Plan"]]
                    while stack:
                        node = stack.pop()
                        if node.get("Relation Name") == "directory":
                            read += node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                        stack.extend(node.get("Plans", []))
            raw.rollback()
        finally:
            raw.close()
        assert read < 1000, (path, read)  # the 4,000 courses and flats are not read
    # the first page is the first 50 ids, and the next page goes on from there
    page = client.get("/v1/jobs?limit=50").json()
    assert [item["id"] for item in page["items"]] == first_ids[:50]
    second = client.get(page["next"]).json()
    assert [item["id"] for item in second["items"]] == first_ids[50:100]
