"""The demo partner feeds: deterministic, realistic, in the partners' real formats, with the
planted defects and duplicates they claim to have."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter, defaultdict

import pytest
from lxml import etree

from hub.demo import DISTRICT_POSTAL_CODES, TOWNS, DemoData, generate, registry_yaml
from hub.quality.rules import RULES

TODAY = dt.date(2026, 5, 20)
REQUIRED_COLUMNS = ("Kurs-ID", "Titel", "Kursart", "PLZ", "Ort")
MUNICIPALITY_AGS = {town.ags: town.name for town in TOWNS}


@pytest.fixture(scope="module")
def data() -> DemoData:
    return generate(TODAY)


# --------------------------------------------------------------------------- reading raw feeds


def _charset(content_type: str) -> str:
    match = re.search(r"charset=([\w-]+)", content_type)
    return match.group(1) if match else "utf-8"


def _csv_rows(feed) -> tuple[list[str], list[dict[str, str]]]:
    text = feed.body.decode(_charset(feed.content_type))
    text = text.removeprefix("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = rows[0]
    return header, [dict(zip(header, row)) for row in rows[1:] if row]


def _xml(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(body, parser)


def _records(data: DemoData) -> list[dict]:
    """One flat dict per record of every feed, read straight from the raw bytes."""
    out: list[dict] = []
    for feed in data.feeds:
        if feed.format == "ba-jobsuche":
            payload = json.loads(feed.body)
            for item in payload.get("ergebnisliste", []):
                address = item["stellenlokationen"][0]["adresse"]
                out.append({
                    "partner": feed.partner_id, "domain": "jobs", "id": item["referenznummer"],
                    "title": item["stellenangebotsTitel"], "org": item["firma"],
                    "plz": address["plz"], "city": address["ort"],
                    "lat": item["stellenlokationen"][0]["breite"],
                    "lon": item["stellenlokationen"][0]["laenge"],
                })
            for item in payload.get("stellenangebote", []):
                place = item["arbeitsort"]
                out.append({
                    "partner": feed.partner_id, "domain": "jobs", "id": item["refnr"],
                    "title": item["titel"], "org": item["arbeitgeber"], "plz": place["plz"],
                    "city": place["ort"], "lat": place["koordinaten"]["lat"],
                    "lon": place["koordinaten"]["lon"],
                })
        elif feed.format == "csv-courses":
            _, rows = _csv_rows(feed)
            for row in rows:
                out.append({
                    "partner": feed.partner_id, "domain": "courses", "id": row["Kurs-ID"],
                    "title": row["Titel"], "plz": row["PLZ"], "city": row["Ort"], "row": row,
                })
        else:
            root = _xml(feed.body)
            for imm in root.iter("immobilie"):
                point = imm.find("geo/geokoordinaten")
                out.append({
                    "partner": feed.partner_id, "domain": "housing",
                    "id": imm.findtext("verwaltung_techn/objektnr_extern") or None,
                    "title": imm.findtext("freitexte/objekttitel"),
                    "plz": imm.findtext("geo/plz"), "city": imm.findtext("geo/ort"),
                    "ags": imm.findtext("geo/gemeindecode"),
                    "lat": float(point.get("breitengrad")), "lon": float(point.get("laengengrad")),
                    "element": imm,
                })
    return out


# --------------------------------------------------------------------------- determinism


def test_same_today_and_seed_give_identical_bytes(data: DemoData) -> None:
    again = generate(TODAY)
    assert [(f.partner_id, f.path, f.content_type, f.body) for f in again.feeds] == [
        (f.partner_id, f.path, f.content_type, f.body) for f in data.feeds
    ]
    assert again.partners == data.partners
    assert again.broken == data.broken
    assert again.duplicates == data.duplicates
    assert registry_yaml(again, "http://127.0.0.1:1") == registry_yaml(data, "http://127.0.0.1:1")


def test_another_seed_gives_other_data(data: DemoData) -> None:
    other = generate(TODAY, seed=7)
    assert [f.path for f in other.feeds] == [f.path for f in data.feeds]
    assert all(a.body != b.body for a, b in zip(other.feeds, data.feeds))
    assert {r["id"] for r in _records(other)} != {r["id"] for r in _records(data)}


def test_another_day_keeps_the_ids_and_moves_the_dates(data: DemoData) -> None:
    later = generate(TODAY + dt.timedelta(days=37))
    ids = lambda d: sorted((r["partner"], str(r["id"])) for r in _records(d))  # noqa: E731
    assert ids(later) == ids(data)
    assert later.broken == data.broken
    assert all(a.body != b.body for a, b in zip(later.feeds, data.feeds))


def test_dates_are_relative_to_today(data: DemoData) -> None:
    for today in (TODAY, dt.date(2027, 12, 30)):
        demo = data if today == TODAY else generate(today)
        for feed in demo.feeds:
            if feed.format == "ba-jobsuche":
                payload = json.loads(feed.body)
                for item in payload.get("ergebnisliste", []):
                    published = dt.date.fromisoformat(item["veroeffentlichungszeitraum"]["von"])
                    assert today - dt.timedelta(days=35) <= published < today
                    assert dt.date.fromisoformat(item["eintrittszeitraum"]["von"]) >= today
                    until = item["veroeffentlichungszeitraum"].get("bis")
                    assert until is None or dt.date.fromisoformat(until) > today
                    changed = dt.datetime.fromisoformat(item["aenderungsdatum"])
                    assert changed.date() <= today and changed.tzinfo is None
                for item in payload.get("stellenangebote", []):
                    published = dt.date.fromisoformat(item["aktuelleVeroeffentlichungsdatum"])
                    assert today - dt.timedelta(days=35) <= published < today
            elif feed.format == "csv-courses":
                _, rows = _csv_rows(feed)
                for row in rows:
                    start = _any_date(row["Beginn"])
                    assert today < start <= today + dt.timedelta(days=200)
                    assert _any_date(row["Ende"]) > start
                    # 'Deutsch am Samstag' starts and ends on a Saturday, the others on a weekday
                    weekend = "Wochenende" in row["Zeitmodell"]
                    assert (start.weekday() == 5) == weekend, (row["Titel"], start)
                    assert (_any_date(row["Ende"]).weekday() == 5) == weekend, (row["Titel"], row["Ende"])
            else:
                for imm in _xml(feed.body).iter("immobilie"):
                    available = imm.findtext("verwaltung_objekt/verfuegbar_ab")
                    if re.fullmatch(r"\d\d\.\d\d\.\d{4}", available):
                        day = dt.datetime.strptime(available, "%d.%m.%Y").date()
                        assert today < day <= today + dt.timedelta(days=100)
                    else:
                        assert available in {"sofort", "nach Vereinbarung"}


def _any_date(text: str) -> dt.date:
    if "." in text:
        return dt.datetime.strptime(text, "%d.%m.%Y").date()
    return dt.date.fromisoformat(text)


# --------------------------------------------------------------------------- partners and sizes


def test_partners_and_sizes(data: DemoData) -> None:
    kinds = Counter(p["kind"] for p in data.partners)
    assert kinds == {"jobcenter": 1, "employer": 2, "language_school": 3, "municipality": 7,
                     "housing_company": 1}
    ids = [p["id"] for p in data.partners]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]+", pid) for pid in ids)
    assert [f.partner_id for f in data.feeds] == ids  # one feed per partner, same order
    assert all("source" not in feed for p in data.partners for feed in p["feeds"])

    by_kind = {p["id"]: p["kind"] for p in data.partners}
    records = Counter(r["partner"] for r in _records(data))
    assert records == data.counts
    for pid, count in records.items():
        kind = by_kind[pid]
        if kind == "jobcenter":
            assert 75 <= count <= 85
        elif kind == "employer":
            assert 12 <= count <= 18
        elif kind == "language_school":
            assert 10 <= count <= 14
        elif kind == "municipality":
            assert 2 <= count <= 6
        else:
            assert 22 <= count <= 28


def test_formats_per_partner(data: DemoData) -> None:
    formats = {f.partner_id: (f.format, f.domain, f.content_type) for f in data.feeds}
    assert formats["jobcenter-nk"] == ("ba-jobsuche", "jobs", "application/json")
    employers = [p["id"] for p in data.partners if p["kind"] == "employer"]
    shapes = sorted(next(iter(json.loads(data.feed(pid).body))) for pid in employers)
    assert shapes == ["ergebnisliste", "stellenangebote"]  # one v6, one v4 export
    schools = [data.feed(p["id"]) for p in data.partners if p["kind"] == "language_school"]
    assert sorted(f.content_type for f in schools) == [
        "text/csv; charset=utf-8", "text/csv; charset=utf-8", "text/csv; charset=windows-1252",
    ]
    housing = [f for f in data.feeds if f.domain == "housing"]
    assert {(f.format, f.content_type) for f in housing} == {("openimmo", "application/xml")}


def test_every_municipality_and_town_appears(data: DemoData) -> None:
    records = _records(data)
    municipalities = [p for p in data.partners if p["kind"] == "municipality"]
    assert len(municipalities) == len(TOWNS) == 7
    housing_ags = defaultdict(set)
    for r in records:
        if r["domain"] == "housing":
            housing_ags[r["partner"]].add(r["ags"])
    # each municipality offers flats in its own town only
    assert sorted(next(iter(housing_ags[p["id"]])) for p in municipalities) == sorted(
        MUNICIPALITY_AGS
    )
    assert all(len(housing_ags[p["id"]]) == 1 for p in municipalities)
    for domain in ("jobs", "housing"):
        towns = {r["city"] for r in records if r["domain"] == domain}
        assert towns == {town.name for town in TOWNS}, domain
    assert {r["city"] for r in records if r["domain"] == "courses"} <= {t.name for t in TOWNS}


def test_postal_codes_belong_to_the_district_except_the_broken_ones(data: DemoData) -> None:
    assert DISTRICT_POSTAL_CODES == {
        "66571", "66557", "66589", "66538", "66539", "66540", "66564", "66578", "66583",
    }
    outside = {(r["partner"], r["id"]) for r in _records(data)
               if r["plz"] not in DISTRICT_POSTAL_CODES}
    planted = {(b.partner_id, b.source_id) for b in data.broken
               if b.field == "address.postal_code"}
    assert outside == planted
    town_codes = {town.name: set(town.postal_codes) for town in TOWNS}
    for r in _records(data):
        if (r["partner"], r["id"]) not in planted:
            assert r["plz"] in town_codes[r["city"]], r


def test_coordinates_lie_in_their_town(data: DemoData) -> None:
    centres = {town.name: [(q.lat, q.lon) for q in town.quarters] for town in TOWNS}
    for r in _records(data):
        if "lat" not in r:
            continue
        assert any(abs(r["lat"] - lat) < 0.01 and abs(r["lon"] - lon) < 0.015
                   for lat, lon in centres[r["city"]]), r


def test_source_ids_are_unique_within_each_feed(data: DemoData) -> None:
    for feed in data.feeds:
        ids = [r["id"] for r in _records(data) if r["partner"] == feed.partner_id and r["id"]]
        assert len(ids) == len(set(ids)), feed.partner_id


# --------------------------------------------------------------------------- formats


def test_ba_feeds_load_in_their_shape(data: DemoData) -> None:
    refnr = re.compile(r"^\d{5}-\d{10}-S$")
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$")
    for feed in (f for f in data.feeds if f.format == "ba-jobsuche"):
        payload = json.loads(feed.body.decode("utf-8"))
        key = "ergebnisliste" if "ergebnisliste" in payload else "stellenangebote"
        items = payload[key]
        assert payload["maxErgebnisse"] == payload["size"] == len(items)
        assert payload["page"] == 1
        for item in items:
            if key == "ergebnisliste":
                assert refnr.match(item["referenznummer"])
                assert stamp.match(item["aenderungsdatum"])
                assert item["stellenangebotsart"] in {"ARBEIT", "AUSBILDUNG"}
                assert item["vertragsdauer"] in {"UNBEFRISTET", "BEFRISTET", "KEINE_ANGABE"}
                address = item["stellenlokationen"][0]["adresse"]
                assert address["region"] == "SAARLAND" and address["land"] == "DEUTSCHLAND"
                assert isinstance(address["plz"], str)
                if "verguetungsangabe" in item:
                    assert item["verguetungsangabe"] in {"MONATSGEHALT", "STUNDENLOHN"}
                    assert 0 < item["gehaltsspanneVon"] <= item["gehaltsspanneBis"]
                    if item["verguetungsangabe"] == "STUNDENLOHN":
                        assert item["gehaltsspanneVon"] >= 13.90  # the 2026 minimum wage
                assert "(m/w/d)" in item["stellenangebotsTitel"]
            else:
                assert refnr.match(item["refnr"])
                assert stamp.match(item["modifikationsTimestamp"])
                assert set(item["arbeitsort"]["koordinaten"]) == {"lat", "lon"}
                assert "(m/w/d)" in item["titel"] or item["titel"] == ""  # the planted defect
        assert "facetten" in payload or key == "ergebnisliste"


def test_openimmo_feeds_parse_and_follow_the_element_order(data: DemoData) -> None:
    order = ["objektkategorie", "geo", "kontaktperson", "weitere_adresse", "preise",
             "bieterverfahren", "versteigerung", "flaechen", "ausstattung", "zustand_angaben",
             "bewertung", "infrastruktur", "freitexte", "anhaenge", "verwaltung_objekt",
             "verwaltung_techn"]
    for feed in (f for f in data.feeds if f.format == "openimmo"):
        assert feed.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        root = _xml(feed.body)
        assert root.tag == "openimmo"
        transfer = root.find("uebertragung")
        assert transfer.get("umfang") == "VOLL" and transfer.get("version") == "1.2.7"
        assert root.findtext("anbieter/firma")
        flats = root.findall("anbieter/immobilie")
        assert flats
        for imm in flats:
            tags = [child.tag for child in imm]
            assert tags == sorted(tags, key=order.index)
            assert imm.find("objektkategorie/vermarktungsart").get("MIETE_PACHT") == "true"
            assert imm.find("objektkategorie/objektart/wohnung") is not None
            assert imm.find("geo/land").get("iso_land") == "DEU"
            assert imm.findtext("geo/gemeindecode") in MUNICIPALITY_AGS
            assert imm.find("verwaltung_techn/aktion").get("aktionart") == "CHANGE"
            cold, warm, service, heating = (
                float(imm.findtext(f"preise/{name}"))
                for name in ("kaltmiete", "warmmiete", "nebenkosten", "heizkosten")
            )
            assert warm == pytest.approx(cold + service + heating)
            area = float(imm.findtext("flaechen/wohnflaeche"))
            assert 4.5 < cold / area < 8.0  # EUR per square metre, Saarland
            assert imm.findtext("verwaltung_objekt/wbs_sozialwohnung") in {"true", "false"}
            assert imm.findtext("ausstattung/barrierefrei") in {"true", "false"}


def test_municipalities_offer_social_and_barrier_free_housing(data: DemoData) -> None:
    municipal = {p["id"] for p in data.partners if p["kind"] == "municipality"}
    flats = [r["element"] for r in _records(data) if r["partner"] in municipal]
    wbs = sum(imm.findtext("verwaltung_objekt/wbs_sozialwohnung") == "true" for imm in flats)
    barrier_free = sum(imm.findtext("ausstattung/barrierefrei") == "true" for imm in flats)
    assert wbs >= len(flats) // 2
    assert barrier_free >= 3


def test_csv_feeds_have_the_template_columns_and_their_encoding(data: DemoData) -> None:
    seen = set()
    for feed in (f for f in data.feeds if f.format == "csv-courses"):
        charset = _charset(feed.content_type)
        text = feed.body.decode(charset)  # decodes in the declared encoding
        header, rows = _csv_rows(feed)
        assert set(REQUIRED_COLUMNS) <= set(header)
        assert rows and all(len(row) == len(header) for row in rows)
        bom = feed.body.startswith(b"\xef\xbb\xbf")
        delimiter = ";" if text.split("\n", 1)[0].count(";") > 1 else ","
        if charset == "windows-1252":
            with pytest.raises(UnicodeDecodeError):
                feed.body.decode("utf-8")  # umlauts really are single Windows-1252 bytes
            assert "ö" in text
        seen.add((delimiter, charset, bom))
    assert seen == {(";", "utf-8", True), (";", "windows-1252", False), (",", "utf-8", False)}


# --------------------------------------------------------------------------- defects, duplicates


def test_broken_records_are_in_the_feeds(data: DemoData) -> None:
    records = {(r["partner"], r["id"]): r for r in _records(data)}
    domains = Counter()
    for broken in data.broken:
        assert broken.rule in RULES
        feed = data.feed(broken.partner_id)
        domains[feed.domain] += 1
        if broken.source_id is None:
            assert broken.field == "source_id"
            assert any(r["partner"] == broken.partner_id and r["id"] is None
                       for r in records.values())
            continue
        record = records[(broken.partner_id, broken.source_id)]
        if broken.field == "title":
            assert record["title"] == ""
        elif broken.rule == "ADDRESS_POSTAL_CODE_INVALID":
            assert not re.fullmatch(r"\d{5}", record["plz"])
        elif broken.field == "address.postal_code":
            assert record["plz"] == ""
        elif broken.rule == "COURSE_LEVEL_INVALID":
            assert record["row"]["Sprachniveau"] == "B3"
        elif broken.rule == "COURSE_TYPE_UNKNOWN":
            assert record["row"]["Kursart"] == "Deutsch lernen"
    assert domains == {"jobs": 2, "courses": 3, "housing": 2}
    assert {(b.rule, b.field) for b in data.broken} == {
        ("RECORD_FIELD_MISSING", "title"), ("ADDRESS_POSTAL_CODE_INVALID", "address.postal_code"),
        ("COURSE_LEVEL_INVALID", "cefr_levels"), ("COURSE_TYPE_UNKNOWN", "course_type"),
        ("RECORD_FIELD_MISSING", "address.postal_code"), ("RECORD_FIELD_MISSING", "source_id"),
    }
    plz = {r["plz"] for r in records.values() if r["plz"] not in DISTRICT_POSTAL_CODES}
    assert plz == {"6654", "665380", ""}


def test_planted_duplicates_are_there_and_nothing_else(data: DemoData) -> None:
    records = _records(data)
    found: dict[str, int] = {}

    # jobs: the same BA reference number from two partners, with the same content
    jobs = defaultdict(list)
    for r in records:
        if r["domain"] == "jobs":
            jobs[r["id"]].append(r)
    shared = [group for group in jobs.values() if len(group) > 1]
    for group in shared:
        assert len({g["partner"] for g in group}) == 2
        assert len({(g["title"], g["org"], g["plz"], g["city"]) for g in group}) == 1
    found["jobs"] = len(shared)
    # no two postings of one employer with the same title at the same place otherwise
    keys = Counter((r["org"], r["title"], r["plz"], r["lat"]) for group in jobs.values()
                   for r in group[:1])
    assert max(keys.values()) == 1

    # courses: same title, type, levels, start, address and link, different ids
    def course_key(row: dict) -> tuple:
        street = row.get("Strasse") or row.get("Straße")
        return (row["Titel"], row["Kursart"], row["Sprachniveau"], _any_date(row["Beginn"]),
                street, row["PLZ"], row["Link"])

    courses = defaultdict(list)
    for r in records:
        if r["domain"] == "courses":
            courses[course_key(r["row"])].append(r)
    shared_courses = [group for group in courses.values() if len(group) > 1]
    assert all(len({g["partner"] for g in group}) == 2 for group in shared_courses)
    assert all(len({g["id"] for g in group}) == 2 for group in shared_courses)
    found["courses"] = len(shared_courses)

    # housing: same address, floor, rooms, area and rent, different objektnr_extern
    def flat_key(imm: etree._Element) -> tuple:
        return tuple(imm.findtext(path) for path in (
            "geo/strasse", "geo/hausnummer", "geo/plz", "geo/etage", "flaechen/anzahl_zimmer",
            "flaechen/wohnflaeche", "preise/kaltmiete", "preise/warmmiete",
        ))

    flats = defaultdict(list)
    for r in records:
        if r["domain"] == "housing":
            flats[flat_key(r["element"])].append(r)
    shared_flats = [group for group in flats.values() if len(group) > 1]
    for group in shared_flats:
        kinds = sorted(next(p["kind"] for p in data.partners if p["id"] == g["partner"])
                       for g in group)
        assert kinds == ["housing_company", "municipality"]
        assert len({g["id"] for g in group}) == 2
    found["housing"] = len(shared_flats)

    assert found == data.duplicates == {"jobs": 7, "courses": 1, "housing": 3}


# --------------------------------------------------------------------------- the hub reads them


def test_registry_yaml_validates() -> None:
    # needs hub.formats (the registry checks format names); runs as soon as the parsers exist
    from hub.registry import parse_registry

    demo = generate(TODAY)
    base = "http://127.0.0.1:8765"
    text = registry_yaml(demo, base + "/")
    registry = parse_registry(text, "demo-registry.yaml")
    assert [p.id for p in registry.partners] == [p["id"] for p in demo.partners]
    for partner in registry.partners:
        feed = demo.feed(partner.id)
        assert partner.allow_private_network is True
        assert partner.region == "10043"
        assert partner.contact_email.endswith(".example")
        assert [f.source for f in partner.feeds] == [base + feed.path]
        assert partner.feeds[0].format == feed.format
        assert partner.feeds[0].domain == feed.domain
        assert partner.feeds[0].schedule and len(partner.feeds[0].schedule.split()) == 5
    assert registry.partitions() == {
        domain: [f.partner_id for f in demo.feeds if f.domain == domain]
        for domain in ("jobs", "courses", "housing")
    }


def test_the_parsers_report_exactly_the_planted_defects(data: DemoData) -> None:
    from hub.formats import FORMATS

    rejected = []
    for feed in data.feeds:
        result = FORMATS[feed.format].parse(feed.body, feed.partner_id)
        rejected += [(r.partner_id, r.source_id, r.rule, r.field) for r in result.rejections]
        planted = sum(b.partner_id == feed.partner_id for b in data.broken)
        assert len(result.records) == data.counts[feed.partner_id] - planted, feed.partner_id
        assert {record.address.municipality_key for record in result.records} - {None} <= set(
            MUNICIPALITY_AGS
        )
    assert sorted(rejected, key=repr) == sorted((tuple(b) for b in data.broken), key=repr)
