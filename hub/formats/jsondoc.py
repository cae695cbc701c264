"""Reading a JSON response safely: every unusable input becomes a one-line ``FormatError``."""

from __future__ import annotations

import json
from collections.abc import Iterator

from hub.formats.base import FormatError, ParseResult


def load_json(data: bytes, what: str) -> object:
    """Parse ``data`` (UTF-8, BOM allowed). ``what`` names the expected document in messages,
    e.g. 'a BA Jobsuche response'."""
    if not data or not data.strip():
        raise FormatError(f"not {what}: the input is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not {what}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise FormatError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python allows
        raise FormatError(f"invalid JSON: {str(exc).splitlines()[0]}") from None


def kind(value: object) -> str:
    """A JSON value's type in words, for messages: 'a list', 'a string', 'null', ..."""
    names = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    if value is None:
        return "null"
    return names.get(type(value), "an object" if isinstance(value, dict) else type(value).__name__)


def each_object(
    items: list, where: str, result: ParseResult, partner_id: str, domain: str
) -> Iterator[dict]:
    """The objects of the JSON list ``items`` (found at ``where``); any other value is counted
    and rejected as RECORD_UNREADABLE. Each object is let go of in ``items`` once the caller
    has taken it, so that a big response's parsed JSON shrinks as its records grow."""
    for position, item in enumerate(items, start=1):
        if isinstance(item, dict):
            items[position - 1] = None
            yield item
            continue
        result.reject_item(
            "RECORD_UNREADABLE",
            partner_id=partner_id,
            domain=domain,
            value=f"{where}[{position}] is {kind(item)}, not an object",
        )
