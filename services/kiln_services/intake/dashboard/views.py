"""Dashboard pages, sign-in, the read-only API relay, the result actions and the plotly.js bundle."""

from __future__ import annotations

import functools
import hmac
import json
import re
import secrets
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.test import EnvironBuilder

from kiln_services.intake.dashboard.furnace import furnace_words

bp = Blueprint(
    "dashboard",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/ui/static",
)

#: Endpoints the bearer-token hook lets through: they check the session themselves.
ENDPOINTS = (
    "index", "login", "logout", "campaign", "state", "relay", "result_action", "plotly_js", "static",
)  # fmt: skip
#: API paths the relay forwards (GET only): letters, digits and - _ . / but never "..".
_RELAYABLE = re.compile(r"^(campaigns|jobs)(/[A-Za-z0-9_.\-]+)*$")
#: One result (its history): a sample id may hold any character.
_RELAYABLE_RESULT = re.compile(r"^campaigns/[A-Za-z0-9_\-]+/results/.+$")
_PASSED_HEADERS = ("Content-Type", "ETag", "Cache-Control", "Content-Disposition", "Retry-After")
_NO_STORE = {"Cache-Control": "no-store"}
_SECURITY_HEADERS = {
    # plotly styles its SVG inline; nothing else is inline and nothing comes from elsewhere.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@bp.after_request
def _harden(response: Response) -> Response:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def api_get(path: str, token: str, query: str | bytes = "") -> Response:
    """GET /api/v1/<path> in-process with the token, as the API itself would answer it."""
    return api_call("GET", path, token, query)


def api_call(
    method: str,
    path: str,
    token: str,
    query: str | bytes = "",
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Send one request to /api/v1/<path> in-process with the token (its scope checked there).

    A fresh app context keeps the inner request's `g` apart from the page's.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    builder = EnvironBuilder(
        path=f"/api/v1/{quote(path, safe='/')}",  # the builder decodes it once
        method=method,
        query_string=query.decode("latin-1") if isinstance(query, bytes) else query,
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            **(headers or {}),
        },
        json=body,
        environ_base={"REMOTE_ADDR": request.remote_addr or "127.0.0.1"},
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    with app.app_context():
        return Response.from_app(app.wsgi_app, environ, buffered=True)


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf": _csrf_token()}


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not hmac.compare_digest(sent, str(session.get("csrf", ""))):
        abort(400, description="the form expired; reload the page and try again")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for(".index")


def _signed_out(next_path: str | None = None) -> Response:
    session.pop("token", None)
    return redirect(url_for(".login", next=next_path))  # type: ignore[return-value]


def _with_token(anonymous: Callable[[], Any]) -> Callable[[Callable[..., Any]], Any]:
    """Give the view the session's token (as `token`); without one, answer `anonymous()`.

    The one place the dashboard reads who is signed in; the API then checks the token itself.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = session.get("token")
            return view(*args, token=token, **kwargs) if token else anonymous()

        return wrapper

    return decorate


def _sign_in_again() -> Response:
    return _problem(401, "Unauthorized", "sign in again")


def _this_page_signed_out() -> Response:
    return _signed_out(request.full_path.rstrip("?"))


@bp.get("/")
@_with_token(_signed_out)
def index(token: str) -> Any:
    """Show the campaigns."""
    answer = api_get("campaigns", token, "limit=1000")
    if answer.status_code == 401:
        return _signed_out()
    body = answer.get_json(silent=True) or {}
    if answer.status_code != 200:
        return render_template("error.html", problem=body), answer.status_code
    return render_template("index.html", campaigns=body.get("items", []))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in with a token (kept in the signed session cookie)."""
    error = None
    status = 200
    if request.method == "POST":
        _check_csrf()
        token = request.form.get("token", "").strip()
        answer = api_get("campaigns", token, "limit=1") if token else None
        # 403: a valid token limited to one campaign (the listing is not its to read).
        if answer is not None and answer.status_code in (200, 403):
            session.clear()
            session.permanent = True
            session["token"] = token
            return redirect(_safe_next(request.args.get("next")))
        status = 401
        if answer is None:
            error = "Enter a token."
        elif answer.status_code == 401:
            error = "That token is unknown or has been revoked."
        else:
            error = f"The server could not check the token (HTTP {answer.status_code})."
    return render_template("login.html", error=error), status


@bp.post("/logout")
def logout() -> Any:
    """Sign out."""
    _check_csrf()
    session.clear()
    return redirect(url_for(".login"))


@bp.get("/campaigns/<campaign_id>")
@_with_token(_this_page_signed_out)
def campaign(campaign_id: str, token: str) -> Any:
    """Show one campaign; its charts and tables update while it runs."""
    answer = api_get(f"campaigns/{campaign_id}", token)
    if answer.status_code == 401:
        return _this_page_signed_out()
    body = answer.get_json(silent=True) or {}
    if answer.status_code != 200:
        return render_template("error.html", problem=body), answer.status_code
    return render_template("campaign.html", campaign=body, words=furnace_words(body, None))


@bp.get("/ui/campaigns/<campaign_id>/state")
@_with_token(_sign_in_again)
def state(campaign_id: str, token: str) -> Any:
    """The campaign, its latest batch and model in one read (none yet is null, not a 404)."""
    answer = api_get(f"campaigns/{campaign_id}", token)
    if answer.status_code != 200:
        return _passed(answer)
    latest = api_get(f"campaigns/{campaign_id}/proposals/latest", token)
    model = api_get(f"campaigns/{campaign_id}/model", token)
    for part in (latest, model):
        if part.status_code not in (200, 404):
            return _passed(part)
    # Every proposal in flight, whichever batch it came from (older servers cannot list them).
    pending = api_get(f"campaigns/{campaign_id}/proposals", token, "status=pending&limit=500")
    body = {
        "campaign": answer.get_json(),
        "latest": body_of(latest),
        "etag": latest.headers.get("ETag"),
        "model": model.get_json() if model.status_code == 200 else None,
        "pending": pending.get_json() if pending.status_code == 200 else None,
        "features": {"slice": _has_api_route("/model/slice")},
        "words": furnace_words(answer.get_json(), body_of(latest)),
    }
    return Response(json.dumps(body), mimetype="application/json", headers=_NO_STORE)


def body_of(answer: Response) -> Any:
    """A 200 answer's JSON, else None."""
    return answer.get_json() if answer.status_code == 200 else None


def _has_api_route(suffix: str) -> bool:
    return any(
        rule.rule.startswith("/api/v1/") and rule.rule.endswith(suffix)
        for rule in current_app.url_map.iter_rules()
    )


@bp.get("/ui/api/<path:path>")
@_with_token(_sign_in_again)
def relay(path: str, token: str) -> Any:
    """Forward a read of the API with the session's token (the page never holds the token)."""
    if not (_RELAYABLE.match(path) or _RELAYABLE_RESULT.match(path)) or ".." in path:
        return _problem(404, "Not Found", "not an API path the dashboard reads")
    return _passed(api_get(path, token, request.query_string))


@bp.post("/ui/campaigns/<campaign_id>/results/<path:sample_id>/excluded")
@_with_token(_sign_in_again)
def result_action(campaign_id: str, sample_id: str, token: str) -> Any:
    """Exclude a result (``excluded=true``) or take it back, with the reason the person gave.

    A form post carrying the session's CSRF token, forwarded as the API's PATCH with the
    session's bearer token: the API checks its scope (write) and campaign, validates the reason
    and appends the revision. Its answer (the result view, or a problem) is passed back.
    """
    _check_csrf()
    excluded = request.form.get("excluded", "")
    if excluded not in ("true", "false"):
        return _problem(422, "Unprocessable Entity", "excluded: expected true or false")
    # The revision the page showed: a result corrected meanwhile is refused (412), not overwritten.
    match = request.form.get("if_match")
    headers = {"If-Match": match} if match else {}
    body = {"excluded": excluded == "true", "reason": request.form.get("reason", "")}
    path = f"campaigns/{campaign_id}/results/{sample_id}"
    return _passed(api_call("PATCH", path, token, body=body, headers=headers))


def _passed(answer: Response) -> Response:
    out = Response(answer.get_data(), status=answer.status_code)
    for name in _PASSED_HEADERS:
        if name in answer.headers:
            out.headers[name] = answer.headers[name]
    out.headers.setdefault("Cache-Control", "no-store")
    return out


@bp.get("/ui/plotly.min.js")
def plotly_js() -> Any:
    """Serve the plotly.js bundle shipped inside the `plotly` wheel (labs may be offline)."""
    bundle = resources.files("plotly") / "package_data" / "plotly.min.js"
    with resources.as_file(bundle) as path:
        if not path.is_file():
            abort(404, description="the plotly package has no bundled plotly.min.js")
        return send_file(path, mimetype="text/javascript", max_age=86400, conditional=True)


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": {}}
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")
