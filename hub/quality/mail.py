"""Sending a feedback report to the partner's contact by e-mail (SMTP), and deciding when to.

Settings come from the environment::

    HUB_SMTP_HOST       mail server (required)
    HUB_SMTP_PORT       default 25
    HUB_SMTP_USER       login name (no login when unset)
    HUB_SMTP_PASSWORD   login password
    HUB_SMTP_STARTTLS   yes/no (default no): upgrade the connection with STARTTLS
    HUB_MAIL_FROM       sender address (required)
    HUB_MAIL_REPLY_TO   where partners' replies and questions go (Reply-To; the mail's
                        footer names it); unset: replies go to the sender
    HUB_SMTP_TIMEOUT    seconds, default 30
    HUB_PUBLIC_URL      the read API's address as partners reach it (https://hub.kreis.example):
                        the mail links to the partner's feedback page there; unset: no link

A report is mailed when its result differs from the last one mailed for the partner and
domain, or when the delivery failed or was held (``should_send``); :class:`FeedbackLedger`
remembers what was sent. Every failure is a :class:`MailError` with one line for a person;
the password never appears in a message.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import quote, urlsplit

from hub.config import env_flag
from hub.quality.feedback import report_fingerprint
from hub.quality.report import FeedbackReport, local_time, render_csv, render_html, render_text, subject

MAIL_PROBLEM_LIMIT = 200  # problems listed in the mail's HTML; the CSV attachment has them all
TEXT_PROBLEM_LIMIT = 20  # and in its short plain-text alternative


class MailError(Exception):
    """A report could not be mailed. The message is one line for a person."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    mail_from: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 30.0
    reply_to: str | None = None
    public_url: str | None = None  # the read API as partners reach it: the mail links its page

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, feedback: bool = True) -> "MailSettings":
        """The settings in ``environ`` (the process's environment); MailError names a wrong
        one. ``feedback=False`` (the stewards' alerts): the feedback mails' own settings are
        not read, so a mistake in them cannot keep an alert from going out."""
        env = os.environ if environ is None else environ
        host = (env.get("HUB_SMTP_HOST") or "").strip()
        if not host:
            raise MailError("HUB_SMTP_HOST is not set: no mail server to send feedback through")
        mail_from = (env.get("HUB_MAIL_FROM") or "").strip()
        if not mail_from or "@" not in mail_from:
            raise MailError("HUB_MAIL_FROM is not set to a sender address (e.g. feedback@example.org)")
        reply_to = (env.get("HUB_MAIL_REPLY_TO") or "").strip() or None
        if reply_to is not None and ("@" not in parseaddr(reply_to)[1] or any(c in reply_to for c in "\r\n,;")):
            raise MailError("HUB_MAIL_REPLY_TO must be one address for partners' questions "
                            f"(e.g. welcome@example.org), not {reply_to!r}")
        public_url = public_base_url(env, MailError) if feedback else None
        port_text = (env.get("HUB_SMTP_PORT") or "25").strip()
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise MailError(f"HUB_SMTP_PORT must be a port number, not {port_text!r}")
        starttls = env_flag(env, "HUB_SMTP_STARTTLS", error=MailError)
        timeout_text = (env.get("HUB_SMTP_TIMEOUT") or "30").strip()
        try:
            timeout = float(timeout_text)
        except ValueError:
            raise MailError(f"HUB_SMTP_TIMEOUT must be a number of seconds, not {timeout_text!r}") from None
        return cls(
            host=host,
            mail_from=mail_from,
            port=int(port_text),
            user=(env.get("HUB_SMTP_USER") or "").strip() or None,
            password=env.get("HUB_SMTP_PASSWORD") or None,
            starttls=starttls,
            timeout=timeout,
            reply_to=reply_to,
            public_url=public_url,
        )


def public_base_url(env, error: type[Exception]) -> str | None:
    """``HUB_PUBLIC_URL`` without its trailing slash (None when unset); ``error`` for a value
    that is not an http(s) address with a host, which would put a dead link in every mail."""
    value = (env.get("HUB_PUBLIC_URL") or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise error("HUB_PUBLIC_URL must be the read API's address as partners reach it "
                    f"(e.g. https://hub.kreis.example), not {value!r}")
    return value.rstrip("/")


def feedback_page_url(public_url: str | None, partner_id: str) -> str | None:
    """The partner's feedback page under the read API's public address (None without one)."""
    return f"{public_url}/partners/{quote(partner_id, safe='')}/feedback" if public_url else None


def attachment_name(report: FeedbackReport) -> str:
    """feedback-<partner>-<domain>-<date>.csv (the delivery's local date)."""
    return f"feedback-{report.partner_id}-{report.domain}-{local_time(report.delivered_at):%Y-%m-%d}.csv"


def ascii_domain(address: str) -> str:
    """``address`` with its domain in the ASCII form of the DNS (IDNA: info@müller.example ->
    info@xn--mller-kva.example), so that a mail server without SMTPUTF8 takes it; a local
    part with umlauts (büro@...) still needs SMTPUTF8."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:  # not a name IDNA can write: left to the server to refuse
        return address


def _one_line(text: object) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_one_line(exc.smtp_error)}".strip()


class Mailer:
    """Sends feedback reports through one SMTP server."""

    def __init__(self, settings: MailSettings | None = None):
        self.settings = settings or MailSettings.from_env()

    def build_message(self, report: FeedbackReport, to_address: str) -> EmailMessage:
        """multipart/mixed: (text/plain | text/html) alternatives + the CSV attachment."""
        if not to_address or "@" not in to_address or any(c in to_address for c in "\r\n,;"):
            raise MailError(f"no usable e-mail address for partner {report.partner_id!r}")
        to_address = ascii_domain(to_address)
        message = EmailMessage()
        message["Subject"] = subject(report)
        message["From"] = self.settings.mail_from
        message["To"] = to_address
        message["Date"] = formatdate(usegmt=True)
        domain = self.settings.mail_from.rsplit("@", 1)[-1]
        message["Message-ID"] = make_msgid(domain=domain)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
        contact = None
        if self.settings.reply_to:
            message["Reply-To"] = self.settings.reply_to
            contact = parseaddr(self.settings.reply_to)[1]  # the footer names the bare address
        name = attachment_name(report)
        online = feedback_page_url(self.settings.public_url, report.partner_id)
        message.set_content(render_text(report, limit=TEXT_PROBLEM_LIMIT, contact=contact, attachment=name,
                                        online=online))
        message.add_alternative(render_html(report, limit=MAIL_PROBLEM_LIMIT, contact=contact, attachment=name,
                                            online=online), subtype="html")
        message.add_attachment(render_csv(report), maintype="text", subtype="csv", filename=name)
        message["Content-Language"] = report.lang  # after the body: set_content drops Content-*
        return message

    def send_report(self, report: FeedbackReport, to_address: str) -> EmailMessage:
        """Mail ``report`` to ``to_address``; returns the message sent. MailError on failure."""
        message = self.build_message(report, to_address)
        self.send(message, to_address)
        return message

    def send(self, message: EmailMessage, to_address: str) -> None:
        s = self.settings
        where = f"{s.host}:{s.port}"
        to_address = ascii_domain(to_address)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                smtp.ehlo()
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.user:
                    smtp.login(s.user, s.password or "")
                smtp.send_message(message, from_addr=s.mail_from, to_addrs=[to_address])
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"the mail server {where} refused the login of {s.user!r} ({_reply(exc)})") from None
        except smtplib.SMTPNotSupportedError as exc:
            if "SMTPUTF8" in str(exc):
                raise MailError(f"the mail server {where} does not take addresses with umlauts or other "
                                f"non-ASCII letters (no SMTPUTF8): {to_address}; ask the partner for an "
                                "address in plain letters") from None
            what = "STARTTLS" if s.starttls else "login"
            raise MailError(f"the mail server {where} does not support {what} ({_one_line(exc)})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(f"{code} {_one_line(text)}" for code, text in exc.recipients.values())
            raise MailError(f"the mail server {where} refused the recipient {to_address} ({reasons})") from None
        except smtplib.SMTPSenderRefused as exc:
            raise MailError(f"the mail server {where} refused the sender {s.mail_from} ({_reply(exc)})") from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(f"the mail server {where} refused the message ({_reply(exc)})") from None
        except smtplib.SMTPServerDisconnected as exc:
            raise MailError(f"the mail server {where} closed the connection ({_one_line(exc) or 'no reason given'})") from None
        except smtplib.SMTPException as exc:
            raise MailError(f"sending through {where} failed ({_one_line(exc)})") from None
        except ssl.SSLError as exc:
            raise MailError(f"TLS with the mail server {where} failed ({_one_line(exc.reason or exc)})") from None
        except OSError as exc:  # refused, unreachable, unknown host, timeout
            reason = _one_line(exc.strerror or exc) or type(exc).__name__
            raise MailError(f"cannot reach the mail server {where} ({reason})") from None


# --------------------------------------------------------------------------- when to send


def should_send(previous_fingerprint: str | None, report: FeedbackReport) -> bool:
    """Send when there is nothing sent before, when the result changed, or when the delivery
    failed or was held; not after an unchanged sync. (A failed or held report's fingerprint
    includes its sync id: each such delivery is mailed once.)"""
    return previous_fingerprint is None or report_fingerprint(report) != previous_fingerprint


class FeedbackLedger:
    """The fingerprint of the last report mailed per partner and domain, in
    ``<folder>/feedback-ledger.json`` (a stand-in until it lives in the database).

    The file is replaced whole on every update; updates in one process are serialised, and
    across processes with an advisory lock on POSIX."""

    FILENAME = "feedback-ledger.json"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / self.FILENAME
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise MailError(f"cannot read the feedback ledger {self.path} ({_one_line(exc)})") from None
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _key(partner_id: str, domain: str) -> str:
        return f"{partner_id}/{domain}"

    def last_fingerprint(self, partner_id: str, domain: str) -> str | None:
        entry = self._read().get(self._key(partner_id, domain))
        return entry.get("fingerprint") if isinstance(entry, dict) else None

    def entry(self, partner_id: str, domain: str) -> dict | None:
        return self._read().get(self._key(partner_id, domain))

    def record(self, report: FeedbackReport, fingerprint: str | None = None) -> None:
        """Remember that ``report`` was sent (no addresses are stored)."""
        entry = {
            "fingerprint": fingerprint or report_fingerprint(report),
            "sync_id": report.sync_id,
            "status": report.status,
            "sent_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock, _file_lock(self.folder / (self.FILENAME + ".lock")):
            data = self._read()
            data[self._key(report.partner_id, report.domain)] = entry
            handle, tmp = tempfile.mkstemp(dir=self.folder, prefix=".ledger", suffix=".tmp")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(data, out, indent=2, sort_keys=True)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise


class _file_lock:
    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # not POSIX: the in-process lock has to do
            return self
        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.handle is not None:
            import fcntl

            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
        return False


def send_if_needed(mailer: Mailer, ledger: FeedbackLedger, report: FeedbackReport,
                   to_address: str | None) -> bool:
    """Mail ``report`` unless the partner already has this result; True when sent. The
    ledger is updated only after the server accepted the message, so a failed attempt is
    retried next time."""
    fingerprint = report_fingerprint(report)
    if not should_send(ledger.last_fingerprint(report.partner_id, report.domain), report):
        return False
    if not to_address:
        raise MailError(f"partner {report.partner_id!r} has no contact_email in the registry")
    mailer.send_report(report, to_address)
    ledger.record(report, fingerprint)
    return True
