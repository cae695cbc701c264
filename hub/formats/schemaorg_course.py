"""schema.org ``Course`` with ``CourseInstance`` (JSON-LD document or course page) -> CourseOffer.

Course providers mark up their course pages for search engines; the hub reads that markup
from a JSON-LD file or from the HTML page itself (:mod:`hub.formats.jsonld`).

A page without a ``Course`` whose course dates are marked up as ``EducationEvent`` (as some
course systems do for search engines' event results) gives one record per event, read as a
course and its instance in one (``name``, ``startDate``, ``location``, ``offers``,
``organizer``; source id as for a Course).

One record per course date: a ``Course`` with ``hasCourseInstance`` (one instance or a list)
gives one CourseOffer per instance; a ``Course`` without instances gives one record from the
course itself, which then needs a ``location`` of its own (else it is rejected with
RECORD_FIELD_MISSING for ``address.postal_code``). An instance that is not an object is
RECORD_UNREADABLE.

Source id of an instance: the instance's ``identifier``, else its ``@id``, else its ``url``
(when that is not just the course's page). Else the course's id (same rule) + ``#`` + a key:
the instance's start date (``kurs-17#2026-04-13``) when every instance of the course has its
own start date, else the instance's position in ``hasCourseInstance`` counted from 1
(``kurs-17#2``). Start dates keep ids stable when past dates drop off the page; positions are
the fallback when dates repeat or are missing.

Mapping:

- title: the course's ``name`` (else the instance's); organisation: ``provider`` (else the
  instance's ``organizer``); ``description`` with HTML stripped; ``url``: the instance's, else
  the course's; ``dateModified`` -> updated_at;
- course_type from ``name``, ``keywords``, ``educationalCredentialAwarded``, ``about`` and
  ``teaches``, in that order: Integrationskurs -> integration_course, Berufssprachkurs /
  DeuFöV / berufsbezogenes Deutsch -> job_language_course, Alphabetisierungskurs ->
  literacy_course, Deutschkurs / Deutsch als Fremd- oder Zweitsprache / German course ->
  language_course (also a subject 'Deutsch', or a name 'Deutsch' with a CEFR level); else other;
- cefr_levels: the levels in ``educationalLevel`` ('B1', 'A1-B1', ``DefinedTerm``; for a course
  that is not a German course only a plain level or range counts), else, for a German course,
  the levels named in the course's or the instance's name;
- start_date / end_date: the instance's ``startDate`` / ``endDate``, else its
  ``courseSchedule``'s;
- schedule: ``courseMode`` (online / MOOC -> online, blended / hybrid or online together with
  onsite -> blended, full-time, part-time, evening, weekend; 'onsite' adds nothing) and the
  instance's ``courseSchedule`` (only weekend days -> weekend, start from 17:00 -> evening);
  ``courseWorkload`` is not read (it does not say full or part time reliably);
- address and geo: the instance's ``location`` (``Place`` or ``PostalAddress``; in a list the
  first that is not a ``VirtualLocation``), else the course's ``location``, else (an online
  course, often) the address of the course's ``provider`` or the instance's ``organizer``;
- price_eur: ``offers`` of the instance, else of the course (``price``, ``lowPrice`` or
  ``priceSpecification.price``, in EUR or without currency; not a rate per lesson or hour,
  ``unitCode`` HUR or words such as 'pro UE'); ``isAccessibleForFree`` true, or an offer
  whose ``category`` is 'Free' (Google's course markup), and no price -> 0;
  funded is not derived from a price of 0;
- seats: ``remainingAttendeeCapacity`` (free places, as in the CSV template);
- language: 'de' for German courses; for others a two-letter ``inLanguage``.
"""

from __future__ import annotations

import re

from hub.formats import jsonld, values
from hub.formats.base import Format, ParseResult, build_record, drop_duplicate_ids
from hub.formats.jsondoc import kind
from hub.models import CourseOffer

TYPES = {"Course"}
# a course date marked up as an event (course systems that feed search engines' event results),
# read where a page has no Course
EVENTS = {"EducationEvent"}

_GERMAN_COURSES = {"integration_course", "job_language_course", "literacy_course",
                   "language_course"}

_GERMAN_WORD = re.compile(r"(?i)(?<!\w)(?:deutsch|german)(?!\w)")
_SUBJECT_GERMAN = re.compile(r"(?i)^\s*(?:deutsch|german|german language|deutsche sprache)\s*$")

_MODES = {
    "ONLINE": "online", "MOOC": "online", "VIRTUAL": "online", "REMOTE": "online",
    "BLENDED": "blended", "HYBRID": "blended",
    "FULL_TIME": "full_time", "FULLTIME": "full_time", "VOLLZEIT": "full_time",
    "PART_TIME": "part_time", "PARTTIME": "part_time", "TEILZEIT": "part_time",
    "EVENING": "evening", "ABENDKURS": "evening", "ABENDS": "evening",
    "WEEKEND": "weekend", "WOCHENENDE": "weekend", "WOCHENENDKURS": "weekend",
}
_ONSITE = {"ONSITE", "ON_SITE", "IN_PERSON", "PRAESENZ", "PRAESENZKURS", "CLASSROOM", "VOR_ORT"}
_WEEKEND_DAYS = {"saturday", "sunday", "samstag", "sonntag", "sa", "so", "su"}
_EURO = {"EUR", "EURO", "€"}
_FREE = {"FREE", "KOSTENLOS", "KOSTENFREI", "GRATIS"}  # an offer's ``category``
_LANGUAGE_NAMES = {"deutsch": "de", "german": "de", "englisch": "en", "english": "en"}


# --------------------------------------------------------------------------- field readers


def _course_type(course: dict) -> str:
    sources = [
        jsonld.texts(course.get("name")),
        jsonld.keywords(course.get("keywords")),
        _credential_texts(course.get("educationalCredentialAwarded")),
        jsonld.texts(course.get("about")),
        jsonld.texts(course.get("teaches")),
    ]
    for source in sources:
        for text in source:
            found = values.course_type_in_text(text)
            if found:
                return found
    subjects = jsonld.texts(course.get("about")) + jsonld.texts(course.get("teaches"))
    if any(_SUBJECT_GERMAN.match(subject) for subject in subjects):
        return "language_course"
    name = jsonld.text(course.get("name")) or ""
    if _GERMAN_WORD.search(name) and values.levels_in_text(name):
        return "language_course"
    return "other"


def _credential_texts(value: object) -> list[str]:
    found: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and "@value" not in item:
            for key in ("name", "credentialCategory", "description"):
                found.extend(jsonld.texts(item.get(key)))
        else:
            found.extend(jsonld.texts(item))
    return found


def _levels(course: dict, instance: dict | None, course_type: str) -> list[str]:
    german = course_type in _GERMAN_COURSES
    stated: list[str] = []
    for text in jsonld.texts(course.get("educationalLevel")):
        if german:  # 'Niveau A2 (GER)', 'a2'
            found = values.levels_in_text(text.upper())
        else:  # only a plain level or range: 'Klasse C1' of a driving course is no CEFR level
            read = values.cefr_levels(text)
            found = read if isinstance(read, list) and set(read) <= set(values.LEVELS) else []
        stated.extend(level for level in found if level not in stated)
    if stated or not german:
        return sorted(stated, key=values.LEVELS.index)
    for node in (course, instance):
        if node is not None:
            found = values.levels_in_text(jsonld.text(node.get("name")))
            if found:
                return found
    return []


def _schedule(node: dict) -> list[str]:
    found: list[str] = []
    onsite = False
    for word in jsonld.texts(node.get("courseMode")):
        key = values.enum_key(jsonld.type_name(word) or "") or ""
        if key in _ONSITE:
            onsite = True
        elif key in _MODES and _MODES[key] not in found:
            found.append(_MODES[key])
    if onsite and "online" in found:  # online and onsite: blended
        found[found.index("online")] = "blended"
    if "blended" in found:
        found = [item for item in found if item != "online"]
    for schedule in jsonld.objects(node.get("courseSchedule") or node.get("eventSchedule")):
        days = [(jsonld.type_name(day) or "").lower() for day in jsonld.texts(
            schedule.get("byDay"))]
        if days and all(day in _WEEKEND_DAYS for day in days) and "weekend" not in found:
            found.append("weekend")
        start = jsonld.text(schedule.get("startTime")) or ""
        hour = re.match(r"^(?:\d{4}-\d{2}-\d{2}T)?(\d{1,2}):\d{2}", start)
        if hour and 17 <= int(hour.group(1)) <= 23 and "evening" not in found:
            found.append("evening")
    return list(dict.fromkeys(found))


def _location(instance: dict | None, course: dict) -> tuple[dict, dict | None]:
    for node in (instance, course):
        if node is None:
            continue
        for key in ("location", "contentLocation"):
            value = node.get(key)
            candidates = value if isinstance(value, list) else [value]
            for candidate in candidates:
                if candidate is None or jsonld.has_type(candidate, {"VirtualLocation"}):
                    continue
                address, geo = jsonld.place(candidate)
                if address or geo:
                    return address, geo
    # no place of its own (an online course, often): the provider's address, as the BA
    # course search gives the provider's when an offer names no venue
    for node, key in ((course, "provider"), (instance, "organizer")):
        for organisation in jsonld.objects(node.get(key)) if node is not None else ():
            address, geo = jsonld.place(organisation)
            if address:
                return address, geo
    return {}, None


def _price(nodes: list[dict]) -> object:
    for node in nodes:
        for offer in jsonld.objects(node.get("offers")):
            currency = jsonld.text(offer.get("priceCurrency"))
            amount, source = offer.get("price"), offer
            if amount is None:
                amount = offer.get("lowPrice")
            for spec in jsonld.objects(offer.get("priceSpecification")):
                if amount is not None:
                    break
                amount, source = spec.get("price"), spec
                currency = currency or jsonld.text(spec.get("priceCurrency"))
            if amount is None:
                continue
            if currency is not None and currency.strip().upper() not in _EURO:
                continue  # the canonical price is in euro
            read = values.money(jsonld.first(amount))
            if _per_lesson(source, read):
                continue  # a rate per lesson or hour ('2,29 € pro UE') is not the course's price
            return read
    for node in nodes:
        free = node.get("isAccessibleForFree")
        if free is True or (isinstance(free, str) and free.strip().lower() == "true"):
            return 0.0
        # Google's course markup: an offer without a price whose category is 'Free'
        if any(values.enum_key(jsonld.text(offer.get("category")) or "") in _FREE
               for offer in jsonld.objects(node.get("offers"))):
            return 0.0
    return None


def _per_lesson(node: dict, price: object) -> bool:
    """Whether ``price``, read from ``node`` (an offer or one of its price specifications),
    is a rate per lesson or hour: the node's unit or ``referenceQuantity`` in hours (HUR) or
    lessons, or its words saying so, unless they give the rate of another amount ('1.603 €:
    700 UE, 2,29 € pro UE')."""
    quantity = node.get("referenceQuantity")
    units = [node.get("unitCode"), node.get("unitText")]
    if isinstance(quantity, dict):
        units += [quantity.get("unitCode"), quantity.get("unitText")]
    for unit in units:
        word = jsonld.text(unit)
        if word and (word.upper() == "HUR" or values.PER_LESSON.search(word)):
            return True
    for key in ("description", "name"):
        said = jsonld.text(node.get(key))
        if said and values.PER_LESSON.search(said):
            rates = [values.money(m.group(1)) for m in _RATE.finditer(said)]
            if not rates or price in rates:
                return True
    return False


# an amount said to be per lesson: '2,29 € pro UE', '2,29 EUR je Unterrichtsstunde'
_RATE = re.compile(r"(\d[\d.,]*)\s*(?:€|eur\w*)?\s*(?:pro|je|per)\s+\w+", re.IGNORECASE)


def _language(course: dict, course_type: str) -> str | None:
    if course_type in _GERMAN_COURSES:
        return None  # the model's default: 'de'
    value = jsonld.first(course.get("inLanguage"))
    if isinstance(value, dict) and "@value" not in value:
        value = value.get("alternateName") or value.get("name")
    word = jsonld.text(value)
    if word is None:
        return None
    code = _LANGUAGE_NAMES.get(word.lower()) or word.split("-")[0].split("_")[0].lower()
    return code if re.fullmatch(r"[a-z]{2}", code) else None


def _node_source_id(instance: dict, course: dict) -> str | None:
    found = jsonld.identifier(instance.get("identifier")) or jsonld.node_id(instance)
    if found:
        return found
    link = jsonld.text(instance.get("url"))
    if link and link != jsonld.text(course.get("url")):
        return link
    return None


def fields(course: dict, instance: dict | None, source_id: str | None, partner_id: str) -> dict:
    here = instance if instance is not None else course
    course_type = _course_type(course)
    address, geo = _location(instance, course)
    return {
        "partner_id": partner_id,
        "source_id": source_id,
        "title": jsonld.line(course.get("name")) or jsonld.line(here.get("name")),
        "organisation": jsonld.organisation(course.get("provider"))
        or jsonld.organisation(here.get("organizer")),
        "description": jsonld.plain_text(course.get("description"))
        or jsonld.plain_text(here.get("description")),
        "address": address,
        "geo": geo,
        "url": jsonld.url(here.get("url")) or jsonld.url(course.get("url")),
        "updated_at": _optional_timestamp(course.get("dateModified")),
        "course_type": course_type,
        "language": _language(course, course_type),
        "cefr_levels": _levels(course, instance, course_type),
        "start_date": _date(here, "startDate"),
        "end_date": _date(here, "endDate"),
        "schedule": _schedule(here) or (_schedule(course) if instance is not None else []),
        "price_eur": _price([here, course] if instance is not None else [course]),
        "seats": values.integer(jsonld.first(here.get("remainingAttendeeCapacity"))),
    }


def _date(here: dict, key: str) -> object:
    """The instance's ``startDate`` / ``endDate``, or its ``courseSchedule``'s (a Schedule
    holds them where Google's course markup puts them)."""
    if here.get(key) is not None:
        return jsonld.date(here.get(key))
    for schedule in jsonld.objects(here.get("courseSchedule") or here.get("eventSchedule")):
        if schedule.get(key) is not None:
            return jsonld.date(schedule.get(key))
    return None


def _optional_timestamp(value: object) -> object:
    read = jsonld.timestamp(value)
    return None if isinstance(read, str) else read


def _instance_keys(instances: list[tuple[int, dict]]) -> dict[int, str]:
    """position -> key for the fallback id: the start date if all differ, else the position."""
    starts = {}
    for position, instance in instances:
        start = _date(instance, "startDate")
        starts[position] = start.isoformat() if jsonld.is_date(start) else None
    dates = list(starts.values())
    if all(dates) and len(set(dates)) == len(dates):
        return {position: str(date) for position, date in starts.items()}
    return {position: str(position) for position, _ in instances}


# --------------------------------------------------------------------------- parse


def parse(data: bytes, partner_id: str) -> ParseResult:
    document = jsonld.load(data)
    found = document.find(TYPES)
    events = [] if found else document.find(EVENTS)
    if not found and not events:
        raise document.missing("Course")
    result = ParseResult()
    domain = CourseOffer.domain.value
    for problem in document.problems:
        result.reject_item("RECORD_UNREADABLE", partner_id=partner_id, domain=domain,
                           value=problem)
    for item in events:  # a course date marked up as an event: the course and its date in one
        event = item.node
        build_record(CourseOffer, fields(event, event, jsonld.source_id(event), partner_id), result)
    for item in found:
        course = item.node
        course_id = jsonld.source_id(course)
        raw = course.get("hasCourseInstance")
        entries = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        if not entries:
            build_record(CourseOffer, fields(course, None, course_id, partner_id), result)
            continue
        instances: list[tuple[int, dict]] = []
        for position, entry in enumerate(entries, start=1):
            if isinstance(entry, dict):
                instances.append((position, entry))
            else:
                result.reject_item(
                    "RECORD_UNREADABLE",
                    partner_id=partner_id,
                    domain=domain,
                    source_id=course_id,
                    title=jsonld.line(course.get("name")),
                    value=f"hasCourseInstance entry {position} is {kind(entry)}, "
                    "not an object",
                )
        keys = _instance_keys(instances)
        for position, instance in instances:
            source_id = _node_source_id(instance, course)
            if source_id is None and course_id is not None:
                source_id = f"{course_id}#{keys[position]}"
            build_record(CourseOffer, fields(course, instance, source_id, partner_id), result)
    return drop_duplicate_ids(result)


FORMAT = Format(
    name="schemaorg-course",
    domain="courses",
    description=(
        "schema.org Course with CourseInstance as JSON-LD: a .jsonld document or a course page "
        'with <script type="application/ld+json">; one record per course date'
    ),
    parse=parse,
    # the id is the field partners most often leave out; the report names it as they do
    field_names={"source_id": "identifier / @id / url"},
)
