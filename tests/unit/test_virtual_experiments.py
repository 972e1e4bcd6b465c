"""The virtual-experiment protocol: random baseline, purity, GP-UCB on an easy pool, plotting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from plots import plot_virtual_experiments

from kiln.errors import KilnError
from kiln.lab import VirtualLatpLab
from kiln.presets import latp_seed_grid_space
from kiln.virtual_experiments import (
    pool_from_results,
    repeat_seed,
    run_protocol,
    run_repeat,
    summarise,
)

OBJECTIVE = {"name": "conductivity", "unit": "S/cm", "transform": "log10"}


@pytest.fixture(scope="module")
def latp_pool() -> tuple[np.ndarray, np.ndarray]:
    return pool_from_results(latp_seed_grid_space(), OBJECTIVE, VirtualLatpLab().seed_grid())


@pytest.fixture(scope="module")
def smooth_pool() -> tuple[np.ndarray, np.ndarray]:
    """A 6 x 6 grid of one smooth bump: any sensible GP strategy finds its top quickly."""
    g = np.linspace(0.0, 1.0, 6)
    X = np.array([[a, b] for a in g for b in g])
    y = -((X[:, 0] - 0.62) ** 2) - 0.5 * (X[:, 1] - 0.35) ** 2
    return X, y


def test_pool_from_the_seed_grid(latp_pool: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = latp_pool
    assert X.shape == (80, 3) and y.shape == (80,)
    assert X.min() == 0.0 and X.max() == 1.0
    best = int(np.argmax(y))
    assert 10 ** y[best] == pytest.approx(1.09e-3, rel=0.15)


def test_pool_skips_failed_results_and_needs_two() -> None:
    results = VirtualLatpLab().seed_grid()[:3]
    failed = {"sample_id": "F", "parameters": results[0]["parameters"], "status": "failed"}
    X, _ = pool_from_results(latp_seed_grid_space(), OBJECTIVE, [*results, failed])
    assert X.shape[0] == 3
    with pytest.raises(KilnError, match="at least 2"):
        pool_from_results(latp_seed_grid_space(), OBJECTIVE, results[:1])


def test_pool_keeps_only_results_that_satisfy_the_constraints() -> None:
    results = VirtualLatpLab().seed_grid()
    space = {
        **latp_seed_grid_space(),
        "constraints": [{"kind": "forbidden", "when": {"temperature_c": {">=": 1000}}}],
    }
    X, _ = pool_from_results(space, OBJECTIVE, results)
    kept = [r for r in results if r["parameters"]["temperature_c"] < 1000]
    assert 0 < len(kept) < len(results)
    assert X.shape[0] == len(kept)
    forbid_all = {**space, "constraints": [{"kind": "linear", "terms": {"time_min": 1},
                                            "op": "<=", "rhs": 0}]}  # fmt: skip
    with pytest.raises(KilnError, match="2 measured results that satisfy the constraints"):
        pool_from_results(forbid_all, OBJECTIVE, results)


def test_random_baseline_matches_the_study(latp_pool: tuple[np.ndarray, np.ndarray]) -> None:
    # With N = 80, uniform picks with replacement and 79 tries: 1 - (79/80)^79 ≈ 63 %.
    X, y = latp_pool
    table = run_protocol(X, y, strategies=["random"], n_inits=[1], repeats=200, jobs=1)
    cell = table["random"][1]
    assert cell["runs"] == 200
    assert 0.57 <= cell["found"] / 200 <= 0.70
    assert 28 <= cell["mean_extra_tries"] <= 40


@pytest.mark.parametrize("strategy", ["random", "ucb", "pi"])
def test_run_repeat_is_pure(latp_pool: tuple[np.ndarray, np.ndarray], strategy: str) -> None:
    X, y = latp_pool
    first = run_repeat(X, y, strategy, 40, seed=repeat_seed(40, 3))
    assert first == run_repeat(X, y, strategy, 40, seed=repeat_seed(40, 3))
    assert set(first) == {"found", "extra_tries"}
    assert 0 <= first["extra_tries"] <= 40


def test_gp_ucb_finds_the_top_of_a_smooth_pool(smooth_pool: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = smooth_pool
    outcomes = [run_repeat(X, y, "ucb", 6, seed=s, n_restarts=1) for s in range(4)]
    assert all(o["found"] for o in outcomes)
    assert np.mean([o["extra_tries"] for o in outcomes]) <= 8


def test_initial_draw_holding_the_best_counts_as_zero_tries() -> None:
    X = np.array([[0.0], [1.0]])
    y = np.array([0.0, 1.0])
    outcomes = [run_repeat(X, y, "random", 1, seed=s) for s in range(20)]
    assert {"found": True, "extra_tries": 0} in outcomes


def test_bad_arguments_are_rejected(smooth_pool: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = smooth_pool
    with pytest.raises(KilnError, match="strategy"):
        run_repeat(X, y, "thompson", 5, seed=0)
    with pytest.raises(KilnError, match="n_init"):
        run_repeat(X, y, "ucb", len(y), seed=0)


def test_protocol_runs_in_processes_like_in_process(
    smooth_pool: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = smooth_pool
    kwargs = {"strategies": ["ucb", "random"], "n_inits": [5, 100], "repeats": 3, "n_restarts": 0}
    seen: list[tuple[int, int]] = []
    local = run_protocol(X, y, jobs=1, **kwargs)  # type: ignore[arg-type]
    pooled = run_protocol(
        X,
        y,
        jobs=2,
        chunk_size=2,
        progress=lambda d, t: seen.append((d, t)),
        **kwargs,  # type: ignore[arg-type]
    )
    assert local == pooled
    assert set(local["ucb"]) == {5}  # n_init >= N is skipped
    assert seen[-1] == (6, 6)


def test_summarise_and_plot(tmp_path: Path) -> None:
    outcomes = {
        ("ucb", 1): [{"found": True, "extra_tries": 4}, {"found": False, "extra_tries": 9}],
        ("random", 1): [{"found": False, "extra_tries": 9}],
    }
    table = summarise(outcomes)
    assert table["ucb"][1] == {"found": 1, "runs": 2, "mean_extra_tries": 4.0}
    assert table["random"][1]["mean_extra_tries"] is None
    path = tmp_path / "bo.png"
    plot_virtual_experiments({"ucb": {"1": table["ucb"][1]}, "random": table["random"]}, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
