"""schema.org ``JobPosting`` (JSON-LD document or careers page) -> JobPosting.

Employers mark up their postings for search engines; the hub reads that markup from a
JSON-LD file or from the HTML page itself (:mod:`hub.formats.jsonld`). Every ``JobPosting``
node is one item, wherever it sits (top level, ``@graph``, ``ItemList``, ``mainEntity``).

Mapping:

- ``title`` (else ``name``), ``hiringOrganization`` -> organisation, ``description`` (HTML
  stripped), ``url``, ``occupationalCategory`` -> occupation, ``applicationContact`` -> contact
  (never public: schema.org cannot say that a person agreed to be published);
- ``jobLocation``: a ``Place`` with ``PostalAddress`` and ``geo``; with several locations the
  record keeps the FIRST one (the canonical record has one address, and its source id is the
  posting's own: a record per place would need ids the partner never gave), and the warning
  JOB_LOCATIONS_PASSED_OVER counts the others (those with another address);
- ``datePosted`` -> published_from, ``validThrough`` -> valid_through (a zoned date-time counts
  in Europe/Berlin), ``jobStartDate`` -> start_date when it is a date (text such as 'ab sofort'
  is dropped), ``dateModified`` -> updated_at;
- ``employmentType`` (text, comma list or list; schema.org's codes, their spellings such as
  'Full-time', and German words): FULL_TIME / PART_TIME -> working_time, TEMPORARY ->
  contract fixed_term, INTERN -> internship, CONTRACTOR -> self_employed, VOLUNTEER / PER_DIEM /
  OTHER -> other; unknown words are ignored (the property is free text);
- ``baseSalary``: a number or ``MonetaryAmount`` with ``value`` / ``minValue`` / ``maxValue`` or a
  ``QuantitativeValue`` holding them, ``unitText``/``unitCode`` YEAR, MONTH, HOUR -> salary period.
  One ``value`` sets min and max (one in text with 'ab' / 'mind.' only min, with 'bis' /
  'max.' only max); without a unit, the period an amount in text names after it
  ('13,90 € / Stunde', '45.000 € p.a.') is the period. A salary in another currency than EUR (``currency`` or
  ``salaryCurrency``) is left out; text without a digit ('nach Vereinbarung') too (warning
  JOB_SALARY_IN_WORDS); a salary per WEEK, DAY or another unit, or an amount per week or day
  ('500 €/Woche'), is left out with the warning JOB_SALARY_PERIOD_NOT_PUBLISHED (the hub
  publishes pay per hour, month or year and does not guess the days or weeks worked);
- ``jobLocationType`` TELECOMMUTE -> remote_possible (absent: unknown, not False); a remote
  job without a postal code in ``jobLocation`` is rejected as JOB_REMOTE_WITHOUT_WORKPLACE
  besides its missing fields (the directory is regional: it lists a remote job at the address
  of its employer or office, and invents none);
- german_level: a CEFR level named next to 'Deutsch'/'German' in ``skills``,
  ``qualifications``, ``experienceRequirements``, ``educationRequirements`` or the description,
  only when exactly one such level is found ('Deutsch B2, Englisch C1' -> B2; 'Deutsch B1-B2'
  -> none); german_required: true with such a level, false where those texts say no German
  is needed ('keine Deutschkenntnisse erforderlich', 'no German required') and name no level;
- ``applicantLocationRequirements`` is ignored.

Source id: ``identifier`` (text or ``PropertyValue``), else ``@id``, else ``url``.
"""

from __future__ import annotations

import re

from hub.formats import jsonld, values
from hub.formats.base import Format, ParseResult, build_record, drop_duplicate_ids
from hub.models import JobPosting
from hub.quality.rules import reject

TYPES = {"JobPosting"}

# employmentType key -> (field, value)
_EMPLOYMENT = {
    "FULL_TIME": ("working_time", "full_time"),
    "FULLTIME": ("working_time", "full_time"),
    "VOLLZEIT": ("working_time", "full_time"),
    "PART_TIME": ("working_time", "part_time"),
    "PARTTIME": ("working_time", "part_time"),
    "TEILZEIT": ("working_time", "part_time"),
    "SHIFT": ("working_time", "shift"),
    "SCHICHT": ("working_time", "shift"),
    "SCHICHTARBEIT": ("working_time", "shift"),
    "TEMPORARY": ("contract_duration", "fixed_term"),
    "FIXED_TERM": ("contract_duration", "fixed_term"),
    "BEFRISTET": ("contract_duration", "fixed_term"),
    "PERMANENT": ("contract_duration", "permanent"),
    "UNBEFRISTET": ("contract_duration", "permanent"),
    "INTERN": ("employment_type", "internship"),
    "INTERNSHIP": ("employment_type", "internship"),
    "PRAKTIKUM": ("employment_type", "internship"),
    "APPRENTICESHIP": ("employment_type", "apprenticeship"),
    "AUSBILDUNG": ("employment_type", "apprenticeship"),
    "CONTRACTOR": ("employment_type", "self_employed"),
    "FREELANCE": ("employment_type", "self_employed"),
    "FREIBERUFLICH": ("employment_type", "self_employed"),
    "MINIJOB": ("employment_type", "mini_job"),
    "MINI_JOB": ("employment_type", "mini_job"),
    "GERINGFUEGIG": ("employment_type", "mini_job"),
    "VOLUNTEER": ("employment_type", "other"),
    "PER_DIEM": ("employment_type", "other"),
    "OTHER": ("employment_type", "other"),
}
# when a posting names several kinds, the more specific one wins
_KIND_ORDER = ("apprenticeship", "internship", "mini_job", "self_employed", "other")

_PERIODS = {
    "YEAR": "year", "ANN": "year", "YEARLY": "year", "ANNUAL": "year", "ANNUALLY": "year",
    "P1Y": "year", "JAHR": "year", "JAEHRLICH": "year", "PRO_JAHR": "year",
    "MONTH": "month", "MON": "month", "MONTHLY": "month", "P1M": "month", "MONAT": "month",
    "MONATLICH": "month", "PRO_MONAT": "month",
    "HOUR": "hour", "HUR": "hour", "HOURLY": "hour", "PT1H": "hour", "STUNDE": "hour",
    "PRO_STUNDE": "hour",
}
_EURO = {"EUR", "EURO", "€"}
_SALARY_RANGE = re.compile(r"^(?P<low>[^–—]+?)\s*(?:-|–|—|bis)\s*(?P<high>[^–—]+)$")

_WORK_HOURS = (
    (re.compile(r"(?i)vollzeit|full[- ]?time"), "full_time"),
    (re.compile(r"(?i)teilzeit|part[- ]?time"), "part_time"),
    (re.compile(r"(?i)schicht|shift"), "shift"),
)



# --------------------------------------------------------------------------- field readers


def _employment(node: dict) -> dict:
    words: list[str] = []
    for item in jsonld.texts(node.get("employmentType")):
        separators = r"[,;]" if "://" in item else r"[,;/]"  # 'Vollzeit/Teilzeit', not IRIs
        words.extend(part for part in re.split(separators, item) if part.strip())
    working: list[str] = []
    kinds: list[str] = []
    contract = None
    for word in words:
        key = values.enum_key(jsonld.type_name(word.strip()) or "")
        target = _EMPLOYMENT.get(key or "")
        if target is None:
            continue
        name, value = target
        if name == "working_time" and value not in working:
            working.append(value)
        elif name == "employment_type":
            kinds.append(value)
            if value == "mini_job" and "mini" not in working:
                working.append("mini")
        elif name == "contract_duration":
            contract = value
    if not working:  # workHours: '40 Stunden, Vollzeit'; employmentType 'Teilzeit (20 Std.)'
        hours = " ".join([jsonld.text(node.get("workHours")) or "", *words])
        working = [value for pattern, value in _WORK_HOURS if pattern.search(hours)]
    fields: dict = {"working_time": working, "contract_duration": contract}
    for kind in _KIND_ORDER:
        if kind in kinds:
            fields["employment_type"] = kind
            break
    return fields


def _amount(value: object) -> object:
    """An amount; pay in words ('nach Vereinbarung', 'TVöD S8a': see ``_pay_in_words``) ->
    None; an amount with words around it ('ab 13,90 € / Std.') -> the amount
    (``values.salary_amount``, as csv-jobs reads a pay cell)."""
    if value is None:
        return None
    read = values.money(value)
    if isinstance(read, str):
        return values.salary_amount(read) if re.search(r"\d", read) else None
    return read


def _pay_in_words(node: dict) -> str | None:
    """The pay a posting names in words instead of an amount ('TVöD S8a', 'nach Tarif'): the
    posting is published without a salary, with the warning JOB_SALARY_IN_WORDS."""
    salary = jsonld.quantity(node.get("baseSalary"))
    for value in (salary.value, salary.min, salary.max):
        written = values.text(value) if isinstance(value, str) else None
        if written and values.PAY_IN_WORDS.search(written) and values.salary_amount(written) is None:
            return written
    return None


def _unpublished_period(salary: jsonld.Quantity) -> str | None:
    """How the posting names its pay period where the directory publishes none such: a
    ``unitText`` / ``unitCode`` other than hour, month or year (WEEK, DAY, a piece), or an
    amount per week or day ('500 €/Woche', ``values.unpublished_period``); else None."""
    if salary.unit:
        unit = values.enum_key(jsonld.type_name(salary.unit) or "")
        return None if unit in _PERIODS else salary.unit
    for value in (salary.value, salary.min, salary.max):
        if isinstance(value, str) and values.unpublished_period(value):
            return value
    return None


def _salary_dropped(node: dict) -> str | None:
    """The period of a salary left out for it (JOB_SALARY_PERIOD_NOT_PUBLISHED): a salary in
    euro with an amount, per a period the directory does not publish; else None."""
    salary = jsonld.quantity(node.get("baseSalary"))
    if _currency(node, salary) not in (None, *_EURO):
        return None  # not in euro: left out anyway
    if all(value is None or _amount(value) is None for value in (salary.value, salary.min, salary.max)):
        return None  # no amount (or pay in words, JOB_SALARY_IN_WORDS)
    return _unpublished_period(salary)


def _currency(node: dict, salary: jsonld.Quantity) -> str | None:
    currency = salary.currency or jsonld.text(node.get("salaryCurrency"))
    return currency.strip().upper() if currency is not None else None


def _salary(node: dict) -> dict:
    salary = jsonld.quantity(node.get("baseSalary"))
    if _currency(node, salary) not in (None, *_EURO):
        return {}  # the canonical salary is in euro
    if _unpublished_period(salary) is not None:
        return {}  # per week, per day, per piece: not published (JOB_SALARY_PERIOD_NOT_PUBLISHED)
    period = None
    if salary.unit:
        period = _PERIODS[values.enum_key(jsonld.type_name(salary.unit) or "")]
    else:  # the period said after the amount: '13,90 € / Stunde', '45.000 € p.a.'
        period = next((values.period_said(value) for value in (salary.value, salary.min, salary.max)
                       if values.period_said(value)), None)
    low, high = _amount(salary.min), _amount(salary.max)
    exact = _amount(salary.value)
    if low is None and high is None and exact is not None:
        span = _SALARY_RANGE.match(exact) if isinstance(exact, str) and len(exact) < 80 else None
        if span:  # '3.200 - 3.800 €'
            low, high = _amount(span.group("low")), _amount(span.group("high"))
        else:  # one amount: both ends, or the one its words bound ('ab 2.800 €', 'bis 3.500 €')
            bound = values.salary_bound(salary.value)
            low = exact if bound != "max" else None
            high = exact if bound != "min" else None
    if low is None and high is None:
        return {}
    return {"salary_min": low, "salary_max": high, "salary_period": period}


def _remote(node: dict) -> bool | None:
    kinds = {values.enum_key(jsonld.type_name(item) or "") for item in jsonld.texts(
        node.get("jobLocationType"))}
    return True if "TELECOMMUTE" in kinds else None


def _occupation(node: dict) -> str | None:
    for key in ("occupationalCategory", "relevantOccupation"):
        value = jsonld.first(node.get(key))
        if isinstance(value, dict) and "@value" not in value:
            found = jsonld.line(value.get("name")) or jsonld.line(value.get("codeValue"))
        else:
            found = jsonld.line(value)
        if found:
            return found
    return None


def _requirement_texts(node: dict) -> list[str]:
    found: list[str] = []
    for key in ("skills", "qualifications", "experienceRequirements", "educationRequirements"):
        value = node.get(key)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and "@value" not in item:
                parts = [item.get(name) for name in ("name", "description", "credentialCategory")]
            else:
                parts = [item]
            found.extend(text for text in map(jsonld.plain_text, parts) if text)
    description = jsonld.plain_text(node.get("description"))
    if description:
        found.append(description)
    return found


def _optional_date(value: object) -> object:
    read = jsonld.date(value)
    return read if jsonld.is_date(read) else None


def _optional_timestamp(value: object) -> object:
    read = jsonld.timestamp(value)
    return None if isinstance(read, str) else read


def _places_passed_over(node: dict) -> int:
    """How many ``jobLocation`` entries after the first name another address (the record
    keeps the first); the same address twice counts once."""
    locations = node.get("jobLocation")
    if not isinstance(locations, list) or len(locations) < 2:
        return 0
    kept = jsonld.place(locations[0])[0]
    others = {tuple(sorted((key, str(value)) for key, value in address.items()))
              for address in (jsonld.place(item)[0] for item in locations[1:])
              if address and address != kept}
    return len(others)


def fields(node: dict, partner_id: str) -> dict:
    address, geo = jsonld.place(node.get("jobLocation"))  # several locations: the first
    return {
        "partner_id": partner_id,
        "source_id": jsonld.source_id(node),
        "title": jsonld.line(node.get("title")) or jsonld.line(node.get("name")),
        "organisation": jsonld.organisation(node.get("hiringOrganization")),
        "description": jsonld.plain_text(node.get("description")),
        "address": address,
        "geo": geo,
        "url": jsonld.url(node.get("url")),
        "contact": jsonld.contact(node.get("applicationContact")),
        "updated_at": _optional_timestamp(node.get("dateModified")),
        "occupation": _occupation(node),
        **_employment(node),
        **_salary(node),
        **values.german_wanted(_requirement_texts(node)),
        "remote_possible": _remote(node),
        "start_date": _optional_date(node.get("jobStartDate")),
        "published_from": jsonld.date(node.get("datePosted")),
        "valid_through": jsonld.date(node.get("validThrough")),
    }


# --------------------------------------------------------------------------- parse


def parse(data: bytes, partner_id: str) -> ParseResult:
    document = jsonld.load(data)
    found = document.find(TYPES)
    if not found:
        raise document.missing("JobPosting")
    result = ParseResult()
    domain = JobPosting.domain.value
    for problem in document.problems:
        result.reject_item("RECORD_UNREADABLE", partner_id=partner_id, domain=domain,
                           value=problem)
    for item in found:
        record = fields(item.node, partner_id)
        remote_only = record["remote_possible"] and not (record["address"] or {}).get("postal_code")
        built = build_record(JobPosting, record, result,
                             refused=("JOB_REMOTE_WITHOUT_WORKPLACE", "TELECOMMUTE") if remote_only else None)
        if built is None:
            continue
        words, period = _pay_in_words(item.node), _salary_dropped(item.node)
        for code, field, value in (("JOB_SALARY_IN_WORDS", "salary_min", words),
                                   ("JOB_SALARY_PERIOD_NOT_PUBLISHED", "salary_period", period),
                                   ("JOB_LOCATIONS_PASSED_OVER", "address",
                                    _places_passed_over(item.node))):
            if value:
                result.rejections.append(reject(code, partner_id=partner_id, domain=domain,
                                                source_id=built.source_id, field=field,
                                                value=value, title=built.title))
    return drop_duplicate_ids(result)


FORMAT = Format(
    name="schemaorg-jobposting",
    domain="jobs",
    description=(
        "schema.org JobPosting as JSON-LD: a .jsonld document or a careers page with "
        '<script type="application/ld+json">'
    ),
    parse=parse,
    # the feedback report names a field as the partner's JSON-LD calls it
    field_names={
        "source_id": "identifier / @id / url",
        "title": "title",
        "organisation": "hiringOrganization",
        "address": "jobLocation",
        "address.postal_code": "jobLocation.address.postalCode",
        "address.city": "jobLocation.address.addressLocality",
        "address.street": "jobLocation.address.streetAddress",
        "salary_min": "baseSalary (minValue / value)",
        "salary_max": "baseSalary (maxValue)",
        "salary_period": "baseSalary (unitText / unitCode)",
        "published_from": "datePosted",
        "valid_through": "validThrough",
        "employment_type": "employmentType",
    },
)
