"""The read API on SQLite and PostgreSQL: every filter, keyset pages across a publication,
conditional requests, stable ids (307/410/404), the change feed, problem details, keys,
scopes and rate limits, and the partner feedback page's access rules."""

from __future__ import annotations

import datetime as dt
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from hub.api.app import ApiSettings, create_app
from hub.api.keys import create_key, revoke_key
from hub.models import CourseOffer, HousingVacancy, JobPosting, Rejection
from hub.store.publish import _publish, publish_domain
from hub.store.staging import write_stage
from hub.store.tables import changes, directory

T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)

PLACES = {
    "nk": {"postal_code": "66538", "city": "Neunkirchen", "municipality_key": "10043114",
           "street": "Bahnhofstraße", "house_number": "1", "geo": (49.3447, 7.1802)},
    "ow": {"postal_code": "66564", "city": "Ottweiler", "municipality_key": "10043115",
           "street": "Illstraße", "house_number": "3", "geo": (49.4010, 7.1633)},
    "sb": {"postal_code": "66111", "city": "Saarbrücken", "municipality_key": "10041100",
           "street": "Kaiserstraße", "house_number": "5", "geo": (49.2354, 6.9969)},
}
# Ottweiler as the BA sends a posting's place: no municipality key (AGS)
PLACES["ow-ba"] = {key: value for key, value in PLACES["ow"].items() if key != "municipality_key"}


def _place(key: str) -> dict:
    p = PLACES[key]
    return {"address": {"street": p["street"], "house_number": p["house_number"],
                        "postal_code": p["postal_code"], "city": p["city"],
                        "municipality_key": p.get("municipality_key")},
            "geo": {"lat": p["geo"][0], "lon": p["geo"][1]}}


def job(sid: str, place: str = "nk", partner: str = "jobcenter-nk", **fields) -> JobPosting:
    data = {"partner_id": partner, "source_id": sid, "title": f"Stelle {sid}",
            "organisation": f"Firma {sid}", **_place(place), **fields}
    return JobPosting.model_validate(data)


def course(sid: str, place: str = "nk", partner: str = "vhs-nk", **fields) -> CourseOffer:
    data = {"partner_id": partner, "source_id": sid, "title": f"Kurs {sid}",
            "course_type": "language_course", **_place(place), **fields}
    return CourseOffer.model_validate(data)


def flat(sid: str, place: str = "nk", partner: str = "wbg-nk", **fields) -> HousingVacancy:
    data = {"partner_id": partner, "source_id": sid, "title": f"Wohnung {sid}", **_place(place), **fields}
    return HousingVacancy.model_validate(data)


def stage(engine, partner: str, domain: str, records: list, now: dt.datetime = T0,
          rejections: list[Rejection] = (), items: int | None = None) -> int:
    """One snapshot delivery of ``partner`` (records that are not in it are withdrawn)."""
    with engine.begin() as conn:
        sync_id, _ = write_stage(
            conn, partner_id=partner, domain=domain, content_sha256="0" * 64, records=list(records),
            record_rejections=list(rejections), items=items if items is not None else len(records),
            snapshot=True, deletions=[], now=now,
        )
    return sync_id


def jobs_data() -> list[JobPosting]:
    return [
        job("j0", "nk", title="Pflegefachkraft (m/w/d)", organisation="Klinikum Neunkirchen",
            description="Pflege im Schichtdienst, Station 3", working_time=["full_time"],
            employment_type="employee", german_level="B2", german_required=True, start_date="2026-12-01",
            contact={"name": "Frau Beispiel", "email": "pflege@klinikum.example", "public": True}),
        job("j1", "ow-ba", title="Auszubildende Köchin", organisation="Hotel Saar",
            working_time=["part_time"], employment_type="apprenticeship", german_level="A2"),
        job("j2", "sb", title="Lagerhelfer 100% flexibel", organisation="Saar Logistik GmbH",
            working_time=["full_time", "shift"], start_date="2027-02-01",
            occupation="Fachkraft - Lagerlogistik", german_required=False),
    ]


def courses_data() -> list[CourseOffer]:
    return [
        course("c0", "nk", title="Integrationskurs", course_type="integration_course",
               cefr_levels=["A1", "A2", "B1"], start_date="2026-12-07", schedule=["part_time"],
               childcare=True, funded=True, price_eur=0),
        course("c1", "sb", title="Berufssprachkurs Pflege", course_type="job_language_course",
               cefr_levels=["B2"], start_date="2027-01-10", schedule=["online", "evening"],
               childcare=False, funded=False, price_eur=180),
        course("c2", "ow", title="Alphabetisierungskurs", course_type="literacy_course",
               cefr_levels=["A1"]),
    ]


def housing_data() -> list[HousingVacancy]:
    return [
        flat("h0", "nk", rooms=2, living_area=55, cold_rent=450, warm_rent=600, wbs_required=True,
             barrier_free=False, available_from="2026-12-01", max_persons=2),
        flat("h1", "ow", rooms=3, living_area=78, warm_rent=820, wbs_required=False,
             barrier_free=True, available_from_text="sofort", max_persons=5),
        flat("h2", "sb", property_type="room", rooms=1, living_area=20, cold_rent=300,
             available_from="2027-03-01"),
    ]


def fill(engine) -> None:
    stage(engine, "jobcenter-nk", "jobs", jobs_data())
    stage(engine, "vhs-nk", "courses", courses_data())
    stage(engine, "wbg-nk", "housing", housing_data())
    for domain in ("jobs", "courses", "housing"):
        publish_domain(engine, domain, now=T0)


def client_for(engine, **settings) -> TestClient:
    return TestClient(create_app(engine, ApiSettings(**settings)), follow_redirects=False)


def source_ids(body: dict) -> list[str]:
    return sorted(s["source_id"] for item in body["items"] for s in item["sources"])


def all_pages(client: TestClient, url: str, **kw) -> list[dict]:
    items = []
    while url:
        response = client.get(url, **kw)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        url = response.json()["next"]
    return items


@pytest.fixture
def filled(engine):
    fill(engine)
    return engine


@pytest.fixture
def client(filled):
    with client_for(filled) as c:
        yield c


# --------------------------------------------------------------------------- filters

FILTER_CASES = {
    "jobs": [
        ("", ["j0", "j1", "j2"]),
        ("region=10043", ["j0", "j1"]),  # j1 by its postal code: it has no AGS
        ("region=10043114", ["j0"]),  # a postal code proves the district, not the municipality
        ("region=10041100", ["j2"]),
        ("region=10", ["j0", "j1", "j2"]),
        ("region=09", []),
        ("postal_code=66564", ["j1"]),
        ("lat=49.3447&lon=7.1802&radius=10", ["j0", "j1"]),
        ("lat=49.3447&lon=7.1802&radius=5", ["j0"]),
        ("lat=49.3447&lon=7.1802&radius=25", ["j0", "j1", "j2"]),
        ("postal_code=66538&radius=10", ["j0", "j1"]),
        ("postal_code=66111&radius=5", ["j2"]),
        ("q=köchin", ["j1"]),
        ("q=KÖCHIN", ["j1"]),
        ("q=schichtdienst", ["j0"]),
        ("q=saar", ["j1", "j2"]),
        ("q=100%25", ["j2"]),
        ("q=%25", ["j2"]),
        ("q=_", []),
        ("q=köchin%20saar", ["j1"]),  # each word on its own, title or organisation
        ("q=hotel%20lager", []),  # every word must occur
        ("q=koechin", ["j1"]),  # umlauts written out match
        ("q=lagerlogistik", ["j2"]),  # the occupation: BA postings often name it only there
        ("q=K%C3%B6CHIN%20%20hotel", ["j1"]),
        ("updated_since=2026-11-20", ["j0", "j1", "j2"]),
        ("updated_since=2026-11-21", []),
        ("starting_after=2027-01-01", ["j2"]),
        ("starting_before=2026-12-31", ["j0", "j1"]),
        ("working_time=shift", ["j2"]),
        ("working_time=full_time", ["j0", "j2"]),
        ("employment_type=apprenticeship", ["j1"]),
        ("apprenticeship=true", ["j1"]),
        ("apprenticeship=false", ["j0", "j2"]),
        ("german_level=B1", ["j1", "j2"]),
        ("german_level=A1", ["j2"]),
        ("german_level=b1", ["j1", "j2"]),  # a level in small letters is the same level
        ("working_time=FULL_TIME", ["j0", "j2"]),  # so is any value in other letters
        ("german_level=C1", ["j0", "j1", "j2"]),
        ("region=10043&german_level=B1", ["j1"]),
        # a newcomer without German: the postings whose employer says none is needed
        ("german_required=false", ["j2"]),
        ("german_required=true", ["j0"]),  # j1 names a level but says nothing of 'required'
        ("german_required=false&german_level=A1", ["j2"]),
    ],
    "courses": [
        ("course_type=integration_course", ["c0"]),
        ("cefr=B1", ["c0"]),
        ("cefr=A1", ["c0", "c2"]),
        ("cefr=C2", []),
        ("cefr=a1", ["c0", "c2"]),
        ("starting_after=2027-01-01", ["c1"]),
        ("starting_before=2026-12-31", ["c0"]),
        ("starting_after=2026-12-01&starting_before=2027-01-31", ["c0", "c1"]),
        ("childcare=true", ["c0"]),
        ("childcare=false", ["c1", "c2"]),
        ("online=true", ["c1"]),
        ("online=false", ["c0", "c2"]),
        # an advisor's 'evening or weekend courses', 'free or funded ones'
        ("schedule=evening", ["c1"]),
        ("schedule=part_time", ["c0"]),
        ("schedule=WEEKEND", []),
        ("schedule=evening&online=true", ["c1"]),
        ("funded=true", ["c0"]),
        ("funded=false", ["c1", "c2"]),  # c2 does not say
        ("funded=true&cefr=A1", ["c0"]),
        ("region=10043&cefr=A1", ["c0", "c2"]),
        ("q=pflege", ["c1"]),
    ],
    "housing": [
        ("rent_max=600", ["h0", "h2"]),
        ("rent_min=700", ["h1"]),
        ("rent_min=500&rent_max=700", ["h0"]),
        # 'up to 400 EUR cold': h0 is 450 cold (600 warm), h1 gives only a warm rent
        ("cold_rent_max=400", ["h2"]),
        ("cold_rent_max=450", ["h0", "h2"]),
        ("cold_rent_max=1000&rooms_min=2", ["h0"]),
        ("rooms_min=2", ["h0", "h1"]),
        ("rooms_max=1", ["h2"]),
        ("area_min=50", ["h0", "h1"]),
        ("wbs=true", ["h0"]),
        ("wbs=false", ["h1", "h2"]),
        ("barrier_free=true", ["h1"]),
        ("barrier_free=false", ["h0", "h2"]),
        ("available_by=2026-12-15", ["h0", "h1"]),
        ("available_by=2026-11-01", ["h1"]),
        ("property_type=room", ["h2"]),
        ("region=10043&rent_max=700", ["h0"]),
        ("postal_code=66538&radius=8&rooms_min=3", ["h1"]),
        # a household of three: h0 is for two, h1 for five, h2 does not say
        ("persons=3", ["h1", "h2"]),
        ("persons=2", ["h0", "h1", "h2"]),
        ("persons=6", ["h2"]),
        ("persons=3&rent_max=600", ["h2"]),
    ],
}


@pytest.mark.parametrize("domain", ["jobs", "courses", "housing"])
def test_each_filter_selects_exactly_the_matching_entries(client, domain):
    for params, expected in FILTER_CASES[domain]:
        response = client.get(f"/v1/{domain}?{params}")
        assert response.status_code == 200, (params, response.text)
        assert source_ids(response.json()) == expected, params
        assert response.json()["total"] is None, params  # counted only when asked
        counted = client.get(f"/v1/{domain}?{params}&count=true".replace("?&", "?")).json()
        assert counted["total"] == len(expected), params  # the count follows every filter


def test_radius_finds_entries_without_coordinates_where_their_postal_code_lies(filled):
    """A course from a CSV template has no coordinates: a radius search counts it at its
    postal code's centre (the hub's table, else where the directory's entries with
    coordinates and that postal code lie, in any domain). An unknown postal code is found by
    no radius."""
    def unplaced(sid: str, postal_code: str, city: str) -> CourseOffer:
        return CourseOffer.model_validate({
            "partner_id": "vhs-x", "source_id": sid, "title": f"Kurs {sid}",
            "course_type": "language_course", "address": {"postal_code": postal_code, "city": city}})

    stage(filled, "vhs-x", "courses", [unplaced("x-ottweiler", "66564", "Ottweiler"),
                                       unplaced("x-dresden", "01067", "Dresden"),
                                       unplaced("x-nowhere", "99998", "Irgendwo")])
    # a posting with coordinates places the Dresden postal code, which the table does not know
    stage(filled, "ba-dd", "jobs", [JobPosting.model_validate({
        "partner_id": "ba-dd", "source_id": "j-dd", "title": "Koch (m/w/d)",
        "address": {"postal_code": "01067", "city": "Dresden"}, "geo": {"lat": 51.057, "lon": 13.73}})])
    publish_domain(filled, "courses", now=T0)
    publish_domain(filled, "jobs", now=T0)
    with client_for(filled) as c:
        def found(params: str) -> list[str]:
            return source_ids(c.get(f"/v1/courses?{params}").json())

        # Ottweiler's centre is 6 km from Neunkirchen's: c2 (with coordinates) and the CSV course
        assert found("postal_code=66538&radius=8") == ["c0", "c2", "x-ottweiler"]
        assert found("postal_code=66538&radius=3") == ["c0"]
        assert found("lat=51.05&lon=13.74&radius=5") == ["x-dresden"]
        assert found("postal_code=01067&radius=1") == ["x-dresden"]
        assert "x-nowhere" not in found("lat=51&lon=10&radius=500")


def test_available_by_takes_undated_flats_free_at_once_not_by_arrangement(filled):
    """A flat without a date is free at once when its text says so (or it has none), not when
    it is let 'nach Vereinbarung' or from a month the text names."""
    stage(filled, "wbg-x", "housing", [
        flat("x-sofort", "sb", partner="wbg-x", available_from_text="ab sofort"),
        flat("x-none", "sb", partner="wbg-x"),
        flat("x-arranged", "sb", partner="wbg-x", available_from_text="nach Vereinbarung"),
        flat("x-free-arranged", "sb", partner="wbg-x", available_from_text="frei nach Absprache"),
        flat("x-may", "sb", partner="wbg-x", available_from_text="ab Mai"),
    ])
    publish_domain(filled, "housing", now=T0)
    with client_for(filled) as c:
        body = c.get("/v1/housing?available_by=2026-12-15&postal_code=66111").json()
        assert source_ids(body) == ["x-none", "x-sofort"]
        assert len(source_ids(c.get("/v1/housing?postal_code=66111").json())) == 6


def test_bad_filter_values_are_problems(client):
    for url, status in [
        ("/v1/jobs?region=abc", 422), ("/v1/jobs?postal_code=6653", 422),
        ("/v1/jobs?radius=10", 400), ("/v1/jobs?lat=49.3", 400), ("/v1/jobs?radius=-1&lat=1&lon=1", 422),
        ("/v1/jobs?postal_code=01067&radius=5", 400),  # no position known for that postal code
        ("/v1/courses?cefr=D1", 422), ("/v1/courses?schedule=abends", 422), ("/v1/courses?funded=maybe", 422), ("/v1/jobs?limit=501", 422), ("/v1/jobs?limit=0", 422),
        ("/v1/housing?available_by=tomorrow", 422), ("/v1/jobs?cursor=not-a-cursor", 400),
        ("/v1/jobs?q=%20", 400), ("/v1/jobs?q=%00", 400), ("/v1/jobs?q=%0A%09", 400),
        ("/v1/housing?rent_max=NaN", 422), ("/v1/jobs?lat=nan&lon=7&radius=5", 422),
        ("/v1/jobs?lat=49&lon=7&radius=inf", 422),
        ("/v1/jobs?lat=49.3447&lon=7.1802&postal_code=66538&radius=10", 400),  # two centres
    ]:
        response = client.get(url)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == status and body["title"] and body["type"] == "about:blank"
        assert body["detail"], url
    # a day written the German way is refused with the form the API reads
    day = client.get("/v1/courses?starting_after=01.12.2026").json()["detail"]
    assert day.startswith("starting_after: ") and day.endswith("(write the day as YYYY-MM-DD, e.g. 2026-12-01)")
    # a parameter given twice was answered for its last value alone, as if that were all asked
    for url, named in [("/v1/courses?schedule=evening&schedule=weekend", "'schedule'"),
                       ("/v1/jobs?region=10043&german_level=A1&german_level=A2&q=x&q=y", "'german_level', 'q'"),
                       ("/v1/housing?limit=5&limit=10", "'limit'")]:
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.json()["detail"].startswith(f"{named} given more than once"), response.json()["detail"]
    assert client.get("/v1/jobs?_=1&_=2").status_code == 200  # cache busters are not read
    # bounds the wrong way round match nothing: said, not answered as 'nothing found'
    for url, said in [
        ("/v1/housing?rent_min=700&rent_max=600", "rent_min=700 lies after rent_max=600"),
        ("/v1/housing?rooms_min=3&rooms_max=2&rent_max=900", "rooms_min=3 lies after rooms_max=2"),
        ("/v1/courses?starting_after=2027-02-01&starting_before=2027-01-01",
         "starting_after=2027-02-01 lies after starting_before=2027-01-01"),
        ("/v1/jobs?starting_after=2027-02-01&starting_before=2027-01-31",
         "starting_after=2027-02-01 lies after starting_before=2027-01-31"),
    ]:
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.json()["detail"].startswith(said), response.json()["detail"]
    assert client.get("/v1/housing?rent_min=600&rent_max=600").status_code == 200  # one value: fine
    # what an advisor types in a German form is answered with the form the API reads
    for url, parameter, hint in [
        ("/v1/housing?rent_max=600,50", "rent_max", "(write decimals with a point, e.g. 600.5, not 600,5)"),
        ("/v1/housing?rooms_min=2,5", "rooms_min", "(write decimals with a point, e.g. 600.5, not 600,5)"),
        ("/v1/housing?rent_max=600%E2%82%AC", "rent_max", "(write a number alone, e.g. 600 or 2.5, without unit)"),
        ("/v1/jobs?limit=zehn", "limit", "(write a whole number, e.g. 50)"),
        ("/v1/housing?wbs=nein", "wbs", "(write true or false)"),
        ("/v1/jobs?apprenticeship=ja", "apprenticeship", "(write true or false)"),
        ("/v1/housing?region=Neunkirchen", "region",
         "(an AGS prefix of 2 to 8 digits: 10043 a district, 10043114 a municipality)"),
        ("/v1/jobs?postal_code=6653", "postal_code", "(five digits, e.g. 66538)"),
    ]:
        response = client.get(url)
        assert response.status_code == 422, url
        detail = response.json()["detail"]
        assert detail.startswith(f"{parameter}: ") and detail.endswith(hint), (url, detail)
        assert response.json()["errors"][0]["message"].endswith(hint)
    # NaN is named as what it is, not as a number out of range
    assert "finite" in client.get("/v1/housing?rent_max=NaN").text


def test_a_misspelt_parameter_is_refused_not_ignored(client):
    """?postcode= for ?postal_code= would answer the whole directory as if filtered: the
    portal is told, with the parameters the endpoint takes."""
    everything = client.get("/v1/jobs").json()["items"]
    for url, named, listed in [("/v1/jobs?postcode=66538", "'postcode'", "postal_code"),
                               ("/v1/courses?level=B1&cefr=B1", "'level'", "cefr"),
                               ("/v1/changes?since=0", "'since'", "after"),
                               (f"/v1/jobs/{everything[0]['id']}?expand=all", "'expand'", "none")]:
        response = client.get(url)
        assert response.status_code == 400, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        detail = response.json()["detail"]
        assert named in detail and listed in detail, detail
    # a client's cache buster is let through, unread
    assert client.get("/v1/jobs?_=1700000000").json()["items"] == everything


def test_a_cursor_is_refused_by_another_domains_list(client):
    courses = client.get("/v1/courses?limit=1").json()
    cursor = courses["next"].split("cursor=")[1].split("&")[0]
    refused = client.get(f"/v1/jobs?cursor={cursor}")
    assert refused.status_code == 400 and "/v1/jobs" in refused.json()["detail"]
    assert client.get(f"/v1/courses?cursor={cursor}").status_code == 200


# --------------------------------------------------------------------------- pages


def test_paging_across_a_publication_has_no_gap_and_no_repeat(engine):
    first = [job(f"p{n:02d}", title=f"Stelle Nummer {n}") for n in range(12)]
    stage(engine, "jobcenter-nk", "jobs", first)
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine) as c:
        before = {e["id"]: e["sources"][0]["source_id"] for e in all_pages(c, "/v1/jobs?limit=100")}
        page = c.get("/v1/jobs?limit=5")
        body = page.json()
        assert len(body["items"]) == 5 and body["limit"] == 5
        assert page.headers["link"] == f'<{body["next"]}>; rel="next"'
        seen = [e["id"] for e in body["items"]]
        url = body["next"]

        # a publication between two pages: two entries go (one already read, one not yet),
        # two come, one changes
        second = [r for r in first if r.source_id not in {"p01", "p08"}]
        second[5] = job("p06", title="Stelle Nummer 6, geändert")
        second += [job("p20", title="Neue Stelle 20"), job("p21", title="Neue Stelle 21")]
        stage(engine, "jobcenter-nk", "jobs", second, now=T0 + dt.timedelta(hours=1))
        publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=1))
        after = {e["id"]: e["sources"][0]["source_id"] for e in all_pages(c, "/v1/jobs?limit=100")}

        while url:
            body = c.get(url).json()
            seen += [e["id"] for e in body["items"]]
            url = body["next"]
    assert len(seen) == len(set(seen)), "an entry was repeated"
    throughout = set(before) & set(after)
    assert throughout <= set(seen), f"gap: {sorted(throughout - set(seen))}"
    assert seen == sorted(seen)
    assert set(seen) <= set(before) | set(after)


def test_a_page_link_keeps_the_filters(client):
    body = client.get("/v1/jobs?region=10043&limit=1&count=true").json()
    assert len(body["items"]) == 1 and "region=10043" in body["next"] and "cursor=" in body["next"]
    assert body["total"] == 2  # what the filters find in all, on the first page
    last = client.get(body["next"]).json()
    assert len(last["items"]) == 1 and last["next"] is None and last["total"] is None
    assert source_ids(body) + source_ids(last) == ["j0", "j1"]


# --------------------------------------------------------------------------- conditional requests


def test_etag_and_if_none_match_on_lists_and_items(filled):
    with client_for(filled) as c:
        first = c.get("/v1/jobs?region=10043")
        etag = first.headers["etag"]
        assert c.get("/v1/jobs?region=10043", headers={"If-None-Match": etag}).status_code == 304
        tag = etag.removeprefix("W/")  # weak: the answer came gzip-compressed
        assert c.get("/v1/jobs?region=10043", headers={"If-None-Match": f'"x", W/{tag}'}).status_code == 304
        assert c.get("/v1/jobs?region=10043", headers={"If-None-Match": tag}).status_code == 304
        assert c.get("/v1/jobs?region=10041", headers={"If-None-Match": etag}).status_code == 200
        item_id = first.json()["items"][0]["id"]
        item = c.get(f"/v1/jobs/{item_id}")
        item_etag = item.headers["etag"]
        not_modified = c.get(f"/v1/jobs/{item_id}", headers={"If-None-Match": item_etag})
        assert not_modified.status_code == 304 and not_modified.content == b""

        # a publication that changes the directory changes the ETags of what it changed
        changed = [r if r.source_id != "j0" else job("j0", "nk", title="Pflegefachkraft (w/m/d)")
                   for r in jobs_data()]
        stage(filled, "jobcenter-nk", "jobs", changed, now=T0 + dt.timedelta(days=1))
        publish_domain(filled, "jobs", now=T0 + dt.timedelta(days=1))
        again = c.get("/v1/jobs?region=10043", headers={"If-None-Match": etag})
        assert again.status_code == 200 and again.headers["etag"] != etag
        j0 = next(e["id"] for e in again.json()["items"] if e["sources"][0]["source_id"] == "j0")
        assert c.get(f"/v1/jobs/{j0}", headers={"If-None-Match": item_etag}).status_code == (
            200 if j0 == item_id else 304)


# --------------------------------------------------------------------------- stable ids


def _merge_and_withdraw(engine) -> dict[str, str]:
    """Three publications: A's posting, then B's similar posting (a second entity), then B's
    posting becomes the same offer as A's (merged into the older id) while A withdraws
    another posting. Returns the ids by role."""
    ref = "10001-1000000077-S"  # the BA reference number: the strongest key there is
    a = [job("a1", title="Koch", organisation="Gasthaus Linde", ba_reference=ref),
         job("a2", title="Kellner")]
    stage(engine, "gasthaus", "jobs", a, now=T0)
    publish_domain(engine, "jobs", now=T0)
    t1 = T0 + dt.timedelta(hours=1)
    stage(engine, "jobcenter-nk", "jobs", [job("b1", partner="jobcenter-nk", title="Koch/Köchin",
                                               organisation="Gasthaus Linde")], now=t1)
    publish_domain(engine, "jobs", now=t1)
    with engine.connect() as conn:
        ids = {row.entry["sources"][0]["source_id"]: row.entity_id
               for row in conn.execute(sa.select(directory.c.entity_id, directory.c.entry))}
    t2 = T0 + dt.timedelta(hours=2)
    stage(engine, "jobcenter-nk", "jobs", [job("b1", partner="jobcenter-nk", title="Koch",
                                               organisation="Gasthaus Linde", ba_reference=ref)], now=t2)
    stage(engine, "gasthaus", "jobs", a[:1], now=t2)
    publish_domain(engine, "jobs", now=t2)
    return {"survivor": ids["a1"], "merged": ids["b1"], "withdrawn": ids["a2"]}


def test_merged_ids_redirect_withdrawn_ids_are_gone_unknown_ids_are_not_found(engine):
    ids = _merge_and_withdraw(engine)
    with client_for(engine) as c:
        survivor = c.get(f"/v1/jobs/{ids['survivor']}")
        assert survivor.status_code == 200
        assert {s["source_id"] for s in survivor.json()["sources"]} == {"a1", "b1"}
        merged = c.get(f"/v1/jobs/{ids['merged']}")
        # not 301: a split gives the id back, and a cached permanent redirect would hide it
        assert merged.status_code == 307 and merged.headers["cache-control"] == "no-store"
        assert merged.headers["location"].endswith(f"/v1/jobs/{ids['survivor']}")
        assert c.get(merged.headers["location"]).status_code == 200
        gone = c.get(f"/v1/jobs/{ids['withdrawn']}")
        assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
        assert gone.json()["status"] == 410
        for url in ("/v1/jobs/job-0000000000000000", f"/v1/courses/{ids['survivor']}"):
            missing = c.get(url)
            assert missing.status_code == 404, url
            assert missing.json()["title"] == "Not Found"


# --------------------------------------------------------------------------- change feed


def _replay(c: TestClient, limit: int, **kw) -> tuple[dict[str, dict], int]:
    state: dict[str, dict] = {}
    after, last_seen = 0, 0
    while True:
        response = c.get(f"/v1/changes?after={after}&limit={limit}", **kw)
        assert response.status_code == 200, response.text
        body = response.json()
        for item in body["items"]:
            assert item["seq"] > last_seen
            last_seen = item["seq"]
            if item["op"] == "updated":
                assert item["entry"]["id"] == item["entity_id"]
                state[item["entity_id"]] = item["entry"]
            else:
                assert item["op"] == "deleted" and "entry" not in item
                state.pop(item["entity_id"], None)
        after = body["last_seq"]
        assert f"after={after}" in body["next"]
        if not body["has_more"]:
            return state, after


def test_change_feed_from_zero_reproduces_the_directory(engine):
    fill(engine)
    ids = _merge_and_withdraw(engine)
    with client_for(engine) as c:
        state, last = _replay(c, limit=3)
        listed = {e["id"]: e for d in ("jobs", "courses", "housing") for e in all_pages(c, f"/v1/{d}?limit=2")}
        assert state == listed
        assert ids["merged"] not in state and ids["withdrawn"] not in state
        deleted = [i for i in c.get("/v1/changes?after=0&limit=1000").json()["items"] if i["op"] == "deleted"]
        tombstones = {i["entity_id"]: i.get("merged_into") for i in deleted}
        # b1's entity merged; a2 withdrawn; j0-j2 withdrawn (jobcenter-nk's snapshot has only b1)
        assert len(tombstones) == 5 and tombstones[ids["merged"]] == ids["survivor"]
        assert tombstones[ids["withdrawn"]] is None
        # nothing new: an empty page that points at the same place
        polled = c.get(f"/v1/changes?after={last}")
        tail = polled.json()
        assert tail["items"] == [] and tail["last_seq"] == last and tail["has_more"] is False
        assert polled.headers["cache-control"] == "no-cache"  # the next poll may differ
        # a cursor beyond the newest change (here beyond 32 bits: the sequence has 64) would
        # skip every change up to it: a problem that says so, not an empty page (nor a 500)
        beyond = c.get("/v1/changes?after=2147483648")
        assert beyond.status_code == 400, beyond.text
        assert f"newest change ({last})" in beyond.json()["detail"]
        jobs_only = c.get("/v1/changes?domain=jobs&limit=1000").json()["items"]
        assert jobs_only and {i["domain"] for i in jobs_only} == {"jobs"}
        # the domain in other letters, as every closed list of the API takes it
        assert c.get("/v1/changes?domain=JOBS&limit=1000").json()["items"] == jobs_only
    with engine.connect() as conn:
        stored = {r.entity_id: r.entry for r in conn.execute(sa.select(directory.c.entity_id, directory.c.entry))}
        # each entry carries the number of the change that wrote it: its entity's last one
        latest = dict(conn.execute(sa.select(changes.c.entity_id, sa.func.max(changes.c.seq))
                                   .where(changes.c.op == "updated").group_by(changes.c.entity_id)).all())
        numbered = dict(conn.execute(sa.select(directory.c.entity_id, directory.c.seq)).all())
    assert numbered == {eid: latest[eid] for eid in stored}
    key, _ = create_key(engine, name="portal", scopes=["contacts"])
    with client_for(engine) as c:
        with_contacts, _ = _replay(c, limit=50, headers={"X-API-Key": key})
    assert with_contacts == stored


def test_a_reader_of_one_domain_follows_the_feed_past_the_other_domains(engine):
    """A portal that mirrors only the courses polls `domain=courses`. While jobs change and
    courses do not, its cursor moves on with the feed instead of staying at the last course
    change (from where every poll read all the jobs' changes again); a course changed later
    still reaches it, and a full page still ends at its last item."""
    fill(engine)
    with client_for(engine) as c:
        body = c.get("/v1/changes?after=0&domain=courses&limit=1000").json()
        assert len(body["items"]) == 3 and body["has_more"] is False
        newest = c.get("/v1/changes?after=0&limit=1000").json()["last_seq"]
        assert body["last_seq"] == newest  # the housing published after the courses is read too
        stage(engine, "jobcenter-nk", "jobs", jobs_data()[:2], now=T0 + dt.timedelta(hours=1))
        publish_domain(engine, "jobs", now=T0 + dt.timedelta(hours=1))
        jobs_page = c.get(f"/v1/changes?after={newest}").json()
        assert [i["op"] for i in jobs_page["items"]] == ["deleted"]
        polled = c.get(f"/v1/changes?after={newest}&domain=courses").json()
        assert polled["items"] == [] and polled["has_more"] is False
        assert polled["last_seq"] == jobs_page["last_seq"] > newest
        assert f"after={jobs_page['last_seq']}" in polled["next"]
        stage(engine, "vhs-nk", "courses", courses_data()[:2], now=T0 + dt.timedelta(hours=2))
        publish_domain(engine, "courses", now=T0 + dt.timedelta(hours=2))
        later = c.get(polled["next"]).json()
        assert [(i["domain"], i["op"]) for i in later["items"]] == [("courses", "deleted")]
        assert later["last_seq"] == later["items"][0]["seq"]
        full = c.get("/v1/changes?after=0&domain=jobs&limit=1").json()
        assert full["has_more"] is True and full["last_seq"] == full["items"][0]["seq"]


# --------------------------------------------------------------------------- problems


def test_head_answers_as_get_without_a_body(client):
    get = client.get("/v1/jobs?limit=2")
    head = client.head("/v1/jobs?limit=2")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == get.headers["content-length"]
    item = get.json()["items"][0]["id"]
    assert client.head(f"/v1/jobs/{item}").status_code == 200
    assert client.head("/v1/jobs/job-0000000000000000").status_code == 404
    assert client.head("/v1/jobs?limit=2", headers={"If-None-Match": get.headers["etag"]}).status_code == 304


def test_answers_are_gzip_compressed_for_clients_that_accept_it(filled):
    plain = {"Accept-Encoding": "identity"}
    with client_for(filled) as c:
        for url in ("/v1/jobs", "/v1/housing?limit=3", "/openapi.json"):
            raw = c.get(url, headers=plain)
            packed = c.get(url, headers={"Accept-Encoding": "gzip"})  # httpx unpacks it
            assert "content-encoding" not in raw.headers
            assert packed.headers["content-encoding"] == "gzip"
            assert int(packed.headers["content-length"]) < len(raw.content) / 2
            assert packed.content == raw.content
            assert "Accept-Encoding" in packed.headers["vary"]
            assert url.startswith("/openapi") or "Authorization" in packed.headers["vary"]
        # the compressed page's ETag is weak; either form revalidates, the plain answer's too
        packed = c.get("/v1/jobs", headers={"Accept-Encoding": "gzip"})
        raw_etag = c.get("/v1/jobs", headers=plain).headers["etag"]
        assert packed.headers["etag"] == "W/" + raw_etag
        for tag in (packed.headers["etag"], raw_etag):
            again = c.get("/v1/jobs", headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
            assert again.status_code == 304 and again.content == b""
        entry = packed.json()["items"][0]["id"]
        single = c.get(f"/v1/jobs/{entry}", headers={"Accept-Encoding": "gzip"})
        assert single.headers["etag"].startswith("W/")
        revalidated = c.get(f"/v1/jobs/{entry}", headers={"Accept-Encoding": "gzip",
                                                          "If-None-Match": single.headers["etag"]})
        # a 304 names the tag its 200 gave (RFC 9110 15.4.5)
        assert (revalidated.status_code, revalidated.headers["etag"]) == (304, single.headers["etag"])
        again = c.get("/v1/jobs", headers={"Accept-Encoding": "gzip", "If-None-Match": raw_etag})
        assert again.headers["etag"] == packed.headers["etag"]
        # small answers (a problem, a 304) go as they are
        problem = c.get("/v1/jobs?limit=x", headers={"Accept-Encoding": "gzip"})
        assert problem.status_code == 422 and "content-encoding" not in problem.headers
        # HEAD says what GET sends
        head = c.head("/v1/jobs", headers={"Accept-Encoding": "gzip"})
        assert head.headers["content-encoding"] == "gzip"
        assert head.headers["content-length"] == packed.headers["content-length"]


def test_errors_are_problem_details(client):
    for url, status in [("/no/such/route", 404), ("/v1/jobs?limit=x", 422), ("/v1/changes?after=-1", 422)]:
        response = client.get(url)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == status
    invalid = client.get("/v1/jobs?limit=x").json()
    assert invalid["errors"][0]["parameter"] == "limit" and invalid["errors"][0]["in"] == "query"
    assert client.post("/v1/jobs").status_code == 405
    assert client.post("/v1/jobs").headers["content-type"] == "application/problem+json"


def test_openapi_and_docs_are_served(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/jobs", "/v1/courses", "/v1/housing", "/v1/changes", "/v1/jobs/{entity_id}",
            "/partners/{partner_id}/feedback"} <= set(spec["paths"])
    assert "Problem" in spec["components"]["schemas"]
    assert "application/problem+json" in spec["paths"]["/v1/jobs"]["get"]["responses"]["422"]["content"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_openapi_describes_every_parameter_amount_and_source(client):
    """A developer reads in the OpenAPI document what each parameter of the lists and the
    change feed does and the unit of each amount an entry carries (euros per month, m²)."""
    spec = client.get("/openapi.json").json()
    for path in ("/v1/jobs", "/v1/courses", "/v1/housing", "/v1/changes"):
        for parameter in spec["paths"][path]["get"]["parameters"]:
            assert parameter.get("description"), (path, parameter["name"])
    schemas = spec["components"]["schemas"]
    for name in ("JobPostingEntry", "CourseOfferEntry", "HousingVacancyEntry"):
        for field, schema in schemas[name]["properties"].items():
            types = {option.get("type") for option in schema.get("anyOf", [schema])}
            if types & {"number", "integer"}:
                assert schema.get("description"), (name, field)
    for name, schema in schemas.items():  # each closed list says what its values mean
        assert "enum" not in schema or schema.get("description"), name
    housing = schemas["HousingVacancyEntry"]["properties"]
    assert "per month" in housing["heating_costs"]["description"]
    assert "euros per salary_period" in schemas["JobPostingEntry"]["properties"]["salary_min"]["description"]
    source = schemas["Source"]
    assert set(source["required"]) == {"partner_id", "source_id"}
    assert all(field.get("description") for field in source["properties"].values())
    sources = schemas["JobPostingEntry"]["properties"]["sources"]
    assert sources["items"] == {"$ref": "#/components/schemas/Source"}


# --------------------------------------------------------------------------- keys and scopes


def test_keys_when_required_401_403_and_revocation(filled):
    read, _ = create_key(filled, name="portal", scopes=["read"])
    feedback, _ = create_key(filled, name="school", scopes=["feedback"], partner_id="vhs-nk")
    with client_for(filled, require_keys=True) as c:
        missing = c.get("/v1/jobs")
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert missing.headers["content-type"] == "application/problem+json"
        assert c.get("/v1/jobs", headers={"Authorization": "Bearer hub_wrong"}).status_code == 401
        assert c.get("/v1/jobs", headers={"Authorization": f"Bearer {read}"}).status_code == 200
        assert c.get("/v1/changes", headers={"X-API-Key": read}).status_code == 200
        assert c.get("/v1/jobs", headers={"X-API-Key": feedback}).status_code == 403
        revoke_key(filled, read[:12])
        assert c.get("/v1/jobs", headers={"X-API-Key": read}).status_code == 401
    with client_for(filled) as c:  # keys not required: anyone reads, a wrong key is still refused
        assert c.get("/v1/jobs").status_code == 200
        assert c.get("/v1/jobs", headers={"X-API-Key": "hub_wrong"}).status_code == 401


def test_contacts_only_with_the_contacts_scope(filled):
    read, _ = create_key(filled, name="portal", scopes=["read"])
    contacts, _ = create_key(filled, name="counsellors", scopes=["contacts"])
    with client_for(filled) as c:
        j0 = next(e for e in c.get("/v1/jobs").json()["items"] if e["sources"][0]["source_id"] == "j0")
        for headers in ({}, {"X-API-Key": read}):
            entry = c.get(f"/v1/jobs/{j0['id']}", headers=headers).json()
            assert "contact" not in entry and "contact" not in entry["provenance"], headers
            assert all("contact" not in e for e in c.get("/v1/jobs", headers=headers).json()["items"])
            assert all("contact" not in i.get("entry", {}) for i in
                       c.get("/v1/changes", headers=headers).json()["items"])
        full = c.get(f"/v1/jobs/{j0['id']}", headers={"Authorization": f"Bearer {contacts}"})
        assert full.json()["contact"]["email"] == "pflege@klinikum.example"
        # the cached anonymous version is not the one with contacts
        anonymous_etag = c.get(f"/v1/jobs/{j0['id']}").headers["etag"]
        assert full.headers["etag"] != anonymous_etag


def test_rate_limits_answer_429_with_retry_after(filled):
    slow, _ = create_key(filled, name="slow", scopes=["read"], rate_limit=2)
    other, _ = create_key(filled, name="other", scopes=["read"], rate_limit=2)
    with client_for(filled, anon_rate_limit=3) as c:
        assert [c.get("/v1/jobs", headers={"X-API-Key": slow}).status_code for _ in range(3)] == [200, 200, 429]
        refused = c.get("/v1/courses", headers={"X-API-Key": slow})
        assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert c.get("/v1/jobs", headers={"X-API-Key": other}).status_code == 200  # per key
        assert [c.get("/v1/housing").status_code for _ in range(4)] == [200, 200, 200, 429]  # per address
        assert int(c.get("/v1/housing").headers["retry-after"]) >= 1
        later = time.monotonic() + 61
        c.app.state.limiter.clock = lambda: later  # a minute later
        assert c.get("/v1/jobs", headers={"X-API-Key": slow}).status_code == 200


# --------------------------------------------------------------------------- feedback page


def _feedback_data(engine) -> None:
    bad = Rejection(partner_id="vhs-nk", domain="courses", source_id="c9", rule="COURSE_LEVEL_INVALID",
                    field="cefr_levels", value="A9", message="Sprachniveau ungültig",
                    message_en="invalid level", title="Deutschkurs A9")
    stage(engine, "vhs-nk", "courses", courses_data(), rejections=[bad], items=4)
    stage(engine, "wbg-nk", "housing", housing_data())


def _feedback_registry(tmp_path, extra: str = ""):
    registry = tmp_path / "registry.yaml"
    registry.write_text(
        "partners:\n"
        "  - id: vhs-nk\n    name: Volkshochschule Neunkirchen\n"
        "    feeds: [{format: csv-courses, source: 'file:///tmp/vhs.csv'}]\n"
        "  - id: wbg-nk\n    name: Wohnungsbau Neunkirchen\n"
        "    feeds: [{format: csv-housing, source: 'file:///tmp/wbg.csv'}]\n" + extra,
        encoding="utf-8")
    return registry


def test_partners_name_the_sources_of_the_entries(filled, tmp_path):
    """An app shows an entry's source by name: /v1/partners gives each partner id's name,
    kind and domains from the registry, with an ETag; behind keys like the lists; a registry
    the server cannot read is a 503, not an empty list."""
    from hub.api.keys import create_key

    registry = _feedback_registry(tmp_path)
    with client_for(filled, registry_path=registry) as c:
        answer = c.get("/v1/partners")
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-cache"
        assert answer.json() == {"items": [
            {"id": "vhs-nk", "name": "Volkshochschule Neunkirchen", "kind": "other", "domains": ["courses"]},
            {"id": "wbg-nk", "name": "Wohnungsbau Neunkirchen", "kind": "other", "domains": ["housing"]},
        ]}
        names = {p["id"]: p["name"] for p in answer.json()["items"]}
        flat = c.get("/v1/housing").json()["items"][0]
        assert names[flat["sources"][0]["partner_id"]] == "Wohnungsbau Neunkirchen"
        assert c.get("/v1/partners", headers={"If-None-Match": answer.headers["etag"]}).status_code == 304
        assert c.get("/v1/partners?domain=jobs").status_code == 400  # it takes no parameter
    with client_for(filled, registry_path=tmp_path / "missing.yaml") as c:
        missing = c.get("/v1/partners")
        assert missing.status_code == 503 and "HUB_REGISTRY" in missing.json()["detail"]
        assert missing.headers["content-type"] == "application/problem+json"
    key, _ = create_key(filled, name="feedback only", scopes=["feedback"], partner_id="vhs-nk")
    with client_for(filled, registry_path=registry, require_keys=True) as c:
        assert c.get("/v1/partners").status_code == 401
        assert c.get("/v1/partners", headers={"X-API-Key": key}).status_code == 403


def test_feedback_page_only_for_the_partner_or_a_steward(engine, tmp_path):
    _feedback_data(engine)
    registry = _feedback_registry(
        tmp_path, "  - id: hotel-saar\n    name: Hotel Saar\n    feedback_language: en\n"
                  "    feeds: [{format: csv-jobs, source: 'file:///tmp/hotel.csv'}]\n")
    vhs, _ = create_key(engine, name="vhs", scopes=["feedback"], partner_id="vhs-nk")
    steward, _ = create_key(engine, name="steward", scopes=["steward"])
    reader_key, _ = create_key(engine, name="portal", scopes=["read", "contacts"])
    with client_for(engine, registry_path=registry) as c:
        own = c.get("/partners/vhs-nk/feedback", headers={"X-API-Key": vhs})
        assert own.status_code == 200 and own.headers["content-type"].startswith("text/html")
        assert "Volkshochschule Neunkirchen" in own.text
        assert "COURSE_LEVEL_INVALID" in own.text and "c9" in own.text
        assert 'id="sync-history"' in own.text
        assert own.text.count("<html") == 1 and "&lt;" not in own.text
        other = c.get("/partners/wbg-nk/feedback", headers={"X-API-Key": vhs})
        assert other.status_code == 403 and "Volkshochschule" not in other.text
        assert other.headers["content-type"] == "application/problem+json"
        assert c.get("/partners/wbg-nk/feedback", headers={"X-API-Key": reader_key}).status_code == 403
        assert c.get("/partners/vhs-nk/feedback").status_code == 401
        assert c.get("/partners/wbg-nk/feedback", headers={"X-API-Key": steward}).status_code == 200
        assert c.get("/partners/nobody/feedback", headers={"X-API-Key": steward}).status_code == 404
        waiting = c.get("/partners/hotel-saar/feedback", headers={"X-API-Key": steward})
        assert waiting.status_code == 200 and "Hotel Saar" in waiting.text
        assert "No delivery yet." in waiting.text  # the partner's language
        english = c.get("/partners/vhs-nk/feedback?lang=en", headers={"X-API-Key": vhs})
        assert "Your latest deliveries" in english.text

        # a browser: ?key= once, then a cookie; the key leaves the address
        browser = c.get("/partners/vhs-nk/feedback?key=" + vhs, headers={"Accept": "text/html"})
        assert browser.status_code == 303 and "key=" not in browser.headers["location"]
        cookie = browser.headers["set-cookie"]
        assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
        page = c.get(browser.headers["location"], headers={"Accept": "text/html"})
        assert page.status_code == 200 and "COURSE_LEVEL_INVALID" in page.text
        c.cookies.clear()
        login = c.get("/partners/vhs-nk/feedback", headers={"Accept": "text/html"})
        assert login.status_code == 401 and '<form method="post"' in login.text
        signed_in = c.post("/partners/vhs-nk/feedback?lang=en", data={"key": vhs})
        assert signed_in.status_code == 303 and signed_in.headers["location"].endswith(
            "/partners/vhs-nk/feedback?lang=en")
        assert "HttpOnly" in signed_in.headers["set-cookie"]
        assert c.get(signed_in.headers["location"]).status_code == 200
        c.cookies.clear()
        assert c.post("/partners/vhs-nk/feedback", data={"key": "hub_wrong"}).status_code == 401
        assert c.post("/partners/wbg-nk/feedback", data={"key": vhs}).status_code == 403
        assert c.post("/partners/vhs-nk/feedback", data={}).status_code == 401
        wrong = c.get("/partners/wbg-nk/feedback?key=" + vhs, headers={"Accept": "text/html"})
        assert wrong.status_code == 403 and "set-cookie" not in wrong.headers


def test_feedback_report_downloads_for_the_partner_only(engine, tmp_path):
    import csv as csv_module
    import io

    _feedback_data(engine)
    registry = _feedback_registry(tmp_path)
    vhs, _ = create_key(engine, name="vhs", scopes=["feedback"], partner_id="vhs-nk")
    with client_for(engine, registry_path=registry) as c:
        page = c.get("/partners/vhs-nk/feedback", headers={"X-API-Key": vhs})
        assert 'href="feedback/report.csv?domain=courses' in page.text
        got = c.get("/partners/vhs-nk/feedback/report.csv", headers={"X-API-Key": vhs})
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        assert 'filename="feedback-vhs-nk-courses.csv"' in got.headers["content-disposition"]
        rows = list(csv_module.reader(io.StringIO(got.content.decode("utf-8-sig")), delimiter=";"))
        assert len(rows) == 2 and rows[1][0] == "c9" and "COURSE_LEVEL_INVALID" in rows[1]
        english = c.get("/partners/vhs-nk/feedback/report.json?lang=en", headers={"X-API-Key": vhs})
        report = english.json()
        assert report["partner_id"] == "vhs-nk" and report["lang"] == "en"
        assert [p["rule"] for p in report["problems"]] == ["COURSE_LEVEL_INVALID"]
        assert c.get("/partners/vhs-nk/feedback/report.csv").status_code == 401
        refused = c.get("/partners/wbg-nk/feedback/report.csv", headers={"X-API-Key": vhs})
        assert refused.status_code == 403 and "wbg" not in refused.headers.get("content-disposition", "")
        assert c.get("/partners/vhs-nk/feedback/report.xlsx", headers={"X-API-Key": vhs}).status_code == 422
        assert c.get("/partners/vhs-nk/feedback/report.csv?domain=jobs",
                     headers={"X-API-Key": vhs}).status_code == 404


# --------------------------------------------------------------------------- consistency


def test_a_reader_never_sees_half_a_publication(engine):
    fill(engine)
    written, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def publisher():
        try:
            changed = [job(f"n{n}", title=f"Neue Stelle {n}") for n in range(5)] + jobs_data()[1:]
            stage(engine, "jobcenter-nk", "jobs", changed, now=T0 + dt.timedelta(days=1))
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(727001)"))
                _publish(conn, "jobs", T0 + dt.timedelta(days=1))
                written.set()  # everything written, not committed: where a crash would lose it all
                assert release.wait(30)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
            written.set()
        finally:
            done.set()

    with client_for(engine) as c:
        before_jobs = c.get("/v1/jobs").json()
        before_changes = c.get("/v1/changes?limit=1000").json()
        etag = c.get("/v1/jobs").headers["etag"]
        thread = threading.Thread(target=publisher)
        thread.start()
        try:
            assert written.wait(30)
            assert not errors, errors
            during = c.get("/v1/jobs")
            assert during.json() == before_jobs and during.headers["etag"] == etag
            assert c.get("/v1/changes?limit=1000").json() == before_changes
            assert c.get("/v1/jobs", headers={"If-None-Match": etag}).status_code == 304
        finally:
            release.set()
            thread.join(30)
        assert not errors, errors
        # committed by another connection: readers learn of it on commit (NOTIFY on
        # PostgreSQL, delivered within milliseconds; SQLite reads the version per request)
        deadline = time.monotonic() + 10
        after = c.get("/v1/jobs").json()
        while source_ids(after) != ["j1", "j2", "n0", "n1", "n2", "n3", "n4"] and time.monotonic() < deadline:
            time.sleep(0.05)
            after = c.get("/v1/jobs").json()
        assert source_ids(after) == ["j1", "j2", "n0", "n1", "n2", "n3", "n4"]
        state, _ = _replay(c, limit=1000)
        assert {k for k, v in state.items() if v["domain"] == "jobs"} == {e["id"] for e in after["items"]}


def test_keys_in_addresses_do_not_reach_the_access_log(filled):
    import logging

    create_app(filled, ApiSettings())
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/partners/vhs-nk/feedback?key=hub_secret-1&lang=en",
                                "1.1", 303), None)
    for log_filter in logging.getLogger("uvicorn.access").filters:
        log_filter.filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /partners/vhs-nk/feedback?key=***&lang=en HTTP/1.1" 303'


def database_at(db_url: str, revision: str):
    """An engine on an empty database whose schema is at ``revision`` (a hub before later
    migrations)."""
    from alembic import command

    from hub.store.db import _alembic_config, make_engine

    eng = make_engine(db_url)
    cfg = _alembic_config()
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return eng


def test_migration_fills_the_search_columns_of_entries_published_before_it(db_url):
    """A directory published before revision 0004 is searchable right after the upgrade."""
    from hub.store.db import migrate

    eng = database_at(db_url, "0003")
    entry = {"id": "hsg-0000000000000001", "domain": "housing", "title": "Wohnung am Markt",
             "description": "Helle Wohnung, Aufzug", "rooms": 2.5, "warm_rent": 640, "living_area": 61,
             "wbs_required": True, "available_from": "2026-12-01",
             "address": {"postal_code": "66538", "city": "Neunkirchen", "municipality_key": "10043114"},
             "sources": [{"partner_id": "wbg-nk", "source_id": "1", "url": None}], "provenance": {}}
    old_directory = sa.table("directory", *(sa.column(c) for c in (
        "entity_id", "domain", "title", "postal_code", "municipality_key", "content_hash", "seq", "updated_at")),
        sa.column("entry", sa.JSON))
    with eng.begin() as conn:
        conn.execute(old_directory.insert().values(
            entity_id=entry["id"], domain="housing", title=entry["title"], postal_code="66538",
            municipality_key="10043114", entry=entry, content_hash="x", seq=1, updated_at=T0))
    migrate(eng)
    with client_for(eng) as c:
        for params in ("q=aufzug", "rent_max=650&rooms_min=2.5", "wbs=true&area_min=60",
                       "available_by=2026-12-01", "region=10043"):
            assert [e["id"] for e in c.get(f"/v1/housing?{params}").json()["items"]] == [entry["id"]], params
        assert c.get("/v1/housing?rent_max=600").json()["items"] == []
    eng.dispose()


def job_published_at(db_url, revision: str, entry: dict, search_text: str):
    """A database at ``revision`` holding ``entry`` (a job at 66564 Ottweiler) with the
    search text that revision wrote, then migrated to the newest; returns the engine."""
    from hub.store.db import migrate
    from hub.store.search import search_columns

    eng = database_at(db_url, revision)
    present = {column["name"] for column in sa.inspect(eng).get_columns("directory")}
    before = {key: value for key, value in {**search_columns("jobs", entry), "search_text": search_text}.items()
              if key in present}  # the search columns that revision had
    with eng.begin() as conn:
        conn.execute(directory.insert().values(
            entity_id=entry["id"], domain="jobs", title=entry["title"], postal_code="66564",
            municipality_key=None, entry=entry, content_hash="x", seq=1, updated_at=T0, **before))
    migrate(eng)
    return eng


def test_migration_gives_entries_published_before_it_region_keys_and_folded_words(db_url):
    """A directory published before revision 0008 (a BA posting without AGS, text with
    umlauts) is found by district and by written-out umlauts right after the upgrade."""
    entry = {"id": "job-0000000000000001", "domain": "jobs", "title": "Köchin (m/w/d)",
             "organisation": "Hotel Müller", "address": {"postal_code": "66564", "city": "Ottweiler"},
             "sources": [{"partner_id": "ba", "source_id": "1", "url": None}], "provenance": {}}
    # the search text as revision 0007 folded it
    eng = job_published_at(db_url, "0007", entry, "köchin (m/w/d)\nhotel müller\n")
    with client_for(eng) as c:
        for params in ("region=10043", "region=10", "q=koechin%20mueller", "q=K%C3%B6chin"):
            assert [e["id"] for e in c.get(f"/v1/jobs?{params}").json()["items"]] == [entry["id"]], params
        assert c.get("/v1/jobs?region=10041").json()["items"] == []
    eng.dispose()


def test_migration_makes_the_occupation_of_jobs_published_before_it_searchable(db_url):
    """A posting published before revision 0010 is found by its occupation right after the
    upgrade (a publication rewrites only entries whose content changed)."""
    entry = {"id": "job-0000000000000002", "domain": "jobs", "title": "Mitarbeiter (m/w/d)",
             "occupation": "Erzieher/in", "address": {"postal_code": "66564", "city": "Ottweiler"},
             "sources": [{"partner_id": "ba", "source_id": "2", "url": None}], "provenance": {}}
    eng = job_published_at(db_url, "0009", entry, "mitarbeiter (m/w/d)\n\n")  # as 0009 wrote it
    with client_for(eng) as c:
        assert [e["id"] for e in c.get("/v1/jobs?q=erzieher").json()["items"]] == [entry["id"]]
    eng.dispose()


def flat_published_at(db_url, revision: str, **fields):
    """A database at ``revision`` holding one flat at 66538 Neunkirchen with ``fields`` and the
    search columns that revision had, then migrated to the newest; returns the engine and the
    flat's id."""
    from hub.store.db import migrate
    from hub.store.search import search_columns

    eng = database_at(db_url, revision)
    entry = {"id": "hsg-0000000000000002", "domain": "housing", "title": "Wohnung am Markt", **fields,
             "address": {"postal_code": "66538", "city": "Neunkirchen", "municipality_key": "10043114"},
             "sources": [{"partner_id": "wbg-nk", "source_id": "2", "url": None}], "provenance": {}}
    present = {column["name"] for column in sa.inspect(eng).get_columns("directory")}
    columns = {key: value for key, value in search_columns("housing", entry).items() if key in present}
    with eng.begin() as conn:
        conn.execute(directory.insert().values(
            entity_id=entry["id"], domain="housing", title=entry["title"], postal_code="66538",
            municipality_key="10043114", entry=entry, content_hash="x", seq=1, updated_at=T0, **columns))
    migrate(eng)
    return eng, entry["id"]


def test_migration_gives_flats_published_before_it_their_cold_rent(db_url):
    """A flat published before revision 0012 is found by its cold rent right after the
    upgrade (a publication rewrites only entries whose content changed)."""
    eng, flat_id = flat_published_at(db_url, "0011", rooms=2, cold_rent=380, warm_rent=590)
    with client_for(eng) as c:
        assert [e["id"] for e in c.get("/v1/housing?cold_rent_max=400").json()["items"]] == [flat_id]
        assert c.get("/v1/housing?cold_rent_max=379").json()["items"] == []
    eng.dispose()


def test_migration_gives_flats_published_before_it_their_persons(db_url):
    """A flat published before revision 0013 is found by the household it is for right after
    the upgrade."""
    eng, flat_id = flat_published_at(db_url, "0012", rooms=2, warm_rent=590, max_persons=3)
    with client_for(eng) as c:
        assert [e["id"] for e in c.get("/v1/housing?persons=3").json()["items"]] == [flat_id]
        assert c.get("/v1/housing?persons=4").json()["items"] == []
    eng.dispose()


def test_browser_pages_of_the_configured_origins_may_read_the_api(filled):
    """HUB_API_CORS_ORIGINS lets a portal's pages call the API from the browser: the preflight
    is answered for those origins (with the key headers), answers carry the origin and expose
    ETag and Link; other origins get no CORS headers; without the setting there are none."""
    portal = "https://portal.example"
    with client_for(filled, cors_origins=(portal,)) as c:
        preflight = c.options("/v1/jobs", headers={
            "Origin": portal, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key, if-none-match"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == portal
        assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
        for _ in range(2):  # rendered, then from the page cache
            page = c.get("/v1/jobs?limit=1", headers={"Origin": portal})
            assert page.headers["access-control-allow-origin"] == portal
            assert {"etag", "link"} <= set(page.headers["access-control-expose-headers"].lower().split(", "))
        other = c.get("/v1/jobs", headers={"Origin": "https://elsewhere.example"})
        assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    with client_for(filled) as c:
        assert "access-control-allow-origin" not in c.get("/v1/jobs", headers={"Origin": portal}).headers


def test_cors_origins_setting_is_checked():
    from hub.api.app import cors_origins

    assert cors_origins(" https://a.example, http://localhost:8080/ ") == (
        "https://a.example", "http://localhost:8080")
    assert cors_origins("*") == ("*",) and cors_origins(None) == ()
    with pytest.raises(ValueError, match="HUB_API_CORS_ORIGINS: 'portal.example'"):
        cors_origins("portal.example")
    with pytest.raises(ValueError, match="no path"):
        cors_origins("https://a.example/api")


def test_a_nul_character_anywhere_in_the_request_is_a_400_not_a_server_error(engine):
    """PostgreSQL refuses text with a NUL character: a request holding one must be refused as
    the reader's mistake before it reaches the database, on every kind of endpoint."""
    import base64

    fill(engine)
    publish_domain(engine, "jobs", now=T0)
    cursor = base64.urlsafe_b64encode(b"e:job-\x00").decode().rstrip("=")
    with client_for(engine) as c:
        for url in ("/v1/jobs/job-%00x", f"/v1/jobs?cursor={cursor}", "/hsds/organizations?search=a%00",
                    "/hsds/services?taxonomy_term_id=%00", "/v1/jobs?q=%00"):
            got = c.get(url)
            assert got.status_code == 400, (url, got.status_code, got.text)
            assert got.headers["content-type"].startswith("application/problem+json")
        assert c.get("/v1/jobs").status_code == 200


def test_answers_that_depend_on_the_key_say_so_in_vary(filled):
    """An entry with its contact person (a key with the contacts scope) and without (no key)
    had the same URL and no Vary: a shared cache in front of the API could hand the keyed
    answer, contact person and all, to the next anonymous reader. The 400 for a NUL character
    says it too (it was answered before the Vary was added)."""
    contacts, _ = create_key(filled, name="counsellors", scopes=["contacts"])
    keyed = {"X-API-Key": contacts}
    with client_for(filled, cors_origins=("https://portal.example",)) as c:
        j0 = c.get("/v1/jobs").json()["items"][0]["id"]
        for url in ("/v1/jobs", "/v1/jobs?region=10043", f"/v1/jobs/{j0}", "/v1/changes",
                    "/hsds/services", "/v1/jobs/job-unknown", "/v1/jobs?q=a%00b"):
            for headers in ({}, keyed, {"Authorization": f"Bearer {contacts}"}):
                first = c.get(url, headers=headers)
                again = c.get(url, headers={**headers, "Origin": "https://portal.example",
                                            "If-None-Match": first.headers.get("etag", '"x"')})
                for answer in (first, again):  # the list page the second time from the cache
                    vary = [name.strip().lower() for name in answer.headers.get("vary", "").split(",")]
                    assert {"authorization", "x-api-key"} <= set(vary), (url, headers, answer.status_code)
                if "etag" in first.headers:
                    assert again.status_code == 304, (url, headers)
                assert "origin" in vary  # CORS's own Vary is kept beside it
        assert c.head("/v1/jobs").headers["vary"] == "Authorization, X-API-Key, Accept-Encoding, Origin"
        # the API's document does not depend on the reader's key
        assert c.get("/openapi.json").headers["vary"] == "Accept-Encoding, Origin"


def test_a_merged_posting_says_german_as_one_source_says_it(engine):
    """The employer's CSV (newer) says 'Deutschkenntnisse: keine', the careers page of the same
    job (older) asks for C1: the entry took german_required false from the one and
    german_level C1 from the other, a posting that said both, found by german_required=false
    and missed by german_level=B1. Level and requirement now come from the same source."""
    ref = "10001-1000000099-S"
    stage(engine, "hof-web", "jobs", [job("w1", partner="hof-web", title="Bürokraft", organisation="Hof Müller",
                                          ba_reference=ref, german_level="C1", german_required=True,
                                          updated_at="2026-11-10T00:00:00+00:00")], now=T0)
    stage(engine, "hof-csv", "jobs", [job("c1", partner="hof-csv", title="Bürokraft", organisation="Hof Müller",
                                          ba_reference=ref, german_required=False,
                                          updated_at="2026-11-18T00:00:00+00:00")], now=T0)
    publish_domain(engine, "jobs", now=T0)
    with client_for(engine) as c:
        items = c.get("/v1/jobs").json()["items"]
        assert len(items) == 1 and {s["source_id"] for s in items[0]["sources"]} == {"w1", "c1"}
        entry = items[0]
        assert entry["german_required"] is False and "german_level" not in entry
        assert entry["provenance"]["german_required"] == "hof-csv"
        assert [e["id"] for e in c.get("/v1/jobs?german_level=B1").json()["items"]] == [entry["id"]]


def _backup(engine, folder):
    """A real backup of the hub's database, and the function that restores it: SQLite's online
    backup API into a file (as `sqlite3 hub.db ".backup FILE"`), pg_dump and pg_restore of the
    test's schema on PostgreSQL."""
    import sqlite3
    import subprocess

    if engine.dialect.name == "sqlite":
        copy = folder / "backup.db"
        with sqlite3.connect(engine.url.database) as live, sqlite3.connect(copy) as target:
            live.backup(target)

        def restore() -> None:
            engine.dispose()
            with sqlite3.connect(copy) as saved, sqlite3.connect(engine.url.database) as live:
                saved.backup(live)
        return restore
    url = engine.url
    schema = url.query["options"].split("search_path=")[1]
    dsn = f"host={url.host} port={url.port or 5432} user={url.username} dbname={url.database}"
    dump = folder / "backup.dump"
    subprocess.run(["pg_dump", "-Fc", "-n", schema, "-f", str(dump), dsn], check=True)

    def restore() -> None:
        engine.dispose()
        subprocess.run(["psql", "-q", "-c", f'DROP SCHEMA "{schema}" CASCADE', dsn], check=True)
        subprocess.run(["pg_restore", "-d", dsn, str(dump)], check=True)
    return restore


def test_a_portal_beyond_a_restored_backup_is_told_not_fed_other_changes(engine, tmp_path):
    """The hub's database restored from an older backup numbers the changes published after
    it with the seqs the lost ones had. A portal that read the lost changes polled on from its
    cursor and got only what lay beyond it: the new history's first changes, under seqs it had
    read already, never reached it. Each page now names the feed's `checkpoint`; sent back with
    the cursor it is a 410 for a history the feed no longer has, while a checkpoint the backup
    holds still reads on."""
    fill(engine)
    with client_for(engine) as c:
        early = c.get("/v1/changes?after=0&limit=1000").json()
        assert early["checkpoint"] and early["has_more"] is False
    restore = _backup(engine, tmp_path)
    later = T0 + dt.timedelta(hours=1)
    stage(engine, "jobcenter-nk", "jobs", jobs_data()[:2], now=later)
    publish_domain(engine, "jobs", now=later)
    with client_for(engine) as c:
        lost = c.get(f"/v1/changes?after={early['last_seq']}&checkpoint={early['checkpoint']}").json()
        assert lost["items"] and lost["last_seq"] > early["last_seq"]
        # `next` names the cursor and the checkpoint both: a reader following the links
        assert parse_qs(urlsplit(lost["next"]).query) == {
            "after": [str(lost["last_seq"])], "checkpoint": [lost["checkpoint"]]}
    restore()
    # after the restore the hub publishes again, other changes under the same seqs
    stage(engine, "vhs-nk", "courses", courses_data()[:1], now=later + dt.timedelta(hours=1))
    publish_domain(engine, "courses", now=later + dt.timedelta(hours=1))
    with client_for(engine) as c:
        newest = c.get("/v1/changes?after=0&limit=1000").json()["last_seq"]
        assert newest >= lost["last_seq"]  # the old cursor lies within the feed again
        gone = c.get(lost["next"])  # the link the lost history's page gave
        assert gone.status_code == 410, gone.text
        assert "restored from an older backup" in gone.json()["detail"]
        assert "after=0" in gone.json()["detail"]
        # the reader of the backup's history reads the new changes, and its checkpoint holds
        kept = c.get(f"/v1/changes?after={early['last_seq']}&checkpoint={early['checkpoint']}")
        assert kept.status_code == 200, kept.text
        body = kept.json()
        assert [i["domain"] for i in body["items"]] and {i["domain"] for i in body["items"]} == {"courses"}
        assert c.get(f"/v1/changes?after={body['last_seq']}&checkpoint={body['checkpoint']}").status_code == 200
        # without a checkpoint the feed answers as before (readers that do not send it)
        assert c.get(f"/v1/changes?after={lost['last_seq']}").status_code == 200
        # a checkpoint of another form is an invalid parameter, not a history; one of a
        # publication this feed never had (beyond its 32-bit ids too) is another history
        assert c.get("/v1/changes?after=0&checkpoint=latest").status_code == 422
        assert c.get("/v1/changes?after=0&checkpoint=9999999999-0123456789ab").status_code == 410


def test_a_page_of_a_history_lost_to_a_restore_is_not_answered_304(engine, tmp_path):
    """A list page's ETag named the directory's version by the newest seq alone. Restored from
    an older backup, the hub reaches that seq again with other changes, and a portal (or a
    shared cache) asking with the lost history's ETag got 304: it kept a page the directory no
    longer holds. The version now names the publication too."""
    fill(engine)
    restore = _backup(engine, tmp_path)
    later = T0 + dt.timedelta(hours=1)
    stage(engine, "jobcenter-nk", "jobs", jobs_data()[:2], now=later)  # j2 withdrawn
    publish_domain(engine, "jobs", now=later)
    with client_for(engine) as c:
        lost = c.get("/v1/jobs?limit=50")
        lost_seq = c.get("/v1/changes?after=0&limit=1000").json()["last_seq"]
    restore()
    stage(engine, "jobcenter-nk", "jobs", jobs_data()[1:], now=later + dt.timedelta(hours=1))  # j0 withdrawn
    publish_domain(engine, "jobs", now=later + dt.timedelta(hours=1))
    with client_for(engine) as c:
        assert c.get("/v1/changes?after=0&limit=1000").json()["last_seq"] == lost_seq  # the same seq
        now = c.get("/v1/jobs?limit=50", headers={"If-None-Match": lost.headers["etag"]})
        assert now.status_code == 200, now.text
        assert source_ids(now.json()) != source_ids(lost.json())
        assert c.get("/v1/jobs?limit=50", headers={"If-None-Match": now.headers["etag"]}).status_code == 304
        hsds = c.get("/hsds/services")
        assert c.get("/hsds/services", headers={"If-None-Match": hsds.headers["etag"]}).status_code == 304
