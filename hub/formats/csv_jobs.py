"""The hub's CSV template for job offers of small employers -> JobPosting.

Specified in ``schemas/csv/jobs.md``; read like every hub template (``hub.formats.csvtemplate``):
``;`` or ``,``, UTF-8 (with or without BOM) or Windows-1252, loosely matched German headers,
one job offer per row.
"""

from __future__ import annotations

import re

from hub.formats.base import Format, Invalid
from hub.formats.csvtemplate import (
    COMMON_COLUMNS,
    Cells,
    CsvTemplate,
    common_fields,
    field_names,
    month_only_notes,
)
from hub.formats.values import (
    ASIDE,
    LEVELS,
    PAY_IN_WORDS,
    SALARY_PERIODS,
    TIMES_OF_DAY,
    YES_WORDS,
    cefr_level,
    choice,
    choices,
    clock_hours,
    date_after_word,
    date_value,
    levels_in_text,
    month_end,
    month_start,
    period_said,
    salary_amount,
    says_no_german,
    text,
    unpublished_period,
    without_other_languages,
    yes_no,
)
from hub.models import JobPosting

COLUMNS = {
    "stellenid": "Stellen-ID",
    "titel": "Titel",
    "arbeitgeber": "Arbeitgeber",
    "beruf": "Beruf",
    "art": "Art",
    "arbeitszeit": "Arbeitszeit",
    "befristung": "Befristung",
    "deutschkenntnisse": "Deutschkenntnisse",
    "gehaltvon": "Gehalt von",
    "gehaltbis": "Gehalt bis",
    "gehaltpro": "Gehalt pro",
    "homeoffice": "Homeoffice",
    "beginn": "Beginn",
    "veroeffentlichtab": "Veroeffentlicht ab",
    "bewerbungsfrist": "Bewerbungsfrist",
    "bareferenznummer": "BA-Referenznummer",
    **COMMON_COLUMNS,
}
REQUIRED = ("stellenid", "titel", "plz", "ort")

# other names spreadsheets give the template's columns (normalised; see csvtemplate.COMMON_ALIASES)
ALIASES = {
    **dict.fromkeys(("stellennr", "stellennummer", "jobid", "stellenangebotsid", "angebotsid"),
                    "stellenid"),
    **dict.fromkeys(("stellentitel", "stellenbezeichnung", "jobtitel"), "titel"),
    **dict.fromkeys(("firma", "unternehmen", "betrieb"), "arbeitgeber"),
    **dict.fromkeys(("beschaeftigungsart", "anstellungsart", "stellenart"), "art"),
    **dict.fromkeys(("arbeitsbeginn", "eintrittsdatum", "eintritt", "startdatum"), "beginn"),
    **dict.fromkeys(("bewerbungsschluss", "bewerbungsende", "bewerbenbis"), "bewerbungsfrist"),
    # one pay column: an amount, or a range that gives both ends
    **dict.fromkeys(("gehalt", "lohn", "verguetung", "entgelt"), "gehaltvon"),
    **dict.fromkeys(("sprachkenntnisse", "deutschniveau", "sprachniveau"), "deutschkenntnisse"),
    **dict.fromkeys(("mobilesarbeiten", "remote"), "homeoffice"),
    **dict.fromkeys(("arbeitsort", "einsatzort"), "ort"),
    **dict.fromkeys(("refnr", "bareferenz", "referenznummer"), "bareferenznummer"),
}

EMPLOYMENT_TYPES = {
    "arbeit": "employee",
    "anstellung": "employee",
    "festanstellung": "employee",
    "ausbildung": "apprenticeship",
    "praktikum": "internship",
    "minijob": "mini_job",
    "mini-job": "mini_job",
    "selbststaendig": "self_employed",
    "selbstständig": "self_employed",
    "freiberuflich": "self_employed",
    "werkstudent": "employee",
    "werkstudentin": "employee",
    "werkstudierende": "employee",
    "ausbildungsplatz": "apprenticeship",
    "praktikumsplatz": "internship",
    "aushilfe": "employee",
    "zeitarbeit": "employee",
    "duale ausbildung": "apprenticeship",
    "geringfügig": "mini_job",
    "geringfügige beschäftigung": "mini_job",
    "pflichtpraktikum": "internship",
    "sonstiges": "other",
    # as employers and job boards name them too
    "duales studium": "apprenticeship",
    "leiharbeit": "employee",
    "arbeitnehmerüberlassung": "employee",
    "saisonarbeit": "employee",
    "saisonjob": "employee",
    "saisonstelle": "employee",
    "ferienjob": "employee",
    "aushilfsjob": "employee",
    "nebenjob": "employee",
    "minijobber": "mini_job",
    "ehrenamt": "other",
    "ehrenamtlich": "other",
    "freiwilligendienst": "other",
    "bundesfreiwilligendienst": "other",
    "bfd": "other",
    "fsj": "other",
    "fsj/bfd": "other",
}
# a mini job named by its pay cap: '450-Euro-Job', '538 €-Job', 'auf 556-Euro-Basis'
_MINI_JOB_PAY = re.compile(r"(?i)^(?:auf\s+)?\d{3}\s*-?\s*(?:€|euro|eur)\s*-?\s*(?:job|basis|kraft)$")
# weekly hours in Arbeitszeit: '39 Std./Woche', '40 h', '20-30 Std.', '30 Wochenstunden'
_WEEKLY_HOURS = re.compile(
    r"(?i)(\d{1,2}(?:[.,]\d+)?)(?:\s*(?:-|–|bis)\s*(\d{1,2}(?:[.,]\d+)?))?\s*"
    r"(?:wochenstunden|std\.?|stunden|h|wstd\.?)"
    r"(?:\s*(?:/|pro|je|in\s+der|die)\s*(?:woche|wo\.?))?(?![\w])")
FULL_TIME_HOURS = 35  # weekly hours from which a position counts as full time

WORKING_TIMES = {
    "vollzeit": "full_time",
    "teilzeit": "part_time",
    "schicht": "shift",
    "schichtarbeit": "shift",
    "schichtdienst": "shift",
    "nachtschicht": "shift",
    "nachtarbeit": "shift",
    "wochenende": "shift",
    "wochenendarbeit": "shift",
    "flexibel": "flexible",
    "gleitzeit": "flexible",
    "minijob": "mini",
    "mini-job": "mini",
    "ganztags": "full_time",
    "halbtags": "part_time",
    # 'Voll- oder Teilzeit', 'Voll-/Teilzeit', 'VZ/TZ', as postings shorten them
    "voll-": "full_time",
    "vz": "full_time",
    "tz": "part_time",
    "wechselschicht": "shift",
    "früh-": "shift",
    "spätschicht": "shift",
    "frühschicht": "shift",
    "flexible arbeitszeiten": "flexible",
    "flexible arbeitszeit": "flexible",
    "geringfügig": "mini",
    "geringfügige beschäftigung": "mini",
}

CONTRACTS = {"unbefristet": "permanent", "befristet": "fixed_term"}
# the duration said in words: 'unbefristeter Vertrag', 'nicht befristet', 'keine Befristung',
# 'Festanstellung' (permanent, checked first); 'befristet auf 2 Jahre', 'zunächst befristet',
# 'auf 1 Jahr befristet', 'befr.', 'Zeitvertrag' (fixed term)
_PERMANENT = re.compile(r"(?i)\bunbefristet|\bnicht\s+befristet|\b(?:keine|ohne)\s+befristung|"
                        r"\bfestanstellung|\bdauerstelle|\bdauerhaft")
# ...and 'Option auf Übernahme', '(Elternzeit)vertretung', 'saisonal', '12 Monate', 'für 2 Jahre'
_FIXED_TERM = re.compile(r"(?i)\bbefristet|\bbefr\.|\bbefristung\b|\bzeitvertrag|übernahme|"
                         r"vertretung\b|\bsaison|^(?:für|auf)?\s*\d+\s*(?:monate?|jahre?)\b")


# 'Homeoffice: teilweise' (some days at home) counts as possible
REMOTE_YES = YES_WORDS | {"teilweise", "möglich", "moeglich", "nach absprache", "nach vereinbarung",
                          "nach rücksprache", "auf anfrage"}
# home office said otherwise: 'mobiles Arbeiten', 'hybrid', 'remote', '2 Tage pro Woche' (yes);
# 'nicht möglich', 'kein Homeoffice', 'vor Ort' (no)
_REMOTE_NO = re.compile(r"(?i)^(?:nicht\s+möglich|nicht\s+moeglich|kein(?:e|es)?(?:\s+home\s*office)?|"
                        r"nur\s+vor\s+ort|vor\s+ort|präsenz)$")
_REMOTE_YES = re.compile(r"(?i)mobile[sn]?\s+arbeit|\bhybrid|\bremote\b|home\s*office|\d+\s*tage?\b")
# no German asked for: no level is published, and nothing is wrong with that
_NO_GERMAN = {"nein", "keine", "nicht notwendig", "nicht erforderlich", "nicht nötig",
              "nicht noetig", "keine erforderlich", "keine deutschkenntnisse erforderlich"}

# 'as soon as possible': no date, for a start as for a deadline
_SOON = {"sofort", "ab sofort", "baldmöglichst", "schnellstmöglich", "asap"}
# 'Beginn' words for 'as soon as possible' or 'when we agree': no date is published
AT_ONCE = _SOON | {"nächstmöglich", "naechstmoeglich", "zum nächstmöglichen termin",
                   "zum nächstmöglichen zeitpunkt", "ab nächstmöglichem zeitpunkt",
                   "nächstmöglicher termin", "nächstmöglicher zeitpunkt", "ab sofort möglich",
                   "sofort möglich", "nach vereinbarung", "nach absprache"}
# 'Bewerbungsfrist' words for 'no deadline' (the offer stays until it is withdrawn), and for
# 'apply soon'
NO_DEADLINE = _SOON | {"laufend", "keine", "unbefristet", "bis auf weiteres", "bis zur besetzung",
                       "fortlaufend", "keine frist", "ohne frist", "jederzeit",
                       "bis zur stellenbesetzung", "umgehend"}
# pay stated in words: the posting is published without a salary, and the partner is told
# German skills described in words, without a CEFR level
_GERMAN_IN_WORDS = re.compile(
    r"(?i)deutsch|kenntnisse|grund|\bgute?\b|fließend|fliessend|verhandlungssicher|\bsicher|"
    r"muttersprach|anfänger|fortgeschritten|wort und schrift")
# between the ends of a range in one cell: '3000-3500', '3.000 € – 3.500 €', '3.000 bis 3.500'
_RANGE_DASH = re.compile(r"\s*(?:[-–—]|\bbis\b|\bund\b)\s*")


def _start(value: str | None) -> object:
    """'01.08.2026', 'ab 01.08.2026' -> date; 'sofort' -> None (as soon as possible);
    'ab März 2028' -> its first day (a warning, see _notes)."""
    if value is None or value.casefold() in AT_ONCE:
        return None
    return month_start(value) or date_after_word(value)


def _employment(value: str | None) -> object:
    """Art: a word of EMPLOYMENT_TYPES, also with a remark in brackets ('Praktikum
    (Pflicht)'), or a mini job named by its pay cap ('520-Euro-Job'); else as written."""
    found = choice(value, EMPLOYMENT_TYPES)
    if isinstance(found, str) and found not in EMPLOYMENT_TYPES.values():
        if _MINI_JOB_PAY.match(found):
            return "mini_job"
        bare = ASIDE.sub(" ", found).strip()
        if bare and bare != found:
            return choice(bare, EMPLOYMENT_TYPES)
    return found


def _working_time(value: str | None) -> object:
    """Arbeitszeit: words of WORKING_TIMES (``choices``); weekly hours ('39 Std./Woche', '40 h',
    '20-30 Std.') are full time from FULL_TIME_HOURS on, else part time (a range across it:
    both); the hours of the day ('Mo-Fr 8-16 Uhr') are passed over."""
    if value is not None:
        value = clock_hours(value)[0]
    if value is None or not _WEEKLY_HOURS.search(value):
        return choices(value, WORKING_TIMES, passed_over=TIMES_OF_DAY)

    def words(hours: re.Match) -> str:
        low = float(hours.group(1).replace(",", "."))
        high = float((hours.group(2) or hours.group(1)).replace(",", "."))
        kinds = [kind for kind, takes in (("Teilzeit", low < FULL_TIME_HOURS),
                                          ("Vollzeit", high >= FULL_TIME_HOURS)) if takes]
        return ", " + ", ".join(kinds) + ", "  # a word of its own: 'Teilzeit 20h' as well

    return choices(_WEEKLY_HOURS.sub(words, value), WORKING_TIMES, passed_over=TIMES_OF_DAY)


def _contract(value: str | None) -> object:
    found = choice(value, CONTRACTS)
    if isinstance(found, str) and found not in CONTRACTS.values():
        if _PERMANENT.search(found):
            return "permanent"
        if _FIXED_TERM.search(found):
            return "fixed_term"
    return found


def _pay(cells: Cells) -> tuple[object, object, object]:
    """Gehalt von, Gehalt bis and Gehalt pro -> salary_min, salary_max, salary_period. A
    range in one cell ('3.000-3.500 €', '3.000 bis 3.500 €', the other cell empty) gives both
    ends; the period an amount names ('14,50 €/Std.', '45.000 € p.a.') stands where Gehalt
    pro is empty (where it is given, it counts). Pay per week or per day is left out (a
    warning, see _notes and ``_unpublished_pay``)."""
    low, high = cells.get("gehaltvon"), cells.get("gehaltbis")
    if _unpublished_pay(cells) or unpublished_period(cells.get("gehaltpro")):
        return None, None, None
    period = _salary_period(cells.get("gehaltpro"))
    if period is None:
        period = period_said(low) or period_said(high)
    ends = _salary_range(low) if high is None else _salary_range(high) if low is None else None
    if ends:
        return (*ends, period)
    return salary_amount(low), salary_amount(high), period


def _unpublished_pay(cells: Cells) -> tuple[str, str] | None:
    """(field, cell) where the pay is per week or per day ('Gehalt pro: Woche', 'Gehalt von:
    500 €/Woche'), when an amount is given: the directory publishes no such salary (the
    posting is, without it: JOB_SALARY_PERIOD_NOT_PUBLISHED). Pay in words alone has its
    own warning."""
    amounts = (cells.get("gehaltvon"), cells.get("gehaltbis"))
    if all(value is None or salary_amount(value) is None for value in amounts):
        return None
    for key, name in (("gehaltpro", "salary_period"), ("gehaltvon", "salary_min"),
                      ("gehaltbis", "salary_max")):
        if unpublished_period(cells.get(key)):
            return name, cells[key]
    return None


def _salary_range(value: str | None) -> tuple[float, float] | None:
    """Both ends of a range in one cell ('3000-3500', '3.000 € bis 3.500 €'), else None."""
    if value is None:
        return None
    for dash in _RANGE_DASH.finditer(value):
        low, high = salary_amount(value[:dash.start()]), salary_amount(value[dash.end():])
        if isinstance(low, float) and isinstance(high, float):
            return low, high
    return None


def _remote(value: str | None) -> object:
    """Homeoffice: 'ja', 'teilweise', 'mobiles Arbeiten', 'hybrid', '2 Tage pro Woche' ->
    True; 'nein', 'nicht möglich', 'vor Ort' -> False."""
    answer = yes_no(value, yes=REMOTE_YES)
    if isinstance(answer, str):
        if _REMOTE_NO.match(answer):
            return False
        if _REMOTE_YES.search(answer):
            return True
    return answer


def _german_level(value: str | None) -> object:
    """'B2', 'B1-B2' -> the (lowest) level; one level among words ('B2 erforderlich',
    'mindestens B1') -> that level; German described without a level ('gute
    Deutschkenntnisse') -> None (a warning, see _notes)."""
    if value is not None and (value.casefold() in _NO_GERMAN or says_no_german(value)):
        return None
    level = cefr_level(value)
    if isinstance(level, str) and level not in LEVELS:
        named = levels_in_text(level)
        if named:
            return named[0]
        if _german_in_words(level):
            return None
    return level


def _german_required(value: str | None, level: object) -> bool | None:
    """False where the cell says no German is needed ('keine', 'nicht erforderlich'), True
    where it names a level or describes the German wanted, None where it is empty."""
    if value is None:
        return None
    if value.casefold() in _NO_GERMAN or says_no_german(value):
        return False
    return True if level in LEVELS or _german_in_words(value) else None


def _german_in_words(value: str | None) -> bool:
    """German described without a level ('gute Deutschkenntnisse'): published without one."""
    return (value is not None and not levels_in_text(value) and bool(_GERMAN_IN_WORDS.search(value))
            and not says_no_german(value))


def _deadline(value: str | None) -> object:
    """Bewerbungsfrist: a date ('bis 30.04.2028'); no deadline ('laufend') -> None; a month
    without its day ('Ende März 2028') -> its last day (a warning, see _notes)."""
    if value is not None and value.casefold() in NO_DEADLINE:
        return None
    return month_end(value) or date_after_word(value)


def _period_missing(cells: Cells) -> list[tuple[str, str, str | None]]:
    """The warning for an amount without its period (Gehalt pro empty, none after the
    amount): published so, without a guessed period. It names the column to fill in,
    Gehalt pro, with what is there (nothing): the report shows field and value side by side,
    and the amount under 'Gehalt pro' read as if the partner had written it there."""
    low, high, period = _pay(cells)
    ends = [end for end in (low, high) if end is not None]
    if period is not None or not ends or not all(isinstance(end, float) for end in ends):
        return []  # (an amount that is none is RECORD_FIELD_INVALID or JOB_SALARY_IN_WORDS)
    return [("JOB_SALARY_PERIOD_MISSING", "salary_period", cells.get("gehaltpro"))]


def _notes(cells: Cells) -> list[tuple[str, str, str]]:
    return _period_missing(cells) + [("JOB_SALARY_IN_WORDS", name, cells[key])
            for key, name in (("gehaltvon", "salary_min"), ("gehaltbis", "salary_max"))
            if cells.get(key) is not None and PAY_IN_WORDS.search(cells[key])
            and salary_amount(cells[key]) is None] \
        + [("JOB_SALARY_PERIOD_NOT_PUBLISHED", *pay) for pay in [_unpublished_pay(cells)] if pay] \
        + month_only_notes(cells.get("beginn")) \
        + ([("DEADLINE_MONTH_ONLY", "valid_through", cells["bewerbungsfrist"])]
           if month_end(cells.get("bewerbungsfrist")) else []) \
        + ([("JOB_GERMAN_LEVEL_IN_WORDS", "german_level", cells["deutschkenntnisse"])]
           if _german_in_words(without_other_languages(cells.get("deutschkenntnisse"))) else [])


def _salary_period(value: str | None) -> object:
    period = choice(value, SALARY_PERIODS)
    if period is None or period in SALARY_PERIODS.values():
        return period
    return Invalid(value)  # the model takes any text here: the template does not


def _fields(cells: Cells, partner_id: str) -> dict:
    employment = _employment(cells.get("art"))
    working = _working_time(cells.get("arbeitszeit"))
    # a working time in the Art column ('Art: Vollzeit', as job boards name the kind of
    # position): an employment with that working time, besides Arbeitszeit's
    times = choices(employment, WORKING_TIMES) if employment not in EMPLOYMENT_TYPES.values() else None
    if isinstance(times, list) and times and set(times) <= set(WORKING_TIMES.values()):
        employment = "mini_job" if "mini" in times else "employee"
        working = [*times, *(time for time in working or () if time not in times)]
    # a mini job is both a kind of employment and a working time: either implies the other
    if employment == "mini_job" and working is None:
        working = ["mini"]
    elif employment == "mini_job" and isinstance(working, list) and "mini" not in working:
        working = [*working, "mini"]
    elif employment is None and isinstance(working, list) and "mini" in working:
        employment = "mini_job"
    return {
        **common_fields(
            cells, partner_id, id_column="stellenid", organisation_column="arbeitgeber"
        ),
        "ba_reference": text(cells.get("bareferenznummer")),
        "occupation": cells.get("beruf"),
        "employment_type": employment,
        "working_time": working,
        "contract_duration": _contract(cells.get("befristung")),
        # 'keine, Englisch B1': the level of another language is not German's
        "german_level": (german := _german_level(without_other_languages(cells.get("deutschkenntnisse")))),
        "german_required": _german_required(without_other_languages(cells.get("deutschkenntnisse")), german),
        # Gehalt von above Gehalt bis is left to the quality stage (JOB_SALARY_RANGE_INVERTED)
        **dict(zip(("salary_min", "salary_max", "salary_period"), _pay(cells))),
        "remote_possible": _remote(cells.get("homeoffice")),
        "start_date": _start(cells.get("beginn")),
        "published_from": date_value(cells.get("veroeffentlichtab")),
        "valid_through": _deadline(cells.get("bewerbungsfrist")),
    }


TEMPLATE = CsvTemplate(
    what="job CSV",
    model=JobPosting,
    columns=COLUMNS,
    required=REQUIRED,
    id_column="stellenid",
    aliases=ALIASES,
    amounts={"gehaltvon": "salary_min", "gehaltbis": "salary_max"},
    fields=_fields,
    notes=_notes,
)

parse = TEMPLATE.parse


FORMAT = Format(
    name="csv-jobs",
    domain="jobs",
    description="The hub's CSV template for job offers of small employers (schemas/csv/jobs.md)",
    parse=parse,
    names_are_labels=True,
    field_words={
        "employment_type": ("Arbeit", "Ausbildung", "Praktikum", "Minijob", "Selbststaendig",
                            "Sonstiges"),
        "working_time": ("Vollzeit", "Teilzeit", "Schicht", "flexibel", "Minijob"),
        "contract_duration": ("unbefristet", "befristet"),
        "salary_period": ("Jahr", "Monat", "Stunde"),
    },
    field_names=field_names(COLUMNS, "stellenid", "arbeitgeber", {
        "ba_reference": "bareferenznummer",
        "occupation": "beruf",
        "employment_type": "art",
        "working_time": "arbeitszeit",
        "contract_duration": "befristung",
        "german_level": "deutschkenntnisse",
        "salary_min": "gehaltvon",
        "salary_max": "gehaltbis",
        "salary_period": "gehaltpro",
        "remote_possible": "homeoffice",
        "start_date": "beginn",
        "published_from": "veroeffentlichtab",
        "valid_through": "bewerbungsfrist",
    }),
)
