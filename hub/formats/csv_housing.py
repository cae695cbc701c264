"""The hub's CSV template for housing vacancies of municipalities and small landlords ->
HousingVacancy.

Specified in ``schemas/csv/housing.md``; read like every hub template
(``hub.formats.csvtemplate``): ``;`` or ``,``, UTF-8 (with or without BOM) or Windows-1252,
loosely matched German headers, one flat, house or room per row.
"""

from __future__ import annotations

import re

from hub.formats.base import Format
from hub.formats.csvtemplate import COMMON_COLUMNS, Cells, CsvTemplate, common_fields, field_names
from hub.formats.values import (
    NO_WORDS,
    ON_REQUEST,
    YES_WORDS,
    area,
    choice,
    date_in_text,
    date_value,
    deposit,
    deposit_in_rents,
    floor,
    integer,
    money,
    rooms,
    top_floor,
    yes_no,
)
from hub.models import HousingVacancy

COLUMNS = {
    "wohnungsid": "Wohnungs-ID",
    "titel": "Titel",
    "vermieter": "Vermieter",
    "art": "Art",
    "zimmer": "Zimmer",
    "wohnflaeche": "Wohnflaeche",
    "kaltmiete": "Kaltmiete",
    "nebenkosten": "Nebenkosten",
    "heizkosten": "Heizkosten",
    "warmmiete": "Warmmiete",
    "kaution": "Kaution",
    "freiab": "Frei ab",
    "wbserforderlich": "WBS erforderlich",
    "barrierefrei": "Barrierefrei",
    "maxpersonen": "Max. Personen",
    "etage": "Etage",
    **COMMON_COLUMNS,
}
REQUIRED = ("wohnungsid", "titel", "plz", "ort")

# other names spreadsheets give the template's columns (normalised; see csvtemplate.COMMON_ALIASES)
ALIASES = {
    **dict.fromkeys(("wohnungsnr", "wohnungsnummer", "objektnr", "objektnummer", "objektid"),
                    "wohnungsid"),
    **dict.fromkeys(("objekttitel", "objektbezeichnung"), "titel"),
    **dict.fromkeys(("eigentuemer", "anbieter", "wohnungsgesellschaft"), "vermieter"),
    **dict.fromkeys(("objektart", "wohnungsart", "typ"), "art"),
    **dict.fromkeys(("zi", "zimmeranzahl", "anzahlzimmer", "raeume"), "zimmer"),
    **dict.fromkeys(("flaeche", "groesse", "qm", "m2", "m²"), "wohnflaeche"),
    **dict.fromkeys(("miete", "nettokaltmiete", "grundmiete"), "kaltmiete"),
    **dict.fromkeys(("nk", "betriebskosten", "nebenkostenvorauszahlung"), "nebenkosten"),
    **dict.fromkeys(("hk", "heizkostenvorauszahlung"), "heizkosten"),
    **dict.fromkeys(("gesamtmiete", "bruttowarmmiete"), "warmmiete"),
    **dict.fromkeys(("mietsicherheit",), "kaution"),
    **dict.fromkeys(("verfuegbarab", "bezugsfrei", "bezugsfreiab", "bezug"), "freiab"),
    **dict.fromkeys(("wbs", "wohnberechtigungsschein", "wbsnoetig", "wbsbenoetigt"),
                    "wbserforderlich"),
    **dict.fromkeys(("barrierefreiheit",), "barrierefrei"),
    **dict.fromkeys(("personen", "personenanzahl", "maxpersonenanzahl", "maximalepersonen"),
                    "maxpersonen"),
    **dict.fromkeys(("stockwerk", "geschoss"), "etage"),
}

PROPERTY_TYPES = {
    "wohnung": "apartment",
    "haus": "house",
    "zimmer": "room",
    "wg-zimmer": "room",
    "sonstiges": "other",
    # as listings shorten them
    "whg.": "apartment",
    "whg": "apartment",
    "etw": "apartment",
    "studio": "apartment",
    "efh": "house",
    "dhh": "house",
    "rh": "house",
    "reh": "house",
    "wohnheimplatz": "room",
    "gemeinschaftsunterkunft": "other",
}
# what follows the kind without changing it: 'Wohnung (Altbau)', 'Wohnung, möbliert'
_KIND_REMARK = re.compile(r"\s*(?:\([^()]*\)|,.*)$")
# what landlords write instead, checked in this order: 'Einzimmerwohnung', 'Maisonette',
# 'Reihenhaus', 'Doppelhaushälfte', 'Zimmer in WG'
# 'Zimmer in einer Wohnung' is a room: a text that begins with the room is one
_PROPERTY_WORDS = (
    ("room", re.compile(r"(?i)^(?:zimmer|wg)\b")),
    ("apartment", re.compile(r"(?i)wohnung$|^(?:apartment|appartement|maisonette|penthouse|loft)")),
    ("house", re.compile(r"(?i)(?:haus|haushälfte)$|^(?:bungalow|villa)\b")),
    ("room", re.compile(r"(?i)zimmer$")),
)
# 'WBS erforderlich: WBS' / 'mit WBS' / 'ohne WBS'
_WBS_YES = YES_WORDS | {"wbs", "mit wbs", "wbs erforderlich", "wbs nötig", "wbs notwendig",
                        "nur mit wbs", "wbs-pflichtig", "wbs pflichtig", "öffentlich gefördert",
                        "sozialwohnung", "mit wohnberechtigungsschein", "wohnberechtigungsschein",
                        "wohnberechtigungsschein erforderlich", "nur mit wohnberechtigungsschein"}
# Barrierefrei: wheelchair access is barrier-free; low-barrier ('barrierearm', 'ebenerdig',
# 'Aufzug') is not known to be: no answer, the flat is published without it
_BARRIER_FREE_YES = YES_WORDS | {"rollstuhlgerecht", "rollstuhlgeeignet", "behindertengerecht",
                                 "barrierefrei", "vollständig barrierefrei"}
_LOW_BARRIER = re.compile(r"(?i)^(?:teilweise|barrierearm|eingeschränkt|bedingt|ebenerdig|"
                          r"aufzug(?:\s+vorhanden)?|mit\s+aufzug|stufenlos(?:\s+erreichbar)?)$")
_WBS_NO = NO_WORDS | {"ohne wbs", "kein wbs", "nicht erforderlich", "kein wbs nötig",
                      "kein wbs erforderlich", "freifinanziert", "frei finanziert"}
# a WBS with its income class or the share of it: 'WBS 100', 'WBS 140', 'WBS (100)'
_WBS_CLASS = re.compile(r"(?i)^wbs\s*[-(]?\s*\d{2,3}\s*%?\s*\)?$")
# a cost included in another one ('Heizkosten: in NK enthalten'): no amount of its own
_INCLUDED = re.compile(r"(?i)^(?:inkl\.?|inklusive|enthalten|(?:in|siehe) (?:den |der )?"
                       r"(?:nk|bk|nebenkosten|betriebskosten|miete|warmmiete)"
                       r"(?: (?:enthalten|enth\.|inklusive|inkl\.))?)$")
# the most who may live there: '3', '3 Personen', 'max. 3', 'bis 3', '2-3', '2 bis 3 Pers.'
_PERSONS = re.compile(r"(?i)^(?:max\.?|maximal|bis(?:\s+zu)?)?\s*(?:(\d+)\s*(?:[-–]|bis)\s*)?(\d+)"
                      r"\s*(?:personen|person|pers\.?)?$")
# the kind of rent a Kaltmiete or Warmmiete cell names after its amount: '450 € kalt',
# '450 € (netto)', '570 € warm', '570 € inkl. NK'; the other kind in the cell stays an error
_COLD = re.compile(r"(?i)\s*\(?(?:kalt|netto|nettokalt|kaltmiete)\)?\s*$")
_WARM = re.compile(r"(?i)\s*\(?(?:warm|warmmiete|inkl\.?(?:\s*(?:nk|nebenkosten|heizung|hk|nk\s*(?:und|u\.|\+)\s*hk))?|"
                   r"inklusive)\)?\s*$")
# a rent in words: the flat is published without it (a warning, see _notes)
_RENT_IN_WORDS = re.compile(rf"(?i)^(?:(?:preis|miete)\s+)?(?:{ON_REQUEST}|nach\s+(?:wbs|einkommen)|vb|"
                            r"verhandlungsbasis|verhandelbar|siehe\s+beschreibung)$")
# 'ab 450 €': the lowest rent of the flats a listing stands for
_FROM = re.compile(r"(?i)^(?:ab|von)\s+(?=\d)")

_DATE_SHAPED = re.compile(r"^[\d.\-/ ]+$")
_DAY_WITHOUT_YEAR = re.compile(r"^\d{1,2}\.\s?\d{1,2}\.?$")


def _available(value: str | None) -> tuple[object, str | None]:
    """'01.05.2026' -> (date, None); 'sofort' -> (None, 'sofort');
    'ab 01.05.2026 nach Absprache' -> (2026-05-01, the text)."""
    if value is None:
        return None, None
    if _DAY_WITHOUT_YEAR.match(value):  # '01.03.': which year is not said; shown as written
        return None, value
    if _DATE_SHAPED.match(value):  # meant as a date: an impossible one is rejected
        return date_value(value), None
    return date_in_text(value), value


def _property_type(value: str | None) -> object:
    bare = _KIND_REMARK.sub("", value).strip() if value is not None else None
    found = choice(bare or value, PROPERTY_TYPES)
    if isinstance(found, str) and found not in PROPERTY_TYPES.values():
        for kind, pattern in _PROPERTY_WORDS:
            if pattern.search(found):
                return kind
        return value  # as written, for the rejection
    return found


def _barrier_free(value: str | None) -> object:
    if value is not None and _LOW_BARRIER.match(value):
        return None
    return yes_no(value, yes=_BARRIER_FREE_YES)


def _wbs(value: str | None) -> object:
    """'ja', 'WBS', 'WBS 140', 'nur mit WBS' -> True; 'nein', 'ohne WBS', 'freifinanziert' ->
    False."""
    if value is not None and _WBS_CLASS.match(value):
        return True
    return yes_no(value, yes=_WBS_YES, no=_WBS_NO)


def _cost(value: str | None, kind: re.Pattern | None = None) -> object:
    """A cost, or None where it is included in another one; ``kind``: see ``_rent``."""
    if value is not None and _INCLUDED.match(value):
        return None
    return _rent(value, kind) if kind is not None else money(value)


def _max_persons(value: str | None) -> object:
    """'3', '3 Personen', 'max. 3', or a range '2-3', '2 bis 3' -> its upper end (the most
    who may live there)."""
    said = _PERSONS.match(value) if value is not None else None
    if said is None:
        return integer(value)
    return max(int(said.group(2)), int(said.group(1) or 0))


def _rent(value: str | None, kind: re.Pattern) -> object:
    """A Kaltmiete (``_COLD``) or Warmmiete (``_WARM``) cell: the amount, with the word for
    its own kind of rent after it or without ('550 inkl.'), or 'ab' before it; a rent in words
    ('auf Anfrage', 'VB') -> None (a warning, see _notes)."""
    if value is None or _RENT_IN_WORDS.match(value):
        return None
    return money(kind.sub("", _FROM.sub("", value)) or value)


def _fields(cells: Cells, partner_id: str) -> dict:
    cold_rent = _rent(cells.get("kaltmiete"), _COLD)
    available, available_text = _available(cells.get("freiab"))
    return {
        **common_fields(
            cells, partner_id, id_column="wohnungsid", organisation_column="vermieter"
        ),
        "property_type": _property_type(cells.get("art")),
        "rooms": rooms(cells.get("zimmer")),
        "living_area": area(cells.get("wohnflaeche")),
        "cold_rent": cold_rent,
        # a Warmmiete below the Kaltmiete is left to the quality stage (HOUSING_RENT_INCONSISTENT)
        "warm_rent": _cost(cells.get("warmmiete"), _WARM),
        "service_charges": _cost(cells.get("nebenkosten")),
        "heating_costs": _cost(cells.get("heizkosten")),
        "deposit": deposit(cells.get("kaution"), cold_rent),
        "available_from": available,
        "available_from_text": available_text,
        "wbs_required": _wbs(cells.get("wbserforderlich")),
        "barrier_free": _barrier_free(cells.get("barrierefrei")),
        "max_persons": _max_persons(cells.get("maxpersonen")),
        # 'DG': a flat whose storey number is not known (a warning, see _notes)
        "floor": None if top_floor(cells.get("etage")) else floor(cells.get("etage")),
    }


def _notes(cells: Cells) -> list[tuple[str, str, str]]:
    notes = []
    if top_floor(cells.get("etage")):
        notes.append(("HOUSING_FLOOR_WITHOUT_NUMBER", "floor", cells["etage"]))
    for key, name in (("kaltmiete", "cold_rent"), ("warmmiete", "warm_rent")):
        if cells.get(key) is not None and _RENT_IN_WORDS.match(cells[key]):
            notes.append(("HOUSING_RENT_IN_WORDS", name, cells[key]))
    if deposit_in_rents(cells.get("kaution")) is not None \
            and not isinstance(_rent(cells.get("kaltmiete"), _COLD), float):
        notes.append(("HOUSING_DEPOSIT_WITHOUT_RENT", "deposit", cells["kaution"]))
    return notes


TEMPLATE = CsvTemplate(
    what="housing CSV",
    model=HousingVacancy,
    columns=COLUMNS,
    required=REQUIRED,
    id_column="wohnungsid",
    aliases=ALIASES,
    amounts={"kaltmiete": "cold_rent", "nebenkosten": "service_charges",
             "heizkosten": "heating_costs", "warmmiete": "warm_rent", "kaution": "deposit"},
    fields=_fields,
    notes=_notes,
)

parse = TEMPLATE.parse


FORMAT = Format(
    name="csv-housing",
    domain="housing",
    description=(
        "The hub's CSV template for housing offers of municipalities and small landlords "
        "(schemas/csv/housing.md)"
    ),
    parse=parse,
    names_are_labels=True,
    field_words={"property_type": ("Wohnung", "Haus", "Zimmer", "Sonstiges")},
    field_names=field_names(COLUMNS, "wohnungsid", "vermieter", {
        "property_type": "art",
        "rooms": "zimmer",
        "living_area": "wohnflaeche",
        "cold_rent": "kaltmiete",
        "warm_rent": "warmmiete",
        "service_charges": "nebenkosten",
        "heating_costs": "heizkosten",
        "deposit": "kaution",
        "available_from": "freiab",
        "available_from_text": "freiab",
        "wbs_required": "wbserforderlich",
        "barrier_free": "barrierefrei",
        "max_persons": "maxpersonen",
        "floor": "etage",
    }),
)
