"""SQLite's query plans for one partner's records: a question about one partner must not read
the whole domain (at national scale a million job postings per stage of a 4,000-record feed).

SQLite has no statistics here (the hub never runs ANALYZE), so it picks indexes by their
shape alone; these tests capture every statement a stage and an incremental publication
send and ask SQLite how it would run those on ``source_records``."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

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
