"""The ``hub`` command: the way in for people and scripts.

Errors are one line on stderr and a non-zero exit: 2 for bad input or configuration, 1 where a
command's own contract says so (records rejected), 75 when a SQLite database stayed locked by
another process for longer than its busy timeout (run it again), 70 for an internal error (set
HUB_DEBUG=1 to see its traceback).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path

from hub import __version__


PROJECT_SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"  # what `hub schemas` checks


class UsageError(Exception):
    """Bad arguments or input; the message is one line."""


def _day(text: str):
    """An argument that is a day (YYYY-MM-DD)."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None
    if not 2000 <= day.year <= 2999:  # the checks hold dates before 2000 implausible, and
        # look DATE_MAX_YEARS ahead (a year past 9999 is none Python can count)
        raise argparse.ArgumentTypeError(f"{text!r} is not a day the checks can take as today: "
                                         "give one from 2000-01-01 to 2999-12-31")
    return day


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return int(text)


def _host(text: str) -> str:
    """``hub serve --host``: an empty word (``--host "$HOST"`` with HOST unset) would listen
    on every address of the machine, where the default is this machine alone."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "empty (an unset variable?); name the address to listen on: 127.0.0.1 for this "
            "machine alone, 0.0.0.0 for every address")
    return text.strip()


WORKERS_PER_CORE = 4  # hub serve: more processes add memory and database connections, not speed


def _proxy_addresses(text: str) -> str:
    """``--forwarded-allow-ips``: '*', or addresses and networks, comma-separated. uvicorn
    takes any other word for the name of a Unix socket, which a TCP server never sees: a
    mistyped proxy address left every request untrusted (links in http:// behind TLS)."""
    import ipaddress

    parts = [part.strip() for part in text.split(",") if part.strip()]
    if "*" in parts and len(parts) > 1:
        raise argparse.ArgumentTypeError("'*' (every address) stands alone, not in a list")
    for part in parts:
        try:  # as uvicorn reads them: a network with its host bits set (10.0.0.5/8) is none
            if part != "*":
                ipaddress.ip_network(part) if "/" in part else ipaddress.ip_address(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not an address or network (e.g. 10.0.0.5, 10.0.0.0/8), nor '*'"
            ) from None
    return text


def _ags_prefix(text: str) -> str:
    from hub.quality.regions import unknown_region

    if not re.fullmatch(r"[0-9]{2,8}", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an AGS prefix (2 digits a Land, 5 a district, 8 a municipality)")
    problem = unknown_region(text)  # every record would be outside it
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def _settings(args):
    from hub.config import Settings

    if getattr(args, "registry", None):
        os.environ["HUB_REGISTRY"] = str(Path(args.registry).resolve())
    settings = Settings.from_env()
    home = settings.home
    if home.exists() and not home.is_dir():
        raise UsageError(f"HUB_HOME {home} is a file, not a folder; set HUB_HOME to a folder")
    if not home.exists() and settings.database_url == f"sqlite:///{home / 'hub.db'}":
        try:  # the embedded database lives there: a folder that cannot be made is said now
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"HUB_HOME {home}: the folder cannot be created "
                             f"({exc.strerror or exc})") from None
    return settings


def _engine(settings):
    from hub.resources import engine_for

    return engine_for(settings.database_url)


# -- commands -----------------------------------------------------------------------------


def cmd_formats(args) -> int:
    from hub.formats import FORMATS

    width = max(len(name) for name in FORMATS)
    for name in sorted(FORMATS):
        fmt = FORMATS[name]
        print(f"{name.ljust(width)}  {fmt.domain:<8} {fmt.description}")
    return 0


def cmd_parse(args) -> int:
    from hub.formats import FormatError, get_format
    from hub.formats.base import as_file_error

    fmt = get_format(args.format)
    data = _read_input(args.path)
    try:
        result = fmt.parse(data, args.partner)
    except FormatError as exc:  # a file: no server 'served' a web page
        raise as_file_error(exc) from None
    out = sys.stdout
    for record in result.records:
        out.write(record.model_dump_json(exclude_none=False) + "\n")
    for rejection in result.rejections:
        sys.stderr.write(rejection.model_dump_json(exclude_none=True) + "\n")
    for source_id in result.deletions:
        sys.stderr.write(json.dumps({"partner_id": args.partner, "source_id": source_id,
                                     "action": "delete"}) + "\n")
    return 0


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    file = Path(path)
    if not file.exists():
        raise UsageError(f"{path}: no such file")
    if file.is_dir():
        raise UsageError(f"{path}: is a folder, not a file")
    try:
        return file.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None


def cmd_resolve(args) -> int:
    from pydantic import ValidationError

    from hub.models import RECORD_TYPES, Domain
    from hub.resolve import resolve_records

    try:
        model = RECORD_TYPES[Domain(args.domain)]
    except ValueError:
        raise UsageError(f"unknown domain {args.domain!r}; use jobs, courses or housing") from None
    records: list[dict] = []
    for path in args.paths:
        text = _read_input(path).decode("utf-8-sig", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = model.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                where = ".".join(str(p) for p in first["loc"]) or "record"
                raise UsageError(
                    f"{path}:{number}: not a canonical {args.domain} record ({where}: {first['msg']})"
                ) from None
            records.append(record.model_dump(mode="json"))
    for (partner_id, source_id), entity_id in resolve_records(args.domain, records).items():
        print(json.dumps({"partner_id": partner_id, "source_id": source_id, "entity_id": entity_id},
                         ensure_ascii=False))
    return 0


def cmd_check(args) -> int:
    """A partner's file through every check, offline; the feedback report goes to --out.
    Exit 0: clean; 1: records were rejected or a sync would be held; 2: the input is unusable."""
    import datetime as dt
    from collections import Counter
    from types import SimpleNamespace

    from hub.formats import FormatError, get_format, reads_as
    from hub.formats.base import as_file_error
    from hub.quality.checks import check_records
    from hub.models import SyncMode
    from hub.pipeline import parse_payload, rejection_hold, withdrawal_hold
    from hub.quality.feed import field_coverage
    from hub.quality.report import build_report
    from hub.registry import Feed, load_registry

    configured = (None, None)  # the configured registry, read where the check needs it
    if args.fetch:
        if args.path:
            raise UsageError("give a FILE or --fetch (the partner's feed), not both")
        if not args.partner:
            raise UsageError("--fetch needs --partner: the partner whose feed to fetch")
        if not args.registry:
            from hub.config import Settings

            args.registry = str(Settings.from_env().registry_path)
    elif not args.path:
        raise UsageError("give the FILE to check, or --fetch with --partner to fetch the partner's feed")
    elif not args.format:
        raise UsageError("give the file's --format (see hub formats)")
    elif args.partner and not args.registry and not args.region:
        configured = _configured_registry()
        if configured[1] is not None and any(p.id == args.partner for p in configured[1].partners):
            args.registry = str(configured[0])  # the partner as its sync sees it
    partner = SimpleNamespace(id=args.partner or "local", name=args.partner or Path(args.path).name,
                              region=args.region, feedback_language=args.lang or "de")
    if args.registry and not args.partner:
        raise UsageError("--registry needs --partner: the partner whose name, region and language to use")
    if args.partner and args.registry:
        if args.region:
            raise UsageError("--region and --registry both give the region; use one of them")
        partner = load_registry(args.registry).get(args.partner)
    lang = args.lang or getattr(partner, "feedback_language", "de")
    now = dt.datetime.now(dt.timezone.utc)
    sync = {"id": None, "started_at": now, "status": "ok", "message": None}
    if args.fetch:
        fmt, label, fetched = _fetch_for_check(partner, args.format, args.registry, args.out)
    else:
        fmt, label, fetched = get_format(args.format), args.path, None
        data = _read_input(args.path)
    try:
        if fetched is not None:
            store, sha = fetched
            parsed = parse_payload(fmt.name, store, sha, partner.id)
        else:
            parsed = fmt.parse(data, partner.id)
    except FormatError as exc:
        if fetched is None or label.startswith("file://"):  # a file: no server 'served' it
            exc = as_file_error(exc)
        if fetched is not None:  # what the feed's first page reads as (read only now)
            data = store.get(store.part_hashes(sha, "pages")[0])
        other = reads_as(data, fmt.name)
        why = f"{exc}; the file reads as {other}" if other else str(exc)
        report = build_report(partner, fmt.domain, {**sync, "status": "failed", "message": why}, [], lang,
                              trial=True, fmt=fmt.name)
        paths = _write_check_report(report, args.out)
        if other and fetched is not None:  # the registry says the format, not the command line
            why += f" (the registry's format: for the feed says {fmt.name})"
        elif other:
            why += f" (use --format {other})"
        print(f"hub check: {label}: unusable: {why}", file=sys.stderr)
        for kind in ("html", "csv", "json"):
            print(f"report: {paths[kind]}")
        return 2
    today = args.today
    accepted, problems = check_records(parsed.records, region=getattr(partner, "region", None), today=today,
                                       rejected=parsed.shadows)
    parsed.locate(problems)
    found = parsed.rejections + problems
    sync.update(items=parsed.items, accepted=len(accepted), rejected=parsed.items - len(accepted),
                headers=parsed.headers)
    # what a sync of this file would do: held when too large a share is rejected
    feed = partner.feed_for(fmt.domain) if hasattr(partner, "feed_for") else None
    share = feed.max_rejection_share if feed is not None else Feed.model_fields["max_rejection_share"].default
    hold = rejection_hold(parsed.items, len(accepted), share,
                          Counter(problem.rule for problem in found if problem.severity == "error"))
    # a partner that is live already: what a sync would take out of the directory
    published = _published_ids(partner.id, fmt.domain) if feed is not None else None
    snapshot = (parsed.mode or feed.mode if feed is not None else None) == SyncMode.SNAPSHOT
    gone = (published - {record.source_id for record in accepted}) if published and snapshot else set()
    if hold is None and gone:
        hold = withdrawal_hold(len(gone), len(published), feed.max_withdrawal_share)
    if hold is not None:
        hold.partner_id = partner.id
        sync.update(status="held", message=hold.message)
    report = build_report(partner, fmt.domain, sync, [r.model_dump() for r in found], lang, trial=True,
                          fmt=fmt.name, coverage=field_coverage(accepted))
    paths = _write_check_report(report, args.out)
    print(f"{label}: {_count(parsed.items, 'record')}, {len(accepted)} accepted, "
          f"{parsed.items - len(accepted)} rejected, {report.counts.warnings} with warnings"
          + (f"; notes on the file: {_file_notes(report)}" if report.notes else "")
          + (f"; {_count(len(set(parsed.deletions)), 'record')} deleted by the delivery"
             if parsed.deletions else "")
          + (f"; a sync would withdraw {len(gone)} of the {_count(len(published), 'published record')}"
             if gone else "")
          + (f"; a sync would be held ({hold.count} of {hold.total} "
             f"{'rejected' if hold.check == 'rejection_share' else 'withdrawn'})" if hold else ""))
    note = _region_note(args, partner, configured)
    if note:
        print(f"hub check: note: {note}")
    for kind in ("html", "csv", "json"):
        print(f"report: {paths[kind]}")
    if not parsed.items:  # a sync refuses an empty snapshot: the partner's offers stay
        print(f"hub check: {label}: no offers in the {'feed' if fetched else 'file'}; delivered, it would change "
              "nothing in the directory", file=sys.stderr)
        return 2
    return 1 if parsed.items - len(accepted) or hold else 0


def _configured_registry():
    """(path, Registry) of the configured registry (HUB_REGISTRY); the Registry None where
    the file is not there or cannot be read. A steward's check of a partner's file takes the
    partner's name, region and language from it when it lists the partner, as its sync does
    (else the check goes on with the id alone; ``_region_note`` says what that leaves out)."""
    from hub.config import Settings
    from hub.registry import RegistryError, load_registry

    path = Settings.from_env().registry_path
    try:
        return path, (load_registry(path) if path.is_file() else None)
    except RegistryError:
        return path, None


def _region_note(args, partner, configured) -> str | None:
    """For a check of a --partner's file without a region to check against: that the region
    rule was not applied, and why (no registry; the partner is not in it, near which id; it
    has no region there). None where the rule was applied, and for a check without --partner
    (a partner's own file on its own machine). ``configured``: ``_configured_registry()``,
    read where neither --registry nor --region was given."""
    if not args.partner or getattr(partner, "region", None):
        return None
    skipped = "so the region rule (ADDRESS_OUTSIDE_REGION) was not applied"
    if args.registry:
        return f"{partner.id} has no region: in the registry {args.registry}, {skipped}"
    path, registry = configured  # it does not list the partner (else it was args.registry)
    if registry is None:
        return f"no region given (--region AGS, or --registry FILE for the partner's), {skipped}"
    near = registry.near(args.partner)
    return (f"{args.partner} is not in the registry {path}, {skipped}"
            + (f" (did you mean --partner {near}?)" if near else ""))


def _published_ids(partner_id: str, domain: str) -> set[str] | None:
    """The source ids of the partner's published records in the hub's database (HUB_HOME or
    HUB_DATABASE_URL), read only; None where there is no such database yet."""
    import sqlalchemy as sa

    from hub.config import Settings
    from hub.store.db import DatabaseError, make_engine
    from hub.store.staging import active_source_ids

    url = Settings.from_env().database_url
    try:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
            return None  # a check creates no database
        engine = make_engine(url)
    except (sa.exc.ArgumentError, DatabaseError):
        return None  # hub sync says what is wrong with the URL; a check goes without
    try:
        with engine.connect() as conn:
            return set(active_source_ids(conn, partner_id, domain))
    except sa.exc.SQLAlchemyError:  # not migrated yet, or not reachable: nothing to compare
        return None
    finally:
        engine.dispose()


def _fetch_for_check(partner, format_name: str | None, registry: str, out: str):
    """``hub check --fetch``: the partner's feed (the one of ``format_name`` where it has
    several) fetched into a landing store of its own in a temporary folder, as a sync would
    fetch it; nothing reaches the hub's database. (format, the feed's URL, (store, hash)).
    An inbox feed is no address to fetch: the message names the file waiting there, if one
    is, and the command that checks it (``registry``, ``out``: this command's)."""
    import atexit
    import shutil
    import tempfile

    from hub.fetch import FeedFetcher, FetchError, FetchPolicy
    from hub.formats import get_format
    from hub.inbox import inbox_folder, next_delivery
    from hub.pipeline import fetch_for_check
    from hub.store.landing import LandingStore

    feeds = [f for f in partner.feeds if format_name is None or format_name.lower() == f.format]
    listed = ", ".join(f.format for f in partner.feeds)
    if not feeds:
        raise UsageError(f"{partner.id} has no {format_name} feed in the registry; its feeds: {listed}")
    if len(feeds) > 1:
        raise UsageError(f"{partner.id} has feeds in {listed}: name one with --format")
    feed = feeds[0]
    inbox = inbox_folder(feed)
    if inbox is not None:
        path, waiting = next_delivery(inbox)
        command = shlex.join(["hub", "check", "--format", feed.format, str(path or "FILE"),
                              "--partner", partner.id, "--registry", registry, "--out", out])
        raise UsageError(f"{partner.id}/{feed.domain} delivers files into {inbox}, not from an "
                         f"address to fetch: {waiting}; check {'it' if path else 'a file'} "
                         f"with: {command}")
    folder = tempfile.mkdtemp(prefix="hub-check-")
    atexit.register(shutil.rmtree, folder, True)
    store = LandingStore(Path(folder))
    print(f"fetching {feed.source} ...", file=sys.stderr)
    try:
        sha = fetch_for_check(store, FeedFetcher(FetchPolicy()), partner, feed.domain)
    except FetchError as exc:
        raise UsageError(f"{partner.id}/{feed.domain}: the feed cannot be fetched: {exc}") from None
    return get_format(feed.format), feed.source, (store, sha)


def _file_notes(report) -> str:
    """The report's notes on the file as a whole, for the summary line: a column left unread
    means values the partner meant to deliver."""
    unread = [note.value for note in report.notes if note.rule == "CSV_COLUMN_UNKNOWN"]
    said = [f"{_count(len(unread), 'column')} not read ({', '.join(unread)})"] if unread else []
    said += [f"column {note.value} not read (column {note.field} is read instead)"
             for note in report.notes if note.rule == "CSV_COLUMN_REPEATED"]
    said += [f"the header is in line {note.value}, what stands above it is not read"
             for note in report.notes if note.rule == "CSV_HEADER_NOT_FIRST"]
    return "; ".join(said)


def _write_check_report(report, out: str) -> dict:
    from hub.quality.feedback import write_report

    if not out.strip():
        raise UsageError("--out is empty; name a folder for the report")
    try:
        return write_report(report, out)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {exc.filename or out}: "
                         f"{exc.strerror or exc}") from None


def cmd_rules(args) -> int:
    from hub.quality.rules import RULES

    if args.json:
        print(json.dumps([{"code": r.code, "severity": r.severity, "message_de": r.message_de,
                           "message_en": r.message_en, "hint_de": r.hint_de,
                           "hint_en": getattr(r, "hint_en", None)} for r in RULES.values()],
                         ensure_ascii=False, indent=2))
        return 0
    width = max(len(code) for code in RULES)
    for rule in RULES.values():
        message = rule.message_en if args.lang == "en" else rule.message_de
        print(f"{rule.code.ljust(width)}  {rule.severity:<7}  {message}")
    return 0


def cmd_schemas(args) -> int:
    from hub.models import schema_files

    folder = Path(args.out) if args.out else PROJECT_SCHEMAS
    if not args.write and not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of schemas; name one with --out")
    if args.write:
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"{folder} is a file, not a folder; name a folder with --out")
        try:
            written = schema_files.write(folder)
        except OSError as exc:  # --out names a file, or a folder that cannot be made
            raise UsageError(f"cannot write the schemas to {exc.filename or folder}: "
                             f"{exc.strerror or exc}") from None
        for name in written:
            print(f"wrote {folder / name}")
        return 0
    stale = schema_files.drifted(folder)
    if stale:
        print(f"out of date in {folder}: {', '.join(stale)} (run: hub schemas --write)", file=sys.stderr)
        return 1
    print(f"{folder}: schemas match the models")
    return 0


def cmd_db(args) -> int:
    from hub.config import redact_url
    from hub.store.db import head_revision, make_engine, migrate

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    try:
        before = migrate(engine)
    finally:
        engine.dispose()
    head = head_revision()
    done = ("created" if before is None else "up to date" if before == head else
            f"upgraded from {before}")
    print(f"{redact_url(settings.database_url)}: schema at revision {head} ({done})")
    return 0


def cmd_backup(args) -> int:
    """A consistent copy of the embedded SQLite database into a new file, while the hub runs."""
    from sqlalchemy.engine import make_url

    from hub.config import redact_url
    from hub.store.db import backup_sqlite

    if not args.out.strip():
        raise UsageError("--out is empty; name the file to write")
    settings = _settings(args)
    url = make_url(settings.database_url)  # a valid URL: the settings checked it
    database = url.database
    if url.get_backend_name() != "sqlite":
        raise UsageError(
            f"{redact_url(settings.database_url)} is PostgreSQL: back it up with "
            "pg_dump -Fc (deploy/README.md, Backup and restore); hub backup copies the embedded "
            "SQLite database")
    size = backup_sqlite(Path(database), Path(args.out))
    print(f"{args.out}: {size / 2**20:.1f} MiB, a copy of {database} as of now; copy "
          f"{settings.home}/landing and feedback after it (deploy/README.md, Backup and restore)")
    return 0


def cmd_sync(args) -> int:
    from hub.config import Settings
    from hub.inbox import partner_feeds_with_inbox, settle_seconds
    from hub.registry import load_registry
    from hub.runner import ensure_dagster_home, run_sync

    configured = Settings.from_env().registry_path.resolve()  # what the sensors follow
    settings = _settings(args)
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    with _one_sync_at_a_time(settings, "hub sync"):
        registry = load_registry(settings.registry_path)
        if partner_feeds_with_inbox(registry):
            settle_seconds()  # a bad HUB_INBOX_SETTLE_SECONDS is said now, not by each feed's run
        if not registry.partners:
            # HUB_REGISTRY naming the wrong file (or an emptied one) is said, not a run of
            # nothing; no note on partners "that left it": following them would withdraw all
            raise UsageError(f"the registry {settings.registry_path} lists no partners; nothing to "
                             "sync (is it the right file? HUB_REGISTRY or --registry names it)")
        if settings.registry_path.resolve() != configured:
            _refuse_overrides(registry, settings.registry_path, configured, args.partner)
        engine = _engine(settings)
        ensure_dagster_home(settings)
        summary = run_sync(engine, registry, args.partner or None, workers=args.workers,
                           configured=settings.registry_path.resolve() == configured)
    _print_summary(summary, args.json)
    if settings.registry_path.resolve() == configured:  # a trial registry leaves others out
        _orphans_note(engine, registry)
    return _sync_exit(summary)


def _sync_exit(summary) -> int:
    """0 when every feed went through and the directory is published; 1 otherwise: a held
    feed waits for a steward as a failed one does, and a scheduler's run should say so."""
    return 0 if summary.publish_ok and not any(f.status in ("failed", "held") for f in summary.feeds) else 1


def _refuse_overrides(trial, trial_path, configured_path, only) -> None:
    """A trial registry (``--registry``) that holds a partner of the configured registry with
    another entry (another source, format, region...) would publish that entry over the live
    one, and the next scheduled sync would switch back: refused, naming the tool for a trial."""
    from hub.registry import RegistryError, load_registry

    try:
        live = {partner.id: partner for partner in load_registry(configured_path).partners}
    except RegistryError:
        return  # no configured registry to collide with (or sync says what is wrong with it)
    for partner in trial.partners:
        if only and partner.id not in only:
            continue
        if partner.id in live and live[partner.id] != partner:
            raise UsageError(
                f"{partner.id} is in the configured registry {configured_path} with another "
                f"entry; a sync with {trial_path} would publish over it until the next sync "
                f"switches back. Try the entry with hub check --fetch --partner {partner.id} "
                f"--registry {trial_path} --out DIR, or change the configured registry")


def _orphans_note(engine, registry) -> None:
    """A note for each partner feed that left the registry while its records stay published
    (removing a partner alone withdraws nothing: a typo must not empty the directory)."""
    import sqlalchemy as sa

    from hub.store.tables import source_records as sr

    listed = {(partner.id, feed.domain) for partner in registry.partners for feed in partner.feeds}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sr.c.partner_id, sr.c.domain, sa.func.count())
                            .where(sr.c.status == "active")
                            .group_by(sr.c.partner_id, sr.c.domain)
                            .order_by(sr.c.partner_id, sr.c.domain)).all()
    for partner_id, domain, count in rows:
        if (partner_id, domain) not in listed:
            print(f"hub sync: note: {partner_id}/{domain} is not in the registry and still has "
                  f"{count} published record{'' if count == 1 else 's'}; hub withdraw "
                  f"{partner_id} takes {'it' if count == 1 else 'them'} out",
                  file=sys.stderr)


@contextmanager
def _one_sync_at_a_time(settings, what: str):
    """Hold the hub home's sync lock while ``what`` runs: two syncs at once would fetch and
    stage the same feeds twice and each report the other's outcome as its own."""
    import fcntl

    path = settings.home / "sync.lock"
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"HUB_HOME {settings.home}: {exc.strerror or exc}") from None
    with handle as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise UsageError(f"another sync is running on {settings.home} ({holder}); "
                             "run this one when it has ended") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{what}, pid {os.getpid()}")
        lock.flush()
        try:
            yield
        finally:
            lock.seek(0)
            lock.truncate()


def cmd_status(args) -> int:
    """Where each partner feed stands; exit 1 when one needs a steward."""
    from hub.config import Settings
    from hub.registry import load_registry
    from hub.status import feed_statuses

    configured = Settings.from_env().registry_path  # the one the sensors and schedules read
    settings = _settings(args)
    registry = load_registry(settings.registry_path)
    if not registry.partners:  # the wrong file: every published feed would read as 'left'
        raise UsageError(f"the registry {settings.registry_path} lists no partners (is it the right "
                         "file? HUB_REGISTRY or --registry names it)")
    live = None
    if settings.registry_path.resolve() != configured.resolve() and configured.exists():
        # a trial file: the live partners it does not list have not left the hub
        live = load_registry(configured)
    rows = feed_statuses(_engine(settings), registry, args.partner or None, live)
    shown = {row.partner_id for row in rows}
    for partner_id in args.partner or ():
        if partner_id not in shown:  # neither listed nor with published records: the near id
            registry.get(partner_id)
    attention = [row for row in rows if row.needs_a_steward]
    daemon = _daemon_note()
    if args.json:
        print(json.dumps({"feeds": [row.as_json() for row in rows],
                          "needs_a_steward": len(attention), "daemon": daemon},
                         ensure_ascii=False, indent=2))
        return 1 if attention or daemon else 0
    width = max(len("FEED"), *(len(f"{row.partner_id}/{row.domain}") for row in rows))
    fmt_width = max(len("FORMAT"), *(len(row.format or "-") for row in rows))
    print(f"{'FEED'.ljust(width)}  {'FORMAT'.ljust(fmt_width)}  {'STATE':<13}  {'PUBLISHED':>9}  LAST SYNC")
    for row in rows:
        print(f"{f'{row.partner_id}/{row.domain}'.ljust(width)}  {(row.format or '-').ljust(fmt_width)}  "
              f"{row.state:<13}  {row.published:>9}  {_sync_line(row)}")
        for line in _status_notes(row, registry):
            print(f"  {line}")
    print(_status_summary(rows, attention))
    if daemon:
        print(daemon)
    return 1 if attention or daemon else 0


def _daemon_note() -> str | None:
    """hub status's line on the Dagster daemon of a deployment (DAGSTER_HOME set, its
    dagster.yaml there): None while it ticks; nothing is written to the instance."""
    import time

    from hub.runner import DagsterHomeError, dagster_instance
    from hub.status import TICKING_DAEMONS, daemon_silence

    home = os.environ.get("DAGSTER_HOME")
    if not home or not (Path(home) / "dagster.yaml").is_file():
        return None  # the embedded default: dagster dev starts and stops its daemon at will
    try:
        with dagster_instance() as instance:
            beats = {name: beat.timestamp for name, beat in instance.get_daemon_heartbeats().items()
                     if name in TICKING_DAEMONS}
    except DagsterHomeError as exc:
        return f"cannot tell whether the Dagster daemon runs: {exc}"
    return daemon_silence(beats, time.time())


def _status_summary(rows, attention) -> str:
    """The last line of hub status: how many feeds need a steward; where none does, how many
    are ok and how many have not been synced yet (those are not 'ok': nothing is known)."""
    if attention:
        return f"{len(attention)} of {_count(len(rows), 'feed')} {'needs' if len(attention) == 1 else 'need'} a steward"
    states = {state: sum(row.state == state for row in rows)
              for state in ("ok", "released", "waiting", "withdrawn")}
    if states["ok"] == len(rows):
        return f"all {len(rows)} feeds ok" if len(rows) > 1 else "the feed is ok"
    if len(rows) == 1:
        return ("the feed has not been synced yet" if states["waiting"] else
                "the feed has left the registry and is withdrawn" if states["withdrawn"] else
                "the feed is released and waits for its next sync")
    return "no feed needs a steward: " + ", ".join(
        part for part in (states["ok"] and f"{states['ok']} ok",
                          states["released"] and f"{states['released']} released (the next sync publishes it)",
                          states["waiting"] and f"{states['waiting']} not synced yet",
                          states["withdrawn"] and f"{states['withdrawn']} withdrawn (left the registry)")
        if part)


def _local_time(value) -> str:
    from hub.clock import wall_time

    return wall_time(value) if value else "never"


def _sync_line(row) -> str:
    if row.last_sync_at is None:
        return "never"
    figures = row.last_sync or {}
    line = f"{_local_time(row.last_sync_at)}: {figures.get('accepted', 0)} accepted, {figures.get('rejected', 0)} rejected"
    if row.state == "ok" and (figures.get("added") or figures.get("changed") or figures.get("withdrawn")):
        line += (f" ({figures['added']} new, {figures['changed']} changed, "
                 f"{figures['withdrawn']} withdrawn)")
    return line


def _status_notes(row, registry=None) -> list[str]:
    """What a steward reads under a feed that needs them (and under a released one, one
    not synced yet and one withdrawn)."""
    from hub.quality.feed import days_since

    first = (row.message or "").strip().splitlines()[0] if row.message else ""
    kept = (f"the directory keeps the records of the last good sync ({_local_time(row.last_good_sync_at)})"
            if row.last_good_sync_at else "nothing of this feed is published yet")
    if row.state == "left":
        return [f"not in the registry; hub withdraw {row.partner_id} takes its "
                f"{_count(row.published, 'record')} out"]
    if row.state == "withdrawn":
        return ["not in the registry and none of its records is published: nothing to do"]
    if row.state == "fetch failing":
        return [f"{_count(row.fetch_failures, 'fetch', 'fetches')} failed in a row, "
                f"the last at {_local_time(row.fetched_at)}: {first}", kept]
    if row.state in ("held", "failed"):
        if "keeps the last good state" in first and row.last_good_sync_at:  # a hold says it already
            kept = f"the last good sync: {_local_time(row.last_good_sync_at)}"
        return [first, kept]
    if row.state == "stale":
        return [f"the feed has not changed for {days_since(row.changed_at):.0f} days (registry "
                f"max_age_days: {row.max_age_days:g}): ask the partner whether their export still runs"]
    if row.state == "released":
        return ["released by a steward: the next sync publishes the held delivery"]
    if row.state == "waiting" and registry is not None:
        source = registry.get(row.partner_id).feed_for(row.domain).source
        said = row.message or "not synced yet"
        if source.startswith("inbox:"):
            from hub.inbox import folder_problem

            folder = Path(source.removeprefix("inbox:"))
            problem = folder_problem(folder)  # a new partner's folder not created: no upload lands
            return [f"{said}: waits for a file in the inbox {folder}"
                    + (f", but {problem}" if problem else "")]
        return [f"{said}: hub sync --partner {row.partner_id} fetches it (or its schedule)"]
    return []


def cmd_release(args) -> int:
    from hub.pipeline import release_partner
    from hub.registry import load_registry

    settings = _settings(args)
    partner = load_registry(settings.registry_path).get(args.partner)
    if args.domain and partner.feed_for(args.domain) is None:
        raise UsageError(f"{args.partner} has no {args.domain} feed in {settings.registry_path}")
    released = release_partner(_engine(settings), args.partner, args.domain)
    if not released:
        print(f"{args.partner}: nothing to release (no fetched delivery waits to be staged)")
        return 0
    print(f"{args.partner}: released {', '.join(released)}; the next sync publishes the held "
          "delivery (withdrawing what it no longer holds, leaving out what it rejected)")
    return 0


def cmd_replay(args) -> int:
    """Parse and publish again from the landing store, without the network."""
    from hub.pipeline import StageError, stage_partner_feed
    from hub.registry import load_registry
    from hub.store.landing import LandingStore
    from hub.store.publish import publish_domain

    settings = _settings(args)
    registry = load_registry(settings.registry_path)
    engine = _engine(settings)
    store = LandingStore(settings.landing_dir)
    # each partner once, in the order named
    partners = [registry.get(pid) for pid in dict.fromkeys(args.partner)] if args.partner else registry.partners
    if not any(not args.domain or feed.domain == args.domain for p in partners for feed in p.feeds):
        raise UsageError(f"nothing to replay: no {args.domain + ' ' if args.domain else ''}feed of "
                         f"{', '.join(args.partner) if args.partner else 'any partner'} in "
                         f"{settings.registry_path}")
    domains = set()
    staged = []
    status = 0
    for partner in partners:
        for feed in partner.feeds:
            if args.domain and feed.domain != args.domain:
                continue
            try:
                outcome = stage_partner_feed(engine, store, partner, feed.domain, force=True)
            except StageError as exc:  # its message names the partner and domain
                print(exc, file=sys.stderr)
                status = 1
                continue
            counts = outcome.counts
            note = f" ({outcome.hold.message})" if outcome.hold else ""
            if outcome.status == "held":
                status = 1  # waits for a steward, as hub sync says with its exit code
            print(f"{partner.id}/{feed.domain}: {outcome.status}, {_count(counts.items, 'record')}, "
                  f"{counts.accepted} accepted, {counts.rejected} rejected{note}")
            domains.add(feed.domain)
            staged.append((partner, feed.domain, outcome))
    _record_staged_in_dagster(engine, settings, staged)
    for domain in sorted(domains):
        result = publish_domain(engine, domain)
        print(f"directory/{domain}: {result.entries} entries ({result.added} added, "
              f"{result.updated} updated, {result.deleted} deleted)")
        _record_in_dagster(engine, settings, domain,
                           f"hub replay: directory/{domain} published again from the landing "
                           "store (no fetch)",
                           {"added": result.added, "updated": result.updated,
                            "deleted": result.deleted})
    return status


def cmd_erase(args) -> int:
    """Erase one partner record on request: every table, the change feed, the raw payloads;
    an audit row without personal data. Exit 1 for an unknown partner or record."""
    from hub.inbox import ASIDE, inbox_folder
    from hub.registry import RegistryError, load_registry
    from hub.store.erasure import ErasureError, erase_record, partner_known, refused_id
    from hub.store.landing import LandingStore

    problem = refused_id(args.source_id)
    if problem:  # bad input, said before anything is opened
        raise UsageError(problem)
    settings = _settings(args)
    engine = _engine(settings)
    partner = registry = None
    if settings.registry_path.exists():
        try:  # the registry only tells the feed formats; erasure works without it
            registry = load_registry(settings.registry_path)
            partner = registry.get(args.partner)
        except RegistryError:
            partner = None
    with engine.connect() as conn:
        known = partner is not None or partner_known(conn, args.partner)
    if not known:  # a partner that left the registry is known by its published records
        near = list(dict.fromkeys((registry.near_ids(args.partner) if registry else [])
                                  + _published_partners_near(engine, args.partner)))
        print(f"hub erase: error: unknown partner {args.partner!r} (not in the registry, nothing "
              "stored" + (f"; {_did_you_mean(near)}" if near else "") + ")", file=sys.stderr)
        return 1
    formats = {feed.domain: feed.format for feed in partner.feeds} if partner else None
    # the registry names the inboxes: for a partner no longer in it none is searched
    inboxes = {feed.domain: inbox_folder(feed) for feed in partner.feeds
               if inbox_folder(feed) is not None} if partner else None
    try:
        done = erase_record(engine, LandingStore(settings.landing_dir), args.partner,
                            args.source_id, domain=args.domain, reason=args.reason, formats=formats,
                            inboxes=inboxes)
    except ErasureError as exc:
        print(f"hub erase: error: {exc}", file=sys.stderr)
        return 1
    _refresh_reports(engine, settings, partner, done)
    aside = done.inbox_files_removed
    if done.outcome != "unpublished":
        _record_in_dagster(
            engine, settings, done.domain,
            f"hub erase: {done.partner_id}/{done.source_id} erased on request (audit entry "
            f"{done.erasure_id}); entity {done.entity_id} {done.outcome}",
            {"erasure_id": done.erasure_id or 0, "outcome": done.outcome, "seq": done.seq or 0})
    what = {
        "deleted": f"entity {done.entity_id} deleted from the directory (tombstone, seq {done.seq})",
        "updated": f"entity {done.entity_id} kept with its other sources"
                   + (f" (updated, seq {done.seq})" if done.seq else ""),
        "unpublished": "it was not in the directory"
                       + (f" ({_count(rejected, 'rejection row')} removed)"
                          if (rejected := done.removed.get("rejections")) else
                          "" if any(done.removed.values()) else
                          " (never staged: only in delivered files)"),
    }[done.outcome]
    print(f"{done.partner_id}/{done.domain}/{done.source_id}: erased; {what}; "
          f"{_count(len(done.payloads_erased), 'raw payload file')} removed"
          + "".join(f", {_count(count, kind + ' inbox file')} removed" for kind in ASIDE
                    if (count := sum(path.parent.name == kind for path in aside)))
          + f", {_count(done.changes_scrubbed, 'earlier change-feed item')} redacted; audit entry "
          f"{done.erasure_id}")
    print("note: the partner is the source of truth: if its feed still sends this record, the next "
          "sync publishes it again; ask the partner to remove it at the source")
    if not done.log_emptied:
        print("hub erase: warning: the database's write-ahead log (hub.db-wal) still holds the "
              "erased rows: other processes were reading; run the erasure again later to empty "
              "it", file=sys.stderr)
    return 0


def cmd_withdraw(args) -> int:
    """Withdraw every record of a partner that left the registry and publish the directory
    without them. Exit 1 when the partner has no published record."""
    from hub.config import Settings
    from hub.registry import load_registry
    from hub.store.publish import publish_domain
    from hub.store.retention import withdraw_partner

    configured = Settings.from_env().registry_path  # the one the sensors and schedules read
    settings = _settings(args)
    engine = _engine(settings)
    # a registry given with --registry does not hide the configured one; a registry that is
    # not there or lists no partners (HUB_REGISTRY naming the wrong file, an emptied file)
    # proves nothing about the partner: refused, as hub sync refuses it
    for path in dict.fromkeys((configured, settings.registry_path)):
        if not path.exists():
            raise UsageError(f"the registry {path} is not there (HUB_REGISTRY or --registry names "
                             f"it); hub withdraw needs it to see that {args.partner} left it")
        registry = load_registry(path)
        if not registry.partners:
            raise UsageError(f"the registry {path} lists no partners (is it the right file?); "
                             f"hub withdraw needs it to see that {args.partner} left it")
        feeds = [f.domain for p in registry.partners if p.id == args.partner for f in p.feeds]
        if any(args.domain in (None, domain) for domain in feeds):
            raise UsageError(f"{args.partner} is in {path} with a "
                             f"{args.domain or '/'.join(feeds)} feed: its next sync would publish "
                             "the records again; remove the feed from the registry first")
    withdrawn = withdraw_partner(engine, args.partner, args.domain)
    if not any(withdrawn.values()):
        near = _published_partners_near(engine, args.partner)
        print(f"hub withdraw: nothing to withdraw: {args.partner} has no published "
              f"{args.domain + ' ' if args.domain else ''}records"
              + (f" ({_did_you_mean(near)})" if near else ""), file=sys.stderr)
        return 1
    for domain, count in withdrawn.items():
        outcome = publish_domain(engine, domain)
        _record_in_dagster(engine, settings, domain,
                           f"hub withdraw: the {count} {domain} records of {args.partner} withdrawn "
                           f"(the partner left the registry)",
                           {"withdrawn_records": count, "deleted": outcome.deleted})
        print(f"{args.partner}/{domain}: {count} records withdrawn; directory/{domain}: "
              f"{outcome.entries} entries ({outcome.deleted} deleted, {outcome.updated} updated)")
    return 0


def _did_you_mean(near: list[str]) -> str:
    return f"did you mean {' or '.join(map(repr, near[:5]))}?"


def _published_partners_near(engine, partner_id: str) -> list[str]:
    """The partners with published records whose id ``partner_id`` may have been meant to be
    (a partner that left the registry is known only there)."""
    import sqlalchemy as sa

    from hub.registry import near_ids
    from hub.store.tables import source_records as sr

    with engine.connect() as conn:
        if conn.execute(sa.select(sr.c.partner_id).where(sr.c.partner_id == partner_id).limit(1)).first():
            return []  # a partner the hub knows (withdrawn before): no typo
        ids = list(conn.execute(sa.select(sr.c.partner_id).where(sr.c.status == "active").distinct()).scalars())
    return near_ids(partner_id, ids)


def _record_in_dagster(engine, settings, domain: str, description: str, metadata: dict) -> None:
    """A publication of the command (an erasure, a withdrawal, a replay) as a materialization
    of ``directory/<domain>`` in the Dagster instance (DAGSTER_HOME, as hub sync uses it), so
    that the steward's view of the directory is not left at the entries of the last sync.
    What was done stands when Dagster cannot be told: a warning says so."""
    import sqlalchemy as sa

    from hub.store.tables import directory

    def events(dg, _instance):
        with engine.connect() as conn:
            entries = conn.execute(sa.select(sa.func.count()).select_from(directory)
                                   .where(directory.c.domain == domain)).scalar_one()
        return [dg.AssetMaterialization(asset_key=["directory", domain], description=description,
                                        metadata={"entries": entries, **metadata})]

    _tell_dagster(settings, description.split(":", 1)[0], events)


def _record_staged_in_dagster(engine, settings, staged: list) -> None:
    """The partner syncs ``hub replay`` staged outside a run, as Dagster shows the runs' own:
    a ``staged/<domain>`` materialization of the partner's partition and its checks (a
    delivery released and replayed no longer shows as held)."""
    from hub.assets.feeds import staged_report

    def events(dg, instance):
        found = []
        for partner, domain, outcome in staged:
            metadata, checks = staged_report(engine, partner, domain, outcome,
                                             "not sent (hub replay sends no feedback)")
            key = dg.AssetKey(["staged", domain])
            found.append(dg.AssetMaterialization(
                asset_key=key, partition=partner.id, metadata=metadata,
                description=f"hub replay: {partner.id}/{domain} staged again from the landing store"))
            _forget_replayed_checks(instance, key, [check.name for check, _ in checks], partner.id)
            found += [dg.AssetCheckEvaluation(
                asset_key=key, check_name=check.name, passed=check.passed, severity=severity,
                description=check.description, metadata=check.metadata, partition=partner.id)
                for check, severity in checks]
        return found

    if staged:
        _tell_dagster(settings, "hub replay", events)


def _forget_replayed_checks(instance, key, names: list[str], partition: str) -> None:
    """The check results an earlier ``hub replay`` reported for this partition, out of
    Dagster's summary of check executions (the event log keeps them): Dagster 1.13 keeps one
    row per check, partition and run there, and a result reported outside a run has no run,
    so a second replay's result would collide with the first one's (IntegrityError)."""
    from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable as table

    with instance.event_log_storage.index_connection() as conn:
        conn.execute(table.delete().where(
            table.c.asset_key == key.to_string(), table.c.check_name.in_(names),
            table.c.partition == partition, table.c.run_id == ""))


def _tell_dagster(settings, command: str, events) -> None:
    """Report ``events(dagster, instance)`` to the Dagster instance (DAGSTER_HOME, as hub sync
    uses it) outside a run. What the command did stands when Dagster cannot be told: a warning says so."""
    from hub.runner import DagsterHomeError, dagster_instance, ensure_dagster_home

    try:
        import dagster as dg

        ensure_dagster_home(settings)
        with dagster_instance() as instance:  # an instance that cannot load, said as hub sync says it
            for event in events(dg, instance):
                instance.report_runless_asset_event(event)
    except DagsterHomeError as exc:
        print(f"{command}: warning: the Dagster instance was not told: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - what was done stands; only the UI's view lags
        print(f"{command}: warning: the Dagster instance was not told ({type(exc).__name__}: "
              f"{str(exc).splitlines()[0] if str(exc) else ''})", file=sys.stderr)


def _refresh_reports(engine, settings, partner, done) -> None:
    """The partner's feedback report on disk, without the erased record: written again from
    the database, or (partner not in the registry) removed where it names the record."""
    from hub.quality.feedback import REPORT_FILES
    from hub.store.retention import refresh_feedback_reports

    folder = settings.home / "feedback"
    if partner is not None:
        refresh_feedback_reports(engine, [partner], folder, only={(partner.id, done.domain)})
        return
    for name in REPORT_FILES.values():
        path = folder / done.partner_id / done.domain / name
        if path.is_file() and done.source_id.encode() in path.read_bytes():
            path.unlink()


def cmd_demo(args) -> int:
    from hub import clock
    from hub.demo import feeds as demo_feeds
    from hub.demo.server import serve_demo
    from hub.registry import parse_registry
    from hub.runner import ensure_dagster_home, run_sync

    settings = _settings(args)
    marker = "# generated by hub demo"
    path = settings.registry_path
    if path.is_dir():
        raise UsageError(f"{path} is a folder where the demo writes its registry file; run the "
                         "demo with another HUB_HOME (or HUB_REGISTRY naming a file)")
    if path.exists():
        written = path.read_text(encoding="utf-8", errors="replace")
        if not written.startswith(marker):
            raise UsageError(
                f"{path} is a real registry, not the demo's; run the demo with another HUB_HOME"
            )
        if _demo_registry_edited(written):
            raise UsageError(
                f"{path} was written by hub demo and edited since; the demo would overwrite the "
                "edits: run the demo with another HUB_HOME, or delete the file first")
    today = args.today or clock.today()
    data = demo_feeds.generate(today=today, seed=args.seed)
    _refuse_a_database_not_the_demos(settings, {partner["id"] for partner in data.partners})
    engine = _engine(settings)
    ensure_dagster_home(settings)
    server = serve_demo(data)
    try:
        body = demo_feeds.registry_yaml(data, server.base_url)
        text = (marker + f" on {today.isoformat()}; feeds served on loopback while it runs "
                f"(content {_demo_checksum(body)}: the demo replaces this file only unedited)\n"
                + body)
        registry = parse_registry(text, str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        os.environ["HUB_REGISTRY"] = str(path)
        print(f"demo: {len(data.feeds)} partner feeds for Landkreis Neunkirchen on {server.base_url}",
              file=sys.stderr)
        with _one_sync_at_a_time(settings, "hub demo"):
            summary = run_sync(engine, registry)
    finally:
        server.stop()
    _print_summary(summary, args.json)
    if not args.json:
        # a command that works from any folder: this folder first (the project's dagster.yaml
        # names its storage relative to it), the hub's home (registry, database) and the
        # Dagster instance by absolute path, the dagster of this Python, the module by name
        dagster = Path(sys.executable).parent / "dagster"
        print(f"\nregistry: {path}\nDagster UI: cd {shlex.quote(str(Path.cwd()))} && "
              f"HUB_HOME={shlex.quote(str(settings.home.resolve()))} "
              f"DAGSTER_HOME={shlex.quote(os.environ['DAGSTER_HOME'])} "
              f"{shlex.quote(str(dagster))} dev -m hub.definitions")
    # as hub sync: the demo's feeds of another day (--today) can be held, and a script that
    # runs the demo to see that the hub works must not read that as success
    return _sync_exit(summary)


def _refuse_a_database_not_the_demos(settings, demo_partners: set[str]) -> None:
    """The demo publishes into the database HUB_DATABASE_URL names: one that holds deliveries
    of other partners (a production database, in a shell with its environment) is refused
    before anything is fetched, published or migrated."""
    import sqlalchemy as sa

    from hub.config import redact_url
    from hub.store.db import make_engine
    from hub.store.tables import syncs

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            others = [] if not sa.inspect(conn).has_table("syncs") else conn.execute(
                sa.select(syncs.c.partner_id).distinct()
                .where(syncs.c.partner_id.not_in(sorted(demo_partners)))
                .order_by(syncs.c.partner_id).limit(4)).scalars().all()
    except sa.exc.DatabaseError:
        others = []  # not reachable, not a database: the migration that follows says so
    finally:
        engine.dispose()
    if others:
        named = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise UsageError(
            f"the database {redact_url(settings.database_url)} holds deliveries of partners the "
            f"demo does not have ({named}): the demo would publish its made-up "
            "offers into that directory; run it with another HUB_DATABASE_URL (unset: the "
            "embedded database under HUB_HOME)")


def _demo_checksum(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _demo_registry_edited(written: str) -> bool:
    """Whether a registry the demo wrote was edited since: its first line names the checksum
    of what follows (a demo registry from before the checksum counts as unedited)."""
    head, _, body = written.partition("\n")
    said = re.search(r"\(content ([0-9a-f]{16})", head)
    return said is not None and said.group(1) != _demo_checksum(body)


def cmd_keys(args) -> int:
    """API keys of the read API: create (the key is printed once), list, revoke."""
    from hub.api.keys import ApiKeyError, create_key, list_keys, revoke_key

    settings = _settings(args)
    engine = _engine(settings)
    try:
        if args.keys_command == "create":
            if args.partner and settings.registry_path.exists():
                from hub.registry import load_registry

                load_registry(settings.registry_path).get(args.partner)
            key, record = create_key(engine, name=args.name, scopes=args.scope or [],
                                     partner_id=args.partner, rate_limit=args.rate_limit)
            print(key)
            print(f"created {record.prefix} ({', '.join(sorted(record.scopes))}"
                  f"{', partner ' + record.partner_id if record.partner_id else ''}); the key is "
                  "shown only now, the hub keeps its hash", file=sys.stderr)
            if args.partner and not settings.registry_path.exists():
                # an API host may have no registry: the key is made, the partner not checked
                print(f"hub keys: warning: no registry at {settings.registry_path}; partner "
                      f"{args.partner!r} not checked", file=sys.stderr)
            return 0
        if args.keys_command == "revoke":
            record = revoke_key(engine, args.prefix)
            print(f"revoked {record.prefix} ({record.name})")
            return 0
    except ApiKeyError as exc:
        raise UsageError(str(exc)) from None
    rows = list_keys(engine)
    if not rows:
        print("no API keys (hub keys create --name N --scope read)")
        return 0
    header = ("prefix", "name", "scopes", "partner", "per min", "created", "revoked")
    table = [header] + [
        (k.prefix, k.name, ",".join(sorted(k.scopes)), k.partner_id or "-",
         str(k.rate_limit) if k.rate_limit else "default", _local_time(k.created_at),
         _local_time(k.revoked_at) if k.revoked_at else "-")
        for k in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def cmd_serve(args) -> int:
    """The read API on HOST:PORT (uvicorn) with the configured database."""
    import uvicorn

    from hub.api.app import ApiSettings, create_app

    settings = _settings(args)
    engine = _engine(settings)
    try:
        api_settings = ApiSettings.from_env(hub_settings=settings)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    most = WORKERS_PER_CORE * (os.cpu_count() or 1)
    if args.workers > most:  # each a process with its own database connections
        raise UsageError(f"--workers {args.workers}: at most {most} on this machine "
                         f"({WORKERS_PER_CORE} per core); one per core serves the most requests")
    app = create_app(engine, api_settings) if args.workers == 1 else None
    import socket

    try:  # a clear line now rather than uvicorn's log and exit code later
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}") from None
    print(f"hub serve: the read API on http://{args.host}:{args.port}/ (docs: /docs)", file=sys.stderr)
    logging = dict(log_level=args.log_level, log_config=_timestamped_log_config(),
                   proxy_headers=True, forwarded_allow_ips=args.forwarded_allow_ips)
    if app is not None:
        uvicorn.run(app, host=args.host, port=args.port, **logging)
    else:  # worker processes build the app themselves, from the same environment
        uvicorn.run("hub.api.app:app_from_env", factory=True, workers=args.workers,
                    host=args.host, port=args.port, **logging)
    return 0


def _timestamped_log_config() -> dict:
    """uvicorn's logging, each line beginning with its time (ISO 8601 with the offset): a
    log kept in a file or read after a night says when each request came."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for formatter in config["formatters"].values():
        formatter["fmt"] = "%(asctime)s " + formatter["fmt"]
        formatter["datefmt"] = "%Y-%m-%dT%H:%M:%S%z"
    return config


def _print_summary(summary, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False, indent=2))
    else:
        print(summary.table())


def cmd_export(args) -> int:
    """The published directory as NDJSON, CSV or an HSDS 3.0 package, written atomically."""
    from hub.export import ExportError, count_entries, export

    if not args.out.strip():
        raise UsageError("--out is empty; name the folder to write")
    settings = _settings(args)
    engine = _engine(settings)
    domains = [args.domain] if args.domain else None
    names = {}
    if args.format == "hsds" and settings.registry_path.is_file():
        from hub.registry import RegistryError, load_registry

        try:
            names = {p.id: p.name for p in load_registry(settings.registry_path).partners}
        except RegistryError as exc:
            print(f"hub export: warning: partner names not read ({exc})", file=sys.stderr)
    total = count_entries(engine, domains or ("jobs", "courses", "housing"))
    progress = (lambda line: print(f"hub export: {line} of {total}", file=sys.stderr)) if total >= 20_000 else None
    try:
        counts = export(engine, args.format, args.out, domains, partner_names=names, progress=progress)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    for name, rows in counts.items():
        print(f"{Path(args.out) / name}: {rows}")
    return 0


# -- entry point --------------------------------------------------------------------------


def _count(n: int, word: str, plural: str | None = None) -> str:
    """'1 record', '2 records' (``plural`` where an s does not make it)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _registry_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry", help="registry file (default HUB_REGISTRY or HUB_HOME/registry.yaml)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub",
        description="Welcome Hub: partner feeds of language courses, jobs and housing, checked, "
        "merged and published as one directory.",
        epilog="Settings come from the environment: HUB_HOME (default ./.hub), HUB_DATABASE_URL "
        "(default SQLite in HUB_HOME; postgresql://... for PostgreSQL), HUB_REGISTRY (default "
        "HUB_HOME/registry.yaml), DAGSTER_HOME.",
    )
    parser.add_argument("--version", action="version", version=f"hub {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="the whole flow on generated partner feeds, prints a summary")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--seed", type=int, default=2026, help="seed of the generated feeds (default 2026)")
    p.add_argument("--today", type=_day, help="date the feeds are generated for, YYYY-MM-DD, 2000 to 2999 (default today in Berlin)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sync", help="run the registry's partner feeds through every stage via Dagster",
                       description="Fetch, stage and publish every partner feed of the registry (or "
                       "those named with --partner) as Dagster runs, then publish the directory; prints "
                       "a line per feed and a summary. A feed shows as ok, unchanged (the same delivery "
                       "as last time), waiting (an inbox with no file yet, or one still being written), "
                       "held (a delivery that would withdraw or reject too much: hub release PARTNER "
                       "lets it through) or failed (the reason on the line). With --registry a trial "
                       "file, its partners are added to the configured ones. Exit 0 when every feed is "
                       "ok, unchanged or waiting; 1 when one failed or is held, or publication failed; "
                       "2 (nothing run) when the registry lists no partners or cannot be read.")
    _registry_option(p)
    p.add_argument("--partner", action="append", metavar="ID", help="only this partner (repeatable)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="run N partner feeds at once, each in a process of its own (default 1: one "
                        "after the other; for many partners, the number of cores)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("status", help="where each partner feed stands: last sync, held, failing, published",
                       description="One line per feed of the registry (and per partner feed that left "
                       "it while its records are still published): its state (ok, waiting, held, "
                       "released, failed, fetch failing, stale, left), the records it has in the directory "
                       "and its last sync, with what to do under each feed that needs a steward (and what a "
                       "feed not synced yet waits for). "
                       "With --registry a trial file beside the configured registry, the feeds of that file "
                       "(a partner that left both registries still shows as left). "
                       "A partner named with --partner that left the registry with none of its "
                       "records published (after hub withdraw) shows as withdrawn, 0 published. "
                       "Reads the hub's database (and, with DAGSTER_HOME set, the Dagster daemon's "
                       "last heartbeat) only: nothing is fetched. Exit 1 when a feed "
                       "needs a steward (held, failed, fetch failing, stale, left) or the Dagster "
                       "daemon has not reported for a quarter hour, for a scheduler's check.")
    p.add_argument("--partner", action="append", metavar="ID", help="only this partner (repeatable)")
    p.add_argument("--json", action="store_true", help="the feeds as one JSON object")
    _registry_option(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("release", help="let a partner's held sync through (mass-withdrawal guard, "
                       "rejection share, an empty delivery)",
                       description="Let a held delivery through: the next sync (hub sync --partner "
                       "PARTNER, or the feed's next run in Dagster) stages it again and publishes it. "
                       "One held by the mass-withdrawal guard then withdraws the records it no longer "
                       "holds; one held for its rejection share publishes what was accepted; an empty "
                       "delivery withdraws all the partner's records. Run hub status first: it shows "
                       "the hold's numbers. Nothing held: says so, exit 0.")
    p.add_argument("partner", help="partner id")
    p.add_argument("--domain", choices=["jobs", "courses", "housing"], help="only this domain")
    _registry_option(p)
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("replay", help="parse and publish again from the landing store, without the network")
    p.add_argument("--partner", action="append", metavar="ID", help="only this partner (repeatable)")
    p.add_argument("--domain", choices=["jobs", "courses", "housing"], help="only this domain")
    _registry_option(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("erase", help="erase a partner record on request from every table and the change feed",
                       description="Remove one partner record from the records, the entity map, the "
                       "rejections, the directory, the raw payloads and an inbox partner's files "
                       "moved aside (processed/, failed/); refused, with nothing erased, while "
                       "a file waiting in the inbox holds it; earlier change-feed items "
                       "that carried it are redacted and a tombstone (or an update, when the entity "
                       "keeps other sources) is published. A record never staged (rejected, or only "
                       "in a delivery that failed as a whole) is erased where the hub holds it. An "
                       "audit row keeps partner, source id, time and reason. Exit 1 for an unknown "
                       "partner or a record found nowhere; 2 for an id no record can have (blank, "
                       "punctuation alone, blanks at its ends).")
    p.add_argument("partner", help="partner id")
    p.add_argument("source_id", help="the record's id in the partner's feed")
    p.add_argument("--domain", choices=["jobs", "courses", "housing"],
                   help="the record's domain (needed only when the id exists in two)")
    p.add_argument("--reason", help="why, for the audit trail (a ticket number; no personal data)")
    _registry_option(p)
    p.set_defaults(func=cmd_erase)

    p = sub.add_parser("withdraw", help="withdraw every record of a partner that left the registry",
                       description="Withdraw all published records of a partner that is no longer "
                       "in the registry (of one domain with --domain) and publish the directory "
                       "without them: tombstones in the change feed; contact data is purged after "
                       "the retention period as for any withdrawn record. What was fetched from the "
                       "partner is forgotten, so a partner who comes back is synced in full. Refused "
                       "while the registry still lists the feed (the configured one, and the one "
                       "given with --registry), and when a registry file is not there or lists no "
                       "partners (a wrong HUB_REGISTRY proves nothing). Exit 1 when nothing is "
                       "published.")
    p.add_argument("partner", help="partner id")
    p.add_argument("--domain", choices=["jobs", "courses", "housing"], help="only this domain")
    _registry_option(p)
    p.set_defaults(func=cmd_withdraw)

    p = sub.add_parser("parse", help="canonical records as NDJSON on stdout, rejections on stderr")
    p.add_argument("format", help="format name, see `hub formats`")
    p.add_argument("path", help="file to read, - for stdin")
    p.add_argument("--partner", default="local", help="partner id put on the records (default local)")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("check", help="a partner's file through every check, offline; writes the feedback report",
                       description="Parse a file (or, with --fetch, a partner's feed) and run "
                       "every check on it without changing the database; writes report.html, "
                       "report.csv and report.json. Exit 0 when clean, 1 when records were "
                       "rejected or a sync would be held, 2 when the input is unusable (or holds no "
                       "offers: a sync refuses an empty delivery).")
    p.add_argument("--format", help="format name, see `hub formats` (with --fetch: which of "
                   "the partner's feeds, where it has several)")
    p.add_argument("path", nargs="?", help="the file to check")
    p.add_argument("--fetch", action="store_true",
                   help="instead of a file: fetch the --partner's feed as a sync would (URL, "
                   "credentials, host rules, pages) and check it; nothing is stored or "
                   "published (a trial before the partner goes live)")
    p.add_argument("--out", required=True, help="folder for report.html, report.csv, report.json")
    p.add_argument("--partner", help="partner id: its name, region and language from --registry, or "
                   "from HUB_REGISTRY when that lists it")
    p.add_argument("--registry", help="registry file to look the partner up in (with --fetch: "
                   "default HUB_REGISTRY)")
    p.add_argument("--region", type=_ags_prefix, help="AGS prefix of the region the records must lie in")
    p.add_argument("--lang", choices=["de", "en"], help="language of the report (default de)")
    p.add_argument("--today", type=_day, help="check dates against this day, YYYY-MM-DD, 2000 to 2999 (default today in Berlin)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("rules", help="the catalogue of quality rules")
    p.add_argument("--lang", choices=["de", "en"], default="de", help="language of the messages (default de)")
    p.add_argument("--json", action="store_true", help="the catalogue as JSON (both languages)")
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("formats", help="list the partner formats the hub reads")
    p.set_defaults(func=cmd_formats)

    p = sub.add_parser("resolve", help="entity ids for canonical NDJSON records")
    p.add_argument("domain", help="jobs, courses or housing")
    p.add_argument("paths", nargs="+", metavar="PATH", help="NDJSON files as `hub parse` writes them")
    p.set_defaults(func=cmd_resolve)

    p = sub.add_parser("schemas", help="check (default) or write the JSON Schemas of the records")
    p.add_argument("--write", action="store_true", help="write the files instead of checking them")
    p.add_argument("--out", help="folder (default: the project's schemas/)")
    p.set_defaults(func=cmd_schemas)

    p = sub.add_parser("serve", help="the read API (directory, change feed, feedback pages) over HTTP")
    p.add_argument("--host", type=_host, default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for every address)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (default 1; one per core serves the most requests; "
                        f"at most {WORKERS_PER_CORE} per core)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--forwarded-allow-ips", metavar="ADDRESSES", type=_proxy_addresses,
                   help="the reverse proxies whose X-Forwarded-Proto and X-Forwarded-For the "
                        "server believes (comma-separated addresses or networks, or '*' where "
                        "only the proxy can reach the server, as in a Kubernetes pod); links in "
                        "the answers (next, Link) then carry the scheme the reader used, https. "
                        "Default: $FORWARDED_ALLOW_IPS, else 127.0.0.1 (a proxy on the same host)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keys", help="API keys of the read API: create, list, revoke")
    keys_sub = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    k = keys_sub.add_parser("create", help="a new key, printed once")
    k.add_argument("--name", required=True, help="who or what uses the key (one line, at most 200 characters)")
    k.add_argument("--scope", action="append", choices=["read", "contacts", "feedback", "steward"],
                   help="read, contacts, feedback (needs --partner) or steward (repeatable; at "
                        "least one is needed)")
    k.add_argument("--partner", help="the partner whose feedback page the key opens")
    k.add_argument("--rate-limit", type=int, help="requests per minute (default HUB_API_KEY_RATE_LIMIT, 600)")
    k.set_defaults(func=cmd_keys)
    k = keys_sub.add_parser("list", help="all keys (prefix, name, scopes, partner, limits)")
    k.set_defaults(func=cmd_keys)
    k = keys_sub.add_parser("revoke", help="revoke the key with this prefix")
    k.add_argument("prefix", help="the key's prefix as `hub keys list` shows it")
    k.set_defaults(func=cmd_keys)

    p = sub.add_parser("db", help="create or upgrade the database schema, print its revision",
                       description="Create or upgrade the schema of the database HUB_DATABASE_URL "
                       "names (default: SQLite in HUB_HOME) and print its revision and what was done "
                       "(created, upgraded from REVISION, up to date). Run it once "
                       "per release before the new code runs; a database a newer release "
                       "upgraded is refused.")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("backup", help="a consistent copy of the embedded SQLite database, while the hub runs",
                       description="Copy the SQLite database HUB_DATABASE_URL names (default: "
                       "HUB_HOME/hub.db) into the new file --out by SQLite's online backup API: "
                       "consistent while syncs, publications and the read API run, the write-ahead "
                       "log included (a cp of hub.db alone is not a backup). An existing file is "
                       "refused. The landing store and the feedback reports under HUB_HOME are "
                       "copied by hand, after it; PostgreSQL is backed up with pg_dump. See "
                       "deploy/README.md, Backup and restore.")
    p.add_argument("--out", required=True, metavar="FILE", help="the new file to write (never replaced)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("export", help="the directory as NDJSON, CSV or an HSDS 3.0 package",
                       description="Write the published directory into --out (a new or empty folder, "
                       "or an earlier export holding only what it wrote, which is replaced as a whole). ndjson: one entry a line, "
                       "one file per domain; csv: flat columns per domain, comma-separated, decimal points, UTF-8 with BOM, formula-like "
                       "text cells prefixed with ', for programs; csv-excel: the same columns for Excel set to German "
                       "(opened with a double click): ';'-separated, decimal commas, postal codes and house numbers kept as text; "
                       "hsds: one JSON file per HSDS table plus datapackage.json.")
    p.add_argument("--format", required=True, choices=["ndjson", "csv", "csv-excel", "hsds"])
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (replaced atomically)")
    p.add_argument("--domain", choices=["jobs", "courses", "housing"], help="only this domain")
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    from hub.config import SettingsError
    from hub.fetch import FetchError
    from hub.formats import FormatError
    from hub.pipeline import StageError
    from hub.registry import RegistryError
    from hub.runner import DagsterHomeError, keep_interrupts
    from hub.store.db import DatabaseError

    keep_interrupts()
    try:
        return args.func(args)
    except (UsageError, FormatError, RegistryError, DatabaseError, StageError, FetchError,
            DagsterHomeError, SettingsError) as exc:
        print(f"hub {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hub {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        if os.environ.get("HUB_DEBUG"):
            raise
        from hub.store.db import busy_message

        if busy := busy_message(exc):  # waiting longer would have done: EX_TEMPFAIL
            print(f"hub {args.command}: error: {busy}", file=sys.stderr)
            return 75
        first = (str(exc).strip().splitlines() or [""])[0]  # one line, whatever the exception
        print(f"hub {args.command}: internal error: {type(exc).__name__}: {first} "
              "(set HUB_DEBUG=1 for the traceback)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
