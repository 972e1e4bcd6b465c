"""kiln.model.reader: the numpy-only reader of a stored model agrees with the fitted model."""

from __future__ import annotations

import numpy as np
import pytest
from support.fresh_python import run_fresh

from kiln.errors import OutsideSpaceError, SpaceError
from kiln.lab import VirtualLatpLab
from kiln.model.fitted import FittedModel, fit_model
from kiln.model.reader import ModelReader
from kiln.objective import Objective
from kiln.presets import latp_seed_grid_space
from kiln.space import SearchSpace
from kiln.strategy import Strategy

OBJECTIVE = {"name": "conductivity", "unit": "S/cm", "goal": "maximize", "transform": "log10"}


@pytest.fixture(scope="module")
def fitted() -> FittedModel:
    space = SearchSpace.from_dict(latp_seed_grid_space())
    grid = VirtualLatpLab(seed=0).seed_grid()
    return fit_model(space, Objective.from_dict(OBJECTIVE), grid, n_restarts=1)


def test_reader_predicts_what_the_fitted_model_predicts(fitted: FittedModel) -> None:
    reader = ModelReader.from_state(fitted.to_dict())
    points = [g["parameters"] for g in VirtualLatpLab(seed=0).seed_grid()[::7]]
    mean, std = fitted.predict(points)
    rows = reader.predict(points, Strategy())
    assert np.allclose([r["mean"] for r in rows], mean, rtol=1e-10)
    assert np.allclose([r["std"] for r in rows], std, rtol=1e-10)
    mu, sd = fitted.surrogate.predict(fitted.space.encode(points))
    assert np.allclose([r["acquisition_value"] for r in rows], mu + 1.96 * sd, rtol=1e-10)
    assert all("probability_of_success" not in r for r in rows)


def test_leave_one_out_is_reported_in_the_objectives_unit(fitted: FittedModel) -> None:
    loo = fitted.summary()["leave_one_out"]
    assert loo["unit"] == "S/cm" and loo["n"] == 80
    assert 0 < loo["mae"] <= loo["rmse"] < 1e-3  # conductivities are 1e-7 .. 1e-3 S/cm
    assert loo["rmse_model_scale"] == pytest.approx(
        fitted.summary()["leave_one_out_rmse_model_scale"]
    )


def test_slice_has_a_grid_per_axis_and_holds_the_rest(fitted: FittedModel) -> None:
    reader = ModelReader.from_state(fitted.to_dict())
    data = reader.slice("acid_wt_pct", "time_min", Strategy(acquisition="ei"))
    assert data["x"]["values"] == [-22.5, -15.0, -7.5, 0.0, 7.5]
    assert data["y"]["values"] == [10.0, 30.0, 60.0, 480.0]
    assert data["fixed"] == {"temperature_c": 1000.0}  # the best observed sample's value
    assert np.array(data["mean"]).shape == (4, 5)
    assert np.min(np.array(data["acquisition"], dtype=float)) >= 0  # EI
    assert sum(o["on_slice"] for o in data["observations"]) == 20
    with pytest.raises(SpaceError):
        reader.slice("acid_wt_pct", "acid_wt_pct", Strategy())
    with pytest.raises(SpaceError):
        reader.slice("acid_wt_pct", "pressure", Strategy())
    with pytest.raises(SpaceError):
        reader.slice("acid_wt_pct", "time_min", Strategy(), {"acid_wt_pct": 0.0})
    with pytest.raises(OutsideSpaceError):
        reader.slice("acid_wt_pct", "time_min", Strategy(), {"temperature_c": "hot"})


def test_slice_axes_span_the_ranges_given_not_the_fitted_ones(fitted: FittedModel) -> None:
    reader = ModelReader.from_state(fitted.to_dict())
    narrowed = latp_seed_grid_space()
    narrowed["version"] = 2
    for p in narrowed["parameters"]:
        if p["name"] == "time_min":
            p["values"] = [30.0, 60.0, 120.0]  # 120 was never measured: the model extrapolates
    ranges = SearchSpace.from_dict(narrowed)
    data = reader.slice("acid_wt_pct", "time_min", Strategy(), ranges=ranges)
    assert data["y"]["values"] == [30.0, 60.0, 120.0]
    assert np.array(data["std"], dtype=float).shape == (3, 5)
    j = data["y"]["values"].index(60.0)
    plain = reader.slice("acid_wt_pct", "time_min", Strategy())
    assert data["mean"][j] == plain["mean"][plain["y"]["values"].index(60.0)]


def test_reading_a_model_never_imports_sklearn() -> None:
    code = (
        "import sys\n"
        "import kiln.model.reader, kiln.feasibility, kiln.ledger, kiln.model.posterior\n"
        "assert 'sklearn' not in sys.modules, 'sklearn loaded'\n"
        "assert 'kiln.model.surrogate' not in sys.modules\n"
    )
    run_fresh(code, timeout=60)
