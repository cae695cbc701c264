"""Pagination of partner APIs that answer in pages: which page comes next, and whether the
pages add up to the total the API announced. A feed whose pages do not add up is refused as a
whole (FetchError), so a half-read result never withdraws records."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hub.fetch import FetchError

MAX_PAGES = 500


def with_query(url: str, **params: object) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update({key: str(value) for key, value in params.items()})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _json(body: bytes) -> dict | None:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None  # not this pager's business: the parse stage says what is wrong
    return doc if isinstance(doc, dict) else None


class BAJobsPager:
    """BA Jobsuche: ``page`` (from 1) and ``size`` parameters; ``maxErgebnisse`` is the total,
    of which the API serves at most ``cap`` (about 10,000 per query)."""

    cap = 10_000

    def next_url(self, url: str, body: bytes) -> str | None:
        doc = _json(body)
        if doc is None:
            return None
        items = doc.get("ergebnisliste", doc.get("stellenangebote")) or []
        page, size, total = doc.get("page"), doc.get("size"), doc.get("maxErgebnisse")
        if not all(isinstance(v, int) for v in (page, size, total)) or not items:
            return None
        if page * size >= min(total, self.cap):
            return None
        return with_query(url, page=page + 1, size=size)

    def check(self, bodies: list[bytes]) -> None:
        docs = [_json(body) for body in bodies]
        if any(doc is None for doc in docs):
            return
        got = sum(len(doc.get("ergebnisliste", doc.get("stellenangebote")) or []) for doc in docs)
        total = docs[0].get("maxErgebnisse")
        if isinstance(total, int) and len(docs) > 1 and got != min(total, self.cap):
            raise FetchError(
                f"page totals do not add up: {len(docs)} pages hold {got} postings, "
                f"the API announced {min(total, self.cap)}"
            )


class BACoursesPager:
    """BA Weiterbildungssuche / Sprachfoerderung: ``page`` (from 0) and ``size`` parameters;
    the answer's ``page`` object holds ``number``, ``totalPages`` and ``totalElements``."""

    def next_url(self, url: str, body: bytes) -> str | None:
        doc = _json(body)
        if doc is None or not isinstance(doc.get("page"), dict):
            return None
        page = doc["page"]
        number, pages, size = page.get("number"), page.get("totalPages"), page.get("size")
        if not all(isinstance(v, int) for v in (number, pages)) or number + 1 >= pages:
            return None
        params = {"page": number + 1}
        if isinstance(size, int):
            params["size"] = size
        return with_query(url, **params)

    def check(self, bodies: list[bytes]) -> None:
        docs = [_json(body) for body in bodies]
        if any(doc is None for doc in docs) or len(docs) < 2:
            return
        got = sum(len((doc.get("_embedded") or {}).get("termine") or []) for doc in docs)
        total = (docs[0].get("page") or {}).get("totalElements")
        if isinstance(total, int) and got != total:
            raise FetchError(
                f"page totals do not add up: {len(docs)} pages hold {got} course dates, "
                f"the API announced {total}"
            )


PAGERS = {"ba-jobsuche": BAJobsPager(), "ba-courses": BACoursesPager()}
