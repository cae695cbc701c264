"""schemaorg-accommodation: schema.org Apartment, House, Room, ... -> HousingVacancy."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats.base import FormatError
from hub.formats.schemaorg_accommodation import FORMAT, parse
from hub.models import HousingVacancy, PropertyType
from tests.format_properties import parse_or_refuse

PARTNER = "wohnbau-neunkirchen"
ADDRESS = {"@type": "PostalAddress", "streetAddress": "Hüttenbergstraße 42",
           "postalCode": "66538", "addressLocality": "Neunkirchen"}


def _flat(**overrides: object) -> dict:
    flat: dict = {
        "@context": "https://schema.org",
        "@type": "Apartment",
        "identifier": "W-1",
        "name": "2-Zimmer-Wohnung",
        "address": ADDRESS,
    }
    flat.update(overrides)
    return flat


def _parse(*nodes: object):
    return parse(json.dumps(list(nodes)).encode(), PARTNER)


def _one(*nodes: object, **overrides: object) -> HousingVacancy:
    result = _parse(*(nodes or (_flat(**overrides),)))
    assert result.rejections == [], [r.message_en for r in result.rejections]
    (vacancy,) = result.records
    return vacancy


def _offer(price: object = None, **overrides: object) -> dict:
    offer: dict = {"@type": "Offer", "priceCurrency": "EUR"}
    if price is not None:
        offer["price"] = price
    offer.update(overrides)
    return offer


def test_format():
    assert (FORMAT.name, FORMAT.domain, FORMAT.parse) == (
        "schemaorg-accommodation", "housing", parse
    )


# --------------------------------------------------------------------------- real sample


def test_real_sample_is_rejected_for_its_missing_id(samples_dir):
    # the schema.org example has no identifier, @id or url; its US ZIP code has five digits
    data = (samples_dir / "schemaorg_Apartment_eg-0327.jsonld").read_bytes()
    result = parse(data, PARTNER)

    assert result.records == []
    assert result.items == 1
    found = [(r.rule, r.field, r.value, r.title) for r in result.rejections]
    assert found == [
        ("RECORD_FIELD_MISSING", "source_id", None, "227 Lynn Street - Medium apartment"),
    ]


def test_real_sample_fields(samples_dir):
    flat = json.loads((samples_dir / "schemaorg_Apartment_eg-0327.jsonld").read_text())
    flat["identifier"] = "eg-0327"
    (vacancy,) = parse(json.dumps(flat).encode(), PARTNER).records

    assert vacancy.title == "227 Lynn Street - Medium apartment"  # whitespace collapsed
    assert vacancy.description == "Great downtown accommodation for family or group of friends."
    assert vacancy.property_type == PropertyType.APARTMENT
    assert vacancy.rooms == 3
    assert vacancy.living_area == 81  # MTK
    assert vacancy.max_persons == 4  # occupancy maxValue
    assert vacancy.floor == 5  # floorLevel "5"
    # house number first (US style): not split
    assert (vacancy.address.street, vacancy.address.house_number) == ("227 Lynn Street", None)
    assert (vacancy.address.postal_code, vacancy.address.city) == ("02132", "West Roxbury")
    assert (vacancy.address.state, vacancy.address.country) == ("MA", "US")
    assert (vacancy.geo.lat, vacancy.geo.lon) == (42.2742, -71.143)
    assert vacancy.cold_rent is None
    assert vacancy.url is None  # tourBookingPage is not the listing


# --------------------------------------------------------------------------- own fixture


def test_listing_document(fixtures_dir):
    data = (fixtures_dir / "formats" / "schemaorg_wohnungen_neunkirchen.jsonld").read_bytes()
    result = parse(data, PARTNER)

    assert result.items == 4
    assert [vacancy.source_id for vacancy in result.records] == [
        "WE-4711",
        "https://wohnbau-nk.example/objekte/wg-zimmer-ottweiler",
        "SW-2-EG-01",
    ]
    flat, room, ground = result.records

    # RealEstateListing about an Apartment
    assert flat.title == "3-Zimmer-Wohnung Hüttenbergstraße, 2. OG"
    assert flat.organisation == "Gemeinnützige Wohnungsbau Neunkirchen (Beispiel) eG"
    assert str(flat.url) == "https://wohnbau-nk.example/angebote/4711"
    assert flat.description == (
        "Renovierte Wohnung mit Balkon.\nAufzug vorhanden – barrierefrei erreichbar."
    )
    assert flat.property_type == PropertyType.APARTMENT
    assert flat.rooms == 3.5
    assert flat.living_area == 78.5
    assert flat.floor == 2  # "2. OG"
    assert flat.max_persons == 4
    assert flat.barrier_free is True
    assert flat.wbs_required is False
    assert (flat.cold_rent, flat.service_charges, flat.heating_costs, flat.deposit) == (
        620, 180, 95, 1860
    )
    assert flat.warm_rent is None
    assert flat.available_from == dt.date(2026, 5, 1)
    assert flat.address.street == "Hüttenbergstraße"
    assert flat.address.house_number == "42"
    assert (flat.address.postal_code, flat.address.city) == ("66538", "Neunkirchen")
    assert (flat.address.state, flat.address.country) == ("Saarland", "DE")
    assert (flat.geo.lat, flat.geo.lon) == (49.3441, 7.1789)
    assert flat.updated_at == dt.datetime.fromisoformat("2026-03-28T16:40:00+01:00")

    # an Offer naming the Room by @id; its price is a warm rent
    assert room.property_type == PropertyType.ROOM
    assert room.organisation == "Gemeinnützige Wohnungsbau Neunkirchen (Beispiel) eG"
    assert (room.warm_rent, room.cold_rent) == (390, None)
    assert (room.available_from, room.available_from_text) == (None, "sofort")
    assert room.living_area == 16  # "16 m²"
    assert room.floor is None  # "Dachgeschoss"
    assert room.max_persons == 1
    assert (room.address.street, room.address.house_number) == ("Goethestraße", "8")
    assert (room.address.postal_code, room.address.city) == ("66564", "Ottweiler")

    # an Apartment in an ApartmentComplex: the complex's address
    assert ground.title == "Erdgeschosswohnung Am Stadtpark"
    assert ground.property_type == PropertyType.APARTMENT  # ["Apartment", "Product"]
    assert (ground.address.street, ground.address.house_number) == ("Parkstraße", "2-6")
    assert ground.address.postal_code == "66578"
    assert ground.living_area == 65.03  # 700 square feet
    assert ground.rooms == 2
    assert ground.floor == 0  # EG
    assert ground.barrier_free is True  # listed without a value
    assert ground.cold_rent == 480
    assert ground.available_from == dt.date(2026, 4, 15)

    (rejection,) = result.rejections
    assert (rejection.rule, rejection.field, rejection.source_id, rejection.title) == (
        "RECORD_FIELD_MISSING", "address.postal_code", "EFH-ILL-3", "Einfamilienhaus mit Garten"
    )
    assert rejection.domain == "housing"


# --------------------------------------------------------------------------- mapping details


@pytest.mark.parametrize(
    ("types", "category", "expected"),
    [
        ("Apartment", None, PropertyType.APARTMENT),
        ("House", None, PropertyType.HOUSE),
        ("SingleFamilyHouse", None, PropertyType.HOUSE),
        ("Room", None, PropertyType.ROOM),
        ("HotelRoom", None, PropertyType.ROOM),
        ("Suite", None, PropertyType.OTHER),
        ("https://schema.org/Apartment", None, PropertyType.APARTMENT),
        (["Accommodation", "House"], None, PropertyType.HOUSE),
        ("Accommodation", "Wohnung", PropertyType.APARTMENT),
        ("Accommodation", "WG-Zimmer", PropertyType.ROOM),
        ("Accommodation", "Reihenhaus", PropertyType.HOUSE),
        ("Accommodation", "Stellplatz", PropertyType.OTHER),
        ("Accommodation", None, PropertyType.OTHER),
    ],
)
def test_property_type(types, category, expected):
    assert _one(**{"@type": types, "accommodationCategory": category}).property_type == expected


@pytest.mark.parametrize(
    ("rooms", "expected"),
    [(3, 3), ("2,5", 2.5), ("4 Zimmer", 4), ({"@type": "QuantitativeValue", "value": 1}, 1)],
)
def test_rooms(rooms, expected):
    assert _one(numberOfRooms=rooms).rooms == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ({"@type": "QuantitativeValue", "value": 81, "unitCode": "MTK"}, 81),
        ({"@type": "QuantitativeValue", "value": "68,5", "unitText": "m²"}, 68.5),
        ({"@type": "QuantitativeValue", "value": 70, "unitText": "qm"}, 70),
        ({"@type": "QuantitativeValue", "value": 1000, "unitCode": "FTK"}, 92.9),
        ({"@type": "QuantitativeValue", "value": 500, "unitText": "sq ft"}, 46.45),
        ("55 m²", 55),
        ("800 sq ft", 74.32),
        (64, 64),
    ],
)
def test_floor_size(size, expected):
    assert _one(floorSize=size).living_area == expected


def test_floor_size_in_an_unknown_unit_is_rejected():
    result = _parse(_flat(floorSize={"@type": "QuantitativeValue", "value": 8, "unitCode": "MTR"}))
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.field, rejection.value) == (
        "RECORD_FIELD_INVALID", "living_area", "8 MTR"
    )


@pytest.mark.parametrize(
    ("floor", "expected"),
    [("5", 5), (3, 3), ("EG", 0), ("Erdgeschoss", 0), ("1. OG", 1), ("UG", -1),
     ("Dachgeschoss", None), ("ground floor", None)],
)
def test_floor_level(floor, expected):
    assert _one(floorLevel=floor).floor == expected


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        ({"@type": "LocationFeatureSpecification", "name": "barrierefrei", "value": True}, True),
        ({"@type": "LocationFeatureSpecification", "name": "Barrier-free", "value": "false"},
         False),
        ([{"name": "Balkon", "value": True},
          {"name": "Wheelchair accessible", "value": True}], True),
        ({"name": "rollstuhlgerecht", "value": "ja"}, True),
        ({"name": "barrierefrei", "value": "teilweise"}, None),
        ({"name": "Aufzug", "value": True}, None),
    ],
)
def test_barrier_free(features, expected):
    assert _one(amenityFeature=features).barrier_free is expected


def test_occupancy_value_when_no_max():
    assert _one(occupancy={"@type": "QuantitativeValue", "value": 2}).max_persons == 2


def test_pets_and_floor_plan_are_not_read():
    vacancy = _one(petsAllowed=True, accommodationFloorPlan={"@type": "FloorPlan", "name": "A"})
    assert vacancy.source_id == "W-1"


@pytest.mark.parametrize(
    ("offers", "expected"),
    [
        (_offer(550), {"cold_rent": 550}),
        (_offer("550,00 €"), {"cold_rent": 550}),
        (_offer(720, name="Warmmiete"), {"warm_rent": 720}),
        (_offer(720, description="inkl. Nebenkosten"), {"warm_rent": 720}),
        (_offer(priceSpecification={"@type": "UnitPriceSpecification", "price": 600,
                                    "unitCode": "MON"}), {"cold_rent": 600}),
        (_offer(priceSpecification={"@type": "UnitPriceSpecification", "price": 600,
                                    "unitText": "MONTH", "name": "Gesamtmiete"}),
         {"warm_rent": 600}),
        (_offer(priceSpecification={"@type": "UnitPriceSpecification", "price": 45,
                                    "unitCode": "DAY"}), {}),
        (_offer(priceSpecification={"@type": "UnitPriceSpecification", "price": 7200,
                                    "unitCode": "ANN"}), {}),
        (_offer(priceSpecification={"@type": "UnitPriceSpecification", "price": 600,
                                    "billingDuration": "P1M"}), {"cold_rent": 600}),
        (_offer(priceSpecification={
            "@type": "CompoundPriceSpecification",
            "priceComponent": [
                {"@type": "UnitPriceSpecification", "name": "Nettokaltmiete", "price": 500},
                {"@type": "UnitPriceSpecification", "name": "Betriebskosten", "price": 120},
            ]}), {"cold_rent": 500, "service_charges": 120}),
        (_offer(650, priceCurrency="CHF"), {}),
        ([_offer(250000, businessFunction="http://purl.org/goodrelations/v1#Sell"),
          _offer(900)], {"cold_rent": 900}),
        # a yearly price given twice (the offer's own price and its specification)
        (_offer(5400, priceSpecification={"@type": "UnitPriceSpecification", "price": 5400,
                                          "unitText": "YEAR"}), {}),
        # ... and a weekly one, the offer's price written as text (was a cold rent of 250)
        (_offer("250", priceSpecification={"@type": "UnitPriceSpecification", "price": 250,
                                           "unitCode": "WEE"}), {}),
        (_offer("35,00", priceSpecification={"price": 35, "unitCode": "DAY"}), {}),
        (_offer("1,050.00"), {"cold_rent": 1050}),
        ([_offer(priceSpecification={"name": "Stellplatz", "price": 40}), _offer(610)],
         {"cold_rent": 610}),
    ],
)
def test_rent(offers, expected):
    result = _parse(_flat(offers=offers))
    (vacancy,) = result.records
    # a price per day, week or year left out is said (a warning), where no rent remains
    per_other = any(unit in json.dumps(offers) for unit in ('"DAY"', '"ANN"', '"WEE"', '"YEAR"'))
    assert [r.rule for r in result.rejections] == (
        ["HOUSING_RENT_PERIOD_NOT_MONTHLY"] if per_other and not expected else [])
    rents = {
        key: getattr(vacancy, key)
        for key in ("cold_rent", "warm_rent", "service_charges", "heating_costs", "deposit")
        if getattr(vacancy, key) is not None
    }
    assert rents == expected


def test_an_accommodation_only_for_sale_is_rejected_as_not_for_rent():
    offer = _offer(250000, businessFunction="http://purl.org/goodrelations/v1#Sell")
    result = _parse(_flat(offers=offer))
    assert result.records == []
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.source_id) == ("HOUSING_NOT_FOR_RENT", "W-1")
    assert "nicht als Wohnraum zur Miete" in rejection.message


def test_warm_below_cold_is_left_to_the_quality_stage():
    offers = _offer(priceSpecification=[{"name": "Kaltmiete", "price": 700},
                                        {"name": "Warmmiete", "price": 600}])
    vacancy = _one(offers=offers)
    assert (vacancy.cold_rent, vacancy.warm_rent) == (700, 600)


@pytest.mark.parametrize(
    ("starts", "expected"),
    [
        ("2026-06-01", (dt.date(2026, 6, 1), None)),
        ("2026-05-31T22:00:00Z", (dt.date(2026, 6, 1), None)),
        ("ab 01.07.2026", (dt.date(2026, 7, 1), "ab 01.07.2026")),
        ("nach Vereinbarung", (None, "nach Vereinbarung")),
    ],
)
def test_available_from(starts, expected):
    vacancy = _one(offers=_offer(500, availabilityStarts=starts))
    assert (vacancy.available_from, vacancy.available_from_text) == expected


def test_offer_wrapping_the_apartment():
    offer = _offer(480, url="https://wohnen.example/angebot/9",
                   offeredBy={"name": "Hausverwaltung Beispiel"},
                   itemOffered=_flat(identifier=None))
    vacancy = _one(offer)
    assert vacancy.source_id == "https://wohnen.example/angebot/9"  # no identifier, no @id: url
    assert str(vacancy.url) == "https://wohnen.example/angebot/9"
    assert vacancy.organisation == "Hausverwaltung Beispiel"
    assert vacancy.cold_rent == 480


def test_offer_referring_to_an_apartment_listed_before_it():
    flat = _flat(identifier=None, **{"@id": "#wohnung-7"})
    offer = _offer(530, itemOffered={"@id": "#wohnung-7"})
    for order in ((flat, offer), (offer, flat)):
        vacancy = _one(*order)
        assert (vacancy.source_id, vacancy.cold_rent) == ("#wohnung-7", 530)


def test_listing_with_main_entity_and_offers():
    listing = {
        "@type": "RealEstateListing",
        "identifier": "L-5",
        "url": "https://wohnen.example/l/5",
        "mainEntity": _flat(identifier=None, name=None),
        "offers": _offer(610),
        "name": "Wohnung am Stadtpark",
    }
    vacancy = _one(listing)
    assert (vacancy.source_id, vacancy.title, vacancy.cold_rent) == (
        "L-5", "Wohnung am Stadtpark", 610
    )


def test_identifier_of_the_accommodation_beats_the_listing():
    listing = {"@type": "RealEstateListing", "identifier": "L-5", "about": _flat()}
    assert _one(listing).source_id == "W-1"


def test_duplicate_ids_are_rejected():
    result = _parse(_flat(), _flat(name="Zweite"))
    assert len(result.records) == 1
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.source_id) == ("RECORD_ID_DUPLICATE", "W-1")


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the input is empty"),
        (b"Keine Wohnungen frei", "invalid JSON at line 1 column 1"),
        (b"<html><body><h1>Wohnungen</h1></body></html>", "HTML page without JSON-LD"),
        (b'{"@type": "RealEstateListing", "name": "leer"}',
         r"no schema.org accommodation \(Apartment, House, Room, Accommodation, \.\.\.\) found "
         r"\(the input has: RealEstateListing\)"),
        (b'{"@type": "apartment"}', "no schema.org accommodation"),
        (b'{"@type": "JobPosting"}', "no schema.org accommodation"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


def test_invalid_json_in_one_of_two_blocks():
    page = (
        "<html><head>"
        f'<script type="application/ld+json">{json.dumps(_flat())}</script>'
        "<script type='application/ld+json'>{'@type': 'Apartment'}</script>"
        "</head></html>"
    ).encode()
    result = parse(page, PARTNER)
    assert [vacancy.source_id for vacancy in result.records] == ["W-1"]
    (rejection,) = result.rejections
    assert rejection.rule == "RECORD_UNREADABLE"
    assert rejection.value.startswith("JSON-LD block 2 of 2: invalid JSON")


# --------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_format_error(data):
    parse_or_refuse(parse, data, PARTNER)


_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["MTK", "FTK", "MON", "DAY", "EUR", "Kaltmiete", "Warmmiete", "Kaution",
                       "barrierefrei", "EG", "2. OG", "3,5", "66538", "2026-05-01", "sofort",
                       "Apartment", "Offer", "#a"])
)
_keys = st.sampled_from(
    ["@type", "@id", "identifier", "name", "url", "address", "postalCode", "addressLocality",
     "streetAddress", "geo", "latitude", "longitude", "numberOfRooms", "floorSize", "value",
     "unitCode", "unitText", "occupancy", "maxValue", "floorLevel", "amenityFeature", "offers",
     "price", "priceCurrency", "priceSpecification", "priceComponent", "referenceQuantity",
     "itemOffered", "about", "mainEntity", "availabilityStarts", "containsPlace",
     "containedInPlace", "accommodationCategory", "businessFunction"]
) | st.text(max_size=5)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=8),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values, wrapper=st.sampled_from([None, "Offer", "RealEstateListing"]))
def test_listing_shaped_input_only_raises_format_error(value, wrapper):
    node = {**value, "@type": "Apartment"} if isinstance(value, dict) else {"@type": "House"}
    document: object = node
    if wrapper == "Offer":
        document = {"@type": "Offer", "itemOffered": node, "price": value}
    elif wrapper == "RealEstateListing":
        document = {"@graph": [{"@type": "RealEstateListing", "about": {"@id": "#a"},
                                "offers": value}, {**node, "@id": "#a"}]}
    parse_or_refuse(parse, json.dumps(document).encode("utf-8", "surrogatepass"), PARTNER)


def test_numbers_written_as_text_with_three_decimals_are_decimals():
    vacancy = _one(floorSize={"@type": "QuantitativeValue", "value": "61.250", "unitCode": "MTK"},
                   numberOfRooms="2.5",
                   geo={"@type": "GeoCoordinates", "latitude": "49.348", "longitude": "7.180"})
    assert (vacancy.living_area, vacancy.rooms) == (61.25, 2.5)
    assert (vacancy.geo.lat, vacancy.geo.lon) == (49.348, 7.18)


def test_a_flat_let_by_the_week_is_published_without_a_rent_and_said_so():
    weekly = _offer("250", priceSpecification={"@type": "UnitPriceSpecification", "price": 250,
                                               "unitCode": "WEE"})
    result = _parse(_flat(offers=weekly))
    (flat,) = result.records
    assert (flat.cold_rent, flat.warm_rent) == (None, None)
    assert [(r.rule, r.severity, r.value) for r in result.rejections] == [
        ("HOUSING_RENT_PERIOD_NOT_MONTHLY", "warning", "WEE")]
    # a rent per month beside a price per day (short stays): the rent, nothing to say
    both = [_offer(priceSpecification={"price": 35, "unitCode": "DAY"}), _offer(540)]
    result = _parse(_flat(offers=both))
    assert (result.records[0].cold_rent, result.rejections) == (540, [])
