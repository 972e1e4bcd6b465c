"""bench-proposal's cases: the LATP problem at a given size, the three methods timed on it
(Kiln's believer, the naive believer, scikit-optimize) and which alternative cells run."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from harness.timing import timed
from naive_batch import naive_select_batch
from threadpoolctl import threadpool_limits

from kiln.batch.selection import select_batch
from kiln.lab import VirtualLatpLab
from kiln.model.surrogate import GPSurrogate
from kiln.parameters import ContinuousParameter
from kiln.space import SearchSpace

QS = (1, 6, 24)
NS = (50, 200, 1000)
GRIDS = {10_000: (20, 25, 20), 100_000: (40, 50, 50), 1_000_000: (100, 100, 100)}
TARGET = {"q": 6, "n": 200, "N": 100_000}
TARGET_SECONDS = 1.0
TARGET_RATIO = 10.0
RANGES = {"acid_wt_pct": (-22.5, 7.5), "temperature_c": (800.0, 1100.0), "time_min": (10.0, 540.0)}
#: Alternatives predict every candidate at once: about three n x N float64 arrays.
ALT_MEMORY_CAP = 2 * 2**30
METHODS = ("kiln", "naive", "skopt")


# --------------------------------------------------------------------------------- problem
def space_for(n_candidates: int) -> SearchSpace:
    """The LATP box with steps that make its grid exactly ``n_candidates`` points."""
    shape = GRIDS[n_candidates]
    return SearchSpace(
        [
            ContinuousParameter(name, lo, hi, step=(hi - lo) / (k - 1))
            for (name, (lo, hi)), k in zip(RANGES.items(), shape, strict=True)
        ]
    )


def candidates_for(n_candidates: int) -> np.ndarray:
    """The space's step grid on the unit cube (equal to ``space.encode(space.grid())``)."""
    axes = [np.linspace(0.0, 1.0, k) for k in GRIDS[n_candidates]]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh])


def check_candidates(n_candidates: int, C: np.ndarray) -> None:
    """Spot-check the fast grid against the space's own encoding."""
    space = space_for(n_candidates)
    rows = np.random.default_rng(0).choice(len(C), size=50, replace=False)
    points = [space.decode(C[i]) for i in rows]
    np.testing.assert_allclose(space.encode(points), C[rows], atol=1e-9)


def box() -> tuple[np.ndarray, np.ndarray]:
    """The LATP box's lower corner and its spans (a unit-cube row times spans plus lows)."""
    return np.array([lo for lo, _ in RANGES.values()]), np.array(
        [hi - lo for lo, hi in RANGES.values()]
    )


def is_target(q: int, n: int, N: int) -> bool:
    """Whether (q, n, N) is the target cell (every method always runs there)."""
    return (q, n, N) == (TARGET["q"], TARGET["n"], TARGET["N"])


def observations(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random syntheses measured by the virtual lab: unit-cube X, log10 conductivity."""
    rng = np.random.default_rng([seed, n])
    X = rng.uniform(size=(n, 3))
    lab = VirtualLatpLab(seed=seed)
    lows, spans = box()
    y = np.empty(n)
    for i, row in enumerate(lows + X * spans):
        params = dict(zip(RANGES, (float(v) for v in row), strict=True))
        y[i] = np.log10(lab.measure(params, rng)["objective"])
    return X, y


# ------------------------------------------------------------------------------- methods
def run_kiln(model: GPSurrogate, C: np.ndarray, q: int) -> list[int]:
    return [p.index for p in select_batch(model, C, q).picks]  # type: ignore[misc]


def run_naive(model: GPSurrogate, C: np.ndarray, q: int) -> list[int]:
    return [p.index for p in naive_select_batch(model, C, q).picks]  # type: ignore[misc]


def make_skopt(rows: list[list[float]], seed: int) -> Any:
    from skopt_pool import PoolOptimizer, kiln_like_gp

    return PoolOptimizer(
        rows,
        base_estimator=kiln_like_gp(3, seed=seed),
        acq_func="LCB",
        acq_func_kwargs={"kappa": 1.96},
        random_state=seed,
    )


def run_skopt(
    rows: list[list[float]], X: np.ndarray, y: np.ndarray, q: int, seed: int
) -> tuple[float, float, list[list[float]], int]:
    """(tell seconds, ask seconds, picks, picks skopt replaced by a random point)."""
    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt = make_skopt(rows, seed)
        start = time.perf_counter()
        opt.tell(X.tolist(), (-y).tolist())
        tell = time.perf_counter() - start
        start = time.perf_counter()
        picks = opt.ask(n_points=q, strategy="cl_min")
        ask = time.perf_counter() - start
    replaced = sum("evaluated at point" in str(w.message) for w in caught)
    return tell, ask, picks, replaced


def skopt_fit_seconds(X: np.ndarray, y: np.ndarray) -> float:
    """One fit of skopt's GP (hyperparameters optimised), as ``tell`` does it."""
    from skopt_pool import kiln_like_gp

    with threadpool_limits(1, user_api="blas"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, _ = timed(lambda: kiln_like_gp(X.shape[1]).fit(X, -y))
    return t


# ------------------------------------------------------------------------------ planning
def unchunked_bytes(n: int, N: int) -> int:
    return 3 * n * N * 8


def plan_alternative(
    method: str, q: int, n: int, N: int, unit: dict[str, float], cap: float
) -> tuple[int, str | None, float]:
    """(repeats, reason to skip or None, predicted seconds per run) for naive or skopt."""
    scale_sweep = (N / TARGET["N"]) * max((n / TARGET["n"]) ** 2, 0.25)
    if method == "naive":
        predicted = unit["naive_per_pick"] * q * scale_sweep
    else:
        fits = q + 2
        predicted = fits * (
            unit["skopt_per_fit"] * (n / TARGET["n"]) ** 2 + unit["skopt_per_sweep"] * scale_sweep
        )
    if is_target(q, n, N):
        return 3, None, predicted
    if unchunked_bytes(n, N) > ALT_MEMORY_CAP:
        need = unchunked_bytes(n, N) / 2**30
        return 0, f"unchunked prediction needs ~{need:.1f} GiB (cap 2 GiB)", predicted
    if predicted > cap:
        return 0, f"predicted {predicted:.0f} s per run > cap {cap:.0f} s", predicted
    return (3 if predicted <= 20 else 1), None, predicted
