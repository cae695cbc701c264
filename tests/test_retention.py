"""Retention, as plain functions on SQLite and PostgreSQL: offers that are over are withdrawn
and leave tombstones in the change feed; contact data is purged from every table and from the
landing store after the retention period, and kept before it."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa

from hub import clock
from hub.models import CourseOffer, JobPosting, Rejection
from hub.quality.feedback import deliver_feedback
from hub.registry import parse_registry
from hub.store.landing import LandingStore
from hub.store.publish import publish_domain
from hub.store.retention import (
    RetentionError,
    RetentionPolicy,
    compact_changes,
    purge_personal_data,
    refresh_feedback_reports,
    run_retention,
)
from hub.store.staging import write_stage
from hub.store.tables import (
    changes,
    directory,
    entity_map,
    fetch_state,
    landing,
    metadata,
    rejections,
    source_records,
)
from tests.feeds import registry_text
from tests.personal_data import file_hits, table_hits

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.timezone.utc)
TODAY = NOW.date()
ADDRESS = {"postal_code": "66538", "city": "Neunkirchen"}


def job(source_id: str, partner: str = "employer-a", **extra) -> JobPosting:
    return JobPosting(partner_id=partner, source_id=source_id, title=f"Koch (m/w/d) {source_id}",
                      organisation="Gasthaus Krone", address=ADDRESS, **extra)


COURSE_TITLES = {"C-STALE": "Alphabetisierung am Vormittag", "C-ENDED": "Integrationskurs B1 Abend",
                 "C-ROLLING": "Deutsch im Beruf, laufender Einstieg", "C-RUNNING": "Intensivkurs A2",
                 "C-LATER": "Integrationskurs A1 Vormittag"}


def course(source_id: str, partner: str = "school-a", **extra) -> CourseOffer:
    return CourseOffer(partner_id=partner, source_id=source_id, title=COURSE_TITLES[source_id],
                       organisation="Sprachschule Saar", course_type="integration_course", address=ADDRESS,
                       **extra)


def stage(engine, partner, domain, records, *, now, rejections=(), sha="0" * 64, snapshot=True):
    with engine.begin() as conn:
        write_stage(conn, partner_id=partner, domain=domain, content_sha256=sha, records=records,
                    record_rejections=list(rejections), items=len(records) + len(rejections),
                    snapshot=snapshot, deletions=[], now=now)


def entity_of(engine, partner, source_id):
    with engine.connect() as conn:
        return conn.execute(sa.select(entity_map.c.entity_id).where(
            entity_map.c.partner_id == partner, entity_map.c.source_id == source_id)).scalar_one()


def statuses(engine, domain):
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(source_records.c.source_id, source_records.c.status)
                                 .where(source_records.c.domain == domain)).all())


def test_policy_from_environment():
    assert RetentionPolicy.from_env({}) == RetentionPolicy(180, 365)
    assert RetentionPolicy.from_env({"HUB_CONTACT_RETENTION_DAYS": "30"}).contact_days == 30
    assert RetentionPolicy.from_env({}).history_days == 30
    assert RetentionPolicy.from_env({"HUB_CHANGES_HISTORY_DAYS": "7"}).history_days == 7
    with pytest.raises(RetentionError, match="HUB_CHANGES_HISTORY_DAYS"):
        RetentionPolicy.from_env({"HUB_CHANGES_HISTORY_DAYS": "0"})
    with pytest.raises(RetentionError, match="HUB_CONTACT_RETENTION_DAYS"):
        RetentionPolicy.from_env({"HUB_CONTACT_RETENTION_DAYS": "ein halbes Jahr"})
    with pytest.raises(RetentionError, match="at least 1"):
        RetentionPolicy.from_env({"HUB_COURSE_OPEN_DAYS": "0"})


def test_expired_jobs_and_past_courses_are_withdrawn_with_tombstones(engine):
    earlier = NOW - dt.timedelta(days=400)
    yesterday = TODAY - dt.timedelta(days=1)
    stage(engine, "employer-a", "jobs", [
        job("J-EXPIRED", valid_through=yesterday),
        job("J-TODAY", valid_through=TODAY),  # valid through today: still shown
        job("J-OPEN"),  # no end date: the partner's feed decides
    ], now=NOW - dt.timedelta(days=30))
    # a course that nobody touched for more than a year, started long ago, no end date
    stage(engine, "school-old", "courses", [
        course("C-STALE", partner="school-old", start_date=TODAY - dt.timedelta(days=500)),
    ], now=earlier)
    stage(engine, "school-a", "courses", [
        course("C-ENDED", start_date=TODAY - dt.timedelta(days=90), end_date=yesterday),
        # rolling entry, but the partner delivered it recently: it stays
        course("C-ROLLING", start_date=TODAY - dt.timedelta(days=450)),
        course("C-RUNNING", start_date=TODAY - dt.timedelta(days=10), end_date=TODAY + dt.timedelta(days=90)),
        course("C-LATER", start_date=TODAY + dt.timedelta(days=20)),
    ], now=NOW - dt.timedelta(days=3))
    for domain in ("jobs", "courses"):
        publish_domain(engine, domain, now=NOW - dt.timedelta(days=3))
    gone = {("employer-a", "J-EXPIRED"), ("school-a", "C-ENDED"), ("school-old", "C-STALE")}
    gone_ids = {entity_of(engine, p, s) for p, s in gone}

    report = run_retention(engine, today=TODAY, now=NOW)

    assert report.withdrawn == {"jobs": 1, "courses": 2}
    assert report.deleted == {"jobs": 1, "courses": 2}
    assert statuses(engine, "jobs") == {"J-EXPIRED": "withdrawn", "J-TODAY": "active", "J-OPEN": "active"}
    assert statuses(engine, "courses") == {"C-STALE": "withdrawn", "C-ENDED": "withdrawn",
                                           "C-ROLLING": "active", "C-RUNNING": "active",
                                           "C-LATER": "active"}
    with engine.connect() as conn:
        tombstones = conn.execute(sa.select(changes.c.entity_id, changes.c.entry)
                                  .where(changes.c.op == "deleted")).all()
        published = {eid for (eid,) in conn.execute(sa.select(directory.c.entity_id))}
    assert {t.entity_id for t in tombstones} == gone_ids
    assert all(t.entry == {"id": t.entity_id, "domain": t.entry["domain"]} for t in tombstones)
    assert not gone_ids & published
    assert len(published) == 5

    # a second pass finds nothing more to do and publishes nothing
    again = run_retention(engine, today=TODAY, now=NOW + dt.timedelta(hours=1))
    assert again.withdrawn == {} and again.deleted == {}



@pytest.mark.parametrize("before, after", [
    # winter: midnight Berlin is 23:00 UTC; New Year's Eve
    (dt.datetime(2026, 12, 31, 22, 59, tzinfo=dt.timezone.utc),
     dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.timezone.utc)),
    # summer time began that night (28 March 2027): midnight Berlin is 22:00 UTC
    (dt.datetime(2027, 3, 28, 21, 59, tzinfo=dt.timezone.utc),
     dt.datetime(2027, 3, 28, 22, 0, tzinfo=dt.timezone.utc)),
    # 29 February, and the pass comes on a server that hands ``now`` on naive (UTC)
    (dt.datetime(2028, 2, 29, 22, 59), dt.datetime(2028, 2, 29, 23, 1)),
])
def test_a_posting_valid_through_a_berlin_day_goes_at_midnight_berlin_time(engine, before, after):
    """Without ``today`` the pass measures against the day in Berlin at ``now``, not the UTC
    day: a posting valid through 31.12. is shown until 23:59 Berlin time and withdrawn by the
    first pass after midnight (00:00 Berlin is still the 31st in UTC, and was kept till 01:00)."""
    last_day = before.date()  # 23:59 in Berlin
    stage(engine, "employer-a", "jobs", [
        job("J-LAST-DAY", valid_through=last_day),
        job("J-NEXT-DAY", valid_through=last_day + dt.timedelta(days=1)),
    ], now=before - dt.timedelta(days=3))
    publish_domain(engine, "jobs", now=before - dt.timedelta(days=3))

    assert run_retention(engine, now=before).withdrawn == {}
    assert statuses(engine, "jobs") == {"J-LAST-DAY": "active", "J-NEXT-DAY": "active"}

    assert run_retention(engine, now=after).withdrawn == {"jobs": 1}
    assert statuses(engine, "jobs") == {"J-LAST-DAY": "withdrawn", "J-NEXT-DAY": "active"}


CONTACT = {"name": "Erika Musterfrau", "email": "erika.musterfrau@example.org",
           "phone": "+49 6821 4711 0815", "public": True}
NEEDLES = ["Musterfrau", "erika.musterfrau@example", "4711 0815"]
KEPT = {"name": "Hans Beispiel", "email": "hans.beispiel@example.org", "phone": "+49 6824 2233",
        "public": True}


def seed_contact_history(engine, store: LandingStore, t0: dt.datetime, t1: dt.datetime) -> None:
    """At t0 employer-a delivers K-1 (public contact Erika) and K-2 (public contact Hans) and a
    rejected K-BAD (Erika's mistyped e-mail); at t1 a new delivery drops K-1 (withdrawn). The
    raw payload of t0 holds Erika's data; the current one does not."""
    old_payload = ('{"jobs":[{"id":"K-1","contact":"Erika Musterfrau, erika.musterfrau@example.org, '
                   '+49 6821 4711 0815"},{"id":"K-BAD","email":"erika.musterfrau@example"}]}').encode()
    new_payload = b'{"jobs":[{"id":"K-2","contact":"Hans Beispiel"}]}'
    old_sha, new_sha = store.put(old_payload), store.put(new_payload)
    with engine.begin() as conn:
        conn.execute(landing.insert(), [
            {"sha256": old_sha, "size": len(old_payload), "content_type": "application/json", "first_seen": t0},
            {"sha256": new_sha, "size": len(new_payload), "content_type": "application/json", "first_seen": t1},
        ])
        conn.execute(fetch_state.insert().values(partner_id="employer-a", domain="jobs", source="file:///x",
                                                 content_sha256=new_sha, staged_sha256=new_sha))
    bad = Rejection(partner_id="employer-a", domain="jobs", source_id="K-BAD", rule="CONTACT_EMAIL_INVALID",
                    field="contact.email", value="erika.musterfrau@example",
                    message="Die E-Mail-Adresse ist ungültig.", message_en="The e-mail address is invalid.",
                    title="Koch (m/w/d)")
    stage(engine, "employer-a", "jobs", [job("K-1", contact=CONTACT), job("K-2", contact=KEPT)],
          rejections=[bad], now=t0, sha=old_sha)
    publish_domain(engine, "jobs", now=t0)
    stage(engine, "employer-a", "jobs", [job("K-2", contact=KEPT)], now=t1, sha=new_sha)
    publish_domain(engine, "jobs", now=t1)


def test_contact_data_is_purged_from_every_table_after_the_period_and_kept_before(engine, tmp_path):
    store = LandingStore(tmp_path / "landing")
    t1 = NOW - dt.timedelta(days=200)  # K-1 withdrawn 200 days ago
    t0 = t1 - dt.timedelta(days=1)
    seed_contact_history(engine, store, t0, t1)
    policy = RetentionPolicy(contact_days=180)

    before = purge_personal_data(engine, store, policy, now=t1 + dt.timedelta(days=170))
    assert (before.records, before.rejections, before.changes, before.payloads) == (0, 0, 0, 0)
    hits = table_hits(engine, NEEDLES)
    assert {"source_records", "rejections", "changes"} <= set(hits)
    assert file_hits(store.root, NEEDLES)

    # a fetch killed while it wrote its body left a temporary file: old ones go, a fresh
    # one (a fetch going on now) stays
    unfinished, going_on = store.root / ".incoming-killed", store.root / ".incoming-now"
    unfinished.write_bytes(CONTACT["email"].encode())
    os.utime(unfinished, (t0.timestamp(), t0.timestamp()))
    going_on.write_bytes(b"{")

    after = purge_personal_data(engine, store, policy, now=NOW)
    assert (after.records, after.rejections, after.changes, after.payloads) == (1, 1, 1, 1)
    assert not unfinished.exists() and going_on.exists()
    assert table_hits(engine, NEEDLES) == {}
    assert file_hits(store.root, NEEDLES) == []
    # the withdrawn record itself is kept (ids, dates, title), only its contact went
    with engine.connect() as conn:
        record = conn.execute(sa.select(source_records.c.record)
                              .where(source_records.c.source_id == "K-1")).scalar_one()
        erased = conn.execute(sa.select(landing.c.sha256).where(landing.c.erased_at.is_not(None))).all()
    assert record["contact"] is None and record["title"].startswith("Koch")
    assert len(erased) == 1
    with pytest.raises(KeyError, match="erased on .* \\(retention period\\)"):
        store.get(erased[0].sha256)

    # the active record keeps its public contact, in the records, the directory and its
    # current change-feed item; the current payload stays
    kept = table_hits(engine, ["hans.beispiel@example.org"])
    assert kept.get("source_records") == 1 and kept.get("directory") == 1 and kept.get("changes")
    assert file_hits(store.root, ["Hans Beispiel"])

    # purging again changes nothing
    twice = purge_personal_data(engine, store, policy, now=NOW + dt.timedelta(days=1))
    assert (twice.records, twice.rejections, twice.changes, twice.payloads) == (0, 0, 0, 0)


def test_feedback_reports_on_disk_are_rewritten_without_purged_values(engine, tmp_path):
    store = LandingStore(tmp_path / "landing")
    t1 = NOW - dt.timedelta(days=200)
    seed_contact_history(engine, store, t1 - dt.timedelta(days=1), t1)
    # the report of a delivery whose only problem is K-BAD's malformed e-mail
    bad = Rejection(partner_id="employer-a", domain="jobs", source_id="K-BAD", rule="CONTACT_EMAIL_INVALID",
                    field="contact.email", value="erika.musterfrau@example",
                    message="Die E-Mail-Adresse ist ungültig.", message_en="The e-mail address is invalid.")
    stage(engine, "employer-a", "jobs", [job("K-2", contact=KEPT)], rejections=[bad],
          now=NOW - dt.timedelta(days=190), sha="1" * 64)
    partner = parse_registry(registry_text(("employer-a", "csv-jobs", "file:///feeds/a.csv")),
                             "registry.yaml").get("employer-a")
    folder = tmp_path / "feedback"
    deliver_feedback(engine, partner, "jobs", folder, environ={})
    assert file_hits(folder, ["erika.musterfrau@example"])

    assert purge_personal_data(engine, store, RetentionPolicy(contact_days=180), now=NOW).rejections == 2
    assert refresh_feedback_reports(engine, [partner], folder) == 1
    assert file_hits(folder, NEEDLES) == []
    assert file_hits(folder, ["K-BAD"])  # the problem is still reported, without the value


def test_superseded_change_items_lose_the_contact_of_an_entity_that_stays(engine):
    """A contact that changed (or stopped being public) lingers in old change-feed items
    until the retention period after the change."""
    t0 = NOW - dt.timedelta(days=300)
    stage(engine, "employer-a", "jobs", [job("K-9", contact=CONTACT)], now=t0)
    publish_domain(engine, "jobs", now=t0)
    stage(engine, "employer-a", "jobs", [job("K-9", contact=KEPT)], now=t0 + dt.timedelta(days=10))
    publish_domain(engine, "jobs", now=t0 + dt.timedelta(days=10))

    policy = RetentionPolicy(contact_days=180)
    assert purge_personal_data(engine, None, policy, now=t0 + dt.timedelta(days=100)).changes == 0
    assert "changes" in table_hits(engine, NEEDLES)
    assert purge_personal_data(engine, None, policy, now=NOW).changes == 1
    assert table_hits(engine, NEEDLES) == {}
    with engine.connect() as conn:
        items = conn.execute(sa.select(changes.c.entry).order_by(changes.c.seq)).scalars().all()
    assert "contact" not in items[0] and "contact" not in items[0]["provenance"]
    assert items[0]["title"].startswith("Koch")
    assert items[1]["contact"]["email"] == "hans.beispiel@example.org"


def _mirror(engine, after=0, state=None, until=None):
    """What a portal holds after applying the change feed from ``after`` (up to ``until``)
    onto ``state``."""
    state = dict(state or {})
    upto = [] if until is None else [changes.c.seq <= until]
    with engine.connect() as conn:
        for item in conn.execute(sa.select(changes).where(changes.c.seq > after, *upto)
                                 .order_by(changes.c.seq)):
            if item.op == "updated":
                state[item.entity_id] = item.entry
            else:
                state.pop(item.entity_id, None)
    return state


def test_superseded_change_items_are_compacted_after_the_history_period(engine):
    """The change feed kept every item for ever. Items that a later item of their entity
    superseded more than HUB_CHANGES_HISTORY_DAYS ago go; every entity keeps its newest
    item, so a portal reading from after=0, and one at any cursor, ends at the directory."""
    t0 = NOW - dt.timedelta(days=60)
    steps = [(0, [job("K-1", description="v1"), job("K-2")]),
             (5, [job("K-1", description="v2"), job("K-2")]),
             (10, [job("K-1", description="v3")]),  # K-2 withdrawn: its tombstone
             (50, [job("K-1", description="v4")])]
    cursors = []  # a portal's cursor after each publication, with what it held then
    for day, records in steps:
        stage(engine, "employer-a", "jobs", records, now=t0 + dt.timedelta(days=day))
        publish_domain(engine, "jobs", now=t0 + dt.timedelta(days=day))
        with engine.connect() as conn:
            cursors.append(conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar_one())
    with engine.connect() as conn:
        before = conn.execute(sa.select(changes.c.seq, changes.c.op)).all()
        current = dict(conn.execute(sa.select(directory.c.entity_id, directory.c.entry)).all())
    assert len(before) == 6 and _mirror(engine) == current
    held = [_mirror(engine, until=cursor) for cursor in cursors]

    # history 30 days, run on day 45: what day 0 and 5 superseded (on day 5 and 10) goes;
    # K-1's v3, superseded on day 50, stays
    report = run_retention(engine, None, now=t0 + dt.timedelta(days=45),
                           policy=RetentionPolicy(history_days=30))
    assert report.compacted == 3
    with engine.connect() as conn:
        left = conn.execute(sa.select(changes.c.seq, changes.c.entity_id, changes.c.op, changes.c.entry)
                            .order_by(changes.c.seq)).all()
    k1, k2 = entity_of(engine, "employer-a", "K-1"), entity_of(engine, "employer-a", "K-2")
    items = [(row.entity_id, row.op, (row.entry or {}).get("description")) for row in left]
    assert sorted(items[:2]) == sorted([(k2, "deleted", None), (k1, "updated", "v3")])  # day 10
    assert items[2:] == [(k1, "updated", "v4")]
    assert left[-1].seq == before[-1].seq  # the newest seq stays: cursors ahead stay valid
    assert _mirror(engine) == current
    for cursor, state in zip(cursors, held):
        assert _mirror(engine, cursor, state) == current  # a portal at any cursor loses nothing

    assert compact_changes(engine, t0 + dt.timedelta(days=51)) == 1  # v3, superseded on day 50
    assert _mirror(engine) == current
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(changes)).scalar_one() == 2


def test_the_retention_asset_shows_the_directory_it_leaves(db_url, engine, tmp_path, monkeypatch):
    """Run by Dagster, retention records the directory it published as a materialization of
    directory/<domain>: the steward's view shows the entries after the withdrawal, not
    those of the last sync. A domain it did not touch gets none."""
    import dagster as dg

    from hub.assets.maintenance import MAINTENANCE_ASSETS
    from hub.resources import HubStore

    today = clock.today()  # the asset measures against the real day (in Berlin)
    now = dt.datetime.now(dt.timezone.utc)
    stage(engine, "employer-a", "jobs", [
        job("J-EXPIRED", valid_through=today - dt.timedelta(days=1)), job("J-OPEN")],
        now=now - dt.timedelta(days=2))
    stage(engine, "school-a", "courses", [course("C-LATER", start_date=today + dt.timedelta(days=20))],
          now=now - dt.timedelta(days=2))
    for domain in ("jobs", "courses"):
        publish_domain(engine, domain, now=now - dt.timedelta(days=2))
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners: []\n")
    store = HubStore(database_url=db_url, home=str(tmp_path / "home"), registry_path=str(registry))
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(MAINTENANCE_ASSETS, resources={"hub_store": store}, instance=instance)
        assert result.success
        jobs = instance.get_latest_materialization_event(dg.AssetKey(["directory", "jobs"]))
        assert jobs.run_id == result.run_id
        shown = jobs.asset_materialization
        assert shown.metadata["entries"].value == 1 and shown.metadata["deleted"].value == 1
        assert "retention: 1 jobs over withdrawn" in shown.description
        assert instance.get_latest_materialization_event(dg.AssetKey(["directory", "courses"])) is None
        own = instance.get_latest_materialization_event(dg.AssetKey(["maintenance", "retention"]))
        counts = {key: value.value for key, value in own.asset_materialization.metadata.items()}
        assert counts["withdrawn_jobs"] == 1 and counts["tombstones"] == 1
        # J-EXPIRED's item of two days ago, superseded by its tombstone now: kept 30 days
        assert counts["changes_history_days"] == 30 and counts["changes_compacted"] == 0


def _age(engine, inbox, days: int) -> None:
    """Everything the hub wrote (every time stamp of its tables, the inbox files moved aside)
    moved ``days`` into the past, as though the syncs had run then."""
    delta = dt.timedelta(days=days)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            stamps = [c for c in table.columns if isinstance(c.type, sa.DateTime)]
            if not stamps:
                continue
            keys = list(table.primary_key.columns)
            for row in conn.execute(sa.select(*keys, *stamps)).all():
                values = {c.name: getattr(row, c.name) - delta for c in stamps
                          if getattr(row, c.name) is not None}
                if values:
                    conn.execute(table.update().where(*(k == getattr(row, k.name) for k in keys))
                                 .values(**values))
    for path in inbox.rglob("*"):
        stamp = path.stat().st_mtime - delta.total_seconds()
        os.utime(path, (stamp, stamp))


def test_the_retention_asset_leaves_no_contact_of_old_deliveries_in_tables_or_inbox_files(
        db_url, tmp_path, monkeypatch):
    """An inbox partner sent Erika's job and Karl's with a malformed e-mail, then a delivery
    without both. Run by Dagster after the period, retention leaves neither contact anywhere:
    not in the rejection's messages, which quote the malformed e-mail, and not in the file of
    the old delivery in processed/, a copy of the raw payload it drops. The current delivery's
    file and Hans's published contact stay."""
    import dagster as dg

    from hub.assets.maintenance import MAINTENANCE_ASSETS
    from hub.resources import HubStore, engine_for
    from tests.test_erase import EMPLOYER, ERIKA, HANS, HEADER, KARL, inbox_setup

    second = HEADER + EMPLOYER.splitlines(keepends=True)[2]  # A-2 (Hans) alone
    inbox, store = inbox_setup(db_url, tmp_path, monkeypatch, EMPLOYER, second)
    engine = engine_for(db_url)
    assert "rejections" in table_hits(engine, KARL)
    assert len(file_hits(inbox / "processed", KARL + ERIKA)) == 1
    _age(engine, inbox, 200)

    hub_store = HubStore(database_url=db_url, home=str(tmp_path / "home"),
                         registry_path=os.environ["HUB_REGISTRY"])
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(MAINTENANCE_ASSETS, resources={"hub_store": hub_store},
                                instance=instance)
        assert result.success
        shown = instance.get_latest_materialization_event(dg.AssetKey(["maintenance", "retention"]))
        metadata_shown = shown.asset_materialization.metadata
    assert metadata_shown["contacts_purged_rejections"].value == 1
    assert metadata_shown["inbox_files_removed"].value == 1
    assert table_hits(engine, KARL + ERIKA) == {}
    assert file_hits(inbox, KARL + ERIKA) == [] and file_hits(store.root, KARL + ERIKA) == []
    assert len(file_hits(inbox / "processed", HANS)) == 1  # the current delivery
    assert "directory" in table_hits(engine, HANS)
    with engine.connect() as conn:
        bad = conn.execute(sa.select(rejections).where(rejections.c.source_id == "A-BAD")).one()
    assert bad.value is None and bad.message_en == "The contact's e-mail address '…' is invalid."


def test_payloads_a_restored_database_does_not_know_go_after_the_period(engine, tmp_path):
    """The database restored from an older backup knows none of the deliveries landed since;
    their payload files stayed in the landing store. The retention pass went by the database's
    rows only, so those files kept their contacts for ever (and no erasure finds them). Past
    the period they lose their bytes as any payload no feed uses; a younger one stays, and so
    do the pages of a manifest the database names."""
    from tests.test_api import _backup

    store = LandingStore(tmp_path / "landing")
    t1 = NOW - dt.timedelta(days=200)
    seed_contact_history(engine, store, t1 - dt.timedelta(days=1), t1)
    pages = [b'{"page":1,"contact":"Hans Beispiel"}', b'{"page":2}']
    manifest = store.put_pages(pages)
    with engine.begin() as conn:
        conn.execute(landing.insert().values(sha256=manifest, size=1, content_type="application/json",
                                             first_seen=t1))
        conn.execute(fetch_state.insert().values(partner_id="employer-b", domain="jobs", source="file:///y",
                                                 content_sha256=manifest, staged_sha256=manifest))
    restore = _backup(engine, tmp_path)
    # a delivery after the backup: its payload and its row; then the database is restored
    lost = ('{"jobs":[{"id":"K-9","contact":"Erika Musterfrau, erika.musterfrau@example.org, '
            '+49 6821 4711 0815"}]}').encode()
    lost_sha = store.put(lost)
    with engine.begin() as conn:
        conn.execute(landing.insert().values(sha256=lost_sha, size=len(lost), content_type="application/json",
                                             first_seen=t1 + dt.timedelta(days=1)))
    restore()
    young = store.put(b'{"jobs":[{"id":"K-10","contact":"landed since the restore, not yet staged"}]}')
    landed = (t1 + dt.timedelta(days=1)).timestamp()
    for sha in (lost_sha, *(store.part_hashes(manifest, "pages"))):
        os.utime(store.path_for(sha), (landed, landed))

    store_files = lambda: {p.name for p in store.root.glob("??/??/*") if len(p.name) == 64}  # noqa: E731
    purge_personal_data(engine, store, RetentionPolicy(contact_days=180), now=NOW)
    left = store_files()
    assert lost_sha not in left
    with pytest.raises(KeyError, match="no delivery in the database named it"):
        store.get(lost_sha)
    assert young in left and manifest in left and set(store.part_hashes(manifest, "pages")) <= left
    assert file_hits(store.root, NEEDLES) == []
