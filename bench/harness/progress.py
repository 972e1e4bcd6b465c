"""Progress of a long benchmark: a tqdm bar fed by the callback the protocols call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm


@contextmanager
def progress_bar(total: int, **options: Any) -> Iterator[Callable[[int, int], None]]:
    """A bar of `total` runs, closed on exit; yields ``progress(done, total)``."""
    bar = tqdm(total=total, unit="run", **options)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        bar.close()
