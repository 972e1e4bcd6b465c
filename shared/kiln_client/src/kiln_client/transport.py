"""The HTTP side of the client: one session and token, retries, Retry-After, problem+json errors."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Self

import requests

from kiln_client import settings
from kiln_client.errors import ClientError, ConnectionFailed, KilnAPIError

API_PREFIX = "/api/v1"
#: Methods that can be repeated after a lost connection without doing the work twice.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


class Transport:
    """One Kiln server and one bearer token: requests with retries, answers or ClientErrors.

    :class:`kiln_client.client.Client` adds the API's calls on top.

    Args:
        url: The server's root, e.g. ``http://127.0.0.1:8000`` (``/api/v1`` is added).
        token: A bearer token with the scopes the calls need (read, write or admin).
        timeout: Seconds allowed for one request, on top of any long-poll wait.
        retries: How many times a 503, a 429 or (for safe calls) a lost connection is retried.
        backoff: First pause (s) after a lost connection; it doubles per attempt.
        max_retry_after: Upper bound (s) on one pause asked for by ``Retry-After``.
        session: A ``requests.Session`` to use (e.g. with custom adapters or proxies).
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 15.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers.setdefault("Accept", "application/json")
        self.sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_env(cls, **options: Any) -> Self:
        """A client for ``KILN_URL`` with ``KILN_TOKEN``, as :mod:`kiln_client.settings` finds them.

        Args:
            **options: Passed to :class:`Client` (timeout, retries, ...).

        Raises:
            ClientError: When no token is found.
        """
        token = settings.resolve_token()
        if not token:
            raise ClientError(settings.missing_token_hint())
        return cls(settings.default_url(), token, **options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"  # never the token

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """The absolute URL of an API path (``/campaigns``) or of a server link (``/api/v1/...``)."""
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith(API_PREFIX + "/") or path == API_PREFIX:
            return f"{self.base_url}{path}"
        return f"{self.base_url}{API_PREFIX}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        wait: float = 0.0,
        idempotency_key: str | None = None,
        retry_connection: bool | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one API request with retries; return the response or raise a ClientError.

        Args:
            method: HTTP method.
            path: API path (``/campaigns/ID``); the ``/api/v1`` prefix is added.
            ok: Statuses returned rather than raised.
            wait: Seconds the server may hold the request (long-poll), added to the timeout.
            idempotency_key: For POSTs; a fresh uuid4 when not given, kept across retries.
            retry_connection: Retry after a lost connection (default: yes; POSTs are deduplicated
                by their Idempotency-Key). False for calls that must not be repeated.
            headers: Extra headers.
            **kwargs: Passed to ``requests.Session.request`` (json, data, params).
        """
        method = method.upper()
        sent = dict(headers or {})
        if method == "POST":
            sent.setdefault("Idempotency-Key", idempotency_key or str(uuid.uuid4()))
        if retry_connection is None:
            retry_connection = method in SAFE_METHODS or "Idempotency-Key" in sent
        url = self.url(path)
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method, url, headers=sent, timeout=self.timeout + wait, **kwargs
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if retry_connection and attempt < self.retries:
                    self.sleep(min(self.backoff * 2**attempt, self.max_retry_after))
                    attempt += 1
                    continue
                raise self._unreachable(method, path, exc, wait) from exc
            # 503: the store is away; 429: too many long-polls wait. Neither did anything.
            if response.status_code in (429, 503) and attempt < self.retries:
                self.sleep(self._retry_after(response, attempt))
                attempt += 1
                continue
            if _in_progress(response) and attempt < self.retries:
                # An earlier attempt under this key still runs on the server: wait for its answer.
                self.sleep(min(self.backoff * 2**attempt, self.max_retry_after))
                attempt += 1
                continue
            if response.status_code in ok:
                return response
            raise KilnAPIError.from_response(
                response, method, path, hint=self._hint(response.status_code)
            )

    def _retry_after(self, response: requests.Response, attempt: int) -> float:
        value = response.headers.get("Retry-After", "")
        seconds: float
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError, IndexError):
                seconds = self.backoff * 2**attempt
        return max(0.0, min(seconds, self.max_retry_after))

    def _unreachable(self, method: str, path: str, exc: Exception, wait: float) -> ConnectionFailed:
        if isinstance(exc, requests.Timeout) and not isinstance(exc, requests.ConnectTimeout):
            return ConnectionFailed(
                f"Kiln at {self.base_url} did not answer {method} {path} within "
                f"{self.timeout + wait:.0f} s"
            )
        return ConnectionFailed(
            f"cannot reach Kiln at {self.base_url} ({exc.__class__.__name__}); is the server "
            "running and the URL right? Locally, start it with `make run`; elsewhere set "
            "KILN_URL or --url."
        )

    def _hint(self, status: int) -> str | None:
        if status == 401:
            return (
                "Set KILN_TOKEN (or --token) to a valid token; `make run` prints the admin token "
                "and keeps it in var/admin_token"
            )
        if status == 403:
            return "ask an admin for a token with that scope (POST /api/v1/tokens)"
        return None

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET a path and decode its JSON body."""
        return self.request("GET", path, **kwargs).json()

    def post_json(self, path: str, payload: Any, **kwargs: Any) -> Any:
        """POST a JSON body and decode the JSON answer."""
        return self.request("POST", path, json=payload, **kwargs).json()

    def paged(
        self, path: str, *, page_size: int = 500, query: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield the items of a paged listing, following its ``next`` links."""
        link: str | None = path
        params: dict[str, Any] | None = {**(query or {}), "limit": page_size}
        while link is not None:
            body = self.get_json(link, params=params)
            if isinstance(body, list):  # an unpaged listing
                yield from body
                return
            items = body.get("items") or []
            yield from items
            link = body.get("next") if items else None
            params = None  # the link carries offset and limit


def _in_progress(response: requests.Response) -> bool:
    if response.status_code != 409:
        return False
    body = json_or_none(response)
    kind = body.get("type", "") if isinstance(body, dict) else ""
    return str(kind).endswith("idempotency-key-in-progress")


def json_or_none(response: requests.Response) -> Any:
    """The decoded JSON body, or None when the body is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None
