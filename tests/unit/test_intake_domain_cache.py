"""The intake reuses a campaign's built space and objective, never a stale one."""

from __future__ import annotations

import pytest

from kiln_services.intake import domain
from kiln_services.intake.errors import InvalidRequest


def campaign(high: float, transform: str = "none") -> dict:
    return {
        "id": "c1",
        "space_version": 1,
        "parameters": [{"name": "x", "kind": "continuous", "low": 0.0, "high": high}],
        "objective": {"name": "y", "unit": None, "goal": "maximize", "transform": transform},
    }


def row(x: float, y: float = 1.0) -> dict:
    return {"sample_id": "s", "parameters": {"x": x}, "objective": y}


def test_the_space_is_built_once_per_definition() -> None:
    first = campaign(1.0)
    assert domain.space_of(first) is domain.space_of(campaign(1.0))
    assert domain.objective_of(first) is domain.objective_of(campaign(1.0))


def test_a_changed_definition_under_the_same_id_and_version_is_not_served_stale() -> None:
    with pytest.raises(InvalidRequest):
        domain.validate_results(campaign(1.0), [row(5.0)])
    assert domain.validate_results(campaign(10.0), [row(5.0)])[0]["flags"] == []
    with pytest.raises(InvalidRequest):
        domain.validate_results(campaign(10.0, transform="log10"), [row(5.0, y=-1.0)])


def test_a_caller_changing_its_campaign_later_does_not_change_the_cache() -> None:
    mine = campaign(1.0)
    domain.space_of(mine)
    mine["parameters"][0]["high"] = 10.0  # the cache holds its own copy
    assert domain.space_of(mine).parameters[0].high == 10.0
