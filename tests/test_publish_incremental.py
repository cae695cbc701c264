"""An incremental publication gives what a full one gives.

Two databases start from the same records and the same full publication; then, round after
round, the same random changes reach both (records reworded into or out of duplicates, moved
to another postal code, withdrawn, back again, new copies from other partners, an erasure),
and one publishes incrementally while the other resolves everything. Entity ids, entities,
entity map, directory entries and the change feed must come out the same.
"""

from __future__ import annotations

import copy
import datetime as dt
import random

import pytest
import sqlalchemy as sa

from bench.resolution_set import labelled
from hub.resolve import blocking
from hub.store import affected, publish
from hub.store.db import make_engine, migrate, upsert
from hub.store.erasure import erase_record
from hub.store.publish import publish_domain
from hub.store.staging import record_hash
from hub.store.tables import changes, directory, entities, entity_map, publications, resolution_keys, source_records

from .db import new_database_url

T0 = dt.datetime(2026, 11, 2, 6, tzinfo=dt.timezone.utc)


def _rows(records: list[dict], status: dict, first_seen: dict) -> list[dict]:
    return [{
        "domain": r["_domain"], "partner_id": r["partner_id"], "source_id": r["source_id"],
        "record": {k: v for k, v in r.items() if not k.startswith("_")},
        "content_hash": record_hash({k: v for k, v in r.items() if not k.startswith("_")}),
        "status": status[(r["partner_id"], r["source_id"])],
        "first_seen": first_seen[(r["partner_id"], r["source_id"])],
        "last_seen": T0, "sync_id": None,
    } for r in records]


def _state(engine, domain: str) -> dict:
    with engine.connect() as conn:
        active = {(r.partner_id, r.source_id) for r in conn.execute(
            sa.select(source_records.c.partner_id, source_records.c.source_id)
            .where(source_records.c.domain == domain, source_records.c.status == "active"))}
        mapping = {(r.partner_id, r.source_id): r.entity_id for r in conn.execute(
            sa.select(entity_map.c.partner_id, entity_map.c.source_id, entity_map.c.entity_id)
            .where(entity_map.c.domain == domain))}
        last = conn.execute(sa.select(publications).where(publications.c.domain == domain)
                            .order_by(publications.c.id.desc()).limit(1)).one()
        return {
            "entity_of_active_record": {rk: mapping[rk] for rk in active},
            "entities": sorted(tuple(r) for r in conn.execute(
                sa.select(entities.c.entity_id, entities.c.status, entities.c.merged_into,
                          entities.c.anchor_partner_id, entities.c.anchor_source_id,
                          entities.c.created_at, entities.c.records)
                .where(entities.c.domain == domain))),
            "directory": dict(conn.execute(sa.select(directory.c.entity_id, directory.c.content_hash)
                                           .where(directory.c.domain == domain)).all()),
            "changes": sorted(tuple(r) for r in conn.execute(
                sa.select(changes.c.entity_id, changes.c.op)
                .where(changes.c.publication_id == last.id))),
            "publication": (last.entries, last.added, last.updated, last.deleted, last.merged),
        }


def _change(rng: random.Random, records: list[dict], status: dict, first_seen: dict,
            now: dt.datetime, serial: list[int]) -> list[dict]:
    """Changes about 4 % of the records in place (and adds some); returns the rows to write."""
    touched = []
    pool = [r for r in records]
    for record in rng.sample(pool, max(3, len(pool) // 25)):
        rk = (record["partner_id"], record["source_id"])
        what = rng.random()
        other = rng.choice(pool)
        if what < 0.25:  # reworded like another offer: may join it, or leave its duplicates
            record["title"] = other.get("title")
        elif what < 0.4:  # moved to another place
            record["address"] = copy.deepcopy(other.get("address"))
        elif what < 0.5:
            record["organisation"] = other.get("organisation")
        elif what < 0.7:
            status[rk] = "withdrawn" if status[rk] == "active" else "active"
        elif what < 0.85:  # a new copy from another partner: a new duplicate
            serial[0] += 1
            copy_ = copy.deepcopy(other)
            copy_["partner_id"] = rng.choice(["late-a", "late-b", record["partner_id"]])
            copy_["source_id"] = f"new-{serial[0]}"
            key = (copy_["partner_id"], copy_["source_id"])
            status[key], first_seen[key] = "active", now
            records.append(copy_)
            touched.append(copy_)
            continue
        else:  # updated at the source: another field, same offer
            record["updated_at"] = now.isoformat()
        touched.append(record)
    return touched


def _twins(tmp_path, kind: str):
    engines = []
    for name in ("incremental", "full"):
        folder = tmp_path / name
        folder.mkdir()
        url, cleanup = new_database_url(kind, folder)
        engine = make_engine(url)
        migrate(engine)
        engines.append((engine, cleanup))
    return engines


def _compare_rounds(tmp_path, monkeypatch, kind: str, domain: str, seed: int, rounds: int = 4,
                    erase: bool = True):
    rng = random.Random(seed)
    records = labelled(domain, entities=120, seed=seed)
    for r in records:
        r["_domain"] = domain
    status = {(r["partner_id"], r["source_id"]): "active" for r in records}
    first_seen = {(r["partner_id"], r["source_id"]): T0 - dt.timedelta(minutes=i) for i, r in enumerate(records)}
    (inc, inc_cleanup), (full, full_cleanup) = _twins(tmp_path, kind)
    try:
        for engine in (inc, full):
            with engine.begin() as conn:
                upsert(conn, source_records, _rows(records, status, first_seen),
                       ["domain", "partner_id", "source_id"])
            assert publish_domain(engine, domain, now=T0, mode="full").mode == "full"
        assert _state(inc, domain) == _state(full, domain)
        serial = [0]
        modes = []
        for round_ in range(1, rounds + 1):
            now = T0 + dt.timedelta(hours=round_)
            touched = _change(rng, records, status, first_seen, now, serial)
            for engine in (inc, full):
                with engine.begin() as conn:
                    upsert(conn, source_records, _rows(touched, status, first_seen),
                           ["domain", "partner_id", "source_id"])
            if erase and round_ == rounds:  # an erasure on request: incremental on one side
                victim = next(r for r in records if status[(r["partner_id"], r["source_id"])] == "active")
                for engine in (inc, full):
                    with monkeypatch.context() as patch:
                        if engine is full:
                            patch.setattr(publish, "_changed_since_last", lambda *a, **k: None)
                        else:  # however far the erased record's blocks reach
                            patch.setattr(publish, "READ_UP_TO", 100)
                        outcome = erase_record(engine, None, victim["partner_id"], victim["source_id"],
                                               domain=domain, now=now, reason="test")
                    assert outcome.outcome in ("deleted", "updated")
                    assert outcome.removed["source_records"] == 1
                records.remove(victim)
                with inc.connect() as conn:
                    assert conn.execute(sa.select(publications.c.mode).order_by(
                        publications.c.id.desc()).limit(1)).scalar() == "incremental"
                    assert not conn.execute(sa.select(resolution_keys).where(
                        resolution_keys.c.source_id == victim["source_id"],
                        resolution_keys.c.partner_id == victim["partner_id"])).first()
            else:
                done = publish_domain(inc, domain, now=now, mode="incremental")
                modes.append((done.mode, done.records))
                publish_domain(full, domain, now=now, mode="full")
            a, b = _state(inc, domain), _state(full, domain)
            for part in a:
                assert a[part] == b[part], f"round {round_}: {part} differs"
        total = sum(1 for s in status.values() if s == "active")
        assert all(mode == "incremental" for mode, _ in modes)
        assert all(resolved < total for _, resolved in modes), (modes, total)
        return modes, total
    finally:
        for engine, cleanup in ((inc, inc_cleanup), (full, full_cleanup)):
            engine.dispose()
            cleanup()


@pytest.mark.parametrize("domain", ["jobs", "courses", "housing"])
@pytest.mark.parametrize("seed", [1, 2])
def test_incremental_publication_equals_full_on_random_changes(tmp_path, monkeypatch, domain, seed):
    _compare_rounds(tmp_path, monkeypatch, "sqlite", domain, seed)


def test_incremental_publication_equals_full_on_postgresql(tmp_path, monkeypatch):
    _compare_rounds(tmp_path, monkeypatch, "postgresql", "jobs", 3)


@pytest.mark.parametrize("domain", ["jobs", "housing"])
def test_incremental_publication_with_blocks_above_the_limit(tmp_path, monkeypatch, domain):
    """Blocks above MAX_BLOCK are compared in a sorted neighbourhood (jobs) or not at all:
    a change in one moves every member's window, so the whole block is re-resolved."""
    monkeypatch.setattr(blocking, "MAX_BLOCK", 6)
    monkeypatch.setattr(affected, "MAX_BLOCK", 6)
    _compare_rounds(tmp_path, monkeypatch, "sqlite", domain, 4, rounds=3, erase=False)


def test_auto_mode_publishes_incrementally_only_what_changed(tmp_path, monkeypatch):
    monkeypatch.setattr(publish, "PROGRESS_EVERY", 50)
    url, cleanup = new_database_url("sqlite", tmp_path)
    engine = make_engine(url)
    migrate(engine)
    records = labelled("jobs", entities=200, seed=5)
    for r in records:
        r["_domain"] = "jobs"
    status = {(r["partner_id"], r["source_id"]): "active" for r in records}
    seen = {(r["partner_id"], r["source_id"]): T0 for r in records}
    with engine.begin() as conn:
        upsert(conn, source_records, _rows(records, status, seen), ["domain", "partner_id", "source_id"])
    lines: list[str] = []
    first = publish_domain(engine, "jobs", now=T0, progress=lines.append)
    assert (first.mode, first.records) == ("full", len(records))
    # the steward sees each phase of a long publication (the Dagster asset logs these)
    assert lines[0] == "jobs: full resolution: reading the active records"
    assert f"jobs: {len(records)} records resolved into {first.entries} entities" in lines
    assert f"jobs: {first.entries} entries written" in lines  # every PROGRESS_EVERY (50 here)
    assert lines[-1] == (f"jobs: {first.entries} entries published ({first.added} added, "
                         "0 updated, 0 deleted); committing")
    with engine.connect() as conn:  # every record's keys are stored
        stored = conn.execute(sa.select(sa.func.count(sa.distinct(
            resolution_keys.c.partner_id + "/" + resolution_keys.c.source_id)))).scalar_one()
    assert stored == len([r for r in records if (r.get("address") or {}).get("postal_code")
                          or r.get("ba_reference") or r.get("url")]) or stored > 0.9 * len(records)

    nothing = publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=1))
    assert (nothing.mode, nothing.records, nothing.added, nothing.updated, nothing.deleted) == \
        ("incremental", 0, 0, 0, 0)
    assert nothing.entries == first.entries

    record = records[10]
    record["title"] = "Gabelstaplerfahrer (m/w/d) Spätschicht"
    with engine.begin() as conn:
        upsert(conn, source_records, _rows([record], status, seen), ["domain", "partner_id", "source_id"])
    lines.clear()
    one = publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=2), progress=lines.append)
    assert one.mode == "incremental" and 1 <= one.records < len(records) // 4
    assert lines[0].startswith("jobs: incremental resolution of 1 changed and 0 withdrawn records (")
    assert one.updated + one.added >= 1

    # most of the domain changed: a full resolution is the cheaper one
    for r in records[: len(records) // 2]:
        r["description"] = (r.get("description") or "") + " Neu ausgeschrieben."
    with engine.begin() as conn:
        upsert(conn, source_records, _rows(records, status, seen), ["domain", "partner_id", "source_id"])
    many = publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=3))
    assert (many.mode, many.records) == ("full", len(records))
    engine.dispose()
    cleanup()


def _job(pid, sid, title="Lagerhelfer (m/w/d)", org="Saar Logistik GmbH", postal="66538", ref=None, **extra):
    record = {"_domain": "jobs", "partner_id": pid, "source_id": sid, "title": title, "organisation": org,
              "address": {"postal_code": postal, "city": "Neunkirchen"}, "ba_reference": ref,
              "published_from": "2026-10-01"}
    record.update(extra)
    return record


def _inc_and_full(tmp_path, before: list[dict], after: list[dict], status_after: dict | None = None) -> dict:
    """Publishes ``before`` in full on twins, writes ``after`` (records changed, added or with
    another status), publishes one twin incrementally and the other in full; returns the
    incremental twin's state after asserting the two are the same."""
    status = {(r["partner_id"], r["source_id"]): "active" for r in before + after}
    seen = {key: T0 for key in status}
    (inc, inc_cleanup), (full, full_cleanup) = _twins(tmp_path, "sqlite")
    try:
        for engine in (inc, full):
            with engine.begin() as conn:
                upsert(conn, source_records, _rows(before, status, seen), ["domain", "partner_id", "source_id"])
            publish_domain(engine, "jobs", now=T0, mode="full")
        status.update(status_after or {})
        for engine in (inc, full):
            with engine.begin() as conn:
                upsert(conn, source_records, _rows(after, status, seen), ["domain", "partner_id", "source_id"])
        assert publish_domain(inc, "jobs", now=T0 + dt.timedelta(hours=1), mode="incremental").mode == "incremental"
        publish_domain(full, "jobs", now=T0 + dt.timedelta(hours=1), mode="full")
        a, b = _state(inc, "jobs"), _state(full, "jobs")
        assert a == b
        return a
    finally:
        for engine, cleanup in ((inc, inc_cleanup), (full, full_cleanup)):
            engine.dispose()
            cleanup()


def test_a_record_left_ambiguous_joins_once_its_rival_moves_away(tmp_path):
    """The employer's own posting fits two BA postings equally well and joins neither (the
    pairs are entangled); when one of them moves to another town, the other one is the only
    fit: the incremental publication must reach it through the stored entanglement."""
    before = [_job("jc", "1", ref="1"), _job("jc", "2", ref="2"), _job("employer", "own-7")]
    after = [_job("jc", "2", ref="2", postal="66111")]
    state = _inc_and_full(tmp_path, before, after)
    entity = state["entity_of_active_record"]
    assert entity[("employer", "own-7")] == entity[("jc", "1")]


def test_a_withdrawal_in_a_block_above_the_limit_moves_the_windows(tmp_path, monkeypatch):
    """In a block above MAX_BLOCK only neighbours by date are compared: when a record between
    two postings of one offer goes, they become neighbours and join."""
    monkeypatch.setattr(blocking, "MAX_BLOCK", 3)
    monkeypatch.setattr(affected, "MAX_BLOCK", 3)
    fillers = [_job(f"p{i}", f"m{i}", employment_type="apprenticeship") for i in range(3)]
    before = [_job("a", "d1", employment_type="employee"), *fillers, _job("z", "d2", employment_type="employee")]
    state = _inc_and_full(tmp_path, before, [fillers[2]], {("p2", "m2"): "withdrawn"})
    entity = state["entity_of_active_record"]
    assert entity[("a", "d1")] == entity[("z", "d2")]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_record_changed_while_the_publication_runs_is_resolved_again_next_time(tmp_path, monkeypatch, kind):
    """A sync commits a new version of a record after resolution read the domain and before
    the publication writes: the entity map keeps the hash that was resolved, so the next
    publication takes the record up again (here: it became a duplicate and joins)."""
    url, cleanup = new_database_url(kind, tmp_path)
    engine = make_engine(url)
    migrate(engine)
    try:
        twin = _job("jc", "s", ref=None)
        other = _job("emp", "r", title="Koch (m/w/d)", org="Hotel am Stummplatz GmbH")
        fillers = [_job("wbg", f"f{i}", title=title, org=f"Betrieb {title.split()[0]} KG")
                   for i, title in enumerate(["Maler", "Elektroniker", "Tischler", "Pflegehelfer",
                                              "Verkäufer", "Bäcker", "Friseur", "Gärtner"])]
        records = [twin, other, *fillers]
        status = {(r["partner_id"], r["source_id"]): "active" for r in records}
        seen = {key: T0 for key in status}
        with engine.begin() as conn:
            upsert(conn, source_records, _rows(records, status, seen), ["domain", "partner_id", "source_id"])
        publish_domain(engine, "jobs", now=T0, mode="full")

        reworded = dict(twin, partner_id="emp", source_id="r")  # now the same offer as jc/s
        original_assign = publish.assign_ids

        def assign_while_a_sync_commits(*args, **kwargs):
            with engine.begin() as other_conn:  # another process's sync, committed meanwhile
                upsert(other_conn, source_records, _rows([reworded], status, seen),
                       ["domain", "partner_id", "source_id"])
            return original_assign(*args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr(publish, "assign_ids", assign_while_a_sync_commits)
            other["title"] = "Koch (m/w/d) Frühschicht"  # a change of its own, so this one is incremental
            with engine.begin() as conn:
                upsert(conn, source_records, _rows([other], status, seen), ["domain", "partner_id", "source_id"])
            first = publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=1))
        state = _state(engine, "jobs")["entity_of_active_record"]
        assert first.mode == "incremental" and state[("emp", "r")] != state[("jc", "s")]

        second = publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=2))
        state = _state(engine, "jobs")["entity_of_active_record"]
        assert second.mode == "incremental" and second.records >= 1
        assert state[("emp", "r")] == state[("jc", "s")]
    finally:
        engine.dispose()
        cleanup()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_full_publication_that_fails_leaves_the_keys_and_their_index(tmp_path, monkeypatch, kind):
    """A full publication drops the keys' index and builds it again after writing them: a
    failure in between takes all of it back (on SQLite too, whose driver would commit DDL
    outside the transaction)."""
    url, cleanup = new_database_url(kind, tmp_path)
    engine = make_engine(url)
    migrate(engine)
    try:
        records = [dict(r, _domain="jobs") for r in labelled("jobs", entities=40, seed=7)]
        status = {(r["partner_id"], r["source_id"]): "active" for r in records}
        with engine.begin() as conn:
            upsert(conn, source_records, _rows(records, status, dict.fromkeys(status, T0)),
                   ["domain", "partner_id", "source_id"])
        publish_domain(engine, "jobs", now=T0, mode="full")
        with engine.connect() as conn:
            before = conn.execute(sa.select(sa.func.count()).select_from(resolution_keys)).scalar_one()

        def fail(self, conn):
            raise OSError("disk full")

        monkeypatch.setattr(publish._KeyRows, "write", fail)
        with pytest.raises(OSError):
            publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=1), mode="full")
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(resolution_keys)).scalar_one() == before
            assert "ix_resolution_keys_key" in {ix["name"] for ix in sa.inspect(conn).get_indexes("resolution_keys")}
        assert before > len(records)
    finally:
        engine.dispose()
        cleanup()


def test_an_id_coming_back_after_a_merge_and_split_keeps_its_creation_time(tmp_path):
    """A younger posting merges into an older one (its id redirected), then is reworded away
    again: it gets its old id back, outside the scope's previous entities, and keeps the time
    that id was first created, as in a full publication."""
    older = _job("jc", "1")
    younger = _job("portal", "p", title="Koch (m/w/d)", org="Hotel am Stummplatz GmbH")
    fillers = [_job("wbg", f"f{i}", title=title, org=f"Betrieb {title} KG")
               for i, title in enumerate(["Maler", "Elektroniker", "Tischler", "Bäcker", "Friseur"])]
    records = [older, younger, *fillers]
    status = {(r["partner_id"], r["source_id"]): "active" for r in records}
    seen = {key: T0 for key in status}
    seen[("portal", "p")] = T0 + dt.timedelta(days=1)
    (inc, inc_cleanup), (full, full_cleanup) = _twins(tmp_path, "sqlite")
    try:
        rounds = [None, dict(older, partner_id="portal", source_id="p"), younger]
        for step, version in enumerate(rounds):
            for engine in (inc, full):
                with engine.begin() as conn:
                    upsert(conn, source_records, _rows([version] if version else records, status, seen),
                           ["domain", "partner_id", "source_id"])
                mode = "full" if engine is full or version is None else "incremental"
                assert publish_domain(engine, "jobs", now=T0 + dt.timedelta(days=step), mode=mode).mode == mode
            assert _state(inc, "jobs") == _state(full, "jobs"), f"step {step}"
        with inc.connect() as conn:
            merged = conn.execute(sa.select(sa.func.count()).select_from(entities)
                                  .where(entities.c.created_at < T0 + dt.timedelta(days=2))).scalar_one()
        assert merged == len(records)  # no entity was created anew: the split took its id back
    finally:
        for engine, cleanup in ((inc, inc_cleanup), (full, full_cleanup)):
            engine.dispose()
            cleanup()


def test_a_release_that_builds_entries_otherwise_rebuilds_every_entry_at_its_first_publication(
        tmp_path, monkeypatch):
    """A directory published by a release before RESOLUTION_VERSION 2 has entries without the
    Land their sources left out. After the upgrade the next publication, with no record
    changed, is a full one: every entry is rebuilt with its Land, and portals reading the
    change feed get each such entry once more as updated."""
    from hub.resolve import survivorship

    url, cleanup = new_database_url("sqlite", tmp_path)
    engine = make_engine(url)
    migrate(engine)
    records = [_job("vhs", f"{n}", title=f"Stelle {n}") for n in range(5)]
    status = {(r["partner_id"], r["source_id"]): "active" for r in records}
    with engine.begin() as conn:
        upsert(conn, source_records, _rows(records, status, {k: T0 for k in status}),
               ["domain", "partner_id", "source_id"])
    with monkeypatch.context() as old_release:
        old_release.setattr(publish, "RESOLUTION_VERSION", 1)
        old_release.setattr(survivorship, "_derive_state", lambda entry, provenance: None)
        publish_domain(engine, "jobs", now=T0)
    with engine.connect() as conn:
        assert all("state" not in entry["address"]
                   for entry in conn.execute(sa.select(directory.c.entry)).scalars())
        seq = conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar_one()

    upgraded = publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=1))
    assert (upgraded.mode, upgraded.updated) == ("full", len(records))
    with engine.connect() as conn:
        assert {entry["address"]["state"]
                for entry in conn.execute(sa.select(directory.c.entry)).scalars()} == {"Saarland"}
        assert conn.execute(sa.select(sa.func.count()).select_from(changes)
                            .where(changes.c.seq > seq, changes.c.op == "updated")).scalar_one() == 5
    assert publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=2)).mode == "incremental"
    engine.dispose()
    cleanup()


def test_the_first_publication_after_an_upgrade_says_why_it_is_full(tmp_path, monkeypatch):
    """A steward watching the first publication after an upgrade that raised
    RESOLUTION_VERSION learns why every record is resolved again (a national domain takes
    long, and every changed entry lands in the change feed), and the next one is incremental."""
    url, cleanup = new_database_url("sqlite", tmp_path)
    engine = make_engine(url)
    migrate(engine)
    records = [_job("ba", f"J{i}", title=f"Lagerhelfer {i} (m/w/d)", postal=f"66{500 + i}") for i in range(12)]
    status = {(r["partner_id"], r["source_id"]): "active" for r in records}
    seen = {(r["partner_id"], r["source_id"]): T0 for r in records}
    with engine.begin() as conn:
        upsert(conn, source_records, _rows(records, status, seen), ["domain", "partner_id", "source_id"])
    lines: list[str] = []
    publish_domain(engine, "jobs", now=T0, progress=lines.append)
    assert lines[0] == "jobs: full resolution: reading the active records"  # the first: no reason
    for older, said in ((publish.RESOLUTION_VERSION - 1, f"RESOLUTION_VERSION {publish.RESOLUTION_VERSION - 1}"),
                        (None, "a release that recorded no RESOLUTION_VERSION")):
        with engine.begin() as conn:  # as the release before wrote it (None: before migration 0006)
            conn.execute(publications.update().values(resolution_version=older))
        lines.clear()
        again = publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=1), progress=lines.append)
        assert again.mode == "full"
        assert lines[0] == (f"jobs: the last publication was made by {said}, this release's is "
                            f"{publish.RESOLUTION_VERSION} (an upgrade): every record is resolved "
                            "again and every entry rebuilt, once (docs/resolution.md)")
        assert lines[1] == "jobs: full resolution: reading the active records"
    lines.clear()
    assert publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=2), progress=lines.append).mode == "incremental"
    assert not any("last publication" in line for line in lines)
    engine.dispose()
    cleanup()
