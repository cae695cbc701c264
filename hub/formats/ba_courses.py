"""BA course searches -> CourseOffer: the Weiterbildungssuche (KURSNET,
``/infosysbub/wbsuche/pc/v1|v2/bildungsangebot``) and the Sprachfoerderung
(``/infosysbub/sprachfoerderung/pc/v1/bildungsangebot``: Berufssprachkurse ``systematiken=MC``,
Integrationskurse ``MB``). Both answer in one shape (Spring HATEOAS):

- ``_embedded.termine[]``: one item per course date, id ``id`` (a number); the course itself in
  ``angebot`` (``titel``, ``inhalt`` as HTML, ``bildungsanbieter``, ``systematiken[].codeNr``,
  ``bildungsart``); the venue in the item's ``adresse`` (``strasse`` with the house number,
  ``ortStrasse{plz, name, land{name, laenderCode}}``, ``koordinaten{lat, lon}``);
- dates (``beginn``, ``ende``, ``aktualisierungsdatum``) as epoch milliseconds, numbers or
  strings of digits, at local midnight;
- phone numbers split into ``telefonVorwahl`` and ``telefonDurchwahl``;
- ``kostenWert`` (a decimal, '1500.0') in ``kostenWaehrung`` EUR -> price_eur; ``0.0`` is what
  the BA answers where the provider gave no price, so it is a price of 0 (free) only where
  ``kostenBemerkung`` says so ('kostenfrei', 'keine Kursgebühren', 'zu 100 % gefördert'), else
  no price; a rate in the remark ('2,29 € pro Unterrichtseinheit') -> no price either;
- ``page{size, totalElements, totalPages, number}``: each page is one delivery here. A search
  without a match has no ``_embedded`` at all, only ``page``: an empty result.
"""

from __future__ import annotations

import re

from hub.formats.base import Format, FormatError, ParseResult, build_record, drop_duplicate_ids
from hub.formats.jsondoc import each_object, kind, load_json
from hub.formats.values import (
    FREE_IN_TEXT,
    PER_LESSON,
    as_dict,
    country_code,
    epoch_millis,
    epoch_millis_date,
    geo_point,
    levels_in_text,
    number,
    phone,
    plain_text,
    postal_code,
    split_street,
    state_name,
    text,
    web_url,
    yes_no,
)
from hub.models import CourseOffer

WHAT = "a BA course response"

# words in 'unterrichtszeit' / 'unterrichtsform' names -> schedule; KURSNET names forms such as
# 'Virtuelles Klassenzimmer', 'Fernlehrgang', 'Combined Learning', the Sprachfoerderung
# 'Vor-Ort-Vollzeit', 'Wochenendveranstaltung', 'E-Learning'
_SCHEDULE_WORDS = (
    ("vollzeit", "full_time"),
    ("teilzeit", "part_time"),
    ("abend", "evening"),
    ("wochenend", "weekend"),
    ("virtuell", "online"),
    ("online", "online"),
    ("e-learning", "online"),
    ("fernunterricht", "online"),
    ("fernlehrgang", "online"),
    ("selbstlern", "online"),
    ("digital", "online"),
    ("blended", "blended"),
    ("combined", "blended"),
    ("hybrid", "blended"),
    ("kombiniert", "blended"),
)

# where a name is missing, the documented ids: KURSNET 'uf' (2xx digital, 3xx combined,
# 4xx distance learning) and 'uz' / Sprachfoerderung 'unterrichtsformen' (1-5)
_SCHEDULE_IDS = {1: "full_time", 2: "part_time", 3: "weekend", 4: "online", 5: "online"}
_SCHEDULE_ID_RANGES = ((200, 299, "online"), (300, 399, "blended"), (400, 499, "online"))

# Sprachfoerderung 'sprachniveau' filter values are systematik codes: MC 01 1 = A2 ... C2
_LEVEL_CODES = {"MC 01 1": "A2", "MC 01 2": "B1", "MC 01 3": "B2", "MC 01 4": "C1", "MC 01 5": "C2"}

# also its compounds: Jugend-, Eltern-, Frauen-, Intensivintegrationskurs
# (not 'eines Integrationskurses': a course for those who finished one)
_INTEGRATION = re.compile(r"integrationskurs(?!es\b)|zweitschriftlerner")
_JOB_LANGUAGE = re.compile(
    r"\bberufssprachkurs\b|\bdeuf(?:ö|oe)v\b|\bberufsbezogene deutschsprachf(?:ö|oe)rderung\b"
)
_LITERACY = re.compile(r"\balphabetisierungskurs\b")
_GERMAN_COURSE = re.compile(
    r"\bdeutsch(?:kurs\w*|\s+als\s+(?:fremd|zweit)sprache|\s+für\b|\s+[abc][12]\b)"
    r"|\b(?:sprach|intensiv)kurs\w*\s+deutsch\b"
)
# courses for teachers of such courses are further training, whatever their title names
_FOR_TEACHERS = re.compile(r"lehrkr(?:ä|ae)ft|lehrer|dozent|kursleit")
_VOCATIONAL = re.compile(r"umschulung|^ausbildung|berufsausbildung")
_DECIMAL = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_PAGING_KEYS = {"page", "_links", "aggregations"}


# --------------------------------------------------------------------------- record mapping


def _names(angebot: dict) -> str:
    """Title and kind of the offer in one case-folded text, for recognising the course type."""
    parts = (
        angebot.get("titel"),
        as_dict(angebot.get("bildungsart")).get("bezeichnung"),
        angebot.get("abschlussbezeichnung"),
    )
    return " ".join(part for part in parts if isinstance(part, str)).casefold()


def _codes(angebot: dict) -> list[str]:
    """Systematik codes, whitespace normalised: 'MC 01 3', 'MB', 'C 1435-10-10'."""
    found = []
    systematiken = angebot.get("systematiken")
    for entry in systematiken if isinstance(systematiken, list) else ():
        code = text(as_dict(entry).get("codeNr"))
        if isinstance(code, str):
            found.append(" ".join(code.upper().split()))
    return found


def _course_type(angebot: dict, names: str, codes: list[str]) -> str:
    groups = {code.split()[0] for code in codes}
    bildungsart = text(as_dict(angebot.get("bildungsart")).get("bezeichnung"))
    learners = not _FOR_TEACHERS.search(names)
    if "MB" in groups or (learners and _INTEGRATION.search(names)):
        return "integration_course"
    if "MC" in groups or (learners and _JOB_LANGUAGE.search(names)):
        return "job_language_course"
    if learners and _LITERACY.search(names):
        return "literacy_course"
    if learners and _GERMAN_COURSE.search(names):
        return "language_course"
    if isinstance(bildungsart, str) and _VOCATIONAL.search(bildungsart.casefold()):
        return "vocational_training"
    return "further_training"


def _levels(angebot: dict, codes: list[str]) -> list[str]:
    found = {_LEVEL_CODES[code] for code in codes if code in _LEVEL_CODES}
    for value in (angebot.get("titel"), angebot.get("abschlussbezeichnung")):
        found.update(levels_in_text(value))
    systematiken = angebot.get("systematiken")
    for entry in systematiken if isinstance(systematiken, list) else ():
        found.update(levels_in_text(as_dict(entry).get("kurzbezeichnung")))
    return sorted(found)


def _schedules_named(name: object) -> list[str]:
    if not isinstance(name, str):
        return []
    return [schedule for word, schedule in _SCHEDULE_WORDS if word in name.casefold()]


def _schedules_by_id(number_id: object) -> list[str]:
    if not isinstance(number_id, int) or isinstance(number_id, bool):
        return []
    found = [_SCHEDULE_IDS[number_id]] if number_id in _SCHEDULE_IDS else []
    found += [schedule for low, high, schedule in _SCHEDULE_ID_RANGES if low <= number_id <= high]
    return found


def _schedule(item: dict) -> list[str]:
    found: list[str] = []
    for key in ("unterrichtszeit", "unterrichtsform"):
        entry = as_dict(item.get(key))
        name = text(entry.get("bezeichnung"))
        found += _schedules_named(name) if name is not None else _schedules_by_id(entry.get("id"))
    found += _schedules_named(text(item.get("sonstigeUnterrichtsform")))
    return list(dict.fromkeys(found))  # each once, in order


def _price(item: dict) -> object:
    currency = text(item.get("kostenWaehrung"))
    if isinstance(currency, str) and currency.upper() not in {"EUR", "€"}:
        return None  # not a euro amount: no price rather than a wrong one
    remark = plain_text(item.get("kostenBemerkung"))
    if isinstance(remark, str) and PER_LESSON.search(remark):
        return None  # '2,29 € pro Unterrichtseinheit': a rate, not the price of the course
    value = item.get("kostenWert")
    if isinstance(value, str) and _DECIMAL.match(value):
        value = float(value)  # a decimal as Java prints it: '1500.0', never '1.500,00'
    price = number(value)
    if price == 0 and not (isinstance(remark, str) and FREE_IN_TEXT.search(remark)):
        # 0.0 is what the BA answers where the provider gave no price (a paid further
        # training, 'Inklusive Schulungsunterlagen'; an integration course): free only where
        # the remark says so ('Die Teilnahme ist kostenfrei')
        return None
    return price


def _city(value: object) -> object:
    """BA town names carry a region after a comma: 'Münster, Westfalen' -> 'Münster'."""
    name = text(value)
    if isinstance(name, str) and "," in name:
        return name.split(",", 1)[0].strip() or name
    return name


def _address(place: dict) -> dict:
    town = as_dict(place.get("ortStrasse"))
    land = as_dict(town.get("land"))
    street, house_number = split_street(place.get("strasse"))
    return {
        "street": street,
        "house_number": house_number,
        "postal_code": postal_code(town.get("plz")),
        "city": _city(town.get("name")),
        "state": state_name(land.get("name") or land.get("bundeslandCode") or land.get("code")),
        "country": country_code(land.get("laenderCode")),
    }


def _geo(place: dict) -> dict | None:
    point = as_dict(place.get("koordinaten")) or as_dict(
        as_dict(place.get("ortStrasse")).get("koordinaten")
    )
    return geo_point(point.get("lat"), point.get("lon"))


def _contact(item: dict, provider: dict) -> dict | None:
    """The course's first contact person (personal data: not public), else the provider's own
    phone and e-mail (an organisation's: public)."""
    people = item.get("ansprechpartner")
    for person in people if isinstance(people, list) else ():
        if not isinstance(person, dict):
            continue
        parts = (text(person.get(key)) for key in ("titel", "vorname", "nachname"))
        name = " ".join(part for part in parts if isinstance(part, str))
        call = phone(person.get("telefonVorwahl"), person.get("telefonDurchwahl")) or phone(
            person.get("mobilVorwahl"), person.get("mobilDurchwahl")
        )
        email = text(person.get("email"))
        if name or call or email:
            return {"name": name or None, "email": email, "phone": call, "public": False}
    call = phone(provider.get("telefonVorwahl"), provider.get("telefonDurchwahl"))
    email = text(provider.get("email"))
    if call or email:
        return {"name": None, "email": email, "phone": call, "public": True}
    return None


def _fields(item: dict, partner_id: str) -> dict:
    angebot = as_dict(item.get("angebot"))
    provider = as_dict(angebot.get("bildungsanbieter"))
    # the venue; a course date without one is held at the provider's address
    place = as_dict(item.get("adresse")) or as_dict(provider.get("adresse"))
    names = _names(angebot)
    codes = _codes(angebot)
    course_type = _course_type(angebot, names, codes)
    language_course = course_type in {
        "integration_course", "job_language_course", "language_course", "literacy_course",
    }
    return {
        "partner_id": partner_id,
        "source_id": text(item.get("id")),
        "title": text(angebot.get("titel")),
        "organisation": text(provider.get("name")),
        "description": plain_text(angebot.get("inhalt")),
        "address": _address(place),
        "geo": _geo(place),
        "url": web_url(text(item.get("link")) or text(angebot.get("link"))),
        "contact": _contact(item, provider),
        "updated_at": epoch_millis(item.get("aktualisierungsdatum")),
        "course_type": course_type,
        # 'B1' in a title is a language level only in a language course ('C1' is also a
        # driving licence class)
        "cefr_levels": _levels(angebot, codes) if language_course else [],
        "start_date": epoch_millis_date(item.get("beginn")),
        "end_date": epoch_millis_date(item.get("ende")),
        "schedule": _schedule(item),
        "price_eur": _price(item),
        "funded": yes_no(item.get("foerderung")),
    }


# --------------------------------------------------------------------------- parse


def _items(payload: object) -> list:
    if not isinstance(payload, dict):
        raise FormatError(
            f"not {WHAT}: the top level is a JSON {type(payload).__name__}, expected an object"
        )
    embedded = payload.get("_embedded")
    if embedded is not None and not isinstance(embedded, dict):
        raise FormatError(f"not {WHAT}: '_embedded' is {kind(embedded)}, expected an object")
    embedded = embedded or {}
    if "termine" in embedded:
        items = embedded["termine"]
        if items is not None and not isinstance(items, list):
            raise FormatError(
                f"not {WHAT}: '_embedded.termine' is {kind(items)}, expected a list"
            )
        return items or []
    # the Sprachfoerderung OpenAPI puts page, _links and aggregations inside '_embedded'
    others = sorted(set(embedded) - _PAGING_KEYS)
    if others:  # another endpoint's list: not course dates, and not 'no match' either
        raise FormatError(f"not {WHAT}: '_embedded' holds {', '.join(others)}, not 'termine'")
    if isinstance(payload.get("page"), dict) or isinstance(embedded.get("page"), dict):
        return []  # no match: Spring leaves the list out
    raise FormatError(f"not {WHAT}: neither '_embedded.termine' nor 'page' found")


def parse(data: bytes, partner_id: str) -> ParseResult:
    items = _items(load_json(data, WHAT))
    result = ParseResult()
    for item in each_object(items, "termine", result, partner_id, CourseOffer.domain.value):
        build_record(CourseOffer, _fields(item, partner_id), result)
    return drop_duplicate_ids(result)


FORMAT = Format(
    name="ba-courses",
    domain="courses",
    description=(
        "BA Weiterbildungssuche (KURSNET) and Sprachfoerderung (Berufssprachkurse, "
        "Integrationskurse) responses (JSON '_embedded.termine')"
    ),
    parse=parse,
    # the id is the field partners most often leave out; the report names it as they do
    field_names={"source_id": "id"},
)
