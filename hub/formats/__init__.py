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
        raise FormatError(
            f"unknown format {name!r}; known formats: {', '.join(sorted(FORMATS))}"
        ) from None


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
