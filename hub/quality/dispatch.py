"""Feedback mails that are due but were not delivered. The staging step writes each partner's
report and mails it right away; when the mail server was unreachable then, the ledger
(``FeedbackLedger``) still holds the previous fingerprint, and :func:`deliver_pending` sends
the report later (the ``feedback_mail`` sensor calls it). It never sends a report twice: it
uses the same ledger and ``should_send`` rule as the staging step."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from hub.quality.feedback import latest_report
from hub.quality.mail import FeedbackLedger, Mailer, MailError, send_if_needed, should_send
from hub.registry import Registry

GRACE = dt.timedelta(minutes=5)  # a fresh delivery is the staging step's to mail


@dataclass
class Dispatch:
    sent: list[str] = field(default_factory=list)  # partner/domain
    failed: dict[str, str] = field(default_factory=dict)  # partner/domain -> reason
    up_to_date: int = 0


def pending_reports(engine: sa.Engine, registry: Registry, folder: str | Path,
                    now: dt.datetime | None = None, grace: dt.timedelta = GRACE) -> list[tuple]:
    """(partner, report) for every partner feed with a contact whose latest report differs
    from the one last mailed, and whose delivery is older than ``grace``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    ledger = FeedbackLedger(folder)
    out = []
    for partner in registry.partners:
        if not partner.contact_email:
            continue
        for feed in partner.feeds:
            report = latest_report(engine, partner, feed.domain, partner.feedback_language)
            if report is None or report.delivered_at > now - grace:
                continue
            if should_send(ledger.last_fingerprint(partner.id, feed.domain), report):
                out.append((partner, report))
    return out


def deliver_pending(engine: sa.Engine, registry: Registry, folder: str | Path, mailer: Mailer,
                    now: dt.datetime | None = None, grace: dt.timedelta = GRACE,
                    skip: set[str] = frozenset()) -> Dispatch:
    """Mail every pending report (except the ``partner/domain`` keys in ``skip``)."""
    result = Dispatch()
    ledger = FeedbackLedger(folder)
    for partner, report in pending_reports(engine, registry, folder, now, grace):
        key = f"{partner.id}/{report.domain}"
        if key in skip:
            continue
        try:
            if send_if_needed(mailer, ledger, report, partner.contact_email):
                result.sent.append(key)
            else:
                result.up_to_date += 1
        except MailError as exc:
            result.failed[key] = str(exc)
    return result

