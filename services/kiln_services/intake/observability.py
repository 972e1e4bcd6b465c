"""Per request: a request id, one access log line and the request metrics.

The id comes from the client's `X-Request-ID` when it is sane (at most 128 characters of
letters, digits and ``_ . : + = / -``), else it is generated. It is sent back in `X-Request-ID`,
put in problem+json bodies, bound to every log line of the request and sent with every task the
request enqueues (`task_headers`), so the worker's lines carry it too. The access line names the
token by its name, never the secret.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler, has_level_handler

from kiln_services import logs, task_names
from kiln_services.intake import metrics

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9_.:+=/-]{1,128}")

#: Named as before the services moved under kiln_services: log queries select on this name.
access_log = logging.getLogger("intake.access")


def request_id_from(value: str | None) -> str:
    """The client's request id if it is sane, else a new one (32 hex digits)."""
    if value and _SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return g.get("request_id") if has_request_context() else None


def task_headers() -> dict[str, str]:
    """Message headers for a task enqueued now: the request id and the URL's campaign."""
    if not has_request_context():
        return {}
    pairs = (
        (task_names.REQUEST_ID_HEADER, g.get("request_id")),
        (task_names.CAMPAIGN_ID_HEADER, (request.view_args or {}).get("campaign_id")),
    )
    return {name: str(value) for name, value in pairs if value is not None}


def begin() -> None:
    """before_request (the first): start the clock, settle the request id, bind it to the logs."""
    g.started = time.monotonic()
    g.request_id = request_id_from(request.headers.get(HEADER))
    g.log_token = logs.bind(request_id=g.request_id)


def finish(response: Response) -> Response:
    """after_request (the last): echo the id, count the request, write the access line."""
    response.headers[HEADER] = g.get("request_id") or request_id_from(None)
    seconds = time.monotonic() - g.get("started", time.monotonic())
    route = request.url_rule.rule if request.url_rule is not None else None
    metrics.observe(request.method, route, response.status_code, seconds)
    record = g.get("token")
    name = record.get("name", "?") if record else "-"
    access_log.info(
        "%s %s %s token=%s %.1fms",
        request.method,
        request.path,
        response.status_code,
        name,
        seconds * 1000,
        extra={
            "method": request.method,
            "path": request.path,
            "route": route or metrics.UNMATCHED,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
            "token_name": name,
        },
    )
    return response


def end(exc: BaseException | None = None) -> None:
    """teardown_request: unbind the request id from the logs."""
    token = g.pop("log_token", None)
    if token is not None:
        logs.unbind(token)


def init_app(app: Flask) -> None:
    """Install the hooks; call before any other extension adds its own."""
    if access_log.level == logging.NOTSET:
        access_log.setLevel(logging.INFO)
    # Unless logging is configured, give the access lines Flask's own handler (as Flask does for
    # the app's logger), so they are written, not dropped as below WARNING.
    if not has_level_handler(access_log):
        access_log.addHandler(default_handler)
    app.before_request(begin)
    app.after_request(finish)
    app.teardown_request(end)
