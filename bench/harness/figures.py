"""Figures of the benchmarks: matplotlib without a display, saved and closed."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path, dpi: int) -> None:
    """Lay the figure out, write it to `path` and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


def cpus_and_load(info: dict[str, Any]) -> str:
    """For a figure's title: the machine's CPUs and its load when the run started."""
    return f"{info['cpus']} CPUs, load {info['load_average'][0]}"
