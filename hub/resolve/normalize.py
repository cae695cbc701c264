"""Normalisation of German names, titles and addresses for matching."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e"})
_GENDER = re.compile(
    r"\(\s*(?:m|w|d|f|x|i|div|gn)\s*(?:[/|,]\s*(?:m|w|d|f|x|i|div)\s*)*\)|\b(?:m|w|d)/(?:m|w|d)(?:/(?:m|w|d))?\b",
)
_LEGAL = re.compile(
    r"\b(?:g?gmbh(?:\s*&\s*co\.?\s*kg)?|g\.?m\.?b\.?h\.?|ug\s*\(haftungsbeschraenkt\)|ag|kg|ohg|e\.?\s?v\.?|ev|gbr|mbh|se|kgaa)(?=\s|$|[.,])",
)
_STREET = re.compile(r"(?<=\w)(?:str\.|strasse|str\b)|\bstr\.\s*|\bstrasse\b")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_TRACKING = re.compile(r"^(?:utm_|mc_|fbclid|gclid|ref$|source$)")


def fold(text: str | None) -> str:
    """Lower case, umlauts transliterated, punctuation to single spaces."""
    if not text:
        return ""
    text = text.lower().translate(_TRANSLIT)
    return _NON_ALNUM.sub(" ", text).strip()


def title_key(title: str | None) -> str:
    """A job or course title without gender markers: 'Koch (m/w/d)' == 'Koch (w/m/d)'."""
    if not title:
        return ""
    text = _GENDER.sub(" ", title.lower())
    return fold(text)


def org_key(name: str | None) -> str:
    """An organisation name without legal form: 'Muster GmbH' == 'Muster G.m.b.H.'."""
    if not name:
        return ""
    text = name.lower().translate(_TRANSLIT)
    text = _LEGAL.sub(" ", text)
    return fold(text)


def street_key(street: str | None) -> str:
    """'Hauptstr.' == 'Hauptstraße' == 'Haupt-Strasse'."""
    if not street:
        return ""
    text = street.lower().translate(_TRANSLIT).replace("-", "")
    text = _STREET.sub("strasse", text)
    return fold(text).replace(" ", "")


def house_number_key(number: str | None) -> str:
    """'8-10' == '8 - 10'; '12 a' == '12a'."""
    if not number:
        return ""
    return re.sub(r"\s+", "", number.lower())


def canonical_url(url: str | None) -> str:
    """Scheme and host lower-cased, 'www.' dropped, tracking parameters, fragment and a
    trailing slash removed."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    path = parts.path.rstrip("/")
    return urlunsplit(("https", host, path, query, ""))
