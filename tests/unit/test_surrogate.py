"""The GP surrogate: fitting, predictions, serialisation without refitting."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor

import kiln.model.surrogate as surrogate_module
from kiln.errors import ModelFitError, NoObservationsError
from kiln.model.surrogate import (
    CATEGORICAL_LENGTH_SCALE_BOUNDS,
    JITTER,
    LENGTH_SCALE_BOUNDS,
    NOISE_BOUNDS,
    GPSurrogate,
    length_scale_bounds,
)


def _data(n: int = 30, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    y = np.sin(4 * X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.05 * rng.normal(size=n)
    return X, y


@pytest.fixture(scope="module")
def fitted() -> GPSurrogate:
    X, y = _data()
    return GPSurrogate(n_restarts=2, random_state=0).fit(X, y)


def test_fit_returns_self_with_learned_attributes(fitted: GPSurrogate) -> None:
    assert isinstance(fitted, GPSurrogate)
    assert fitted.n_restarts == 2 and fitted.random_state == 0
    assert fitted.length_scale_.shape == (3,)
    assert NOISE_BOUNDS[0] <= fitted.noise_level_ <= NOISE_BOUNDS[1]
    assert np.isfinite(fitted.log_marginal_likelihood_)
    assert "Matern" in str(fitted.kernel_) and "WhiteKernel" in str(fitted.kernel_)
    # the irrelevant third input gets a longer length scale than the first
    assert fitted.length_scale_[2] > fitted.length_scale_[0]


def test_unfitted_and_default_parameters() -> None:
    model = GPSurrogate()
    assert (model.n_restarts, model.random_state) == (5, 0)
    with pytest.raises(ModelFitError, match="not fitted"):
        model.predict(np.zeros((1, 2)))


def test_predictions_match_scikit_learn(fitted: GPSurrogate) -> None:
    X, y = _data()
    reference = GaussianProcessRegressor(
        kernel=fitted.kernel_, alpha=JITTER, optimizer=None, normalize_y=True
    ).fit(X, y)
    Xs = np.random.default_rng(5).uniform(size=(50, 3))
    mu_ref, sd_ref = reference.predict(Xs, return_std=True)
    mu, sd_noisy = fitted.predict(Xs, include_noise=True)
    np.testing.assert_allclose(mu, mu_ref, atol=1e-10)
    np.testing.assert_allclose(sd_noisy, sd_ref, atol=1e-10)
    # the default std is the latent one: the noise variance is removed
    _, sd = fitted.predict(Xs)
    np.testing.assert_allclose(
        sd**2, sd_ref**2 - fitted.noise_level_ * fitted.y_std_**2, atol=1e-10
    )
    assert np.all(sd < sd_noisy)
    assert fitted.noise_std_model_ == pytest.approx(np.sqrt(fitted.noise_level_) * fitted.y_std_)


def test_fit_is_seeded() -> None:
    X, y = _data(seed=3)
    a = GPSurrogate(n_restarts=3, random_state=7).fit(X, y)
    b = GPSurrogate(n_restarts=3, random_state=7).fit(X, y)
    assert a.to_dict() == b.to_dict()


def test_json_round_trip_gives_identical_predictions_without_refitting(
    fitted: GPSurrogate, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = json.loads(json.dumps(fitted.to_dict()))

    def no_fitting(*args, **kwargs):
        raise AssertionError("from_dict must not fit a GaussianProcessRegressor")

    monkeypatch.setattr(surrogate_module, "GaussianProcessRegressor", no_fitting)
    rebuilt = GPSurrogate.from_dict(payload)
    Xs = np.random.default_rng(9).uniform(-0.2, 1.2, size=(200, 3))
    mu_a, sd_a = fitted.predict(Xs)
    mu_b, sd_b = rebuilt.predict(Xs)
    assert np.max(np.abs(mu_a - mu_b)) < 1e-12
    assert np.max(np.abs(sd_a - sd_b)) < 1e-12
    assert str(rebuilt.kernel_) == str(fitted.kernel_)
    assert rebuilt.log_marginal_likelihood_ == fitted.log_marginal_likelihood_
    assert rebuilt.to_dict() == payload


def test_from_dict_rejects_malformed_payloads(fitted: GPSurrogate) -> None:
    payload = fitted.to_dict()
    with pytest.raises(ModelFitError, match="cannot rebuild"):
        GPSurrogate.from_dict({k: v for k, v in payload.items() if k != "noise_level"})
    with pytest.raises(ModelFitError, match="do not match"):
        GPSurrogate.from_dict({**payload, "y_train": payload["y_train"][:-1]})


def test_no_observations() -> None:
    with pytest.raises(NoObservationsError):
        GPSurrogate().fit(np.zeros((0, 2)), np.zeros(0))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_is_a_fit_error(bad: float) -> None:
    X, y = _data(n=5)
    y[2] = bad
    with pytest.raises(ModelFitError, match="finite"):
        GPSurrogate(n_restarts=0).fit(X, y)
    with pytest.raises(ModelFitError, match="rows"):
        GPSurrogate(n_restarts=0).fit(X, y[:3])


def test_degenerate_but_fittable_data() -> None:
    X, y = _data(n=6)
    one = GPSurrogate(n_restarts=0).fit(X[:1], y[:1])
    assert one.predict(X[:1])[0][0] == pytest.approx(y[0], abs=1e-3)
    # duplicated points are fine thanks to the learned noise
    dup = GPSurrogate(n_restarts=1).fit(np.vstack([X, X]), np.concatenate([y, y + 0.01]))
    assert np.all(np.isfinite(dup.predict(X)[1]))
    flat = GPSurrogate(n_restarts=1).fit(X, np.full(6, -3.0))
    np.testing.assert_allclose(flat.predict(X)[0], -3.0, atol=1e-9)


def test_loo_residuals_match_explicit_refits(fitted: GPSurrogate) -> None:
    X, y = _data()
    loo = fitted.loo_residuals()
    for i in (0, 7, 19):
        keep = np.arange(len(y)) != i
        # a fixed-hyperparameter GP on the other points, same normalisation
        ref = GaussianProcessRegressor(
            kernel=fitted.kernel_, alpha=JITTER, optimizer=None, normalize_y=False
        ).fit(X[keep], (y[keep] - fitted.y_mean_) / fitted.y_std_)
        mu_i = fitted.y_mean_ + fitted.y_std_ * ref.predict(X[i : i + 1])[0]
        assert loo[i] == pytest.approx(y[i] - mu_i, abs=1e-8)


def _latp_like(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 3))
    y = -3 - ((X[:, 0] - 0.6) / 0.3) ** 2 - np.sin(5 * X[:, 2]) + 0.1 * rng.normal(size=n)
    return X, y


def _recording_lml(monkeypatch) -> list[np.ndarray]:
    thetas: list[np.ndarray] = []
    original = GaussianProcessRegressor.log_marginal_likelihood

    def recording(self, theta=None, *args, **kwargs):
        if theta is not None:
            thetas.append(np.array(theta))
        return original(self, theta, *args, **kwargs)

    monkeypatch.setattr(GaussianProcessRegressor, "log_marginal_likelihood", recording)
    return thetas


def test_warm_start_starts_at_the_earlier_optimum_and_reaches_the_cold_one(monkeypatch) -> None:
    X, y = _latp_like(81)
    before = GPSurrogate(n_restarts=3).fit(X[:80], y[:80])
    cold = GPSurrogate(n_restarts=3).fit(X, y)
    thetas = _recording_lml(monkeypatch)
    warm = GPSurrogate(n_restarts=0).fit(X, y, start=before)
    # the optimiser's first step is at the earlier model's hyperparameters (log scale)
    np.testing.assert_allclose(thetas[0], before.kernel_.theta, atol=1e-12)
    assert warm.log_marginal_likelihood_ == pytest.approx(cold.log_marginal_likelihood_, abs=1e-3)
    np.testing.assert_allclose(warm.length_scale_, cold.length_scale_, rtol=1e-2)


def test_warm_start_needs_matching_columns() -> None:
    X, y = _latp_like(30)
    two = GPSurrogate(n_restarts=0).fit(X[:, :2], y)
    with pytest.raises(ModelFitError, match="warm-start"):
        GPSurrogate(n_restarts=0).fit(X, y, start=two)


def test_mean_alone_equals_the_mean_with_std(fitted: GPSurrogate) -> None:
    C = np.random.default_rng(9).uniform(size=(300, fitted.X_train_.shape[1]))
    mu, _ = fitted.predict(C)
    np.testing.assert_allclose(fitted.predict(C, return_std=False), mu, rtol=0, atol=1e-12)


def test_one_hot_columns_get_their_own_length_scale_bounds() -> None:
    bounds = length_scale_bounds([False, True, True])
    np.testing.assert_array_equal(
        bounds,
        [LENGTH_SCALE_BOUNDS, CATEGORICAL_LENGTH_SCALE_BOUNDS, CATEGORICAL_LENGTH_SCALE_BOUNDS],
    )
    rng = np.random.default_rng(4)
    label = rng.integers(0, 2, size=30)
    X = np.column_stack([rng.uniform(size=30), label, 1 - label])
    y = np.sin(6 * X[:, 0]) + 0.01 * rng.normal(size=30)  # the label does not matter
    model = GPSurrogate(n_restarts=1, length_scale_bounds=bounds).fit(X, y)
    assert np.all(model.length_scale_ >= bounds[:, 0] * (1 - 1e-9)) and np.all(
        model.length_scale_ <= bounds[:, 1] * (1 + 1e-9)
    )
    np.testing.assert_array_equal(model.length_scale_bounds_, bounds)
    # a warm start from a model with other bounds is clipped into these
    start = GPSurrogate(n_restarts=0).fit(X, y)
    warm = GPSurrogate(n_restarts=0, length_scale_bounds=bounds).fit(X, y, start=start)
    assert np.all(warm.length_scale_ <= bounds[:, 1] * (1 + 1e-9))
    # the bounds travel with the model; a payload from before they existed still loads
    again = GPSurrogate.from_dict(json.loads(json.dumps(model.to_dict())))
    np.testing.assert_array_equal(again.length_scale_bounds_, bounds)
    old = {k: v for k, v in model.to_dict().items() if k != "length_scale_bounds"}
    np.testing.assert_array_equal(
        GPSurrogate.from_dict(old).predict(X, return_std=False), model.predict(X, return_std=False)
    )


def test_bad_length_scale_bounds_are_fit_errors() -> None:
    X, y = _latp_like(10)
    with pytest.raises(ModelFitError, match="one per column"):
        GPSurrogate(n_restarts=0, length_scale_bounds=[(0.1, 1.0)] * 2).fit(X, y)
    with pytest.raises(ModelFitError, match="swap"):
        GPSurrogate(n_restarts=0, length_scale_bounds=(1.0, 0.1)).fit(X, y)
