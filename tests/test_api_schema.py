"""The read API against its own OpenAPI document, with generated requests (schemathesis):
no server errors, and every response as documented (status, content type, headers, body).

(schemathesis' ``from_fixture`` does not work with this pytest, so each operation's strategy
is drawn from in a Hypothesis test of its own, inside the test that owns the database.)"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from schemathesis.specs.openapi.checks import positive_data_acceptance

from hub.api.app import ApiSettings, create_app
from tests.test_api import _feedback_registry, fill

EXAMPLES = 15


def test_responses_conform_to_the_openapi_document(engine, tmp_path):
    fill(engine)
    app = create_app(engine, ApiSettings(registry_path=_feedback_registry(tmp_path)))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    # /hsds/* belongs to hub/api/hsds.py and is tested in tests/test_api_hsds.py
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if not op.path.startswith("/hsds")]
    assert {op.path for op in operations} >= {"/v1/jobs", "/v1/courses", "/v1/housing", "/v1/changes",
                                              "/v1/jobs/{entity_id}", "/partners/{partner_id}/feedback"}
    statuses: dict[str, set[int]] = {}

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            # every other built-in check runs; positive_data_acceptance would count the
            # documented 400s (a cursor this API never gave out, a radius without a centre:
            # valid by the schema, impossible to answer) as valid data refused
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500, response.text
            statuses.setdefault(operation.path, set()).add(response.status_code)

        check()
    # the generated requests reached the endpoints, not only their validation
    assert 200 in statuses["/v1/jobs"] and 200 in statuses["/v1/changes"] and 200 in statuses["/v1/partners"]


def test_the_openapi_document_names_the_key_and_limit_answers_of_every_hsds_route(engine):
    """With keys required (HUB_API_REQUIRE_KEYS) every HSDS route answers 401/403 and the rate
    limit 429 as /v1 does: a client generator must know them."""
    from fastapi.testclient import TestClient

    from hub.api.app import ApiSettings, create_app

    with TestClient(create_app(engine, ApiSettings())) as c:
        paths = c.get("/openapi.json").json()["paths"]
    hsds_paths = [p for p in paths if p.startswith("/hsds")]
    assert hsds_paths
    for path in hsds_paths:
        assert {"401", "403", "429"} <= set(paths[path]["get"]["responses"]), path


def test_the_openapi_document_describes_each_domains_fields(engine):
    """A client generator sees a flat's rents and a course's levels, not only id and title."""
    from fastapi.testclient import TestClient

    from hub.api.app import ApiSettings, create_app

    with TestClient(create_app(engine, ApiSettings())) as c:
        doc = c.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert {"cold_rent", "warm_rent", "rooms", "address"} <= set(schemas["HousingVacancyEntry"]["properties"])
    assert {"cefr_levels", "course_type", "start_date"} <= set(schemas["CourseOfferEntry"]["properties"])
    assert {"working_time", "german_level", "valid_through"} <= set(schemas["JobPostingEntry"]["properties"])
    assert "partner_id" not in schemas["JobPostingEntry"]["properties"]  # in sources
    page = doc["paths"]["/v1/housing"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["$ref"].endswith("/HousingVacancyPage")
    item = doc["paths"]["/v1/courses/{entity_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert item["schema"]["$ref"].endswith("/CourseOfferEntry")


def test_every_operation_documents_the_400_a_nul_character_gets(engine):
    """Any route answers a NUL character (%00) in its path or query with 400 (RefuseNul), but
    the feedback page, its downloads and the entries by id did not document a 400: a client
    generated from the document met an answer it was told could not come."""
    from fastapi.testclient import TestClient

    from hub.api.app import ApiSettings, create_app

    with TestClient(create_app(engine, ApiSettings())) as c:
        paths = c.get("/openapi.json").json()["paths"]
        for url in ("/v1/jobs/job-%00x", "/partners/vhs-nk/feedback?key=%00", "/hsds/services?search=%00"):
            assert c.get(url).status_code == 400, url
    undocumented = [f"{method.upper()} {path}" for path, item in paths.items()
                    for method, operation in item.items() if "400" not in operation["responses"]]
    assert undocumented == []


def test_the_openapi_document_says_which_entries_a_region_finds(engine):
    """A portal asked /v1/jobs?region=<a municipality's AGS> and missed the BA's postings (a
    postal code and town, no AGS) with nothing in the document saying so: it read 'an entry
    without an AGS is found by the district or Land of its postal code'."""
    from fastapi.testclient import TestClient

    from hub.api.app import ApiSettings, create_app

    with TestClient(create_app(engine, ApiSettings())) as c:
        doc = c.get("/openapi.json").json()
    for domain in ("jobs", "courses", "housing"):
        region = next(p for p in doc["paths"][f"/v1/{domain}"]["get"]["parameters"] if p["name"] == "region")
        said = region["description"]
        assert "never by a municipality (8 digits: a postal code does not tell the municipality)" in said
        assert "(10041, 10042, 10043, 10044, 10045, 10046)" in said  # the districts it knows
        assert "postal_code or radius find it by place" in said


def test_the_openapi_document_says_which_postings_a_german_level_finds(engine):
    """A portal asked /v1/jobs?german_level=A1 and got a posting asking for 'gute
    Deutschkenntnisse' (no level) while the document said 'postings that ask for at most this
    level, or say nothing': it finds those naming no level, and the document says so."""
    from hub.api.app import ApiSettings, create_app
    from hub.store.publish import publish_domain
    from tests.test_api import T0, client_for, job, stage

    stage(engine, "pflege-sued", "jobs", [job("w1", partner="pflege-sued", german_required=True),
                                          job("b2", partner="pflege-sued", german_level="B2", german_required=True)])
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine) as c:
        found = c.get("/v1/jobs?german_level=A1").json()["items"]
        assert [e["sources"][0]["source_id"] for e in found] == ["w1"]
    from fastapi.testclient import TestClient

    with TestClient(create_app(engine, ApiSettings())) as c:
        doc = c.get("/openapi.json").json()
    level = next(p for p in doc["paths"]["/v1/jobs"]["get"]["parameters"] if p["name"] == "german_level")
    assert ("name no level: that say nothing of German, need none, or describe it in words without "
            "a level ('gute Deutschkenntnisse': german_required true, no german_level)") in level["description"]


def test_the_openapi_document_says_what_each_closed_list_value_means(engine):
    """A portal developer read course_type 'literacy_course', working_time 'shift', schedule
    'blended' with nothing saying which German offer each stands for, nor that an
    Integrationskurs mit Alphabetisierung is not an integration_course."""
    from fastapi.testclient import TestClient

    from hub.api.app import ApiSettings, create_app

    with TestClient(create_app(engine, ApiSettings())) as c:
        doc = c.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for name, words in [("CourseType", ["Integrationskurs", "Berufssprachkurs", "Alphabetisierungskurs"]),
                        ("CourseSchedule", ["evening: Abendkurs", "weekend: Wochenendkurs", "blended"]),
                        ("WorkingTime", ["part_time: Teilzeit", "shift: Schicht"]),
                        ("EmploymentType", ["apprenticeship: Ausbildung", "mini_job: Minijob"]),
                        ("PropertyType", ["apartment: Wohnung", "room: Zimmer"])]:
        said = schemas[name].get("description", "")
        for value in schemas[name]["enum"]:
            assert f"{value}:" in said or f"{value}." in said, (name, value, said)
        for word in words:
            assert word in said, (name, word)
    course_type = next(p for p in doc["paths"]["/v1/courses"]["get"]["parameters"]
                       if p["name"] == "course_type")
    assert "Integrationskurs mit Alphabetisierung is a literacy_course" in course_type["description"]


def test_the_list_endpoints_say_how_to_ask_them_with_examples_that_work(engine):
    """The list operations had no description: a portal developer learnt neither that filters
    combine with 'and' and take one value each, nor that entries come in id order (no sort),
    nor how an advisor's question is written as a request. Each example in the document is
    answered 200 by the API."""
    import re

    from tests.test_api import client_for, fill

    fill(engine)
    with client_for(engine) as c:
        doc = c.get("/openapi.json").json()
        for domain in ("jobs", "courses", "housing"):
            said = doc["paths"][f"/v1/{domain}"]["get"]["description"]
            assert "combine with *and*" in said and "in the order of their ids" in said, domain
            examples = re.findall(r"`(/v1/[a-z]+\?[^`]+)`", said)
            assert len(examples) >= 2, said
            for url in examples:
                assert url.startswith(f"/v1/{domain}?")
                response = c.get(url)
                assert response.status_code == 200, (url, response.text)
