"""The semantic rules as Great Expectations 1.x suites, one per domain, run on whole deliveries.

A delivery becomes a pandas DataFrame with one row per record (``records_frame``): the fields
the rules need, flattened (postal code, coordinates, dates, rents, area, rooms, salary, URL,
contact e-mail and phone, title), plus a few derived columns (``prepare``: distance from the
postal code's centroid, the AGS area of the postal code, rent per m², m² per room, the salary
range of the salary's period, the phone number's digits, the URL's origin and scheme, the
number of letters of the title). Every rule is declared once as a :class:`Check`, from which
its GX expectation is built (carrying the rule code in ``meta``).

``run_suite`` validates a frame in two GX passes over the whole frame: the whole suite with
``BOOLEAN_ONLY`` results (which expectations fail: the statistics the Dagster checks report),
then only the expectations that failed with ``COMPLETE`` results, whose counts and
``unexpected_index_list`` name the failing rows; row-level detail (values shown, messages,
hints) is built for those rows only. GX's cost of a validation is mostly fixed (building the
metric graph), and ``COMPLETE`` asks for about twice the metrics of ``BOOLEAN_ONLY``: most
deliveries fail few expectations or none, and their second pass is small or left out.

String columns go to GX as categoricals, which makes GX's per-batch fingerprint (a hash of
the whole frame) and its row filtering cheap; the regex rules use GX's regex expectations with
a pandas metric that matches each distinct value once (``hub.quality.gx_regex``) instead of
turning the categoricals back into a string per row; rules on derived numbers (letters in the
title, salary range of the period, distance, rent per m²) avoid regexes and row conditions.
Throughput: see bench/quality.py and the README.

``validate`` is the API for the pipeline: canonical records in, accepted records, rejections
(errors and warnings, with rule, field, value, messages and hint) and counts per rule out.

GX is imported lazily and once per process (``gx_engine``): importing it costs seconds.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib
import importlib.util
import re
import sys
import threading
import types
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from hub.models import CanonicalRecord, CEFRLevel, CourseType, Rejection
from hub.quality import regions
from hub.quality.rules import RULES, reject

DOMAINS = ("jobs", "courses", "housing")

# --------------------------------------------------------------------------- thresholds

DATE_MIN = dt.datetime(2000, 1, 1)
DATE_MAX_YEARS = 5
SALARY_RANGES = {"hour": (5.0, 200.0), "month": (400.0, 30_000.0), "year": (5_000.0, 400_000.0)}
RENT_PER_SQM = (3.0, 30.0)
WARM_RENT_TOLERANCE = 1.0  # euros the warm rent may differ from cold rent + its costs (rounding)
LIVING_AREA = (8.0, 500.0)
MAX_ROOMS = 20.0
MIN_AREA_PER_ROOM = 5.0

POSTAL_CODE = r"^[0-9]{5}$"


# the characters Python's \s matches in a str pattern, spelled out (see ``vectorisable``)
SPACE = "".join(chr(c) for c in range(0x3001) if re.match(r"\s", chr(c)))


def vectorisable(pattern: str) -> str:
    r"""``pattern`` written so that pandas hands it to Arrow's vectorised regex engine (RE2)
    instead of running Python's ``re`` row by row (which it does for a pattern with flags or
    with ``\s``, as RE2 reads them differently), with the same matches: letters in either case
    spelled out ('tbd' -> '[tT][bB][dD]', '[a-z]' -> '[a-zA-Z]') for a case-insensitive
    pattern written without ``(?i)``, and ``\s`` as the class of the characters it matches.
    GX's regex expectations go through pandas, so this decides their speed on big frames."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escape = pattern[i:i + 2]
            if escape == "\\s":
                out.append(SPACE if in_class else f"[{SPACE}]")
            elif escape == "\\S" and not in_class:
                out.append(f"[^{SPACE}]")
            else:
                out.append(escape)
            i += 2
            continue
        if in_class:
            if char == "]" and pattern[i - 1] not in "[^":
                in_class = False
                out.append(char)
            elif char.isascii() and char.isalpha():
                if pattern[i + 1:i + 2] == "-" and pattern[i + 2:i + 3].isalpha():
                    span = pattern[i:i + 3]
                    out.append(span.lower() + span.upper())
                    i += 3
                    continue
                out.append(char.lower() + char.upper())
            else:
                out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
        elif pattern.startswith("{", i):  # a quantifier: copied as it is
            end = pattern.index("}", i)
            out.append(pattern[i:end + 1])
            i = end + 1
            continue
        elif char.isascii() and char.isalpha():
            out.append(f"[{char.lower()}{char.upper()}]")
        else:
            out.append(char)
        i += 1
    return "".join(out)


# the origin (scheme://host:port) of a URL with a public host name
URL_PUBLIC_ORIGIN = vectorisable(
    r"^https?://(?:[^\s/?#@]+@)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\.?(?::[0-9]{1,5})?$"
)
EMAIL = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}$"
)
PHONE_DIGITS = r"^[0-9]{6,15}$"
PLACEHOLDER = vectorisable(
    r"^\s*(?:[-–—_.?!*/\\#]+|x+|n\s*/\s*a|n\.\s*a\.?|na|tbd|tba|todo|t\.\s*b\.\s*d\.?"
    r"|test\s*[0-9]*|dummy|platzhalter|titel|title|ohne\s+titel|kein\s+titel|keine\s+angabe"
    r"|k\.\s*a\.?|null|none|nil|leer|unbekannt|lorem\s+ipsum.*)\s*$"
)
LETTER = re.compile(r"[^\W\d_]")  # a letter of any script
MIN_TITLE_LETTERS = 4
_LEVELS = "|".join(level.value for level in CEFRLevel)
CEFR_LIST = rf"^(?:{_LEVELS})(?:,(?:{_LEVELS}))*$"


# --------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class Check:
    """One expectation of a suite, and the rule it reports.

    ``kind``: ``between`` (``min_value``/``max_value``, numbers or datetimes, or ``"$today"``
    / ``"$date_max"`` for the run's parameters), ``regex`` (values must match ``pattern``),
    ``not_regex`` (must not match), ``pair_ge`` (``column`` >= ``column_b`` where both are
    given) or ``in_set`` (``values``). Missing values never fail, as in GX. ``field``: the
    canonical field the rejection names. ``shows``: the frame columns passed to ``show`` to
    build the value a partner sees (default: ``column``)."""

    rule: str
    kind: str
    column: str
    field: str
    shows: tuple[str, ...] = ()
    show: Callable[..., object] | None = None
    min_value: Any = None
    max_value: Any = None
    strict_min: bool = False
    strict_max: bool = False
    pattern: str | None = None
    column_b: str | None = None
    values: tuple = ()

    @property
    def id(self) -> str:
        pair = f">={self.column_b}" if self.column_b else ""
        return f"{self.rule}:{self.column}{pair}"

    @property
    def columns(self) -> tuple[str, ...]:
        """The frame columns the expectation reads."""
        return (self.column, self.column_b) if self.column_b else (self.column,)

    def shown(self, *values: object) -> object:
        if self.show is not None:
            return self.show(*values)
        value = _plain(values[0]) if values else None
        return _num(value) if isinstance(value, float) else value  # 4.0 -> '4'


def _plain(value: object) -> object:
    """A frame value as a partner reads it: dates as ISO dates, floats as Python floats."""
    if value is None:
        return None
    if isinstance(value, (np.datetime64, pd.Timestamp)):
        return None if pd.isna(value) else pd.Timestamp(value).date().isoformat()
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _num(value: object) -> str:
    number = float(value)
    return f"{number:.0f}" if number.is_integer() else f"{number:.2f}".rstrip("0").rstrip(".")


def _euro(value: object) -> str:
    """An amount as the checks show it: '3500 €', '12.5 €' (the report writes it as its
    reader does: '3.500 €', '12,50 €'; ``report.display_value``)."""
    return f"{_num(value)} €"


def _geo(lat: object, lon: object, *_: object) -> str:
    return f"{float(lat):.5f}, {float(lon):.5f}"


def _geo_far(lat: object, lon: object, postal_code: object, km: object) -> str:
    return f"{_geo(lat, lon)}; {float(km):.0f} km von/from {postal_code}"


def _area(postal_code: object, area: object) -> str:
    return f"{postal_code} ({regions.area_name(str(area))})"


def _rooms(rooms: object, area: object) -> str:
    if area is None or (isinstance(area, float) and np.isnan(area)):
        return _num(rooms)
    return f"{_num(rooms)} / {_num(area)} m²"


def _salary(amount: object, period: object) -> str:
    return f"{_euro(amount)} / {period}"


def _common_checks(region: str | None) -> list[Check]:
    checks = [
        Check("ADDRESS_POSTAL_CODE_INVALID", "regex", "postal_code", "address.postal_code",
              pattern=POSTAL_CODE),
    ]
    if region:
        checks += [
            Check("ADDRESS_OUTSIDE_REGION", "in_set", "postal_area", "address.postal_code",
                  shows=("postal_code", "postal_area"), show=_area,
                  values=regions.compatible_areas(region)),
            Check("ADDRESS_OUTSIDE_REGION", "regex", "municipality_key",
                  "address.municipality_key", pattern=regions.region_pattern(region)),
        ]
    lat_min, lat_max = regions.GERMANY_LAT
    lon_min, lon_max = regions.GERMANY_LON
    checks += [
        Check("GEO_OUTSIDE_GERMANY", "between", "lat", "geo", ("lat", "lon"), _geo,
              min_value=lat_min, max_value=lat_max),
        Check("GEO_OUTSIDE_GERMANY", "between", "lon", "geo", ("lat", "lon"), _geo,
              min_value=lon_min, max_value=lon_max),
        Check("GEO_FAR_FROM_POSTAL_CODE", "between", "geo_km", "geo",
              ("lat", "lon", "postal_code", "geo_km"), _geo_far,
              max_value=regions.MAX_POSTAL_DISTANCE_KM),
        Check("URL_INVALID", "regex", "url_origin", "url", ("url",), pattern=URL_PUBLIC_ORIGIN),
        Check("URL_NOT_HTTPS", "in_set", "url_scheme", "url", ("url",), values=("https",)),
        # a published contact must be right; one that is not published (the partner did not
        # say so) is only shown to readers with the contacts scope: a warning, the offer stays
        Check("CONTACT_EMAIL_INVALID", "regex", "contact_email", "contact.email", pattern=EMAIL),
        Check("CONTACT_PHONE_INVALID", "regex", "contact_phone_digits", "contact.phone",
              ("contact_phone",), pattern=PHONE_DIGITS),
        Check("CONTACT_NOT_PUBLIC_INVALID", "regex", "contact_email_private", "contact.email",
              pattern=EMAIL),
        Check("CONTACT_NOT_PUBLIC_INVALID", "regex", "contact_phone_private_digits",
              "contact.phone", ("contact_phone_private",), pattern=PHONE_DIGITS),
        Check("TEXT_PLACEHOLDER", "not_regex", "title", "title", pattern=PLACEHOLDER),
        Check("TEXT_TOO_SHORT", "between", "title_letters", "title", ("title",),
              min_value=MIN_TITLE_LETTERS),
    ]
    return checks


def _date_checks(columns: tuple[str, ...]) -> list[Check]:
    return [
        Check("DATE_IMPLAUSIBLE", "between", column, column, min_value=DATE_MIN,
              max_value="$date_max")
        for column in columns
    ]


DATE_COLUMNS = {
    "jobs": ("start_date", "published_from", "valid_through"),
    "courses": ("start_date", "end_date"),
    "housing": ("available_from",),
}


def _domain_checks(domain: str) -> list[Check]:
    if domain == "jobs":
        checks = [
            Check("JOB_EXPIRED", "between", "valid_through", "valid_through",
                  min_value="$today"),
            Check("JOB_SALARY_RANGE_INVERTED", "pair_ge", "salary_max", "salary_min",
                  ("salary_min", "salary_max"), lambda low, high: f"{_euro(low)} > {_euro(high)}",
                  column_b="salary_min"),
        ]
        # the plausible range of the salary's period as two derived columns (see prepare)
        for column in ("salary_min", "salary_max"):
            checks += [
                Check("JOB_SALARY_IMPLAUSIBLE", "pair_ge", column, column,
                      (column, "salary_period"), _salary, column_b="salary_floor"),
                Check("JOB_SALARY_IMPLAUSIBLE", "pair_ge", "salary_ceiling", column,
                      (column, "salary_period"), _salary, column_b=column),
            ]
        checks.append(Check("COURSE_LEVEL_INVALID", "in_set", "german_level", "german_level",
                            values=tuple(level.value for level in CEFRLevel)))
        return checks
    if domain == "courses":
        return [
            Check("COURSE_TYPE_UNKNOWN", "in_set", "course_type", "course_type",
                  values=tuple(kind.value for kind in CourseType)),
            Check("COURSE_LEVEL_INVALID", "regex", "cefr_levels", "cefr_levels",
                  pattern=CEFR_LIST),
            Check("COURSE_DATES_INCONSISTENT", "pair_ge", "end_date", "end_date", ("end_date",),
                  column_b="start_date"),
            Check("COURSE_ENDED", "between", "end_date", "end_date", min_value="$today"),
        ]
    if domain == "housing":
        low_area, high_area = LIVING_AREA
        low_rent, high_rent = RENT_PER_SQM
        return [
            Check("HOUSING_RENT_INCONSISTENT", "pair_ge", "warm_rent", "warm_rent",
                  ("warm_rent", "cold_rent"), lambda warm, cold: f"{_euro(warm)} < {_euro(cold)}",
                  column_b="cold_rent"),
            Check("HOUSING_WARM_RENT_NOT_ITS_PARTS", "between", "warm_rent_gap", "warm_rent",
                  ("warm_rent", "cold_rent", "service_charges", "heating_costs"),
                  lambda warm, cold, service, heating:
                      f"{_euro(warm)} ≠ {_euro(cold)} + {_euro(service)} + {_euro(heating)}",
                  max_value=WARM_RENT_TOLERANCE),
            Check("HOUSING_AREA_IMPLAUSIBLE", "between", "living_area", "living_area",
                  min_value=low_area, max_value=high_area),
            Check("HOUSING_RENT_PER_SQM_IMPLAUSIBLE", "between", "rent_per_sqm", "cold_rent",
                  ("rent_per_sqm",), lambda v: f"{_euro(round(float(v), 2))}/m²",
                  min_value=low_rent, max_value=high_rent),
            Check("HOUSING_ROOMS_IMPLAUSIBLE", "between", "rooms", "rooms",
                  ("rooms", "living_area"), _rooms, min_value=0.0, strict_min=True,
                  max_value=MAX_ROOMS),
            Check("HOUSING_ROOMS_IMPLAUSIBLE", "between", "area_per_room", "rooms",
                  ("rooms", "living_area"), _rooms, min_value=MIN_AREA_PER_ROOM),
        ]
    raise ValueError(f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}")


def checks_for(domain: str, region: str | None = None) -> list[Check]:
    """The checks of ``domain``'s suite; the region rule only when the partner has a region."""
    checks = _common_checks(region) + _domain_checks(domain) + _date_checks(DATE_COLUMNS[domain])
    unknown = {check.rule for check in checks} - set(RULES)
    assert not unknown, f"checks for rules missing from the catalogue: {unknown}"
    return checks


# rules whose failure makes another rule (or one check of it, by check id) on the same record
# redundant
SUPERSEDES: dict[str, tuple[str, ...]] = {
    "TEXT_PLACEHOLDER": ("TEXT_TOO_SHORT",),
    "GEO_OUTSIDE_GERMANY": ("GEO_FAR_FROM_POSTAL_CODE",),
    # an implausible area explains the rent per m² and the m² per room
    "HOUSING_AREA_IMPLAUSIBLE": ("HOUSING_RENT_PER_SQM_IMPLAUSIBLE",
                                 "HOUSING_ROOMS_IMPLAUSIBLE:area_per_room"),
}


# --------------------------------------------------------------------------- frames

BASE_COLUMNS = {
    "common": ("row", "source_id", "partner_id", "title", "postal_code", "municipality_key",
               "lat", "lon", "url", "contact_email", "contact_phone", "contact_email_private",
               "contact_phone_private"),
    "jobs": ("start_date", "published_from", "valid_through", "salary_min", "salary_max",
             "salary_period", "german_level"),
    "courses": ("start_date", "end_date", "course_type", "cefr_levels"),
    "housing": ("available_from", "rooms", "living_area", "cold_rent", "warm_rent"),
}


def _strings(values: list) -> pd.Series:
    return pd.Series(values, dtype="str")


def _floats(values: list) -> np.ndarray:
    return np.array(values, dtype="float64")  # None becomes NaN


# datetime64[ns] (what GX compares dates in) spans 1677-09-21 .. 2262-04-11
_ORDINAL_EPOCH = dt.date(1970, 1, 1).toordinal()
_FIRST_NS_DAY = dt.date(1678, 1, 1).toordinal()
_LAST_NS_DAY = dt.date(2262, 1, 1).toordinal()


def _dates(values: list, column: str, shown: dict[str, dict[int, str]]) -> np.ndarray:
    """Dates as datetime64[ns] (None: NaT). Dates outside the ns range (placeholders such as
    9999-12-31) are clipped to its ends, which every date rule still flags; ``shown`` keeps
    their real value for the partner's feedback."""
    ordinals = np.fromiter((d.toordinal() if d is not None else 0 for d in values),
                           dtype="int64", count=len(values))
    missing = ordinals == 0
    clipped = np.clip(ordinals, _FIRST_NS_DAY, _LAST_NS_DAY)
    for row in np.flatnonzero((clipped != ordinals) & ~missing):
        shown.setdefault(column, {})[int(row)] = values[row].isoformat()
    days = (clipped - _ORDINAL_EPOCH).astype("datetime64[D]").astype("datetime64[ns]")
    days[missing] = np.datetime64("NaT")
    return days


def _enum(value: object) -> object:
    return None if value is None else getattr(value, "value", value)


def records_frame(domain: str, records: list[CanonicalRecord]) -> pd.DataFrame:
    """One row per record with the base columns of ``domain`` (see ``BASE_COLUMNS``)."""
    shown: dict[str, dict[int, str]] = {}  # column -> row -> value to show instead
    addresses = [r.address for r in records]
    geos = [r.geo for r in records]
    contacts = [r.contact for r in records]
    columns: dict[str, object] = {
        "row": np.arange(len(records), dtype="int64"),
        "source_id": _strings([r.source_id for r in records]),
        "partner_id": _strings([r.partner_id for r in records]),
        "title": _strings([r.title for r in records]),
        "postal_code": _strings([a.postal_code for a in addresses]),
        "municipality_key": _strings([a.municipality_key for a in addresses]),
        "lat": _floats([g.lat if g is not None else None for g in geos]),
        "lon": _floats([g.lon if g is not None else None for g in geos]),
        "url": _strings([str(r.url) if r.url is not None else None for r in records]),
        # published contacts, and those that are not (see the CONTACT_* checks)
        "contact_email": _strings([c.email if c is not None and c.public else None
                                   for c in contacts]),
        "contact_phone": _strings([c.phone if c is not None and c.public else None
                                   for c in contacts]),
        "contact_email_private": _strings([c.email if c is not None and not c.public else None
                                           for c in contacts]),
        "contact_phone_private": _strings([c.phone if c is not None and not c.public else None
                                           for c in contacts]),
    }
    if domain == "jobs":
        columns.update({
            "start_date": _dates([r.start_date for r in records], "start_date", shown),
            "published_from": _dates([r.published_from for r in records], "published_from",
                                     shown),
            "valid_through": _dates([r.valid_through for r in records], "valid_through", shown),
            "salary_min": _floats([r.salary_min for r in records]),
            "salary_max": _floats([r.salary_max for r in records]),
            "salary_period": _strings([r.salary_period for r in records]),
            "german_level": _strings([_enum(r.german_level) for r in records]),
        })
    elif domain == "courses":
        columns.update({
            "start_date": _dates([r.start_date for r in records], "start_date", shown),
            "end_date": _dates([r.end_date for r in records], "end_date", shown),
            "course_type": _strings([_enum(r.course_type) for r in records]),
            "cefr_levels": _strings([
                ",".join(_enum(level) for level in r.cefr_levels) or None for r in records
            ]),
        })
    elif domain == "housing":
        columns.update({
            "available_from": _dates([r.available_from for r in records], "available_from",
                                     shown),
            "rooms": _floats([r.rooms for r in records]),
            "living_area": _floats([r.living_area for r in records]),
            "cold_rent": _floats([r.cold_rent for r in records]),
            "warm_rent": _floats([r.warm_rent for r in records]),
            "service_charges": _floats([r.service_charges for r in records]),
            "heating_costs": _floats([r.heating_costs for r in records]),
        })
    else:
        raise ValueError(f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
    frame = pd.DataFrame(columns)
    frame.attrs["shown"] = shown
    return frame


class Distinct:
    """Per string column: the codes of its values (-1: missing) and its distinct values,
    computed once per frame. Derived string columns are computed once per distinct value, and
    the columns go to GX as categoricals (cheap to fingerprint and to filter)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._columns: dict[str, tuple[np.ndarray, pd.Index]] = {}

    def __call__(self, column: str) -> tuple[np.ndarray, pd.Index]:
        if column not in self._columns:
            codes, uniques = pd.factorize(self.frame[column], use_na_sentinel=True)
            self._columns[column] = (codes, pd.Index(uniques))
        return self._columns[column]

    def apply(self, column: str, fn: Callable[[str], object]) -> tuple[np.ndarray, list]:
        """``fn`` of each distinct value, and the codes to spread it over the rows."""
        codes, uniques = self(column)
        return codes, [fn(value) for value in uniques]

    def derive(self, column: str, fn: Callable[[str], object], name: str) -> pd.Categorical:
        """A new string column ``fn(value)`` (None stays missing), as a categorical."""
        codes, values = self.apply(column, fn)
        new_codes, new_uniques = pd.factorize(pd.Series(values, dtype="str"),
                                              use_na_sentinel=True)
        mapped = np.append(new_codes, -1)[codes]
        self._columns[name] = (mapped, pd.Index(new_uniques))
        return pd.Categorical.from_codes(mapped, categories=new_uniques)

    def categorical(self, column: str) -> pd.Categorical:
        codes, uniques = self(column)
        return pd.Categorical.from_codes(codes, categories=uniques)


def _phone_digits(phone: str) -> str:
    digits = re.sub(r"[\s/()\-]", "", phone)
    for prefix in ("+49", "0049"):
        if digits.startswith(prefix):
            return digits[len(prefix):]
    return digits


def _origins(urls: np.ndarray) -> list[str | None]:
    """scheme://host[:port] of each URL (what the URL rules look at; paths are the model's).
    Consecutive URLs of one site share the origin: checked with one ``startswith``."""
    out: list[str | None] = []
    add = out.append
    origin, prefix = None, "\x00"
    for url in urls:
        if url.__class__ is not str:
            add(None)
        elif url.startswith(prefix):
            add(origin)
        else:
            origin = "/".join(url.split("/", 3)[:3])
            prefix = origin + "/"
            add(origin)
    return out


def prepare(domain: str, frame: pd.DataFrame, region: str | None = None,
            distinct: Distinct | None = None) -> Distinct:
    """Add the derived columns the checks read to ``frame`` (in place). Returns the distinct
    values cache of the frame's string columns."""
    distinct = distinct or Distinct(frame)
    n = len(frame)
    if region:  # AGS area of the postal code: only the region rule needs it
        frame["postal_area"] = distinct.derive("postal_code", regions.postal_area, "postal_area")
    # distance from the postal code's centroid, where the code is in the centroid table
    codes, centroids = distinct.apply("postal_code", regions.POSTAL_CENTROIDS.get)
    lat0 = np.array([c[0] if c else np.nan for c in centroids] + [np.nan], dtype="float64")[codes]
    lon0 = np.array([c[1] if c else np.nan for c in centroids] + [np.nan], dtype="float64")[codes]
    known = ~np.isnan(lat0)
    km = np.full(n, np.nan)
    if known.any():
        km[known] = regions.haversine_km(frame["lat"].to_numpy()[known],
                                         frame["lon"].to_numpy()[known], lat0[known], lon0[known])
    frame["geo_km"] = km
    for column in ("contact_phone", "contact_phone_private"):
        frame[column + "_digits"] = distinct.derive(column, _phone_digits, column + "_digits")
    frame["url_origin"] = pd.Series(_origins(frame["url"].to_numpy()), dtype="str",
                                    index=frame.index)
    frame["url_scheme"] = distinct.derive(
        "url_origin", lambda origin: origin.split(":", 1)[0].lower(), "url_scheme")
    codes, letters = distinct.apply(
        "title", lambda title: len(LETTER.findall(title)))
    frame["title_letters"] = np.array(letters + [np.nan], dtype="float64")[codes]
    if domain == "jobs":
        codes, ranges = distinct.apply("salary_period",
                                       lambda period: SALARY_RANGES.get(period, (np.nan, np.nan)))
        bounds = np.array(ranges + [(np.nan, np.nan)], dtype="float64").reshape(-1, 2)[codes]
        frame["salary_floor"] = bounds[:, 0]
        frame["salary_ceiling"] = bounds[:, 1]
    if domain == "housing":
        area = frame["living_area"].to_numpy()
        rooms = frame["rooms"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            frame["rent_per_sqm"] = np.where(area > 0, frame["cold_rent"].to_numpy() / area, np.nan)
            frame["area_per_room"] = np.where(rooms > 0, area / rooms, np.nan)
        # how far the warm rent is from its parts, where all four are given (NaN: not all)
        parts = frame["cold_rent"] + frame["service_charges"] + frame["heating_costs"]
        frame["warm_rent_gap"] = (frame["warm_rent"] - parts).abs()
    return distinct


# --------------------------------------------------------------------------- pandas masks


def _parameters(today: dt.date) -> dict[str, dt.datetime]:
    try:
        date_max = today.replace(year=today.year + DATE_MAX_YEARS)
    except ValueError:  # 29 February
        date_max = today.replace(year=today.year + DATE_MAX_YEARS, day=28)
    return {
        "today": dt.datetime.combine(today, dt.time()),
        "date_max": dt.datetime.combine(date_max, dt.time()),
    }


def _is_string(series: pd.Series) -> bool:
    dtype = series.dtype
    return (dtype == object or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype))


# --------------------------------------------------------------------------- Great Expectations


class EngineError(RuntimeError):
    """Great Expectations could not evaluate an expectation (a bug, not a data problem)."""


class _ConfigurationMemo:
    """``Expectation.configuration`` computed once per expectation object during a validation.

    GX 1.x builds a fresh ExpectationConfiguration (a pydantic-v1 ``dict()`` of the expectation
    and a new object) each time the property is read, and a validation reads it about 150
    times for each expectation while it builds the metric graph (``_get_success_kwarg`` per
    key, ``_get_runtime_kwargs``): 35-40 % of a suite's fixed cost of ~0.45 s, paid by every
    feed and chunk. Inside ``active()`` (GXEngine.validate, under its lock) the first value
    computed for an expectation object is kept and handed out again; the objects are kept with
    it, so that an id is never reused while the memo lives. Outside it the property is GX's
    own. The expectations are built by GX from the suite's configurations for the validation
    and not changed by it; the results are the same with and without the memo
    (tests/test_quality_suites.py)."""

    def __init__(self, expectation_class: type) -> None:
        self.original = expectation_class.__dict__["configuration"]
        self.memo: dict[int, tuple[Any, Any]] | None = None
        compute = self.original.fget

        def configuration(expectation):
            memo = self.memo
            if memo is None:
                return compute(expectation)
            hit = memo.get(id(expectation))
            if hit is None:
                hit = memo[id(expectation)] = (expectation, compute(expectation))
            return hit[1]

        expectation_class.configuration = property(configuration, doc=self.original.__doc__)

    @contextmanager
    def active(self):
        self.memo = {}
        try:
            yield
        finally:
            self.memo = None


# Modules GX imports at its top level for expectations and renderers the hub never uses (the
# KL-divergence and KS-test expectations, charts): about a third of GX's import time (1.0-1.5 s
# of 3.5 s measured, every process that checks a delivery). They are put in place unloaded
# and load on first use.
UNUSED_BY_THE_SUITES = ("altair", "scipy.stats")


class _Deferred(types.ModuleType):
    """A module that is imported when one of its attributes is first read. It carries the
    real module's spec, so that the import system takes it as imported (``importlib.util.
    LazyLoader`` cannot do this: the import system reads ``__spec__``, which loads it)."""

    def __init__(self, name: str, spec: Any):
        super().__init__(name)
        self.__spec__ = spec
        self.__file__ = spec.origin
        self.__loader__ = spec.loader
        if spec.submodule_search_locations is not None:
            self.__path__ = list(spec.submodule_search_locations)
        self._loading = threading.RLock()

    def __getattr__(self, attr: str) -> Any:
        # only attributes the stand-in lacks get here: the real module's, read from it
        with self._loading:
            real = self.__dict__.get("_real")
            if real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                try:
                    real = importlib.import_module(self.__name__)
                except BaseException:
                    sys.modules.setdefault(self.__name__, self)  # the next use tries again
                    raise
                self._real = real
        return getattr(real, attr)


def _defer(names: tuple[str, ...]) -> None:
    """Stand-ins (``_Deferred``) for the modules ``names`` that are not imported yet."""
    for name in names:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None or spec.loader is None:
            continue  # not installed: GX's own import says so if it needs it
        sys.modules.setdefault(name, _Deferred(name, spec))  # unless imported meanwhile


class GXEngine:
    """One ephemeral GX context per process with a pandas data source, one DataFrame asset
    per domain (whole-frame batch definition) and the suites built from the checks."""

    memo: _ConfigurationMemo | None = None  # installed once per process, by the first engine

    def __init__(self) -> None:
        started = time.perf_counter()
        with warnings.catch_warnings():  # GX 1.24 imports the deprecated sre_* modules
            warnings.simplefilter("ignore", DeprecationWarning)
            _defer(UNUSED_BY_THE_SUITES)
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig

            from great_expectations.expectations.expectation import Expectation

            from hub.quality import gx_regex

        if GXEngine.memo is None:
            GXEngine.memo = _ConfigurationMemo(Expectation)
        self.gx = gx
        self.regex = gx_regex
        self.version = gx.__version__
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.context.data_sources.add_pandas("welcome-hub")
        self.batch_definitions = {
            domain: self.source.add_dataframe_asset(domain).add_batch_definition_whole_dataframe(
                "whole delivery")
            for domain in DOMAINS
        }
        self.suites: dict[tuple[str, str | None, dt.date | None], tuple[list[Check], Any]] = {}
        self.lock = threading.RLock()
        self.startup_s = time.perf_counter() - started

    def expectation(self, check: Check, params: dict[str, Any] | None = None):
        """The GX expectation of ``check``; a ``"$name"`` bound is ``params[name]``, or a
        GX suite parameter (``{"$PARAMETER": name}``) without ``params``."""
        E = self.gx.expectations
        options: dict[str, Any] = {
            "meta": {"rule": check.rule, "field": check.field, "check": check.id},
        }

        def param(value: Any) -> Any:
            if isinstance(value, str) and value.startswith("$"):
                return {"$PARAMETER": value[1:]} if params is None else params[value[1:]]
            return value

        if check.kind == "between":
            return E.ExpectColumnValuesToBeBetween(
                column=check.column, min_value=param(check.min_value),
                max_value=param(check.max_value), strict_min=check.strict_min,
                strict_max=check.strict_max, **options)
        if check.kind == "regex":
            return self.regex.ExpectColumnValuesToMatchRegexPerValue(
                column=check.column, regex=check.pattern, **options)
        if check.kind == "not_regex":
            return self.regex.ExpectColumnValuesToNotMatchRegexPerValue(
                column=check.column, regex=check.pattern, **options)
        if check.kind == "pair_ge":
            return E.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=check.column, column_B=check.column_b, or_equal=True,
                ignore_row_if="either_value_is_missing", **options)
        if check.kind == "in_set":
            return E.ExpectColumnValuesToBeInSet(column=check.column,
                                                 value_set=list(check.values), **options)
        raise ValueError(f"unknown check kind {check.kind!r}")

    def suite(self, domain: str, region: str | None = None,
              today: dt.date | None = None) -> tuple[list[Check], Any]:
        """The checks and the ``gx.ExpectationSuite`` of ``domain`` (cached per region).

        With ``today`` the date bounds are that day's values (cached for the day): GX parses
        suite parameters with pyparsing on every validation, which costs time and leaves
        exception cycles behind that keep the caller's frames, and with them a whole chunk of
        records, alive until the next full garbage collection."""
        key = (domain, region or None, today)
        with self.lock:
            if key not in self.suites:
                if today is not None:
                    for stale in [k for k in self.suites if k[2] not in (None, today)]:
                        del self.suites[stale]
                checks = checks_for(domain, region)
                name = f"welcome-hub.{domain}" + (f".region-{region}" if region else "")
                suite = self.gx.ExpectationSuite(
                    name=name,
                    meta={"domain": domain, "region": region,
                          "catalogue": "schemas/rules.json",
                          **({"today": today.isoformat()} if today else {})},
                )
                params = None if today is None else _parameters(today)
                for check in checks:
                    suite.add_expectation(self.expectation(check, params))
                self.suites[key] = (checks, suite)
            return self.suites[key]

    def part_of(self, suite: Any, check_ids: set[str]) -> Any:
        """A suite of the expectations of ``suite`` whose check is in ``check_ids`` (copies:
        an expectation belongs to one suite)."""
        return self.gx.ExpectationSuite(
            name=f"{suite.name}.failing", meta=dict(suite.meta),
            expectations=[copy.copy(e) for e in suite.expectations
                          if e.meta["check"] in check_ids])

    def validate(self, domain: str, frame: pd.DataFrame, expect: Any, params: dict,
                 result_format: dict):
        """``batch.validate`` of a suite or a single expectation on ``frame``."""
        with self.lock, self.memo.active():
            batch = self.batch_definitions[domain].get_batch(batch_parameters={"dataframe": frame})
            return batch.validate(expect, result_format=result_format,
                                  expectation_parameters=params)


_ENGINE: GXEngine | None = None
_ENGINE_LOCK = threading.Lock()


def gx_engine() -> GXEngine:
    """The process-wide GX engine, created on first use (imports GX: seconds)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = GXEngine()
        return _ENGINE


# --------------------------------------------------------------------------- running a suite


@dataclass
class Outcome:
    """One expectation's result on the whole frame, as GX reports it."""

    check: str
    rule: str
    severity: str
    field: str
    expectation: str
    column: str
    success: bool
    unexpected_count: int


@dataclass
class SuiteRun:
    domain: str
    region: str | None
    rows: int
    checks: list[Check]
    outcomes: list[Outcome]
    failures: dict[str, np.ndarray]  # check id -> failing row numbers, as GX found them
    result: Any  # GX's ExpectationSuiteValidationResult (BOOLEAN_ONLY): the whole suite
    detail: Any  # GX's ExpectationSuiteValidationResult (COMPLETE) of the failing expectations; None if none failed
    timings: dict[str, float] = field(default_factory=dict)
    gx_version: str = ""

    @property
    def expectations(self) -> int:
        return int(self.result.statistics["evaluated_expectations"])

    @property
    def success(self) -> bool:
        return bool(self.result.success)

    def unexpected_by_rule(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for outcome in self.outcomes:
            counts[outcome.rule] += outcome.unexpected_count
        return {rule: n for rule, n in sorted(counts.items()) if n}


def _gx_columns(checks: list[Check]) -> list[str]:
    """The columns the expectations read."""
    return sorted({c for check in checks for c in check.columns})


def _gx_frame(frame: pd.DataFrame, checks: list[Check], distinct: Distinct) -> pd.DataFrame:
    """The frame GX validates: the columns it reads, string columns as categoricals (same
    values; GX fingerprints each batch by hashing it, and categoricals hash per distinct
    value)."""
    columns = {}
    for name in _gx_columns(checks):
        series = frame[name]
        columns[name] = distinct.categorical(name) if _is_string(series) else series.to_numpy()
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def _raise_on_exceptions(result: Any) -> None:
    for item in result.results:
        info = item.exception_info or {}
        failed = info.get("raised_exception") if "raised_exception" in info else any(
            isinstance(v, dict) and v.get("raised_exception") for v in info.values())
        if failed:
            meta = item.expectation_config.meta or {}
            raise EngineError(f"GX could not evaluate {meta.get('check')}: {info}")


def _rows(item: Any) -> np.ndarray:
    """The failing rows of one expectation's COMPLETE result: index labels (the frames GX
    sees are indexed by row number) or, if ``unexpected_index_column_names=["row"]`` is
    asked for, dicts holding ``row``."""
    found = item.result.get("unexpected_index_list") or []
    rows = {int(entry["row"]) if isinstance(entry, dict) else int(entry) for entry in found}
    return np.array(sorted(rows), dtype="int64")


# Row-level detail: GX 1.24 looks up every failing row's ``unexpected_index_column_names``
# with DataFrame.at (tens of microseconds per row and expectation); without them it returns
# the frame's index labels in one go. The frames GX sees are indexed by row number, so the
# index list names the rows. COMPLETE computes that list for the failing rows only.
# The values themselves are left out of GX's results (``exclude_unexpected_values``): the
# rejections read them from the frame, and contact e-mails and phone numbers are personal data
# that must not travel on in validation results (Dagster metadata, logs).
DETAIL_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": 0,
                 "exclude_unexpected_values": True}
# The first pass: which expectations fail, nothing more (about half COMPLETE's cost).
SCREEN_FORMAT = {"result_format": "BOOLEAN_ONLY"}


def run_suite(domain: str, frame: pd.DataFrame, *, region: str | None,
              today: dt.date) -> SuiteRun:
    """Validate ``frame`` (base columns of ``domain``; see ``records_frame``; derived columns
    are added to it) with the domain's GX suite in one pass; see the module docstring.
    Failing rows are named by position (column ``row`` is set to 0..n-1)."""
    engine = gx_engine()
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    frame["row"] = np.arange(len(frame), dtype="int64")
    distinct = prepare(domain, frame, region)
    checks, suite = engine.suite(domain, region, today)
    gx_frame = _gx_frame(frame, checks, distinct)
    timings["prepare_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    result = engine.validate(domain, gx_frame, suite, {}, SCREEN_FORMAT)
    _raise_on_exceptions(result)
    failing = {item.expectation_config.meta["check"] for item in result.results if not item.success}
    detail = None
    if failing:
        detail = engine.validate(domain, gx_frame, engine.part_of(suite, failing), {},
                                 DETAIL_FORMAT)
        _raise_on_exceptions(detail)
    timings["gx_suite_s"] = time.perf_counter() - clock

    by_check = {check.id: check for check in checks}
    failures: dict[str, np.ndarray] = {check.id: np.zeros(0, dtype="int64") for check in checks}
    unexpected: dict[str, int] = {}
    for item in detail.results if detail else ():
        check_id = item.expectation_config.meta["check"]
        failures[check_id] = _rows(item)
        unexpected[check_id] = int(item.result.get("unexpected_count") or 0)
    outcomes: list[Outcome] = []
    for item in result.results:
        check = by_check[item.expectation_config.meta["check"]]
        outcomes.append(Outcome(
            check=check.id, rule=check.rule, severity=RULES[check.rule].severity,
            field=check.field, expectation=item.expectation_config.type, column=check.column,
            success=bool(item.success), unexpected_count=unexpected.get(check.id, 0),
        ))
    order = {check.id: i for i, check in enumerate(checks)}
    outcomes.sort(key=lambda o: order[o.check])
    return SuiteRun(domain=domain, region=region, rows=len(frame), checks=checks,
                    outcomes=outcomes, failures=failures, result=result, detail=detail,
                    timings=timings, gx_version=engine.version)


# --------------------------------------------------------------------------- records API


@dataclass
class QualityResult:
    accepted: list[CanonicalRecord]
    rejections: list[Rejection]  # errors and warnings, in record order
    by_rule: dict[str, int]  # rejections per rule code
    run: SuiteRun | None = None  # None when there were no records

    @property
    def errors(self) -> list[Rejection]:
        return [r for r in self.rejections if r.severity == "error"]

    @property
    def warnings(self) -> list[Rejection]:
        return [r for r in self.rejections if r.severity != "error"]

    @property
    def rejected(self) -> int:
        """Records quarantined (with at least one error)."""
        return len({(r.partner_id, r.source_id) for r in self.errors})


def _domain_of(records: list[CanonicalRecord]) -> str:
    domains = {record.domain.value for record in records}
    if len(domains) != 1:
        raise ValueError(f"records of one domain expected, got {sorted(domains)}")
    return domains.pop()


def row_problems(run: SuiteRun, frame: pd.DataFrame) -> dict[int, list[tuple[Check, object]]]:
    """Failing row -> [(check, value shown)], one per rule and field, redundant ones dropped."""
    found: dict[int, list[tuple[Check, object]]] = {}
    overrides = frame.attrs.get("shown", {})
    for check in run.checks:
        rows = run.failures[check.id]
        if not rows.size:
            continue
        names = check.shows or (check.column,)
        shown_columns = [frame[c].to_numpy()[rows] for c in names]
        for at, row in enumerate(rows):
            values = [overrides[name][row] if row in overrides.get(name, ()) else _plain(col[at])
                      for name, col in zip(names, shown_columns)]
            found.setdefault(int(row), []).append((check, check.shown(*values)))
    for row, problems in found.items():
        rules = {check.rule for check, _ in problems}
        dropped = {r for rule in rules for r in SUPERSEDES.get(rule, ())}
        seen: set[tuple[str, str]] = set()
        kept = []
        for check, value in problems:
            key = (check.rule, check.field)
            if check.rule in dropped or check.id in dropped or key in seen:
                continue
            seen.add(key)
            kept.append((check, value))
        found[row] = kept
    return found


def validate(domain: str, records: list[CanonicalRecord], *, region: str | None,
             today: dt.date) -> QualityResult:
    """Run ``domain``'s suite on ``records``: accepted records (no error), rejections (errors
    and warnings) and the number of rejections per rule."""
    if not records:
        return QualityResult([], [], {}, None)
    if _domain_of(records) != domain:
        raise ValueError(f"{domain} suite called with {_domain_of(records)} records")
    frame = records_frame(domain, records)
    run = run_suite(domain, frame, region=region, today=today)
    problems = row_problems(run, frame)
    accepted: list[CanonicalRecord] = []
    rejections: list[Rejection] = []
    for row, record in enumerate(records):
        found = problems.get(row, ())
        error = False
        for check, value in found:
            rejection = reject(check.rule, partner_id=record.partner_id, domain=domain,
                               source_id=record.source_id, field=check.field, value=value,
                               title=record.title)
            error = error or rejection.severity == "error"
            rejections.append(rejection)
        if not error:
            accepted.append(record)
    by_rule = dict(sorted(Counter(r.rule for r in rejections).items()))
    return QualityResult(accepted, rejections, by_rule, run)
