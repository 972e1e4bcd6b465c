"""One objective's model of a multi-objective campaign over HTTP: /model/slice and /predict with
``objective``, on a fitted latp-moo campaign (real Redis, worker tasks called in this process).

The answers must equal the worker's own per-objective models (scikit-learn, here in the test),
carry no acquisition (batches score all objectives together), and every bad ``objective`` is a
422 naming it; a single-objective campaign accepts its own objective's name or none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from celery import Celery
from flask.testing import FlaskClient
from support.intake import ADMIN
from support.worker import first_refit

from kiln import presets
from kiln.campaign import campaign_definition
from kiln.lab import VirtualLatpLab, measure_objectives
from kiln_services.store import Store
from kiln_services.worker import pareto

URL = "/api/v1/campaigns"
NAMES = ["conductivity", "relative_density"]
POINTS = [
    {"acid_wt_pct": -7.5, "temperature_c": 1000.0, "time_min": 60.0},
    {"acid_wt_pct": 3.75, "temperature_c": 850.0, "time_min": 20.0},
]


def measured(names: list[str]) -> list[dict[str, Any]]:
    """The lab's seed grid, each pellet measured for objectives `names` (several of them)."""
    lab = VirtualLatpLab(seed=0)
    if len(names) == 1:
        return lab.seed_grid()
    rows = []
    for i, seed in enumerate(lab.seed_grid()):
        rows.append(
            {
                "sample_id": seed["sample_id"],
                "parameters": seed["parameters"],
                **measure_objectives(lab, seed["parameters"], names, rng=i),
            }
        )
    return rows


def fitted(celery_app: Celery, store: Store, body: dict[str, Any], names: list[str]) -> str:
    cid = store.campaigns.create(
        campaign_definition({**body, "strategy": {**body["strategy"], "auto_batch": False}})
    )["id"]
    first_refit(celery_app, store, cid, measured(names))
    return str(cid)


@pytest.fixture
def moo_cid(celery_app: Celery, store: Store) -> str:
    return fitted(celery_app, store, presets.latp_moo_campaign(), NAMES)


def problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.get_data(as_text=True)
    return dict(response.get_json())


def test_predict_and_slice_answer_per_objective_with_the_objectives_models(
    client: FlaskClient, store: Store, moo_cid: str
) -> None:
    models = pareto.load_models(store.models.get(moo_cid, with_state=True)["state"])
    X = models.space.encode(POINTS)
    means: dict[str, list[float]] = {}
    for name, model in zip(NAMES, models.models, strict=True):
        mu, sd = model.surrogate.predict(X)
        mean, std = model.objective.from_model(mu, sd)
        body = client.post(
            f"{URL}/{moo_cid}/predict", headers=ADMIN, json={"points": POINTS, "objective": name}
        )
        assert body.status_code == 200, body.get_json()
        answer = body.get_json()
        assert answer["objective"] == name and answer["acquisition"] is None
        assert answer["unit"] == model.objective.unit
        rows = answer["predictions"]
        assert [r["mean"] for r in rows] == pytest.approx(list(mean), rel=1e-6)
        assert [r["std"] for r in rows] == pytest.approx(list(std), rel=1e-6)
        assert all(r["acquisition_value"] is None for r in rows)
        means[name] = [r["mean"] for r in rows]

        sliced = client.get(
            f"{URL}/{moo_cid}/model/slice?x=temperature_c&y=time_min"
            f"&fixed.acid_wt_pct=-7.5&objective={name}",
            headers=ADMIN,
        )
        assert sliced.status_code == 200, sliced.get_json()
        data = sliced.get_json()
        assert (
            data["objective"]["name"] == name and data["objective"]["unit"] == model.objective.unit
        )
        assert data["acquisition"] is None and data["acquisition_name"] is None
        xs, ys = data["x"]["values"], data["y"]["values"]
        assert ys[0] == 10.0 and ys[-1] == 540.0  # time_min: the log-scale grid
        j, i = ys.index(60.0), xs.index(1000.0)
        assert data["mean"][j][i] == pytest.approx(means[name][0], rel=1e-9)
        on_slice = [o for o in data["observations"] if o["on_slice"]]
        assert len(on_slice) == 16  # the seed grid's 4 temperatures x 4 times at -7.5 wt%
    assert means["conductivity"][0] < 1e-2 < 0.5 < means["relative_density"][0]


@pytest.mark.parametrize("objective", [None, "hardness", ""])
def test_a_missing_or_unknown_objective_is_a_422_naming_it(
    client: FlaskClient, moo_cid: str, objective: str | None
) -> None:
    extra = {} if objective is None else {"objective": objective}
    body = problem(
        client.post(f"{URL}/{moo_cid}/predict", headers=ADMIN, json={"points": POINTS, **extra})
    )
    assert list(body["errors"]) == ["objective"]
    assert all(n in body["errors"]["objective"][0] for n in NAMES)
    query = "" if objective is None else f"&objective={objective}"
    body = problem(
        client.get(f"{URL}/{moo_cid}/model/slice?x=temperature_c&y=time_min{query}", headers=ADMIN)
    )
    assert list(body["errors"]) == ["objective"]
    assert all(n in body["errors"]["objective"][0] for n in NAMES)


def test_one_objective_of_several_takes_no_acquisition_settings(
    client: FlaskClient, moo_cid: str
) -> None:
    body = problem(
        client.post(
            f"{URL}/{moo_cid}/predict",
            headers=ADMIN,
            json={"points": POINTS, "objective": "conductivity", "kappa": 2.0},
        )
    )
    assert list(body["errors"]) == ["kappa"]
    body = problem(
        client.get(
            f"{URL}/{moo_cid}/model/slice?x=temperature_c&y=time_min"
            "&objective=conductivity&acquisition=ei",
            headers=ADMIN,
        )
    )
    assert list(body["errors"]) == ["acquisition"]


def test_a_single_objective_campaign_takes_its_own_objective_or_none(
    celery_app: Celery, store: Store, client: FlaskClient
) -> None:
    cid = fitted(celery_app, store, presets.latp_campaign(), ["conductivity"])
    plain = client.post(f"{URL}/{cid}/predict", headers=ADMIN, json={"points": POINTS})
    named = client.post(
        f"{URL}/{cid}/predict", headers=ADMIN, json={"points": POINTS, "objective": "conductivity"}
    )
    assert plain.status_code == named.status_code == 200, plain.get_json()
    assert plain.get_json() == named.get_json()
    assert plain.get_json()["objective"] == "conductivity"
    assert plain.get_json()["acquisition"] == "ucb"
    assert all(r["acquisition_value"] is not None for r in plain.get_json()["predictions"])
    url = f"{URL}/{cid}/model/slice?x=temperature_c&y=time_min"
    plain_slice = client.get(url, headers=ADMIN).get_json()
    assert client.get(f"{url}&objective=conductivity", headers=ADMIN).get_json() == plain_slice
    assert plain_slice["acquisition_name"] == "ucb"
    assert np.isfinite(np.asarray(plain_slice["acquisition"], dtype=float)).all()
    body = problem(
        client.post(
            f"{URL}/{cid}/predict", headers=ADMIN, json={"points": POINTS, "objective": "density"}
        )
    )
    assert list(body["errors"]) == ["objective"] and "conductivity" in body["detail"]
    body = problem(client.get(f"{url}&objective=density", headers=ADMIN))
    assert list(body["errors"]) == ["objective"]
