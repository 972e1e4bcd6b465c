"""The contract, rule by rule: each rule has a request that must fail and one that must pass, and
every rejected request leaves the store (every kiln:* key and the task queues) exactly as it was.

Real Redis (the `redis_url` fixture), Flask's test client; results, CSV, errors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from support.campaigns import FURNACE_PARAMETERS
from support.intake import ADMIN
from support.store_snapshot import snapshot

SPACE = FURNACE_PARAMETERS
CAMPAIGN = {
    "name": "furnace",
    "parameters": SPACE,
    "objective": {"name": "conductivity", "unit": "S/cm", "goal": "maximize", "transform": "log10"},
    "strategy": {"batch_size": 3},
}


class Api:
    """A test client that checks the store is unchanged by every rejected request."""

    def __init__(self, client: FlaskClient, redis_client: redis.Redis) -> None:
        self.client = client
        self.redis = redis_client

    def rejected(self, status: int, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        """Send a request that must fail with `status`; return its problem body."""
        kwargs.setdefault("headers", ADMIN)
        before = snapshot(self.redis)
        response = self.client.open(url, method=method, **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
        body = json.loads(response.get_data(as_text=True))
        assert set(body) >= {"type", "title", "status", "detail", "errors"}
        assert body["status"] == status and isinstance(body["errors"], dict)
        assert snapshot(self.redis) == before, "a rejected request changed the store"
        return body

    def ok(self, status: int, method: str, url: str, **kwargs: Any) -> Any:
        """Send a request that must succeed with `status`; return its JSON body."""
        kwargs.setdefault("headers", ADMIN)
        response = self.client.open(url, method=method, **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json() if response.is_json else response.get_data(as_text=True)


@pytest.fixture
def api(app: Flask, redis_client: redis.Redis) -> Api:
    return Api(app.test_client(), redis_client)


@pytest.fixture
def cid(api: Api) -> str:
    return str(api.ok(201, "POST", "/api/v1/campaigns", json=CAMPAIGN)["id"])


def result(sid: str = "s1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sample_id": sid,
        "parameters": {"temperature_c": 900, "time_min": 30, "atmosphere": "air"},
        "objective": 1e-4,
    }
    for key, value in changes.items():
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


_DROP = object()


def params(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"temperature_c": 900, "time_min": 30, "atmosphere": "air"}
    for key, value in changes.items():
        if value is _DROP:
            out.pop(key)
        else:
            out[key] = value
    return out


# (bad result, the field the problem names, a good variant of the same rule)
RESULT_RULES = {
    "type of a number": (result(objective="1e-4"), "results.0.objective", result(objective=1e-4)),
    "type of a string": (result(sample_id=42), "results.0.sample_id", result(sample_id="42")),
    "required sample_id": (result(sample_id=_DROP), "results.0.sample_id", result()),
    "required parameters": (result(parameters=_DROP), "results.0.parameters", result()),
    "unknown field": (
        {**result(), "colour": "blue"},
        "results.0.colour",
        {**result(), "measurements": {"colour": "blue"}},
    ),
    "infinite objective": (result(objective=1e999), "results.0.objective", result(objective=1e3)),
    "negative objective under log10": (
        result(objective=-1e-4),
        "results.0.objective",
        result(objective=1e-4),
    ),
    "zero objective under log10": (result(objective=0), "results.0.objective", result()),
    "non-finite parameter": (
        result(parameters=params(temperature_c=1e999)),
        "results.0.parameters.temperature_c",
        result(parameters=params(temperature_c=925)),
    ),
    "unknown parameter": (
        result(parameters=params(pressure_bar=2)),
        "results.0.parameters.pressure_bar",
        result(),
    ),
    "missing parameter": (
        result(parameters=params(time_min=_DROP)),
        "results.0.parameters.time_min",
        result(),
    ),
    "outside hard limits": (
        result(parameters=params(temperature_c=1250)),
        "results.0.parameters.temperature_c",
        result(parameters=params(temperature_c=1150)),  # outside the range, inside hard limits
    ),
    "categorical not in the list": (
        result(parameters=params(atmosphere="nitrogen")),
        "results.0.parameters.atmosphere",
        result(parameters=params(atmosphere="argon")),
    ),
    "measured_at not ISO 8601": (
        result(measured_at="yesterday at noon"),
        "results.0.measured_at",
        result(measured_at="2026-11-24T14:05:00Z"),
    ),
    "sample_id too long": (result(sample_id="x" * 201), "results.0.sample_id", result("x" * 200)),
    "instrument too long": (
        result(instrument="i" * 201),
        "results.0.instrument",
        result(instrument="eis-1"),
    ),
    "measurement not a scalar": (
        result(measurements={"density": [0.9]}),
        "results.0.measurements.density",
        result(measurements={"density": 0.9}),
    ),
    "failed synthesis with an objective": (
        result(status="failed"),
        "results.0.objective",
        result(status="failed", objective=_DROP),
    ),
    "ok result without objective": (result(objective=_DROP), "results.0.objective", result()),
    "unknown status": (result(status="meh"), "results.0.status", result(status="ok")),
}


@pytest.mark.parametrize("rule", list(RESULT_RULES))
def test_result_rule_rejects_then_accepts(api: Api, cid: str, rule: str) -> None:
    bad, field, good = RESULT_RULES[rule]
    url = f"/api/v1/campaigns/{cid}/results"
    problem = api.rejected(422, "POST", url, json=bad)
    assert field in problem["errors"], problem
    assert problem["type"].endswith("validation-error")
    answer = api.ok(201, "POST", url, json=good)
    assert answer["stored"] == 1
    stored = api.ok(200, "GET", url)["items"]
    assert [r["sample_id"] for r in stored] == [good["sample_id"]]


def test_a_string_objective_is_told_to_be_a_json_number_as_a_string_parameter_is(
    api: Api, cid: str
) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    objective = api.rejected(422, "POST", url, json=result(objective="1.2e-3"))
    (message,) = objective["errors"]["results.0.objective"]
    assert "'1.2e-3'" in message and "JSON number" in message, message
    parameter = api.rejected(422, "POST", url, json=result(parameters=params(time_min="30")))
    assert "JSON number" in " ".join(parameter["errors"]["results.0.parameters.time_min"])


def test_a_refused_get_does_not_say_nothing_was_stored_and_a_refused_post_does(
    api: Api, cid: str
) -> None:
    latest = api.rejected(422, "GET", f"/api/v1/campaigns/{cid}/proposals/latest?wait=120")
    assert latest["detail"] == "wait: must be 0 to 60 seconds, not 120.0", latest
    posted = api.rejected(422, "POST", f"/api/v1/campaigns/{cid}/results", json=result(objective=0))
    assert posted["detail"].endswith("; nothing was stored"), posted["detail"]


def test_nan_literal_is_refused(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    raw = json.dumps(result()).replace("0.0001", "NaN")
    problem = api.rejected(422, "POST", url, data=raw, content_type="application/json")
    assert "results.0.objective" in problem["errors"]


@pytest.mark.parametrize(
    "where",
    ['"parameters": {"temperature_c": BIG, "time_min": 30, "atmosphere": "air"}',
     '"parameters": {"temperature_c": 900, "time_min": 30, "atmosphere": "air"},'
     ' "measurements": {"x": BIG}'],
)  # fmt: skip
def test_integers_beyond_any_float_are_422_not_500(api: Api, cid: str, where: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    big = where.replace("BIG", "1" + "0" * 400)
    raw = '{"sample_id": "a", ' + big + ', "objective": 1e-4}'
    api.rejected(422, "POST", url, data=raw, content_type="application/json")
    bad_space = json.dumps({**CAMPAIGN, "parameters": [{**SPACE[1], "values": [1, 2]}]})
    api.rejected(
        422,
        "POST",
        "/api/v1/campaigns",
        data=bad_space.replace("[1, 2]", "[1, 1" + "0" * 400 + "]"),
        content_type="application/json",
    )
    api.ok(201, "POST", url, json=result())


def test_a_step_too_fine_for_its_range_is_422(api: Api) -> None:
    fine = {"name": "t", "kind": "continuous", "low": 0, "high": 1e308, "step": 1e-308}
    problem = api.rejected(
        422, "POST", "/api/v1/campaigns", json={**CAMPAIGN, "parameters": [fine]}
    )
    assert "parameters.0.step" in problem["errors"]
    api.ok(
        201, "POST", "/api/v1/campaigns", json={**CAMPAIGN, "parameters": [{**fine, "step": 1e300}]}
    )


def test_outside_range_inside_hard_limits_is_flagged(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    answer = api.ok(201, "POST", url, json=result(parameters=params(temperature_c=1150)))
    assert answer["flags"] and "temperature_c" in answer["flags"][0]["flags"][0]
    [stored] = api.ok(200, "GET", url)["items"]
    assert stored["flags"] == answer["flags"][0]["flags"]


def test_one_bad_row_stores_none_of_the_batch(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    rows = [result("a"), result("b", objective=-1), result("c")]
    problem = api.rejected(422, "POST", url, json={"results": rows})
    assert list(problem["errors"]) == ["results.1.objective"]
    assert api.ok(201, "POST", url, json=[result("a"), result("c")])["stored"] == 2


def test_failed_synthesis_is_stored_exported_and_counted(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    failed = result("f1", status="failed", objective=_DROP, measurements={"note": "cracked"})
    assert api.ok(201, "POST", url, json=[result("ok1"), failed])["stored"] == 2
    items = api.ok(200, "GET", url)["items"]
    assert items[1]["status"] == "failed" and "objective" not in items[1]
    csv_text = api.ok(200, "GET", f"{url}?format=csv")
    header, _, failed_line = csv_text.strip().splitlines()
    assert "status" in header.split(",") and failed_line.startswith("f1,")
    assert ",failed," in failed_line + "," and "cracked" in failed_line
    # The export posts back as the same results: all duplicates, nothing new.
    again = api.ok(200, "POST", url, data=csv_text, content_type="text/csv")
    assert again == {**again, "stored": 0, "duplicates": 2}


def test_sample_id_conflict_is_409_and_same_payload_200(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    api.ok(201, "POST", url, json=result("a"))
    problem = api.rejected(409, "POST", url, json=result("a", objective=2e-4))
    assert "sample_id" in problem["errors"]
    assert api.ok(200, "POST", url, json=result("a"))["duplicates"] == 1


# -- CSV --------------------------------------------------------------------------------------------


def test_csv_as_lims_export_it(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    text = (
        "\ufeffsample_id;temperature_c;time_min;atmosphere;conductivity;note;status\r\n"
        'L1;900;30;air;2,5e-4;"dense; no cracks";ok\r\n'
        '"L2";1000,5;480;argon;1.1e-3;"two\r\nlines";\r\n'
        "L3;950;60;air;;;failed\r\n"
        "\r\n\r\n"
    ).encode()
    answer = api.ok(201, "POST", url, data=text, content_type="text/csv; charset=utf-8")
    assert answer["stored"] == 3
    items = {r["sample_id"]: r for r in api.ok(200, "GET", url)["items"]}
    assert items["L1"]["objective"] == 2.5e-4
    assert items["L1"]["measurements"] == {"note": "dense; no cracks"}
    assert items["L2"]["parameters"]["temperature_c"] == 1000.5
    assert items["L2"]["measurements"]["note"] == "two\r\nlines"
    assert items["L3"]["status"] == "failed" and "objective" not in items["L3"]


def test_csv_comma_delimited_with_objective_column(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    text = 'sample_id,temperature_c,time_min,atmosphere,objective\n"c,1",900,30,air,1e-4\n\n'
    assert api.ok(201, "POST", url, data=text, content_type="text/csv")["stored"] == 1
    assert api.ok(200, "GET", url)["items"][0]["sample_id"] == "c,1"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # row numbers as a spreadsheet shows them: the header is row 1
        ("sample_id,temperature_c,time_min,atmosphere,conductivity\n"
         "a,900,30,air,1e-4\nb,hot,30,air,1e-4\n", "row.3.temperature_c"),
        ("sample_id,temperature_c,time_min,atmosphere,conductivity\n"
         "a,900,30,air,1e-4\nb,900,30,air,-1\n", "row.3.conductivity"),
        ("sample_id,temperature_c,time_min,atmosphere,conductivity\n"
         "a,900,30,neon,1e-4\n", "row.2.atmosphere"),
        ("sample_id,temperature_c,time_min,atmosphere,conductivity\n"
         "a,900,30,air,1e-4,extra\n", "row.2"),
        ("sample_id,temperature_c,time_min,atmosphere,conductivity,measured_at\n"
         "a,900,30,air,1e-4,soon\n", "row.2.measured_at"),
        ("temperature_c,time_min,atmosphere,conductivity\n900,30,air,1e-4\n", "header"),
        ("sample_id,temperature_c,temperature_c\n", "header"),
        ("sample_id,temperature_c,time_min\n\n", "body"),
        ("", "body"),
    ],
)  # fmt: skip
def test_bad_csv_names_row_and_column_and_stores_nothing(
    api: Api, cid: str, text: str, key: str
) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    problem = api.rejected(422, "POST", url, data=text, content_type="text/csv")
    assert key in problem["errors"], problem
    if key.startswith("row."):
        assert f"row {key.split('.')[1]}" in problem["detail"]
    good = "sample_id,temperature_c,time_min,atmosphere,conductivity\na,900,30,air,1e-4\n"
    assert api.ok(201, "POST", url, data=good, content_type="text/csv")["stored"] == 1


def test_csv_that_is_not_utf8_is_422(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    api.rejected(422, "POST", url, data=b"sample_id\n\xff\xfe\n", content_type="text/csv")


def test_json_body_cannot_smuggle_csv_rows(api: Api, cid: str) -> None:
    url = f"/api/v1/campaigns/{cid}/results"
    problem = api.rejected(422, "POST", url, json={"csv": [{"sample_id": {"x": 1}}]})
    assert "csv" in problem["errors"]
