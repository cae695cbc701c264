"""Pagination of partner APIs that answer in pages: which page comes next, and whether the
pages add up to the total the API announced. A feed whose pages do not add up is refused as a
whole (FetchError), so a half-read result never withdraws records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hub.fetch import FetchError
from hub.formats.base import FormatError
from hub.formats.jsondoc import stream_object

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


@dataclass(frozen=True)
class Page:
    """What a pager needs of one page, read once: how many items it holds, the total the API
    announced, and the parameters of the next page (None: it was the last)."""

    count: int
    total: int | None
    following: dict | None


_BA_LISTS = ("ergebnisliste", "stellenangebote")


class BAJobsPager:
    """BA Jobsuche: ``page`` (from 1) and ``size`` parameters; ``maxErgebnisse`` is the total,
    of which the API serves at most ``cap`` (about 10,000 per query)."""

    cap = 10_000

    def read(self, page: BinaryIO) -> Page | None:
        """Read as a stream: the items are counted, never all held (a page may be big)."""
        head: dict = {}
        count = 0
        try:
            for key, in_list, value in stream_object(page, "a BA Jobsuche response", _BA_LISTS):
                if in_list:
                    count += 1
                elif key:
                    head[key] = value
                else:
                    return None
        except FormatError:
            return None  # not this pager's business: the parse stage says what is wrong
        page, size, total = head.get("page"), head.get("size"), head.get("maxErgebnisse")
        following = None
        if all(isinstance(v, int) for v in (page, size, total)) and count:
            if page * size < min(total, self.cap):
                following = {"page": page + 1, "size": size}
        return Page(count, total if isinstance(total, int) else None, following)

    def check(self, pages: list[Page | None]) -> None:
        if len(pages) < 2 or any(page is None for page in pages):
            return
        got = sum(page.count for page in pages)
        total = pages[0].total
        if total is not None and got != min(total, self.cap):
            raise FetchError(
                f"page totals do not add up: {len(pages)} pages hold {got} postings, "
                f"the API announced {min(total, self.cap)}"
            )


class BACoursesPager:
    """BA Weiterbildungssuche / Sprachfoerderung: ``page`` (from 0) and ``size`` parameters;
    the answer's ``page`` object holds ``number``, ``totalPages`` and ``totalElements``."""

    def read(self, page: BinaryIO) -> Page | None:
        doc = _json(page.read())
        if doc is None:
            return None
        termine = (doc.get("_embedded") or {}).get("termine") if isinstance(doc.get("_embedded"), dict) else None
        count = len(termine) if isinstance(termine, list) else 0
        page = doc.get("page")
        if not isinstance(page, dict):
            return Page(count, None, None)
        number, pages, size = page.get("number"), page.get("totalPages"), page.get("size")
        total = page.get("totalElements")
        following = None
        if all(isinstance(v, int) for v in (number, pages)) and number + 1 < pages:
            following = {"page": number + 1}
            if isinstance(size, int):
                following["size"] = size
        return Page(count, total if isinstance(total, int) else None, following)

    def check(self, pages: list[Page | None]) -> None:
        if len(pages) < 2 or any(page is None for page in pages):
            return
        got = sum(page.count for page in pages)
        total = pages[0].total
        if total is not None and got != total:
            raise FetchError(
                f"page totals do not add up: {len(pages)} pages hold {got} course dates, "
                f"the API announced {total}"
            )


def next_url(url: str, page: Page | None) -> str | None:
    """The URL of the page after ``page`` (read from ``url``); None after the last."""
    if page is None or page.following is None:
        return None
    return with_query(url, **page.following)


PAGERS = {"ba-jobsuche": BAJobsPager(), "ba-courses": BACoursesPager()}
