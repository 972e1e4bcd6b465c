"""Issue 16 campaign rules: acquisitions per number of objectives, measurements, outcome
constraints, PATCH, the latp-moo preset; every refusal names its field."""

from __future__ import annotations

from typing import Any

import pytest

from kiln import campaign as rules
from kiln.errors import CampaignError
from kiln.lab import VirtualLatpLab, measure_objectives
from kiln.multiobjective.outcomes import OutcomeConstraint, outcome_constraints_of
from kiln.presets import PRESETS

OBJECTIVES = [
    {"name": "conductivity", "unit": "S/cm", "transform": "log10", "threshold": 1e-4},
    {"name": "relative_density", "unit": "1", "threshold": 0.9},
]


def definition(**extra: Any) -> dict[str, Any]:
    return {
        "name": "c",
        "parameters": [
            {"name": "x", "kind": "continuous", "low": 0.0, "high": 1.0},
            {"name": "y", "kind": "continuous", "low": 0.0, "high": 1.0},
        ],
        "objectives": OBJECTIVES,
        **extra,
    }


def refused(body: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(CampaignError) as caught:
        rules.campaign_definition(body)
    return caught.value.errors


def update_refused(campaign: dict[str, Any], patch: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(CampaignError) as caught:
        rules.campaign_update(campaign, patch)
    return caught.value.errors


def single_objective() -> dict[str, Any]:
    """A stored campaign of definition()'s parameters and the one objective ``y``."""
    return rules.campaign_definition(
        {"name": "s", "parameters": definition()["parameters"], "objective": {"name": "y"}}
    )


def many(k: int) -> list[dict[str, Any]]:
    return [{"name": f"y{i}"} for i in range(k)]


@pytest.mark.parametrize(("k", "expected"), [(2, "ehvi"), (3, "ehvi"), (4, "parego")])
def test_the_default_acquisition_follows_the_number_of_objectives(k: int, expected: str) -> None:
    out = rules.campaign_definition(definition(objectives=many(k)))
    assert out["strategy"]["acquisition"] == expected
    assert rules.is_multiobjective(out)
    assert rules.objectives_of(out).names == [f"y{i}" for i in range(k)]
    # a strategy that names no acquisition (or null) gets the default too
    out = rules.campaign_definition(definition(objectives=many(k), strategy={"batch_size": 3}))
    assert out["strategy"]["acquisition"] == expected
    assert out["strategy"]["batch_size"] == 3


def test_one_objective_in_a_list_is_stored_as_the_singular_objective() -> None:
    out = rules.campaign_definition(definition(objectives=[OBJECTIVES[0]]))
    assert "objectives" not in out and not rules.is_multiobjective(out)
    assert out["objective"] == {
        "name": "conductivity",
        "unit": "S/cm",
        "goal": "maximize",
        "transform": "log10",
    }
    assert out["strategy"]["acquisition"] == "ucb"  # the single-objective default, unchanged
    assert rules.objectives_of(out).names == ["conductivity"]


@pytest.mark.parametrize(
    ("objectives", "acquisition", "needle"),
    [
        (many(4), "ehvi", "exact EHVI takes 2-3 objectives"),
        (many(2), "ucb", "scores one objective"),
        (many(3), "ei", "scores one objective"),
        (many(1), "ehvi", "needs 2-4 objectives"),
        (many(1), "parego", "needs 2-4 objectives"),
    ],
)
def test_acquisitions_that_do_not_fit_the_objectives_are_refused(
    objectives: list[dict[str, Any]], acquisition: str, needle: str
) -> None:
    errors = refused(definition(objectives=objectives, strategy={"acquisition": acquisition}))
    assert list(errors) == ["strategy.acquisition"]
    assert needle in errors["strategy.acquisition"][0]


def test_random_and_parego_fit_any_number_of_objectives() -> None:
    for k in (2, 3, 4):
        for acquisition in ("random", "parego"):
            out = rules.campaign_definition(
                definition(objectives=many(k), strategy={"acquisition": acquisition})
            )
            assert out["strategy"]["acquisition"] == acquisition
    with pytest.raises(CampaignError, match="unknown"):
        rules.campaign_definition(definition(strategy={"acquisition": "qnehvi"}))


def test_every_bad_objective_input_names_its_field() -> None:
    assert "objectives" in refused(definition(objectives=many(5)))
    bad_threshold = [{**OBJECTIVES[0], "threshold": 0.0}, OBJECTIVES[1]]
    errors = refused(definition(objectives=bad_threshold))
    assert "must be > 0 under log10" in errors["objectives.0.threshold"][0]
    campaign = rules.campaign_definition(definition())
    with pytest.raises(CampaignError) as caught:
        rules.validate_results(
            campaign, [{"parameters": {"x": 0.1, "y": 0.2}, "objectives": {"density": 0.9}}]
        )
    assert list(caught.value.errors) == ["results.0.objectives.density"]


def test_measurements_and_outcome_constraints_are_stored_normalised() -> None:
    out = rules.campaign_definition(
        definition(
            measurements=[{"name": "phase_purity", "unit": "1"}, {"name": "mass_g"}],
            outcome_constraints=[
                {"name": "relative_density", "op": ">=", "value": 0.95},
                {"name": "phase_purity", "op": ">=", "value": 0.8},
                {"name": "conductivity", "op": "<=", "value": 1},
            ],
        )
    )
    assert out["measurements"] == [
        {"name": "phase_purity", "unit": "1"},
        {"name": "mass_g", "unit": ""},
    ]
    assert outcome_constraints_of(out) == (
        OutcomeConstraint("relative_density", ">=", 0.95),
        OutcomeConstraint("phase_purity", ">=", 0.8),
        OutcomeConstraint("conductivity", "<=", 1.0),
    )
    assert "outcome_constraints" not in rules.campaign_definition(definition())
    assert outcome_constraints_of(rules.campaign_definition(definition())) == ()


@pytest.mark.parametrize(
    ("constraint", "field", "needle"),
    [
        ({"name": "density", "op": ">=", "value": 0.9}, "outcome_constraints.0.name", "unknown"),
        ({"name": "relative_density", "op": ">", "value": 0.9}, "outcome_constraints.0.op", "'>'"),
        (
            {"name": "relative_density", "op": ">=", "value": float("nan")},
            "outcome_constraints.0.value",
            "finite",
        ),
        ({"name": "relative_density", "op": ">=", "value": "high"}, "outcome_constraints.0.value", "finite"),
        ({"name": "conductivity", "op": ">=", "value": 0}, "outcome_constraints.0.value", "log10"),
        ({"name": "relative_density", "op": ">=", "value": 1, "unit": "1"}, "outcome_constraints.0.unit", "not allowed"),
    ],
)  # fmt: skip
def test_bad_outcome_constraints_name_the_field(
    constraint: dict[str, Any], field: str, needle: str
) -> None:
    errors = refused(definition(outcome_constraints=[constraint]))
    assert field in errors and needle in errors[field][0]


def test_an_unknown_constraint_name_lists_the_objectives_and_measurements() -> None:
    errors = refused(
        definition(
            measurements=[{"name": "phase_purity"}],
            outcome_constraints=[{"name": "purity", "op": ">=", "value": 0.9}],
        )
    )
    assert errors["outcome_constraints.0.name"] == [
        "'purity' is unknown; objectives: ['conductivity', 'relative_density'], "
        "measurements: ['phase_purity']"
    ]


def test_bad_measurements_name_the_field() -> None:
    errors = refused(definition(measurements=[{"name": "a"}, {"name": "a"}, {"name": "b c"}, 3]))
    assert sorted(errors) == ["measurements.1.name", "measurements.2.name", "measurements.3"]
    assert "measurements" in refused(definition(measurements="phase_purity"))


def test_a_single_objective_campaign_may_have_outcome_constraints() -> None:
    body = {
        "name": "one",
        "parameters": definition()["parameters"],
        "objective": {"name": "conductivity", "transform": "log10"},
        "measurements": [{"name": "relative_density"}],
        "outcome_constraints": [{"name": "relative_density", "op": ">=", "value": 0.95}],
    }
    out = rules.campaign_definition(body)
    assert "objective" in out and out["outcome_constraints"] == body["outcome_constraints"]
    errors = refused({**body, "outcome_constraints": [{"name": "x", "op": ">=", "value": 1}]})
    assert "objectives: ['conductivity']" in errors["outcome_constraints.0.name"][0]


def test_shared_batches_are_allowed_with_several_objectives() -> None:
    shared = {"batch_shared": {"parameters": ["x"], "groups": 2}}
    out = rules.campaign_definition(definition(strategy=shared))
    assert out["strategy"]["batch_shared"] == {"parameters": ["x"], "groups": 2}
    errors = refused(definition(strategy={"batch_shared": {"parameters": ["z"]}}))
    assert list(errors) == ["strategy.batch_shared.parameters.0"]


def test_a_patch_may_not_change_the_objectives() -> None:
    campaign = rules.campaign_definition(definition())
    changed = [OBJECTIVES[0], {**OBJECTIVES[1], "threshold": 0.8}]
    errors = update_refused(campaign, {"objectives": changed})
    assert list(errors) == ["objectives"] and "cannot change" in errors["objectives"][0]
    with pytest.raises(CampaignError, match="cannot change"):
        rules.campaign_update(campaign, {"objective": OBJECTIVES[0]})
    same, _ = rules.campaign_update(campaign, {"objectives": OBJECTIVES, "name": "d"})
    assert same["name"] == "d" and same["objectives"] == campaign["objectives"]
    assert list(update_refused(single_objective(), {"objective": {"name": "z"}})) == ["objective"]


def test_a_patch_may_change_measurements_constraints_and_strategy() -> None:
    campaign = rules.campaign_definition(definition(measurements=[{"name": "phase_purity"}]))
    updated, space_changed = rules.campaign_update(
        campaign,
        {
            "outcome_constraints": [{"name": "phase_purity", "op": ">=", "value": 0.8}],
            "strategy": {"acquisition": "parego", "batch_size": 4},
        },
    )
    assert not space_changed
    assert updated["outcome_constraints"] == [{"name": "phase_purity", "op": ">=", "value": 0.8}]
    assert updated["strategy"]["acquisition"] == "parego"
    assert updated["measurements"] == campaign["measurements"]
    # dropping the measurement a constraint names is refused, naming the constraint
    assert list(update_refused(updated, {"measurements": []})) == ["outcome_constraints.0.name"]
    cleared, _ = rules.campaign_update(updated, {"measurements": [], "outcome_constraints": []})
    assert "measurements" not in cleared and "outcome_constraints" not in cleared
    ucb = {"strategy": {"acquisition": "ucb"}}
    assert list(update_refused(campaign, ucb)) == ["strategy.acquisition"]
    unknown = {"outcome_constraints": [{"name": "q", "op": "<=", "value": 1}]}
    assert list(update_refused(campaign, unknown)) == ["outcome_constraints.0.name"]


def test_a_single_objective_patch_to_a_pareto_acquisition_is_refused() -> None:
    ehvi = {"strategy": {"acquisition": "ehvi"}}
    assert list(update_refused(single_objective(), ehvi)) == ["strategy.acquisition"]


def test_the_latp_moo_preset() -> None:
    assert "latp-moo" in PRESETS
    out = rules.campaign_definition({"preset": "latp-moo"})
    assert [o["name"] for o in out["objectives"]] == ["conductivity", "relative_density"]
    conductivity, density = out["objectives"]
    assert (conductivity["unit"], conductivity["transform"], conductivity["threshold"]) == (
        "S/cm",
        "log10",
        1e-4,
    )
    assert (density["unit"], density["goal"], density["threshold"]) == ("1", "maximize", 0.9)
    assert out["strategy"]["acquisition"] == "ehvi"
    assert out["strategy"]["batch_size"] == 6
    assert out["strategy"]["batch_method"] == "kriging_believer"
    assert [p["name"] for p in out["parameters"]] == ["acid_wt_pct", "temperature_c", "time_min"]
    constrained = rules.campaign_definition(
        {
            "preset": "latp-moo",
            "outcome_constraints": [{"name": "relative_density", "op": ">=", "value": 0.95}],
        }
    )
    assert constrained["outcome_constraints"][0]["value"] == 0.95


def test_the_virtual_lab_measures_a_multi_objective_result() -> None:
    campaign = rules.campaign_definition({"preset": "latp-moo"})
    names = rules.objectives_of(campaign).names
    lab = VirtualLatpLab(3)
    point = {"acid_wt_pct": 0.0, "temperature_c": 900, "time_min": 60}
    result = measure_objectives(lab, point, names, 7)
    assert sorted(result["objectives"]) == sorted(names)
    assert result["measurements"] == {}
    single = lab.measure(point, 7)
    assert result["objectives"]["conductivity"] == single["objective"]
    assert result["objectives"]["relative_density"] == single["measurements"]["relative_density"]
    assert rules.validate_results(campaign, [{"parameters": point, **result}])
    only = measure_objectives(lab, point, ["conductivity"], 7)
    assert only["measurements"] == {"relative_density": result["objectives"]["relative_density"]}
    with pytest.raises(KeyError, match="does not measure"):
        measure_objectives(lab, point, ["hardness"], 7)
