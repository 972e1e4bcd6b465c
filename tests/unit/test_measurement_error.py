"""A result's ``objective_sd``: checked, carried to the model scale, and the point's own noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from naive_batch import naive_select_batch
from sklearn.gaussian_process import GaussianProcessRegressor

from kiln.batch.scores import _two_point_variance
from kiln.batch.selection import select_batch
from kiln.campaign import validate_results
from kiln.errors import CampaignError, InvalidObservationError, ModelFitError
from kiln.measurement_error import check_objective_sd, model_scale_variance
from kiln.model.fitted import FittedModel, fit_model
from kiln.model.reader import ModelReader
from kiln.model.surrogate import JITTER, GPSurrogate
from kiln.objective import Objective
from kiln.parameters import ContinuousParameter
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy

LOG = Objective("conductivity", unit="S/cm")
LINEAR = Objective("density", unit="g/cm3", goal="minimize", transform="none")
SPACE = SearchSpace([ContinuousParameter("x", 0.0, 1.0)])
CAMPAIGN = {
    "parameters": [{"name": "x", "kind": "continuous", "low": 0.0, "high": 1.0}],
    "objective": {"name": "conductivity", "unit": "S/cm"},
}


def _observations(seed: int = 0, n: int = 12) -> list[dict]:
    rng = np.random.default_rng(seed)
    xs = np.linspace(0.0, 1.0, n)
    return [
        {
            "sample_id": f"S{i}",
            "parameters": {"x": float(x)},
            "objective": float(10 ** (-3 + np.sin(4 * x) + 0.05 * rng.normal())),
        }
        for i, x in enumerate(xs)
    ]


@pytest.mark.parametrize("bad", [0, -0.1, math.nan, math.inf, "0.1", True, None])
def test_check_objective_sd_refuses_what_is_not_a_positive_finite_number(bad) -> None:
    with pytest.raises(InvalidObservationError) as info:
        check_objective_sd(bad, field="results.3.objective_sd")
    assert info.value.field == "results.3.objective_sd"
    assert check_objective_sd(0.02) == 0.02
    assert check_objective_sd(1e30) == 1e30  # only > 0 and finite: a rough one weighs little


def test_delta_method_on_the_model_scale() -> None:
    var = model_scale_variance(LOG, [1e-3, 2e-3, 5e-4], [1e-4, None, 5e-5])
    assert var is not None
    expected = (0.1 / math.log(10)) ** 2  # sd / (x ln 10): a 10 % error is 0.0434 decades
    np.testing.assert_allclose(var, [expected, 0.0, expected], rtol=1e-12)
    # the delta method is first order: for a 1 % error it is close to the exact spread
    x, sd = 1e-3, 1e-5
    exact = np.std(np.log10(x + sd * np.random.default_rng(0).normal(size=200_000)))
    assert math.sqrt(model_scale_variance(LOG, [x], [sd])[0]) == pytest.approx(exact, rel=1e-2)
    np.testing.assert_allclose(model_scale_variance(LINEAR, [3.0, 4.0], [0.2, 0.5]), [0.04, 0.25])
    assert model_scale_variance(LOG, [1.0, 2.0], [None, None]) is None


def test_validate_results_accepts_objective_sd_and_names_it_when_bad() -> None:
    good = {"parameters": {"x": 0.5}, "objective": 1e-3, "objective_sd": 1e-4}
    assert validate_results(CAMPAIGN, [good])[0]["objective_sd"] == 1e-4
    rows = [
        good,
        {**good, "objective_sd": -1e-4},
        {**good, "objective_sd": math.nan},
        {"parameters": {"x": 0.5}, "status": "failed", "objective_sd": 1e-4},
        {**good, "objective_sd": "big"},
    ]
    with pytest.raises(CampaignError) as info:
        validate_results(CAMPAIGN, rows)
    assert sorted(info.value.errors) == [f"results.{i}.objective_sd" for i in (1, 2, 3, 4)]
    assert "positive" in info.value.errors["results.1.objective_sd"][0]


def _pull(obs: list[dict], extra: list[dict], probe: dict, before: float) -> float:
    """Decades the fitted posterior mean at ``probe`` moved from ``before``."""
    model = fit_model(SPACE, LOG, [*obs, *extra], random_state=0)
    return math.log10(float(model.predict([probe])[0][0]) / before)


def test_a_precise_measurement_pulls_the_mean_harder_than_a_rough_one() -> None:
    obs, probe = _observations(), {"x": 0.5}
    before = float(fit_model(SPACE, LOG, obs, random_state=0).predict([probe])[0][0])
    high = before * 10  # one decade above what the others say
    new = {"sample_id": "new", "parameters": probe, "objective": high}
    precise = _pull(obs, [{**new, "objective_sd": 0.01 * high}], probe, before)
    rough = _pull(obs, [{**new, "objective_sd": 3.0 * high}], probe, before)
    assert precise > 0.15  # measured 0.22 decades (the refitted white noise is its floor)
    assert abs(rough) < 0.02  # measured 0.00: a 300 % error says next to nothing


def test_between_two_conflicting_replicates_the_precise_one_wins() -> None:
    obs, probe = _observations(), {"x": 0.5}
    before = float(fit_model(SPACE, LOG, obs, random_state=0).predict([probe])[0][0])
    hi = {"sample_id": "hi", "parameters": probe, "objective": before * 10**0.5}
    lo = {"sample_id": "lo", "parameters": probe, "objective": before / 10**0.5}
    plain = _pull(obs, [hi, lo], probe, before)
    up = _pull(
        obs,
        [{**hi, "objective_sd": 0.02 * hi["objective"]}, {**lo, "objective_sd": lo["objective"]}],
        probe,
        before,
    )
    down = _pull(
        obs,
        [{**hi, "objective_sd": hi["objective"]}, {**lo, "objective_sd": 0.02 * lo["objective"]}],
        probe,
        before,
    )
    # measured: +0.10 and -0.13 decades, against -0.02 with no sd
    assert up > plain + 0.05
    assert down < plain - 0.05


def test_without_objective_sd_nothing_changes() -> None:
    obs = _observations()
    a = fit_model(SPACE, LOG, obs, random_state=0)
    assert a.surrogate.noise_var_ is None
    assert "noise_var" not in a.surrogate.to_dict()
    assert a.surrogate.posterior_.point_noise is None


def test_per_sample_alpha_matches_scikit_learn_and_survives_json() -> None:
    obs = _observations()
    obs[3]["objective_sd"] = 0.3 * obs[3]["objective"]
    obs[7]["objective_sd"] = 0.01 * obs[7]["objective"]
    model = fit_model(SPACE, LOG, obs, random_state=0)
    s = model.surrogate
    assert s.noise_var_ is not None and s.noise_var_[3] > 0 and s.noise_var_[0] == 0
    alpha = JITTER + s.noise_var_ / s.y_std_**2
    gpr = GaussianProcessRegressor(kernel=s.kernel_, alpha=alpha, optimizer=None, normalize_y=True)
    gpr.fit(s.X_train_, s.y_train_)
    # the hyperparameters were fitted with the per-sample alpha: same likelihood
    assert gpr.log_marginal_likelihood_value_ == pytest.approx(s.log_marginal_likelihood_)
    grid = np.linspace(0, 1, 7)[:, None]
    mu_ref, sd_ref = gpr.predict(grid, return_std=True)
    mu, sd = s.predict(grid, include_noise=True)
    np.testing.assert_allclose(mu, mu_ref, atol=1e-8)
    np.testing.assert_allclose(sd, sd_ref, atol=1e-8)
    again = FittedModel.from_dict(model.to_dict())
    np.testing.assert_array_equal(again.surrogate.predict(grid)[0], s.predict(grid)[0])
    reader = ModelReader.from_state(model.to_dict())
    np.testing.assert_allclose(reader.model_scale(grid)[0], s.predict(grid)[0], atol=1e-12)


def test_bad_per_point_variances_are_fit_errors() -> None:
    X, y = np.linspace(0, 1, 5)[:, None], np.arange(5.0)
    for bad in (np.ones(4), np.array([0, 0, -1.0, 0, 0]), np.array([0, 0, np.nan, 0, 0])):
        with pytest.raises(ModelFitError):
            GPSurrogate(n_restarts=0).fit(X, y, noise_var=bad)


@pytest.mark.parametrize("method", ["kriging_believer", "constant_liar_max"])
@pytest.mark.parametrize("acquisition", ["ucb", "ei"])
def test_batches_with_per_sample_alpha_equal_the_naive_refits(method, acquisition) -> None:
    rng = np.random.default_rng(4)
    X = rng.uniform(size=(25, 2))
    y = np.sin(5 * X[:, 0]) * np.cos(3 * X[:, 1]) + 0.05 * rng.normal(size=25)
    noise_var = np.where(rng.uniform(size=25) < 0.5, 0.0, rng.uniform(0.001, 0.2, size=25))
    model = GPSurrogate(n_restarts=1, random_state=0).fit(X, y, noise_var=noise_var)
    C, P = rng.uniform(size=(300, 2)), rng.uniform(size=(2, 2))
    kwargs = {"acquisition": acquisition, "batch_method": method, "pending": P}
    fast = select_batch(model, C, 5, **kwargs)
    naive = naive_select_batch(model, C, 5, **kwargs)
    assert [p.index for p in fast.picks] == [p.index for p in naive.picks]
    for a, b in zip(fast.picks, naive.picks, strict=True):
        assert abs(a.mean - b.mean) < 1e-8
        assert abs(a.std - b.std) < 1e-8


def test_the_lazy_variance_bound_holds_with_per_point_noise() -> None:
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(20, 2))
    y = np.sin(5 * X[:, 0]) + 0.05 * rng.normal(size=20)
    noise_var = np.where(np.arange(20) < 5, 0.0, 0.5)  # 15 rough points, 5 with white noise only
    model = GPSurrogate(n_restarts=0).fit(X, y, noise_var=noise_var)
    post = model.posterior_
    C = X + 0.01 * rng.normal(size=X.shape)  # candidates next to the training points
    _, exact = post.mean_var(C)
    bound = _two_point_variance(
        post.k(C, post.X), post.k(post.X, post.X), post.constant, post.train_noise()
    )
    assert np.all(bound >= exact - 1e-12)


def test_a_model_is_reused_only_for_the_same_stated_errors() -> None:
    obs = _observations()
    plain = fit_model(SPACE, LOG, obs, random_state=0)
    strategy = Strategy(batch_size=2)
    assert propose(SPACE, LOG, obs, [], strategy, model=plain).model is plain
    stated = [
        {**o, "objective_sd": 0.1 * o["objective"]} if i == 2 else o for i, o in enumerate(obs)
    ]
    refitted = propose(SPACE, LOG, stated, [], strategy, model=plain).model
    assert refitted is not plain and refitted is not None
    assert refitted.surrogate.noise_var_ is not None
    assert propose(SPACE, LOG, stated, [], strategy, model=refitted).model is refitted
    assert propose(SPACE, LOG, obs, [], strategy, model=refitted).model is not refitted
