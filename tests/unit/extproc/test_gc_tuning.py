"""After start, start-up objects sit in the permanent generation and gen 0 runs rarely."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from extproc.gc_tuning import GEN0_THRESHOLD, settle_after_start


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settle_freezes_survivors_and_raises_gen0(restored_gc: None) -> None:
    kept = [{"n": n} for n in range(1000)]
    settle_after_start()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold()[0] == GEN0_THRESHOLD
