"""`hub erase` on SQLite and PostgreSQL: a record erased on request is gone from every table
and from the raw payloads, the change feed announces it, an audit row without personal data
stays; a re-sync of a feed that still sends it brings it back."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from hub.cli import main
from hub.config import Settings
from hub.pipeline import fetch_partner_feed, stage_partner_feed
from hub.quality.feedback import deliver_feedback
from hub.registry import load_registry
from hub.resources import FeedClient, engine_for
from hub.store.landing import LandingStore
from hub.store.publish import publish_domain
from hub.store.tables import changes, directory, entity_map, erasures, rejections, source_records
from tests.feeds import registry_text
from tests.personal_data import file_hits, table_hits

HEADER = "Stellen-ID;Titel;Arbeitgeber;PLZ;Ort;Ansprechperson;E-Mail;Telefon;Kontakt oeffentlich\n"
EMPLOYER = HEADER + (
    "A-1;Koch (m/w/d);Gasthaus Krone;66538;Neunkirchen;Erika Musterfrau;erika.musterfrau@example.org;06821 4711815;ja\n"
    "A-2;Kellner (m/w/d);Gasthaus Krone;66538;Neunkirchen;Hans Beispiel;hans.beispiel@example.org;06821 902233;ja\n"
    "A-BAD;Spüler (m/w/d);Gasthaus Krone;66538;Neunkirchen;Karl Tippfehler;karl.tippfehler(at)example;;ja\n"
)
JOBCENTER = HEADER + (
    "B-7;Koch (m/w/d);Gasthaus Krone;66538;Neunkirchen;Petra Vermittlung;vermittlung@jobcenter.example;06821 9990;ja\n"
)
ERIKA = ["Musterfrau", "erika.musterfrau@example.org", "4711815"]
HANS = ["Hans Beispiel", "hans.beispiel@example.org", "902233"]
KARL = ["Tippfehler", "karl.tippfehler"]


class Hub:
    def __init__(self, db_url, tmp_path, monkeypatch):
        feeds = tmp_path / "feeds"
        feeds.mkdir()
        (feeds / "employer.csv").write_text(EMPLOYER, encoding="utf-8")
        (feeds / "jobcenter.csv").write_text(JOBCENTER, encoding="utf-8")
        registry = tmp_path / "registry.yaml"
        registry.write_text(registry_text(
            ("employer-a", "csv-jobs", (feeds / "employer.csv").as_uri()),
            ("jobcenter-b", "csv-jobs", (feeds / "jobcenter.csv").as_uri()),
        ))
        monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("HUB_DATABASE_URL", db_url)
        monkeypatch.setenv("HUB_REGISTRY", str(registry))
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))  # hub erase tells Dagster
        self.settings = Settings.from_env()
        self.engine = engine_for(db_url)
        self.store = LandingStore(self.settings.landing_dir)
        self.registry = load_registry(registry)
        for partner in ("employer-a", "jobcenter-b"):
            self.sync(partner)
        publish_domain(self.engine, "jobs")

    def sync(self, partner_id: str):
        partner = self.registry.get(partner_id)
        fetch_partner_feed(self.engine, self.store, FeedClient().fetcher(), partner, "jobs")
        return stage_partner_feed(self.engine, self.store, partner, "jobs")

    def entity(self, partner_id: str, source_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(entity_map.c.entity_id).where(
                entity_map.c.partner_id == partner_id, entity_map.c.source_id == source_id)).scalar()

    def rows(self, table, *where):
        with self.engine.connect() as conn:
            return conn.execute(sa.select(table).where(*where)).all()


def hub_setup(db_url, tmp_path, monkeypatch) -> Hub:
    return Hub(db_url, tmp_path, monkeypatch)


def test_erasing_a_single_source_record_removes_it_everywhere(db_url, tmp_path, monkeypatch, capsys):
    hub = hub_setup(db_url, tmp_path, monkeypatch)
    eid = hub.entity("employer-a", "A-2")
    assert eid and {"source_records", "directory", "changes"} <= set(table_hits(hub.engine, HANS))
    assert file_hits(hub.store.root, HANS)

    code = main(["erase", "employer-a", "A-2", "--reason", "Ticket DS-2026-17"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"employer-a/jobs/A-2: erased; entity {eid} deleted from the directory" in out
    assert "publishes it again" in out

    assert table_hits(hub.engine, HANS) == {}
    assert file_hits(hub.store.root, HANS) == []
    if hub.engine.dialect.name == "sqlite":  # nor in the database's files (free pages, the log)
        database = Path(hub.engine.url.database)
        files = sorted(database.parent.glob(database.name + "*"))  # hub.db, -wal, -shm
        assert database in files
        assert [f.name for f in files if any(n.encode() in f.read_bytes() for n in HANS)] == []
    assert not hub.rows(source_records, source_records.c.source_id == "A-2")
    assert not hub.rows(entity_map, entity_map.c.source_id == "A-2")
    assert not hub.rows(directory, directory.c.entity_id == eid)
    items = hub.rows(changes, changes.c.entity_id == eid)
    assert [i.op for i in items] == ["updated", "deleted"]
    assert items[0].entry["redacted"] is True and items[0].entry["sources"] == []
    assert items[1].entry == {"id": eid, "domain": "jobs"}
    audit = hub.rows(erasures)
    assert [(a.partner_id, a.domain, a.source_id, a.entity_id, a.outcome, a.reason) for a in audit] == [
        ("employer-a", "jobs", "A-2", eid, "deleted", "Ticket DS-2026-17")]
    assert audit[0].payloads_erased == 1 and audit[0].changes_scrubbed == 1
    # the other records of the partner are untouched
    assert hub.entity("employer-a", "A-1")

    # a replay explains that the payload was erased
    assert main(["replay", "--partner", "employer-a"]) == 1
    err = capsys.readouterr().err
    assert "was erased on" in err and "erased on request" in err and "Traceback" not in err

    # the partner is the source of truth: a feed that still sends the record brings it back
    outcome = hub.sync("employer-a")
    assert outcome.status == "ok"
    publish_domain(hub.engine, "jobs")
    assert hub.rows(source_records, source_records.c.source_id == "A-2")[0].status == "active"
    assert "directory" in table_hits(hub.engine, HANS)


def test_erasing_one_source_keeps_the_entity_with_the_other(db_url, tmp_path, monkeypatch, capsys):
    hub = hub_setup(db_url, tmp_path, monkeypatch)
    eid = hub.entity("employer-a", "A-1")
    assert eid == hub.entity("jobcenter-b", "B-7")
    assert table_hits(hub.engine, ERIKA)

    assert main(["erase", "employer-a", "A-1", "--domain", "jobs"]) == 0
    out = capsys.readouterr().out
    assert f"entity {eid} kept with its other sources" in out

    assert table_hits(hub.engine, ERIKA) == {}
    assert file_hits(hub.store.root, ERIKA) == []
    entry = hub.rows(directory, directory.c.entity_id == eid)[0].entry
    assert [(s["partner_id"], s["source_id"]) for s in entry["sources"]] == [("jobcenter-b", "B-7")]
    assert entry["contact"]["name"] == "Petra Vermittlung"
    last = hub.rows(changes, changes.c.entity_id == eid)[-1]
    assert last.op == "updated" and "redacted" not in last.entry
    assert hub.rows(erasures)[0].outcome == "updated"
    # the jobcenter's own payload does not hold the record and stays
    assert file_hits(hub.store.root, ["Petra Vermittlung"])


def test_erasing_a_rejected_record_removes_its_rejections(db_url, tmp_path, monkeypatch, capsys):
    hub = hub_setup(db_url, tmp_path, monkeypatch)
    assert hub.rows(rejections, rejections.c.source_id == "A-BAD")
    assert "rejections" in table_hits(hub.engine, KARL)
    feedback = hub.settings.home / "feedback"
    deliver_feedback(hub.engine, hub.registry.get("employer-a"), "jobs", feedback, environ={})
    assert file_hits(feedback, KARL)  # the partner's report shows the malformed e-mail

    assert main(["erase", "employer-a", "A-BAD"]) == 0
    assert "it was not in the directory (1 rejection row removed)" in capsys.readouterr().out
    assert not hub.rows(rejections, rejections.c.source_id == "A-BAD")
    assert table_hits(hub.engine, KARL) == {}
    assert file_hits(hub.store.root, KARL) == []
    assert file_hits(feedback, KARL) == [] and file_hits(feedback, ["A-BAD"]) == []
    assert (feedback / "employer-a" / "jobs" / "report.json").is_file()  # rewritten, not lost
    assert hub.rows(erasures)[0].outcome == "unpublished"


def test_unknown_partner_or_record_is_one_line_and_exit_1(db_url, tmp_path, monkeypatch, capsys):
    hub = hub_setup(db_url, tmp_path, monkeypatch)
    assert main(["erase", "nobody", "A-1"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "hub erase: error: unknown partner 'nobody' (not in the registry, nothing stored)"

    assert main(["erase", "employer-a", "A-404"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("hub erase: error: partner 'employer-a' has no record 'A-404' (nothing "
                           "of it in the database, the raw payloads or the inbox files)")

    assert main(["erase", "employer-a", "A-1", "--domain", "courses"]) == 1
    assert "no record 'A-1' in courses" in capsys.readouterr().err
    assert not hub.rows(erasures)
    assert hub.rows(source_records, source_records.c.source_id == "A-1")


def test_a_mistyped_partner_is_told_the_id_it_was_probably_meant_to_be(db_url, tmp_path, monkeypatch,
                                                                      capsys):
    """hub erase said only 'unknown partner' where hub release, status and keys name the near
    id; a partner that left the registry is known by its published records."""
    hub = hub_setup(db_url, tmp_path, monkeypatch)
    assert main(["erase", "Employer-A", "A-1"]) == 1
    assert capsys.readouterr().err.strip() == (
        "hub erase: error: unknown partner 'Employer-A' (not in the registry, nothing stored; did "
        "you mean 'employer-a'?)")
    registry = tmp_path / "registry.yaml"  # employer-a leaves the registry, its records stay
    registry.write_text(registry_text(("jobcenter-b", "csv-jobs", (tmp_path / "feeds" / "jobcenter.csv").as_uri())))
    assert main(["erase", "employer", "A-1"]) == 1
    assert capsys.readouterr().err.strip().endswith("nothing stored; did you mean 'employer-a'?)")
    assert not hub.rows(erasures)


def test_the_change_feed_after_an_erasure_is_new_to_a_conditional_request_and_keeps_its_schema(
        db_url, tmp_path, monkeypatch, capsys):
    """A portal that polls the change feed with If-None-Match gets the redacted items (the
    same seqs, other content), and they validate against the API's own OpenAPI schema."""
    import jsonschema
    from fastapi.testclient import TestClient

    from hub.api.app import ApiSettings, create_app

    hub = hub_setup(db_url, tmp_path, monkeypatch)
    with TestClient(create_app(hub.engine, ApiSettings())) as client:
        before = client.get("/v1/changes?after=0")
        assert '"source_id":"A-2"' in before.text and "Kellner" in before.text
        assert main(["erase", "employer-a", "A-2"]) == 0
        after = client.get("/v1/changes?after=0", headers={"If-None-Match": before.headers["ETag"]})
        assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
        assert '"source_id":"A-2"' not in after.text and "Kellner" not in after.text
        assert any(item.get("entry", {}).get("redacted") for item in after.json()["items"])
        again = client.get("/v1/changes?after=0", headers={"If-None-Match": after.headers["ETag"]})
        assert again.status_code == 304
        spec = client.get("/openapi.json").json()
    schema = {"$ref": "#/components/schemas/ChangePage", "components": spec["components"]}
    jsonschema.validate(after.json(), schema)


def test_an_erasure_shows_in_dagster_as_a_publication_of_the_directory(db_url, tmp_path, monkeypatch,
                                                                      capsys):
    import dagster as dg

    hub = hub_setup(db_url, tmp_path, monkeypatch)
    assert main(["erase", "employer-a", "A-2", "--reason", "T-1"]) == 0
    assert "warning" not in capsys.readouterr().err
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["directory", "jobs"]))
    materialization = event.asset_materialization
    with hub.engine.connect() as conn:
        entries = conn.execute(sa.select(sa.func.count()).select_from(directory)).scalar_one()
    assert materialization.metadata["entries"].value == entries
    assert "employer-a/A-2 erased on request" in materialization.description


def inbox_setup(db_url, tmp_path, monkeypatch, *deliveries: str):
    """An inbox partner (employer-a, csv-jobs) whose ``deliveries`` were dropped and synced
    one after another (a delivery that fails as a whole goes into failed/); returns the inbox
    folder and the landing store."""
    import os
    import time

    from hub.pipeline import StageError

    inbox = tmp_path / "inbox" / "krone"
    inbox.mkdir(parents=True)
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("employer-a", "csv-jobs", f"inbox:{inbox}")))
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_DATABASE_URL", db_url)
    monkeypatch.setenv("HUB_REGISTRY", str(registry))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    settings = Settings.from_env()
    engine, store = engine_for(db_url), LandingStore(settings.landing_dir)
    partner = load_registry(registry).get("employer-a")
    for number, body in enumerate(deliveries):
        delivery = inbox / f"stellen-{number}.csv"
        delivery.write_text(body, encoding="utf-8")
        stamp = time.time() - 60  # settled
        os.utime(delivery, (stamp, stamp))
        fetch_partner_feed(engine, store, FeedClient().fetcher(), partner, "jobs")
        try:
            stage_partner_feed(engine, store, partner, "jobs")
        except StageError:
            pass
    publish_domain(engine, "jobs")
    return inbox, store


def test_erasing_an_inbox_partner_s_record_removes_it_from_the_files_moved_aside(db_url, tmp_path,
                                                                                 monkeypatch, capsys):
    """The hub moves each processed inbox file into processed/: a copy it keeps, as the landing
    store's payloads; an erasure removes the ones holding the record, and says so."""
    inbox, store = inbox_setup(db_url, tmp_path, monkeypatch, EMPLOYER)
    assert file_hits(inbox / "processed", HANS)

    assert main(["erase", "employer-a", "A-2"]) == 0
    assert "1 processed inbox file removed" in capsys.readouterr().out
    assert file_hits(inbox, HANS) == []
    assert file_hits(store.root, HANS) == []


UNUSABLE = ("Stellen-ID;Arbeitgeber;Ansprechperson;E-Mail\n"  # no Titel, PLZ, Ort: fails as a whole
            "Z-9;Gasthaus Krone;Zora Geheim;zora.geheim@example.org\n")
ZORA = ["Zora Geheim", "zora.geheim@example.org"]


def test_erasing_a_record_only_in_a_failed_delivery_removes_its_file_and_payload(
        db_url, tmp_path, monkeypatch, capsys):
    """A record the hub never staged (its delivery was unusable) is still personal data the hub
    holds: in the landing store and in the inbox's failed/ folder."""
    inbox, store = inbox_setup(db_url, tmp_path, monkeypatch, UNUSABLE)
    assert [p.parent.name for p in file_hits(inbox, ZORA)] == ["failed"]
    assert file_hits(store.root, ZORA)

    assert main(["erase", "employer-a", "Z-9", "--reason", "T-9"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "employer-a/jobs/Z-9: erased; it was not in the directory (never staged: only in delivered "
        "files); 1 raw payload file removed, 1 failed inbox file removed, 0 earlier "
        "change-feed items redacted; audit entry 1")
    assert file_hits(inbox, ZORA) == [] and file_hits(store.root, ZORA) == []
    engine = engine_for(db_url)
    assert table_hits(engine, ZORA) == {}
    with engine.connect() as conn:
        audit = conn.execute(sa.select(erasures)).all()
    assert [(a.source_id, a.outcome, a.reason) for a in audit] == [("Z-9", "unpublished", "T-9")]

    # found nowhere now: one line, exit 1
    assert main(["erase", "employer-a", "Z-9"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("hub erase: error: partner 'employer-a' has no record 'Z-9' (nothing "
                           "of it in the database, the raw payloads or the inbox files)")


def test_a_record_in_a_file_waiting_in_the_inbox_is_refused_naming_the_file(db_url, tmp_path,
                                                                           monkeypatch, capsys):
    """A file the partner dropped that the hub has not processed yet holds the record: erased
    now, the record would be published again with that file. Nothing is erased, the file is
    named; once the record is out of it, the erasure goes through (the file's other records
    are the partner's delivery and stay)."""
    import os
    import time

    inbox, store = inbox_setup(db_url, tmp_path, monkeypatch, EMPLOYER)
    erika, hans = EMPLOYER.splitlines(keepends=True)[1:3]
    waiting = inbox / "stellen-neu.csv"
    waiting.write_text(HEADER + erika + hans, encoding="utf-8")
    os.utime(waiting, (time.time() - 60,) * 2)

    assert main(["erase", "employer-a", "A-2"]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"hub erase: error: partner 'employer-a': the record 'A-2' is in {waiting}, waiting in the "
        "inbox (not yet processed), which would publish it again; nothing was erased: take the "
        "record out of that file (or the file out of the inbox), then erase again\n")
    assert table_hits(engine_for(db_url), HANS) and file_hits(store.root, HANS)  # nothing erased
    assert file_hits(inbox / "processed", HANS)

    waiting.write_text(HEADER + erika, encoding="utf-8")  # the steward takes the row out
    assert main(["erase", "employer-a", "A-2"]) == 0
    assert "1 processed inbox file removed" in capsys.readouterr().out
    assert file_hits(inbox, HANS) == [] and table_hits(engine_for(db_url), HANS) == {}
    assert waiting.read_text(encoding="utf-8") == HEADER + erika


def test_an_unusable_file_with_a_longer_id_is_not_taken_for_the_record(db_url, tmp_path, monkeypatch,
                                                                        capsys):
    """An unusable file is searched as text: for the whole id, so erasing Z-9 leaves the file
    of Z-90 (another person) alone and says that Z-9 is found nowhere."""
    inbox, store = inbox_setup(db_url, tmp_path, monkeypatch, UNUSABLE.replace("Z-9;", "Z-90;"))
    assert main(["erase", "employer-a", "Z-9"]) == 1
    assert "has no record 'Z-9'" in capsys.readouterr().err
    assert [p.parent.name for p in file_hits(inbox, ZORA)] == ["failed"]
    assert file_hits(store.root, ZORA)


def test_an_id_no_record_can_have_is_refused_and_leaves_an_unusable_file_alone(db_url, tmp_path,
                                                                               monkeypatch, capsys):
    """An unusable file is searched as text: an 'id' of punctuation or blanks (a stray '-'
    typed for the id) stands between any two words of it, and erased its file and payload.
    Such an id, and one with blanks at its ends (no record's id has them), is refused as bad
    input (exit 2) before anything is searched."""
    inbox, store = inbox_setup(db_url, tmp_path, monkeypatch,
                               UNUSABLE.replace("Gasthaus Krone;", "Gasthaus Krone - Neunkirchen;;"))
    for given, said in (("-", "'-' is no record's id (an id has a letter or digit)"),
                        (";;", "';;' is no record's id (an id has a letter or digit)"),
                        (" ", "an empty id is no record's id"),
                        ("Z-9 ", "'Z-9 ' has white space at its ends, which no record's id has "
                                 "(the formats drop it): erase 'Z-9'")):
        assert main(["erase", "employer-a", given]) == 2
        assert capsys.readouterr().err.startswith(f"hub erase: error: {said}")
    assert [p.parent.name for p in file_hits(inbox, ZORA)] == ["failed"]
    assert file_hits(store.root, ZORA)
    with engine_for(db_url).connect() as conn:
        assert conn.execute(sa.select(erasures)).all() == []


def test_a_record_sent_in_three_deliveries_is_erased_from_all_of_their_files(db_url, tmp_path,
                                                                              monkeypatch, capsys):
    """Every inbox file and raw payload that holds the record goes, the one that holds only
    it too; each is deleted whole (as a raw payload is), the other records stay published."""
    erika, hans = EMPLOYER.splitlines(keepends=True)[1:3]
    assert hans.startswith("A-2;")
    inbox, store = inbox_setup(db_url, tmp_path, monkeypatch, EMPLOYER, HEADER + hans,
                               HEADER + erika + hans.replace("Kellner", "Oberkellner"))
    assert len(file_hits(inbox / "processed", HANS)) == 3 and len(file_hits(store.root, HANS)) == 3

    assert main(["erase", "employer-a", "A-2"]) == 0
    out = capsys.readouterr().out
    assert "3 raw payload files removed, 3 processed inbox files removed" in out
    assert file_hits(inbox, HANS) == [] and file_hits(store.root, HANS) == []
    assert table_hits(engine_for(db_url), HANS) == {}
    assert not [p for p in inbox.rglob("*") if p.is_file()]
    with engine_for(db_url).connect() as conn:
        published = conn.execute(sa.select(directory.c.entry)).scalars().all()
    assert [s["source_id"] for e in published for s in e["sources"]] == ["A-1"]


def test_an_erasure_whose_dagster_instance_lacks_its_database_url_warns_in_words(
        db_url, tmp_path, monkeypatch, capsys):
    """A steward erasing from a shell with the production dagster.yaml but without
    DAGSTER_PG_URL read a dump of Dagster's configuration fields ('Field(<dagster._config...')
    after the erasure; the warning now says what hub sync says: the variable is not set. The
    erasure stands."""
    hub = hub_setup(db_url, tmp_path, monkeypatch)
    home = tmp_path / "dagster"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text((Path(__file__).parents[1] / "deploy" / "dagster.yaml")
                                       .read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.delenv("DAGSTER_PG_URL", raising=False)
    assert main(["erase", "employer-a", "A-2", "--reason", "T-1"]) == 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("hub erase: warning: the Dagster instance was not told"), err
    assert "the environment variable DAGSTER_PG_URL it names is not set" in err
    assert "Field(" not in err and len(err.splitlines()) == 1
    assert hub.entity("employer-a", "A-2") is None


def test_dagster_s_storage_and_the_command_output_hold_no_contact_of_a_sync_or_an_erasure(
        db_url, tmp_path):
    """``hub sync`` and ``hub erase`` on a Dagster instance that captures the steps' output, as
    production's does: Karl's malformed e-mail (rejected) and Nina's invalid phone (a contact
    not published: a warning) are named by record and rule in the check's sample, never with
    their values, in no event log, run, compute log or line the commands print."""
    import os
    import subprocess

    from tests.test_cli import HUB

    nina = ["Nina Verborgen", "nina.verborgen"]
    feed = tmp_path / "krone.csv"
    feed.write_text(EMPLOYER + "A-3;Hilfskoch (m/w/d);Gasthaus Krone;66538;Neunkirchen;"
                    "Nina Verborgen;nina.verborgen@@example.org;;nein\n", encoding="utf-8")
    registry = tmp_path / "registry.yaml"
    registry.write_text(registry_text(("employer-a", "csv-jobs", feed.as_uri())))
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # output captured
    env = {**os.environ, "HUB_HOME": str(tmp_path / "home"), "HUB_DATABASE_URL": db_url,
           "HUB_REGISTRY": str(registry), "DAGSTER_HOME": str(dagster_home)}
    sync = subprocess.run([HUB, "sync"], capture_output=True, text=True, env=env, timeout=300)
    assert sync.returncode == 0, sync.stderr
    engine = engine_for(db_url)
    with engine.connect() as conn:
        shown = {r.source_id: r.rule for r in conn.execute(sa.select(rejections))}
    assert shown == {"A-BAD": "CONTACT_EMAIL_INVALID", "A-3": "CONTACT_NOT_PUBLIC_INVALID"}
    erase = subprocess.run([HUB, "erase", "employer-a", "A-1"], capture_output=True, text=True,
                           env=env, timeout=300)
    assert erase.returncode == 0, erase.stderr

    assert list(dagster_home.rglob("compute_logs"))  # the steps' output was captured
    stored = file_hits(dagster_home, ["(personal data: see the partner's feedback report)"])
    assert stored  # the check's sample, where the values would be
    assert file_hits(dagster_home, ["A-BAD", "A-3"])
    assert file_hits(dagster_home, KARL + nina + ERIKA) == []
    for out in (sync.stdout, sync.stderr, erase.stdout, erase.stderr):
        assert not any(needle in out for needle in KARL + nina + ERIKA)
