"""Reading the hub's CSV templates (``schemas/csv/*.md``), whatever Excel or LibreOffice made
of them: ``;``, ``,`` or a tab as separator (an Excel ``sep=`` line is honoured), UTF-8 with
or without BOM, Windows-1252 or Mac Roman (Excel for Mac), one header row whose names are
matched loosely, one record per row.

A template adapter declares its columns and a function from the row's cells to record fields;
``CsvTemplate.parse`` does the rest: unusable files raise ``FormatError``, a row shifted by an
unquoted separator is rejected alone, every other row goes through ``build_record``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from hub.formats.base import (
    FormatError,
    ParseResult,
    build_record,
    duplicate,
    refuse_web_page,
    utf16_codec,
)
from hub.formats.values import (
    COMMA_THOUSANDS_IN_TEXT,
    NO_VALUE,
    email_address,
    month_start,
    phone_number,
    postal_code,
    split_street,
    timestamp,
    web_url,
    yes_no,
)
from hub.models import CanonicalRecord
from hub.quality.rules import reject

Cells = dict[str, str | None]

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))

# the columns every template shares after its own ones (normalised key -> display name)
COMMON_COLUMNS = {
    "strasse": "Strasse",
    "plz": "PLZ",
    "ort": "Ort",
    "ags": "AGS",
    "link": "Link",
    "beschreibung": "Beschreibung",
    "ansprechperson": "Ansprechperson",
    "email": "E-Mail",
    "telefon": "Telefon",
    "kontaktoeffentlich": "Kontakt oeffentlich",
    "geaendertam": "Geaendert am",
}

# other names spreadsheets give the shared columns (normalised, as ``normalise_header`` makes
# them) -> the column they are; each template adds its own (``CsvTemplate.aliases``)
COMMON_ALIASES = {
    **dict.fromkeys(("postleitzahl",), "plz"),
    **dict.fromkeys(("stadt", "ortschaft"), "ort"),
    **dict.fromkeys(("strasseundhausnummer", "strassehausnummer", "strasseundhausnr",
                     "strassehausnr", "strasseundnr", "str", "adresse", "anschrift"), "strasse"),
    # the house number in a column of its own, beside Strasse (``address``)
    **dict.fromkeys(("hausnummer", "hausnr", "hnr"), "hausnummer"),
    **dict.fromkeys(("amtlichergemeindeschluessel", "gemeindeschluessel", "gemeindekennziffer"),
                    "ags"),
    **dict.fromkeys(("url", "website", "webseite", "internetseite", "internetadresse",
                     "homepage", "weblink", "internet"), "link"),
    **dict.fromkeys(("ansprechpartner", "ansprechpartnerin", "ansprechpartner/in",
                     "ansprechpartner*in", "ansprechpartner:in", "kontaktperson"),
                    "ansprechperson"),
    **dict.fromkeys(("mail", "emailadresse", "mailadresse"), "email"),
    **dict.fromkeys(("telefonnummer", "telefonnr", "tel", "telnr", "rufnummer", "fon"),
                    "telefon"),
    **dict.fromkeys(("kontaktveroeffentlichen",), "kontaktoeffentlich"),
    **dict.fromkeys(("aenderungsdatum", "zuletztgeaendert", "letzteaenderung", "aktualisiertam",
                     "geaendert"), "geaendertam"),
    **dict.fromkeys(("bezeichnung",), "titel"),
}


# canonical field -> column key, for the columns every template shares
COMMON_FIELD_COLUMNS = {
    "title": "titel",
    "description": "beschreibung",
    "address.street": "strasse",
    "address.house_number": "strasse",
    "address.postal_code": "plz",
    "address.city": "ort",
    "address.municipality_key": "ags",
    "url": "link",
    "contact.name": "ansprechperson",
    "contact.email": "email",
    "contact.phone": "telefon",
    "contact.public": "kontaktoeffentlich",
    "updated_at": "geaendertam",
}


def field_names(columns: dict[str, str], id_column: str, organisation_column: str,
                fields: dict[str, str]) -> dict[str, str]:
    """Canonical field -> the template's column header (``Format.field_names``): the common
    columns, the id and organisation columns and ``fields`` (field -> column key)."""
    keys = {**COMMON_FIELD_COLUMNS, "source_id": id_column, "organisation": organisation_column,
            **fields}
    return {name: columns[key] for name, key in keys.items()}


# --------------------------------------------------------------------------- reading the file


# 'ä', 'ö', 'ü', 'Ü' in Mac Roman; in Windows-1252 'Š', 'š', 'Ÿ', '†', which German text has not
_MAC_UMLAUTS = re.compile(rb"[\x8a\x9a\x9f\x86]")
# 'ä', 'ö', 'ü', 'ß', 'Ä', 'Ö', 'Ü' in Windows-1252; in Mac Roman '‰', 'ˆ', '¸', 'ﬂ', 'ƒ', '÷', '‹'
_WINDOWS_UMLAUTS = re.compile(rb"[\xe4\xf6\xfc\xdf\xc4\xd6\xdc]")


def _mac_roman(data: bytes) -> bool:
    """Text in Mac Roman, as Excel for Mac saves 'Comma Separated Values (.csv)': its umlauts
    are bytes that Windows-1252 reads as 'Š', 'š', 'Ÿ' ('Schšne Wohnung fŸr Familien'), and
    none of Windows-1252's umlauts is there."""
    return bool(_MAC_UMLAUTS.search(data)) and not _WINDOWS_UMLAUTS.search(data)


def decode(data: bytes, what: str) -> str:
    """UTF-8 (BOM dropped) or else Windows-1252, or Mac Roman where its umlauts say so
    (``_mac_roman``); UTF-16, as Excel saves 'Unicode-Text' (tab-separated, with a BOM;
    without one where the zero bytes of the first characters say which order); other bytes,
    a workbook and a web page (HTML) are refused."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # xlsx/ods (ZIP), old xls
        raise FormatError(
            f"not a {what}: the file is a spreadsheet workbook (Excel or LibreOffice), not CSV; "
            "save it as 'CSV UTF-8' or 'CSV (Trennzeichen-getrennt)'"
        )
    refuse_web_page(data, f"a {what}", "CSV")  # its lines would read as a header without columns
    utf16 = utf16_codec(data)
    if utf16 is not None:
        try:
            return data.decode(utf16).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            raise FormatError(f"not a {what}: UTF-16 text that breaks off or is damaged at byte "
                              f"{exc.start}; save the file as 'CSV UTF-8'") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if data.startswith(b"\xef\xbb\xbf"):  # a BOM, yet not UTF-8 throughout: drop the BOM
        data = data[3:]
    if _mac_roman(data):
        return data.decode("mac_roman")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"not a {what}: neither UTF-8 nor Windows-1252 text (byte 0x{data[exc.start]:02x} "
            f"at position {exc.start})"
        ) from None


def normalise_header(name: str) -> str:
    """'Kurs-ID' -> 'kursid', 'Geändert am' -> 'geaendertam', 'Max. Personen' -> 'maxpersonen';
    a form's marks are passed over: 'PLZ*' (a required column), 'Ort:' -> 'plz', 'ort'."""
    key = unicodedata.normalize("NFC", name).strip().lower()
    for old, new in _UMLAUTS:
        key = key.replace(old, new)
    return re.sub(r"[\s\-_.*:]+", "", key)


# what a spreadsheet adds to a column name: 'Wohnfläche (m²)', 'Kaltmiete in €'
_HEADER_UNIT = re.compile(r"(?i)\s*(?:\([^()]*\)|\bin\s+(?:€|eur|euro|m²|m2|qm))\s*$")


def _delimiter(header_line: str) -> str:
    """The separator the header uses most: ';', ',' or a tab (a spreadsheet's 'Text
    (tab-separated)' export); ';' when none stands out."""
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if max(counts.values()) else ";"


HEADER_SEARCH = 10  # the header row may come this many lines down (title lines above it)


def rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) for every row; the first one is the header. The number is
    the line of the file the row starts on (a quoted cell may run over several lines)."""
    lines = re.split(r"\r\n?|\n", text, maxsplit=HEADER_SEARCH + 1)  # CR alone: Excel for Mac
    first = lines[0].strip().strip('"')
    skip_first = False
    if re.fullmatch(r"sep=[;,]", first, re.IGNORECASE):  # Excel's separator hint line
        delimiter = first[-1]
        skip_first = True
    else:  # the first line with a separator: a title line above the header may have none
        delimiter = _delimiter(next((line for line in lines[:HEADER_SEARCH]
                                     if any(sep in line for sep in ";,\t")), lines[0]))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    width = 0  # cells of the header: the first row with two cells filled (not a title)
    try:
        start = 1
        for cells in reader:
            if skip_first:
                skip_first = False
            elif not width:
                if sum(1 for cell in cells if cell.strip()) >= 2:
                    width = len(cells)
                yield start, cells
            else:
                if reader.line_num > start:
                    _check_quotes(cells, delimiter, width, start, reader.line_num)
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FormatError(_overlong_cell(text, start, reader.line_num)) from None
        raise FormatError(f"not a readable CSV at line {reader.line_num}: {exc}") from None


def _filled(cells: list[str], index: int | None) -> bool:
    """Whether the cell at ``index`` holds something (None: no such column)."""
    return index is not None and index < len(cells) and bool(cells[index].strip())


def _cell(cell: str) -> str:
    """A cell's text as the partner meant it: blanks around it dropped; its line breaks as
    '\n' (Windows programs write '\r\n' inside a quoted cell, Excel for Mac a lone '\r', which
    would reach the directory's texts as they are); a value an export wrote as Excel's text
    formula so that Excel keeps its leading zeros, ``="01067"``, as its text."""
    cell = cell.strip()
    if "\r" in cell:
        cell = cell.replace("\r\n", "\n").replace("\r", "\n")
    if cell[:2] == '="' and cell[-1:] == '"' and len(cell) > 2:
        cell = cell[2:-1].replace('""', '"').strip()
    return cell


def _overlong_cell(text: str, start: int, end: int) -> str:
    """What a cell longer than the csv module reads (131,072 characters) says of the row
    that begins in line ``start``: mostly a quote opened there and never closed, whose cell
    took in the rows after it until the limit (in line ``end``), as ``_check_quotes`` says
    of a shorter file."""
    line, limit = text.split("\n", start)[start - 1], csv.field_size_limit()
    if '"' in line and end > start:
        return (f"line {start}: a quote (\") opens a cell that runs on past line {end} and "
                f"takes in the rows between; close the quote in line {start} or remove it")
    if '"' in line:
        return (f"line {start}: a quote (\") opens a cell of more than {limit:,} characters; "
                f"close the quote in line {start} or remove it")
    return (f"line {start}: a cell of more than {limit:,} characters, longer than any offer's "
            "text; is the file the CSV export?")


def _check_quotes(cells: list[str], delimiter: str, width: int, start: int, end: int) -> None:
    """A row that runs over several lines (a quoted cell with line breaks, as a spreadsheet
    writes a description with paragraphs) is refused when it looks like a quote that was
    opened and never closed: the cell holds whole rows of the file (a line with as many
    separators as the header), or holds separators while the row has fewer cells than the
    header. Read as one cell, those rows would vanish from the delivery (and a snapshot would
    withdraw their records); the whole file is refused instead, naming the line."""
    for cell in cells:
        if "\n" not in cell:
            continue
        rows_inside = any(line.count(delimiter) >= max(width - 1, 1) for line in cell.split("\n")[1:])
        if rows_inside or (len(cells) < width and delimiter in cell):
            raise FormatError(
                f"line {start}: a quote (\") opens a cell that runs on to line {end} and takes "
                f"in the rows between; close the quote in line {start} or remove it")


# --------------------------------------------------------------------------- shared columns


_LONGEST_NO_VALUE = max(map(len, NO_VALUE))


def _no_value(cells: Cells, keys: list[str]) -> None:
    """The cells of ``keys`` that say there is no value (``values.NO_VALUE``) made empty; the
    text columns are left out of ``keys``: there such a value is the partner's text."""
    for key in keys:
        written = cells[key]
        if written is not None and len(written) <= _LONGEST_NO_VALUE \
                and written.casefold() in NO_VALUE:
            cells[key] = None


# the error values of Excel (German and English) and LibreOffice a formula shows, and Excel's
# '###' for a value too wide for its column: saved into the CSV as they are shown
_SPREADSHEET_ERROR = re.compile(
    r"#(?:NV|N/A|WERT!|VALUE!|BEZUG!|REF!|DIV/0!|NAME\?|ZAHL!|NUM!|NULL!|ÜBERLAUF!|SPILL!|"
    r"CALC!|FELD!|FIELD!|BLOCKED!|UNKNOWN!|CONNECT!|BUSY!|GETTING_DATA)|#{3,}|Err:\d{3}",
    re.IGNORECASE)


def _cell_errors(cells: Cells) -> list[tuple[str, str]]:
    """The cells that hold a spreadsheet's error value (``_SPREADSHEET_ERROR``) made empty, in
    every column (no text is '#NV'); returns (column key, value) of each."""
    found = []
    for key, written in cells.items():
        if written and written[0] in "#Ee" and _SPREADSHEET_ERROR.fullmatch(written):
            cells[key] = None
            found.append((key, written))
    return found


_CODE_AND_TOWN = re.compile(r"^(\d{5})\s+(\S.*)$")


def address(cells: Cells) -> dict:
    """Strasse (with house number, or the house number in a column of its own), PLZ, Ort,
    AGS -> Address fields."""
    street, number = split_street(cells.get("strasse"))
    if number is None and street is not None:
        number = cells.get("hausnummer")
    code, town = postal_code(cells.get("plz")), cells.get("ort")
    # the town after the code in the PLZ cell ('66538 Neunkirchen'), as an address line has it
    both = _CODE_AND_TOWN.match(code) if isinstance(code, str) else None
    if both and (town is None or town.casefold() == both.group(2).casefold()):
        code, town = both.group(1), town or both.group(2)
    return {
        "street": street,
        "house_number": number,
        "postal_code": code,
        "city": town,
        "municipality_key": cells.get("ags"),
    }


def _zeros_dropped(lines: list[tuple[int, list[str]]], column: int | None) -> bool:
    """Whether the file's four-digit postal codes are codes that lost their leading zero: a
    spreadsheet that read the column as numbers drops it in every row, and codes with a zero
    lie in the east (Sachsen, Sachsen-Anhalt, Thüringen, Brandenburg), where the other codes
    start with 1. So: some four-digit codes, and every five-digit code starts with 1. A file
    with 66538 beside 6653 (or with 01067 beside 1067) has a code that lost a digit, not a
    zero: it stays an error."""
    if column is None:
        return False
    four = False
    for _, cells in lines:
        code = cells[column].strip() if column < len(cells) else ""
        if not (code.isascii() and code.isdigit()):
            continue
        if len(code) == 5 and code[0] != "1":
            return False
        four = four or len(code) == 4
    return four


def _restore_leading_zero(address: dict) -> str | None:
    """A spreadsheet that read the postal codes as numbers wrote 01067 as 1067: four digits
    get their zero back (where ``_zeros_dropped`` says the file's codes lost it). Returns the
    value as delivered when it did, else None."""
    postal_code = address.get("postal_code")
    if postal_code and len(postal_code) == 4 and postal_code.isascii() and postal_code.isdigit():
        address["postal_code"] = "0" + postal_code
        return postal_code
    return None


def _restore_ags_zero(address: dict) -> str | None:
    """A spreadsheet that read the AGS column as numbers wrote 03359010 as 3359010: seven
    digits get their zero back where the postal code is known to lie in the state or district
    the key then names (``hub.quality.regions``; a key of Saarland, 10..., that lost a digit
    does not pass for one of Schleswig-Holstein, 01...). Returns the value as delivered when
    it did, else None."""
    key = address.get("municipality_key")
    if not (isinstance(key, str) and len(key) == 7 and key.isascii() and key.isdigit()):
        return None
    from hub.quality.regions import compatible, postal_area

    area = postal_area(address.get("postal_code"))
    if area is None or not compatible(area, "0" + key):
        return None
    address["municipality_key"] = "0" + key
    return key


def contact(cells: Cells) -> dict | None:
    """Ansprechperson, E-Mail, Telefon; published only if 'Kontakt oeffentlich' says yes."""
    if not (cells.get("ansprechperson") or cells.get("email") or cells.get("telefon")):
        return None
    public = yes_no(cells.get("kontaktoeffentlich"))
    return {
        "name": cells.get("ansprechperson"),
        "email": email_address(cells.get("email")),
        "phone": phone_number(cells.get("telefon")),
        "public": False if public is None else public,
    }


def month_only_notes(value: str | None, name: str = "start_date") -> list[tuple[str, str, str]]:
    """The warning for a start that names only its month ('März 2028'): the templates'
    parsers publish the month's first day (``values.month_start``)."""
    return [("DATE_MONTH_ONLY", name, value)] if month_start(value) else []


def _changed_at(value: str | None) -> object:
    """Geaendert am: a date or a date and time; what is none ('gestern') is left out, with a
    warning (``parse``): the offer does not depend on it."""
    moment = timestamp(value)
    return None if isinstance(moment, str) else moment


def common_fields(cells: Cells, partner_id: str, id_column: str, organisation_column: str) -> dict:
    """The fields every template fills alike."""
    return {
        "partner_id": partner_id,
        "source_id": cells.get(id_column),
        "title": cells.get("titel"),
        # None: the pipeline fills in the partner's name
        "organisation": cells.get(organisation_column),
        "description": cells.get("beschreibung"),
        "address": address(cells),
        "url": web_url(cells.get("link")),
        "contact": contact(cells),
        "updated_at": _changed_at(cells.get("geaendertam")),
    }


def column_named(index: int, name: str) -> str:
    """A column as a spreadsheet shows it, by its letter and name: (6, 'Telefon') ->
    "G 'Telefon'"; the 27th column is AA."""
    letters, number = "", index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters} '{name.strip()[:100]}'"


# --------------------------------------------------------------------------- the template


@dataclass(frozen=True)
class CsvTemplate:
    """One CSV template: its columns, the required ones and how a row becomes a record."""

    what: str  # in messages: 'not a {what}: ...', e.g. 'course CSV'
    model: type[CanonicalRecord]
    columns: dict[str, str]  # normalised header -> the name the template documents
    required: tuple[str, ...]  # normalised headers, in the order messages name them
    id_column: str
    fields: Callable[[Cells, str], dict]  # (cells, partner_id) -> record fields
    # cells -> (rule code, canonical field, value) of the warnings a row gets while being
    # read (a value taken in another form than the template documents)
    notes: Callable[[Cells], list[tuple[str, str, str]]] | None = None
    # other names of the template's own columns (normalised) -> the column (see COMMON_ALIASES)
    aliases: Mapping[str, str] = field(default_factory=dict)
    # the columns of euro amounts -> their field: a comma before three digits is read as a
    # thousands separator there, with a warning (AMOUNT_COMMA_THOUSANDS)
    amounts: Mapping[str, str] = field(default_factory=dict)

    @property
    def text_columns(self) -> frozenset[str]:
        """The columns whose text is kept as written: the id, the title and the description
        (a title '-' is a placeholder the record checks name, TEXT_PLACEHOLDER)."""
        return frozenset((self.id_column, "titel", "beschreibung"))

    def _columns(self, names: list[str]) -> tuple[dict[str, int], list[str], list[str],
                                                 list[tuple[int, int]]]:
        """A row read as the header: column positions by key, the required columns it lacks,
        the named columns the template does not know, and the columns passed over because
        another one of the same meaning is read, as (passed over, read) positions. The first
        of repeated columns counts, a unit after the name is ignored ('Wohnfläche (m²)'),
        another usual name of a column is that column ('Postleitzahl', ``aliases``) unless
        the template's own name is there too (then that one is read)."""
        keys = [self._header_key(name) for name in names]
        positions: dict[str, int] = {}
        for exact in (True, False):  # the template's own names first, then the other names
            for index, key in enumerate(keys):
                if key is not None and key[1] == exact:
                    positions.setdefault(key[0], index)
        left = [name.strip() for name, key in zip(names, keys) if name.strip() and key is None]
        repeated = [(index, positions[key[0]]) for index, key in enumerate(keys)
                    if key is not None and positions[key[0]] != index]
        missing = [self.columns[key] for key in self.required if key not in positions]
        return positions, missing, left, repeated

    def _header_row(self, lines: Iterator[tuple[int, list[str]]]):
        """The header row (line, cells), its column positions, the columns it names that the
        template does not know, the columns passed over for another of the same meaning
        (``_columns``), and how many rows stand above it: the first row, or where a
        title stands above the header (a spreadsheet's heading, empty rows), the first of the
        next HEADER_SEARCH rows that has the required columns. Where none has them the whole
        file is refused, naming the columns the row most like a header lacks."""
        first = next(lines, None)
        if first is None:
            raise FormatError(f"not a {self.what}: no header row")
        closest: tuple[list[str], int] | None = None  # (required columns missing, line)
        for above in range(HEADER_SEARCH):
            positions, missing, left, repeated = self._columns(first[1])
            if not missing:
                return first, positions, left, repeated, above
            if closest is None or len(missing) < len(closest[0]):
                closest = (missing, first[0])
            first = next(lines, None)
            if first is None:
                break
        missing, line = closest
        # the row most like a header further down is named, not the title line above it
        where = "" if line == 1 else f" in line {line} (the row most like a header)"
        raise FormatError(f"not a {self.what}: required column(s) missing{where}: "
                          + ", ".join(missing))

    def _header_key(self, name: str) -> tuple[str, bool] | None:
        """A header as written -> ``_known`` of it, a unit after the name ignored."""
        return (self._known(normalise_header(name))
                or self._known(normalise_header(_HEADER_UNIT.sub("", name))))

    def _known(self, key: str) -> tuple[str, bool] | None:
        """The template's column of a normalised header name, and whether it is the
        template's own name (else another usual one); None for a column it does not know."""
        if key in self.columns:
            return key, True
        other = self.aliases.get(key) or COMMON_ALIASES.get(key)
        return (other, False) if other else None

    def parse(self, data: bytes, partner_id: str) -> ParseResult:
        source = decode(data, self.what)
        if not source.strip():
            raise FormatError(f"not a {self.what}: the input is empty")
        lines = rows(unicodedata.normalize("NFC", source))
        first, positions, unknown, repeated, above = self._header_row(lines)
        names = first[1]

        result = ParseResult()
        # the columns read under another usual name: the report names them so
        result.headers = {self.columns[key]: names[index].strip()
                          for key, index in positions.items()
                          if key in self.columns and not self._header_key(names[index])[1]}
        domain = self.model.domain.value
        if above:  # a title above the header: said, so that a misplaced header is noticed
            result.rejections.append(reject("CSV_HEADER_NOT_FIRST", partner_id=partner_id,
                                            domain=domain, value=str(first[0]), line=first[0]))
        for name in unknown:  # a renamed column would otherwise be lost without a word
            result.rejections.append(reject("CSV_COLUMN_UNKNOWN", partner_id=partner_id,
                                            domain=domain, value=name, line=first[0]))
        for passed, read in repeated:  # 'Telefon' twice, or beside 'Telefonnummer'
            result.rejections.append(reject(
                "CSV_COLUMN_REPEATED", partner_id=partner_id, domain=domain,
                value=column_named(passed, names[passed]), field=column_named(read, names[read]),
                line=first[0]))
        seen: set[str] = set()
        width = len(names)
        # read through once first: whether postal codes lost their zero, and how many cells
        # the rows have (some exports end every row, not the header, with a separator)
        lines = [(line, cells) for line, cells in lines if any(cell.strip() for cell in cells)]
        zeros_dropped = _zeros_dropped(lines, positions.get("plz"))
        counts = Counter(len(cells) for _, cells in lines)  # the most usual width; a tie: the narrower
        usual = max(counts.items(), key=lambda item: (item[1], -item[0]))[0] if counts else 0
        longest = max(width, usual)
        valued = [key for key in positions if key not in self.text_columns]
        # below the last row with an id and a title, a row of at most two cells without them is
        # no offer: a total, 'Stand: ...' (a note, not an offer rejected for what it lacks)
        ids, titles = positions.get(self.id_column), positions.get("titel")
        last_offer = max((line for line, cells in lines
                          if _filled(cells, ids) and _filled(cells, titles)), default=0)
        for line, cells in lines:  # fully empty rows (Excel leaves them at the end) do not count
            if last_offer and line > last_offer and sum(1 for cell in cells if cell.strip()) <= 2 \
                    and not (_filled(cells, ids) and _filled(cells, titles)):
                result.rejections.append(reject("CSV_ROW_AFTER_OFFERS", partner_id=partner_id,
                                                domain=domain, value=str(line), line=line))
                continue
            row: Cells = {
                key: (_cell(cells[index]) or None) if index < len(cells) else None
                for key, index in positions.items()
            }
            _no_value(row, valued)
            failed = _cell_errors(row)
            if len(cells) > longest or any(extra.strip() for extra in cells[width:]):
                # more cells than columns (and than the other rows have): a separator inside
                # an unquoted text shifted the row, so every value after it would land in the
                # wrong column, even when the cells it pushed out are empty
                result.reject_item(
                    "RECORD_UNREADABLE",
                    partner_id=partner_id,
                    domain=domain,
                    source_id=row.get(self.id_column),
                    value=(
                        f"Zeile {line}: {len(cells)} Zellen, die Kopfzeile hat {width} Spalten "
                        "(Trennzeichen im Text? Text in Anführungszeichen setzen)"
                    ),
                    title=row.get("titel"),
                    line=line,
                )
                continue
            fields = self.fields(row, partner_id)
            address = fields.get("address") or {}
            zero_added = _restore_leading_zero(address) if zeros_dropped else None
            ags_zero_added = _restore_ags_zero(address)
            record = build_record(self.model, fields, result, line=line)
            notes = [(code, name, value) for code, name, value in (
                ("ADDRESS_POSTAL_CODE_ZERO_ADDED", "address.postal_code", zero_added),
                ("ADDRESS_AGS_ZERO_ADDED", "address.municipality_key", ags_zero_added)) if value]
            notes += [("CSV_CELL_ERROR", names[positions[key]].strip(), written)
                      for key, written in failed]
            notes += [("AMOUNT_COMMA_THOUSANDS", name, row[key]) for key, name in self.amounts.items()
                      if row.get(key) and COMMA_THOUSANDS_IN_TEXT.search(row[key])]
            if row.get("geaendertam") and isinstance(timestamp(row["geaendertam"]), str):
                notes.append(("CHANGED_AT_UNREADABLE", "updated_at", row["geaendertam"]))
            for code, name, value in [*notes, *(self.notes(row) if self.notes else ())]:
                result.rejections.append(reject(
                    code, partner_id=partner_id, domain=self.model.domain.value,
                    source_id=row.get(self.id_column), field=name, value=value,
                    title=row.get("titel"), line=line))
            if record is None:
                continue
            if record.source_id in seen:  # the first row of an id counts
                result.records.pop()
                result.rejections.append(duplicate(record, line=line))
            seen.add(record.source_id)
        return result
