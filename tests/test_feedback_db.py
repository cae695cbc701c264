"""Feedback reports read from the database after real fetch + stage runs (SQLite and
PostgreSQL): the problems of a defective feed, unchanged re-syncs, failed and held deliveries."""

from __future__ import annotations

import csv
import io
import json

import pytest

from hub.fetch import FeedFetcher, FetchPolicy
from hub.pipeline import StageError, fetch_partner_feed, stage_partner_feed
from hub.quality.report import render_html
from hub.quality.feedback import latest_report, report_fingerprint, report_for_sync, write_report
from hub.registry import parse_registry
from hub.store.landing import LandingStore
from tests.feeds import Feed, ba_v6, posting, registry_text


@pytest.fixture
def landing(tmp_path):
    return LandingStore(tmp_path / "landing")


@pytest.fixture
def fetcher():
    return FeedFetcher(FetchPolicy(max_retries=1, backoff_base=0.01, deadline=10, sleep=lambda s: None))


def defective_postings(n: int = 12) -> list[dict]:
    """``n`` postings; #3 has a four-digit postal code, #7 an empty title."""
    postings = [posting(i) for i in range(n)]
    postings[3]["stellenlokationen"][0]["adresse"]["plz"] = "6653"
    postings[7]["stellenangebotsTitel"] = ""
    return postings


def run(engine, landing, fetcher, partner, domain="jobs"):
    fetch_partner_feed(engine, landing, fetcher, partner, domain)
    return stage_partner_feed(engine, landing, partner, domain)


@pytest.fixture
def partner_feed(httpserver):
    feed = Feed(httpserver, "/jc.json", ba_v6(defective_postings()))
    partner = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url))).partners[0]
    return partner, feed


def test_latest_report_shows_exactly_the_defects_of_the_feed(engine, landing, fetcher, partner_feed):
    partner, _ = partner_feed
    assert latest_report(engine, partner, "jobs") is None  # nothing delivered yet
    outcome = run(engine, landing, fetcher, partner)

    report = latest_report(engine, partner, "jobs")
    assert report.sync_id == outcome.sync_id and report.status == "ok"
    assert report.partner_id == "jobcenter-nk" and report.domain == "jobs"
    c = report.counts
    assert (c.items, c.accepted, c.rejected, c.warnings, c.added, c.changed, c.withdrawn) == (12, 10, 2, 0, 10, 0, 0)
    found = {(p.source_id, p.rule, p.field, p.value) for p in report.problems}
    assert found == {
        ("10001-1000000003-S", "ADDRESS_POSTAL_CODE_INVALID", "address.postal_code", "6653"),
        ("10001-1000000007-S", "RECORD_FIELD_MISSING", "title", None),
    }
    postal = report.problems[0]
    assert (postal.source_id, postal.title, postal.field_label) == (
        "10001-1000000003-S", "Koch (m/w/d)", "PLZ (stellenlokationen.adresse.plz, v4: arbeitsort.plz)")
    assert postal.message == "Die Postleitzahl '6653' ist keine fünfstellige deutsche PLZ."
    assert report.headline.endswith(": 10 Angebote angenommen, 2 abgelehnt.")
    assert report.delivered_at.tzinfo is not None

    english = latest_report(engine, partner, "jobs", lang="en")
    assert english.problems[1].message == \
        "Required field 'title (stellenangebotsTitel, v4: titel)' is missing or empty."
    assert english.problems[1].field_label == "title (stellenangebotsTitel, v4: titel)"
    assert report_fingerprint(english) == report_fingerprint(report)  # language does not matter
    assert latest_report(engine, partner, "courses") is None


def test_report_for_sync_and_written_files(engine, landing, fetcher, partner_feed, tmp_path):
    partner, feed = partner_feed
    first = run(engine, landing, fetcher, partner)
    fixed = defective_postings()
    fixed[7]["stellenangebotsTitel"] = "Erzieher (m/w/d)"
    feed.body = ba_v6(fixed)
    second = run(engine, landing, fetcher, partner)
    assert second.sync_id != first.sync_id

    old = report_for_sync(engine, partner, "jobs", first.sync_id)
    new = latest_report(engine, partner, "jobs")
    assert len(old.problems) == 2 and [p.rule for p in new.problems] == ["ADDRESS_POSTAL_CODE_INVALID"]
    assert new.counts.changed == 0 and new.counts.added == 1  # the fixed posting is new
    assert report_fingerprint(old) != report_fingerprint(new)
    with pytest.raises(LookupError, match="no delivery 9999"):
        report_for_sync(engine, partner, "jobs", 9999)

    paths = write_report(new, tmp_path / "out")
    assert {k: p.name for k, p in paths.items()} == {
        "html": "report.html", "csv": "report.csv", "json": "report.json"}
    assert "10001-1000000003-S" in paths["html"].read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(paths["csv"].read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2 and rows[1][0] == "10001-1000000003-S" and rows[1][5] == "6653"
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["sync_id"] == second.sync_id


def test_unchanged_resync_keeps_the_fingerprint(engine, landing, fetcher, partner_feed):
    partner, feed = partner_feed
    run(engine, landing, fetcher, partner)
    before = latest_report(engine, partner, "jobs")
    outcome = run(engine, landing, fetcher, partner)  # 304: unchanged
    assert feed.requests == [200, 304] and outcome.status == "unchanged"
    after = latest_report(engine, partner, "jobs")
    assert report_fingerprint(after) == report_fingerprint(before)

    # the same defects in a delivery that changed elsewhere: the result is the same
    postings = defective_postings()
    postings[0]["stellenangebotsTitel"] = "Koch/Köchin (m/w/d)"
    feed.body = ba_v6(postings)
    outcome = run(engine, landing, fetcher, partner)
    assert outcome.status == "ok" and outcome.sync_id != before.sync_id
    changed_elsewhere = latest_report(engine, partner, "jobs")
    assert changed_elsewhere.counts.changed == 1
    assert report_fingerprint(changed_elsewhere) == report_fingerprint(before)


def test_failed_delivery_is_reported(engine, landing, fetcher, partner_feed):
    partner, feed = partner_feed
    run(engine, landing, fetcher, partner)
    feed.body = b"<html><body>Wartungsarbeiten</body></html>"
    with pytest.raises(StageError):
        run(engine, landing, fetcher, partner)
    report = latest_report(engine, partner, "jobs")
    assert report.status == "failed" and report.problems == []
    assert "the file is a web page (HTML), not JSON" in report.status_message
    assert "konnte nicht verarbeitet werden" in report.headline
    assert "Die Datei ist eine Webseite (HTML), keine JSON-Datei." in render_html(report)


def test_held_delivery_is_reported(engine, landing, fetcher, partner_feed):
    partner, feed = partner_feed
    feed.body = ba_v6(defective_postings(14))  # 12 published
    run(engine, landing, fetcher, partner)
    feed.body = ba_v6([posting(0)])  # 11 of them would go
    outcome = run(engine, landing, fetcher, partner)
    assert outcome.status == "held"
    report = latest_report(engine, partner, "jobs", lang="en")
    assert report.status == "held" and report.sync_id == outcome.sync_id and report.problems == []
    page = render_html(report)
    assert "would take 11 of 12 published offers" in page
    assert "the directory shows the state of your last successful delivery" in page


def test_delivery_held_for_too_many_rejections_is_explained(engine, landing, fetcher, partner_feed):
    partner, feed = partner_feed
    postings = [posting(i) for i in range(20)]
    for item in postings[:12]:
        item["stellenlokationen"][0]["adresse"]["plz"] = "665"
    feed.body = ba_v6(postings)
    outcome = run(engine, landing, fetcher, partner)
    assert outcome.status == "held"
    report = latest_report(engine, partner, "jobs")
    assert report.status == "held" and (report.counts.items, report.counts.accepted) == (20, 8)
    page = render_html(report)
    assert "In dieser Lieferung wurden 12 von 20 Angeboten abgelehnt" in page
    assert "Stand Ihrer letzten erfolgreichen Lieferung" in page


def test_a_synced_csv_reports_a_column_under_the_name_its_file_wrote(engine, landing, fetcher, httpserver):
    """The partner's report, built later from the database, names 'Postleitzahl' where the
    delivered file wrote that other usual name of PLZ (the sync keeps what the file wrote)."""
    body = ("Wohnungs-ID;Titel;Postleitzahl;Ort;Kaltmiete\n"
            "W-1;2-Zimmer-Wohnung;6653;Neunkirchen;450\n"
            "W-2;3-Zimmer-Wohnung;66538;Neunkirchen;520\n").encode()
    feed = Feed(httpserver, "/wohnungen.csv", body, content_type="text/csv")
    partner = parse_registry(registry_text(("wohnbau-nk", "csv-housing", feed.url))).partners[0]
    run(engine, landing, fetcher, partner, "housing")
    (problem,) = latest_report(engine, partner, "housing").problems
    assert (problem.rule, problem.field_label, problem.format_field) == (
        "ADDRESS_POSTAL_CODE_INVALID", "Postleitzahl", "Postleitzahl")
    assert latest_report(engine, partner, "housing", lang="en").problems[0].field_label == \
        "postal code (Postleitzahl)"
    # the next delivery under the template's own name reads 'PLZ' again
    feed.body = body.replace(b"Postleitzahl", b"PLZ")
    run(engine, landing, fetcher, partner, "housing")
    (problem,) = latest_report(engine, partner, "housing").problems
    assert (problem.field_label, problem.format_field) == ("PLZ", "PLZ")


def test_the_second_report_counts_corrected_offers_beside_an_item_without_an_id(
        engine, landing, fetcher, partner_feed):
    """The second delivery's report counts the offers corrected since the first (rejected
    then, accepted now) and those taken out because they are rejected now, also where the
    delivery holds an item no id can be read from (its rejection has no source id, which a
    set comparison must not let swallow every count)."""
    partner, feed = partner_feed
    unreadable = 5  # a number where an object belongs: rejected without a source id
    feed.body = ba_v6([*defective_postings(), unreadable])
    run(engine, landing, fetcher, partner)
    first = latest_report(engine, partner, "jobs")
    assert first.first_delivery and (first.counts.corrected, first.counts.withdrawn_rejected) == (0, 0)

    postings = defective_postings()
    postings[3] = posting(3)  # its postal code corrected
    postings[5]["stellenlokationen"][0]["adresse"]["plz"] = "665"  # published, now rejected
    feed.body = ba_v6([*postings, unreadable])
    run(engine, landing, fetcher, partner)
    second = latest_report(engine, partner, "jobs")
    assert not second.first_delivery
    assert (second.counts.corrected, second.counts.withdrawn_rejected) == (1, 1)
