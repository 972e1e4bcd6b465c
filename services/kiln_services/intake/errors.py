"""Every error becomes one application/problem+json shape, here and nowhere else.

    {"type": ..., "title": ..., "status": ..., "detail": ..., "errors": {field: [messages]},
     "request_id": ...}

Domain errors (kiln), store errors, webargs/marshmallow validation errors, HTTP errors and a Redis
that does not answer (503 with Retry-After) are all mapped by `to_problem`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import redis
from flask import Flask, Response, current_app, g, has_request_context, request
from kombu.exceptions import OperationalError as BrokerError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from kiln.campaign import field_path
from kiln.errors import (
    CampaignError,
    InvalidObservationError,
    KilnError,
    OutsideSpaceError,
    SpaceError,
    SpaceTooLargeError,
)
from kiln.pool import CandidateError
from kiln_services.store import (
    NameTaken,
    NotFound,
    ProposalNotPending,
    SampleConflict,
    UnknownReference,
)

PROBLEM_MIMETYPE = "application/problem+json"
PROBLEM_BASE = "https://kiln.dev/problems/"


class ApiProblem(Exception):
    """An error the views raise on purpose, already in problem terms."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: Mapping[str, list[str]] | None = None,
        kind: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = dict(errors or {})
        self.kind = kind
        self.headers = dict(headers or {})


class InvalidRequest(ApiProblem):
    """422 with field-level errors (the request stored nothing)."""

    def __init__(self, errors: Mapping[str, list[str]], detail: str | None = None) -> None:
        super().__init__(
            422,
            "Unprocessable Entity",
            detail or _summary(errors),
            errors=errors,
            kind="validation-error",
        )


#: Methods that store nothing even when they succeed: their errors do not say "nothing was stored".
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _summary(errors: Mapping[str, list[str]]) -> str:
    first = next(iter(errors.items()), None)
    if first is None:
        return "the request is invalid"
    field, messages = first
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{field}: {'; '.join(messages)}{more}{_nothing_stored()}"


def _nothing_stored() -> str:
    """The end of a 4xx detail: "; nothing was stored", except for reads (they store nothing)."""
    reads = has_request_context() and request.method in READS
    return "" if reads else "; nothing was stored"


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested error messages into {"a.0.b": [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        # marshmallow nests a Dict field's errors as {"k": {"key"|"value": [...]}}: name "k".
        dict_entry = bool(prefix) and bool(messages) and set(messages) <= {"key", "value"}
        for key, value in messages.items():
            if key == "_schema" or dict_entry:
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_messages(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, Mapping | list | tuple):
                for k, v in flatten_messages(item, prefix).items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or "body", []).append(str(item))
    else:
        out.setdefault(prefix or "body", []).append(str(messages))
    return out


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    """Build a problem+json response; `extra` as ApiProblem takes it (errors, kind, headers)."""
    return render(ApiProblem(status, title, detail, **extra))


def render(exc: ApiProblem) -> Response:
    """The problem+json response of an ApiProblem."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.kind if exc.kind else "about:blank",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail or exc.title,
        "errors": exc.errors,
    }
    if has_request_context() and g.get("request_id"):
        body["request_id"] = g.request_id  # quote it when reporting the error
    response = current_app.response_class(
        json.dumps(body), status=exc.status, mimetype=PROBLEM_MIMETYPE
    )
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def _webargs_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    # webargs namespaces messages by location ({"json": {...}}); clients think in fields.
    messages = data.get("messages") or data.get("errors") or {}
    out: dict[str, list[str]] = {}
    for _location, inner in messages.items():
        for k, v in flatten_messages(inner).items():
            out.setdefault(k, []).extend(v)
    return out


def _kiln_error(exc: KilnError) -> Response:
    if isinstance(exc, CandidateError):
        where = "candidates" if exc.parameter == "candidates" else f"candidates.{exc.row}"
        if exc.parameter not in ("candidates", "parameters"):
            where = f"{where}.{exc.parameter}"
        errors = {where: [exc.reason]}
    elif isinstance(exc, OutsideSpaceError):
        errors = {f"parameters.{exc.parameter}": [exc.reason]}
    elif isinstance(exc, InvalidObservationError):
        errors = {exc.field: [exc.reason]}
    elif isinstance(exc, SpaceError):
        errors = {field_path(exc.field or "parameters"): [str(exc)]}
    elif isinstance(exc, CampaignError):
        errors = exc.errors
    elif isinstance(exc, SpaceTooLargeError):
        errors = {"parameters": [str(exc)]}
    else:
        errors = {"body": [str(exc)]}
    return problem(
        422, "Unprocessable Entity", _summary(errors), errors=errors, kind="validation-error"
    )


def to_problem(exc: BaseException) -> Response:
    """Map any exception to its problem+json response (the one place that does)."""
    if isinstance(exc, ApiProblem):
        return render(exc)
    if isinstance(exc, HTTPException):
        data = getattr(exc, "data", None) or {}
        errors = _webargs_errors(data) if data else {}
        # Keep what the HTTP error itself says (e.g. Allow on a 405), but not its HTML type.
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        if exc.code == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="kiln"')
        detail = data.get("message") or (
            _summary(errors) if errors else exc.description or exc.name
        )
        kind = "validation-error" if exc.code == 422 else None
        return problem(exc.code or 500, exc.name, detail, errors=errors, kind=kind, headers=headers)
    if isinstance(exc, ValidationError):
        errors = flatten_messages(exc.messages)
        return problem(
            422, "Unprocessable Entity", _summary(errors), errors=errors, kind="validation-error"
        )
    if isinstance(exc, KilnError):
        return _kiln_error(exc)
    if isinstance(exc, NotFound):
        return problem(404, "Not Found", str(exc), kind="not-found")
    if isinstance(exc, NameTaken):
        errors = {"name": [f"{exc.name!r} is taken by the {exc.what} {exc.existing_id}"]}
        return problem(409, "Conflict", str(exc), errors=errors, kind="name-taken")
    if isinstance(exc, ProposalNotPending):
        return problem(409, "Conflict", str(exc), kind="proposal-not-pending")
    if isinstance(exc, SampleConflict):
        errors = {
            "sample_id": [
                f"{sid}: already stored with a different payload" for sid in exc.sample_ids
            ]
        }
        return problem(409, "Conflict", str(exc), errors=errors, kind="sample-conflict")
    if isinstance(exc, UnknownReference):
        return problem(
            422, "Unprocessable Entity", _summary(exc.errors), errors=exc.errors,
            kind="validation-error",
        )  # fmt: skip
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError | BrokerError):
        current_app.logger.warning("store unavailable: %s", exc)
        retry = str(current_app.config.get("KILN_RETRY_AFTER_S", 5))
        return problem(
            503,
            "Service Unavailable",
            f"the store (Redis) does not answer{_nothing_stored()}; retry later",
            kind="store-unavailable",
            headers={"Retry-After": retry},
        )
    current_app.logger.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal Server Error", "an unexpected error occurred; see the logs")


def init_app(app: Flask) -> None:
    """Route every exception through `to_problem`: never an HTML error page."""
    app.register_error_handler(Exception, to_problem)
    app.register_error_handler(HTTPException, to_problem)
