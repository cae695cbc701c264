"""Crash and pause points for the acceptance and concurrency tests: with HUB_CRASH_AT naming a
point, the process kills itself there (SIGKILL, no clean-up), as a power cut or an OOM kill
would; with HUB_PAUSE_AT naming one, it writes ``POINT.reached`` into the folder
HUB_PAUSE_DIR names and waits there until a file ``go`` appears in it (at most a minute), so
that a test can let another process act at exactly that moment. Unset in normal operation,
where a point costs two dictionary look-ups."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

POINTS = ("fetch:landed", "fetch:committed", "stage:written", "publish:written")
PAUSE_LIMIT_SECONDS = 60.0


def crash_point(name: str) -> None:
    if os.environ.get("HUB_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
    if os.environ.get("HUB_PAUSE_AT") == name:
        _pause(name)


def _pause(name: str) -> None:
    folder = Path(os.environ["HUB_PAUSE_DIR"])
    (folder / f"{name.replace(':', '-')}.reached").touch()
    deadline = time.monotonic() + PAUSE_LIMIT_SECONDS
    while not (folder / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
