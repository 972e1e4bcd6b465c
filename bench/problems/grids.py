"""The grid problems: the virtual LATP lab and four test functions on stepped grids."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .functions import (
    BRANIN_SURFACES,
    MIXED_COUNTS,
    MIXED_PEAKS,
    branin_cat_values,
    decoy3_values,
    hartmann6_values,
    mixed4_values,
)
from .problem import Problem, Truth, bench_problem

Axis = tuple[dict[str, Any], list[Any]]

#: Each grid problem's goal, noise sd and budget (n_init, batch_size, n_batches).
GRID_SETTINGS: dict[str, tuple[str, float, tuple[int, int, int]]] = {
    "hartmann6": ("maximize", 0.05, (12, 4, 10)),
    "branin-cat": ("minimize", 0.5, (8, 4, 8)),
    "decoy-3d": ("maximize", 0.02, (8, 4, 8)),
    "mixed-4": ("maximize", 0.02, (12, 4, 10)),
}


def _stepped(name: str, low: float, high: float, step: float) -> Axis:
    """A stepped continuous parameter and its grid values."""
    parameter = {"name": name, "kind": "continuous", "low": low, "high": high, "step": step}
    return parameter, _steps(low, high, step)


def _listed(name: str, kind: str, values: list[Any]) -> Axis:
    """A discrete or categorical parameter and its values."""
    return {"name": name, "kind": kind, "values": list(values)}, list(values)


def _steps(low: float, high: float, step: float) -> list[float]:
    n = round((high - low) / step)
    return [round(low + k * step, 10) for k in range(n + 1)]


def _grid_problem(name: str, description: str, axes: list[Axis], truth: Truth) -> Problem:
    """A problem on the grid of `axes` with Gaussian noise, as GRID_SETTINGS sets it."""
    goal, noise_sd, budget = GRID_SETTINGS[name]
    parameters = [p for p, _ in axes]
    levels = [v for _, v in axes]
    values = _grid_values(levels, [p["name"] for p in parameters], truth)
    return bench_problem(
        name,
        f"{description}; noise sd {noise_sd}",
        parameters,
        {"name": "y", "goal": goal, "transform": "none"},
        values,
        budget=budget,
        noise_sd=noise_sd,
        truth=truth,
        levels=levels,
    )


def _grid_values(levels: list[list[Any]], names: list[str], truth: Truth) -> np.ndarray:
    """Truth over the whole grid (row-major order of `levels`), in chunks of columns."""
    total = math.prod(len(v) for v in levels)
    out = np.empty(total)
    chunk = 200_000
    arrays = [np.asarray(v, dtype=object if isinstance(v[0], str) else float) for v in levels]
    for start in range(0, total, chunk):
        rest = np.arange(start, min(total, start + chunk))
        cols: dict[str, np.ndarray] = {}
        for name, values in zip(reversed(names), reversed(arrays), strict=True):
            rest, k = np.divmod(rest, len(values))
            cols[name] = values[k]
        out[start : start + chunk] = truth(cols)
    return out


def latp() -> Problem:
    """The virtual LATP lab on the study's iteration 3-4 space (log10 conductivity, 0.2 dec)."""
    from kiln.lab import NOISE_SIGMA_LOG10, VirtualLatpLab
    from kiln.presets import latp_campaign

    lab = VirtualLatpLab(seed=0)
    campaign = latp_campaign("bench-latp")
    campaign["strategy"] = {**campaign.get("strategy", {}), "batch_size": 6}
    names = [p["name"] for p in campaign["parameters"]]
    levels: list[list[Any]] = []
    for p in campaign["parameters"]:
        if p["kind"] == "discrete":
            levels.append(list(p["values"]))
        else:
            levels.append(_steps(p["low"], p["high"], p["step"]))

    def truth(cols: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.asarray(lab.truth(*(cols[n] for n in names))["conductivity"], dtype=float)

    def noise(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return values * 10.0 ** (NOISE_SIGMA_LOG10 * rng.standard_normal(values.shape))

    values = _grid_values(levels, names, truth)
    return Problem(
        name="latp",
        description=(
            "virtual LATP lab (kiln.lab, seed 0), iteration 3-4 space, 2,574 grid points; "
            f"maximise conductivity (log10 model); noise sd {NOISE_SIGMA_LOG10} decades"
        ),
        campaign=campaign,
        pool=None,
        levels=levels,
        n_init=6,
        batch_size=6,
        n_batches=6,
        goal="maximize",
        noise_sd=NOISE_SIGMA_LOG10,
        noise_unit="log10(S/cm)",
        score_transform="log10",
        optimum=float(values.max()),
        median=float(np.median(values)),
        _truth=truth,
        _noise=noise,
    )


def hartmann6() -> Problem:
    """Hartmann-6 on a 0.1-stepped grid (maximise)."""
    names = [f"x{i}" for i in range(1, 7)]
    return _grid_problem(
        "hartmann6",
        "Hartmann-6, six 0.1-stepped inputs in [0, 1] (1,771,561 grid points); maximise",
        [_stepped(n, 0.0, 1.0, 0.1) for n in names],
        lambda cols: hartmann6_values(np.stack([cols[n] for n in names], axis=1)),
    )


def branin_cat() -> Problem:
    """Branin with a 3-level categorical surface (minimise)."""
    return _grid_problem(
        "branin-cat",
        "Branin on a 0.25-stepped grid x a 3-level categorical that shifts/scales it "
        "(11,163 points); minimise",
        [
            _stepped("x1", -5.0, 10.0, 0.25),
            _stepped("x2", 0.0, 15.0, 0.25),
            _listed("surface", "categorical", list(BRANIN_SURFACES)),
        ],
        branin_cat_values,
    )


def decoy3() -> Problem:
    """A broad local optimum and a narrow global one, three stepped inputs (maximise)."""
    return _grid_problem(
        "decoy-3d",
        "broad decoy bump (0.8) and narrow global one (1.0), three 0.025-stepped inputs "
        "(68,921 points); maximise",
        [_stepped(n, 0.0, 1.0, 0.025) for n in ("x1", "x2", "x3")],
        decoy3_values,
    )


def mixed4() -> Problem:
    """The issue's mixed 4-parameter problem with a decoy optimum (maximise)."""
    return _grid_problem(
        "mixed-4",
        "two 0.05-stepped continuous, one discrete (7 counts), one 3-level categorical "
        "(9,261 points); decoy 0.8 in one category, global 1.0 in another; maximise",
        [
            _stepped("x1", 0.0, 1.0, 0.05),
            _stepped("x2", 0.0, 1.0, 0.05),
            _listed("count", "discrete", [float(c) for c in MIXED_COUNTS]),
            _listed("catalyst", "categorical", list(MIXED_PEAKS)),
        ],
        mixed4_values,
    )
