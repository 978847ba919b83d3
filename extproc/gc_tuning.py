"""Garbage-collector settings for a request-serving process.

Every request allocates many short-lived containers (a 1,000-deep chain expands to
thousands of dicts), and CPython's default gen-0 threshold of 700 allocations then runs
a collection every few hundred microseconds, each older generation's pass walking every
object the process loaded at start (modules, protobuf descriptors, pydantic schemas).
Those passes were the tens-of-milliseconds outliers at deep chains. Freezing what start-up
built takes it out of every later pass; a larger gen-0 threshold makes passes rarer. The
gateway's objects hold no reference cycles on the request path, so memory is freed by
reference counting as before.
"""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "settle_after_start"]

GEN0_THRESHOLD = 50_000


def settle_after_start() -> None:
    """Collect once, then move every surviving object to the permanent generation."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
