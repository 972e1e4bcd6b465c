"""How the client prints predictions and acquisition values (demo, `kiln proposals watch`)."""

from __future__ import annotations

import math

import pytest

from kiln_client.cli.proposals import format_batch
from kiln_client.demo import Iteration, format_iteration
from kiln_client.predictions import format_acquisitions, format_prediction, prediction_interval

# A log10 objective: model-scale mean m = log10(2.4e-4) and std s = 0.76 give, as the worker
# stores it, predicted_mean = 10**m and predicted_std = ln(10) * mean * s.
MEAN = 2.4e-4
STD = math.log(10) * MEAN * 0.76


def test_a_log_normal_prediction_is_an_interval_on_the_model_scale() -> None:
    low, high = prediction_interval(MEAN, STD, "log10") or (0.0, 0.0)
    assert math.log10(low) == pytest.approx(math.log10(MEAN) - 0.76)
    assert math.log10(high) == pytest.approx(math.log10(MEAN) + 0.76)
    assert 0 < low < MEAN < high
    assert format_prediction(MEAN, STD, "log10") == "4.2e-05 – 1.4e-03"
    assert "±" not in format_prediction(MEAN, STD, "log10")


def test_a_linear_prediction_keeps_plus_minus_and_none_is_a_dash() -> None:
    assert prediction_interval(3.2, 0.4, "none") == (pytest.approx(2.8), pytest.approx(3.6))
    assert format_prediction(3.2, 0.4, "none") == "3.2 ± 0.4"
    assert format_prediction(None, None) == "-"


def test_acquisition_values_have_three_digits_and_negligible_ones_read_zero() -> None:
    values = [0.01234567, 4.56e-85, None, -1.5, 0.002]
    assert format_acquisitions(values) == ["0.0123", "≈0", "-", "-1.5", "0.002"]
    assert format_acquisitions([4.56e-85]) == ["4.56e-85"]  # alone, it is the batch's best


def batch() -> dict:
    ident = "1b9e0c2f4d0a434022730ac5-first-0"
    return {
        "batch_id": "9f1c2e7a9f1c2e7a9f1c2e7a9f1c2e7a",
        "created_at": "2026-11-30T00:35:38Z",
        "acquisition": "ei",
        "batch_method": "kriging_believer",
        "proposals": [
            {
                "id": ident,
                "parameters": {"temperature_c": 900.0},
                "predicted_mean": MEAN,
                "predicted_std": STD,
                "acquisition_value": 0.5,
                "status": "pending",
            },
            {
                "id": ident.replace("-0", "-1"),
                "parameters": {"temperature_c": 1000.0},
                "predicted_mean": MEAN,
                "predicted_std": STD,
                "acquisition_value": 4.56e-85,
                "status": "pending",
            },
        ],
    }


def test_watch_prints_whole_ids_intervals_and_readable_acquisitions() -> None:
    campaign = {"objective": {"name": "conductivity", "unit": "S/cm", "transform": "log10"}}
    text = format_batch(batch(), campaign)  # type: ignore[arg-type]
    for proposal in batch()["proposals"]:
        assert proposal["id"] in text
    assert "…" not in text and "9f1c2e7a9f1c2e7a9f1c2e7a9f1c2e7a" in text
    assert "4.2e-05 – 1.4e-03" in text and "4.56e-85" not in text and "≈0" in text


def test_the_demo_prints_the_interval() -> None:
    proposals = batch()["proposals"]
    results = [
        {"proposal_id": p["id"], "sample_id": f"S{i}", "objective": 3e-4}
        for i, p in enumerate(proposals)
    ]
    it = Iteration(1, batch(), results, {}, proposals=proposals)
    text = format_iteration(it)
    assert "4.2e-05 – 1.4e-03" in text and "±" not in text.split("\n", 3)[3]
