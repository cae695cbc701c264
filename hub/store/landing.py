"""Content-addressed landing store for raw partner payloads.

Every payload is kept under its SHA-256, so a run can be replayed without asking the partner
again, and the same bytes fetched twice are stored once. Writes are atomic (temporary file,
then rename): a crash leaves either the whole payload or nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import BinaryIO


class LandingWriter:
    """One payload being written to the landing store (``LandingStore.writer``): ``write``
    the pieces, then ``commit`` (returns the hash; the payload is in place) or ``discard``.
    A crash leaves only a temporary file beside the store's folders."""

    def __init__(self, store: "LandingStore"):
        self.store = store
        store.root.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=store.root, prefix=".incoming-")
        self.handle = os.fdopen(fd, "wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, piece: bytes) -> None:
        self.handle.write(piece)
        self.digest.update(piece)
        self.size += len(piece)

    def commit(self) -> str:
        sha = self.digest.hexdigest()
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            target = self.store.path_for(sha)
            if target.exists():
                Path(self.tmp).unlink()
                return sha
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.tmp, target)
            self.store._marker(sha).unlink(missing_ok=True)  # fetched again after an erasure
        except BaseException:
            self.discard()
            raise
        return sha

    def discard(self) -> None:
        self.handle.close()
        Path(self.tmp).unlink(missing_ok=True)


class LandingStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, body: bytes) -> str:
        sha = hashlib.sha256(body).hexdigest()
        target = self.path_for(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
            self._marker(sha).unlink(missing_ok=True)  # fetched again after an erasure
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def writer(self) -> "LandingWriter":
        """A payload written piece by piece (a body streamed from the network): its hash is
        known, and it gets its place, when it is complete."""
        return LandingWriter(self)

    def open(self, sha256: str) -> BinaryIO:
        """The payload as a file to read from, after its bytes were checked against the hash
        (read through once, a block at a time: a big payload is never all in memory).
        KeyError as ``get``."""
        path = self.path_for(sha256)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            self.get(sha256)  # raises the KeyError that explains the gap
            raise
        digest = hashlib.sha256()
        while block := handle.read(1 << 20):
            digest.update(block)
        if digest.hexdigest() != sha256:
            handle.close()
            raise KeyError(f"payload {sha256[:12]} in {self.root} is damaged (hash mismatch)")
        handle.seek(0)
        return handle

    def get(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        try:
            body = path.read_bytes()
        except FileNotFoundError:
            note = self.erased(sha256)
            if note is not None:
                raise KeyError(
                    f"payload {sha256[:12]} was erased on {note.get('erased_at', '?')[:10]} "
                    f"({note.get('why', 'personal data')}); fetch the feed again"
                ) from None
            raise KeyError(f"payload {sha256[:12]} is not in the landing store {self.root}") from None
        if hashlib.sha256(body).hexdigest() != sha256:
            raise KeyError(f"payload {sha256[:12]} in {self.root} is damaged (hash mismatch)")
        return body

    def __contains__(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def sweep_incoming(self, before: float) -> int:
        """Remove temporary files of writes that never finished (a process killed while it
        fetched) last touched before ``before`` (a POSIX time); returns how many. They may
        hold personal data like any payload."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in [*self.root.glob(".incoming-*"), *self.root.glob("*/*/.incoming-*")]:
            try:
                if path.stat().st_mtime < before:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    # -- erasure -------------------------------------------------------------------------

    def _marker(self, sha256: str) -> Path:
        return self.path_for(sha256).with_name(sha256 + ".erased")

    def erase(self, sha256: str, why: str, when: str) -> bool:
        """Remove the payload's bytes and leave a marker saying when and why, so that a replay
        explains itself. The marker holds no payload data. Pages of a manifest are payloads of
        their own: the caller erases them. Returns whether bytes were removed."""
        path = self.path_for(sha256)
        marker = self._marker(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not marker.exists():  # the marker first: a crash in between still explains the gap
            marker.write_text(json.dumps({"erased_at": when, "why": why}), encoding="utf-8")
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def erased(self, sha256: str) -> dict | None:
        """The erasure note of a payload whose bytes were removed, else None."""
        try:
            return json.loads(self._marker(sha256).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def pages(self, sha256: str) -> list[str]:
        """The page hashes of a multi-page manifest; [] for a single payload or a missing one."""
        try:
            head = self.path_for(sha256).read_bytes()
        except FileNotFoundError:
            return []
        if head.startswith(b'{"' + self.MANIFEST_KEY.encode()):
            manifest = json.loads(head)
            return list(manifest["pages"]) + list(manifest.get("details", []))
        return []

    # -- multi-page payloads -------------------------------------------------------------

    MANIFEST_KEY = "hub_landing_manifest"

    def put_manifest(self, pages: list[str], details: list[str] | None = None) -> str:
        """The payload of a fetch whose pages (and the details responses fetched for their
        records) were landed one by one with ``put``: a manifest naming them in order; returns
        its hash. A single page without details is its own payload."""
        if len(pages) == 1 and not details:
            return pages[0]
        content: dict = {self.MANIFEST_KEY: 1, "pages": list(pages)}
        if details:
            content["details"] = list(details)
        return self.put(json.dumps(content, separators=(",", ":")).encode())

    def put_pages(self, pages: list[bytes], details: list[bytes] | None = None) -> str:
        """Store each page and each details response, then their manifest (``put_manifest``)."""
        return self.put_manifest([self.put(page) for page in pages],
                                 [self.put(body) for body in details or ()])

    def part_hashes(self, sha256: str, part: str = "pages") -> list[str]:
        """The hashes of a payload's ``part`` ("pages" or "details"): a manifest's list, or
        the payload itself as its only page. KeyError as ``get`` for a missing payload."""
        head = self._head(sha256)
        if head.startswith(b'{"' + self.MANIFEST_KEY.encode()):
            return list(json.loads(self.get(sha256)).get(part, []))
        return [sha256] if part == "pages" else []

    def _head(self, sha256: str) -> bytes:
        try:
            with self.path_for(sha256).open("rb") as handle:
                return handle.read(len(self.MANIFEST_KEY) + 2)
        except FileNotFoundError:
            self.get(sha256)  # raises the KeyError that explains the gap
            raise

    def bodies(self, sha256: str) -> list[bytes]:
        """The payload's bytes, or the bytes of each page when it is a manifest."""
        return [self.get(page) for page in self.part_hashes(sha256, "pages")]

    def details(self, sha256: str) -> list[bytes]:
        """The details responses stored with a manifest's pages ([] for none)."""
        return [self.get(body) for body in self.part_hashes(sha256, "details")]
