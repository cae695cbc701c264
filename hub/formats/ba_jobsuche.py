"""BA Jobsuche (Bundesagentur fuer Arbeit) search responses -> JobPosting.

Two response shapes occur in the wild and both are read:

- v6 (``GET /pc/v6/jobs``): list key ``ergebnisliste``, id ``referenznummer``, locations in
  ``stellenlokationen[]{adresse{...}, breite, laenge}``, ``aenderungsdatum`` in local time
  without a zone;
- v4 (``GET /pc/v4/jobs``): list key ``stellenangebote``, id ``refnr``, location in
  ``arbeitsort{plz, ort, strasse, region, land, koordinaten{lat, lon}}``.

When a search has no match the list key is absent and only ``maxErgebnisse`` (0) is there:
that is an empty result, not an error.

The responses have no field for the German a job asks for; where job details give the
description, the level it names for German (``Deutschkenntnisse B1``) and a 'keine
Deutschkenntnisse erforderlich' are read from it, as in schema.org postings
(``values.german_wanted``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hub.formats.base import (
    Format,
    FormatError,
    ParseResult,
    build_record,
    drop_duplicate_ids,
    merged,
)
from hub.formats.jsondoc import kind, load_json, stream_object
from hub.formats.values import (
    as_dict,
    country_code,
    date_value,
    enum_key,
    geo_point,
    german_wanted,
    postal_code,
    split_street,
    state_name,
    text,
    timestamp,
    web_url,
)
from hub.models import JobPosting

_EMPLOYMENT = {
    "ARBEIT": "employee",
    "AUSBILDUNG": "apprenticeship",
    "PRAKTIKUM_TRAINEE": "internship",
    "SELBSTAENDIGKEIT": "self_employed",
}

_CONTRACT = {"UNBEFRISTET": "permanent", "BEFRISTET": "fixed_term"}

_SALARY_PERIOD = {"JAHRESGEHALT": "year", "MONATSGEHALT": "month", "STUNDENLOHN": "hour"}

# arbeitszeit* flag -> working times it stands for
_WORKING_TIME_FLAGS = (
    ("arbeitszeitVollzeit", ("full_time",)),
    ("arbeitszeitTeilzeitVormittag", ("part_time",)),
    ("arbeitszeitTeilzeitNachmittag", ("part_time",)),
    ("arbeitszeitTeilzeitAbend", ("part_time",)),
    ("arbeitszeitTeilzeitFlexibel", ("part_time", "flexible")),
    ("arbeitszeitSchichtNachtWochenende", ("shift",)),
)

_LIST_KEYS = ("ergebnisliste", "stellenangebote")


# --------------------------------------------------------------------------- record mapping


def _common(item: dict) -> dict:
    """Fields both shapes may carry (v4 search items carry few of them)."""
    fields: dict = {}

    working: list[str] = []
    for key, times in _WORKING_TIME_FLAGS:
        if item.get(key) is True:
            working.extend(time for time in times if time not in working)

    art = enum_key(item.get("stellenangebotsart"))
    if art is not None:
        fields["employment_type"] = _EMPLOYMENT.get(art, "other")
    if item.get("istGeringfuegigeBeschaeftigung") is True:
        fields["employment_type"] = "mini_job"
        if "mini" not in working:
            working.append("mini")
    fields["working_time"] = working

    fields["contract_duration"] = _CONTRACT.get(enum_key(item.get("vertragsdauer")) or "")
    fields["salary_min"] = item.get("gehaltsspanneVon")
    fields["salary_max"] = item.get("gehaltsspanneBis")
    fields["salary_period"] = _SALARY_PERIOD.get(enum_key(item.get("verguetungsangabe")) or "")
    fields["remote_possible"] = item.get("homeofficemoeglich")
    # only the details endpoint carries the text; the search lists do not
    fields["description"] = text(
        item.get("stellenangebotsBeschreibung") or item.get("stellenbeschreibung")
    )
    if fields["description"]:  # 'Deutschkenntnisse B1', 'keine Deutschkenntnisse erforderlich'
        fields.update(german_wanted([fields["description"]]))
    return fields


def _v6_fields(item: dict) -> dict:
    # several places of work: the first with a postal code ('bundesweit' entries have none)
    locations = item.get("stellenlokationen")
    places = [as_dict(place) for place in locations] if isinstance(locations, list) else []
    location = next((place for place in places if as_dict(place.get("adresse")).get("plz")),
                    places[0] if places else {})
    address = as_dict(location.get("adresse"))
    # search items carry breite/laenge beside the address, job details lat/lon inside it
    coordinates = as_dict(address.get("koordinaten"))
    lat = location.get("breite") if location.get("breite") is not None else coordinates.get("lat")
    lon = location.get("laenge") if location.get("laenge") is not None else coordinates.get("lon")
    fields = _common(item)
    fields.update(
        source_id=text(item.get("referenznummer")),
        ba_reference=text(item.get("referenznummer")),
        title=text(item.get("stellenangebotsTitel")),
        organisation=text(item.get("firma")),
        address={
            **(_street(address.get("strasse")) if not text(address.get("hausnummer")) else
               {"street": text(address.get("strasse")),
                "house_number": text(address.get("hausnummer"))}),
            "postal_code": postal_code(address.get("plz")),
            "city": text(address.get("ort")),
            "state": state_name(address.get("region")),
            "country": country_code(address.get("land")),
        },
        geo=geo_point(lat, lon),
        url=web_url(item.get("externeURL")),
        occupation=text(item.get("hauptberuf")),
        start_date=date_value(as_dict(item.get("eintrittszeitraum")).get("von")),
        published_from=date_value(as_dict(item.get("veroeffentlichungszeitraum")).get("von")),
        valid_through=date_value(as_dict(item.get("veroeffentlichungszeitraum")).get("bis")),
        updated_at=timestamp(item.get("aenderungsdatum")),
    )
    return fields


def _street(line: object) -> dict:
    """A ``strasse`` that holds the house number too (v4 always, v6 without ``hausnummer``):
    'Hauptstraße 12' -> street, house_number."""
    street, number = split_street(line)
    return {"street": street, "house_number": number}


def _v4_fields(item: dict) -> dict:
    place = as_dict(item.get("arbeitsort"))
    coordinates = as_dict(place.get("koordinaten"))
    fields = _common(item)
    fields.update(
        source_id=text(item.get("refnr")),
        ba_reference=text(item.get("refnr")),
        title=text(item.get("titel")),
        organisation=text(item.get("arbeitgeber")),
        address={
            **_street(place.get("strasse")),
            "postal_code": postal_code(place.get("plz")),
            "city": text(place.get("ort")),
            "state": state_name(place.get("region")),
            "country": country_code(place.get("land")),
        },
        geo=geo_point(coordinates.get("lat"), coordinates.get("lon")),
        url=web_url(item.get("externeUrl")),
        occupation=text(item.get("beruf")),
        start_date=date_value(item.get("eintrittsdatum")),
        published_from=date_value(item.get("aktuelleVeroeffentlichungsdatum")),
        updated_at=timestamp(item.get("modifikationsTimestamp")),
    )
    return fields


# --------------------------------------------------------------------------- parse


def _reference(item: object) -> str | None:
    item = as_dict(item)
    return text(item.get("referenznummer") or item.get("refnr"))


def posting_versions(pages: Iterable[bytes]) -> dict[str, str | None]:
    """The postings' reference numbers in search pages, in order, each once, with the time of
    their last change as the search says it (v6 ``aenderungsdatum``, v4
    ``modifikationsTimestamp``; None where missing). Pages that are not search responses give
    none: staging reports them."""
    found: dict[str, str | None] = {}
    for body in pages:
        try:
            payload = load_json(body, "a BA Jobsuche response")
        except FormatError:
            continue
        for key in _LIST_KEYS:
            items = payload.get(key) if isinstance(payload, dict) else None
            for item in items if isinstance(items, list) else ():
                ref = _reference(item)
                if isinstance(ref, str) and ref not in found:
                    changed = item.get("aenderungsdatum") or item.get("modifikationsTimestamp")
                    found[ref] = str(changed) if changed else None
    return found


def details_reference(body: bytes) -> str | None:
    """The reference number a job details response names (None: none). FormatError for a
    response that is not JSON."""
    ref = _reference(load_json(body, "a BA job details response"))
    return ref if isinstance(ref, str) else None


def details_index(bodies: list[bytes]) -> dict[str, dict]:
    """Job details responses by reference number (what ``parse`` takes as ``details``);
    responses that name no posting are left out. FormatError for one that is not JSON."""
    found = {}
    for body in bodies:
        payload = load_json(body, "a BA job details response")
        ref = _reference(payload)
        if isinstance(ref, str):
            found[ref] = payload
    return found


def _with_details(item: object, details: dict[str, dict] | None) -> object:
    """A search item completed by its details: what the search item carries stays, the
    details add the rest (the description above all). Details name some fields otherwise
    (free-text pay instead of the period), so they never override."""
    found = details.get(_reference(item)) if details and isinstance(item, dict) else None
    return {**found, **item} if found else item


def chunks(data: bytes, partner_id: str, details: dict[str, dict] | None = None,
           size: int = 10_000) -> Iterator[ParseResult]:
    """The records of a response in parts of ``size`` items. The response is read as a
    stream (``stream_object``): a big one is never all in memory as parsed JSON."""
    domain = JobPosting.domain.value
    head: dict = {}  # the members other than the lists
    lists: set[str] = set()
    positions = dict.fromkeys(_LIST_KEYS, 0)
    result = ParseResult()
    for key, in_list, value in stream_object(data, "a BA Jobsuche response", _LIST_KEYS):
        if not key and not in_list:
            raise FormatError(
                f"not a BA Jobsuche response: the top level is a JSON {type(value).__name__}, "
                "expected an object"
            )
        if not in_list:
            if key in _LIST_KEYS:
                if value is not None and not isinstance(value, list):  # an empty list
                    raise FormatError(f"not a BA Jobsuche response: '{key}' is a "
                                      f"{type(value).__name__}, expected a list")
                lists.add(key)
            else:
                head[key] = value
            continue
        lists.add(key)
        positions[key] += 1
        if not isinstance(value, dict):
            result.reject_item("RECORD_UNREADABLE", partner_id=partner_id, domain=domain,
                               value=f"{key}[{positions[key]}] is {kind(value)}, not an object")
            continue
        to_fields = _v6_fields if key == "ergebnisliste" else _v4_fields
        item = _with_details(value, details)
        build_record(JobPosting, {"partner_id": partner_id, **to_fields(item)}, result)
        if result.items >= size:
            yield drop_duplicate_ids(result)
            result = ParseResult()
    if not lists:
        if "referenznummer" in head:  # one job details response
            build_record(JobPosting, {"partner_id": partner_id, **_v6_fields(head)}, result)
        elif "maxErgebnisse" not in head:
            raise FormatError(
                "not a BA Jobsuche response: neither 'ergebnisliste' (v6), 'stellenangebote' "
                "(v4) nor 'maxErgebnisse' found"
            )
    yield drop_duplicate_ids(result)


def parse(data: bytes, partner_id: str, details: dict[str, dict] | None = None) -> ParseResult:
    return merged(chunks(data, partner_id, details))


FORMAT = Format(
    name="ba-jobsuche",
    domain="jobs",
    description=(
        "BA Jobsuche search response (JSON, API v6 'ergebnisliste' or v4 'stellenangebote'), "
        "or one job details response"
    ),
    parse=parse,
    details_index=details_index,
    chunks=chunks,
    # the feedback report names a field as the partner's export calls it
    field_names={
        "source_id": "referenznummer (v4: refnr)",
        "title": "stellenangebotsTitel, v4: titel",
        "organisation": "firma, v4: arbeitgeber",
        "address.postal_code": "stellenlokationen.adresse.plz, v4: arbeitsort.plz",
        "address.city": "stellenlokationen.adresse.ort, v4: arbeitsort.ort",
        "address.street": "stellenlokationen.adresse.strasse, v4: arbeitsort.strasse",
        "address.country": "stellenlokationen.adresse.land, v4: arbeitsort.land",
        "geo": "stellenlokationen.breite/laenge, v4: arbeitsort.koordinaten",
        "url": "externeURL, v4: externeUrl",
        "salary_min": "gehaltsspanneVon",
        "salary_max": "gehaltsspanneBis",
        "start_date": "eintrittszeitraum.von, v4: eintrittsdatum",
        "published_from": "veroeffentlichungszeitraum.von, v4: aktuelleVeroeffentlichungsdatum",
        "valid_through": "veroeffentlichungszeitraum.bis",
        "updated_at": "aenderungsdatum, v4: modifikationsTimestamp",
        "description": "stellenangebotsBeschreibung",
    },
)
