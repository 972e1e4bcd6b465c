"""Multi-objective campaigns over HTTP (issue 16): every 4xx of the contract names its field and
stores nothing; results with ``objectives`` (JSON and CSV by column name); GET /pareto.

Real Redis (the `redis_url` fixture), Flask's test client.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from support.campaigns import CONDUCTIVITY, GRID_PARAMETERS
from support.intake import ADMIN
from support.store_snapshot import snapshot

from kiln_services import task_names
from kiln_services.store import Keys

URL = "/api/v1/campaigns"
DENSITY = {
    "name": "relative_density",
    "unit": "1",
    "goal": "maximize",
    "transform": "none",
    "threshold": 0.9,
}
MOO = {
    "name": "moo",
    "parameters": GRID_PARAMETERS,
    "objectives": [{**CONDUCTIVITY, "threshold": 1e-4}, DENSITY],
    "measurements": [{"name": "phase_purity", "unit": "1"}],
    "strategy": {"batch_size": 3},
}


def moo(**changes: Any) -> dict[str, Any]:
    """The multi-objective campaign body with `changes` applied (deep-copied)."""
    return {**copy.deepcopy(MOO), **changes}


def rejected(
    client: FlaskClient, redis_client: redis.Redis, method: str, url: str, **kwargs: Any
) -> dict[str, Any]:
    """Send a request that must be a 422 problem and leave the store as it was; its body."""
    before = snapshot(redis_client)
    response = client.open(url, method=method, headers=ADMIN, **kwargs)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert snapshot(redis_client) == before, "a rejected request changed the store"
    return json.loads(response.get_data(as_text=True))


def ok(client: FlaskClient, status: int, method: str, url: str, **kwargs: Any) -> Any:
    """Send a request that must answer `status`; its JSON (or text) body."""
    kwargs.setdefault("headers", ADMIN)
    response = client.open(url, method=method, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json() if response.is_json else response.get_data(as_text=True)


@pytest.fixture
def cid(client: FlaskClient) -> str:
    return str(ok(client, 201, "POST", URL, json=moo())["id"])


def result(sid: str, t: float, minutes: float, **objectives: float | None) -> dict[str, Any]:
    return {
        "sample_id": sid,
        "parameters": {"temperature_c": t, "time_min": minutes},
        "objectives": objectives,
    }


def test_a_campaign_of_two_objectives_is_stored_with_them_and_ehvi(
    client: FlaskClient, cid: str
) -> None:
    campaign = ok(client, 200, "GET", f"{URL}/{cid}")
    assert [o["name"] for o in campaign["objectives"]] == ["conductivity", "relative_density"]
    assert "objective" not in campaign
    assert campaign["objectives"][0]["threshold"] == 1e-4
    assert campaign["measurements"] == [{"name": "phase_purity", "unit": "1"}]
    assert campaign["strategy"]["acquisition"] == "ehvi"


def test_the_latp_moo_preset(client: FlaskClient) -> None:
    campaign = ok(client, 201, "POST", URL, json={"preset": "latp-moo"})
    names = [o["name"] for o in campaign["objectives"]]
    assert names == ["conductivity", "relative_density"]
    assert campaign["strategy"]["acquisition"] == "ehvi"
    assert campaign["strategy"]["batch_size"] == 6


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (
            moo(objectives=[{**CONDUCTIVITY, "threshold": 0}, DENSITY]),
            "objectives.0.threshold",
            "log10",
        ),
        (
            moo(objectives=[{**CONDUCTIVITY, "threshold": -1e-3}, DENSITY]),
            "objectives.0.threshold",
            "log10",
        ),
        (
            moo(outcome_constraints=[{"name": "hardness", "op": ">=", "value": 1}]),
            "outcome_constraints.0.name",
            "unknown",
        ),
        (
            moo(objectives=[{"name": f"o{i}"} for i in range(5)]),
            "objectives",
            "4",
        ),
        (moo(strategy={"acquisition": "ucb"}), "strategy.acquisition", "ucb"),
        (
            moo(objectives=[{"name": f"o{i}"} for i in range(4)], strategy={"acquisition": "ehvi"}),
            "strategy.acquisition",
            "ehvi",
        ),
        (
            {
                "name": "one",
                "parameters": GRID_PARAMETERS,
                "objective": CONDUCTIVITY,
                "strategy": {"acquisition": "ehvi"},
            },
            "strategy.acquisition",
            "ehvi",
        ),
        (moo(objective=CONDUCTIVITY), "objectives", "either"),
        (
            moo(outcome_constraints=[{"name": "relative_density", "op": "==", "value": 1}]),
            "outcome_constraints.0.op",
            "",
        ),
    ],
    ids=[
        "threshold-zero-log10",
        "threshold-negative-log10",
        "constraint-unknown-measurement",
        "five-objectives",
        "ucb-with-two",
        "ehvi-with-four",
        "ehvi-with-one",
        "objective-and-objectives",
        "constraint-op",
    ],
)
def test_a_bad_definition_is_422_naming_the_field(
    client: FlaskClient, redis_client: redis.Redis, body: dict, field: str, words: str
) -> None:
    problem = rejected(client, redis_client, "POST", URL, json=body)
    assert field in problem["errors"], problem
    assert words.lower() in " ".join(problem["errors"][field]).lower(), problem


def test_an_outcome_constraint_on_a_declared_measurement_or_an_objective_is_accepted(
    client: FlaskClient,
) -> None:
    constraints = [
        {"name": "phase_purity", "op": ">=", "value": 0.8},
        {"name": "relative_density", "op": ">=", "value": 0.95},
    ]
    campaign = ok(client, 201, "POST", URL, json=moo(outcome_constraints=constraints))
    assert campaign["outcome_constraints"] == constraints


def test_objectives_cannot_be_patched_but_outcome_constraints_can(
    client: FlaskClient, redis_client: redis.Redis, cid: str
) -> None:
    problem = rejected(
        client, redis_client, "PATCH", f"{URL}/{cid}", json={"objectives": [CONDUCTIVITY, DENSITY]}
    )
    assert "objectives" in problem["errors"], problem
    assert "cannot change" in " ".join(problem["errors"]["objectives"])
    constraint = {"name": "phase_purity", "op": ">=", "value": 0.7}
    patched = ok(client, 200, "PATCH", f"{URL}/{cid}", json={"outcome_constraints": [constraint]})
    assert patched["outcome_constraints"] == [constraint]
    problem = rejected(
        client,
        redis_client,
        "PATCH",
        f"{URL}/{cid}",
        json={"outcome_constraints": [{"name": "nope", "op": "<=", "value": 1}]},
    )
    assert "outcome_constraints.0.name" in problem["errors"]


def test_a_result_naming_an_unknown_objective_is_422(
    client: FlaskClient, redis_client: redis.Redis, cid: str
) -> None:
    body = [result("a", 900, 30, conductivity=1e-4, hardness=3.0)]
    problem = rejected(client, redis_client, "POST", f"{URL}/{cid}/results", json=body)
    assert "results.0.objectives.hardness" in problem["errors"], problem
    single = {**result("b", 900, 30), "objective": 1e-4}
    del single["objectives"]
    problem = rejected(client, redis_client, "POST", f"{URL}/{cid}/results", json=single)
    assert "results.0.objective" in problem["errors"], problem


def test_a_result_missing_one_objective_is_accepted(client: FlaskClient, cid: str) -> None:
    posted = ok(
        client,
        201,
        "POST",
        f"{URL}/{cid}/results",
        json=[
            result("a", 900, 30, conductivity=1e-4),
            result("b", 950, 60, relative_density=0.93, conductivity=None),
        ],
    )
    assert posted["stored"] == 2
    items = ok(client, 200, "GET", f"{URL}/{cid}/results")["items"]
    assert items[0]["objectives"] == {"conductivity": 1e-4}
    assert items[1]["objectives"]["relative_density"] == 0.93


def test_csv_round_trip_with_a_column_per_objective(client: FlaskClient, cid: str) -> None:
    text = (
        "sample_id,temperature_c,time_min,conductivity (S/cm),relative_density,phase_purity\n"
        "a,900,30,1.2e-4,0.91,0.8\n"
        "b,950,60,,0.95,\n"
        "c,1000,120,3e-4,,0.7\n"
    )
    posted = ok(
        client, 201, "POST", f"{URL}/{cid}/results", data=text, content_type="text/csv",
        headers=ADMIN,
    )  # fmt: skip
    assert posted["stored"] == 3
    exported = ok(client, 200, "GET", f"{URL}/{cid}/results?format=csv")
    header = exported.splitlines()[0].split(",")
    assert header[:5] == [
        "sample_id",
        "temperature_c",
        "time_min",
        "conductivity",
        "relative_density",
    ]
    assert "objective" not in header and "conductivity_sd" not in header
    items = ok(client, 200, "GET", f"{URL}/{cid}/results")["items"]
    by_id = {r["sample_id"]: r for r in items}
    assert by_id["a"]["objectives"] == {"conductivity": 1.2e-4, "relative_density": 0.91}
    assert by_id["b"]["objectives"] == {"relative_density": 0.95}
    assert by_id["c"]["measurements"] == {"phase_purity": 0.7}

    # The export posts back into a fresh campaign of the same definition as the same results.
    other = ok(client, 201, "POST", URL, json=moo(name="moo-copy"))["id"]
    again = ok(
        client, 201, "POST", f"{URL}/{other}/results", data=exported, content_type="text/csv",
        headers=ADMIN,
    )  # fmt: skip
    assert again["stored"] == 3
    copied = ok(client, 200, "GET", f"{URL}/{other}/results")["items"]
    keys = ("sample_id", "parameters", "objectives", "measurements")
    assert [{k: r.get(k) for k in keys} for r in copied] == [
        {k: r.get(k) for k in keys} for r in items
    ]


def test_a_csv_with_a_bad_objective_cell_names_its_row_and_column(
    client: FlaskClient, redis_client: redis.Redis, cid: str
) -> None:
    text = "sample_id,temperature_c,time_min,conductivity,relative_density\na,900,30,-1,0.9\n"
    problem = rejected(
        client, redis_client, "POST", f"{URL}/{cid}/results", data=text, content_type="text/csv"
    )
    assert "row.2.conductivity" in problem["errors"], problem


def test_pareto_reports_the_front_and_a_hypervolume_history_that_grows(
    client: FlaskClient, cid: str
) -> None:
    first = [
        result("a", 900, 30, conductivity=2e-4, relative_density=0.92),
        result("b", 950, 60, conductivity=1.5e-4, relative_density=0.95),
        result("c", 1000, 120, conductivity=1.2e-4, relative_density=0.91),  # dominated by a
    ]
    ok(client, 201, "POST", f"{URL}/{cid}/results", json=first)
    report = ok(client, 200, "GET", f"{URL}/{cid}/pareto")
    assert {p["sample_id"] for p in report["front"]} == {"a", "b"}
    assert report["reference_point"] == {"conductivity": 1e-4, "relative_density": 0.9}
    assert report["hypervolume"] > 0
    assert report["n_results"] == 3 and report["data_version"] == 3
    before = report["hypervolume"]
    assert report["history"][-1]["hypervolume"] == pytest.approx(before)

    ok(client, 201, "POST", f"{URL}/{cid}/results",
       json=[result("d", 1050, 480, conductivity=5e-4, relative_density=0.97)])  # fmt: skip
    after = ok(client, 200, "GET", f"{URL}/{cid}/pareto")
    assert [p["sample_id"] for p in after["front"]] == ["d"]  # dominates a and b
    assert after["hypervolume"] > before
    assert len(after["history"]) > len(report["history"])
    hv = [h["hypervolume"] for h in after["history"] if h["hypervolume"] is not None]
    assert hv == sorted(hv), "the hypervolume of the results so far never shrinks"


def test_pareto_leaves_excluded_results_out(client: FlaskClient, cid: str) -> None:
    ok(client, 201, "POST", f"{URL}/{cid}/results", json=[
        result("a", 900, 30, conductivity=2e-4, relative_density=0.92),
        result("typo", 950, 60, conductivity=1.0, relative_density=0.99),
    ])  # fmt: skip
    assert [p["sample_id"] for p in ok(client, 200, "GET", f"{URL}/{cid}/pareto")["front"]] == [
        "typo"
    ]
    ok(client, 200, "PATCH", f"{URL}/{cid}/results/typo",
       json={"reason": "a typo", "excluded": True})  # fmt: skip
    report = ok(client, 200, "GET", f"{URL}/{cid}/pareto")
    assert [p["sample_id"] for p in report["front"]] == ["a"] and report["n_results"] == 1


def test_pareto_of_a_single_objective_campaign_is_409(client: FlaskClient) -> None:
    single = {"name": "single", "parameters": GRID_PARAMETERS, "objective": CONDUCTIVITY}
    sid = ok(client, 201, "POST", URL, json=single)["id"]
    response = client.get(f"{URL}/{sid}/pareto", headers=ADMIN)
    assert response.status_code == 409
    assert "campaign has one objective; /pareto needs 2-4" in response.get_json()["detail"]


def test_pareto_needs_read_scope_and_a_limited_token_sees_its_campaign_only(
    client: FlaskClient, cid: str
) -> None:
    other = ok(client, 201, "POST", URL, json=moo(name="other"))["id"]
    token = ok(client, 201, "POST", "/api/v1/tokens",
               json={"name": "reader", "scope": "read", "campaign_id": cid})["token"]  # fmt: skip
    reader = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{URL}/{cid}/pareto").status_code == 401
    assert client.get(f"{URL}/{cid}/pareto", headers=reader).status_code == 200
    assert client.get(f"{URL}/{other}/pareto", headers=reader).status_code == 403


def test_predict_and_slice_need_an_objective_and_benchmarks_answer_409_for_several(
    client: FlaskClient, redis_client: redis.Redis, cid: str, store: Any
) -> None:
    state = {"kind": "pareto", "objectives": MOO["objectives"], "models": []}
    store.models.save(cid, state, {"objectives": []}, data_version=1, space_version=1)
    body = rejected(client, redis_client, "POST", f"{URL}/{cid}/predict",
                    json={"points": [{"temperature_c": 900, "time_min": 30}]})  # fmt: skip
    assert list(body["errors"]) == ["objective"] and "relative_density" in body["detail"]
    url = f"{URL}/{cid}/model/slice?x=temperature_c&y=time_min"
    body = rejected(client, redis_client, "GET", url)
    assert list(body["errors"]) == ["objective"] and "relative_density" in body["detail"]
    response = client.post(f"{URL}/{cid}/benchmarks", headers=ADMIN, json={})
    assert response.status_code == 409, response.get_json()
    assert ok(client, 200, "GET", f"{URL}/{cid}/model")["summary"] == {"objectives": []}


def test_the_openapi_document_describes_pareto_and_the_new_fields(client: FlaskClient) -> None:
    document = ok(client, 200, "GET", "/api/v1/openapi.json")
    operation = document["paths"]["/api/v1/campaigns/{campaign_id}/pareto"]["get"]
    assert operation["operationId"] == "getPareto"
    assert operation["responses"]["200"]["content"]["application/json"]["example"]["front"]
    schemas = document["components"]["schemas"]
    properties = schemas["LedgerProposalOut"]["properties"]
    assert {"predicted", "probability_feasible"} <= set(properties)
    assert "objectives" in schemas["ResultIn"]["properties"]
    assert "reference_point" in schemas["LedgerBatchOut"]["properties"]
    latest = document["paths"]["/api/v1/campaigns/{campaign_id}/proposals/latest"]["get"]
    batches = latest["responses"]["200"]["content"]["application/json"]["examples"]
    assert batches["objectives"]["value"]["proposals"][0]["predicted"]["conductivity"]["mean"]
    examples = operation_examples(document, "/api/v1/campaigns", "post")
    assert "objectives" in examples and "moo_preset" in examples


def operation_examples(document: dict, path: str, method: str) -> dict:
    """The named examples of an operation's JSON request body."""
    return document["paths"][path][method]["requestBody"]["content"]["application/json"]["examples"]


def test_a_batch_request_with_a_single_objective_acquisition_is_422(
    client: FlaskClient, redis_client: redis.Redis, cid: str
) -> None:
    problem = rejected(
        client, redis_client, "POST", f"{URL}/{cid}/proposals", json={"acquisition": "ucb"}
    )
    assert any("acquisition" in key for key in problem["errors"]), problem
    job = ok(client, 202, "POST", f"{URL}/{cid}/proposals", json={"acquisition": "parego"})
    assert job["params"]["overrides"] == {"acquisition": "parego"}
    single = {"name": "single", "parameters": GRID_PARAMETERS, "objective": CONDUCTIVITY}
    sid = ok(client, 201, "POST", URL, json=single)["id"]
    problem = rejected(
        client, redis_client, "POST", f"{URL}/{sid}/proposals", json={"acquisition": "ehvi"}
    )
    assert "acquisition" in problem["errors"], problem


def test_a_patch_of_the_outcome_constraints_asks_for_a_refit(
    client: FlaskClient, redis_client: redis.Redis, cid: str
) -> None:
    ok(client, 201, "POST", f"{URL}/{cid}/results",
       json=[result("a", 900, 30, conductivity=2e-4, relative_density=0.92)])  # fmt: skip
    redis_client.delete(task_names.PROPOSALS_QUEUE, Keys.refit_queued(cid))  # a worker took it
    constraint = {"name": "phase_purity", "op": ">=", "value": 0.7}
    ok(client, 200, "PATCH", f"{URL}/{cid}", json={"outcome_constraints": [constraint]})
    messages = [json.loads(m) for m in redis_client.lrange(task_names.PROPOSALS_QUEUE, 0, -1)]
    assert [m["headers"]["task"] for m in messages] == [task_names.REFIT]
    ok(client, 200, "PATCH", f"{URL}/{cid}", json={"name": "renamed"})  # no new models needed
    assert redis_client.llen(task_names.PROPOSALS_QUEUE) == 1


def test_a_sample_posted_again_with_other_objective_values_is_409(
    client: FlaskClient, cid: str
) -> None:
    first = result("a", 900, 30, conductivity=2e-4, relative_density=0.92)
    ok(client, 201, "POST", f"{URL}/{cid}/results", json=first)
    assert ok(client, 200, "POST", f"{URL}/{cid}/results", json=first)["duplicates"] == 1
    changed = result("a", 900, 30, conductivity=2e-4, relative_density=0.97)
    response = client.post(f"{URL}/{cid}/results", json=changed, headers=ADMIN)
    assert response.status_code == 409, response.get_json()
