"""Objectives validation, ParEGO weights and multi-objective batches (kiln.multiobjective)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiln.errors import CampaignError, KilnError
from kiln.multiobjective.models import fit_models, predict_all
from kiln.multiobjective.objectives import parse_objectives
from kiln.multiobjective.parego import (
    UNIT_FLOOR,
    chebyshev,
    draw_weights,
    scale_unit,
    simplex_lattice,
)
from kiln.multiobjective.pareto import pareto_mask
from kiln.multiobjective.scorers import Believers, EHVIScorer, NoisyEHVIScorer
from kiln.multiobjective.selection import select_pareto_batch
from kiln.presets import latp_objectives

LATP = latp_objectives()


def _errors(payload: dict) -> dict[str, list[str]]:
    with pytest.raises(CampaignError) as info:
        parse_objectives(payload)
    return info.value.errors


def test_objectives_list_parses_and_thresholds_go_to_the_model_scale() -> None:
    objectives = parse_objectives({"objectives": LATP})
    assert objectives.names == ["conductivity", "relative_density"]
    assert objectives.thresholds_model() == pytest.approx([-4.0, 0.9])
    assert parse_objectives({"objectives": objectives.to_list()}) == objectives
    Y = objectives.to_model(np.array([[1e-3, 0.95], [np.nan, 0.5]]))
    assert Y[0] == pytest.approx([-3.0, 0.95])
    assert math.isnan(Y[1, 0])


def test_singular_objective_is_a_one_element_list() -> None:
    objectives = parse_objectives({"objective": {"name": "conductivity", "goal": "minimize"}})
    assert len(objectives) == 1
    assert objectives.specs[0].threshold is None
    assert objectives.to_model(np.array([[100.0]]))[0] == pytest.approx([-2.0])


def test_threshold_outside_the_objective_domain_names_the_field() -> None:
    bad = [LATP[0], {**LATP[1], "transform": "log10", "threshold": 0}]
    errors = _errors({"objectives": bad})
    assert list(errors) == ["objectives.1.threshold"]
    assert "must be > 0 under log10" in errors["objectives.1.threshold"][0]
    with pytest.raises(CampaignError, match=r"objectives\.1\.threshold: must be > 0 under log10"):
        parse_objectives({"objectives": bad})
    assert "objectives.0.threshold" in _errors({"objectives": [{**LATP[0], "threshold": "x"}]})


def test_one_to_four_objectives() -> None:
    five = [{"name": f"y{i}", "transform": "none"} for i in range(5)]
    assert "5 objectives" in _errors({"objectives": five})["objectives"][0]
    assert "0 objectives" in _errors({"objectives": []})["objectives"][0]
    assert len(parse_objectives({"objectives": five[:4]})) == 4


def test_bad_fields_are_named() -> None:
    errors = _errors(
        {
            "objectives": [
                LATP[0],
                {"name": "conductivity"},
                {"name": "d", "x": 1},
                {**LATP[1], "goal": "up"},
            ]
        }
    )
    assert set(errors) == {"objectives.3.goal", "objectives.1.name", "objectives.2.x"}
    assert "repeats objectives.0.name" in errors["objectives.1.name"][0]
    assert "not both" in _errors({"objective": LATP[0], "objectives": LATP})["objectives"][0]
    assert "required" in _errors({})["objectives"][0]


def test_result_values_by_name() -> None:
    objectives = parse_objectives({"objectives": LATP})
    got = objectives.values_of({"relative_density": 0.93}, where="results.0.objectives")
    assert math.isnan(got[0]) and got[1] == 0.93
    with pytest.raises(CampaignError) as info:
        objectives.values_of({"density": 0.9, "conductivity": -1.0}, where="results.0.objectives")
    assert set(info.value.errors) == {
        "results.0.objectives.density",
        "results.0.objectives.conductivity",
    }
    with pytest.raises(CampaignError, match="no objective value"):
        objectives.values_of({}, where="results.0.objectives")


@pytest.mark.parametrize("k", [2, 3, 4])
def test_parego_weights_lie_on_the_simplex(k: int) -> None:
    lattice = simplex_lattice(k, 5)
    assert lattice.shape == (math.comb(5 + k - 1, k - 1), k)
    assert np.allclose(lattice.sum(axis=1), 1.0) and (lattice >= 0).all()
    assert len({tuple(w) for w in lattice}) == lattice.shape[0]
    for method in ("lattice", "dirichlet"):
        w = [draw_weights(k, np.random.default_rng(7), method) for _ in range(2)]
        assert np.array_equal(w[0], w[1])  # seeded
        assert w[0].sum() == pytest.approx(1.0) and (w[0] >= 0).all()
    with pytest.raises(KilnError, match="unknown"):
        draw_weights(k, np.random.default_rng(0), "grid")


def test_chebyshev_is_the_weighted_minimum_plus_rho_sum() -> None:
    got = chebyshev(np.array([[0.2, 0.8], [1.0, 1.0]]), np.array([0.5, 0.5]), rho=0.1)
    assert got == pytest.approx([0.1 + 0.05, 0.5 + 0.1])


def _problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.random((12, 2))
    Y = np.column_stack([-((X - 0.2) ** 2).sum(axis=1), -((X - 0.8) ** 2).sum(axis=1)])
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 9), np.linspace(0, 1, 9)), -1).reshape(-1, 2)
    return X, Y, grid, fit_models(X, Y, n_restarts=0)


@pytest.mark.parametrize(
    ("acquisition", "front_samples"), [("ehvi", 0), ("ehvi", 8), ("parego", 0)]
)
def test_a_batch_never_repeats_a_point(acquisition: str, front_samples: int) -> None:
    X, Y, grid, models = _problem()
    excluded = np.zeros(grid.shape[0], bool)
    excluded[:40] = True
    sel = select_pareto_batch(
        models,
        X,
        Y,
        grid,
        12,
        np.array([-1.0, -1.0]),
        acquisition=acquisition,
        excluded=excluded,
        pending=grid[40:42],
        rng=np.random.default_rng(1),
        front_samples=front_samples,
    )
    picked = [p.index for p in sel.picks]
    assert len(picked) == 12 and len(set(picked)) == 12
    assert min(picked) >= 40 and not excluded[40:].any()  # the caller's mask is untouched
    assert all(p.mean.shape == (2,) and p.std.shape == (2,) for p in sel.picks)
    tiny = select_pareto_batch(
        models,
        X,
        Y,
        grid[:3],
        5,
        np.array([-1.0, -1.0]),
        acquisition=acquisition,
        front_samples=front_samples,
    )
    assert sorted(p.index for p in tiny.picks) == [0, 1, 2] and tiny.exhausted


def test_models_train_on_the_rows_where_their_objective_was_measured() -> None:
    X, Y, _, _ = _problem()
    Y[:3, 1] = np.nan
    models = fit_models(X, Y, n_restarts=0)
    assert [m.X_train_.shape[0] for m in models] == [12, 9]


def test_unknown_acquisition() -> None:
    X, Y, grid, models = _problem()
    with pytest.raises(KilnError, match="acquisition 'ucb' is unknown"):
        select_pareto_batch(models, X, Y, grid, 1, np.zeros(2), acquisition="ucb")


def test_scale_unit_maps_reference_to_zero_best_to_one_and_clips() -> None:
    Y = np.array([[-18.0, 2.0], [-0.5, 4.0], [-300.0, 3.0]])
    got = scale_unit(Y, np.array([-18.0, 2.0]), np.array([-0.5, 4.0]))
    assert got[:2].ravel() == pytest.approx([0.0, 0.0, 1.0, 1.0])
    assert got[2, 0] == UNIT_FLOOR and got[2, 1] == pytest.approx(0.5)


def test_noisy_ehvi_sees_no_gain_in_remeasuring_a_front_point() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((30, 2))
    F = np.column_stack([-((X - 0.2) ** 2).sum(axis=1), -((X - 0.8) ** 2).sum(axis=1)])
    Y = F + rng.normal(0, 0.05, F.shape)
    models = fit_models(X, Y, n_restarts=1)
    means = predict_all(models, X)[0]
    i = int(np.flatnonzero(pareto_mask(means))[0])
    C = np.vstack([X[i], X[i] + 0.3 * (0.5 - X[i])])  # a measured front point, a new point
    ref = np.array([-1.0, -1.0])
    plain, _, _ = EHVIScorer(Believers(models, C), means, np.empty((0, 2)), ref).score(
        np.arange(2), 0
    )
    noisy, _, _ = NoisyEHVIScorer(models, C, X, ref, np.random.default_rng(0), 256).score(
        np.arange(2), 0
    )
    # the mean front credits the measured point's latent std; sampled jointly, it adds nothing
    assert noisy[0] < 0.05 * plain[0]
    assert noisy[1] > 0.5 * plain[1] > 0
