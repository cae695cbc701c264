"""Feedback reports from the database: a partner's latest delivery (or a given one) read from
``syncs`` and ``rejections``, written as report.html, report.csv and report.json, and
fingerprinted so that an unchanged result is recognised and not mailed again."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hub.quality.report import FeedbackReport, build_report, render_csv, render_html, render_json
from hub.store.tables import rejections, source_records, syncs


def _rejection_rows(conn: sa.Connection, sync_id: int) -> list[sa.Row]:
    return conn.execute(
        sa.select(rejections).where(rejections.c.sync_id == sync_id).order_by(rejections.c.id)
    ).all()


def _since_last(conn: sa.Connection, row: Any) -> dict[str, Any]:
    """What the counts of a staged delivery do not tell the partner: whether it is the first
    (nothing to compare with), how many records rejected in the delivery before are accepted
    now (corrected), and how many of those it withdrew from the directory are still delivered
    but rejected now (a snapshot withdraws every record it does not accept). Read from the
    records this sync wrote last, so exact for the latest delivery; for an older one a later
    sync may have taken them over (then fewer)."""
    if row.status != "ok":
        return {}
    mine = sa.and_(source_records.c.partner_id == row.partner_id,
                   source_records.c.domain == row.domain, source_records.c.sync_id == row.id)

    def rejected_in(sync_id: Any):
        # the ids rejected in a sync, as one set the database builds once (a subquery per
        # record would scan the sync's rejections once for each record the sync wrote)
        return source_records.c.source_id.in_(
            sa.select(rejections.c.source_id).where(rejections.c.sync_id == sync_id,
                                                    rejections.c.severity == "error",
                                                    # NOT IN a set with NULL is never true
                                                    rejections.c.source_id.is_not(None)))

    def count(*where) -> int:
        return conn.execute(sa.select(sa.func.count()).select_from(source_records)
                            .where(mine, *where)).scalar_one()

    previous = conn.execute(
        sa.select(sa.func.max(syncs.c.id))
        .where(syncs.c.partner_id == row.partner_id, syncs.c.domain == row.domain,
               syncs.c.id < row.id, syncs.c.status == "ok")).scalar_one()
    if previous is None:
        return {"first_delivery": True}
    return {
        "corrected": count(source_records.c.status == "active", rejected_in(previous),
                           ~rejected_in(row.id)),
        "withdrawn_rejected": count(source_records.c.status == "withdrawn", rejected_in(row.id)),
    }


def _report(conn: sa.Connection, partner: Any, domain: str, row: Any, lang: str) -> FeedbackReport:
    sync = {**row._mapping, **_since_last(conn, row)}
    return build_report(partner, domain, sync, _rejection_rows(conn, row.id), lang)


def latest_report(engine: sa.Engine, partner: Any, domain: str, lang: str = "de") -> FeedbackReport | None:
    """The report of the partner's latest delivery for ``domain`` (ok, failed or held);
    None when the partner has not delivered yet. An unchanged re-sync writes no new sync, so
    it reports the same delivery again."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(syncs)
            .where(syncs.c.partner_id == partner.id, syncs.c.domain == domain)
            .order_by(syncs.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return _report(conn, partner, domain, row, lang)


def report_for_sync(
    engine: sa.Engine, partner: Any, domain: str, sync_id: int, lang: str = "de"
) -> FeedbackReport:
    """The report of one delivery; LookupError when the partner has no such sync."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(syncs).where(
                syncs.c.id == sync_id, syncs.c.partner_id == partner.id, syncs.c.domain == domain
            )
        ).first()
        if row is None:
            raise LookupError(f"no delivery {sync_id} of {partner.id}/{domain}")
        return _report(conn, partner, domain, row, lang)


REPORT_FILES = {"html": "report.html", "csv": "report.csv", "json": "report.json"}


def write_report(report: FeedbackReport, out_dir: str | Path) -> dict[str, Path]:
    """Write report.html, report.csv and report.json into ``out_dir`` (created if needed);
    returns their paths by kind. Each file is replaced whole, never left half-written."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
    for name in REPORT_FILES.values():  # all three or none: a folder in the way stops it first
        if (folder / name).is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(folder / name))
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        "html": render_html(report).encode("utf-8"),
        "csv": render_csv(report),
        "json": render_json(report).encode("utf-8"),
    }
    paths = {}
    for kind, data in contents.items():
        path = folder / REPORT_FILES[kind]
        _atomic_write(path, data)
        paths[kind] = path
    return paths


def _atomic_write(path: Path, data: bytes) -> None:
    # created as open() creates files (0666 less the umask), not for its owner only as
    # mkstemp does: a report is read by whoever may read the folder (the feedback page's
    # server, a steward)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    handle = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def report_fingerprint(report: FeedbackReport) -> str:
    """A hash of what matters to the partner: the status and the set of problems
    (source_id, rule, field, value). The language, the counts of unchanged records, the
    delivery time and the order of problems do not change it.

    A failed or held delivery also carries its sync id: each such delivery is news to the
    partner, while the same report looked at twice is not."""
    problems = sorted({(p.source_id or "", p.rule, p.field or "", p.value or "") for p in report.problems})
    payload: dict[str, Any] = {
        "partner_id": report.partner_id,
        "domain": report.domain,
        "status": report.status,
        "problems": problems,
    }
    if report.status != "ok":
        payload["sync_id"] = report.sync_id
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class FeedbackOutcome:
    report: FeedbackReport | None
    paths: dict[str, Path]
    sent: bool
    note: str


def deliver_feedback(
    engine: sa.Engine, partner: Any, domain: str, folder: str | Path,
    environ: dict[str, str] | None = None,
) -> FeedbackOutcome:
    """Write the partner's latest report under ``folder/<partner>/<domain>/`` (kept for the
    partner's page) and mail it when the result changed or the delivery failed or was held.
    Mail goes out only where HUB_SMTP_HOST is set; a mail error propagates as MailError."""
    from hub.quality.mail import FeedbackLedger, Mailer, MailSettings, send_if_needed

    report = latest_report(engine, partner, domain, getattr(partner, "feedback_language", "de"))
    if report is None:
        return FeedbackOutcome(None, {}, False, "no delivery staged yet")
    root = Path(folder)
    paths = write_report(report, root / partner.id / domain)
    env = os.environ if environ is None else environ
    if not env.get("HUB_SMTP_HOST"):
        return FeedbackOutcome(report, paths, False, "mail not configured (HUB_SMTP_HOST)")
    if not getattr(partner, "contact_email", None):
        return FeedbackOutcome(report, paths, False, "the partner has no contact_email")
    sent = send_if_needed(Mailer(MailSettings.from_env(env)), FeedbackLedger(root), report,
                          partner.contact_email)
    return FeedbackOutcome(report, paths, sent, "sent" if sent else "unchanged since the last mail")
