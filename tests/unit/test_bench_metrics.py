"""bench/quality_metrics.py and bench/problems.py: top-set counting, AF, EF on toy cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support.bench import load_bench

qm = load_bench("quality_metrics")
problems = load_bench("problems")


def test_top_found_curve_counts_hits_and_carries_the_last_count() -> None:
    curve = qm.top_found_curve([5, 1, 7, 2], top_set={1, 2, 9}, budget=6)
    assert curve.tolist() == [0, 1, 1, 2, 2, 2]


def test_experiments_to_a_count_is_one_based_and_none_when_never_reached() -> None:
    curve = [0, 1, 1, 2, 2, 2]
    assert qm.experiments_to(curve, 1) == 2
    assert qm.experiments_to(curve, 2) == 4
    assert qm.experiments_to(curve, 3) is None


def test_level_count_rounds_up() -> None:
    assert qm.level_count(0.5, 30) == 15
    assert qm.level_count(0.8, 30) == 24
    assert qm.level_count(0.5, 9) == 5
    assert qm.level_count(0.8, 9) == 8
    assert qm.level_count(1.0, 9) == 9


def test_random_expectation_matches_a_simulation() -> None:
    # The k-th of K top rows in a random order of N: expected position k (N + 1) / (K + 1).
    n_pool, k_top, count = 40, 4, 2
    rng = np.random.default_rng(0)
    positions = [
        int(np.flatnonzero(np.cumsum(rng.permutation(n_pool) < k_top) >= count)[0]) + 1
        for _ in range(20_000)
    ]
    expected = qm.random_experiments_to(n_pool, k_top, count)
    assert expected == pytest.approx(2 * 41 / 5)
    assert np.mean(positions) == pytest.approx(expected, rel=0.02)


def test_acceleration_factor_divides_random_by_the_median() -> None:
    # N = 99, K = 9: random needs k * 10 experiments for k top rows.
    assert qm.acceleration_factor([5, 10, 20], 99, 9, count=5) == pytest.approx(50 / 10)
    # A median that never got there has no factor.
    assert qm.acceleration_factor([5, None, None], 99, 9, count=5) is None


def test_enhancement_factor_is_share_found_over_n_over_N() -> None:
    curves = [[0, 1, 2, 2], [0, 0, 1, 2]]  # after 3: 2 and 1 of K = 4 found, mean 1.5
    assert qm.enhancement_factor(curves, 100, 4, budget=3) == pytest.approx((1.5 / 4) / (3 / 100))


def test_quartiles_with_runs_that_never_got_there() -> None:
    assert qm.quartiles([1, 2, 3, 4, 5]) == (2, 3, 4)
    q1, median, q3 = qm.quartiles([1, 2, math.inf, math.inf])
    assert (median, q3) == (math.inf, math.inf) and q1 == pytest.approx(1.75)


def test_best_so_far_follows_the_goal() -> None:
    assert qm.best_so_far([3, 1, 4, 2], "maximize").tolist() == [3, 3, 4, 4]
    assert qm.best_so_far([3, 1, 4, 0], "minimize").tolist() == [3, 1, 1, 0]


def test_pool_problem_top_set_and_row_lookup() -> None:
    agnp = problems.agnp()
    assert agnp.size == 164 and len(agnp.top_set) == 9  # ceil(0.05 * 164)
    best = min(range(agnp.size), key=lambda i: agnp.pool_values[i])  # minimised
    assert best in agnp.top_set
    assert agnp.row_of(agnp.point(best)) == best
    assert agnp.truth([agnp.point(best)])[0] == pytest.approx(agnp.optimum)


def test_grid_problem_indexes_round_trip_and_initial_points_are_shared() -> None:
    mixed = problems.mixed4()
    points = mixed.initial_points(3)
    assert points == mixed.initial_points(3) != mixed.initial_points(4)
    assert len({mixed.index_of(p) for p in points}) == mixed.n_init
    assert [mixed.point(mixed.index_of(p)) for p in points] == points
    assert mixed.regret(mixed.optimum) == 0 and mixed.share_of_gap(mixed.optimum) == 1
