"""GET /health as a load balancer, a Kubernetes probe and a monitoring system read it: 200
while the server can answer, 503 with the reason when it cannot, no key needed, never cached,
and each domain's last publication."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub.api.app import ApiSettings, create_app
from hub.store.db import head_revision, make_engine
from tests.test_api import T0, database_at, fill


def _health(engine, **settings):
    # no lifespan (no 'with'): the app's publication listener is not what is checked here
    return TestClient(create_app(engine, ApiSettings(**settings))).get("/health")


def test_a_server_on_a_reachable_database_passes_and_tells_each_domains_last_publication(engine):
    empty = _health(engine)
    assert empty.status_code == 200
    assert empty.headers["content-type"] == "application/health+json"
    assert empty.headers["cache-control"] == "no-store"
    assert empty.json()["status"] == "pass"
    assert empty.json()["schema_revision"] == head_revision()
    assert empty.json()["directory"] == {"jobs": None, "courses": None, "housing": None}

    fill(engine)  # published at T0
    with TestClient(create_app(engine, ApiSettings())) as client:
        body = client.get("/health").json()
        jobs = client.get("/v1/jobs", params={"count": "true", "limit": 1}).json()["total"]
        assert client.head("/health").status_code == 200
    assert body["status"] == "pass"
    assert dt.datetime.fromisoformat(body["directory"]["jobs"]["published_at"]) == T0
    assert body["directory"]["jobs"]["entries"] == jobs > 0
    assert set(body["directory"]) == {"jobs", "courses", "housing"}


def test_the_check_needs_no_key_where_reading_does(engine):
    with TestClient(create_app(engine, ApiSettings(require_keys=True))) as client:
        assert client.get("/v1/jobs").status_code == 401
        assert client.get("/health").status_code == 200


def test_a_database_another_release_migrated_fails_the_check_naming_both_revisions(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    answer = _health(engine)
    assert answer.status_code == 503
    assert answer.json()["status"] == "fail"
    assert "schema revision 0099" in answer.json()["output"]
    assert head_revision() in answer.json()["output"]
    # this release's hub db cannot take it back: the operator needs the newer release's server
    assert "a newer release migrated it" in answer.json()["output"]
    assert "upgrade it" not in answer.json()["output"]


def test_a_database_an_older_release_left_fails_the_check_asking_for_hub_db(db_url):
    # a server of this release started before the operator ran its hub db (a rolling upgrade)
    older = database_at(db_url, "0010")
    answer = _health(older)
    assert answer.status_code == 503
    output = answer.json()["output"]
    assert "schema revision 0010" in output and head_revision() in output
    assert output.endswith("upgrade it with this release's hub db")
    assert "newer release" not in output


def test_an_unreachable_database_fails_the_check_with_a_line_and_no_password():
    # nothing listens on port 1 of loopback: the connection is refused at once
    down = make_engine("postgresql+psycopg://hub:secret@127.0.0.1:1/hub")
    answer = _health(down)
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "fail" and body["schema_revision"] is None
    assert body["output"].startswith("cannot reach the database")
    assert "secret" not in answer.text and "\n" not in body["output"]


def test_a_require_keys_setting_that_is_neither_yes_nor_no_is_refused():
    """HUB_API_REQUIRE_KEYS=enabled (or 'required', 'ture') was taken as off: the operator
    believed the directory needed a key while anyone read it. A value that is neither yes nor
    no is now refused with the setting's name; yes/no, true/false, 1/0, on/off are taken."""
    import pytest

    for word in ("enabled", "required", "ture"):
        with pytest.raises(ValueError, match=f"HUB_API_REQUIRE_KEYS must be yes or no.*'{word}'"):
            ApiSettings.from_env({"HUB_API_REQUIRE_KEYS": word}, hub_settings=object())
    for word, on in (("1", True), ("yes", True), ("TRUE", True), ("on", True),
                     ("0", False), ("no", False), ("false", False), ("", False)):
        assert ApiSettings.from_env({"HUB_API_REQUIRE_KEYS": word},
                                    hub_settings=object()).require_keys is on
    assert ApiSettings.from_env({}, hub_settings=object()).require_keys is False


def test_times_are_told_in_utc_on_a_postgresql_server_set_to_berlin_time(db_url):
    """A PostgreSQL server set up in Germany (timezone = 'Europe/Berlin' in postgresql.conf)
    handed its times back in Berlin time, and /health said '...+01:00' where SQLite's said
    '...Z': the hub's sessions run in UTC on both."""
    from sqlalchemy.engine import make_url

    from hub.store.db import migrate

    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"options": f"{url.query.get('options', '')} -cTimeZone=Europe/Berlin"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        migrate(engine)
        fill(engine)
        published = _health(engine).json()["directory"]["jobs"]["published_at"]
    finally:
        engine.dispose()
    assert published.endswith("Z"), published
    assert dt.datetime.fromisoformat(published) == T0
