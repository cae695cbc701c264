"""OpenImmo XML (the German real-estate exchange format) -> HousingVacancy.

One ``<openimmo>`` document holds ``<uebertragung umfang="VOLL|TEIL">`` (full snapshot or
delta) and one or more ``<anbieter>`` with their ``<immobilie>`` objects. An object whose
``verwaltung_techn/aktion/@aktionart`` is ``DELETE`` (or ``REFERENZ``: already let or sold, kept
by the agent only as a reference) is a deletion of ``objektnr_extern``, not a vacancy (one
without ``objektnr_extern`` deletes nothing and is rejected as HOUSING_DELETE_WITHOUT_ID). Of
an object and a DELETE of it in one delivery the later entry in the file counts. An
object for sale, for commercial use or of a kind that is no dwelling (``vermarktungsart``,
``nutzungsart``, ``objektart``) is rejected as HOUSING_NOT_FOR_RENT: the directory lists
housing to rent.

A ZIP archive, as real estate software packs a delivery (the XML file beside its pictures),
is read from its one XML file (``_xml_in_zip``).

The document is read as a stream (lxml iterparse): each ``<immobilie>`` is mapped when it
ends and then dropped, so a large delivery does not stay in memory as a tree (UTF-16/32
documents, which lxml reads only whole, are walked as a tree). Element names are matched by
local name, so documents with or without the OpenImmo namespace are read alike. Documents
that declare entities are refused before anything is expanded (XML bombs, external
entities). A document that declares ISO-8859-1 or Windows-1252 while its bytes are UTF-8 with
umlauts (some exporters write that) is read as UTF-8; one that declares ISO-8859-1 while its
bytes hold Windows-1252's '€' or '–' (0x80-0x9F) is read as Windows-1252.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from hub.formats.base import (
    Format,
    FormatError,
    ParseResult,
    build_record,
    drop_duplicate_ids,
    merged,
    refuse_web_page,
)
from hub.formats.values import (
    NO_WORDS,
    YES_WORDS,
    area,
    country_code,
    date_in_text,
    deposit,
    email_address,
    floor,
    geo_point,
    integer,
    markup_as_text,
    money,
    number,
    phone_number,
    postal_code,
    split_street,
    timestamp,
    yes_no,
)
from hub.models import HousingVacancy, SyncMode
from hub.quality.rules import reject

_PROPERTY_TYPES = {"wohnung": "apartment", "haus": "house", "zimmer": "room"}
# kinds of <objektart> that are no dwelling (the hub lists housing to rent only)
_NOT_HOUSING = frozenset({
    "grundstueck", "buero_praxen", "einzelhandel", "gastgewerbe", "hallen_lager_prod",
    "land_und_forstwirtschaft", "parken", "freizeitimmobilie_gewerblich",
    "zinshaus_renditeobjekt",
})
# children of <objektart> that say nothing about the kind of object
_NOT_A_KIND = {"objektart_zusatz", "user_defined_simplefield", "user_defined_anyfield"}

# xsd:boolean
# xsd:boolean, and the German words some exporters write instead ('ja', 'nein')
_TRUE = frozenset({"true", "1"}) | YES_WORDS
_FALSE = frozenset({"false", "0"}) | NO_WORDS

_MODES = {"VOLL": SyncMode.SNAPSHOT, "TEIL": SyncMode.DELTA}
_REMOVING_ACTIONS = {"DELETE", "REFERENZ"}

# Patterns of the raw bytes that announce entity declarations, in the encodings XML allows.
_ENTITY_MARKERS = tuple(
    "<!ENTITY".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be")
)
_DOCTYPE_MARKERS = tuple(
    "<!DOCTYPE".encode(codec) for codec in ("ascii", "utf-16-le", "utf-16-be")
)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # an attachment of more than 10 MB in base64 (<anhanginhalt>) is one text node
        remove_comments=True,
    )


# --------------------------------------------------------------------------- tree helpers


def _local(element: etree._Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):  # processing instructions, entities
        return None
    return tag.rpartition("}")[2] if tag.startswith("{") else tag


class _Paths:
    """The elements of one ``<immobilie>`` by path of local names ("geo/plz"), read in one
    walk: the first child of each name and that child's own children (the first of each
    name). The mapping asks for nothing deeper (below that, ``_local``); one walk instead of a
    search per field. Namespaced and prefixed documents are read alike: the walk takes each
    tag's local name (stripping the namespaces from the whole tree first cost as much as the
    walk itself)."""

    def __init__(self, immobilie: etree._Element):
        self.found = found = {}
        for child in immobilie:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag[0] == "{":
                tag = tag.rpartition("}")[2]
            if tag in found:
                continue
            found[tag] = child
            for grand in child:
                name = grand.tag
                if isinstance(name, str):
                    if name[0] == "{":
                        name = name.rpartition("}")[2]
                    found.setdefault(tag + "/" + name, grand)

    def get(self, path: str) -> etree._Element | None:
        return self.found.get(path)

    def text(self, path: str) -> str | None:
        return _text(self.found.get(path))


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    value = element.text if not len(element) else "".join(element.itertext())
    value = value.strip() if value else None
    return value or None


def _attr(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = (element.get(name) or "").strip()
    return value or None


# an amount in euro written with German thousands dots alone ('1.250', '12.500')
_THOUSANDS_DOTS = re.compile(r"^[1-9]\d{0,2}(?:\.\d{3})+$")
_LEAST_EURO = 10.0  # under this an amount per month read with a decimal point is no price


def _euro(text: str | None) -> object:
    """An amount in euro (xsd:decimal: a dot is the decimal point, '650.50'; a decimal comma
    as exporters write it, '650,50'). A German thousands dot ('1.250') is read as one where
    the decimal point would make an amount of a few cents or euro (1.25): exporters that
    format prices in German write it so, and no rent, charge or deposit is that small."""
    amount = money(text, machine=True)
    if text is not None and _THOUSANDS_DOTS.match(text.strip()) and (
            not isinstance(amount, float) or amount < _LEAST_EURO):
        return money(text)
    return amount


def _rent(text: str | None) -> object:
    """A rent (``_euro``); 0.00 is what exporters write for a price not filled in: no rent,
    not a free flat."""
    amount = _euro(text)
    return None if amount == 0 else amount


def _boolean(text: str | None) -> object:
    return yes_no(text, yes=_TRUE, no=_FALSE)


# --------------------------------------------------------------------------- record mapping


def _property_type(paths: _Paths) -> str:
    objektart = paths.get("objektkategorie/objektart")
    for child in objektart if objektart is not None else ():
        name = _local(child)
        if name and name not in _NOT_A_KIND:
            return _PROPERTY_TYPES.get(name, "other")
    return "other"


def _not_for_rent(paths: _Paths) -> str | None:
    """Why an object is no housing to rent, in OpenImmo's terms ('vermarktungsart KAUF',
    'nutzungsart GEWERBE', 'objektart parken'); None for housing to rent (or when the
    document does not say: the elements are optional)."""
    marketing = paths.get("objektkategorie/vermarktungsart")
    if marketing is not None and _boolean(_attr(marketing, "MIETE_PACHT")) is not True:
        offered = [name for name in ("KAUF", "ERBPACHT", "LEASING")
                   if _boolean(_attr(marketing, name)) is True]
        if offered:
            return "vermarktungsart " + ", ".join(offered)
    use = paths.get("objektkategorie/nutzungsart")
    if use is not None and not any(_boolean(_attr(use, name)) is True
                                   for name in ("WOHNEN", "WAZ")):
        other = [name for name in ("GEWERBE", "ANLAGE") if _boolean(_attr(use, name)) is True]
        if other:
            return "nutzungsart " + ", ".join(other)
    kind = paths.get("objektkategorie/objektart")
    for child in kind if kind is not None else ():
        name = _local(child)
        if name in _NOT_HOUSING:
            return "objektart " + name
        if name and name not in _NOT_A_KIND:
            break
    return None


def _geo(paths: _Paths) -> dict | None:
    point = paths.get("geo/geokoordinaten")
    return geo_point(_attr(point, "breitengrad"), _attr(point, "laengengrad"))


def _contact(paths: _Paths) -> dict | None:
    if paths.get("kontaktperson") is None:
        return None
    person = "kontaktperson/"
    name = " ".join(part for part in (paths.text(person + "vorname"), paths.text(person + "name"))
                    if part)
    email = email_address(paths.text(person + "email_direkt") or paths.text(person + "email_zentrale"))
    phone = phone_number(paths.text(person + "tel_durchw") or paths.text(person + "tel_zentrale"))
    if not (name or email or phone):
        return None
    return {
        "name": name or None,
        "email": email,
        "phone": phone,
        "public": _boolean(paths.text(person + "adressfreigabe")) or False,
    }


def _deposit(amount: str | None, words: str | None, cold_rent: object) -> object:
    """<kaution> (a decimal); else <kaution_text> when it says an amount or a number of rents
    ('3 Monatsmieten'); other free text there is no deposit figure, and no fault."""
    if amount is not None:
        return _euro(amount)
    read = deposit(words, cold_rent)
    return read if isinstance(read, float) else None


# the prices per time unit, which a preis_zeiteinheit other than a month leaves out
_RENTS = ("kaltmiete", "nettokaltmiete", "warmmiete", "pauschalmiete", "nebenkosten", "heizkosten")


def _rent_period(paths: _Paths) -> str | None:
    """The time unit the object's prices are per where it is not a month
    (``preise/preis_zeiteinheit/@zeiteinheit`` TAG, WOCHE, JAHR: a flat let by the day or
    week); None for a month or when the document does not say."""
    unit = (_attr(paths.get("preise/preis_zeiteinheit"), "zeiteinheit") or "").upper()
    return unit if unit and unit != "MONAT" else None


def _fields(paths: _Paths, organisation: str | None, partner_id: str, period: str | None) -> dict:
    text = paths.text

    municipality = text("geo/gemeindecode")
    available_text = text("verwaltung_objekt/verfuegbar_ab")
    available = date_in_text(available_text)
    if available is None:  # abdatum is the typed 'available from' date of OpenImmo
        available = date_in_text(text("verwaltung_objekt/abdatum"))
    barrier_free = _boolean(text("ausstattung/barrierefrei"))
    if barrier_free is None and _boolean(text("ausstattung/rollstuhlgerecht")) is True:
        barrier_free = True
    cold_rent = _rent(text("preise/kaltmiete")) or _rent(text("preise/nettokaltmiete"))
    # all-inclusive rent (rooms, furnished flats): what the tenant pays a month in all
    warm_rent = _rent(text("preise/warmmiete")) or _rent(text("preise/pauschalmiete"))
    service, heating = _euro(text("preise/nebenkosten")), _euro(text("preise/heizkosten"))
    if period is not None:  # prices per day or week (_rent_period): no rent per month (a warning)
        cold_rent = warm_rent = service = heating = None
    street, house_number = text("geo/strasse"), text("geo/hausnummer")
    if house_number is None:  # the number in <strasse>: 'Königstraße 12a'
        street, house_number = split_street(street)

    return {
        "partner_id": partner_id,
        "source_id": text("verwaltung_techn/objektnr_extern"),
        "title": text("freitexte/objekttitel"),
        "organisation": organisation,
        "description": markup_as_text(text("freitexte/objektbeschreibung")
                                      or text("freitexte/dreizeiler")),
        "address": {
            "street": street,
            "house_number": house_number,
            "postal_code": postal_code(text("geo/plz")),  # 'D-66538' as the other formats
            "city": text("geo/ort"),
            "state": text("geo/bundesland"),
            "municipality_key": (
                municipality if municipality and re.fullmatch(r"\d{8}", municipality) else None
            ),
            "country": country_code(_attr(paths.get("geo/land"), "iso_land")),
        },
        "geo": _geo(paths),
        "contact": _contact(paths),
        "updated_at": timestamp(text("verwaltung_techn/stand_vom")),
        "property_type": _property_type(paths),
        # OpenImmo numbers are xsd:decimal: a dot is always the decimal point
        "rooms": number(text("flaechen/anzahl_zimmer"), machine=True),
        "living_area": area(text("flaechen/wohnflaeche"), machine=True),
        "cold_rent": cold_rent,
        "warm_rent": warm_rent,
        "service_charges": service,
        "heating_costs": heating,
        "deposit": _deposit(text("preise/kaution"), text("preise/kaution_text"), cold_rent),
        "available_from": available,
        "available_from_text": available_text,
        "wbs_required": _boolean(text("verwaltung_objekt/wbs_sozialwohnung")),
        "barrier_free": barrier_free,
        "max_persons": integer(text("verwaltung_objekt/max_personen")),
        "floor": floor(text("geo/etage")),
    }


# --------------------------------------------------------------------------- parse


def _refuse_entities(data: bytes) -> None:
    if not data or not data.strip():
        raise FormatError("not an OpenImmo document: the input is empty")
    if any(marker in data for marker in _DOCTYPE_MARKERS) and any(
        marker in data for marker in _ENTITY_MARKERS
    ):
        raise FormatError("refused: the document declares XML entities (DOCTYPE with <!ENTITY>)")


# libxml2's words for the two mistakes exporters make most, and what to do about them
_SYNTAX_HINTS = (
    (re.compile(r"(?i)invalid bytes in character encoding|not proper utf-8|encoding error"),
     "the bytes are not in the encoding the XML declaration names (UTF-8 if it names none): "
     "export as UTF-8, or declare the encoding the file is in, e.g. "
     "<?xml version=\"1.0\" encoding=\"windows-1252\"?>"),
    (re.compile(r"(?i)xmlParseEntityRef|EntityRef: expecting ';'"),
     "a '&' in a text must be written '&amp;' (e.g. 'Müller &amp; Söhne')"),
)


def _syntax_error(exc: etree.XMLSyntaxError) -> FormatError:
    line, column = exc.position if exc.position else (exc.lineno, 0)
    message = (exc.msg or str(exc)).splitlines()[0]
    message = re.sub(r",? line \d+, column \d+.*$", "", message)
    hint = next((hint for pattern, hint in _SYNTAX_HINTS if pattern.search(message)), None)
    return FormatError(f"invalid XML at line {line} column {column}: {message}"
                       + (f"; {hint}" if hint else ""))


def _check_root(root: etree._Element) -> None:
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise FormatError("refused: the document declares XML entities (DOCTYPE with <!ENTITY>)")
    if _local(root) != "openimmo":
        raise FormatError(
            f"not an OpenImmo document: the root element is <{_local(root) or root.tag}>, "
            "expected <openimmo>"
        )


def _wide(data: bytes) -> bool:
    """UTF-16 or UTF-32 (NUL bytes in the first characters): lxml reads those only whole."""
    return b"\x00" in data[:4]


# the elements the stream stops at (any namespace or none)
_STOPS = tuple("{*}" + name for name in ("openimmo", "uebertragung", "anbieter", "firma", "immobilie"))


_SINGLE_BYTE_DECLARED = re.compile(
    rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*\bencoding\s*=\s*["']"""
    rb"""(?:iso-8859-1|iso-8859-15|latin-?1|windows-1252|cp1252)["']""", re.IGNORECASE)


def _utf8_declared_otherwise(head: bytes) -> bool:
    """A document that declares a single-byte encoding (ISO-8859-1, Windows-1252) while its
    bytes are UTF-8 with umlauts in it, as some exporters write: read as latin-1 every 'ü'
    would become 'Ã¼'. German text in latin-1 is almost never valid UTF-8 ('ü' is one byte
    0xFC, which UTF-8 never has), so valid UTF-8 beyond ASCII settles it."""
    if not _SINGLE_BYTE_DECLARED.match(head) or head.isascii():
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a cut sequence at the end is fine
    except UnicodeDecodeError:
        return False
    return True


_LATIN1_DECLARED = re.compile(
    rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*\bencoding\s*=\s*["'](?:iso-8859-1|latin-?1)["']""",
    re.IGNORECASE)
_C1_BYTES = re.compile(rb"[\x80-\x9f]")


def _encoding_meant(head: bytes) -> str | None:
    """The encoding a document is really in where its declaration says otherwise, else None:
    UTF-8 declared as a single-byte encoding (``_utf8_declared_otherwise``), and Windows-1252
    declared as ISO-8859-1, as Windows exporters write it (browsers read such a declaration
    as Windows-1252 for this reason): its bytes 0x80-0x9F are '€', '–', '„' there, and
    control characters nobody writes in ISO-8859-1."""
    if _utf8_declared_otherwise(head):
        return "utf-8"
    if _LATIN1_DECLARED.match(head) and _C1_BYTES.search(head):
        return "windows-1252"
    return None


def _events(source: BinaryIO, wide: bool, encoding: str | None = None):
    """(event, element) of the document's start and end events of the _STOPS elements, with
    the parser's safety settings, once its root has been checked; errors as FormatError.
    ``encoding``: the document's encoding when its declaration is wrong."""
    try:
        if wide:
            root = etree.fromstring(source.read(), _parser())
            if root is None:
                raise FormatError("invalid XML: no root element")
            _check_root(root)
            yield from etree.iterwalk(root, events=("start", "end"), tag=_STOPS)
            return
        context = etree.iterparse(
            source, events=("start", "end"), tag=_STOPS, resolve_entities=False,
            no_network=True, load_dtd=False, huge_tree=True, remove_comments=True,
            encoding=encoding,
        )
        checked = False
        for event, element in context:
            if not checked:
                _check_root(element.getroottree().getroot())
                checked = True
            yield event, element
        if not checked:  # no element the stream stops at: what is the document?
            if context.root is None:
                raise FormatError("invalid XML: no root element")
            _check_root(context.root)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    except ValueError as exc:  # lxml refuses some inputs before parsing
        raise FormatError(f"invalid XML: {exc}") from None


_HEAD = 1 << 20  # the part of a document read from a file checked for entity declarations
_ZIP = b"PK\x03\x04"
# the most an archive's XML file may unpack to: the fetch's limit for a body (a few MB of
# ZIP can unpack to gigabytes, which the limit on what is fetched no longer bounds)
UNPACKED_LIMIT = 512 * 1024 * 1024


def _xml_in_zip(source: BinaryIO) -> BinaryIO:
    """The OpenImmo XML file of a ZIP archive, as real estate software packs a delivery (the
    XML file and its attachments beside it), to read as a stream; FormatError for an archive
    that cannot be read, is encrypted, or holds no or several XML files."""
    try:
        archive = zipfile.ZipFile(source)
        found = [info for info in archive.infolist()
                 if not info.is_dir() and info.filename.lower().endswith(".xml")
                 and not info.filename.startswith("__MACOSX/")]  # a Mac's resource forks
        if len(found) != 1:
            names = ", ".join(info.filename for info in found[:5]) + (", ..." if len(found) > 5 else "")
            held = f"{len(found)} XML files ({names})" if found else "no XML file"
            raise FormatError(f"not an OpenImmo delivery: the ZIP archive holds {held}; "
                              "the hub reads an archive with one OpenImmo XML file (pictures "
                              "and documents beside it are passed over)")
        if found[0].flag_bits & 0x1:
            raise FormatError("not an OpenImmo delivery: the ZIP archive is password-protected; "
                              "send it without a password")
        if found[0].file_size > UNPACKED_LIMIT:  # what it unpacks to: zipfile reads no more
            raise FormatError(
                f"not an OpenImmo delivery the hub reads: {found[0].filename} in the ZIP archive "
                f"unpacks to {found[0].file_size:,} bytes, more than the limit of "
                f"{UNPACKED_LIMIT:,}; send the deliveries in smaller parts")
        return archive.open(found[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise FormatError(f"not an OpenImmo delivery: a ZIP archive that cannot be read "
                          f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None


def chunks(data: bytes | BinaryIO, partner_id: str, size: int = 10_000) -> Iterator[ParseResult]:
    """Reads the document as a stream: each ``<immobilie>`` is mapped when it ends and then
    dropped from the tree, and the records are handed on in parts of about ``size``, so memory
    does not grow with the number of objects. ``data``: the bytes, or a binary file (whose
    first MiB is checked for entity declarations; lxml never resolves any anyway)."""
    if isinstance(data, (bytes, bytearray)):
        head, source = data, io.BytesIO(data)
    else:
        head, source = data.read(_HEAD), data
        source.seek(0)
    if head.startswith(_ZIP):  # the XML file of an OpenImmo ZIP, its pictures passed over
        source = _xml_in_zip(source)
        head = source.read(_HEAD)
        source.seek(0)
    refuse_web_page(head, "an OpenImmo document", "XML")  # libxml2's words would puzzle
    _refuse_entities(head)
    result = ParseResult()
    domain = HousingVacancy.domain.value
    organisation: str | None = None
    seen_firma = False
    waiting: list[etree._Element] = []  # objects of a provider whose <firma> comes after them
    wide = _wide(head)
    streaming = not wide  # a whole tree (iterwalk) is not pruned while it is walked
    # the ids of this part's accepted records: of an object and its DELETE in one delivery
    # the later entry counts; a DELETE after the object takes its record out here, an object
    # after its DELETE is kept beside the deletion (which may still take out the object's
    # record of an earlier part: ``ParseResult.later_entries``, as the readers of parts do it)
    recorded: set[str] = set()

    def take(immobilie: etree._Element) -> None:
        paths = _Paths(immobilie)
        action = (_attr(paths.get("verwaltung_techn/aktion"), "aktionart") or "").upper()
        if action in _REMOVING_ACTIONS:
            source_id = paths.text("verwaltung_techn/objektnr_extern")
            if source_id:
                if source_id in recorded:  # the object came before in this part: deleted
                    _take_out(result, source_id)
                    recorded.discard(source_id)
                result.refused_ids.discard(source_id)  # delivered again after this, it counts
                result.deletions.append(source_id)
            else:
                result.reject_item("HOUSING_DELETE_WITHOUT_ID", partner_id=partner_id,
                                   domain=domain, field="source_id", value=action,
                                   title=paths.text("freitexte/objekttitel"))
            return
        refused = _not_for_rent(paths)
        period = _rent_period(paths)
        record = build_record(HousingVacancy, _fields(paths, organisation, partner_id, period), result,
                              refused=refused and ("HOUSING_NOT_FOR_RENT", refused))
        if record is not None:
            recorded.add(record.source_id)
            if period is not None and any(paths.text("preise/" + name) for name in _RENTS):
                result.rejections.append(reject(
                    "HOUSING_RENT_PERIOD_NOT_MONTHLY", partner_id=partner_id, domain=domain,
                    source_id=record.source_id, field="cold_rent", value=period,
                    title=record.title))

    encoding = None if wide else _encoding_meant(head[:_HEAD])
    for event, element in _events(source, wide, encoding):
        if event == "start":
            continue
        parent = element.getparent()
        name, above = _local(element), _local(parent) if parent is not None else None
        if above == "openimmo" and name == "uebertragung":
            result.mode = _MODES.get((_attr(element, "umfang") or "").upper())
        elif above == "anbieter" and name == "firma" and not seen_firma:
            organisation, seen_firma = _text(element), True
            for immobilie in waiting:
                take(immobilie)
            waiting.clear()
        elif above == "anbieter" and name == "immobilie":
            if seen_firma:
                take(element)
                if streaming:
                    element.clear()
                    while element.getprevious() is not None:  # the objects already read
                        del parent[0]
            else:
                waiting.append(element)
        elif above == "openimmo" and name == "anbieter":
            for immobilie in waiting:  # a provider without <firma>
                take(immobilie)
            waiting.clear()
            organisation, seen_firma = None, False
            if streaming:
                element.clear()
        if result.items >= size:
            yield drop_duplicate_ids(result)
            result = ParseResult(mode=result.mode)
            recorded.clear()
    yield drop_duplicate_ids(result)


def _take_out(result: ParseResult, deleted: str) -> None:
    """The record of ``deleted`` read before its DELETE in the same part, taken out again: the
    later entry counts, and the object is no item of the delivery any more."""
    kept = [record for record in result.records if record.source_id != deleted]
    result.items -= len(result.records) - len(kept)
    result.records = kept


def parse(data: bytes, partner_id: str) -> ParseResult:
    return merged(chunks(data, partner_id))


FORMAT = Format(
    name="openimmo",
    domain="housing",
    description="OpenImmo XML (1.2.x), full (VOLL) or delta (TEIL) delivery, DELETE honoured",
    parse=parse,
    chunks=chunks,
    # the feedback report names a field as the partner's export calls it
    field_names={
        "source_id": "objektnr_extern",
        "title": "objekttitel",
        "address.postal_code": "geo/plz",
        "address.city": "geo/ort",
        "address.street": "geo/strasse",
        "address.country": "geo/land",
        "geo": "geo/geokoordinaten",
        "floor": "geo/etage",
        "rooms": "flaechen/anzahl_zimmer",
        "living_area": "flaechen/wohnflaeche",
        "cold_rent": "preise/kaltmiete",
        "warm_rent": "preise/warmmiete",
        "service_charges": "preise/nebenkosten",
        "heating_costs": "preise/heizkosten",
        "deposit": "preise/kaution",
        "available_from": "verwaltung_objekt/verfuegbar_ab",
        "max_persons": "verwaltung_objekt/max_personen",
        "wbs_required": "verwaltung_objekt/wbs_sozialwohnung",
        "barrier_free": "ausstattung/barrierefrei",
        "contact.email": "kontaktperson/email_direkt",
        "contact.phone": "kontaktperson/tel_durchw",
        "updated_at": "verwaltung_techn/stand_vom",
    },
)
