"""A small HTTP client for Kiln's v1 API, as a lab instrument or LIMS would use it (requests only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

API_PREFIX = "/api/v1"


class InstrumentError(Exception):
    """Something the person running the instrument must fix; the message says what."""


class Unreachable(InstrumentError):
    """No Kiln server answers at the configured URL."""


class Unauthorised(InstrumentError):
    """The server refused the token (401) or its scope (403)."""


class ApiError(InstrumentError):
    """The server answered with an error (a problem+json body where it has one)."""

    def __init__(self, status: int, method: str, path: str, body: Any) -> None:
        self.status = status
        self.body = body
        detail = body
        if isinstance(body, dict):
            # problem+json: `detail` already names the first offending field and why.
            detail = body.get("detail") or body.get("errors") or body.get("title") or body
        super().__init__(f"{method} {path} -> HTTP {status}: {detail}")


class KilnClient:
    """Speak to one Kiln server with one bearer token.

    Args:
        base_url: The server's root, e.g. ``http://127.0.0.1:8000`` (the ``/api/v1`` prefix is added).
        token: A bearer token with the scopes the calls need (the admin token has them all).
        timeout: Seconds allowed for a request on top of any long-poll wait.
    """

    def __init__(self, base_url: str, token: str, *, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept"] = "application/json"

    def url(self, path: str) -> str:
        return f"{self.base_url}{API_PREFIX}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200, 201, 202),
        wait: float = 0.0,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request; raise an InstrumentError that says what to do unless status is ok."""
        try:
            response = self.session.request(
                method, self.url(path), timeout=self.timeout + wait, **kwargs
            )
        except requests.ConnectionError as exc:
            raise Unreachable(
                f"cannot reach Kiln at {self.base_url} ({exc.__class__.__name__}); "
                "is it running? Start it with `make run`, or set KILN_URL."
            ) from exc
        except requests.Timeout as exc:
            raise Unreachable(
                f"Kiln at {self.base_url} did not answer {method} {path} within "
                f"{self.timeout + wait:.0f} s"
            ) from exc
        if response.status_code in ok:
            return response
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        if response.status_code == 401:
            raise Unauthorised(
                f"Kiln at {self.base_url} refused the token (401). Set KILN_TOKEN to a valid "
                "token; `make run` prints the admin token and keeps it in var/admin_token."
            )
        if response.status_code == 403:
            raise Unauthorised(f"the token lacks the scope for {method} {path} (403): {body}")
        raise ApiError(response.status_code, method, path, body)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post_json(self, path: str, payload: Any, **kwargs: Any) -> Any:
        return self.request("POST", path, json=payload, **kwargs).json()

    # -- the calls the instrument makes -------------------------------------------------------

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign the token may read."""
        return list(_paged(self, "/campaigns"))

    def create_campaign(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self.post_json("/campaigns", body))

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        return dict(self.get_json(f"/campaigns/{campaign_id}"))

    def results(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every stored result of a campaign, following the pages."""
        return list(_paged(self, f"/campaigns/{campaign_id}/results"))

    def post_results(self, campaign_id: str, results: list[dict[str, Any]]) -> Any:
        """Store results all-or-nothing (idempotent by sample_id)."""
        return self.post_json(f"/campaigns/{campaign_id}/results", {"results": results})

    def request_batch(self, campaign_id: str) -> dict[str, Any]:
        """Ask the workers for a batch now (202 + job)."""
        return dict(self.post_json(f"/campaigns/{campaign_id}/proposals", {}))

    def latest_batch(
        self, campaign_id: str, *, etag: str | None = None, wait: float = 0.0
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The latest batch and its ETag; (None, etag) if unchanged (304) or none yet (404)."""
        headers = {"If-None-Match": etag} if etag else {}
        params = {"wait": f"{wait:g}"} if wait else {}
        response = self.request(
            "GET",
            f"/campaigns/{campaign_id}/proposals/latest",
            ok=(200, 304, 404),
            wait=wait,
            headers=headers,
            params=params,
        )
        if response.status_code == 200:
            return response.json(), response.headers.get("ETag")
        return None, etag


def _paged(client: KilnClient, path: str, page_size: int = 500) -> Iterator[dict[str, Any]]:
    """Yield the items of a listing, following `next` links or cursors when the server pages."""
    params: dict[str, Any] | None = {"limit": page_size}
    url_path: str | None = path
    while url_path is not None:
        body = client.get_json(url_path, params=params)
        if isinstance(body, list):
            yield from body
            return
        items = next(
            (body[key] for key in ("items", "results", "campaigns", "data") if key in body), []
        )
        yield from items
        nxt = body.get("next") or body.get("next_cursor")
        if not nxt or not items:
            return
        if isinstance(nxt, str) and nxt.startswith(("/", "http")):
            # A link: keep only the part after the API prefix.
            url_path = nxt.split(API_PREFIX, 1)[-1]
            params = None
        else:
            params = {"limit": page_size, "cursor": nxt}
