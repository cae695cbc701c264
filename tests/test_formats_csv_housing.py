"""csv-housing: the hub's CSV template for housing offers -> HousingVacancy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats import FormatError
from hub.formats.csv_housing import COLUMNS, FORMAT, parse
from hub.models import PropertyType
from hub.quality.checks import record_problems
from hub.quality.report import build_report
from tests.format_properties import (
    DELIMITERS,
    ENCODINGS,
    csv_rows,
    parse_or_refuse,
    template_csv,
)

BERLIN = ZoneInfo("Europe/Berlin")
PARTNER = "stadt-ottweiler"
ROOT = Path(__file__).resolve().parents[1]
HEADER = "Wohnungs-ID;Titel;PLZ;Ort"


def _one(row: str, header: str = HEADER):
    result = parse("\n".join([header, row]).encode("utf-8"), PARTNER)
    assert result.rejections == [], result.rejections
    (flat,) = result.records
    return flat


def test_format():
    assert FORMAT.name == "csv-housing"
    assert FORMAT.domain == "housing"
    assert FORMAT.parse is parse


def test_template_example_file():
    result = parse((ROOT / "schemas" / "csv" / "housing.example.csv").read_bytes(), PARTNER)
    assert result.rejections == []
    assert [flat.source_id for flat in result.records] == ["OTW-WB-0012", "SW-PRIV-03"]
    flat, room = result.records
    assert flat.deposit == 1230  # '3 Kaltmieten' of 410
    assert flat.available_from_text == "sofort"
    assert flat.floor == 0
    assert room.property_type == PropertyType.ROOM
    assert room.organisation is None  # the pipeline fills in the partner's name
    assert room.contact.public is False


def test_template_example_documents_every_column():
    doc = (ROOT / "schemas" / "csv" / "housing.md").read_text()
    example = (ROOT / "schemas" / "csv" / "housing.example.csv").read_text().splitlines()[0]
    for name in COLUMNS.values():
        assert f"| `{name}` |" in doc
        assert name in example.split(";")


def test_semicolon_utf8_bom(fixtures_dir):
    data = (fixtures_dir / "formats" / "housing_semicolon_utf8_bom.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    result = parse(data, PARTNER)

    assert result.rejections == []
    assert result.items == 3
    flat, house, room = result.records

    assert flat.source_id == "NK-STADT-101"
    assert flat.title == "3-Zimmer-Wohnung Innenstadt"
    assert flat.organisation == "Kreisstadt Neunkirchen"
    assert flat.property_type == PropertyType.APARTMENT
    assert flat.rooms == 3
    assert flat.living_area == 74.5  # '74,5 m²'
    assert flat.cold_rent == 520  # '520,00 €'
    assert (flat.service_charges, flat.heating_costs, flat.warm_rent) == (130, 85, 735)
    assert flat.deposit == 1560  # '1.560,00'
    assert flat.available_from == dt.date(2026, 6, 1)
    assert flat.available_from_text == "ab 01.06.2026 nach Renovierung"
    assert (flat.wbs_required, flat.barrier_free) == (True, False)
    assert flat.max_persons == 4  # header 'Max. Personen'
    assert flat.floor == 1  # '1. OG'
    assert flat.address.model_dump() == {
        "street": "Stummstraße",
        "house_number": "21",
        "postal_code": "66538",
        "city": "Neunkirchen",
        "municipality_key": "10043114",
        "state": None,
        "country": "DE",
    }
    assert str(flat.url) == "https://neunkirchen.example/wohnen/101"
    assert flat.description == "Zentral, Bus vor der Tür; Keller und Dachboden"
    assert flat.contact.model_dump() == {
        "name": "Frau Becker",
        "email": "wohnen@neunkirchen.example",
        "phone": "06821 202-330",
        "public": True,
    }
    assert flat.updated_at == dt.datetime(2026, 3, 28, 16, 45, tzinfo=BERLIN)

    assert house.property_type == PropertyType.HOUSE
    assert house.rooms == 4.5
    assert house.deposit == 1780  # '2 KM' of 890
    assert house.warm_rent is None
    assert house.available_from is None
    assert house.available_from_text == "sofort"
    assert (house.wbs_required, house.barrier_free) == (False, True)  # 'n', 'x'
    assert house.floor is None
    assert (house.address.street, house.address.house_number) == ("Zum Hirtenberg", "3b")
    assert house.contact.public is False

    assert room.property_type == PropertyType.ROOM  # 'WG-Zimmer'
    assert room.cold_rent is None
    assert room.warm_rent == 320
    assert room.available_from == dt.date(2026, 4, 15)
    assert room.available_from_text is None  # a plain date
    assert room.floor == -1  # 'UG'
    assert room.contact is None
    assert room.updated_at is None


def test_comma_windows_1252(fixtures_dir):
    data = (fixtures_dir / "formats" / "housing_comma_cp1252.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse(data, PARTNER)

    assert result.rejections == []
    balcony, attic = result.records
    assert balcony.title == "Helle 2-Zimmer-Wohnung, Balkon"
    assert balcony.living_area == 61.3  # header 'Wohnfläche'
    assert (balcony.cold_rent, balcony.warm_rent) == (455, 610)
    assert balcony.available_from is None
    assert balcony.available_from_text == "nach Absprache"
    assert balcony.address.street == "Hauptstraße"  # header 'Straße'
    assert balcony.address.city == "Spiesen-Elversberg"
    assert balcony.floor == 0
    assert balcony.max_persons == 2  # header 'Max Personen'
    assert balcony.description == "Nähe Bürgerhaus; Gäste-WC"

    assert attic.available_from == dt.date(2026, 7, 1)
    assert attic.floor == 3
    assert attic.description == "Schöne Aussicht über das Illtal"


def test_defective_rows_are_rejected_one_by_one(fixtures_dir):
    data = (fixtures_dir / "formats" / "housing_defects.csv").read_bytes()
    result = parse(data, PARTNER)

    assert [flat.source_id for flat in result.records] == ["OK-1", "WARM-LOW"]
    ok, warm_low = result.records
    assert record_problems(ok) == []
    assert [p.rule for p in record_problems(warm_low)] == ["HOUSING_RENT_INCONSISTENT"]
    assert result.items == 13

    found = {(r.rule, r.source_id, r.field, r.value) for r in result.rejections}
    assert found == {
        ("ADDRESS_POSTAL_CODE_INVALID", "BAD-PLZ", "address.postal_code", "6653"),
        ("RECORD_FIELD_INVALID", "BAD-ART", "property_type", "Garage"),
        ("RECORD_FIELD_INVALID", "BAD-RENT", "cold_rent", "fünfhundert"),
        ("RECORD_FIELD_INVALID", "BAD-DEPOSIT", "deposit", "drei Kaltmieten"),
        ("RECORD_FIELD_INVALID", "BAD-DATE", "available_from", "31.06.2026"),
        ("RECORD_FIELD_INVALID", "BAD-WBS", "wbs_required", "vielleicht"),
        ("RECORD_FIELD_INVALID", "BAD-FLOOR", "floor", "oben"),
        ("RECORD_FIELD_INVALID", "BAD-AGS", "address.municipality_key", "1004311"),
        ("RECORD_FIELD_MISSING", "NO-CITY", "address.city", None),
        (
            "RECORD_UNREADABLE",
            "SHIFTED",
            None,
            "Zeile 13: 14 Zellen, die Kopfzeile hat 13 Spalten "
            "(Trennzeichen im Text? Text in Anführungszeichen setzen)",
        ),
        ("RECORD_ID_DUPLICATE", "OK-1", "source_id", "OK-1"),
    }
    for rejection in result.rejections:
        assert rejection.partner_id == PARTNER
        assert rejection.domain == "housing"
    by_id = {r.source_id: r for r in result.rejections}
    assert by_id["BAD-FLOOR"].title == "Dachwohnung Merchweiler"
    assert by_id["OK-1"].title == "2-Zimmer-Wohnung (doppelt)"


# --------------------------------------------------------------------------- cell details


@pytest.mark.parametrize(
    ("art", "expected"),
    [("Wohnung", PropertyType.APARTMENT), ("HAUS", PropertyType.HOUSE),
     ("Zimmer", PropertyType.ROOM), ("WG-Zimmer", PropertyType.ROOM),
     ("Sonstiges", PropertyType.OTHER), ("", PropertyType.APARTMENT)],
)
def test_property_types(art, expected):
    flat = _one(f"W1;Wohnung;{art};66564;Ottweiler", "Wohnungs-ID;Titel;Art;PLZ;Ort")
    assert flat.property_type == expected


@pytest.mark.parametrize(
    ("deposit", "cold_rent", "expected"),
    [("1.200", "", 1200), ("3 Kaltmieten", "400", 1200), ("2 Monatsmieten", "455,50", 911),
     ("3 KM", "410", 1230), ("2,5 x Kaltmiete", "400", 1000), ("", "400", None),
     ("3", "400", 1200), ("1.200", "400", 1200), ("keine", "400", 0), ("keine Kaution", "", 0),
     ("ohne", "400", 0)],
)
def test_deposit(deposit, cold_rent, expected):
    header = "Wohnungs-ID;Titel;Kaution;Kaltmiete;PLZ;Ort"
    assert _one(f"W1;Wohnung;{deposit};{cold_rent};66564;Ottweiler", header).deposit == expected


@pytest.mark.parametrize("kaltmiete", ["auf Anfrage", "VB", "nach Vereinbarung", "nach WBS", "Miete auf Anfrage"])
def test_a_rent_in_words_is_left_out_with_a_warning(kaltmiete):
    """The flat is still found (by place, rooms, date); its landlord is told that people who
    filter by rent will not find it."""
    header = "Wohnungs-ID;Titel;Kaltmiete;Warmmiete;PLZ;Ort"
    result = parse(f"{header}\nW1;Wohnung;{kaltmiete};650;66564;Ottweiler\n".encode(), PARTNER)
    (flat,) = result.records
    assert (flat.cold_rent, flat.warm_rent) == (None, 650)
    assert [(r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("HOUSING_RENT_IN_WORDS", "warning", "cold_rent", kaltmiete)]


@pytest.mark.parametrize("deposit", ["3 Kaltmieten", "2 KM", "3"])
def test_a_deposit_in_rents_without_the_rent_is_left_out_with_a_warning(deposit):
    """Rents that cannot be counted (no Kaltmiete) give no deposit, not a rejected flat, nor
    a deposit of 3 euro; the partner's feedback says why."""
    header = "Wohnungs-ID;Titel;Kaution;Warmmiete;PLZ;Ort"
    result = parse(f"W1;Wohnung;{deposit};650;66564;Ottweiler".join([header + "\n", ""]).encode(), PARTNER)
    (flat,) = result.records
    assert flat.deposit is None
    assert [(r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("HOUSING_DEPOSIT_WITHOUT_RENT", "warning", "deposit", deposit)]


@pytest.mark.parametrize(
    ("art", "expected"),
    [("Wohnung", "apartment"), ("Einzimmerwohnung", "apartment"), ("Maisonette", "apartment"),
     ("Appartement", "apartment"), ("Reihenhaus", "house"), ("Doppelhaushälfte", "house"),
     ("Bungalow", "house"), ("WG-Zimmer", "room"), ("Zimmer in WG", "room"),
     ("Zimmer in einer Wohnung", "room"), ("Zimmer in Einfamilienhaus", "room"),
     ("Sonstiges", "other")],
)
def test_property_types_as_landlords_write_them(art, expected):
    header = "Wohnungs-ID;Titel;Art;PLZ;Ort"
    assert _one(f"W1;Wohnung;{art};66564;Ottweiler", header).property_type == expected


def test_values_as_listings_write_them():
    """A half room, an approximate area or cost, a cost included in another, a range of
    persons and 'WBS' in the WBS column, each read as meant (each rejected the flat before)."""
    header = ("Wohnungs-ID;Titel;Zimmer;Wohnflaeche;Nebenkosten;Heizkosten;Warmmiete;"
              "Max. Personen;WBS erforderlich;PLZ;Ort")
    rows = {"W1": "2½;ca. 65 m²;ca. 120 €;in NK enthalten;inkl.;2-3;WBS",
            "W2": "2 1/2;70;95;65;;4-3;ohne WBS"}
    result = parse("\n".join([header, *(f"{k};Wohnung;{v};66564;Ottweiler" for k, v in rows.items())])
                   .encode(), PARTNER)
    assert result.rejections == []
    read = {f.source_id: (f.rooms, f.living_area, f.service_charges, f.heating_costs, f.warm_rent,
                          f.max_persons, f.wbs_required) for f in result.records}
    assert read == {"W1": (2.5, 65, 120, None, None, 3, True), "W2": (2.5, 70, 95, 65, None, 4, False)}
    # a value that is none of these still rejects its flat, naming it
    bad = parse(f"{header}\nW3;Wohnung;viele;;;;;;;66564;Ottweiler\n".encode(), PARTNER)
    assert [(r.rule, r.field, r.value) for r in bad.rejections] == [
        ("RECORD_FIELD_INVALID", "rooms", "viele")]


def test_rents_persons_and_costs_with_the_words_landlords_add():
    """'450 € kalt' in the Kaltmiete, '570 € warm' in the Warmmiete, '3 Personen', 'in BK
    enthalten': read as meant; the other kind of rent in a rent column stays an error."""
    header = "Wohnungs-ID;Titel;Kaltmiete;Warmmiete;Heizkosten;Max. Personen;PLZ;Ort"
    rows = {"W1": "450 € kalt;570 € warm;in BK enthalten;3 Personen",
            "W2": "450 € (netto);570 € inkl. NK;siehe NK;max. 2",
            "W3": "450 € + NK;570 Euro warm;in NK enth.;2 bis 3 Pers.",
            "W5": "ab 450 €;570 inkl.;;"}
    result = parse("\n".join([header, *(f"{k};Wohnung;{v};66564;Ottweiler" for k, v in rows.items())])
                   .encode(), PARTNER)
    assert result.rejections == []
    assert {f.source_id: (f.cold_rent, f.warm_rent, f.heating_costs, f.max_persons)
            for f in result.records} == {"W1": (450, 570, None, 3), "W2": (450, 570, None, 2),
                                         "W3": (450, 570, None, 3), "W5": (450, 570, None, None)}
    bad = parse(f"{header}\nW4;Wohnung;570 € warm;450 € kalt;;;66564;Ottweiler\n".encode(), PARTNER)
    assert [(r.rule, r.field, r.value) for r in bad.rejections] == [
        ("RECORD_FIELD_INVALID", "cold_rent", "570 € warm"),
        ("RECORD_FIELD_INVALID", "warm_rent", "450 € kalt")]


def test_cells_that_say_they_have_no_value_are_empty():
    """'-', 'k.A.', 'n.V.', '/' are how spreadsheets leave a cell empty: the flat is published
    without those values. In the title such a text is the partner's, for the record checks
    (TEXT_PLACEHOLDER)."""
    header = "Wohnungs-ID;Titel;Kaltmiete;Etage;Frei ab;Barrierefrei;Zimmer;PLZ;Ort"
    flat = _one("W1;Wohnung;-;k.A.;n.V.;/;—;66564;Ottweiler", header)
    assert (flat.cold_rent, flat.floor, flat.available_from, flat.available_from_text,
            flat.barrier_free, flat.rooms) == (None, None, None, None, None, None)
    assert _one("W2;-;450;;;;;66564;Ottweiler", header).title == "-"
    missing = parse(f"{header}\nW3;Wohnung;;;;;;-;Ottweiler\n".encode(), PARTNER)
    assert [(r.rule, r.field) for r in missing.rejections] == [
        ("RECORD_FIELD_MISSING", "address.postal_code")]


@pytest.mark.parametrize(
    ("art", "expected"),
    [("Whg.", "apartment"), ("Wohnung (Altbau)", "apartment"), ("Wohnung, möbliert", "apartment"),
     ("Studio", "apartment"), ("EFH", "house"), ("DHH", "house"), ("Wohnheimplatz", "room"),
     ("Gemeinschaftsunterkunft", "other")],
)
def test_kinds_as_listings_shorten_them(art, expected):
    assert _one(f"W1;Wohnung;{art};66564;Ottweiler", "Wohnungs-ID;Titel;Art;PLZ;Ort").property_type == expected


def test_contact_link_and_postal_code_as_forms_hold_them():
    """A contact that the checks would refuse as written ('Tel. …', 'mailto:', a link without
    https://, 'D-66564') is read as meant: the flat is not held back for it."""
    header = "Wohnungs-ID;Titel;E-Mail;Telefon;Link;PLZ;Ort"
    flat = _one("W1;Wohnung;mailto:wohnen@ottweiler.example.;Tel. 06824 3090 (Mo-Fr);"
                "ottweiler.example/wohnen;D-66564;Ottweiler", header)
    assert (flat.contact.email, flat.contact.phone, str(flat.url), flat.address.postal_code) == (
        "wohnen@ottweiler.example", "06824 3090", "https://ottweiler.example/wohnen", "66564")
    from hub.quality.checks import check_records

    accepted, problems = check_records([flat])
    assert accepted == [flat], problems


def test_contact_copied_from_a_mail_program_or_said_to_be_none():
    """'Name <address>' gives the address; a phone cell 'keine' is no phone, not an invalid
    one that the partner's feedback would list."""
    header = "Wohnungs-ID;Titel;E-Mail;Telefon;PLZ;Ort"
    flat = _one('W1;Wohnung;"Weber, Anna" <a.weber@ottweiler.example>;keine;66564;Ottweiler', header)
    assert (flat.contact.email, flat.contact.phone) == ("a.weber@ottweiler.example", None)
    from hub.quality.checks import check_records

    accepted, problems = check_records([flat])
    assert accepted == [flat] and problems == []


@pytest.mark.parametrize("frei_ab", ["01/05/2026", "01. 05. 2026", "Fr, 01.05.2026", "01-05-2026"])
def test_a_date_in_another_numeric_form_is_the_date(frei_ab):
    flat = _one(f"W1;Wohnung;{frei_ab};66564;Ottweiler", "Wohnungs-ID;Titel;Frei ab;PLZ;Ort")
    assert flat.available_from == dt.date(2026, 5, 1)


@pytest.mark.parametrize(
    ("wbs", "expected"),
    [("WBS 100", True), ("WBS 140", True), ("nur mit WBS", True), ("WBS-pflichtig", True),
     ("kein WBS nötig", False), ("freifinanziert", False), ("mit Wohnberechtigungsschein", True)],
)
def test_wbs_as_landlords_write_it(wbs, expected):
    flat = _one(f"W1;Wohnung;{wbs};66564;Ottweiler", "Wohnungs-ID;Titel;WBS erforderlich;PLZ;Ort")
    assert flat.wbs_required is expected


@pytest.mark.parametrize(
    ("barrierefrei", "expected"),
    [("ja", True), ("rollstuhlgerecht", True), ("nein", False),
     # low barriers are not known to be none: the flat is published without the answer
     ("barrierearm", None), ("teilweise", None), ("ebenerdig", None), ("Aufzug vorhanden", None)],
)
def test_barrier_free_as_landlords_write_it(barrierefrei, expected):
    flat = _one(f"W1;Wohnung;{barrierefrei};66564;Ottweiler", "Wohnungs-ID;Titel;Barrierefrei;PLZ;Ort")
    assert flat.barrier_free is expected


@pytest.mark.parametrize(
    ("strasse", "plz", "ort", "expected"),
    [("Bahnhofstr.12", "66564", "Ottweiler", ("Bahnhofstr.", "12", "66564", "Ottweiler")),
     ("Bahnhofstraße 12, 2. OG", "66564 Ottweiler", "Ottweiler", ("Bahnhofstraße", "12", "66564", "Ottweiler")),
     ("Am Markt 1", "66564 Ottweiler", "", ("Am Markt", "1", "66564", "Ottweiler"))],
)
def test_an_address_as_written_on_a_letter(strasse, plz, ort, expected):
    flat = _one(f"W1;Wohnung;{strasse};{plz};{ort}", "Wohnungs-ID;Titel;Strasse;PLZ;Ort")
    address = flat.address
    assert (address.street, address.house_number, address.postal_code, address.city) == expected


def test_a_town_after_the_code_that_differs_from_ort_stays_an_error():
    result = parse("Wohnungs-ID;Titel;PLZ;Ort\nW1;Wohnung;66564 Ottweiler;Neunkirchen\n".encode(), PARTNER)
    assert [(r.rule, r.field, r.value) for r in result.rejections] == [
        ("ADDRESS_POSTAL_CODE_INVALID", "address.postal_code", "66564 Ottweiler")]


def test_excel_booleans_are_yes_and_no():
    header = "Wohnungs-ID;Titel;Barrierefrei;WBS erforderlich;PLZ;Ort"
    flat = _one('W1;Wohnung;WAHR;FALSCH;66564;Ottweiler', header)
    assert (flat.barrier_free, flat.wbs_required) == (True, False)


@pytest.mark.parametrize(
    ("text", "date", "kept"),
    [("01.05.2026", dt.date(2026, 5, 1), None), ("2026-05-01", dt.date(2026, 5, 1), None),
     ("sofort", None, "sofort"), ("ab 15.05.2026", dt.date(2026, 5, 15), "ab 15.05.2026"),
     ("nach Absprache, frühestens 2026-06-01", dt.date(2026, 6, 1),
      "nach Absprache, frühestens 2026-06-01"),
     ("frei ab März 2028", dt.date(2028, 3, 1), "frei ab März 2028"),
     ("Mitte März", None, "Mitte März"), ("", None, None)],
)
def test_available_from(text, date, kept):
    header = "Wohnungs-ID;Titel;Frei ab;PLZ;Ort"
    flat = _one(f'W1;Wohnung;"{text}";66564;Ottweiler', header)
    assert (flat.available_from, flat.available_from_text) == (date, kept)


def test_missing_required_cells_name_the_field():
    result = parse(b"Wohnungs-ID;Titel;PLZ;Ort;Zimmer\n;;;;2\n", PARTNER)
    assert result.records == []
    assert {(r.rule, r.field) for r in result.rejections} == {
        ("RECORD_FIELD_MISSING", "source_id"),
        ("RECORD_FIELD_MISSING", "title"),
        ("RECORD_FIELD_MISSING", "address.postal_code"),
        ("RECORD_FIELD_MISSING", "address.city"),
    }


def test_a_second_row_of_a_rejected_id_is_a_duplicate_not_the_offer():
    """'only the first row of an id counts' (schemas/csv/housing.md) also when that row is
    rejected: the second is not published in its place."""
    result = parse("Wohnungs-ID;Titel;PLZ;Ort;Etage\n"
                   "B2;Wohnung zwei;66538;Neunkirchen;oben\n"
                   "B2;Wohnung zwei b;66538;Neunkirchen;EG\n"
                   "B3;Wohnung drei;66538;Neunkirchen;1\n".encode(), PARTNER)
    assert [flat.source_id for flat in result.records] == ["B3"]
    assert [(r.rule, r.source_id, r.line) for r in result.rejections] == [
        ("RECORD_FIELD_INVALID", "B2", 2), ("RECORD_ID_DUPLICATE", "B2", 3)]


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a housing CSV: the input is empty"),
        (b"Wohnungs-ID;Titel;Ort\n", r"required column\(s\) missing: PLZ$"),
        (b"Kurs-ID;Titel;Kursart;PLZ;Ort\n", r"required column\(s\) missing: Wohnungs-ID$"),
        (b"<openimmo><anbieter/></openimmo>", "required column.*Wohnungs-ID, Titel, PLZ, Ort"),
        (b"\xff\xfe" + "Wohnungs-ID;Titel".encode("utf-16-le")[:-1], "UTF-16 text that breaks off"),
        (b"Wohnungs-ID;Titel;PLZ;Ort\n\x81\x8d", "neither UTF-8 nor Windows-1252"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


# --------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_format_error(data):
    parse_or_refuse(parse, data, PARTNER)


@settings(max_examples=300, deadline=None)
@given(
    rows=csv_rows(
        ["66564", "Ottweiler", "Wohnung", "Garage", "2,5", "68,5 m²", "520,00 €", "3 Kaltmieten",
         "3 KM", "sofort", "ab 01.05.2026", "31.06.2026", "EG", "DG", "ja"]
    ),
    delimiter=DELIMITERS,
    encoding=ENCODINGS,
)
def test_template_shaped_input_only_raises_format_error(rows, delimiter, encoding):
    columns = ["Wohnungs-ID", "Titel", "Art", "Zimmer", "Wohnflaeche", "Kaltmiete", "Kaution",
               "Frei ab", "Etage", "PLZ", "Ort"]
    parse_or_refuse(parse, template_csv(columns, rows, delimiter, encoding), PARTNER)


def test_an_attic_flat_without_storey_number_is_published_with_a_warning():
    """'DG' names the top storey without its number: the flat is published without a floor
    and the partner is told; the side of the landing after a storey does not count."""
    data = ("Wohnungs-ID;Titel;Etage;PLZ;Ort\n"
            "W-1;Dachwohnung;DG;66589;Merchweiler\n"
            "W-2;Wohnung links;1. OG links;66589;Merchweiler\n"
            "W-3;Dachgeschoss rechts;Dachgeschoss rechts;66589;Merchweiler\n"
            "W-4;Wohnung;oben;66589;Merchweiler\n").encode()
    result = parse(data, "wbg-x")

    assert {r.source_id: r.floor for r in result.records} == {"W-1": None, "W-2": 1, "W-3": None}
    assert [(r.source_id, r.rule, r.severity, r.field, r.value, r.line) for r in result.rejections] == [
        ("W-1", "HOUSING_FLOOR_WITHOUT_NUMBER", "warning", "floor", "DG", 2),
        ("W-3", "HOUSING_FLOOR_WITHOUT_NUMBER", "warning", "floor", "Dachgeschoss rechts", 4),
        ("W-4", "RECORD_FIELD_INVALID", "error", "floor", "oben", 5),
    ]
    assert result.items == 4


def test_a_municipality_key_whose_leading_zero_a_spreadsheet_dropped_gets_it_back():
    """Excel saves the AGS 05170024 (Moers) as 5170024: the postal code 47441 lies in NRW (05),
    so the key is 05170024, with a note. A Saarland key that lost a digit (1004311 at 66578,
    Schiffweiler) would be 01004311, Schleswig-Holstein: it stays an error. Where the postal
    code's state is not known (21680 Stade: zone 21 crosses a state border), nothing is
    guessed."""
    data = ("Wohnungs-ID;Titel;PLZ;Ort;AGS\n"
            "W-1;Wohnung in Moers;47441;Moers;5170024\n"
            "W-2;Wohnung in Schiffweiler;66578;Schiffweiler;1004311\n"
            "W-3;Wohnung in Stade;21680;Stade;3359038\n"
            "W-4;Wohnung in Moers;47441;Moers;05170024\n").encode()
    result = parse(data, "wbg-x")
    assert {r.source_id: r.address.municipality_key for r in result.records} == {
        "W-1": "05170024", "W-4": "05170024"}
    assert [(r.source_id, r.rule, r.severity, r.value, r.line) for r in result.rejections] == [
        ("W-1", "ADDRESS_AGS_ZERO_ADDED", "warning", "5170024", 2),
        ("W-2", "RECORD_FIELD_INVALID", "error", "1004311", 3),
        ("W-3", "RECORD_FIELD_INVALID", "error", "3359038", 4),
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_excel_unicode_text_is_read(encoding):
    """Excel's 'Unicode-Text (*.txt)': UTF-16, tab-separated, with a BOM (or, from other
    programs, without one)."""
    data = ("Wohnungs-ID\tTitel\tPLZ\tOrt\r\nW-1\tWohnung in Saarbrücken\t66111\tSaarbrücken\r\n"
            .encode(encoding))
    (flat,) = parse(data, PARTNER).records
    assert (flat.source_id, flat.title, flat.address.city) == ("W-1", "Wohnung in Saarbrücken", "Saarbrücken")


def test_a_postal_code_whose_leading_zero_a_spreadsheet_dropped_gets_it_back():
    """Excel reads a PLZ column as numbers and saves 01099 as 1099: the flats of an eastern
    partner are published under 01099, with a note that names the row; three digits stay an
    error. A file with codes that start with 2 to 9 (Saarland) or with a zero kept: four
    digits there lost a digit, not a zero, and stay an error."""
    east = ("Wohnungs-ID;Titel;PLZ;Ort\n"
            "W-1;2-Zimmer-Wohnung;1099;Dresden\n"
            "W-2;Wohnung in Cottbus;3046;Cottbus\n"
            "W-3;Wohnung in Potsdam;14467;Potsdam\n"
            "W-4;Zimmer;109;Dresden\n").encode()
    result = parse(east, "wbg-dd")
    assert {r.source_id: r.address.postal_code for r in result.records} == {
        "W-1": "01099", "W-2": "03046", "W-3": "14467"}
    assert [(r.source_id, r.rule, r.severity, r.value, r.line) for r in result.rejections] == [
        ("W-1", "ADDRESS_POSTAL_CODE_ZERO_ADDED", "warning", "1099", 2),
        ("W-2", "ADDRESS_POSTAL_CODE_ZERO_ADDED", "warning", "3046", 3),
        ("W-4", "ADDRESS_POSTAL_CODE_INVALID", "error", "109", 5),
    ]
    assert result.items == 4
    for other in ("66538;Neunkirchen", "01159;Dresden"):
        typo = f"Wohnungs-ID;Titel;PLZ;Ort\nW-1;Wohnung;{other}\nW-2;Wohnung;6653;Neunkirchen\n".encode()
        result = parse(typo, "wbg-x")
        assert [r.source_id for r in result.records] == ["W-1"]
        assert [(r.source_id, r.rule) for r in result.rejections] == [("W-2", "ADDRESS_POSTAL_CODE_INVALID")]


def test_the_usual_other_names_of_columns_are_read_as_the_template_columns():
    """Housing companies' exports name their columns their own way: 'Wohnungs-Nr.',
    'Postleitzahl', 'Miete', 'Zi.', a house number in a column of its own."""
    data = ("Wohnungs-Nr.;Bezeichnung;Straße;Hausnr.;Postleitzahl;Stadt;Miete;Fläche;Zi.;WBS;"
            "Telefonnummer;Ansprechpartner;Kontakt öffentlich\n"
            "W1;2-Zimmer-Wohnung;Hauptstraße;12;66538;Neunkirchen;450;55;2;ja;06821 12345;"
            "Herr Meier;ja\n").encode()
    result = parse(data, PARTNER)
    assert result.rejections == []
    flat = result.records[0]
    assert (flat.source_id, flat.title, flat.address.street, flat.address.house_number,
            flat.address.postal_code, flat.address.city) == (
        "W1", "2-Zimmer-Wohnung", "Hauptstraße", "12", "66538", "Neunkirchen")
    assert (flat.cold_rent, flat.living_area, flat.rooms, flat.wbs_required) == (450.0, 55.0, 2.0, True)
    assert (flat.contact.name, flat.contact.phone, flat.contact.public) == ("Herr Meier", "06821 12345", True)


def test_the_template_name_wins_over_another_name_of_the_same_column():
    data = ("Wohnungs-ID;Titel;Bezeichnung;PLZ;Ort;Straße;Hausnummer\n"
            "W1;Wohnung am Markt;Objekt 7;66538;Neunkirchen;Markt 3;9\n").encode()
    result = parse(data, PARTNER)
    flat = result.records[0]
    assert flat.title == "Wohnung am Markt"
    assert (flat.address.street, flat.address.house_number) == ("Markt", "3")  # the cell's own
    # the other name not read is said, with the column read for it
    assert [(r.rule, r.value, r.field) for r in result.rejections] == [
        ("CSV_COLUMN_REPEATED", "C 'Bezeichnung'", "B 'Titel'")]


@pytest.mark.parametrize("header, read, passed", [
    ("Telefon;Telefon", "E 'Telefon'", "F 'Telefon'"),  # the same name twice: the first
    ("Telefonnummer;Telefon", "F 'Telefon'", "E 'Telefonnummer'"),  # the template's name
    ("Tel.;Telefonnummer", "E 'Tel.'", "F 'Telefonnummer'"),  # two other names: the first
])
def test_a_column_twice_is_a_note_naming_the_one_passed_over_and_the_one_read(header, read, passed):
    """A partner with two phone columns learns which one the hub took, instead of one of
    them silently not being read."""
    data = (HEADER + f";{header}\nW1;Wohnung;66538;Neunkirchen;06821 111;06821 222\n").encode("cp1252")
    result = parse(data, PARTNER)
    assert result.records[0].contact.phone == ("06821 111" if read.startswith("E") else "06821 222")
    assert [(r.rule, r.severity, r.value, r.field, r.line) for r in result.rejections] == [
        ("CSV_COLUMN_REPEATED", "warning", passed, read, 1)]
    report = build_report(SimpleNamespace(id="p", name="Wohnbau"), "housing",
                          {"started_at": dt.datetime(2026, 11, 3, 9, tzinfo=dt.timezone.utc),
                           "status": "ok", "items": 1, "accepted": 1},
                          result.rejections, "de", trial=True, fmt="csv-housing")
    assert report.counts.warnings == 0
    assert [note.message for note in report.notes] == [
        f"Spalte {passed} wird nicht gelesen: sie meint dasselbe wie Spalte {read}, deren Inhalt "
        "übernommen wird."]


@pytest.mark.parametrize("above", ["Wohnungsangebote Stand 11/2026;;;\n;;;\n", "Wohnungsangebote\n\n"])
def test_a_heading_above_the_header_is_passed_over_with_a_note(above):
    data = (above + HEADER + "\nW1;Wohnung;66538;Neunkirchen\n").encode()
    result = parse(data, PARTNER)
    assert [r.source_id for r in result.records] == ["W1"]
    assert [(r.rule, r.severity, r.value, r.line) for r in result.rejections] == [
        ("CSV_HEADER_NOT_FIRST", "warning", "3", 3)]
    assert result.records[0].address.postal_code == "66538"


def test_a_header_row_further_down_that_lacks_a_column_is_named_in_the_refusal():
    data = "Wohnungsangebote\nWohnungs-ID;Name;PLZ;Ort\nW1;Wohnung;66538;Neunkirchen\n".encode()
    with pytest.raises(FormatError, match=r"missing in line 2 \(the row most like a header\): Titel$"):
        parse(data, PARTNER)


def test_a_comma_before_three_digits_is_a_thousands_separator_with_a_warning():
    """'1,200' as an English spreadsheet writes 1200: it was read as 1.20 euros and published."""
    data = (HEADER + ";Kaltmiete;Kaution;Nebenkosten\n"
            "W1;Wohnung;66538;Neunkirchen;\"1,200\";\"2,400 €\";\"150,50\"\n").encode()
    result = parse(data, PARTNER)
    flat = result.records[0]
    assert (flat.cold_rent, flat.deposit, flat.service_charges) == (1200.0, 2400.0, 150.5)
    assert [(r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("AMOUNT_COMMA_THOUSANDS", "warning", "cold_rent", "1,200"),
        ("AMOUNT_COMMA_THOUSANDS", "warning", "deposit", "2,400 €")]


def test_a_day_without_its_year_and_a_change_date_in_words_do_not_reject_the_flat():
    data = (HEADER + ";Frei ab;Geändert am\n"
            "W1;Wohnung;66538;Neunkirchen;01.03.;gestern\n"
            "W2;Wohnung;66538;Neunkirchen;01.03.2027;30.11.2026 09:30\n").encode()
    result = parse(data, PARTNER)
    first, second = result.records
    assert (first.available_from, first.available_from_text, first.updated_at) == (None, "01.03.", None)
    assert second.available_from == dt.date(2027, 3, 1) and second.updated_at is not None
    assert [(r.source_id, r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("W1", "CHANGED_AT_UNREADABLE", "warning", "updated_at", "gestern")]


def test_excel_for_mac_csv_in_mac_roman(fixtures_dir):
    """Excel for Mac saves 'Comma Separated Values (.csv)' in Mac Roman with CR line ends:
    read as Windows-1252 the flats were published as 'Schšne 3-Zimmer-Wohnung fŸr Familien'
    at 'Kšnigstra§e 14' (no check caught it), a rent of '290 Û' refused. Its umlauts now say
    which encoding it is."""
    data = (fixtures_dir / "formats" / "housing_excel_mac_roman.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse(data, PARTNER)

    assert result.rejections == []
    family, room = result.records
    assert family.title == "Schöne 3-Zimmer-Wohnung für Familien"
    assert (family.address.street, family.address.house_number) == ("Königstraße", "14")
    assert family.description == "Ruhige Lage, Nähe Zoo.\nÖfen erneuert, Bäder gefliest."
    assert (family.living_area, family.cold_rent, family.deposit) == (74.5, 560, 1680)
    assert family.available_from == dt.date(2027, 3, 1)
    assert room.title == "Zimmer in WG – Süd"
    assert (room.cold_rent, room.deposit, room.address.street) == (290, 0, "Am Grünen Weg")


def test_windows_1252_with_a_czech_name_stays_windows_1252():
    data = (HEADER + "\nW1;Wohnung für Šimek;66538;Neunkirchen\n").encode("cp1252")
    (flat,) = parse(data, PARTNER).records
    assert flat.title == "Wohnung für Šimek"


def test_line_breaks_inside_a_cell_are_newlines_and_a_sep_line_ends_at_a_cr():
    crlf = (HEADER + ';Beschreibung\r\nW1;Wohnung;66538;Neunkirchen;"Balkon\r\nKeller"\r\n').encode()
    (flat,) = parse(crlf, PARTNER).records
    assert flat.description == "Balkon\nKeller"
    cr = b'sep=,\rWohnungs-ID,Titel,PLZ,Ort\rW1,"Wohnung; hell",66538,Neunkirchen\r'
    result = parse(cr, PARTNER)
    assert [(flat.source_id, flat.title) for flat in result.records] == [("W1", "Wohnung; hell")]
    assert result.rejections == []  # no 'the column names are in line 2'


def test_a_spreadsheets_error_values_are_named_not_published():
    """A template with formulas (Warmmiete = Kaltmiete + Nebenkosten, a look-up for the PLZ)
    saves their errors as they show: '#WERT!' as a rent was refused as 'an invalid value', a
    '########' (a date column too narrow when Excel saved it) was published as the text of
    'Frei ab'. Now such a cell is empty, and the partner is told which column shows which
    error and what to do."""
    data = (HEADER + ";Kaltmiete;Frei ab;Warmmiete\n"
            "W1;Wohnung;66538;Neunkirchen;450;########;#WERT!\n"
            "W2;Wohnung;#NV;Neunkirchen;500;sofort;Err:502\n").encode()
    result = parse(data, PARTNER)

    (flat,) = result.records
    assert (flat.source_id, flat.cold_rent, flat.warm_rent) == ("W1", 450, None)
    assert (flat.available_from, flat.available_from_text) == (None, None)
    assert [(r.rule, r.severity, r.source_id, r.field, r.value, r.line) for r in result.rejections] == [
        ("CSV_CELL_ERROR", "warning", "W1", "Frei ab", "########", 2),
        ("CSV_CELL_ERROR", "warning", "W1", "Warmmiete", "#WERT!", 2),
        ("RECORD_FIELD_MISSING", "error", "W2", "address.postal_code", None, 3),
        ("CSV_CELL_ERROR", "warning", "W2", "PLZ", "#NV", 3),
        ("CSV_CELL_ERROR", "warning", "W2", "Warmmiete", "Err:502", 3),
    ]
    assert result.rejections[0].message == (
        "In der Spalte 'Frei ab' steht '########', ein Fehlerwert der Tabellenkalkulation statt "
        "eines Werts; er wird nicht übernommen.")


def test_a_template_that_stars_its_required_columns_is_read():
    """'Wohnungs-ID*;Titel *;PLZ*;Ort*' (a form marking what is required) was refused whole:
    'required column(s) missing: Wohnungs-ID, Titel, PLZ, Ort', the columns the file had."""
    data = "Wohnungs-ID*;Titel *;PLZ*;Ort*;Kaltmiete:\nW1;Wohnung;66538;Neunkirchen;450\n".encode()
    result = parse(data, PARTNER)
    assert result.rejections == []
    (flat,) = result.records
    assert (flat.source_id, flat.title, flat.address.postal_code, flat.cold_rent) == (
        "W1", "Wohnung", "66538", 450)


def test_values_an_export_wrote_as_excel_text_formulas():
    """Exports made for Excel write ="01067" so that Excel keeps the leading zero: the id was
    read as '="W1"' and the postal code refused as '="01067"'."""
    data = (HEADER + ';Beschreibung\n="W1";Wohnung;="01067";Dresden;"=""Altbau"", hell"\n').encode()
    (flat,) = parse(data, PARTNER).records
    assert (flat.source_id, flat.address.postal_code) == ("W1", "01067")
    assert flat.description == '="Altbau", hell'  # a text that only starts so stays as written


def test_a_total_and_a_remark_below_the_offers_are_notes_not_rejected_offers():
    """A spreadsheet's table with a total and 'Stand: ...' below it: both were rejected as
    offers without id, title or PLZ (six errors for two flats, and in the rejection share).
    Now each is a note on its line; a row below them that is an offer still counts as one."""
    data = (HEADER + ";Kaltmiete\nW1;Wohnung;66538;Neunkirchen;450\nW2;Wohnung 2;66538;Neunkirchen;500\n"
            ";;;Summe;950\n;;;;\nStand: 30.11.2026;;;;\n").encode()
    result = parse(data, PARTNER)
    assert [flat.source_id for flat in result.records] == ["W1", "W2"]
    assert result.items == 2
    assert [(r.rule, r.severity, r.value, r.line) for r in result.rejections] == [
        ("CSV_ROW_AFTER_OFFERS", "warning", "4", 4), ("CSV_ROW_AFTER_OFFERS", "warning", "6", 6)]
    # an offer lacking its title below the last full one is still an offer, rejected as such
    data = (HEADER + ";Kaltmiete\nW1;Wohnung;66538;Neunkirchen;450\nW3;;66538;Neunkirchen;500\n").encode()
    assert [(r.rule, r.field) for r in parse(data, PARTNER).rejections] == [
        ("RECORD_FIELD_MISSING", "title")]
