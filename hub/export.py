"""Exports of the published directory: NDJSON, CSV and an HSDS 3.0 package.

Every export is written into a temporary folder beside the target and renamed into place at
the end, so the target holds either the previous export or the complete new one, never half
of one. A target that exists must be empty or a previous export of the hub (it holds
``export.json``, and no file that export did not write); anything else is refused rather
than overwritten.

- ``ndjson``: ``<domain>.ndjson``, one directory entry (the JSON the read API serves) a line.
- ``csv``: ``<domain>.csv``, flat columns per domain (:data:`CSV_COLUMNS`), comma-separated,
  UTF-8 with a byte order mark (so spreadsheet programs detect the encoding and show
  umlauts), lists joined with ``|``. Text cells that start with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return get a leading ``'`` so a spreadsheet never runs them as a formula,
  unless they hold nothing but a number (``+49 6821 1234``: no formula can hide in digits).
  Number and boolean cells are written from typed values and never changed (``-5.5`` stays a
  number).
- ``csv-excel``: the same columns for a spreadsheet set to German (Excel opens it with a
  double click): ``;``-separated, numbers with a decimal comma (``605,5``), and a text cell
  that a spreadsheet would read as a number or a date (the postal code ``01067``, the house
  number ``8-10``, a phone number) written as the text formula ``="01067"``, so that it stays
  what it is; days stay ``2026-12-01``, which Excel reads as a date in every language.
- ``hsds``: one JSON array per HSDS table (``services.json``, ``organizations.json``,
  ``locations.json``, ...) and ``datapackage.json`` describing them; see
  ``schemas/hsds-profile-de.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import sqlalchemy as sa

from hub import hsds
from hub.store.db import begin_writes
from hub.store.publish import feed_checkpoint
from hub.store.tables import changes, directory

FORMATS = ("ndjson", "csv", "csv-excel", "hsds")
DOMAINS = ("jobs", "courses", "housing")
MARKER = "export.json"
BATCH = 1000

Progress = Callable[[str], None]


class ExportError(Exception):
    """The export cannot be written. The message is one line for a person."""


# ----------------------------------------------------------------------------- reading


def iter_entries(engine: sa.Engine, domains: Iterable[str] = DOMAINS,
                 snapshot: dict | None = None, modified: bool = False) -> Iterator[tuple]:
    """(domain, entry) of the directory, by domain and entity id. One streamed statement: a
    consistent snapshot on both databases, so an export never holds half a publication.
    ``snapshot``, when given, gets ``changes_seq``: the newest item of the change feed in the
    same snapshot (a publication writes the directory and its changes in one transaction),
    from which a reader of the export follows ``/v1/changes?after=``, and
    ``changes_checkpoint``, the feed's checkpoint there (``&checkpoint=``). ``modified``: (domain,
    entry, when the entry last changed in the directory)."""
    with engine.connect() as conn:
        if snapshot is not None and conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")  # both reads, one snapshot
        with conn.begin():
            if snapshot is not None:
                begin_writes(conn)  # SQLite: the transaction (and its snapshot) from the first read
                newest = conn.execute(sa.select(changes.c.seq, changes.c.publication_id)
                                      .order_by(changes.c.seq.desc()).limit(1)).first()
                snapshot["changes_seq"] = newest.seq if newest else 0
                snapshot["changes_checkpoint"] = feed_checkpoint(
                    conn, newest.publication_id if newest else None)
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                sa.select(directory.c.domain, directory.c.entry, directory.c.updated_at)
                .where(directory.c.domain.in_(list(domains)))
                .order_by(directory.c.domain, directory.c.entity_id)
            )
            for row in result:
                yield (row.domain, row.entry, row.updated_at) if modified else (row.domain, row.entry)


def _by_domain(engine: sa.Engine, domains: list[str],
               snapshot: dict | None = None) -> Iterator[tuple[str, Iterator[dict]]]:
    """Each requested domain with its entries (an empty iterator where it has none)."""
    pending = sorted(set(domains))
    entries = iter_entries(engine, domains, snapshot)
    for domain, group in itertools.groupby(entries, key=lambda item: item[0]):
        for missing in [d for d in pending if d < domain]:
            pending.remove(missing)
            yield missing, iter(())
        pending.remove(domain)
        yield domain, (entry for _, entry in group)
    for missing in pending:
        yield missing, iter(())


def count_entries(engine: sa.Engine, domains: Iterable[str] = DOMAINS) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(directory).where(directory.c.domain.in_(list(domains)))
        ).scalar_one()


# ----------------------------------------------------------------------------- CSV

_COMMON = [
    "id", "domain", "title", "organisation", "description", "street", "house_number",
    "postal_code", "city", "municipality_key", "state", "country", "lat", "lon", "url",
    "contact_name", "contact_email", "contact_phone", "updated_at",
]
CSV_COLUMNS = {
    "jobs": _COMMON + [
        "ba_reference", "occupation", "employment_type", "working_time", "contract_duration",
        "german_level", "german_required", "salary_min", "salary_max", "salary_period", "remote_possible",
        "start_date", "published_from", "valid_through", "sources",
    ],
    "courses": _COMMON + [
        "course_type", "language", "cefr_levels", "start_date", "end_date", "schedule",
        "childcare", "price_eur", "funded", "seats", "sources",
    ],
    "housing": _COMMON + [
        "property_type", "rooms", "living_area", "cold_rent", "warm_rent", "service_charges",
        "heating_costs", "deposit", "available_from", "available_from_text", "wbs_required",
        "barrier_free", "max_persons", "floor", "sources",
    ],
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# digits and what numbers are written with, nothing a formula could call: '+49 6821 1234',
# '-1', '(06821) 12 34-5' stay as they are (a program reading the file gets the number)
_PLAIN_NUMBER = re.compile(r"[+-]?[\d\s()./-]*\d[\d\s()./-]*")


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (a phone number or another
    number in a text cell has no formula in it and is left alone)."""
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)  # typed: never neutralised
    if isinstance(value, list):
        return neutralise("|".join(str(v) for v in value))
    return neutralise(str(value))


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def excel_cell(value: object) -> str:
    """A cell as Excel with German settings reads it from a ';'-separated file: a number with
    a decimal comma; a text that Excel would take for a number or a date ('01067' for 1067,
    '8-10' for the 8th of October, '2.5' for the 2nd of May) as the text formula ="...",
    which holds only digits and the signs numbers are written with, so nothing runs."""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    text = _cell(value)
    if text and _PLAIN_NUMBER.fullmatch(text) and not _ISO_DAY.fullmatch(text) and not isinstance(value, (bool, int)):
        return f'="{text}"'
    return text


def csv_row(entry: Mapping, domain: str, cell: Callable[[object], str] = _cell) -> list[str]:
    address = entry.get("address") or {}
    geo = entry.get("geo") or {}
    contact = entry.get("contact") or {}
    if contact.get("public") is not True:
        contact = {}
    flat = dict(entry)
    flat.update({
        "street": address.get("street"), "house_number": address.get("house_number"),
        "postal_code": address.get("postal_code"), "city": address.get("city"),
        "municipality_key": address.get("municipality_key"), "state": address.get("state"),
        "country": address.get("country"), "lat": geo.get("lat"), "lon": geo.get("lon"),
        "contact_name": contact.get("name"), "contact_email": contact.get("email"),
        "contact_phone": contact.get("phone"),
        "sources": [f"{s['partner_id']}/{s['source_id']}" for s in entry.get("sources") or []],
    })
    return [cell(flat.get(column)) for column in CSV_COLUMNS[domain]]


# ----------------------------------------------------------------------------- writers


def _write_ndjson(engine, folder: Path, domains, progress, snapshot) -> dict[str, int]:
    counts = {}
    for domain, entries in _by_domain(engine, domains, snapshot):
        n = 0
        with open(folder / f"{domain}.ndjson", "w", encoding="utf-8", newline="\n") as out:
            for entry in entries:
                out.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
                n += 1
                _tick(progress, domain, n)
        counts[f"{domain}.ndjson"] = n
    return counts


def _write_csv(engine, folder: Path, domains, progress, snapshot, excel: bool = False) -> dict[str, int]:
    counts = {}
    cell = excel_cell if excel else _cell
    for domain, entries in _by_domain(engine, domains, snapshot):
        n = 0
        with open(folder / f"{domain}.csv", "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS[domain])
            for entry in entries:
                writer.writerow(csv_row(entry, domain, cell))
                n += 1
                _tick(progress, domain, n)
        counts[f"{domain}.csv"] = n
    return counts


class _JsonArray:
    """A JSON array written row by row (a package can be larger than memory wants)."""

    def __init__(self, path: Path):
        self.file = open(path, "w", encoding="utf-8", newline="\n")
        self.file.write("[")
        self.rows = 0

    def add(self, row: dict) -> None:
        self.file.write(("\n" if not self.rows else ",\n") + json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        self.rows += 1

    def close(self) -> None:
        self.file.write("\n]\n" if self.rows else "]\n")
        self.file.close()


def _write_hsds(engine, folder: Path, domains, progress, snapshot, partner_names) -> dict[str, int]:
    arrays = {name: _JsonArray(folder / f"{name}.json") for name in hsds.TABLES}
    try:
        orgs = hsds.OrganizationBuilder(partner_names)
        seen_locations: set[str] = set()
        n = 0
        for _, entry, modified in iter_entries(engine, domains, snapshot, modified=True):
            orgs.add(entry)
            for table, row in hsds.entry_rows(entry, partner_names, modified, seen_locations):
                arrays[table].add(row)
            n += 1
            _tick(progress, "hsds", n)
        for table, row in hsds.organization_rows(orgs):
            arrays[table].add(row)
        for row in hsds.taxonomies():
            arrays["taxonomies"].add(row)
        for row in hsds.taxonomy_terms():
            arrays["taxonomy_terms"].add(row)
    finally:
        for array in arrays.values():
            array.close()
    counts = {f"{name}.json": array.rows for name, array in arrays.items()}
    descriptor = {
        "profile": "data-package",
        "name": "welcome-hub-hsds",
        "title": "Welcome Hub: Kurse, Stellen und Wohnungen als HSDS 3.0",
        "hsds_version": hsds.HSDS_VERSION,
        "hsds_profile": hsds.PROFILE_DOC,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "domains": list(domains),
        "resources": [
            {
                "name": name,
                "path": f"{name}.json",
                "format": "json",
                "mediatype": "application/json",
                "encoding": "utf-8",
                "rows": arrays[name].rows,
                "schema": "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
                + hsds.TABLE_SCHEMAS[name],
            }
            for name in hsds.TABLES
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return counts


def _tick(progress: Progress | None, what: str, n: int) -> None:
    if progress and n % 10_000 == 0:
        progress(f"{what}: {n} entries")


# ----------------------------------------------------------------------------- the export


def export(
    engine: sa.Engine,
    fmt: str,
    out: str | os.PathLike,
    domains: Iterable[str] | None = None,
    partner_names: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write the export into ``out`` atomically; returns rows per file written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use {', '.join(FORMATS)}")
    domains = list(domains or DOMAINS)
    for domain in domains:
        if domain not in DOMAINS:
            raise ExportError(f"unknown domain {domain!r}; use {', '.join(DOMAINS)}")
    target = Path(out).absolute()
    _check_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise ExportError(f"{target.parent}: cannot write here ({exc.strerror})") from None
    snapshot: dict = {}
    try:
        if fmt == "ndjson":
            counts = _write_ndjson(engine, work, domains, progress, snapshot)
        elif fmt in ("csv", "csv-excel"):
            counts = _write_csv(engine, work, domains, progress, snapshot, excel=fmt == "csv-excel")
        else:
            counts = _write_hsds(engine, work, domains, progress, snapshot, partner_names or {})
        marker = {"format": fmt, "domains": domains, "files": counts,
                  "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  # the change feed's newest item in the export's snapshot: poll
                  # /v1/changes?after=changes_seq to keep a copy of the export up to date
                  "changes_seq": snapshot["changes_seq"],
                  # ...&checkpoint=changes_checkpoint: a 410 once the feed is another history
                  "changes_checkpoint": snapshot["changes_checkpoint"]}
        (work / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _swap(work, target)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise ExportError(f"{target}: cannot write the export ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return counts


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise ExportError(f"{target}: exists and is not a folder")
    if target.is_dir():
        try:
            content = [p.name for p in target.iterdir()]
        except OSError as exc:
            raise ExportError(f"{target}: cannot read the folder ({exc.strerror})") from None
        if content and MARKER not in content:
            raise ExportError(
                f"{target}: folder is not empty and holds no earlier export; choose a new or empty folder"
            )
        if content:
            # replaced as a whole: only a folder that holds nothing but what an export wrote
            foreign = sorted(set(content) - _written_by_export(target / MARKER))
            if foreign:
                shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
                raise ExportError(
                    f"{target}: holds files no export of the hub wrote ({shown}); an export "
                    "replaces the folder as a whole: choose a new or empty folder")


def _written_by_export(marker: Path) -> set[str]:
    """The names an earlier export wrote into its folder, as its ``export.json`` lists them
    (none when that file is not an export's: another program's export.json)."""
    try:
        said = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not (isinstance(said, dict) and said.get("format") in FORMATS and isinstance(said.get("files"), dict)):
        return set()
    return {MARKER, *map(str, said["files"]), *(["datapackage.json"] if said["format"] == "hsds" else [])}


def _swap(work: Path, target: Path) -> None:
    """Put ``work`` in the place of ``target``: renames only, the old export goes last."""
    os.chmod(work, 0o755)
    if not target.exists():
        os.rename(work, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(work, target)
    except OSError:
        os.rename(old, target)  # put the previous export back
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_ndjson(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def read_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(io.StringIO(file.read())))
