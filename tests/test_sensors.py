"""Sensors, schedules, alerts and run settings: each sensor's cursor, the feed-change probe
against a loopback feed server with ETags, feedback and steward mails through a real SMTP
server on loopback (aiosmtpd), per-partner cadence at chosen times, declarative automation,
retry policy and the instance file."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from werkzeug import Response

from hub.alerts import FailedStep, RunFailure, redact, render, send_failure_alert, steward_addresses
from hub.assets import ALL_ASSETS
from hub.cadence import due_feeds
from hub.changes import probe_feeds
from hub.demo.server import FeedServer
from hub.fetch import FeedFetcher, FetchError, FetchPolicy
from hub.pipeline import fetch_partner_feed, stage_partner_feed
from hub.quality.dispatch import deliver_pending, pending_reports
from hub.quality.mail import FeedbackLedger, MailError, Mailer, MailSettings
from hub.registry import parse_registry
from hub.resources import FeedClient, HubStore
from hub.sensors import (
    feed_change_sensor,
    feedback_sensor,
    inbox_sensor,
    registry_sensor,
    steward_alert_sensor,
)
from hub.sensors.schedules import CADENCE_SCHEDULES
from hub.store.landing import LandingStore
from hub.store.tables import syncs
from tests.conftest import ROOT
from tests.feeds import Feed, ba_v6, posting, registry_text
from tests.test_feedback_mail import Collector, free_port
from tests.test_inbox import CSV, drop

BERLIN = ZoneInfo("Europe/Berlin")
SMTP_ENV = ("HUB_SMTP_HOST", "HUB_SMTP_PORT", "HUB_SMTP_USER", "HUB_SMTP_PASSWORD", "HUB_MAIL_FROM",
            "HUB_SMTP_STARTTLS", "HUB_STEWARD_EMAILS", "HUB_DAGSTER_URL")


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server on loopback, and the hub's mail settings pointing at it."""
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    for name in SMTP_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HUB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HUB_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("HUB_MAIL_FROM", "hub@welcome-hub.example")
    try:
        yield handler
    finally:
        controller.stop()


def apply(instance, result) -> None:
    """What the daemon does with a sensor's dynamic partition requests."""
    for request in result.dynamic_partitions_requests:
        if type(request).__name__.startswith("Add"):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


# --------------------------------------------------------------------------- registry sensor


def test_registry_sensor_cursor_skips_an_unchanged_registry_and_sees_additions_and_removals(
        tmp_path, instance, monkeypatch):
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", "https://a.example/j"),
                                      ("vhs-nk", "csv-courses", "https://b.example/k.csv")))
    store = HubStore(registry_path=str(registry), home=str(tmp_path))
    context = dg.build_sensor_context(instance=instance, resources={"hub_store": store})
    first = registry_sensor(context)
    assert sorted((r.partitions_def_name, tuple(r.partition_keys)) for r in first.dynamic_partitions_requests
                  ) == [("courses_feeds", ("vhs-nk",)), ("jobs_feeds", ("jobcenter-nk",))]
    apply(instance, first)
    cursor = first.cursor
    assert cursor and "fingerprint" in json.loads(cursor)

    # unchanged registry and partitions: skipped without reading the registry
    monkeypatch.setattr(HubStore, "registry", lambda self: pytest.fail("the registry was parsed"))
    context = dg.build_sensor_context(instance=instance, resources={"hub_store": store}, cursor=cursor)
    skipped = registry_sensor(context)
    assert isinstance(skipped, dg.SkipReason) and "unchanged" in skipped.skip_message
    monkeypatch.undo()

    # a partner joins, another leaves: the cursor no longer matches
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", "https://a.example/j"),
                                      ("wohnbau-nk", "openimmo", "https://c.example/o.xml")))
    context = dg.build_sensor_context(instance=instance, resources={"hub_store": store}, cursor=cursor)
    changed = registry_sensor(context)
    requests = {(r.partitions_def_name, type(r).__name__): list(r.partition_keys)
                for r in changed.dynamic_partitions_requests}
    assert requests == {("housing_feeds", "AddDynamicPartitionsRequest"): ["wohnbau-nk"],
                        ("courses_feeds", "DeleteDynamicPartitionsRequest"): ["vhs-nk"]}
    assert changed.cursor != cursor
    apply(instance, changed)
    again = dg.build_sensor_context(instance=instance, resources={"hub_store": store}, cursor=changed.cursor)
    assert "unchanged" in registry_sensor(again).skip_message

    # partitions changed behind the registry's back (an instance reset): repaired
    instance.delete_dynamic_partition("jobs_feeds", "jobcenter-nk")
    repaired = registry_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store},
                                                       cursor=changed.cursor))
    assert [list(r.partition_keys) for r in repaired.dynamic_partitions_requests] == [["jobcenter-nk"]]

    # an emptied registry file removes no partition: taken for a mistake, as hub sync does
    registry.write_text("partners: []\n")
    emptied = registry_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store},
                                                      cursor=repaired.cursor))
    assert isinstance(emptied, dg.SkipReason) and "lists no partners" in emptied.skip_message

    # a missing registry file is one line, partitions left alone
    registry.unlink()
    gone = registry_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store},
                                                   cursor=repaired.cursor))
    assert isinstance(gone, dg.SkipReason) and "registry not usable" in gone.skip_message


def test_an_unusable_registry_mails_the_stewards_once_per_problem(tmp_path, instance, smtp, monkeypatch):
    """A typo in the registry stops every sync, schedule and poll: the stewards learn it once
    (not at every tick), again for another problem, and the sensor goes on when it is fixed."""
    monkeypatch.setenv("HUB_STEWARD_EMAILS", "steward@welcome.example")
    registry = tmp_path / "registry.yaml"
    good = registry_text(("jobcenter-nk", "ba-jobsuche", "https://a.example/j"))
    registry.write_text(good.replace("ba-jobsuche", "ba-jobsuchee"))
    store = HubStore(registry_path=str(registry), home=str(tmp_path))

    def tick(cursor):
        context = dg.build_sensor_context(instance=instance, resources={"hub_store": store}, cursor=cursor)
        result = registry_sensor(context)
        return result, (result.cursor if isinstance(result, dg.SensorResult) else context.cursor)

    result, cursor = tick(None)
    assert isinstance(result, dg.SkipReason) and "unknown format 'ba-jobsuchee'" in result.skip_message
    assert len(smtp.messages()) == 1
    message = smtp.messages()[0]
    assert message["Subject"] == "[Welcome Hub] partner registry not usable: no syncs"
    body = message.get_content()
    assert str(registry) in body and "unknown format 'ba-jobsuchee'" in body and "no partner feed" in body
    _, cursor = tick(cursor)
    assert len(smtp.messages()) == 1  # the same problem: no second mail
    registry.unlink()
    _, cursor = tick(cursor)
    assert len(smtp.messages()) == 2 and "registry file not found" in smtp.messages()[1].get_content()
    registry.write_text(good)
    fixed, cursor = tick(cursor)
    assert [list(r.partition_keys) for r in fixed.dynamic_partitions_requests] == [["jobcenter-nk"]]
    assert "alerted" not in json.loads(cursor)
    assert len(smtp.messages()) == 2


# --------------------------------------------------------------------------- inbox sensor


def test_inbox_sensor_cursor_requests_each_file_once(tmp_path, instance):
    inbox = tmp_path / "vhs"
    inbox.mkdir()
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("vhs-nk", "csv-courses", f"inbox:{inbox}")))
    store = HubStore(registry_path=str(registry), home=str(tmp_path))
    first_file = drop(inbox, "a.csv", CSV, age=90)
    drop(inbox, "b.csv", CSV, age=30)

    first = inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store}))
    assert [(r.partition_key, r.tags["hub/inbox_file"], r.tags["hub/host"]) for r in first.run_requests
            ] == [("vhs-nk", "a.csv", "local")]
    # the next tick (after a restart: only the cursor is kept) waits for that run
    waiting = inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store},
                                                   cursor=first.cursor))
    assert isinstance(waiting, dg.SkipReason) and "requested already" in waiting.skip_message
    # the run took a.csv: b.csv is next
    first_file.rename(tmp_path / "a.csv")
    second = inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store},
                                                  cursor=first.cursor))
    assert [r.tags["hub/inbox_file"] for r in second.run_requests] == ["b.csv"]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key


# --------------------------------------------------------------------------- feed probes


def test_probe_answers_unchanged_changed_and_unknown(httpserver):
    feed = Feed(httpserver, "/jobs.json", ba_v6([posting(1)]))
    fetcher = FeedFetcher(FetchPolicy(max_retries=0, deadline=10))
    first = fetcher.fetch(feed.url, allow_private=True)
    same = fetcher.probe(feed.url, etag=first.etag, allow_private=True)
    assert (same.status, same.http_status, same.etag) == ("unchanged", 304, first.etag)
    feed.body = ba_v6([posting(2)])
    changed = fetcher.probe(feed.url, etag=first.etag, allow_private=True)
    assert changed.status == "changed" and changed.validator not in (None, first.etag)
    assert feed.requests == [200, 304, 200]  # probes are HEAD requests answered by the same handler
    assert all(r.method == "HEAD" for r, _ in httpserver.log[1:])

    httpserver.expect_request("/plain.csv").respond_with_data("a;b\n")  # no validators
    assert fetcher.probe(httpserver.url_for("/plain.csv"), allow_private=True).status == "unknown"
    httpserver.expect_request("/nohead", method="HEAD").respond_with_data("", status=405)
    assert fetcher.probe(httpserver.url_for("/nohead"), allow_private=True).status == "unknown"

    with pytest.raises(FetchError, match="non-public address"):
        fetcher.probe(feed.url)  # loopback refused unless the registry allows it
    with pytest.raises(FetchError) as err:
        fetcher.probe(f"http://127.0.0.1:{free_port()}/x?token=geheim", allow_private=True)
    assert err.value.transient and "geheim" not in str(err.value)


def test_fetch_errors_say_whether_another_try_may_help(httpserver):
    fetcher = FeedFetcher(FetchPolicy(max_retries=1, deadline=10, sleep=lambda s: None))
    httpserver.expect_request("/busy").respond_with_data("busy", status=503)
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    with pytest.raises(FetchError) as busy:
        fetcher.fetch(httpserver.url_for("/busy"), allow_private=True)
    with pytest.raises(FetchError) as gone:
        fetcher.fetch(httpserver.url_for("/gone"), allow_private=True)
    assert busy.value.transient and "HTTP 503" in str(busy.value)
    assert not gone.value.transient and "HTTP 404" in str(gone.value)


def test_probe_sends_the_feed_credential(httpserver, monkeypatch):
    monkeypatch.setenv("PARTNER_KEY", "k-123")
    seen = []
    httpserver.expect_request("/api").respond_with_handler(
        lambda request: seen.append(request.headers.get("X-API-Key")) or Response("", headers={"ETag": '"1"'}))
    result = FeedFetcher().probe(httpserver.url_for("/api"), allow_private=True, auth_env="PARTNER_KEY",
                                 auth_header="X-API-Key")
    assert seen == ["k-123"] and result.status == "changed"


def two_feeds_registry(tmp_path, httpserver):
    feeds = {"jobcenter-nk": Feed(httpserver, "/jc.json", ba_v6([posting(n) for n in range(3)])),
             "saar-logistik": Feed(httpserver, "/sl.json", ba_v6([posting(n, "Saar Logistik") for n in range(3, 5)]))}
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(*[(pid, "ba-jobsuche", feed.url) for pid, feed in feeds.items()]))
    return feeds, registry


def test_feed_change_sensor_runs_only_the_changed_partition(db_url, tmp_path, httpserver, instance):
    feeds, registry = two_feeds_registry(tmp_path, httpserver)
    store = HubStore(database_url=db_url, home=str(tmp_path / "home"), registry_path=str(registry))
    client = FeedClient(max_retries=0, deadline=10)
    resources = {"hub_store": store, "feed_client": client}
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk", "saar-logistik"])

    # never fetched: both are new, one run each
    first = feed_change_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    assert sorted(r.partition_key for r in first.run_requests) == ["jobcenter-nk", "saar-logistik"]
    assert {r.job_name for r in first.run_requests} == {"sync_jobs"}
    assert {r.tags["hub/host"] for r in first.run_requests} == {"localhost"}
    assert feeds["jobcenter-nk"].requests == []  # nothing asked of a feed never fetched

    parsed = parse_registry(registry.read_text())
    for pid in feeds:
        fetch_partner_feed(store.engine(), store.landing(), client.fetcher(), parsed.get(pid), "jobs")
    cursor = first.cursor

    # both fetched, nothing changed: no run, one 304 each
    unchanged = feed_change_sensor(dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor))
    assert isinstance(unchanged, dg.SkipReason) and "2 unchanged" in unchanged.skip_message
    assert feeds["jobcenter-nk"].requests[-1] == 304 and feeds["saar-logistik"].requests[-1] == 304

    # one partner publishes a new version: one run, for that partition only
    feeds["saar-logistik"].body = ba_v6([posting(n, "Saar Logistik") for n in range(3, 7)])
    changed = feed_change_sensor(dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor))
    assert [(r.job_name, r.partition_key) for r in changed.run_requests] == [("sync_jobs", "saar-logistik")]
    run_key = changed.run_requests[0].run_key
    new_etag = json.loads(changed.cursor)["requested"]["saar-logistik/jobs"]
    assert run_key == f"feed:saar-logistik/jobs:{new_etag}"

    # the next tick before the run fetched it: that version is not requested again
    repeat = feed_change_sensor(dg.build_sensor_context(instance=instance, resources=resources,
                                                        cursor=changed.cursor))
    assert isinstance(repeat, dg.SkipReason)

    # a feed not (yet) a partition is not probed
    instance.delete_dynamic_partition("jobs_feeds", "saar-logistik")
    feeds["jobcenter-nk"].body = ba_v6([posting(9)])
    only = feed_change_sensor(dg.build_sensor_context(instance=instance, resources=resources,
                                                      cursor=changed.cursor))
    assert [r.partition_key for r in only.run_requests] == ["jobcenter-nk"]
    assert "saar-logistik/jobs" not in json.loads(only.cursor)["requested"]


def test_feed_change_probes_of_many_slow_partners_fit_a_tick_and_go_on_at_the_next(
        db_url, tmp_path, instance):
    """500 feeds asked one after the other of a partner answering in 2 s took 1000 s a tick,
    past Dagster's 60 s sensor timeout: every tick failed and no change was ever seen. Here
    30 feeds on one host answering in 0.2 s each."""
    ids = [f"partner-{n:02d}" for n in range(30)]
    with FeedServer() as server:
        for n, pid in enumerate(ids):
            server.set_feed(f"/{pid}.json", ba_v6([posting(n)]), "application/json")
        registry = tmp_path / "registry.yaml"
        registry.write_text(registry_text(*[(pid, "ba-jobsuche", server.url(f"/{pid}.json")) for pid in ids]))
        store = HubStore(database_url=db_url, home=str(tmp_path / "home"), registry_path=str(registry))
        parsed = parse_registry(registry.read_text())
        fetcher = FeedFetcher(FetchPolicy(max_retries=0, deadline=10))
        for pid in ids:
            fetch_partner_feed(store.engine(), store.landing(), fetcher, parsed.get(pid), "jobs")
        instance.add_dynamic_partitions("jobs_feeds", ids)
        server.delay = 0.2

        def tick(client: FeedClient, cursor: str | None):
            context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                              resources={"hub_store": store, "feed_client": client})
            started = time.monotonic()
            result = feed_change_sensor(context)
            took = time.monotonic() - started
            return result, (result.cursor if isinstance(result, dg.SensorResult) else context.cursor), took

        # in parallel, at most 3 at once to the one host: 2 s, not 6 s one after the other
        result, _, took = tick(FeedClient(max_retries=0, probe_workers=8, probe_per_host=3,
                                          probe_budget_seconds=10), None)
        assert "30 unchanged" in result.skip_message and took < 4
        assert server.peak_in_flight == 3

        # a budget of 0.7 s asks some feeds a tick, in the order of their keys, and the next tick
        # goes on where this one stopped: the last feed's new version is seen once every feed
        # before it was asked, after a few ticks, each within its budget
        server.set_feed("/partner-29.json", ba_v6([posting(99)]), "application/json")
        client = FeedClient(max_retries=0, probe_workers=6, probe_per_host=2, probe_budget_seconds=0.7)
        before = len(server.requests_seen)
        cursor, ticks = None, []
        for _ in range(12):
            result, cursor, took = tick(client, cursor)
            ticks.append(took)
            if isinstance(result, dg.SensorResult):
                break
            assert "left for the next tick" in result.skip_message
            assert json.loads(cursor)["probe_next"] > "partner-00"
        assert [r.partition_key for r in result.run_requests] == ["partner-29"]
        asked = {path for method, path, _ in server.requests_seen[before:] if method == "HEAD"}
        assert asked == {f"/{pid}.json" for pid in ids}
        assert 3 <= len(ticks) <= 7 and max(ticks) < 1.5


def test_probe_feeds_reports_unreachable_feeds_without_stopping(engine, tmp_path, httpserver):
    feeds, registry = two_feeds_registry(tmp_path, httpserver)
    parsed = parse_registry(registry.read_text())
    fetcher = FeedFetcher(FetchPolicy(max_retries=0, deadline=10))
    landing = LandingStore(tmp_path / "landing")
    for pid in feeds:
        fetch_partner_feed(engine, landing, fetcher, parsed.get(pid), "jobs")
    dead = registry_text(("jobcenter-nk", "ba-jobsuche", f"http://127.0.0.1:{free_port()}/jc.json"),
                         ("saar-logistik", "ba-jobsuche", feeds["saar-logistik"].url))
    # a moved feed (new source) counts as new; an unchanged one as unchanged
    found = probe_feeds(engine, fetcher, parse_registry(dead))
    assert [c.key for c in found.changed] == ["jobcenter-nk/jobs"] and found.changed[0].first
    assert found.unchanged == ["saar-logistik/jobs"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE fetch_state SET source = :s WHERE partner_id = 'jobcenter-nk'"),
                     {"s": parse_registry(dead).get("jobcenter-nk").feeds[0].source})
    found = probe_feeds(engine, fetcher, parse_registry(dead))
    assert list(found.errors) == ["jobcenter-nk/jobs"] and "connection failed" in found.errors["jobcenter-nk/jobs"]
    assert found.unchanged == ["saar-logistik/jobs"]


# --------------------------------------------------------------------------- feedback mail


def contact_registry(tmp_path, url: str):
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", url)).replace(
        "    allow_private_network", "    contact_email: stellen@jobcenter-nk.example\n    allow_private_network"))
    return registry


def test_feedback_sensor_sends_a_report_the_staging_could_not_deliver(db_url, tmp_path, httpserver,
                                                                      instance, smtp, monkeypatch):
    postings = [posting(n) for n in range(4)]
    postings[0]["stellenangebotsTitel"] = ""
    feed = Feed(httpserver, "/jc.json", ba_v6(postings))
    registry = contact_registry(tmp_path, feed.url)
    store = HubStore(database_url=db_url, home=str(tmp_path / "home"), registry_path=str(registry))
    partner = store.registry().get("jobcenter-nk")
    engine = store.engine()
    fetch_partner_feed(engine, store.landing(), FeedFetcher(), partner, "jobs")
    stage_partner_feed(engine, store.landing(), partner, "jobs")
    folder = store.settings().home / "feedback"

    # fresh: the staging step is in charge of it
    assert pending_reports(engine, store.registry(), folder) == []
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=10)
    assert [p.id for p, _ in pending_reports(engine, store.registry(), folder, now=later)] == ["jobcenter-nk"]
    with engine.begin() as conn:  # the delivery is older now: the step's mail attempt is over
        conn.execute(syncs.update().values(started_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)))

    # the mail server refuses: counted in the cursor, retried later, not now
    monkeypatch.setenv("HUB_SMTP_PORT", str(free_port()))
    context = dg.build_sensor_context(instance=instance, resources={"hub_store": store})
    refused = feedback_sensor(context)
    assert "0 report(s) sent, 1 failed" in refused.skip_message
    failing = json.loads(context.cursor)["failing"]
    assert failing["jobcenter-nk/jobs"]["attempts"] == 1
    waiting = feedback_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store},
                                                      cursor=context.cursor))
    assert "1 waiting" in waiting.skip_message and smtp.received == []

    # the server is back and the retry is due (the cursor's next try has passed): sent once
    monkeypatch.setenv("HUB_SMTP_PORT", str(smtp.port))
    due = json.loads(context.cursor)
    due["failing"]["jobcenter-nk/jobs"]["next_try"] = "2000-01-01T00:00:00+00:00"
    context = dg.build_sensor_context(instance=instance, resources={"hub_store": store},
                                      cursor=json.dumps(due))
    sent = feedback_sensor(context)
    assert "1 report(s) sent" in sent.skip_message
    assert json.loads(context.cursor) == {"failing": {}}
    [(sender, rcpts, raw)] = smtp.received
    assert rcpts == ["stellen@jobcenter-nk.example"] and b"jobcenter-nk" in raw
    assert FeedbackLedger(folder).last_fingerprint("jobcenter-nk", "jobs") is not None
    again = feedback_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store}))
    assert "0 report(s) sent" in again.skip_message and len(smtp.received) == 1


def test_deliver_pending_skips_partners_without_contact(engine, tmp_path, httpserver, smtp):
    feed = Feed(httpserver, "/jc.json", ba_v6([posting(1)]))
    registry = parse_registry(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    landing = LandingStore(tmp_path / "landing")
    fetch_partner_feed(engine, landing, FeedFetcher(), registry.get("jobcenter-nk"), "jobs")
    stage_partner_feed(engine, landing, registry.get("jobcenter-nk"), "jobs")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    result = deliver_pending(engine, registry, tmp_path / "fb", Mailer(MailSettings.from_env()), now=later)
    assert (result.sent, result.failed) == ([], {}) and smtp.received == []


# --------------------------------------------------------------------------- steward alerts


def test_alert_text_redacts_credentials_and_addresses():
    line = redact("GET https://user:pw@api.example/v1/jobs?key=geheim failed for max@example.org\n next")
    assert line == "GET https://api.example/v1/jobs failed for <e-mail address> next"
    assert len(redact("x" * 2000)) == 500
    text = render(RunFailure("sync_jobs", "r1", "jobcenter-nk", [FailedStep("raw__jobs", "HTTP 404")]),
                  ui_url="http://127.0.0.1:3000/")
    assert "Partner: jobcenter-nk" in text and "Step:    raw__jobs" in text
    assert "http://127.0.0.1:3000/runs/r1" in text
    # what to run again: the partner's fetch, of which asset (staged follows it)
    assert ("Re-sync once the cause is fixed: materialize the partition jobcenter-nk of raw/jobs "
            "from its asset page (staged/jobs follows), or hub sync --partner jobcenter-nk") in text
    assert "this partner's records" in text
    # a publication has no partner: not 'hub sync --partner PARTNER'
    published = render(RunFailure("publish_directory", "r2", None,
                                  [FailedStep("directory__courses", "database is locked")]))
    assert "PARTNER" not in published and "this partner" not in published
    assert "The directory keeps its last publication." in published
    assert ("Publish again once the cause is fixed: materialize directory/courses from its asset "
            "page, or hub replay --domain courses.") in published
    assert steward_addresses({"HUB_STEWARD_EMAILS": " a@x.example, ,b@y.example"}) == ["a@x.example", "b@y.example"]
    with pytest.raises(MailError, match="HUB_STEWARD_EMAILS: 'nobody'"):
        steward_addresses({"HUB_STEWARD_EMAILS": "a@x.example,nobody"})
    # nothing configured: nothing sent, no error
    assert send_failure_alert(RunFailure("sync_jobs", "r1"), environ={}) == []


def failed_sync_run(db_url, tmp_path, httpserver, instance, monkeypatch):
    """A run of the code location's own sync job (its resources configured from the
    environment) that failed: the feed answered 404."""
    httpserver.expect_request("/jc.json").respond_with_data("gone", status=404)
    url = httpserver.url_for("/jc.json") + "?apikey=geheim"
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", url)))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])
    monkeypatch.setenv("HUB_DATABASE_URL", db_url)
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_REGISTRY", str(registry))
    from hub.definitions import defs

    result = defs.resolve_job_def("sync_jobs").execute_in_process(
        instance=instance, partition_key="jobcenter-nk", raise_on_error=False)
    assert not result.success
    return result


def test_failed_sync_run_mails_the_stewards(db_url, tmp_path, httpserver, instance, smtp, monkeypatch):
    monkeypatch.setenv("HUB_STEWARD_EMAILS", "steward@welcome.example, lead@welcome.example")
    result = failed_sync_run(db_url, tmp_path, httpserver, instance, monkeypatch)
    # a 404 will not pass by asking again: no step retry
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)

    context = dg.build_run_status_sensor_context(
        sensor_name="steward_alerts", dagster_event=result.get_run_failure_event(),
        dagster_instance=instance, dagster_run=result.dagster_run,
    ).for_run_failure()
    steward_alert_sensor(context)
    assert sorted(r for _, rcpts, _ in smtp.received for r in rcpts) == ["lead@welcome.example",
                                                                         "steward@welcome.example"]
    message = smtp.messages()[0]
    body = message.get_content()
    assert message["Subject"] == "[Welcome Hub] sync_jobs jobcenter-nk failed"
    assert "Partner: jobcenter-nk" in body and "Step:    raw__jobs" in body and "HTTP 404" in body
    assert "geheim" not in body and "apikey" not in body


def test_an_alert_the_mail_server_refused_is_sent_when_it_answers(db_url, tmp_path, httpserver,
                                                                   instance, smtp, monkeypatch):
    """The mail server was down when a sync failed: steward_alerts logged 'not sent' and
    Dagster's cursor moved on, so the stewards never learnt of the failure (feedback reports
    have their retry, alerts had none). Now the run is tagged hub/alert: unsent and
    steward_alerts_retry mails it once the server answers, once."""
    from hub.sensors import steward_alert_retry_sensor

    monkeypatch.setenv("HUB_STEWARD_EMAILS", "steward@welcome.example")
    result = failed_sync_run(db_url, tmp_path, httpserver, instance, monkeypatch)
    monkeypatch.setenv("HUB_SMTP_PORT", str(free_port()))  # the mail server is down
    steward_alert_sensor(dg.build_run_status_sensor_context(
        sensor_name="steward_alerts", dagster_event=result.get_run_failure_event(),
        dagster_instance=instance, dagster_run=result.dagster_run,
    ).for_run_failure())
    assert smtp.received == []
    assert instance.get_run_by_id(result.run_id).tags["hub/alert"] == "unsent"

    def retry() -> str:
        return steward_alert_retry_sensor(dg.build_sensor_context(instance=instance)).skip_message

    assert "0 late steward alert(s) sent, 1 waiting for the mail server: cannot reach" in retry()
    monkeypatch.setenv("HUB_SMTP_PORT", str(smtp.port))  # it is back
    assert retry() == "1 late steward alert(s) sent"
    [message] = smtp.messages()
    assert message["Subject"] == "[Welcome Hub] sync_jobs jobcenter-nk failed"
    assert "Step:    raw__jobs" in message.get_content() and "HTTP 404" in message.get_content()
    assert instance.get_run_by_id(result.run_id).tags["hub/alert"] == "sent"
    assert retry() == "no steward alert waits for the mail server" and len(smtp.received) == 1


def test_a_held_delivery_mails_the_stewards_the_guards_numbers_and_the_release(
        db_url, tmp_path, httpserver, instance, smtp, monkeypatch):
    """The partner's feed shrinks from 30 postings to 3: the sync run of the hub command is
    held by the withdrawal guard. The stewards' mail says held, with the guard's numbers and
    how to release it, not Dagster's 'blocking asset check failed' and 're-sync'."""
    monkeypatch.setenv("HUB_STEWARD_EMAILS", "steward@welcome.example")
    feed = Feed(httpserver, "/jc.json", ba_v6([posting(n) for n in range(30)]))
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", feed.url)))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])
    monkeypatch.setenv("HUB_DATABASE_URL", db_url)
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_REGISTRY", str(registry))
    from hub.definitions import defs

    def sync():
        return defs.resolve_job_def("sync_jobs").execute_in_process(
            instance=instance, partition_key="jobcenter-nk", raise_on_error=False,
            tags={"hub/trigger": "cli"})

    assert sync().success
    feed.body = ba_v6([posting(n) for n in range(3)])
    held = sync()
    assert not held.success
    context = dg.build_run_status_sensor_context(
        sensor_name="steward_alerts", dagster_event=held.get_run_failure_event(),
        dagster_instance=instance, dagster_run=held.dagster_run,
    ).for_run_failure()
    steward_alert_sensor(context)
    message = smtp.messages()[0]
    body = message.get_content()
    assert message["Subject"] == "[Welcome Hub] sync_jobs jobcenter-nk held"
    assert "Held:    withdrawal_guard" in body and "would withdraw 27 of 30" in body
    assert "hub release jobcenter-nk" in body
    # and in the UI, as a steward finds it there (the launchpad pre-fills the config as false)
    assert ("(hub release jobcenter-nk, or in the Dagster UI: open the launchpad of staged/jobs "
            "(the menu beside Materialize), pick the partition jobcenter-nk, set "
            "release_withdrawals: true and materialize)") in " ".join(body.split())
    assert "release the delivery as the hold above says; if not, ask the partner" in body
    assert "DagsterAssetCheckFailedError" not in body and "Re-sync" not in body
    assert body.count("would withdraw 27 of 30") == 1  # the failed step says the hold too


def _fetch_from_a_busy_server(db_url, tmp_path, httpserver, instance, tags=None):
    """The raw/jobs step of a partner whose server answers 503, materialized once; returns
    the step's failure event after checking no retry was asked for."""
    httpserver.expect_request("/jc.json").respond_with_data("busy", status=503)
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", httpserver.url_for("/jc.json"))))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk"])
    resources = {"hub_store": HubStore(database_url=db_url, home=str(tmp_path / "home"),
                                       registry_path=str(registry)),
                 "feed_client": FeedClient(max_retries=0, deadline=10)}
    raw = [a for a in ALL_ASSETS if a.key == dg.AssetKey(["raw", "jobs"])]
    result = dg.materialize(raw, partition_key="jobcenter-nk", resources=resources, instance=instance,
                            raise_on_error=False, tags=tags)
    assert not result.success
    assert not any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in result.all_events)
    return next(e for e in result.all_events if e.is_step_failure)


def test_hub_command_runs_report_a_transient_fetch_failure_at_once(db_url, tmp_path, httpserver, instance):
    failure = _fetch_from_a_busy_server(db_url, tmp_path, httpserver, instance, tags={"hub/trigger": "cli"})
    assert "HTTP 503" in failure.step_failure_data.user_failure_data.description


def test_the_last_try_of_a_fetch_fails_with_its_reason(db_url, tmp_path, httpserver, instance,
                                                       monkeypatch):
    """After the policy's last retry the step fails with the fetch's own reason (the steward
    reads 'HTTP 503' first, not Dagster's 'Exceeded max_retries'). A policy without retries
    makes the first try the last, without waiting for the delays."""
    import hub.assets.feeds as feeds

    monkeypatch.setattr(feeds, "FETCH_RETRY", dg.RetryPolicy(max_retries=0))
    failure = _fetch_from_a_busy_server(db_url, tmp_path, httpserver, instance)
    assert "HTTP 503" in failure.step_failure_data.user_failure_data.description


def test_a_transient_fetch_failure_is_retried_with_the_policy(tmp_path):
    raw = next(a for a in ALL_ASSETS if a.key == dg.AssetKey(["raw", "jobs"]))
    policy = raw.op.retry_policy
    assert (policy.max_retries, policy.backoff, policy.jitter) == (3, dg.Backoff.EXPONENTIAL,
                                                                  dg.Jitter.PLUS_MINUS)
    assert policy.delay and policy.delay > 0


# --------------------------------------------------------------------------- schedules


CADENCE_REGISTRY = """\
partners:
  - id: jobcenter-nk
    name: Jobcenter
    feeds:
      - format: ba-jobsuche
        source: https://jobs.jobcenter.example/v6
        schedule: "30 7 * * 1-5"
  - id: saar-logistik
    name: Saar Logistik
    feeds:
      - format: schemaorg-jobposting
        source: https://karriere.saar-logistik.example/jobs
  - id: kleinbetrieb
    name: Kleinbetrieb
    feeds:
      - format: csv-jobs
        source: inbox:/srv/inbox/kleinbetrieb
  - id: vhs-nk
    name: VHS
    feeds:
      - format: csv-courses
        source: https://vhs.example/kurse.csv
        schedule: "0 */6 * * *"
"""


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def test_due_feeds_follow_each_partners_cron_in_berlin_time():
    registry = parse_registry(CADENCE_REGISTRY)
    due = lambda when, domain="jobs": [d.partner_id for d in due_feeds(registry, domain, when)]  # noqa: E731
    assert due(at(2026, 11, 25, 5, 0)) == ["saar-logistik"]  # the default: daily 05:00
    assert due(at(2026, 11, 25, 5, 15)) == []
    assert due(at(2026, 11, 25, 7, 30)) == ["jobcenter-nk"]  # a Wednesday
    assert due(at(2026, 11, 25, 7, 44)) == ["jobcenter-nk"]  # a late tick still covers 07:30
    assert due(at(2026, 11, 29, 7, 30)) == []  # Sunday
    assert due(at(2026, 11, 25, 12, 0), "courses") == ["vhs-nk"]
    # 05:00 in Berlin is 04:00 UTC in winter, 03:00 UTC in summer
    assert due(dt.datetime(2026, 7, 1, 3, 0, tzinfo=dt.timezone.utc)) == ["saar-logistik"]



@pytest.mark.parametrize("night, synced_at", [
    # summer time begins: 02:30 does not exist, the sync comes at 03:00 CEST
    (dt.datetime(2027, 3, 27, 22, 0, tzinfo=dt.timezone.utc), dt.datetime(2027, 3, 28, 1, 0, tzinfo=dt.timezone.utc)),
    # summer time ends: 02:30 comes twice, the feed syncs once (Dagster's rule: the second)
    (dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.timezone.utc), dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.timezone.utc)),
])
def test_a_feed_due_at_0230_syncs_once_on_the_nights_the_clocks_change(night, synced_at):
    """Checked, not changed: the cadence ticks (every quarter hour in Berlin time, as Dagster
    gives them: one every 15 minutes of UTC through both nights) find a 02:30 feed due exactly
    once, never twice, never not at all."""
    from dagster._utils.schedules import cron_string_iterator

    from hub.cadence import TICK_CRON, TIMEZONE

    registry = parse_registry(CADENCE_REGISTRY.replace('schedule: "0 */6 * * *"', 'schedule: "30 2 * * *"'))
    ticks = cron_string_iterator(night.timestamp(), TICK_CRON, TIMEZONE)
    due = []
    for tick in ticks:
        if tick >= night + dt.timedelta(hours=8):
            break
        due.extend(tick.astimezone(dt.timezone.utc) for d in due_feeds(registry, "courses", tick))
    assert due == [synced_at]


@pytest.fixture
def stored_instance(tmp_path):
    """An instance on disk (schedule contexts need an instance reference)."""
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as inst:
        yield inst


def test_cadence_schedule_requests_due_partitions_only(tmp_path, stored_instance, monkeypatch):
    instance = stored_instance
    registry = tmp_path / "registry.yaml"
    registry.write_text(CADENCE_REGISTRY)
    # the sync jobs tag a partition's run with its host from the registry the environment
    # names, as in production the resource's: not the checkout's .hub a `hub demo` left
    monkeypatch.setenv("HUB_REGISTRY", str(registry))
    store = HubStore(registry_path=str(registry), home=str(tmp_path))
    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk", "saar-logistik", "kleinbetrieb"])
    schedule = next(s for s in CADENCE_SCHEDULES if s.name == "partner_cadence_jobs")
    assert schedule.cron_schedule == "*/15 * * * *" and schedule.execution_timezone == "Europe/Berlin"

    from hub.definitions import defs

    def evaluate(when):
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                            resources={"hub_store": store},
                                            repository_def=defs.get_repository_def())
        return schedule.evaluate_tick(context)

    morning = evaluate(at(2026, 11, 25, 7, 30))
    assert [(r.job_name, r.partition_key, r.tags["hub/host"]) for r in morning.run_requests] == [
        ("sync_jobs", "jobcenter-nk", "jobs.jobcenter.example")]
    assert morning.run_requests[0].run_key == "cadence:jobcenter-nk/jobs:2026-11-25T07:30:00+01:00"
    assert evaluate(at(2026, 11, 25, 7, 45)).run_requests == []
    early = evaluate(at(2026, 11, 25, 5, 0))
    assert [r.partition_key for r in early.run_requests] == ["saar-logistik"]
    # a feed without a partition yet (the registry sensor has not run) is left out
    instance.delete_dynamic_partition("jobs_feeds", "saar-logistik")
    assert evaluate(at(2026, 11, 26, 5, 0)).run_requests == []


# --------------------------------------------------------------------------- automation


def test_directory_follows_a_staged_partition_despite_missing_or_held_partners(instance):
    from hub.definitions import defs

    instance.add_dynamic_partitions("jobs_feeds", ["jobcenter-nk", "never-delivered", "held"])
    staged = dg.AssetKey(["staged", "jobs"])
    # a delivery held by the withdrawal guard: its records stay as they were, so the
    # publication of the other partners' news is not held back by it
    instance.report_runless_asset_event(dg.AssetMaterialization(["raw", "jobs"], partition="held"))
    instance.report_runless_asset_event(dg.AssetMaterialization(staged, partition="held"))
    instance.report_runless_asset_event(dg.AssetCheckEvaluation(
        asset_key=staged, check_name="withdrawal_guard", passed=False, partition="held",
        severity=dg.AssetCheckSeverity.ERROR))
    selection = dg.AssetSelection.assets(["staged", "jobs"], ["directory", "jobs"])
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection)
    assert first.total_requested == 0
    instance.report_runless_asset_event(dg.AssetMaterialization(["raw", "jobs"], partition="jobcenter-nk"))
    raw_only = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                                 cursor=first.cursor)
    # a fetch run on its own is followed by its staging
    assert raw_only.get_requested_partitions(dg.AssetKey(["staged", "jobs"])) == {"jobcenter-nk"}
    assert raw_only.get_num_requested(dg.AssetKey(["directory", "jobs"])) == 0
    instance.report_runless_asset_event(dg.AssetMaterialization(["staged", "jobs"], partition="jobcenter-nk"))
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                               cursor=raw_only.cursor)
    assert second.get_num_requested(dg.AssetKey(["directory", "jobs"])) == 1
    assert second.get_num_requested(dg.AssetKey(["directory", "courses"])) == 0
    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                              cursor=second.cursor)
    assert third.total_requested == 0


# --------------------------------------------------------------------------- code location and instance


def test_code_location_has_the_sensors_schedules_and_run_limits():
    from hub.definitions import defs

    dg.Definitions.validate_loadable(defs)
    sensors = {s.name: s for s in defs.sensors}
    ours = {"partner_registry", "inbox_files", "feed_changes", "feedback_mail", "steward_alerts",
            "steward_alerts_retry", "default_automation_condition_sensor", "publication_catch_up"}
    assert ours <= set(sensors)
    assert all(sensors[name].default_status == dg.DefaultSensorStatus.RUNNING for name in ours)
    assert {"partner_cadence_jobs", "partner_cadence_courses", "partner_cadence_housing"} <= {
        s.name for s in defs.schedules}
    for name in ("sync_jobs", "sync_courses", "sync_housing", "publish_directory"):
        assert int(defs.resolve_job_def(name).tags["dagster/max_runtime"]) > 0
    # the publications the automation sensor starts end like the publication job's
    automation = sensors["default_automation_condition_sensor"]
    assert automation.run_tags["dagster/max_runtime"] == \
        defs.resolve_job_def("publish_directory").tags["dagster/max_runtime"]


def test_a_sync_run_launched_for_a_partition_carries_the_host_and_the_max_runtime(tmp_path, monkeypatch):
    """A run of a sync job that the UI launches for a partner (the job's launchpad, its
    partitions, a backfill) gets the partition's tags from the job: the feed's hub/host (the
    run queue's one-per-host limit) beside the job's dagster/max_runtime, as the sensors' runs
    have them; a registry that cannot be read leaves the host out instead of failing."""
    from hub.definitions import defs

    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("jobcenter-nk", "ba-jobsuche", "https://Api.Example.org/j"),
                                      ("vhs-nk", "csv-courses", f"inbox:{tmp_path}")))
    monkeypatch.setenv("HUB_REGISTRY", str(registry))
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))

    def launched(job_name: str, partner_id: str) -> dict:
        job = defs.resolve_job_def(job_name)
        return {**job.tags, **job.partitioned_config.get_tags_for_partition_key(partner_id, job_name=job_name)}

    jobs = launched("sync_jobs", "jobcenter-nk")
    assert jobs["hub/host"] == "api.example.org" and jobs["dagster/max_runtime"] == "1800"
    assert launched("sync_courses", "vhs-nk")["hub/host"] == "local"
    assert "hub/host" not in launched("sync_housing", "vhs-nk")  # no such feed
    registry.write_text("partners: [")
    assert "hub/host" not in launched("sync_jobs", "jobcenter-nk")


def test_instance_file_loads_with_run_queue_retries_and_monitoring(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as inst:
        assert inst.run_retries_enabled and inst.run_retries_max_retries == 1
        assert not inst.run_retries_retry_on_asset_or_op_failure
        assert inst.run_monitoring_enabled
        limits = inst.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "hub/host", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits
    proc = subprocess.run([sys.executable, "-m", "dagster", "instance", "info"], cwd=home,
                          capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "DAGSTER_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "hub/host" in proc.stdout


# --------------------------------------------------------------------------- publication catch-up


def test_a_staging_that_ends_during_a_publication_is_published_again(instance):
    """Declarative automation takes a publication that ended after a staging as having
    handled it, even when the staging ended while the publication ran (a release done in the
    UI beside a hub sync stayed unpublished). The sensor asks for one more publication."""
    from hub.sensors.publication import publication_catch_up_sensor

    def staged_jobs():
        return dg.AssetMaterialization(asset_key=dg.AssetKey(["staged", "jobs"]))

    @dg.asset(key=dg.AssetKey(["directory", "jobs"]))
    def publication(context):
        if context.run.tags.get("test/race"):  # a partner's staging ends meanwhile
            context.instance.report_runless_asset_event(staged_jobs())
        return None

    def evaluate():
        return publication_catch_up_sensor(dg.build_sensor_context(instance=instance))

    assert isinstance(evaluate(), dg.SkipReason)  # nothing staged or published yet
    instance.report_runless_asset_event(staged_jobs())
    assert dg.materialize([publication], instance=instance).success
    skipped = evaluate()  # staged before: the publication had it
    assert skipped.skip_message == ("nothing to publish again: no partner's staging ended while "
                                    "a publication of its domain was running")
    assert dg.materialize([publication], instance=instance, tags={"test/race": "1"}).success
    (request,) = evaluate()
    assert request.asset_selection == [dg.AssetKey(["directory", "jobs"])]
    assert request.run_key.startswith("catch-up:jobs:")
    instance.report_runless_asset_event(staged_jobs())  # after the publication: automation's
    assert isinstance(evaluate(), dg.SkipReason)
