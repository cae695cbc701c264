"""The /hsds endpoints, on SQLite and PostgreSQL: responses validate against the official HSDS
3.0 schemas (../shared/conformance/specs/hsds-3.0; skipped with a reason where absent)."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub import hsds
from hub.api.hsds import router
from tests.hsds_schema import errors, page_schema, require_specs
from tests.test_export import NOW, fill, sample_records

PROBLEM = "application/problem+json"


def make_client(engine) -> TestClient:
    from hub.api.app import ApiSettings, create_app

    return TestClient(create_app(engine, ApiSettings()))


def check_page(body: dict, item_schema: str) -> None:
    from jsonschema import Draft202012Validator

    problems = [e.message for e in Draft202012Validator(page_schema()).iter_errors(body)]
    assert problems == []
    assert set(body) == {"total_items", "total_pages", "page_number", "size", "first_page", "last_page",
                         "empty", "contents"}
    assert body["size"] == len(body["contents"])
    for item in body["contents"]:
        item = dict(item)
        if item_schema == "service_at_location.json":
            # the compiled list schema (and the official example) nest the service
            assert errors(item.pop("service"), "service.json", strict=True) == []
        assert errors(item, item_schema, strict=True) == [], item


def test_api_info_and_profile(engine):
    client = make_client(engine)
    info = client.get("/hsds/").json()
    assert info["version"] == "3.0"
    assert info["profile"] == "http://testserver/hsds/profile"
    assert info["openapi_url"] == "http://testserver/openapi.json"
    profile = client.get("/hsds/profile")
    assert profile.status_code == 200 and profile.headers["content-type"].startswith("text/markdown")
    assert "welcome-hub" in profile.text
    assert "/hsds/services" in client.get("/openapi.json").json()["paths"]


def test_services_pages_and_full_services_validate(engine):
    require_specs()
    entries = fill(engine)
    client = make_client(engine)
    first = client.get("/hsds/services", params={"per_page": 4}).json()
    check_page(first, "service.json")
    assert (first["total_items"], first["total_pages"], first["page_number"], first["size"]) == (6, 2, 1, 4)
    assert (first["first_page"], first["last_page"], first["empty"]) == (True, False, False)
    second = client.get("/hsds/services", params={"per_page": 4, "page": 2}).json()
    check_page(second, "service.json")
    assert (second["size"], second["first_page"], second["last_page"]) == (2, False, True)
    beyond = client.get("/hsds/services", params={"per_page": 4, "page": 3}).json()
    assert beyond["empty"] is True and beyond["contents"] == []

    listed = first["contents"] + second["contents"]
    assert {s["id"] for s in listed} == {hsds.service_id(eid) for eid in entries}
    for item in listed:
        assert "attributes" not in item and "service_at_locations" not in item  # one-to-one fields only
        full = client.get(f"/hsds/services/{item['id']}")
        assert full.status_code == 200
        body = full.json()
        assert errors(body, "service.json", strict=True) == []
        eid = next(e for e in entries if hsds.service_id(e) == item["id"])
        assert body == hsds.service(entries[eid], full=True, contacts=False, modified=NOW)
        # last_modified: when the entry changed in the directory, the time modified_after
        # filters on (not the partner's updated_at: the Koch posting says 2026-11-01)
        assert body["last_modified"] == item["last_modified"] == "2026-11-20T08:00:00.000+00:00"
        location = body["service_at_locations"][0]["location"]
        assert location["addresses"][0]["postal_code"] == entries[eid]["address"]["postal_code"]
        assert body["organization"]["id"] == body["organization_id"]


def test_organizations_and_locations_validate(engine):
    require_specs()
    entries = fill(engine)
    client = make_client(engine)
    orgs = client.get("/hsds/organizations").json()
    check_page(orgs, "organization.json")
    names = [o["name"] for o in orgs["contents"]]
    assert names == sorted(names, key=str.casefold) and "VHS Neunkirchen" in names
    assert "pflege-nk" in names  # no organisation given: the partner stands in

    vhs = next(o for o in orgs["contents"] if o["name"] == "VHS Neunkirchen")
    one = client.get(f"/hsds/organizations/{vhs['id']}").json()
    services = one.pop("services")
    assert errors(one, "organization.json", strict=True) == []
    assert sorted(s["name"] for s in services) == ["Deutsch B2 online", "Integrationskurs mit Kinderbetreuung"]
    for item in services:
        assert errors(item, "service.json", strict=True) == []
    by_org = client.get("/hsds/services", params={"organization_id": vhs["id"]}).json()
    assert {s["id"] for s in by_org["contents"]} == {s["id"] for s in services}
    assert client.get("/hsds/organizations", params={"search": "vhs"}).json()["total_items"] == 1

    locations = client.get("/hsds/locations", params={"per_page": 100}).json()
    check_page(locations, "location.json")
    assert locations["total_items"] == len(entries)
    loc = locations["contents"][0]
    assert client.get(f"/hsds/locations/{loc['id']}").json() == loc

    sals = client.get("/hsds/service_at_locations", params={"domain": "housing"}).json()
    check_page(sals, "service_at_location.json")
    assert sals["total_items"] == 1
    sal = client.get(f"/hsds/service_at_locations/{sals['contents'][0]['id']}").json()
    assert errors(sal.pop("service"), "service.json", strict=True) == []
    assert errors(sal, "service_at_location.json", strict=True) == []

    terms = client.get("/hsds/taxonomy_terms", params={"per_page": 500}).json()
    check_page(terms, "taxonomy_term.json")
    taxonomies = client.get("/hsds/taxonomies").json()
    check_page(taxonomies, "taxonomy.json")
    assert client.get(f"/hsds/taxonomies/{taxonomies['contents'][0]['id']}").status_code == 200


def test_filters(engine):
    fill(engine)
    client = make_client(engine)
    jobs_term = hsds.TERMS["welcome-hub:domain.jobs"]["id"]
    assert client.get("/hsds/services", params={"taxonomy_term_id": jobs_term}).json()["total_items"] == 3
    assert client.get("/hsds/services", params={"domain": "courses"}).json()["total_items"] == 2
    assert client.get("/hsds/services", params={"domain": "Courses"}).json()["total_items"] == 2
    assert client.get("/hsds/services", params={"domain": "kurse"}).status_code == 422
    assert client.get("/hsds/services", params={"search": "KOCH"}).json()["contents"][0]["name"] == "Koch (m/w/d)"
    assert client.get("/hsds/services", params={"search": "100%_"}).json()["empty"] is True
    # words, as the /v1 lists take q: each anywhere in name, organization or description,
    # umlauts written out
    both = client.get("/hsds/services", params={"search": "koch saar"}).json()
    assert [s["name"] for s in both["contents"]] == ["Koch (m/w/d)"]
    assert client.get("/hsds/services", params={"search": "kinderbetreuung integrationskurs"}).json()[
        "total_items"] == 1
    assert client.get("/hsds/services", params={"search": "koch hotel"}).json()["empty"] is True
    blank = client.get("/hsds/services", params={"search": " "})
    assert blank.status_code == 400 and "search holds no words" in blank.json()["detail"]
    assert client.get("/hsds/services", params={"modified_after": "2026-11-20"}).json()["total_items"] == 6
    assert client.get("/hsds/services", params={"modified_after": "2026-11-21T00:00:00Z"}).json()["empty"]
    # published at 08:00 UTC: a time with an offset is that instant (09:00 in Berlin), not its wall time
    for after, total in (("2026-11-20T09:00:00+01:00", 6), ("2026-11-20T09:00:01+01:00", 0),
                         ("2026-11-20T07:30:00-01:00", 0), ("2026-11-20T03:00:00-05:00", 6)):
        assert client.get("/hsds/services", params={"modified_after": after}).json()["total_items"] == total, after
    bad = client.get("/hsds/services", params={"modified_after": "yesterday"})
    assert bad.status_code == 400 and bad.headers["content-type"] == PROBLEM
    unsupported = client.get("/hsds/services", params={"taxonomy_term_id": hsds.TERMS["welcome-hub:job.salary_min"]["id"]})
    assert unsupported.status_code == 400 and "valued terms" in unsupported.json()["detail"]
    assert client.get("/hsds/services", params={"per_page": 0}).status_code == 422
    for params in ({"minimal": "true"}, {"full": "true"}, {"format": "ndjson"}, {"postcode": "66538"}):
        refused = client.get("/hsds/services", params=params)  # not applied: said so, not ignored
        assert refused.status_code == 400 and "not implemented" in refused.json()["detail"], params
    assert client.get("/hsds/services", params={"format": "json"}).status_code == 200


@pytest.mark.parametrize("path", ["services", "organizations", "locations", "service_at_locations",
                                  "taxonomies", "taxonomy_terms"])
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unknown_ids_are_problem_404s(engine, path):
    fill(engine)
    client = make_client(engine)
    for ident in ("0b7b6a55-1b1a-5f55-9c59-000000000000", "job-0123456789abcdef"):
        response = client.get(f"/hsds/{path}/{ident}")
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == 404


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_contacts_only_for_keys_with_the_contacts_scope(engine):
    from hub.api.keys import create_key

    fill(engine)
    client = make_client(engine)
    course = next(s for s in client.get("/hsds/services").json()["contents"]
                  if s["name"] == "Integrationskurs mit Kinderbetreuung")
    anonymous = client.get(f"/hsds/services/{course['id']}").json()
    assert "contacts" not in anonymous and "email" not in anonymous and "email" not in course
    key, _ = create_key(engine, name="portal", scopes=["contacts"])
    with_key = client.get(f"/hsds/services/{course['id']}", headers={"Authorization": f"Bearer {key}"}).json()
    assert with_key["contacts"][0]["email"] == "kurse@vhs.example"
    assert with_key["email"] == "kurse@vhs.example"
    # the contact the partner did not mark public never appears, whatever the key
    b2 = next(s for s in client.get("/hsds/services").json()["contents"] if s["name"] == "Deutsch B2 online")
    assert "contacts" not in client.get(f"/hsds/services/{b2['id']}", headers={"X-API-Key": key}).json()
    assert client.get("/hsds/services", headers={"X-API-Key": "hub_wrongwrongwrong"}).status_code == 401


def test_the_standard_taxonomy_filters_find_the_services_that_carry_the_term(engine):
    """taxonomy_term_id and taxonomy_id, as the HSDS API defines them: a service is listed when
    one of its attributes names the term (or a term of the taxonomy), on /services and
    /service_at_locations, for every term a list can filter on."""
    fill(engine)
    client = make_client(engine)
    services = [client.get(f"/hsds/services/{s['id']}").json()
                for s in client.get("/hsds/services").json()["contents"]]
    carrying: dict[str, set[str]] = {}
    for service in services:
        for attr in service["attributes"]:
            carrying.setdefault(attr["taxonomy_term_id"], set()).add(service["id"])
    filterable = [t for key, t in hsds.TERMS.items()
                  if not key.startswith(("welcome-hub:hub.", "welcome-hub:job.", "welcome-hub:course.",
                                         "welcome-hub:housing.", "welcome-hub:role."))]
    for term in filterable:
        for path in ("/hsds/services", "/hsds/service_at_locations"):
            page = client.get(path, params={"taxonomy_term_id": term["id"]}).json()
            found = {item.get("service_id", item["id"]) for item in page["contents"]}
            assert found == carrying.get(term["id"], set()), (path, term["code"])
    names = lambda params: sorted(s["name"] for s in client.get("/hsds/services", params=params).json()["contents"])
    # a CEFR level: the levels a course covers and the German a job asks for
    assert names({"taxonomy_term_id": hsds.TERMS["cefr:B1"]["id"]}) == [
        "Integrationskurs mit Kinderbetreuung", "Koch (m/w/d)"]
    assert names({"taxonomy_term_id": hsds.TERMS["welcome-hub:working_time.shift"]["id"]}) == ["Koch (m/w/d)"]
    cefr, hub = (hsds.hsds_id("taxonomy", key) for key in ("cefr", "welcome-hub"))
    assert names({"taxonomy_id": cefr}) == ["Deutsch B2 online", "Integrationskurs mit Kinderbetreuung",
                                            "Koch (m/w/d)"]
    assert len(names({"taxonomy_id": hub})) == 6
    assert names({"taxonomy_id": "00000000-0000-0000-0000-000000000000"}) == []
    assert names({"taxonomy_id": cefr, "domain": "jobs"}) == ["Koch (m/w/d)"]

    # the taxonomy lists take the standard's search, top_only and parent_id
    terms = client.get("/hsds/taxonomy_terms", params={"search": "niveau b1"}).json()
    assert [t["code"] for t in terms["contents"]] == ["B1"]
    assert client.get("/hsds/taxonomy_terms", params={"top_only": "true"}).json()["total_items"] == len(hsds.TERMS)
    assert client.get("/hsds/taxonomy_terms", params={"parent_id": terms["contents"][0]["id"]}).json()["empty"]
    assert [t["name"] for t in client.get("/hsds/taxonomies", params={"search": "referenzrahmen"}).json()[
        "contents"]] == ["GER / CEFR"]

    # an organization with its services fully nested (full_service), not on the list
    vhs = client.get("/hsds/organizations", params={"search": "vhs"}).json()["contents"][0]
    full = client.get(f"/hsds/organizations/{vhs['id']}", params={"full_service": "true"}).json()
    assert full["services"] == [client.get(f"/hsds/services/{s['id']}").json() for s in full["services"]]
    assert all("attributes" in s and "service_at_locations" in s for s in full["services"])
    assert client.get(f"/hsds/organizations/{vhs['id']}").json()["services"][0].get("attributes") is None
    refused = client.get("/hsds/organizations", params={"full_service": "true"})
    assert refused.status_code == 400 and "not implemented" in refused.json()["detail"]
    assert client.get("/hsds/services", params={"minimal": "false"}).status_code == 200  # the default


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_new_publication_is_seen_and_the_router_works_alone(engine):
    """The router needs nothing but app.state.engine; its id index follows publications."""
    from hub.models import JobPosting
    from hub.store.publish import publish_domain
    from hub.store.staging import record_hash
    from hub.store.tables import source_records
    from tests.test_export import NOW

    fill(engine, sample_records()[:1])
    app = FastAPI()
    app.state.engine = engine
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/hsds/services").json()["total_items"] == 1
    record = JobPosting(partner_id="jobcenter-nk", source_id="NEW-1", title="Busfahrer (m/w/d)",
                        organisation="Saarbahn", address={"postal_code": "66538", "city": "Neunkirchen"})
    data = record.model_dump(mode="json")
    with engine.begin() as conn:
        conn.execute(source_records.insert(), [{
            "domain": "jobs", "partner_id": "jobcenter-nk", "source_id": "NEW-1", "record": data,
            "content_hash": record_hash(data), "status": "active", "first_seen": NOW, "last_seen": NOW}])
    publish_domain(engine, "jobs")
    listed = client.get("/hsds/services").json()
    assert listed["total_items"] == 2
    new = next(s for s in listed["contents"] if s["name"] == "Busfahrer (m/w/d)")
    assert client.get(f"/hsds/services/{new['id']}").json()["organization"]["name"] == "Saarbahn"
    assert client.get(f"/hsds/organizations/{new['organization_id']}").status_code == 200
    assert client.get("/hsds/nothing").status_code == 404


def _bench_api(*args: str, timeout: int = 120) -> dict:
    """bench/api.py's JSON report for ``args`` (skipped where PostgreSQL is not reachable,
    failed where CI requires it)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from tests.db import postgres_required

    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, str(root / "bench" / "api.py"), *args],
                            capture_output=True, text=True, timeout=timeout, cwd=root)
    if result.returncode == 2 and "PostgreSQL not reachable" in result.stderr:
        if postgres_required():
            pytest.fail(result.stderr.strip())
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_api_benchmark_smoke():
    """bench/api.py runs end to end on a tiny directory and prints its JSON report (about 10 s;
    the benchmark itself is run by hand)."""
    report = _bench_api("--entries", "500", "--seconds", "2")
    assert {"entries", "scenarios", "sql_floor", "target", "meets_target", "load_generator"} <= set(report)
    for name in ("postal_code", "region"):
        scenario = report["scenarios"][name]
        assert {"requests_per_s", "p50_ms", "p99_ms"} <= set(scenario)
        assert scenario["requests_per_s"] > 0 and scenario["errors"] == 0 and not scenario["non_200"]
        assert report["sql_floor"][name]["rows"] > 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hsds_responses_conform_to_the_openapi_document(engine):
    """Generated requests (schemathesis) against every /hsds operation: no server error, every
    response as documented. (A huge page number once overflowed SQLite's OFFSET.)"""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    fill(engine)
    schema = schemathesis.openapi.from_asgi("/openapi.json", make_client(engine).app)
    operations = [op for op in (r.ok() for r in schema.get_all_operations()) if op.path.startswith("/hsds")]
    assert len(operations) >= 14
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            # positive_data_acceptance would count the documented 400 (modified_after that is
            # a string but no date) as valid data refused
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500, response.text

        check()


def test_organization_search_takes_words_in_any_case_and_umlaut_spelling(engine):
    """As the services' search: 'Baeckerei' finds 'Bäckerei', words in any order."""
    from tests.test_export import sample_records

    records = sample_records()
    records[0] = records[0].model_copy(update={"organisation": "Bäckerei Müller Hüttenberg"})
    fill(engine, records)
    client = make_client(engine)

    def found(search: str) -> list[str]:
        return [o["name"] for o in client.get("/hsds/organizations", params={"search": search}).json()["contents"]]

    for search in ("Baeckerei", "bäckerei", "BAECKEREI", "huettenberg mueller", "Hüttenberg"):
        assert found(search) == ["Bäckerei Müller Hüttenberg"], search
    assert found("neunkirchen vhs") == ["VHS Neunkirchen"]
    assert found("Bäckerei Neunkirchen") == []


def test_hsds_answers_carry_an_etag_and_a_repeated_request_gets_304(engine):
    """A portal that polls the HSDS API: the same request with If-None-Match is answered 304
    without a body until a publication changes the directory; a reader with the contacts
    scope has ETags of its own (its answers differ)."""
    from hub.api.keys import create_key
    from hub.store.publish import publish_domain
    from hub.store.tables import source_records

    fill(engine)
    client = make_client(engine)
    first = client.get("/hsds/services?per_page=5")
    etag = first.headers["etag"]
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
    again = client.get("/hsds/services?per_page=5", headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    # another page, another ETag
    assert client.get("/hsds/services?per_page=5&page=2", headers={"If-None-Match": etag}).status_code == 200
    service_id = first.json()["contents"][0]["id"]
    one = client.get(f"/hsds/services/{service_id}")
    assert client.get(f"/hsds/services/{service_id}",
                      headers={"If-None-Match": one.headers["etag"]}).status_code == 304
    key, _ = create_key(engine, name="portal", scopes=["contacts"])
    with_key = client.get("/hsds/services?per_page=5",
                          headers={"If-None-Match": etag, "X-API-Key": key})
    assert with_key.status_code == 200 and with_key.headers["etag"] != etag
    # a publication that withdraws an entry: the list is sent again, with a new ETag
    with engine.begin() as conn:
        conn.execute(source_records.update().where(source_records.c.domain == "jobs")
                     .values(status="withdrawn"))
    publish_domain(engine, "jobs")
    changed = client.get("/hsds/services?per_page=5", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["total_items"] < first.json()["total_items"]


def test_a_misspelt_hsds_filter_is_refused_not_answered_with_everything(engine):
    """?serach= for ?search=: a 400 naming the parameters the endpoint takes, as on /v1, not
    the whole list as if filtered; the standard's parameters this profile does not implement
    keep their own answer, and a cache buster (?_=...) passes."""
    fill(engine)
    client = make_client(engine)
    wrong = client.get("/hsds/services?serach=Integrationskurs")
    assert wrong.status_code == 400 and wrong.headers["content-type"].startswith(PROBLEM)
    assert "'serach'" in wrong.json()["detail"] and "search" in wrong.json()["detail"]
    assert client.get("/hsds/organizations?page=1&sort=name").status_code == 400
    # the parameters it takes, not those it answers as not implemented
    taxonomies = client.get("/hsds/taxonomies?q=cefr").json()["detail"]
    assert taxonomies.endswith("/hsds/taxonomies takes: page, per_page, search"), taxonomies
    unimplemented = client.get("/hsds/services?postcode=66538")
    assert unimplemented.status_code == 400 and "not implemented by this HSDS profile" in unimplemented.json()["detail"]
    assert client.get("/hsds/services?search=Integrationskurs&_=1700000000").json()["total_items"] == 1


def test_courses_at_one_venue_share_a_location_flats_keep_their_own(engine, tmp_path):
    """An HSDS location is a place services are delivered at: a school's courses at one street
    address are services at one location (in the package and the API alike), the spelling of
    the street aside; two flats in one house stay two locations (they differ in floor, size,
    access)."""
    from hub.export import export
    from hub.models import CourseOffer, HousingVacancy
    from tests.test_export import _address

    venue = _address("Schlossstraße", "8", "66564", "Ottweiler", "10043115")  # Schloßstraße in the sample
    house = _address("Dirminger Straße", "35", "66571", "Eppelborn", "10043111", "Saarland")
    entries = fill(engine, sample_records() + [
        CourseOffer(partner_id="vhs-neunkirchen", source_id="VHS-A1-3", title="Deutsch A1 am Abend",
                    organisation="VHS Neunkirchen", course_type="language_course", cefr_levels=["A1"],
                    address=venue, schedule=["evening"]),
        HousingVacancy(partner_id="gemeinde-eppelborn", source_id="EPB-WHG-043", title="2-Zimmer-Wohnung",
                       organisation="Gemeinde Eppelborn", address=house, rooms=2, cold_rent=300),
    ])
    assert len(entries) == 8
    export(engine, "hsds", tmp_path / "hsds")
    table = lambda name: json.loads((tmp_path / "hsds" / f"{name}.json").read_text(encoding="utf-8"))
    services = {s["name"]: s["id"] for s in table("services")}
    at = {sal["service_id"]: sal["location_id"] for sal in table("service_at_locations")}
    locations = {loc["id"]: loc for loc in table("locations")}
    assert len(at) == 8 and len(locations) == 7 and set(at.values()) == set(locations)
    assert at[services["Deutsch A1 am Abend"]] == at[services["Integrationskurs mit Kinderbetreuung"]]
    assert at[services["2-Zimmer-Wohnung"]] != at[services["Barrierefreie 1-Zimmer-Wohnung"]]
    addresses = table("addresses")
    assert sorted(a["location_id"] for a in addresses) == sorted(locations)  # one address each

    client = make_client(engine)
    listed = client.get("/hsds/locations", params={"per_page": 100}).json()
    check_page(listed, "location.json")
    assert listed["total_items"] == 7
    assert {loc["id"] for loc in listed["contents"]} == set(locations)
    assert client.get("/hsds/locations", params={"domain": "courses"}).json()["total_items"] == 2
    assert client.get("/hsds/locations", params={"domain": "housing"}).json()["total_items"] == 2
    venue_id = at[services["Deutsch A1 am Abend"]]
    served = client.get(f"/hsds/locations/{venue_id}").json()
    for name in ("Deutsch A1 am Abend", "Integrationskurs mit Kinderbetreuung"):
        nested = client.get(f"/hsds/services/{services[name]}").json()["service_at_locations"][0]["location"]
        assert nested == served  # the same place, named the same, wherever a reader meets it
    assert served == {**locations[venue_id], "addresses": [a for a in addresses if a["location_id"] == venue_id]}
    for sal in client.get("/hsds/service_at_locations", params={"domain": "courses"}).json()["contents"]:
        if sal["location_id"] == venue_id:
            assert sal["location"] == served
            assert client.get(f"/hsds/service_at_locations/{sal['id']}").json()["location"] == served


def test_api_benchmark_queries_smoke():
    """bench/api.py --queries measures every portal query on a small directory of the three
    domains and prints each one's latency and query plans as JSON."""
    from bench.api import QUERIES

    report = _bench_api("--entries", "600", "--courses", "200", "--housing", "200", "--queries",
                        "--repeat", "2", "--seconds", "1", timeout=180)
    assert report["entries"] == {"jobs": 600, "courses": 200, "housing": 200}
    assert set(report["queries"]) == set(QUERIES)
    for name, query in report["queries"].items():
        assert "error" not in query, (name, query)
        assert query["calls"] >= 2 and query["p50_ms"] > 0 and query["p95_ms"] >= query["p50_ms"]
        assert query["plans"] and all(plan["nodes"] for plan in query["plans"]), name
    assert report["queries"]["jobs_count_all"]["total"] == 600
    assert report["queries"]["courses_first_page"]["items"] == 50
    # the HSDS index a server builds: one service per entry, places and organisations shared
    index = report["hsds_index"]
    assert index["builds"] == 2 and index["seconds"] > 0
    assert index["services"] == 1000
    assert 0 < index["locations"] <= 1000 and 0 < index["organizations"] <= 1000
