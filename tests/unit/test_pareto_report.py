"""pareto_report (issue 16): the measured front, its hypervolume, the history against one fixed
reference point, derived reference points, outcome constraints."""

from __future__ import annotations

import math
from typing import Any

import pytest

from kiln.campaign import campaign_definition
from kiln.multiobjective.pareto import DERIVED_MARGIN
from kiln.multiobjective.report import pareto_report


def campaign(thresholds: tuple[Any, Any] = (0.0, 0.0), **extra: Any) -> dict[str, Any]:
    return campaign_definition(
        {
            "name": "r",
            "parameters": [{"name": "x", "kind": "continuous", "low": 0.0, "high": 10.0}],
            "objectives": [
                {"name": "a", "transform": "none", "threshold": thresholds[0]},
                {"name": "b", "transform": "none", "threshold": thresholds[1]},
            ],
            "measurements": [{"name": "purity"}],
            **extra,
        }
    )


def result(i: int, a: float | None, b: float | None, **extra: Any) -> dict[str, Any]:
    values = {k: v for k, v in (("a", a), ("b", b)) if v is not None}
    return {"sample_id": f"S{i}", "parameters": {"x": float(i)}, "objectives": values, **extra}


RESULTS = [
    result(1, 1.0, 1.0),  # dominated by everything below
    result(2, 1.0, 3.0),
    {"sample_id": "F", "parameters": {"x": 9.0}, "status": "failed"},
    result(3, 3.0, 1.0),
    result(4, 2.0, 2.0),
    result(5, 5.0, None),  # misses b: never on the front
]


def test_front_hypervolume_and_history() -> None:
    report = pareto_report(campaign(), RESULTS)
    assert [f["sample_id"] for f in report["front"]] == ["S2", "S3", "S4"]
    assert report["front"][0] == {
        "sample_id": "S2",
        "parameters": {"x": 2.0},
        "objectives": {"a": 1.0, "b": 3.0},
    }
    # boxes above (0, 0): 1 x 3 + 1 x 2 + 1 x 1
    assert report["hypervolume"] == pytest.approx(6.0)
    assert report["n_results"] == 6
    assert report["reference_point"] == {"a": 0.0, "b": 0.0}
    assert report["reference_point_derived"] == {"a": False, "b": False}
    assert [h["hypervolume"] for h in report["history"]] == pytest.approx([1, 3, 3, 5, 6, 6])
    assert [h["data_version"] for h in report["history"]] == [1, 2, 3, 4, 5, 6]
    assert [h["n_results"] for h in report["history"]] == [1, 2, 3, 4, 5, 6]
    assert [o["name"] for o in report["objectives"]] == ["a", "b"]
    assert report["outcome_constraints"] == []


def test_history_takes_the_results_own_data_versions() -> None:
    stamped = [{**r, "data_version": 10 + 2 * i} for i, r in enumerate(RESULTS)]
    report = pareto_report(campaign(), stamped)
    assert [h["data_version"] for h in report["history"]] == [10, 12, 14, 16, 18, 20]


def test_a_derived_reference_point_is_fixed_over_the_history() -> None:
    report = pareto_report(campaign((None, 0.0)), RESULTS)
    # the front's nadir in a (1.0) minus 10 % of a's observed range (1..5)
    expected = 1.0 - DERIVED_MARGIN * 4.0
    assert report["reference_point"]["a"] == pytest.approx(expected)
    assert report["reference_point_derived"] == {"a": True, "b": False}
    width = 1.0 - expected
    hv = width * 3 + 1 * 2 + 1 * 1  # the first box starts at the derived a
    assert report["hypervolume"] == pytest.approx(hv)
    first = (1.0 - expected) * 1.0  # S1 alone, against the same final reference point
    assert report["history"][0]["hypervolume"] == pytest.approx(first)
    assert report["history"][-1]["hypervolume"] == pytest.approx(hv)


def test_no_results_yet() -> None:
    report = pareto_report(campaign((None, None)), [])
    assert report["front"] == [] and report["history"] == [] and report["hypervolume"] == 0.0
    assert report["reference_point"] == {"a": None, "b": None}


def test_results_breaking_an_outcome_constraint_stay_off_the_front() -> None:
    constrained = campaign(
        outcome_constraints=[
            {"name": "purity", "op": ">=", "value": 0.9},
            {"name": "a", "op": "<=", "value": 2.5},
        ]
    )
    rows = [
        result(1, 1.0, 3.0, measurements={"purity": 0.5}),  # breaks purity
        result(2, 3.0, 1.0),  # breaks a <= 2.5
        result(3, 2.0, 2.0),  # reports no purity: counts as met
        result(4, 1.0, 1.0, measurements={"purity": 0.95}),
    ]
    report = pareto_report(constrained, rows)
    assert [f["sample_id"] for f in report["front"]] == ["S3"]
    assert report["hypervolume"] == pytest.approx(4.0)
    assert report["outcome_constraints"][0] == {"name": "purity", "op": ">=", "value": 0.9}
    assert [h["hypervolume"] for h in report["history"]] == pytest.approx([0, 0, 4, 4])


def test_log10_objectives_count_in_decades() -> None:
    latp = campaign_definition({"preset": "latp-moo"})
    point = {"acid_wt_pct": 0.0, "temperature_c": 900, "time_min": 60}
    rows = [
        {
            "sample_id": "A",
            "parameters": point,
            "objectives": {"conductivity": 1e-3, "relative_density": 0.95},
        },
        {
            "sample_id": "B",
            "parameters": point,
            "objectives": {"conductivity": 1e-5, "relative_density": 0.99},
        },
    ]
    report = pareto_report(latp, rows)
    assert report["reference_point"] == {"conductivity": 1e-4, "relative_density": 0.9}
    # one decade above 1e-4 times 0.05 above 0.90; B is below the conductivity threshold
    assert report["hypervolume"] == pytest.approx(1.0 * 0.05)
    assert [f["sample_id"] for f in report["front"]] == ["A", "B"]
    assert math.isclose(report["history"][0]["hypervolume"], 0.05)


def test_history_equals_the_hypervolume_of_every_prefix() -> None:
    """The history is updated only where a result adds volume; it must equal the hypervolume
    of each prefix computed from scratch (duplicates, dominated points, points under the
    reference point, missing objectives and failed results included)."""
    import numpy as np

    from kiln.multiobjective.pareto import hypervolume

    rng = np.random.default_rng(3)
    results: list[dict[str, Any]] = []
    for i in range(300):
        a, b = (round(float(v), 1) for v in rng.uniform(-1.0, 4.0, 2))
        if i % 37 == 5:
            results.append({"sample_id": f"F{i}", "parameters": {"x": 1.0}, "status": "failed"})
        elif i % 23 == 7:
            results.append(result(i, a, None))
        else:
            results.append(result(i, a, b))
    results.append(results[-1])  # an exact duplicate adds nothing
    report = pareto_report(campaign(), results)
    Y = np.array(
        [
            [r.get("objectives", {}).get(k, math.nan) if r.get("status") != "failed" else math.nan
             for k in ("a", "b")]
            for r in results
        ]
    )  # fmt: skip
    expected = [hypervolume(Y[:k], np.zeros(2)) for k in range(1, len(results) + 1)]
    assert [h["hypervolume"] for h in report["history"]] == pytest.approx(expected, abs=1e-12)
    assert len({h["hypervolume"] for h in report["history"]}) > 5  # the front did move
