"""Suspect results: exact leave-one-out standardised residuals and the planted outlier."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor

from kiln.model.fitted import FittedModel, fit_model
from kiln.model.surrogate import JITTER, GPSurrogate
from kiln.objective import Objective
from kiln.parameters import ContinuousParameter
from kiln.space import SearchSpace
from kiln.suspects import SUSPECT_THRESHOLD, standardised_loo_residuals, suspects

SPACE = SearchSpace([ContinuousParameter("a", 0.0, 1.0), ContinuousParameter("b", 0.0, 1.0)])
OBJ = Objective("conductivity", unit="S/cm")


def _observations(n: int = 30, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    log10 = -3 + np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]) + 0.05 * rng.normal(size=n)
    return [
        {"sample_id": f"S{i}", "parameters": {"a": float(a), "b": float(b)}, "objective": 10**v}
        for i, ((a, b), v) in enumerate(zip(X, log10, strict=True))
    ]


@pytest.mark.parametrize("noise_var", [None, "some"])
def test_closed_form_equals_brute_force_refits_with_fixed_hyperparameters(noise_var) -> None:
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(15, 2))
    y = np.sin(4 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=15)
    nv = None if noise_var is None else rng.uniform(0, 0.05, size=15)
    s = GPSurrogate(n_restarts=0).fit(X, y, noise_var=nv)
    z = standardised_loo_residuals(s.posterior_)
    y_norm = (y - s.y_mean_) / s.y_std_
    own = JITTER + (np.zeros(15) if nv is None else nv / s.y_std_**2)
    for i in range(15):
        keep = np.arange(15) != i
        gpr = GaussianProcessRegressor(
            kernel=s.kernel_, alpha=own[keep], optimizer=None, normalize_y=False
        ).fit(X[keep], y_norm[keep])
        mu, sd = gpr.predict(X[i : i + 1], return_std=True)  # includes the white noise
        sigma = np.sqrt(sd[0] ** 2 + own[i])  # and the point's own noise
        assert z[i] == pytest.approx((y_norm[i] - mu[0]) / sigma, abs=1e-8)


def test_a_planted_outlier_is_the_only_suspect() -> None:
    obs = _observations()
    clean = fit_model(SPACE, OBJ, obs, random_state=0)
    assert clean.summary()["suspects"] == []
    obs[11] = {**obs[11], "objective": obs[11]["objective"] * 10}  # a typo: one decade off
    model = fit_model(SPACE, OBJ, obs, random_state=0)
    found = model.summary()["suspects"]
    assert [s["sample_id"] for s in found] == ["S11"]
    assert found[0]["residual"] > SUSPECT_THRESHOLD  # better than the others say: positive
    z = standardised_loo_residuals(model.surrogate.posterior_)
    assert np.max(np.abs(np.delete(z, 11))) < SUSPECT_THRESHOLD
    # the ids survive storage, so a model read back lists the same suspect
    assert FittedModel.from_dict(model.to_dict()).suspects() == found


def test_threshold_order_and_id_checks() -> None:
    obs = _observations()
    model = fit_model(SPACE, OBJ, obs, random_state=0)
    post = model.surrogate.posterior_
    ids = [o["sample_id"] for o in obs]
    z = standardised_loo_residuals(post)
    listed = suspects(post, ids, threshold=0.5)
    assert [s["residual"] for s in listed] == sorted(
        (float(v) for v in z if abs(v) > 0.5), key=abs, reverse=True
    )
    assert suspects(post, ids, threshold=np.inf) == []
    with pytest.raises(ValueError, match="sample ids"):
        suspects(post, ids[:-1])
