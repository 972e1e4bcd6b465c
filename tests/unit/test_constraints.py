"""Constraints: parsing with named errors, the vectorised mask, violations, feasible candidates."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.constraints.candidates import check_satisfiable
from kiln.errors import InfeasibleConstraintsError, SpaceError
from kiln.space import SearchSpace

PARAMETERS = [
    {"name": "temperature_c", "kind": "continuous", "low": 900, "high": 1100, "step": 50},
    {"name": "time_min", "kind": "discrete", "values": [60, 120, 240]},
    {"name": "a", "kind": "continuous", "low": 0, "high": 1, "step": 0.1},
    {"name": "b", "kind": "continuous", "low": 0, "high": 1, "step": 0.1},
    {"name": "gas", "kind": "categorical", "values": ["air", "argon", "n2"]},
]
HOT_AND_LONG = {
    "kind": "forbidden",
    "when": {"temperature_c": {">=": 1050}, "time_min": {">": 120}},
}
SUM_TO_ONE = {"kind": "linear", "terms": {"a": 1, "b": 1}, "op": "==", "rhs": 1}


def space_with(*constraints: dict) -> SearchSpace:
    return SearchSpace.from_dict({"parameters": PARAMETERS, "constraints": list(constraints)})


def point(**values: object) -> dict:
    base = {"temperature_c": 900, "time_min": 60, "a": 0.5, "b": 0.5, "gas": "air"}
    return {**base, **values}


@pytest.mark.parametrize(
    ("constraint", "field", "needle"),
    [
        ({"kind": "linear", "terms": {"foo": 1}, "op": "<=", "rhs": 1}, "constraints.0.terms.foo",
         "unknown parameter"),
        ({"kind": "linear", "terms": {"gas": 1}, "op": "==", "rhs": 1}, "constraints.0.terms.gas",
         "categorical"),
        ({"kind": "linear", "terms": {}, "op": "<=", "rhs": 1}, "constraints.0.terms", "non-empty"),
        ({"kind": "linear", "terms": {"a": 0}, "op": "<=", "rhs": 1}, "constraints.0.terms",
         "non-zero"),
        ({"kind": "linear", "terms": {"a": "1"}, "op": "<=", "rhs": 1}, "constraints.0.terms.a",
         "finite number"),
        ({"kind": "linear", "terms": {"a": 1}, "op": "<", "rhs": 1}, "constraints.0.op", "unknown"),
        ({"kind": "linear", "terms": {"a": 1}, "op": "<=", "rhs": float("nan")},
         "constraints.0.rhs", "finite"),
        ({"kind": "linear", "terms": {"a": 1}, "op": "<=", "rhs": 1, "x": 2}, "constraints.0.x",
         "not allowed"),
        ({"kind": "range"}, "constraints.0.kind", "unknown"),
        ({"kind": "forbidden", "when": {}}, "constraints.0.when", "non-empty"),
        ({"kind": "forbidden", "when": {"foo": {"<": 1}}}, "constraints.0.when.foo",
         "unknown parameter"),
        ({"kind": "forbidden", "when": {"a": {}}}, "constraints.0.when.a", "non-empty"),
        ({"kind": "forbidden", "when": {"a": {"!=": 1}}}, "constraints.0.when.a.!=", "unknown"),
        ({"kind": "forbidden", "when": {"gas": {"==": "air"}}}, "constraints.0.when.gas.==",
         "categorical"),
        ({"kind": "forbidden", "when": {"gas": {"in": []}}}, "constraints.0.when.gas.in",
         "non-empty list"),
        ({"kind": "forbidden", "when": {"gas": {"in": ["xenon"]}}}, "constraints.0.when.gas.in",
         "labels"),
        ({"kind": "forbidden", "when": {"a": {"in": [0.1, "x"]}}}, "constraints.0.when.a.in",
         "finite number"),
        ({"kind": "forbidden", "when": {"a": {"<": None}}}, "constraints.0.when.a.<", "finite"),
        ("linear", "constraints.0", "object"),
    ],
)  # fmt: skip
def test_bad_constraints_name_the_field(constraint: object, field: str, needle: str) -> None:
    with pytest.raises(SpaceError, match=needle) as info:
        SearchSpace.from_dict({"parameters": PARAMETERS, "constraints": [constraint]})
    assert info.value.field == field


def test_constraints_must_be_a_list() -> None:
    with pytest.raises(SpaceError) as info:
        SearchSpace.from_dict({"parameters": PARAMETERS, "constraints": {"kind": "linear"}})
    assert info.value.field == "constraints"


def test_round_trip_keeps_numbers_as_typed_and_no_key_without_constraints() -> None:
    space = space_with(HOT_AND_LONG, SUM_TO_ONE)
    assert space.to_dict()["constraints"] == [HOT_AND_LONG, SUM_TO_ONE]
    assert SearchSpace.from_dict(space.to_dict()) == space
    assert "constraints" not in space_with().to_dict()
    assert space != space_with()


def test_forbidden_region_boundaries_are_as_typed() -> None:
    cs = space_with(HOT_AND_LONG).constraints
    points = [
        point(temperature_c=1050, time_min=240),  # inside: both conditions hold
        point(temperature_c=1050, time_min=120),  # time not > 120
        point(temperature_c=1000, time_min=240),  # temperature not >= 1050
        point(temperature_c=1100, time_min=240),
    ]
    assert cs.mask_points(points).tolist() == [False, True, True, False]


def test_in_on_categorical_and_numeric() -> None:
    cs = space_with(
        {"kind": "forbidden", "when": {"gas": {"in": ["argon", "n2"]}, "a": {"in": [0.3, 0.7]}}}
    ).constraints
    points = [point(gas="argon", a=0.3), point(gas="air", a=0.3), point(gas="n2", a=0.4),
              point(gas="n2", a=0.7)]  # fmt: skip
    assert cs.mask_points(points).tolist() == [False, True, True, False]


def test_linear_inequalities_and_the_equality_tolerance() -> None:
    le = space_with({"kind": "linear", "terms": {"a": 2, "b": 1}, "op": "<=", "rhs": 1.5})
    assert le.constraints.mask_points(
        [point(a=0.5, b=0.5), point(a=0.6, b=0.4), point(a=0.6, b=0.3)]
    ).tolist() == [True, False, True]
    eq = space_with(SUM_TO_ONE).constraints
    # 0.1 + 0.2 + ... grid sums carry float noise; half a step (0.05) is the tolerance
    assert eq.equality_tolerance(eq.constraints[0]) == pytest.approx(0.05, rel=1e-6)
    assert eq.mask_points([point(a=0.7, b=0.3), point(a=0.7, b=0.4), point(a=0.3, b=0.6)]).tolist() == [
        True, False, False]  # fmt: skip


def test_violations_name_each_broken_constraint() -> None:
    cs = space_with(HOT_AND_LONG, SUM_TO_ONE).constraints
    assert cs.violations(point()) == []
    assert cs.violations(point(temperature_c=1100, time_min=240, a=0.1)) == [
        "constraints.0 (forbidden: temperature_c >= 1050 and time_min > 120)",
        "constraints.1 (1*a + 1*b == 1)",
    ]


def test_grid_candidates_are_exactly_the_feasible_grid() -> None:
    space = space_with(HOT_AND_LONG, SUM_TO_ONE)
    full = SearchSpace.from_dict({"parameters": PARAMETERS}).grid()
    expected = [
        p for p in full
        if not (p["temperature_c"] >= 1050 and p["time_min"] > 120)
        and abs(p["a"] + p["b"] - 1) < 1e-9
    ]  # fmt: skip
    assert space.candidates(np.random.default_rng(0)) == expected


def test_sampled_candidates_satisfy_an_equality_over_unstepped_parameters() -> None:
    space = SearchSpace.from_dict({
        "parameters": [
            {"name": "x", "kind": "continuous", "low": 0, "high": 1},
            {"name": "y", "kind": "continuous", "low": 0, "high": 1},
            {"name": "z", "kind": "continuous", "low": 0, "high": 1},
        ],
        "constraints": [
            {"kind": "linear", "terms": {"x": 1, "y": 1, "z": 1}, "op": "==", "rhs": 1},
            {"kind": "forbidden", "when": {"x": {">": 0.8}}},
        ],
    })  # fmt: skip
    points = space.candidates(np.random.default_rng(1), n_samples=500)
    assert len(points) == 500
    sums = np.array([p["x"] + p["y"] + p["z"] for p in points])
    assert np.abs(sums - 1).max() < 1e-9
    assert max(p["x"] for p in points) <= 0.8
    assert space.constraints.mask_points(points).all()


def test_no_feasible_candidate_is_an_error_naming_the_constraints() -> None:
    impossible = {"kind": "linear", "terms": {"a": 1, "b": 1}, "op": ">=", "rhs": 2.5}
    with pytest.raises(
        InfeasibleConstraintsError, match=r"constraints.0 \(1\*a \+ 1\*b >= 2.5\)"
    ) as info:
        check_satisfiable(space_with(impossible))
    assert info.value.field == "constraints"
    sampled = SearchSpace.from_dict({
        "parameters": [{"name": "x", "kind": "continuous", "low": 0, "high": 1}],
        "constraints": [{"kind": "forbidden", "when": {"x": {">=": 0}}}],
    })  # fmt: skip
    with pytest.raises(InfeasibleConstraintsError, match="random points"):
        sampled.candidates(np.random.default_rng(0), n_samples=100)
    check_satisfiable(space_with(HOT_AND_LONG))  # feasible: no error
