"""schema.org accommodations (JSON-LD document or listing page) -> HousingVacancy.

Landlords and housing companies mark up their listings for search engines; the hub reads
that markup from a JSON-LD file or from the HTML page itself (:mod:`hub.formats.jsonld`).

Every ``Apartment``, ``House``, ``SingleFamilyHouse``, ``Room``, ``HotelRoom``, ``Suite`` or
``Accommodation`` node is one item, also when an ``Offer`` (``itemOffered``) or a
``RealEstateListing`` (``about``, ``mainEntity``) wraps it, embedded or by ``@id``. The wrappers
supply what the accommodation itself cannot carry: price, availability, listing page.

Mapping:

- property_type from the type: Apartment -> apartment, House / SingleFamilyHouse -> house,
  Room / HotelRoom -> room, Suite -> other, Accommodation -> its ``accommodationCategory``
  (Wohnung, Haus, Zimmer, ...) or other;
- title ``name``, ``description`` (HTML stripped), of the accommodation, else of a wrapper;
- ``numberOfRooms`` (number, '3,5' or ``QuantitativeValue``) -> rooms;
- ``floorSize`` (``QuantitativeValue``; unitCode MTK or unit text m² / qm -> square metres as
  they are, FTK / sq ft -> converted; no unit: square metres; another unit: rejected) ->
  living_area;
- ``address`` (``PostalAddress`` or text), else that of the ``containedInPlace`` (or a place that
  ``containsPlace`` it); ``geo`` or ``latitude``/``longitude`` -> geo;
- ``occupancy`` (``maxValue``, else ``value``) -> max_persons; ``floorLevel`` -> floor when it
  reads as a storey ('5', 'EG', '2. OG'; other text is dropped, schema.org allows it);
- ``amenityFeature`` (``LocationFeatureSpecification``): 'barrierefrei' / 'barrier-free' /
  'wheelchair accessible' / 'rollstuhlgerecht' -> barrier_free, 'WBS' /
  'Wohnberechtigungsschein' -> wbs_required, with the feature's ``value`` (no value: true);
- ``offers`` (of a wrapping ``Offer``, of the accommodation, of a wrapping listing) with
  ``price``/``priceSpecification`` in EUR or without currency, per month (``unitCode`` MON,
  unit text month/Monat, ``referenceQuantity``, ``billingDuration``; no unit: per month):
  the price specifications are told apart by name - Kaltmiete / Nettokaltmiete / rent ->
  cold_rent, Warmmiete / Gesamtmiete / warm -> warm_rent, Nebenkosten / service charges ->
  service_charges, Heizkosten -> heating_costs, Kaution / deposit -> deposit (any period);
  an unnamed price is the cold rent unless its offer is named warm. Sales
  (``businessFunction`` Sell) and prices per day, week or year are left out (an offer's own
  price too when a price specification gives that amount for another period; with no rent
  left, the warning HOUSING_RENT_PERIOD_NOT_MONTHLY names the unit); an
  accommodation whose offers all sell is rejected (HOUSING_NOT_FOR_RENT);
- ``availabilityStarts`` of an offer -> available_from (a date) or available_from_text;
- url: the wrapper's (the listing page), else the accommodation's; organisation: the offer's
  ``offeredBy``/``seller``, else the listing's ``provider``/``author``; ``dateModified`` ->
  updated_at. ``accommodationFloorPlan`` and ``petsAllowed`` are not read.

Source id: ``identifier`` of the accommodation, else of a wrapper (nearest first); else the
``@id`` of the accommodation, else of a wrapper; else the ``url`` likewise.
"""

from __future__ import annotations

import re

from hub.formats import jsonld, values
from hub.formats.base import Format, Invalid, ParseResult, build_record, drop_duplicate_ids
from hub.models import HousingVacancy
from hub.quality.rules import reject

# most specific first: a node typed ["Accommodation", "Apartment"] is an apartment
_PROPERTY_TYPES = (
    ("SingleFamilyHouse", "house"),
    ("House", "house"),
    ("Apartment", "apartment"),
    ("Room", "room"),
    ("HotelRoom", "room"),
    ("Suite", "other"),
    ("Accommodation", None),  # from accommodationCategory
)
TYPES = {name for name, _ in _PROPERTY_TYPES}
_WRAPPERS = {"Offer", "AggregateOffer", "RealEstateListing"}
# Offer.itemOffered, RealEstateListing.about / .mainEntity, RealEstateListing.offers (an Offer)
_WRAPPING_KEYS = {"itemOffered", "about", "mainEntity", "offers"}

_CATEGORIES = (
    (re.compile(r"(?i)zimmer|(?<!\w)(?:room|wg)(?!\w)"), "room"),
    (re.compile(r"(?i)wohnung|apartment|appartement|flat|maisonette|penthouse"), "apartment"),
    (re.compile(r"(?i)haus|house|bungalow|villa"), "house"),
)

_SQUARE_METRES = {"MTK", "M²", "M2", "QM", "SQM", "SQ_M", "QUADRATMETER", "SQUARE_METRE",
                  "SQUARE_METER", "SQUARE_METRES", "SQUARE_METERS"}
_SQUARE_FEET = {"FTK", "FT²", "FT2", "SQFT", "SQ_FT", "SQUARE_FOOT", "SQUARE_FEET", "SQF"}
_SQUARE_FOOT_IN_M2 = 0.09290304

_BARRIER_FREE = re.compile(
    r"(?i)barrierefrei|barrier[- ]?free|wheelchair[- ]accessible|rollstuhlgerecht"
)
_WBS = re.compile(r"(?i)(?<!\w)wbs(?!\w)|wohnberechtigungsschein")

_EURO = {"EUR", "EURO", "€"}
_MONTHLY = {"MON", "MONTH", "MONTHLY", "PER_MONTH", "MONAT", "MONATLICH", "PRO_MONAT", "P1M",
            "MTL", "MTL."}
_PRICE_KINDS = (
    ("extra", re.compile(r"(?i)garage|stellplatz|parkplatz|parking|carport|möbel|furniture")),
    ("deposit", re.compile(r"(?i)kaution|deposit|mietsicherheit|sicherheitsleistung")),
    (
        "warm_rent",
        re.compile(
            r"(?i)(?<!\w)warm(?!\w)|warmmiete|gesamtmiete|bruttowarmmiete|all[- ]in|"
            r"inkl\.?\s*(?:neben|heiz)kosten|inklusive\s+(?:neben|heiz)kosten|"
            r"incl(?:\.|uding)\s+(?:utilities|heating|service charges)"
        ),
    ),
    ("heating_costs", re.compile(r"(?i)heizkosten|heating")),
    (
        "service_charges",
        re.compile(r"(?i)nebenkosten|betriebskosten|service charges?|utilities|additional costs"),
    ),
    ("cold_rent", re.compile(r"(?i)kalt|netto|grundmiete|miete|(?<!\w)rent")),
)
_ROOMS_WORD = re.compile(r"(?i)\s*(?:zimmer|zi\.?|rooms?)\s*$")


# --------------------------------------------------------------------------- context


def _wrappers(document: jsonld.Document, node: dict) -> list[dict]:
    """Offers and listings around the accommodation, nearest first."""
    found: list[dict] = []
    queue = [node]
    while queue and len(found) < 10:
        current = queue.pop(0)
        for parent, key in document.referrers(current):
            if (
                key in _WRAPPING_KEYS
                and jsonld.has_type(parent, _WRAPPERS)
                and parent is not node
                and all(parent is not known for known in found)
            ):
                found.append(parent)
                queue.append(parent)
    return found


def _containers(document: jsonld.Document, node: dict) -> list[dict]:
    """Places the accommodation lies in (``containedInPlace``, or ``containsPlace`` of one)."""
    found = jsonld.objects(node.get("containedInPlace"))
    found.extend(parent for parent, key in document.referrers(node) if key == "containsPlace")
    return found


def _offers(node: dict, wrappers: list[dict]) -> list[dict]:
    found: list[dict] = [wrapper for wrapper in wrappers
                         if jsonld.has_type(wrapper, {"Offer", "AggregateOffer"})]
    for holder in [node, *wrappers]:
        for offer in jsonld.objects(holder.get("offers")):
            if all(offer is not known for known in found):
                found.append(offer)
    return found


# --------------------------------------------------------------------------- field readers


def _property_type(node: dict) -> str:
    types = jsonld.types_of(node)
    for name, kind in _PROPERTY_TYPES:
        if name in types:
            if kind is not None:
                return kind
            category = " ".join(jsonld.texts(node.get("accommodationCategory")))
            for pattern, found in _CATEGORIES:
                if pattern.search(category):
                    return found
    return "other"


def _rooms(node: dict) -> object:
    amount = jsonld.quantity(node.get("numberOfRooms")).value
    if isinstance(amount, str):
        amount = _ROOMS_WORD.sub("", amount)  # "3 Zimmer"
    return values.number(amount, machine=True)


def _living_area(node: dict) -> object:
    size = jsonld.quantity(node.get("floorSize"))
    if size.value is None:
        return None
    unit = values.enum_key(size.unit) if size.unit else None
    if isinstance(size.value, str) and unit is None:
        written = size.value.strip()
        feet = re.match(r"(?i)^(.*?)\s*(?:sq\.?\s*ft\.?|ft²|ft2|square feet)$", written)
        if feet:
            area = values.number(feet.group(1), machine=True)
            return round(area * _SQUARE_FOOT_IN_M2, 2) if isinstance(area, float) else written
        return values.area(written, machine=True)  # '61.250' is 61.25 m², as JSON-LD writes it
    area = values.area(size.value, machine=True)
    if unit is None or unit in _SQUARE_METRES:
        return area
    if unit in _SQUARE_FEET:
        return round(area * _SQUARE_FOOT_IN_M2, 2) if isinstance(area, float) else area
    return Invalid(f"{size.value} {size.unit}")


def _max_persons(node: dict) -> object:
    occupancy = jsonld.quantity(node.get("occupancy"))
    return values.integer(occupancy.max if occupancy.max is not None else occupancy.value)


def _floor(node: dict) -> int | None:
    written = jsonld.text(node.get("floorLevel"))
    if written is None or len(written) > 40:
        return None
    storey = values.floor(written)
    return storey if isinstance(storey, int) and not isinstance(storey, bool) else None


def _feature(node: dict, pattern: re.Pattern) -> bool | None:
    for feature in jsonld.objects(node.get("amenityFeature")):
        name = " ".join(jsonld.texts(feature.get("name")))
        if not pattern.search(name):
            continue
        value = jsonld.first(feature.get("value"))
        if value is None:
            return True  # a feature listed without a value is there
        if isinstance(value, bool):
            return value
        answer = values.yes_no(jsonld.text(value))
        return answer if isinstance(answer, bool) else None
    return None


def _unit_keys(spec: dict) -> list[str]:
    keys: list[str] = []
    reference = jsonld.first(spec.get("referenceQuantity"))
    billing = jsonld.first(spec.get("billingDuration"))
    for holder in (spec, reference, billing):
        if not isinstance(holder, dict):
            continue
        for key in ("unitCode", "unitText"):
            found = jsonld.text(holder.get(key))
            if found:
                keys.append(values.enum_key(jsonld.type_name(found)) or "")
    if isinstance(billing, str):
        keys.append(values.enum_key(billing) or "")
    return keys


def _monthly(spec: dict) -> bool:
    keys = _unit_keys(spec)
    return not keys or any(key in _MONTHLY for key in keys)


def _price_kind(label: str, named: bool) -> str | None:
    """Which amount a price is. ``named``: ``label`` is the price specification's own name, and
    a name the hub does not know ('Stellplatz') keeps the price out; otherwise (an offer's
    name, no name at all) a price is the cold rent unless it says warm."""
    for kind, pattern in _PRICE_KINDS:
        if pattern.search(label) and (named or kind in {"warm_rent", "extra"}):
            return None if kind == "extra" else kind
    return None if named else "cold_rent"


def _is_sale(offer: dict) -> bool:
    function = " ".join(jsonld.texts(offer.get("businessFunction")))
    return bool(re.search(r"(?i)sell", function))


def _specs(offer: dict) -> list[dict]:
    found: list[dict] = []
    for spec in jsonld.objects(offer.get("priceSpecification")):
        components = jsonld.objects(spec.get("priceComponent"))
        found.extend(components or [spec])
    return found


def _amount(price: object) -> object:
    """A price as an amount, to tell the same price written as text and as a number apart
    from another ('250' and 250 are one); None stays None."""
    return None if price is None else values.money(jsonld.first(price))


def _prices(offers: list[dict]) -> dict:
    found: dict = {}
    for offer in offers:
        if _is_sale(offer):
            continue
        currency = jsonld.text(offer.get("priceCurrency"))
        offer_label = " ".join(
            jsonld.texts(offer.get("name")) + jsonld.texts(offer.get("description"))
        )
        entries: list[tuple[dict, str, bool, str | None]] = []
        for spec in _specs(offer):
            name = " ".join(jsonld.texts(spec.get("name")))
            label = name or " ".join(jsonld.texts(spec.get("description")) + [offer_label])
            entries.append(
                (spec, label, bool(name), jsonld.text(spec.get("priceCurrency")) or currency)
            )
        own = _amount(offer.get("price"))
        if not any(_amount(spec.get("price")) == own and not _monthly(spec)
                   for spec in _specs(offer)):  # 5400 a YEAR is no monthly rent ('5400' too)
            entries.append((offer, offer_label, False, currency))
        for holder, label, named, unit in entries:
            amount = holder.get("price")
            if amount is None:
                amount = holder.get("lowPrice")
            if amount is None:
                continue
            if unit is not None and unit.strip().upper() not in _EURO:
                continue  # the canonical amounts are in euro
            kind = _price_kind(label, named)
            if kind is None or (kind != "deposit" and not _monthly(holder)):
                continue
            found.setdefault(kind, values.money(jsonld.first(amount)))
    return found


def _other_period(offers: list[dict]) -> str | None:
    """The unit of a rent left out for being per day, week or year ('WEE'), as written; None
    where no such price is given."""
    for offer in offers:
        if _is_sale(offer):
            continue
        for holder in [*_specs(offer), offer]:
            if holder.get("price") is None and holder.get("lowPrice") is None:
                continue
            if not _monthly(holder):
                for key in ("unitCode", "unitText"):
                    written = jsonld.text(holder.get(key))
                    if written:
                        return written
                return _unit_keys(holder)[0]
    return None


def _availability(offers: list[dict]) -> dict:
    for offer in offers:
        raw = jsonld.text(offer.get("availabilityStarts"))
        if raw is None:
            continue
        day = jsonld.date(raw)
        if jsonld.is_date(day):
            return {"available_from": day}
        return {"available_from": values.date_in_text(raw), "available_from_text": raw}
    return {}


def _organisation(offers: list[dict], wrappers: list[dict]) -> str | None:
    for offer in offers:
        found = jsonld.organisation(offer.get("offeredBy")) or jsonld.organisation(
            offer.get("seller"))
        if found:
            return found
    for wrapper in wrappers:
        found = jsonld.organisation(wrapper.get("provider")) or jsonld.organisation(
            wrapper.get("author"))
        if found:
            return found
    return None


def _first_of(nodes: list[dict], read) -> object:
    for node in nodes:
        found = read(node)
        if found is not None:
            return found
    return None


def fields(document: jsonld.Document, node: dict, partner_id: str) -> dict:
    wrappers = _wrappers(document, node)
    offers = _offers(node, wrappers)
    places = [node, *_containers(document, node)]
    address = _first_of(places, lambda place: jsonld.address(place.get("address")) or None)
    geo = _first_of(places, lambda place: jsonld.geo(place.get("geo")) or jsonld.geo(place))
    both = [node, *wrappers]
    return {
        "partner_id": partner_id,
        "source_id": jsonld.source_id(node, *wrappers),
        "title": _first_of(both, lambda item: jsonld.line(item.get("name"))),
        "organisation": _organisation(offers, wrappers),
        "description": _first_of(both, lambda item: jsonld.plain_text(item.get("description"))),
        "address": address or {},
        "geo": geo,
        "url": _first_of([*wrappers, node], lambda item: jsonld.url(item.get("url"))),
        "updated_at": _first_of(both, lambda item: _optional_timestamp(item.get("dateModified"))),
        "property_type": _property_type(node),
        "rooms": _rooms(node),
        "living_area": _living_area(node),
        "max_persons": _max_persons(node),
        "floor": _floor(node),
        "barrier_free": _feature(node, _BARRIER_FREE),
        "wbs_required": _feature(node, _WBS),
        **_prices(offers),
        **_availability(offers),
    }


def _optional_timestamp(value: object) -> object:
    read = jsonld.timestamp(value)
    return None if isinstance(read, str) else read


# --------------------------------------------------------------------------- parse


def parse(data: bytes, partner_id: str) -> ParseResult:
    document = jsonld.load(data)
    found = document.find(TYPES)
    if not found:
        raise document.missing("accommodation (Apartment, House, Room, Accommodation, ...)")
    result = ParseResult()
    domain = HousingVacancy.domain.value
    for problem in document.problems:
        result.reject_item("RECORD_UNREADABLE", partner_id=partner_id, domain=domain,
                           value=problem)
    for item in found:
        offers = _offers(item.node, _wrappers(document, item.node))
        refused = None
        if offers and all(_is_sale(offer) for offer in offers):
            refused = ("HOUSING_NOT_FOR_RENT", "businessFunction Sell")
        record = build_record(HousingVacancy, fields(document, item.node, partner_id), result,
                              refused=refused)
        unit = _other_period(offers) if record is not None else None
        if unit and record.cold_rent is None and record.warm_rent is None:
            result.rejections.append(reject(
                "HOUSING_RENT_PERIOD_NOT_MONTHLY", partner_id=partner_id, domain=domain,
                source_id=record.source_id, field="cold_rent", value=unit, title=record.title))
    return drop_duplicate_ids(result)


FORMAT = Format(
    name="schemaorg-accommodation",
    domain="housing",
    description=(
        "schema.org Apartment, House, Room or Accommodation (also in an Offer or "
        'RealEstateListing) as JSON-LD: a .jsonld document or a listing page with <script '
        'type="application/ld+json">'
    ),
    parse=parse,
    # the id is the field partners most often leave out; the report names it as they do
    field_names={"source_id": "identifier / @id / url"},
)
