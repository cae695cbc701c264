"""Reading a JSON response safely: every unusable input becomes a one-line ``FormatError``."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Callable, Iterator
from typing import BinaryIO

from hub.formats.base import FormatError, ParseResult, refuse_binary_file, refuse_web_page, utf16_codec


def load_json(data: bytes, what: str, loads: Callable[[str], object] = json.loads) -> object:
    """Parse ``data`` (UTF-8, BOM allowed). ``what`` names the expected document in messages,
    e.g. 'a BA Jobsuche response'; ``loads`` reads the text (``jsonld.loads``: as page
    templates write JSON)."""
    if not data or not data.strip():
        raise FormatError(f"not {what}: the input is empty")
    _refuse_not_utf8(data, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        refuse_web_page(data, what, "JSON")
        raise FormatError(f"not {what}: not UTF-8 text (byte {exc.start})") from None
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        refuse_web_page(text, what, "JSON")  # a login or error page: said so, not 'line 1 column 1'
        raise FormatError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise FormatError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python allows
        raise FormatError(f"invalid JSON: {str(exc).splitlines()[0]}") from None


def _refuse_not_utf8(head: bytes, what: str) -> None:
    """A FormatError for a document that begins as a picture, a PDF or an archive does
    (``refuse_binary_file``; a ZIP's first bytes may read as UTF-8), or as UTF-16 text does,
    as Windows PowerShell and Notepad save 'Unicode' (without a byte order mark its zero bytes
    read as UTF-8 too, and the JSON error would name line 1 column 2)."""
    refuse_binary_file(head[:16], what, "JSON")
    if utf16_codec(head[:64]):
        raise FormatError(f"not {what}: UTF-16 text, where JSON is read as UTF-8; save the file "
                          "as UTF-8")


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


# --------------------------------------------------------------------------- streaming

WINDOW = 1 << 20  # characters decoded at a time
_WS = " \t\n\r"
_decoder = json.JSONDecoder()
_MARGIN = 32  # a value read or refused this close to the window's end is tried on more text


class _Text:
    """The input as text, decoded a window at a time, with the position of each error."""

    def __init__(self, data: bytes | BinaryIO, what: str):
        self.source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
        self.what = what
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.taken = 0  # bytes decoded so far
        self.ended = False
        self.buf = ""
        self.at = 0  # position in ``buf``
        self.dropped_lines = 0  # newlines in text dropped from the front of ``buf``
        self.dropped_columns = 0  # characters of the current line dropped likewise

    def more(self) -> bool:
        """Decode the next window (at least as much as is buffered: a big value is retried
        on twice the text each time); False at the end of the input."""
        if self.ended:
            return False
        chunk = self.source.read(max(WINDOW, len(self.buf) - self.at))
        if not self.taken:
            _refuse_not_utf8(chunk, self.what)
        self.ended = not chunk
        try:
            text = self.decoder.decode(chunk, self.ended)
        except UnicodeDecodeError as exc:
            if not self.taken:
                refuse_web_page(chunk, self.what, "JSON")
            raise FormatError(
                f"not {self.what}: not UTF-8 text (byte {self.taken + exc.start})") from None
        self.taken += len(chunk)
        if not text:
            return bool(chunk)  # nothing new to read yet: the buffer stays as it is
        self.dropped_lines += self.buf.count("\n", 0, self.at)
        newline = self.buf.rfind("\n", 0, self.at)
        self.dropped_columns = (self.at - newline - 1 if newline >= 0
                                else self.dropped_columns + self.at)
        self.buf = self.buf[self.at:] + text
        self.at = 0
        return True

    def skip(self) -> str:
        """Skip white space; the next character ('' at the end of the input)."""
        while True:
            buf, at = self.buf, self.at
            while at < len(buf) and buf[at] in _WS:
                at += 1
            self.at = at
            if at < len(buf):
                return buf[at]
            if not self.more():
                return ""

    def expect(self, chars: str, where: str) -> str:
        found = self.skip()
        if not found or found not in chars:
            raise self.error(self.at, f"expecting {' or '.join(repr(c) for c in chars)} {where}")
        self.at += 1
        return found

    def value(self) -> object:
        """The JSON value at the current position (read in full, however long)."""
        self.skip()
        while True:
            try:
                value, end = _decoder.raw_decode(self.buf, self.at)
            except json.JSONDecodeError as exc:
                near_end = exc.pos > len(self.buf) - _MARGIN or exc.msg.startswith("Unterminated")
                if near_end and self.more():
                    continue  # the value goes on in the next window
                raise self.error(exc.pos, exc.msg) from None
            except RecursionError:
                raise FormatError("invalid JSON: nested too deeply") from None
            except ValueError as exc:  # e.g. an integer literal longer than Python allows
                raise FormatError(f"invalid JSON: {str(exc).splitlines()[0]}") from None
            if end > len(self.buf) - _MARGIN and self.more():
                continue  # a number ending at the window's end may go on ("1.5|e3")
            self.at = end
            return value

    def error(self, pos: int, message: str) -> FormatError:
        line = self.dropped_lines + self.buf.count("\n", 0, pos) + 1
        newline = self.buf.rfind("\n", 0, pos)
        column = pos - newline if newline >= 0 else self.dropped_columns + pos + 1
        return FormatError(f"invalid JSON at line {line} column {column}: {message}")


def stream_object(data: bytes | BinaryIO, what: str,
                  lists: tuple[str, ...]) -> Iterator[tuple[str, bool, object]]:
    """Read a JSON object whose members named in ``lists`` may be very long lists, without
    holding the whole document: yields ``(key, False, value)`` for each other member and
    ``(key, True, item)`` for each item of those lists, in document order. A list member whose
    value is not a list comes as ``(key, False, value)``. Errors are FormatError as in
    ``load_json``; a top level that is not an object yields ``("", False, value)`` once.
    ``data``: the bytes, or a binary file to read them from."""
    text = _Text(data, what)
    first = text.skip()
    if not first:
        raise FormatError(f"not {what}: the input is empty")
    if first == "<":  # a web page (a login or error page) is named so; else invalid JSON below
        refuse_web_page(text.buf[text.at:], what, "JSON")
    if first != "{":
        yield "", False, text.value()
        if text.skip():
            raise text.error(text.at, "Extra data")
        return
    text.at += 1
    if text.skip() == "}":
        text.at += 1
    else:
        while True:
            if text.skip() != '"':
                raise text.error(text.at, "Expecting property name enclosed in double quotes")
            key = text.value()
            text.expect(":", "after a property name")
            if key in lists and text.skip() == "[":
                text.at += 1
                if text.skip() == "]":
                    text.at += 1
                else:
                    while True:
                        yield key, True, text.value()
                        if text.expect(",]", "in a list") == "]":
                            break
            else:
                yield key, False, text.value()
            if text.expect(",}", "in an object") == "}":
                break
    if text.skip():
        raise text.error(text.at, "Extra data")
