"""What the client raises: one base class, with the problem+json an API error carried."""

from __future__ import annotations

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
        kind = AuthError if response.status_code in (401, 403) else cls
        return kind(
            response.status_code,
            title,
            None if detail is None else str(detail),
            errors=errors,
            method=method,
            path=path,
            body=body,
            hint=hint,
        )


class AuthError(KilnAPIError):
    """The server refused the token (401) or its scope (403)."""
