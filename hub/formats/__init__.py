"""One module per real format: bytes in, canonical records and rejections out.

``FORMATS`` maps the names the ``hub`` command knows to their adapters.
"""

from __future__ import annotations

from hub.formats import (
    ba_courses,
    ba_jobsuche,
    csv_courses,
    csv_housing,
    csv_jobs,
    openimmo,
    schemaorg_accommodation,
    schemaorg_course,
    schemaorg_jobposting,
)
from hub.formats.base import Format, FormatError, ParseResult

FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        ba_jobsuche.FORMAT,
        schemaorg_jobposting.FORMAT,
        csv_jobs.FORMAT,
        ba_courses.FORMAT,
        schemaorg_course.FORMAT,
        csv_courses.FORMAT,
        openimmo.FORMAT,
        schemaorg_accommodation.FORMAT,
        csv_housing.FORMAT,
    )
}


def get_format(name: str) -> Format:
    """The format of ``name`` in any case ('OpenImmo', 'CSV-Jobs'): its own name is
    lowercase, ``Format.name``."""
    try:
        return FORMATS[name] if name in FORMATS else FORMATS[name.lower()]
    except KeyError:
        raise FormatError(f"unknown format {name!r}{_meant(name)}; known formats: "
                          f"{', '.join(sorted(FORMATS))}") from None


def near_format(name: str) -> str | None:
    """The format ``name`` was probably meant to be: 'csv_courses', 'OpenImmo-XML',
    'schema.org JobPosting' (None where none is close)."""
    import difflib

    near = difflib.get_close_matches(name.strip().lower().replace("_", "-"), FORMATS, n=1, cutoff=0.75)
    return near[0] if near else None


def _meant(name: str) -> str:
    near = near_format(name)
    return f" (did you mean {near!r}?)" if near else ""


def reads_as(data: bytes, tried: str) -> str | None:
    """The other CSV template ``data`` reads as, where the template ``tried`` refused it: a
    course list checked as a job list is told so instead of only 'column Stellen-ID missing'.
    None for other formats, and where no other template reads a record from it."""
    if not tried.startswith("csv-"):
        return None
    for name, fmt in FORMATS.items():
        if name == tried or not name.startswith("csv-"):
            continue
        try:
            if fmt.parse(data, "check").items:
                return name
        except FormatError:
            continue
    return None


__all__ = ["FORMATS", "Format", "FormatError", "ParseResult", "get_format", "reads_as"]
