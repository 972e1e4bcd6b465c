"""The proposal ledger, versioned spaces and model insight, on a real Redis.

Worker task bodies are called in this process against the real store; the intake is Flask's
test client on the same Redis. The study's own schedule (Table 1: iterations 1-2 on the first
space, 3-4 on the second) is replayed against the virtual LATP lab.
"""

from __future__ import annotations

import threading
import time

import pytest
from celery import Celery
from flask.testing import FlaskClient
from support.fresh_python import run_fresh
from support.intake import ADMIN

from kiln import presets
from kiln.lab import VirtualLatpLab
from kiln.space import SearchSpace
from kiln_services import task_names
from kiln_services.store import Store
from kiln_services.worker import batches as worker_batches


def latp_definition(iterations: str = "1-2", **strategy: object) -> dict:
    """The study's campaign (kiln.presets) on the space of `iterations`; batches only on request."""
    preset = presets.latp_campaign("latp-replay")
    return {
        **preset,
        "parameters": presets.latp_space(iterations)["parameters"],
        "strategy": {**preset["strategy"], "auto_batch": False, **strategy},
    }


@pytest.fixture(scope="module")
def seed_grid() -> list[dict]:
    return VirtualLatpLab(seed=0).seed_grid()


def seeded(store: Store, grid: list[dict], iterations: str = "1-2", **strategy: object) -> str:
    cid = store.campaigns.create(latp_definition(iterations, **strategy))["id"]
    store.results.append(cid, grid)
    return cid


def refit(app: Celery, cid: str) -> dict:
    return app.tasks[task_names.REFIT](cid)


def batch(app: Celery, store: Store, cid: str, **overrides: object) -> dict:
    job = store.jobs.create("proposals", cid, {"overrides": overrides})[0]
    return app.tasks[task_names.PROPOSE](job["id"])


def points(batch: dict) -> list[tuple]:
    return [tuple(sorted(p["parameters"].items())) for p in batch["proposals"]]


# -- the ledger -------------------------------------------------------------------------------


def test_two_clients_polling_one_campaign_get_disjoint_batches(
    celery_app: Celery, store: Store, seed_grid: list[dict]
) -> None:
    cid = seeded(store, seed_grid)
    refit(celery_app, cid)
    jobs = [store.jobs.create("proposals", cid, {"overrides": {}})[0]["id"] for _ in range(2)]
    batches: dict[str, dict] = {}

    def lab(job_id: str) -> None:
        # Two labs asking at the same moment: one computes, the other waits for the lock.
        while True:
            outcome = worker_batches.propose_for_job(store, job_id)
            if not outcome.get("skipped"):
                batches[job_id] = outcome
                return
            time.sleep(0.05)

    threads = [threading.Thread(target=lab, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    first, second = (points(batches[j]) for j in jobs)
    assert len(first) == len(second) == 6
    assert not set(first) & set(second)
    pending = store.proposals.page(cid, "pending")
    assert pending[1] == 12
    # Each proposal says how it was made.
    origin = batches[jobs[0]]["proposals"][0]["provenance"]
    assert origin["data_version"] == 80 and len(origin["data_sha256"]) == 64
    assert origin["space_version"] == 1 and origin["model_version"] == 1
    assert origin["acquisition"] == {
        "name": "ucb",
        "kappa": 1.96,
        "xi": 0.01,
        "batch_method": "kriging_believer",
        "batch_size": 6,
    }
    assert "Matern" in origin["kernel"]
    assert set(origin["hyperparameters"]["length_scales"]) == {
        "acid_wt_pct",
        "temperature_c",
        "time_min",
    }


def test_withdrawn_and_expired_proposals_stop_counting(
    celery_app: Celery, store: Store, seed_grid: list[dict], client: FlaskClient
) -> None:
    cid = seeded(store, seed_grid, proposal_ttl_s=1)
    refit(celery_app, cid)
    first = batch(celery_app, store, cid, batch_size=2)
    pid = first["proposals"][0]["id"]
    gone = client.delete(f"/api/v1/campaigns/{cid}/proposals/{pid}", headers=ADMIN)
    assert gone.status_code == 200 and gone.get_json()["status"] == "withdrawn"
    assert gone.get_json()["reason"]
    assert [p["id"] for p in store.proposals.pending(cid)] == [first["proposals"][1]["id"]]
    time.sleep(2.1)  # past the one-second time-to-live
    counts = client.get(f"/api/v1/campaigns/{cid}", headers=ADMIN).get_json()["counts"]
    assert counts["proposals_pending"] == 0 and counts["proposals"] == 2
    assert store.proposals.pending(cid) == []
    listed = client.get(f"/api/v1/campaigns/{cid}/proposals?status=expired", headers=ADMIN)
    assert [p["id"] for p in listed.get_json()["items"]] == [first["proposals"][1]["id"]]
    # Neither a withdrawn nor an expired proposal is a fantasy any more: the same seed and data
    # propose the same first point again.
    again = batch(celery_app, store, cid, batch_size=2)
    assert points(again)[0] == points(first)[0]


def test_pending_list_is_paged(
    celery_app: Celery, store: Store, seed_grid: list[dict], client: FlaskClient
) -> None:
    cid = seeded(store, seed_grid)
    refit(celery_app, cid)
    made = batch(celery_app, store, cid, batch_size=5)
    url = f"/api/v1/campaigns/{cid}/proposals?status=pending&limit=2"
    page = client.get(url, headers=ADMIN).get_json()
    seen = [p["id"] for p in page["items"]]
    assert page["total"] == 5 and len(seen) == 2
    while page["next"]:
        page = client.get(page["next"], headers=ADMIN).get_json()
        seen += [p["id"] for p in page["items"]]
    assert seen == [p["id"] for p in made["proposals"]]
    assert all(p["status"] == "pending" for p in page["items"])
    bad = client.get(f"/api/v1/campaigns/{cid}/proposals?status=lost", headers=ADMIN)
    assert bad.status_code == 422


def test_a_result_measures_its_proposal_by_id_or_by_parameters(
    celery_app: Celery, store: Store, seed_grid: list[dict]
) -> None:
    cid = seeded(store, seed_grid)
    refit(celery_app, cid)
    made = batch(celery_app, store, cid, batch_size=2)
    named, matched = made["proposals"]
    lab = VirtualLatpLab(seed=0)
    store.results.append(
        cid,
        [
            {"sample_id": "n", "parameters": named["parameters"], "proposal_id": named["id"],
             **lab.measure(named["parameters"], 1000)},
            {"sample_id": "m", "parameters": matched["parameters"],
             **lab.measure(matched["parameters"], 1001)},
        ],
    )  # fmt: skip
    statuses = {p["id"]: p["status"] for p in store.proposals.page(cid)[0]}
    assert statuses == {named["id"]: "measured", matched["id"]: "measured"}


# -- versioned spaces ---------------------------------------------------------------------------


def test_patch_keeps_every_result_and_withdraws_what_it_must(
    celery_app: Celery, store: Store, seed_grid: list[dict], client: FlaskClient
) -> None:
    cid = seeded(store, seed_grid)
    refit(celery_app, cid)
    made = batch(celery_app, store, cid)
    narrowed = presets.latp_space("1-2")["parameters"]
    narrowed[0] = {**narrowed[0], "values": [-15.0, -7.5, 0.0]}  # drops -22.5 and +7.5
    response = client.patch(
        f"/api/v1/campaigns/{cid}", json={"parameters": narrowed}, headers=ADMIN
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["space_version"] == 2
    outside = [p for p in made["proposals"] if p["parameters"]["acid_wt_pct"] in (-22.5, 7.5)]
    inside = [p for p in made["proposals"] if p not in outside]
    ledger = {p["id"]: p for p in store.proposals.page(cid)[0]}
    for p in outside:
        assert ledger[p["id"]]["status"] == "withdrawn"
        assert "acid_wt_pct" in ledger[p["id"]]["reason"]
        assert "space version 2" in ledger[p["id"]]["reason"]
    for p in inside:
        assert ledger[p["id"]]["status"] == "pending"
    assert store.results.data_version(cid) == 80
    # Every earlier result keeps training the model, those outside the new range too.
    refit(celery_app, cid)
    model = store.models.get(cid)
    assert model is not None and model["space_version"] == 2
    assert model["summary"]["n_observations"] == 80


def test_the_studys_two_space_schedule_replays_against_the_virtual_lab(
    celery_app: Celery, store: Store, seed_grid: list[dict], client: FlaskClient
) -> None:
    lab = VirtualLatpLab(seed=0)
    cid = seeded(store, seed_grid)
    sample = 0
    for iteration in (1, 2, 3, 4):
        if iteration == 3:
            second = presets.latp_space("3-4")["parameters"]
            patched = client.patch(
                f"/api/v1/campaigns/{cid}", json={"parameters": second}, headers=ADMIN
            )
            assert patched.status_code == 200, patched.get_json()
        campaign = store.campaigns.get(cid)
        space = SearchSpace.from_dict({"parameters": campaign["parameters"]})
        refit(celery_app, cid)
        made = batch(celery_app, store, cid)
        assert made["space_version"] == (1 if iteration <= 2 else 2)
        assert made["fallback"] is None and len(made["proposals"]) == 6
        for p in made["proposals"]:
            assert space.contains(p["parameters"]), p["parameters"]
            assert p["provenance"]["space_version"] == made["space_version"]
        rows = []
        for p in made["proposals"]:
            sample += 1
            rows.append(
                {"sample_id": f"BO-{iteration}-{sample}", "parameters": p["parameters"],
                 "proposal_id": p["id"], **lab.measure(p["parameters"], 100 + sample)}
            )  # fmt: skip
        stored = store.results.append(cid, rows)
        assert stored.stored == 6 and len(stored.measured_proposals) == 6
    assert store.results.data_version(cid) == 80 + 24
    assert store.proposals.page(cid, "measured")[1] == 24
    refit(celery_app, cid)
    model = store.models.get(cid)
    assert model is not None and model["summary"]["n_observations"] == 104
    assert model["space_version"] == 2
    acid_steps = {r["parameters"]["acid_wt_pct"] for r in store.results.all(cid)[80:]}
    assert acid_steps <= set(presets.latp_space("3-4")["parameters"][0]["values"])  # type: ignore[index]


# -- model insight ------------------------------------------------------------------------------


def test_model_summary_predict_and_slice(
    celery_app: Celery, store: Store, seed_grid: list[dict], client: FlaskClient
) -> None:
    cid = seeded(store, seed_grid)
    assert client.post(
        f"/api/v1/campaigns/{cid}/predict", json={"points": [{}]}, headers=ADMIN
    ).status_code == 404  # fmt: skip
    refit(celery_app, cid)
    summary = client.get(f"/api/v1/campaigns/{cid}/model", headers=ADMIN).get_json()["summary"]
    loo = summary["leave_one_out"]
    assert loo["unit"] == "S/cm" and 0 < loo["rmse"] < 1e-3 and loo["n"] == 80
    assert summary["best_observed"]["parameters"] == {
        "acid_wt_pct": -7.5,
        "temperature_c": 1000.0,
        "time_min": 480.0,
    }
    assert {"mean", "std", "parameters"} <= set(summary["best_predicted"])
    best = summary["best_observed"]["parameters"]
    answer = client.post(
        f"/api/v1/campaigns/{cid}/predict",
        json={"points": [best, {**best, "temperature_c": 800.0}]},
        headers=ADMIN,
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["model_version"] == 1 and body["unit"] == "S/cm"
    high, low = body["predictions"]
    assert high["mean"] > low["mean"] > 0
    assert high["std"] > 0 and high["acquisition_value"] is not None
    ei = client.post(
        f"/api/v1/campaigns/{cid}/predict",
        json={"points": [best], "acquisition": "ei"},
        headers=ADMIN,
    ).get_json()
    assert ei["acquisition"] == "ei" and ei["predictions"][0]["acquisition_value"] >= 0
    outside = client.post(
        f"/api/v1/campaigns/{cid}/predict", json={"points": [{"acid": 1}]}, headers=ADMIN
    )
    assert outside.status_code in (400, 422)

    sliced = client.get(
        f"/api/v1/campaigns/{cid}/model/slice?x=temperature_c&y=time_min&fixed.acid_wt_pct=-7.5",
        headers=ADMIN,
    )
    assert sliced.status_code == 200, sliced.get_json()
    data = sliced.get_json()
    xs, ys = data["x"]["values"], data["y"]["values"]
    assert data["x"]["unit"] == "degC" and xs[0] == 800.0 and xs[-1] == 1100.0
    assert len(data["mean"]) == len(ys) and len(data["mean"][0]) == len(xs)
    assert len(data["acquisition"]) == len(ys)
    assert data["fixed"] == {"acid_wt_pct": -7.5}
    on_slice = [o for o in data["observations"] if o["on_slice"]]
    assert len(on_slice) == 16  # the seed grid's 4 temperatures x 4 times at -7.5 wt%
    # The slice agrees with a prediction at the same point.
    j, i = ys.index(480.0), xs.index(1000.0)
    assert data["mean"][j][i] == pytest.approx(high["mean"], rel=1e-9)
    wrong = client.get(
        f"/api/v1/campaigns/{cid}/model/slice?x=temperature_c&y=temperature_c", headers=ADMIN
    )
    assert wrong.status_code in (400, 422)


def test_a_slice_spans_the_ranges_of_a_patch_before_the_refit(
    celery_app: Celery, store: Store, seed_grid: list[dict], client: FlaskClient
) -> None:
    cid = seeded(store, seed_grid)
    refit(celery_app, cid)
    parameters = [dict(p) for p in store.campaigns.get(cid)["parameters"]]
    for p in parameters:
        if p["name"] == "temperature_c":
            p["low"], p["high"] = 900.0, 1000.0
    patched = client.patch(
        f"/api/v1/campaigns/{cid}", json={"parameters": parameters}, headers=ADMIN
    )
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["space_version"] == 2
    # No worker runs here: the stored model is still the one fitted on the first space.
    assert store.models.get(cid)["space_version"] == 1
    sliced = client.get(
        f"/api/v1/campaigns/{cid}/model/slice?x=temperature_c&y=time_min", headers=ADMIN
    ).get_json()
    xs = sliced["x"]["values"]
    assert xs[0] == 900.0 and xs[-1] == 1000.0, xs
    assert len(sliced["mean"][0]) == len(xs)


def test_predicting_never_loads_sklearn_in_the_intake(
    celery_app: Celery, store: Store, seed_grid: list[dict], redis_url: str
) -> None:
    cid = seeded(store, seed_grid)
    refit(celery_app, cid)
    code = (
        "import sys\nfrom kiln_services import intake\n"
        f"app = intake.create_app({{'KILN_ADMIN_TOKEN': 't', 'REDIS_URL': {redis_url!r}}})\n"
        "c = app.test_client()\n"
        "h = {'Authorization': 'Bearer t'}\n"
        f"r = c.post('/api/v1/campaigns/{cid}/predict', headers=h, json={{'points': "
        "[{'acid_wt_pct': 0, 'temperature_c': 900, 'time_min': 30}]})\n"
        "assert r.status_code == 200, r.get_json()\n"
        f"r = c.get('/api/v1/campaigns/{cid}/model/slice?x=acid_wt_pct&y=time_min', headers=h)\n"
        "assert r.status_code == 200, r.get_json()\n"
        "heavy = [m for m in ('sklearn', 'kiln_services.worker', 'kiln.model.surrogate', 'kiln.propose')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    run_fresh(code)


# -- failed syntheses ---------------------------------------------------------------------------


def test_failed_syntheses_train_a_feasibility_classifier(
    celery_app: Celery, store: Store, seed_grid: list[dict], client: FlaskClient
) -> None:
    cid = seeded(store, seed_grid)
    refit(celery_app, cid)
    assert store.models.get(cid)["summary"]["feasibility"] is None  # type: ignore[index]
    # Every pellet at 1100 degC cracked: failed syntheses, no objective.
    failures = [
        {"sample_id": f"F{i}", "status": "failed",
         "parameters": {"acid_wt_pct": a, "temperature_c": 1100.0, "time_min": m}}
        for i, (a, m) in enumerate([(-15.0, 90.0), (0.0, 120.0), (-7.5, 540.0), (7.5, 20.0)])
    ]  # fmt: skip
    assert store.results.append(cid, failures).stored == 4
    assert [r["status"] for r in store.results.all(cid)[-4:]] == ["failed"] * 4
    refit(celery_app, cid)
    model = store.models.get(cid, with_state=True)
    assert model is not None
    assert model["summary"]["feasibility"] == {
        "type": "logistic_quadratic",
        "n_failed": 4,
        "n_succeeded": 80,
    }
    assert model["summary"]["n_observations"] == 80  # failures never reach the regression
    made = batch(celery_app, store, cid)
    assert made["proposals"][0]["provenance"]["feasibility"]["n_failed"] == 4
    hot = {"acid_wt_pct": -7.5, "temperature_c": 1100.0, "time_min": 480.0}
    cool = {"acid_wt_pct": -7.5, "temperature_c": 900.0, "time_min": 480.0}
    rows = client.post(
        f"/api/v1/campaigns/{cid}/predict", json={"points": [hot, cool]}, headers=ADMIN
    ).get_json()["predictions"]
    assert rows[0]["probability_of_success"] < rows[1]["probability_of_success"]


def test_a_batch_waits_while_another_batch_of_the_campaign_is_made(
    celery_app: Celery, store: Store, seed_grid: list[dict]
) -> None:
    from celery.exceptions import Retry

    cid = seeded(store, seed_grid)
    job = store.jobs.create("proposals", cid, {"overrides": {}})[0]["id"]
    token = store.locks.acquire_propose(cid)
    assert token is not None
    with pytest.raises(Retry):
        celery_app.tasks[task_names.PROPOSE](job)
    assert store.jobs.get(job)["state"] == "queued" and store.proposals.latest_batch(cid) is None
    store.locks.release_propose(cid, token)
    assert len(celery_app.tasks[task_names.PROPOSE](job)["proposals"]) == 6


def test_patch_adding_a_categorical_value_keeps_training_on_every_result(
    celery_app: Celery, store: Store, client: FlaskClient
) -> None:
    parameters = [
        {"name": "temperature_c", "kind": "continuous", "low": 800.0, "high": 1100.0,
         "step": 50.0},
        {"name": "atmosphere", "kind": "categorical", "values": ["air"]},
    ]  # fmt: skip
    definition = {**latp_definition(), "parameters": parameters}
    cid = client.post("/api/v1/campaigns", json=definition, headers=ADMIN).get_json()["id"]
    rows = [
        {"sample_id": f"s{t}", "parameters": {"temperature_c": t, "atmosphere": "air"},
         "objective": 1e-4 * (1 + (t - 800) / 300)}
        for t in (800.0, 900.0, 1000.0, 1100.0)
    ]  # fmt: skip
    store.results.append(cid, rows)
    refit(celery_app, cid)
    made = batch(celery_app, store, cid, batch_size=2)
    widened = [parameters[0], {**parameters[1], "values": ["air", "argon"]}]
    response = client.patch(f"/api/v1/campaigns/{cid}", json={"parameters": widened}, headers=ADMIN)
    assert response.status_code == 200 and response.get_json()["space_version"] == 2
    assert len(store.proposals.pending(cid)) == len(made["proposals"])  # still candidates
    refit(celery_app, cid)
    model = store.models.get(cid)
    assert model is not None and model["space_version"] == 2
    assert model["summary"]["n_observations"] == 4
    more = batch(celery_app, store, cid, batch_size=6)
    assert any(p["parameters"]["atmosphere"] == "argon" for p in more["proposals"])
