"""Property tests (hypothesis): random spaces, constraints, observations, pending points and
strategies; every proposal satisfies every constraint and every batch its sharing rule.

Each example is cheap so that 10,000 fit in a few minutes on a loaded 2-core machine: tiny spaces
(at most a few hundred grid points), sampled spaces drawing 200 candidates instead of 20,000 in
at most 3 rejection rounds instead of 20,
polishing from one start for 2 iterations instead of 3 x 50, at most 8 shared settings tried
where the bound does not hold instead of 64, and no hyperparameter fit (a
fixed-hyperparameter GP stands in for ``fit_observations``; the candidates, batch selection,
fantasies, polishing with its checks, and sharing are the real ones). The verdict comes from an
independent reference: a plain-Python reading of the constraints' JSON, point by point.

The example counts are hypothesis profiles: ``constraints-fast`` (200, every run) and
``constraints-slow`` (10,000, the ``slow`` test that ``make test`` runs); set
``KILN_PROPERTY_EXAMPLES`` to change the slow count.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import replace
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

import kiln.constraints.candidates as constrained_candidates
import kiln.propose as propose_module
import kiln.shared_batch as shared_batch
from kiln.batch.polishing import Polisher
from kiln.errors import InfeasibleConstraintsError
from kiln.model.fitted import FittedModel
from kiln.model.surrogate import GPSurrogate
from kiln.objective import Objective
from kiln.pool import CandidatePool
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy

_COMMON = {
    "deadline": None,
    "database": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("constraints-fast", max_examples=200, **_COMMON)
settings.register_profile(
    "constraints-slow",
    max_examples=int(os.environ.get("KILN_PROPERTY_EXAMPLES", "10000")),
    **_COMMON,
)
OBJ = Objective("y", transform="none")
SAMPLES = 200
TOL = 1e-7


# ------------------------------------------------------------------------------ generators
@st.composite
def numeric_parameter(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(["stepped", "discrete", "unstepped"]))
    low = draw(st.integers(-5, 5))
    if kind == "discrete":
        values = draw(st.lists(st.integers(-10, 10), min_size=1, max_size=4, unique=True))
        return {"name": name, "kind": "discrete", "values": sorted(v / 2 for v in values)}
    if kind == "stepped":
        step = draw(st.sampled_from([0.5, 1, 2]))
        n = draw(st.integers(1, 5))
        return {"name": name, "kind": "continuous", "low": low, "high": low + step * (n - 1),
                "step": step}  # fmt: skip
    return {"name": name, "kind": "continuous", "low": low, "high": low + draw(st.integers(1, 4))}


@st.composite
def spaces(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 3))
    params = [draw(numeric_parameter(f"x{i}")) for i in range(n)]
    if draw(st.booleans()):
        labels = ["a", "b", "c"][: draw(st.integers(1, 3))]
        params.append({"name": "cat", "kind": "categorical", "values": labels})
    return params


def _numbers(p: dict[str, Any]) -> tuple[float, float]:
    if p["kind"] == "discrete":
        return min(p["values"]), max(p["values"])
    return p["low"], p["high"]


@st.composite
def constraint(draw: st.DrawFn, params: list[dict[str, Any]]) -> dict[str, Any]:
    numeric = [p for p in params if p["kind"] != "categorical"]
    if draw(st.booleans()):
        chosen = draw(st.lists(st.sampled_from(numeric), min_size=1, max_size=2,
                               unique_by=lambda p: p["name"]))  # fmt: skip
        terms = {p["name"]: draw(st.sampled_from([-2, -1, 1, 2, 0.5])) for p in chosen}
        lo = sum(
            min(a * v for v in _numbers(p)) for p, a in zip(chosen, terms.values(), strict=True)
        )
        hi = sum(
            max(a * v for v in _numbers(p)) for p, a in zip(chosen, terms.values(), strict=True)
        )
        rhs = draw(st.sampled_from([lo, hi, (lo + hi) / 2, lo + (hi - lo) / 3, hi + 1]))
        return {"kind": "linear", "terms": terms, "op": draw(st.sampled_from(["<=", ">=", "=="])),
                "rhs": rhs}  # fmt: skip
    when: dict[str, dict[str, Any]] = {}
    for p in draw(st.lists(st.sampled_from(params), min_size=1, max_size=2,
                           unique_by=lambda p: p["name"])):  # fmt: skip
        if p["kind"] == "categorical":
            labels = draw(st.lists(st.sampled_from(p["values"]), min_size=1, unique=True))
            when[p["name"]] = {"in": labels}
            continue
        lo, hi = _numbers(p)
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "in"]))
        value = draw(st.sampled_from([lo, hi, (lo + hi) / 2, lo + 0.5]))
        when[p["name"]] = {op: [value, hi] if op == "in" else value}
    return {"kind": "forbidden", "when": when}


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    params = draw(spaces())
    constraints = draw(st.lists(constraint(params), max_size=3))
    q = draw(st.integers(1, 4))
    shared = None
    if draw(st.booleans()):
        names = draw(st.lists(st.sampled_from([p["name"] for p in params]), min_size=1,
                              unique=True))  # fmt: skip
        shared = {"parameters": names, "groups": draw(st.integers(1, q))}
    strategy = Strategy(
        acquisition=draw(st.sampled_from(["ucb", "ei", "pi", "random"])),
        batch_method=draw(st.sampled_from(["kriging_believer", "constant_liar_min"])),
        batch_size=q,
        batch_shared=shared,
    )
    return {
        "params": params,
        "constraints": constraints,
        "strategy": strategy,
        "n_obs": draw(st.sampled_from([0, 1, 2, 5, 8])),
        "n_pending": draw(st.integers(0, 3)),
        "pool": draw(st.integers(0, 4)) == 0,
        "seed": draw(st.integers(0, 2**16)),
    }


# ------------------------------------------------------------------------- the reference
def holds(point: dict[str, Any], c: dict[str, Any], params: list[dict[str, Any]]) -> bool:
    """One constraint at one point, read from its JSON (the documented semantics)."""
    if c["kind"] == "linear":
        lhs = sum(a * point[n] for n, a in c["terms"].items())
        if c["op"] == "<=":
            return lhs <= c["rhs"] + TOL
        if c["op"] == ">=":
            return lhs >= c["rhs"] - TOL
        return abs(lhs - c["rhs"]) <= equality_tolerance(c, params) + TOL
    return not all(met(point[name], *next(iter(ops.items()))) for name, ops in c["when"].items())


def met(x: Any, op: str, v: Any) -> bool:
    """One condition of a forbidden region, with the tolerance on the side that keeps a value
    on the boundary as typed."""
    if op == "in":
        return any(x == u if isinstance(u, str) else abs(x - u) <= TOL for u in v)
    if op == "==":
        return abs(x - v) <= TOL
    if op in ("<", "<="):
        return x < v - TOL if op == "<" else x <= v + TOL
    return x > v + TOL if op == ">" else x >= v - TOL


def equality_tolerance(c: dict[str, Any], params: list[dict[str, Any]]) -> float:
    """Half the smallest ``|a| * step`` (0 with an unstepped continuous term)."""
    by_name = {p["name"]: p for p in params}
    steps = []
    for name, a in c["terms"].items():
        p = by_name[name]
        if p["kind"] == "discrete":
            gaps = np.diff(sorted(p["values"]))
            steps += [abs(a) * float(gaps.min())] if gaps.size else []
        elif p["low"] != p["high"]:
            if "step" not in p:
                return 0.0
            steps.append(abs(a) * p["step"])
    return 0.5 * min(steps) if steps else 0.0


def fixed_fit(space: SearchSpace, objective: Objective, data: Any, **_: Any) -> FittedModel:
    """A GP with fixed hyperparameters on the observations (no optimisation)."""
    X = space.encode(data.points)
    y = objective.to_model(data.values)
    surrogate = GPSurrogate.from_dict({
        "n_restarts": 0, "random_state": 0, "constant": 1.0, "length_scale": [0.4] * X.shape[1],
        "noise_level": 1e-3, "log_marginal_likelihood": 0.0, "X_train": X.tolist(),
        "y_train": np.asarray(y).tolist(),
    })  # fmt: skip
    return FittedModel(space, objective, surrogate, {}, {})


def short_polisher(space: SearchSpace, columns: list[int]) -> Polisher:
    return replace(POLISHER(space, columns), n_starts=1, maxiter=2)


POLISHER = propose_module._polisher


def check(case: dict[str, Any]) -> None:
    params, constraints = case["params"], case["constraints"]
    space = SearchSpace.from_dict({"parameters": params, "constraints": constraints})
    free = SearchSpace.from_dict({"parameters": params})
    rng = np.random.default_rng(case["seed"])
    points = free.sample(case["n_obs"], rng)
    obs = [{"parameters": p, "objective": float(v)}
           for p, v in zip(points, rng.normal(size=len(points)), strict=True)]  # fmt: skip
    pending = free.sample(case["n_pending"], rng)
    pool = None
    if case["pool"]:
        pool = CandidatePool(free, free.candidates(rng, n_samples=60))
    candidates = functools.partialmethod(SearchSpace.candidates, n_samples=SAMPLES)
    with (
        mock.patch.object(propose_module, "fit_observations", fixed_fit),
        mock.patch.object(SearchSpace, "candidates", candidates),
        mock.patch.object(propose_module, "_polisher", short_polisher),
        mock.patch.object(constrained_candidates, "MAX_SAMPLE_ROUNDS", 3),
        mock.patch.object(shared_batch, "MAX_SETTINGS", 8),
        threadpool_limits(1, user_api="blas"),  # tiny matrices: threads only add wake-ups
    ):
        try:
            batch = propose(space, OBJ, obs, pending, case["strategy"], pool=pool,
                            random_state=case["seed"])  # fmt: skip
        except InfeasibleConstraintsError:
            if free.is_enumerable():  # the reference agrees that no grid point is feasible
                assert not any(all(holds(p, c, params) for c in constraints) for p in free.grid())
            return
    for proposal in batch.proposals:
        broken = [c for c in constraints if not holds(proposal.parameters, c, params)]
        assert not broken, (proposal.parameters, broken)
    shared = case["strategy"].batch_shared
    if shared is None:
        assert all(p.group is None for p in batch.proposals)
        return
    groups: dict[int, set[tuple[Any, ...]]] = {}
    for p in batch.proposals:
        assert p.group is not None
        groups.setdefault(p.group, set()).add(tuple(p.parameters[n] for n in shared.parameters))
    assert len(groups) <= shared.groups
    assert all(len(values) == 1 for values in groups.values())


@settings(settings.get_profile("constraints-fast"))
@given(cases())
def test_every_proposal_keeps_the_constraints_and_sharing(case: dict[str, Any]) -> None:
    check(case)


@pytest.mark.slow
@settings(settings.get_profile("constraints-slow"))
@given(cases())
def test_every_proposal_keeps_the_constraints_and_sharing_10000(case: dict[str, Any]) -> None:
    check(case)


def test_the_reference_agrees_with_the_mask_on_a_grid() -> None:
    params = [{"name": "x", "kind": "continuous", "low": 0, "high": 2, "step": 0.5},
              {"name": "y", "kind": "discrete", "values": [0, 1, 3]}]  # fmt: skip
    constraints = [{"kind": "linear", "terms": {"x": 2, "y": 1}, "op": "==", "rhs": 3},
                   {"kind": "forbidden", "when": {"x": {">": 0.5}, "y": {"in": [1]}}}]  # fmt: skip
    space = SearchSpace.from_dict({"parameters": params, "constraints": constraints})
    grid = SearchSpace.from_dict({"parameters": params}).grid()
    reference = [all(holds(p, c, params) for c in constraints) for p in grid]
    assert space.constraints.mask_points(grid).tolist() == reference
    assert math.fsum(reference) == 2  # (1.5, 0) and (0, 3); (1, 1) is forbidden
