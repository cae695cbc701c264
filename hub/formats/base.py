"""What every format adapter shares: the parse result, the error for unusable input, and the
step that turns a dict of fields into a canonical record or into rejections.

Reading single values (dates, money, yes/no, ...) lives in ``hub.formats.values``, reading the
hub's CSV templates in ``hub.formats.csvtemplate``."""

from __future__ import annotations

import codecs
import datetime as dt
import html
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Callable

from pydantic import ValidationError

from hub.formats.values import compact
from hub.models import CanonicalRecord, Rejection, SyncMode
from hub.quality.rules import DUPLICATE_OTHER_PROVIDER, reject


class FormatError(Exception):
    """The whole input is not usable as this format (wrong format, truncated, not parseable).

    The message is one line meant for a person."""


# an HTML document: a doctype or <html> first, after a BOM, white space, an XML declaration
# (XHTML) and comments
_WEB_PAGE = re.compile(r"^\ufeff?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
                       re.IGNORECASE | re.DOTALL)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HEAD_BYTES = 1 << 16  # where a page's doctype and title are looked for


def web_page(head: str | bytes) -> str | None:
    """Whether ``head`` (the start of an input) is an HTML document, as a web server answers
    with a login or error page where a data file is expected: its title, '' for a page
    without one; None for anything else."""
    if isinstance(head, (bytes, bytearray)):
        head = bytes(head[:_HEAD_BYTES])
        try:  # a character cut at the end is no reason for Windows-1252
            head = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        except UnicodeDecodeError:
            head = head.decode("cp1252", "replace")
    else:
        head = head[:_HEAD_BYTES]
    if not _WEB_PAGE.match(head):
        return None
    title = _TITLE.search(head)
    if title is None:
        return ""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", title.group(1))).split())[:100]


class WebPageError(FormatError):
    """An input that is a web page (``refuse_web_page``), worded for a feed fetched from an
    address: 'not {what}: the file is a web page (HTML, title 'Anmeldung'), not {expected};
    often a login or error page served in place of the data'. ``saved()``: the same for a
    file (uploaded into an inbox, checked with ``hub check FILE``), which no server 'served':
    '... the file is a saved web page (HTML, ...), not {expected}; often a login or error page
    saved in place of the export'."""

    def __init__(self, what: str, expected: str, title: str, file: bool = False):
        self.what, self.expected, self.title, self.file = what, expected, title, file
        titled = f", title '{title}'" if title else ""
        if file:
            super().__init__(f"not {what}: the file is a saved web page (HTML{titled}), not "
                             f"{expected}; often a login or error page saved in place of the export")
        else:
            super().__init__(f"not {what}: the file is a web page (HTML{titled}), not {expected}; "
                             "often a login or error page served in place of the data")

    def saved(self) -> "WebPageError":
        return WebPageError(self.what, self.expected, self.title, file=True)


def as_file_error(exc: FormatError) -> FormatError:
    """``exc`` worded for an input that is a file, not a fetched address (``WebPageError``);
    other errors as they are."""
    return exc.saved() if isinstance(exc, WebPageError) else exc


# the first bytes of files that are no text, as partners save or upload them in place of an
# export: (signature, what the file is, what to do); hub.quality.report words them in German
BINARY_FILES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "use the file your program exports, not a picture of it"),
    (b"\xff\xd8\xff", "a JPEG image", "use the file your program exports, not a picture of it"),
    (b"GIF8", "a GIF image", "use the file your program exports, not a picture of it"),
    (b"%PDF-", "a PDF document", "use the file your program exports, not a printout of it"),
    (b"\x1f\x8b", "a gzip archive (.gz)", "unpack it and use the file inside"),
    (b"PK\x03\x04", "a ZIP archive", "unpack it and use the file inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it and use the file inside"),
    (b"\xfd7zXZ\x00", "an xz archive (.xz)", "unpack it and use the file inside"),
)


def refuse_binary_file(head: bytes, what: str, expected: str) -> None:
    """A FormatError for an input that begins as a picture, a PDF or an archive does
    ('not a job CSV: the file is a PNG image, not CSV; use the file your program exports, not a
    picture of it'), where the format's own words ('required column(s) missing', 'invalid
    XML at line 1') would not say what is wrong; nothing for other input."""
    for signature, kind, todo in BINARY_FILES:
        if head.startswith(signature):
            raise FormatError(f"not {what}: the file is {kind}, not {expected}; {todo}")


def utf16_codec(data: bytes) -> str | None:
    """The codec of UTF-16 text, by its BOM or, without one, by the zero bytes of its first
    (ASCII) characters ('K\\0u\\0...' little-endian); None for other text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:64]
    if len(head) >= 8 and len(head) % 2 == 0:
        if head[1::2].count(0) == len(head) // 2 and head[0::2].count(0) == 0:
            return "utf-16-le"
        if head[0::2].count(0) == len(head) // 2 and head[1::2].count(0) == 0:
            return "utf-16-be"
    return None


def refuse_web_page(head: str | bytes, what: str, expected: str) -> None:
    """Raise the WebPageError for an input that is a web page (``web_page``), where a page
    stands in for the data (a login page, an error page served with status 200), and the
    FormatError of ``refuse_binary_file`` for one that is no text at all (bytes only); nothing
    for other input. ``what`` as the formats' messages name the expected document ('a job
    CSV'), ``expected`` the kind of file (CSV, JSON, XML)."""
    if isinstance(head, (bytes, bytearray)):
        refuse_binary_file(bytes(head[:16]), what, expected)
    title = web_page(head)
    if title is not None:
        raise WebPageError(what, expected, title)


@dataclass
class ParseResult:
    records: list[CanonicalRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    # source ids the delivery explicitly deletes (OpenImmo DELETE)
    deletions: list[str] = field(default_factory=list)
    # what the delivery says it is (OpenImmo VOLL/TEIL); None: as the registry says
    mode: SyncMode | None = None
    # how many items the input held (records + rejected items)
    items: int = 0
    # records rejected here, rebuilt without the fields that failed (a required one missing or
    # invalid left empty: ``_add_shadow``): the record checks run on them too, so that the
    # partner learns all of a record's problems at once; never accepted, never published
    shadows: list[CanonicalRecord] = field(default_factory=list)
    # source id -> the line of the input its record (or shadow) starts on, for formats read
    # by lines (CSV templates): the report leads the partner to the row
    lines: dict[str, int] = field(default_factory=dict)
    # source ids of the items rejected here: the first item of an id counts, so a later record
    # with one of them is a duplicate (it would publish what the partner sent second)
    refused_ids: set[str] = field(default_factory=set)
    # the format's name of a field (``Format.field_names``: a CSV template's column) -> the
    # name the input wrote it under, where that is another usual one ('PLZ' -> 'Postleitzahl'):
    # the feedback report names the column as the partner's file does
    headers: dict[str, str] = field(default_factory=dict)

    def reject_item(self, code: str, *, partner_id: str, domain: str, **details: object) -> None:
        """Count one item of the input that cannot become a record, and say why.

        ``details``: ``source_id``, ``field``, ``value``, ``title`` as ``reject`` takes them."""
        self.items += 1
        if details.get("source_id"):
            self.refused_ids.add(str(details["source_id"]))
        self.rejections.append(reject(code, partner_id=partner_id, domain=domain, **details))

    def refuse_repeats(self, records: list[CanonicalRecord], found: list[Rejection]) -> list[CanonicalRecord]:
        """``records`` (read after the items of this result) without those whose id an item
        rejected here carries; each of those goes to ``found`` as RECORD_ID_DUPLICATE."""
        if not self.refused_ids:
            return records
        kept = []
        for record in records:
            if record.source_id in self.refused_ids:
                found.append(duplicate(record))
            else:
                kept.append(record)
        return kept

    def later_entries(self, part: "ParseResult") -> tuple[set[str], int]:
        """Join the deletions of ``part``, a later part of the same input, to this result's,
        where of an object and its DELETE in one delivery (OpenImmo) the later entry counts:
        ``part``'s deletions take out the records read before (and their ids' refusal: the
        object delivered again after its DELETE counts), ``part``'s objects take back the
        deletions read before. Within a part the chunker has done the same: an id both deleted
        and delivered there was deleted first. Lists are changed in place. Returns the ids
        ``part`` deletes and how many records that took out here (records already handed on
        are the caller's)."""
        gone = set(part.deletions)
        taken = 0
        if gone:
            kept = [record for record in self.records if record.source_id not in gone]
            taken = len(self.records) - len(kept)
            self.records[:] = kept
            self.refused_ids -= gone
        if self.deletions or gone:  # (most deliveries delete nothing)
            arrived = {record.source_id for record in part.records} | part.refused_ids
            self.deletions[:] = [gone_id for gone_id in self.deletions if gone_id not in arrived]
            self.deletions.extend(gone_id for gone_id in part.deletions if gone_id not in arrived)
        return gone, taken

    def take_lines(self, part: "ParseResult") -> None:
        """The lines of another part of the same input (the first line of an id counts)."""
        for source_id, line in part.lines.items():
            self.lines.setdefault(source_id, line)

    def locate(self, rejections: Iterable[Rejection]) -> None:
        """Give the rejections found after parsing (the record checks) the line their record
        starts on, where the input has lines."""
        if not self.lines:
            return
        for rejection in rejections:
            if rejection.line is None and rejection.source_id is not None:
                rejection.line = self.lines.get(rejection.source_id)


@dataclass(frozen=True)
class Invalid:
    """A field value the adapter itself found invalid (for a field the model cannot check,
    e.g. a free-text field with a fixed vocabulary in a template). ``build_record`` rejects the
    record with RECORD_FIELD_INVALID showing ``value``."""

    value: object


@dataclass(frozen=True)
class Format:
    name: str
    domain: str
    description: str
    parse: Callable[..., ParseResult]
    # formats whose records have a details endpoint (registry ``details``): the details
    # responses -> {source id: details object}, handed to ``parse`` as ``details=``
    details_index: Callable[[list[bytes]], dict[str, dict]] | None = None
    # formats that read a big input as a stream: the same as ``parse``, in parts of at most
    # about ``size`` records each (source ids may repeat across parts)
    chunks: Callable[..., Iterator[ParseResult]] | None = None
    # canonical field (dotted) -> the name the partner knows it by in this format (a CSV
    # template's column, an XML element): the feedback report names the field so
    field_names: Mapping[str, str] = field(default_factory=dict)
    # the names are what the partner reads as labels (a CSV template's column headers): the
    # report shows them alone; other formats' names (elements, keys) follow the label
    names_are_labels: bool = False
    # canonical field -> the words the format reads for it, where it takes a closed list (a CSV
    # template's Art, Kursart, ...): the feedback report names them for an invalid value
    field_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _rule_for(loc: tuple, error_type: str) -> str:
    name = str(loc[-1]) if loc else ""
    if error_type == "missing" or (error_type == "string_too_short"):
        return "RECORD_FIELD_MISSING"
    if name == "postal_code":
        return "ADDRESS_POSTAL_CODE_INVALID"
    if "cefr_levels" in loc or name == "german_level":
        return "COURSE_LEVEL_INVALID"
    if name == "course_type":
        return "COURSE_TYPE_UNKNOWN"
    return "RECORD_FIELD_INVALID"


def build_record(
    model: type[CanonicalRecord],
    fields: dict,
    result: ParseResult,
    line: int | None = None,
    refused: tuple[str, object] | None = None,
) -> CanonicalRecord | None:
    """Validate ``fields`` against ``model``; append the record or its rejections to ``result``.

    ``fields`` must hold ``partner_id``; ``source_id`` and ``title`` are used in rejections.
    None values are dropped first (at any depth), so an absent required field reads as missing.
    Values wrapped in ``Invalid`` are reported as invalid. Every problem of the record is
    reported, not only the first. ``line``: where the item starts in the input (CSV), kept
    in the rejections and in ``result.lines``. ``refused``: (rule code, value shown) when the
    adapter found the item out of the hub's scope (an object for sale): rejected with that
    rule besides whatever else it lacks.
    """
    result.items += 1
    source_id = _text(fields.get("source_id"))
    if line is not None and source_id is not None:
        result.lines.setdefault(source_id, line)
    flagged: list[tuple[str, object]] = []
    fields = _prepare(fields, "", flagged)
    problems: list[tuple[str, str | None, object]] = [
        ("RECORD_FIELD_INVALID", dotted, value) for dotted, value in flagged
    ]
    if refused is not None:
        problems.append((refused[0], None, refused[1]))
    record = None
    try:
        # model_validate's own work, without its wrapper's argument checks (2 us a record)
        record = model.__pydantic_validator__.validate_python(fields)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(part for part in error["loc"] if not isinstance(part, int))
            dotted = ".".join(str(part) for part in loc) or None
            code = _rule_for(loc, error["type"])
            value = error.get("input") if code != "RECORD_FIELD_MISSING" else None
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # a number read from the partner's text: '-50', not '-50.0'
            problems.append((code, dotted, value))
    if not problems:
        if record.source_id in result.refused_ids:  # an earlier item of this id was rejected
            result.rejections.append(duplicate(record, line))
            return None
        result.records.append(record)
        return record
    if source_id is not None:
        result.refused_ids.add(source_id)
    _add_shadow(model, fields, problems, result)
    seen: set[tuple[str, str]] = set()
    for code, dotted, value in problems:
        if (code, dotted or "") in seen:
            continue
        seen.add((code, dotted or ""))
        if isinstance(value, (dict, list)):
            value = None
        result.rejections.append(
            reject(
                code,
                partner_id=fields["partner_id"],
                domain=model.domain.value,
                source_id=source_id,
                field=dotted,
                value=value,
                title=_text(fields.get("title")),
                line=line,
            )
        )
    return None


# required fields a shadow may lack (missing, or taken out as invalid): a value the model
# takes, which the shadow holds only while it is validated; then the field is left empty,
# which no record check reports (a missing value never fails). The id is not among them:
# the checks' problems are the row's by its id
_STAND_INS: dict[str, object] = {
    "title": "-",
    "address": {"postal_code": "00000", "city": "-"},
    "address.postal_code": "00000",
    "address.city": "-",
    "course_type": "other",
}
# what is left empty for a stand-in (an address stays, its required parts are emptied)
_EMPTIED = {"address": ("address.postal_code", "address.city")}


def _add_shadow(model: type[CanonicalRecord], fields: dict,
                problems: list[tuple[str, str | None, object]], result: ParseResult) -> None:
    """The record without the fields that failed, in ``result.shadows`` when it is valid so;
    a required field it then lacks (a row without PLZ) is left empty (``_STAND_INS``), so that
    its other fields (the e-mail, the dates) are checked in the same run. None for a problem
    of the whole item (out of scope) or a missing id."""
    if any(dotted is None for _, dotted, _ in problems):
        return
    shadow = fields
    for _, dotted, _ in problems:
        shadow = _without(shadow, dotted.split("."))
    blank = sorted({dotted for _, dotted, _ in problems if dotted in _STAND_INS})
    for dotted in blank:
        shadow = _with(shadow, dotted.split("."), _STAND_INS[dotted])
    try:
        record = model.model_validate(shadow)
    except ValidationError:
        return
    for dotted in blank:
        for emptied in _EMPTIED.get(dotted, (dotted,)):
            record = _emptied(record, emptied.split("."))
    result.shadows.append(record)


def _with(fields: dict, path: list[str], value: object) -> dict:
    """A copy of ``fields`` with ``value`` at ``path`` where nothing is (the originals stay)."""
    out = dict(fields)
    if len(path) == 1:
        out.setdefault(path[0], value)
    elif isinstance(out.get(path[0], {}), dict):
        out[path[0]] = _with(out.get(path[0], {}), path[1:], value)
    return out


def _emptied(model, path: list[str]):
    """A copy of the validated ``model`` with None at ``path`` (unvalidated: a shadow only)."""
    if len(path) == 1:
        return model.model_copy(update={path[0]: None})
    inner = getattr(model, path[0])
    return model.model_copy(update={path[0]: _emptied(inner, path[1:])})


def _without(fields: dict, path: list[str]) -> dict:
    """A copy of ``fields`` without the value at ``path`` (the originals stay as they are)."""
    if path[0] not in fields:
        return fields
    out = dict(fields)
    if len(path) == 1 or not isinstance(out[path[0]], dict):
        del out[path[0]]
    else:
        out[path[0]] = _without(out[path[0]], path[1:])
    return out


_PLAIN = frozenset({str, int, float, bool, dt.date, dt.datetime})


def _prepare(fields: dict, prefix: str, flagged: list[tuple[str, object]]) -> dict:
    """One pass over the fields: None values dropped (at any depth, also in dicts inside
    lists), ``Invalid`` values taken out and noted with their dotted name in ``flagged``."""
    out = {}
    for key, value in fields.items():
        if value is None:
            continue
        if value.__class__ in _PLAIN:  # most values: one look-up instead of three isinstance
            out[key] = value
        elif isinstance(value, Invalid):
            flagged.append((prefix + key, value.value))
        elif isinstance(value, dict):
            out[key] = _prepare(value, f"{prefix}{key}.", flagged)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [compact(item) for item in value]
        else:
            out[key] = value
    return out


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def merged(parts: Iterable[ParseResult]) -> ParseResult:
    """One result of the parts of an input (``Format.chunks``, pages), later duplicates of a
    source id dropped as rejections; of an object and its DELETE the later entry counts."""
    result = ParseResult()
    for part in parts:
        result.items -= result.later_entries(part)[1]
        result.records.extend(result.refuse_repeats(part.records, result.rejections))
        result.refused_ids |= part.refused_ids
        result.rejections.extend(part.rejections)
        result.shadows.extend(part.shadows)
        result.take_lines(part)
        result.headers = {**part.headers, **result.headers}
        result.items += part.items
        result.mode = result.mode or part.mode
    return drop_duplicate_ids(result)


def duplicate(record: CanonicalRecord, line: int | None = None,
              first: str | None = None) -> Rejection:
    """The rejection of a record whose source id came before in the same delivery.
    ``first``: the organisation of the record that came first with the id, where known: when
    the two name different providers (two ``<anbieter>`` of an OpenImmo file), the message
    names both (``DUPLICATE_OTHER_PROVIDER``), so the partner learns that the ids must be
    unique across its providers."""
    rejection = reject("RECORD_ID_DUPLICATE", partner_id=record.partner_id,
                       domain=record.domain.value, source_id=record.source_id,
                       field="source_id", value=record.source_id, title=record.title,
                       line=line)
    this = record.organisation
    if first and this and " ".join(first.split()).casefold() != " ".join(this.split()).casefold():
        words = {"value": rejection.value, "first": first, "this": this}
        rejection.message = DUPLICATE_OTHER_PROVIDER[0].format(**words)
        rejection.message_en = DUPLICATE_OTHER_PROVIDER[1].format(**words)
    return rejection


def drop_duplicate_ids(result: ParseResult) -> ParseResult:
    """Keep the first record of each source id; later ones become rejections."""
    seen: dict[str, str | None] = {}  # source id -> the first record's organisation
    kept: list[CanonicalRecord] = []
    for record in result.records:
        if record.source_id in seen:
            result.rejections.append(duplicate(record, first=seen[record.source_id]))
            continue
        seen[record.source_id] = record.organisation
        kept.append(record)
    result.records = kept
    return result
