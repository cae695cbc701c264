"""Alerts for the data stewards: when a sync or publication run fails, one e-mail per steward
naming the job, the partner (the run's partition), the failed step and the error message;
when the partner registry cannot be read (no feed is synced then), one naming the problem.

Settings come from the environment: ``HUB_STEWARD_EMAILS`` (comma-separated addresses) and
the mail server of the feedback mails (``HUB_SMTP_*``, ``HUB_MAIL_FROM``, see
``hub.quality.mail``). The messages carry no secrets and no personal data: URLs lose their
user info and query strings, e-mail addresses are masked, and every line is cut short."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from hub.quality.mail import Mailer, MailError, MailSettings, ascii_domain

MAX_MESSAGE = 500  # characters of an error message in an alert
# how Dagster's error begins when a blocking asset check failed (the run stops there; the
# staging step of a held delivery fails with the hold's message instead, runs from before
# that with this)
BLOCKING_CHECK_ERROR = "dagster._core.errors.DagsterAssetCheckFailedError"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(https?)://(?:[^\s/@]+@)?([^\s/?#]+)([^\s?#]*)(?:\?[^\s#]*)?(?:#\S*)?")


@dataclass
class FailedStep:
    step: str
    message: str


@dataclass
class RunFailure:
    job: str
    run_id: str
    partner: str | None = None  # the run's partition key
    steps: list[FailedStep] = field(default_factory=list)
    run_message: str | None = None  # when no step failed (the run itself broke)
    # blocking checks that failed (a held delivery): (check name, its description)
    holds: list[tuple[str, str]] = field(default_factory=list)


def steward_addresses(environ: dict[str, str] | None = None) -> list[str]:
    """The addresses in HUB_STEWARD_EMAILS; MailError names a malformed one."""
    env = os.environ if environ is None else environ
    out = []
    for part in (env.get("HUB_STEWARD_EMAILS") or "").split(","):
        address = part.strip()
        if not address:
            continue
        if not re.fullmatch(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+", address):
            raise MailError(f"HUB_STEWARD_EMAILS: {address!r} is not an e-mail address")
        out.append(address)
    return out


def redact(text: str | None, limit: int = MAX_MESSAGE) -> str:
    """One line without credentials in URLs, query strings or e-mail addresses, cut short."""
    line = " ".join(str(text or "").split())
    line = _URL.sub(lambda m: f"{m.group(1)}://{m.group(2)}{m.group(3)}", line)
    line = _EMAIL.sub("<e-mail address>", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def subject(failure: RunFailure) -> str:
    who = f" {failure.partner}" if failure.partner else ""
    return f"[Welcome Hub] {failure.job}{who} {'held' if failure.holds else 'failed'}"


def render(failure: RunFailure, ui_url: str | None = None) -> str:
    lines = [
        f"The run {failure.run_id} of {failure.job} failed.",
        "",
        f"Job:     {failure.job}",
        f"Partner: {failure.partner or '(not partitioned)'}",
    ]
    for check, description in failure.holds:
        lines += ["", f"Held:    {check}", f"         {redact(description)}"]
    for step in failure.steps:
        if failure.holds and (step.message.startswith(BLOCKING_CHECK_ERROR)
                              or step.message in {said for _, said in failure.holds}):
            continue  # the hold above, in Dagster's words or its own
        lines += ["", f"Step:    {step.step}", f"Error:   {redact(step.message)}"]
    if not failure.steps and not failure.holds:
        lines += ["", f"Error:   {redact(failure.run_message) or 'the run failed before any step ran'}"]
    lines += ["", "The directory keeps the last good state of this partner's records."
              if failure.partner else "The directory keeps its last publication."]
    if ui_url:
        lines.append(f"Run in the Dagster UI: {ui_url.rstrip('/')}/runs/{failure.run_id}")
    if failure.holds:
        # the hold says how to release it, with the command and in the UI (hub.assets.feeds)
        lines.append("If the change is intended, release the delivery as the hold above says; if "
                     "not, ask the partner to fix its export: the next delivery is checked again.")
    else:
        lines.append(_once_fixed(failure))
    return "\n".join(lines) + "\n"


def _once_fixed(failure: RunFailure) -> str:
    """What to run again once the cause is fixed, for the asset whose step failed (a step
    key is the asset key's parts joined by '__': raw__jobs, directory__courses)."""
    stage, _, domain = (failure.steps[0].step if failure.steps else "").partition("__")
    who = failure.partner
    if who and stage in ("raw", "staged") and domain:
        # a new fetch; the staging follows it by itself (automation)
        return (f"Re-sync once the cause is fixed: materialize the partition {who} of "
                f"raw/{domain} from its asset page (staged/{domain} follows), or hub sync "
                f"--partner {who} (a run started by hub sync cannot be re-executed from the run "
                "page).")
    if who:
        return (f"Re-sync once the cause is fixed: materialize the partner's partition from the "
                f"asset page, or hub sync --partner {who} (a run started by hub sync cannot be "
                "re-executed from the run page).")
    if stage == "directory" and domain:
        return (f"Publish again once the cause is fixed: materialize directory/{domain} from its "
                f"asset page, or hub replay --domain {domain}.")
    return (f"Once the cause is fixed, run {failure.job} again (its asset page, or Re-execute on "
            "the run page).")


def build_message(title: str, text: str, sender: str, to_address: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = sender
    message["To"] = ascii_domain(to_address)  # as the envelope: no SMTPUTF8 needed for the domain
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message


def send_failure_alert(failure: RunFailure, environ: dict[str, str] | None = None) -> list[str]:
    """Mail the failure to every steward (``send_to_stewards``)."""
    env = os.environ if environ is None else environ
    ui_url = (env.get("HUB_DAGSTER_URL") or "").strip() or None
    return send_to_stewards(subject(failure), render(failure, ui_url), env)


def render_registry_problem(problem: str) -> str:
    return "\n".join([
        "The partner registry cannot be read:",
        "",
        f"    {redact(problem)}",
        "",
        "Until it is fixed no partner feed is scheduled, polled for changes or picked up from its",
        "inbox, and the partitions stay as they were. The directory keeps its state.",
        "Fix the file (hub sync --registry FILE names the problem the same way); this alert is",
        "sent again only for another problem.",
    ]) + "\n"


def send_registry_alert(problem: str, environ: dict[str, str] | None = None) -> list[str]:
    """Mail every steward that the registry is not usable (``send_to_stewards``)."""
    return send_to_stewards("[Welcome Hub] partner registry not usable: no syncs",
                            render_registry_problem(problem), environ)


def send_to_stewards(title: str, text: str, environ: dict[str, str] | None = None) -> list[str]:
    """Mail ``text`` to every steward; returns the addresses the server accepted. Nothing
    is sent (empty list) when HUB_STEWARD_EMAILS or HUB_SMTP_HOST is unset. MailError when
    the server refuses or cannot be reached (after trying every steward)."""
    env = os.environ if environ is None else environ
    stewards = steward_addresses(env)
    if not stewards or not (env.get("HUB_SMTP_HOST") or "").strip():
        return []
    settings = MailSettings.from_env(env, feedback=False)
    mailer = Mailer(settings)
    sent, errors = [], []
    for address in stewards:
        try:
            mailer.send(build_message(title, text, settings.mail_from, address), address)
            sent.append(address)
        except MailError as exc:
            errors.append(str(exc))
    if errors:
        raise MailError("; ".join(errors) + (f" (sent to {len(sent)} other steward(s))" if sent else ""))
    return sent
