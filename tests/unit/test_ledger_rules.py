"""kiln.ledger, kiln.feasibility and kiln.strategy_choice: the pure rules behind the ledger."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.feasibility import FeasibilityModel, acquisition_floor, fit_feasibility, weigh
from kiln.ledger import data_hash, outside_reason, provenance
from kiln.presets import latp_space
from kiln.space import SearchSpace
from kiln.strategy_choice import choose_strategy

FIRST = SearchSpace.from_dict(latp_space("1-2"))
SECOND = SearchSpace.from_dict({**latp_space("3-4"), "version": 2})


def test_outside_reason_names_the_parameter_and_the_space_version() -> None:
    inside = {"acid_wt_pct": -7.5, "temperature_c": 1000.0, "time_min": 480.0}
    assert outside_reason(FIRST, inside) is None
    assert outside_reason(SECOND, inside) is None  # the second space widens the first
    off_step = {**inside, "temperature_c": 1025.0}
    assert "temperature_c=1025 is not on the step 50" in str(outside_reason(FIRST, off_step))
    assert outside_reason(SECOND, off_step) is None
    narrow = SearchSpace.from_dict(
        {"parameters": [{"name": "t", "kind": "continuous", "low": 900, "high": 1000}],
         "version": 3}
    )  # fmt: skip
    assert outside_reason(narrow, {"t": 1050}) == "t=1050 is outside [900, 1000] in space version 3"
    reason = outside_reason(FIRST, {**inside, "acid_wt_pct": -11.25})
    assert reason is not None and "acid_wt_pct" in reason and "space version 1" in reason
    assert "unknown parameter" in str(outside_reason(FIRST, {**inside, "x": 1}))


def test_data_hash_changes_with_any_result() -> None:
    rows = [{"sample_id": "a", "parameters": {"x": 1}, "objective": 1e-4}]
    assert data_hash(rows) == data_hash([dict(rows[0])])
    assert data_hash(rows) != data_hash([{**rows[0], "objective": 2e-4}])
    assert data_hash(rows) != data_hash(rows + rows)
    assert len(data_hash([])) == 64


def test_data_hash_covers_the_objectives_of_a_multi_objective_result() -> None:
    row = {"sample_id": "a", "parameters": {"x": 1}, "objectives": {"y": 1.0, "z": 2.0}}
    assert data_hash([row]) != data_hash([{**row, "objectives": {"y": 1.0, "z": 3.0}}])
    single = {"sample_id": "a", "parameters": {"x": 1}, "objective": 1.0}
    # A single-objective hash is what it was before objectives existed.
    assert data_hash([single]) == "2974a4dd271be2362718b6653364c1e1e0884465b7cc0186971525929bb1b9d2"


def test_provenance_copies_kernel_and_acquisition_settings() -> None:
    origin = provenance(
        model_version=3, data_version=10, data_sha256="f" * 64, space_version=2,
        strategy={"acquisition": "ei", "kappa": 1.96, "xi": 0.05, "batch_method": "kriging_believer",
                  "batch_size": 4, "auto_batch": True},
        model_summary={"kernel": "K", "hyperparameters": {"length_scales": {"x": 1.0}}},
    )  # fmt: skip
    assert origin["acquisition"]["xi"] == 0.05 and origin["kernel"] == "K"
    assert origin["hyperparameters"] == {"length_scales": {"x": 1.0}}
    assert origin["feasibility"] is None and origin["fallback"] is None


def test_feasibility_needs_a_failure_and_a_success() -> None:
    ok = [{"parameters": {"acid_wt_pct": 0.0, "temperature_c": t, "time_min": 30.0},
           "objective": 1e-4} for t in (800.0, 850.0, 900.0)]  # fmt: skip
    failed = [{"parameters": {"acid_wt_pct": 0.0, "temperature_c": t, "time_min": 30.0},
               "status": "failed"} for t in (1050.0, 1100.0)]  # fmt: skip
    assert fit_feasibility(FIRST, ok) is None
    assert fit_feasibility(FIRST, failed) is None
    model = fit_feasibility(FIRST, ok + failed)
    assert model is not None and (model.n_failed, model.n_succeeded) == (2, 3)
    cold, hot = model.probability(FIRST.encode([ok[0]["parameters"], failed[1]["parameters"]]))
    assert cold > 0.5 > hot
    assert FeasibilityModel.from_dict(model.to_dict()) == model


def test_weighting_never_prefers_a_likely_failure_with_equal_promise() -> None:
    values = np.array([-3.0, -3.0, -5.0])
    weighted = weigh(values, np.array([0.9, 0.2, 1.0]), acquisition_floor("ucb", np.array([-6.0])))
    assert weighted[0] > weighted[1] > 0 and weighted[2] > 0
    assert acquisition_floor("ei", np.array([-6.0])) == 0.0


def test_choose_strategy_prefers_success_then_fewer_tries() -> None:
    table = {
        "random": {"5": {"found": 120, "runs": 200, "mean_extra_tries": 34.7}},
        "ucb": {"5": {"found": 190, "runs": 200, "mean_extra_tries": 5.2}},
        "ei": {"5": {"found": 188, "runs": 200, "mean_extra_tries": 6.0}},
        "pi": {"5": {"found": 150, "runs": 200, "mean_extra_tries": 3.0}},
    }
    best = choose_strategy(table)
    assert best is not None and best["strategy"] == "ucb"
    assert best["success_rate"] == pytest.approx(0.95)
    assert choose_strategy({}) is None
    never = choose_strategy({"pi": {"5": {"found": 0, "runs": 10, "mean_extra_tries": None}}})
    assert never is not None and never["mean_extra_tries"] is None
