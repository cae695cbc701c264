"""Directory queries of the read API, as SQL on both databases.

Every filter runs on indexed or precomputed columns of ``directory`` (see
``hub/store/search.py``); pages are keyset pages ordered by ``entity_id``, so paging through
a result while publications happen never skips or repeats an entry that is there throughout.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import threading
import weakref
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BeforeValidator

from hub.resolve.cluster import PREFIX
from hub.store.search import tag, words
from hub.store.tables import changes, directory, entities

CEFR_ORDER = ("A1", "A2", "B1", "B2", "C1", "C2")
KM_PER_DEGREE = 111.195  # mean Earth radius 6371 km * pi / 180


class QueryError(ValueError):
    """A query that cannot be answered as asked (a 400 for the client)."""


@dataclass
class Filters:
    """The filters of one list request; None means 'not filtered'."""

    region: str | None = None
    postal_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    q: str | None = None
    updated_since: dt.date | None = None
    start_from: dt.date | None = None  # start on or after
    start_until: dt.date | None = None  # start on or before
    start_until_includes_undated: bool = False  # jobs and flats without a date: at once
    undated_unless_tag: str | None = None  # ... except those with this tag
    tags_all: list[str] = field(default_factory=list)  # each must be present
    tags_none: list[str] = field(default_factory=list)  # none may be present
    tags_any_or_absent: tuple[list[str], str] | None = None  # one of these, or no tag with this prefix
    ranges: list[tuple[str, str, float]] = field(default_factory=list)  # (column, op, value)
    at_least_or_unknown: list[tuple[str, float]] = field(default_factory=list)  # (column, value): NULL matches


def encode_cursor(entity_id: str) -> str:
    return base64.urlsafe_b64encode(f"e:{entity_id}".encode()).decode().rstrip("=")


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


# a domain as a query parameter takes other letters, as the records' closed lists do ('JOBS')
DomainName = Annotated[Literal["jobs", "courses", "housing"], BeforeValidator(_lower)]


def decode_cursor(cursor: str, domain: str | None = None) -> str:
    """The entity id a page ends with; with ``domain``, one of that domain's ids (a cursor
    of another domain's list is refused, not taken as a place to start)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise QueryError("the cursor is not one this API gave out; start again without it") from None
    if not text.startswith("e:") or len(text) > 100 or "\x00" in text:
        raise QueryError("the cursor is not one this API gave out; start again without it")
    if domain is not None and not text[2:].startswith(PREFIX[domain] + "-"):
        raise QueryError(f"the cursor belongs to another list than /v1/{domain}; start again without it")
    return text[2:]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def has_tag(value: str):
    """The entry carries the tag ``value`` (``level:B1``; hub/store/search.py)."""
    return directory.c.tags.like(f"% {_like_escape(value)} %", escape="\\")


def has_tag_prefix(prefix: str):
    """The entry carries a tag that begins with ``prefix`` (``level:``: any level)."""
    return directory.c.tags.like(f"% {_like_escape(prefix)}%", escape="\\")


# engine -> (change-feed sequence, postal code -> position): kept until a publication
_POSITIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_POSITIONS_LOCK = threading.Lock()


def postal_positions(conn: sa.Connection) -> dict[str, tuple[float, float]]:
    """Where each postal code lies: the hub's table of centroids, else the mean position of
    the directory's entries with coordinates and that postal code (all domains: a job
    posting's coordinates place a course without any). Read once per publication."""
    from hub.quality.regions import POSTAL_CENTROIDS

    seq = conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar()
    with _POSITIONS_LOCK:
        kept = _POSITIONS.get(conn.engine)
    if kept is not None and kept[0] == seq:
        return kept[1]
    d = directory.c
    rows = conn.execute(
        sa.select(d.postal_code, sa.func.avg(d.lat), sa.func.avg(d.lon))
        .where(d.postal_code.is_not(None), d.lat.is_not(None), d.lon.is_not(None))
        .group_by(d.postal_code)
    )
    positions = {code: (float(lat), float(lon)) for code, lat, lon in rows}
    positions.update(POSTAL_CENTROIDS)
    with _POSITIONS_LOCK:
        _POSITIONS[conn.engine] = (seq, positions)
    return positions


def postal_code_centroid(conn: sa.Connection, postal_code: str) -> tuple[float, float] | None:
    """Where a postal code lies (``postal_positions``); None when the hub does not know."""
    return postal_positions(conn).get(postal_code)


def domain_start(domain: str):
    """Where ``domain``'s entity ids begin (``job-``: every id begins with its domain's prefix,
    hub/resolve/cluster.py), beside ``domain = ...``. The directory holds all domains in one
    primary key, and PostgreSQL, taking the domains to be spread evenly over it, read a page
    of jobs (after the 400,000 ``crs-`` and ``hsg-`` ids of a national directory) along that
    key from its start: 1.5 s for the first page, and as long for every filter it did not
    serve from an index of its own. From the domain's first id the page takes its 51 rows.
    No upper bound: the planner would count its share of the ids on top of the domain's (a
    page of courses, a seventh of the ids, taken for a fiftieth) and sort every match. A later
    page starts after its cursor instead (one of the domain's ids), not after both: SQLite
    takes the first of two lower bounds for its index and read every id up to the cursor."""
    return directory.c.entity_id >= PREFIX[domain] + "-"


def conditions(conn: sa.Connection, domain: str, f: Filters) -> list:
    where = [directory.c.domain == domain]
    if f.region and len(f.region) == 8:
        where.append(directory.c.municipality_key == f.region)
    elif f.region:
        # the column holds an AGS or, for an address without one, the district's or Land's
        # prefix its postal code lies in (hub.store.search.region_key): the range from the
        # prefix itself lets the index (domain, municipality_key) work; LIKE keeps it exact
        pad = 8 - len(f.region)
        where.append(directory.c.municipality_key.between(f.region, f.region + "9" * pad))
        where.append(directory.c.municipality_key.like(f.region + "%"))
    if f.radius_km is not None:
        if f.lat is None or f.lon is None:
            if not f.postal_code:
                raise QueryError("radius needs a centre: lat and lon, or postal_code")
            centre = postal_code_centroid(conn, f.postal_code)
            if centre is None:
                raise QueryError(f"no position known for postal code {f.postal_code}; use lat and lon")
            lat0, lon0 = centre
        elif f.postal_code:  # two centres: which one did the reader mean?
            raise QueryError("radius takes one centre: lat and lon, or postal_code, not both")
        else:
            lat0, lon0 = f.lat, f.lon
        near = sa.and_(*_within(lat0, lon0, f.radius_km))
        # an entry without coordinates (a CSV course, a flat without geo) counts where its
        # postal code lies
        codes = sorted(code for code, (lat, lon) in postal_positions(conn).items()
                       if _planar_km(lat0, lon0, lat, lon) <= f.radius_km)
        if codes:
            placed = sa.and_(directory.c.lat.is_(None), directory.c.postal_code.in_(codes))
            near = sa.or_(near, placed)
        where.append(near)
    elif f.lat is not None or f.lon is not None:
        raise QueryError("lat and lon need a radius (km)")
    elif f.postal_code:
        where.append(directory.c.postal_code == f.postal_code)
    if f.q is not None:
        where.extend(text_conditions(f.q))
    if f.updated_since:
        since = dt.datetime.combine(f.updated_since, dt.time(), tzinfo=dt.timezone.utc)
        where.append(directory.c.updated_at >= since)
    if f.start_from:
        where.append(directory.c.start_date >= f.start_from)
    if f.start_until:
        until = directory.c.start_date <= f.start_until
        if f.start_until_includes_undated:
            undated = directory.c.start_date.is_(None)
            if f.undated_unless_tag:
                undated = sa.and_(undated, sa.not_(has_tag(f.undated_unless_tag)))
            until = sa.or_(until, undated)
        where.append(until)
    for value in f.tags_all:
        where.append(has_tag(value))
    for value in f.tags_none:
        where.append(sa.not_(has_tag(value)))
    if f.tags_any_or_absent:
        values, prefix = f.tags_any_or_absent
        absent = sa.not_(has_tag_prefix(prefix))
        where.append(sa.or_(absent, *(has_tag(v) for v in values)))
    for column, op, value in f.ranges:
        col = directory.c[column]
        where.append(col >= value if op == ">=" else col <= value)
    for column, value in f.at_least_or_unknown:
        col = directory.c[column]
        where.append(sa.or_(col >= value, col.is_(None)))
    return where


def _planar_km(lat0: float, lon0: float, lat: float, lon: float) -> float:
    """The distance ``_within`` measures, in Python."""
    coslat = max(math.cos(math.radians(lat0)), 0.01)
    return math.hypot((lat - lat0) * KM_PER_DEGREE, (lon - lon0) * KM_PER_DEGREE * coslat)


def text_conditions(text: str, parameter: str = "q") -> list:
    """Every word of ``text``, anywhere in title, organisation or description (folded:
    case, umlauts written out, ß as ss)."""
    found = words(text)
    if not found:
        raise QueryError(f"{parameter} holds no words; leave it out to list everything")
    return [directory.c.search_text.like(f"%{_like_escape(word)}%", escape="\\") for word in found]


def _within(lat0: float, lon0: float, radius_km: float) -> list:
    """Entries within ``radius_km`` of a point: a bounding box (for the index), then the
    distance on the equirectangular projection (exact to well under 1 % at these ranges)."""
    dlat = radius_km / KM_PER_DEGREE
    coslat = max(math.cos(math.radians(lat0)), 0.01)
    dlon = min(radius_km / (KM_PER_DEGREE * coslat), 360.0)
    dy = (directory.c.lat - lat0) * KM_PER_DEGREE
    dx = (directory.c.lon - lon0) * (KM_PER_DEGREE * coslat)
    return [
        directory.c.lat.between(lat0 - dlat, lat0 + dlat),
        directory.c.lon.between(lon0 - dlon, lon0 + dlon),
        dy * dy + dx * dx <= radius_km * radius_km,
    ]


def german_level_at_most(level: str) -> tuple[list[str], str]:
    allowed = CEFR_ORDER[: CEFR_ORDER.index(level) + 1]
    return [tag("german", lv) for lv in allowed], "german:"


def list_entries(
    conn: sa.Connection, domain: str, filters: Filters, after: str | None, limit: int,
    count: bool = False,
) -> tuple[list[tuple[str, str]], str | None, int | None]:
    """One page: [(entity_id, the entry as JSON text, as stored)], the cursor of the next
    page (None at the end), and with ``count`` on the first page (``after`` None) how many
    entries match the filters in all (a portal's '45 flats found'; else None: the count
    reads the whole list, as costly as the page or more). The text goes out as it is,
    without a round through Python objects, unless something has to be taken out of it."""
    where = conditions(conn, domain, filters)
    total = None
    if after is not None:  # a cursor of the domain's list (decode_cursor): past domain_start
        where.append(directory.c.entity_id > after)
    else:
        where.append(domain_start(domain))
    if after is None and count:
        total = conn.execute(sa.select(sa.func.count()).select_from(directory).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(directory.c.entity_id, sa.cast(directory.c.entry, sa.Text).label("entry"))
        .where(*where)
        .order_by(directory.c.entity_id)
        .limit(limit + 1)
    ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(rows[-1].entity_id) if more and rows else None
    return [(r.entity_id, r.entry) for r in rows], nxt, total


def latest_seq(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar() or 0)


@dataclass
class Lookup:
    status: str  # found, merged, withdrawn, missing
    entry: dict | None = None
    content_hash: str | None = None
    survivor: str | None = None
    survivor_domain: str | None = None


def find_entry(conn: sa.Connection, domain: str, entity_id: str) -> Lookup:
    row = conn.execute(
        sa.select(directory.c.entry, directory.c.content_hash).where(
            directory.c.entity_id == entity_id, directory.c.domain == domain
        )
    ).first()
    if row is not None:
        return Lookup("found", row.entry, row.content_hash)
    current, seen = entity_id, set()
    status = "missing"
    while current and current not in seen and len(seen) < 20:
        seen.add(current)
        ent = conn.execute(
            sa.select(entities.c.domain, entities.c.status, entities.c.merged_into).where(
                entities.c.entity_id == current
            )
        ).first()
        if ent is None or (current == entity_id and ent.domain != domain):
            break
        if ent.status == "merged" and ent.merged_into:
            status = "merged"
            current = ent.merged_into
            continue
        if current == entity_id:
            status = "withdrawn" if ent.status == "withdrawn" else "missing"
            break
        return Lookup("merged", survivor=current, survivor_domain=ent.domain)
    if status == "merged":  # a chain that ends nowhere: the last id we know
        return Lookup("merged", survivor=current, survivor_domain=domain)
    return Lookup(status)


def list_changes(
    conn: sa.Connection, after: int, limit: int, domain: str | None = None
) -> tuple[list[Any], bool]:
    where = [changes.c.seq > after]
    if domain:
        where.append(changes.c.domain == domain)
    rows = conn.execute(
        sa.select(changes.c.seq, changes.c.entity_id, changes.c.domain, changes.c.op, changes.c.entry,
                  changes.c.publication_id)
        .where(*where)
        .order_by(changes.c.seq)
        .limit(limit + 1)
    ).all()
    return rows[:limit], len(rows) > limit


def newest_change(conn: sa.Connection) -> tuple[int, int | None]:
    """The seq of the newest change-feed item and the publication that wrote it ((0, None) for
    an empty feed)."""
    row = conn.execute(sa.select(changes.c.seq, changes.c.publication_id)
                       .order_by(changes.c.seq.desc()).limit(1)).first()
    return (row.seq, row.publication_id) if row else (0, None)
