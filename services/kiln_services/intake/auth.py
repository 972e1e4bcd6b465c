"""Bearer-token authentication and scopes, enforced for every API view in one before_request hook.

Scopes nest: admin ⊇ write ⊇ read. A view declares what it needs with `@requires("admin")`;
otherwise reads need `read` and everything else `write`. Tokens are stored as sha256 digests and
compared in constant time; the first admin token comes from KILN_ADMIN_TOKEN or is generated once.
A read or write token may be limited to one campaign: any URL of another campaign is a 403.
The access line (intake.observability) names the request's token by its name, never the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from flask import Flask, current_app, g, request

from kiln_services.intake.errors import ApiProblem
from kiln_services.intake.extensions import get_store

SCOPES = ("read", "write", "admin")
_RANK = {name: rank for rank, name in enumerate(SCOPES)}
PUBLIC_ENDPOINTS = {
    "health.healthz",
    "health.readyz",
    "health.metrics",
    "health.openapi",
    "api-docs.openapi_json",
}

F = TypeVar("F", bound=Callable[..., Any])


def digest(token: str) -> str:
    """Return the sha256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """Return a fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def grants(have: str, need: str) -> bool:
    """Return True when scope `have` includes scope `need`."""
    return _RANK.get(have, -1) >= _RANK[need]


def requires(scope: str) -> Callable[[F], F]:
    """Declare the scope a view method needs (checked by the before_request hook)."""
    if scope not in _RANK:
        raise ValueError(f"unknown scope {scope!r}; use one of {SCOPES}")

    def mark(func: F) -> F:
        func._kiln_scope = scope  # type: ignore[attr-defined]
        return func

    return mark


def _needed_scope() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return None  # 404/405 follow
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class else view
    declared = getattr(method, "_kiln_scope", None)
    if declared:
        return declared
    return "read" if request.method in ("GET", "HEAD", "OPTIONS") else "write"


def _unauthorised(detail: str) -> ApiProblem:
    return ApiProblem(
        401,
        "Unauthorized",
        detail,
        kind="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="kiln"'},
    )


def identify(header: str | None) -> dict[str, Any]:
    """Return the token record for an Authorization header, or raise a 401 problem."""
    if not header or not header.startswith("Bearer "):
        raise _unauthorised("send 'Authorization: Bearer <token>'")
    token = header[len("Bearer ") :].strip()
    if not token:
        raise _unauthorised("send 'Authorization: Bearer <token>'")
    presented = digest(token)
    admin = current_app.config.get("KILN_ADMIN_TOKEN")
    if admin and hmac.compare_digest(presented, digest(admin)):
        return {"id": "env", "scope": "admin", "name": "KILN_ADMIN_TOKEN", "digest": presented}
    record = get_store().tokens.get(presented)
    if record is None or not hmac.compare_digest(presented, record["digest"]):
        raise _unauthorised("the token is unknown or revoked")
    return record


def authorise() -> None:
    """before_request: authenticate and check the scope of every non-public API request."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return
    need = _needed_scope()
    if need is None:
        return
    bootstrap_admin(current_app)
    record = identify(request.headers.get("Authorization"))
    if not grants(record["scope"], need):
        raise ApiProblem(
            403,
            "Forbidden",
            f"this call needs the {need!r} scope; the token has {record['scope']!r}",
            kind="forbidden",
        )
    limited = record.get("campaign_id")
    wanted = (request.view_args or {}).get("campaign_id")
    if limited and wanted is not None and wanted != limited:
        raise ApiProblem(
            403,
            "Forbidden",
            f"this token ({record.get('name')!r}) is limited to campaign {limited!r}",
            kind="forbidden",
        )
    g.token = record


def check_campaign(campaign_id: str | None) -> None:
    """403 when the request's token is limited to a campaign other than `campaign_id`."""
    record = getattr(g, "token", None) or {}
    limited = record.get("campaign_id")
    if limited and campaign_id != limited:
        raise ApiProblem(
            403,
            "Forbidden",
            f"this token ({record.get('name')!r}) is limited to campaign {limited!r}",
            kind="forbidden",
        )


def principal() -> str | None:
    """A stable, non-secret id of the request's token (its digest), for per-token state."""
    record = getattr(g, "token", None)
    return None if record is None else str(record["digest"])


def bootstrap_admin(app: Flask) -> None:
    """Without KILN_ADMIN_TOKEN, generate the first admin token once and log it once.

    SET NX in Redis makes exactly one process (of all gunicorn workers) generate it.
    """
    state = app.extensions.setdefault("kiln_auth", {"bootstrapped": False})
    if state["bootstrapped"] or app.config.get("KILN_ADMIN_TOKEN"):
        return
    token = new_token()
    if app.extensions["kiln_store"].tokens.bootstrap_admin(digest(token)):
        app.logger.warning(
            "KILN_ADMIN_TOKEN is not set: generated the first admin token (shown once, "
            "keep it now; only its hash is stored): %s",
            token,
        )
    state["bootstrapped"] = True


def init_app(app: Flask) -> None:
    """Install the auth hook; try the admin bootstrap now (again at first request if Redis is away)."""
    app.before_request(authorise)
    try:
        bootstrap_admin(app)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        app.logger.warning("admin token bootstrap deferred, Redis unavailable: %s", exc)
