"""kiln.campaign with ``"objectives": [...]`` (issue 16): definitions and results, domain rules only."""

from __future__ import annotations

from typing import Any

import pytest

from kiln import campaign as rules
from kiln.corrections import correct_result
from kiln.errors import CampaignError

OBJECTIVES = [
    {"name": "conductivity", "unit": "S/cm", "transform": "log10", "threshold": 1e-4},
    {"name": "relative_density", "unit": "1", "transform": "none", "threshold": 0.9},
]


def definition(**extra: Any) -> dict[str, Any]:
    return {
        "name": "c",
        "parameters": [{"name": "x", "kind": "continuous", "low": 0.0, "high": 1.0}],
        "objectives": OBJECTIVES,
        **extra,
    }


def test_a_multi_objective_definition_is_stored_with_its_objectives() -> None:
    out = rules.campaign_definition(definition())
    assert "objective" not in out
    assert [o["name"] for o in out["objectives"]] == ["conductivity", "relative_density"]
    assert out["objectives"][0] == {
        "name": "conductivity",
        "unit": "S/cm",
        "goal": "maximize",
        "transform": "log10",
        "threshold": 1e-4,
    }


def test_bad_objectives_are_named_with_the_other_fields() -> None:
    bad = [OBJECTIVES[0], {**OBJECTIVES[1], "transform": "log10", "threshold": -0.5}]
    with pytest.raises(CampaignError) as caught:
        rules.campaign_definition(definition(objectives=bad, strategy={"kappa": -1}))
    assert "objectives.1.threshold" in caught.value.errors
    assert "must be > 0 under log10" in caught.value.errors["objectives.1.threshold"][0]
    assert any(k.startswith("strategy") for k in caught.value.errors)
    with pytest.raises(CampaignError, match="give 1 to 4"):
        rules.campaign_definition(
            definition(objectives=[{"name": f"y{i}", "transform": "none"} for i in range(5)])
        )


def test_results_give_objectives_by_name_and_may_miss_some() -> None:
    campaign = {"id": "c1", **rules.campaign_definition(definition())}
    ok = [
        {
            "sample_id": "a",
            "parameters": {"x": 0.5},
            "objectives": {"conductivity": 1.1e-3, "relative_density": 0.96},
        },
        {"sample_id": "b", "parameters": {"x": 0.6}, "objectives": {"relative_density": 0.9}},
        {"sample_id": "c", "parameters": {"x": 0.7}, "status": "failed"},
    ]
    assert len(rules.validate_results(campaign, ok)) == 3
    bad = [
        {"sample_id": "d", "parameters": {"x": 0.5}, "objectives": {"density": 0.9}},
        {"sample_id": "e", "parameters": {"x": 0.5}, "objectives": {"conductivity": 0.0}},
        {"sample_id": "f", "parameters": {"x": 0.5}, "objective": 1.0},
        {
            "sample_id": "g",
            "parameters": {"x": 0.5},
            "status": "failed",
            "objectives": {"conductivity": 1e-3},
        },
    ]
    with pytest.raises(CampaignError) as caught:
        rules.validate_results(campaign, bad)
    assert sorted(caught.value.errors) == [
        "results.0.objectives.density",
        "results.1.objectives.conductivity",
        "results.2.objective",
        "results.2.objectives",
        "results.3.objectives",
    ]
    assert "unknown objective" in caught.value.errors["results.0.objectives.density"][0]


def test_a_correction_merges_objectives_by_name_and_keeps_the_rest() -> None:
    campaign = {"id": "c1", **rules.campaign_definition(definition())}
    (stored,) = rules.validate_results(
        campaign,
        [
            {
                "sample_id": "s",
                "parameters": {"x": 0.5},
                "objectives": {"conductivity": 1e-3, "relative_density": 0.9},
            }
        ],
    )
    corrected, changes = correct_result(
        campaign, stored, {"objectives": {"relative_density": 0.95}}
    )
    assert corrected["objectives"] == {"conductivity": 1e-3, "relative_density": 0.95}
    assert changes == {"objectives.relative_density": {"from": 0.9, "to": 0.95}}
    corrected, changes = correct_result(campaign, stored, {"objectives": {"conductivity": None}})
    assert corrected["objectives"] == {"relative_density": 0.9}  # null: not measured after all
    with pytest.raises(CampaignError) as bad:
        correct_result(campaign, stored, {"objectives": {"c": 1.0}})
    assert "objectives.c" in bad.value.errors
    with pytest.raises(CampaignError) as wrong:
        correct_result(campaign, stored, {"objective": 1.0})
    assert "objective" in wrong.value.errors
