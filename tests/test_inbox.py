"""Inbox folders: a dropped file is processed once and moved aside; the sensor starts a run
for the partner whose inbox received a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import dagster as dg

from hub.fetch import FeedFetcher
from hub.inbox import pending
from hub.pipeline import fetch_partner_feed, stage_partner_feed
from hub.registry import parse_registry
from hub.resources import HubStore
from hub.sensors import inbox_sensor
from hub.store.landing import LandingStore
from tests.conftest import FIXTURES, ROOT
from tests.feeds import registry_text

CSV = (FIXTURES / "formats" / "courses_semicolon_utf8_bom.csv").read_bytes()


def drop(folder, name, body, age=60):
    path = folder / name
    path.write_bytes(body)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def _courses_inbox(tmp_path):
    """A course partner delivering into an inbox folder: (folder, partner, store, fetcher)."""
    inbox = tmp_path / "inbox" / "vhs"
    inbox.mkdir(parents=True)
    partner = parse_registry(registry_text(("vhs-nk", "csv-courses", f"inbox:{inbox}"))).partners[0]
    return inbox, partner, LandingStore(tmp_path / "landing"), FeedFetcher()


def test_files_are_processed_oldest_first_once_and_moved_aside(engine, tmp_path):
    inbox = tmp_path / "inbox" / "vhs"
    inbox.mkdir(parents=True)
    registry = parse_registry(registry_text(("vhs-nk", "csv-courses", f"inbox:{inbox}")))
    partner = registry.partners[0]
    store, fetcher = LandingStore(tmp_path / "landing"), FeedFetcher()
    lines = CSV.decode("utf-8-sig").splitlines()
    drop(inbox, "kurse-maerz.csv", CSV, age=120)
    drop(inbox, "kurse-april.csv", "\n".join(lines[:2]).encode(), age=60)

    first = fetch_partner_feed(engine, store, fetcher, partner, "courses")
    assert first.status == "changed"
    staged = stage_partner_feed(engine, store, partner, "courses")
    assert staged.counts.items == len([line for line in lines[1:] if line.strip(";")])
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["kurse-april.csv"]
    assert [p.name.split("-", 1)[1] for p in (inbox / "processed").iterdir()] == ["kurse-maerz.csv"]

    second = fetch_partner_feed(engine, store, fetcher, partner, "courses")
    assert second.status == "changed"
    assert stage_partner_feed(engine, store, partner, "courses").counts.items == 1
    assert not [p for p in inbox.iterdir() if p.is_file()]

    third = fetch_partner_feed(engine, store, fetcher, partner, "courses")
    assert third.status == "unchanged"
    assert stage_partner_feed(engine, store, partner, "courses").status == "unchanged"


def test_sensor_requests_one_run_per_partner_feed(tmp_path):
    inbox = tmp_path / "vhs"
    inbox.mkdir()
    registry_path = tmp_path / "registry.yaml"
    registry_path.write_text(registry_text(("vhs-nk", "csv-courses", f"inbox:{inbox}"),
                                           ("jobcenter-nk", "ba-jobsuche", "https://a.example/j")))
    store = HubStore(registry_path=str(registry_path), home=str(tmp_path))
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"hub_store": store})
        assert isinstance(inbox_sensor(context), dg.SkipReason)

        drop(inbox, "a.csv", CSV, age=90)
        drop(inbox, "b.csv", CSV, age=30)
        drop(inbox, ".hidden.csv", CSV)
        drop(inbox, "c.csv", CSV, age=0)  # still being written
        result = inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store}))
        assert [(r.job_name, r.partition_key, r.tags["hub/inbox_file"]) for r in result.run_requests] == [
            ("sync_courses", "vhs-nk", "a.csv")]
        assert [f.path.name for f in pending(parse_registry(registry_path.read_text()))] == ["a.csv", "b.csv"]


def test_an_unusable_file_fails_once_and_is_not_staged_again(engine, tmp_path):
    """An unusable delivery is one failed sync (one feedback mail), however often the feed
    is synced until the partner sends another file."""
    import pytest
    import sqlalchemy as sa

    from hub.pipeline import StageError
    from hub.store.tables import syncs

    inbox, partner, store, fetcher = _courses_inbox(tmp_path)
    drop(inbox, "liste.csv", b"Name;Telefon\nA;1\n")
    fetch_partner_feed(engine, store, fetcher, partner, "courses")
    messages = []
    for _ in range(3):
        with pytest.raises(StageError) as failed:
            stage_partner_feed(engine, store, partner, "courses")
        messages.append(str(failed.value))
        fetch_partner_feed(engine, store, fetcher, partner, "courses")  # nothing new waits
    # the same failure each time; the first also says where the file went (failed/)
    assert messages[0] == f"{messages[1]} (the file is now {next((inbox / 'failed').iterdir())})"
    assert messages[1] == messages[2] and "required column(s) missing" in messages[1]
    with engine.connect() as conn:
        assert conn.execute(sa.select(syncs.c.status)).scalars().all() == ["failed"]
    drop(inbox, "kurse.csv", CSV)  # the partner's next file is staged
    fetch_partner_feed(engine, store, fetcher, partner, "courses")
    assert stage_partner_feed(engine, store, partner, "courses").status == "ok"


def test_an_erasure_leaves_an_inbox_partner_syncing(engine, tmp_path):
    """An inbox cannot be fetched again: after an erasure the partner's delivery stays staged
    (without the erased record) and its syncs go on unchanged until the next file, instead of
    failing every day with 'fetch the feed again'."""
    from hub.pipeline import release_partner
    from hub.store.erasure import erase_record
    from hub.store.publish import publish_domain

    inbox = tmp_path / "inbox" / "vhs"
    inbox.mkdir(parents=True)
    registry = parse_registry(registry_text(("vhs-nk", "csv-courses", f"inbox:{inbox}")))
    partner = registry.partners[0]
    store, fetcher = LandingStore(tmp_path / "landing"), FeedFetcher()
    drop(inbox, "kurse.csv", CSV)
    fetch_partner_feed(engine, store, fetcher, partner, "courses")
    staged = stage_partner_feed(engine, store, partner, "courses")
    publish_domain(engine, "courses")
    source_id = CSV.decode("utf-8-sig").splitlines()[1].split(";")[0]

    erase_record(engine, store, "vhs-nk", source_id, domain="courses",
                 formats={"courses": "csv-courses"})
    assert fetch_partner_feed(engine, store, fetcher, partner, "courses").status == "unchanged"
    again = stage_partner_feed(engine, store, partner, "courses")
    assert again.status == "unchanged" and again.counts.active == staged.counts.accepted - 1
    assert release_partner(engine, "vhs-nk") == []  # nothing is held: nothing to release


def test_a_settle_time_that_is_not_a_number_is_refused_where_it_is_read(db_url, tmp_path, monkeypatch,
                                                                          capsys):
    """HUB_INBOX_SETTLE_SECONDS=abc is not the default silently: hub sync exits 2 with one
    line, the inbox sensor's tick and the inbox feed's fetch fail with the same line."""
    import pytest

    from hub.assets import ALL_ASSETS
    from hub.cli import main
    from hub.config import SettingsError
    from hub.resources import FeedClient

    inbox = tmp_path / "vhs"
    inbox.mkdir()
    registry_path = tmp_path / "registry.yaml"
    registry_path.write_text(registry_text(("vhs-nk", "csv-courses", f"inbox:{inbox}")))
    drop(inbox, "a.csv", CSV, age=90)
    monkeypatch.setenv("HUB_INBOX_SETTLE_SECONDS", "abc")
    line = "HUB_INBOX_SETTLE_SECONDS='abc' is not a number"

    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_DATABASE_URL", db_url)
    monkeypatch.setenv("HUB_REGISTRY", str(registry_path))  # hub sync --registry sets it: undone after
    assert main(["sync", "--registry", str(registry_path)]) == 2
    assert capsys.readouterr().err.strip() == f"hub sync: error: {line}"

    store = HubStore(database_url=db_url, registry_path=str(registry_path), home=str(tmp_path / "home"))
    with dg.DagsterInstance.ephemeral() as instance:
        with pytest.raises(SettingsError, match=line):
            inbox_sensor(dg.build_sensor_context(instance=instance, resources={"hub_store": store}))
        instance.add_dynamic_partitions("courses_feeds", ["vhs-nk"])
        raw = [a for a in ALL_ASSETS if a.key == dg.AssetKey(["raw", "courses"])]
        result = dg.materialize(raw, partition_key="vhs-nk", instance=instance, raise_on_error=False,
                                resources={"hub_store": store, "feed_client": FeedClient()})
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_failure_data.user_failure_data.description == line
    assert [p.name for p in inbox.iterdir()] == ["a.csv"]  # the file waits for a usable setting


def test_a_file_whose_sync_failed_goes_into_failed_beside_processed(engine, tmp_path):
    """The steward sees which dropped files failed: an unusable file (and the same bytes
    dropped again) lands in failed/, a good one in processed/; an erasure looks in both."""
    import pytest

    from hub.pipeline import StageError
    from hub.store.erasure import erase_processed_files

    inbox, partner, store, fetcher = _courses_inbox(tmp_path)
    broken = b"Name;Telefon\nHans Muster;0171 2345678\n"

    def sync(name, body):
        drop(inbox, name, body)
        fetch_partner_feed(engine, store, fetcher, partner, "courses")
        return stage_partner_feed(engine, store, partner, "courses")

    for name in ("liste.csv", "liste-nochmal.csv"):  # the second: the same bytes again
        with pytest.raises(StageError, match="required column") as info:
            sync(name, broken)
        # the message says which file failed and where it is now (the inbox is empty)
        moved = next(p for p in (inbox / "failed").iterdir() if p.name.endswith("-" + name))
        assert str(info.value).endswith(f" (the file is now {moved})"), str(info.value)
    assert sync("kurse.csv", CSV).status == "ok"
    names = {folder: sorted(p.name.split("-", 1)[1] for p in (inbox / folder).iterdir())
             for folder in ("processed", "failed")}
    assert names == {"processed": ["kurse.csv"], "failed": ["liste-nochmal.csv", "liste.csv"]}
    assert not [p for p in inbox.iterdir() if p.is_file()]

    removed = erase_processed_files(inbox, "csv-courses", "vhs-nk", "Hans Muster")
    assert sorted(p.parent.name for p in removed) == ["failed", "failed"]
    assert not list((inbox / "failed").iterdir())


def test_a_workbook_dropped_into_the_inbox_keeps_its_message_whole(engine, tmp_path):
    """A school that uploads its .xlsx: the sync, hub status and the stored message read
    "save it as 'CSV UTF-8' or 'CSV (Trennzeichen-getrennt) (the file is now ...)": the
    closing quote was cut off with a KeyError's quotes."""
    import pytest
    import sqlalchemy as sa

    from hub.pipeline import StageError
    from hub.store.tables import syncs

    inbox, partner, store, fetcher = _courses_inbox(tmp_path)
    drop(inbox, "kurse.xlsx", b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml")
    fetch_partner_feed(engine, store, fetcher, partner, "courses")
    with pytest.raises(StageError) as failed:
        stage_partner_feed(engine, store, partner, "courses")
    said = ("vhs-nk/courses: not a course CSV: the file is a spreadsheet workbook (Excel or "
            "LibreOffice), not CSV; save it as 'CSV UTF-8' or 'CSV (Trennzeichen-getrennt)'")
    assert str(failed.value).startswith(said + " (the file is now ")
    with engine.connect() as conn:
        assert conn.execute(sa.select(syncs.c.message)).scalar_one() == said


def test_a_course_list_under_a_jobs_format_in_the_registry_is_said_to_be_the_registrys(engine, tmp_path):
    """A language school registered with format: csv-jobs: its course list failed with 'not a
    job CSV: required column(s) missing: Stellen-ID', as if the school had sent the wrong
    file; hub check said 'the file reads as csv-courses', the sync did not."""
    import pytest

    from hub.pipeline import StageError

    inbox = tmp_path / "inbox" / "vhs"
    inbox.mkdir(parents=True)
    partner = parse_registry(registry_text(("vhs-nk", "csv-jobs", f"inbox:{inbox}"))).partners[0]
    store = LandingStore(tmp_path / "landing")
    drop(inbox, "kurse.csv", CSV)
    fetch_partner_feed(engine, store, FeedFetcher(), partner, "jobs")
    with pytest.raises(StageError) as failed:
        stage_partner_feed(engine, store, partner, "jobs")
    assert str(failed.value).startswith(
        "vhs-nk/jobs: not a job CSV: required column(s) missing: Stellen-ID; the file reads as "
        "csv-courses (the registry's format: for the feed says csv-jobs) (the file is now ")
    # the partner reads what hub check tells it of such a file, in its words
    from hub.quality.feedback import latest_report
    from hub.quality.report import status_explanation

    said = " ".join(status_explanation(latest_report(engine, partner, "jobs")))
    assert "passt nicht zu dieser Vorlage, aber zur Vorlage für Kursangebote" in said


def test_a_web_page_dropped_into_the_inbox_is_named_a_saved_page(engine, tmp_path):
    """A login page saved by the browser and uploaded as the export: the sync and the
    partner's German report said it was 'served in place of the data', of a file no server
    served; now they call it a saved web page and say to use the exported file."""
    import pytest

    from hub.pipeline import StageError
    from hub.quality.feedback import latest_report
    from hub.quality.report import status_explanation

    inbox, partner, store, fetcher = _courses_inbox(tmp_path)
    drop(inbox, "kurse.csv", b"<!DOCTYPE html><html><head><title>Anmeldung</title></head></html>")
    fetch_partner_feed(engine, store, fetcher, partner, "courses")
    with pytest.raises(StageError) as failed:
        stage_partner_feed(engine, store, partner, "courses")
    assert ("not a course CSV: the file is a saved web page (HTML, title 'Anmeldung'), not CSV; "
            "often a login or error page saved in place of the export") in str(failed.value)
    assert "served" not in str(failed.value)
    report = latest_report(engine, partner, "courses")
    assert "Die Datei ist eine gespeicherte Webseite (HTML) mit dem Titel 'Anmeldung', keine " \
           "CSV-Datei. Oft ist das eine Anmelde- oder Fehlerseite, die statt des Exports " \
           "gespeichert wurde" in " ".join(status_explanation(report))


def test_an_inbox_source_naming_the_file_says_so_and_names_its_folder(engine, tmp_path):
    """A steward wrote the partner's export file as the inbox (inbox:/srv/inbox/vhs/kurse.csv):
    the sync said 'inbox folder not found' of a path that was there."""
    import pytest

    from hub.fetch import FetchError
    from hub.inbox import next_delivery

    inbox = tmp_path / "inbox" / "vhs"
    inbox.mkdir(parents=True)
    export = drop(inbox, "kurse.csv", CSV)
    partner = parse_registry(registry_text(("vhs-nk", "csv-courses", f"inbox:{export}"))).partners[0]
    said = (f"inbox {export}: it is a file, not a folder (an inbox source names the folder the "
            f"partner's files are dropped into: inbox:{inbox})")
    with pytest.raises(FetchError) as raised:
        fetch_partner_feed(engine, LandingStore(tmp_path / "landing"), FeedFetcher(), partner, "courses")
    assert said in str(raised.value)
    assert export.read_bytes() == CSV  # left where it was
    assert next_delivery(export) == (None, said.split(": ", 1)[1])
    # a new partner's folder not created yet: what to do about it
    assert next_delivery(tmp_path / "nowhere") == (None, (
        f"the folder does not exist (yet): create it (mkdir -p {tmp_path / 'nowhere'}) and let "
        "the partner's uploads write there, or correct source: in the registry"))


# -- processes at the same time -------------------------------------------------------------
#
# A run the daemon started for an inbox file and a `hub sync` (or two hosts on one shared
# folder) look at the same inbox; a partner's upload can pause for longer than the settle
# time. The fetch in a process of its own pauses at its crash point `fetch:landed` (bytes
# landed, nothing committed, the file not moved yet: hub/faults.py) while the other process
# acts; files, not sleeps, say when.

TAKE = """
import json, sys
from hub.fetch import FeedFetcher
from hub.pipeline import fetch_partner_feed
from hub.registry import parse_registry
from hub.store.db import make_engine
from hub.store.landing import LandingStore
partner = parse_registry(open(sys.argv[2]).read()).partners[0]
out = fetch_partner_feed(make_engine(sys.argv[1]), LandingStore(sys.argv[3]), FeedFetcher(),
                         partner, "courses")
print(json.dumps({"status": out.status, "sha": out.content_sha256}))
"""

WRITER = """
import sys, time
from pathlib import Path
target, body, half, signals = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes(), int(sys.argv[3]), Path(sys.argv[4])
with target.open("wb") as out:
    out.write(body[:half])
    out.flush()
    (signals / "half").touch()
    while not (signals / "more").exists():
        time.sleep(0.01)
    out.write(body[half:])
"""


def _take(db_url, tmp_path, settle="0", pause=None) -> subprocess.Popen:
    """A fetch of the inbox partner in a process of its own (paused at `fetch:landed` with
    ``pause``, a folder for the signals)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HUB_INBOX_SETTLE_SECONDS": settle}
    if pause is not None:
        env.update(HUB_PAUSE_AT="fetch:landed", HUB_PAUSE_DIR=str(pause))
    return subprocess.Popen([sys.executable, "-c", TAKE, db_url, str(tmp_path / "registry.yaml"),
                             str(tmp_path / "landing")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _outcome(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return json.loads(out)


def _wait_for(path, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert process is None or process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path.name} never came"
        time.sleep(0.01)


def _inbox_registry(tmp_path):
    inbox = tmp_path / "inbox" / "vhs"
    (tmp_path / "pause").mkdir()
    inbox.mkdir(parents=True)
    (tmp_path / "registry.yaml").write_text(registry_text(("vhs-nk", "csv-courses", f"inbox:{inbox}")))
    return inbox, tmp_path / "pause"


def test_two_processes_at_one_inbox_take_its_file_once(db_url, tmp_path):
    """The daemon's run and a `hub sync` at once: the second found the file the first was
    taking, landed it too and moved it aside; the first then failed with an internal error
    (the file it moved was gone), and both staged the delivery. Now the first takes it and
    the second takes none."""
    from hub.store.db import make_engine, migrate

    engine = make_engine(db_url)
    migrate(engine)
    inbox, pause = _inbox_registry(tmp_path)
    drop(inbox, "kurse.csv", CSV)
    first = _take(db_url, tmp_path, pause=pause)
    _wait_for(pause / "fetch-landed.reached", first)
    second = _outcome(_take(db_url, tmp_path))  # while the first holds the landed bytes
    (pause / "go").touch()
    first = _outcome(first)
    assert second == {"status": "unchanged", "sha": None}
    assert first["status"] == "changed"
    assert not [p for p in inbox.iterdir() if p.is_file()]
    assert [p.name.split("-", 1)[1] for p in (inbox / "processed").iterdir()] == ["kurse.csv"]
    engine.dispose()


def test_a_file_written_on_while_it_is_read_is_left_for_the_next_sync(db_url, tmp_path):
    """A partner's upload that paused for longer than the settle time and went on while the
    fetch read the file: the fetch landed the first part (a valid CSV of fewer courses) and
    moved the file, complete by then, into processed/, so the rest was never read. Now the
    fetch notices that the file changed, takes nothing, and the next one takes it whole."""
    from hub.store.db import make_engine, migrate

    engine = make_engine(db_url)
    migrate(engine)
    inbox, pause = _inbox_registry(tmp_path)
    (tmp_path / "full.csv").write_bytes(CSV)
    half = CSV.index(b"\n", len(CSV) // 2) + 1  # a whole line: the first part reads as a CSV
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(inbox / "kurse.csv"),
                               str(tmp_path / "full.csv"), str(half), str(pause)])
    _wait_for(pause / "half", writer)
    reader = _take(db_url, tmp_path, pause=pause)
    _wait_for(pause / "fetch-landed.reached", reader)
    (pause / "more").touch()  # the upload goes on while the fetch holds what it read
    assert writer.wait(timeout=30) == 0
    (pause / "go").touch()
    assert _outcome(reader) == {"status": "unchanged", "sha": None}
    assert (inbox / "kurse.csv").read_bytes() == CSV and not (inbox / "processed").exists()
    whole = _outcome(_take(db_url, tmp_path))
    assert whole["status"] == "changed"
    assert LandingStore(tmp_path / "landing").bodies(whole["sha"]) == [CSV]
    assert (next((inbox / "processed").iterdir())).read_bytes() == CSV
    engine.dispose()


def test_a_file_swapped_for_a_link_after_it_was_listed_is_not_read(engine, tmp_path, monkeypatch):
    """The listing skips links, but a partner's account could replace its listed file with a
    link between the listing and the read: the read followed it, and the target (a file of
    the hub's) became the partner's delivery. The file is now opened without following a
    link: nothing is taken, the target stays unread."""
    import hub.inbox

    inbox, partner, store, fetcher = _courses_inbox(tmp_path)
    secret = drop(tmp_path, "other-partner.csv", CSV, age=120)
    drop(inbox, "kurse.csv", CSV.replace(b"Deutsch", b"Englisch"), age=120)
    listed = hub.inbox.waiting_files

    def listed_then_swapped(folder, *args, **kwargs):
        files = listed(folder, *args, **kwargs)
        for path in files:  # what the partner does in the moment after the listing
            path.unlink()
            path.symlink_to(secret)
        return files

    monkeypatch.setattr(hub.inbox, "waiting_files", listed_then_swapped)
    assert fetch_partner_feed(engine, store, fetcher, partner, "courses").status == "unchanged"
    assert (inbox / "kurse.csv").is_symlink() and not (inbox / "processed").exists()
    assert secret.read_bytes() == CSV


def test_a_symbolic_link_in_the_inbox_is_not_a_delivery(engine, tmp_path):
    """A partner who can upload can create a symbolic link (SFTP allows it): one to a file the
    hub may read (its database, another partner's delivery) was fetched as the partner's
    delivery, and its content came back in the partner's feedback report."""
    inbox, partner, store, fetcher = _courses_inbox(tmp_path)
    secret = drop(tmp_path, "other-partner.csv", CSV, age=120)
    (inbox / "kurse.csv").symlink_to(secret)
    os.utime(inbox / "kurse.csv", (time.time() - 120,) * 2, follow_symlinks=False)

    assert fetch_partner_feed(engine, store, fetcher, partner, "courses").status == "unchanged"
    assert pending(parse_registry(registry_text(("vhs-nk", "csv-courses", f"inbox:{inbox}")))) == []
    assert secret.read_bytes() == CSV and (inbox / "kurse.csv").is_symlink()
