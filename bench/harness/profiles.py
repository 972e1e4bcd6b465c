"""pyinstrument profiles of a piece of a benchmark, written as text beside its results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def profile_to_file(
    work: Callable[[], Any], path: Path, *, interval: float, unicode: bool = True
) -> Any:
    """Run `work()` under pyinstrument (wall clock); write its call tree to `path`.

    Returns the profiler (``last_session`` holds the frames for a closer look).
    """
    from pyinstrument import Profiler

    profiler = Profiler(interval=interval)
    profiler.start()
    try:
        work()
    finally:
        profiler.stop()
    path.write_text(profiler.output_text(unicode=unicode, color=False, show_all=False))
    return profiler
