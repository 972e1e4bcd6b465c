"""LATP presets follow Table 1 and the study's strategy."""

from __future__ import annotations

import pytest

from kiln.presets import (
    FURNACE_FORBIDDEN,
    latp_campaign,
    latp_furnace_campaign,
    latp_space,
    load_table1,
)


def test_iteration_spaces_follow_table_1() -> None:
    table = load_table1()
    for label, key in (("1-2", "iterations_1_2"), ("3-4", "iterations_3_4")):
        space = latp_space(label)  # type: ignore[arg-type]
        acid, temp, time = space["parameters"]
        assert [p["name"] for p in space["parameters"]] == [
            "acid_wt_pct",
            "temperature_c",
            "time_min",
        ]
        assert acid["kind"] == "discrete" and acid["values"] == table[key]["acid_wt_pct"]
        assert temp["kind"] == "continuous"
        assert (temp["low"], temp["high"], temp["step"]) == (
            800,
            1100,
            table[key]["temperature_c"]["step"],
        )
        assert time["kind"] == "discrete" and time["values"] == table[key]["time_min"]
        for p in space["parameters"]:
            lows = p["values"] if "values" in p else [p["low"], p["high"]]
            assert p["hard_low"] <= min(lows) and max(lows) <= p["hard_high"]
    assert len(latp_space("3-4")["parameters"][0]["values"]) == 9
    with pytest.raises(ValueError, match="iterations"):
        latp_space("5-6")  # type: ignore[arg-type]


def test_campaign_preset_is_the_study_setup() -> None:
    body = latp_campaign()
    assert body["parameters"] == latp_space("3-4")["parameters"]
    assert body["objective"] == {
        "name": "conductivity",
        "unit": "S/cm",
        "goal": "maximize",
        "transform": "log10",
    }
    strategy = body["strategy"]
    assert strategy["acquisition"] == "ucb" and strategy["kappa"] == 1.96
    assert strategy["batch_size"] == 6 and strategy["batch_method"] == "kriging_believer"
    assert strategy["auto_batch"] is True


def test_presets_round_trip_through_the_search_space() -> None:
    space_mod = pytest.importorskip("kiln.space")
    for label in ("1-2", "3-4"):
        data = latp_space(label)  # type: ignore[arg-type]
        space = space_mod.SearchSpace.from_dict(data)
        assert space.names == ["acid_wt_pct", "temperature_c", "time_min"]
        assert space.contains({"acid_wt_pct": -7.5, "temperature_c": 1000, "time_min": 480})
    assert space.grid_size() == 9 * 13 * 22


def test_furnace_preset_shares_one_firing_per_batch_and_forbids_long_hot_holds() -> None:
    import numpy as np

    from kiln.lab import VirtualLatpLab
    from kiln.objective import Objective
    from kiln.propose import propose
    from kiln.space import SearchSpace
    from kiln.strategy import Strategy

    body = latp_furnace_campaign()
    space = SearchSpace.from_dict(
        {"parameters": body["parameters"], "constraints": body["constraints"]}
    )
    strategy = Strategy.from_dict(body["strategy"])
    assert strategy.batch_size == 6 and strategy.batch_shared is not None
    assert strategy.batch_shared.groups == 1
    assert body["constraints"] == [FURNACE_FORBIDDEN]
    lab = VirtualLatpLab(seed=0)
    points = space.candidates(np.random.default_rng(0))[::97]
    obs = [{"parameters": p, **lab.measure(p, i)} for i, p in enumerate(points)]
    batch = propose(space, Objective.from_dict(body["objective"]), obs, [], strategy)
    assert len(batch.proposals) == 6
    firings = {(p.parameters["temperature_c"], p.parameters["time_min"]) for p in batch.proposals}
    assert len(firings) == 1
    assert not any(t >= 1075 and m > 240 for t, m in firings)
