"""What the client raises: one base class, with the problem+json an API error carried."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests

from kiln_client.payloads import Job


class ClientError(Exception):
    """Anything the client could not do; the message says what to change."""


class ConnectionFailed(ClientError):
    """No Kiln server answered at the URL (refused, unresolvable or timed out)."""


class WaitTimeout(ClientError):
    """A wait (for a batch or a job) ran out of time."""


class UnknownCampaign(ClientError):
    """No campaign the token may read has the name given (the message lists close names)."""


class AmbiguousCampaign(ClientError):
    """More than one campaign has the name given (the message lists their ids)."""


class JobFailed(ClientError):
    """A background job ended in the failed state."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__(f"job {job.get('id')} ({job.get('kind')}) failed: {job.get('error')}")


class KilnAPIError(ClientError):
    """The server answered with an error (``application/problem+json``).

    Attributes:
        status: The HTTP status.
        title: The problem's title (e.g. "Unprocessable Entity").
        detail: The human explanation, naming the first offending field.
        errors: Field path (e.g. ``results.2.objective``) to messages.
        body: The decoded body (a dict for problems, else the text).
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: Mapping[str, list[str]] | None = None,
        method: str = "",
        path: str = "",
        body: Any = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = dict(errors or {})
        self.method = method
        self.path = path
        self.body = body
        where = f"{method} {path} -> " if method else ""
        message = f"{where}HTTP {status} {title}"
        if detail and detail != title:
            message += f": {detail}"
        if hint:
            message += f". {hint}"
        super().__init__(message)

    @classmethod
    def from_response(
        cls, response: requests.Response, method: str, path: str, hint: str | None = None
    ) -> KilnAPIError:
        """Build the error from a response, problem+json or not."""
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        if isinstance(body, dict):
            title = str(body.get("title") or response.reason or "Error")
            detail = body.get("detail")
            raw = body.get("errors") or {}
            errors = {
                str(k): [str(m) for m in (v if isinstance(v, list) else [v])]
                for k, v in (raw.items() if isinstance(raw, dict) else [])
            }
        else:
            title, detail, errors = response.reason or "Error", body or None, {}
        details: dict[str, Any] = {
            "errors": errors,
            "method": method,
            "path": path,
            "body": body,
            "hint": hint,
        }
        text = None if detail is None else str(detail)
        if response.status_code == 412:
            etag = response.headers.get("ETag")
            revision = _current_revision(body, etag)
            return StaleResult(
                412, title, text, current_revision=revision, current_etag=etag, **details
            )
        kind = AuthError if response.status_code in (401, 403) else cls
        return kind(response.status_code, title, text, **details)


class AuthError(KilnAPIError):
    """The server refused the token (401) or its scope (403)."""


class StaleResult(KilnAPIError):
    """The result changed since its ETag was read (412 on ``If-Match``); nothing was stored.

    Attributes:
        current_revision: The result's revision now (None when the server did not say).
        current_etag: Its ETag now, to send with ``if_match`` after reading it again.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        current_revision: int | None = None,
        current_etag: str | None = None,
        hint: str | None = None,
        **details: Any,
    ) -> None:
        self.current_revision = current_revision
        self.current_etag = current_etag
        now = "changed" if current_revision is None else f"is at revision {current_revision}"
        advice = (
            f"someone corrected this result since you read it: it {now}; read it again "
            "(`kiln results history`) and correct that revision"
        )
        super().__init__(status, title, detail, hint=advice, **details)


def _current_revision(body: Any, etag: str | None) -> int | None:
    """The revision a 412 names: a field of its body, else its ETag (``"S-1:3"``), else its text."""
    if isinstance(body, dict):
        for key in ("current_revision", "revision"):
            if isinstance(body.get(key), int):
                return int(body[key])
    found = re.search(r':(\d+)"?$', etag or "") or re.search(
        r"revision\D{0,3}(\d+)", str(body.get("detail") if isinstance(body, dict) else body)
    )
    return int(found.group(1)) if found else None
