"""kiln.campaign: a campaign's rules without any service (definition, PATCH, valid results)."""

from __future__ import annotations

from typing import Any

import pytest

from kiln import campaign as rules
from kiln import corrections
from kiln.errors import CampaignError


def definition(**extra: Any) -> dict[str, Any]:
    return {
        "name": "c",
        "parameters": [
            {
                "name": "x",
                "kind": "continuous",
                "low": 0.0,
                "high": 1.0,
                "hard_low": -1.0,
                "hard_high": 2.0,
            },
            {"name": "gas", "kind": "categorical", "values": ["air", "ar"]},
        ],
        "objective": {"name": "y", "goal": "maximize"},
        **extra,
    }


def stored() -> dict[str, Any]:
    return {"id": "c1", **rules.campaign_definition(definition())}


def test_a_definition_is_normalised_at_space_version_1() -> None:
    out = stored()
    assert out["space_version"] == 1
    assert [p.name for p in rules.space_of(out).parameters] == ["x", "gas"]
    assert rules.objective_of(out).name == "y"


def test_the_space_of_a_campaign_carries_its_constraints() -> None:
    forbidden = {"kind": "forbidden", "when": {"gas": {"in": ["ar"]}, "x": {">": 0.5}}}
    space = rules.space_of({**stored(), "constraints": [forbidden]})
    assert space.constraints.to_list() == [forbidden]
    assert not rules.space_of(stored()).constraints


def test_every_bad_field_of_a_definition_is_named() -> None:
    body = definition(objective={"name": "y", "goal": "sideways"}, strategy={"batch_size": 0})
    with pytest.raises(CampaignError) as caught:
        rules.campaign_definition(body)
    assert all(k.startswith(("objective", "strategy")) for k in caught.value.errors)
    assert len(caught.value.errors) == 2


def test_a_step_that_cuts_the_range_into_too_many_parts_is_refused() -> None:
    body = definition()
    body["parameters"][0]["step"] = 1e-12
    with pytest.raises(CampaignError) as caught:
        rules.campaign_definition(body)
    assert list(caught.value.errors) == ["parameters.0.step"]


def test_new_ranges_make_the_next_space_version() -> None:
    campaign = stored()
    params = [dict(p) for p in campaign["parameters"]]
    params[0]["high"] = 1.5
    updated, changed = rules.campaign_update(campaign, {"parameters": params})
    assert changed and updated["space_version"] == 2
    assert rules.space_of(updated).version == 2
    same, unchanged = rules.campaign_update(campaign, {"parameters": campaign["parameters"]})
    assert not unchanged and same["space_version"] == 1


def test_a_patch_keeps_names_kinds_and_hard_limits() -> None:
    campaign = stored()
    with pytest.raises(CampaignError) as caught:
        rules.campaign_update(campaign, {"parameters": campaign["parameters"][:1]})
    assert list(caught.value.errors) == ["parameters"]
    params = [dict(p) for p in campaign["parameters"]]
    params[0]["hard_high"] = 3.0
    with pytest.raises(CampaignError) as caught:
        rules.campaign_update(campaign, {"parameters": params})
    assert list(caught.value.errors) == ["parameters.0.hard_high"]


def test_a_bad_strategy_override_is_named_under_strategy() -> None:
    with pytest.raises(CampaignError) as caught:
        rules.campaign_update(stored(), {"strategy": {"batch_size": 0}})
    assert all(k.startswith("strategy") for k in caught.value.errors)


def test_results_are_flagged_or_refused_by_the_rules() -> None:
    campaign = stored()
    ok = {"sample_id": "a", "parameters": {"x": 1.5, "gas": "air"}, "objective": 1.0}
    out = rules.validate_results(campaign, [ok])
    assert out[0]["flags"] and out[0]["space_version"] == 1  # outside the range, inside hard
    bad = [
        {"sample_id": "b", "parameters": {"x": 5.0, "gas": "air"}, "objective": 1.0},
        {
            "sample_id": "c",
            "parameters": {"x": 0.5, "gas": "air"},
            "status": "failed",
            "objective": 1.0,
        },
        {"sample_id": "d", "parameters": {"x": 0.5, "gas": "air"}},
        {
            "sample_id": "e",
            "parameters": {"x": 0.5, "gas": "air"},
            "objective": 1.0,
            "measurements": {"m": float("nan")},
        },
    ]
    with pytest.raises(CampaignError) as caught:
        rules.validate_results(campaign, bad)
    assert sorted(caught.value.errors) == [
        "results.0.parameters.x",
        "results.1.objective",
        "results.2.objective",
        "results.3.measurements.m",
    ]


def test_field_paths_are_dotted() -> None:
    assert rules.field_path("parameters[2].high") == "parameters.2.high"


def current_result() -> dict[str, Any]:
    return {"sample_id": "s1", "parameters": {"x": 0.5, "gas": "air"}, "objective": 1e300,
            "measurements": {"density": 0.9}, "status": "ok", "flags": [], "space_version": 1,
            "received_at": "2026-11-30T00:00:00.000Z", "revision": 0, "excluded": False}  # fmt: skip


def test_a_correction_says_what_changed_and_keeps_the_rest() -> None:
    patch = {"objective": 1.2e-3, "parameters": {"x": 1.5}, "measurements": {"density": None}}
    out, changes = corrections.correct_result(stored(), current_result(), patch)
    assert changes == {
        "objective": {"from": 1e300, "to": 1.2e-3},
        "parameters.x": {"from": 0.5, "to": 1.5},
        "measurements.density": {"from": 0.9, "to": None},
    }
    assert out["parameters"] == {"x": 1.5, "gas": "air"} and out["measurements"] == {}
    assert out["flags"] and out["received_at"] == current_result()["received_at"]
    assert "revision" not in out
    excluded, changes = corrections.correct_result(stored(), current_result(), {"excluded": True})
    assert excluded["excluded"] is True and changes == {"excluded": {"from": False, "to": True}}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({}, "_schema"),
        ({"objective": 1e300, "parameters": {"x": 0.5}, "excluded": False}, "_schema"),
        ({"objective": None}, "objective"),
        ({"status": "failed"}, "objective"),
        ({"parameters": {"x": 9.0}}, "parameters.x"),
        ({"sample_id": "s2"}, "sample_id"),
    ],
)
def test_a_correction_that_changes_nothing_or_breaks_a_rule_is_refused(
    patch: dict[str, Any], field: str
) -> None:
    with pytest.raises(CampaignError) as caught:
        corrections.correct_result(stored(), current_result(), patch)
    assert field in caught.value.errors
