"""Idempotency-Key for every POST but results (which are idempotent by sample_id), and for a
result's correction (PATCH; the store also keeps the key with the revision, see `claimed_key`).

A client that retries a POST with the same `Idempotency-Key` header and the same body gets the
original response replayed (status, body, Location; marked `Idempotent-Replayed: true`) and the
request is not repeated; the same key with a different body is a 409. Keys are scoped per token
and kept for KILN_IDEMPOTENCY_TTL_S (24 h). Only successful (2xx) responses are kept: after a 4xx
or 5xx the key is free again, so a corrected request can reuse it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import redis
from flask import Flask, Response, current_app, g, request

from kiln_services.intake.auth import principal
from kiln_services.intake.errors import ApiProblem
from kiln_services.intake.extensions import get_store

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Results are idempotent by sample_id (DESIGN.md); every other POST takes the header.
EXEMPT_ENDPOINTS = frozenset({"results.Results"})
# The other methods that take the header, on these endpoints only.
KEYED_ENDPOINTS = {"PATCH": frozenset({"results.Result"})}
MAX_KEY_LENGTH = 255
_KEPT_HEADERS = ("Content-Type", "Location")
# The 409s of a key already seen: (detail, message for the header, kind, headers).
_CONFLICTS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "mismatch": (
        f"this {HEADER} was used for a different request; use a new key for a new request",
        "already used with a different body or URL",
        "idempotency-key-reused",
        {},
    ),
    "in_progress": (
        f"a request with this {HEADER} is still being processed; retry shortly",
        "in progress",
        "idempotency-key-in-progress",
        {"Retry-After": "1"},
    ),
}


def request_fingerprint() -> str:
    """What identifies the current request: method, path, query, media type and (JSON) body."""
    raw = request.get_data(cache=True)
    body: Any
    try:
        # The same JSON document, whatever its key order or spacing, is the same request.
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = hashlib.sha256(raw).hexdigest()
    text = "\n".join(
        [
            request.method,
            request.path,
            request.query_string.decode("latin-1"),
            request.mimetype,
            body,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def scope_key(key: str) -> str:
    """The client's key scoped to the request's token (a digest; the key itself is not stored)."""
    return hashlib.sha256(f"{principal()}\n{key}".encode()).hexdigest()


def check_key() -> Response | None:
    """before_request (after auth): replay, refuse, or let the request run and remember it."""
    if request.method == "POST":
        if request.endpoint in EXEMPT_ENDPOINTS:
            return None
    elif request.endpoint not in KEYED_ENDPOINTS.get(request.method, ()):
        return None
    if request.endpoint is None or principal() is None:
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise ApiProblem(
            400,
            "Bad Request",
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            errors={HEADER: ["1 to 255 printable ASCII characters, e.g. a UUID"]},
            kind="bad-idempotency-key",
        )
    scoped, fingerprint = scope_key(key), request_fingerprint()
    config = current_app.config
    state, saved = get_store().idempotency.begin(
        scoped, fingerprint, int(config["KILN_IDEMPOTENCY_LOCK_S"])
    )
    if state == "replay":
        assert saved is not None
        response = current_app.response_class(saved["body"], status=saved["status"])
        for name, value in saved["headers"].items():
            response.headers[name] = value
        response.headers[REPLAYED] = "true"
        return response
    if state in _CONFLICTS:
        detail, message, kind, headers = _CONFLICTS[state]
        raise ApiProblem(
            409, "Conflict", detail, errors={HEADER: [message]}, kind=kind, headers=headers
        )
    g.idempotency = (scoped, fingerprint)
    return None


def claimed_key() -> str | None:
    """The scoped Idempotency-Key this request runs under, if any (a store write may keep it, so
    that a retry after a crash between that write and `remember` applies nothing twice)."""
    claimed = g.get("idempotency")
    return None if claimed is None else str(claimed[0])


def remember(response: Response) -> Response:
    """after_request: keep a successful response for replays; free the key otherwise."""
    claimed = g.pop("idempotency", None)
    if claimed is None:
        return response
    scoped, fingerprint = claimed
    store = get_store()
    saved: dict[str, Any] = {}
    ttl = 0
    if 200 <= response.status_code < 300:
        headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
        saved = {
            "status": response.status_code,
            "headers": headers,
            "body": response.get_data(as_text=True),
        }
        ttl = int(current_app.config["KILN_IDEMPOTENCY_TTL_S"])
    try:
        if 200 <= response.status_code < 300:
            store.idempotency.save(scoped, fingerprint, saved, ttl)
        else:
            store.idempotency.release(scoped, fingerprint)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # The request itself is done; only its replay is lost (the in-progress mark expires).
        current_app.logger.warning("could not record an idempotent response: %s", exc)
    return response


def init_app(app: Flask) -> None:
    """Install the hooks; call after auth.init_app so the token is known."""
    app.before_request(check_key)
    app.after_request(remember)
