"""Figures of the virtual experiments (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["plot_virtual_experiments"]

_STYLE: dict[str, dict[str, Any]] = {
    "ucb": {"label": "GP-UCB", "color": "tab:blue", "marker": "o"},
    "ei": {"label": "GP-EI", "color": "tab:orange", "marker": "s"},
    "pi": {"label": "GP-PI", "color": "tab:green", "marker": "^"},
    "random": {"label": "random", "color": "0.35", "marker": None, "linestyle": "--"},
}


def plot_virtual_experiments(
    results: Mapping[str, Mapping[Any, Mapping[str, Any]]],
    path: str | Path | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Two panels like the study's Figure 3: runs that found the best, and mean extra tries.

    Args:
        results: ``{strategy: {n_init: {"found", "runs", "mean_extra_tries"}}}`` (the
            :func:`kiln.virtual_experiments.summarise` table; ``n_init`` keys may be strings).
        path: Where to save the figure (PNG by suffix); None only returns it.
        title: Optional figure title.

    Returns:
        The matplotlib figure.
    """
    fig, (ax_found, ax_tries) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    runs = 0
    for strategy, by_n in results.items():
        style: dict[str, Any] = dict(_STYLE.get(strategy, {"label": strategy}))
        label = style.pop("label")
        ns = sorted(by_n, key=lambda k: int(k))
        xs = [int(n) for n in ns]
        found = [by_n[n]["found"] for n in ns]
        tries = [by_n[n]["mean_extra_tries"] for n in ns]
        runs = max([runs, *(int(by_n[n]["runs"]) for n in ns)])
        ax_found.plot(xs, found, label=label, **style)
        ax_tries.plot(xs, [float("nan") if t is None else t for t in tries], label=label, **style)
    ax_found.set_xlabel("initial random samples n")
    ax_found.set_ylabel(f"runs that found the best (of {runs})")
    ax_found.set_ylim(0, runs * 1.05 if runs else 1)
    ax_tries.set_xlabel("initial random samples n")
    ax_tries.set_ylabel("mean extra tries to the best (found runs)")
    ax_tries.set_ylim(bottom=0)
    for ax in (ax_found, ax_tries):
        ax.grid(alpha=0.3)
    ax_tries.legend()
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=120)
        plt.close(fig)
    return fig
