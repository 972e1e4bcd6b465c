"""The OpenAPI document: flask-smorest writes it from the views' decorators and schemas.

Each view declares its own operationId, success and alternative responses, and what marshmallow
cannot say (`@blp.doc`, with `openapi_examples`). What cuts across views is one apispec plugin
(`KilnSpec`, passed in the Api's spec_kwargs): it registers the components (the bearer scheme,
Problem from `ProblemOut`) and, as flask-smorest registers each path, gives every authenticated
operation the bearer requirement (the document's default; a public view declares
`security=[]`), the error statuses it can answer with, each a Problem as
application/problem+json, and the Idempotency-Key header of POSTs (and of a result's correction).
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields

from kiln_services.intake import idempotency
from kiln_services.intake.base_schemas import ProblemOut
from kiln_services.intake.campaigns.schemas import CampaignPatchIn
from kiln_services.intake.errors import PROBLEM_MIMETYPE

PROBLEM = PROBLEM_MIMETYPE
BEARER = [{"bearerAuth": []}]

ERRORS = {
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
HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}}},
    503: {"Retry-After": {"schema": {"type": "integer"}}},
}
PROBLEM_EXAMPLE = {
    "type": "https://kiln.dev/problems/validation-error",
    "title": "Unprocessable Entity",
    "status": 422,
    "detail": "results.0.objective: must be > 0 under a log10 transform; nothing was stored",
    "errors": {"results.0.objective": ["must be > 0 under a log10 transform"]},
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "description": "Retrying with the same key and body replays the first (2xx) response for "
    "24 h; the same key with another body is a 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
}


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an authenticated operation can answer with, from its shape."""
    has_body = "requestBody" in operation
    has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
    statuses = {400, 401, 403, 503}
    if "{" in path or method == "post":
        statuses.add(404)  # an unknown campaign, job, proposal or token (or campaign_id)
    if has_body or has_query:
        statuses.add(422)
    if has_body:
        statuses |= {413, 415}
    if method == "post" or has_body:
        statuses.add(409)
    return statuses


def takes_idempotency_key(method: str, path: str) -> bool:
    """Every POST but results' (idempotent by sample_id) and a result's correction (PATCH)."""
    if method == "post":
        return not path.endswith("/results")
    return method == "patch" and path.endswith("/results/{sample_id}")


def problem_response(status: int, response: dict[str, Any] | str) -> dict[str, Any]:
    """An error response as the intake sends it: a Problem, with its status's headers.

    A description a view gave (`@blp.alt_response`) is kept; flask-smorest's own references
    (e.g. the 422 `@blp.arguments` declares) are replaced.
    """
    given = response if isinstance(response, dict) else {}
    media: dict[str, Any] = {"schema": "Problem"}
    if status == 422:
        media["example"] = PROBLEM_EXAMPLE
    out = {"description": ERRORS.get(status, "Error"), **given, "content": {PROBLEM: media}}
    if status in HEADERS:
        out["headers"] = HEADERS[status]
    return out


class KilnSpec(BasePlugin):
    """The intake's apispec plugin (its public hooks: init_spec, operation_helper)."""

    def init_spec(self, spec: APISpec) -> None:
        # Runs as the APISpec is built, after the marshmallow plugin and before flask-smorest
        # registers its ERROR_SCHEMA (ProblemOut): that is then a reference to Problem.
        super().init_spec(spec)
        spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
        # apispec sorts a schema's `required`; the contract lists the problem's fields in order.
        problem = {"required": ["type", "title", "status", "detail", "errors"]}
        spec.components.schema(
            "Problem", {**problem, "example": PROBLEM_EXAMPLE}, schema=ProblemOut
        )
        spec.components.schema("CampaignPatchIn", {"minProperties": 1}, schema=CampaignPatchIn)
        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin) and plugin.converter is not None:
                plugin.converter.add_attribute_function(object_sizes)

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            if operation.get("security") != []:  # authenticated (every view but health's)
                operation["security"] = BEARER
                for status in error_statuses(method, path or "", operation):
                    responses.setdefault(status, {})
                if path and takes_idempotency_key(method, path):
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            for status, response in list(responses.items()):
                if str(status)[0] in "45":
                    responses[status] = problem_response(int(status), response)


def object_sizes(
    converter: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """A Length on a Dict field bounds its keys: min/maxProperties, not min/maxLength.

    An attribute function of apispec's field converter (runs after its own Length one).
    """
    if isinstance(field, fields.Dict):
        for old, new in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
            if old in ret:
                ret[new] = ret.pop(old)
    return {}


def spec_kwargs() -> dict[str, Any]:
    """What the intake's `Api` passes to its APISpec."""
    description = "Closed-loop Bayesian experiment design for materials labs."
    return {"info": {"description": description}, "security": BEARER, "extra_plugins": [KilnSpec()]}
