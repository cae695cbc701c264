"""HSDS 3.0 (Open Referral Human Services Data Specification) from directory entries.

Pure functions: a directory entry (the survivorship dict the publication writes) in, HSDS
objects out. How courses, jobs and flats map is documented in ``schemas/hsds-profile-de.md``
(the hub's German profile); the objects stay valid against the official HSDS 3.0 schemas.

Ids: HSDS ids are UUIDs. Every id here is a UUID version 5 in the hub's namespace
(:data:`NAMESPACE`) of a readable key, so the same entry always gives the same ids:

- service, service_at_location, schedule, cost option, contact: of the entry's stable entity
  id (``service:<entity_id>``, ``service_at_location:<entity_id>`` ...);
- location, its address and accessibility: of the place (:func:`location_key`): the
  organisation and street address a course or job shares with others there, else (a flat, an
  entry without a street) the entity id;
- organization: of the organisation's folded name (``organization:name:<folded name>``), or,
  when the partners gave no organisation, of the publishing partner
  (``organization:partner:<partner id>``);
- taxonomy terms: of ``<taxonomy>:<code>``; attributes: of the service and the term (and the
  value for ``hub.source``, which a service carries once per partner record).

Fields without a value are left out (the schemas allow no nulls).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from functools import lru_cache
from collections.abc import Iterable, Iterator, Mapping

from hub.quality.regions import state_of

HSDS_VERSION = "3.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:welcome-hub:hsds")
PROFILE_DOC = "schemas/hsds-profile-de.md"

HUB_TAXONOMY = "welcome-hub"
CEFR_TAXONOMY = "cefr"

# the tables of an HSDS package, in the order a loader should read them
TABLES = (
    "taxonomies", "taxonomy_terms", "organizations", "services", "locations", "addresses",
    "accessibility", "service_at_locations", "schedules", "cost_options", "languages", "contacts", "phones",
    "attributes",
)
# table -> schema file of the official specification
TABLE_SCHEMAS = {
    "taxonomies": "taxonomy.json", "taxonomy_terms": "taxonomy_term.json",
    "organizations": "organization.json", "services": "service.json",
    "locations": "location.json", "addresses": "address.json", "accessibility": "accessibility.json",
    "service_at_locations": "service_at_location.json", "schedules": "schedule.json",
    "cost_options": "cost_option.json", "languages": "language.json",
    "contacts": "contact.json", "phones": "phone.json", "attributes": "attribute.json",
}


_NS_BYTES = NAMESPACE.bytes


def hsds_id(kind: str, key: str) -> str:
    """The UUID (version 5, hub namespace) of ``kind:key``: ``str(uuid.uuid5(NAMESPACE, ...))``
    computed without building UUID objects (an export makes about twenty per entry)."""
    digest = bytearray(hashlib.sha1(_NS_BYTES + f"{kind}:{key}".encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def service_id(entity_id: str) -> str:
    return hsds_id("service", entity_id)


def location_key(entry: Mapping) -> str:
    """The place an entry's service is delivered at: the courses and jobs of one organisation
    at one street address share it (``place:<organization key>|<folded street and house
    number>|<postal code>``), so a venue with eleven courses is one location with eleven
    services at it. A flat is a place of its own (two flats in one house differ in floor, size
    and access), and so is an entry without a street (a BA posting that names only the town):
    its entity id."""
    address = entry.get("address") or {}
    street = " ".join(p for p in (address.get("street"), address.get("house_number")) if p)
    if entry.get("domain") == "housing" or not _fold(street) or not address.get("postal_code"):
        return entry["id"]
    return f"place:{organization_key(entry)[0]}|{_fold(street)}|{address['postal_code']}"


def location_id(entry: Mapping) -> str:
    return hsds_id("location", location_key(entry))


# ----------------------------------------------------------------------------- taxonomies

TAXONOMIES = {
    HUB_TAXONOMY: {
        "name": "Welcome Hub",
        "description": "Vokabular des Welcome Hub (Angebotsart, Kursart, Beschäftigungsart, "
        "Wohnungsmerkmale, Herkunft); siehe schemas/hsds-profile-de.md",
        "version": "1",
    },
    CEFR_TAXONOMY: {
        "name": "GER / CEFR",
        "description": "Gemeinsamer Europäischer Referenzrahmen für Sprachen: Niveaustufen A1 bis C2",
        "uri": "https://www.coe.int/en/web/common-european-framework-reference-languages",
        "version": "2020",
    },
}

_DOMAIN_TERMS = {
    "jobs": ("Stellenangebot", "Job posting: a vacancy at an employer"),
    "courses": ("Kurs", "Language course, integration course or training"),
    "housing": ("Wohnungsangebot", "Housing vacancy: a flat, house or room to let"),
}
_ENUM_TERMS = {
    "course_type": {
        "integration_course": "Integrationskurs", "job_language_course": "Berufssprachkurs",
        "language_course": "Sprachkurs", "literacy_course": "Alphabetisierungskurs",
        "vocational_training": "Ausbildung / Umschulung", "further_training": "Weiterbildung",
        "orientation": "Erstorientierung / Beratung", "other": "Sonstiger Kurs",
    },
    "course_schedule": {
        "full_time": "Vollzeit", "part_time": "Teilzeit", "evening": "Abendkurs",
        "weekend": "Wochenendkurs", "online": "Online", "blended": "Online und vor Ort",
    },
    "employment_type": {
        "employee": "Arbeitsstelle", "apprenticeship": "Ausbildungsstelle",
        "internship": "Praktikum", "mini_job": "Minijob", "self_employed": "Selbstständig",
        "other": "Sonstige Beschäftigung",
    },
    "working_time": {
        "full_time": "Vollzeit", "part_time": "Teilzeit", "shift": "Schicht / Nacht / Wochenende",
        "flexible": "Flexible Arbeitszeit", "mini": "Minijob-Arbeitszeit",
    },
    "contract_duration": {"permanent": "Unbefristet", "fixed_term": "Befristet"},
    "property_type": {"apartment": "Wohnung", "house": "Haus", "room": "Zimmer", "other": "Sonstige Unterkunft"},
    "role": {"employer": "Arbeitgeber", "course_provider": "Kursanbieter", "landlord": "Vermieter"},
}
# valued attributes: code -> (name, description); the value is in attribute.value
_VALUE_TERMS = {
    "hub.entity_id": ("Welcome-Hub-ID", "Stable id of the entry in the hub's read API (/v1)"),
    "hub.source": ("Quelle", "A partner record behind the entry: '<partner id>/<source id>'"),
    "hub.source_updated_at": ("Stand an der Quelle",
                              "When the source last changed the offer, as the partner says (RFC 3339); "
                              "service.last_modified is when the entry last changed in the directory"),
    "job.occupation": ("Beruf", "Occupation as named by the source"),
    "job.ba_reference": ("BA-Referenznummer", "Reference number at the Bundesagentur für Arbeit"),
    "job.salary_min": ("Gehalt ab", "Lowest salary in euro per job.salary_period"),
    "job.salary_max": ("Gehalt bis", "Highest salary in euro per job.salary_period"),
    "job.salary_period": ("Gehaltszeitraum", "'year', 'month' or 'hour'"),
    "job.remote_possible": ("Homeoffice moeglich", "'true' or 'false'"),
    "job.german_required": ("Deutschkenntnisse erforderlich",
                            "'false' where the employer says no German is needed, 'true' where "
                            "the posting asks for German"),
    "job.start_date": ("Eintrittsdatum", "ISO date"),
    "job.published_from": ("Veröffentlicht ab", "ISO date"),
    "job.valid_through": ("Gültig bis", "ISO date"),
    "course.childcare": ("Kinderbetreuung", "'true' or 'false'"),
    "course.seats": ("Freie Plätze", "Free seats, integer"),
    "course.funded": ("Gefördert", "'true': free or funded (BAMF, Bildungsgutschein)"),
    "housing.rooms": ("Zimmer", "Number of rooms, decimal"),
    "housing.living_area": ("Wohnfläche", "Square metres, decimal"),
    "housing.floor": ("Etage", "Floor, 0 = ground floor, integer"),
    "housing.max_persons": ("Personen höchstens", "Integer"),
    "housing.available_from": ("Frei ab", "ISO date"),
    "housing.available_from_text": ("Frei ab (Text)", "Free text, e.g. 'sofort'"),
    "housing.wbs_required": ("WBS erforderlich", "'true': a Wohnberechtigungsschein is required"),
    "housing.barrier_free": ("Barrierefrei", "'true' or 'false'"),
}
CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")


def _term_rows() -> dict[str, dict]:
    rows: dict[str, dict] = {}

    def add(taxonomy: str, code: str, name: str, description: str) -> None:
        rows[f"{taxonomy}:{code}"] = {
            "id": hsds_id("taxonomy_term", f"{taxonomy}:{code}"),
            "code": code,
            "name": name,
            "description": description,
            "taxonomy": TAXONOMIES[taxonomy]["name"],
            "taxonomy_id": hsds_id("taxonomy", taxonomy),
            "language": "de",
        }

    for code, (name, description) in _DOMAIN_TERMS.items():
        add(HUB_TAXONOMY, f"domain.{code}", name, description)
    for group, values in _ENUM_TERMS.items():
        for value, name in values.items():
            add(HUB_TAXONOMY, f"{group}.{value}", name, f"{group} = {value}")
    for code, (name, description) in _VALUE_TERMS.items():
        add(HUB_TAXONOMY, code, name, description)
    for level in CEFR_LEVELS:
        add(CEFR_TAXONOMY, level, f"Niveau {level}", f"CEFR level {level}")
    return rows


TERMS = _term_rows()


def taxonomies() -> list[dict]:
    return [{"id": hsds_id("taxonomy", key), **fields} for key, fields in TAXONOMIES.items()]


def taxonomy_terms() -> list[dict]:
    return list(TERMS.values())


def _term(taxonomy: str, code: str) -> dict:
    term = dict(TERMS[f"{taxonomy}:{code}"])
    detail = TAXONOMIES[taxonomy]
    term["taxonomy_detail"] = {"id": term["taxonomy_id"], **detail}
    return term


# ----------------------------------------------------------------------------- helpers

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ROLE = {"jobs": "employer", "courses": "course_provider", "housing": "landlord"}
# ISO 639-1 code -> German name: the languages courses are taught in, and those of the people
# who come to a German welcome center; another code is published without a name (the code
# alone, never the code as if it were the name)
_LANGUAGES = {
    "de": "Deutsch", "en": "Englisch", "fr": "Französisch", "ar": "Arabisch", "tr": "Türkisch",
    "uk": "Ukrainisch", "ru": "Russisch", "fa": "Persisch", "es": "Spanisch", "it": "Italienisch",
    "pl": "Polnisch", "pt": "Portugiesisch", "nl": "Niederländisch", "ro": "Rumänisch",
    "bg": "Bulgarisch", "hr": "Kroatisch", "sr": "Serbisch", "bs": "Bosnisch", "sq": "Albanisch",
    "el": "Griechisch", "hu": "Ungarisch", "cs": "Tschechisch", "sk": "Slowakisch",
    "ku": "Kurdisch", "ps": "Paschtu", "ur": "Urdu", "hi": "Hindi", "bn": "Bengalisch",
    "ti": "Tigrinya", "am": "Amharisch", "so": "Somali", "sw": "Swahili", "zh": "Chinesisch",
    "vi": "Vietnamesisch", "ja": "Japanisch", "ko": "Koreanisch", "ka": "Georgisch",
    "hy": "Armenisch", "az": "Aserbaidschanisch", "he": "Hebräisch",
}


def _clean(obj: dict) -> dict:
    """Drop keys without a value: HSDS fields are typed, never null."""
    return {k: v for k, v in obj.items() if v is not None and v != [] and v != ""}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else str(value)
    return str(value)


@lru_cache(maxsize=262144)
def _fold(text: str) -> str:
    """``fold``, kept for the names and streets seen last: the API's index of a national
    directory folds 1,400,000 entries' organisation names and streets several times each,
    and they are a few thousand names and streets (measured: 280,000 entries, 11.6 CPU-s to
    build the index, of it 10 s folding)."""
    from hub.resolve.normalize import fold

    return fold(text)


def state_province(address: Mapping) -> str:
    """Bundesland: as given, else from the AGS, else from the postal code; '' if unknown."""
    return state_of(address) or ""


def organization_key(entry: Mapping) -> tuple[str, str]:
    """(key, display name) of the organisation behind an entry."""
    name = (entry.get("organisation") or "").strip()
    if name and _fold(name):
        return f"name:{_fold(name)}", name
    sources = entry.get("sources") or []
    partner = sources[0]["partner_id"] if sources else "unknown"
    return f"partner:{partner}", partner


def organization_id_for(entry: Mapping) -> str:
    return _organization_id(organization_key(entry)[0])


@lru_cache(maxsize=4096)
def _organization_id(key: str) -> str:
    return hsds_id("organization", key)


def organization_stub(entry: Mapping, partner_names: Mapping[str, str] | None = None) -> dict:
    """The organization behind one entry, without the relations of other entries."""
    key, name = organization_key(entry)
    if key.startswith("partner:") and partner_names:
        name = partner_names.get(name, name)
    return {
        "id": hsds_id("organization", key),
        "name": name,
        "description": f"{name}: Anbieter im Verzeichnis des Welcome Hub",
    }


# valued terms a service carries more than once: their attributes are told apart by the value
_MULTI_VALUED = frozenset({"hub.source"})


def _attribute(link_id: str, taxonomy: str, code: str, link_type: str, value: object = None) -> dict:
    """The attribute linking ``link_id`` to a term. Its id is of the link and the term, so a
    value that changes (a course's free seats) keeps the attribute's id and a reader that
    loads by id replaces the old value instead of keeping both; only a term a service carries
    more than once (``hub.source``) adds the value to the id."""
    value_text = None if value is None else _text(value)
    told_apart = value_text if code in _MULTI_VALUED else ""
    return _clean({
        "id": hsds_id("attribute", f"{link_id}|{taxonomy}:{code}|{told_apart}"),
        "link_id": link_id,
        "link_type": link_type,
        "link_entity": "service",
        "taxonomy_term_id": TERMS[f"{taxonomy}:{code}"]["id"],
        "value": value_text,
        "taxonomy_term": _term(taxonomy, code),
    })


# ----------------------------------------------------------------------------- objects


def location(entry: Mapping) -> dict:
    """The entry's place (see :func:`location_key`), with its address (and, for a flat the
    landlord calls barrier-free, that as its accessibility). For a place several entries share,
    the entry given names it: the read API and the export take the first by domain and entity id."""
    key = location_key(entry)
    lid = hsds_id("location", key)
    address = entry.get("address") or {}
    geo = entry.get("geo") or {}
    line = " ".join(p for p in (address.get("street"), address.get("house_number")) if p)
    place = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
    addresses = []
    if address:
        addresses.append({
            "id": hsds_id("address", key),
            "location_id": lid,
            "address_1": line,
            "city": address.get("city") or "",
            "state_province": state_province(address),
            "postal_code": address.get("postal_code") or "",
            "country": address.get("country") or "DE",
            "address_type": "physical",
        })
    return _clean({
        "id": lid,
        "location_type": "physical",
        "organization_id": organization_id_for(entry),
        "name": ", ".join(p for p in (line, place) if p) or entry.get("title"),
        "latitude": geo.get("lat"),
        "longitude": geo.get("lon"),
        "external_identifier": address.get("municipality_key"),
        "external_identifier_type": "AGS" if address.get("municipality_key") else None,
        "addresses": addresses,
        "accessibility": [{
            "id": hsds_id("accessibility", key),
            "location_id": lid,
            "description": "Barrierefrei (nach Angabe des Anbieters)",
        }] if entry.get("domain") == "housing" and entry.get("barrier_free") is True else [],
    })


def service_at_location(entry: Mapping, nested_location: bool = True) -> dict:
    eid = entry["id"]
    row = {
        "id": hsds_id("service_at_location", eid),
        "service_id": service_id(eid),
        "location_id": location_id(entry),
    }
    if nested_location:
        row["location"] = location(entry)
    return row


def _schedules(entry: Mapping, sid: str) -> list[dict]:
    if entry.get("domain") != "courses":
        return []
    kinds = entry.get("schedule") or []
    start, end = entry.get("start_date"), entry.get("end_date")
    if not (kinds or start or end):
        return []
    names = [_ENUM_TERMS["course_schedule"].get(k, k) for k in kinds]
    if "online" in kinds:
        attending = "online"
    elif "blended" in kinds:
        attending = "online und vor Ort"
    else:
        attending = "vor Ort"
    description = ", ".join(names) or "Kurstermin"
    if start and end:
        description += f" ({_day(start)} bis {_day(end)})"
    elif start or end:  # an open end (or an unknown start) as a reader says it, not 'bis ?'
        description += f" (ab {_day(start)})" if start else f" (bis {_day(end)})"
    return [_clean({
        "id": hsds_id("schedule", entry["id"]),
        "service_id": sid,
        "valid_from": start,
        "valid_to": end,
        "dtstart": start,
        "until": end,
        "description": description,
        "attending_type": attending,
    })]


_RENTS = (
    ("cold_rent", "Kaltmiete", "Euro pro Monat"),
    ("warm_rent", "Warmmiete", "Euro pro Monat, einschliesslich Neben- und Heizkosten"),
    ("service_charges", "Nebenkosten", "Euro pro Monat"),
    ("heating_costs", "Heizkosten", "Euro pro Monat"),
    ("deposit", "Kaution", "Euro, einmalig"),
)


def _cost_options(entry: Mapping, sid: str) -> list[dict]:
    rows = []
    if entry.get("domain") == "courses" and (entry.get("price_eur") is not None or entry.get("funded")):
        funded = entry.get("funded")
        rows.append(_clean({
            "id": hsds_id("cost_option", f"{entry['id']}|course_fee"),
            "service_id": sid,
            "option": "Kursgebühr",
            "currency": "EUR",
            "amount": entry.get("price_eur"),
            "amount_description": "gefördert (BAMF, Bildungsgutschein)" if funded else "Gesamtpreis",
        }))
    if entry.get("domain") == "housing":
        for field, option, description in _RENTS:
            if entry.get(field) is not None:
                rows.append({
                    "id": hsds_id("cost_option", f"{entry['id']}|{field}"),
                    "service_id": sid,
                    "option": option,
                    "currency": "EUR",
                    "amount": entry[field],
                    "amount_description": description,
                })
    return rows


# German mobile numbers: 015x, 016x, 017x (+49 15x ... written internationally)
_MOBILE = re.compile(r"^(?:\+49|0049|0)\s*\(?0?\)?\s*1[5-7]")


def _phone_type(number: str) -> str:
    """RFC 6350 type of a phone number: ``cell`` for a German mobile number (a reader's app may
    offer a text message), else ``voice``."""
    return "cell" if _MOBILE.match(number.strip()) else "voice"


def _contacts(entry: Mapping, sid: str) -> list[dict]:
    contact = entry.get("contact") or {}
    if not contact or contact.get("public") is not True:
        return []  # personal data: only what the partner marked public
    cid = hsds_id("contact", entry["id"])
    email = contact.get("email")
    phones = []
    if contact.get("phone"):
        phones.append({"id": hsds_id("phone", f"{entry['id']}|contact"), "contact_id": cid,
                       "number": contact["phone"], "type": _phone_type(contact["phone"])})
    row = _clean({
        "id": cid,
        "service_id": sid,
        "name": contact.get("name"),
        "email": email if email and _EMAIL.match(email) else None,
        "phones": phones,
    })
    return [row] if len(row) > 2 else []


def _attributes(entry: Mapping, sid: str) -> list[dict]:
    domain = entry.get("domain")
    out = [_attribute(sid, HUB_TAXONOMY, f"domain.{domain}", "domain")] if domain in _DOMAIN_TERMS else []

    def enum(group: str, value: object) -> None:
        if value is not None and value in _ENUM_TERMS[group]:
            out.append(_attribute(sid, HUB_TAXONOMY, f"{group}.{value}", group))

    def valued(code: str, value: object) -> None:
        if value is not None and value != "":
            out.append(_attribute(sid, HUB_TAXONOMY, code, "detail", value))

    if domain == "courses":
        enum("course_type", entry.get("course_type"))
        for kind in entry.get("schedule") or []:
            enum("course_schedule", kind)
        for level in entry.get("cefr_levels") or []:
            if level in CEFR_LEVELS:
                out.append(_attribute(sid, CEFR_TAXONOMY, level, "course_level"))
        for field in ("childcare", "seats", "funded"):
            valued(f"course.{field}", entry.get(field))
    elif domain == "jobs":
        enum("employment_type", entry.get("employment_type"))
        for kind in entry.get("working_time") or []:
            enum("working_time", kind)
        enum("contract_duration", entry.get("contract_duration"))
        if entry.get("german_level") in CEFR_LEVELS:
            out.append(_attribute(sid, CEFR_TAXONOMY, entry["german_level"], "required_german_level"))
        for field in ("occupation", "ba_reference", "salary_min", "salary_max", "salary_period",
                      "remote_possible", "german_required", "start_date", "published_from",
                      "valid_through"):
            valued(f"job.{field}", entry.get(field))
    elif domain == "housing":
        enum("property_type", entry.get("property_type"))
        for field in ("rooms", "living_area", "floor", "max_persons", "available_from",
                      "available_from_text", "wbs_required", "barrier_free"):
            valued(f"housing.{field}", entry.get(field))
    valued("hub.entity_id", entry.get("id"))
    valued("hub.source_updated_at", _datetime(entry.get("updated_at")))
    for source in entry.get("sources") or []:
        valued("hub.source", f"{source['partner_id']}/{source['source_id']}")
    return out


def service(entry: Mapping, partner_names: Mapping[str, str] | None = None, full: bool = True,
            contacts: bool = True, modified: object = None) -> dict:
    """The HSDS service of one directory entry. ``full``: with its organization, locations,
    schedules, costs, languages, contacts and attributes nested (``/services/{id}``);
    otherwise only the one-to-one fields (``/services`` listing, services table).
    ``contacts=False`` leaves the contact person (and the e-mail taken from it) out, even when
    the partner marked it public (the read API gives contacts only to keys allowed them).
    ``modified``: when the entry last changed in the directory (its row's ``updated_at``), the
    service's ``last_modified``, the time ``modified_after`` filters on; without it the
    source's ``updated_at`` stands in."""
    eid = entry["id"]
    sid = service_id(eid)
    contacts = _contacts(entry, sid) if contacts else []
    email = next((c["email"] for c in contacts if c.get("email")), None)
    row = _clean({
        "id": sid,
        "organization_id": organization_id_for(entry),
        "name": entry.get("title") or eid,
        "description": entry.get("description"),
        "url": entry.get("url"),
        "email": email,
        "status": "active",
        "fees_description": _fees(entry),
        "eligibility_description": _eligibility(entry),
        "last_modified": _utc(modified) if modified else _datetime(entry.get("updated_at")),
    })
    if not full:
        return row
    language = entry.get("language") if entry.get("domain") == "courses" else None
    row.update(_clean({
        "organization": organization_stub(entry, partner_names),
        "service_at_locations": [service_at_location(entry)],
        "schedules": _schedules(entry, sid),
        "cost_options": _cost_options(entry, sid),
        "languages": [_clean({"id": hsds_id("language", f"{eid}|{language}"), "service_id": sid,
                              "name": _LANGUAGES.get(language), "code": language})] if language else [],
        "contacts": contacts,
        "attributes": _attributes(entry, sid),
    }))
    return row


def _euro(amount: float) -> str:
    """An amount as German readers write it: 1.234,50 €, 450 €."""
    whole = float(amount).is_integer()
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".") + " €"


def _day(iso: str) -> str:
    """A day as German readers write it (18.01.2027)."""
    year, month, day = iso[:10].split("-")
    return f"{day}.{month}.{year}"


def _fees(entry: Mapping) -> str | None:
    if entry.get("domain") == "courses":
        if entry.get("funded"):
            return "kostenlos oder gefördert (BAMF, Bildungsgutschein)"
        if entry.get("price_eur") is not None:
            return _euro(entry["price_eur"])
    if entry.get("domain") == "housing" and entry.get("cold_rent") is not None:
        text = f"Kaltmiete {_euro(entry['cold_rent'])} im Monat"
        if entry.get("warm_rent") is not None:
            text += f", warm {_euro(entry['warm_rent'])}"
        return text
    return None


def _utc(value: object) -> str | None:
    """A directory time (a datetime, naive on SQLite: UTC) as RFC 3339 in UTC."""
    import datetime as dt

    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def _eligibility(entry: Mapping) -> str | None:
    """Who the offer is for, as a reader of a service finder asks it: the German a job asks
    for; a flat's Wohnberechtigungsschein and household size."""
    parts = []
    if entry.get("domain") == "jobs":
        if entry.get("german_level"):
            parts.append(f"Deutschkenntnisse mindestens {entry['german_level']}")
        elif entry.get("german_required") is True:
            parts.append("Deutschkenntnisse erforderlich")
        elif entry.get("german_required") is False:
            parts.append("Keine Deutschkenntnisse erforderlich")
    elif entry.get("domain") == "housing":
        if entry.get("wbs_required") is True:
            parts.append("Nur mit Wohnberechtigungsschein (WBS)")
        persons = entry.get("max_persons")
        if persons:
            parts.append("für 1 Person" if persons == 1 else f"für höchstens {persons} Personen")
    return "; ".join(parts) or None


def _datetime(value: object) -> str | None:
    """An RFC 3339 date-time (with offset) or None."""
    if not value:
        return None
    import datetime as dt

    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.isoformat()


# ----------------------------------------------------------------------------- organizations


class OrganizationBuilder:
    """Collects the organizations of many entries: one per organisation key, named by the
    spelling most entries use, with its roles (employer, course provider, landlord) as
    attributes and its services' ids."""

    def __init__(self, partner_names: Mapping[str, str] | None = None):
        self.partner_names = partner_names or {}
        self._names: dict[str, dict[str, int]] = {}
        self._roles: dict[str, set[str]] = {}
        self._services: dict[str, list[str]] = {}
        self._websites: dict[str, set[str]] = {}

    def add(self, entry: Mapping) -> str:
        key, name = organization_key(entry)
        if key.startswith("partner:"):
            name = self.partner_names.get(name, name)
        self._names.setdefault(key, {}).setdefault(name, 0)
        self._names[key][name] += 1
        role = _ROLE.get(entry.get("domain") or "")
        self._roles.setdefault(key, set())
        if role:
            self._roles[key].add(role)
        self._services.setdefault(key, []).append(service_id(entry["id"]))
        return _organization_id(key)

    def ids(self) -> dict[str, str]:
        return {_organization_id(key): key for key in self._names}

    def organization(self, key: str, with_services: bool = False) -> dict:
        names = self._names[key]
        name = sorted(names, key=lambda n: (-names[n], n))[0]
        oid = hsds_id("organization", key)
        roles = sorted(self._roles.get(key, ()))
        labels = [_ENUM_TERMS["role"][r] for r in roles]
        description = f"{name}: " + (", ".join(labels) if labels else "Anbieter") + " im Verzeichnis des Welcome Hub"
        row = {"id": oid, "name": name, "description": description}
        attributes = []
        for role in roles:
            attr = _attribute(oid, HUB_TAXONOMY, f"role.{role}", "role")
            attr["link_entity"] = "organization"
            attributes.append(attr)
        if attributes:
            row["attributes"] = attributes
        if with_services:
            row["services"] = [{"id": sid} for sid in sorted(self._services.get(key, []))]
        return row

    def organizations(self) -> list[dict]:
        return [self.organization(key) for key in sorted(self._names, key=lambda k: hsds_id("organization", k))]


# ----------------------------------------------------------------------------- package


_NESTED = ("organization", "service_at_locations", "schedules", "cost_options", "languages", "contacts",
           "attributes")


def _pop_nested(row: dict, *keys: str) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


def entry_rows(entry: Mapping, partner_names: Mapping[str, str] | None = None,
               modified: object = None, seen_locations: set[str] | None = None) -> Iterator[tuple[str, dict]]:
    """(table, flat row) for one entry, without its organization (see :class:`OrganizationBuilder`);
    ``modified`` as for :func:`service`. ``seen_locations``: the ids of the locations written
    already (a place several entries share is written once, with the first entry's rows);
    the entry's are added."""
    full = service(entry, partner_names, full=True, modified=modified)
    yield "services", _pop_nested(full, *_NESTED)
    for sal in full.get("service_at_locations", []):
        loc = sal["location"]
        yield "service_at_locations", _pop_nested(sal, "location")
        if seen_locations is not None:
            if loc["id"] in seen_locations:
                continue
            seen_locations.add(loc["id"])
        yield "locations", _pop_nested(loc, "addresses", "accessibility")
        for address in loc.get("addresses", []):
            yield "addresses", address
        for row in loc.get("accessibility", []):
            yield "accessibility", row
    for table in ("schedules", "cost_options", "languages"):
        for row in full.get(table, []):
            yield table, row
    for contact in full.get("contacts", []):
        yield "contacts", _pop_nested(contact, "phones")
        for phone in contact.get("phones", []):
            yield "phones", phone
    for attr in full.get("attributes", []):
        yield "attributes", _pop_nested(attr, "taxonomy_term")


def organization_rows(orgs: OrganizationBuilder) -> Iterator[tuple[str, dict]]:
    for org in orgs.organizations():
        yield "organizations", _pop_nested(org, "attributes")
        for attr in org.get("attributes", []):
            yield "attributes", _pop_nested(attr, "taxonomy_term")


def package_tables(entries: Iterable[Mapping], partner_names: Mapping[str, str] | None = None) -> dict[str, list[dict]]:
    """The tables of an HSDS package (flat rows, linked by ids) for ``entries``, in memory."""
    tables: dict[str, list[dict]] = {name: [] for name in TABLES}
    orgs = OrganizationBuilder(partner_names)
    seen: set[str] = set()
    for entry in entries:
        orgs.add(entry)
        for table, row in entry_rows(entry, partner_names, seen_locations=seen):
            tables[table].append(row)
    for table, row in organization_rows(orgs):
        tables[table].append(row)
    tables["taxonomies"] = taxonomies()
    tables["taxonomy_terms"] = taxonomy_terms()
    return tables
