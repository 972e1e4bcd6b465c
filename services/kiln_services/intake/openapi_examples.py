"""Finishing touches on the spec flask-smorest generates, so a client can be generated from it.

flask-smorest writes paths, parameters, bodies and success responses from the schemas; this adds
what cuts across views: an operationId for every operation, the bearer security requirement
(public endpoints opt out), every error status an operation can answer with, as
application/problem+json, the Idempotency-Key header on POSTs, the text/csv forms of results,
and the public health endpoints.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec

PROBLEM = "application/problem+json"
PREFIX = "/api/v1"

# Readable operationIds for the contract's operations; anything else gets a derived one.
OPERATION_IDS = {
    ("get", "/campaigns"): "listCampaigns",
    ("post", "/campaigns"): "createCampaign",
    ("get", "/campaigns/{campaign_id}"): "getCampaign",
    ("patch", "/campaigns/{campaign_id}"): "updateCampaign",
    ("get", "/campaigns/{campaign_id}/results"): "listResults",
    ("post", "/campaigns/{campaign_id}/results"): "postResults",
    ("post", "/campaigns/{campaign_id}/proposals"): "requestProposals",
    ("get", "/campaigns/{campaign_id}/proposals/latest"): "getLatestProposals",
    ("delete", "/campaigns/{campaign_id}/proposals/{proposal_id}"): "withdrawProposal",
    ("get", "/campaigns/{campaign_id}/model"): "getModel",
    ("post", "/campaigns/{campaign_id}/benchmarks"): "startBenchmark",
    ("get", "/jobs/{job_id}"): "getJob",
    ("get", "/tokens"): "listTokens",
    ("post", "/tokens"): "createToken",
    ("delete", "/tokens/{token_id}"): "revokeToken",
}

_ERRORS = {
    400: "Malformed request (e.g. invalid JSON, a bad Idempotency-Key)",
    401: "Missing, unknown or revoked bearer token",
    403: "The token lacks the scope, or is limited to another campaign",
    404: "No such resource",
    409: "Conflict (a sample_id stored with another payload, an Idempotency-Key reused)",
    413: "The body exceeds the size limit",
    415: "Unsupported Content-Type",
    422: "Invalid fields; `errors` names each one; nothing was stored",
    503: "Redis or the task queue does not answer; retry after Retry-After seconds",
}

PROBLEM_EXAMPLE = {
    "type": "https://kiln.dev/problems/validation-error",
    "title": "Unprocessable Entity",
    "status": 422,
    "detail": "results.0.objective: must be > 0 under a log10 transform; nothing was stored",
    "errors": {"results.0.objective": ["must be > 0 under a log10 transform"]},
}

CAMPAIGN_EXAMPLES = {
    "definition": {
        "summary": "A campaign defined in full",
        "value": {
            "name": "latp-solgel",
            "parameters": [
                {
                    "name": "acid_wt_pct",
                    "kind": "continuous",
                    "low": -22.5,
                    "high": 7.5,
                    "step": 1.25,
                    "unit": "wt%",
                    "hard_low": -30,
                    "hard_high": 15,
                },
                {
                    "name": "temperature_c",
                    "kind": "continuous",
                    "low": 800,
                    "high": 1100,
                    "step": 25,
                    "unit": "degC",
                },
                {
                    "name": "time_min",
                    "kind": "discrete",
                    "values": [10, 20, 30, 60, 120, 240, 480, 540],
                    "unit": "min",
                },
                {"name": "atmosphere", "kind": "categorical", "values": ["air", "argon"]},
            ],
            "objective": {
                "name": "conductivity",
                "unit": "S/cm",
                "goal": "maximize",
                "transform": "log10",
            },
            "strategy": {"acquisition": "ucb", "kappa": 1.96, "batch_size": 6},
        },
    },
    "preset": {"summary": "The LATP study's campaign", "value": {"preset": "latp"}},
}

RESULT_EXAMPLE = {
    "sample_id": "LATP-042",
    "parameters": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450},
    "objective": 1.09e-3,
    "measurements": {"relative_density": 0.95},
    "measured_at": "2026-11-24T14:05:00Z",
    "instrument": "eis-1",
}

RESULTS_CSV_EXAMPLE = (
    "sample_id,acid_wt_pct,temperature_c,time_min,conductivity,relative_density\n"
    "LATP-042,-11.25,1000,450,1.09e-3,0.95\n"
    "LATP-043,-7.5,1000,540,,\n"
)

CANDIDATES_EXAMPLE = [
    {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 480},
    {"acid_wt_pct": -7.5, "temperature_c": 950, "time_min": 240},
]
CANDIDATES_CSV_EXAMPLE = "acid_wt_pct,temperature_c,time_min\n-11.25,1000,480\n-7.5,950,240\n"


JOB_EXAMPLE = {
    "id": "9f1c2e7a4b2d4c0e8e6f1a2b3c4d5e6f",
    "kind": "proposals",
    "state": "queued",
    "campaign_id": "5b0e6c1d2f3a4b5c6d7e8f9a0b1c2d3e",
    "params": {"overrides": {"batch_size": 6}},
    "result": None,
    "error": None,
    "created_at": "2026-11-24T14:05:00.000Z",
}

# Example success bodies by operationId (what a client generator shows next to each call).
RESPONSE_EXAMPLES: dict[str, tuple[str, Any]] = {
    "postResults": (
        "201",
        {
            "stored": 1,
            "duplicates": 0,
            "data_version": 86,
            "flags": [],
            "measured_proposals": [],
            "refit_enqueued": True,
        },
    ),
    "requestProposals": ("202", JOB_EXAMPLE),
    "startBenchmark": ("202", {**JOB_EXAMPLE, "kind": "benchmarks", "params": {"repeats": 200}}),
    "getJob": (
        "200",
        {**JOB_EXAMPLE, "state": "done", "result": {"batch_id": "9f1c2e7a", "proposals": 6}},
    ),
    "createToken": (
        "201",
        {
            "id": "3f9a0c1b2d4e5f60",
            "token": "shown-once-3q2x...",
            "scope": "write",
            "name": "lims-bay-3",
            "campaign_id": None,
            "created_at": "2026-11-24T14:05:00.000Z",
        },
    ),
    "getLatestProposals": (
        "200",
        {
            "batch_id": "9f1c2e7a",
            "campaign_id": "5b0e6c1d",
            "created_at": "2026-11-24T14:05:00.000Z",
            "model_version": 7,
            "data_version": 86,
            "space_version": 2,
            "acquisition": "ucb",
            "batch_method": "kriging_believer",
            "proposals": [
                {
                    "id": "9f1c2e7a-0",
                    "parameters": {"acid_wt_pct": -11.25, "temperature_c": 1000, "time_min": 450},
                    "predicted_mean": 9.8e-4,
                    "predicted_std": 2.1e-4,
                    "acquisition_value": 0.73,
                    "status": "pending",
                }
            ],
        },
    ),
}


def _links() -> dict[str, tuple[str, dict[str, dict[str, Any]]]]:
    """OpenAPI links: which later calls take an id from a response (for clients and fuzzers)."""
    campaign = {"campaign_id": "$response.body#/id"}
    job = {"job_id": "$response.body#/id"}
    return {
        "createCampaign": (
            "201",
            {
                "getCampaign": {"operationId": "getCampaign", "parameters": campaign},
                "postResults": {"operationId": "postResults", "parameters": campaign},
                "listResults": {"operationId": "listResults", "parameters": campaign},
                "requestProposals": {"operationId": "requestProposals", "parameters": campaign},
                "getLatestProposals": {"operationId": "getLatestProposals", "parameters": campaign},
                "updateCampaign": {"operationId": "updateCampaign", "parameters": campaign},
            },
        ),
        "requestProposals": ("202", {"getJob": {"operationId": "getJob", "parameters": job}}),
        "startBenchmark": ("202", {"getJob": {"operationId": "getJob", "parameters": job}}),
        "createToken": (
            "201",
            {
                "revokeToken": {
                    "operationId": "revokeToken",
                    "parameters": {"token_id": "$response.body#/id"},
                }
            },
        ),
    }


def _object_sizes(schema: Any) -> None:
    # marshmallow's Length on a Dict field comes out as min/maxLength, which JSON Schema applies
    # to strings only; for an object the keywords are min/maxProperties.
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            for old, new in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
                if old in schema:
                    schema[new] = schema.pop(old)
        for value in schema.values():
            _object_sizes(value)
    elif isinstance(schema, list):
        for value in schema:
            _object_sizes(value)


def _operation_id(method: str, path: str) -> str:
    short = path.removeprefix(PREFIX) or "/"
    known = OPERATION_IDS.get((method, short))
    if known:
        return known
    words = [w for w in re.split(r"[/_{}\-.]+", short) if w]
    return method + "".join(w[:1].upper() + w[1:] for w in words)


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or _ERRORS.get(status, "Error"),
        "content": {
            PROBLEM: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "example": {**PROBLEM_EXAMPLE, "status": status} if status == 422 else None,
            }
        },
    }
    if response["content"][PROBLEM]["example"] is None:
        del response["content"][PROBLEM]["example"]
    if status == 503:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if status == 405:
        response["headers"] = {"Allow": {"schema": {"type": "string"}}}
    return response


def _statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    has_body = "requestBody" in operation
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    statuses = [400, 401, 403, 503]
    if "{" in path or method == "post":
        statuses.append(404)  # an unknown campaign, job, proposal or token (or campaign_id)
    if has_body or has_query:
        statuses.append(422)
    if has_body:
        statuses += [413, 415]
    if method == "post" or has_body:
        statuses.append(409)
    return sorted(set(statuses))


def _health_paths() -> dict[str, Any]:
    text = {"text/plain": {"schema": {"type": "string"}}}
    health = {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "status": {"type": "string"},
                    "redis": {"type": "string"},
                    "workers": {"type": "array", "items": {"type": "string"}},
                },
            }
        }
    }
    return {
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness: the process serves requests",
                "tags": ["Health"],
                "security": [],
                "responses": {"200": {"description": "Alive", "content": health}},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness: Redis answers and a worker's heartbeat is fresh",
                "tags": ["Health"],
                "security": [],
                "responses": {
                    "200": {"description": "Ready", "content": health},
                    "503": _problem_response(503, "Not ready (Redis or no live worker)"),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus: requests, refit durations, results, pending proposals, queues",
                "tags": ["Health"],
                "security": [],
                "responses": {
                    "200": {"description": "Gauges", "content": text},
                    "503": _problem_response(503),
                },
            }
        },
    }


def finish(spec: APISpec) -> None:
    """Complete `spec` in place (call once, after every blueprint is registered)."""
    paths: dict[str, dict[str, Any]] = spec._paths  # apispec keeps them here until to_dict()
    components = spec.components
    if "Problem" not in components.schemas:
        components.schema(
            "Problem",
            {
                "type": "object",
                "description": "RFC 9457 problem details; `errors` maps field paths to messages",
                "required": ["type", "title", "status", "detail", "errors"],
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "request_id": {
                        "type": "string",
                        "description": "the request's X-Request-ID, as in the logs",
                    },
                },
                "example": PROBLEM_EXAMPLE,
            },
        )
    from kiln_services.intake.campaigns.schemas import CampaignDefinitionIn, CampaignPresetIn

    for name, schema in (
        ("CampaignDefinitionIn", CampaignDefinitionIn),
        ("CampaignPresetIn", CampaignPresetIn),
    ):
        if name not in components.schemas:
            components.schema(name, schema=schema)
    for path, item in paths.items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operation["operationId"] = _operation_id(method, path)
            example = RESPONSE_EXAMPLES.get(operation["operationId"])
            if example is not None:
                status, value = example
                content = operation.get("responses", {}).get(status, {}).get("content", {})
                if "application/json" in content:
                    content["application/json"].setdefault("example", value)
            operation.setdefault("security", [{"bearerAuth": []}])
            responses = operation.setdefault("responses", {})
            # Error responses flask-smorest wrote as application/json refs become problems.
            for code in list(responses):
                if code == "default" or str(code)[0] in "45":
                    description = responses[code].get("description")
                    responses[code] = _problem_response(
                        int(code) if code != "default" else 500, description
                    )
            for status in _statuses(method, path, operation):
                responses.setdefault(str(status), _problem_response(status))
            responses.pop("default", None)
            body_schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            ref = body_schema.get("$ref", "").rsplit("/", 1)[-1]
            component = components.schemas.get(ref) if ref else None
            if component is not None and not component.get("required") and ref != "CampaignIn":
                if ref == "CampaignPatchIn":
                    component["minProperties"] = 1  # a PATCH must change something
                else:
                    # Every field has a default: no body at all is a valid request.
                    operation["requestBody"]["required"] = False
            if ref == "CampaignIn":
                operation["requestBody"]["content"]["application/json"] = {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/CampaignDefinitionIn"},
                            {"$ref": "#/components/schemas/CampaignPresetIn"},
                        ]
                    },
                    "examples": CAMPAIGN_EXAMPLES,
                }
            if method == "post" and not path.endswith("/results"):
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": "Idempotency-Key",
                        "required": False,
                        "description": "Retrying with the same key and body replays the first "
                        "(2xx) response for 24 h; the same key with another body is a 409",
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    }
                )
            if method == "post" and path.endswith("/results"):
                body = operation.get("requestBody", {}).get("content", {})
                one = {"$ref": "#/components/schemas/ResultIn"}
                body["application/json"] = {
                    "schema": {
                        "oneOf": [
                            one,
                            {"type": "array", "items": one, "minItems": 1},
                            {
                                "type": "object",
                                "required": ["results"],
                                "additionalProperties": False,
                                "properties": {
                                    "results": {"type": "array", "items": one, "minItems": 1}
                                },
                            },
                        ]
                    },
                    "example": RESULT_EXAMPLE,
                }
                body["text/csv"] = {
                    "schema": {"type": "string"},
                    "example": RESULTS_CSV_EXAMPLE,
                }
            if method == "post" and path.endswith("/candidates"):
                body = operation.get("requestBody", {}).get("content", {})
                rows = {
                    "type": "array",
                    "items": {"type": "object", "additionalProperties": {}},
                    "minItems": 1,
                }
                body["application/json"] = {
                    "schema": {
                        "oneOf": [
                            rows,
                            {
                                "type": "object",
                                "required": ["candidates"],
                                "additionalProperties": False,
                                "properties": {"candidates": rows},
                            },
                        ]
                    },
                    "example": CANDIDATES_EXAMPLE,
                }
                body["text/csv"] = {
                    "schema": {"type": "string"},
                    "example": CANDIDATES_CSV_EXAMPLE,
                }
            if method == "get" and path.endswith("/results"):
                ok = responses.get("200", {}).get("content")
                if ok is not None:
                    ok["text/csv"] = {"schema": {"type": "string"}}
    by_id = {
        op["operationId"]: op
        for item in paths.values()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    for source, (status, links) in _links().items():
        response = by_id.get(source, {}).get("responses", {}).get(status)
        known = {k: v for k, v in links.items() if v["operationId"] in by_id}
        if response is not None and known:
            response.setdefault("links", {}).update(known)
    for component in components.schemas.values():
        _object_sizes(component)
    for path, item in _health_paths().items():
        paths.setdefault(path, item)
    spec.options.setdefault("security", [{"bearerAuth": []}])
