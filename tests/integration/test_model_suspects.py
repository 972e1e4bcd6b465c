"""The worker's model summary lists suspect results, and a result's objective_sd reaches the fit."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from celery import Celery

from kiln.campaign import campaign_definition
from kiln_services import task_names
from kiln_services.store import Store

#: Completed with every default by the domain's own rules (as the intake does).
CAMPAIGN = campaign_definition(
    {
        "name": "suspects",
        "parameters": [
            {"name": "temperature_c", "kind": "continuous", "low": 800.0, "high": 1100.0},
            {"name": "time_min", "kind": "discrete", "values": [10.0, 30.0, 60.0, 120.0, 480.0]},
        ],
        "objective": {"name": "conductivity", "unit": "S/cm"},
        "strategy": {"auto_batch": False},
    }
)


def _results() -> list[dict]:
    rng = np.random.default_rng(0)
    grid = itertools.product(range(800, 1101, 50), (10, 30, 60, 120, 480))
    out = []
    for i, (t, minutes) in enumerate(grid):
        log10 = -4 - ((t - 950) / 150) ** 2 - ((math.log(minutes) - 4) / 2) ** 2
        value = 10 ** (log10 + 0.03 * rng.normal())
        out.append({"sample_id": f"s{i}", "status": "ok", "objective": value,
                    "parameters": {"temperature_c": float(t), "time_min": float(minutes)}})  # fmt: skip
    return out


@pytest.fixture
def cid(store: Store) -> str:
    return store.campaigns.create(CAMPAIGN)["id"]


def _refit(celery_app: Celery, store: Store, cid: str) -> dict:
    celery_app.tasks[task_names.REFIT](cid)
    model = store.models.get(cid, with_state=True)
    assert model is not None
    return model


def test_the_model_summary_lists_a_planted_outlier(
    celery_app: Celery, store: Store, cid: str
) -> None:
    results = _results()
    results[17]["objective"] *= 10  # a typo: one decade off
    store.results.append(cid, results)
    summary = _refit(celery_app, store, cid)["summary"]
    assert [s["sample_id"] for s in summary["suspects"]] == ["s17"]
    assert summary["suspects"][0]["residual"] > 3.0


def test_a_clean_campaign_has_no_suspects_and_objective_sd_reaches_the_fit(
    celery_app: Celery, store: Store, cid: str
) -> None:
    results = _results()
    results[4]["objective_sd"] = 0.1 * results[4]["objective"]
    store.results.append(cid, results)
    model = _refit(celery_app, store, cid)
    assert model["summary"]["suspects"] == []
    noise_var = model["state"]["surrogate"]["noise_var"]
    expected = (0.1 / math.log(10)) ** 2  # the delta method: a 10 % error on a log10 scale
    assert noise_var[4] == pytest.approx(expected) and noise_var.count(0.0) == len(results) - 1
