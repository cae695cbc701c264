"""Normalisation, exact-key clustering and stable entity ids (without a database)."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.resolve import EntityInfo, assign_ids, cluster, content_hash, match_keys, resolve_records
from hub.resolve.normalize import canonical_url, org_key, split_url_key, street_key, title_key


def test_german_normalisation():
    assert title_key("Pflegefachkraft (m/w/d)") == title_key("Pflegefachkraft (w/m/d)") == "pflegefachkraft"
    assert title_key("Koch m/w/d") == "koch"
    assert org_key("Saarland Logistik GmbH") == org_key("Saarland Logistik G.m.b.H.") == "saarland logistik"
    assert org_key("Müller & Söhne GmbH & Co. KG") == org_key("Mueller & Soehne") == "mueller soehne"
    assert street_key("Hauptstr.") == street_key("Hauptstraße") == street_key("Haupt-Strasse")
    assert canonical_url("https://www.Example.de/job/1/?utm_source=ba&id=7#top") == "https://example.de/job/1?id=7"


def job(pid, sid, title="Lagerhelfer (m/w/d)", org="Saar Logistik GmbH", postal="66538", ref=None):
    return {"partner_id": pid, "source_id": sid, "title": title, "organisation": org,
            "address": {"postal_code": postal, "city": "Neunkirchen"}, "ba_reference": ref}


def test_same_ba_reference_across_partners_is_one_entity():
    ids = resolve_records("jobs", [job("jobcenter", "10001-1", ref="10001-1"),
                                   job("employer", "10001-1", ref="10001-1", org="Saar Logistik G.m.b.H.")])
    assert len(set(ids.values())) == 1


def test_two_ba_postings_of_one_employer_stay_apart():
    ids = resolve_records("jobs", [job("jc", "1", ref="1"), job("jc", "2", ref="2"),
                                   job("employer", "own-7")])
    assert ids[("jc", "1")] != ids[("jc", "2")]
    # the employer's own posting without reference fits both equally well: it joins neither
    # (never both; an ambiguous record stays its own entry, see docs/resolution.md)
    assert ids[("employer", "own-7")] not in {ids[("jc", "1")], ids[("jc", "2")]}


def test_same_title_at_two_employers_or_branches_stays_apart():
    ids = resolve_records("jobs", [job("a", "1"), job("b", "2", org="Andere Spedition GmbH"),
                                   job("c", "3", postal="66564")])
    assert len(set(ids.values())) == 3


def test_two_flats_in_one_building_stay_apart():
    def flat(sid, floor, area):
        return {"partner_id": "wbg", "source_id": sid, "title": "Wohnung", "floor": floor,
                "rooms": 2.0, "living_area": area,
                "address": {"postal_code": "66538", "city": "Neunkirchen", "street": "Parkstr.",
                            "house_number": "4"}}
    keys_a, keys_b = match_keys("housing", flat("a", 1, 54.0)), match_keys("housing", flat("b", 2, 54.0))
    assert keys_a and keys_a != keys_b


def test_course_with_other_start_or_level_stays_apart():
    def course(sid, start, levels):
        return {"partner_id": "vhs", "source_id": sid, "title": "Integrationskurs",
                "course_type": "integration_course", "cefr_levels": levels, "start_date": start,
                "url": "https://vhs.example/ik", "address": {"postal_code": "66538", "city": "Neunkirchen"}}
    ids = resolve_records("courses", [course("1", "2026-03-02", ["A1"]), course("2", "2026-09-01", ["A1"]),
                                      course("3", "2026-03-02", ["B1"])])
    assert len(set(ids.values())) == 3


# -- stable ids across runs ------------------------------------------------------------------


def run(groups, previous, entities, order=None):
    keyed = {}
    for index, group in enumerate(groups):
        for rk in group:
            keyed[rk] = [f"k{index}"]
    order = order or {rk: i for i, rk in enumerate(sorted(keyed))}
    return assign_ids("jobs", cluster(keyed), order, previous, entities)


def info(eid, anchor, created, status="active", merged_into=None):
    return EntityInfo(eid, status, anchor, created, merged_into)


A, B, C = ("p", "a"), ("p", "b"), ("q", "c")


def test_resync_keeps_ids():
    first = run([[A], [B]], {}, {})
    entities = {eid: info(eid, first.anchors[eid], i) for i, eid in enumerate(first.clusters)}
    second = run([[A], [B]], first.record_entity, entities)
    assert second.record_entity == first.record_entity
    assert second.new == [] and second.merged == {} and second.withdrawn == []


def test_merge_keeps_the_older_id_and_redirects_the_other():
    first = run([[A], [C]], {}, {})
    ea, ec = first.record_entity[A], first.record_entity[C]
    entities = {ea: info(ea, A, 1), ec: info(ec, C, 2)}
    second = run([[A, C]], first.record_entity, entities)
    assert second.record_entity[A] == second.record_entity[C] == ea
    assert second.merged == {ec: ea}


def test_split_leaves_the_id_with_the_anchor_record():
    first = run([[A, C]], {}, {})
    eid = first.record_entity[A]
    anchor = first.anchors[eid]
    entities = {eid: info(eid, anchor, 1)}
    second = run([[A], [C]], first.record_entity, entities)
    assert second.record_entity[anchor] == eid
    other = C if anchor == A else A
    assert second.record_entity[other] != eid
    assert second.split_from[second.record_entity[other]] == eid


def test_record_withdrawn_by_its_only_source_withdraws_the_entity():
    first = run([[A], [B]], {}, {})
    entities = {eid: info(eid, first.anchors[eid], 1) for eid in first.clusters}
    second = run([[A]], first.record_entity, entities)
    assert second.withdrawn == [first.record_entity[B]]


# the URLs of offer pages: scheme, host (maybe www., any case, umlauts), a path, and now and
# then what only urllib's general way handles (query, fragment, port, user, odd characters)
_HOST = st.from_regex(r"(www\.|WWW\.)?[A-Za-z0-9äöüÄÖÜ-]{1,12}(\.[A-Za-z]{2,6}){1,2}\.?", fullmatch=True)
_PATH = st.from_regex(r"(/[A-Za-z0-9._~%!$&'()*+,;=äöü-]{0,10}){0,4}/{0,2}", fullmatch=True)
_TAIL = st.sampled_from(["", "", "", "?id=7", "?utm_source=x&b=2&a=1", "#top", ":8080",
                         "?", "#", " ", "\t", "\\x", "@"])


@given(scheme=st.sampled_from(["https://", "http://", "HTTPS://", "ftp://"]),
       host=_HOST, path=_PATH, tail=_TAIL, pad=st.sampled_from(["", " ", "\n"]))
def test_canonical_url_s_quick_way_gives_what_urllib_s_parts_give(scheme, host, path, tail, pad):
    url = f"{pad}{scheme}{host}{path}{tail}{pad}"
    assert canonical_url(url) == split_url_key(url.strip())


_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
    # floats as entries hold them (coordinates, rents, areas): json.dumps writes those without
    # an exponent, as orjson does (1e16 would be '1e+16' there and '1e16' here)
    | st.floats(min_value=1e-4, max_value=1e15) | st.floats(min_value=-1e15, max_value=-1e-4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@given(entry=st.dictionaries(st.text(max_size=10), _VALUE, max_size=6))
def test_an_entry_s_content_hash_is_that_of_its_json_dumps_text(entry):
    """Directories written before content_hash used orjson keep their hashes: no entry looks
    changed (and goes out on the change feed) because the writer of its JSON text changed."""
    text = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert content_hash(entry) == hashlib.sha256(text.encode()).hexdigest()


def _flat(partner: str, updated: str, **address) -> tuple:
    base = {"postal_code": "66564", "city": "Ottweiler", "country": "DE"}
    record = {"title": "2-Zimmer-Wohnung", "updated_at": updated, "address": {**base, **address}}
    return (partner, "1", record, None)


def test_a_merged_entry_keeps_the_address_parts_only_a_lesser_source_has():
    """The newest source wins the address, but where it leaves out the municipality key (which
    region searches find the entry by), the Land or the street, a source at the same place
    fills them in, credited per part; a source elsewhere fills in nothing."""
    from hub.resolve import build_entry

    older = _flat("gemeinde", "2026-10-01T00:00:00", street="Wilhelm-Heinrich-Str.", house_number="7",
                  municipality_key="10043115", state="Saarland")
    newer = _flat("wbg", "2026-11-01T00:00:00")
    entry = build_entry("housing", "hsg-1", [older, newer])
    assert entry["address"] == {"postal_code": "66564", "city": "Ottweiler", "country": "DE",
                                "street": "Wilhelm-Heinrich-Str.", "house_number": "7",
                                "municipality_key": "10043115", "state": "Saarland"}
    assert entry["provenance"]["address"] == "wbg"
    assert entry["provenance"]["address.municipality_key"] == "gemeinde"

    # the newer source's own street stays; only the missing key is taken
    newer = _flat("wbg", "2026-11-01T00:00:00", street="Marktplatz", house_number="2")
    entry = build_entry("housing", "hsg-1", [older, newer])
    assert (entry["address"]["street"], entry["address"]["house_number"]) == ("Marktplatz", "2")
    assert entry["address"]["municipality_key"] == "10043115"

    elsewhere = ("gemeinde", "1", {**older[2], "address": {**older[2]["address"], "postal_code": "66538",
                                                           "city": "Neunkirchen"}}, None)
    entry = build_entry("housing", "hsg-1", [elsewhere, _flat("wbg", "2026-11-01T00:00:00")])
    assert "municipality_key" not in entry["address"] and "street" not in entry["address"]



@pytest.mark.parametrize("older, newer", [
    # the night summer time ends: 02:30 CEST is 00:30 UTC, before 01:45 UTC
    ("2026-10-25T02:30:00+02:00", "2026-10-25T01:45:00Z"),
    # 02:30 twice that night: the second (CET) is the later
    ("2026-10-25T02:45:00+02:00", "2026-10-25T02:30:00+01:00"),
    # New Year's Eve in New York is New Year's morning in Berlin
    ("2027-01-01T02:00:00+01:00", "2026-12-31T21:00:00-05:00"),
    # a time without a zone is Berlin time
    ("2027-03-28T03:30:00", "2027-03-28T02:00:00Z"),
])
def test_the_source_changed_last_wins_whatever_offset_it_writes(older, newer):
    """Survivorship takes the fields of the source that changed the offer last. The partners
    write their change times with their own offsets (BA local time, schema.org often UTC):
    compared as text, '02:30+02:00' was later than '01:45Z' and the older source won."""
    from hub.resolve import build_entry

    for records in ([_flat("gemeinde", older, street="Alte Str."), _flat("wbg", newer, street="Neue Str.")],
                    [_flat("wbg", newer, street="Neue Str."), _flat("gemeinde", older, street="Alte Str.")]):
        entry = build_entry("housing", "hsg-1", records)
        assert entry["address"]["street"] == "Neue Str."
        assert entry["provenance"]["address"] == entry["provenance"]["updated_at"] == "wbg"


def test_an_entry_whose_sources_leave_out_the_land_gets_it_from_its_ags_or_postal_code():
    """The CSV templates have no column for the Land, the BA's postings name it: portals
    showing addresses (and the HSDS export) get every German entry's Land, derived from the
    municipality key, else the postal code, credited to the source of the address."""
    from hub.resolve import build_entry

    by_key = build_entry("housing", "hsg-1", [_flat("wbg", "2026-11-01T00:00:00",
                                                    municipality_key="10043115")])
    assert by_key["address"]["state"] == "Saarland"
    assert by_key["provenance"]["address.state"] == by_key["provenance"]["address"] == "wbg"

    by_postal_code = build_entry("housing", "hsg-1", [_flat("wbg", "2026-11-01T00:00:00")])
    assert by_postal_code["address"]["state"] == "Saarland"  # 66564 lies in the Saarland

    given = build_entry("housing", "hsg-1", [_flat("wbg", "2026-11-01T00:00:00", state="SL")])
    assert given["address"]["state"] == "SL" and "address.state" not in given["provenance"]

    abroad = build_entry("housing", "hsg-1", [_flat("wbg", "2026-11-01T00:00:00", country="FR",
                                                    postal_code="57200", city="Sarreguemines")])
    assert "state" not in abroad["address"]
    unknown = build_entry("housing", "hsg-1", [_flat("wbg", "2026-11-01T00:00:00",
                                                     postal_code="00000")])
    assert "state" not in unknown["address"]
