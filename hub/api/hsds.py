"""The directory as an HSDS 3.0 API (Open Referral), under ``/hsds``.

Endpoints and the page envelope follow the HSDS 3.0 ``openapi.json``: ``/`` (API info),
``/services``, ``/services/{id}``, ``/organizations``, ``/organizations/{id}``,
``/locations``, ``/locations/{id}``, ``/service_at_locations``, ``/taxonomies``,
``/taxonomy_terms`` (and their ``/{id}``). Lists are pages of ``per_page`` items (default 50,
at most 500) with ``total_items``, ``total_pages``, ``page_number``, ``size``,
``first_page``, ``last_page``, ``empty`` and ``contents``. Errors are problem details
(``application/problem+json``: type, title, status, detail).

The objects come from :mod:`hub.hsds`; how jobs and flats map is documented in the German
profile (``schemas/hsds-profile-de.md``, served at ``/hsds/profile``). HSDS ids are UUIDs
derived from the hub's ids and cannot be turned back, so the router keeps a small index
(HSDS id -> entity id, organizations) per directory state, rebuilt when the change feed shows
a new publication.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException

from hub import hsds
from hub.api import query
from hub.store.search import TAG_FIELDS, fold, words
from hub.store.search import tag as search_tag
from hub.store.tables import changes, directory

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
MAX_PER_PAGE = 500
PROFILE_FILE = Path(__file__).resolve().parents[2] / hsds.PROFILE_DOC


def _access(request: Request) -> None:
    """Inside the hub's read API: its keys, rate limits and contacts scope apply here too.
    Contact persons are served only to a key with the ``contacts`` scope; a bare app that just
    includes this router (no settings, no limiter) serves no contacts at all."""
    request.state.hsds_contacts = False
    state = request.app.state
    if not (hasattr(state, "settings") and hasattr(state, "limiter")):
        return
    try:
        from hub.api.app import reader
    except ImportError:
        return
    principal = reader(request)
    request.state.hsds_contacts = bool(getattr(principal, "contacts", False))


# parameters of the HSDS API specification that this profile does not implement: a client that
# sends one is told, instead of getting a page as if it had been applied
_NOT_IMPLEMENTED = ("minimal", "full", "full_service", "postcode", "proximity")
_SWITCHES = ("minimal", "full", "full_service")  # false asks for what the endpoint answers anyway
# (the read API refuses any other parameter an endpoint does not declare: hub.api.app.known_query)
STANDARD_NOT_IMPLEMENTED = frozenset((*_NOT_IMPLEMENTED, "format"))


def _refuse_unimplemented(request: Request) -> None:
    route = request.scope.get("route")
    declared = {p.alias for p in route.dependant.query_params} if hasattr(route, "dependant") else set()
    params = request.query_params
    asked = [name for name in _NOT_IMPLEMENTED if name in params and name not in declared
             and not (name in _SWITCHES and params[name].strip().lower() in ("false", "0"))]
    if params.get("format", "json") != "json":
        asked.append(f"format={params['format']}")
    if asked:
        where = " (the hub's /v1 API filters by region, postal code and radius)" \
            if {"postcode", "proximity"} & set(asked) else ""
        raise HTTPException(400, detail=(
            f"not implemented by this HSDS profile at {request.url.path}: {', '.join(asked)} "
            f"(see /hsds/profile){where}"))


def _conditional(request: Request, response: Response) -> None:
    """Within the read API: every answer carries an ETag (the directory's version, the request
    and whether the reader sees contacts, as the /v1 lists), and a request whose If-None-Match
    names it is answered 304 without a body: a portal that polls the HSDS API fetches again
    only after a publication."""
    state = request.app.state
    if not hasattr(state, "version"):
        return  # a bare app that just includes this router: no version to name
    from hub.api.app import not_modified, page_etag

    etag = page_etag(state.version.current(), request.scope, request.query_params,
                     _contacts(request))
    if not_modified(request, etag):
        raise HTTPException(304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"


router = APIRouter(prefix="/hsds", tags=["HSDS 3.0"],
                   dependencies=[Depends(_access), Depends(_refuse_unimplemented),
                                 Depends(_conditional)])


_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                   "detail": {"type": "string"}, "instance": {"type": "string"}},
}


def _problems(*codes: int) -> dict:
    texts = {400: "A filter this API cannot apply (e.g. modified_after that is not a date)",
             404: "No such object", 422: "A parameter is not valid"}
    return {code: {"description": texts[code], "content": {PROBLEM: {"schema": _PROBLEM_SCHEMA}}}
            for code in codes}


def problem(request: Request, status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail,
         "instance": request.url.path},
        status_code=status,
        media_type=PROBLEM,
    )


def _not_found(request: Request, kind: str, ident: str) -> JSONResponse:
    return problem(request, 404, "Not Found", f"no {kind} with id {ident!r} in the directory")


def _page(items: list, total: int, page: int, per_page: int) -> dict:
    total_pages = math.ceil(total / per_page) if total else 0
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(items),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not items,
        "contents": items,
    }


# ----------------------------------------------------------------------------- the index


@dataclass
class _Index:
    version: tuple
    services: dict[str, str] = field(default_factory=dict)  # service id -> entity id
    locations: dict[str, str] = field(default_factory=dict)  # location id -> entity id naming it
    # location id -> the domains of its services, as bits of _DOMAIN_BIT (a small int: no set per place)
    location_domains: dict[str, int] = field(default_factory=dict)
    sals: dict[str, str] = field(default_factory=dict)  # service_at_location id -> entity id
    orgs: hsds.OrganizationBuilder | None = None
    org_keys: dict[str, str] = field(default_factory=dict)  # organization id -> key
    org_names: dict[str, set[str]] = field(default_factory=dict)  # key -> organisation values
    org_entities: dict[str, list[str]] = field(default_factory=dict)  # key -> entity ids (no name)
    org_order: list[str] = field(default_factory=list)  # organization ids by name


_LOCK = threading.Lock()
_DOMAIN_BIT = {"jobs": 1, "courses": 2, "housing": 4}


def _version(conn: sa.Connection) -> tuple:
    """The directory's state: every publication that changes it appends to the change feed in
    the same transaction, so the newest change (a primary-key lookup) names the state."""
    return (int(conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar() or 0),)


def _index(request: Request, conn: sa.Connection) -> _Index:
    return _current_index(request.app.state, conn)


def _current_index(state, conn: sa.Connection) -> _Index:
    """The app's index of the directory as it is now, built when a publication changed it
    (one build at a time: a request that finds one under way waits for it)."""
    version = _version(conn)
    current = getattr(state, "hsds_index", None)
    if current is not None and current.version == version:
        return current
    with _LOCK:
        current = getattr(state, "hsds_index", None)
        if current is not None and current.version == version:
            return current
        index = _build_index(conn, version, _partner_names_of(state))
        state.hsds_index = index
        return index


_WARMING = threading.Lock()  # one background build at a time


def warm_after_publication(state) -> None:
    """Build the index again in a thread now that a publication was announced, where this
    app answered HSDS before (it has an index): otherwise the first /hsds request after each
    publication builds it, tens of seconds for a national directory, while the request and
    those behind it wait. A build under way, or a failed one, leaves the work to the next
    request, as before."""
    if getattr(state, "hsds_index", None) is None or not _WARMING.acquire(blocking=False):
        return

    def build() -> None:
        try:
            with state.engine.connect() as conn:
                _current_index(state, conn)
        except Exception as exc:  # noqa: BLE001 - the next request builds it and says why
            log.warning("read API: the HSDS index was not built after a publication (%s); the "
                        "next /hsds request builds it", str(exc).splitlines()[0] if str(exc) else exc)
        finally:
            _WARMING.release()

    threading.Thread(target=build, name="hub-hsds-index", daemon=True).start()


def _build_index(conn: sa.Connection, version: tuple, partner_names: dict[str, str]) -> _Index:
    index = _Index(version=version, orgs=hsds.OrganizationBuilder(partner_names))
    # in the export's order: the first entry at a shared place names its location there too
    rows = conn.execute(
        sa.select(directory.c.entity_id, directory.c.domain, directory.c.organisation, directory.c.postal_code,
                  directory.c.entry[("address", "street")].as_string().label("street"),
                  directory.c.entry[("address", "house_number")].as_string().label("house_number"))
        .order_by(directory.c.domain, directory.c.entity_id)
    ).all()
    # entries without an organisation name belong to their partner: those need the entry
    need = [r.entity_id for r in rows
            if hsds.organization_key({"organisation": r.organisation, "sources": [{"partner_id": ""}]})[0]
            .startswith("partner:")]
    unnamed = {}
    for start in range(0, len(need), 500):
        chunk = need[start:start + 500]
        unnamed.update(
            (r.entity_id, r.entry)
            for r in conn.execute(sa.select(directory.c.entity_id, directory.c.entry).where(directory.c.entity_id.in_(chunk)))
        )
    for row in rows:
        eid = row.entity_id
        index.services[hsds.service_id(eid)] = eid
        index.sals[hsds.hsds_id("service_at_location", eid)] = eid
        if eid in unnamed:
            entry = unnamed[eid]
        else:
            entry = {"id": eid, "domain": row.domain, "organisation": row.organisation,
                     "address": {"street": row.street, "house_number": row.house_number,
                                 "postal_code": row.postal_code}}
        lid = hsds.location_id(entry)
        index.locations.setdefault(lid, eid)
        index.location_domains[lid] = index.location_domains.get(lid, 0) | _DOMAIN_BIT[row.domain]
        index.orgs.add(entry)
        key, _ = hsds.organization_key(entry)
        if key.startswith("name:") and row.organisation:
            index.org_names.setdefault(key, set()).add(row.organisation)
        else:
            index.org_entities.setdefault(key, []).append(eid)
    index.org_keys = index.orgs.ids()
    named = {oid: index.orgs.organization(key)["name"] for oid, key in index.org_keys.items()}
    index.org_order = sorted(named, key=lambda oid: (named[oid].casefold(), oid))
    return index


def _partner_names(request: Request) -> dict[str, str]:
    return _partner_names_of(request.app.state)


def _partner_names_of(state) -> dict[str, str]:
    """Partner names from the registry of the app's settings, when there is one to read."""
    names = getattr(state, "hsds_partner_names", None)
    if names is not None:
        return names
    names = {}
    settings = getattr(state, "settings", None)
    path = getattr(settings, "registry_path", None)
    if path and Path(path).is_file():
        try:
            from hub.registry import load_registry

            names = {p.id: p.name for p in load_registry(path).partners}
        except Exception:  # noqa: BLE001 - a broken registry only costs the partners' names
            names = {}
    state.hsds_partner_names = names
    return names


def _contacts(request: Request) -> bool:
    return bool(getattr(request.state, "hsds_contacts", False))


def _service(request: Request, row, full: bool) -> dict:
    """The service of a directory row (``entry``, ``updated_at``: its ``last_modified``, the
    time ``modified_after`` filters on), with contacts where the reader may see them."""
    names = _partner_names(request) if full else None
    return hsds.service(row.entry, names, full=full, contacts=_contacts(request), modified=row.updated_at)


def _places(conn: sa.Connection, index: _Index, entries: list[dict]) -> list[dict]:
    """The location each entry's service is at. A place several entries share is one
    location, named by its first entry (by domain and entity id) as in /locations and the
    export, not by each entry's own spelling of the address."""
    firsts = [index.locations.get(hsds.location_id(e)) for e in entries]
    wanted = sorted({f for f, e in zip(firsts, entries) if f and f != e["id"]})
    named = {r.entry["id"]: r.entry for r in _entries(conn, wanted)}
    return [hsds.location(named.get(f) or e) for f, e in zip(firsts, entries)]


def _full_services(request: Request, conn: sa.Connection, index: _Index, rows) -> list[dict]:
    """The fully nested services of directory rows, each at its place (:func:`_places`)."""
    services = [_service(request, r, full=True) for r in rows]
    for service, place in zip(services, _places(conn, index, [r.entry for r in rows])):
        service["service_at_locations"][0]["location"] = place
    return services


def _engine(request: Request) -> sa.Engine:
    return request.app.state.engine


def _entries(conn: sa.Connection, entity_ids: list[str]) -> list:
    """The directory rows (``entry``, ``updated_at``) of ``entity_ids``, in that order."""
    if not entity_ids:
        return []
    rows = conn.execute(
        sa.select(directory.c.entity_id, directory.c.entry, directory.c.updated_at)
        .where(directory.c.entity_id.in_(entity_ids))
    ).all()
    by_id = {r.entity_id: r for r in rows}
    return [by_id[e] for e in entity_ids if e in by_id]


def _org_condition(index: _Index, organization_id: str):
    key = index.org_keys.get(organization_id)
    if key is None:
        return sa.false()
    parts = []
    if index.org_names.get(key):
        parts.append(directory.c.organisation.in_(sorted(index.org_names[key])))
    if index.org_entities.get(key):
        parts.append(directory.c.entity_id.in_(index.org_entities[key]))
    return sa.or_(*parts) if parts else sa.false()


# the taxonomy terms a service list filters on, and the search tags they are (hub/store/search.py):
# term group -> (domain, entry field); the CEFR levels are a course's levels and a job's German
_TERM_FIELDS = {
    "course_type": ("courses", "course_type"), "course_schedule": ("courses", "schedule"),
    "employment_type": ("jobs", "employment_type"), "working_time": ("jobs", "working_time"),
    "contract_duration": ("jobs", "contract_duration"), "property_type": ("housing", "property_type"),
}
_CEFR_FIELDS = (("courses", "cefr_levels"), ("jobs", "german_level"))
_TERM_BY_ID = {t["id"]: key for key, t in hsds.TERMS.items()}
_TAXONOMY_BY_ID = {hsds.hsds_id("taxonomy", key): key for key in hsds.TAXONOMIES}


def _tagged(domain: str, field: str, value: str | None = None):
    """Entries of ``domain`` whose ``field`` has ``value`` (any value: None), by their search tags."""
    name = TAG_FIELDS[domain][field]
    has = query.has_tag(search_tag(name, value)) if value is not None else query.has_tag_prefix(f"{name}:")
    return sa.and_(directory.c.domain == domain, has)


def _term_condition(term_id: str):
    """The entries whose service carries the term; None for a term the list cannot filter on
    (the valued terms and the organizations' roles)."""
    key = _TERM_BY_ID.get(term_id)
    if key is None:
        return sa.false()  # an unknown term: no service has it
    taxonomy, code = key.split(":", 1)
    if taxonomy == hsds.CEFR_TAXONOMY:
        return sa.or_(*(_tagged(domain, field, code) for domain, field in _CEFR_FIELDS))
    group, _, value = code.partition(".")
    if group == "domain":
        return directory.c.domain == value
    if group in _TERM_FIELDS:
        return _tagged(*_TERM_FIELDS[group], value)
    return None


def _taxonomy_condition(taxonomy_id: str):
    """The entries whose service carries a term of the taxonomy: every service has welcome-hub
    terms (its domain), the CEFR levels only courses with levels and jobs asking for one."""
    taxonomy = _TAXONOMY_BY_ID.get(taxonomy_id)
    if taxonomy == hsds.HUB_TAXONOMY:
        return sa.true()
    if taxonomy == hsds.CEFR_TAXONOMY:
        return sa.or_(*(_tagged(domain, field) for domain, field in _CEFR_FIELDS))
    return sa.false()


def _parse_modified_after(value: str) -> dt.datetime:
    text = value.strip().replace("Z", "+00:00")
    try:
        if len(text) == 10:
            parsed = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        else:
            parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"modified_after must be an ISO 8601 date or date-time, not {value!r}") from None
    # in UTC, as the directory keeps its times: SQLite compares the wall time and drops the offset
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def _entry_page(request, *, page, per_page, search=None, organization_id=None, modified_after=None,
                taxonomy_term_id=None, taxonomy_id=None, domain=None):
    """(directory rows of the page: ``entry``, ``updated_at``; total) or a problem response."""
    where = []
    if domain:
        where.append(directory.c.domain == domain)
    if search is not None:
        try:
            where.extend(query.text_conditions(search, "search"))
        except query.QueryError as exc:
            return problem(request, 400, "Bad Request", str(exc))
    if modified_after:
        try:
            where.append(directory.c.updated_at >= _parse_modified_after(modified_after))
        except ValueError as exc:
            return problem(request, 400, "Bad Request", str(exc))
    if taxonomy_term_id:
        condition = _term_condition(taxonomy_term_id)
        if condition is None:
            return problem(request, 400, "Bad Request", "taxonomy_term_id filters on the terms of the cefr "
                           "taxonomy and the welcome-hub terms domain.*, course_type.*, course_schedule.*, "
                           "employment_type.*, working_time.*, contract_duration.* and property_type.*, not "
                           "on valued terms or roles (see /hsds/taxonomy_terms)")
        where.append(condition)
    if taxonomy_id:
        where.append(_taxonomy_condition(taxonomy_id))
    with _engine(request).connect() as conn:
        if organization_id:
            where.append(_org_condition(_index(request, conn), organization_id))
        total = conn.execute(sa.select(sa.func.count()).select_from(directory).where(*where)).scalar_one()
        rows = conn.execute(
            sa.select(directory.c.entry, directory.c.updated_at).where(*where).order_by(directory.c.entity_id)
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
    return rows, total


MAX_PAGE = 1_000_000  # keeps OFFSET inside a 64-bit integer on both databases
PageQ = Query(1, ge=1, le=MAX_PAGE, description="Page number, from 1")
PerPageQ = Query(50, ge=1, le=MAX_PER_PAGE, description=f"Items per page (at most {MAX_PER_PAGE})")
DomainQ = Query(None, description="Hub extension: only this domain")
TermQ = Query(None, description="Services with this taxonomy term: a CEFR level (a course's levels, a job's "
              "German), a domain, course type, course schedule, employment type, working time, contract "
              "duration or property type of the welcome-hub taxonomy")
TaxonomyQ = Query(None, description="Services with any term of this taxonomy")
ModifiedQ = Query(None, description="Changed in the directory on or after (last_modified; ISO 8601 date or "
                  "date-time; a date is from 00:00 UTC, a date-time without offset is UTC)")


# ----------------------------------------------------------------------------- endpoints


@router.get("/", summary="HSDS API information")
def api_info(request: Request) -> dict:
    openapi = request.app.openapi_url or "/openapi.json"
    return {
        "version": hsds.HSDS_VERSION,
        "profile": str(request.url_for("hsds_profile")),
        "openapi_url": str(request.base_url).rstrip("/") + openapi,
    }


@router.get("/profile", name="hsds_profile", summary="The hub's German HSDS profile (Markdown)",
            response_class=PlainTextResponse,
            responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}}, **_problems(404)})
def profile(request: Request):
    if not PROFILE_FILE.is_file():
        return problem(request, 404, "Not Found", "the profile document is not installed with this copy of the hub")
    return PlainTextResponse(PROFILE_FILE.read_text(encoding="utf-8"), media_type="text/markdown; charset=utf-8")


@router.get("/services", responses=_problems(400, 422), summary="Services (one-to-one fields), paginated")
def list_services(
    request: Request,
    page: int = PageQ,
    per_page: int = PerPageQ,
    search: str | None = Query(None, description="Words, each of which must occur in the service's name, organization or description (case and umlaut spellings do not matter)"),
    organization_id: str | None = None,
    taxonomy_term_id: str | None = TermQ,
    taxonomy_id: str | None = TaxonomyQ,
    modified_after: str | None = ModifiedQ,
    domain: query.DomainName | None = DomainQ,
):
    result = _entry_page(request, page=page, per_page=per_page, search=search,
                         organization_id=organization_id, modified_after=modified_after,
                         taxonomy_term_id=taxonomy_term_id, taxonomy_id=taxonomy_id, domain=domain)
    if isinstance(result, JSONResponse):
        return result
    rows, total = result
    return _page([_service(request, r, full=False) for r in rows], total, page, per_page)


@router.get("/services/{id}", responses=_problems(404), summary="A fully nested service")
def get_service(request: Request, id: str):
    with _engine(request).connect() as conn:
        index = _index(request, conn)
        eid = index.services.get(id)
        entries = _entries(conn, [eid]) if eid else []
        if not entries:
            return _not_found(request, "service", id)
        return _full_services(request, conn, index, entries)[0]


@router.get("/organizations", responses=_problems(422), summary="Organizations, paginated")
def list_organizations(
    request: Request,
    page: int = PageQ,
    per_page: int = PerPageQ,
    search: str | None = Query(None, description="Words, each of which must occur in the organization's name (case and umlaut spellings do not matter: 'baeckerei' finds 'Bäckerei')"),
):
    with _engine(request).connect() as conn:
        index = _index(request, conn)
    ids = index.org_order
    orgs = [index.orgs.organization(index.org_keys[oid]) for oid in ids] if search else None
    if search:
        wanted = words(search)  # as the services' search compares
        orgs = [o for o in orgs if all(word in fold(o["name"]) for word in wanted)]
        total = len(orgs)
        chosen = orgs[(page - 1) * per_page: page * per_page]
    else:
        total = len(ids)
        chosen = [index.orgs.organization(index.org_keys[oid]) for oid in ids[(page - 1) * per_page: page * per_page]]
    return _page(chosen, total, page, per_page)


@router.get("/organizations/{id}", responses=_problems(404), summary="An organization with its services")
def get_organization(request: Request, id: str, full_service: bool = Query(
        False, description="The services fully nested (as /services/{id}), not only their one-to-one fields")):
    with _engine(request).connect() as conn:
        index = _index(request, conn)
        key = index.org_keys.get(id)
        if key is None:
            return _not_found(request, "organization", id)
        rows = conn.execute(
            sa.select(directory.c.entry, directory.c.updated_at).where(_org_condition(index, id))
            .order_by(directory.c.entity_id)
        ).all()
        services = _full_services(request, conn, index, rows) if full_service else \
            [_service(request, r, full=False) for r in rows]
    org = index.orgs.organization(key)
    org["services"] = services
    return org


@router.get("/locations", responses=_problems(422), summary="Locations, paginated")
def list_locations(
    request: Request,
    page: int = PageQ,
    per_page: int = PerPageQ,
    domain: query.DomainName | None = DomainQ,
):
    with _engine(request).connect() as conn:
        index = _index(request, conn)
        ids = [lid for lid in index.locations
               if domain is None or index.location_domains[lid] & _DOMAIN_BIT[domain]]
        chosen = ids[(page - 1) * per_page: page * per_page]
        rows = _entries(conn, [index.locations[lid] for lid in chosen])
    return _page([hsds.location(r.entry) for r in rows], len(ids), page, per_page)


@router.get("/locations/{id}", responses=_problems(404), summary="A location with its address")
def get_location(request: Request, id: str):
    with _engine(request).connect() as conn:
        eid = _index(request, conn).locations.get(id)
        entries = _entries(conn, [eid]) if eid else []
    if not entries:
        return _not_found(request, "location", id)
    return hsds.location(entries[0].entry)


@router.get("/service_at_locations", responses=_problems(400, 422), summary="Services at locations, paginated")
def list_service_at_locations(
    request: Request,
    page: int = PageQ,
    per_page: int = PerPageQ,
    search: str | None = Query(None, description="Words, each of which must occur in the service's name, organization or description (case and umlaut spellings do not matter)"),
    organization_id: str | None = None,
    taxonomy_term_id: str | None = TermQ,
    taxonomy_id: str | None = TaxonomyQ,
    modified_after: str | None = ModifiedQ,
    domain: query.DomainName | None = DomainQ,
):
    result = _entry_page(request, page=page, per_page=per_page, search=search,
                         organization_id=organization_id, modified_after=modified_after,
                         taxonomy_term_id=taxonomy_term_id, taxonomy_id=taxonomy_id, domain=domain)
    if isinstance(result, JSONResponse):
        return result
    rows, total = result
    with _engine(request).connect() as conn:
        places = _places(conn, _index(request, conn), [r.entry for r in rows])
    contents = []
    for r, place in zip(rows, places):
        row = hsds.service_at_location(r.entry, nested_location=False)
        row["location"] = place
        row["service"] = _service(request, r, full=False)
        contents.append(row)
    return _page(contents, total, page, per_page)


@router.get("/service_at_locations/{id}", responses=_problems(404), summary="A service at a location, nested")
def get_service_at_location(request: Request, id: str):
    with _engine(request).connect() as conn:
        index = _index(request, conn)
        eid = index.sals.get(id)
        entries = _entries(conn, [eid]) if eid else []
        if not entries:
            return _not_found(request, "service_at_location", id)
        service = _full_services(request, conn, index, entries)[0]
    row = hsds.service_at_location(entries[0].entry, nested_location=False)
    row["location"] = service["service_at_locations"][0]["location"]
    row["service"] = service
    return row


def _matching(items: list[dict], search: str | None, fields: tuple[str, ...]) -> list[dict]:
    """The items in which each word of ``search`` occurs in one of ``fields`` (folded, as the
    services' search compares)."""
    if search is None:
        return items
    wanted = words(search)
    return [i for i in items if all(w in fold(" ".join(str(i.get(f, "")) for f in fields)) for w in wanted)]


TermSearchQ = Query(None, description="Words, each of which must occur in the code, name or description")


@router.get("/taxonomies", responses=_problems(422), summary="Taxonomies, paginated")
def list_taxonomies(page: int = PageQ, per_page: int = PerPageQ, search: str | None = TermSearchQ):
    items = _matching(hsds.taxonomies(), search, ("name", "description"))
    return _page(items[(page - 1) * per_page: page * per_page], len(items), page, per_page)


@router.get("/taxonomies/{id}", responses=_problems(404), summary="A taxonomy")
def get_taxonomy(request: Request, id: str):
    found = next((t for t in hsds.taxonomies() if t["id"] == id), None)
    return found if found else _not_found(request, "taxonomy", id)


@router.get("/taxonomy_terms", responses=_problems(422), summary="Taxonomy terms, paginated")
def list_taxonomy_terms(
    page: int = PageQ,
    per_page: int = PerPageQ,
    taxonomy_id: str | None = None,
    search: str | None = TermSearchQ,
    top_only: bool = Query(False, description="Only terms without a parent (the hub's terms have none)"),
    parent_id: str | None = Query(None, description="Only the children of this term (the hub's terms have none)"),
):
    items = [t for t in hsds.taxonomy_terms() if not taxonomy_id or t["taxonomy_id"] == taxonomy_id]
    items = _matching(items, search, ("code", "name", "description"))
    if parent_id is not None:
        items = [t for t in items if t.get("parent_id") == parent_id]
    return _page(items[(page - 1) * per_page: page * per_page], len(items), page, per_page)


@router.get("/taxonomy_terms/{id}", responses=_problems(404), summary="A taxonomy term")
def get_taxonomy_term(request: Request, id: str):
    found = next((t for t in hsds.taxonomy_terms() if t["id"] == id), None)
    return found if found else _not_found(request, "taxonomy_term", id)
