"""The worker's refits (refits.fit_and_store on a real Redis) keep up with a cold fit.

Issue 12: warm-started refits without restarts stayed in the first 12-point fit's optimum, where
the one-hot length scales of a categorical sat at their upper bound, so the model never learned
that the category matters. This replays a small seeded mixed campaign through the worker's own
functions and compares the stored model with a cold fit with restarts on the same data.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiln.campaign import space_of
from kiln.model.fitted import FittedModel, fit_model
from kiln.objective import Objective
from kiln_services.store import Store
from kiln_services.worker import refits

MIXED = {
    "name": "mixed",
    "parameters": [
        {"name": "x1", "kind": "continuous", "low": 0.0, "high": 10.0, "step": 0.5},
        {"name": "x2", "kind": "continuous", "low": -5.0, "high": 5.0, "step": 0.25},
        {"name": "d", "kind": "discrete", "values": [1, 2, 4, 8, 16]},
        {"name": "c", "kind": "categorical", "values": ["a", "b", "c"]},
    ],
    "objective": {"name": "y", "goal": "maximize", "transform": "none"},
    "strategy": {"acquisition": "ucb", "batch_size": 4, "auto_batch": False},
    "space_version": 1,
}
#: The category shifts the whole response: it matters as much as the main optimum's height.
OFFSET = {"a": 0.0, "b": -0.8, "c": 0.6}
#: Log-marginal-likelihood units the worker's model may lie below the cold fit's.
LML_TOLERANCE = 0.5
#: A one-hot length scale below this (a tenth of the upper bound, 100 on the unit cube) keeps the
#: labels clearly apart: their correlation is at most 0.98.
DISTINCT_LABELS = 10.0


def truth(p: dict) -> float:
    """A smooth response with a decoy optimum; the category adds an offset."""
    x1, x2, d = p["x1"], p["x2"], math.log2(p["d"])
    main = 2.0 * math.exp(-(((x1 - 7) / 2) ** 2) - ((x2 - 1.5) / 2.5) ** 2 - ((d - 3) / 2) ** 2)
    decoy = 1.6 * math.exp(-(((x1 - 2) / 1.5) ** 2) - ((x2 + 3) / 1.5) ** 2)
    return main + decoy + OFFSET[p["c"]] * (1 + 0.3 * math.sin(x1 / 3))


@pytest.mark.parametrize("seed", [0, 1])
def test_refits_reach_the_cold_fit_and_learn_the_category(redis_url: str, seed: int) -> None:
    store = Store.from_url(redis_url)
    campaign = store.create_campaign(MIXED)
    cid = campaign["id"]
    space = space_of(campaign)
    rng = np.random.default_rng(seed)
    points = space.sample(12 + 4 * 10, rng)
    rows = [
        {"sample_id": f"s{i}", "parameters": p, "status": "ok",
         "objective": truth(p) + 0.05 * float(rng.standard_normal())}
        for i, p in enumerate(points)
    ]  # fmt: skip
    store.append_results(cid, rows[:12])
    refits.fit_and_store(store, store.get_campaign(cid))  # the first fit: cold
    for start in range(12, len(rows), 4):  # then one warm refit per batch of 4 results
        store.append_results(cid, rows[start : start + 4])
        _, version = refits.fit_and_store(store, store.get_campaign(cid))
    assert version == 11

    stored = store.get_model(cid, with_state=True)
    path = FittedModel.from_dict(stored["state"]).surrogate
    observations = refits.observations_of(store.all_results(cid))
    cold = fit_model(space, Objective.from_dict(MIXED["objective"]), observations).surrogate
    assert path.log_marginal_likelihood_ >= cold.log_marginal_likelihood_ - LML_TOLERANCE
    # The category matters: the best cold fit has a one-hot length scale far below the upper
    # bound (labels clearly distinct), and so must the worker's model.
    assert cold.length_scale_[3:].min() < DISTINCT_LABELS
    assert path.length_scale_[3:].min() < DISTINCT_LABELS
