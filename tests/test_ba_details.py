"""BA job details (registry ``details``): the search lists leave out the description and some
fields; a feed with a details endpoint fetches it for every posting of its search pages, keeps
the responses in the landing store beside the pages, and completes the records from them."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from hub.fetch import FeedFetcher, FetchPolicy
from hub.formats import get_format
from hub.registry import RegistryError, parse_registry
from hub.store.landing import LandingStore
from hub.store.tables import directory, fetch_state
from tests.feeds import ba_v6, posting
from tests.test_faults import run_once

DESCRIPTION = "Wir suchen Verstärkung für unser Pflegeteam in Ottweiler. Schichtdienst, Tarifvertrag."


def details(n: int, **overrides) -> dict:
    """A job details response as GET /pc/v4/jobdetails/{refnr} answers: field names as in the
    search items, the coordinates inside the address, pay as text, the description."""
    item = posting(n)
    location = item["stellenlokationen"][0]
    doc = {
        "referenznummer": item["referenznummer"],
        "stellenangebotsTitel": item["stellenangebotsTitel"],
        "firma": item["firma"],
        "stellenangebotsBeschreibung": f"{DESCRIPTION} (Stelle {n})",
        "stellenlokationen": [{"adresse": {**location["adresse"], "koordinaten": {
            "lat": location["breite"], "lon": location["laenge"]}}}],
        "verguetungsangabe": "Entgelt nach TVöD-P",
        "quereinstiegGeeignet": True,
        "eintrittszeitraum": {"von": item["eintrittszeitraum"]["von"]},
    }
    doc.update(overrides)
    return doc


def registry(url: str, details_url: str):
    return parse_registry(
        "partners:\n  - id: jobcenter-nk\n    name: Jobcenter Neunkirchen\n"
        "    allow_private_network: true\n    feeds:\n"
        f"      - format: ba-jobsuche\n        source: {url}\n        details: {details_url}\n"
    ).partners[0]


def entries(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(directory.c.entry).where(directory.c.domain == "jobs")).scalars()
        return {entry["sources"][0]["source_id"]: entry for entry in rows}


def test_one_details_response_parses_as_a_record():
    result = get_format("ba-jobsuche").parse(json.dumps(details(1)).encode(), "jobcenter-nk")
    assert [r.source_id for r in result.records] == ["10001-1000000001-S"]
    record = result.records[0]
    assert record.description.startswith("Wir suchen Verstärkung")
    assert (record.geo.lat, record.geo.lon) == (49.4010, 7.1633)  # from adresse.koordinaten
    assert record.address.postal_code == "66564"


def test_details_complete_the_search_records(engine, tmp_path, httpserver):
    httpserver.expect_request("/pc/v6/jobs").respond_with_data(
        ba_v6([posting(n) for n in range(3)]), content_type="application/json")
    for n in (0, 1):
        httpserver.expect_request(f"/pc/v4/jobdetails/10001-{1000000000 + n}-S").respond_with_json(details(n))
    httpserver.expect_request("/pc/v4/jobdetails/10001-1000000002-S").respond_with_data("", status=404)
    partner = registry(httpserver.url_for("/pc/v6/jobs"), httpserver.url_for("/pc/v4/jobdetails/{refnr}"))
    store = LandingStore(tmp_path / "landing")

    assert run_once(engine, store, FeedFetcher(), partner) == "ok"
    got = entries(engine)
    assert sorted(got) == ["10001-1000000000-S", "10001-1000000001-S", "10001-1000000002-S"]
    assert got["10001-1000000000-S"]["description"] == f"{DESCRIPTION} (Stelle 0)"
    assert got["10001-1000000001-S"]["description"] == f"{DESCRIPTION} (Stelle 1)"
    assert not got["10001-1000000002-S"].get("description")  # withdrawn meanwhile: 404
    # the search item's own fields stay (pay as text in the details does not replace them)
    assert got["10001-1000000000-S"]["title"] == posting(0)["stellenangebotsTitel"]

    # the details are landed with the pages: a replay needs no network
    with engine.connect() as conn:
        sha = conn.execute(sa.select(fetch_state.c.content_sha256)).scalar_one()
    assert len(store.details(sha)) == 2
    assert len(store.pages(sha)) == 3  # one page and two details: erasure and retention see all


def test_failed_details_fail_the_fetch_and_keep_the_directory(engine, tmp_path, httpserver):
    httpserver.expect_request("/pc/v6/jobs").respond_with_data(
        ba_v6([posting(n) for n in range(2)]), content_type="application/json")
    httpserver.expect_request("/pc/v4/jobdetails/10001-1000000000-S").respond_with_json(details(0))
    httpserver.expect_request("/pc/v4/jobdetails/10001-1000000001-S").respond_with_json(details(1))
    partner = registry(httpserver.url_for("/pc/v6/jobs"), httpserver.url_for("/pc/v4/jobdetails/{refnr}"))
    store = LandingStore(tmp_path / "landing")
    fetcher = FeedFetcher(FetchPolicy(max_retries=1, backoff_base=0.01, backoff_max=0.01))
    assert run_once(engine, store, fetcher, partner) == "ok"
    before = entries(engine)

    httpserver.clear()
    httpserver.expect_request("/pc/v6/jobs").respond_with_data(
        ba_v6([posting(n, employer="Neue Pflege GmbH", aenderungsdatum="2026-11-20T09:30:00.000")
               for n in range(2)]), content_type="application/json")
    httpserver.expect_request("/pc/v4/jobdetails/10001-1000000000-S").respond_with_json(details(0))
    httpserver.expect_request("/pc/v4/jobdetails/10001-1000000001-S").respond_with_data("down", status=500)
    outcome = run_once(engine, store, fetcher, partner)
    assert outcome.startswith("refused: details of 10001-1000000001-S") and "HTTP 500" in outcome
    assert entries(engine) == before  # no record half completed, none changed


@pytest.mark.parametrize("feed, message", [
    ("format: csv-jobs\n        source: https://example.org/a.csv\n        details: https://example.org/{refnr}",
     "only ba-jobsuche"),
    ("format: ba-jobsuche\n        source: https://example.org/jobs\n        details: https://example.org/jobdetails",
     "{refnr}"),
])
def test_registry_refuses_details_it_cannot_use(feed, message):
    with pytest.raises(RegistryError) as caught:
        parse_registry(f"partners:\n  - id: p1\n    name: P\n    feeds:\n      - {feed}\n")
    assert message in str(caught.value)


def test_unchanged_postings_keep_their_landed_details_without_a_request(engine, tmp_path, httpserver):
    """BA limits its API: a posting the search shows unchanged since the last fetch (same
    aenderungsdatum) keeps the details landed then; only changed or new postings are asked."""
    def serve(search: list[dict], answers: dict[int, dict]) -> None:
        httpserver.clear()
        httpserver.expect_request("/pc/v6/jobs").respond_with_data(ba_v6(search), content_type="application/json")
        for n, doc in answers.items():
            httpserver.expect_request(f"/pc/v4/jobdetails/10001-{1000000000 + n}-S").respond_with_json(doc)

    def asked() -> list[str]:
        return sorted(req.path.rsplit("/", 1)[1] for req, _ in httpserver.log if "/jobdetails/" in req.path)

    partner = registry(httpserver.url_for("/pc/v6/jobs"), httpserver.url_for("/pc/v4/jobdetails/{refnr}"))
    store = LandingStore(tmp_path / "landing")
    serve([posting(n) for n in range(3)], {n: details(n) for n in range(3)})
    assert run_once(engine, store, FeedFetcher(), partner) == "ok"
    assert len(asked()) == 3

    changed = posting(1, aenderungsdatum="2026-11-20T09:30:00.000")
    serve([posting(0), changed, posting(2), posting(3)],
          {1: details(1, stellenangebotsBeschreibung="Neu: Teilzeit möglich."), 3: details(3)})
    assert run_once(engine, store, FeedFetcher(), partner) == "ok"
    assert asked() == ["10001-1000000001-S", "10001-1000000003-S"]
    got = entries(engine)
    assert got["10001-1000000000-S"]["description"] == f"{DESCRIPTION} (Stelle 0)"  # kept
    assert got["10001-1000000001-S"]["description"] == "Neu: Teilzeit möglich."
    assert got["10001-1000000003-S"]["description"] == f"{DESCRIPTION} (Stelle 3)"
