"""Pairwise comparison of two records of one domain: a score in [0, 1] and a decision.

Every comparison first applies hard vetoes (facts that make two records two offers whatever
their wording: another postal code, another street or house number, another floor, another
start date or CEFR level, postings more than ``JOB_WINDOW_DAYS`` apart, ...), then scores the
wording with rapidfuzz. See docs/resolution.md for the reasoning behind each rule.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA
from rapidfuzz.process import cpdist

from hub.resolve.normalize import (
    FILLER,
    canonical_url,
    content_tokens,
    fold,
    house_numbers,
    house_numbers_overlap,
    org_key,
    place_key,
    postal_key,
    street_key,
    title_norm,
)

JOB_WINDOW_DAYS = 60  # a re-posting within this window is the same opening (temporal duplicate)
THRESHOLD = {"jobs": 0.84, "courses": 0.80, "housing": 0.80}
_UNIT = re.compile(
    r"\b(?:whg|wohnung|wohneinheit|we|app|apartment)\s+(?:nr\s+)?(\d{1,3})\b"
    r"(?!\s*(?:\d+\s+)?(?:zimmer|zi|raum|raeume|m|qm|m2|zkb)\b)"
)
_DESC_CHARS = 200
_CEFR_WORDS = frozenset("a1 a2 b1 b2 c1 c2".split())
_DAYTIME = {"vormittags": "morning", "vormittag": "morning", "morgens": "morning",
            "nachmittags": "afternoon", "nachmittag": "afternoon", "abend": "evening",
            "abends": "evening", "abendkurs": "evening", "samstag": "weekend", "samstags": "weekend",
            "wochenende": "weekend", "online": "online"}
_HOURS = frozenset({"vollzeit", "teilzeit", "minijob"})
# words that make a job another position at the same employer and place: a foreman is not
# one of the painters, a shift lead not one of the nurses ('Maler und Lackierer' against
# 'Maler und Lackierer Vorarbeiter'); each word stands for its role
_ROLES = {
    **dict.fromkeys("leiter leitung teamleiter teamleitung schichtleiter schichtleitung gruppenleiter "
                    "gruppenleitung filialleiter filialleitung abteilungsleiter abteilungsleitung "
                    "bereichsleiter bereichsleitung".split(), "lead"),
    **dict.fromkeys("stellvertretende stellvertretender stellvertretung stellv stv".split(), "deputy"),
    **dict.fromkeys("vorarbeiter polier".split(), "foreman"),
    **dict.fromkeys("helfer hilfskraft aushilfe".split(), "helper"),
    **dict.fromkeys("meister".split(), "master"),
    **dict.fromkeys("werkstudent".split(), "student"),
    "trainee": "trainee", "junior": "junior", "senior": "senior",
}
# a driving licence class in a job title ('Fahrer Klasse C' / 'Fahrer Klasse CE'): compared as
# a field, not as words (a one- or two-letter class is too short to count as a title word)
_LICENCE_WORDS = frozenset({"kl", "fs", "fuehrerschein"})
_LICENCE_CLASSES = frozenset("c1e c1 ce c be b d1e d1 de d t l am a1 a2 a".split())
# the BA's 'Alphabetisierungskurs' (Integrationskurs mit Alphabetisierung, code MB 02) and a
# school's 'Integrationskurs mit Alphabetisierung' typed as a literacy course are one course
_LITERACY_COURSE = re.compile(r"\b(?:alphabetisierungskurs|alphakurs)\b")
_INTEGRATION = frozenset({"integration_course", "literacy_course"})

_NUMBER = re.compile(r"(?<![a-z0-9])\d+")  # not the digit of a level (a1, b2)
_LONG_FILLER = tuple(sorted(w for w in FILLER if len(w) >= 5))


class Features:
    """What the comparison needs of one record, normalised once."""

    __slots__ = (
        "partner", "postal", "place", "street", "house", "title", "tokens", "org", "desc",
        "url", "ba", "date", "kind", "times", "salary", "levels", "start", "schedule",
        "floor", "rooms", "area", "rent", "rent_with_costs", "unit", "hints", "numbers",
    )

    def __init__(self, domain: str, record: dict) -> None:
        address = record.get("address") or {}
        self.partner = sys.intern(record.get("partner_id") or "")
        self.postal = postal_key(address.get("postal_code"))
        self.place = place_key(address.get("city"))
        self.street = street_key(address.get("street"))
        self.house = address.get("house_number") or None
        self.title = title_norm(record.get("title"))
        self.tokens, self.hints, self.numbers = _title_tokens(domain, self.title)
        self.org = org_key(record.get("organisation"))
        desc = record.get("description") or ""
        self.desc = fold(desc[: _DESC_CHARS + 20])[:_DESC_CHARS]
        self.url = canonical_url(record.get("url")) if record.get("url") else ""
        self.ba = (record.get("ba_reference") or "").strip().upper()
        self.date = _day(record.get("published_from") or record.get("updated_at"))
        self.kind = sys.intern(record.get("employment_type") or record.get("course_type") or record.get(
            "property_type") or "")
        self.times = _shared_set(record.get("working_time"))
        smin = record.get("salary_min")
        self.salary = (float(smin), record.get("salary_period")) if smin else None
        self.levels = tuple(sorted(_shared_set(record.get("cefr_levels"))))
        self.start = _day(record.get("start_date")) if domain == "courses" else None
        self.schedule = _shared_set(record.get("schedule"))
        self.floor = record.get("floor")
        self.rooms = record.get("rooms")
        self.area = record.get("living_area")
        self.rent = record.get("cold_rent")
        self.rent_with_costs = _rents_with_costs(record) if domain == "housing" else ()
        unit = _UNIT.search(fold(f"{record.get('title') or ''} {desc[:400]}")) if domain == "housing" else None
        self.unit = unit.group(1).lstrip("0") if unit else None
        if domain == "housing" and self.floor is None:
            self.floor = _floor_from_text(fold(f"{record.get('title') or ''} {desc[:400]}"))


def _rents_with_costs(record: dict) -> tuple[float, ...]:
    """What a partner may have written as the rent where the cold rent was asked: the warm
    rent, the cold rent with the Nebenkosten (and the heating)."""
    cold, warm = record.get("cold_rent"), record.get("warm_rent")
    service, heating = record.get("service_charges"), record.get("heating_costs")
    found = [warm] if warm else []
    if cold and service:
        found.append(cold + service)
        if heating:
            found.append(cold + service + heating)
    return tuple(float(x) for x in found)


_GROUND = re.compile(r"\b(?:erdgeschoss|eg|hochparterre|parterre)\b")
_UPPER = re.compile(r"\b(\d{1,2})\s*(?:og|obergeschoss|etage|stock)\b")


def _floor_from_text(text: str) -> int | None:
    """'im 2. OG' -> 2, 'Erdgeschoss' -> 0; None when the text names no floor (or two)."""
    upper = {int(m) for m in _UPPER.findall(text)}
    ground = bool(_GROUND.search(text))
    if len(upper) + ground != 1:
        return None
    return 0 if ground else upper.pop()


_SETS: dict[tuple, frozenset] = {}


def _shared_set(values) -> frozenset:
    """One frozenset object per distinct value set (saves memory on a million records)."""
    if not values:
        return frozenset()
    key = tuple(sorted(values))
    found = _SETS.get(key)
    if found is None:
        found = _SETS[key] = frozenset(key)
    return found


@lru_cache(maxsize=262144)
def _title_tokens(domain: str, title: str) -> tuple[frozenset, frozenset, frozenset]:
    """The title's words; for courses its time-of-day hints and its numbers; for jobs (as
    hints) its roles and driving licence classes."""
    hints: frozenset = frozenset()
    numbers: frozenset = frozenset()
    if domain == "courses" and "alpha" in title:
        title = _LITERACY_COURSE.sub("integrationskurs alphabetisierung", title)
    if domain == "jobs":
        title, licences = _licences(title)
        hints = frozenset([f"licence:{c}" for c in licences] + [f"role:{_ROLES[w]}" for w in title.split() if w in _ROLES])
    # numbers as numbers: '02' is '2', and like '2' (too short to be a word) not a token
    tokens = {t.lstrip("0") if t.isdigit() else t for t in content_tokens(title)}
    tokens = {t for t in tokens if not t.isdigit() or len(t) > 1}
    if domain == "courses":
        # levels and times of day are compared as fields, not as words of the title
        hints = frozenset(_DAYTIME[w] for w in tokens if w in _DAYTIME)
        tokens -= _CEFR_WORDS | set(_DAYTIME)
        # numbers name the course (Kurs 3, Nr. 254, 9-12 Uhr); leading zeros do not count
        numbers = frozenset(n.lstrip("0") or "0" for n in _NUMBER.findall(title))
    return frozenset(tokens), hints, numbers


def _licences(title: str) -> tuple[str, list[str]]:
    """The title without its driving licence classes, and the classes ('lkw fahrer klasse c
    ce' -> 'lkw fahrer', ['c', 'ce']; 'Klasse' misspelt by a letter too)."""
    words = title.split()
    if _LICENCE_CLASSES.isdisjoint(words):
        return title, []  # no class named: no edit distances to compute
    kept: list[str] = []
    found: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        j = i + 1
        if word in _LICENCE_WORDS or _same_word(word, "klasse"):
            while j < len(words) and words[j] in _LICENCE_CLASSES:
                j += 1
        if j > i + 1:
            found += words[i + 1:j]
        else:
            kept.append(word)
        i = j
    return " ".join(kept), found


def _day(value: object) -> int | None:
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value.date().toordinal()
    if isinstance(value, dt.date):
        return value.toordinal()
    try:
        return dt.date.fromisoformat(str(value)[:10]).toordinal()
    except ValueError:
        return None


def _same_word(a: str, b: str) -> bool:
    """One typo allowed in words of five letters or more, two from ten."""
    if a == b:
        return True
    longest = max(len(a), len(b))
    allowed = 2 if longest >= 10 else 1 if longest >= 5 else 0
    return allowed > 0 and abs(len(a) - len(b)) <= allowed and OSA.distance(a, b) <= allowed


@lru_cache(maxsize=65536)
def _is_filler(word: str) -> bool:
    return len(word) >= 5 and any(_same_word(word, f) for f in _LONG_FILLER)


def _title_score(a: Features, b: Features) -> float:
    """Dice overlap of the meaningful words, a typo per word allowed: reordered words, filler
    ('ab sofort', 'gesucht', 'in Vollzeit'), gender markers and abbreviations cost nothing;
    a meaningful word on one side only ('... für den Nachtdienst') costs a lot."""
    if not a.title or not b.title:
        return 0.0
    if a.title == b.title:
        return 1.0
    ta, tb = set(a.tokens), set(b.tokens)
    if _HOURS & ta and _HOURS & tb and not (ta & tb & _HOURS):
        return 0.0  # 'Vollzeit' against 'Teilzeit'
    ta -= _HOURS
    tb -= _HOURS
    common = ta & tb
    rest_a, rest_b = sorted(ta - common), sorted(tb - common)
    matched = len(common)
    for word in list(rest_a):
        for other in rest_b:
            if _same_word(word, other):
                rest_b.remove(other)
                rest_a.remove(word)
                matched += 1
                break
    if rest_a and rest_b:
        matched += _compounds(rest_a, rest_b) + _compounds(rest_b, rest_a)
    rest_a = [w for w in rest_a if not _is_filler(w)]
    rest_b = [w for w in rest_b if not _is_filler(w)]
    total = 2 * matched + len(rest_a) + len(rest_b)
    return 2 * matched / total if total else 0.0


def _compounds(words: list[str], others: list[str]) -> int:
    """Matches a compound of one side with two words of the other written apart
    ('Jugendintegrationskurs' / 'Jugend-Integrationskurs', 'Lagerhelfer' / 'Lager-Helfer'), a
    typo allowed; removes what it matched from both lists and returns how many it matched."""
    found = 0
    for word in list(words):
        pair = next(((x, y) for x in others for y in others
                     if x is not y and len(x) + len(y) >= len(word) - 2 and _same_word(x + y, word)), None)
        if pair:
            words.remove(word)
            others.remove(pair[0])
            others.remove(pair[1])
            found += 1
    return found


def _close(x: float | None, y: float | None, rel: float) -> bool | None:
    if x is None or y is None:
        return None
    return abs(x - y) <= rel * max(abs(x), abs(y), 1e-9)


def _street_veto(a: Features, b: Features) -> bool:
    if a.street and b.street and a.street != b.street and fuzz.ratio(a.street, b.street) < 88:
        return True
    return house_numbers_overlap(a.house, b.house) is False


def compare(domain: str, a: Features, b: Features) -> tuple[float, str]:
    """(score, reason): score 0 with the veto's name when the pair cannot be one offer."""
    if a.postal != b.postal:
        return 0.0, "postal"
    if a.place and b.place and a.place != b.place and fuzz.ratio(a.place, b.place) < 85:
        return 0.0, "place"
    if _street_veto(a, b):
        return 0.0, "street"
    if domain == "jobs":
        return _jobs(a, b)
    if domain == "courses":
        return _courses(a, b)
    return _housing(a, b)


# ------------------------------------------------------------------ vetoes in bulk (blocking)
#
# A block of a busy postal code holds hundreds of records (every 'Pflegefachkraft' posting of
# a town), and almost every pair in it falls to a veto: another street, another BA reference,
# another employer. ``possible_pairs`` applies the vetoes that need no more than a string
# similarity or an equality to a whole block at once, in rapidfuzz's and numpy's compiled
# loops, so that only the pairs these vetoes leave go through ``compare`` one by one. It only
# ever drops pairs ``compare`` would score 0, with the same similarity functions and a
# margin below their limits, so resolution gives the same clusters with or without it.

_MARGIN = 0.01  # below each limit: a pair on the edge is left to compare()


def _codes(values: list) -> np.ndarray:
    """Equal values get equal integers; an empty value gets -1."""
    seen: dict = {}
    return np.fromiter((seen.setdefault(v, len(seen)) if v else -1 for v in values), dtype=np.int64,
                       count=len(values))


def _equal_or_missing(codes: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    a, b = codes[i], codes[j]
    return (a == b) | (a < 0) | (b < 0)


def _similar_or_missing(texts: list[str], i: np.ndarray, j: np.ndarray, scorer, limit: float) -> np.ndarray:
    """For each pair (i[k], j[k]): whether the texts are similar by ``scorer`` to at least
    ``limit`` (0-100), or either is empty."""
    left, right = [texts[k] for k in i.tolist()], [texts[k] for k in j.tolist()]
    missing = np.fromiter((not a or not b for a, b in zip(left, right)), dtype=bool, count=len(left))
    if missing.all():
        return missing
    return missing | (cpdist(left, right, scorer=scorer, score_cutoff=limit - _MARGIN, dtype=np.float32) > 0)


def possible_pairs(domain: str, feats: list[Features], within: int | None = None) -> list[tuple[int, int]]:
    """Index pairs (i < j) of records of different partners that none of compare()'s place,
    street and, for jobs, BA reference, posting window, employment type and organisation
    vetoes rules out: of all pairs, or with ``within`` of those at most that many places
    apart (a sorted neighbourhood). The equality vetoes go first, over all those pairs; the
    similarity vetoes then only score the pairs left."""
    n = len(feats)
    if within is None:
        i, j = np.triu_indices(n, 1)
    else:
        offsets = range(1, min(within, n - 1) + 1)
        i = np.concatenate([np.arange(n - d) for d in offsets] or [np.zeros(0, dtype=np.int64)])
        j = np.concatenate([np.arange(d, n) for d in offsets] or [np.zeros(0, dtype=np.int64)])
    partners = _codes([f.partner for f in feats])
    keep = partners[i] != partners[j]
    if domain == "jobs":
        keep &= _equal_or_missing(_codes([f.ba for f in feats]), i, j)
        keep &= _equal_or_missing(_codes([f.kind for f in feats]), i, j)
        dates = np.array([np.nan if f.date is None else f.date for f in feats], dtype=np.float64)
        keep &= ~(np.abs(dates[i] - dates[j]) > JOB_WINDOW_DAYS)  # NaN (no date): no veto
    i, j = i[keep], j[keep]
    for texts, limit in (([f.street for f in feats], 88), ([f.place for f in feats], 85)):
        if len(i):
            keep = _similar_or_missing(texts, i, j, fuzz.ratio, limit)
            i, j = i[keep], j[keep]
    if domain == "jobs" and len(i):
        # as _org_score: token_sort_ratio, or for two names of two words or more the
        # token_set_ratio less 5
        orgs = [f.org for f in feats]
        keep = _similar_or_missing(orgs, i, j, fuzz.token_sort_ratio, 85)
        several = np.fromiter((len(o.split()) >= 2 for o in orgs), dtype=bool, count=n)
        rest = ~keep & several[i] & several[j]
        if rest.any():
            keep[rest] = _similar_or_missing(orgs, i[rest], j[rest], fuzz.token_set_ratio, 90)
        i, j = i[keep], j[keep]
    return list(zip(i.tolist(), j.tolist()))


def _weighted(parts: list[tuple[float, float | None]]) -> float:
    total = sum(w for w, v in parts if v is not None)
    return sum(w * v for w, v in parts if v is not None) / total if total else 0.0


def _org_score(a: Features, b: Features) -> float | None:
    if not a.org or not b.org:
        return None
    score = fuzz.token_sort_ratio(a.org, b.org)
    if score < 90 and min(len(a.org.split()), len(b.org.split())) >= 2:
        score = max(score, fuzz.token_set_ratio(a.org, b.org) - 5)
    return score / 100.0


def _jobs(a: Features, b: Features) -> tuple[float, str]:
    if a.ba and b.ba and a.ba != b.ba:
        return 0.0, "ba-reference"
    if a.date is not None and b.date is not None and abs(a.date - b.date) > JOB_WINDOW_DAYS:
        return 0.0, "window"
    if a.kind and b.kind and a.kind != b.kind:
        return 0.0, "employment-type"
    if a.times and b.times and not (a.times & b.times):
        return 0.0, "working-time"
    if a.salary and b.salary and a.salary[1] == b.salary[1] and not _close(a.salary[0], b.salary[0], 0.12):
        return 0.0, "salary"
    org = _org_score(a, b)
    if org is not None and org < 0.85:
        return 0.0, "organisation"
    if a.hints != b.hints and _other_position(a.hints, b.hints):
        return 0.0, "position"
    title = _title_score(a, b)
    if title < 0.75:
        return title, "title"
    if a.url and a.url == b.url:
        return 1.0, "url"
    desc = fuzz.token_set_ratio(a.desc, b.desc) / 100.0 if a.desc and b.desc else None
    same_site = bool(a.street and a.street == b.street and house_numbers_overlap(a.house, b.house))
    if org is None and not same_site and (desc is None or desc < 0.8):
        return min(title, 0.8), "no-organisation"  # too little to tell two employers apart
    score = _weighted([(0.55, title), (0.3, desc), (0.15, org)])
    return score, "match" if score >= THRESHOLD["jobs"] else "score"


def _other_position(a: frozenset, b: frozenset) -> bool:
    """Two job titles name two positions: a role one of them has and the other lacks
    ('Vorarbeiter', 'Teamleitung', 'Aushilfe'), or driving licence classes none of which the
    other names ('C' / 'CE'; 'C' / 'C/CE' may be one job, and a title without a class does not
    contradict one with it)."""
    roles_a = {h for h in a if h.startswith("role:")}
    roles_b = {h for h in b if h.startswith("role:")}
    if roles_a != roles_b:
        return True
    licences_a, licences_b = a - roles_a, b - roles_b
    return bool(licences_a and licences_b and not licences_a & licences_b)


def _courses(a: Features, b: Features) -> tuple[float, str]:
    if a.start is None or b.start is None or a.start != b.start:
        return 0.0, "start-date"
    if a.levels and b.levels and a.levels != b.levels:
        return 0.0, "level"
    if a.kind and b.kind and a.kind != b.kind and not (
            {a.kind, b.kind} <= _INTEGRATION and "alphabetisierung" in a.tokens & b.tokens):
        return 0.0, "course-type"  # but one integration course with literacy, typed two ways
    if a.schedule and b.schedule and not (a.schedule & b.schedule):
        return 0.0, "schedule"
    if a.hints and b.hints and not (a.hints & b.hints):
        return 0.0, "time-of-day"
    if a.numbers - b.numbers and b.numbers - a.numbers:
        return 0.0, "number"  # parallel courses: 'Nr. 74' and 'Nr. 254', '9-12' and '13-16'
    org = _org_score(a, b)
    same_site = bool(a.street and a.street == b.street and house_numbers_overlap(a.house, b.house))
    if org is not None and org < 0.85 and not same_site:
        return 0.0, "organisation"  # another school; a joint course shares the address
    title = _title_score(a, b)
    if a.url and a.url == b.url:
        return 1.0, "url"
    desc = fuzz.token_set_ratio(a.desc, b.desc) / 100.0 if a.desc and b.desc else None
    place = 1.0 if same_site else org  # a joint course of two schools shares the address
    score = _weighted([(0.5, title), (0.2, desc), (0.3, place)])
    return score, "match" if score >= THRESHOLD["courses"] else "score"


def _other_building(a: str | None, b: str | None) -> bool:
    """'14' and '14a' are two buildings (a letter is given to a house of its own on the
    plot): a flat in one is not the flat in the other. Jobs and courses take them as one
    address (the employer's or school's, written either way)."""
    ha, hb = house_numbers(a), house_numbers(b)
    return bool(ha and hb and ha[0] == ha[1] == hb[0] == hb[1] and ha[2] != hb[2])


def _costs_included(a: Features, b: Features) -> bool:
    """One side's rent is the other's rent with the Nebenkosten, or its warm rent (a town's
    list that asks for 'Miete', a listing page's price 'inkl. NK'), to the euro or nearly."""
    return any(_close(x.rent, y, 0.01) for x, other in ((a, b), (b, a)) if x.rent for y in other.rent_with_costs)


def _housing(a: Features, b: Features) -> tuple[float, str]:
    if not (a.street and b.street) and not (a.house and b.house):
        return 0.0, "no-address"
    if _other_building(a.house, b.house):
        return 0.0, "house-number"
    if a.floor is not None and b.floor is not None and a.floor != b.floor:
        return 0.0, "floor"
    if a.rooms is not None and b.rooms is not None and abs(a.rooms - b.rooms) > 0.01:
        return 0.0, "rooms"
    area = _close(a.area, b.area, 0.025)
    if area is False:
        return 0.0, "area"
    if a.unit and b.unit and a.unit != b.unit:
        return 0.0, "flat-number"
    rent = _close(a.rent, b.rent, 0.08)
    if rent is False:
        if not _costs_included(a, b):
            return 0.0, "rent"
        rent = None  # one side wrote the rent with its costs: no contradiction, no evidence
    evidence = [area, rent, a.floor is not None and b.floor is not None, bool(a.street and b.street)]
    if sum(1 for e in evidence if e) < 2:
        return 0.5, "too-little"
    street = 1.0 if a.street == b.street else fuzz.ratio(a.street, b.street) / 100.0 if a.street and b.street else None
    score = _weighted([
        (0.35, street),
        (0.3, 1.0 if area else None),
        (0.2, 1.0 if rent else None),
        (0.15, _title_score(a, b) if a.title and b.title else None),
    ])
    return score, "match" if score >= THRESHOLD["housing"] else "score"
