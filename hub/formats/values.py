"""Reading single values the way German partners write them: one tested version of each.

Every reader takes what the source holds (a CSV cell, an XML text, a JSON value) and returns
the canonical value, or ``None`` for an empty one. A value it cannot read is returned as the
partner wrote it, so that validation rejects the record and the rejection shows that value.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache, wraps

from hub.clock import BERLIN

LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")

# German Excel writes a boolean cell as WAHR / FALSCH
# ... and the ticks and crosses forms and spreadsheets put into a yes/no column ('☒' is a box
# ticked with a cross, '☐' one left empty)
YES_WORDS = frozenset({"ja", "j", "x", "1", "true", "yes", "wahr", "✓", "✔", "☑", "☒", "✅"})
NO_WORDS = frozenset({"nein", "n", "0", "false", "no", "falsch", "✗", "✘", "☐", "❌"})
FREE_WORDS = frozenset({"kostenlos", "gratis", "frei", "entgeltfrei", "kostenfrei",
                        "gebührenfrei", "unentgeltlich"})
# a remark saying that an offer costs nothing: 'Die Teilnahme ist kostenfrei', 'für Sie
# kostenlos', 'keine Kursgebühren', 'zu 100 % gefördert'; funding alone ('gefördert',
# 'Bildungsgutschein möglich') says who may pay, not that the offer is free
FREE_IN_TEXT = re.compile(
    r"(?i)\b(?:kostenlos|kostenfrei|gebührenfrei|gebuehrenfrei|entgeltfrei|unentgeltlich|gratis|"
    r"free of charge|keine\s+(?:kosten|gebühren|gebuehren|teilnahmegebühren?|kursgebühren?)|"
    r"(?:voll(?:ständig)?|zu\s+100\s*%)\s+gefördert)(?!\w)")

# Bundesland names by the codes the BA uses: v6 region keys (SAARLAND) and KURSNET codes (SAA)
_STATES = {
    "BADEN_WUERTTEMBERG": "Baden-Württemberg",
    "BAYERN": "Bayern",
    "BERLIN": "Berlin",
    "BRANDENBURG": "Brandenburg",
    "BREMEN": "Bremen",
    "HAMBURG": "Hamburg",
    "HESSEN": "Hessen",
    "MECKLENBURG_VORPOMMERN": "Mecklenburg-Vorpommern",
    "NIEDERSACHSEN": "Niedersachsen",
    "NORDRHEIN_WESTFALEN": "Nordrhein-Westfalen",
    "RHEINLAND_PFALZ": "Rheinland-Pfalz",
    "SAARLAND": "Saarland",
    "SACHSEN": "Sachsen",
    "SACHSEN_ANHALT": "Sachsen-Anhalt",
    "SCHLESWIG_HOLSTEIN": "Schleswig-Holstein",
    "THUERINGEN": "Thüringen",
}
_STATES.update(
    {
        code: _STATES[name]
        for code, name in {
            "BAW": "BADEN_WUERTTEMBERG", "BAY": "BAYERN", "BER": "BERLIN",
            "BRA": "BRANDENBURG", "BRE": "BREMEN", "HAM": "HAMBURG", "HES": "HESSEN",
            "MBV": "MECKLENBURG_VORPOMMERN", "NDS": "NIEDERSACHSEN",
            "NRW": "NORDRHEIN_WESTFALEN", "RPF": "RHEINLAND_PFALZ", "SAA": "SAARLAND",
            "SAC": "SACHSEN", "SAN": "SACHSEN_ANHALT", "SLH": "SCHLESWIG_HOLSTEIN",
            "THUE": "THUERINGEN",
        }.items()
    }
)

# Country spellings -> ISO 3166-1 alpha-2: German names (BA Jobsuche), alpha-3 codes
# (OpenImmo), vehicle letters (BA KURSNET 'D'). Germany and its neighbours; anything else
# passes through so that the record is rejected with the value shown.
_COUNTRIES = {
    "DEUTSCHLAND": "DE", "OESTERREICH": "AT", "SCHWEIZ": "CH", "FRANKREICH": "FR",
    "LUXEMBURG": "LU", "BELGIEN": "BE", "NIEDERLANDE": "NL", "DAENEMARK": "DK", "POLEN": "PL",
    "TSCHECHIEN": "CZ", "TSCHECHISCHE_REPUBLIK": "CZ", "ITALIEN": "IT", "SPANIEN": "ES",
    "DEU": "DE", "AUT": "AT", "CHE": "CH", "FRA": "FR", "LUX": "LU", "BEL": "BE", "NLD": "NL",
    "DNK": "DK", "POL": "PL", "CZE": "CZ", "ITA": "IT", "ESP": "ES",
    "D": "DE", "A": "AT", "F": "FR", "B": "BE", "L": "LU", "I": "IT", "E": "ES",
}

_ENUM_KEY = (("Ä", "AE"), ("Ö", "OE"), ("Ü", "UE"), ("ß", "SS"), ("-", "_"), (" ", "_"))

# A pattern that starts with \s* or \s+ tried at each blank of a long run of blanks (a cell of
# 100 KB of spaces) is quadratic: (?<!\s) starts it at a run's first blank only (a match inside
# a run is always also one from its start, so what it finds is the same)
_ANSWER_FIRST = re.compile(r"(?<!\s)\s*(?:[,(:;]|\s[-–]\s)")  # 'ja, kostenlos': the answer, then words
_LIST_SEPARATORS = re.compile(r"[,;/+\n]|(?<![^\S\n])\s+(?:und|oder)\s+")  # \n: Alt+Enter in an Excel cell
ASIDE = re.compile(r"\([^()]*\)")
_LEVEL = re.compile(r"^([ABC][12])(?:\.[1-9])?$")  # 'A1' or a sub-level such as 'A1.2'
_LEVEL_RANGE = re.compile(r"^(\S+)\s*(?:-|–|—|bis)\s*(\S+)$", re.IGNORECASE)
_LEVEL_IN_TEXT = re.compile(
    r"(?<![\w+])([ABC][12])(?:\.[1-9])?"
    r"(?:\s*(?:-|–|—|bis)\s*([ABC][12])(?:\.[1-9])?)?\+?(?![\w+])"
)
# what people write around a level in a level field: 'Niveau B1', 'GER B2', 'ab A2' (a course
# from A2 on, a job asking at least A2), 'bis B1' (a course up to B1), 'von A2 bis B1' (and
# 'B1+', 'Fortgeschrittene (B2)': see _bare_level)
_LEVEL_WORD = re.compile(
    r"^(?:(?:GER|CEFR|GER-NIVEAU|SPRACHNIVEAU|ZIELNIVEAU|NIVEAU|STUFE|LEVEL|AB|VON|BIS)\b[\s:]*)+")
# levels in a chain: 'A1 - A2 - B1'
_LEVEL_CHAIN = re.compile(r"(?<!\s)\s*(?:-|–|—)\s*")
# a remark in brackets after levels names the framework or the exam: 'A1-B1 (GER)', 'A2-B1 (DTZ)'
_LEVELS_REMARK = re.compile(r"(?i)(?<!\s)\s*\((?:ger|cefr|gers|dtz|telc|goethe|öSD|osd|test|prüfung|pruefung)[^()]*\)\s*$")
# words after a level that name no other level: 'B1 (Zielniveau)', 'A1 - Alpha', 'C1 Hochschule'
_LEVEL_NOTE = re.compile(r"(?i)(?<=[abc][12])((?:\.[1-9])?\+?)\s*"
                         r"(?:\([^()\d]*\)|[-–—:]\s*[^\W\d_][^\d()]*|\s[^\W\d_][^\d()]*)$")
# a level written with a space: 'B 1'
_SPACED_LEVEL = re.compile(r"(?i)\b([abc])\s+([12])\b")
_LEVEL_IN_BRACKETS = re.compile(r"^[^()]*\(([ABC][12](?:\.[1-9])?\+?)\)$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
# a spreadsheet's day number, as a date column formatted as a number exports it: days since
# 1899-12-30 (so that 1900-03-01 is day 61, Excel's count), a time of day as the fraction;
# only the days of 2000 to 2099 (36526-73050) count: other numbers are not taken for dates
_SERIAL_DAY = re.compile(r"^(\d{5})(?:[.,]\d+)?$")
_SERIAL_EPOCH = dt.date(1899, 12, 30)
# what a spreadsheet writes for a date cell in other formats: 'TT.MM.JJ' ('01.05.27'), the long
# form ('1. Mai 2027', 'Samstag, 1. Mai 2027'), a date with a time ('01.05.2027 08:00')
_SHORT_YEAR_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{2})$")
# a weekday before or after a date ('Mo, 01.03.2027', 'Montag, 1. März 2027', '01.03.2027 (Mo)')
_WEEKDAY = (r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|"
            r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
            r"mon|tues?|wed|thu(?:rs?)?|fri|sat|sun|mo|di|mi|do|fr|sa|so)\.?")
# '1. März 2027', '1.Mrz.2027', '01-Mar-2027' and '1-Mrz-27' (a spreadsheet's day-month-year
# with the month's short name, German or English)
# (and as English writes it: '1st March 2027')
_ORDINAL = r"(?:st|nd|rd|th)?"
_LONG_DATE = re.compile(rf"(?i)^(?:{_WEEKDAY},?\s+)?(\d{{1,2}}){_ORDINAL}\.?[\s-]*([^\W\d]+)\.?[\s-]*(\d{{4}}|\d{{2}})$")
_LONG_DATE_IN_TEXT = re.compile(rf"(?<!\d)(\d{{1,2}}){_ORDINAL}\.?\s*([^\W\d]+)\.?\s+(\d{{4}})(?!\d)")
# the month's name first, as English writes a date: 'March 1, 2027', 'Mar. 1st 2027', 'Monday,
# March 1, 2027' (the year with four digits; the month named, so no day-or-month doubt)
_MONTH_FIRST = rf"([^\W\d]+)\.?\s+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})(?!\d)"
_MONTH_FIRST_DATE = re.compile(rf"(?i)^(?:{_WEEKDAY},?\s+)?{_MONTH_FIRST}$")
_MONTH_FIRST_IN_TEXT = re.compile(rf"(?i)(?<![^\W\d]){_MONTH_FIRST}")
_DATE_AND_TIME = re.compile(r"^(\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2}))[ ,]+\d{1,2}:\d{2}(?::\d{2})?(?:\s*Uhr)?$")
# (\s*\(?\s* split a run of blanks every way before giving up: cubic, 400 blanks took 14 s)
_WEEKDAY_AROUND = re.compile(rf"(?i)^{_WEEKDAY},?\s+(?=\d)|(?<!\s)\s*(?:\(\s*)?{_WEEKDAY}\s*\)?$")
# a numeric date with other separators: '01-03-2027', '01/03/2027' (day first, as in Germany),
# '01. 03. 2027'
_OTHER_SEPARATORS = re.compile(r"^(\d{1,2})(?:\s*[-/]\s*|\.\s+)(\d{1,2})(?:\s*[-/]\s*|\.\s+)(\d{4}|\d{2})$")
_MONTHS = {name: number for number, names in enumerate((
    ("januar", "jänner", "jan"), ("februar", "feb"), ("märz", "maerz", "mär", "mrz"),
    ("april", "apr"), ("mai",), ("juni", "jun"), ("juli", "jul"), ("august", "aug"),
    ("september", "sep", "sept"), ("oktober", "okt"), ("november", "nov"),
    ("dezember", "dez")), start=1) for name in names}
# English month names, as a spreadsheet in English writes them ('01-Mar-2027')
_MONTHS.update({"january": 1, "february": 2, "march": 3, "mar": 3, "may": 5, "june": 6, "july": 7,
                "october": 10, "oct": 10, "december": 12, "dec": 12})
# a month without its day: 'März 2028', 'ab Mär. 2028', 'Anfang März 2028', '03/2028', '2028-03'
_MONTH_ONLY = re.compile(r"(?i)^(?:(?:frei\s+)?ab\s+)?(?:anfang\s+)?"
                         r"(?:([^\W\d]+)\.?\s+(\d{4})|(\d{1,2})\s*/\s*(\d{4}))$")
# the word before a date in a form: 'ab 01.03.2027', 'zum', 'am', 'ab dem', 'bis zum',
# 'spätestens am', 'Stichtag:'
_DATE_WORD = re.compile(r"(?i)^(?:(?:ab|am|zum|bis|vom|spätestens|spaetestens|stichtag|"
                        r"beginn|ende|start)(?:\s+(?:dem|zum|am|den|bis))?[:\s]\s*)+")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_GERMAN_DATETIME = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})[ ,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*Uhr)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# 'TT.MM.JJJJ', 'TT.MM.JJ' (this century) or ISO, not inside a longer number
_DATE_IN_TEXT = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?!\d|\.\d)|(\d{4})-(\d{2})-(\d{2})")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:\.\d{3})+$")
_CURRENCY = re.compile(r"(?i)\s*(€|\beuro?\b)\s*")
# what follows an amount without changing it: '3.000 € brutto', '450 € zzgl. NK', '450 € mtl.'
_AMOUNT_QUALIFIER = re.compile(
    r"(?i)(?:\s*(?:brutto|(?:zzgl\.?|\+)\s*(?:nk|bk|hk|nebenkosten|betriebskosten|heizkosten)|"
    r"mtl\.?|monatlich|p\.\s?m\.|(?:pro|je|/)\s*(?:monat|mon\.)))+\s*$")
_UNITS = re.compile(r"(?i)\s*(?:m\s?²|m2|qm|quadratmeter)(?:\s*(?:wfl\.?|wohnfläche|wohnflaeche))?\s*$")
# the word before or after a living area: 'Wfl. 58 m²', '58 m² Wohnfläche', '65 qm Wfl.'
_AREA_WORD = re.compile(r"(?i)^(?:wfl\.?|wohnfläche|wohnflaeche)[:\s]*|\s*(?:wfl\.?|wohnfläche|wohnflaeche)$")
# an amount or area given as approximate: 'ca. 65 m²', 'circa 120 €'
_ABOUT = re.compile(r"(?i)^(?:ca\.?|circa|etwa|rd\.|rund|ungefähr|~)\s*")
# the other rooms a listing names after the number of rooms: '4 Zi., Kü., Bad', '2 + Küche'
_ROOMS_EXTRA = re.compile(r"(?i)\s*(?:,|\+|&|\bund\b)\s*(?:kü(?:che)?|bad|diele|flur|wc|balkon|"
                          r"abstellraum|keller)(?![^\W\d_]).*$")
# what a listing adds after the living area: '65 m² + Balkon', '65 m², zzgl. Terrasse'
_AREA_EXTRA = re.compile(r"(?i)(?:\s*(?:\+|,|zzgl\.?|plus|inkl\.?|und))+\s*(?:balkon|terrasse|loggia|"
                         r"garten|keller(?:raum)?|dachboden|stellplatz|garage)\b.*$")
# the word after a number of rooms: '2 Zi.', '2 Zimmer', '2-Zimmer-Wohnung', '2 ZKB' (Zimmer,
# Küche, Bad), '2 ZKDB'
_ROOMS_WORD = re.compile(r"(?i)\s*-?\s*(?:zi\.?|zimmer(?:-?wohnung)?|zkb|zkdb|zkbb)\s*$")
_HALF = re.compile(r"^(\d{1,3})\s*(?:½|1/2)$")
# numbers written plainly, read alike by every rule below: digits, and in machine formats a
# decimal point (without ``machine`` '1.234' is one thousand two hundred thirty-four)
_PLAIN_MACHINE = re.compile(r"-?\d+(?:\.\d+)?")
_PLAIN_DIGITS = re.compile(r"-?\d+")
_STREET = re.compile(
    r"^(?P<street>.*?\S)(?:\s*,?\s+|(?<=str\.))(?P<number>\d+\s?[a-zA-Z]?(?:\s*[-–/]\s*\d+\s?[a-zA-Z]?)?)$"
)
_GROUND_FLOOR = {"eg", "erdgeschoss", "parterre", "hochparterre", "hp"}
_BASEMENT = {"ug", "untergeschoss", "souterrain", "kg", "kellergeschoss"}
_FLOOR = re.compile(r"^(-?\d+)\s*\.?\s*(?:og|obergeschoss|etage|stock|stockwerk|geschoss)?$")
# the top storey, named without its number
_TOP_FLOOR = {"dg", "dachgeschoss", "dachgeschoß"}
# which door on the landing: 'EG links', '1. OG rechts', '2. OG Mitte', '3. Stock li.'
_SIDE = re.compile(r"(?:\s*[,/]\s*|\s+)\(?(?:links|rechts|mitte|li|re|vorne?|hinten)\.?\)?$")
# what forms write around a link, an e-mail address or a phone number
_LINK_WORD = re.compile(r"(?i)^(?:link|url|web(?:seite)?|internet|homepage)\s*:\s*")
_BARE_HOST = re.compile(r"(?i)^[a-z0-9äöü](?:[a-z0-9äöü-]*[a-z0-9äöü])?(?:\.[a-z0-9äöü-]+)*\.[a-z]{2,}(?:[/?#]\S*)?$")
# what a spreadsheet or a form holds where there is no value: '-', 'k.A.' (keine Angabe),
# 'n.V.' (nicht vorhanden / nach Vereinbarung), '/', a dash
NO_VALUE = frozenset({"-", "--", "---", "–", "—", "/", "?", "k.a.", "k. a.", "k.a", "n.v.",
                      "n. v.", "n.v", "n/a", "n.a.", "keine angabe", "keine angaben", "o.a.",
                      "entfällt", "entfaellt"})
# ...and where a contact has no e-mail address or phone: 'keine', 'nicht vorhanden'
_NO_CONTACT = NO_VALUE | {"keine", "kein", "keins", "nicht vorhanden", "none", "nein"}
# what a partner writes for a value it tells only when asked: 'auf Anfrage', 'nach Absprache',
# 'bitte erfragen' (a price, a rent, childcare); the templates add their own words
ON_REQUEST = r"auf\s+anfrage|nach\s+(?:absprache|vereinbarung)|bitte\s+(?:erfragen|nachfragen|anfragen)"
_MAILTO = re.compile(r"(?i)^mailto:\s*")
_MAIL_WORD = re.compile(r"(?i)^e?-?mail(?:adresse)?\s*:\s*")
# 'Anna Weber <a.weber@vhs.de>', '"Weber, Anna" <a.weber@vhs.de>': the address in the brackets
_NAME_ADDR = re.compile(r"<\s*(?:mailto:)?([^<>\s]+@[^<>\s]+)\s*>")
_AT_WORD = re.compile(r"(?i)\s*[(\[]at[)\]]\s*")
_ADDRESS_LIST = re.compile(r"\s*[;,]\s*|\s+(?:und|oder)\s+|\s+")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_WORD = re.compile(r"(?i)^(?:tel(?:efon)?\.?|fon|phone|mobil|handy)\s*:?\s*")
_REMARK = re.compile(r"\s*\([^()]*[^\W\d_][^()]*\)")  # a remark in brackets with letters in it
_NUMBER_LIST = re.compile(r"\s+/\s+|\s*[;,]\s*|\s+(?:oder|und)\s+")
# a German area code alone: '06821', '0 68 21', '(06821)', '+49 6821', '0049 (0) 6821'
_AREA_CODE = re.compile(r"\(?0\s?[1-9](?:\s?\d){1,4}\)?|(?:\+|00)\s?49\s?(?:\(0\)\s?)?[1-9](?:\s?\d){1,4}")
_COUNTRY_BEFORE_CODE = re.compile(r"(?i)^(?:d|de)\s*-\s*(?=\d{5}$)")
_BLOCK_TAGS = re.compile(r"(?i)<\s*/?\s*(?:p|div|h[1-6]|ul|ol|table|tr|section|br)\b[^>]*>")
_LIST_ITEM = re.compile(r"(?i)<\s*li\b[^>]*>")
_TAG = re.compile(r"<[^<>]*>")
# tags of the markup descriptions are written in (not any text between angle brackets)
_MARKUP = re.compile(r"(?i)</?(?:p|div|br|ul|ol|li|b|i|u|strong|em|span|h[1-6]|table|tr|td|a)\b[^<>]*>")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _memo_text(function: Callable[[object], object]) -> Callable[[object], object]:
    """Remember the answers for text input: feeds repeat the same dates, states and codes
    thousands of times. Answers are immutable (str, date, datetime, None)."""
    cached = lru_cache(maxsize=8192)(function)

    @wraps(function)
    def wrapper(value: object) -> object:
        if isinstance(value, str):
            return cached(value)
        return function(value)

    return wrapper


# --------------------------------------------------------------------------- text


def compact(value: object) -> object:
    """Drop None values from dicts, recursively (also in dicts inside lists)."""
    if isinstance(value, dict):
        return {key: compact(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [compact(item) for item in value]
    return value


def text(value: object) -> object:
    """Strip strings, empty -> None; numbers become text; anything else passes through raw."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def as_dict(value: object) -> dict:
    """A JSON object, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}


@_memo_text
def enum_key(value: object) -> str | None:
    """An enum-like value as an upper-case key: 'Baden-Württemberg' -> 'BADEN_WUERTTEMBERG'."""
    if not isinstance(value, str) or not value.strip():
        return None
    key = value.strip().upper()
    for old, new in _ENUM_KEY:
        key = key.replace(old, new)
    return key


def markup_as_text(value: object) -> object:
    """Text that holds HTML markup ('<p>', '<br/>', as real-estate software writes it into
    OpenImmo's CDATA) as plain text (``plain_text``); other text as it is: a '<' in plain
    words ('Miete < 500 €') is no tag."""
    if isinstance(value, str) and _MARKUP.search(value):
        return plain_text(value)
    return value


def plain_text(value: object, _again: bool = True) -> object:
    """HTML (as the BA course APIs send it) -> plain text: one line per block, '- ' for list
    items, entities decoded, blank lines dropped. HTML escaped once more ('&lt;p&gt;', as
    some content systems write it into JSON-LD) is read as HTML too, when the text holds no
    markup of its own: in real HTML an escaped tag ('HTML (&lt;div&gt;)') is text."""
    if not isinstance(value, str):
        return text(value)
    _again = _again and not _MARKUP.search(value)
    raw = _LIST_ITEM.sub("\n- ", value)
    raw = _BLOCK_TAGS.sub("\n", raw)
    raw = html.unescape(_TAG.sub("", raw))
    if _again and _MARKUP.search(raw):
        return plain_text(raw, _again=False)
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in raw.splitlines())
    return "\n".join(line for line in lines if line and line != "-") or None


def phone(area: object, number: object) -> str | None:
    """A phone number split into area code and number (BA APIs): '0800', '7330733' ->
    '0800 7330733'; either part alone is kept."""
    parts = [part for part in (text(area), text(number)) if isinstance(part, str)]
    return " ".join(parts) or None


def web_url(value: object) -> object:
    """'www.example.de', 'example.de/wohnen' -> 'https://…' (a host name without a scheme, as
    forms take it); 'Link: https://…' -> the address; other values as they are."""
    link = text(value)
    if not isinstance(link, str):
        return link
    link = _LINK_WORD.sub("", link) or link
    if link.lower().startswith("www.") or _BARE_HOST.match(link):
        return "https://" + link
    return link


def email_address(value: object) -> object:
    """An e-mail address as forms hold it: 'mailto:a@b.de', 'E-Mail: a@b.de', 'a @ b.de',
    'a(at)b.de', 'a@b.de.' (the sentence's full stop), 'a@b.de; c@b.de' (the first), 'Anna
    Weber <a@b.de>' (as a mail program copies it) -> 'a@b.de'; 'keine', '-' -> None; else as
    written, for the check that names it."""
    written = text(value)
    if not isinstance(written, str):
        return written
    if written.casefold() in _NO_CONTACT:
        return None
    named = _NAME_ADDR.search(written)
    if named:
        written = named.group(1)
    address = _MAILTO.sub("", _MAIL_WORD.sub("", _AT_WORD.sub("@", written)))
    if not address:  # 'mailto:' and nothing after it
        return None
    address = re.sub(r"\s*@\s*", "@", address)
    address = _ADDRESS_LIST.split(address)[0].rstrip(".")
    return address if _EMAIL_SHAPE.match(address) else written


def phone_number(value: object) -> object:
    """A phone number as forms hold it: 'Tel. 06824 3090', '06824 3090 (Mo-Fr 8-12 Uhr)',
    '06824.3090', '06824 3090 / 0170 1234567' (the first) -> the number; an area code in
    brackets, '(06824) 3090', or before a spaced slash, '06821 / 12345', stays; 'keine', '-'
    -> None; else as written."""
    written = text(value)
    if not isinstance(written, str):
        return written
    if written.casefold() in _NO_CONTACT:
        return None
    number = _PHONE_WORD.sub("", written)
    number = _REMARK.sub("", number)
    number = _first_number(number)
    number = re.sub(r"(?<=\d)\.(?=\d)", " ", number)
    return number or written


def _first_number(numbers: str) -> str:
    """The first of several numbers in a cell ('06824 3090 / 0170 1234567'); a slash after
    an area code alone separates it from its number ('06821 / 12345', '+49 6821 / 12345'),
    not two numbers."""
    for between in _NUMBER_LIST.finditer(numbers):
        head = numbers[:between.start()].strip()
        if between.group().strip() == "/" and _AREA_CODE.fullmatch(head):
            continue
        return head
    return numbers.strip()


# --------------------------------------------------------------------------- words


def yes_no(value: object, yes: frozenset[str] = YES_WORDS, no: frozenset[str] = NO_WORDS) -> object:
    """'ja' -> True, 'nein' -> False (case does not matter); empty -> None. A yes or no with
    words after it counts as that answer: 'ja, kostenlos', 'ja (BAMF)', 'nein - leider'."""
    word = text(value)
    if not isinstance(word, str):
        return word
    answer = word.lower()
    if answer not in yes and answer not in no:
        answer = _ANSWER_FIRST.split(answer, 1)[0]
    if answer in yes:
        return True
    if answer in no:
        return False
    return word


def choice(value: object, table: Mapping[str, str]) -> object:
    """A word of the template -> its canonical value; a canonical value passes as it is."""
    word = text(value)
    if not isinstance(word, str):
        return word
    key = word.casefold()
    if key in table:
        return table[key]
    if key in table.values():
        return key
    return word


# the kinds of course a text names, checked in this order: BAMF's integration courses under
# all their names (Jugend-, Eltern-, Frauen-, Intensivintegrationskurs, Integrationskurs
# mit Alphabetisierung, Zweitschriftlernerkurs), job-related courses (DeuFöV), literacy,
# other German courses, the first orientation courses (Erstorientierung)
COURSE_TYPE_PATTERNS = (
    ("integration_course",
     re.compile(r"(?i)integrationskurs|zweitschriftlerner|integration course")),
    (
        "job_language_course",
        re.compile(
            r"(?i)berufssprachkurs|berufsbezogene[nrs]?\s+deutsch|deuf[öo]e?v|"
            r"job[- ]related german|german for (?:the )?(?:job|work)|deutsch für den beruf"
        ),
    ),
    ("literacy_course", re.compile(r"(?i)alphabetisierung|literacy course")),
    (
        "language_course",
        re.compile(
            r"(?i)deutsch[- ]?\w*kurs|sprachkurs deutsch|"
            r"deutsch als (?:fremd|zweit)sprache|(?<!\w)da[fz](?!\w)|"
            r"german (?:language )?(?:course|class)"
        ),
    ),
    ("orientation", re.compile(r"(?i)erstorientierung")),
)


def course_type_in_text(value: object) -> str | None:
    """The kind of course a name or keyword says it is ('Jugendintegrationskurs' ->
    integration_course), or None."""
    written = text(value)
    if not isinstance(written, str):
        return None
    for course_type, pattern in COURSE_TYPE_PATTERNS:
        if pattern.search(written):
            return course_type
    return None


# times of day in a working-time or course-schedule cell: true, but nothing the canonical
# vocabulary holds (a time of day is not a schedule); passed over instead of refusing the row
TIMES_OF_DAY = frozenset({"vormittags", "nachmittags", "morgens", "mittags", "tagsüber",
                          "vormittag", "nachmittag", "tagsueber"})
# the hours of the day, with the weekdays before them ('Mo-Fr 8-16 Uhr', 'Mo, Mi 18:00-20:15',
# '7:30 - 16:00 Uhr', 'Mo-Do 9-12'): said in a working time or a course's schedule, they are
# not a kind of either; group 1 (or 2, after weekdays without 'Uhr') is the hour it starts
_WEEKDAYS = (r"\b(?:mo|di|mi|do|fr|sa|so)[a-z]*\.?"
             r"(?:\s*(?:-|–|bis|,|und|\+)\s*(?:mo|di|mi|do|fr|sa|so)[a-z]*\.?)*,?\s*")
_HOURS_SPAN = r"\b(\d{1,2})(?:[:.]\d{2})?\s*(?:-|–|bis)\s*\d{1,2}(?:[:.]\d{2})?"
_CLOCK_HOURS = re.compile(
    rf"(?i)(?:{_WEEKDAYS})?{_HOURS_SPAN}(?:\s*uhr\b|(?<=\d\d[:.]\d\d))"
    # after weekdays the hours need no 'Uhr' ('Mo-Do 9-12'), unless they are weekly hours
    rf"|{_WEEKDAYS}{_HOURS_SPAN}"
    r"(?![\d.,:]|\s*(?:std|stunden|h\b|ue\b|wochenstunden))")


@lru_cache(maxsize=4096)
def clock_hours(value: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """``value`` without the hours of the day it names (``_CLOCK_HOURS``), and those hours:
    (the text of each, the hour it starts). 'Teilzeit, Mo-Fr 8-12 Uhr' -> ('Teilzeit,  ',
    (('Mo-Fr 8-12 Uhr', 8),)). Feeds repeat the same cells: the answers are remembered."""
    found = tuple((clock.group(0), int(clock.group(1) or clock.group(2)))
                  for clock in _CLOCK_HOURS.finditer(value))
    return (_CLOCK_HOURS.sub(" ", value) if found else value), found


def choices(value: object, table: Mapping[str, str],
            passed_over: frozenset[str] = frozenset()) -> object:
    """Several words separated by ',', ';', '/', '+' or 'und' -> canonical values, each once;
    what stands in brackets is an aside ('Teilzeit (20 Std./Woche)' -> part time), words in
    ``passed_over`` are left out, also beside a word ('Teilzeit vormittags'); an unknown word
    is kept as written (in the list) for the rejection."""
    words = text(value)
    if not isinstance(words, str):
        return words
    found: list[str] = []
    for part in _LIST_SEPARATORS.split(ASIDE.sub(" ", words)):
        if not part.strip() or part.strip().casefold() in passed_over:
            continue
        item = choice(part, table)
        if passed_over and item not in table.values():  # 'Teilzeit vormittags'
            rest = choice(" ".join(word for word in part.split()
                                   if word.casefold() not in passed_over), table)
            item = rest if rest in table.values() else item
        if item not in found:
            found.append(item)
    return found


@_memo_text
def country_code(value: object) -> object:
    """'DEUTSCHLAND', 'DEU', 'D', 'de' -> 'DE'; an unknown value passes through."""
    name = text(value)
    if not isinstance(name, str):
        return name
    if len(name) == 2 and name.isalpha():
        return name.upper()
    return _COUNTRIES.get(enum_key(name) or "", name)


@_memo_text
def state_name(value: object) -> object:
    """BA codes for a Bundesland -> its name: 'SAARLAND', 'SAA' -> 'Saarland'; names pass."""
    name = text(value)
    if not isinstance(name, str):
        return name
    known = _STATES.get(enum_key(name) or "")
    if known:
        return known
    if name.isupper():  # an unknown code such as 'UEBERREGIONAL': make it readable
        return "-".join(part.capitalize() for part in name.split("_"))
    return name


def postal_code(value: object) -> object:
    """A postal code as text; an integer (some JSON exports) gets its leading zero back; the
    country before it, as old letters wrote it ('D-66538', 'DE-66538'), is left out."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 100000:
        return f"{value:05d}"
    written = text(value)
    if isinstance(written, str):
        return _COUNTRY_BEFORE_CODE.sub("", written)
    return written


def geo_point(lat: object, lon: object) -> dict | None:
    """GeoPoint fields, or None when a coordinate is missing or both are 0 (exporters'
    'unknown')."""
    if lat is None or lon is None:
        return None
    lat, lon = number(lat, machine=True), number(lon, machine=True)
    if lat == 0 and lon == 0 and not isinstance(lat, bool) and not isinstance(lon, bool):
        return None
    return {"lat": lat, "lon": lon}


def split_street(value: object) -> tuple[object, str | None]:
    """'Hüttenbergstraße 42' -> ('Hüttenbergstraße', '42'); also '12a', '12 a', '8-10', '1a-3',
    'Bahnhofstr.12'; where the floor or flat follows after a comma ('Bahnhofstraße 12, 2. OG')
    that part is left out. Without a house number the whole value is the street."""
    line = text(value)
    if not isinstance(line, str):
        return line, None
    match = _STREET.match(line)
    if not match and "," in line:
        match = _STREET.match(line.rsplit(",", 1)[0].strip())
    if not match:
        return line, None
    return match.group("street"), re.sub(r"\s+", "", match.group("number"))


# --------------------------------------------------------------------------- language levels


# a text saying that a job needs no German ('keine Deutschkenntnisse erforderlich', 'Deutsch
# nicht notwendig', 'no German required'); a posting that says so is what a newcomer without
# German looks for
_NO_GERMAN = re.compile(
    r"(?i)\b(?:keine|ohne)\s+deutsch(?:kenntnisse|e)?\b"
    r"|\bdeutsch(?:kenntnisse)?\s+(?:sind\s+|ist\s+)?(?:nicht\s+(?:zwingend\s+)?"
    r"(?:erforderlich|notwendig|nötig|noetig|vorausgesetzt|verlangt)|keine\s+voraussetzung)"
    r"|\b(?:no|without)\s+german\b"
    r"|\bgerman\s+(?:language\s+)?(?:skills\s+)?(?:is\s+|are\s+)?not\s+(?:required|needed|necessary)")


def says_no_german(text: str | None) -> bool:
    """Whether ``text`` says the job needs no German."""
    return bool(text) and _NO_GERMAN.search(text) is not None


# a language named in a job's requirements, and a CEFR level or range next to it
_LANGUAGE_NAMED = re.compile(
    r"(?i)(?<![\w])(?:deutsch\w*|german\w*|englisch\w*|english|französisch\w*|franzoesisch\w*|"
    r"french|spanisch\w*|spanish|italienisch\w*|italian|arabisch\w*|arabic|türkisch\w*|"
    r"tuerkisch\w*|turkish|russisch\w*|russian|polnisch\w*|polish|ukrainisch\w*|ukrainian|"
    r"rumänisch\w*|rumaenisch\w*|romanian|niederländisch\w*|dutch|chinesisch\w*|chinese|"
    r"persisch\w*|persian|farsi|portugiesisch\w*|portuguese)"
)
_GERMAN_NAMED = re.compile(r"(?i)^(?:deutsch|german)")
_LEVEL_NAMED = re.compile(
    r"(?<![\w+])([ABC][12])(?:\.[1-9])?\+?"
    r"(?:\s*(?:-|–|—|bis)\s*([ABC][12])(?:\.[1-9])?\+?)?(?!\w)"
)
_REQUIREMENT_CLAUSES = re.compile(r"[,;\n•|·]")


def german_level(texts: list[str]) -> str | None:
    """The one CEFR level the texts name for German, or None (none, or several)."""
    levels: set[str] = set()
    for text in texts:
        for clause in _REQUIREMENT_CLAUSES.split(text):
            languages = [(match.start(), match.group(0)) for match in _LANGUAGE_NAMED.finditer(clause)]
            if not languages:
                continue
            for match in _LEVEL_NAMED.finditer(clause):
                before = [word for start, word in languages if start < match.start()]
                after = [word for start, word in languages if start > match.start()]
                language = before[-1] if before else after[0]
                if not _GERMAN_NAMED.match(language):
                    continue
                low = LEVELS.index(match.group(1))
                high = LEVELS.index(match.group(2)) if match.group(2) else low
                levels.update(LEVELS[min(low, high) : max(low, high) + 1])
    return levels.pop() if len(levels) == 1 else None


def without_other_languages(text: str | None) -> str | None:
    """``text`` without its parts about another language than German ('keine, Englisch B1' ->
    'keine'): a level there is that language's. None where nothing else is left."""
    if not text or not _LANGUAGE_NAMED.search(text):
        return text
    kept = [clause.strip() for clause in _REQUIREMENT_CLAUSES.split(text)
            if not (names := _LANGUAGE_NAMED.findall(clause))
            or any(_GERMAN_NAMED.match(name) for name in names)]
    return ", ".join(clause for clause in kept if clause) or None


def german_wanted(texts: list[str]) -> dict:
    """A job's german_level and german_required from its free texts (requirements, the
    description): the one level named for German (True), else False where a text says no
    German is needed, else neither."""
    level = german_level(texts)
    if level is not None:
        return {"german_level": level, "german_required": True}
    return {"german_level": None,
            "german_required": False if any(map(says_no_german, texts)) else None}


def cefr_levels(value: object) -> object:
    """'A1-B1', 'von A1 bis B1', 'A1 - A2 - B1' -> [A1, A2, B1]; 'A2, B1' -> [A2, B1]; 'ab A2'
    (the level a course starts from) -> [A2]; invalid -> [the text] for the rejection."""
    words = text(value)
    if not isinstance(words, str):
        return words
    found: list[str] = []
    bare = words
    if "(" in bare:
        bare = _LEVELS_REMARK.sub("", bare) or words
    if " " in bare:
        bare = _SPACED_LEVEL.sub(r"\1\2", bare)
    for part in re.split(r"[,;/+\n]|(?<![^\S\n])\s+und\s+", bare):
        part = _bare_level(part)
        if not part:
            continue
        span = _LEVEL_RANGE.match(part)
        if span:
            start = _LEVEL.match(_bare_level(span.group(1)))
            end = _LEVEL.match(_bare_level(span.group(2)))
            if not (start and end):
                return [words]
            low, high = LEVELS.index(start.group(1)), LEVELS.index(end.group(1))
            if low > high:
                return [words]
            wanted = LEVELS[low : high + 1]
        else:
            single = _LEVEL.match(part)
            if single:
                wanted = (single.group(1),)
            else:
                wanted = _chain(part)
                if not wanted:
                    return [words]
        found.extend(level for level in wanted if level not in found)
    return sorted(found, key=LEVELS.index)


def _chain(part: str) -> list[str]:
    """The levels of a chain 'A1 - A2 - B1' (rising), as named; empty if ``part`` is none."""
    links = [_LEVEL.match(_bare_level(link)) for link in _LEVEL_CHAIN.split(part)]
    if len(links) < 3 or not all(links):
        return []
    named = [link.group(1) for link in links]
    positions = [LEVELS.index(level) for level in named]
    return named if positions == sorted(positions) else []


def _bare_level(part: str) -> str:
    """A level as written in a level field, without the words around it: 'Niveau B1',
    'GER B2', 'B1+' (B1 and beyond: B1), 'Fortgeschrittene (B2)', and a note after it,
    'B1 (Zielniveau)', 'A1 - Alpha', 'C1 Hochschule' -> 'B1', 'B2', 'B1', 'B2', 'B1', 'A1',
    'C1'; anything else upper-cased as it is."""
    written = _LEVEL_NOTE.sub(r"\1", part.strip()).upper()
    part = _LEVEL_WORD.sub("", written).strip() or written  # 'Sprachniveau' alone stays
    inner = _LEVEL_IN_BRACKETS.match(part)
    if inner:
        part = inner.group(1)
    return part[:-1] if part.endswith("+") and _LEVEL.match(part[:-1]) else part


def cefr_level(value: object) -> object:
    """One level: 'B1' or a sub-level 'B1.2' -> 'B1'; a range or a choice of levels ('B1-B2',
    'B1/B2': at least B1) -> its lowest; 'keine' -> None; else the text."""
    word = text(value)
    if not isinstance(word, str):
        return word
    if word.casefold() in {"keine", "keine angabe", "nicht erforderlich"}:
        return None
    single = _LEVEL.match(_bare_level(word))
    if single:
        return single.group(1)
    levels = cefr_levels(word)
    return levels[0] if levels and levels != [word] else word


def levels_in_text(value: object) -> list[str]:
    """Every level named in a free text, ranges expanded: 'Deutsch A2-B1 (Teil 2)' -> [A2, B1].

    Only upper-case levels standing alone count ('C++' or 'MB1' do not)."""
    if not isinstance(value, str):
        return []
    found: set[str] = set()
    for match in _LEVEL_IN_TEXT.finditer(value):
        low = LEVELS.index(match.group(1))
        high = LEVELS.index(match.group(2)) if match.group(2) else low
        found.update(LEVELS[min(low, high) : max(low, high) + 1])
    return sorted(found, key=LEVELS.index)


# --------------------------------------------------------------------------- dates


@_memo_text
def date_value(value: object) -> object:
    """'TT.MM.JJJJ', 'JJJJ-MM-TT' or an ISO date-time (with a zone: its day in Berlin) -> date;
    also as spreadsheets write dates in other formats: 'TT.MM.JJ' (this century), '1. Mai 2027', '1 May 2027' and 'May 1,
    2027' (a month named, in German or English), '01.05.2027 08:00' and
    '01.05.27 08:00' (the time left out), '01-05-2027', '01/05/2027' (day first), a weekday
    before or after it ('Mo, 01.03.2027', '01.03.2027 (Mo)'), a spreadsheet's day number
    ('46082' -> 2026-03-01; ``_SERIAL_DAY``). Else the text."""
    day = written = text(value)
    if not isinstance(day, str):
        return day
    serial = _SERIAL_DAY.match(day)
    if serial and 36526 <= int(serial.group(1)) <= 73050:
        return _SERIAL_EPOCH + dt.timedelta(days=int(serial.group(1)))
    try:
        day = _WEEKDAY_AROUND.sub("", day) or day
        other = _OTHER_SEPARATORS.match(day)
        if other:
            day = ".".join(other.groups())
        if _ISO_DATE.match(day):
            return dt.date.fromisoformat(day)
        if _ISO_DATETIME.match(day):
            moment = dt.datetime.fromisoformat(day)
            # an instant with its zone is a day in Berlin: a form's UTC export of a course
            # starting 07.06. reads '2027-06-06T22:00:00Z'
            return (moment.astimezone(BERLIN) if moment.tzinfo else moment).date()
        with_time = _DATE_AND_TIME.match(day)
        german = _GERMAN_DATE.match(with_time.group(1) if with_time else day) \
            or _SHORT_YEAR_DATE.match(with_time.group(1) if with_time else day)
        if german:
            d, m, y = (int(group) for group in german.groups())
            return dt.date(y if y >= 100 else 2000 + y, m, d)
        long_form = _LONG_DATE.match(day)
        if long_form and long_form.group(2).casefold() in _MONTHS:
            year = int(long_form.group(3))
            return dt.date(year if year >= 100 else 2000 + year,
                           _MONTHS[long_form.group(2).casefold()], int(long_form.group(1)))
        month_first = _MONTH_FIRST_DATE.match(day)
        if month_first and month_first.group(1).casefold() in _MONTHS:
            return dt.date(int(month_first.group(3)), _MONTHS[month_first.group(1).casefold()],
                           int(month_first.group(2)))
    except ValueError:
        pass
    return written


@_memo_text
def date_after_word(value: object) -> object:
    """A date with the word a form puts before it: 'ab 01.03.2027', 'am', 'zum', 'ab dem',
    'bis (zum)', 'spätestens (am)', 'Stichtag' -> the date (as ``date_value``); else the
    text."""
    written = text(value)
    if not isinstance(written, str):
        return date_value(written)
    read = date_value(_DATE_WORD.sub("", written) or written)
    return written if isinstance(read, str) else read


@_memo_text
def timestamp(value: object) -> object:
    """A date (-> midnight) or a date and time, German or ISO; without a zone it is local time
    in Europe/Berlin. Unreadable -> the text."""
    moment_text = text(value)
    if not isinstance(moment_text, str):
        return moment_text
    moment: dt.datetime | None = None
    german = _GERMAN_DATETIME.match(moment_text)
    try:
        if _ISO_DATETIME.match(moment_text):
            moment = dt.datetime.fromisoformat(moment_text)
        elif german:
            d, m, y, hh, mm, ss = german.groups()
            year = int(y) if len(y) == 4 else 2000 + int(y)  # '30.03.26 14:05': LibreOffice's default
            moment = dt.datetime(year, int(m), int(d), int(hh), int(mm), int(ss or 0))
    except ValueError:
        return moment_text
    if moment is None:
        day = date_value(moment_text)
        if not isinstance(day, dt.date):
            return moment_text
        moment = dt.datetime.combine(day, dt.time())
        if _SERIAL_DAY.match(moment_text):  # a spreadsheet's day number: the time its fraction
            fraction = float(moment_text.replace(",", ".")) % 1
            moment += dt.timedelta(seconds=round(fraction * 86_400))
    return moment if moment.tzinfo else moment.replace(tzinfo=BERLIN)


@_memo_text
def date_in_text(value: object) -> dt.date | None:
    """The first valid date in a free text: 'ab 01.05.2026', 'frei ab 1. Mai 2026' ->
    2026-05-01; a text that is only a month ('ab Mai 2026', see ``month_start``) -> its
    first day; none -> None."""
    if not isinstance(value, str):
        return None
    found: list[tuple[int, dt.date]] = []  # (where, day): the first in the text wins
    for match in _DATE_IN_TEXT.finditer(value):
        day, month, year, iso_year, iso_month, iso_day = match.groups()
        try:
            if day:
                full_year = int(year) if len(year) == 4 else 2000 + int(year)
                found.append((match.start(), dt.date(full_year, int(month), int(day))))
            else:
                found.append((match.start(), dt.date(int(iso_year), int(iso_month), int(iso_day))))
            break
        except ValueError:
            continue
    for pattern, day_group, month_group in ((_LONG_DATE_IN_TEXT, 1, 2), (_MONTH_FIRST_IN_TEXT, 2, 1)):
        for match in pattern.finditer(value):
            month = _MONTHS.get(match.group(month_group).casefold())
            try:
                if month:
                    found.append((match.start(), dt.date(int(match.group(3)), month,
                                                         int(match.group(day_group)))))
                    break
            except ValueError:
                continue
    return min(found)[1] if found else month_start(value)


def month_start(value: object) -> dt.date | None:
    """The first day of a month named without its day: 'März 2028', 'ab März 2028',
    'Anfang März 2028', '03/2028', '2028-03' -> 2028-03-01. Anything else (a whole date,
    'Mitte März 2028', a month without its year) -> None."""
    if not isinstance(value, str):
        return None
    written = value.strip()
    named = _MONTH_ONLY.match(written)
    iso = _ISO_MONTH.match(written)
    if named and named.group(1):
        month, year = _MONTHS.get(named.group(1).casefold()), named.group(2)
    elif named:
        month, year = int(named.group(3)), named.group(4)
    elif iso:
        month, year = int(iso.group(2)), iso.group(1)
    else:
        return None
    return dt.date(int(year), month, 1) if month and 1 <= month <= 12 else None


# the words before a month that ends something: 'bis Ende März 2028', 'spätestens März 2028'
_UNTIL_MONTH = re.compile(r"(?i)^(?:(?:bis|spätestens|spaetestens)(?:\s+zum)?\s+)?(?:ende\s+)?")


def month_end(value: object) -> dt.date | None:
    """The last day of a month named without its day, as a deadline names it: 'März 2028',
    'Ende März 2028', 'bis Ende März 2028', '03/2028' -> 2028-03-31; anything else -> None."""
    if not isinstance(value, str):
        return None
    written = _UNTIL_MONTH.sub("", value.strip())
    if written.casefold().startswith(("ab ", "anfang ")):
        return None  # the beginning of a month is no deadline's end
    first = month_start(written)
    if first is None:
        return None
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def epoch_millis(value: object) -> object:
    """Milliseconds since 1970 (BA course APIs; a number or a string of digits) -> aware
    datetime in Europe/Berlin. Anything else passes through."""
    digits = re.fullmatch(r"\s*(-?\d{1,18})\s*", value) if isinstance(value, str) else None
    if digits:  # the digits alone: re's \s takes control characters (\x1f) that int() refuses
        value = int(digits.group(1))
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return (_EPOCH + dt.timedelta(milliseconds=value)).astimezone(BERLIN)
        except (OverflowError, ValueError):
            return value
    return text(value)


def epoch_millis_date(value: object) -> object:
    """Milliseconds since 1970 -> the calendar day in Europe/Berlin (BA sends local midnight)."""
    moment = epoch_millis(value)
    return moment.date() if isinstance(moment, dt.datetime) else moment


# --------------------------------------------------------------------------- numbers


def number(value: object, machine: bool = False) -> object:
    """'650', '650.50', '650,50', '1.234,56', '1 234' -> float; JSON numbers pass;
    anything else passes through as written.

    With both a comma and a dot the last one is the decimal separator ('1.560,00' and
    '1,560.00' are 1560.0). ``machine=True`` for values from machine formats (XML decimals,
    JSON-LD, coordinates): there a lone dot is always the decimal point ('49.374' is 49.374,
    not 49374), and a lone comma a decimal comma."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            read = float(value)
        except OverflowError:  # an integer beyond float range
            return value
        return read if math.isfinite(read) else value
    read = _plain(value, machine)
    if read is not None:
        return read
    written = text(value)
    if not isinstance(written, str):
        return written
    digits = written.replace(" ", "").replace("\u00a0", "")
    if "," in digits and "." in digits:  # both: the last one is the decimal separator
        if digits.rfind(",") > digits.rfind("."):
            digits = digits.replace(".", "").replace(",", ".")
        else:  # '2,450.00' (English style, also in German files)
            digits = digits.replace(",", "")
    elif machine:
        digits = digits.replace(",", ".")
    elif "," in digits:
        digits = digits.replace(".", "").replace(",", ".")
    elif _THOUSANDS.match(digits):
        digits = digits.replace(".", "")
    try:
        read = float(digits)
    except ValueError:
        return written
    return read if math.isfinite(read) else written


def _plain(value: object, machine: bool) -> float | None:
    """A plainly written number read at once (most values of a big feed), else None."""
    if isinstance(value, str) and (_PLAIN_MACHINE if machine else _PLAIN_DIGITS).fullmatch(value):
        read = float(value)
        if math.isfinite(read):
            return read
    return None


MAX_DEPOSIT_RENTS = 6  # a deposit figure this small counts rents, not euro
# a rate per lesson, hour, month or module ('2,29 € pro UE', '15 €/Std.', '120 € mtl.'; a unit
# 'UE' or 'Unterrichtsstunde' alone): not the price of a whole course
_RATE_UNIT = (r"(?:ue|ustd|ust|unterricht\w*|std\b|stunden?|lektion\w*|einheit\w*|lessons?|hours?|"
              r"monat\w*|mon\.|modul\w*|woche\w*)")
PER_LESSON = re.compile(rf"(?i)(?:\b(?:pro|je|per)\s+|/\s*){_RATE_UNIT}|\b(?:mtl\.|monatlich)"
                        rf"|^{_RATE_UNIT}$")
_NO_DEPOSIT = re.compile(r"(?i)^(?:keine(?:\s+kaution)?|ohne(?:\s+kaution)?|kautionsfrei)$")
# a deposit as a number of monthly rents: '3 Kaltmieten', '2 KM', '3 Monate', '3 x NKM'
_DEPOSIT_IN_RENTS = re.compile(
    r"^(\d+(?:,\d+)?)\s*(?:x\s*)?(?:kaltmieten?|nettokaltmieten?|monatsmieten?|"
    r"monatskaltmieten?|monate?|km|nkm|mm|mieten?)$",
    re.IGNORECASE,
)


def deposit(value: object, cold_rent: object) -> object:
    """'1.560,00' -> the amount; '3 Kaltmieten', '2 KM', '3 Monate' -> that many cold rents
    (when the cold rent is known); a bare number up to MAX_DEPOSIT_RENTS ('3') is a number of
    rents too (no deposit is 3 euro; the law caps it at three cold rents); rents without a
    cold rent to count them in -> None (``deposit_in_rents``); 'keine', 'kautionsfrei',
    'ohne Kaution' -> 0; else as written."""
    if isinstance(value, str) and _NO_DEPOSIT.match(value.strip()):
        return 0.0
    read, rents = _deposit_read(value)
    if rents is not None:
        return round(rents * cold_rent, 2) if isinstance(cold_rent, float) else None
    return read


def deposit_in_rents(value: object) -> float | None:
    """How many rents a deposit figure counts ('3 Kaltmieten', '2 KM', '3', see ``deposit``),
    or None where it is no such figure."""
    return _deposit_read(value)[1]


def _deposit_read(value: object) -> tuple[object, float | None]:
    """(the figure as ``money`` reads it, how many rents it counts or None)."""
    rents = _DEPOSIT_IN_RENTS.match(value.strip()) if isinstance(value, str) else None
    if rents:
        return value, float(rents.group(1).replace(",", "."))
    read = money(value)
    return read, (read if isinstance(read, float) and 0 < read <= MAX_DEPOSIT_RENTS else None)


# pay named in words, not as an amount: a collective agreement's grade ('TVöD S8a', 'nach
# Tarif'), 'nach Vereinbarung', 'Mindestlohn', extras ('+ Zulagen'); and the words before an
# amount that bound it ('ab 2.500 €', 'mind. 12,82 €')
PAY_IN_WORDS = re.compile(
    r"(?i)tarif|tv[öo]e?d|tv-l|vereinbarung|absprache|verhandlungs|\bvb\b|attraktiv|"
    r"leistungsgerecht|übertariflich|nach qualifikation|mindestlohn|zulage|zuschl[äa]g|"
    r"provision|prämie|praemie|entgeltgruppe")
_SALARY_PREFIX = re.compile(r"^(?:ab|bis|ca\.?|circa|mindestens|mind\.|max\.?|maximal|zwischen)\s*",
                           re.IGNORECASE)

# what joins an amount to the pay words after it: '3.000 € nach Tarif', '2.500 €, VB'
_WORDS_LEFT = re.compile(  # begun only where a run of joining marks begins: linear on long runs
    r"(?i)(?<![\s,;/(–+-])(?:[\s,;/(–+-]*(?:\b(?:nach|gemäß|laut|oder|je|plus)\b|\b(?:gem|lt|bzw|zzgl)\b\.?))*"
    r"[\s,;/(–+-]*$")
# the period an amount names after it: '14,50 €/Std.', '14,50 € pro Stunde', '45.000 € p.a.',
# '3.000 € mtl. brutto' (a 'brutto' after it is read past)
PER_PERIOD = re.compile(  # begun only where a blank run begins: linear on long runs of blanks
    r"(?i)(?<!\s)(?:\s*(?:/|\b(?:pro|je|im|in\s+der)\s)\s*(std\.?|stunde|h|monat|mon\.|jahr)"
    r"|\s+(p\.?\s?a\.?|mtl\.?|monatlich|jährlich|jaehrlich|stündlich|stuendlich|"
    r"stundenlohn|monatslohn|monatsgehalt|jahresgehalt))"
    r"(?:\s*brutto)?\s*$")
# pay per week or per day: the canonical salary is per hour, month or year, and turning a
# weekly or daily pay into one of them would guess the days and weeks worked. The words and
# codes such a period goes by (as enum keys: a template's 'Gehalt pro', schema.org's unitText
# / unitCode, UN/CEFACT's WEE), and what names it right after an amount ('500 €/Woche', '120 €
# pro Tag', '500 € wöchentlich'; not '... bei 5 Tagen pro Woche')
_UNPUBLISHED_PERIODS = frozenset({
    "WEEK", "WEE", "WK", "P1W", "WEEKLY", "PER_WEEK", "WOCHE", "WO", "WOECHENTLICH",
    "PRO_WOCHE", "JE_WOCHE", "WOCHENLOHN", "WOCHENGEHALT",
    "DAY", "P1D", "DAILY", "PER_DAY", "TAG", "TAEGLICH", "PRO_TAG", "JE_TAG", "TAGESLOHN",
    "TAGESSATZ",
})
_PER_UNPUBLISHED_PERIOD = re.compile(
    r"(?i)(?:\d|€|-|\beuro?|\bbrutto)\s*"
    r"(?:(?:/|\b(?:pro|je|per|am|in\s+der)\s)\s*(?:woche|wo\.?|tag|week|day)"
    r"|(?:wöchentlich|woechentlich|täglich|taeglich|wochenlohn|tageslohn|tagessatz))"
    r"(?:\s*brutto)?\s*$")

# the words a pay period goes by (a template's 'Gehalt pro', or after an amount) -> the period
SALARY_PERIODS = {
    "jahr": "year",
    "jaehrlich": "year",
    "jährlich": "year",
    "monat": "month",
    "monatlich": "month",
    "stunde": "hour",
    "stuendlich": "hour",
    "stündlich": "hour",
    "jahresgehalt": "year",
    "monatsgehalt": "month",
    "stundenlohn": "hour",
    # as forms abbreviate them
    "mtl.": "month", "mtl": "month", "mon.": "month", "pro monat": "month", "monatsbrutto": "month",
    "std.": "hour", "std": "hour", "h": "hour", "pro stunde": "hour", "stundenbrutto": "hour",
    "p.a.": "year", "p. a.": "year", "p.a": "year", "pa": "year", "pro jahr": "year",
    "jahresbrutto": "year", "monatslohn": "month",
}


def period_said(value: str | None) -> str | None:
    """The period an amount names after it: '14,50 €/Std.' -> 'hour', '45.000 € p.a.' ->
    'year'; None where it names none."""
    said = PER_PERIOD.search(amount_part(value)[0]) if isinstance(value, str) else None
    if said is None:
        return None
    word = (said.group(1) or said.group(2)).casefold().replace(" ", "")
    return SALARY_PERIODS.get(word) or SALARY_PERIODS.get(word.rstrip("."))


def unpublished_period(value: object) -> bool:
    """Whether a pay period ('Woche', 'pro Tag', 'wöchentlich', WEEK, DAY) or an amount
    ('500 €/Woche', '120 € pro Tag') names pay per week or per day: the directory publishes
    no such salary, and the formats say so (JOB_SALARY_PERIOD_NOT_PUBLISHED)."""
    written = text(value)
    if not isinstance(written, str):
        return False
    return (enum_key(written.rstrip(".").strip()) in _UNPUBLISHED_PERIODS
            or bool(_PER_UNPUBLISHED_PERIOD.search(amount_part(written)[0])))

# a comma before groups of three digits, in English style: '1,200' is 1200 euros (a German
# amount never has three decimal places)
_COMMA_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(?:,\d{3})+$")
COMMA_THOUSANDS_IN_TEXT = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3})+(?![\d.,])")


# An amount, an area or rooms longer than this is no number: it is returned as written (the
# rejection quotes it) without the patterns below, which are slow on long runs of blanks
# ('\s*-?\s*' of _ROOMS_WORD split a run every way: 2,000 blanks took 23 s)
NUMBER_CHARS = 200


def money(value: object, machine: bool = False) -> object:
    """Euro amounts: '1.250,00 €', '150,- EUR', '99.90', '1,200' (English thousands: 1200);
    'kostenlos' -> 0."""
    read = _plain(value, machine)
    if read is not None:
        return read
    written = text(value)
    if not isinstance(written, str):
        return number(written)
    if written.casefold() in FREE_WORDS:
        return 0.0
    if len(written) > NUMBER_CHARS:
        return written
    amount = _CURRENCY.sub("", _ABOUT.sub("", _AMOUNT_QUALIFIER.sub("", written))).strip()
    amount = re.sub(r"[,.]-+$", "", amount)  # '150,-', '450.-': whole euros
    if not machine and _COMMA_THOUSANDS.match(amount):
        return float(amount.replace(",", ""))
    read = number(amount, machine)
    return read if isinstance(read, float) else written


def salary_amount(value: str | None) -> object:
    """A pay cell or text: '2.450,00', 'ab 2.500 €', 'mind. 2.450 €', '14,50 €/Std.' -> the
    amount; pay in words ('nach Tarif', 'TVöD S8a', 'Mindestlohn') -> None (the formats warn:
    JOB_SALARY_IN_WORDS); an amount before such words ('3.000 € nach Tarif', '12,82 €
    (Mindestlohn)', '2.450 € + Zulagen') is that amount; anything else as written."""
    if value is None:
        return None
    part, in_words = amount_part(value)
    amount = money(_SALARY_PREFIX.sub("", PER_PERIOD.sub("", part)))
    if isinstance(amount, float):
        return amount
    return None if in_words else value


_LOWER_BOUND = re.compile(r"(?i)^\s*(?:ab|mindestens|mind\.|min\.|from|at\s+least)\s")
_UPPER_BOUND = re.compile(r"(?i)^\s*(?:bis|max\.?|maximal|höchstens|hoechstens|up\s+to)\s")


def salary_bound(value: object) -> str | None:
    """Which end of the pay one amount in text gives: 'ab 2.800 €', 'mind. 14 €' -> 'min';
    'bis 3.500 €', 'max. 16 €' -> 'max'; None for an amount alone ('2.800 €', 'ca. 3.000 €')."""
    if not isinstance(value, str):
        return None
    if _LOWER_BOUND.match(value):
        return "min"
    if _UPPER_BOUND.match(value):
        return "max"
    return None


def amount_part(value: str) -> tuple[str, bool]:
    """The part of a pay cell that may hold the amount, and whether pay words follow it:
    '3.000 €/Monat nach Tarif' -> ('3.000 €/Monat', True)."""
    words = PAY_IN_WORDS.search(value)
    if words is None:
        return value, False
    return _WORDS_LEFT.sub("", value[:words.start()]), True


def area(value: object, machine: bool = False) -> object:
    """Square metres: '68,5', '68,5 m²', '70 qm'; what a listing adds after it ('65 m² + Balkon')
    is passed over."""
    read = _plain(value, machine)
    if read is not None:
        return read
    written = text(value)
    if not isinstance(written, str):
        return number(written)
    if len(written) > NUMBER_CHARS:
        return written
    bare = _UNITS.sub("", _ABOUT.sub("", _AREA_WORD.sub("", _AREA_EXTRA.sub("", written)).strip()))
    read = number(bare, machine)
    return read if isinstance(read, float) else written


def rooms(value: object) -> object:
    """Rooms: a number ('2', '2,5'), or a half as German listings write it ('2½', '2 1/2'),
    with the word listings put after it ('2 Zi.', '2 Zimmer', '2-Zimmer', '2 ZKB', and the
    other rooms: '4 Zi., Kü., Bad', '2 + Küche') or 'ca.' before it."""
    written = text(value)
    if isinstance(written, str) and len(written) > NUMBER_CHARS:
        return written
    if isinstance(written, str):
        written = _ROOMS_WORD.sub("", _ABOUT.sub("", _ROOMS_EXTRA.sub("", written))) or written
    half = _HALF.match(written) if isinstance(written, str) else None
    return int(half.group(1)) + 0.5 if half else number(written)


def integer(value: object) -> object:
    """A whole number ('3', '1.000', '3,0') -> int; anything else as written."""
    read = number(value)
    if isinstance(read, float) and read.is_integer():
        return int(read)
    return text(value)


def floor(value: object) -> object:
    """Storey: 'EG' / 'Erdgeschoss' -> 0, 'UG' / 'Souterrain' -> -1, '2', '2. OG',
    '3. Stock' -> the number; the side of the landing after it does not count ('1. OG
    links', '1. OG hinten links' -> 1), nor a remark in brackets ('3. OG (DG)' -> 3, 'DG
    (3. OG)' -> 3). Anything else as written ('DG': see ``top_floor``)."""
    written = text(value)
    if not isinstance(written, str):
        return integer(written)
    for word in _storey_words(written):
        if word in _GROUND_FLOOR:
            return 0
        if word in _BASEMENT:
            return -1
        storey = _FLOOR.match(word)
        if storey and len(storey.group(1)) <= 4:
            return int(storey.group(1))
    return integer(written)


@lru_cache(maxsize=4096)
def _storey_words(written: str) -> tuple[str, ...]:
    """What may name the storey in a floor value: the value without the side of the landing
    ('1. OG hinten links' -> '1. og') and without a remark in brackets ('3. OG (DG)',
    '4. Stock (Aufzug)' -> '3. og', '4. stock'), then each remark ('DG (3. OG)' -> '3. og').
    Remembered: a housing feed asks it three times a flat (floor, top floor, its note), of the
    same few values."""
    word = written.casefold().replace("\u2212", "-")  # a minus sign: '−1'
    bare = ASIDE.sub(" ", word).strip() or word
    first = bare.split("/")[0].strip()  # '3. OG/DG': the storey, then what it is
    bare = first if _FLOOR.match(first) else bare
    while (shorter := _SIDE.sub("", bare)) != bare:
        bare = shorter
    return (bare, *(_SIDE.sub("", aside[1:-1].strip()) for aside in ASIDE.findall(word)))


def top_floor(value: object) -> bool:
    """Whether ``value`` names the top storey without its number ('DG', 'Dachgeschoss
    rechts'): a flat there is a flat whose storey number is not known ('DG (3. OG)' names it)."""
    written = text(value)
    return (isinstance(written, str) and _storey_words(written)[0] in _TOP_FLOOR
            and not isinstance(floor(written), int))
