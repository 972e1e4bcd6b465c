"""How long a job has left: the planner's estimate first, then the pace of the repeats done."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def about(seconds: float) -> str:
    """A duration as a person says it: "under a minute", "about 4 min", "about 2 h 10 min"."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60:02d} min"


def seconds_left(progress: Mapping[str, Any], elapsed: float) -> float | None:
    """Seconds a fan-out job has left after ``elapsed`` seconds, or None when nothing says.

    Once some repeats are done, their pace (``elapsed`` per repeat done) times the repeats left;
    before that, the planner's ``estimated_seconds`` less the time gone.
    """
    done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
    if total and done > 0:
        return max(0.0, elapsed / done * (total - done))
    estimate = progress.get("estimated_seconds")
    return None if estimate is None else max(0.0, float(estimate) - elapsed)


def progress_line(progress: Mapping[str, Any], elapsed: float) -> str:
    """The share done and the time left, "35 % · about 4 min left" (no time when none is known)."""
    done, total = int(progress.get("done") or 0), int(progress.get("total") or 0)
    percent = f"{100 * done // total} %" if total else "starting"
    left = seconds_left(progress, elapsed)
    return percent if left is None or done >= total > 0 else f"{percent} · {about(left)} left"
