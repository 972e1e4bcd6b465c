"""The problems of `make bench-quality`: what every method is run on, the same for all of them.

A :class:`Problem` carries the campaign JSON the service is given (``POST /campaigns``), the
finite candidate pool (real data sets) or the grid its parameters span, a noiseless ``truth``
and a seeded noisy ``measure``, the initial design (``initial_points(seed)``, identical for every
method) and the budget (``n_init`` random points, then ``n_batches`` batches of ``batch_size``).

Problems (``PROBLEMS`` builds them by name):

- ``latp``: the virtual LATP lab (kiln.lab.VirtualLatpLab, the study's iteration 3-4 space of
  kiln.presets, 2,574 grid points); maximise conductivity, modelled as log10; the lab's own
  measurement noise (0.2 decades).
- ``hartmann6``: Hartmann-6 on a 0.1-stepped grid of [0, 1]^6 (1,771,561 points: more than a
  grid Kiln enumerates, so it scores sampled candidates); maximise; Gaussian noise sd 0.05.
- ``branin-cat``: Branin on a 0.25-stepped grid of [-5, 10] x [0, 15] with a 3-level categorical
  ``surface`` that shifts and scales it (one level holds the global minimum); minimise; noise
  sd 0.5.
- ``decoy-3d``: three 0.025-stepped continuous inputs; a broad bump (height 0.8) and a narrow one
  (height 1.0, 0.4 of its width) far from it; maximise; noise sd 0.02.
- ``mixed-4``: the issue's shape: two 0.05-stepped continuous, one discrete, one 3-level
  categorical; a smooth objective whose broad optimum (0.8) sits in one category and the narrow
  global one (1.0) in another; maximise; noise sd 0.02.
- ``crossed-barrel``, ``agnp``: the two real data sets of Liang et al. (2021) as candidate pools
  (bench/data/liang2021, attribution in its README): mean objective per unique input; top set =
  best ceil(5 %) rows; 2 random initial rows; measurements are the pool's values (no noise added).

Trace format (what a method returns for one seed; `bench/quality.py` and `bench/peers_baybe.py`
both produce it)::

    {
        "points": [ {param: value, ...}, ... ],  # every experiment in order, initial ones first
        "values": [float, ...],                 # what was measured there (noisy, original unit)
        "batch_seconds": [float, ...],          # wall time of each proposed batch (n_batches)
        "n_init": int,                          # how many of the points are the initial design
    }

For pools every point is one of ``problem.pool``'s rows (``problem.row_of(point)`` finds its
index); the metrics use ``problem.truth`` on the points, never the noisy values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data" / "liang2021"

#: Share of a pool that forms its top set (Liang et al. 2021).
TOP_SHARE = 0.05

#: A noiseless objective of columns: parameter name -> array of values (object arrays of labels
#: for categorical parameters).
Truth = Callable[[Mapping[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
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
    noise_unit: str
    score_transform: str
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
        from dataclasses import replace

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


def _gaussian(sd: float) -> Callable[[np.ndarray, np.random.Generator], np.ndarray]:
    def add(truth: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return truth + sd * rng.standard_normal(truth.shape)

    return add


def _stepped(name: str, low: float, high: float, step: float) -> dict[str, Any]:
    return {"name": name, "kind": "continuous", "low": low, "high": high, "step": step}


def _steps(low: float, high: float, step: float) -> list[float]:
    n = round((high - low) / step)
    return [round(low + k * step, 10) for k in range(n + 1)]


def _grid_problem(
    name: str,
    description: str,
    parameters: list[dict[str, Any]],
    levels: list[list[Any]],
    truth: Truth,
    *,
    goal: str,
    noise_sd: float,
    n_init: int,
    batch_size: int,
    n_batches: int,
    unit: str | None = None,
) -> Problem:
    campaign = {
        "name": f"bench-{name}",
        "parameters": parameters,
        "objective": {
            "name": "y",
            "goal": goal,
            "transform": "none",
            **({"unit": unit} if unit else {}),
        },
        "strategy": {"batch_size": batch_size},
    }
    values = _grid_values(levels, [p["name"] for p in parameters], truth)
    return Problem(
        name=name,
        description=f"{description}; noise sd {noise_sd}",
        campaign=campaign,
        pool=None,
        levels=levels,
        n_init=n_init,
        batch_size=batch_size,
        n_batches=n_batches,
        goal=goal,
        noise_sd=noise_sd,
        noise_unit="objective",
        score_transform="none",
        optimum=float(values.max() if goal == "maximize" else values.min()),
        median=float(np.median(values)),
        _truth=truth,
        _noise=_gaussian(noise_sd),
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


# ---------------------------------------------------------------------------------- test functions
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6_values(x: np.ndarray) -> np.ndarray:
    """Hartmann-6 (positive form, maximum 3.32237 at the known optimum) of rows of x in [0,1]^6."""
    d = ((x[:, None, :] - _H6_P[None]) ** 2 * _H6_A[None]).sum(-1)
    return (_H6_ALPHA * np.exp(-d)).sum(-1)


def branin_values(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Branin-Hoo (minimum 0.397887) on [-5, 10] x [0, 15]."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10


#: Each Branin surface: (x1 shift, scale, offset): "b" holds the global minimum (about 0.02).
BRANIN_SURFACES = {"a": (0.0, 1.0, 0.0), "b": (1.5, 0.8, -0.3), "c": (-1.0, 1.3, 0.6)}


def _branin_cat(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    x1, x2 = cols["x1"], cols["x2"]
    surface = cols["surface"]
    out = np.empty(len(x1))
    for label, (shift, scale, offset) in BRANIN_SURFACES.items():
        m = surface == label
        out[m] = scale * branin_values(x1[m] - shift, x2[m]) + offset
    return out


def _bump(sq_dist: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-0.5 * sq_dist / width**2)


def _decoy3(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    x = np.stack([cols[n] for n in ("x1", "x2", "x3")], axis=1)
    broad = 0.8 * _bump(((x - [0.3, 0.35, 0.6]) ** 2).sum(1), 0.22)
    narrow = 1.0 * _bump(((x - [0.82, 0.78, 0.18]) ** 2).sum(1), 0.09)
    return np.maximum(broad, narrow) + 0.05 * x[:, 0]


MIXED_COUNTS = [1, 2, 3, 4, 6, 8, 12]
#: Per category: (centre x1, centre x2, centre of log2(count), height, width).
MIXED_PEAKS = {
    "A": (0.30, 0.60, 1.5, 0.80, 0.30),  # the broad decoy
    "B": (0.75, 0.25, 2.8, 1.00, 0.18),  # the narrower global optimum
    "C": (0.50, 0.50, 2.0, 0.45, 0.35),
}


def _mixed4(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    x1, x2 = cols["x1"], cols["x2"]
    z = np.log2(cols["count"]) / np.log2(max(MIXED_COUNTS))
    cat = cols["catalyst"]
    out = np.empty(len(x1))
    for label, (c1, c2, cz, height, width) in MIXED_PEAKS.items():
        m = cat == label
        zc = cz / np.log2(max(MIXED_COUNTS))
        d = (x1[m] - c1) ** 2 + (x2[m] - c2) ** 2 + 0.5 * (z[m] - zc) ** 2
        out[m] = height * _bump(d, width) + 0.1 * x2[m]
    return out


# ---------------------------------------------------------------------------------- builders
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
        [_steps(0.0, 1.0, 0.1)] * 6,
        lambda cols: hartmann6_values(np.stack([cols[n] for n in names], axis=1)),
        goal="maximize",
        noise_sd=0.05,
        n_init=12,
        batch_size=4,
        n_batches=10,
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
            {"name": "surface", "kind": "categorical", "values": list(BRANIN_SURFACES)},
        ],
        [_steps(-5.0, 10.0, 0.25), _steps(0.0, 15.0, 0.25), list(BRANIN_SURFACES)],
        _branin_cat,
        goal="minimize",
        noise_sd=0.5,
        n_init=8,
        batch_size=4,
        n_batches=8,
    )


def decoy3() -> Problem:
    """A broad local optimum and a narrow global one, three stepped inputs (maximise)."""
    names = ["x1", "x2", "x3"]
    return _grid_problem(
        "decoy-3d",
        "broad decoy bump (0.8) and narrow global one (1.0), three 0.025-stepped inputs "
        "(68,921 points); maximise",
        [_stepped(n, 0.0, 1.0, 0.025) for n in names],
        [_steps(0.0, 1.0, 0.025)] * 3,
        _decoy3,
        goal="maximize",
        noise_sd=0.02,
        n_init=8,
        batch_size=4,
        n_batches=8,
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
            {"name": "count", "kind": "discrete", "values": [float(c) for c in MIXED_COUNTS]},
            {"name": "catalyst", "kind": "categorical", "values": list(MIXED_PEAKS)},
        ],
        [
            _steps(0.0, 1.0, 0.05),
            _steps(0.0, 1.0, 0.05),
            [float(c) for c in MIXED_COUNTS],
            list(MIXED_PEAKS),
        ],
        _mixed4,
        goal="maximize",
        noise_sd=0.02,
        n_init=12,
        batch_size=4,
        n_batches=10,
    )


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
    campaign = {
        "name": f"bench-{name}",
        "parameters": parameters,
        "objective": {"name": _safe_name(target), "goal": goal, "transform": "none"},
        "strategy": {"batch_size": batch_size},
    }
    return Problem(
        name=name,
        description=f"{description}; {len(rows)} pool rows (mean per unique input); no noise",
        campaign=campaign,
        pool=rows,
        levels=None,
        n_init=2,
        batch_size=batch_size,
        n_batches=n_batches,
        goal=goal,
        noise_sd=0.0,
        noise_unit="objective",
        score_transform="none",
        optimum=float(y.max() if goal == "maximize" else y.min()),
        median=float(np.median(y)),
        _truth=lambda cols: np.zeros(0),  # a pool looks its values up
        _noise=_gaussian(0.0),
        pool_values=y,
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


#: Every problem by name, in the order the benchmark runs them.
PROBLEMS: dict[str, Callable[[], Problem]] = {
    "latp": latp,
    "hartmann6": hartmann6,
    "branin-cat": branin_cat,
    "decoy-3d": decoy3,
    "mixed-4": mixed4,
    "crossed-barrel": crossed_barrel,
    "agnp": agnp,
}


def load(name: str) -> Problem:
    """Build one problem by name (KeyError names the known ones)."""
    try:
        return PROBLEMS[name]()
    except KeyError:
        raise KeyError(f"unknown problem {name!r}; known: {sorted(PROBLEMS)}") from None
