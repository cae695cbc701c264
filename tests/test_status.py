"""hub status: where each partner feed stands, as a steward asks it in the morning."""

from __future__ import annotations

import datetime as dt
import json

from hub.models import CourseOffer
from hub.registry import parse_registry
from hub.status import feed_statuses
from hub.store.db import upsert
from hub.store.staging import record_failed_sync, write_stage
from hub.store.tables import fetch_state
from tests.test_cli import hub

T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)


def _course(partner: str, sid: str) -> CourseOffer:
    return CourseOffer(partner_id=partner, source_id=sid, title=f"Deutschkurs {sid}",
                       course_type="language_course", address={"postal_code": "66538", "city": "Neunkirchen"})


def _registry(*ids: str):
    return parse_registry("partners:\n" + "".join(
        f"  - id: {pid}\n    name: {pid}\n    feeds:\n      - format: csv-courses\n"
        f"        source: https://{pid}.example/kurse.csv\n        max_age_days: 14\n" for pid in ids))


def _csv_feed_registry(path, **sources) -> None:
    """A registry file of csv-courses partners, id (with _ for -) = the file of its feed."""
    path.write_text("partners:\n" + "".join(
        f"  - id: {pid.replace('_', '-')}\n    name: {pid}\n    feeds:\n"
        f"      - format: csv-courses\n        source: {source.as_uri()}\n"
        for pid, source in sources.items()))


def _course_feed(tmp_path, registry):
    """A course CSV of one course, and the environment of a hub home whose registry is
    ``registry``."""
    feed = tmp_path / "kurse.csv"
    feed.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau\n"
                    "G-1;Deutschkurs;Sprachkurs;66538;Neunkirchen;B1\n", encoding="utf-8")
    return feed, {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry),
                  "DAGSTER_HOME": str(tmp_path / "dagster")}


def test_each_feed_says_where_it_stands(engine):
    """ok, held (with its message), failed, fetch failing, waiting, and a partner that left the
    registry while its records are still published; the figures of the last sync and the last
    good one. On SQLite and PostgreSQL."""
    with engine.begin() as conn:
        for partner, n in (("vhs-a", 3), ("vhs-b", 2), ("old-school", 1), ("vhs-f", 1)):
            write_stage(conn, partner_id=partner, domain="courses", content_sha256="a" * 64,
                        records=[_course(partner, f"K-{i}") for i in range(n)], record_rejections=[],
                        items=n, snapshot=True, deletions=[], now=T0)
        record_failed_sync(conn, partner_id="vhs-b", domain="courses", content_sha256="b" * 64,
                           message="held: this delivery would withdraw 2 of 2 published records",
                           now=T0 + dt.timedelta(days=1), status="held", items=0)
        record_failed_sync(conn, partner_id="vhs-c", domain="courses", content_sha256="c" * 64,
                           message="vhs-c/courses: not a course CSV", now=T0)
        upsert(conn, fetch_state, [{"partner_id": "vhs-d", "domain": "courses", "source": "x",
                                    "failures": 3, "last_error": "HTTP 404 Not Found",
                                    "fetched_at": T0}], ["partner_id", "domain"])
        # vhs-f's export stopped a month ago (the same file every day); vhs-a's changed yesterday
        now = dt.datetime.now(dt.timezone.utc)
        upsert(conn, fetch_state, [
            {"partner_id": pid, "domain": "courses", "source": "x", "failures": 0, "fetched_at": now,
             "changed_at": now - dt.timedelta(days=days)} for pid, days in (("vhs-f", 30), ("vhs-a", 1))],
            ["partner_id", "domain"])
    rows = {row.partner_id: row for row in feed_statuses(
        engine, _registry("vhs-a", "vhs-b", "vhs-c", "vhs-d", "vhs-e", "vhs-f"))}
    assert {pid: (row.state, row.published) for pid, row in rows.items()} == {
        "old-school": ("left", 1), "vhs-a": ("ok", 3), "vhs-b": ("held", 2), "vhs-c": ("failed", 0),
        "vhs-d": ("fetch failing", 0), "vhs-e": ("waiting", 0), "vhs-f": ("stale", 1)}
    assert rows["vhs-a"].last_sync == {"items": 3, "accepted": 3, "rejected": 0, "added": 3,
                                       "changed": 0, "withdrawn": 0}
    held = rows["vhs-b"]
    assert held.message.startswith("held: this delivery would withdraw 2 of 2")
    assert (held.last_sync_at, held.last_good_sync_at) == (T0 + dt.timedelta(days=1), T0)
    assert (rows["vhs-d"].fetch_failures, rows["vhs-d"].message) == (3, "HTTP 404 Not Found")
    assert [row.partner_id for row in rows.values() if row.needs_a_steward] == [
        "old-school", "vhs-b", "vhs-c", "vhs-d", "vhs-f"]
    only = feed_statuses(engine, _registry("vhs-a", "vhs-b"), ["vhs-b"])
    assert [row.partner_id for row in only] == ["vhs-b"]


def test_hub_status_tells_a_steward_what_needs_them(tmp_path):
    """Through the command, on the embedded database: a held partner's line says how to
    release it, a failing fetch says how often and why, exit 1 while one needs a steward;
    --json carries the same; a partner id that is nowhere names the near one."""
    header = "Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau\n"
    good = header + "".join(f"G-{n};Deutschkurs {n};Sprachkurs;66538;Neunkirchen;B1\n" for n in range(20))
    feed = tmp_path / "kurse.csv"
    feed.write_text(good, encoding="utf-8")
    registry = tmp_path / "registry.yaml"
    registry.write_text(
        "partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
        f"      - format: csv-courses\n        source: {feed.as_uri()}\n"
        "  - id: schule-weg\n    name: Schule Weg\n    feeds:\n"
        f"      - format: csv-courses\n        source: {(tmp_path / 'fehlt.csv').as_uri()}\n")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry),
           "DAGSTER_HOME": str(tmp_path / "dagster")}
    hub("sync", env=env)
    feed.write_text(header + good.splitlines(keepends=True)[1], encoding="utf-8")  # 19 vanish
    synced = json.loads(hub("sync", "--json", env=env).stdout)["partners"]
    assert {row["partner_id"]: row["status"] for row in synced} == {"vhs-test": "held", "schule-weg": "failed"}

    status = hub("status", env=env)
    assert status.returncode == 1, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].split() == ["FEED", "FORMAT", "STATE", "PUBLISHED", "LAST", "SYNC"]
    failing = lines.index(next(line for line in lines if line.startswith("schule-weg/courses")))
    assert lines[failing].split()[1:4] == ["csv-courses", "fetch", "failing"]
    assert lines[failing + 1].strip().startswith("2 fetches failed in a row")
    assert "fehlt.csv" in lines[failing + 1]
    held = lines.index(next(line for line in lines if line.startswith("vhs-test/courses")))
    assert lines[held].split()[2:4] == ["held", "20"]  # the 20 stay published while held
    assert "hub release vhs-test" in lines[held + 1]
    assert lines[-1] == "2 of 2 feeds need a steward"
    assert "Traceback" not in status.stderr

    assert hub("release", "vhs-test", env=env).returncode == 0
    report = json.loads(hub("status", "--json", "--partner", "vhs-test", env=env).stdout)
    assert [(f["partner_id"], f["state"], f["published"]) for f in report["feeds"]] == [
        ("vhs-test", "released", 20)]
    assert report["needs_a_steward"] == 0

    unknown = hub("status", "--partner", "vhs-tset", env=env)
    assert unknown.returncode == 2 and "vhs-test" in unknown.stderr, unknown.stderr


def test_a_stale_feed_says_how_long_and_what_to_ask():
    """Under a feed whose content has not changed for longer than its max_age_days."""
    from hub.cli import _status_notes
    from hub.status import FeedStatus

    row = FeedStatus(partner_id="vhs-f", domain="courses", format="csv-courses", state="stale", published=4,
                     changed_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30, hours=1),
                     max_age_days=14)
    assert _status_notes(row) == ["the feed has not changed for 30 days (registry max_age_days: 14): "
                                  "ask the partner whether their export still runs"]



def test_times_under_a_feed_are_berlin_time_with_their_zone_on_any_server(monkeypatch):
    """hub status wrote its times in the server's zone without naming it: a steward in
    Germany read 01:30 (UTC) or 21:30 the day before (New York) for a sync at 02:30 Berlin
    time, and could not tell the two 02:30 of the night summer time ends apart."""
    import time

    from hub.cli import _status_notes
    from hub.status import FeedStatus

    def notes(at):
        row = FeedStatus(partner_id="vhs-f", domain="courses", format="csv-courses", state="held",
                         published=4, message="Die Lieferung wird zurückgehalten.", last_good_sync_at=at)
        return _status_notes(row)[1]

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        first = notes(dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.timezone.utc))
        second = notes(dt.datetime(2026, 10, 25, 1, 30))  # naive, as SQLite gives it: UTC
        new_year = notes(dt.datetime(2026, 12, 31, 23, 15, tzinfo=dt.timezone.utc))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert first == "the directory keeps the records of the last good sync (2026-10-25 02:30 CEST)"
    assert second == "the directory keeps the records of the last good sync (2026-10-25 02:30 CET)"
    assert new_year == "the directory keeps the records of the last good sync (2027-01-01 00:15 CET)"


def test_feeds_not_synced_yet_are_not_called_ok(tmp_path):
    """A new partner and an inbox nobody dropped a file into: the last line said 'all 2
    feeds ok' (and 'the feed is ok') about feeds the hub knows nothing of yet; now it says
    they have not been synced and each says what it waits for. Exit 0: no steward needed."""
    registry = tmp_path / "registry.yaml"
    inbox = tmp_path / "inbox"
    registry.write_text(
        "partners:\n  - id: vhs-neu\n    name: VHS Neu\n    feeds:\n"
        f"      - format: csv-courses\n        source: {(tmp_path / 'kurse.csv').as_uri()}\n"
        "  - id: schule-inbox\n    name: Schule Inbox\n    feeds:\n"
        f"      - format: csv-courses\n        source: inbox:{inbox}\n")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry),
           "DAGSTER_HOME": str(tmp_path / "dagster")}
    status = hub("status", env=env)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[-1] == "no feed needs a steward: 2 not synced yet"
    # the folder not created yet: no upload can land there (it said only 'waits for a file')
    assert (f"  not synced yet: waits for a file in the inbox {inbox}, but the folder does not "
            f"exist (yet): create it (mkdir -p {inbox}) and let the partner's uploads write there, "
            "or correct source: in the registry") in lines
    assert "  not synced yet: hub sync --partner vhs-neu fetches it (or its schedule)" in lines
    inbox.mkdir()
    assert f"  not synced yet: waits for a file in the inbox {inbox}" in hub("status", env=env).stdout.splitlines()
    one = hub("status", "--partner", "vhs-neu", env=env)
    assert one.stdout.splitlines()[-1] == "the feed has not been synced yet"

    hub("sync", "--partner", "vhs-neu", env=env)  # kurse.csv is not there: the fetch fails
    status = hub("status", env=env)
    assert status.returncode == 1
    assert status.stdout.splitlines()[-1] == "1 of 2 feeds needs a steward"


def test_a_partner_withdrawn_and_back_in_the_registry_waits_for_its_sync(engine):
    """hub withdraw took its records out; the partner came back into the registry: it read
    'ok', 0 published, with the figures of its last sync before it left as if current."""
    from hub.store.retention import withdraw_partner

    with engine.begin() as conn:
        for partner in ("vhs-a", "vhs-back"):
            write_stage(conn, partner_id=partner, domain="courses", content_sha256="a" * 64,
                        records=[_course(partner, f"K-{i}") for i in range(3)], record_rejections=[],
                        items=3, snapshot=True, deletions=[], now=T0)
            upsert(conn, fetch_state, [{"partner_id": partner, "domain": "courses", "source": "x",
                                        "failures": 0, "fetched_at": T0}], ["partner_id", "domain"])
    assert withdraw_partner(engine, "vhs-back") == {"courses": 3}
    rows = {row.partner_id: row for row in feed_statuses(engine, _registry("vhs-a", "vhs-back"))}
    assert (rows["vhs-a"].state, rows["vhs-a"].published) == ("ok", 3)
    back = rows["vhs-back"]
    assert (back.state, back.published, back.needs_a_steward) == ("waiting", 0, False)
    assert back.message == "its records were withdrawn (hub withdraw) and it has not been synced since"


def test_a_trial_registry_does_not_call_the_live_partners_left(tmp_path):
    """hub status --registry trial.yaml (a new partner tried beside the configured registry,
    as hub sync --registry does) listed every live partner as 'left' with 'hub withdraw ...
    takes its records out', exit 1. The live partners have not left: only the trial's feeds
    are shown, and a partner that left both registries still is."""
    live, trial = tmp_path / "registry.yaml", tmp_path / "trial.yaml"
    feed, env = _course_feed(tmp_path, live)
    _csv_feed_registry(live, vhs_live=feed, vhs_alt=feed)
    assert hub("sync", env=env).returncode == 0
    _csv_feed_registry(live, vhs_live=feed)  # vhs-alt left
    _csv_feed_registry(trial, vhs_neu=tmp_path / "neu.csv")

    status = hub("status", "--registry", str(trial), env=env)
    feeds = [line.split()[:3] for line in status.stdout.splitlines()[1:] if not line.startswith(" ")][:-1]
    assert feeds == [["vhs-alt/courses", "-", "left"], ["vhs-neu/courses", "csv-courses", "waiting"]]
    assert "vhs-live" not in status.stdout
    assert status.returncode == 1 and status.stdout.splitlines()[-1] == "1 of 2 feeds needs a steward"


def test_under_a_held_feed_the_last_good_state_is_said_once():
    """The hold's message says the directory keeps the last good state; the line under it
    says when that sync was, not the same again."""
    from hub.cli import _status_notes
    from hub.pipeline import Hold
    from hub.status import FeedStatus

    hold = Hold(check="withdrawal_guard", count=19, total=20, partner_id="vhs-test")
    row = FeedStatus(partner_id="vhs-test", domain="courses", format="csv-courses", state="held",
                     published=20, message=hold.message, last_good_sync_at=T0)
    notes = _status_notes(row)
    assert notes[0] == hold.message and "hub release vhs-test" in notes[0]
    assert " ".join(notes).count("keeps") == 1
    assert notes[1].startswith("the last good sync: 2026-11-20")


def test_a_partner_checked_after_hub_withdraw_shows_as_withdrawn(tmp_path):
    """hub status --partner X right after hub withdraw X (the partner taken out of the
    registry, its records withdrawn) exited 2 with 'no partner X in the registry': the steward
    checking the withdrawal now sees the feed withdrawn with 0 published, exit 0. The plain
    morning list does not carry the partners that left for good."""
    registry = tmp_path / "registry.yaml"
    feed, env = _course_feed(tmp_path, registry)
    _csv_feed_registry(registry, vhs_bleibt=feed, vhs_geht=feed)
    assert hub("sync", env=env).returncode == 0
    _csv_feed_registry(registry, vhs_bleibt=feed)
    assert hub("withdraw", "vhs-geht", env=env).returncode == 0

    status = hub("status", "--partner", "vhs-geht", env=env)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[1].split()[:4] == ["vhs-geht/courses", "-", "withdrawn", "0"]
    # its format is '-', narrower than the header: the columns still line up under it
    assert [lines[1].index(" - ") + 1, lines[1].index("withdrawn")] == \
        [lines[0].index("FORMAT"), lines[0].index("STATE")]
    assert lines[2:] == ["  not in the registry and none of its records is published: nothing to do",
                         "the feed has left the registry and is withdrawn"]
    report = json.loads(hub("status", "--json", "--partner", "vhs-geht", env=env).stdout)
    assert [(f["partner_id"], f["state"], f["published"]) for f in report["feeds"]] == [
        ("vhs-geht", "withdrawn", 0)]
    assert report["needs_a_steward"] == 0

    both = hub("status", "--partner", "vhs-bleibt", "--partner", "vhs-geht", env=env)
    assert both.returncode == 0 and both.stdout.splitlines()[-1] == \
        "no feed needs a steward: 1 ok, 1 withdrawn (left the registry)"
    morning = hub("status", env=env)
    assert morning.returncode == 0 and "vhs-geht" not in morning.stdout
    assert morning.stdout.splitlines()[-1] == "the feed is ok"


def test_a_stopped_dagster_daemon_is_told(tmp_path, monkeypatch, capsys):
    """An operator whose dagster-daemon had stopped (a crashed unit, a server rebooted
    without the service enabled) saw every feed 'ok' in hub status, exit 0, while no schedule
    synced, no sensor polled and no alert could be mailed; Dagster's instance held the daemon's
    last heartbeat all along. Now hub status says since when it is silent and exits 1; while
    the daemon ticks (and on an instance no daemon ever ran on) nothing is said."""
    import re
    import time

    from dagster import DagsterInstance
    from dagster._daemon.daemon import BackfillDaemon, SchedulerDaemon, SensorDaemon
    from dagster._daemon.types import DaemonHeartbeat

    from hub.cli import main
    from hub.config import Settings
    from hub.runner import ensure_dagster_home

    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-neu\n    name: VHS Neu\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {(tmp_path / 'k.csv').as_uri()}\n")
    for name, value in {"HUB_HOME": tmp_path / "home", "HUB_REGISTRY": registry,
                        "DAGSTER_HOME": tmp_path / "dagster"}.items():
        monkeypatch.setenv(name, str(value))
    ensure_dagster_home(Settings.from_env())  # the instance file hub sync writes

    def beat(age: float) -> None:
        with DagsterInstance.get() as instance:
            for daemon in (SchedulerDaemon, SensorDaemon, BackfillDaemon):  # as the daemon writes them
                instance.add_daemon_heartbeat(DaemonHeartbeat(time.time() - age, daemon.daemon_type(), "d1"))

    def status(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["status", *args])
        return code, capsys.readouterr().out

    code, out = status()  # no daemon ever ran here: hub sync from cron alone
    assert code == 0 and "daemon" not in out

    beat(60)
    code, out = status()
    assert code == 0 and "daemon" not in out

    beat(3 * 3600)
    code, out = status()
    assert code == 1
    last = out.splitlines()[-1]
    assert last.startswith("the Dagster daemon has not reported since ")
    # when, in Berlin time with its zone as hub status's other times
    assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d (CET|CEST) \(", last), last
    assert 180 <= int(re.search(r"\((\d+) min ago\): no schedule or sensor starts a sync", last)[1]) <= 182
    assert "dagster-daemon run -w workspace.yaml" in last
    code, out = status("--json")
    assert code == 1 and json.loads(out)["daemon"].startswith("the Dagster daemon has not reported")

    # a shell that lacks Dagster's database URL cannot tell: it says so instead of "ok"
    (tmp_path / "dagster" / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url:\n      env: DAGSTER_PG_URL\n")
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    code, out = status()
    assert code == 1
    assert out.splitlines()[-1] == (
        f"cannot tell whether the Dagster daemon runs: {tmp_path / 'dagster' / 'dagster.yaml'}: the "
        "Dagster instance cannot be loaded: the environment variable DAGSTER_PG_URL it names is not set")
