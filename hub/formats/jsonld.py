"""schema.org JSON-LD: what the three schema.org adapters share.

Input is either a JSON-LD document (one object, a list of objects, objects with ``@graph``) or
an HTML page with one or more ``<script type="application/ld+json">`` blocks, as careers and
course pages carry them for search engines. :func:`load` turns either into a
:class:`Document`; the value helpers below read the common schema.org value shapes (text or a
list of text, ``PostalAddress``, ``GeoCoordinates``, ``Place``, ``Organization``,
``MonetaryAmount``, ``QuantitativeValue``, dates, ``identifier``).

Reading rules:

- types are compared case-sensitively, as schema.org names them; ``schema:X`` and
  ``http(s)://schema.org/X`` are read as ``X``;
- a reference ``{"@id": "..."}`` to a node described elsewhere in the same input (the
  ``@graph`` style of CMS plugins) is replaced by that node; nothing is fetched;
- HTML is parsed with lxml without network access; comments, empty blocks and scripts of
  another type are ignored; ``<!-- -->`` and ``<![CDATA[ ]]>`` around a block are dropped; a
  block that is not valid JSON is skipped and reported with the line of the page where it
  fails (:attr:`Document.problems`), and only when no block is usable is the input refused
  (an input without a node of the wanted type names the blocks skipped);
- JSON is read as page templates write it (:func:`loads`): line breaks and tabs inside
  strings, a comma after the last entry of an object or list, and a block whose quotes the
  template wrote as ``&quot;`` are read as meant (nothing else is guessed);
- entries of a list or ``@graph`` that are not objects are reported as problems too
  (``null`` entries are ignored, as JSON-LD ignores them);
- the source id of a node is its ``identifier``, else its ``@id`` (blank nodes ``_:`` do not
  count), else its ``url``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re
from dataclasses import dataclass, field
from typing import Iterable

from lxml import etree
from lxml import html as lxml_html

from hub.clock import BERLIN
from hub.formats import values
from hub.formats.base import FormatError
from hub.formats.jsondoc import kind, load_json

_SCHEMA_PREFIXES = (
    "http://schema.org/",
    "https://schema.org/",
    "http://www.schema.org/",
    "https://www.schema.org/",
    "schema:",
)

_LD_JSON = re.compile(r"^\s*application/ld\+json\s*(;.*)?$", re.IGNORECASE)
_WRAPPERS = re.compile(
    r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)\s*|\s*(?://\s*)?(?:-->|\]\]>)\s*$"
)

# --------------------------------------------------------------------------- loading


@dataclass
class Found:
    """A node of a wanted type and how it was reached."""

    node: dict
    # the objects from the top level down to the node's parent, each with the property followed
    path: tuple[tuple[dict, str], ...] = ()


@dataclass
class Document:
    """The node objects of one input, references resolved."""

    # top-level node objects: the document itself, list entries, ``@graph`` entries
    nodes: list[dict] = field(default_factory=list)
    # one line per unusable part (invalid block, non-object entry), for RECORD_UNREADABLE
    problems: list[str] = field(default_factory=list)
    _parents: dict[int, list[tuple[dict, str]]] | None = field(default=None, repr=False)

    def find(self, types: Iterable[str]) -> list[Found]:
        """Every node of one of ``types``, in document order, each once.

        The search descends through all properties (``mainEntity``, ``itemListElement``,
        ``itemOffered``, ...) but not into a node it found.
        """
        wanted = set(types)
        found: list[Found] = []
        seen: set[int] = set()
        # iterative depth-first walk: inputs may nest deeply and references may form cycles
        stack: list[tuple[object, tuple[tuple[dict, str], ...]]] = [
            (node, ()) for node in reversed(self.nodes)
        ]
        while stack:
            value, path = stack.pop()
            if isinstance(value, list):
                stack.extend((item, path) for item in reversed(value))
                continue
            if not isinstance(value, dict) or id(value) in seen:
                continue
            seen.add(id(value))
            if wanted.intersection(types_of(value)):
                found.append(Found(value, path))
                continue
            for key in reversed(list(value)):
                if key in ("@context", "@id", "@type"):
                    continue
                stack.append((value[key], path + ((value, key),)))
        return found

    def referrers(self, node: dict) -> list[tuple[dict, str]]:
        """The objects that hold ``node`` as a property value (embedded or by reference),
        with the property: ``(offer, "itemOffered")``."""
        if self._parents is None:
            parents: dict[int, list[tuple[dict, str]]] = {}
            seen: set[int] = set()
            stack: list[object] = list(reversed(self.nodes))
            while stack:
                value = stack.pop()
                if isinstance(value, list):
                    stack.extend(reversed(value))
                    continue
                if not isinstance(value, dict) or id(value) in seen:
                    continue
                seen.add(id(value))
                for key, item in value.items():
                    if key == "@context":
                        continue
                    for child in item if isinstance(item, list) else [item]:
                        if isinstance(child, dict):
                            parents.setdefault(id(child), []).append((value, key))
                    stack.append(item)
            self._parents = parents
        return list(self._parents.get(id(node), []))

    def types(self) -> list[str]:
        """The types of all nodes in the input, first occurrence first (for messages)."""
        names: list[str] = []
        seen: set[int] = set()
        stack: list[object] = list(reversed(self.nodes))
        while stack and len(names) < 50:
            value = stack.pop()
            if isinstance(value, list):
                stack.extend(reversed(value))
                continue
            if not isinstance(value, dict) or id(value) in seen:
                continue
            seen.add(id(value))
            names.extend(name for name in types_of(value) if name not in names)
            stack.extend(
                item for key, item in reversed(list(value.items())) if key != "@context"
            )
        return names

    def missing(self, wanted: str) -> FormatError:
        """The error for an input without any node of the wanted type; the parts skipped as
        unusable follow, since the node may be in one of them (an invalid block)."""
        present = self.types()
        skipped = f"; skipped: {'; '.join(self.problems)[:400]}" if self.problems else ""
        if present:
            shown = ", ".join(present[:8]) + (", ..." if len(present) > 8 else "")
            shown = re.sub(r"\s+", " ", shown)[:300]
            return FormatError(f"no schema.org {wanted} found (the input has: {shown}){skipped}")
        return FormatError(f"no schema.org {wanted} found (the input has no typed node){skipped}")


# at most this many commas after a last entry are dropped from one text (each is a parse more)
_MAX_REPAIRS = 100


def loads(text: str) -> object:
    """JSON text as templates write it into pages: line breaks and tabs inside strings (a
    description pasted in), and a comma after the last entry of an object or list (``,}``,
    ``,]``: a loop that puts a comma after every entry), which ``json.loads`` refuses; each
    such comma is dropped where the parser stops at it, so nothing else changes. Any other
    error is the ``JSONDecodeError`` of the text as written."""
    repairs = 0
    while True:
        try:
            return json.loads(text, strict=False)
        except json.JSONDecodeError as exc:
            comma = _last_comma(text, exc.pos)
            if comma is None or repairs >= _MAX_REPAIRS:
                raise
            text = text[:comma] + " " + text[comma + 1:]  # positions and lines stay
            repairs += 1


def _last_comma(text: str, pos: int) -> int | None:
    """Where the comma stands that ``pos`` (a closing bracket the parser stopped at) follows
    with only white space between; None for any other error."""
    if pos >= len(text) or text[pos] not in "}]":
        return None
    before = len(text[:pos].rstrip())
    return before - 1 if before and text[before - 1] == "," else None


def _json_error(exc: Exception, first_line: int | None = None) -> str:
    """The error of a JSON text; ``first_line``: the line of the page the text (a block)
    begins on, so that the line named is the page's."""
    if isinstance(exc, json.JSONDecodeError):
        if first_line is not None:
            line = first_line + exc.lineno - 1
            return f"invalid JSON at line {line} column {exc.colno} of the page: {exc.msg}"
        return f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    if isinstance(exc, RecursionError):
        return "invalid JSON: nested too deeply"
    return f"invalid JSON: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _script_blocks(data: bytes) -> tuple[list[tuple[str, int]], str, list[str]]:
    """The text of every ``<script type="application/ld+json">`` of an HTML page with the line
    of the page it begins on, the page's title ('' for none) and the schema.org types it marks
    up as Microdata or RDFa instead (``itemtype``, ``typeof``), for the message of a page
    without JSON-LD."""
    try:
        data.decode("utf-8")
        encoding: str | None = "utf-8"
    except UnicodeDecodeError:
        encoding = None  # let the page's <meta charset> decide
    parser = lxml_html.HTMLParser(
        encoding=encoding, no_network=True, remove_comments=True, remove_pis=True,
        huge_tree=False, default_doctype=False,
    )
    try:
        root = lxml_html.document_fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError, LookupError) as exc:
        message = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FormatError(f"not JSON-LD and not a readable HTML page: {message}") from None
    if root is None:
        raise FormatError("not JSON-LD and not a readable HTML page")
    blocks = []
    for script in root.iter("script"):
        if _LD_JSON.match(script.get("type") or ""):
            blocks.append((script.text or "", script.sourceline or 1))
    title = root.find(".//title")
    marked: list[str] = []
    if not blocks:
        for element in root.iter("*"):
            written = (element.get("itemtype") or "").split()
            # RDFa: 'schema:JobPosting', or 'JobPosting' under vocab="https://schema.org/"
            written += [name if ":" in name else "schema:" + name
                        for name in (element.get("typeof") or "").split()]
            for item in written:
                name = type_name(item) if "schema" in item else None
                if name and name not in marked:
                    marked.append(name)
    return blocks, " ".join((title.text_content() if title is not None else "").split())[:100], marked


def _unescaped(block: str) -> str:
    """A block a template wrote HTML-escaped (``{&quot;@type&quot;: ...}``: JSON with no
    quote of its own) with its entities decoded; any other block as it is."""
    if '"' not in block and "&quot;" in block:
        return html.unescape(block)
    return block


def _collect(value: object, where: str, document: Document) -> None:
    """Collect the node objects of one JSON-LD value (object, list, ``@graph``).

    ``where`` names the value in problems: '' for a document, 'JSON-LD block 2 of 3'.
    """

    def named(part: str, prefix: str) -> str:
        return f"{prefix}, {part}" if prefix else part

    def entries(items: list, part: str, prefix: str) -> list[tuple[object, str]]:
        numbered = enumerate(items, start=1)
        return [(item, named(f"{part} {position}", prefix)) for position, item in numbered]

    # iterative: a list of lists of lists must not exhaust the stack
    stack: list[tuple[object, str]] = [(value, where)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(entries(value, "list entry", where)))
            continue
        if not isinstance(value, dict):
            if value is not None:  # JSON-LD ignores null
                document.problems.append(
                    f"{where or 'the input'} is {kind(value)}, not an object"
                )
            continue
        graph = value.get("@graph")
        graph_entries = graph if isinstance(graph, list) else [graph]
        if graph is not None and not set(value) - {"@context", "@graph", "@id"}:
            # a graph container: its entries are the nodes
            stack.extend(reversed(entries(graph_entries, "@graph entry", where)))
            continue
        document.nodes.append(value)
        if isinstance(graph, (list, dict)):  # a node that also holds a graph: read both
            stack.extend(reversed(entries(graph_entries, "@graph entry", where)))


def _is_reference(value: dict) -> bool:
    return isinstance(value.get("@id"), str) and set(value) <= {"@id", "@type"}


def _resolve_references(document: Document) -> None:
    """Replace ``{"@id": x}`` references by the node described as ``x`` in the input."""
    index: dict[str, dict] = {}
    every: list[dict] = []
    stack: list[object] = list(reversed(document.nodes))
    seen: set[int] = set()
    while stack:  # depth first, in document order: the first description of an id wins
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, dict) and id(value) not in seen:
            seen.add(id(value))
            every.append(value)
            found = value.get("@id")
            if isinstance(found, str) and not _is_reference(value):
                index.setdefault(found, value)
            stack.extend(
                item for key, item in reversed(list(value.items())) if key != "@context"
            )
    if not index:
        return

    def resolved(item: object) -> object:
        if isinstance(item, dict) and _is_reference(item) and item["@id"] in index:
            return index[item["@id"]]
        return item

    for value in every:
        for key, item in list(value.items()):
            if key == "@context":
                continue
            if isinstance(item, list):
                value[key] = [resolved(entry) for entry in item]
            else:
                value[key] = resolved(item)


def load(data: bytes) -> Document:
    """JSON-LD document or HTML page -> :class:`Document`; :class:`FormatError` if neither."""
    if not data or not data.strip():
        raise FormatError("not JSON-LD: the input is empty")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    document = Document()
    if body.lstrip()[:1] == b"<":
        blocks, title, marked = _script_blocks(body)
        if not blocks:  # the title tells a login or error page from a careers page
            titled = f" (title '{title}')" if title else ""
            if marked:  # the offers are there, in a markup the hub does not read
                shown = ", ".join(marked[:8]) + (", ..." if len(marked) > 8 else "")
                raise FormatError(
                    f"HTML page without JSON-LD{titled}: it marks up schema.org {shown} as "
                    "Microdata or RDFa (itemtype, typeof), which the hub does not read; add "
                    'the offers as JSON-LD, a <script type="application/ld+json"> block')
            raise FormatError(f"HTML page without JSON-LD{titled}: no "
                              '<script type="application/ld+json"> block')
        errors: list[str] = []  # invalid blocks: reported
        empty: list[str] = []  # empty blocks: nothing lost, only named when nothing is usable
        usable = 0
        for number, (block, first_line) in enumerate(blocks, start=1):
            where = f"JSON-LD block {number} of {len(blocks)}"
            # a wrapper gives way to its line breaks: the lines counted stay the page's
            text = _WRAPPERS.sub(lambda wrapper: "\n" * wrapper.group().count("\n"), block)
            if not text.strip():
                empty.append(f"{where} is empty")
                continue
            try:
                value = loads(_unescaped(text))
            except (ValueError, RecursionError) as exc:
                errors.append(f"{where}: {_json_error(exc, first_line)}")
                continue
            usable += 1
            _collect(value, where, document)
        if not usable:
            reasons = "; ".join(errors + empty)
            raise FormatError(f"no usable JSON-LD block: {reasons[:400]}")
        document.problems[:0] = errors
    else:
        value = load_json(data, "JSON-LD", loads)
        if not isinstance(value, (dict, list)):
            raise FormatError(
                f"not JSON-LD: the top level is {kind(value)}, expected an object or a list"
            )
        _collect(value, "", document)
    _resolve_references(document)
    return document


# --------------------------------------------------------------------------- types


def type_name(value: object) -> str | None:
    """'https://schema.org/JobPosting' -> 'JobPosting'; non-strings -> None."""
    if not isinstance(value, str):
        return None
    name = value.strip()
    for prefix in _SCHEMA_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return name or None


def types_of(node: object) -> list[str]:
    if not isinstance(node, dict):
        return []
    raw = node.get("@type")
    listed = raw if isinstance(raw, list) else [raw]
    return [name for name in (type_name(item) for item in listed) if name]


def has_type(node: object, types: Iterable[str]) -> bool:
    return bool(set(types).intersection(types_of(node)))


# --------------------------------------------------------------------------- text


def _scalar(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else str(value)
    return None


def _value_text(value: object) -> str | None:
    """A string, number, ``{"@value": ...}`` or a node's ``name`` (one level, no recursion)."""
    if isinstance(value, dict):
        if "@value" in value:
            return _scalar(value.get("@value"))
        return _scalar(value.get("name"))
    return _scalar(value)


def texts(value: object) -> list[str]:
    """Text or list of text (also ``@value`` objects and named nodes) -> list of strings."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        read = _value_text(item)
        if read is not None:
            found.append(read)
    return found


def text(value: object) -> str | None:
    """The first text of a value; among language-tagged values the German one."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and str(item.get("@language", "")).lower().startswith("de"):
                chosen = _value_text(item)
                if chosen:
                    return chosen
    found = texts(value)
    return found[0] if found else None


def line(value: object) -> str | None:
    """Like :func:`text`, entities decoded and whitespace runs collapsed (names, titles)."""
    found = text(value)
    if found is None:
        return None
    return re.sub(r"\s+", " ", html.unescape(found)).strip() or None


def plain_text(value: object) -> str | None:
    """Text that may hold HTML (``description``) -> plain text, one line per block."""
    found = text(value)
    if found is None:
        return None
    if "<" not in found and re.search(r"&lt;\s*/?\s*[a-zA-Z]", found):
        found = html.unescape(found)  # markup that was escaped once more
    cleaned = values.plain_text(found)
    return cleaned if isinstance(cleaned, str) else None


def first(value: object) -> object:
    """A single value or the first entry of a list."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def objects(value: object) -> list[dict]:
    """The objects among a value or a list of values."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


# --------------------------------------------------------------------------- ids


def identifier(value: object) -> str | None:
    """``identifier`` as text, number or ``PropertyValue`` (its ``value``); first of a list."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            found = _scalar(item.get("value")) or _scalar(item.get("@value"))
            if found is None and "@id" in item and set(item) <= {"@id", "@type"}:
                found = _scalar(item.get("@id"))
        else:
            found = _scalar(item)
        if found:
            return found
    return None


def node_id(node: dict) -> str | None:
    found = _scalar(node.get("@id"))
    if found is None or found.startswith("_:"):
        return None
    return found


def source_id(*nodes: dict) -> str | None:
    """The project's rule: ``identifier``, else ``@id``, else ``url``; over ``nodes`` in turn."""
    for read in (lambda node: identifier(node.get("identifier")), node_id,
                 lambda node: text(node.get("url"))):
        for node in nodes:
            found = read(node)
            if found:
                return found
    return None


# --------------------------------------------------------------------------- numbers, dates


def _unwrap(value: object) -> object:
    """The first of a list and the ``@value`` of a value object; other values as they are."""
    value = first(value)
    if isinstance(value, dict) and "@value" in value:
        return value["@value"]
    return value


def number(value: object) -> object:
    """A JSON number or numeric text ('49.347', '650,50', '1.234,56') -> float; else as
    written. Text is read as JSON-LD writes numbers: a lone dot is the decimal point ('49.347'
    is a latitude, not 49347)."""
    return values.number(_unwrap(value), machine=True)


def date(value: object) -> object:
    """ISO date or date-time (or 'TT.MM.JJJJ') -> date; a date-time with a zone counts in
    Europe/Berlin ('2026-03-31T22:30:00Z' is 1 April).

    Anything else (text such as 'ab sofort', ISO 8601 durations such as 'P3M') comes back as
    written: callers for typed fields hand it on to be rejected, callers for free-text fields
    drop it.
    """
    raw = _unwrap(value)
    moment = values.timestamp(raw) if isinstance(raw, str) and _ZONED.match(raw.strip()) else None
    if isinstance(moment, dt.datetime):
        try:
            return moment.astimezone(BERLIN).date()
        except (OverflowError, ValueError):  # year 1 or 9999 shifted out of range
            return raw
    return values.date_value(raw)


def timestamp(value: object) -> object:
    """Date or date-time -> aware datetime; without a zone it is Europe/Berlin local time."""
    return values.timestamp(_unwrap(value))


def is_date(value: object) -> bool:
    """A date (not text); a datetime is a date too."""
    return isinstance(value, dt.date)


_ZONED = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*(?:Z|[+-]\d{2}:?\d{2})$")


# --------------------------------------------------------------------------- quantities


@dataclass
class Quantity:
    """A ``QuantitativeValue`` or ``MonetaryAmount`` (or a bare number or text) read flat.

    The amounts are as written (``@value`` unwrapped); callers read them with the reader
    their field needs (``values.money``, ``values.area``, ``values.integer``).
    """

    value: object = None
    min: object = None
    max: object = None
    unit_code: str | None = None
    unit_text: str | None = None
    currency: str | None = None

    @property
    def unit(self) -> str | None:
        return self.unit_code or self.unit_text


def quantity(value: object, _depth: int = 0) -> Quantity:
    """Number, text, ``QuantitativeValue`` or ``MonetaryAmount`` whose ``value`` may be a
    ``QuantitativeValue`` (the shape search engines ask for in ``baseSalary``)."""
    value = first(value)
    if not isinstance(value, dict) or "@value" in value:
        return Quantity(value=_unwrap(value))
    inner = first(value.get("value"))
    if isinstance(inner, dict) and "@value" not in inner:
        found = quantity(inner, _depth + 1) if _depth < 3 else Quantity()
    else:
        found = Quantity(value=_unwrap(inner))
    if found.min is None:
        found.min = _unwrap(value.get("minValue"))
    if found.max is None:
        found.max = _unwrap(value.get("maxValue"))
    found.unit_code = found.unit_code or text(value.get("unitCode"))
    found.unit_text = found.unit_text or text(value.get("unitText"))
    found.currency = found.currency or text(value.get("currency"))
    return found


# --------------------------------------------------------------------------- places

# the part of a one-line address with the postal code and the town, the street before them
# where no comma stands between ('Brunnenstraße 20 66538 Neunkirchen')
_POSTAL_AND_CITY = re.compile(
    r"^(?:(?P<street>.*?\S)\s+)?(?:D\s*-\s*)?(?P<postal_code>\d{5})\s+(?P<city>[^\d\s].*)$")
_ADDRESS_PARTS = re.compile(r"\s*(?:,|\n|<br\s*/?>)\s*", re.IGNORECASE)
# English names, which values.country_code does not know (it reads German ones)
_COUNTRY_NAMES = {
    "GERMANY": "DE", "AUSTRIA": "AT", "SWITZERLAND": "CH", "FRANCE": "FR",
    "LUXEMBOURG": "LU", "BELGIUM": "BE", "NETHERLANDS": "NL", "DENMARK": "DK",
    "POLAND": "PL", "CZECHIA": "CZ", "CZECH REPUBLIC": "CZ",
}
# ISO 3166-2 codes of the Bundeslaender, as structured-data generators write them
_STATE_CODES = {
    "DE-BW": "Baden-Württemberg", "DE-BY": "Bayern", "DE-BE": "Berlin", "DE-BB": "Brandenburg",
    "DE-HB": "Bremen", "DE-HH": "Hamburg", "DE-HE": "Hessen", "DE-MV": "Mecklenburg-Vorpommern",
    "DE-NI": "Niedersachsen", "DE-NW": "Nordrhein-Westfalen", "DE-RP": "Rheinland-Pfalz",
    "DE-SL": "Saarland", "DE-SN": "Sachsen", "DE-ST": "Sachsen-Anhalt",
    "DE-SH": "Schleswig-Holstein", "DE-TH": "Thüringen",
}


def country(value: object) -> object:
    """'DE', 'DEU', 'Deutschland', 'Germany', ``Country`` {name} -> 'DE'; unknown names pass
    unchanged (and are rejected by the model with the value shown)."""
    value = first(value)
    if isinstance(value, dict):
        found = identifier(value.get("identifier")) or line(value.get("name"))
    else:
        found = line(value)
    if found is None:
        return None
    return _COUNTRY_NAMES.get(found.upper()) or values.country_code(found)


def postal_code(value: object) -> object:
    value = _unwrap(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(?:D|DE)\s*-\s*(\d{5})\s*", value)
        if match:  # the old 'D-66538'
            return match.group(1)
    return values.postal_code(value)


def state(value: object) -> str | None:
    """'Saarland', 'SAARLAND', 'DE-SL', 'SL' -> 'Saarland'; an unknown region stays as written."""
    found = line(value)
    if found is None:
        return None
    code = found.upper()
    if code in _STATE_CODES or "DE-" + code in _STATE_CODES:  # 'DE-SL', 'SL'
        return _STATE_CODES.get(code) or _STATE_CODES["DE-" + code]
    # asked in lower case, values.state_name answers a Bundesland's name or the text unchanged
    named = values.state_name(found.lower())
    return named if isinstance(named, str) and named != found.lower() else found


def address(value: object) -> dict:
    """``PostalAddress`` (or a one-line text address) -> the fields of a canonical address.

    Keys with no value are left out, so a missing postal code reads as missing.
    """
    value = first(value)
    fields: dict[str, object] = {}
    if isinstance(value, dict) and not has_type(value, {"PostalAddress"}) and "address" in value:
        value = first(value.get("address"))  # a Place given where an address is expected
    if isinstance(value, dict):
        street, number_ = values.split_street(line(value.get("streetAddress")))
        fields = {
            "street": street,
            "house_number": number_,
            "postal_code": postal_code(value.get("postalCode")),
            "city": line(value.get("addressLocality")),
            "state": state(value.get("addressRegion")),
            "country": country(value.get("addressCountry")),
        }
        written = text(value.get("streetAddress"))
        if fields["postal_code"] is None and written and len(written) <= 300:
            # the whole address in streetAddress, as a form with one address field fills it
            whole = _text_address(html.unescape(written))
            if whole:
                fields.update({key: item for key, item in whole.items()
                               if key in ("street", "house_number", "postal_code")
                               or fields.get(key) is None})
    else:
        raw = text(value)
        fields = _text_address(html.unescape(raw)) if raw and len(raw) <= 300 else {}
    return {key: item for key, item in fields.items() if item is not None}


def _text_address(raw: str) -> dict:
    """A one-line address as pages write it: 'Brunnenstraße 20, 66538 Neunkirchen', without the
    comma or on two lines, with a name before the street ('Klinikum, Brunnenstraße 20, ...')
    and the Land and the country after the town ('..., Saarland, Deutschland'). The part with
    the postal code and the town decides; the part before it is the street; {} without it."""
    parts = [" ".join(part.split()) for part in _ADDRESS_PARTS.split(raw) if part.strip()]
    for index, part in enumerate(parts):
        match = _POSTAL_AND_CITY.match(part)
        if match is None:
            continue
        street, number_ = values.split_street(
            match.group("street") or (parts[index - 1] if index else None))
        fields = {"street": street, "house_number": number_,
                  "postal_code": match.group("postal_code"), "city": match.group("city")}
        for after in parts[index + 1:]:
            named = state(after)
            if named in _STATE_CODES.values():
                fields["state"] = named
            else:  # an unknown name is shown as the country the model refuses
                fields["country"] = country(after)
        return fields
    return {}


def geo(value: object) -> dict | None:
    """``GeoCoordinates`` (or a node with ``latitude``/``longitude``) -> {lat, lon}.

    0/0 (exporters' 'unknown') and unreadable coordinates give None: a record is not rejected
    for a map pin.
    """
    value = first(value)
    if not isinstance(value, dict):
        return None
    lat, lon = number(value.get("latitude")), number(value.get("longitude"))
    if not isinstance(lat, float) or not isinstance(lon, float):
        return None
    return values.geo_point(lat, lon)


def place(value: object) -> tuple[dict, dict | None]:
    """``Place`` (address and geo), ``PostalAddress`` or text -> (address fields, geo)."""
    value = first(value)
    if isinstance(value, dict) and not has_type(value, {"PostalAddress"}):
        return address(value.get("address")), geo(value.get("geo")) or geo(value)
    return address(value), geo(value)


def organisation(value: object) -> str | None:
    """``Organization``/``Person`` (name, legalName) or text; the first of a list."""
    value = first(value)
    if isinstance(value, dict) and "@value" not in value:
        return line(value.get("name")) or line(value.get("legalName"))
    return line(value)


def contact(value: object) -> dict | None:
    """``ContactPoint``/``Person`` -> contact fields (not public: the hub publishes personal data
    only when the partner says so, which schema.org cannot)."""
    value = first(value)
    if not isinstance(value, dict):
        return None
    # 'mailto:…' and 'tel:…' as pages link them, read as the address and the number
    found = {
        "name": line(value.get("name")),
        "email": values.email_address(line(value.get("email"))),
        "phone": values.phone_number(line(value.get("telephone"))),
    }
    if not any(found.values()):
        return None
    return {**found, "public": False}


def url(value: object) -> object:
    """``url`` as text (or a node with ``@id``/``url``); 'www.x.de' gets its scheme."""
    value = first(value)
    if isinstance(value, dict) and "@value" not in value:
        value = value.get("@id") or value.get("url")
    return values.web_url(text(value))


def keywords(value: object) -> list[str]:
    """``keywords``: text with commas, a list of text or of ``DefinedTerm``."""
    found: list[str] = []
    for item in texts(value):
        found.extend(part.strip() for part in item.split(",") if part.strip())
    return found
