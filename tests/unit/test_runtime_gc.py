"""The long-running processes collect cycles less often and skip start-up objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ordergrid.entrypoints.runtime import tune_garbage_collector
from ordergrid.settings import Settings


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_gc")
def test_the_young_generation_waits_for_the_configured_allocations() -> None:
    _, older, oldest = gc.get_threshold()
    tune_garbage_collector(Settings(gc_young_threshold=12_345))
    assert gc.get_threshold() == (12_345, older, oldest)
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restored_gc")
def test_zero_keeps_the_interpreters_thresholds() -> None:
    before = gc.get_threshold()
    tune_garbage_collector(Settings(gc_young_threshold=0))
    assert gc.get_threshold() == before
