"""Record-level semantic checks that the pydantic models cannot express on their own.

``check_records`` splits a partner's parsed records into accepted ones and rejections. It runs
the domain's Great Expectations suite (``hub.quality.suites``) on the whole delivery: one
DataFrame per domain, per-row results for the failing rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from hub import clock
from hub.models import CanonicalRecord, Rejection


def check_records(
    records: list[CanonicalRecord],
    region: str | None = None,
    today: dt.date | None = None,
    rejected: list[CanonicalRecord] = (),
) -> tuple[list[CanonicalRecord], list[Rejection]]:
    """Accepted records (no error) and the rejections of all records (warnings keep theirs).

    ``region``: the partner's AGS prefix (registry ``region``); without one the region rule
    is skipped. ``today``: the day the date rules measure against (expired postings, ended
    courses, dates too far ahead); default: the current day in Berlin (``hub.clock``), whatever
    the server's zone. ``rejected``: records rejected already (``ParseResult.shadows``):
    checked for their other problems, never accepted. Records keep their order."""
    from hub.quality.suites import validate

    if rejected:
        checked, problems = check_records([*records, *rejected], region=region, today=today)
        shadows = {id(record) for record in rejected}
        return [record for record in checked if id(record) not in shadows], problems
    if not records:
        return [], []
    day = today or clock.today()
    by_domain: dict[str, list[int]] = defaultdict(list)
    for at, record in enumerate(records):
        by_domain[record.domain.value].append(at)
    kept: set[int] = set()
    rejections: list[tuple[int, int, Rejection]] = []
    for domain, positions in by_domain.items():
        part = [records[at] for at in positions]
        result = validate(domain, part, region=region, today=day)
        accepted_ids = {id(record) for record in result.accepted}
        kept.update(at for at in positions if id(records[at]) in accepted_ids)
        where = {(records[at].partner_id, records[at].source_id): at for at in positions}
        for order, rejection in enumerate(result.rejections):
            rejections.append((where.get((rejection.partner_id, rejection.source_id), -1),
                               order, rejection))
    rejections.sort(key=lambda item: (item[0], item[1]))
    accepted = [record for at, record in enumerate(records) if at in kept]
    return accepted, [rejection for _, _, rejection in rejections]


def record_problems(
    record: CanonicalRecord,
    region: str | None = None,
    today: dt.date | None = None,
) -> list[Rejection]:
    """The semantic problems of one record (errors and warnings)."""
    return check_records([record], region=region, today=today)[1]
