"""The read API's page cache (hub/api/version.py): a repeated list page is served without the
database while nothing was published, and every publication, from this process or another
one, reaches the readers; a lost listener connection only costs speed."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from hub.store.publish import channel_name, publish_domain
from tests.conftest import ROOT
from tests.test_api import T0, client_for, fill, job, jobs_data, source_ids, stage


class Statements:
    """Counts the SQL statements ``engine`` runs (the listener's own connection is not one
    of the engine's)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.count = engine, 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *args) -> None:
        self.count += 1

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


def wait_until_listening(client, seconds: float = 10.0) -> bool:
    version = client.app.state.version
    deadline = time.monotonic() + seconds
    while not version.listening and time.monotonic() < deadline:
        time.sleep(0.02)
    return version.listening


def eventually(fetch, expected, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    got = fetch()
    while got != expected and time.monotonic() < deadline:
        time.sleep(0.05)
        got = fetch()
    return got


def publish_elsewhere(db_url: str, records: list) -> None:
    """Stage and publish in another process, as a sync would."""
    lines = "\n".join(r.model_dump_json() for r in records)
    code = (
        "import sys, datetime as dt\n"
        "from hub.models import JobPosting\n"
        "from hub.store.db import make_engine\n"
        "from hub.store.publish import publish_domain\n"
        "from tests.test_api import stage\n"
        "engine = make_engine(sys.argv[1])\n"
        "records = [JobPosting.model_validate_json(l) for l in sys.stdin.read().splitlines()]\n"
        "now = dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.timezone.utc)\n"
        "stage(engine, 'jobcenter-nk', 'jobs', records, now=now)\n"
        "publish_domain(engine, 'jobs', now=now)\n"
    )
    subprocess.run([sys.executable, "-c", code, db_url], input=lines, text=True, check=True,
                   cwd=ROOT, timeout=120)


def test_a_repeated_page_comes_from_the_cache_until_a_publication(engine):
    fill(engine)
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine) as c:
        listening = wait_until_listening(c) if engine.dialect.name == "postgresql" else False
        first = c.get("/v1/jobs?region=10043")
        statements = Statements(engine)
        try:
            again = c.get("/v1/jobs?region=10043")
            # PostgreSQL: the version is known from the listener, the page from the cache;
            # SQLite: one query for the version, none for the page
            assert statements.count == (0 if listening else 1)
            assert engine.dialect.name != "postgresql" or listening
        finally:
            statements.close()
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
        assert c.app.state.pages.hits >= 1

        changed = [r if r.source_id != "j0" else job("j0", "nk", title="Pflegefachkraft (w/m/d)")
                   for r in jobs_data()]
        stage(engine, "jobcenter-nk", "jobs", changed, now=T0 + dt.timedelta(days=1))
        publish_domain(engine, "jobs", now=T0 + dt.timedelta(days=1))
        after = c.get("/v1/jobs?region=10043")
        assert after.headers["etag"] != first.headers["etag"]
        assert "Pflegefachkraft (w/m/d)" in after.text
        assert c.get("/v1/jobs?region=10043", headers={"If-None-Match": first.headers["etag"]}).status_code == 200


def test_contacts_and_anonymous_readers_never_share_a_cached_page(engine):
    from hub.api.keys import create_key

    fill(engine)
    publish_domain(engine, "jobs", now=T0)
    key, _ = create_key(engine, name="Beratung", scopes=["contacts"])
    with client_for(engine) as c:
        if engine.dialect.name == "postgresql":
            assert wait_until_listening(c)  # the cached pages are answered before routing then
        for _ in range(2):
            anonymous = c.get("/v1/jobs")
            insider = c.get("/v1/jobs", headers={"X-API-Key": key})
            assert "pflege@klinikum.example" not in anonymous.text
            assert "pflege@klinikum.example" in insider.text
            # nor does a shared cache in front of the API: the pages say what they depend on
            assert anonymous.headers["vary"] == insider.headers["vary"] == "Authorization, X-API-Key, Accept-Encoding"
        assert c.app.state.pages.hits >= 1


def test_a_cached_page_links_to_the_host_each_reader_asked(engine):
    """A page's next link is absolute: one reader's Host header (or scheme) must never end up
    in the links the cache gives another reader."""
    fill(engine)
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine) as c:
        if engine.dialect.name == "postgresql":
            assert wait_until_listening(c)  # the cached pages are answered before routing then
        for _ in range(2):  # rendered, then from the cache
            planted = c.get("/v1/jobs?limit=1", headers={"Host": "evil.example"})
            assert planted.json()["next"].startswith("http://evil.example/v1/jobs?")
            own = c.get("/v1/jobs?limit=1")
            assert own.json()["next"].startswith("http://testserver/v1/jobs?")
            assert "evil.example" not in own.headers["link"]
            assert own.headers["etag"] != planted.headers["etag"]


def test_a_publication_by_another_process_reaches_the_readers(engine, db_url):
    fill(engine)
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine) as c:
        if engine.dialect.name == "postgresql":
            assert wait_until_listening(c)
        assert source_ids(c.get("/v1/jobs").json()) == ["j0", "j1", "j2"]
        publish_elsewhere(db_url, [job("x1", title="Neue Stelle"), *jobs_data()[1:]])
        got = eventually(lambda: source_ids(c.get("/v1/jobs").json()), ["j1", "j2", "x1"])
        assert got == ["j1", "j2", "x1"]


def test_a_lost_listener_connection_costs_speed_not_freshness(engine, db_url):
    if engine.dialect.name != "postgresql":
        return  # SQLite reads the version on every request: there is no listener to lose
    fill(engine)
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine) as c:
        version = c.app.state.version
        assert wait_until_listening(c)
        with engine.connect() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
            killed = conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                {"name": f"hub-api {channel_name(schema)}"[:63]}).all()
        assert killed
        deadline = time.monotonic() + 10
        while version.listening and time.monotonic() < deadline:  # the listener notices
            time.sleep(0.02)
        # meanwhile (and if it never came back) each request reads the version itself
        publish_elsewhere(db_url, [job("y1", title="Noch eine Stelle"), *jobs_data()[1:]])
        got = eventually(lambda: source_ids(c.get("/v1/jobs").json()), ["j1", "j2", "y1"])
        assert got == ["j1", "j2", "y1"]
        assert wait_until_listening(c), "the listener did not come back"


def test_cached_pages_keep_the_endpoints_rules(engine):
    """Cached anonymous pages are answered before routing (hub.api.app.CachedListPages): the
    same bytes and headers as the endpoint gave, 304 for their ETag, the anonymous rate
    limit still counted, and nothing served that the endpoint would refuse."""
    if engine.dialect.name != "postgresql":
        return  # the early answer needs the listener: SQLite always goes to the endpoint
    fill(engine)
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine, anon_rate_limit=3) as c:
        assert wait_until_listening(c)
        first = c.get("/v1/jobs?limit=1&region=10043")
        hits = c.app.state.pages.hits
        statements = Statements(engine)
        try:
            again = c.get("/v1/jobs?region=10043&limit=1")  # same parameters, other order
            assert statements.count == 0
        finally:
            statements.close()
        assert c.app.state.pages.hits == hits + 1
        assert again.content == first.content
        for name in ("etag", "link", "content-type", "cache-control"):
            assert again.headers[name] == first.headers[name]
        assert c.get("/v1/jobs?limit=1&region=10043",
                     headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        # an invalid request is never in the cache: the endpoint answers it
        assert c.get("/v1/jobs?limit=1&region=10043&radius=-1").status_code == 422
        limited = c.get("/v1/jobs?limit=1&region=10043")  # the fourth counted this minute (the 422 was refused before counting)
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert int(limited.headers["retry-after"]) >= 1


def test_a_database_url_naming_psycopg2_as_dagsters_does_keeps_the_listener(db_url):
    """An operator who wrote HUB_DATABASE_URL as deploy/README writes Dagster's
    (postgresql+psycopg2://) got a hub that worked, but a read API whose publication listener
    (psycopg 3's API) failed and logged that every second, for ever, and read the version per
    request: the hub takes such a URL with psycopg 3."""
    if not db_url.startswith("postgresql"):
        return  # SQLite has no listener
    from hub.store.db import make_engine, migrate

    engine = make_engine(db_url.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1))
    try:
        migrate(engine)
        fill(engine)
        publish_domain(engine, "jobs", now=T0)
        with client_for(engine) as c:
            assert wait_until_listening(c), "the listener failed on a psycopg2 URL"
            assert source_ids(c.get("/v1/jobs").json()) == ["j0", "j1", "j2"]
    finally:
        engine.dispose()


def test_a_listener_that_cannot_connect_says_so_once_not_every_second(caplog):
    """While PostgreSQL was down the read API logged 'not listening for publications' once a
    second, in every worker, for as long as the outage lasted; a lasting failure is now said
    once (and again only when its reason changes)."""
    import logging

    from hub.store.db import make_engine

    down = make_engine("postgresql+psycopg://hub@127.0.0.1:1/hub")  # refused at once
    try:
        with caplog.at_level(logging.WARNING, logger="hub.api"):
            with client_for(down):
                time.sleep(3.5)  # three retries and more
    finally:
        down.dispose()
    said = [r.getMessage() for r in caplog.records if "not listening for publications" in r.getMessage()]
    assert len(said) == 1, said


def test_the_hsds_index_follows_a_publication_without_waiting_for_a_request(engine, db_url):
    """The index behind /hsds was built in the first /hsds request after each publication
    (tens of seconds for a national directory, with every /hsds request behind it waiting).
    A server listening for publications builds it again as one is announced, once the app
    has answered HSDS."""
    if engine.dialect.name != "postgresql":
        pytest.skip("only a PostgreSQL server is told of publications (SQLite: per request, as before)")
    fill(engine)
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine) as c:
        assert wait_until_listening(c)
        assert c.get("/hsds/organizations").status_code == 200  # answered from the index
        state = c.app.state
        built = state.hsds_index
        publish_elsewhere(db_url, [job("x1", title="Neue Stelle"), *jobs_data()[1:]])
        with engine.connect() as conn:
            newest = conn.execute(sa.text("SELECT max(seq) FROM changes")).scalar_one()
        # no request in between: the listener's announcement alone rebuilt it
        assert eventually(lambda: state.hsds_index.version, (newest,)) == (newest,)
        warm = state.hsds_index
        assert warm is not built
        # the next request answers from it, and the new posting's service is in it
        assert c.get("/hsds/organizations").status_code == 200 and state.hsds_index is warm
        with engine.connect() as conn:
            eid = conn.execute(sa.text("SELECT entity_id FROM directory WHERE title = 'Neue Stelle'")).scalar_one()
        assert eid in warm.services.values()
