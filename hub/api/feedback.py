"""The partner's feedback page: the report of the latest delivery (rendered by
``hub/quality/report.py`` with its own template) and the history of syncs.

Only the partner's own key (scope ``feedback``, bound to the partner) or a steward's key opens
it. Browsers cannot easily send headers, so the page also takes ``?key=KEY`` once: the key is
moved into an HttpOnly cookie (path ``/partners``) and the browser is redirected to the page's
address without the key, so it does not stay in the address bar or the history. Without a key
the page shows a small sign-in form (POST, so the key stays out of addresses and logs) that
sets the same cookie. The server's access log shows ``key=`` values as ``key=***``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlencode

import sqlalchemy as sa
from fastapi import FastAPI, Path as PathParam, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from hub.api.app import KEY_COOKIE, ApiProblem, _authenticate, problem_response, problems
from hub.api.keys import lookup_key
from hub.api.query import DomainName

from hub.store.tables import syncs

TEMPLATES = Path(__file__).with_name("templates")
_ENV = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)
HISTORY_ROWS = 50

WORDS = {
    "de": {"history": "Ihre letzten Lieferungen", "date": "Datum", "area": "Bereich", "status": "Status",
           "items": "Angebote", "accepted": "angenommen", "rejected": "abgelehnt", "message": "Meldung",
           "no_history": "Noch keine Lieferung.", "areas": "Bereiche", "status_ok": "verarbeitet",
           "status_failed": "fehlgeschlagen", "status_held": "angehalten",
           "page_title": "Rückmeldungen für {name}", "login_title": "Rückmeldungen für Partner",
           "key_label": "Ihr Zugangsschlüssel", "login": "Anmelden",
           "need_key": "Bitte geben Sie Ihren Zugangsschlüssel ein.",
           "bad_key": "Dieser Schlüssel ist unbekannt oder wurde widerrufen.",
           "forbidden": "Dieser Schlüssel öffnet die Rückmeldungen dieses Partners nicht.",
           "no_delivery": "Es liegt noch keine Lieferung vor.",
           "downloads": "Diese Rückmeldung als Datei", "csv": "Tabelle (CSV, für Excel)",
           "json": "JSON (für Programme)"},
    "en": {"history": "Your latest deliveries", "date": "Date", "area": "Area", "status": "Status",
           "items": "Offers", "accepted": "accepted", "rejected": "rejected", "message": "Message",
           "no_history": "No delivery yet.", "areas": "Areas", "status_ok": "processed",
           "status_failed": "failed", "status_held": "held",
           "page_title": "Feedback for {name}", "login_title": "Partner feedback",
           "key_label": "Your access key", "login": "Sign in",
           "need_key": "Please enter your access key.",
           "bad_key": "This key is unknown or was revoked.",
           "forbidden": "This key does not open this partner's feedback.",
           "no_delivery": "No delivery yet.",
           "downloads": "This feedback as a file", "csv": "Spreadsheet (CSV, for Excel)",
           "json": "JSON (for programs)"},
}


class _Registry:
    """The registry, read again when its file changes; None where it cannot be read."""

    def __init__(self, path: Path | None):
        self.path, self.mtime, self.registry = path, None, None

    def get(self):
        if self.path is None:
            return None
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return None
        if mtime != self.mtime:
            from hub.registry import RegistryError, load_registry

            try:
                self.registry = load_registry(self.path)
            except RegistryError:
                self.registry = None
            self.mtime = mtime
        return self.registry


def _partner(request: Request, conn: sa.Connection, partner_id: str) -> tuple[Any, list[str]] | None:
    """The partner (registry entry, or a stand-in from its syncs) and its domains."""
    registry = request.app.state.registry.get()
    partner = None
    if registry is not None:
        partner = next((p for p in registry.partners if p.id == partner_id), None)
    synced = sorted(conn.execute(
        sa.select(syncs.c.domain).where(syncs.c.partner_id == partner_id).distinct()
    ).scalars())
    if partner is None:
        if not synced:
            return None
        partner = SimpleNamespace(id=partner_id, name=partner_id, feedback_language="de", feeds=[])
    domains = [f.domain for f in getattr(partner, "feeds", [])]
    domains += [d for d in synced if d not in domains]
    order = {"jobs": 0, "courses": 1, "housing": 2}
    return partner, sorted(domains, key=lambda d: (order.get(d, 9), d))


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    out = HTMLResponse(body, status_code=status, headers=headers)
    out.headers["Cache-Control"] = "no-store"
    out.headers["X-Frame-Options"] = "DENY"
    out.headers["Referrer-Policy"] = "no-referrer"
    return out


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept or "key" in request.query_params


def _refuse(request: Request, status: int, reason: str, lang: str, login: bool,
            html: bool = False) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if not (html or _wants_html(request)):
        return problem_response(request, status, WORDS["en"][reason], headers)
    t = WORDS[lang]
    page = _ENV.get_template("feedback_page.html").render(
        lang=lang, title=t["login_title"], message=t[reason], login=login, t=t, section="")
    response = _html(page, status, headers)
    if status == 401:
        response.delete_cookie(KEY_COOKIE, path="/partners")
    return response


def add_feedback_routes(app: FastAPI) -> None:
    app.state.registry = _Registry(app.state.settings.registry_path)

    @app.get(
        "/partners/{partner_id}/feedback",
        response_class=HTMLResponse,
        tags=["feedback"],
        summary="A partner's feedback page (HTML)",
        responses={
            200: {"content": {"text/html": {}}},
            303: {"description": "A key given as ?key= moved into a cookie; Location is the page"},
            401: {"description": "A key is needed",
                  "content": {"text/html": {}, "application/problem+json": {
                      "schema": {"$ref": "#/components/schemas/Problem"}}}},
            403: {"description": "The key does not open this partner's page",
                  "content": {"text/html": {}, "application/problem+json": {
                      "schema": {"$ref": "#/components/schemas/Problem"}}}},
            **problems(404, 422, 429),
        },
    )
    def feedback_page(
        request: Request,
        partner_id: Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")],
        domain: Annotated[DomainName | None, Query()] = None,
        lang: Annotated[Literal["de", "en"] | None, Query(description="de or en (default: the partner's)")] = None,
        key: Annotated[str | None, Query(max_length=200, description=(
            "The key, for browsers: moved into a cookie, then the page is shown without it"))] = None,
    ) -> Response:
        """The report of the partner's latest delivery and the history of its syncs. The
        key goes in `Authorization: Bearer KEY`, `X-API-Key`, or once as `?key=` (then it is
        kept in an HttpOnly cookie)."""
        page_lang = lang or "de"
        try:
            principal = _authenticate(request, allow_query=True)
        except ApiProblem as exc:
            if exc.status == 401:
                return _refuse(request, 401, "bad_key", page_lang, login=True)
            raise
        if principal is None:
            return _refuse(request, 401, "need_key", page_lang, login=True)
        if not principal.may_see_feedback(partner_id):
            return _refuse(request, 403, "forbidden", page_lang, login=False)
        if key:
            # move the key out of the address: into a cookie, and show the page without it
            return _signed_in(request, key)
        return _render(request, partner_id, domain, lang)

    @app.get(
        "/partners/{partner_id}/feedback/report.{fmt}",
        tags=["feedback"],
        summary="The latest feedback report as CSV or JSON (a download)",
        responses={
            200: {"content": {"text/csv": {}, "application/json": {}}},
            **problems(401, 403, 404, 422, 429),
        },
    )
    def feedback_download(
        request: Request,
        partner_id: Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")],
        fmt: Annotated[Literal["csv", "json"], PathParam(description="csv or json")],
        domain: Annotated[DomainName | None, Query()] = None,
        lang: Annotated[Literal["de", "en"] | None, Query(description="de or en (default: the partner's)")] = None,
    ) -> Response:
        """The report of the partner's latest delivery (of ``domain``; default: the latest
        delivery's area) as the CSV (one row per problem; `;`, UTF-8 with BOM) or the JSON
        the feedback mail carries (schema: schemas/feedback_report.schema.json). The key as
        for the page: a header, or the page's cookie."""
        principal = _authenticate(request, allow_query=True)
        if principal is None:
            raise ApiProblem(401, "a key is needed (Authorization: Bearer KEY or X-API-Key)",
                             {"WWW-Authenticate": "Bearer"})
        if not principal.may_see_feedback(partner_id):
            raise ApiProblem(403, "this key does not open this partner's feedback")
        return _download(request, partner_id, fmt, domain, lang)

    @app.post("/partners/{partner_id}/feedback", include_in_schema=False)
    async def feedback_sign_in(request: Request, partner_id: str) -> Response:
        """The sign-in form: the key comes in the form body (never in an address or a log),
        goes into the cookie, and the browser is sent to the page."""
        lang = request.query_params.get("lang")
        page_lang = lang if lang in WORDS else "de"
        body = await request.body()
        key = (parse_qs(body[:4096].decode("utf-8", "replace")).get("key") or [""])[0].strip()
        if not key:
            return _refuse(request, 401, "need_key", page_lang, login=True, html=True)
        found = await run_in_threadpool(lookup_key, request.app.state.engine, key)
        if found is None:
            return _refuse(request, 401, "bad_key", page_lang, login=True, html=True)
        if not found.may_see_feedback(partner_id):
            return _refuse(request, 403, "forbidden", page_lang, login=False, html=True)
        return _signed_in(request, key)


def _partner_history(request: Request, partner_id: str, rows: int) -> tuple[Any, list[str], list]:
    """The partner (404 if unknown), its domains and its last ``rows`` syncs, newest first."""
    with request.app.state.engine.connect() as conn:
        found = _partner(request, conn, partner_id)
        if found is None:
            raise ApiProblem(404, f"no partner {partner_id!r}")
        partner, domains = found
        history = conn.execute(
            sa.select(syncs).where(syncs.c.partner_id == partner_id)
            .order_by(syncs.c.id.desc()).limit(rows)
        ).all()
    return partner, domains, history


def _latest_domain(history_rows: list, domains: list[str]) -> str | None:
    """The area of the latest delivery, else the partner's first."""
    return history_rows[0].domain if history_rows else (domains[0] if domains else None)


def _download(request: Request, partner_id: str, fmt: str, domain: str | None,
              lang: str | None) -> Response:
    from hub.quality.feedback import latest_report
    from hub.quality.report import render_csv, render_json

    partner, domains, history_rows = _partner_history(request, partner_id, 1)
    domain = domain or _latest_domain(history_rows, domains)
    report_lang = lang or getattr(partner, "feedback_language", "de") or "de"
    report = (latest_report(request.app.state.engine, partner, domain, report_lang)
              if domain else None)
    if report is None:
        raise ApiProblem(404, f"{partner_id} has not delivered {domain or 'anything'} yet")
    name = f"feedback-{partner_id}-{domain}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(render_csv(report), headers=headers, media_type="text/csv; charset=utf-8")
    return Response(render_json(report).encode(), headers=headers, media_type="application/json")


def _signed_in(request: Request, key: str) -> Response:
    """303 to the page's address (without a key in it), the key in an HttpOnly cookie."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "key"]
    target = request.url.replace(query=urlencode(params))
    response = RedirectResponse(str(target), status_code=303)
    response.set_cookie(KEY_COOKIE, key, httponly=True, samesite="strict", path="/partners",
                        secure=request.url.scheme == "https")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _render(request: Request, partner_id: str, domain: str | None, lang: str | None) -> Response:
    from hub.quality.feedback import latest_report
    from hub.quality.report import DOMAIN_NOUNS, format_datetime, render_html, status_line

    engine = request.app.state.engine
    partner, domains, history_rows = _partner_history(request, partner_id, HISTORY_ROWS)
    page_lang = lang or getattr(partner, "feedback_language", "de") or "de"
    domain = domain or _latest_domain(history_rows, domains)
    if domain is not None and domain not in domains:
        domains.append(domain)
    t = WORDS[page_lang]
    history = [
        {"when": format_datetime(_aware(row.started_at), page_lang), "domain": row.domain,
         "status": row.status, "items": row._mapping["items"], "accepted": row.accepted,
         "rejected": row.rejected, "message": status_line(row.status, row.message, page_lang)}
        for row in history_rows
    ]
    section = Markup(_ENV.get_template("feedback_history.html").render(
        t=t, lang=page_lang, domains=domains, domain=domain, nouns=DOMAIN_NOUNS[page_lang],
        history=history, downloads=bool(history_rows)))
    report = latest_report(engine, partner, domain, page_lang) if domain else None
    if report is None:
        page = _ENV.get_template("feedback_page.html").render(
            lang=page_lang, title=t["page_title"].format(name=partner.name),
            message=t["no_delivery"], login=False, t=t, section=section)
        return _html(page)
    html = render_html(report)
    # the report is a whole page: the history goes inside its page box, after the report
    at = html.rfind("</div>\n</body>")
    section = str(section)  # plain text from here: Markup would escape the report around it
    html = html[:at] + section + html[at:] if at >= 0 else html.replace("</body>", section + "</body>")
    return _html(html)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
