"""Python's cyclic garbage collector, paused for the hub's bulk work.

Staging and publication make millions of small objects that live for the whole step (a
chunk's records; the resolver's features and keys of a domain), and every automatic full
collection walks all of them again while hardly any of them is garbage. Measured: BA
Jobsuche, 100,000 postings parsed in 4.2 s with the collector running, 2.4 s without; a
national jobs publication (1,000,000 postings, ``bench/publish.py``) 277-282 s of user CPU
time with it, 237-292 s without (two and three runs; the machine varies by 10 % and more),
peak memory the same (its garbage is freed by reference counting, not by the collector).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off, and what exists on entry frozen (never walked), until the block
    ends; then as it was. Usable as a decorator. A caller may collect and ``gc.freeze()``
    itself at points where little is alive (staging does after each chunk)."""
    enabled = gc.isenabled()
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if enabled:
            gc.enable()
