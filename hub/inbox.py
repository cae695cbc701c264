"""Inbox folders for partners without an API: a file dropped into the partner's folder is
picked up (oldest first), processed once, and moved aside into ``processed/``; a file whose
sync failed (unusable, or an empty snapshot refused) goes on from there into ``failed/``, so
the steward sees which files failed."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.config import SettingsError, env_float
from hub.registry import Feed, Partner, Registry

PROCESSED = "processed"
FAILED = "failed"
ASIDE = (PROCESSED, FAILED)  # where the hub keeps the files it took (erasure looks in both)
# a file changed less than this long ago may still be being written (an upload over SMB or
# SFTP can pause for seconds): it is left for a later look. HUB_INBOX_SETTLE_SECONDS sets it.
SETTLE_SECONDS = 30.0


def settle_seconds() -> float:
    """HUB_INBOX_SETTLE_SECONDS (default SETTLE_SECONDS); SettingsError for a value that is
    not a number of seconds (a typo must not silently mean the default)."""
    return env_float(os.environ, "HUB_INBOX_SETTLE_SECONDS", SETTLE_SECONDS, error=SettingsError)


@dataclass(frozen=True)
class InboxFile:
    partner_id: str
    domain: str
    path: Path
    size: int
    mtime: float

    @property
    def key(self) -> str:
        """Identifies this delivery: the same file dropped again later is a new delivery."""
        return f"{self.partner_id}:{self.domain}:{self.path.name}:{self.size}:{int(self.mtime)}"


def inbox_folder(feed: Feed) -> Path | None:
    return Path(feed.source.removeprefix("inbox:")) if feed.source.startswith("inbox:") else None


def _candidates(folder: Path) -> list[Path]:
    """Files of ``folder`` that are deliveries: not hidden, not partial uploads, not symbolic
    links (a partner who may upload may create one, e.g. over SFTP: a link to the hub's
    database or to another partner's inbox would be read as its delivery and quoted back in
    its feedback report)."""
    if not folder.is_dir():
        return []
    return [path for path in folder.iterdir()
            if path.is_file() and not path.is_symlink() and not path.name.startswith((".", "~"))
            and path.suffix not in (".part", ".tmp")]


def waiting_files(folder: Path, settle: float | None = None, now: float | None = None) -> list[Path]:
    """Files waiting in ``folder``, oldest first; hidden, partial and settling files excluded."""
    settle = settle_seconds() if settle is None else settle
    now = time.time() if now is None else now
    files = [path for path in _candidates(folder) if now - path.stat().st_mtime >= settle]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def settling_files(folder: Path, now: float | None = None) -> list[tuple[str, float]]:
    """(name, seconds since its last change) of the files still settling in ``folder``."""
    now = time.time() if now is None else now
    settle = settle_seconds()
    ages = [(path.name, now - path.stat().st_mtime) for path in _candidates(folder)]
    return sorted((name, age) for name, age in ages if age < settle)


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be an inbox, in words (None: it can): the registry's ``source``
    naming the partner's export file instead of the folder it is dropped into is a mistake a
    steward makes, and 'not found' sent them looking for a file that is there."""
    if folder.is_dir():
        return None
    if folder.exists():
        return ("it is a file, not a folder (an inbox source names the folder the partner's "
                f"files are dropped into: inbox:{folder.parent})")
    return (f"the folder does not exist (yet): create it (mkdir -p {folder}) and let the "
            "partner's uploads write there, or correct source: in the registry")


def next_delivery(folder: Path) -> tuple[Path | None, str]:
    """The file of the inbox ``folder`` that the next sync takes (None: none, or only one still
    arriving), and what waits there in words: 'the next sync takes kurse.csv (2 files waiting)', 'no file is waiting
    there (kurse.csv is still arriving, changed 4 s ago)'."""
    problem = folder_problem(folder)
    if problem:
        return None, problem
    files = waiting_files(folder)
    if files:
        return files[0], (f"the next sync takes {files[0].name}"
                          + (f" ({len(files)} files waiting)" if len(files) > 1 else ""))
    arriving = settling_files(folder)
    if arriving:
        name, age = arriving[0]
        return None, f"no file is waiting there ({name} is still arriving, changed {age:.0f} s ago)"
    return None, "no file is waiting there"


def pending(registry: Registry, settle: float | None = None) -> list[InboxFile]:
    out = []
    for partner in registry.partners:
        for feed in partner.feeds:
            folder = inbox_folder(feed)
            if folder is None:
                continue
            for path in waiting_files(folder, settle):
                stat = path.stat()
                out.append(InboxFile(partner.id, feed.domain, path, stat.st_size, stat.st_mtime))
    return out


@contextmanager
def taking(folder: Path) -> Iterator[bool]:
    """Hold the inbox ``folder``'s lock (flock on the folder itself: nothing is written into
    the partner's folder) while a file of it is read, landed and moved aside: yields True
    when this process holds it, False when another one does (a run the daemon started and a
    `hub sync`, or two containers on one shared volume): that one takes the file, and this
    one must take none, or both would land it and the later one fail to move it. Where the
    folder cannot be locked (a network file system without flock on folders) it yields True,
    as before there was a lock."""
    import fcntl

    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield True
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        except OSError:
            yield True
            return
        yield True  # closing the folder releases the lock
    finally:
        os.close(handle)


def file_stamp(info: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is written on, truncated, touched or replaced by another under
    its name (the inode, the size, the modification and status-change times)."""
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def written_on(path: Path, stamp: tuple[int, ...]) -> bool:
    """Whether the inbox file ``path``, read when it had ``stamp`` (file_stamp), changed
    since or is gone: an upload that paused for longer than the settle time and went on while
    the file was read. Taken, the file's first part would be staged as the whole delivery and
    the file moved aside complete, its rest never read."""
    try:
        return file_stamp(path.stat()) != stamp
    except FileNotFoundError:
        return True


def move_aside(path: Path) -> Path:
    """Move a processed file into ``processed/`` beside it, with a time stamp in its name."""
    target_dir = path.parent / PROCESSED
    target_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = target_dir / f"{stamp}-{path.name}"
    counter = 1
    while target.exists():
        target = target_dir / f"{stamp}-{counter}-{path.name}"
        counter += 1
    os.replace(path, target)
    return target


def files_aside(folder: Path) -> list[Path]:
    """The files the hub moved aside from the inbox ``folder`` (``processed/``, ``failed/``),
    oldest stamp first in each: what an erasure and the retention pass look through."""
    return [path for aside in (folder / name for name in ASIDE)
            for path in (sorted(aside.iterdir()) if aside.is_dir() else ()) if path.is_file()]


def set_aside_failed(folder: Path, sha256: str, size: int) -> Path | None:
    """Move the file of ``folder``'s ``processed/`` that is the failed delivery ``sha256``
    (``size`` bytes) into ``failed/`` beside it, keeping its name; the newest such file (its
    fetch moved it there just before). Returns where it went; None when none is there (the
    same failed delivery staged again without a new file)."""
    aside = folder / PROCESSED
    for path in sorted(aside.iterdir(), reverse=True) if aside.is_dir() else ():  # newest stamp first
        try:
            if not path.is_file() or path.stat().st_size != size:
                continue
            with path.open("rb") as handle:
                if hashlib.file_digest(handle, "sha256").hexdigest() != sha256:
                    continue
            target = folder / FAILED / path.name
            target.parent.mkdir(exist_ok=True)
            os.replace(path, target)
        except OSError:
            return None  # the sync's failure is what counts; the file stays where it is
        return target
    return None


def partner_feeds_with_inbox(registry: Registry) -> list[tuple[Partner, Feed]]:
    return [(p, f) for p in registry.partners for f in p.feeds if inbox_folder(f) is not None]
