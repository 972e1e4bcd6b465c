"""Replicates: several results at the same parameters all train the model."""

from __future__ import annotations

import numpy as np

from kiln.model.fitted import fit_model
from kiln.model.surrogate import GPSurrogate
from kiln.objective import Objective
from kiln.parameters import ContinuousParameter
from kiln.space import SearchSpace
from kiln.training import select_training_set

SPACE = SearchSpace([ContinuousParameter("x", 0.0, 1.0)])
OBJ = Objective("conductivity", unit="S/cm")
PROBE = {"x": 0.55}


def _base(seed: int = 0) -> list[dict]:
    """A seeded smooth problem measured away from the probe."""
    rng = np.random.default_rng(seed)
    xs = [0.0, 0.1, 0.2, 0.3, 0.4, 0.7, 0.8, 0.9, 1.0]
    return [
        {"sample_id": f"S{i}", "parameters": {"x": x}, "objective": 10 ** (-3 + np.sin(4 * x) + 0.05 * rng.normal())}
        for i, x in enumerate(xs)
    ]  # fmt: skip


def _replicates(offsets_decades: list[float]) -> list[dict]:
    centre = -3 + np.sin(4 * PROBE["x"])
    return [
        {"sample_id": f"R{j}", "parameters": PROBE, "objective": 10 ** (centre + d)}
        for j, d in enumerate(offsets_decades)
    ]


def test_the_training_set_keeps_every_replicate() -> None:
    data = _base() + _replicates([0.0, 0.05, -0.05, 0.02])
    chosen = select_training_set(data, OBJ, limit=20)
    assert [o["sample_id"] for o in chosen.observations] == [o["sample_id"] for o in data]
    # above the limit each replicate is ranked like any other result: none merged or dropped
    many = data * 3
    for i, o in enumerate(many):
        many[i] = {**o, "sample_id": f"{o['sample_id']}-{i}"}
    chosen = select_training_set(many, OBJ, limit=10, seed=1)
    assert len({o["sample_id"] for o in chosen.observations}) == 10


def test_replicates_shrink_the_posterior_std_more_than_one_result() -> None:
    four = fit_model(SPACE, OBJ, _base() + _replicates([0.03, -0.03, 0.02, -0.02]), random_state=0)
    state = four.surrogate.to_dict()
    n = len(_base()) + 1  # the same hyperparameters, trained on the first replicate only
    one = GPSurrogate.from_dict(
        {**state, "X_train": state["X_train"][:n], "y_train": state["y_train"][:n]}
    )
    assert four.n_observations == n + 3
    sd_one = one.predict(SPACE.encode([PROBE]))[1][0]
    sd_four = four.surrogate.predict(SPACE.encode([PROBE]))[1][0]
    assert sd_four < 0.6 * sd_one  # measured 0.54: about 1 / sqrt(4), noise dominates there


def test_the_fitted_noise_follows_the_spread_of_the_replicates() -> None:
    tight = fit_model(SPACE, OBJ, _base() + _replicates([0.01, -0.01, 0.005, -0.005]))
    loose = fit_model(SPACE, OBJ, _base() + _replicates([0.3, -0.3, 0.15, -0.15]))
    tight_sd = tight.surrogate.noise_std_model_
    loose_sd = loose.surrogate.noise_std_model_
    # spreads of 0.008 and 0.24 decades: fitted noise sd measured 0.009 and 0.17 decades
    assert loose_sd > 10 * tight_sd
    assert 0.1 < loose_sd < 0.5
