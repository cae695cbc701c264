"""Running partner syncs through Dagster from the ``hub`` command (``hub sync``, ``hub demo``):
the registry's partitions are brought in step, each partner feed runs as its own partition of
``sync_<domain>``, then ``publish_directory`` runs once. Runs land in the Dagster instance
named by DAGSTER_HOME, so ``dagster dev`` shows them afterwards."""

from __future__ import annotations

import _thread
import hashlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from hub.config import Settings
from hub.inbox import settle_seconds
from hub.registry import Registry, partition_changes
from hub.store.staging import last_sync_counts
from hub.store.tables import directory, entity_map, source_records, syncs

# the hub command prints a line per feed itself (with the failure's message); Dagster's console
# logger would add stack traces for every failed step. The runs' event logs keep everything.
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# runs started by the hub command: a person waits for them, so a failed fetch is reported at
# once instead of being retried minutes later (hub.assets.feeds.FETCH_RETRY)
CLI_RUN_TAGS = {"hub/trigger": "cli"}

MINIMAL_INSTANCE = """# Dagster instance of the hub (written by the hub command)
telemetry:
  enabled: false
# the steps log through Dagster's event log; capturing their stdout costs two processes a step.
# What sensors and schedules log at a tick is kept: the UI shows it with the tick
compute_logs:
  module: hub.dagster_sqlite
  class: TickLogManager
  config:
    base_dir: {logs}
# Dagster's SQLite storage where Dagster puts it, with its connections kept open and commits
# that do not wait for the disk (hub/dagster_sqlite.py)
run_storage:
  module: hub.dagster_sqlite
  class: HomeSqliteRunStorage
  config:
    base_dir: {history}
event_log_storage:
  module: hub.dagster_sqlite
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {events}
schedule_storage:
  module: hub.dagster_sqlite
  class: HomeSqliteScheduleStorage
  config:
    base_dir: {schedules}
# the run limits of the project's dagster.yaml (README, Runs and retries), for dagster dev
# on this instance: at most 4 runs at once, one per partner host; stuck runs failed after
# 2 hours; a run whose process died is retried once
concurrency:
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: hub/host
        value:
          applyLimitPerUniqueValue: true
        limit: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_runtime_seconds: 7200
  poll_interval_seconds: 60
run_retries:
  enabled: true
  max_retries: 1
  retry_on_asset_or_op_failure: false
"""
# sha256 (first 16 hex digits) of every MINIMAL_INSTANCE a release wrote, this one's last: a
# dagster.yaml that is one of them, unedited, is rewritten with this release's (an upgraded
# hub home kept the instance file of its first release: no run limits, no run monitoring, the
# slower storage). Add the new text's digest here when you change MINIMAL_INSTANCE.
HUB_INSTANCES = ("4024ac056cb1a009", "28ebd33d9fec4a67", "1b488f87bda954f0", "f7d4a12bce21625d",
                 "649f594b4f9ab15c", "789ccd9ed56a2a07")
INSTANCE_FOLDERS = (("history", "history"), ("events", "history/runs"), ("schedules", "schedules"),
                    ("logs", "logs"))


def instance_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _instance_file(home: Path) -> str | None:
    """What the hub command writes into DAGSTER_HOME ``home`` when its dagster.yaml is missing
    or one an earlier release wrote and nobody edited since (its runs stay where they are:
    every release kept Dagster's default folders); None: a file of someone else's, kept."""
    folders = {name: json.dumps(str(home / path))  # YAML strings as well
               for name, path in INSTANCE_FOLDERS}
    current = MINIMAL_INSTANCE.format(**folders)
    try:
        text = (home / "dagster.yaml").read_text(encoding="utf-8")
    except FileNotFoundError:
        return current
    except (OSError, UnicodeDecodeError):
        return None  # Dagster says what is wrong with it when it loads it
    for name, value in folders.items():  # the template the text was made of
        text = text.replace(value, "{%s}" % name)
    digest = instance_digest(text)
    return current if digest in HUB_INSTANCES[:-1] else None


class DagsterHomeError(Exception):
    """The Dagster instance cannot be used: its folder or its dagster.yaml (one line)."""


def ensure_dagster_home(settings: Settings) -> Path:
    """DAGSTER_HOME as set; else this folder when it holds the project's dagster.yaml; else
    the project folder whose ``.hub`` HUB_HOME is (the instance the project's Dagster UI
    shows, wherever the command starts); else a folder under HUB_HOME with a minimal
    instance file."""
    project = settings.home.resolve().parent
    if os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"]).resolve()
    elif Path("dagster.yaml").is_file() and Path("workspace.yaml").is_file():
        home = Path.cwd()
    elif settings.home.resolve().name == ".hub" and (project / "dagster.yaml").is_file() \
            and (project / "workspace.yaml").is_file():
        home = project
    else:
        home = settings.home / "dagster"
    if home.exists() and not home.is_dir():
        raise DagsterHomeError(f"DAGSTER_HOME {home} is a file; it names a folder for Dagster's "
                               "runs and its dagster.yaml")
    try:
        home.mkdir(parents=True, exist_ok=True)
        existed = (home / "dagster.yaml").exists()
        text = _instance_file(home)
        if text is not None:  # whole or not at all: a process starting now may read it
            partial = home / f".dagster.yaml.{os.getpid()}"
            partial.write_text(text)
            os.replace(partial, home / "dagster.yaml")
            if existed:
                print(f"hub: {home / 'dagster.yaml'} was written by an older release of the hub; "
                      "rewrote it with this release's (run limits, run monitoring and retries, "
                      "its SQLite storage); the runs kept there stay", file=sys.stderr)
            elif os.environ.get("DAGSTER_HOME"):  # a typo or an unmounted volume would go unseen
                print(f"hub: DAGSTER_HOME {home} held no dagster.yaml; wrote one that keeps "
                      "Dagster's runs in SQLite there", file=sys.stderr)
    except OSError as exc:
        raise DagsterHomeError(f"DAGSTER_HOME {home}: {exc.strerror or exc} "
                               "(a folder for Dagster's runs and its dagster.yaml)") from None
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextmanager
def dagster_instance():
    """The Dagster instance of DAGSTER_HOME; DagsterHomeError when its dagster.yaml cannot be
    loaded (not YAML, an unknown setting, a storage class that cannot be imported)."""
    from dagster import DagsterInstance

    where = Path(os.environ.get("DAGSTER_HOME", "?")) / "dagster.yaml"
    if any(url.startswith(("postgresql://", "postgres://")) for url in _postgres_urls(where)):
        raise DagsterHomeError(
            f"{where}: Dagster's PostgreSQL URL must name the psycopg2 driver "
            "(postgresql+psycopg2://...): dagster-postgres does not work with psycopg 3, which "
            "a bare postgresql:// selects")
    root = logging.getLogger()
    level = root.level
    # dagster-postgres logs a warning for each of its connection attempts: the reason of the
    # last one is in the error below
    root.setLevel(logging.ERROR)
    try:
        instance = DagsterInstance.get()
    except Exception as exc:  # noqa: BLE001 - Dagster raises many kinds for a bad file
        raise DagsterHomeError(f"{where}: the Dagster instance cannot be loaded: "
                               f"{_instance_problem(exc)}") from None
    finally:
        root.setLevel(level)
    with instance:
        yield instance


def _postgres_urls(path: Path) -> list[str]:
    """The ``postgres_url`` values of an instance file (``{env: NAME}`` read from the
    environment); none when the file cannot be read (Dagster says why when it loads it)."""
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "postgres_url":
                    if isinstance(value, dict) and isinstance(value.get("env"), str):
                        value = os.environ.get(value["env"], "")
                    if isinstance(value, str):
                        found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(config)
    return found


def _instance_problem(exc: Exception) -> str:
    """The line of Dagster's error that says what is wrong with the instance."""
    text = str(exc)
    unset = re.search(r'environment variable "?(\w+)"? which is not set', text)
    if unset:
        return f"the environment variable {unset.group(1)} it names is not set"
    numbered = re.search(r"^Error \d+: (.+)$", text, re.MULTILINE)
    if numbered:
        return numbered.group(1).strip()
    cause = exc.__cause__
    if type(exc).__name__ == "DagsterPostgresException" and cause is not None:
        reason = str(getattr(cause, "orig", None) or cause).strip().splitlines()
        return f"PostgreSQL cannot be reached: {reason[0] if reason else type(cause).__name__}"
    first = (text.strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"


@dataclass
class FeedSummary:
    partner_id: str
    name: str
    domain: str
    format: str
    status: str = "ok"
    fetched: int = 0
    accepted: int = 0
    rejected: int = 0
    published: int = 0
    message: str | None = None
    # nothing new was staged: the feed answered unchanged (304, or the bytes of its last
    # delivery); the counts are those of that delivery
    unchanged: bool = False
    feedback_warning: str | None = None  # the partner's feedback mail could not be sent


@dataclass
class SyncSummary:
    feeds: list[FeedSummary] = field(default_factory=list)
    published: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    publish_ok: bool = True

    def to_json(self) -> dict:
        return {
            "partners": [f.__dict__ for f in self.feeds],
            "published": self.published,
            "fetched": sum(f.fetched for f in self.feeds),
            "accepted": sum(f.accepted for f in self.feeds),
            "rejected": sum(f.rejected for f in self.feeds),
            "failed_feeds": [f"{f.partner_id}/{f.domain}" for f in self.feeds if f.status == "failed"],
            "held_feeds": [f"{f.partner_id}/{f.domain}" for f in self.feeds if f.status == "held"],
            "seconds": round(self.seconds, 1),
        }

    def table(self) -> str:
        header = ("partner", "domain", "format", "status", "fetched", "accepted", "rejected", "published")
        rows = [header] + [
            (f.partner_id, f.domain, f.format, "unchanged" if f.unchanged else f.status,
             str(f.fetched), str(f.accepted),
             str(f.rejected), str(f.published))
            for f in self.feeds
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = []
        for index, row in enumerate(rows):
            cells = [c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
            if index == 0:
                lines.append("  ".join("-" * w for w in widths))
        totals = ", ".join(f"{n} {domain}" for domain, n in self.published.items())
        lines.append("")
        lines.append(f"directory: {totals}  ({self.seconds:.1f} s)")
        for f in self.feeds:
            if f.message:
                feed = f"{f.partner_id}/{f.domain}: "
                lines.append(f"  {feed}{f.message.removeprefix(feed)}")
            if f.feedback_warning:
                lines.append(f"  {f.partner_id}/{f.domain}: warning: {f.feedback_warning}")
        return "\n".join(lines)


def sync_partitions(instance, registry: Registry, remove_others: bool = True) -> None:
    """Bring the instance's dynamic partitions in step with the registry (what the
    partner_registry sensor does on its ticks). ``remove_others=False``: only add the registry's
    partitions, leave the others (a registry besides the configured one: a trial)."""
    from hub.assets.partitions import PARTNER_PARTITIONS

    existing = {d: list(instance.get_dynamic_partitions(p.name)) for d, p in PARTNER_PARTITIONS.items()}
    for domain, (add, remove) in partition_changes(registry, existing).items():
        name = PARTNER_PARTITIONS[domain].name
        if add:
            instance.add_dynamic_partitions(name, add)
        for key in remove if remove_others else ():
            instance.delete_dynamic_partition(name, key)


@dataclass
class FeedRun:
    """What the Dagster run of one partner feed ended with (plain data: it crosses from a
    worker process)."""

    success: bool
    interrupted: bool = False
    message: str | None = None
    feedback_warning: str | None = None  # the partner's feedback mail could not be sent


class SigintWatch:
    """Whether a SIGINT (Ctrl-C) arrived since the last look, whichever Python handler took it.
    Dagster notes a SIGINT that comes while a run only notes interrupts (run creation, the
    end of a run) and forgets it when the run ends, so the run looks complete and a sync
    would go on. Python writes every handled signal's number to the wakeup fd, before any
    handler runs: that is what this reads. Only on the main thread (signals arrive there)."""

    def __enter__(self) -> "SigintWatch":
        self.fds = None
        if threading.current_thread() is threading.main_thread():
            read, write = os.pipe()
            os.set_blocking(read, False)
            os.set_blocking(write, False)
            self.fds = (read, write)
            self.previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
        return self

    def seen(self) -> bool:
        if self.fds is None:
            return False
        found = False
        while True:
            try:
                data = os.read(self.fds[0], 512)
            except BlockingIOError:
                return found
            if not data:
                return found
            found = found or signal.SIGINT in data

    def __exit__(self, *exc) -> None:
        if self.fds is not None:
            signal.set_wakeup_fd(self.previous)
            for fd in self.fds:
                os.close(fd)


def _interrupt_main_soon() -> None:
    time.sleep(0.01)
    _thread.interrupt_main()  # nothing when SIGINT is ignored (an idle worker)


def keep_interrupts() -> None:
    """Make a Ctrl-C that lands in a finalizer or a garbage collector's callback count.
    Python cannot raise it there: it prints 'Exception ignored in ...' with a traceback and
    forgets it, so the command would go on as if no one had pressed Ctrl-C (seen in a
    sync's worker, inside SQLAlchemy's weakref callback). This delivers it again, as a
    SIGINT at the next point Python can raise it, and prints nothing; an idle worker, which
    ignores SIGINT, ignores it again."""
    if getattr(sys.unraisablehook, "_hub_keeps_interrupts", False):
        return
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            # from another thread, a moment later: raised inside this hook, it would be
            # lost again (threading.Thread.start waits for the thread: _thread does not)
            _thread.start_new_thread(_interrupt_main_soon, ())
            return
        previous(unraisable)

    hook._hub_keeps_interrupts = True
    sys.unraisablehook = hook


def _run_feed(instance, partner_id: str, domain: str, watch: SigintWatch | None = None) -> FeedRun:
    from hub.definitions import defs

    result = defs.resolve_job_def(f"sync_{domain}").execute_in_process(
        instance=instance, partition_key=partner_id, run_config=QUIET_RUN,
        raise_on_error=False, tags=CLI_RUN_TAGS,
    )
    if _interrupted(result) or (watch is not None and watch.seen()):
        return FeedRun(success=False, interrupted=True)
    return FeedRun(success=result.success, message=None if result.success else _failure_message(result),
                   feedback_warning=_feedback_warning(result, partner_id, domain))


def _settling(feed) -> list[tuple[str, float]]:
    """Files of an inbox feed still being written (none for other feeds)."""
    from hub.inbox import inbox_folder, settling_files

    folder = inbox_folder(feed)
    return settling_files(folder) if folder is not None else []


def _fetch_times(engine: sa.Engine) -> dict[tuple[str, str], object]:
    """When each feed was fetched last (fetch_state): a fetch that took an inbox's file, or
    found it empty, records its time; one that found another process taking the file does
    not."""
    from hub.store.tables import fetch_state

    with engine.connect() as conn:
        return {(r.partner_id, r.domain): r.fetched_at for r in conn.execute(
            sa.select(fetch_state.c.partner_id, fetch_state.c.domain, fetch_state.c.fetched_at))}


def _taken_meanwhile(feed) -> str | None:
    """The name of the file waiting (settled) in an inbox feed's folder after a run that
    fetched nothing (its fetch time unchanged): another process held the inbox meanwhile
    (hub.inbox.taking). None for other feeds and empty inboxes."""
    from hub.inbox import inbox_folder, waiting_files

    folder = inbox_folder(feed)
    files = waiting_files(folder) if folder is not None else []
    return files[0].name if files else None


def _feedback_warning(result, partner_id: str, domain: str) -> str | None:
    """That the partner's feedback mail was not sent (the mail server refused or could not
    be reached), from the staging step's ``feedback`` note: in its materialization's
    metadata, or in its failure's when the delivery was unusable."""
    from hub.assets.feeds import FEEDBACK_NOT_SENT

    for event in result.all_events:
        if event.is_step_materialization:
            metadata = event.event_specific_data.materialization.metadata
        elif event.is_step_failure and event.step_failure_data.user_failure_data is not None:
            metadata = event.step_failure_data.user_failure_data.metadata
        else:
            continue
        note = metadata.get("feedback")
        if note is not None and str(note.value).startswith(FEEDBACK_NOT_SENT):
            return f"feedback mail for {partner_id}/{domain} {note.value}"
    return None


DIED = ("the worker process running this feed ended unexpectedly (killed, or out of memory); "
        "the feed's staging was rolled back")


def _worker_main(conn) -> None:
    """A worker process of ``run_sync(workers=N)``: runs the feeds it is sent, one at a time,
    and sends back each one's FeedRun; None or a closed pipe ends it. Ctrl-C in the terminal
    reaches the whole process group: an idle worker ignores it, a running feed is
    interrupted as in the hub process itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_interrupts()
    from dagster import DagsterInstance

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with SigintWatch() as watch, DagsterInstance.get() as instance:
                outcome = _run_feed(instance, *task, watch=watch)
        except KeyboardInterrupt:
            outcome = FeedRun(success=False, interrupted=True)
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        conn.send(outcome)


class _Worker:
    def __init__(self, context) -> None:
        self.conn, child = context.Pipe()
        self.proc = context.Process(target=_worker_main, args=(child,), daemon=True, name="hub-sync-worker")
        self.proc.start()
        child.close()
        self.item = None  # the (partner, feed) it runs

    def start(self, item) -> None:
        self.item = item
        try:
            self.conn.send((item[0].id, item[1].domain))
        except OSError:
            pass  # the process is gone: its sentinel reports it, and the feed fails as DIED

    def stop(self, grace: float) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(grace)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def _runs_in_workers(feeds: list, workers: int):
    """Yield ((partner, feed), FeedRun) as the feeds' runs end, ``workers`` processes at a
    time. A worker that dies (killed, out of memory) fails the feed it ran and is replaced;
    the others go on undisturbed."""
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("spawn")  # no inherited threads or connections
    queue = list(feeds)
    pool = [_Worker(context) for _ in range(min(workers, len(queue)))]
    try:
        for worker in pool:
            worker.start(queue.pop(0))
        while any(worker.item for worker in pool):
            busy = [worker for worker in pool if worker.item]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
            for index, worker in enumerate(pool):
                if worker.item is None or (worker.conn not in ready and worker.proc.sentinel not in ready):
                    continue
                item, worker.item = worker.item, None
                try:
                    outcome = worker.conn.recv() if worker.conn.poll() else None
                except (EOFError, OSError):
                    outcome = None
                if outcome is None:  # the process ended without an answer
                    worker.stop(0)
                    outcome = FeedRun(success=False, message=DIED)
                    if queue:
                        worker = pool[index] = _Worker(context)
                yield item, outcome
                if queue:
                    worker.start(queue.pop(0))
    finally:
        # a normal end, Ctrl-C or an error: busy workers finish (or are interrupted by the
        # same Ctrl-C) before they are stopped
        for worker in pool:
            if worker.item is not None:
                if not worker.conn.poll(30):
                    try:
                        os.kill(worker.proc.pid, signal.SIGINT)
                    except ProcessLookupError:
                        pass
                    worker.conn.poll(60)
            worker.stop(10)


def run_sync(
    engine: sa.Engine,
    registry: Registry,
    partner_ids: list[str] | None = None,
    progress=None,
    workers: int = 1,
    configured: bool = True,
) -> SyncSummary:
    """Sync the registry's partners (or those named) through Dagster and publish.

    ``workers``: how many partner feeds run at once, each in a process of its own (a run per
    feed as with 1; the runs of a big registry use every core). With 1 they run one after the
    other in this process. ``configured``: ``registry`` is the one the instance's sensors
    follow (HUB_REGISTRY); another one (``hub sync --registry`` a trial file) adds its
    partitions without deleting those of the configured partners."""
    from hub.definitions import defs

    progress = progress or clocked_lines
    started = time.monotonic()
    partners = registry.partners
    if partner_ids:
        for pid in partner_ids:
            registry.get(pid)  # unknown id: RegistryError
        partners = [p for p in partners if p.id in partner_ids]
    feeds = [(partner, feed) for partner in partners for feed in partner.feeds]
    summary = SyncSummary()
    with SigintWatch() as watch, dagster_instance() as instance:
        sync_partitions(instance, registry, remove_others=configured)
        staged_before = _last_sync_ids(engine)
        fetched_before = _fetch_times(engine)
        if workers > 1 and len(feeds) > 1:
            outcomes = _runs_in_workers(feeds, workers)
        else:
            outcomes = (((partner, feed), _run_feed(instance, partner.id, feed.domain, watch))
                        for partner, feed in feeds)
        done: dict[tuple[str, str], FeedSummary] = {}
        for (partner, feed), outcome in outcomes:
            fetches = _fetch_times(engine) if feed.source.startswith("inbox:") else {}
            if outcome.interrupted:
                # Ctrl-C: Dagster ends the run as failed and returns; stop here, publish
                # nothing (the feeds done so far are staged and publish with the next sync)
                outcomes.close()
                raise KeyboardInterrupt
            item = FeedSummary(partner.id, partner.name, feed.domain, feed.format)
            latest = _latest_sync(engine, partner.id, feed.domain)
            staged_now = (latest.id if latest is not None else None) != \
                staged_before.get((partner.id, feed.domain))
            # a hold fails the run (its blocking check); an older hold explains neither a run
            # that failed before staging (the feed could not be fetched this time) nor one that
            # staged nothing
            if latest is not None and latest.status == "held" and staged_now:
                item.status, item.message = "held", latest.message
                held = latest._mapping  # "items" is a Row method's name too
                item.fetched, item.accepted, item.rejected = held["items"], held["accepted"], held["rejected"]
            elif not outcome.success:
                item.status, item.message = "failed", outcome.message
            elif not staged_now and (settling := _settling(feed)):
                name, age = settling[0]
                item.status = "waiting"
                item.message = (f"{name} in the inbox changed {age:.0f} s ago and may still be "
                                f"being written; it is synced once unchanged for "
                                f"{settle_seconds():.0f} s")
            elif (not staged_now and fetches.get(key := (partner.id, feed.domain)) == fetched_before.get(key)
                  and (taken := _taken_meanwhile(feed))):
                item.status = "waiting"
                item.message = (f"{taken} waits in the inbox: another run (the daemon's, or a "
                                "hub sync of another host) was taking a file of it at the same "
                                "time; the next sync takes it")
            elif latest is None and feed.source.startswith("inbox:"):
                item.status = "waiting"
                item.message = (f"no file in the inbox {feed.source.removeprefix('inbox:')} yet; "
                                "a file dropped there is synced")
            else:
                item.unchanged = not staged_now
                _fill_counts(engine, item)
            item.feedback_warning = outcome.feedback_warning
            if outcome.feedback_warning:
                progress(f"  warning: {outcome.feedback_warning} (the feedback_mail sensor, or the "
                         "next sync, sends it)")
            done[(partner.id, feed.domain)] = item
            if item.message:
                said = item.message if item.message.startswith(f"{item.status}:") else \
                    f"{item.status}: {item.message}"
            else:
                said = ("unchanged: " if item.unchanged else "") + \
                    f"{item.fetched} records, {item.rejected} rejected"
            progress(f"[{len(done)}/{len(feeds)}] {partner.id} ({feed.domain}, {feed.format}): {said}")
        summary.feeds = [done[(partner.id, feed.domain)] for partner, feed in feeds]
        progress("publishing the directory ...")
        run_id = str(uuid.uuid4())
        # the publication's own log lines (phases, entries written) as they are stored: a
        # national publication takes minutes, the terminal shows where it is
        instance.add_event_listener(run_id, step_log_lines(progress))
        result = defs.resolve_job_def("publish_directory").execute_in_process(
            instance=instance, run_config=QUIET_RUN, raise_on_error=False, tags=CLI_RUN_TAGS,
            run_id=run_id,
        )
        if _interrupted(result):
            raise KeyboardInterrupt
        summary.publish_ok = result.success
        if not result.success:
            progress(f"publication failed: {_failure_message(result)}")
    with engine.connect() as conn:
        counts = dict(
            conn.execute(sa.select(directory.c.domain, sa.func.count()).group_by(directory.c.domain)).all()
        )
        summary.published = {d: int(counts.get(d, 0)) for d in ("jobs", "courses", "housing")}
        for item in summary.feeds:
            # the entries the partner's active records are in (the entity map keeps withdrawn
            # records too, and their entity may live on with another partner's)
            item.published = conn.execute(
                sa.select(sa.func.count(sa.distinct(entity_map.c.entity_id)))
                .select_from(
                    entity_map
                    .join(directory, directory.c.entity_id == entity_map.c.entity_id)
                    .join(source_records, sa.and_(
                        source_records.c.domain == entity_map.c.domain,
                        source_records.c.partner_id == entity_map.c.partner_id,
                        source_records.c.source_id == entity_map.c.source_id)))
                .where(entity_map.c.partner_id == item.partner_id, entity_map.c.domain == item.domain,
                       source_records.c.status == "active")
            ).scalar_one()
    summary.seconds = time.monotonic() - started
    return summary


def clocked_lines(message: str) -> None:
    """A progress line on stderr after the time of day ('04:12:09 [3/30] ...'): a sync of a
    national registry takes many minutes, and its lines go to logs read later."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def step_log_lines(progress):
    """An event listener of a run (``DagsterInstance.add_event_listener``) that hands the
    messages its steps log at INFO or above (``context.log.info``) to ``progress``, indented
    under the line that announced the run; Dagster's own events (step started, output,
    materialization ...) are left out."""

    def listen(entry) -> None:
        if entry.dagster_event is None and entry.level >= logging.INFO and entry.user_message:
            progress(f"  {entry.user_message}")

    return listen


def _last_sync_ids(engine: sa.Engine) -> dict[tuple[str, str], int]:
    """(partner, domain) -> id of its latest staging (any outcome), for every feed."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(syncs.c.partner_id, syncs.c.domain, sa.func.max(syncs.c.id))
                            .group_by(syncs.c.partner_id, syncs.c.domain)).all()
    return {(partner, domain): last for partner, domain, last in rows}


def _fill_counts(engine: sa.Engine, item: FeedSummary) -> None:
    """Counts of the partner's last staged delivery (an unchanged feed repeats them)."""
    with engine.connect() as conn:
        _, counts = last_sync_counts(conn, item.partner_id, item.domain)
    item.fetched, item.accepted, item.rejected = counts.items, counts.accepted, counts.rejected


def _latest_sync(engine: sa.Engine, partner_id: str, domain: str):
    """The feed's latest staging (id, status, message and counts; any outcome), or None: a
    held one carries the guard's message, and an id the sync began with means nothing was
    staged."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(syncs.c.id, syncs.c.status, syncs.c.message, syncs.c["items"], syncs.c.accepted,
                      syncs.c.rejected)
            .where(syncs.c.partner_id == partner_id, syncs.c.domain == domain)
            .order_by(syncs.c.id.desc())
            .limit(1)
        ).first()


def _interrupted(result) -> bool:
    """Whether the run ended because the process was interrupted (SIGINT, Ctrl-C)."""
    from hub.assets.feeds import INTERRUPTED

    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        if error is not None and error.cls_name == "DagsterExecutionInterruptedError":
            return True
        failure = getattr(event.event_specific_data, "user_failure_data", None)
        if failure is not None and failure.description == INTERRUPTED:
            return True
    return False


def _failure_message(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            if data.user_failure_data and data.user_failure_data.description:
                return data.user_failure_data.description
            if data.error:
                return data.error.message.strip().splitlines()[-1]
    return "the run failed"
