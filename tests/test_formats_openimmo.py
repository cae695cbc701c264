"""openimmo: OpenImmo XML deliveries -> HousingVacancy, deletions and the sync mode."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest

from hub.formats import FORMATS, FormatError
from hub.formats.base import merged
from hub.formats.openimmo import FORMAT, chunks, parse
from hub.models import PropertyType, SyncMode

BERLIN = ZoneInfo("Europe/Berlin")
PARTNER = "siedlungsbau-blies"
SAMPLE = "openimmo_1.2.7_official_example_via_OpenEstate-IO.xml"


def _doc(immobilien: str, umfang: str = "VOLL") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<openimmo><uebertragung umfang="{umfang}"/>'
        f"<anbieter><firma>Siedlungsbau Blies eG</firma>{immobilien}</anbieter></openimmo>"
    ).encode()


def _immobilie(extra: str = "", objektnr: str = "T-1", plz: str = "66538") -> str:
    return (
        "<immobilie>"
        f"<geo><plz>{plz}</plz><ort>Neunkirchen</ort></geo>"
        "<freitexte><objekttitel>Testwohnung</objekttitel></freitexte>"
        f"{extra}"
        f"<verwaltung_techn><objektnr_extern>{objektnr}</objektnr_extern></verwaltung_techn>"
        "</immobilie>"
    )


def test_registered():
    assert FORMATS["openimmo"] is FORMAT
    assert FORMAT.domain == "housing"


# --------------------------------------------------------------------------- real sample


def test_official_example_is_rejected_naming_the_missing_fields(samples_dir):
    result = parse((samples_dir / SAMPLE).read_bytes(), PARTNER)

    assert result.mode == SyncMode.SNAPSHOT
    assert result.records == []
    assert result.deletions == []
    assert result.items == 1
    # the example offers its flat for sale (vermarktungsart KAUF): said besides the gaps
    assert {(r.rule, r.field) for r in result.rejections} == {
        ("RECORD_FIELD_MISSING", "source_id"),
        ("RECORD_FIELD_MISSING", "address.postal_code"),
        ("RECORD_FIELD_MISSING", "address.city"),
        ("HOUSING_NOT_FOR_RENT", None),
    }
    for rejection in result.rejections:
        assert rejection.title == "Schönes Appartment im Stadtzentrum"
        assert rejection.domain == "housing"
        assert rejection.source_id is None


def test_official_example_maps_its_values_once_ids_are_filled_in(samples_dir):
    data = (samples_dir / SAMPLE).read_bytes()
    data = data.replace(b"<objektnr_extern/>", b"<objektnr_extern>OI-EX-1</objektnr_extern>")
    data = data.replace(b"<plz/>", b"<plz>66538</plz>", 1)  # the first ones are in <geo>
    data = data.replace(b"<ort/>", b"<ort>Neunkirchen</ort>", 1)
    data = data.replace(b'KAUF="true" MIETE_PACHT="false"', b'KAUF="false" MIETE_PACHT="true"')
    # its prices are per year (preis_zeiteinheit JAHR): see the next test
    data = data.replace(b'zeiteinheit="JAHR"', b'zeiteinheit="MONAT"')
    result = parse(data, PARTNER)

    assert result.rejections == []
    (flat,) = result.records
    assert flat.source_id == "OI-EX-1"
    assert flat.title == "Schönes Appartment im Stadtzentrum"
    assert flat.organisation == "MusterMannFrau Immobilien"
    assert flat.description is None  # objektbeschreibung and dreizeiler are empty
    assert flat.address.postal_code == "66538"
    assert flat.address.street is None
    assert flat.address.country == "DE"
    assert (flat.geo.lat, flat.geo.lon) == (22.22, 22.22)
    assert flat.property_type == PropertyType.ROOM  # <zimmer> (+ objektart_zusatz)
    assert (flat.rooms, flat.living_area) == (1, 1)
    assert (flat.cold_rent, flat.warm_rent, flat.service_charges) == (1, 1, 1)
    assert (flat.heating_costs, flat.deposit) == (1, 1)
    assert flat.available_from_text is None
    assert flat.available_from == dt.date(2001, 1, 1)  # from <abdatum>
    assert flat.wbs_required is False
    assert flat.barrier_free is False  # ausstattung/barrierefrei
    assert flat.max_persons == 10
    assert flat.floor == 1
    assert flat.updated_at == dt.datetime(2001, 2, 3, tzinfo=BERLIN)
    assert flat.contact.model_dump() == {
        "name": None, "email": "foo@bar.de", "phone": "2", "public": False,
    }


def test_prices_per_day_week_or_year_are_no_rent_per_month(samples_dir):
    """OpenImmo's preis_zeiteinheit says what the prices are per: a furnished flat let by the
    week (WOCHE) had its 250 € a week published as the rent per month. Now the rents and
    charges are left out, with the warning HOUSING_RENT_PERIOD_NOT_MONTHLY; the deposit stays;
    an all-inclusive rent (pauschalmiete) is the warm rent where the month is the unit."""
    def flat(preise: str):
        result = parse(_doc(_immobilie(f"<preise>{preise}</preise>")), PARTNER)
        return result.records[0], [(r.rule, r.severity, r.value) for r in result.rejections]

    weekly, said = flat('<kaltmiete>250</kaltmiete><nebenkosten>30</nebenkosten>'
                        '<kaution>500</kaution><preis_zeiteinheit zeiteinheit="WOCHE"/>')
    assert (weekly.cold_rent, weekly.service_charges, weekly.deposit) == (None, None, 500)
    assert said == [("HOUSING_RENT_PERIOD_NOT_MONTHLY", "warning", "WOCHE")]
    monthly, said = flat('<pauschalmiete>480</pauschalmiete><preis_zeiteinheit zeiteinheit="MONAT"/>')
    assert (monthly.cold_rent, monthly.warm_rent, said) == (None, 480, [])
    # the official example as it is: every price per year
    data = (samples_dir / SAMPLE).read_bytes()
    data = data.replace(b"<objektnr_extern/>", b"<objektnr_extern>OI-EX-1</objektnr_extern>")
    data = data.replace(b"<plz/>", b"<plz>66538</plz>", 1).replace(b"<ort/>", b"<ort>Neunkirchen</ort>", 1)
    data = data.replace(b'KAUF="true" MIETE_PACHT="false"', b'KAUF="false" MIETE_PACHT="true"')
    result = parse(data, PARTNER)
    assert [(r.rule, r.value) for r in result.rejections] == [("HOUSING_RENT_PERIOD_NOT_MONTHLY", "JAHR")]
    assert (result.records[0].cold_rent, result.records[0].warm_rent) == (None, None)


def test_truncated_official_example_is_refused(samples_dir):
    data = (samples_dir / SAMPLE).read_bytes()
    with pytest.raises(FormatError, match=r"invalid XML at line \d+ column \d+"):
        parse(data[:5000], PARTNER)


# --------------------------------------------------------------------------- own fixtures


def test_full_delivery(fixtures_dir):
    data = (fixtures_dir / "formats" / "openimmo_voll_neunkirchen.xml").read_bytes()
    result = parse(data, PARTNER)

    assert result.mode == SyncMode.SNAPSHOT
    assert result.rejections == []
    assert result.deletions == []
    assert result.items == 2
    flat, house = result.records

    assert flat.source_id == "SBG-NK-0017-2L"
    assert flat.title == "Helle 2,5-Zimmer-Wohnung mit Aufzug"
    assert flat.organisation == "Siedlungsbau Blies eG"
    assert flat.description.startswith("Barrierefreie Wohnung im 2. OG")
    assert flat.property_type == PropertyType.APARTMENT
    assert flat.address.model_dump() == {
        "street": "Saarbrücker Straße",
        "house_number": "17",
        "postal_code": "66538",
        "city": "Neunkirchen",
        "municipality_key": "10043114",
        "state": "Saarland",
        "country": "DE",
    }
    assert (flat.geo.lat, flat.geo.lon) == (49.344112, 7.18125)  # decimal commas
    assert flat.rooms == 2.5
    assert flat.living_area == 68.5
    assert flat.cold_rent == 520  # kaltmiete wins over nettokaltmiete
    assert flat.warm_rent == 690
    assert flat.service_charges == 110
    assert flat.heating_costs == 60
    assert flat.deposit == 1560  # '1.560,00'
    assert flat.available_from == dt.date(2026, 5, 1)
    assert flat.available_from_text == "ab 01.05.2026"
    assert flat.wbs_required is True
    assert flat.barrier_free is True
    assert flat.max_persons == 3
    assert flat.floor == 2
    assert flat.updated_at == dt.datetime(2026, 3, 30, tzinfo=BERLIN)
    assert flat.contact.model_dump() == {
        "name": "Anna Klein",
        "email": "a.klein@siedlungsbau-blies.example",
        "phone": "06821 90012",
        "public": True,
    }

    assert house.source_id == "SBG-OTW-0005"
    assert house.property_type == PropertyType.HOUSE  # objektart_zusatz is skipped
    assert house.description == "Ruhige Lage, Garten, 5 Zimmer"  # dreizeiler fallback
    assert house.address.house_number == "5 a"
    assert house.address.municipality_key is None  # '10043' is not eight digits
    assert house.address.state is None
    assert house.geo is None
    assert house.cold_rent == 850  # nettokaltmiete fallback
    assert house.warm_rent is None
    assert house.available_from is None
    assert house.available_from_text == "sofort"
    assert house.wbs_required is False  # '0'
    assert house.barrier_free is None
    assert house.floor == 0  # 'EG'
    assert house.contact.model_dump() == {
        "name": None,
        "email": "vermietung@siedlungsbau-blies.example",
        "phone": "06821 90000",
        "public": False,
    }


def test_partial_delivery_with_deletions(fixtures_dir):
    data = (fixtures_dir / "formats" / "openimmo_teil_neunkirchen.xml").read_bytes()
    result = parse(data, PARTNER)

    assert result.mode == SyncMode.DELTA
    assert result.deletions == ["SBG-NK-0017-2L"]
    (room,) = result.records
    assert room.source_id == "SBG-NK-0003-WG"
    assert room.property_type == PropertyType.ROOM
    assert room.warm_rent == 380
    assert room.cold_rent is None
    assert room.available_from == dt.date(2026, 4, 15)
    assert room.available_from_text == "nach Absprache, frühestens 15.04.2026"
    assert result.items == 3  # the room, the nameless deletion, the bad postal code

    found = {(r.rule, r.source_id, r.field, r.value, r.title) for r in result.rejections}
    assert found == {
        ("HOUSING_DELETE_WITHOUT_ID", None, "source_id", "DELETE", "Garage ohne Nummer"),
        (
            "ADDRESS_POSTAL_CODE_INVALID",
            "SBG-OTW-0021",
            "address.postal_code",
            "6656",
            "3-Zimmer-Wohnung Altstadt",
        ),
    }


# --------------------------------------------------------------------------- mapping details


@pytest.mark.parametrize(
    ("umfang", "mode"),
    [("VOLL", SyncMode.SNAPSHOT), ("TEIL", SyncMode.DELTA), ("teil", SyncMode.DELTA), ("", None)],
)
def test_mode(umfang, mode):
    assert parse(_doc(_immobilie(), umfang), PARTNER).mode == mode


@pytest.mark.parametrize(
    ("objektart", "expected"),
    [
        ("<wohnung/>", PropertyType.APARTMENT),
        ("<haus/>", PropertyType.HOUSE),
        ("<zimmer/>", PropertyType.ROOM),
        ("<sonstige/>", PropertyType.OTHER),
        ("", PropertyType.OTHER),
    ],
)
def test_property_type(objektart, expected):
    extra = f"<objektkategorie><objektart>{objektart}</objektart></objektkategorie>"
    (record,) = parse(_doc(_immobilie(extra)), PARTNER).records
    assert record.property_type == expected


@pytest.mark.parametrize(
    ("kategorie", "shown"),
    [
        ('<vermarktungsart KAUF="true" MIETE_PACHT="false"/><objektart><haus/></objektart>',
         "vermarktungsart KAUF"),
        ('<nutzungsart WOHNEN="false" GEWERBE="true"/><objektart><wohnung/></objektart>',
         "nutzungsart GEWERBE"),
        ('<nutzungsart WOHNEN="true"/><objektart><parken parken_typ="GARAGE"/></objektart>',
         "objektart parken"),
        ("<objektart><buero_praxen/></objektart>", "objektart buero_praxen"),
    ],
)
def test_objects_for_sale_or_not_for_living_are_rejected(kategorie, shown):
    extra = f"<objektkategorie>{kategorie}</objektkategorie>"
    result = parse(_doc(_immobilie(extra)), PARTNER)
    assert result.records == []
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.value, rejection.source_id) == (
        "HOUSING_NOT_FOR_RENT", shown, "T-1")


@pytest.mark.parametrize("kategorie", [
    '<nutzungsart WOHNEN="true" GEWERBE="true"/><vermarktungsart KAUF="true" MIETE_PACHT="true"/>',
    '<nutzungsart WAZ="1"/><vermarktungsart MIETE_PACHT="1"/>',
    "<vermarktungsart/>",  # says nothing: taken as a rental
])
def test_rentals_for_living_stay(kategorie):
    extra = f"<objektkategorie>{kategorie}<objektart><wohnung/></objektart></objektkategorie>"
    (record,) = parse(_doc(_immobilie(extra)), PARTNER).records
    assert record.property_type == PropertyType.APARTMENT


def test_reference_objects_are_not_vacancies():
    # REFERENZ: already let or sold, kept by the agent only as a reference
    immobilie = _immobilie().replace(
        "<verwaltung_techn>", '<verwaltung_techn><aktion aktionart="REFERENZ"/>'
    )
    result = parse(_doc(immobilie), PARTNER)
    assert (result.records, result.deletions) == ([], ["T-1"])


def test_a_deletion_without_objektnr_extern_says_that_it_deleted_nothing():
    """The partner meant to delete an object: a rejection that only said 'objektnr_extern is
    missing' did not tell that the object stays published; now it does."""
    nameless = _immobilie(objektnr="").replace(
        "<verwaltung_techn>", '<verwaltung_techn><aktion aktionart="DELETE"/>')
    result = parse(_doc(nameless + _immobilie(objektnr="T-2"), umfang="TEIL"), PARTNER)
    assert ([r.source_id for r in result.records], result.deletions, result.items) == (
        ["T-2"], [], 2)
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.severity, rejection.field, rejection.value,
            rejection.title) == ("HOUSING_DELETE_WITHOUT_ID", "error", "source_id", "DELETE",
                                 "Testwohnung")
    assert rejection.message_en.startswith("The deletion (aktionart DELETE) cannot be carried out")
    assert "bleibt es sonst im Verzeichnis" in rejection.hint


@pytest.mark.parametrize("size", [10_000, 1])
def test_an_object_and_its_delete_in_one_delivery_the_later_entry_counts(size):
    """Both a DELETE and the object itself for one objektnr_extern: the object won whatever
    the order; now the later entry counts, also where parts of a big delivery end between
    them (size 1: every object a part of its own)."""
    def delete(number: str) -> str:
        return _immobilie(objektnr=number).replace(
            "<verwaltung_techn>", '<verwaltung_techn><aktion aktionart="DELETE"/>')

    body = (_immobilie(objektnr="A") + delete("A")  # changed, then deleted: deleted
            + delete("B") + _immobilie(objektnr="B")  # deleted, then delivered: delivered
            + _immobilie(objektnr="C") + delete("C") + _immobilie(objektnr="C")  # delivered
            + _immobilie(objektnr="D", plz="6653") + delete("D"))  # a rejected one, deleted
    result = merged(chunks(_doc(body, umfang="TEIL"), PARTNER, size=size))
    assert ([r.source_id for r in result.records], result.deletions) == (["B", "C"], ["A", "D"])
    assert result.items == 3  # B, C and the rejected D: A and the first C are deleted again
    assert [(r.rule, r.source_id) for r in result.rejections] == [
        ("ADDRESS_POSTAL_CODE_INVALID", "D")]


def test_invalid_values_reject_only_their_record():
    bad_rent = _immobilie("<preise><kaltmiete>auf Anfrage</kaltmiete></preise>", objektnr="T-2")
    bad_bool = _immobilie(
        "<verwaltung_objekt><wbs_sozialwohnung>vielleicht</wbs_sozialwohnung></verwaltung_objekt>",
        objektnr="T-3",
    )
    result = parse(_doc(_immobilie() + bad_rent + bad_bool + _immobilie()), PARTNER)
    assert [r.source_id for r in result.records] == ["T-1"]
    found = {(r.rule, r.source_id, r.field, r.value) for r in result.rejections}
    assert found == {
        ("RECORD_FIELD_INVALID", "T-2", "cold_rent", "auf Anfrage"),
        ("RECORD_FIELD_INVALID", "T-3", "wbs_required", "vielleicht"),
        ("RECORD_ID_DUPLICATE", "T-1", "source_id", "T-1"),
    }
    assert result.items == 4


@pytest.mark.parametrize(
    ("preise", "expected"),
    [("<kaltmiete>500</kaltmiete><kaution>1200</kaution><kaution_text>3 Monate</kaution_text>", 1200),
     ("<kaltmiete>500</kaltmiete><kaution_text>3 Monatsmieten</kaution_text>", 1500),
     ("<nettokaltmiete>420.50</nettokaltmiete><kaution_text>2 NKM</kaution_text>", 841),
     ("<kaltmiete>500</kaltmiete><kaution_text>1.000 EUR</kaution_text>", 1000),
     # a bare small number counts rents: no deposit is 3 euro
     ("<kaltmiete>500</kaltmiete><kaution_text>3</kaution_text>", 1500),
     # free text that is no figure: no deposit, and the flat stays
     ("<kaltmiete>500</kaltmiete><kaution_text>nach Vereinbarung</kaution_text>", None),
     ("<kaution_text>3 Monatsmieten</kaution_text>", None),
     ("<kaltmiete>500</kaltmiete><kaution_text>keine</kaution_text>", 0),
     ("<kaltmiete>500</kaltmiete><kaution_text>Kautionsfrei</kaution_text>", 0)],
)
def test_deposit_from_kaution_text_where_kaution_is_missing(preise, expected):
    result = parse(_doc(_immobilie(f"<preise>{preise}</preise>")), PARTNER)
    assert result.rejections == []
    assert result.records[0].deposit == expected


def test_a_contact_as_real_estate_software_fills_it_in():
    """'mailto:' before the address, a remark after the number: read as the address and the
    number, so that the record checks do not hold the flat back for its contact."""
    person = ("<kontaktperson><name>Jung</name><email_direkt>mailto:wohnen@blies.example</email_direkt>"
              "<tel_durchw>Tel. 06821 123456 (Mo-Fr)</tel_durchw></kontaktperson>")
    flat = parse(_doc(_immobilie(person)), PARTNER).records[0]
    assert (flat.contact.email, flat.contact.phone) == ("wohnen@blies.example", "06821 123456")


def test_without_namespace_and_with_prefix_alike():
    prefixed = (
        '<oi:openimmo xmlns:oi="http://www.openimmo.de"><oi:uebertragung umfang="TEIL"/>'
        "<oi:anbieter><oi:immobilie><oi:geo><oi:plz>66564</oi:plz><oi:ort>Ottweiler</oi:ort>"
        "</oi:geo><oi:freitexte><oi:objekttitel>Zimmer</oi:objekttitel></oi:freitexte>"
        "<oi:verwaltung_techn><oi:objektnr_extern>P-1</oi:objektnr_extern></oi:verwaltung_techn>"
        "</oi:immobilie></oi:anbieter></oi:openimmo>"
    ).encode()
    result = parse(prefixed, PARTNER)
    assert result.mode == SyncMode.DELTA
    assert [r.address.city for r in result.records] == ["Ottweiler"]


def test_latin1_declared_document():
    data = _doc(_immobilie()).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    data = data.replace(b"Testwohnung", "Wohnung Schloßstraße".encode("latin-1"))
    (record,) = parse(data, PARTNER).records
    assert record.title == "Wohnung Schloßstraße"


def test_windows_1252_declared_as_latin1_keeps_its_euro_and_dash():
    """Windows exporters declare ISO-8859-1 and write Windows-1252: its '€' and '–' (bytes
    0x80, 0x96) are control characters in ISO-8859-1, published as such before."""
    data = _doc(_immobilie()).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    data = data.replace(b"Testwohnung", "Wohnung am Schloß – 451 € kalt".encode("cp1252"))
    (record,) = parse(data, PARTNER).records
    assert record.title == "Wohnung am Schloß – 451 € kalt"


# --------------------------------------------------------------------------- unusable input


EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?>\n'
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
    b"<openimmo><anbieter><immobilie><freitexte><objekttitel>&e;</objekttitel></freitexte>"
    b"</immobilie></anbieter></openimmo>"
)

BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE openimmo [\n<!ENTITY lol "lol">\n'
    + b"".join(
        b'<!ENTITY lol%d "%s">\n'
        % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)
    )
    + b"]>\n<openimmo><anbieter><firma>&lol9;</firma></anbieter></openimmo>"
)


@pytest.mark.parametrize(
    "data", [EXTERNAL_ENTITY, BILLION_LAUGHS], ids=["external", "billion-laughs"]
)
def test_entity_declarations_are_refused_unexpanded(data):
    started = time.perf_counter()
    with pytest.raises(FormatError, match="entities") as error:
        parse(data, PARTNER)
    assert time.perf_counter() - started < 1
    assert "root:" not in str(error.value)
    assert "lollol" not in str(error.value)


def test_entities_are_refused_even_in_utf16():
    data = EXTERNAL_ENTITY.replace(
        b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>'
    )
    with pytest.raises(FormatError, match="entities"):
        parse(data.decode().encode("utf-16"), PARTNER)


def test_parameter_entities_are_refused():
    data = (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE openimmo [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
        b"<openimmo/>"
    )
    with pytest.raises(FormatError, match="entities"):
        parse(data, PARTNER)


def test_doctype_without_entities_is_harmless():
    data = _doc(_immobilie()).replace(b"<openimmo>", b"<!DOCTYPE openimmo>\n<openimmo>")
    assert len(parse(data, PARTNER).records) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"<openimmo><anbieter>", r"invalid XML at line 1 column \d+"),
        (b'<?xml version="1.0"?>\n<openimmo>\n  <anbieter>\n</openimmo>', "invalid XML at line 4"),
        (b'{"ergebnisliste": []}', "invalid XML at line 1"),
        # an OpenImmo ZIP (the XML with its pictures) given as it came: said so, not 'invalid XML'
        (b"PK\x03\x04\x14\x00\x00\x00", "not an OpenImmo delivery: a ZIP archive that cannot be read"),
        (b"<immobilie/>", "root element is <immobilie>, expected <openimmo>"),
        (b'<x:feed xmlns:x="urn:x"/>', "root element is <feed>"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


def test_empty_openimmo_document_is_an_empty_result():
    result = parse(b'<openimmo><uebertragung umfang="VOLL"/></openimmo>', PARTNER)
    assert (result.records, result.rejections, result.deletions, result.items) == ([], [], [], 0)
    assert result.mode == SyncMode.SNAPSHOT


@pytest.mark.parametrize("encoding", ["utf-8", "utf-32"])
def test_entities_are_refused_after_parsing_too(monkeypatch, encoding):
    # second line of defence: the parsed DTD is checked even when the byte scan misses it
    import hub.formats.openimmo as module

    monkeypatch.setattr(module, "_ENTITY_MARKERS", ())
    declared = b'version="1.0" encoding="%s"' % encoding.upper().encode()
    data = EXTERNAL_ENTITY.replace(b'version="1.0"', declared)
    with pytest.raises(FormatError, match="entities"):
        parse(data.decode().encode(encoding), PARTNER)


def test_each_provider_names_its_own_objects_wherever_its_firma_stands():
    """The document is read as a stream; a provider's <firma> may still follow its objects,
    and a second provider's objects carry the second name."""
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<openimmo><uebertragung umfang="VOLL"/>'
        f"<anbieter>{_immobilie(objektnr='A-1')}{_immobilie(objektnr='A-2')}<firma>Erste eG</firma></anbieter>"
        f"<anbieter><firma>Zweite GmbH</firma>{_immobilie(objektnr='B-1')}</anbieter>"
        f"<anbieter>{_immobilie(objektnr='C-1')}</anbieter>"
        "</openimmo>"
    ).encode()
    result = parse(data, PARTNER)
    assert {r.source_id: r.organisation for r in result.records} == {
        "A-1": "Erste eG", "A-2": "Erste eG", "B-1": "Zweite GmbH", "C-1": None}
    assert result.mode == SyncMode.SNAPSHOT


def test_a_document_cut_after_many_objects_is_refused_whole():
    objects = "".join(_immobilie(objektnr=f"T-{n}") for n in range(200))
    data = _doc(objects)
    with pytest.raises(FormatError, match="invalid XML"):
        parse(data[: len(data) - 40], PARTNER)
    assert len(parse(data, PARTNER).records) == 200


@pytest.mark.parametrize("codec", ["utf-8", "latin-1"])
def test_utf8_declared_as_latin1_is_read_as_utf8(codec):
    """Some exporters write UTF-8 under an ISO-8859-1 declaration; read as declared every
    umlaut would be garbled ('GemeinnÃ¼tzige'). A real latin-1 document stays latin-1."""
    doc = ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<openimmo><uebertragung umfang="VOLL"/>'
           "<anbieter><firma>Gemeinnützige Wohnungsbau</firma>"
           + _immobilie("<freitexte><objekttitel>Schöne Wohnung</objekttitel></freitexte>")
           + "</anbieter></openimmo>")
    (flat,) = parse(doc.encode(codec), PARTNER).records
    assert flat.organisation == "Gemeinnützige Wohnungsbau"


def test_what_real_estate_software_writes_is_read_as_meant():
    """HTML in the description (a CDATA section), 'ja' for a boolean, 0.00 for a price not
    filled in: read as the partner meant them, not published as tags, rejected or free."""
    immobilie = (
        "<immobilie><geo><plz>66538</plz><ort>Neunkirchen</ort></geo>"
        "<preise><kaltmiete>0.00</kaltmiete><nettokaltmiete>451.50</nettokaltmiete>"
        "<warmmiete>0.00</warmmiete></preise>"
        "<freitexte><objekttitel>Wohnung</objekttitel><objektbeschreibung><![CDATA["
        "<p>Helle Wohnung im 2. OG.<br/>Küche &amp; Bad renoviert.</p>]]></objektbeschreibung>"
        "</freitexte>"
        "<verwaltung_objekt><wbs_sozialwohnung>ja</wbs_sozialwohnung></verwaltung_objekt>"
        "<verwaltung_techn><objektnr_extern>T-1</objektnr_extern></verwaltung_techn></immobilie>")
    result = parse(_doc(immobilie), PARTNER)
    assert result.rejections == []
    (flat,) = result.records
    assert flat.description == "Helle Wohnung im 2. OG.\nKüche & Bad renoviert."
    assert (flat.wbs_required, flat.cold_rent, flat.warm_rent) == (True, 451.5, None)
    # a '<' in plain words is no tag: the text stays as written
    words = immobilie.replace("<![CDATA[<p>Helle Wohnung im 2. OG.<br/>Küche &amp; Bad renoviert.</p>]]>",
                              "Miete &lt; 500 € &gt; Nebenkosten")
    (flat,) = parse(_doc(words), PARTNER).records
    assert flat.description == "Miete < 500 € > Nebenkosten"


@pytest.mark.parametrize(("body", "said"), [
    ('<?xml version="1.0"?>\n<openimmo><anbieter><firma>Müller & Söhne</firma></anbieter></openimmo>'.encode(),
     "a '&' in a text must be written '&amp;'"),
    ('<?xml version="1.0"?>\n<openimmo><anbieter><firma>Müller</firma></anbieter></openimmo>'.encode("cp1252"),
     "export as UTF-8, or declare the encoding the file is in"),
])
def test_the_two_usual_export_mistakes_are_named_with_what_to_do(body, said):
    with pytest.raises(FormatError, match=r"^invalid XML at line 2 column \d+: ") as refused:
        parse(body, PARTNER)
    assert said in str(refused.value)


def test_an_id_repeated_by_another_provider_names_both_providers():
    """Two <anbieter> of one file numbering their objects alike: the second object's rejection
    said only 'Die Kennung '1' kommt in der Lieferung mehrfach vor'; now it names both firmas,
    so the partner's IT knows to number objects uniquely across providers. The ids stay."""
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<openimmo><uebertragung umfang="VOLL"/>'
        f"<anbieter><firma>Erste eG</firma>{_immobilie(objektnr='1')}</anbieter>"
        f"<anbieter><firma>Zweite GmbH</firma>{_immobilie(objektnr='1')}{_immobilie(objektnr='1')}"
        "</anbieter></openimmo>"
    ).encode()
    for size in (1, 10_000):  # within one part of the stream, and across parts
        result = merged(chunks(data, PARTNER, size=size))
        assert [(r.source_id, r.organisation) for r in result.records] == [("1", "Erste eG")]
        first, second = result.rejections
        assert (first.rule, first.source_id, first.value) == ("RECORD_ID_DUPLICATE", "1", "1")
        assert first.message == (
            "Die Kennung '1' kommt in der Lieferung mehrfach vor: zuerst bei 'Erste eG', hier "
            "bei 'Zweite GmbH'; nur der erste Eintrag zählt. Die Kennungen müssen über alle "
            "Anbieter der Lieferung hinweg eindeutig sein.")
        assert "first for 'Erste eG', here for 'Zweite GmbH'" in first.message_en
        assert second.message == first.message
    # a repeat within one provider keeps the catalogue's words
    (same,) = parse(_doc(_immobilie(objektnr="1") + _immobilie(objektnr="1")), PARTNER).rejections
    assert same.message == "Die Kennung '1' kommt in der Lieferung mehrfach vor; nur der erste Eintrag zählt."


def test_an_attachment_of_more_than_ten_megabytes_in_base64_is_read_past():
    """Real estate software embeds photos and exposés as base64 in <anhanginhalt>: one of
    8 MB (11 MB of base64 text) refused the whole delivery with 'invalid XML at line 1 column
    ...: Resource limit exceeded: Text node too long, try XML_PARSE_HUGE'. The objects are read;
    entities stay refused (``test_entity_declarations_are_refused_unexpanded``)."""
    photo = (
        '<oi:anhaenge><oi:anhang location="INTERN" gruppe="BILD"><oi:anhangtitel>Küche'
        "</oi:anhangtitel><oi:format>image/jpeg</oi:format><oi:daten><oi:anhanginhalt>"
        + "QUJD" * 2_750_000 + "</oi:anhanginhalt></oi:daten></oi:anhang></oi:anhaenge>")
    data = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<oi:openimmo xmlns:oi="http://www.openimmo.de">'
        '<oi:uebertragung umfang="TEIL"/><oi:anbieter><oi:firma>Wohnbau Schäfer</oi:firma>'
        "<oi:immobilie><oi:geo><oi:plz>66538</oi:plz><oi:ort>Neunkirchen</oi:ort></oi:geo>"
        "<oi:preise><oi:kaltmiete>1.250,00</oi:kaltmiete></oi:preise>"
        f"<oi:freitexte><oi:objekttitel>Große Wohnung</oi:objekttitel></oi:freitexte>{photo}"
        "<oi:verwaltung_techn><oi:objektnr_extern>WS-1</oi:objektnr_extern></oi:verwaltung_techn>"
        "</oi:immobilie></oi:anbieter></oi:openimmo>").encode("iso-8859-1")
    assert len(data) > 11_000_000
    result = parse(data, PARTNER)
    assert result.rejections == []
    (flat,) = result.records
    assert (flat.source_id, flat.title, flat.organisation, flat.cold_rent) == (
        "WS-1", "Große Wohnung", "Wohnbau Schäfer", 1250.0)
    assert result.mode == SyncMode.DELTA


@pytest.mark.parametrize(("written", "read"), [
    ("1.250", 1250.0),  # German thousands dot: a rent of 1.25 € is none
    ("1.250,00", 1250.0),
    ("1250.00", 1250.0),  # xsd:decimal
    ("650.500", 650.5),  # three decimals where the amount is a price as written
    ("650,50", 650.5),
])
def test_amounts_with_a_german_thousands_dot_are_read_as_meant(written, read):
    """An export formatting prices in German wrote '<kaltmiete>1.250</kaltmiete>': the hub
    published a cold rent of 1.25 € (no check caught it without a living area), a deposit of
    1.95 €. Now the dot is a thousands dot where the decimal point would make an amount under
    10 €; the rents, the charges and the deposit alike."""
    preise = (f"<preise><kaltmiete>{written}</kaltmiete><warmmiete>{written}</warmmiete>"
              f"<nebenkosten>{written}</nebenkosten><heizkosten>{written}</heizkosten>"
              f"<kaution>{written}</kaution></preise>")
    result = parse(_doc(_immobilie(preise)), PARTNER)
    (flat,) = result.records
    assert (flat.cold_rent, flat.warm_rent, flat.service_charges, flat.heating_costs,
            flat.deposit) == (read,) * 5


def test_a_postal_code_with_d_and_a_house_number_in_the_street_are_read_as_elsewhere():
    """'<plz>D-66538</plz>' rejected the flat (CSV and JSON-LD read it as 66538), and
    '<strasse>Königstraße 12a</strasse>' beside an empty <hausnummer/> was published as a street
    named 'Königstraße 12a' without a number (a CSV's Strasse is split so)."""
    geo = ("<geo><plz>D-66538</plz><ort>Neunkirchen</ort><strasse>Königstraße 12a</strasse>"
           "<hausnummer/></geo>")
    data = _doc(_immobilie().replace("<geo><plz>66538</plz><ort>Neunkirchen</ort></geo>", geo))
    result = parse(data, PARTNER)
    assert result.rejections == []
    (flat,) = result.records
    assert (flat.address.postal_code, flat.address.street, flat.address.house_number) == (
        "66538", "Königstraße", "12a")
    # a number of its own stays as written
    geo = "<geo><plz>66538</plz><ort>Neunkirchen</ort><strasse>Königstr.</strasse><hausnummer>12 - 14</hausnummer></geo>"
    data = _doc(_immobilie().replace("<geo><plz>66538</plz><ort>Neunkirchen</ort></geo>", geo))
    (flat,) = parse(data, PARTNER).records
    assert (flat.address.street, flat.address.house_number) == ("Königstr.", "12 - 14")


def _zipped(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return packed.getvalue()


def test_a_zip_delivery_is_read_from_its_xml_file(tmp_path):
    """Real estate software packs an OpenImmo delivery as a ZIP archive, the XML file beside
    its pictures: it was refused ('the file is a ZIP archive, not XML; unpack it'). The one XML
    file in it is read, as a stream from the file as a sync opens it; the rest is passed over."""
    data = _zipped({"export/openimmo.xml": _doc(_immobilie(objektnr="Z-1"), umfang="TEIL"),
                    "export/bilder/Z-1_1.jpg": b"\xff\xd8\xff" + bytes(2000),
                    "__MACOSX/export/._openimmo.xml": b"\x00\x05"})
    path = tmp_path / "delivery.zip"
    path.write_bytes(data)
    with path.open("rb") as handle:
        result = merged(chunks(handle, PARTNER))
    assert ([flat.source_id for flat in result.records], result.mode) == (["Z-1"], SyncMode.DELTA)
    assert parse(data, PARTNER).records[0].title == "Testwohnung"


@pytest.mark.parametrize(("files", "said"), [
    ({"a.xml": b"<openimmo/>", "b.xml": b"<openimmo/>"}, "the ZIP archive holds 2 XML files (a.xml, b.xml)"),
    ({"bild.jpg": b"\xff\xd8\xff"}, "the ZIP archive holds no XML file"),
])
def test_a_zip_without_one_xml_file_says_what_it_holds(files, said):
    with pytest.raises(FormatError, match=re.escape(said)):
        parse(_zipped(files), PARTNER)
    with pytest.raises(FormatError, match="a ZIP archive that cannot be read"):
        parse(_zipped(files)[:40], PARTNER)


def test_a_zip_whose_xml_unpacks_beyond_the_body_limit_is_refused_unread(monkeypatch):
    """A few megabytes of ZIP can unpack to gigabytes, which the fetch's limit on a body no
    longer bounds (and huge text nodes are allowed for attachments): an XML file above the
    limit is refused by its size in the archive, before anything is unpacked."""
    import hub.formats.openimmo as openimmo

    data = _zipped({"openimmo.xml": _doc(_immobilie(objektnr="Z-1"), umfang="TEIL")})
    assert parse(data, PARTNER).records
    monkeypatch.setattr(openimmo, "UNPACKED_LIMIT", 100)
    with pytest.raises(FormatError, match=r"openimmo.xml in the ZIP archive unpacks to [\d,]+ bytes, "
                                          r"more than the limit of 100; send the deliveries in smaller parts"):
        parse(data, PARTNER)
