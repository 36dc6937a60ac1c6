"""The one timing helper and the one memory helper."""

from __future__ import annotations

import gc
import time
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """How hard to time: ``repeat`` loops of about ``target`` seconds each, fewer repeats when
    a single call is so slow that the cell would pass ``cell_budget`` seconds."""

    repeat: int = 7
    target: float = 0.1
    cell_budget: float = 3.0


DEFAULT = Settings()
QUICK = Settings(repeat=3, target=0.02, cell_budget=1.0)


def best_time(fn: Callable[[], object], settings: Settings) -> float:
    """Seconds per call of ``fn``: the minimum over repeated timeit loops, after a warm-up.

    The minimum, not the mean: on a shared machine noise only ever adds time, so the fastest
    loop is the best estimate of the code's own cost (the argument of ``timeit``'s docs).
    """
    gc.collect()
    start = time.perf_counter()
    fn()  # warm-up, which also sizes the loop
    first = max(time.perf_counter() - start, 1e-9)
    number = max(1, int(settings.target / first))
    repeat = max(1, min(settings.repeat, int(settings.cell_budget / (first * number))))
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak memory allocated during one call of ``fn``, as tracemalloc sees it.

    NumPy reports its array buffers to tracemalloc, so this covers arrays as well as Python
    objects (tapes, tracers). It is measured apart from timing: tracing slows every allocation.
    """
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
