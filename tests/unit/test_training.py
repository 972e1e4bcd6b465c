"""kiln.training: the bounded training set of a large campaign."""

from __future__ import annotations

import math

import pytest

from kiln.errors import KilnError
from kiln.objective import Objective
from kiln.training import select_training_set

MAXIMISE = Objective(name="conductivity", goal="maximize", transform="log10")
MINIMISE = Objective(name="loss", goal="minimize", transform="none")


def observations(n: int) -> list[dict]:
    # Values rise and fall so that neither the first nor the last ones are the best.
    return [
        {"sample_id": f"s{i}", "parameters": {"x": float(i)}, "objective": 1e-4 * (1 + math.sin(i))}
        for i in range(n)
    ]


def test_a_campaign_within_the_limit_trains_on_everything() -> None:
    data = observations(50)
    chosen = select_training_set(data, MAXIMISE, limit=50)
    assert chosen.observations == data and not chosen.subset
    assert chosen.summary() == {"used": 50, "of": 50, "best": 0, "recent": 0, "sampled": 0}


def test_above_the_limit_the_best_and_the_newest_are_always_kept() -> None:
    data = observations(5000)
    chosen = select_training_set(data, MAXIMISE, limit=400, seed=3)
    ids = [o["sample_id"] for o in chosen.observations]
    assert len(ids) == len(set(ids)) == 400 and chosen.subset
    best = sorted(data, key=lambda o: -o["objective"])[:100]
    assert {o["sample_id"] for o in best} <= set(ids)
    assert {f"s{i}" for i in range(4900, 5000)} <= set(ids)
    # The rest is spread over the whole log, in log order.
    assert [int(i[1:]) for i in ids] == sorted(int(i[1:]) for i in ids)
    assert min(int(i[1:]) for i in ids) < 1000
    summary = chosen.summary()
    assert summary["used"] == 400 and summary["of"] == 5000
    assert summary["best"] + summary["recent"] + summary["sampled"] == 400


def test_the_choice_is_a_pure_function_of_the_data_and_the_seed() -> None:
    data = observations(3000)
    first = select_training_set(data, MAXIMISE, limit=200, seed=7).observations
    assert select_training_set(data, MAXIMISE, limit=200, seed=7).observations == first
    assert select_training_set(data, MAXIMISE, limit=200, seed=8).observations != first


def test_minimising_keeps_the_smallest_values() -> None:
    data = [{"parameters": {"x": float(i)}, "objective": float(i)} for i in range(1000)]
    chosen = select_training_set(data, MINIMISE, limit=100, best_share=0.5, recent_share=0.0)
    values = {o["objective"] for o in chosen.observations}
    assert set(map(float, range(50))) <= values


def test_a_bad_value_is_never_hidden_from_the_fit() -> None:
    data = observations(2000)
    data[10] = {**data[10], "objective": math.nan}
    chosen = select_training_set(data, MAXIMISE, limit=100)
    assert data[10] in chosen.observations


def test_above_the_limit_failed_syntheses_are_left_out_before_choosing() -> None:
    data = observations(600)
    failed = [{"sample_id": f"f{i}", "parameters": {"x": 0.5}, "status": "failed"}
              for i in range(200)]  # fmt: skip
    mixed = [row for pair in zip(data[:200], failed, strict=True) for row in pair] + data[200:]
    chosen = select_training_set(mixed, MAXIMISE, limit=100, seed=5)
    assert (
        chosen.observations == select_training_set(data, MAXIMISE, limit=100, seed=5).observations
    )
    assert chosen.summary()["of"] == 600
    small = select_training_set(mixed[:50], MAXIMISE, limit=100)
    assert small.observations == mixed[:50]  # within the limit: the input unchanged


@pytest.mark.parametrize(
    ("limit", "best", "recent"), [(5, 0.25, 0.25), (100, 0.8, 0.3), (100, -0.1, 0.2)]
)
def test_nonsense_settings_are_a_domain_error(limit: int, best: float, recent: float) -> None:
    with pytest.raises(KilnError):
        select_training_set(observations(20), MAXIMISE, limit=limit, best_share=best,
                            recent_share=recent)  # fmt: skip
