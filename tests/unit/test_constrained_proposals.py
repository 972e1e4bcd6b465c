"""Every way propose makes a candidate keeps the space's constraints."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.errors import InfeasibleConstraintsError
from kiln.objective import Objective
from kiln.pool import CandidatePool
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy

OBJ = Objective("y", transform="none")
GRID = [
    {"name": "temperature_c", "kind": "continuous", "low": 900, "high": 1100, "step": 25},
    {"name": "time_min", "kind": "discrete", "values": [30, 60, 120, 240, 480]},
    {"name": "acid", "kind": "continuous", "low": -10, "high": 10, "step": 2.5},
]
HOT_AND_LONG = {"kind": "forbidden", "when": {"temperature_c": {">=": 1000}, "time_min": {">": 60}}}


def best_is_forbidden(p: dict) -> float:
    """The unconstrained optimum (1100 degC, 480 min) lies in the forbidden region."""
    return (p["temperature_c"] - 900) / 200 + p["time_min"] / 480 - (p["acid"] / 10) ** 2


def observations(space: SearchSpace, n: int, seed: int = 0) -> list[dict]:
    free = SearchSpace(space.parameters)  # measured points may lie anywhere
    return [{"parameters": p, "objective": best_is_forbidden(p)}
            for p in free.sample(n, np.random.default_rng(seed))]  # fmt: skip


@pytest.mark.parametrize("n_obs", [0, 1, 10])
@pytest.mark.parametrize("acquisition", ["ucb", "ei", "random"])
def test_grid_proposals_avoid_the_forbidden_optimum(n_obs: int, acquisition: str) -> None:
    space = SearchSpace.from_dict({"parameters": GRID, "constraints": [HOT_AND_LONG]})
    batch = propose(space, OBJ, observations(space, n_obs), [], Strategy(acquisition=acquisition))
    assert len(batch.proposals) == 6
    assert space.constraints.mask_points([p.parameters for p in batch.proposals]).all()
    unconstrained = SearchSpace.from_dict({"parameters": GRID})
    if n_obs == 10 and acquisition == "ucb":  # without the constraint the model goes there
        free = propose(unconstrained, OBJ, observations(space, n_obs), [], Strategy())
        assert not space.constraints.mask_points([p.parameters for p in free.proposals]).all()


def test_polished_points_stay_feasible() -> None:
    space = SearchSpace.from_dict({
        "parameters": [
            {"name": "x", "kind": "continuous", "low": 0, "high": 1},
            {"name": "y", "kind": "continuous", "low": 0, "high": 1},
        ],
        "constraints": [{"kind": "linear", "terms": {"x": 1, "y": 1}, "op": "<=", "rhs": 1}],
    })  # fmt: skip
    points = space.candidates(np.random.default_rng(0), n_samples=12)
    obs = [{"parameters": p, "objective": p["x"] + 2 * p["y"]} for p in points]  # best: x+y=1
    batch = propose(space, OBJ, obs, [], Strategy(batch_size=4), random_state=1)
    sums = [p.parameters["x"] + p.parameters["y"] for p in batch.proposals]
    assert max(sums) <= 1 + 1e-9


def test_polishing_keeps_an_equality_over_unstepped_parameters() -> None:
    space = SearchSpace.from_dict({
        "parameters": [{"name": n, "kind": "continuous", "low": 0, "high": 1} for n in "abc"],
        "constraints": [{"kind": "linear", "terms": {"a": 1, "b": 1, "c": 1}, "op": "==", "rhs": 1}],
    })  # fmt: skip
    points = space.candidates(np.random.default_rng(0), n_samples=12)
    obs = [{"parameters": p, "objective": -((p["a"] - 0.6) ** 2) - (p["b"] - 0.3) ** 2}
           for p in points]  # fmt: skip
    batch = propose(space, OBJ, obs, [], Strategy(batch_size=3), random_state=0)
    for p in batch.proposals:
        assert abs(sum(p.parameters.values()) - 1) < 1e-9


def test_pool_rows_that_break_a_constraint_are_never_proposed() -> None:
    space = SearchSpace.from_dict({"parameters": GRID, "constraints": [HOT_AND_LONG]})
    free = SearchSpace.from_dict({"parameters": GRID})
    pool = CandidatePool(free, free.grid()[::3])
    batch = propose(space, OBJ, observations(space, 10), [], Strategy(), pool=pool)
    assert len(batch.proposals) == 6
    assert space.constraints.mask_points([p.parameters for p in batch.proposals]).all()


def test_constraints_that_leave_nothing_are_a_domain_error() -> None:
    space = SearchSpace.from_dict({
        "parameters": GRID,
        "constraints": [{"kind": "forbidden", "when": {"time_min": {"in": [30, 60, 120, 240, 480]}}}],
    })  # fmt: skip
    with pytest.raises(InfeasibleConstraintsError, match=r"constraints.0 \(forbidden: time_min in"):
        propose(space, OBJ, observations(space, 5), [], Strategy())
