"""Postal codes -> AGS areas, region compatibility, distances."""

from __future__ import annotations

import re

import pytest

from hub.quality import regions


@pytest.mark.parametrize("postal_code, area", [
    # Landkreis Neunkirchen, every code of the district
    ("66538", "10043"), ("66539", "10043"), ("66540", "10043"), ("66557", "10043"),
    ("66564", "10043"), ("66571", "10043"), ("66578", "10043"), ("66583", "10043"),
    ("66589", "10043"),
    # its neighbours in Saarland
    ("66111", "10041"), ("66333", "10041"), ("66606", "10046"), ("66424", "10045"),
    ("66740", "10044"), ("66663", "10042"),
    # Saarland codes outside the district table: the state only
    ("66123", "10041"), ("66450", "10045"), ("66650", "10"),
    # the Rheinland-Pfalz part of zone 66, and other states
    ("66482", "07"), ("66953", "07"), ("67655", "07"), ("10115", "11"), ("80331", "09"),
    ("20095", "02"), ("50667", "05"), ("01067", "14"), ("99084", "16"),
    # zones that cross a state border are unknown, as are malformed codes
    ("04109", None), ("68159", None), ("97070", None), ("51598", None), ("6653", None),
    ("ABCDE", None), ("", None), (None, None),
])
def test_postal_area(postal_code, area):
    assert regions.postal_area(postal_code) == area


def test_the_brief_s_district_codes_are_all_in_10043():
    assert {code for code, ags in regions.DISTRICT_POSTAL_CODES.items() if ags == "10043"} == {
        "66538", "66539", "66540", "66557", "66564", "66571", "66578", "66583", "66589"}


@pytest.mark.parametrize("area, region, expected", [
    ("10043", "10043", True),  # the district itself
    ("10", "10043", True),  # only the state is known: cannot tell
    ("10043114", "10043", True),  # a municipality inside
    ("10043", "10", True),  # region is the whole state
    ("10041", "10043", False),  # the neighbouring district
    ("07", "10043", False),  # another state
    ("10041100", "10043", False),
])
def test_compatible(area, region, expected):
    assert regions.compatible(area, region) is expected
    assert bool(re.match(regions.region_pattern(region), area)) is expected
    if len(area) in (2, 5) and area in regions.KNOWN_AREAS:
        assert (area in regions.compatible_areas(region)) is expected


def test_region_pattern_refuses_non_ags():
    with pytest.raises(ValueError):
        regions.region_pattern("Saarland")


def test_distances():
    # Neunkirchen -> Ottweiler is about 7 km
    assert 6 < regions.distance_to_postal_code_km("66564", 49.3452, 7.1800) < 8
    assert regions.distance_to_postal_code_km("66538", 49.3452, 7.1800) == pytest.approx(0)
    assert regions.distance_to_postal_code_km("10115", 52.53, 13.38) is None  # no centroid
    # one degree of latitude is 111.2 km on the sphere used
    assert regions.haversine_km(49.0, 7.0, 50.0, 7.0) == pytest.approx(111.19, abs=0.01)


def test_every_centroid_lies_in_germany_and_in_its_area():
    for code, (lat, lon) in regions.POSTAL_CENTROIDS.items():
        assert regions.GERMANY_LAT[0] <= lat <= regions.GERMANY_LAT[1]
        assert regions.GERMANY_LON[0] <= lon <= regions.GERMANY_LON[1]
        assert regions.postal_area(code) is not None
