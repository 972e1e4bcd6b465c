"""A benchmark problem: what every method is given and how its trace is scored."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

#: Share of a pool that forms its top set (Liang et al. 2021).
TOP_SHARE = 0.05
#: A noiseless objective of columns: parameter name -> array of values (object arrays of labels
#: for categorical parameters).
Truth = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One benchmark problem; see the module docstring for the trace format.

    Attributes:
        name: Short name (``--problems`` picks by it).
        description: One line for the output, with the noise.
        campaign: The campaign JSON as ``POST /api/v1/campaigns`` takes it (no candidates: the
            pool is in ``pool``).
        pool: The finite candidate rows (parameter dicts) or None for a grid problem.
        levels: For a grid problem, the values of each parameter (the grid is their product),
            in ``campaign["parameters"]`` order; None for a pool.
        n_init: Random initial points (distinct grid points or pool rows), seeded.
        batch_size: Proposals per batch.
        n_batches: Batches after the initial design.
        goal: ``"maximize"`` or ``"minimize"``.
        noise_sd: Standard deviation of the measurement noise, in ``noise_unit``.
        noise_unit: What the noise is added to (e.g. "log10(S/cm)", "objective").
        score_transform: "log10" when regret is counted in decades (the LATP lab), else "none".
        optimum: Best truth over the grid / pool (original unit).
        median: Median truth over the grid / pool (the reference for "% of the way").
    """

    name: str
    description: str
    campaign: dict[str, Any]
    pool: list[dict[str, Any]] | None
    levels: list[list[Any]] | None
    n_init: int
    batch_size: int
    n_batches: int
    goal: str
    noise_sd: float
    noise_unit: str = "objective"
    score_transform: str = "none"
    optimum: float
    median: float
    _truth: Truth = field(repr=False)
    _noise: Callable[[np.ndarray, np.random.Generator], np.ndarray] = field(repr=False)
    pool_values: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ objective
    def truth(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Noiseless objective at the points, in the original unit."""
        if self.pool is not None:
            assert self.pool_values is not None
            return self.pool_values[[self.row_of(p) for p in points]]
        return np.asarray(self._truth(self.columns(points)), dtype=float)

    def columns(self, points: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
        """Points as columns (floats; object arrays for categorical parameters)."""
        return {
            p["name"]: np.asarray(
                [pt[p["name"]] for pt in points],
                dtype=object if p["kind"] == "categorical" else float,
            )
            for p in self.campaign["parameters"]
        }

    def measure(self, points: Sequence[Mapping[str, Any]], rng: np.random.Generator) -> np.ndarray:
        """Noisy objective at the points (original unit), noise drawn from `rng`."""
        return self._noise(self.truth(points), rng)

    def score(self, values: np.ndarray | Sequence[float]) -> np.ndarray:
        """Values on the scale regret is counted in (log10 for the LATP lab)."""
        v = np.asarray(values, dtype=float)
        return np.log10(v) if self.score_transform == "log10" else v

    def regret(self, best_true: float) -> float:
        """Simple regret of a best true value (>= 0, on the score scale)."""
        a, b = self.score([self.optimum, best_true])
        return float(a - b) if self.goal == "maximize" else float(b - a)

    def share_of_gap(self, best_true: float) -> float:
        """How far a best true value went from the median (0) to the optimum (1), score scale."""
        opt, med, best = self.score([self.optimum, self.median, best_true])
        return float((best - med) / (opt - med))

    # ------------------------------------------------------------------ candidates
    @property
    def size(self) -> int:
        """Number of grid points / pool rows."""
        if self.pool is not None:
            return len(self.pool)
        assert self.levels is not None
        return math.prod(len(v) for v in self.levels)

    @property
    def names(self) -> list[str]:
        """Parameter names, in campaign order."""
        return [p["name"] for p in self.campaign["parameters"]]

    def point(self, index: int) -> dict[str, Any]:
        """Grid point / pool row number `index` (the grid in row-major order of `levels`)."""
        if self.pool is not None:
            return dict(self.pool[index])
        assert self.levels is not None
        out: dict[str, Any] = {}
        for name, values in zip(reversed(self.names), reversed(self.levels), strict=True):
            index, k = divmod(index, len(values))
            out[name] = values[k]
        return {n: out[n] for n in self.names}

    @cached_property
    def _row_index(self) -> dict[tuple[Any, ...], int]:
        assert self.pool is not None
        return {_key(self.names, row): i for i, row in enumerate(self.pool)}

    def row_of(self, point: Mapping[str, Any]) -> int:
        """The pool row of a point (values compared to 9 significant digits)."""
        return self._row_index[_key(self.names, point)]

    def random_indices(self, n: int, rng: np.random.Generator, exclude: set[int]) -> list[int]:
        """`n` distinct random grid / pool indices not in `exclude` (fewer if it runs out)."""
        n = min(n, self.size - len(exclude))
        out: list[int] = []
        chosen = set(exclude)
        if self.size <= 1_000_000 or len(chosen) > self.size // 2:
            order = rng.permutation(self.size)
            out = [int(i) for i in order if int(i) not in chosen][:n]
            return out
        while len(out) < n:  # a huge grid: rejection is cheap
            i = int(rng.integers(self.size))
            if i not in chosen:
                chosen.add(i)
                out.append(i)
        return out

    def initial_points(self, seed: int) -> list[dict[str, Any]]:
        """The seeded initial design: `n_init` distinct random grid points / pool rows."""
        rng = np.random.default_rng([seed, 7_919])
        return [self.point(i) for i in self.random_indices(self.n_init, rng, set())]

    def index_of(self, point: Mapping[str, Any]) -> int:
        """Grid index / pool row of a point (inverse of :meth:`point`)."""
        if self.pool is not None:
            return self.row_of(point)
        assert self.levels is not None
        index = 0
        for name, values in zip(self.names, self.levels, strict=True):
            index = index * len(values) + _position(values, point[name])
        return index

    # ------------------------------------------------------------------ pool metrics
    @cached_property
    def top_set(self) -> frozenset[int]:
        """Pool rows of the best ceil(5 %) truths (Liang et al. 2021); empty for grids."""
        if self.pool_values is None:
            return frozenset()
        k = math.ceil(TOP_SHARE * len(self.pool_values))
        order = np.argsort(-self.pool_values if self.goal == "maximize" else self.pool_values)
        return frozenset(int(i) for i in order[:k])

    def with_budget(self, **changes: Any) -> Problem:
        """A copy with other n_init / batch_size / n_batches (the campaign's batch size too)."""
        new = replace(self, **changes)
        campaign = dict(new.campaign)
        campaign["strategy"] = {**campaign["strategy"], "batch_size": new.batch_size}
        return replace(new, campaign=campaign)


def _key(names: Sequence[str], point: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        v if isinstance(v, str) else float(f"{float(v):.9g}") for v in (point[n] for n in names)
    )


def _position(values: Sequence[Any], value: Any) -> int:
    if isinstance(value, str):
        return list(values).index(value)
    return int(np.argmin([abs(float(v) - float(value)) for v in values]))


def gaussian_noise(sd: float) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    def add(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return truth + sd * rng.standard_normal(truth.shape)

    return add


def scale_of(values: np.ndarray, goal: str) -> dict[str, float]:
    """A problem's ``optimum`` (best by `goal`) and ``median`` over its grid / pool values."""
    best = values.max() if goal == "maximize" else values.min()
    return {"optimum": float(best), "median": float(np.median(values))}


def campaign_json(
    name: str, parameters: list[dict[str, Any]], objective: dict[str, Any], batch_size: int
) -> dict[str, Any]:
    """The campaign JSON of a bench problem, as ``POST /api/v1/campaigns`` takes it."""
    return {
        "name": f"bench-{name}",
        "parameters": parameters,
        "objective": objective,
        "strategy": {"batch_size": batch_size},
    }


def bench_problem(
    name: str,
    description: str,
    parameters: list[dict[str, Any]],
    objective: dict[str, Any],
    values: np.ndarray,
    *,
    budget: tuple[int, int, int],
    noise_sd: float,
    truth: Truth,
    levels: list[list[Any]] | None = None,
    pool: list[dict[str, Any]] | None = None,
) -> Problem:
    """A problem whose noise is Gaussian in the objective's unit, scored on that unit.

    `values` is the truth over every grid point / pool row (a pool keeps them as its values);
    `budget` is (n_init, batch_size, n_batches).
    """
    n_init, batch_size, n_batches = budget
    goal = objective["goal"]
    return Problem(
        name=name,
        description=description,
        campaign=campaign_json(name, parameters, objective, batch_size),
        pool=pool,
        levels=levels,
        n_init=n_init,
        batch_size=batch_size,
        n_batches=n_batches,
        goal=goal,
        noise_sd=noise_sd,
        **scale_of(values, goal),
        _truth=truth,
        _noise=gaussian_noise(noise_sd),
        pool_values=None if pool is None else values,
    )
