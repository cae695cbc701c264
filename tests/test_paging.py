"""Paginated partner APIs: every page is read, kept in the landing store, and a result whose
pages do not add up is refused as a whole."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from hub.fetch import FeedFetcher, FetchError, FetchPolicy
from hub.pipeline import fetch_partner_feed, stage_partner_feed
from hub.registry import parse_registry
from hub.store.landing import LandingStore
from tests.feeds import posting, registry_text


def serve_ba_pages(httpserver, postings, size=4, announced=None):
    seen = []

    def handler(request: Request) -> Response:
        page = int(request.args.get("page", 1))
        seen.append(page)
        chunk = postings[(page - 1) * size : page * size]
        doc = {"maxErgebnisse": announced if announced is not None else len(postings),
               "page": page, "size": size}
        if chunk:
            doc["ergebnisliste"] = chunk
        return Response(json.dumps(doc), content_type="application/json")

    httpserver.expect_request("/pc/v6/jobs").respond_with_handler(handler)
    return httpserver.url_for("/pc/v6/jobs") + "?was=Pflege&size=4", seen


@pytest.fixture
def fetcher():
    return FeedFetcher(FetchPolicy(max_retries=0, deadline=10))


def test_all_pages_are_read_and_staged(engine, tmp_path, httpserver, fetcher):
    url, seen = serve_ba_pages(httpserver, [posting(n) for n in range(10)])
    partner = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", url))).partners[0]
    store = LandingStore(tmp_path)
    outcome = fetch_partner_feed(engine, store, fetcher, partner, "jobs")
    assert (outcome.pages, seen) == (3, [1, 2, 3])
    assert len(store.bodies(outcome.content_sha256)) == 3
    staged = stage_partner_feed(engine, store, partner, "jobs")
    assert staged.counts.accepted == 10


def test_pages_that_do_not_add_up_are_refused(engine, tmp_path, httpserver, fetcher):
    # the API announces 12 postings but serves 10: a page went missing
    url, _ = serve_ba_pages(httpserver, [posting(n) for n in range(10)], announced=12)
    partner = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", url))).partners[0]
    with pytest.raises(FetchError, match="page totals do not add up: 3 pages hold 10 postings, the API announced 12"):
        fetch_partner_feed(engine, LandingStore(tmp_path), fetcher, partner, "jobs")


def test_an_id_rejected_on_one_page_is_not_published_from_a_later_page(engine, tmp_path,
                                                                       httpserver, fetcher):
    """The first item of an id counts across pages too: when it is rejected, a later item of
    that id is a duplicate, not published in its place (the partner's report would list the
    offer as rejected while the directory shows the second version)."""
    import sqlalchemy as sa

    from hub.store.tables import rejections, source_records

    postings = [posting(n) for n in range(8)]
    postings[1]["stellenlokationen"][0]["adresse"]["plz"] = "123"  # page 1: invalid
    postings[6] = posting(1, stellenangebotsTitel="Zweite Fassung")  # page 2: the same id, valid
    url, _ = serve_ba_pages(httpserver, postings)
    partner = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", url))).partners[0]
    store = LandingStore(tmp_path)
    fetch_partner_feed(engine, store, fetcher, partner, "jobs")
    staged = stage_partner_feed(engine, store, partner, "jobs")
    assert (staged.counts.items, staged.counts.accepted) == (8, 6)
    with engine.connect() as conn:
        published = set(conn.execute(sa.select(source_records.c.source_id)).scalars())
        found = sorted(conn.execute(sa.select(rejections.c.source_id, rejections.c.rule)).all())
    assert "10001-1000000001-S" not in published and len(published) == 6
    assert found == [("10001-1000000001-S", "ADDRESS_POSTAL_CODE_INVALID"),
                     ("10001-1000000001-S", "RECORD_ID_DUPLICATE")]
