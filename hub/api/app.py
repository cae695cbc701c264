"""The read API (FastAPI): the directory by domain with filters and keyset pages, single
entries with stable ids (merged ids redirect, withdrawn ids are gone), the change feed, and
each partner's feedback page. Errors are RFC 9457 problem details.

``create_app(engine, settings)`` builds the app; ``hub serve`` runs it with uvicorn.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlencode

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.datastructures import URL, Headers, MutableHeaders, QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from hub import __version__
from hub.api import health
from hub.config import env_flag, env_int
from hub.api import query
from hub.api.keys import ApiKey, RateLimiter, lookup_key
from hub.api.query import Filters, QueryError, german_level_at_most
from hub.api.version import CachedPage, DirectoryVersion, PageCache
from hub.models import CourseOffer, HousingVacancy, JobPosting
from hub.models.vocab import CEFRLevel, CourseSchedule, CourseType, EmploymentType, PropertyType, WorkingTime
from hub.quality.regions import DISTRICT_POSTAL_CODES
from hub.registry import PartnerKind
from hub.store.publish import feed_checkpoint, feed_checkpoint_known
from hub.store.search import AVAILABLE_LATER, tag

DOMAINS = ("jobs", "courses", "housing")
PROBLEM = "application/problem+json"
KEY_COOKIE = "hub_key"
DEFAULT_LIMIT, MAX_LIMIT = 50, 500
DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT = 100, 1000
GZIP_MIN_BYTES = 1024


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ApiSettings:
    """What the read API needs to know besides the database."""

    require_keys: bool = False  # HUB_API_REQUIRE_KEYS: reading needs a key with scope read
    anon_rate_limit: int = 0  # HUB_API_ANON_RATE_LIMIT: per client address and minute, 0: off
    key_rate_limit: int = 600  # HUB_API_KEY_RATE_LIMIT: per key and minute, unless the key says
    registry_path: Path | None = None  # partner names and languages for the feedback pages
    cache_mb: int = 64  # HUB_API_CACHE_MB: rendered list pages kept per process, 0: none
    # HUB_API_CORS_ORIGINS: the web origins whose pages may read the API from the browser
    # (comma-separated, or *); none by default
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, hub_settings: Any = None) -> "ApiSettings":
        env = dict(os.environ if environ is None else environ)
        if hub_settings is None:
            from hub.config import Settings

            hub_settings = Settings.from_env(env)
        return cls(
            require_keys=env_flag(env, "HUB_API_REQUIRE_KEYS"),
            anon_rate_limit=env_int(env, "HUB_API_ANON_RATE_LIMIT", 0),
            key_rate_limit=env_int(env, "HUB_API_KEY_RATE_LIMIT", 600),
            cache_mb=env_int(env, "HUB_API_CACHE_MB", 64),
            cors_origins=cors_origins(env.get("HUB_API_CORS_ORIGINS")),
            registry_path=getattr(hub_settings, "registry_path", None),
        )


_ORIGIN = re.compile(r"https?://[^/\s?#]+")


def cors_origins(raw: str | None) -> tuple[str, ...]:
    """HUB_API_CORS_ORIGINS: ``*`` or web origins (scheme and host, e.g.
    ``https://portal.example``), comma-separated; a ValueError names a value that is none."""
    origins = tuple(part.strip().rstrip("/") for part in (raw or "").split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ValueError(f"HUB_API_CORS_ORIGINS: {origin!r} is not an origin such as "
                             "https://portal.example (scheme and host, no path), nor *")
    return origins


# --------------------------------------------------------------------------- problems


class Problem(BaseModel):
    """An error as RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field("about:blank", description="A URI naming the kind of problem")
    title: str = Field(description="The kind of problem, in words (the HTTP status phrase)")
    status: int = Field(description="The HTTP status code")
    detail: str | None = Field(None, description="What went wrong with this request")
    instance: str | None = Field(None, description="The path that was requested")


def _query_names(dependant) -> Iterator[str]:
    """The query parameters a route declares, its dependencies' included."""
    yield from (field.alias for field in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def known_query(request: Request) -> None:
    """A query parameter a ``/v1`` or ``/hsds`` endpoint does not declare is refused (400)
    with the ones it does: a misspelt filter (``?postcode=`` for ``?postal_code=``,
    ``?serach=``) would otherwise answer the whole directory as if it were the filtered part.
    Parameters starting with '_' are let through unread (a client's cache buster,
    ``?_=1700000000``). The HSDS endpoints answer the standard's parameters they do not
    implement themselves, saying so (hub/api/hsds.py)."""
    route = request.scope.get("route")
    path = request.url.path
    if route is None or not hasattr(route, "dependant") or not path.startswith(("/v1/", "/hsds/")):
        return
    names = getattr(route, "hub_query_names", None)
    if names is None:  # read once per route, kept on it
        route.hub_declared_names = frozenset(_query_names(route.dependant))
        names = route.hub_declared_names
        if path.startswith("/hsds/"):
            from hub.api.hsds import STANDARD_NOT_IMPLEMENTED

            names |= STANDARD_NOT_IMPLEMENTED  # answered as not implemented, not as unknown
        route.hub_query_names = names
    unknown = sorted({key for key in request.query_params if key not in names and not key.startswith("_")})
    if unknown:
        listed = ", ".join(sorted(route.hub_declared_names)) or "none"
        raise ApiProblem(400, f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(repr(key) for key in unknown)}; "
                              f"{request.url.path} takes: {listed}")
    if path.startswith("/v1/"):
        # ?schedule=evening&schedule=weekend was read as weekend alone: every /v1 parameter
        # takes one value, so a repeated one is said, not answered for its last value
        keys = [key for key, _ in request.query_params.multi_items() if not key.startswith("_")]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ApiProblem(400, f"{', '.join(repr(key) for key in repeated)} given more than once; "
                                  "each parameter takes one value (for 'evening or weekend' ask once "
                                  "for each)")


class ApiProblem(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, headers or {}, extra


def problem_response(request: Request, status: int, detail: str | None,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **extra}
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


# the form a parameter is written in, for a value in another form (pattern errors say only
# the regular expression)
_PATTERN_FORMS = {
    "region": "an AGS prefix of 2 to 8 digits: 10043 a district, 10043114 a municipality",
    "postal_code": "five digits, e.g. 66538",
}


def _form_hint(parameter: str, error: dict) -> str:
    """What to write instead of a refused value, in brackets, where the error alone does not
    say it: a day as '01.12.2026', a German decimal comma ('600,50'), 'ja' for true, a place
    name for an AGS."""
    kind = str(error.get("type", ""))
    value = error.get("input")
    if kind.startswith("date_"):
        return " (write the day as YYYY-MM-DD, e.g. 2026-12-01)"
    if kind == "float_parsing":
        if isinstance(value, str) and "," in value:
            return " (write decimals with a point, e.g. 600.5, not 600,5)"
        return " (write a number alone, e.g. 600 or 2.5, without unit)"
    if kind == "int_parsing":
        return " (write a whole number, e.g. 50)"
    if kind == "bool_parsing":
        return " (write true or false)"
    if kind == "string_pattern_mismatch" and parameter in _PATTERN_FORMS:
        return f" ({_PATTERN_FORMS[parameter]})"
    return ""


def _problem_doc(description: str) -> dict:
    return {"description": description,
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


PROBLEM_DOCS = {
    400: "The query cannot be answered as asked (a cursor from elsewhere, a radius without a "
         "centre, a lower bound above its upper one, a parameter the endpoint does not know)",
    401: "A key is needed, or the key given is unknown or revoked",
    403: "The key does not allow this",
    404: "No such entry or page",
    410: "The entry was withdrawn; in the change feed: a checkpoint of another history",
    503: "The partner registry cannot be read (the server's HUB_REGISTRY)",
    422: "A parameter is not valid",
    429: "Too many requests; Retry-After says when to try again",
}


def problems(*codes: int) -> dict:
    return {code: _problem_doc(PROBLEM_DOCS[code]) for code in codes}


# --------------------------------------------------------------------------- response models


class Source(BaseModel):
    """One partner record the entry was built from (several where duplicates were merged)."""

    partner_id: str = Field(description=(
        "The partner that delivered it, by its id in the hub's registry (e.g. vhs-neunkirchen); "
        "`provenance` names the same ids per field"))
    source_id: str = Field(description="The record's own id in that partner's feed")
    url: str | None = Field(None, description="The record's page at that partner, where it gave one")


class Entry(BaseModel):
    """A directory entry: the canonical record's fields (each from the best source, see
    ``provenance``), its stable ``id``, its ``domain`` and its ``sources``. ``contact`` only
    for keys with the scope contacts."""

    model_config = ConfigDict(extra="allow")

    id: str
    domain: Literal["jobs", "courses", "housing"]
    title: str
    sources: list[Source] = Field(description="The partner records merged into this entry")
    provenance: dict[str, str] = Field(default_factory=dict, description=(
        "Per field, the partner_id of the source its value came from"))


class PartnerInfo(BaseModel):
    """A partner of the welcome center whose records the directory holds, as its registry
    entry names it."""

    id: str = Field(description="As an entry's `sources[].partner_id` and `provenance` name it")
    name: str = Field(description="The partner's name, to show as an entry's source")
    kind: PartnerKind = Field(description=(
        "jobcenter, employment_agency, employer, language_school, education_provider, "
        "municipality, housing_company or other"))
    domains: list[Literal["jobs", "courses", "housing"]] = Field(description="What it delivers")


class PartnerList(BaseModel):
    items: list[PartnerInfo]


class Page(BaseModel):
    items: list[Entry]
    next: str | None = Field(None, description="URL of the next page; null on the last page")
    limit: int
    total: int | None = Field(None, description=(
        "With count=true, on the first page: how many entries match the filters in all; else "
        "null"))


def _entry_model(record: type[BaseModel], domain: str) -> type[Entry]:
    """The documented shape of one domain's entries: ``Entry`` with the canonical record's
    fields (schemas/*.schema.json), each optional: an entry holds what its sources filled,
    and ``contact`` only for the scope contacts. Documentation only: answers are not
    re-validated."""
    fields = {
        name: (info.annotation | None, Field(None, description=info.description))
        for name, info in record.model_fields.items()
        if name not in Entry.model_fields and name not in ("partner_id", "source_id")
    }
    return create_model(f"{record.__name__}Entry", __base__=Entry, __doc__=Entry.__doc__,
                        domain=(Literal[domain], ...), **fields)


ENTRY_MODELS = {"jobs": _entry_model(JobPosting, "jobs"), "courses": _entry_model(CourseOffer, "courses"),
                "housing": _entry_model(HousingVacancy, "housing")}
PAGE_MODELS = {domain: create_model(f"{model.__name__[:-5]}Page", __base__=Page, items=(list[model], ...))
               for domain, model in ENTRY_MODELS.items()}


class RedactedEntry(BaseModel):
    """An earlier state of an entry, as an erasure on request (``hub erase``) left it in the
    change feed: the erased record's source and every field its partner gave are gone (the
    title too, when it came from there); what other partners gave stays."""

    model_config = ConfigDict(extra="allow")

    id: str
    domain: Literal["jobs", "courses", "housing"]
    title: str | None = None
    sources: list[Source]
    provenance: dict[str, str] = Field(default_factory=dict)
    redacted: Literal[True]


class Change(BaseModel):
    seq: int = Field(description="Position in the feed; increases with every change")
    entity_id: str
    domain: Literal["jobs", "courses", "housing"]
    op: Literal["updated", "deleted"]
    entry: Entry | RedactedEntry | None = Field(None, description=(
        "The whole entry as of this change (op updated); redacted where a record it held was "
        "erased since"))
    merged_into: str | None = Field(None, description="op deleted: the id it was merged into")


class ChangePage(BaseModel):
    items: list[Change]
    next: str = Field(description=(
        "URL to poll for the changes after this page (with `after=last_seq` and the page's "
        "`checkpoint`)"))
    last_seq: int = Field(description=(
        "The seq to continue after (the `after` of `next`); with `domain`, past the other "
        "domains' changes read up to now"))
    has_more: bool = Field(description="Whether more changes wait right now")
    checkpoint: str | None = Field(None, description=(
        "The feed's history up to `last_seq` (null while the feed is empty): send it back as "
        "`checkpoint` with `after=last_seq`, and a feed whose database was restored from an "
        "older backup since (or another hub's) answers 410 instead of changes under seqs "
        "already read"))


HEADERS_DOC = {
    "ETag": {"description": ("Version of this response, for If-None-Match (weak, `W/\"...\"`, for a "
                             "client that accepts gzip)"), "schema": {"type": "string"}},
    "Link": {"description": 'rel="next": the next page', "schema": {"type": "string"}},
}


# --------------------------------------------------------------------------- keys and limits


@dataclass(frozen=True)
class Principal:
    key: ApiKey | None

    @property
    def contacts(self) -> bool:
        return self.key is not None and "contacts" in self.key.scopes


def _presented_key(request: Request, allow_query: bool = False) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    header = request.headers.get("x-api-key")
    if header and header.strip():
        return header.strip()
    if allow_query:
        return request.query_params.get("key") or request.cookies.get(KEY_COOKIE) or None
    return None


def _authenticate(request: Request, allow_query: bool = False) -> ApiKey | None:
    text = _presented_key(request, allow_query)
    if text is None:
        return None
    key = lookup_key(request.app.state.engine, text)
    if key is None:
        raise ApiProblem(401, "the API key is unknown or revoked", {"WWW-Authenticate": "Bearer"})
    _limit(request.app.state.limiter, f"key:{key.id}",
           key.rate_limit or request.app.state.settings.key_rate_limit)
    return key


def _limit(limiter: RateLimiter, client: str, limit: int) -> None:
    wait = limiter.hit(client, limit)
    if wait:
        raise ApiProblem(429, f"more than {limit} requests per minute; try again in {wait} s",
                         {"Retry-After": str(wait)})


def reader(request: Request) -> Principal:
    """Who reads the directory: a key, or anyone (unless keys are required)."""
    settings: ApiSettings = request.app.state.settings
    key = _authenticate(request)
    if key is None:
        if settings.require_keys:
            raise ApiProblem(401, "this server needs an API key (Authorization: Bearer KEY or X-API-Key)",
                             {"WWW-Authenticate": "Bearer"})
        client = request.client.host if request.client else "unknown"
        _limit(request.app.state.limiter, f"ip:{client}", settings.anon_rate_limit)
    elif settings.require_keys and not key.can_read:
        raise ApiProblem(403, "this key may not read the directory (scope read or contacts needed)")
    return Principal(key)


# --------------------------------------------------------------------------- helpers


def _etag(*parts: Any) -> str:
    text = "|".join(str(p) for p in parts)
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def page_etag(version: str, scope, params: QueryParams, contacts: bool) -> str:
    """A list page's ETag: the directory's version, the request and what the reader may see.
    It is also the page's key in the cache. The request's scheme and host are part of it: a
    page holds its ``next`` link as an absolute URL, which must name the host that reader
    asked (another Host header must not put its own host into the links other readers get)."""
    origin = URL(scope=scope).replace(path="", query="", fragment="")
    return _etag(version, origin, scope["path"], sorted(params.multi_items()), contacts)


def not_modified(request: Request, etag: str) -> bool:
    return _matches(request.headers.get("if-none-match"), etag)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags


def _public(entry: dict, principal: Principal) -> dict:
    if "contact" in entry and not principal.contacts:
        entry = {k: v for k, v in entry.items() if k != "contact"}
        entry["provenance"] = {k: v for k, v in (entry.get("provenance") or {}).items() if k != "contact"}
    return entry


def _public_text(text: str, principal: Principal) -> str:
    """An entry's stored JSON text as it may go out. A key "contact" can only occur as a key
    (inside a JSON string its quotes would be escaped), so text without it goes out as it is."""
    if principal.contacts or '"contact"' not in text:
        return text
    return json.dumps(_public(json.loads(text), principal), ensure_ascii=False, separators=(",", ":"))


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return Response(data, status_code=status, headers=headers, media_type="application/json")


def _page_url(request: Request, **params: Any) -> str:
    query_params = dict(request.query_params)
    query_params.update({k: str(v) for k, v in params.items()})
    return str(request.url.replace(query=urlencode(query_params)))


def _conn(request: Request):
    return request.app.state.engine.connect()


def _list(request: Request, domain: str, filters: Filters, cursor: str | None, limit: int,
          principal: Principal, count: bool = False) -> Response:
    try:
        after = query.decode_cursor(cursor, domain) if cursor else None
    except QueryError as exc:
        raise ApiProblem(400, str(exc)) from None
    # the version is read before the page: a publication in between gives an old ETag with a
    # new body (the next request just fetches again), never a new ETag with an old body; the
    # same holds for a page kept in the cache under that ETag (hub/api/version.py)
    etag = page_etag(request.app.state.version.current(), request.scope,
                     request.query_params, principal.contacts)
    if not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    cache: PageCache | None = request.app.state.pages
    cached = cache.get(etag) if cache is not None else None
    if cached is None:
        with _conn(request) as conn:
            try:
                rows, nxt, total = query.list_entries(conn, domain, filters, after, limit,
                                                      count=count)
            except QueryError as exc:
                raise ApiProblem(400, str(exc)) from None
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        next_url = _page_url(request, cursor=nxt) if nxt else None
        if next_url:
            headers["Link"] = f'<{next_url}>; rel="next"'
        items = ",".join(_public_text(text, principal) for _, text in rows)
        tail = json.dumps({"next": next_url, "limit": limit, "total": total}, separators=(",", ":"))
        cached = CachedPage(('{"items":[' + items + "]," + tail[1:]).encode(), headers)
        if cache is not None:
            cache.put(etag, cached)
    return _page_response(cached)


def _page_response(page: CachedPage) -> Response:
    return Response(page.body, headers=dict(page.headers), media_type="application/json")


# --------------------------------------------------------------------------- parameters

LIST_DOC = (
    "Every filter is optional; filters combine with *and*, each takes one value (ask twice for "
    "'evening or weekend'). Entries come in the order of their ids, the same on every page "
    "(keyset pages: follow `next` or the Link header), not by date, price or distance: a "
    "portal that shows them so sorts what it fetched. `count=true` puts the number of all "
    "matches into `total` of the first page. A parameter the endpoint does not take is a 400 "
    "naming the ones it takes, an invalid value a 422 saying the form it wants.\n\nFor example:\n\n"
)
LIST_EXAMPLES = {
    "jobs": [
        ("part-time jobs within 20 km of 66538 for someone with A2 German",
         "?postal_code=66538&radius=20&working_time=part_time&german_level=A2"),
        ("jobs whose employer says no German is needed", "?german_required=false"),
        ("apprenticeships (Ausbildung) in Landkreis Neunkirchen", "?region=10043&apprenticeship=true"),
        ("care jobs (Pflege): the word in title, organisation, description or occupation", "?q=pflege"),
    ],
    "courses": [
        ("B1 courses within 10 km of 66538 starting on or after 1 February 2027",
         "?cefr=B1&postal_code=66538&radius=10&starting_after=2027-02-01"),
        ("integration courses with childcare", "?course_type=integration_course&childcare=true"),
        ("free or funded evening courses", "?schedule=evening&funded=true"),
    ],
    "housing": [
        ("flats up to 600 EUR warm with at least 2 rooms, free by 1 January 2027, no WBS needed",
         "?rent_max=600&rooms_min=2&available_by=2027-01-01&wbs=false"),
        ("flats up to 400 EUR cold in the town of Neunkirchen (AGS 10043114)",
         "?cold_rent_max=400&region=10043114"),
        ("flats up to 500 EUR warm for a family of three", "?rent_max=500&persons=3"),
    ],
}


def list_description(domain: str) -> str:
    """The OpenAPI description of a list endpoint: how filters, order and pages work, and the
    questions a welcome center's advisors ask, as requests."""
    return LIST_DOC + "\n".join(f"- {question}: `/v1/{domain}{params}`"
                                 for question, params in LIST_EXAMPLES[domain])


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Entries per page (max {MAX_LIMIT})")]
Cursor = Annotated[str | None, Query(max_length=200, description="From `next` of the previous page")]
Count = Annotated[bool, Query(description=(
    "true: the first page says in `total` how many entries match the filters in all (a count "
    "of the whole list, asked only where it is shown)"))]
# which districts the hub places a postal code in (hub.quality.regions): said in the region
# parameter's description, which stays true as the table grows
_POSTAL_DISTRICTS = ", ".join(sorted(set(DISTRICT_POSTAL_CODES.values())))
Region = Annotated[str | None, Query(pattern=r"^[0-9]{2,8}$", description=(
    "AGS prefix (Amtlicher Gemeindeschluessel): 2 digits a Land, 5 a district (e.g. 10043), "
    "8 a municipality. Finds the entries whose address carries an AGS with this prefix, and "
    "the entries without an AGS (the BA's job postings carry only a postal code and town) "
    "by the area their postal code lies in: the district for the districts the hub knows the "
    f"postal codes of ({_POSTAL_DISTRICTS}), else the Land where the postal region lies in "
    "one. So an entry without an AGS is found by a district or Land, never by a "
    "municipality (8 digits: a postal code does not tell the municipality), and by no region "
    "where its postal code is not known; postal_code or radius find it by place"))]
PostalCode = Annotated[str | None, Query(pattern=r"^[0-9]{5}$", description=(
    "Postal code; with radius: the centre of the circle"))]
def FiniteQuery(**kwargs: Any) -> Any:  # noqa: N802 - used as Query is
    """A number parameter that refuses NaN and infinities (422 'finite number'), which would
    otherwise read as out of range or pass a range check."""
    return Query(allow_inf_nan=False, **kwargs)


Lat = Annotated[float | None, FiniteQuery(ge=-90, le=90, description="Centre of the radius search")]
Lon = Annotated[float | None, FiniteQuery(ge=-180, le=180, description="Centre of the radius search")]
Radius = Annotated[float | None, FiniteQuery(gt=0, le=1000, description="Radius in km around lat/lon or postal_code")]
Text = Annotated[str | None, Query(min_length=1, max_length=200, description=(
    "Words, each of which must occur in the title, organisation, description or a job's occupation "
    "(case-insensitive; ae, oe, ue find ä, ö, ü)"))]
UpdatedSince = Annotated[dt.date | None, Query(description=(
    "Published or changed in the directory on or after this day (UTC); an entry's own "
    "updated_at is the partner's time of the offer and may be older"))]
Flag = Annotated[bool | None, Query()]


def _common(region, postal_code, lat, lon, radius, q, updated_since) -> Filters:
    return Filters(region=region, postal_code=postal_code, lat=lat, lon=lon, radius_km=radius,
                   q=q, updated_since=updated_since)


def _in_order(**bounds: Any) -> None:
    """Lower and upper bounds given in pairs (``rent_min=..., rent_max=...``): a lower bound
    above its upper one matches nothing, which a portal would show as 'nothing found'; it is
    a 400 naming both (swapped fields in a form, most likely)."""
    names = list(bounds)
    for low, high in zip(names[::2], names[1::2]):
        lower, upper = bounds[low], bounds[high]
        if lower is not None and upper is not None and lower > upper:
            shown = [f"{v:g}" if isinstance(v, float) else v for v in (lower, upper)]
            raise ApiProblem(400, f"{low}={shown[0]} lies after {high}={shown[1]}, so nothing "
                                  "can match; swap them, or leave one out")


def _flag_tag(f: Filters, name: str, value: bool | None) -> None:
    if value is True:
        f.tags_all.append(tag(name, True))
    elif value is False:
        f.tags_none.append(tag(name, True))


# --------------------------------------------------------------------------- the app


class _RedactKeys(logging.Filter):
    """Access-log lines show ``key=***`` instead of a key given in an address."""

    pattern = re.compile(r"([?&]key=)[^&\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.pattern.sub(r"\1***", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def _redact_access_log() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactKeys) for f in logger.filters):
        logger.addFilter(_RedactKeys())


class CachedListPages:
    """ASGI middleware: an anonymous list request whose page is in the cache is answered here,
    before routing, parameter validation and the thread pool, which otherwise cost more than
    the answer itself. Only pages that the endpoint rendered go into the cache, so a request
    served here is one that passed validation before with the same parameters; everything
    else (keys, misses, a version not known without a query) goes on to the endpoints.

    The rules are the endpoints': the anonymous rate limit first, then 304 for a matching
    If-None-Match, then the page with the headers it was rendered with."""

    paths = frozenset(f"/v1/{domain}" for domain in DOMAINS)

    def __init__(self, app, api: FastAPI) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in self.paths:
            response = self._answer(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _answer(self, scope) -> Response | None:
        state = self.api.state
        if state.pages is None or not state.version.listening or state.settings.require_keys:
            return None  # without a listener the version costs a query: the endpoint asks it
        headers = Headers(scope=scope)
        if "authorization" in headers or "x-api-key" in headers:
            return None
        etag = page_etag(state.version.current(), scope,
                         QueryParams(scope["query_string"]), False)
        cached = state.pages.peek(etag)
        if cached is None:
            return None
        client = scope["client"][0] if scope.get("client") else "unknown"
        try:
            _limit(state.limiter, f"ip:{client}", state.settings.anon_rate_limit)
        except ApiProblem as exc:
            return problem_response(Request(scope), exc.status, exc.detail, exc.headers)
        if _matches(headers.get("if-none-match"), etag):
            return Response(status_code=304, headers={"ETag": etag})
        state.pages.get(etag)  # counted as a hit, and kept as recently used
        return _page_response(cached)


class HeadAsGet:
    """ASGI middleware: HEAD is answered for every GET resource (RFC 9110: the same status and
    headers, no body), as link checkers and caches expect; the endpoints know only GET."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class VaryOnKey:
    """ASGI middleware: an answer of /v1 and /hsds depends on the key the request carries (a
    key with the contacts scope sees the contact persons; a key has its own limits and may be
    refused), so each says so in ``Vary``: a shared cache must not hand an answer given to a
    key to a reader without one, nor the other way round. Outside the page cache, so that the
    pages it answers, and the 304s, say it too."""

    KEY_HEADERS = ("Authorization", "X-API-Key")  # as _presented_key reads them

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith("/v1/") or path == "/hsds" or path.startswith("/hsds/")):
            await self.app(scope, receive, send)
            return

        async def with_vary(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name in self.KEY_HEADERS:
                    headers.add_vary_header(name)
            await send(message)

        await self.app(scope, receive, with_vary)


class Compressed:
    """ASGI middleware: an answer of at least ``GZIP_MIN_BYTES`` goes gzip-compressed to a
    client that accepts it (``Accept-Encoding: gzip``, as every HTTP library of a phone or
    browser sends), with ``Vary: Accept-Encoding``: a page of 50 jobs is about a tenth of its
    size. The ETags of a client that accepts gzip are weak (``W/"..."``, as nginx makes them):
    a compressed answer's bytes are not the plain answer's, and a 304 names the tag its 200
    gave. If-None-Match compares either form with the page's tag.

    An answer with an ETag is compressed once: its gzip bytes are kept (``packed``, least
    recently used out, by the tag, the path and the query) and sent again to the next reader
    of that version, as the list page cache keeps the plain page; compressing a page of 50
    jobs cost more CPU than answering it from that cache."""

    def __init__(self, app, packed: PageCache | None = None) -> None:
        self.app = app
        self.packed = packed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "gzip" not in Headers(scope=scope).get("accept-encoding", ""):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def collect(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send(scope, start, b"".join(chunks), send)
            else:
                await send(message)

        await self.app(scope, receive, collect)

    async def _send(self, scope, start: dict, body: bytes, send) -> None:
        headers = MutableHeaders(scope=start)
        etag = headers.get("etag")
        if etag and not etag.startswith("W/"):
            headers["ETag"] = "W/" + etag
        if len(body) >= GZIP_MIN_BYTES and "content-encoding" not in headers and start["status"] not in (204, 304):
            key = (f"{etag} {scope['path']}?{scope['query_string'].decode('latin-1')}"
                   if etag and start["status"] == 200 else None)
            page = self.packed.get(key) if key and self.packed is not None else None
            if page is None:
                page = CachedPage(gzip.compress(body, compresslevel=6, mtime=0), {})
                if key and self.packed is not None:
                    self.packed.put(key, page)
            body = page.body
            headers.add_vary_header("Accept-Encoding")
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(body))
        await send(start)
        await send({"type": "http.response.body", "body": body})


NUL_REFUSED = "the request holds a NUL character (%00), which no id or parameter of this API contains"


class RefuseNul:
    """ASGI middleware: a request whose path or query holds a NUL character is answered 400
    before any endpoint reads it: no id, cursor or filter holds one, and PostgreSQL refuses
    text with one (a server error where the reader made the mistake)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"]
                                        or "\x00" in unquote(scope["query_string"].decode("latin-1"))):
            response = problem_response(Request(scope), 400, NUL_REFUSED)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)



class HealthResponse(JSONResponse):
    media_type = health.MEDIA_TYPE


def create_app(engine: sa.Engine, settings: Any = None) -> FastAPI:
    """The read API on ``engine``. ``settings``: ApiSettings, or the hub's Settings (the API's
    own settings then come from the environment), or None (all from the environment)."""
    if not isinstance(settings, ApiSettings):
        settings = ApiSettings.from_env(hub_settings=settings)
    version = DirectoryVersion(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        version.start()  # a server listens for publications; a bare app reads per request
        try:
            yield
        finally:
            version.close()

    app = FastAPI(
        lifespan=lifespan,
        dependencies=[Depends(known_query)],
        title="Welcome Hub read API",
        version=__version__,
        description=(
            "Job postings, language courses and housing vacancies from the partners of a welcome "
            "center, checked and merged into one directory. Ids are stable: a merged id answers "
            "307 with its survivor (not cached: a split can undo a merge), a withdrawn one 410. "
            "Pages are keyset pages (follow `next` or the Link header); `/v1/changes` is the "
            "incremental feed. Errors are RFC 9457 problem details. Keys go in "
            "`Authorization: Bearer KEY` or `X-API-Key`. Answers of 1 KB and more come "
            "gzip-compressed to clients that send `Accept-Encoding: gzip`; lists, entries and "
            "the change feed carry an ETag (`Cache-Control: no-cache`: ask again with "
            "If-None-Match, a 304 while nothing changed)."
        ),
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.limiter = RateLimiter()
    app.state.version = version
    app.state.pages = PageCache(settings.cache_mb * 1024 * 1024) if settings.cache_mb else None
    _redact_access_log()
    app.add_middleware(CachedListPages, api=app)
    app.add_middleware(RefuseNul)  # before the cache reads the query
    app.add_middleware(VaryOnKey)  # the cache's pages and 304s too, and RefuseNul's 400s
    app.add_middleware(Compressed, packed=PageCache(settings.cache_mb * 1024 * 1024 // 4) if settings.cache_mb else None)  # the cache's pages too; inside HeadAsGet: HEAD's headers are GET's
    app.add_middleware(HeadAsGet)  # the cache answers HEAD as well
    if settings.cors_origins:  # outermost: preflights and every answer carry the CORS headers
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "HEAD"],
            allow_headers=["Authorization", "X-API-Key", "If-None-Match"],
            expose_headers=["ETag", "Link", "Location", "Retry-After"], max_age=3600)

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem):
        return problem_response(request, exc.status, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http_problem(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 304:  # a conditional GET (the HSDS routes): no body
            return Response(status_code=304, headers=getattr(exc, "headers", None))
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail in (None, "Not Found"):
            detail = f"no such resource: {request.url.path}"
        return problem_response(request, exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_problem(request: Request, exc: RequestValidationError):
        errors = []
        for e in exc.errors():
            parameter = ".".join(str(p) for p in e.get("loc", ()) if p not in ("query", "path", "header"))
            errors.append({"parameter": parameter, "in": (e.get("loc") or ["?"])[0],
                           "message": e.get("msg", "") + _form_hint(parameter, e)})
        first = errors[0] if errors else {"parameter": "?", "message": "invalid"}
        return problem_response(request, 422, f"{first['parameter']}: {first['message']}",
                                errors=errors)

    list_responses = {200: {"headers": HEADERS_DOC}, 304: {"description": "Not modified (If-None-Match)"},
                      **problems(400, 401, 403, 422, 429)}

    @app.get("/v1/jobs", response_model=PAGE_MODELS["jobs"], tags=["directory"], responses=list_responses,
             summary="Job postings", description=list_description("jobs"))
    def list_jobs(
        request: Request,
        region: Region = None, postal_code: PostalCode = None, lat: Lat = None, lon: Lon = None,
        radius: Radius = None, q: Text = None, updated_since: UpdatedSince = None,
        starting_after: Annotated[dt.date | None, Query(description="Start on or after this day")] = None,
        starting_before: Annotated[dt.date | None, Query(description=(
            "Start on or before this day; postings without a start date (at once) match"))] = None,
        working_time: Annotated[WorkingTime | None, Query(description=(
            "Postings that name this working time among theirs (WorkingTime): full_time "
            "(Vollzeit), part_time (Teilzeit), shift, flexible, mini"))] = None,
        employment_type: Annotated[EmploymentType | None, Query(description=(
            "One kind of employment (EmploymentType): employee, apprenticeship (Ausbildung), "
            "internship (Praktikum), mini_job, self_employed, other"))] = None,
        apprenticeship: Annotated[bool | None, Query(description="Only (true) or no (false) apprenticeships")] = None,
        german_level: Annotated[CEFRLevel | None, Query(description=(
            "The German the reader has: postings that ask for at most this level, and those that "
            "name no level: that say nothing of German, need none, or describe it in words without "
            "a level ('gute Deutschkenntnisse': german_required true, no german_level)"))] = None,
        german_required: Annotated[bool | None, Query(description=(
            "false: only postings whose employer says no German is needed; true: only postings "
            "that ask for German (a level, or described in words)"))] = None,
        cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, count: Count = False,
    ) -> Response:
        principal = reader(request)
        _in_order(starting_after=starting_after, starting_before=starting_before)
        f = _common(region, postal_code, lat, lon, radius, q, updated_since)
        f.start_from, f.start_until, f.start_until_includes_undated = starting_after, starting_before, True
        if working_time:
            f.tags_all.append(tag("working_time", working_time.value))
        if employment_type:
            f.tags_all.append(tag("employment_type", employment_type.value))
        if apprenticeship is True:
            f.tags_all.append(tag("employment_type", EmploymentType.APPRENTICESHIP.value))
        elif apprenticeship is False:
            f.tags_none.append(tag("employment_type", EmploymentType.APPRENTICESHIP.value))
        if german_level:
            f.tags_any_or_absent = german_level_at_most(german_level.value)
        if german_required is not None:
            f.tags_all.append(tag("german_required", german_required))
        return _list(request, "jobs", f, cursor, limit, principal, count)

    @app.get("/v1/courses", response_model=PAGE_MODELS["courses"], tags=["directory"], responses=list_responses,
             summary="Language courses and training", description=list_description("courses"))
    def list_courses(
        request: Request,
        region: Region = None, postal_code: PostalCode = None, lat: Lat = None, lon: Lon = None,
        radius: Radius = None, q: Text = None, updated_since: UpdatedSince = None,
        course_type: Annotated[CourseType | None, Query(description=(
            "One kind of course (CourseType). An Integrationskurs mit Alphabetisierung is a "
            "literacy_course: all integration courses are integration_course and "
            "literacy_course, asked one after the other"))] = None,
        cefr: Annotated[CEFRLevel | None, Query(description="Courses covering this level")] = None,
        starting_after: Annotated[dt.date | None, Query(description="Start on or after this day")] = None,
        starting_before: Annotated[dt.date | None, Query(description="Start on or before this day")] = None,
        childcare: Annotated[bool | None, Query(description="With childcare (true), or not known to offer it (false: also the courses that do not say)")] = None,
        online: Annotated[bool | None, Query(description="Online (true) or not online (false)")] = None,
        schedule: Annotated[CourseSchedule | None, Query(description=(
            "Courses whose schedule includes this: evening (Abendkurs), weekend (Wochenende), "
            "part_time, full_time, online, blended (online and in class)"))] = None,
        funded: Annotated[bool | None, Query(description=(
            "true: free or funded courses (BAMF, Bildungsgutschein); false: the others, also "
            "the courses that do not say"))] = None,
        cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, count: Count = False,
    ) -> Response:
        principal = reader(request)
        _in_order(starting_after=starting_after, starting_before=starting_before)
        f = _common(region, postal_code, lat, lon, radius, q, updated_since)
        f.start_from, f.start_until = starting_after, starting_before
        if course_type:
            f.tags_all.append(tag("course_type", course_type.value))
        if cefr:
            f.tags_all.append(tag("level", cefr.value))
        _flag_tag(f, "childcare", childcare)
        if online is True:
            f.tags_all.append(tag("schedule", "online"))
        elif online is False:
            f.tags_none.append(tag("schedule", "online"))
        if schedule:
            f.tags_all.append(tag("schedule", schedule.value))
        _flag_tag(f, "funded", funded)
        return _list(request, "courses", f, cursor, limit, principal, count)

    @app.get("/v1/housing", response_model=PAGE_MODELS["housing"], tags=["directory"], responses=list_responses,
             summary="Housing vacancies", description=list_description("housing"))
    def list_housing(
        request: Request,
        region: Region = None, postal_code: PostalCode = None, lat: Lat = None, lon: Lon = None,
        radius: Radius = None, q: Text = None, updated_since: UpdatedSince = None,
        rent_min: Annotated[float | None, FiniteQuery(ge=0, description="Euro per month: warm rent where given, else cold rent")] = None,
        rent_max: Annotated[float | None, FiniteQuery(ge=0, description="Euro per month: warm rent where given, else cold rent")] = None,
        cold_rent_max: Annotated[float | None, FiniteQuery(ge=0, description=(
            "Euro per month: cold rent (Kaltmiete) at most this; flats that give no cold rent "
            "are not found"))] = None,
        rooms_min: Annotated[float | None, FiniteQuery(ge=0, description=(
            "Rooms at least this (kitchen and bath not counted; 2.5 for two and a half)"))] = None,
        rooms_max: Annotated[float | None, FiniteQuery(ge=0, description="Rooms at most this")] = None,
        area_min: Annotated[float | None, FiniteQuery(ge=0, description="Living area in m²")] = None,
        persons: Annotated[int | None, Query(ge=1, le=50, description=(
            "A household of this many persons: flats whose max_persons is at least this, and "
            "flats that do not say (max_persons absent)"))] = None,
        wbs: Annotated[bool | None, Query(description=(
            "true: only flats that need a Wohnberechtigungsschein; false: the others (also the "
            "flats that do not say)"))] = None,
        barrier_free: Annotated[bool | None, Query(description="Barrier-free (true) or not known to be (false)")] = None,
        property_type: Annotated[PropertyType | None, Query(description=(
            "One kind of dwelling (PropertyType): apartment (Wohnung), house (Haus), room (Zimmer), other"))] = None,
        available_by: Annotated[dt.date | None, Query(description=(
            "Free on or before this day; flats without a date match when they are free at once "
            "(no text, or 'sofort'), not 'nach Vereinbarung'"))] = None,
        cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, count: Count = False,
    ) -> Response:
        principal = reader(request)
        _in_order(rent_min=rent_min, rent_max=rent_max, rooms_min=rooms_min, rooms_max=rooms_max)
        f = _common(region, postal_code, lat, lon, radius, q, updated_since)
        for column, op, value in (("rent", ">=", rent_min), ("rent", "<=", rent_max),
                                  ("cold_rent", "<=", cold_rent_max),
                                  ("rooms", ">=", rooms_min), ("rooms", "<=", rooms_max),
                                  ("area", ">=", area_min)):
            if value is not None:
                f.ranges.append((column, op, value))
        if persons is not None:
            f.at_least_or_unknown.append(("persons", persons))
        _flag_tag(f, "wbs", wbs)
        _flag_tag(f, "barrier_free", barrier_free)
        if property_type:
            f.tags_all.append(tag("property_type", property_type.value))
        f.start_until, f.start_until_includes_undated = available_by, True
        f.undated_unless_tag = AVAILABLE_LATER
        return _list(request, "housing", f, cursor, limit, principal, count)

    item_responses = {
        200: {"headers": {"ETag": HEADERS_DOC["ETag"]}},
        307: {"description": "Merged into another entry: Location is the survivor's URL. Not "
                             "permanent: should the merge be undone (a split), the id answers "
                             "again, so the redirect is not to be cached",
              "headers": {"Location": {"schema": {"type": "string"}}}},
        304: {"description": "Not modified (If-None-Match)"},
        **problems(401, 403, 404, 410, 422, 429),
    }

    def add_item_route(domain: str) -> None:
        def get_entry(
            request: Request,
            entity_id: Annotated[str, PathParam(min_length=1, max_length=64, description="Stable id")],
        ) -> Response:
            principal = reader(request)
            with _conn(request) as conn:
                found = query.find_entry(conn, domain, entity_id)
            if found.status == "found":
                etag = _etag(found.content_hash, principal.contacts)
                if not_modified(request, etag):
                    return Response(status_code=304, headers={"ETag": etag})
                return _json(_public(found.entry, principal),
                             headers={"ETag": etag, "Cache-Control": "no-cache"})
            if found.status == "merged":
                target = request.url_for(f"get_{found.survivor_domain}_entry", entity_id=found.survivor)
                return RedirectResponse(str(target), status_code=307,
                                        headers={"Cache-Control": "no-store"})
            if found.status == "withdrawn":
                raise ApiProblem(410, f"{entity_id} is no longer in the directory (withdrawn by "
                                      "its partners, or erased on request)")
            raise ApiProblem(404, f"no {domain} entry {entity_id}")

        app.add_api_route(f"/v1/{domain}/{{entity_id}}", get_entry, methods=["GET"],
                          name=f"get_{domain}_entry", response_model=ENTRY_MODELS[domain], tags=["directory"],
                          responses=item_responses, summary=f"One {domain} entry by its stable id")

    for domain in DOMAINS:
        add_item_route(domain)

    @app.get("/v1/changes", response_model=ChangePage, tags=["changes"],
             responses={200: {"headers": HEADERS_DOC}, 304: {"description": "Not modified"},
                        **problems(400, 401, 403, 410, 422, 429)},
             summary="The change feed")
    def list_changes(
        request: Request,
        after: Annotated[int, Query(ge=0, le=2**62, description=(
            "Changes after this seq (0: from the start); beyond the newest change: 400"))] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_CHANGES_LIMIT, description=(
            f"Changes per page (max {MAX_CHANGES_LIMIT})"))] = DEFAULT_CHANGES_LIMIT,
        domain: Annotated[query.DomainName | None, Query(description=(
            "Only this domain's changes; `next` and `last_seq` still move past the others'"))] = None,
        checkpoint: Annotated[str | None, Query(pattern=r"^[0-9]{1,10}-[0-9a-f]{12}$", description=(
            "The `checkpoint` of the page that gave `after`: a feed that is not that history "
            "any more (its database restored from an older backup, or another hub's) answers "
            "410"))] = None,
    ) -> Response:
        """Every change in order: `updated` carries the whole entry, `deleted` the id (and
        `merged_into` when it was merged). Applying the feed from `after=0` gives exactly the
        current directory; poll `next` for what comes later."""
        principal = reader(request)
        with _conn(request) as conn:
            if checkpoint is not None and not feed_checkpoint_known(conn, checkpoint):
                raise ApiProblem(410, f"checkpoint={checkpoint} is of another history of the change "
                                      "feed (its database was restored from an older backup, or is "
                                      "another hub's): seqs after it may name other changes. Load "
                                      "the directory again from after=0 (or an export) and go on "
                                      "with the checkpoints this feed gives")
            # read before the page: every change up to it is committed (one publisher at a
            # time), so the page below holds all of them that match
            newest, newest_publication = query.newest_change(conn)
            rows, more = query.list_changes(conn, after, limit, domain)
            mark = feed_checkpoint(conn, rows[-1].publication_id if more else newest_publication)
        if after > newest and not rows:  # a cursor from another database, or mistyped: it would skip changes
            raise ApiProblem(400, f"after={after} is beyond the newest change ({newest}); "
                                  "start from after=0 or from a seq this feed gave you")
        last = rows[-1].seq if rows else after
        if not more:
            # past the other domains' changes too: a reader of one domain whose cursor stayed
            # at its domain's last change would read all the others' again at every poll
            last = max(last, newest)
        items = []
        for row in rows:
            item: dict[str, Any] = {"seq": row.seq, "entity_id": row.entity_id, "domain": row.domain,
                                    "op": row.op}
            if row.op == "updated":
                item["entry"] = _public(row.entry, principal)
            elif (row.entry or {}).get("merged_into"):
                item["merged_into"] = row.entry["merged_into"]
            items.append(item)
        # the checkpoint rides in `next`: a reader that follows the links, as most do, is told
        # of a restore too, not only one that copies the field into its own request
        next_url = _page_url(request, after=last, **({"checkpoint": mark} if mark else {}))
        headers = {}
        if more:
            headers["Link"] = f'<{next_url}>; rel="next"'
        response = _json({"items": items, "next": next_url, "last_seq": last, "has_more": more,
                          "checkpoint": mark}, headers=headers)
        # from the page's bytes: an erasure or retention redacts items in place (same seq)
        etag = _etag("changes", hashlib.sha256(response.body).hexdigest())
        if not_modified(request, etag):
            return Response(status_code=304, headers={"ETag": etag})
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "no-cache"  # ask again: the next poll may differ
        return response

    @app.get("/v1/partners", response_model=PartnerList, tags=["directory"],
             responses={200: {"headers": {"ETag": HEADERS_DOC["ETag"]}},
                        304: {"description": "Not modified (If-None-Match)"},
                        **problems(401, 403, 429, 503)},
             summary="Partners, the sources of the entries")
    def list_partners(request: Request) -> Response:
        """Every partner in the hub's registry with its name: an entry's `sources` and
        `provenance` name partners by id; show the name from here (an employer's posting
        delivered by the Jobcenter names the employer in `organisation`, the Jobcenter here)."""
        reader(request)
        registry = request.app.state.registry.get()
        if registry is None:
            raise ApiProblem(503, "the partner registry cannot be read; the hub's operator "
                                  "checks HUB_REGISTRY")
        body = {"items": [
            {"id": p.id, "name": p.name, "kind": p.kind,
             "domains": sorted({feed.domain for feed in p.feeds}, key=DOMAINS.index)}
            for p in sorted(registry.partners, key=lambda p: p.id)]}
        etag = _etag(json.dumps(body, sort_keys=True))
        if not_modified(request, etag):
            return Response(status_code=304, headers={"ETag": etag})
        return _json(body, headers={"ETag": etag, "Cache-Control": "no-cache"})

    @app.get("/health", response_model=health.Health, response_class=HealthResponse,
             tags=["operations"], summary="Whether this server can answer (for probes)",
             responses={503: {"model": health.Health, "description": (
                 "The server cannot answer: its database is unreachable, or its schema is "
                 "another release's (see output)")}},
             openapi_extra={"security": []})
    def health_check(request: Request) -> Response:
        """200 while the server reaches its database and the database's schema is this
        release's, else 503 with the reason in `output` (IETF draft health check format,
        `application/health+json`). No key needed, never cached. `directory` gives each
        domain's last publication: an old one does not fail the check (the pipeline
        publishes, not this server), monitoring may alert on it."""
        result = health.check(request.app.state.engine)
        return HealthResponse(result.model_dump(mode="json"),
                              status_code=200 if result.status == "pass" else 503,
                              headers={"Cache-Control": "no-store"})

    from hub.api.feedback import add_feedback_routes

    add_feedback_routes(app)

    try:
        from hub.api.hsds import router as hsds_router
    except ImportError:
        hsds_router = None
    if hsds_router is not None:
        # keys and rate limits apply to the HSDS routes as to /v1
        app.include_router(hsds_router, responses=problems(401, 403, 429))
        from hub.api.hsds import warm_after_publication

        # the HSDS index follows each publication in the background, not in its first request
        version.on_publication(lambda _seq: warm_after_publication(app.state))

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes)
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "an API key (`hub keys create`)"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.get("responses", {})
                if "422" in responses:
                    responses["422"] = _problem_doc(PROBLEM_DOCS[422])
                # RefuseNul answers any route so, before the route's own parameters are read
                responses.setdefault("400", _problem_doc(NUL_REFUSED))
                operation.setdefault("security", [{}, {"bearer": []}, {"apiKey": []}])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi
    return app


def app_from_env() -> FastAPI:
    """The read API on the configured database (HUB_DATABASE_URL and the HUB_API_* settings):
    what each worker process of ``hub serve --workers N`` runs."""
    from hub.config import Settings
    from hub.resources import engine_for

    settings = Settings.from_env()
    return create_app(engine_for(settings.database_url), ApiSettings.from_env(hub_settings=settings))
