"""The garbage collector paused for bulk work and given back as it was: a long-lived
process (the Dagster code server, hub serve) must not be left without it."""

from __future__ import annotations

import gc

import pytest

from hub import collector
from hub.store.publish import publish_domain


def test_paused_block_freezes_what_exists_and_restores_the_collector():
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with collector.paused():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > frozen
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_collector_comes_back_after_an_error_and_stays_off_if_it_was():
    with pytest.raises(RuntimeError):
        with collector.paused():
            raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_publication_leaves_the_collector_running(engine):
    outcome = publish_domain(engine, "jobs")
    assert outcome.entries == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
