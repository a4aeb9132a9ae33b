"""The serving process's collector settings."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from chatkit_web.gc_tuning import (
    MIDDLE_THRESHOLD,
    OLD_THRESHOLD,
    YOUNG_THRESHOLD,
    tune_for_serving,
)


@pytest.fixture
def restored_gc() -> Iterator[None]:
    """Put CPython's collector back as it was after the test."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tuning_freezes_start_up_objects_and_raises_the_thresholds(restored_gc: None) -> None:
    tune_for_serving()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
    assert gc.get_freeze_count() > 0
    assert gc.isenabled()
