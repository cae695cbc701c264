"""The `hub` command as people and scripts call it: output on stdout/stderr, exit codes,
and one clear line (never a traceback) for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

HUB = str(Path(sys.executable).with_name("hub"))


def hub(*args, env=None, cwd=None, input=None):
    proc = subprocess.run([HUB, *args], capture_output=True, text=True, timeout=300, cwd=cwd or ROOT,
                          env={**os.environ, **(env or {})}, input=input)
    return proc


def hub_interrupted(*args, env: dict, cwd) -> tuple[int, str]:
    """Run ``hub ARGS`` and, once its first feed is done, press Ctrl-C as a terminal does
    (SIGINT to the whole process group); returns its exit code and stderr."""
    import signal
    import time

    proc = subprocess.Popen([HUB, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if line[9:].startswith("[1/"):  # the first feed is done: interrupt the next
                time.sleep(0.3)
                os.killpg(proc.pid, signal.SIGINT)
                break
        assert any(line[9:].startswith("[1/") for line in lines), "".join(lines)
        _, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, "".join(lines) + rest


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_parse_real_ba_v6_sample(samples_dir):
    proc = hub("parse", "ba-jobsuche", str(samples_dir / "ba_jobsuche_v6_search_response_recorded.json"))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(records) == 1
    record = records[0]
    assert record["source_id"] == "14225-d678889039fc0001-S"
    assert record["address"]["postal_code"] == "10589"
    assert record["geo"] == {"lat": 52.530795, "lon": 13.296708}
    assert proc.stderr == ""


def test_parse_writes_rejections_as_ndjson_on_stderr(samples_dir):
    proc = hub("parse", "openimmo", str(samples_dir / "openimmo_1.2.7_official_example_via_OpenEstate-IO.xml"),
               "--partner", "wbg-nk")
    assert proc.returncode == 0
    assert proc.stdout == ""
    rejections = [json.loads(line) for line in proc.stderr.splitlines()]
    missing = [r for r in rejections if r["rule"] == "RECORD_FIELD_MISSING"]
    assert {r["field"] for r in missing} == {"source_id", "address.postal_code", "address.city"}
    # the example's flat is for sale (vermarktungsart KAUF): said as well
    assert [r["value"] for r in rejections if r not in missing] == ["vermarktungsart KAUF"]
    assert all(r["partner_id"] == "wbg-nk" and r["message"] for r in rejections)


def test_parse_then_resolve_gives_one_line_per_record():
    parsed = hub("parse", "csv-courses", str(FIXTURES / "formats" / "courses_semicolon_utf8_bom.csv"),
                 "--partner", "vhs-nk")
    assert parsed.returncode == 0
    count = len(parsed.stdout.splitlines())
    resolved = hub("resolve", "courses", "-", input=parsed.stdout)
    assert resolved.returncode == 0, resolved.stderr
    lines = [json.loads(line) for line in resolved.stdout.splitlines()]
    assert len(lines) == count > 0
    assert set(lines[0]) == {"partner_id", "source_id", "entity_id"}
    assert all(line["entity_id"].startswith("crs-") for line in lines)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (("parse", "xml-jobs", "x.json"), ["unknown format 'xml-jobs'", "ba-jobsuche"]),
        (("parse", "ba-jobsuche", "/no/such/file.json"), ["/no/such/file.json: no such file"]),
        (("parse", "openimmo", str(FIXTURES / "formats" / "ba_jobsuche_v6_neunkirchen.json")), ["invalid XML"]),
        (("parse", "ba-jobsuche", str(FIXTURES / "formats" / "openimmo_voll_neunkirchen.xml")), ["invalid JSON"]),
        (("resolve", "flats", "x"), ["unknown domain 'flats'"]),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(args, fragments):
    assert_one_line_error(hub(*args), *fragments)


def test_malformed_registry_for_sync(tmp_path):
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-nk\n    name: VHS\n    feeds:\n      - format: pdf\n        source: https://x.example/\n")
    proc = hub("sync", "--registry", str(registry), env={"HUB_HOME": str(tmp_path / "home")})
    assert_one_line_error(proc, str(registry), "partner 'vhs-nk'", "feeds[0].format", "unknown format 'pdf'")


def test_unreachable_database_is_one_line(tmp_path):
    proc = hub("db", env={"HUB_DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/none"})
    assert_one_line_error(proc, "cannot reach the database")
    assert "secret" not in proc.stderr
    # the postgres:// scheme of hosting providers is PostgreSQL too; another driver is refused
    proc = hub("db", env={"HUB_DATABASE_URL": "postgres://nobody:secret@127.0.0.1:1/none"})
    assert_one_line_error(proc, "cannot reach the database")
    proc = hub("db", env={"HUB_DATABASE_URL": "postgresql+asyncpg://nobody:secret@127.0.0.1:1/none"})
    assert_one_line_error(proc, "unsupported PostgreSQL driver 'asyncpg'", "use postgresql://")
    assert "secret" not in proc.stderr


def test_formats_and_schemas():
    formats = hub("formats")
    assert formats.returncode == 0
    names = [line.split()[0] for line in formats.stdout.splitlines()]
    assert {"ba-jobsuche", "csv-courses", "openimmo"} <= set(names)
    assert hub("schemas").returncode == 0


def test_schemas_written_where_no_folder_can_be_is_one_line(tmp_path):
    """hub schemas --write --out naming a file (or a folder below one) ended in 'internal
    error: FileExistsError', exit 70."""
    file = tmp_path / "notes.txt"
    file.write_text("x", encoding="utf-8")
    assert_one_line_error(hub("schemas", "--write", "--out", str(file)),
                          f"{file} is a file, not a folder; name a folder with --out")
    assert_one_line_error(hub("schemas", "--write", "--out", str(file / "schemas")),
                          f"cannot write the schemas to {file / 'schemas'}: Not a directory")
    assert file.read_text(encoding="utf-8") == "x"
    written = hub("schemas", "--write", "--out", str(tmp_path / "new" / "schemas"))
    assert written.returncode == 0 and hub("schemas", "--out", str(tmp_path / "new" / "schemas")).returncode == 0


def test_sync_of_a_held_feed_then_of_one_that_cannot_be_fetched(tmp_path):
    """A delivery held for its rejection share shows as held with its own counts and exit 1;
    when the feed then cannot be fetched, the sync says so (failed, the reason, nothing
    fetched), not the older hold."""
    header = "Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau\n"
    good = [f"G-{n};Deutschkurs {n};Sprachkurs;66538;Neunkirchen;B1\n" for n in range(4)]
    bad = [f"B-{n};Deutschkurs X{n};Sprachkurs;6653;Neunkirchen;B1\n" for n in range(12)]  # PLZ
    feed = tmp_path / "kurse.csv"
    feed.write_text(header + "".join(good + bad), encoding="utf-8")
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {feed.as_uri()}\n")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry)}
    held = hub("sync", "--json", env=env)
    assert held.returncode == 1, held.stderr
    row = json.loads(held.stdout)["partners"][0]
    assert (row["status"], row["fetched"], row["accepted"], row["rejected"]) == ("held", 16, 4, 12)
    assert "held: held" not in held.stderr and "hub release vhs-test" in held.stderr
    feed.unlink()
    failed = hub("sync", "--json", env=env)
    assert failed.returncode == 1, failed.stderr
    summary = json.loads(failed.stdout)
    row = summary["partners"][0]
    assert (row["status"], row["fetched"]) == ("failed", 0)
    assert str(feed) in row["message"] and summary["failed_feeds"] == ["vhs-test/courses"]


def test_a_feed_back_to_its_good_file_after_a_hold_syncs_ok(tmp_path):
    """Held for mass withdrawal, then the partner sends its last good file again: the sync
    says ok (exit 0), not the old hold, and there is nothing to release."""
    header = "Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau\n"
    good = header + "".join(f"G-{n};Deutschkurs {n};Sprachkurs;66538;Neunkirchen;B1\n" for n in range(20))
    feed = tmp_path / "kurse.csv"
    feed.write_text(good, encoding="utf-8")
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {feed.as_uri()}\n")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry)}
    assert hub("sync", env=env).returncode == 0
    feed.write_text(header + good.splitlines(keepends=True)[1], encoding="utf-8")
    assert json.loads(hub("sync", "--json", env=env).stdout)["partners"][0]["status"] == "held"
    # a replay of the held delivery is held again, and says so with its exit code (once
    # per partner, however often it is named)
    replay = hub("replay", "--partner", "vhs-test", "--partner", "vhs-test", env=env)
    assert replay.returncode == 1 and replay.stdout.count("vhs-test/courses: held") == 1
    feed.write_text(good, encoding="utf-8")
    back = hub("sync", "--json", env=env)
    assert back.returncode == 0, back.stderr
    row = json.loads(back.stdout)["partners"][0]
    assert (row["status"], row["accepted"], row["published"], row["message"]) == ("ok", 20, 20, None)
    release = hub("release", "vhs-test", env=env)
    assert "nothing to release" in release.stdout + release.stderr
    assert hub("sync", env=env).returncode == 0


def test_a_dagster_home_that_cannot_be_used_is_one_line(tmp_path):
    """A dagster.yaml that is not YAML or names a storage that cannot be imported, and a
    DAGSTER_HOME that is a file: exit 2 naming the file, not an internal error."""
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {(tmp_path / 'k.csv').as_uri()}\n")
    broken, unknown, a_file = tmp_path / "broken", tmp_path / "unknown", tmp_path / "a-file"
    broken.mkdir()
    (broken / "dagster.yaml").write_text("telemetry: [\n")
    unknown.mkdir()
    (unknown / "dagster.yaml").write_text("run_storage:\n  module: nope\n  class: Nope\n")
    a_file.write_text("")
    for home, fragments in ((broken, [str(broken / "dagster.yaml"), "cannot be loaded", "ParserError"]),
                            (unknown, [str(unknown / "dagster.yaml"), "module nope"]),
                            (a_file, [f"DAGSTER_HOME {a_file} is a file"])):
        proc = hub("sync", env={"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry),
                                "DAGSTER_HOME": str(home)})
        assert_one_line_error(proc, *fragments)


def test_the_production_instance_file_says_what_is_wrong_with_its_database(tmp_path):
    """deploy/dagster.yaml (Dagster on PostgreSQL) with its URL unset, wrong, or without the
    psycopg2 driver: one line that says so (Dagster's own errors bury it, or come later as an
    internal error)."""
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {(tmp_path / 'k.csv').as_uri()}\n")
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.yaml").read_text())
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry),
           "DAGSTER_HOME": str(home)}
    unset = {k: v for k, v in os.environ.items() if k != "DAGSTER_PG_URL"}
    proc = subprocess.run([HUB, "sync"], capture_output=True, text=True, timeout=300,
                          env={**unset, **env})
    assert_one_line_error(proc, "environment variable DAGSTER_PG_URL it names is not set")
    for url, fragment in (
        ("postgresql://postgres@127.0.0.1:5432/test", "must name the psycopg2 driver"),
        # nothing listens on port 9: the reason, not 'too many retries' after a page of warnings
        ("postgresql+psycopg2://postgres@127.0.0.1:9/test", "PostgreSQL cannot be reached: connection"),
    ):
        assert_one_line_error(hub("sync", env={**env, "DAGSTER_PG_URL": url}), fragment)


def test_an_empty_database_url_is_an_error_not_the_embedded_database(tmp_path):
    proc = hub("db", env={"HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": ""})
    assert_one_line_error(proc, "HUB_DATABASE_URL is set but empty")
    assert not (tmp_path / "home" / "hub.db").exists()


def test_a_sqlite_database_in_memory_or_relative_is_refused_before_anything_is_done(tmp_path):
    """A SQLite database in memory ended with the command: hub keys create printed a key no
    database kept, hub demo published a directory nobody could read. 'sqlite:///tmp/hub.db'
    (three slashes) is tmp/hub.db below the working folder, not /tmp/hub.db: each folder a
    command or the Dagster daemon starts in had its own database."""
    env = {"HUB_HOME": str(tmp_path / "home")}
    for url in ("sqlite://", "sqlite:///:memory:"):
        proc = hub("keys", "create", "--name", "portal", "--scope", "read",
                   env={**env, "HUB_DATABASE_URL": url}, cwd=tmp_path)
        assert_one_line_error(proc, f"HUB_DATABASE_URL={url} is a SQLite database in memory",
                              "name a file, sqlite:////PATH/hub.db")
        assert proc.stdout == ""  # no key that is gone with the command
    proc = hub("db", env={**env, "HUB_DATABASE_URL": "sqlite:///data/hub.db"}, cwd=tmp_path)
    assert_one_line_error(proc, "HUB_DATABASE_URL=sqlite:///data/hub.db names data/hub.db relative "
                                "to the working folder", "(four slashes: sqlite:////data/hub.db is /data/hub.db)")
    assert not (tmp_path / "data").exists()
    proc = hub("db", env={**env, "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'hub.db'}"})
    assert proc.returncode == 0, proc.stderr


def test_an_inbox_without_a_file_yet_waits_and_is_no_failure(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
                        f"      - format: csv-courses\n        source: inbox:{inbox}\n")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry)}
    waiting = hub("sync", env=env)
    assert waiting.returncode == 0, waiting.stderr
    assert f"vhs-test/courses: no file in the inbox {inbox} yet" in waiting.stdout
    assert "vhs-test/courses: vhs-test/courses" not in waiting.stdout + waiting.stderr
    dropped = inbox / "kurse.csv"
    dropped.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nK-1;Deutschkurs;Sprachkurs;66538;Neunkirchen\n",
                       encoding="utf-8")
    # just written: it may still be being written (an upload that pauses), so it waits
    settling = hub("sync", "--json", env=env)
    row = json.loads(settling.stdout)["partners"][0]
    assert (settling.returncode, row["status"]) == (0, "waiting")
    assert "kurse.csv in the inbox changed" in row["message"]
    assert "may still be being written; it is synced once unchanged for 30 s" in row["message"]
    assert dropped.exists()
    old = time.time() - 60
    os.utime(dropped, (old, old))
    synced = hub("sync", "--json", env=env)
    row = json.loads(synced.stdout)["partners"][0]
    assert (synced.returncode, row["status"], row["accepted"]) == (0, "ok", 1)


def test_a_partner_that_left_is_withdrawn_with_tombstones_and_comes_back_in_full(tmp_path):
    """A partner removed from the registry stays published until a steward withdraws it:
    refused while the registry lists the feed, then its records leave the directory with
    tombstones in the change feed. Should it come back, its next sync publishes it again."""
    import sqlalchemy as sa

    feed = tmp_path / "kurse.csv"
    feed.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nK-1;Deutschkurs A;Sprachkurs;66538;Neunkirchen\n"
                    "K-2;Deutschkurs B;Sprachkurs;66538;Neunkirchen\n", encoding="utf-8")
    listed = ("partners:\n  - id: vhs-b\n    name: VHS B\n    feeds:\n"
              f"      - format: csv-courses\n        source: {feed.as_uri()}\n")
    registry = tmp_path / "registry.yaml"
    registry.write_text(listed)
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry)}
    assert hub("sync", env=env).returncode == 0
    assert_one_line_error(hub("withdraw", "vhs-b", env=env), "vhs-b is in", "remove the feed")
    # another registry file does not hide the configured one, which the sensors read
    trial = tmp_path / "trial.yaml"
    trial.write_text("partners: []\n")
    assert_one_line_error(hub("withdraw", "vhs-b", "--registry", str(trial), env=env),
                          f"vhs-b is in {registry}", "remove the feed")
    # an emptied registry file, or HUB_REGISTRY naming a file that is not there, proves
    # nothing: no note that invites a withdrawal, and withdraw refuses
    registry.write_text("partners: []\n")
    emptied = hub("sync", env=env)
    assert emptied.returncode == 2 and "hub withdraw" not in emptied.stderr
    assert_one_line_error(hub("withdraw", "vhs-b", env=env), f"the registry {registry} lists no partners")
    assert_one_line_error(hub("withdraw", "vhs-b", env={**env, "HUB_REGISTRY": str(tmp_path / "nothere.yaml")}),
                          f"the registry {tmp_path / 'nothere.yaml'} is not there")
    other = tmp_path / "andere.csv"
    other.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nA-1;Deutschkurs C;Sprachkurs;66538;Neunkirchen\n",
                     encoding="utf-8")
    registry.write_text("partners:\n  - id: vhs-c\n    name: VHS C\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {other.as_uri()}\n")
    # the sync says what stays published of a partner that left
    left = hub("sync", env=env)
    assert ("hub sync: note: vhs-b/courses is not in the registry and still has 2 published "
            "records; hub withdraw vhs-b takes them out") in left.stderr
    done = hub("withdraw", "vhs-b", env=env)
    assert done.returncode == 0, done.stderr
    assert "vhs-b/courses: 2 records withdrawn; directory/courses: 1 entries (2 deleted" in done.stdout
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'home' / 'hub.db'}")
    with engine.connect() as conn:
        ops = conn.execute(sa.text("SELECT op FROM changes ORDER BY seq")).scalars().all()
        statuses = set(conn.execute(sa.text("SELECT status FROM source_records")).scalars())
    engine.dispose()
    assert ops == ["updated", "updated", "updated", "deleted", "deleted"]
    assert statuses == {"withdrawn", "active"}
    again = hub("withdraw", "vhs-b", env=env)
    assert again.returncode == 1 and "nothing to withdraw" in again.stderr
    assert "did you mean" not in again.stderr  # withdrawn already: no typo
    typo = hub("withdraw", "vhs-cc", env=env)  # vhs-c is published (and listed: it is refused then)
    assert typo.returncode == 1 and "(did you mean 'vhs-c'?)" in typo.stderr, typo.stderr
    registry.write_text(listed)  # back, with the same file: synced in full, not 'unchanged'
    back = hub("sync", "--json", env=env)
    assert json.loads(back.stdout)["published"]["courses"] == 3


def test_a_feedback_mail_that_cannot_be_sent_is_a_warning_of_the_sync(tmp_path):
    """The mail server is down: the sync goes on (exit 0) and says that the partner's report
    was not mailed, in its progress, its table and its JSON."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    feed = tmp_path / "kurse.csv"
    feed.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nK-1;Deutschkurs A;Sprachkurs;66538;Neunkirchen\n",
                    encoding="utf-8")
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-c\n    name: VHS C\n    contact_email: kurse@vhs-c.example\n"
                        f"    feeds:\n      - format: csv-courses\n        source: {feed.as_uri()}\n")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry), "HUB_SMTP_HOST": "127.0.0.1",
           "HUB_SMTP_PORT": str(port), "HUB_MAIL_FROM": "hub@welcome-hub.example"}
    proc = hub("sync", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"vhs-c/courses: warning: feedback mail for vhs-c/courses not sent: cannot reach the mail server 127.0.0.1:{port}" in proc.stdout
    assert "warning: feedback mail for vhs-c/courses not sent" in proc.stderr


def test_published_counts_the_entries_of_the_partners_active_records(tmp_path):
    """Two schools list the same course (same page, start and levels: one entry). When
    school A drops it, the entry lives on with school B's record: A's published count is
    its one other course, not two."""
    header = "Kurs-ID;Titel;Kursart;PLZ;Ort;Sprachniveau;Beginn;Link\n"
    shared = "Integrationskurs;Integrationskurs;66538;Neunkirchen;A1-B1;02.03.2028;https://kurse.example/ik-1\n"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(header + "A-1;" + shared + "A-2;Deutschkurs B2;Sprachkurs;66538;Neunkirchen;B2;;\n",
                 encoding="utf-8")
    b.write_text(header + "B-1;" + shared, encoding="utf-8")
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n"
                        f"  - id: school-a\n    name: A\n    feeds:\n      - format: csv-courses\n        source: {a.as_uri()}\n"
                        f"  - id: school-b\n    name: B\n    feeds:\n      - format: csv-courses\n        source: {b.as_uri()}\n")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry)}
    first = json.loads(hub("sync", "--json", env=env).stdout)
    assert first["published"]["courses"] == 2
    a.write_text(header + "A-2;Deutschkurs B2;Sprachkurs;66538;Neunkirchen;B2;;\n", encoding="utf-8")
    second = json.loads(hub("sync", "--json", env=env).stdout)
    published = {p["partner_id"]: p["published"] for p in second["partners"]}
    assert second["published"]["courses"] == 2 and published == {"school-a": 1, "school-b": 1}


def test_replay_of_no_feed_and_sync_of_an_empty_registry_say_so(tmp_path):
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {(tmp_path / 'k.csv').as_uri()}\n")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry)}
    assert_one_line_error(hub("replay", "--domain", "jobs", env=env), "nothing to replay: no jobs feed")
    empty = tmp_path / "empty.yaml"
    empty.write_text("partners: []\n")
    # a steward whose HUB_REGISTRY names the wrong (an empty) file is told, with an exit code
    for text in ("partners: []\n", "", "# partners to come\n"):
        empty.write_text(text)
        proc = hub("sync", "--registry", str(empty), env={"HUB_HOME": str(tmp_path / "home")})
        assert_one_line_error(proc, f"hub sync: error: the registry {empty} lists no partners; "
                                    "nothing to sync")
    assert_one_line_error(hub("release", "vhs-test", "--registry", str(empty), env=env),
                          "no partner 'vhs-test' in the registry (it lists no partners)")


def courses_partner(tmp_path, text: str) -> tuple:
    """A registry with one partner, vhs-a, whose csv-courses feed is the file k.csv holding
    ``text``; returns (the file, the environment of the hub commands)."""
    courses = tmp_path / "k.csv"
    courses.write_text(text)
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {courses.as_uri()}\n")
    return courses, {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry),
                     "DAGSTER_HOME": str(tmp_path / "dagster")}


def test_a_replay_shows_in_dagster_as_a_publication_of_the_directory(tmp_path, monkeypatch):
    """hub replay publishes without a run: the steward's view of the directory in the UI
    must not stay at the entries of the last sync."""
    import dagster as dg

    _, env = courses_partner(tmp_path, "Kurs-ID;Titel;Kursart;PLZ;Ort\n"
                                       "K1;Deutsch B1;Sprachkurs;66538;Neunkirchen\n")
    assert hub("sync", env=env).returncode == 0
    replay = hub("replay", env=env)
    assert replay.returncode == 0 and "warning" not in replay.stderr, replay.stderr
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["directory", "courses"]))
    materialization = event.asset_materialization
    assert materialization.description.startswith("hub replay: directory/courses published again")
    assert materialization.metadata["entries"].value == 1


def test_release_names_a_feed_the_partner_does_not_have(tmp_path):
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {(tmp_path / 'k.csv').as_uri()}\n")
    env = {"HUB_HOME": str(tmp_path / "home")}
    assert_one_line_error(hub("release", "vhs-test", "--domain", "jobs", "--registry", str(registry), env=env),
                          "vhs-test has no jobs feed")
    proc = hub("release", "vhs-test", "--registry", str(registry), env=env)
    assert proc.returncode == 0 and "nothing to release" in proc.stdout


def test_sync_of_a_trial_registry_keeps_the_configured_partners_partitions(tmp_path):
    import dagster as dg

    courses = tmp_path / "k.csv"
    courses.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nK1;Deutsch B1;Sprachkurs;66538;Neunkirchen\n")

    def registry(name: str, partner: str) -> Path:
        path = tmp_path / name
        path.write_text(f"partners:\n  - id: {partner}\n    name: {partner}\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {courses.as_uri()}\n")
        return path

    configured, trial = registry("registry.yaml", "vhs-a"), registry("trial.yaml", "vhs-b")
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(configured),
           "DAGSTER_HOME": str(tmp_path / "dagster")}

    def partitions() -> set[str]:
        with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
            return set(instance.get_dynamic_partitions("courses_feeds"))

    first = hub("sync", env=env)
    assert first.returncode == 0
    # a DAGSTER_HOME without an instance file is said (a typo, a volume not mounted)
    assert f"DAGSTER_HOME {tmp_path / 'dagster'} held no dagster.yaml" in first.stderr
    assert partitions() == {"vhs-a"}
    # trying a partner out with a registry of its own leaves the configured ones in place
    # (the sensors, which follow HUB_REGISTRY, would otherwise find no feed to poll)
    again = hub("sync", "--registry", str(trial), env=env)
    assert again.returncode == 0 and "held no dagster.yaml" not in again.stderr
    assert partitions() == {"vhs-a", "vhs-b"}
    # a sync of the configured registry brings the partitions in step with it
    assert hub("sync", "--registry", str(configured), env=env).returncode == 0
    assert partitions() == {"vhs-a"}
    # a trial entry for a configured partner (another source) would publish over the live
    # one until the next sync switched back: refused, pointing at hub check --fetch
    other = tmp_path / "k2.csv"
    other.write_text(courses.read_text())
    trial.write_text(configured.read_text().replace(courses.as_uri(), other.as_uri()))
    assert_one_line_error(hub("sync", "--registry", str(trial), env=env),
                          f"vhs-a is in the configured registry {configured} with another entry",
                          f"hub check --fetch --partner vhs-a --registry {trial}")
    trial.write_text(configured.read_text())  # the same entry: a sync of it is fine
    assert hub("sync", "--registry", str(trial), env=env).returncode == 0


def test_runs_of_a_command_started_elsewhere_are_in_the_project_instance_the_ui_shows(tmp_path,
                                                                                    monkeypatch):
    """The project's dagster.yaml names its storage relative (.hub/dagster/...): a sync started
    in another folder, with DAGSTER_HOME set to the project or with only HUB_HOME pointing at
    the project's .hub, keeps its runs where `dagster dev` in the project reads them."""
    import shutil

    import dagster as dg

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir(), elsewhere.mkdir()
    for name in ("dagster.yaml", "workspace.yaml"):
        shutil.copy(ROOT / name, project / name)
    courses = tmp_path / "k.csv"
    courses.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nK1;Deutsch B1;Sprachkurs;66538;Neunkirchen\n")
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n"
                        f"      - format: csv-courses\n        source: {courses.as_uri()}\n")
    base = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env = {**base, "HUB_HOME": str(project / ".hub"), "HUB_REGISTRY": str(registry)}
    for extra in ({"DAGSTER_HOME": str(project)}, {}):
        proc = subprocess.run([HUB, "sync"], capture_output=True, text=True, timeout=300,
                              cwd=elsewhere, env={**env, **extra})
        assert proc.returncode == 0, proc.stderr
    assert not (elsewhere / ".hub").exists()
    assert not (project / ".hub" / "dagster" / "dagster.yaml").exists()  # no second instance
    monkeypatch.setenv("DAGSTER_HOME", str(project))
    with dg.DagsterInstance.get() as instance:  # as `dagster dev` in the project opens it
        runs = instance.get_runs()
        assert sorted((run.job_name, run.tags.get("dagster/partition"), run.status.value)
                      for run in runs) == [("publish_directory", None, "SUCCESS")] * 2 + [
                          ("sync_courses", "vhs-a", "SUCCESS")] * 2
        assert instance.run_storage._conn_string.startswith(f"sqlite:///{project}/.hub/dagster/")


def test_a_second_sync_on_the_same_hub_home_is_refused_while_one_runs(tmp_path):
    """Two syncs at once fetched and staged the same feeds twice and each printed the
    other's outcome as its own."""
    import fcntl

    registry = tmp_path / "registry.yaml"
    registry.write_text("partners: []\n")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HUB_HOME": str(home), "HUB_REGISTRY": str(registry), "DAGSTER_HOME": str(tmp_path / "d")}
    with open(home / "sync.lock", "a+") as lock:  # a sync in another process holds it
        lock.write("hub sync, pid 4242")
        lock.flush()
        fcntl.flock(lock, fcntl.LOCK_EX)
        busy = hub("sync", env=env)
    assert_one_line_error(busy, f"another sync is running on {home} (hub sync, pid 4242)")
    # once it has ended the sync goes on (to the registry, which lists no partners here)
    assert_one_line_error(hub("sync", env=env), f"the registry {registry} lists no partners")


def test_a_released_delivery_replayed_no_longer_shows_as_held_in_dagster(tmp_path, monkeypatch):
    """hub release, then hub replay: the steward's view of the partner (the staged partition and
    its guards) follows the replay, as it follows a sync run."""
    import dagster as dg
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    header = "Kurs-ID;Titel;Kursart;Sprachniveau;PLZ;Ort\n"
    courses, env = courses_partner(tmp_path, header + "".join(
        f"K{n};Deutsch B1 Kurs {n};Sprachkurs;B1;66538;Neunkirchen\n" for n in range(12)))
    assert hub("sync", env=env).returncode == 0
    courses.write_text(header + "".join(f"K{n};Deutsch B1 Kurs {n};Sprachkurs;Z9;66538;Neunkirchen\n"
                                        for n in range(11)) + "K11;Deutsch B1 Kurs 11;Sprachkurs;B1;66538;Neunkirchen\n")
    assert hub("sync", env=env).returncode == 1  # held: 11 of 12 rejected
    assert hub("release", "vhs-a", env=env).returncode == 0
    replay = hub("replay", env=env)
    assert replay.returncode == 0 and "warning" not in replay.stderr, replay.stderr
    again = hub("replay", env=env)  # its results take the place of the first replay's
    assert again.returncode == 0 and "warning" not in again.stderr, again.stderr

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    key = dg.AssetKey(["staged", "courses"])
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(key)
        share = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(key, "rejection_share"), limit=1)[0]
    materialization = event.asset_materialization
    assert materialization.partition == "vhs-a" and materialization.description.startswith("hub replay")
    assert (materialization.metadata["status"].value, materialization.metadata["accepted"].value) == ("ok", 1)
    assert (share.partition, share.status) == ("vhs-a", AssetCheckExecutionRecordStatus.SUCCEEDED)


def test_a_hub_home_that_is_no_folder_is_one_line(tmp_path):
    """HUB_HOME naming a file, or a folder that cannot be made: exit 2 saying so, on every
    command that uses it (it was an internal error, exit 70)."""
    afile = tmp_path / "home"
    afile.write_text("")
    for command in (["db"], ["keys", "list"], ["export", "--format", "ndjson", "--out", str(tmp_path / "x")],
                    ["sync"], ["withdraw", "gone"]):
        assert_one_line_error(hub(*command, env={"HUB_HOME": str(afile)}),
                              f"HUB_HOME {afile} is a file, not a folder")
    assert_one_line_error(hub("db", env={"HUB_HOME": str(afile / "below")}),
                          "the folder cannot be created")


def test_python_dash_m_hub_is_the_hub_command():
    """`python -m hub` runs what the `hub` script runs (for a venv whose scripts are not on
    PATH), with the same exit codes."""
    import sys

    listed = subprocess.run([sys.executable, "-m", "hub", "formats"], capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert listed.returncode == 0 and "ba-jobsuche" in listed.stdout, listed.stderr
    wrong = subprocess.run([sys.executable, "-m", "hub", "parse", "no-such-format", "x"],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert wrong.returncode == 2 and wrong.stderr.startswith("hub parse: error:"), wrong.stderr


@pytest.mark.parametrize(("command", "said"), [
    ("sync", ["unchanged", "waiting", "held", "hub release PARTNER", "Exit 0", "1 when one failed",
              "2 (nothing run)"]),
    ("release", ["stages it again", "withdraws the records", "publishes what was accepted",
                 "hub status"]),
])
def test_the_help_of_a_stewards_first_commands_says_what_they_do(capsys, command, said):
    """hub sync --help and hub release --help listed their options only: a new steward
    learned the states, the exit codes and what a release publishes from the README."""
    from hub.cli import main

    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert [words for words in said if words not in text] == []


def test_a_sync_while_another_process_takes_the_inbox_file_says_so(tmp_path):
    """A hub sync while the daemon's run was taking the inbox's file (the inbox's lock held:
    hub.inbox.taking, here by the test) takes none; its line read 'no file in the inbox ...
    yet' of an inbox holding a file. Now it names the file and the other run."""
    from hub.inbox import taking

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-test\n    name: VHS Test\n    feeds:\n"
                        f"      - format: csv-courses\n        source: inbox:{inbox}\n")
    dropped = inbox / "kurse.csv"
    dropped.write_text("Kurs-ID;Titel;Kursart;PLZ;Ort\nK-1;Deutschkurs;Sprachkurs;66538;Neunkirchen\n",
                       encoding="utf-8")
    old = time.time() - 60
    os.utime(dropped, (old, old))
    env = {"HUB_HOME": str(tmp_path / "home"), "HUB_REGISTRY": str(registry)}
    with taking(inbox) as ours:
        assert ours
        meanwhile = hub("sync", "--json", env=env)
    row = json.loads(meanwhile.stdout)["partners"][0]
    assert (meanwhile.returncode, row["status"]) == (0, "waiting"), meanwhile.stderr
    assert row["message"].startswith("kurse.csv waits in the inbox: another run")
    assert dropped.exists()
