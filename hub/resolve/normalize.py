"""Normalisation of German names, titles and addresses for matching."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRANSLIT_PAIRS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("é", "e"), ("è", "e"))
_GENDER = re.compile(
    r"\(\s*(?:m|w|d|f|x|i|div|gn|all\s+genders?|alle)\s*(?:[/|,*]\s*(?:m|w|d|f|x|i|div)\s*)*\)"
    r"|\b(?:m|w|d|f)\s?/\s?(?:m|w|d|f)(?:\s?/\s?(?:m|w|d|f|x|div))?\b|\*in(?:nen)?\b|/-?in(?:nen)?\b",
)
_LEGAL = re.compile(
    r"(?:\b(?:gemeinnuetzige\s+)?(?:g?gmbh|g\.?m\.?b\.?h\.?)(?:\s*(?:&|u\.?|und)\s*co\.?\s*kg)?"
    r"|\bug\s*\(haftungsbeschraenkt\)|\baktiengesellschaft|\beingetragener\s+verein"
    r"|\b(?:ug|ag|kg|ohg|e\.?\s?v\.?|ev|e\.\s?k\.?|ek|gbr|g\.b\.r\.?|mbh|se|kgaa))(?=\s|$|[.,])",
)
_STREET = re.compile(r"(?<=\w)(?:str\.|strasse|str\b)|\bstr\.\s*|\bstrasse\b")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_TRACKING = re.compile(r"^(?:utm_|mc_|fbclid|gclid|ref$|source$)")


def fold(text: str | None) -> str:
    """Lower case, umlauts transliterated, punctuation to single spaces."""
    if not text:
        return ""
    text = transliterate(text.lower())
    return _NON_ALNUM.sub(" ", text).strip()


def transliterate(text: str) -> str:
    """ä -> ae, ö -> oe, ü -> ue, ß -> ss (replace chains are much faster than translate)."""
    if text.isascii():
        return text
    for char, repl in _TRANSLIT_PAIRS:
        if char in text:
            text = text.replace(char, repl)
    return text


@lru_cache(maxsize=262144)
def title_key(title: str | None) -> str:
    """A job or course title without gender markers: 'Koch (m/w/d)' == 'Koch (w/m/d)'."""
    if not title:
        return ""
    text = _GENDER.sub(" ", title.lower())
    return fold(text)


@lru_cache(maxsize=262144)
def org_key(name: str | None) -> str:
    """An organisation name without legal form: 'Muster GmbH' == 'Muster G.m.b.H.'."""
    if not name:
        return ""
    text = transliterate(name.lower())
    text = _LEGAL.sub(" ", text)
    return fold(text)


@lru_cache(maxsize=262144)
def street_key(street: str | None) -> str:
    """'Hauptstr.' == 'Hauptstraße' == 'Haupt-Strasse'."""
    if not street:
        return ""
    text = transliterate(street.lower()).replace("-", "")
    text = _STREET.sub("strasse", text)
    return fold(text).replace(" ", "")


def house_number_key(number: str | None) -> str:
    """'8-10' == '8 - 10'; '12 a' == '12a'."""
    if not number:
        return ""
    return re.sub(r"\s+", "", number.lower())


# a URL with nothing for urlsplit to take apart but host and path (no user, port, query,
# fragment, IPv6 brackets, backslash or white space): most offer pages
_PLAIN_URL = re.compile(r"https?://([^/?#@:\[\]\\\s]+)(/[^?#\\\s]*)?")


@lru_cache(maxsize=4096)  # resolution asks for each record's URL two or three times in a row
def canonical_url(url: str | None) -> str:
    """Scheme and host lower-cased, 'www.' dropped, tracking parameters, fragment and a
    trailing slash removed."""
    if not url:
        return ""
    url = url.strip()
    plain = _PLAIN_URL.fullmatch(url)
    if plain:  # what split_url_key gives, without its cost (a million records)
        return f"https://{plain[1].lower().removeprefix('www.')}{(plain[2] or '').rstrip('/')}"
    return split_url_key(url)


def split_url_key(url: str) -> str:
    """``canonical_url`` by urllib's parts (any URL)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    path = parts.path.rstrip("/")
    return urlunsplit(("https", host, path, query, ""))


# -- fuzzy matching helpers -------------------------------------------------------------------

_ABBREVIATIONS = {
    # job titles
    "mitarb": "mitarbeiter", "ma": "mitarbeiter", "fachkr": "fachkraft", "kfm": "kaufmann",
    "kffr": "kauffrau", "ausb": "ausbildung", "azubi": "ausbildung", "tz": "teilzeit",
    "vz": "vollzeit", "std": "stunden", "pfl": "pflege", "ang": "angestellte",
    "elektr": "elektriker", "lkw": "lkw", "kfz": "kfz",
    # courses
    "dt": "deutsch", "int": "integrationskurs", "ik": "integrationskurs",
    "bsk": "berufssprachkurs", "vorm": "vormittags", "nachm": "nachmittags",
    "abds": "abends", "akad": "akademische",
    # housing
    "whg": "wohnung", "zi": "zimmer", "zkb": "zimmer kueche bad", "eg": "erdgeschoss",
    "og": "obergeschoss", "dg": "dachgeschoss", "wbs": "wohnberechtigungsschein",
}
FILLER = frozenset(
    "in im am an der die das den dem des und mit fuer zur zum ab auf bei von vom ein eine einen "
    "wir suchen gesucht sofort ab sofort ihr unser unsere unseren team verstaerkung stelle job "
    "neu neue neuer top attraktive bis".split()
)
_HOUSE = re.compile(r"(\d+)\s*([a-z]?)(?:\s*(?:-|–|bis|/)\s*(\d+)\s*([a-z]?))?")
PLACE_KEY_CHARS = 200  # of a city name, for its key
_PLACE_QUALIFIER = re.compile(r"(?<!\s)\s*(?:\(.*?\)|/.*$|,.*$|\b(?:a\.|am|an der|im|i\.|ob der|o\.)\s.*$)")


_PHRASES = {"int kurs": "integrationskurs", "dt kurs": "deutschkurs", "sprach kurs": "sprachkurs"}


def expand(text: str) -> str:
    """Folded text with common German abbreviations written out ('Mitarb.' -> 'mitarbeiter')."""
    for phrase, full in _PHRASES.items():
        if phrase in text:
            text = re.sub(rf"\b{phrase}\b", full, text)
    return " ".join(_ABBREVIATIONS.get(word, word) for word in text.split())


# both forms of a job title written out ('Pflegefachfrau / Pflegefachmann', 'Kauffrau/-mann',
# folded to 'pflegefachfrau pflegefachmann', 'kauffrau mann'): one word
_FORM_PAIR = re.compile(r"\b(\w+?)(?:frau|mann)\s+(?:\1)?(?:frau|mann)\b")
_FACH = re.compile(r"fach(?:frau|mann)$")  # Pflegefachfrau = Pflegefachmann = Pflegefachkraft
_FRAU = re.compile(r"(?<=\w{3})frau$")  # Kauffrau -> Kaufmann
# a feminine form in -in (Erzieherin, Verkäuferin, Friseurin, Assistentin, Floristin)
_FEMININE = re.compile(r"^(\w{3,}(?:er|eur|ent|ant|ist|or|ar))in(?:nen)?$")


def one_form(word: str) -> str:
    """A job title word in one grammatical gender: 'erzieherin' -> 'erzieher', 'kauffrau' ->
    'kaufmann', 'pflegefachfrau' / 'pflegefachmann' -> 'pflegefachkraft'."""
    if word.endswith(("in", "innen")):
        return _FEMININE.sub(r"\1", word)
    if word.endswith(("frau", "mann")):
        if _FACH.search(word):
            return _FACH.sub("fachkraft", word)
        return _FRAU.sub("mann", word)
    return word


@lru_cache(maxsize=262144)
def title_norm(title: str | None) -> str:
    """Title for fuzzy comparison: no gender marker, folded, abbreviations expanded, both
    forms of a title ('Erzieherin / Erzieher', 'Pflegefachfrau/-mann') as one."""
    text = expand(title_key(title))
    if "frau" in text or "mann" in text:
        text = _FORM_PAIR.sub(lambda m: m.group(1) + "mann", text)
    return " ".join(one_form(word) for word in text.split())


def content_tokens(text: str) -> list[str]:
    """Words of a normalised title that carry meaning (no filler, no single letters)."""
    return [w for w in text.split() if w not in FILLER and len(w) > 1]


@lru_cache(maxsize=65536)
def house_numbers(number: str | None) -> tuple[int, int, str] | None:
    """'8-10' -> (8, 10, ''); '12a' -> (12, 12, 'a'); '' -> None."""
    if not number:
        return None
    match = _HOUSE.search(number.lower())
    if not match:
        return None
    low = int(match.group(1))
    high = int(match.group(3)) if match.group(3) else low
    if high < low:
        high = low
    suffix = "" if match.group(3) else match.group(2)
    return (low, high, suffix)


def house_numbers_overlap(a: str | None, b: str | None) -> bool | None:
    """True when two house numbers can name the same building ('8-10' and '8', '12a' and
    '12 a'); False when they cannot ('12a' and '12b', '8' and '14'); None when one is missing."""
    ha, hb = house_numbers(a), house_numbers(b)
    if ha is None or hb is None:
        return None
    if ha[1] < hb[0] or hb[1] < ha[0]:
        return False
    # '8-10' is 8 and 10 (one side of the street): it does not hold 9
    sa = set(range(ha[0], ha[1] + 1, 2 if (ha[1] - ha[0]) % 2 == 0 else 1))
    sb = set(range(hb[0], hb[1] + 1, 2 if (hb[1] - hb[0]) % 2 == 0 else 1))
    if not sa & sb:
        return False
    if ha[0] == ha[1] and hb[0] == hb[1] and ha[2] and hb[2] and ha[2] != hb[2]:
        return False
    return True


@lru_cache(maxsize=262144)
def place_key(city: str | None) -> str:
    """'Neunkirchen (Saar)' == 'Neunkirchen/Saar' == 'Neunkirchen, Saar' == 'neunkirchen'."""
    if not city:
        return ""
    # a place's name is short; the cap keeps a hostile 100 KB "city" ('((((...' with no
    # ')') from costing the regex below quadratic time
    text = transliterate(city.lower()[:PLACE_KEY_CHARS])
    text = _PLACE_QUALIFIER.sub("", text)
    return fold(text)


@lru_cache(maxsize=65536)
def postal_key(code: str | None) -> str:
    """Five digits; a code that lost its leading zero ('1067') gets it back."""
    digits = re.sub(r"\D", "", code or "")
    return digits.zfill(5) if 4 <= len(digits) <= 5 else ""
