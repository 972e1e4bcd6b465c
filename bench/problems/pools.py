"""The pool problems: two real data sets of Liang et al. (2021) as finite candidate pools."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .problem import Problem, bench_problem

DATA = Path(__file__).resolve().parents[1] / "data" / "liang2021"


def _pool_problem(
    name: str,
    file: str,
    goal: str,
    description: str,
    discrete: Sequence[str],
    *,
    batch_size: int,
    n_batches: int,
) -> Problem:
    frame = pd.read_csv(DATA / file)
    inputs, target = list(frame.columns[:-1]), frame.columns[-1]
    grouped = frame.groupby(inputs, as_index=False)[target].mean()
    names = [_safe_name(c) for c in inputs]
    parameters: list[dict[str, Any]] = []
    for column, pname in zip(inputs, names, strict=True):
        values = grouped[column]
        if column in discrete:
            parameters.append(
                {"name": pname, "kind": "discrete", "values": sorted(float(v) for v in set(values))}
            )
        else:
            parameters.append(
                {
                    "name": pname,
                    "kind": "continuous",
                    "low": float(values.min()),
                    "high": float(values.max()),
                }
            )
    rows = [
        {pname: float(r[c]) for c, pname in zip(inputs, names, strict=True)}
        for _, r in grouped.iterrows()
    ]
    y = grouped[target].to_numpy(dtype=float)
    return bench_problem(
        name,
        f"{description}; {len(rows)} pool rows (mean per unique input); no noise",
        parameters,
        {"name": _safe_name(target), "goal": goal, "transform": "none"},
        y,
        budget=(2, batch_size, n_batches),
        noise_sd=0.0,
        truth=lambda cols: np.zeros(0),  # a pool looks its values up
        pool=rows,
    )


def _safe_name(column: str) -> str:
    """A parameter name from a CSV header: 'QAgNO3(%)' -> 'QAgNO3', 'Qtot(uL/min)' -> 'Qtot'."""
    return column.split("(")[0].strip()


def crossed_barrel() -> Problem:
    """Crossed barrel (Gongora et al. 2020 via Liang et al. 2021): maximise toughness."""
    return _pool_problem(
        "crossed-barrel",
        "crossed_barrel.csv",
        "maximize",
        "Crossed barrel (Liang et al. 2021 data): n, theta, r, t as listed values; maximise "
        "toughness",
        discrete=["n", "theta", "r", "t"],
        batch_size=4,
        n_batches=35,
    )


def agnp() -> Problem:
    """AgNP (Mekki-Berrada et al. 2021 via Liang et al. 2021): minimise the spectral loss."""
    return _pool_problem(
        "agnp",
        "agnp.csv",
        "minimize",
        "AgNP (Liang et al. 2021 data): five flow-rate ratios as continuous ranges; minimise loss",
        discrete=[],
        batch_size=4,
        n_batches=12,
    )
