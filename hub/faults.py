"""Crash points for the connector acceptance tests: with HUB_CRASH_AT naming a point, the
process kills itself there (SIGKILL, no clean-up), as a power cut or an OOM kill would.
Unset in normal operation, where a crash point costs one dictionary look-up."""

from __future__ import annotations

import os
import signal

POINTS = ("fetch:landed", "fetch:committed", "stage:written", "publish:written")


def crash_point(name: str) -> None:
    if os.environ.get("HUB_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
