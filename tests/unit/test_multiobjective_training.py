"""kiln.multiobjective.training: the bounded training set of a large multi-objective campaign."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.campaign import objectives_of
from kiln.errors import KilnError
from kiln.multiobjective.training import select_pareto_training_set

OBJECTIVES = objectives_of(
    {
        "objectives": [
            {"name": "conductivity", "goal": "maximize", "transform": "log10"},
            {"name": "loss", "goal": "minimize", "transform": "none"},
        ]
    }
)


def observations(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "sample_id": f"s{i}",
            "parameters": {"x": float(i)},
            "objectives": {
                "conductivity": float(10 ** rng.uniform(-6, -3)),
                "loss": float(rng.uniform(0, 1)),
            },
        }
        for i in range(n)
    ]


def brute_force_ranks(data: list[dict]) -> list[int]:
    """Non-dominated sorting by hand: more conductivity and less loss are better."""
    points = [(np.log10(o["objectives"]["conductivity"]), -o["objectives"]["loss"]) for o in data]
    ranks = [-1] * len(points)
    left, rank = set(range(len(points))), 0
    while left:
        front = {
            i
            for i in left
            if not any(
                points[j][0] >= points[i][0]
                and points[j][1] >= points[i][1]
                and points[j] != points[i]
                for j in left
            )
        }
        for i in front:
            ranks[i] = rank
        left -= front
        rank += 1
    return ranks


def ids(chosen: list[dict]) -> list[int]:
    return [int(o["sample_id"][1:]) for o in chosen]


def test_a_campaign_within_the_limit_trains_on_everything_in_order() -> None:
    data = observations(50)
    chosen = select_pareto_training_set(data, OBJECTIVES, limit=50)
    assert chosen.observations == data and not chosen.subset
    assert all(a is b for a, b in zip(chosen.observations, data, strict=True))
    assert chosen.summary() == {"used": 50, "of": 50, "best": 0, "recent": 0, "sampled": 0}


def test_the_lowest_pareto_ranks_are_kept_first_rank_by_rank() -> None:
    data = observations(600, seed=1)
    ranks = brute_force_ranks(data)
    chosen = select_pareto_training_set(data, OBJECTIVES, limit=80, recent_share=0.0, seed=2)
    kept = ids(chosen.observations)
    assert len(kept) == len(set(kept)) == 80 and chosen.subset
    assert kept == sorted(kept)  # log order
    n_best = chosen.summary()["best"]
    assert n_best == 20
    # Whole ranks while they fit in the best share: all of them are kept.
    cut = max(r for r in range(max(ranks) + 1) if sum(x <= r for x in ranks) <= n_best)
    assert sum(x == 0 for x in ranks) <= n_best and cut >= 0
    assert {i for i, r in enumerate(ranks) if r <= cut} <= set(kept)
    # The same choice ignoring the goals (maximising the loss too) keeps another front.
    flipped = [
        {**o, "objectives": {**o["objectives"], "loss": -o["objectives"]["loss"]}} for o in data
    ]
    other = select_pareto_training_set(flipped, OBJECTIVES, limit=80, recent_share=0.0, seed=2)
    assert ids(other.observations) != kept


def test_the_most_recent_results_are_kept() -> None:
    data = observations(500, seed=3)
    chosen = select_pareto_training_set(data, OBJECTIVES, limit=100, seed=4)
    summary = chosen.summary()
    assert summary["used"] == 100 and summary["of"] == 500
    assert summary["best"] == summary["recent"] == 25 and summary["sampled"] == 50
    assert set(range(475, 500)) <= set(ids(chosen.observations))
    assert min(ids(chosen.observations)) < 100  # the sample spreads over the whole log


def test_the_choice_is_a_pure_function_of_the_data_and_the_seed() -> None:
    data = observations(400, seed=5)
    first = select_pareto_training_set(data, OBJECTIVES, limit=60, seed=7).observations
    assert select_pareto_training_set(data, OBJECTIVES, limit=60, seed=7).observations == first
    assert select_pareto_training_set(data, OBJECTIVES, limit=60, seed=8).observations != first


def test_results_missing_an_objective_are_not_ranked_but_can_be_recent() -> None:
    data = observations(300, seed=6)
    for o in data[:100]:  # the best conductivity of all, but no loss measured
        o["objectives"] = {"conductivity": 1.0}
    data[-1]["objectives"] = {"loss": 0.0}  # the best loss of all, the newest result
    chosen = select_pareto_training_set(data, OBJECTIVES, limit=40, best_share=0.5, seed=0)
    kept = set(ids(chosen.observations))
    assert 299 in kept  # recent
    ranks = brute_force_ranks(data[100:299])
    assert {100 + i for i, r in enumerate(ranks) if r == 0} <= kept
    assert len(kept & set(range(100))) < 20  # only what the sample drew, not a best share
    # Fewer ranked results than the best share: the rest of it goes to the sample.
    few = select_pareto_training_set(data[:110], OBJECTIVES, limit=40, best_share=0.5, seed=0)
    summary = few.summary()
    assert summary["best"] == 10 and set(range(100, 110)) <= set(ids(few.observations))
    assert summary["used"] == 40 and summary["sampled"] == 40 - 10 - summary["recent"]


def test_values_the_fit_refuses_are_kept_and_failed_syntheses_left_out() -> None:
    data = observations(200, seed=8)
    data[3]["objectives"]["conductivity"] = -1.0  # not positive under log10
    data[5]["objectives"]["density"] = 0.5  # no such objective
    for o in data[10:60]:
        o["status"] = "failed"
    chosen = select_pareto_training_set(data, OBJECTIVES, limit=100, seed=1)
    kept = ids(chosen.observations)
    assert {3, 5} <= set(kept)
    assert not set(kept) & set(range(10, 60)) and chosen.summary()["of"] == 150
    # Above the limit only by its failed syntheses: every measured result, in order.
    some = select_pareto_training_set(data[:120], OBJECTIVES, limit=100)
    assert ids(some.observations) == [*range(10), *range(60, 120)] and not some.subset


@pytest.mark.parametrize("limit", [0, 9])
def test_a_limit_below_ten_is_refused(limit: int) -> None:
    with pytest.raises(KilnError, match="at least 10"):
        select_pareto_training_set(observations(5), OBJECTIVES, limit=limit)
