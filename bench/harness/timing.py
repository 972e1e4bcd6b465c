"""Wall-clock timing and the statistics the benchmarks quote of it."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds `fn()` took, what it returned)."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def median_or_none(values: Sequence[float | None]) -> float | None:
    """The median of the values present, or None when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (linear interpolation between order statistics)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q * 100) - 1]
