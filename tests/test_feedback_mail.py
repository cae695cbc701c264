"""Mailing feedback reports through a real SMTP server on loopback (aiosmtpd): the message a
partner's contact receives, when a report is (not) sent again, and errors as one line."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hub.fetch import FeedFetcher, FetchPolicy
from hub.pipeline import fetch_partner_feed, stage_partner_feed
from hub.quality.feedback import latest_report, report_fingerprint
from hub.quality.mail import FeedbackLedger, MailError, Mailer, MailSettings, send_if_needed, should_send
from hub.quality.report import build_report, format_date, render_html, render_text
from hub.quality.rules import reject
from hub.registry import parse_registry
from hub.store.landing import LandingStore
from tests.feeds import Feed, ba_v6, posting

CONTACT = "stellen@jobcenter-nk.example"
PASSWORD = "s3cret-Passw0rt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """Keeps what the server accepted; refuses recipients at refused.example."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in self.received]


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"hub" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server():
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                            authenticator=_authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def settings_for(controller, **overrides) -> MailSettings:
    values = {"host": controller.hostname, "port": controller.port,
              "mail_from": "feedback@welcome-hub.example", "timeout": 10}
    values.update(overrides)
    return MailSettings(**values)


# --------------------------------------------------------------------------- the partner's feed


@pytest.fixture
def landing(tmp_path):
    return LandingStore(tmp_path / "landing")


@pytest.fixture
def fetcher():
    return FeedFetcher(FetchPolicy(max_retries=1, backoff_base=0.01, deadline=10, sleep=lambda s: None))


def registry_with_contact(url: str):
    return parse_registry(
        "partners:\n"
        "  - id: jobcenter-nk\n"
        "    name: Jobcenter Landkreis Neunkirchen\n"
        "    kind: jobcenter\n"
        f"    contact_email: {CONTACT}\n"
        "    allow_private_network: true\n"
        "    feeds:\n"
        "      - format: ba-jobsuche\n"
        f"        source: {url}\n"
    )


def defective_postings() -> list[dict]:
    postings = [posting(i) for i in range(12)]
    postings[3]["stellenlokationen"][0]["adresse"]["plz"] = "6653"
    postings[7]["stellenangebotsTitel"] = ""
    return postings


def sync(engine, landing, fetcher, partner):
    fetch_partner_feed(engine, landing, fetcher, partner, "jobs")
    return stage_partner_feed(engine, landing, partner, "jobs")


def test_report_mailed_to_the_partner_then_only_when_the_result_changes(
    engine, landing, fetcher, httpserver, smtp_server, tmp_path
):
    controller, server = smtp_server
    feed = Feed(httpserver, "/jc.json", ba_v6(defective_postings()))
    partner = registry_with_contact(feed.url).partners[0]
    mailer = Mailer(settings_for(controller))
    ledger = FeedbackLedger(tmp_path / "feedback")

    sync(engine, landing, fetcher, partner)
    report = latest_report(engine, partner, "jobs")
    assert send_if_needed(mailer, ledger, report, partner.contact_email) is True

    assert len(server.received) == 1
    mail_from, rcpt_tos, _ = server.received[0]
    assert (mail_from, rcpt_tos) == ("feedback@welcome-hub.example", [CONTACT])
    message = server.messages()[0]
    assert message["To"] == CONTACT
    # the delivery's date (Berlin time) tells a partner's daily mails apart
    day = format_date(report.delivered_at, "de")
    assert message["Subject"] == f"Rückmeldung zu Ihrer Lieferung vom {day}: 2 Angebote abgelehnt (Stellenangebote)"
    assert message["Auto-Submitted"] == "auto-generated" and message["Content-Language"] == "de"
    assert message.get_content_type() == "multipart/mixed"

    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Ihre Lieferung vom" in html and "10 Angebote angenommen, 2 abgelehnt" in html
    for source_id in ("10001-1000000003-S", "10001-1000000007-S"):
        assert source_id in html and source_id in text
    assert ">PLZ (stellenlokationen.adresse.plz, v4: arbeitsort.plz)<" in html and "6653" in html
    assert "Pflichtfeld &#39;Titel (stellenangebotsTitel, v4: titel)&#39; fehlt" in html

    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    csv_part = attachments[0]
    date = report.delivered_at.astimezone(dt.timezone.utc).date()  # the test runs far from midnight
    assert csv_part.get_content_type() == "text/csv"
    assert csv_part.get_filename().startswith("feedback-jobcenter-nk-jobs-")
    assert csv_part.get_filename().endswith(".csv") and str(date.year) in csv_part.get_filename()
    raw = csv_part.get_payload(decode=True)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][:6] == ["Kennung", "Zeile", "Titel", "Art", "Feld", "Wert"]
    assert [(r[0], r[4], r[5], r[8]) for r in rows[1:]] == [
        # the label, and the field as the partner's BA export names it
        ("10001-1000000003-S", "PLZ (stellenlokationen.adresse.plz, v4: arbeitsort.plz)", "6653",
         "ADDRESS_POSTAL_CODE_INVALID"),
        ("10001-1000000007-S", "Titel (stellenangebotsTitel, v4: titel)", "", "RECORD_FIELD_MISSING"),
    ]
    assert ledger.last_fingerprint("jobcenter-nk", "jobs") == report_fingerprint(report)

    # the same feed again (304): the same result, nothing is sent
    sync(engine, landing, fetcher, partner)
    again = latest_report(engine, partner, "jobs")
    assert should_send(ledger.last_fingerprint("jobcenter-nk", "jobs"), again) is False
    assert send_if_needed(mailer, ledger, again, partner.contact_email) is False
    assert len(server.received) == 1

    # the partner fixes the title: the result changed, the new report is sent
    fixed = defective_postings()
    fixed[7]["stellenangebotsTitel"] = "Erzieher (m/w/d)"
    feed.body = ba_v6(fixed)
    sync(engine, landing, fetcher, partner)
    changed = latest_report(engine, partner, "jobs")
    assert should_send(ledger.last_fingerprint("jobcenter-nk", "jobs"), changed) is True
    assert send_if_needed(mailer, ledger, changed, partner.contact_email) is True
    assert len(server.received) == 2
    second = server.messages()[1]
    day = format_date(changed.delivered_at, "de")
    assert second["Subject"] == f"Rückmeldung zu Ihrer Lieferung vom {day}: 1 Angebot abgelehnt (Stellenangebote)"
    assert "10001-1000000007-S" not in second.get_body(preferencelist=("html",)).get_content()


def test_second_mail_tells_corrected_offers_from_new_ones_and_rejected_from_gone(
    engine, landing, fetcher, httpserver, smtp_server, tmp_path
):
    """The partner fixes two postings and breaks one that was published: the second mail does
    not call the broken one 'no longer included' (it is in the file) and says that the new
    ones in the directory are the corrected ones."""
    controller, server = smtp_server
    postings = defective_postings()  # 3 (PLZ) and 7 (title) rejected
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    partner = registry_with_contact(feed.url).partners[0]
    mailer = Mailer(settings_for(controller))
    ledger = FeedbackLedger(tmp_path / "feedback")
    sync(engine, landing, fetcher, partner)
    assert send_if_needed(mailer, ledger, latest_report(engine, partner, "jobs"), partner.contact_email)
    # the first delivery has no last one to be compared with ('Gegenüber Ihrer letzten
    # Lieferung: 10 neu' was the first mail's words)
    first = server.messages()[0].get_body(("plain",)).get_content()
    assert "10 Angebote angenommen, 2 abgelehnt" in first and "letzten Lieferung" not in first

    postings = [posting(i) for i in range(12)]  # both fixed ...
    postings[5]["stellenangebotsTitel"] = ""  # ... and a published one broken
    feed.body = ba_v6(postings)
    sync(engine, landing, fetcher, partner)
    report = latest_report(engine, partner, "jobs")
    assert send_if_needed(mailer, ledger, report, partner.contact_email)
    assert (report.counts.corrected, report.counts.withdrawn_rejected) == (2, 1)

    second = server.messages()[1]
    for body in (second.get_body(("plain",)).get_content(), second.get_body(("html",)).get_content()):
        flat = " ".join(body.split())
        assert "nicht mehr enthalten" not in flat
        assert ("Gegenüber Ihrer letzten Lieferung: 2 neu, 1 jetzt abgelehnt und deshalb aus dem "
                "Verzeichnis genommen. Darunter 2 Angebote, die beim letzten Mal abgelehnt waren "
                "und jetzt korrigiert sind.") in flat

    english = latest_report(engine, partner, "jobs", "en")
    assert "1 rejected now and therefore taken out of the directory" in render_text(english)
    assert "Among them 2 offers rejected last time and corrected now." in render_text(english)


# --------------------------------------------------------------------------- without a database

PARTNER_SYNC = {"id": 7, "started_at": dt.datetime(2026, 11, 3, 8, 15, tzinfo=dt.timezone.utc),
                "status": "ok", "items": 3, "accepted": 2, "rejected": 1, "added": 3, "changed": 0,
                "withdrawn": 0, "message": None}


class _Partner:
    id = "sprachschule-nk"
    name = "Sprachschule Neunkirchen"


def course_report(lang="de", status="ok", sync_id=7, value="7"):
    rows = [reject("COURSE_LEVEL_INVALID", partner_id="sprachschule-nk", domain="courses",
                   source_id="K-1", field="cefr_levels", value=value, title="Integrationskurs")]
    row = {**PARTNER_SYNC, "status": status, "id": sync_id}
    return build_report(_Partner(), "courses", row, rows if status == "ok" else [], lang)


def test_plain_text_keeps_a_value_apart_from_the_hint(smtp_server):
    """A message that ends in the value delivered: the plain-text part used to run on into the
    hint ('ungültigen Wert: 31.02.2027 Prüfen Sie ...'); a dash now parts them, while messages
    that end in a full stop keep a plain space."""
    controller, server = smtp_server
    rows = [reject("RECORD_FIELD_INVALID", partner_id="sprachschule-nk", domain="courses",
                   source_id="K-1", field="Beginn", value="31.02.2027", title="Deutsch B1"),
            reject("COURSE_LEVEL_INVALID", partner_id="sprachschule-nk", domain="courses",
                   source_id="K-2", field="cefr_levels", value="B1.1", title="Deutsch B1.1")]
    report = build_report(_Partner(), "courses", {**PARTNER_SYNC, "rejected": 2}, rows, "de")
    Mailer(settings_for(controller)).send_report(report, "kurse@schule.example")
    text = " ".join(server.messages()[0].get_body(("plain",)).get_content().split())
    invalid, level = report.problems
    assert f"Wert: 31.02.2027 – {invalid.hint}" in text
    assert level.message.endswith(".") and f"{level.message} {level.hint}" in text


def test_mail_says_whom_to_ask_and_replies_reach_the_welcome_center(smtp_server):
    """With HUB_MAIL_REPLY_TO the partner's reply goes to the welcome center's mailbox (not to
    the hub's sender address) and the footer names it; without it the footer stays general."""
    controller, server = smtp_server
    env = {"HUB_SMTP_HOST": controller.hostname, "HUB_SMTP_PORT": str(controller.port),
           "HUB_MAIL_FROM": "Welcome Hub <noreply@welcome-hub.example>",
           "HUB_MAIL_REPLY_TO": "Willkommenszentrum Neunkirchen <welcome@kreis-nk.example>"}
    Mailer(MailSettings.from_env(env)).send_report(course_report(), "kurse@schule.example")
    Mailer(MailSettings.from_env(env)).send_report(course_report("en"), "kurse@schule.example")
    german, english = server.messages()
    assert german["Reply-To"] == "Willkommenszentrum Neunkirchen <welcome@kreis-nk.example>"
    for part in ("plain", "html"):
        flat = " ".join(german.get_body((part,)).get_content().split())
        assert "Bei Fragen schreiben Sie an Ihr Willkommenszentrum:" in flat
        assert "Willkommenszentrum: welcome@kreis-nk.example (oder antworten Sie auf diese E-Mail)" in flat
    assert "write to your welcome center:" in " ".join(english.get_body(("plain",)).get_content().split())

    without = {k: v for k, v in env.items() if k != "HUB_MAIL_REPLY_TO"}
    Mailer(MailSettings.from_env(without)).send_report(course_report(), "kurse@schule.example")
    plain = server.messages()[2]
    assert plain["Reply-To"] is None
    assert "wenden Sie sich bitte an Ihr Willkommenszentrum." in plain.get_body(("plain",)).get_content()
    with pytest.raises(MailError, match="HUB_MAIL_REPLY_TO must be one address"):
        MailSettings.from_env({**env, "HUB_MAIL_REPLY_TO": "a@x.example, b@x.example"})


def test_mail_links_the_partners_feedback_page_where_the_api_is_public(smtp_server, tmp_path):
    """With HUB_PUBLIC_URL (the read API as partners reach it) the mail links the partner's
    feedback page, where this and the earlier reports are, in both languages and both parts;
    the link is a route of the read API. Without it, no link; a value that is no web address
    is refused rather than mailed as a dead link."""
    from starlette.routing import Match

    from hub.api.app import create_app
    from hub.store.db import make_engine, migrate

    controller, server = smtp_server
    env = {"HUB_SMTP_HOST": controller.hostname, "HUB_SMTP_PORT": str(controller.port),
           "HUB_MAIL_FROM": "noreply@welcome-hub.example", "HUB_PUBLIC_URL": "https://hub.kreis-nk.example/"}
    Mailer(MailSettings.from_env(env)).send_report(course_report(), "kurse@schule.example")
    Mailer(MailSettings.from_env(env)).send_report(course_report("en"), "kurse@schule.example")
    german, english = server.messages()
    url = "https://hub.kreis-nk.example/partners/sprachschule-nk/feedback"
    text = " ".join(german.get_body(("plain",)).get_content().split())
    assert f"Diese und Ihre früheren Rückmeldungen finden Sie auch online: {url} (mit dem" in text
    assert f'<a href="{url}">{url}</a>' in german.get_body(("html",)).get_content()
    assert f"This and your earlier feedback are also online: {url} (with the access key" in " ".join(
        english.get_body(("plain",)).get_content().split())
    engine = make_engine(f"sqlite:///{tmp_path}/hub.db")
    migrate(engine)
    routes = create_app(engine).routes
    scope = {"type": "http", "method": "GET", "path": url.removeprefix("https://hub.kreis-nk.example")}
    assert any(route.matches(scope)[0] == Match.FULL for route in routes)
    engine.dispose()

    without = {k: v for k, v in env.items() if k != "HUB_PUBLIC_URL"}
    Mailer(MailSettings.from_env(without)).send_report(course_report(), "kurse@schule.example")
    assert "online" not in server.messages()[2].get_body(("plain",)).get_content()
    for wrong in ("hub.kreis-nk.example", "ftp://hub.kreis-nk.example", "https://"):
        with pytest.raises(MailError, match="HUB_PUBLIC_URL must be the read API's address"):
            MailSettings.from_env({**env, "HUB_PUBLIC_URL": wrong})


def test_mail_points_to_the_attached_table(smtp_server):
    """The mail lists 20 problems in its plain text and says the rest are in the table that is
    attached, by its file name (it used to say only 'in der Tabelle (CSV)', as the page does)."""
    controller, server = smtp_server
    rows = [reject("COURSE_LEVEL_INVALID", partner_id="sprachschule-nk", domain="courses",
                   source_id=f"K-{n}", field="cefr_levels", value="B1.1", title="Deutsch B1")
            for n in range(25)]
    report = build_report(_Partner(), "courses", {**PARTNER_SYNC, "items": 25, "rejected": 25}, rows, "de")
    Mailer(settings_for(controller)).send_report(report, "kurse@schule.example")
    message = server.messages()[0]
    name = next(message.iter_attachments()).get_filename()
    text = " ".join(message.get_body(("plain",)).get_content().split())
    html = " ".join(message.get_body(("html",)).get_content().split())
    assert f"… und 5 weitere Probleme; alle stehen in der Tabelle im Anhang ({name})." in text
    for body in (text, html):
        assert f"Alle Probleme stehen auch in der Tabelle im Anhang ({name}, für Excel oder LibreOffice)." in body
    assert "Die Liste der Probleme gibt es auch als Tabelle" in render_html(report)


def test_partner_address_with_an_umlaut_domain_reaches_a_server_without_smtputf8():
    """info@sprachschule-müller.example: a mail server that does not advertise SMTPUTF8 (the
    case of many relays) made every feedback mail to the partner fail, with the words 'does
    not support login'. The domain now goes out in its DNS form (xn--...); an umlaut before
    the @ still needs SMTPUTF8, and the message says so."""
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    controller.start()
    try:
        mailer = Mailer(settings_for(controller))
        mailer.send_report(course_report(), "info@sprachschule-müller.example")
        (_, rcpt_tos, _), = handler.received
        assert rcpt_tos == ["info@xn--sprachschule-mller-z6b.example"]
        assert handler.messages()[0]["To"] == "info@xn--sprachschule-mller-z6b.example"
        with pytest.raises(MailError) as caught:
            mailer.send_report(course_report(), "büro@schule.example")
        assert "does not take addresses with umlauts" in str(caught.value)
        assert "büro@schule.example" in str(caught.value) and "login" not in str(caught.value)
    finally:
        controller.stop()


def test_a_steward_at_an_umlaut_domain_gets_the_alert_whatever_the_feedback_settings(monkeypatch):
    """The stewards' alert went out with the address as written in its To header, which a
    server without SMTPUTF8 refuses for an umlaut domain (the envelope was converted, the
    header not); and a mistake in a feedback mail's own setting (HUB_PUBLIC_URL) must not
    keep an alert from going out. Both: the alert reaches the steward."""
    from hub.alerts import send_to_stewards

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    controller.start()
    try:
        env = {"HUB_SMTP_HOST": controller.hostname, "HUB_SMTP_PORT": str(controller.port),
               "HUB_MAIL_FROM": "hub@kreis-nk.example", "HUB_PUBLIC_URL": "hub.kreis-nk.example",
               "HUB_STEWARD_EMAILS": "daten@landkreis-müllheim.example"}
        assert send_to_stewards("[Welcome Hub] test", "text", env) == ["daten@landkreis-müllheim.example"]
        (_, rcpt_tos, _), = handler.received
        assert rcpt_tos == ["daten@xn--landkreis-mllheim-d3b.example"]
        assert handler.messages()[0]["To"] == "daten@xn--landkreis-mllheim-d3b.example"
    finally:
        controller.stop()


def test_overview_names_the_missing_fields(smtp_server):
    """Two required fields empty in one delivery: the overview said "Pflichtfeld '…' fehlt"
    and the partner had to read on to learn which; it names them now."""
    controller, server = smtp_server
    rows = [reject("RECORD_FIELD_MISSING", partner_id="sprachschule-nk", domain="courses",
                   source_id=f"K-{n}", field=field, title="Deutsch B1")
            for n, field in enumerate(["PLZ", "Titel", "PLZ"])]
    report = build_report(_Partner(), "courses", {**PARTNER_SYNC, "rejected": 3}, rows, "de")
    Mailer(settings_for(controller)).send_report(report, "kurse@schule.example")
    message = server.messages()[0]
    text = message.get_body(("plain",)).get_content()
    assert "- 3 × Pflichtfeld 'PLZ' / 'Titel' fehlt oder ist leer. (RECORD_FIELD_MISSING)" in text
    assert "Pflichtfeld &#39;PLZ&#39; / &#39;Titel&#39; fehlt" in message.get_body(("html",)).get_content()


def test_a_date_in_the_mail_stays_on_one_line(smtp_server):
    """The HTML part in a reading pane 900 pixels wide (Chromium): the value column broke a
    date the partner delivered in two ('31.02.202' and '7' below), which reads as another
    date. Short values stay whole now."""
    from tests.test_feedback_page import CHROMIUM, _need_browser

    sync_playwright = _need_browser()
    controller, server = smtp_server
    rows = [reject("RECORD_FIELD_INVALID", partner_id="sprachschule-nk", domain="courses",
                   source_id=f"LS-{n}", field="start_date", value="31.02.2027",
                   title=f"Deutsch B1 Abendkurs {n} für Berufstätige") for n in range(3)]
    report = build_report(_Partner(), "courses", {**PARTNER_SYNC, "rejected": 3}, rows, "de", fmt="csv-courses")
    Mailer(settings_for(controller)).send_report(report, "kurse@schule.example")
    html = server.messages()[0].get_body(("html",)).get_content()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 900})
            page.set_content(html)
            lines = page.eval_on_selector_all(
                "td.value-cell .value", "spans => spans.map(s => [s.textContent, s.getClientRects().length])")
        finally:
            browser.close()
    assert lines == [["31.02.2027", 1]] * 3


def test_english_report_mail(smtp_server):
    controller, server = smtp_server
    Mailer(settings_for(controller)).send_report(course_report("en"), "courses@school.example")
    message = server.messages()[0]
    assert message["Subject"] == "Feedback on your delivery of 3 November 2026: 1 offer rejected (course offers)"
    assert message["Content-Language"] == "en"
    assert "language level" in message.get_body(preferencelist=("html",)).get_content()
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "feedback-sprachschule-nk-courses-2026-11-03.csv"
    rows = list(csv.reader(io.StringIO(attachment.get_payload(decode=True).decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Record id" and rows[1][:6] == ["K-1", "", "Integrationskurs", "error", "language level", "7"]


def test_login_with_password_and_refusals_are_one_line(smtp_server):
    controller, server = smtp_server
    report = course_report()
    good = Mailer(settings_for(controller, user="hub", password=PASSWORD))
    good.send_report(report, "kurse@school.example")
    assert len(server.received) == 1

    with pytest.raises(MailError) as refused_login:
        Mailer(settings_for(controller, user="hub", password="wrong-" + PASSWORD)).send_report(report, "kurse@school.example")
    with pytest.raises(MailError) as refused_rcpt:
        good.send_report(report, "nobody@refused.example")
    for error in (refused_login, refused_rcpt):
        text = str(error.value)
        assert "\n" not in text and "Traceback" not in text
        assert PASSWORD not in text
        assert error.value.__cause__ is None and error.value.__suppress_context__
    assert "refused the login of 'hub' (535" in str(refused_login.value)
    assert "refused the recipient nobody@refused.example (550" in str(refused_rcpt.value)
    assert PASSWORD not in repr(good.settings)
    assert len(server.received) == 1


def test_starttls_against_a_server_without_it(smtp_server):
    controller, _ = smtp_server
    with pytest.raises(MailError, match="does not support STARTTLS"):
        Mailer(settings_for(controller, starttls=True)).send_report(course_report(), "kurse@school.example")


def test_unreachable_server_is_one_line(tmp_path):
    port = free_port()  # nothing listens there any more
    mailer = Mailer(MailSettings(host="127.0.0.1", port=port, mail_from="feedback@hub.example",
                                 user="hub", password=PASSWORD, timeout=5))
    ledger = FeedbackLedger(tmp_path)
    report = course_report()
    with pytest.raises(MailError) as error:
        send_if_needed(mailer, ledger, report, "kurse@school.example")
    text = str(error.value)
    assert text == f"cannot reach the mail server 127.0.0.1:{port} (Connection refused)"
    assert PASSWORD not in text
    assert ledger.last_fingerprint("sprachschule-nk", "courses") is None  # retried next time


def test_missing_contact_address():
    report = course_report()
    mailer = Mailer(MailSettings(host="127.0.0.1", mail_from="feedback@hub.example"))
    with pytest.raises(MailError, match="no usable e-mail address for partner 'sprachschule-nk'"):
        mailer.send_report(report, "")
    with pytest.raises(MailError, match="no usable e-mail address"):
        mailer.build_message(report, "a@b.example\r\nBcc: x@y.example")


def test_should_send_rule():
    first = course_report()
    fingerprint = report_fingerprint(first)
    assert should_send(None, first) is True
    assert should_send(fingerprint, course_report(sync_id=8)) is False  # same result, new sync
    assert should_send(fingerprint, course_report("en")) is False  # language is not news
    assert should_send(fingerprint, course_report(value="D1")) is True  # another value
    failed = course_report(status="failed", sync_id=9)
    assert should_send(fingerprint, failed) is True
    assert should_send(report_fingerprint(failed), failed) is False  # the same failed sync, sent
    assert should_send(report_fingerprint(failed), course_report(status="failed", sync_id=10)) is True
    held = course_report(status="held", sync_id=11)
    assert should_send(report_fingerprint(failed), held) is True


def test_ledger_keeps_fingerprints_per_partner_and_domain(tmp_path):
    ledger = FeedbackLedger(tmp_path / "state")
    assert ledger.last_fingerprint("sprachschule-nk", "courses") is None
    report = course_report()
    ledger.record(report)
    other = FeedbackLedger(tmp_path / "state")  # another process reads the same file
    assert other.last_fingerprint("sprachschule-nk", "courses") == report_fingerprint(report)
    assert other.last_fingerprint("sprachschule-nk", "jobs") is None
    entry = other.entry("sprachschule-nk", "courses")
    assert entry["sync_id"] == 7 and entry["status"] == "ok" and "sent_at" in entry
    assert "@" not in (tmp_path / "state" / FeedbackLedger.FILENAME).read_text()  # no addresses kept
    (tmp_path / "state" / FeedbackLedger.FILENAME).write_text("{not json")
    with pytest.raises(MailError, match="cannot read the feedback ledger"):
        other.last_fingerprint("sprachschule-nk", "courses")


def test_settings_from_the_environment():
    env = {"HUB_SMTP_HOST": "mail.kreis-nk.example", "HUB_SMTP_PORT": "587", "HUB_SMTP_USER": "hub",
           "HUB_SMTP_PASSWORD": PASSWORD, "HUB_SMTP_STARTTLS": "yes", "HUB_MAIL_FROM": "hub@kreis-nk.example"}
    s = MailSettings.from_env(env)
    assert (s.host, s.port, s.user, s.password, s.starttls, s.mail_from) == (
        "mail.kreis-nk.example", 587, "hub", PASSWORD, True, "hub@kreis-nk.example")
    assert PASSWORD not in repr(s)
    defaults = MailSettings.from_env({"HUB_SMTP_HOST": "localhost", "HUB_MAIL_FROM": "hub@localhost.example"})
    assert (defaults.port, defaults.user, defaults.password, defaults.starttls) == (25, None, None, False)
    with pytest.raises(MailError, match="HUB_SMTP_HOST is not set"):
        MailSettings.from_env({})
    with pytest.raises(MailError, match="HUB_MAIL_FROM"):
        MailSettings.from_env({"HUB_SMTP_HOST": "localhost"})
    with pytest.raises(MailError, match="HUB_SMTP_PORT must be a port number"):
        MailSettings.from_env({**env, "HUB_SMTP_PORT": "smtp"})
    with pytest.raises(MailError, match="HUB_SMTP_STARTTLS must be yes or no"):
        MailSettings.from_env({**env, "HUB_SMTP_STARTTLS": "maybe"})


def test_sync_through_dagster_mails_the_partner_once_per_result(db_url, tmp_path, httpserver, smtp_server,
                                                                monkeypatch):
    """The whole path a partner sees: a defective delivery synced through the Dagster assets,
    the mail read from a real SMTP server on loopback; an unchanged second sync sends nothing,
    a fixed delivery sends the good news."""
    import dagster as dg

    from hub.assets import ALL_ASSETS
    from hub.resources import FeedClient, HubStore

    controller, collector = smtp_server
    for name, value in {"HUB_SMTP_HOST": controller.hostname, "HUB_SMTP_PORT": str(controller.port),
                        "HUB_MAIL_FROM": "feedback@welcome-hub.example"}.items():
        monkeypatch.setenv(name, value)
    postings = [posting(n) for n in range(6)]
    postings[1]["stellenlokationen"][0]["adresse"]["plz"] = "6654"
    postings[4]["stellenangebotsTitel"] = ""
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = tmp_path / "registry.yaml"
    registry.write_text(
        "partners:\n  - id: jobcenter-nk\n    name: Jobcenter Landkreis Neunkirchen\n"
        f"    contact_email: {CONTACT}\n    allow_private_network: true\n    feeds:\n"
        f"      - format: ba-jobsuche\n        source: {feed.url}\n")
    resources = {"hub_store": HubStore(database_url=db_url, home=str(tmp_path / "home"),
                                       registry_path=str(registry)),
                 "feed_client": FeedClient(max_retries=0)}
    selection = [a for a in ALL_ASSETS if a.key.path[0] in ("raw", "staged") and a.key.path[1] == "jobs"]
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])

        def sync():
            return dg.materialize(selection, partition_key="jobcenter-nk", resources=resources, instance=instance)

        sync()
        (message,) = collector.messages()
        assert message["To"] == CONTACT
        html = message.get_body(("html",)).get_content()
        assert "10001-1000000001-S" in html and "6654" in html and "10001-1000000004-S" in html
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_filename().startswith("feedback-jobcenter-nk-jobs-")
        rows = attachment.get_payload(decode=True).decode("utf-8-sig").splitlines()
        assert len(rows) == 3 and rows[0].startswith("Kennung;")
        assert (tmp_path / "home" / "feedback" / "jobcenter-nk" / "jobs" / "report.html").exists()

        sync()  # unchanged delivery: no second mail
        assert len(collector.messages()) == 1

        postings[1]["stellenlokationen"][0]["adresse"]["plz"] = "66540"
        postings[4]["stellenangebotsTitel"] = "Koch (m/w/d)"
        feed.body = ba_v6(postings)
        sync()
        assert len(collector.messages()) == 2
        assert "abgelehnt" not in collector.messages()[-1]["Subject"]
