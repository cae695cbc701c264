"""The hub's CSV template for course offers -> CourseOffer.

The template is specified in ``schemas/csv/courses.md``: ``;`` or ``,`` as separator,
UTF-8 (with or without BOM) or Windows-1252, one header row whose column names are matched
loosely (case, spaces, hyphens and umlaut spellings do not matter), one course date per row.
"""

from __future__ import annotations

import re
from functools import lru_cache

from hub.formats.base import Format
from hub.formats.csvtemplate import (
    COMMON_COLUMNS,
    Cells,
    CsvTemplate,
    common_fields,
    field_names,
    month_only_notes,
    normalise_header,
)
from hub.formats.values import (
    NO_WORDS,
    ON_REQUEST,
    PER_LESSON,
    TIMES_OF_DAY,
    YES_WORDS,
    cefr_levels,
    choice,
    choices,
    clock_hours,
    course_type_in_text,
    date_after_word,
    date_in_text,
    integer,
    money,
    month_end,
    month_start,
    text,
    yes_no,
)
from hub.models import CourseOffer

# normalised header name -> field key used below; the display names are the template's
COLUMNS = {
    "kursid": "Kurs-ID",
    "titel": "Titel",
    "anbieter": "Anbieter",
    "kursart": "Kursart",
    "sprachniveau": "Sprachniveau",
    "beginn": "Beginn",
    "ende": "Ende",
    "zeitmodell": "Zeitmodell",
    "kinderbetreuung": "Kinderbetreuung",
    "kosten": "Kosten",
    "gefoerdert": "Gefoerdert",
    "plaetze": "Plaetze",
    **COMMON_COLUMNS,
}
REQUIRED = ("kursid", "titel", "kursart", "plz", "ort")

# other names spreadsheets give the template's columns (normalised; see csvtemplate.COMMON_ALIASES)
ALIASES = {
    **dict.fromkeys(("kursnr", "kursnummer", "angebotsid", "kurscode"), "kursid"),
    **dict.fromkeys(("kursname", "kurstitel", "kursbezeichnung"), "titel"),
    **dict.fromkeys(("traeger", "kurstraeger", "bildungstraeger", "sprachschule"), "anbieter"),
    **dict.fromkeys(("kurstyp", "art", "kursform"), "kursart"),
    **dict.fromkeys(("niveau", "ger", "gerniveau", "kursniveau", "stufe", "level"), "sprachniveau"),
    **dict.fromkeys(("kursbeginn", "startdatum", "beginndatum", "start"), "beginn"),
    **dict.fromkeys(("kursende", "enddatum"), "ende"),
    **dict.fromkeys(("kurszeiten", "unterrichtszeiten", "zeiten"), "zeitmodell"),
    **dict.fromkeys(("kinderbetreuungmoeglich",), "kinderbetreuung"),
    **dict.fromkeys(("preis", "kurskosten", "kursgebuehr", "kursgebuehren", "gebuehr",
                     "gebuehren", "teilnahmegebuehr"), "kosten"),
    **dict.fromkeys(("foerderung", "foerderfaehig"), "gefoerdert"),
    **dict.fromkeys(("freieplaetze",), "plaetze"),
    **dict.fromkeys(("kursort", "unterrichtsort", "veranstaltungsort"), "ort"),
}

COURSE_TYPES = {
    "integrationskurs": "integration_course",
    "berufssprachkurs": "job_language_course",
    "sprachkurs": "language_course",
    "alphabetisierungskurs": "literacy_course",
    "ausbildung": "vocational_training",
    "weiterbildung": "further_training",
    "orientierung": "orientation",
    "sonstiges": "other",
    # as schools shorten or name them
    "ik": "integration_course",
    "bsk": "job_language_course",
    "alphakurs": "literacy_course",
    "alpha-kurs": "literacy_course",
    "umschulung": "vocational_training",
    "fortbildung": "further_training",
    "qualifizierung": "further_training",
    "eok": "orientation",
    "erstorientierungskurs": "orientation",
    # other German courses as schools name them
    "intensivkurs": "language_course",
    "konversationskurs": "language_course",
    "sprachcafé": "language_course",
    "sprachcafe": "language_course",
    "prüfungsvorbereitung": "language_course",
    "dtz-vorbereitung": "language_course",
    "telc-vorbereitung": "language_course",
    "einbürgerungstest": "orientation",
    "einbürgerungskurs": "orientation",
    "leben in deutschland": "orientation",
}
# a level after the kind ('BSK B2', 'Alphakurs A1', 'Integrationskurs A1-B1'): the levels
# column says it; the kind is read without it
_KIND_LEVEL = re.compile(r"(?i)\s*\(?\b[ABC][12](?:\.\d)?(?:\s*[-–/]\s*[ABC][12](?:\.\d)?)?\)?$")

SCHEDULES = {
    "vollzeit": "full_time",
    "teilzeit": "part_time",
    "abendkurs": "evening",
    "abends": "evening",
    "wochenende": "weekend",
    "wochenendkurs": "weekend",
    "online": "online",
    "hybrid": "blended",
    "blended": "blended",
    "ganztags": "full_time",
    "halbtags": "part_time",
    "onlinekurs": "online",
    "online-kurs": "online",
    "digital": "online",
    "samstags": "weekend",
    "abend": "evening",
    "abendkurs": "evening",
    "blended learning": "blended",
    "intensiv": "full_time",
    "intensivkurs": "full_time",
    "samstag": "weekend",
    "sonntag": "weekend",
    "sa": "weekend",
    "so": "weekend",
    "sa/so": "weekend",
}
# how often a course meets ('3x wöchentlich', '2 x pro Woche', 'zweimal die Woche'): said,
# not a kind of schedule
_HOW_OFTEN = re.compile(r"(?i)\b(?:\d+\s*x|\w+mal)\s*(?:wöchentlich|woechentlich|(?:pro|in\s+der|die|je)\s+woche)\b"
                        # and how many lessons a week: '25 UE/Woche', '20 Std. pro Woche'
                        r"|\b\d+\s*(?:ue|unterrichtseinheiten|std\.?|stunden)\s*(?:/|pro|je|in\s+der|die)\s*woche\b")
# an end that is no date: 'offen', 'laufend', 'nach 700 UE', 'nach Abschluss', 'bis Kursende'
_OPEN_END = re.compile(r"(?i)^(?:offen|laufend|fortlaufend|unbefristet|unbegrenzt|individuell|"
                       r"nach\s+(?:\d+\s*(?:ue|unterrichtseinheiten|stunden|modulen?)|abschluss|"
                       r"vereinbarung|absprache)\b.*|bis\s+(?:kurs|zum\s+kurs)ende)$")
EVENING_FROM = 17  # a course that starts at this hour or later is an evening course
_WEEKEND_DAY = re.compile(r"(?i)(?:sa|so)[a-z]*\b")
# in-person teaching is what a course is unless it says otherwise: passed over, as a time of day
_IN_PERSON = frozenset({"präsenz", "in präsenz", "präsenzkurs", "praesenz", "vor ort",
                        "vormittagskurs", "nachmittagskurs"})
_ON_SITE = re.compile(r"(?i)präsenz|praesenz|vor ort")


def _course_type(value: object) -> object:
    """A word of the template, else the kind of course the cell names (BAMF's names such as
    'Jugendintegrationskurs'), also with a level after it ('BSK B2'); anything else as
    written, for the rejection."""
    found = choice(value, COURSE_TYPES)
    if isinstance(found, str) and found not in COURSE_TYPES.values():
        bare = _KIND_LEVEL.sub("", found)
        kind = choice(bare, COURSE_TYPES) if bare else found
        if kind in COURSE_TYPES.values():
            return kind
        return course_type_in_text(found) or found
    return found


# a course one joins when one likes (integration and literacy courses often run so): no
# start date, which is what it has
_ROLLING_START = re.compile(r"(?i)^(?:laufende?r?|fortlaufende?r?|jederzeit|ständige?r?)\b"
                            r"|\b(?:einstieg|beginn|start)\s+(?:ist\s+)?(?:jederzeit|laufend)")
_NO_SEATS = {"ausgebucht", "belegt", "voll", "keine", "warteliste"}
# free seats said in words: '12 frei', 'noch 3', 'ca. 15', 'noch 3 Plätze frei', '3 freie Plätze',
# 'max. 16', 'bis zu 16', '16 TN', '3 Restplätze'
_SEATS_IN_WORDS = re.compile(r"(?i)^(?:noch\s+|ca\.?\s*|circa\s+|max\.?\s*|maximal\s+|bis\s+zu\s+)?(\d+)\s*"
                             r"(?:freie?\s+plätze|plätze(?:\s+frei)?|frei|tn|teilnehmende|"
                             r"teilnehmer(?:innen)?|restplätze|restplatz)?$")
# seats out of the course's places: '12/16', '12 von 16 frei' (12 free), '12 von 16 belegt' (4 free)
_SEATS_OF = re.compile(r"(?i)^(?:noch\s+)?(\d+)\s*(?:/|von)\s*(\d+)\s*(?:plätzen?)?\s*(frei|belegt)?$")
# childcare offered: the template's 'ja' and what schools write instead
_CHILDCARE_YES = YES_WORDS | {"vorhanden", "möglich", "angeboten", "inklusive", "inkl.", "kostenlos",
                              "kursbegleitend", "begrenzt", "plätze begrenzt", "im haus"}
_CHILDCARE_NO = NO_WORDS | {"keine", "nicht vorhanden", "nicht möglich", "ohne"}
# childcare that one has to ask for: not known to be there, so no answer (the course is kept)
_ON_REQUEST = re.compile(rf"(?i)^(?:{ON_REQUEST})$")
# a course one can take with public funding: the template's 'ja', or who funds it
# free for those entitled to it: 'kostenlos für Teilnahmeberechtigte', 'kostenfrei mit
# Bildungsgutschein' (what the others pay is the funding's business: see Gefoerdert)
_FREE_FOR = re.compile(r"(?i)^(?:kostenlos|kostenfrei|gebührenfrei|entgeltfrei|gratis|"
                       r"unentgeltlich|keine(?:\s+kosten)?$)\b")
# who pays the price that follows, and what it includes or not: 'Selbstzahler: 1.603 €',
# '350 € inkl. Material', '350 € zzgl. Prüfungsgebühr'
_PAYER = re.compile(r"(?i)^(?:selbstzahl\w*|eigenanteil|preis|gebühr|kursgebühr|gesamt|gesamtpreis)\s*:?\s*")
_EXTRAS = re.compile(r"(?i)\s*(?:inkl\.?|inklusive|zzgl\.?|zuzüglich|plus|\+)\s+\w.*$")
# a cost that the school tells on request: no price is published
_ON_REQUEST_PRICE = re.compile(rf"(?i)^(?:preis\s+)?(?:{ON_REQUEST})\b")
# the parts of a Kosten cell that may each be an amount: '1.603 € (2,29 € pro UE)',
# '1.603 €; 2,29 € je UE', '1.603 €, 2,29 € je UE' (a comma with a space; '1.250,00' stays)
_PRICE_PARTS = re.compile(r"[;()]|,\s")
_FUNDED_BY = re.compile(r"(?i)\b(?:bamf|bildungsgutschein|azav|avgs|gefördert|förderfähig|jobcenter|"
                        r"jc|agentur für arbeit|arbeitsagentur|förderung möglich|kostenlos)\b")


def _start(value: object) -> object:
    """A date; 'laufender Einstieg' -> None; 'März 2028' -> its first day (a warning, see
    _notes)."""
    written = text(value)
    if isinstance(written, str) and _ROLLING_START.search(written):
        return date_in_text(written)  # 'laufend ab 01.09.2026': from that day
    return month_start(written) or date_after_word(written)


def _notes(cells: Cells) -> list[tuple[str, str, str]]:
    cost = cells.get("kosten")
    return month_only_notes(cells.get("beginn")) + (
        [("COURSE_END_MONTH_ONLY", "end_date", cells["ende"])]
        if month_end(cells.get("ende")) else []) + (
        [("COURSE_PRICE_IN_WORDS", "price_eur", cost)] if _price_in_words(cost) else [])


def _price(value: str | None) -> object:
    """'1.250 €', 'kostenlos' -> the amount; 'kostenlos für Teilnahmeberechtigte' -> 0; a
    price with its rate beside it ('1.603 € (2,29 € pro UE)', '1.603 €, 2,29 € je UE') ->
    that price; a cost on request or a rate per lesson alone -> None (a warning, see
    _notes); anything else as written, for the rejection."""
    if value is None or _FREE_FOR.match(value):
        return None if value is None else 0.0
    amount = _first_price(value)
    if amount is not None:
        return amount
    return None if _price_in_words(value) else money(value)


def _price_in_words(value: str | None) -> bool:
    """Whether a Kosten cell gives no price of the course: on request, or a rate alone."""
    if value is None or _FREE_FOR.match(value):
        return False
    if _ON_REQUEST_PRICE.match(value):
        return True
    return bool(PER_LESSON.search(value)) and _first_price(value) is None


def _first_price(value: str) -> float | None:
    """The first amount among a Kosten cell's parts that is no rate ('1.603 € (2,29 € pro
    UE)' -> 1603), or None."""
    for part in _PRICE_PARTS.split(value):
        if part.strip() and not PER_LESSON.search(part):
            amount = _amount(part)
            if isinstance(amount, float):
                return amount
    return None


def _amount(part: str) -> object:
    """An amount with who pays it before it or what it includes after it: 'Selbstzahler:
    1.603 €', '350 € inkl. Material' -> the amount."""
    return money(_EXTRAS.sub("", _PAYER.sub("", part.strip())) or part)


def _end(value: str | None) -> object:
    """Ende: a date as Beginn's; a month without its day ('Juni 2027', 'Ende Juni 2027',
    '06/2027') -> its last day (a warning, see _notes); a course that runs on ('offen',
    'laufend') or ends after its lessons ('nach 700 UE') -> None, no end date."""
    if value is not None and not value[:1].isdigit() and _OPEN_END.match(value):
        return None
    return month_end(value) or date_after_word(value)


@lru_cache(maxsize=4096)
def _schedule_words(value: str) -> str:
    """A Zeitmodell cell in words only: the hours it meets and how often left out, 'abends' or
    'samstags' said instead where the hours say so (see ``_schedule``)."""
    value, clocks = clock_hours(value)
    value = _HOW_OFTEN.sub(" ", value)
    if clocks and min(hour for _, hour in clocks) >= EVENING_FROM:
        value += ", abends"
    if any(_WEEKEND_DAY.match(said) for said, _ in clocks):  # 'Sa 9-13 Uhr'
        value += ", samstags"
    return value


def _schedule(value: str | None) -> object:
    """Zeitmodell words -> schedules; in-person teaching, times of day and how often a course
    meets ('3x wöchentlich') are passed over, online together with in-person ('Präsenz/Online')
    is blended; the hours it meets ('Mo, Mi 18:00-20:15') say evening where they start at
    EVENING_FROM or later, weekend where Saturday or Sunday comes first ('Sa 9-13 Uhr'), else
    nothing."""
    found = choices(_schedule_words(value) if value is not None else None, SCHEDULES,
                    passed_over=TIMES_OF_DAY | _IN_PERSON)
    if isinstance(found, list) and "online" in found and _ON_SITE.search(value or ""):
        found = ["blended" if item == "online" else item for item in found]
    return found


def _seats(value: object) -> object:
    written = text(value)
    if isinstance(written, str) and written.casefold() in _NO_SEATS:
        return 0
    if not isinstance(written, str):
        return integer(written)
    of = _SEATS_OF.match(written)
    if of and int(of.group(1)) <= int(of.group(2)):
        count, places = int(of.group(1)), int(of.group(2))
        return places - count if (of.group(3) or "").casefold() == "belegt" else count
    in_words = _SEATS_IN_WORDS.match(written)
    return int(in_words.group(1)) if in_words else integer(written)


def _childcare(value: object) -> object:
    written = text(value)
    if isinstance(written, str) and _ON_REQUEST.match(written):
        return None
    return yes_no(written, yes=_CHILDCARE_YES, no=_CHILDCARE_NO)


def _funded(value: object) -> object:
    answer = yes_no(value, no=NO_WORDS | {"selbstzahler"})
    if isinstance(answer, str) and _FUNDED_BY.search(answer):
        return True
    return answer


def _fields(cells: Cells, partner_id: str) -> dict:
    return {
        **common_fields(cells, partner_id, id_column="kursid", organisation_column="anbieter"),
        "course_type": _course_type(cells.get("kursart")),
        "cefr_levels": cefr_levels(cells.get("sprachniveau")),
        # Ende before Beginn is left to the quality stage (COURSE_DATES_INCONSISTENT)
        "start_date": _start(cells.get("beginn")),
        "end_date": _end(cells.get("ende")),
        "schedule": _schedule(cells.get("zeitmodell")),
        "childcare": _childcare(cells.get("kinderbetreuung")),
        "price_eur": _price(cells.get("kosten")),
        "funded": _funded(cells.get("gefoerdert")),
        "seats": _seats(cells.get("plaetze")),
    }


TEMPLATE = CsvTemplate(
    what="course CSV",
    model=CourseOffer,
    columns=COLUMNS,
    required=REQUIRED,
    id_column="kursid",
    aliases=ALIASES,
    amounts={"kosten": "price_eur"},
    fields=_fields,
    notes=_notes,
)

parse = TEMPLATE.parse


FORMAT = Format(
    name="csv-courses",
    domain="courses",
    description="The hub's CSV template for course offers (schemas/csv/courses.md)",
    parse=parse,
    names_are_labels=True,
    field_words={
        "course_type": ("Integrationskurs", "Berufssprachkurs", "Sprachkurs",
                        "Alphabetisierungskurs", "Ausbildung", "Weiterbildung", "Orientierung",
                        "Sonstiges"),
        "schedule": ("Vollzeit", "Teilzeit", "Abendkurs", "Wochenende", "Online", "Hybrid"),
    },
    field_names=field_names(COLUMNS, "kursid", "anbieter", {
        "course_type": "kursart",
        "cefr_levels": "sprachniveau",
        "start_date": "beginn",
        "end_date": "ende",
        "schedule": "zeitmodell",
        "childcare": "kinderbetreuung",
        "price_eur": "kosten",
        "funded": "gefoerdert",
        "seats": "plaetze",
    }),
)

__all__ = ["FORMAT", "TEMPLATE", "normalise_header", "parse"]
