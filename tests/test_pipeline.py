"""The stages end to end on both databases, without Dagster: fetch -> stage -> publish, the
change feed, unchanged re-runs, and feeds that must never empty the directory."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hub.fetch import FeedFetcher, FetchPolicy
from hub.pipeline import StageError, fetch_partner_feed, stage_partner_feed
from hub.registry import parse_registry
from hub.store.landing import LandingStore
from hub.store.publish import publish_domain
from hub.store.tables import changes, directory, entities, rejections, source_records
from tests.feeds import Feed, ba_v6, posting, registry_text


@pytest.fixture
def landing(tmp_path):
    return LandingStore(tmp_path / "landing")


@pytest.fixture
def fetcher():
    return FeedFetcher(FetchPolicy(max_retries=1, backoff_base=0.01, deadline=10, sleep=lambda s: None))


def sync(engine, landing, fetcher, registry, domain="jobs"):
    for partner in registry.partners:
        fetch_partner_feed(engine, landing, fetcher, partner, domain)
        stage_partner_feed(engine, landing, partner, domain)
    return publish_domain(engine, domain)


def directory_rows(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r.entity_id: r.entry for r in conn.execute(sa.select(directory.c.entity_id, directory.c.entry))}


def replay_changes(engine) -> dict[str, dict]:
    """What a portal holds after applying the change feed from the start."""
    state: dict[str, dict] = {}
    with engine.connect() as conn:
        for row in conn.execute(sa.select(changes).order_by(changes.c.seq)):
            if row.op == "updated":
                state[row.entity_id] = row.entry
            else:
                state.pop(row.entity_id, None)
    return state


def test_feed_to_directory_then_unchanged_rerun_changes_nothing(engine, landing, fetcher, httpserver):
    feed = Feed(httpserver, "/jc.json", ba_v6([posting(n) for n in range(12)]))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))

    first = sync(engine, landing, fetcher, registry)
    assert (first.entries, first.added, first.deleted) == (12, 12, 0)
    entries = directory_rows(engine)
    assert len(entries) == 12
    entry = next(e for e in entries.values() if e["sources"][0]["source_id"] == "10001-1000000001-S")
    assert entry["title"] == "Fachkraft für Lagerlogistik (m/w/d)"
    assert entry["address"]["postal_code"] == "66564"
    assert entry["geo"] == {"lat": 49.401, "lon": 7.1633}

    with engine.connect() as conn:
        seq_before = conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar_one()
    second = sync(engine, landing, fetcher, registry)
    assert feed.requests == [200, 304]
    assert (second.added, second.updated, second.deleted) == (0, 0, 0)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar_one() == seq_before
    assert directory_rows(engine) == entries
    assert replay_changes(engine) == entries


def test_vanished_and_changed_records_reach_the_change_feed(engine, landing, fetcher, httpserver):
    postings = [posting(n) for n in range(12)]
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    sync(engine, landing, fetcher, registry)
    ids_before = set(directory_rows(engine))

    feed.body = ba_v6(postings[:11] + [])  # one vanished
    feed.body = ba_v6(postings[:10] + [posting(10, stellenangebotsTitel="Koch/Köchin (m/w/d)")])
    outcome = sync(engine, landing, fetcher, registry)
    assert (outcome.updated, outcome.deleted) == (1, 1)
    after = directory_rows(engine)
    assert set(after) < ids_before  # surviving ids are the same ids
    assert replay_changes(engine) == after
    with engine.connect() as conn:
        tombstones = conn.execute(sa.select(changes.c.entity_id).where(changes.c.op == "deleted")).scalars().all()
        statuses = dict(conn.execute(sa.select(entities.c.entity_id, entities.c.status)).all())
    assert len(tombstones) == 1 and statuses[tombstones[0]] == "withdrawn"


def test_same_posting_from_two_partners_is_one_entry_with_both_sources(engine, landing, fetcher, httpserver):
    shared = [posting(n) for n in range(3)]
    jc = Feed(httpserver, "/jc.json", ba_v6(shared + [posting(7)]))
    employer = Feed(httpserver, "/employer.json", ba_v6(shared))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", jc.url),
                                            ("saar-logistik", "ba-jobsuche", employer.url)))
    outcome = sync(engine, landing, fetcher, registry)
    assert outcome.entries == 4 and outcome.clusters_multi == 3
    merged = [e for e in directory_rows(engine).values() if len(e["sources"]) == 2]
    assert {s["partner_id"] for s in merged[0]["sources"]} == {"jobcenter-nk", "saar-logistik"}


@pytest.mark.parametrize(
    "bad_body, message",
    [
        (b'{"ergebnisliste": [{"referenznummer": "10001-1', "invalid JSON"),
        (ba_v6([]), "the feed is empty"),
        (b"<html><body>Wartungsarbeiten</body></html>", r"the file is a web page \(HTML\), not JSON"),
    ],
)
def test_unusable_feed_keeps_the_directory(engine, landing, fetcher, httpserver, bad_body, message):
    feed = Feed(httpserver, "/jc.json", ba_v6([posting(n) for n in range(5)]))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    sync(engine, landing, fetcher, registry)
    before = directory_rows(engine)

    feed.body = bad_body
    partner = registry.partners[0]
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    with pytest.raises(StageError, match=message):
        stage_partner_feed(engine, landing, partner, "jobs")
    publish_domain(engine, "jobs")
    assert directory_rows(engine) == before
    with engine.connect() as conn:
        active = conn.execute(sa.select(sa.func.count()).select_from(source_records)
                              .where(source_records.c.status == "active")).scalar_one()
    assert active == 5


def test_broken_record_is_rejected_alone(engine, landing, fetcher, httpserver):
    postings = [posting(n) for n in range(4)]
    postings[2]["stellenlokationen"][0]["adresse"]["plz"] = "6654"
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    partner = registry.partners[0]
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    outcome = stage_partner_feed(engine, landing, partner, "jobs")
    assert (outcome.counts.items, outcome.counts.accepted, outcome.counts.rejected) == (4, 3, 1)
    assert outcome.counts.rules == {"ADDRESS_POSTAL_CODE_INVALID": 1}


def test_a_record_rejected_while_parsing_is_checked_for_its_other_problems(engine, landing, fetcher,
                                                                          httpserver):
    """Staging reports all of a rejected row's problems (the template's and the checks'), and
    the row stays out of the directory; the counts are those of the delivery's records."""
    import datetime as dt

    year = dt.date.today().year + 1  # the date rules use the real day
    body = ("Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau;Beginn;Ende;Kinderbetreuung;E-Mail;Kontakt oeffentlich\n"
            f"M-1;Deutschkurs A2;Sprachkurs;66538;Neunkirchen;A2;01.06.{year};30.03.{year};vielleicht;x(at)y;ja\n"
            f"M-2;Deutschkurs B1;Sprachkurs;66538;Neunkirchen;B1;01.06.{year};30.10.{year};ja;kurse@vhs.example;ja\n")
    feed = Feed(httpserver, "/k.csv", body.encode(), content_type="text/csv")
    registry = parse_registry(registry_text(("vhs-nk", "csv-courses", feed.url)))
    partner = registry.partners[0]
    fetch_partner_feed(engine, landing, fetcher, partner, "courses")
    outcome = stage_partner_feed(engine, landing, partner, "courses")
    assert (outcome.counts.items, outcome.counts.accepted, outcome.counts.rejected) == (2, 1, 1)
    assert outcome.counts.rules == {"RECORD_FIELD_INVALID": 1, "CONTACT_EMAIL_INVALID": 1,
                                    "COURSE_DATES_INCONSISTENT": 1}
    with engine.connect() as conn:
        staged = conn.execute(sa.select(source_records.c.source_id)).scalars().all()
        found = conn.execute(sa.select(rejections.c.rule, rejections.c.line)).all()
    assert staged == ["M-2"]
    # all three name the row's line, the checks' two as well as the template's
    assert sorted(found) == [("CONTACT_EMAIL_INVALID", 2), ("COURSE_DATES_INCONSISTENT", 2),
                             ("RECORD_FIELD_INVALID", 2)]


def test_the_rejections_of_a_csv_delivery_keep_the_line_of_their_row(engine, landing, fetcher, httpserver):
    """The partner's feedback report of a synced CSV names each rejected row's line: one
    that the checks reject (an ended course) and one without an id."""
    import datetime as dt

    from hub.quality.feedback import latest_report

    year = dt.date.today().year + 1
    body = ("Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau;Beginn;Ende\n"
            f"K-1;Deutschkurs A2;Sprachkurs;66538;Neunkirchen;A2;01.06.{year};30.10.{year}\n"
            f"K-2;Deutschkurs B1;Sprachkurs;66538;Neunkirchen;B1;01.01.{year - 2};30.03.{year - 2}\n"
            f";Deutschkurs B2;Sprachkurs;66538;Neunkirchen;B2;01.06.{year};30.10.{year}\n")
    feed = Feed(httpserver, "/k.csv", body.encode(), content_type="text/csv")
    registry = parse_registry(registry_text(("vhs-nk", "csv-courses", feed.url)))
    partner = registry.partners[0]
    fetch_partner_feed(engine, landing, fetcher, partner, "courses")
    outcome = stage_partner_feed(engine, landing, partner, "courses")
    assert (outcome.counts.items, outcome.counts.accepted) == (3, 1)
    report = latest_report(engine, partner, "courses")
    assert [(p.line, p.source_id, p.rule) for p in report.problems] == [
        (3, "K-2", "COURSE_ENDED"), (4, None, "RECORD_FIELD_MISSING")]


def test_mass_withdrawal_is_held_until_released(engine, landing, fetcher, httpserver):
    from hub.pipeline import release_partner

    postings = [posting(n) for n in range(30)]
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    partner = registry.partners[0]
    sync(engine, landing, fetcher, registry)
    before = directory_rows(engine)

    feed.body = ba_v6(postings[:18])  # 12 of 30 would vanish: more than 10 % and at least 10
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    held = stage_partner_feed(engine, landing, partner, "jobs")
    assert held.status == "held"
    assert (held.hold.check, held.hold.count, held.hold.total) == ("withdrawal_guard", 12, 30)
    assert "would withdraw 12 of 30" in held.hold.message
    publish_domain(engine, "jobs")
    assert directory_rows(engine) == before

    # still held on the next run, until a steward releases it
    assert stage_partner_feed(engine, landing, partner, "jobs").status == "held"
    assert release_partner(engine, "jobcenter-nk") == ["jobs"]
    released = stage_partner_feed(engine, landing, partner, "jobs")
    assert (released.status, released.counts.withdrawn) == ("ok", 12)
    assert publish_domain(engine, "jobs").deleted == 12


def test_an_empty_feed_withdraws_the_partner_s_records_only_when_released(engine, landing, fetcher,
                                                                          httpserver):
    """An empty export is refused as a broken one; a partner that really has no offers any
    more (a housing company that let every flat) gets there by a steward's release."""
    from hub.pipeline import release_partner

    feed = Feed(httpserver, "/jc.json", ba_v6([posting(n) for n in range(5)]))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    partner = registry.partners[0]
    sync(engine, landing, fetcher, registry)
    feed.body = ba_v6([])
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    with pytest.raises(StageError, match=r"the feed is empty.*hub release jobcenter-nk\)$"):
        stage_partner_feed(engine, landing, partner, "jobs")
    assert release_partner(engine, "jobcenter-nk") == ["jobs"]
    released = stage_partner_feed(engine, landing, partner, "jobs")
    assert (released.status, released.counts.withdrawn, released.counts.active) == ("ok", 5, 0)
    assert publish_domain(engine, "jobs").deleted == 5


def test_a_partner_that_sends_its_good_file_again_after_a_hold_is_ok_again(engine, landing, fetcher,
                                                                           httpserver):
    """After a held delivery the partner fixes its export and sends what it sent before: the
    feed is staged once more and its sync, counts and feedback report say ok (the hold it
    replaced would otherwise stay the latest word, with nothing left to release); then it is
    unchanged as usual."""
    from hub.pipeline import release_partner
    from hub.quality.feedback import latest_report

    good = ba_v6([posting(n) for n in range(30)])
    feed = Feed(httpserver, "/jc.json", good)
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    partner = registry.partners[0]
    sync(engine, landing, fetcher, registry)
    feed.body = ba_v6([posting(n) for n in range(3)])
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    assert stage_partner_feed(engine, landing, partner, "jobs").status == "held"

    feed.body = good
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    again = stage_partner_feed(engine, landing, partner, "jobs")
    assert (again.status, again.counts.accepted, again.counts.unchanged, again.counts.withdrawn) == ("ok", 30, 30, 0)
    assert latest_report(engine, partner, "jobs").status == "ok"
    assert release_partner(engine, "jobcenter-nk") == []
    assert stage_partner_feed(engine, landing, partner, "jobs").status == "unchanged"


def test_few_vanishing_records_are_not_held(engine, landing, fetcher, httpserver):
    postings = [posting(n) for n in range(12)]
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    sync(engine, landing, fetcher, registry)
    feed.body = ba_v6(postings[:3])  # 75 % vanish, but only 9 records: below the minimum of 10
    assert sync(engine, landing, fetcher, registry).deleted == 9


def test_replay_from_the_landing_store_needs_no_network(engine, landing, fetcher, httpserver):
    feed = Feed(httpserver, "/jc.json", ba_v6([posting(n) for n in range(5)]))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    sync(engine, landing, fetcher, registry)
    before = directory_rows(engine)
    httpserver.clear()  # the partner is gone
    outcome = stage_partner_feed(engine, landing, registry.partners[0], "jobs", force=True)
    assert (outcome.status, outcome.counts.accepted, outcome.counts.unchanged) == ("ok", 5, 5)
    publish_domain(engine, "jobs")
    assert directory_rows(engine) == before


def test_multi_page_payload_is_parsed_page_by_page(engine, landing):
    from hub.pipeline import parse_payload

    pages = [ba_v6([posting(n) for n in range(k, k + 3)]) for k in (0, 3, 6)]
    sha = landing.put_pages(pages)
    result = parse_payload("ba-jobsuche", landing, sha, "jobcenter-nk")
    assert [r.source_id for r in result.records] == [f"10001-{1000000000 + n}-S" for n in range(9)]
    assert landing.bodies(sha) == pages


def test_delivery_with_mostly_rejected_records_is_held(engine, landing, fetcher, httpserver):
    postings = [posting(n) for n in range(20)]
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    partner = registry.partners[0]
    sync(engine, landing, fetcher, registry)
    before = directory_rows(engine)
    for item in postings[:12]:  # an export that lost its postal codes
        item["stellenlokationen"][0]["adresse"]["plz"] = ""
    feed.body = ba_v6(postings)
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    held = stage_partner_feed(engine, landing, partner, "jobs")
    assert (held.status, held.hold.check, held.hold.count, held.hold.total) == ("held", "rejection_share", 12, 20)
    # why, before the steward opens the report: the rule that rejected most
    assert ("12 of the 20 records of this delivery were rejected (60%; most often "
            "RECORD_FIELD_MISSING (12 records))") in held.hold.message
    assert held.counts.rules == {"RECORD_FIELD_MISSING": 12}  # the steward sees why
    # and what a release would do: the rejected postings that are published now leave
    assert "released, it withdraws 12 published records" in held.hold.message
    publish_domain(engine, "jobs")
    assert directory_rows(engine) == before


def _staged(engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        return {r.source_id: (r.status, r.record["title"]) for r in conn.execute(
            sa.select(source_records.c.source_id, source_records.c.status, source_records.c.record))}


def test_an_id_repeated_by_another_employer_in_a_later_chunk_names_both(engine):
    """A big delivery's chunks are written one after the other; an id that came in an earlier
    chunk from another employer (or OpenImmo <anbieter>) is rejected naming both, as within
    one chunk, so the partner learns its ids must be unique across its providers."""
    import datetime as dt

    from hub.formats import FORMATS
    from hub.store.staging import StageWriter

    ba = FORMATS["ba-jobsuche"]
    first = ba.parse(ba_v6([posting(1), posting(2)]), "jobcenter-nk").records
    later = ba.parse(ba_v6([posting(1, employer="Bliestal Bau GmbH"), posting(2)]), "jobcenter-nk").records
    with engine.connect() as conn:
        writer = StageWriter(conn, partner_id="jobcenter-nk", domain="jobs", content_sha256="0" * 64,
                             now=dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc))
        found: list = []
        writer.add(writer.new_ids(first, found), [], found)
        assert writer.new_ids(later, found) == [] and [r.source_id for r in found] == [
            "10001-1000000001-S", "10001-1000000002-S"]
        other, same = found
        assert "zuerst bei 'Saar Logistik GmbH', hier bei 'Bliestal Bau GmbH'" in other.message
        assert same.message == ("Die Kennung '10001-1000000002-S' kommt in der Lieferung mehrfach "
                                "vor; nur der erste Eintrag zählt.")
        conn.rollback()



def test_ids_whose_hashes_meet_are_not_taken_for_repeats(engine, monkeypatch):
    """Staging knows the ids of a delivery's earlier chunks by their hashes and looks up only
    an id whose hash it has seen: two ids of one hash (here every id has the same) are both
    kept, and a real repeat is still found, also after a later DELETE took its id out."""
    import datetime as dt

    import hub.store.staging as staging
    from hub.formats import FORMATS

    monkeypatch.setattr(staging, "hash", lambda text: 7, raising=False)
    ba = FORMATS["ba-jobsuche"]
    first = ba.parse(ba_v6([posting(1), posting(2)]), "jobcenter-nk").records
    later = ba.parse(ba_v6([posting(3), posting(1), posting(4)]), "jobcenter-nk").records
    with engine.connect() as conn:
        writer = staging.StageWriter(conn, partner_id="jobcenter-nk", domain="jobs",
                                     content_sha256="0" * 64,
                                     now=dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc))
        found: list = []
        writer.add(writer.new_ids(first, found), [], found)
        kept = writer.new_ids(later, found)
        assert [r.source_id for r in kept] == ["10001-1000000003-S", "10001-1000000004-S"]
        assert [(r.rule, r.source_id) for r in found] == [("RECORD_ID_DUPLICATE", "10001-1000000001-S")]
        writer.add(kept, [], [])
        writer.forget({"10001-1000000002-S"})
        again = ba.parse(ba_v6([posting(2)]), "jobcenter-nk").records
        assert writer.new_ids(again, found) == again
        conn.rollback()


def test_a_delivery_read_in_chunks_is_staged_as_a_whole(engine, landing, fetcher, httpserver,
                                                        monkeypatch):
    """A big delivery is checked and written CHUNK records at a time; what it does to the
    directory must not depend on where the chunks end: duplicates across chunks, the
    withdrawal guard over the whole delivery, and a payload that breaks after some chunks."""
    import hub.pipeline

    monkeypatch.setattr(hub.pipeline, "CHUNK", 4)
    postings = [posting(n) for n in range(30)]
    twin = posting(1, stellenangebotsTitel="Zweite Meldung derselben Referenznummer")
    postings.insert(9, twin)  # the first of an id counts, as without chunks
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    partner = registry.partners[0]
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    outcome = stage_partner_feed(engine, landing, partner, "jobs")
    assert (outcome.counts.items, outcome.counts.accepted, outcome.counts.added) == (31, 30, 30)
    assert outcome.counts.rules == {"RECORD_ID_DUPLICATE": 1}
    staged = _staged(engine)
    assert len(staged) == 30
    assert staged["10001-1000000001-S"][1] == postings[1]["stellenangebotsTitel"]

    # 12 of 30 would vanish: held, although no chunk alone shows it
    feed.body = ba_v6([posting(n) for n in range(18)])
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    held = stage_partner_feed(engine, landing, partner, "jobs")
    assert (held.status, held.hold.count, held.hold.total) == ("held", 12, 30)
    assert _staged(engine) == staged

    # a payload that breaks after three chunks were read changes nothing
    changed = [posting(n, stellenangebotsTitel="Geändert") for n in range(30)]
    feed.body = ba_v6(changed)[:-300]
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    with pytest.raises(StageError, match="invalid JSON"):
        stage_partner_feed(engine, landing, partner, "jobs")
    assert _staged(engine) == staged

    # one changed record among unchanged ones, in a later chunk
    changed = [posting(n) for n in range(30)]
    changed[25]["stellenangebotsTitel"] = "Neu betitelt"
    feed.body = ba_v6(changed)
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    outcome = stage_partner_feed(engine, landing, partner, "jobs")
    assert (outcome.counts.changed, outcome.counts.unchanged, outcome.counts.withdrawn) == (1, 29, 0)
    assert _staged(engine)["10001-1000000025-S"] == ("active", "Neu betitelt")


def test_other_partners_write_while_a_delivery_is_parsed_and_checked(engine, landing, fetcher,
                                                                     httpserver, monkeypatch):
    """Staging keeps a delivery in temporary tables while it reads and checks it, and takes
    the database's write lock only to decide and write: meanwhile another partner's fetch or
    sync writes at once (on SQLite it would wait for the whole staging, or fail)."""
    import datetime as dt
    import threading

    import hub.pipeline as pipeline
    from hub.store.tables import fetch_state, syncs

    feed = Feed(httpserver, "/jc.json", ba_v6([posting(n) for n in range(30)]))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    partner = registry.partners[0]
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")

    checking, written = threading.Event(), threading.Event()
    check_records = pipeline.check_records

    def check_and_wait(records, **kwargs):
        checking.set()
        assert written.wait(30), "the other partner's write did not get through"
        return check_records(records, **kwargs)

    monkeypatch.setattr(pipeline, "check_records", check_and_wait)
    outcome = {}
    staging = threading.Thread(
        target=lambda: outcome.setdefault("it", stage_partner_feed(engine, landing, partner, "jobs")))
    staging.start()
    assert checking.wait(30)
    # another writer that would give up after one second of waiting for a lock
    url = engine.url.render_as_string(hide_password=False)
    other = sa.create_engine(url, **({"connect_args": {"timeout": 1}} if url.startswith("sqlite") else {}))
    now = dt.datetime.now(dt.timezone.utc)
    try:
        with other.begin() as conn:
            conn.execute(syncs.insert().values(partner_id="other", domain="jobs", started_at=now,
                                               status="ok", content_sha256="x"))
            conn.execute(fetch_state.insert().values(partner_id="other", domain="jobs",
                                                     source="https://other.example/feed.json",
                                                     fetched_at=now))
    finally:
        written.set()
        other.dispose()
    staging.join(60)
    assert outcome["it"].status == "ok" and outcome["it"].counts.added == 30
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(source_records)).scalar_one() == 30
        assert {r.partner_id for r in conn.execute(sa.select(syncs.c.partner_id))} == {
            "other", partner.id}


def _openimmo(umfang: str, *objects: tuple[str, str, str]) -> bytes:
    """An OpenImmo delivery of (objektnr_extern, aktionart or '', title) objects, in order."""
    body = "".join(
        f"<immobilie><geo><plz>66538</plz><ort>Neunkirchen</ort></geo>"
        f"<freitexte><objekttitel>{title}</objekttitel></freitexte><verwaltung_techn>"
        + (f'<aktion aktionart="{action}"/>' if action else "")
        + f"<objektnr_extern>{number}</objektnr_extern></verwaltung_techn></immobilie>"
        for number, action, title in objects)
    return (f'<?xml version="1.0" encoding="UTF-8"?><openimmo><uebertragung umfang="{umfang}"/>'
            f"<anbieter><firma>Siedlungsbau Blies eG</firma>{body}</anbieter></openimmo>").encode()


@pytest.mark.parametrize("chunked", [False, True])
def test_an_object_and_its_delete_in_one_delivery_the_later_entry_counts(
        engine, landing, fetcher, httpserver, monkeypatch, chunked):
    """A delivery that changes an object and deletes it (or the other way round): the
    delivered object won whatever the order, so a flat changed and then let stayed published.
    Now the later entry in the file counts, wherever the delivery's chunks end."""
    if chunked:  # every object a part of its own, every record written at once
        import hub.formats.openimmo
        import hub.pipeline

        monkeypatch.setattr(hub.pipeline, "CHUNK", 1)
        monkeypatch.setattr(hub.formats.openimmo.chunks, "__defaults__", (1,))
    feed = Feed(httpserver, "/oi.xml", _openimmo("VOLL", ("A", "", "Wohnung A"), ("B", "", "Wohnung B")),
                content_type="application/xml")
    registry = parse_registry(registry_text(("siedlungsbau-blies", "openimmo", feed.url)))
    sync(engine, landing, fetcher, registry, domain="housing")
    assert _staged(engine) == {"A": ("active", "Wohnung A"), "B": ("active", "Wohnung B")}

    feed.body = _openimmo("TEIL", ("A", "CHANGE", "Wohnung A neu"), ("A", "DELETE", "Wohnung A"),
                          ("B", "DELETE", "Wohnung B"), ("B", "CHANGE", "Wohnung B neu"),
                          ("C", "NEW", "Wohnung C"), ("C", "DELETE", "Wohnung C"))
    partner = registry.partners[0]
    fetch_partner_feed(engine, landing, fetcher, partner, "housing")
    outcome = stage_partner_feed(engine, landing, partner, "housing")
    assert _staged(engine) == {"A": ("withdrawn", "Wohnung A"), "B": ("active", "Wohnung B neu")}
    counts = outcome.counts
    assert (counts.items, counts.accepted, counts.rejected, counts.changed, counts.withdrawn,
            counts.active) == (1, 1, 0, 1, 1, 1)

    # the same delivery as a snapshot: what is deleted last is not in it, so it goes too
    feed.body = _openimmo("VOLL", ("B", "", "Wohnung B"), ("B", "DELETE", "Wohnung B"),
                          ("A", "DELETE", "Wohnung A"), ("A", "", "Wohnung A wieder da"))
    fetch_partner_feed(engine, landing, fetcher, partner, "housing")
    stage_partner_feed(engine, landing, partner, "housing")
    assert _staged(engine) == {"A": ("active", "Wohnung A wieder da"), "B": ("withdrawn", "Wohnung B neu")}
