"""What the machine a benchmark ran on can do, printed with every benchmark's figures.

Machines here differ by a factor of three and more in plain Python speed (a bare loop of ten
million additions: 0.5 s on one, 1.7 s on another), so a figure alone says little about the
code. ``machine()`` measures that loop before the benchmark starts: compare two reports'
figures only after scaling them by their ``python_loop_10m_s``.
"""

from __future__ import annotations

import os
import platform
import time

LOOP = 10_000_000


def python_loop_seconds(tries: int = 2) -> float:
    """The fastest of ``tries`` runs of a bare loop adding LOOP integers (seconds)."""
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        total = 0
        for i in range(LOOP):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best, 2)


def processor() -> str:
    """The processor's model name (Linux: /proc/cpuinfo), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """Cores, processor and Python loop speed: the ``machine`` entry of a benchmark report."""
    return {"cores": os.cpu_count(), "processor": processor(),
            "python": platform.python_version(), "python_loop_10m_s": python_loop_seconds()}
