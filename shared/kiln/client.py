"""A Python client of Kiln's v1 HTTP API, for LIMS and instrument integrations (requests only).

    from kiln.client import Client

    kiln = Client("http://kiln.lab:8000", token="...")
    campaign = kiln.create_campaign(preset="latp", name="latp-2026")
    kiln.post_results(campaign["id"], [{"sample_id": "S-1", "parameters": {...}, "objective": 1e-4}])
    batch = kiln.wait_for_proposals(campaign["id"])
    for proposal in batch["proposals"]:
        print(proposal["id"], proposal["parameters"])

Every POST carries an ``Idempotency-Key`` (a fresh uuid4 unless given). A 503 (the store is
restarting) or a 429 (too many clients long-poll at once) is retried after the server's
``Retry-After`` (bounded). A lost connection is retried
too, with backoff: reads and deletes are safe to repeat, result posts are deduplicated by
``sample_id``, and the server replays any other POST it already did under the same key (a retry
that arrives while the first attempt still runs waits for it). Errors are ``application/problem+json`` on the server and
:class:`KilnAPIError` here, with the status, title, detail and the field-level errors.

Return values are plain JSON dicts typed with ``TypedDict`` (so they print and serialise as is).
"""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any, TypedDict, cast

import requests

API_PREFIX = "/api/v1"
#: Methods that can be repeated after a lost connection without doing the work twice.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


# -- typed payloads -------------------------------------------------------------------------------


class Counts(TypedDict, total=False):
    """How much a campaign holds."""

    results: int
    proposals_pending: int
    proposals: int
    batches: int
    model_version: int | None


class Campaign(TypedDict, total=False):
    """A campaign as the server returns it."""

    id: str
    name: str
    description: str
    parameters: list[dict[str, Any]]
    objective: dict[str, Any]
    strategy: dict[str, Any]
    space_version: int
    created_at: str
    updated_at: str
    counts: Counts


class Result(TypedDict, total=False):
    """One stored measurement."""

    sample_id: str
    parameters: dict[str, Any]
    objective: float | None
    measurements: dict[str, Any]
    status: str
    proposal_id: str | None
    matched_proposal_id: str | None
    measured_at: str | None
    instrument: str | None
    flags: list[str]
    space_version: int
    received_at: str


class ResultsPosted(TypedDict, total=False):
    """The answer to a results post."""

    stored: int
    duplicates: int
    data_version: int
    flags: list[dict[str, Any]]
    measured_proposals: list[str]
    refit_enqueued: bool


class Candidate(TypedDict, total=False):
    """One row of a campaign's candidate pool, with its status.

    ``status`` is open, pending, measured, removed or outside; a removed row carries the
    ``reason`` and ``removed_at`` of its removal, an outside row the ``parameter`` the current
    space excludes and the ``reason``.
    """

    id: int
    parameters: dict[str, Any]
    status: str
    parameter: str
    reason: str
    removed_at: str


class CandidatesAdded(TypedDict, total=False):
    """The answer to adding candidates: the new rows' ids and the pool's new space version."""

    added: int
    ids: list[int]
    total: int
    space_version: int


class CandidatesRemoved(TypedDict, total=False):
    """The answer to removing candidates."""

    removed: list[int]
    already_removed: list[int]
    withdrawn_proposals: list[str]
    space_version: int


class Proposal(TypedDict, total=False):
    """One proposed experiment."""

    id: str
    batch_id: str
    parameters: dict[str, Any]
    predicted_mean: float | None
    predicted_std: float | None
    acquisition_value: float | None
    status: str
    model_version: int | None
    data_version: int
    space_version: int
    created_at: str
    expires_at: str | None
    withdrawn_at: str
    sample_id: str


class Batch(TypedDict, total=False):
    """A batch of proposals and the versions that made it."""

    batch_id: str
    campaign_id: str
    job_id: str | None
    created_at: str
    model_version: int | None
    data_version: int
    space_version: int
    acquisition: str
    batch_method: str
    exhausted: bool
    fallback: str | None
    proposals: list[Proposal]


class Job(TypedDict, total=False):
    """Background work: queued, running, done (with a result) or failed (with an error)."""

    id: str
    kind: str
    state: str
    campaign_id: str | None
    params: dict[str, Any]
    result: Any
    error: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    progress: dict[str, Any] | None


class ModelInfo(TypedDict, total=False):
    """The summary of a campaign's latest fitted model."""

    campaign_id: str
    model_version: int
    data_version: int
    space_version: int
    fitted_at: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class Latest:
    """The answer to one look at the latest batch: the batch (None if unchanged/none) and ETag."""

    batch: Batch | None
    etag: str | None
    changed: bool


# -- errors ---------------------------------------------------------------------------------------


class ClientError(Exception):
    """Anything the client could not do; the message says what to change."""


class ConnectionFailed(ClientError):
    """No Kiln server answered at the URL (refused, unresolvable or timed out)."""


class WaitTimeout(ClientError):
    """A wait (for a batch or a job) ran out of time."""


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


# -- the client -----------------------------------------------------------------------------------


class Client:
    """Speak to one Kiln server with one bearer token.

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
    def from_env(cls, **options: Any) -> Client:
        """A client for ``KILN_URL`` (default ``http://127.0.0.1:8000``) with ``KILN_TOKEN``.

        Args:
            **options: Passed to :class:`Client` (timeout, retries, ...).

        Raises:
            ClientError: When KILN_TOKEN is not set.
        """
        token = os.environ.get("KILN_TOKEN")
        if not token:
            raise ClientError("set KILN_TOKEN to a Kiln token (and KILN_URL to the server)")
        return cls(os.environ.get("KILN_URL") or "http://127.0.0.1:8000", token, **options)

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"  # never the token

    def close(self) -> None:
        """Close the underlying HTTP connections."""
        self.session.close()

    def __enter__(self) -> Client:
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

    # -- health ---------------------------------------------------------------------------------

    def ready(self) -> dict[str, Any]:
        """Readiness: Redis answers and a worker is alive (raises KilnAPIError 503 if not)."""
        return cast(dict[str, Any], self.get_json("/readyz"))

    # -- campaigns ------------------------------------------------------------------------------

    def list_campaigns(self) -> list[Campaign]:
        """Every campaign the token may read, oldest first."""
        return [cast(Campaign, c) for c in self.paged("/campaigns", page_size=1000)]

    def get_campaign(self, campaign_id: str) -> Campaign:
        """One campaign with its space version and counts."""
        return cast(Campaign, self.get_json(f"/campaigns/{campaign_id}"))

    def create_campaign(
        self,
        spec: Mapping[str, Any] | None = None,
        *,
        preset: str | None = None,
        name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Campaign:
        """Create a campaign from a definition (name, parameters, objective, strategy) or a preset.

        Args:
            spec: The campaign definition as in POST /campaigns.
            preset: A preset name instead (``"latp"``).
            name: Overrides the spec's or preset's name.
            idempotency_key: Sent as ``Idempotency-Key``.
        """
        body: dict[str, Any] = dict(spec or {})
        if preset:
            body["preset"] = preset
        if name:
            body["name"] = name
        if not body:
            raise ValueError("give a campaign definition or a preset")
        return cast(Campaign, self.post_json("/campaigns", body, idempotency_key=idempotency_key))

    def update_campaign(self, campaign_id: str, changes: Mapping[str, Any]) -> Campaign:
        """Change ranges (a new space version, all data kept), the strategy or the name."""
        return cast(
            Campaign,
            self.request("PATCH", f"/campaigns/{campaign_id}", json=dict(changes)).json(),
        )

    # -- results --------------------------------------------------------------------------------

    def post_results(
        self,
        campaign_id: str,
        results: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        idempotency_key: str | None = None,
    ) -> ResultsPosted:
        """Store one result or many, all-or-nothing; a repeated sample_id is a duplicate, not an error.

        Args:
            campaign_id: The campaign.
            results: One result dict or a sequence of them (sample_id, parameters, objective, ...).
            idempotency_key: Sent as ``Idempotency-Key``.
        """
        body: Any = dict(results) if isinstance(results, Mapping) else {
            "results": [dict(r) for r in results]
        }  # fmt: skip
        # Safe to repeat after a lost connection: the server deduplicates by sample_id.
        response = self.request(
            "POST",
            f"/campaigns/{campaign_id}/results",
            json=body,
            idempotency_key=idempotency_key,
            retry_connection=True,
        )
        return cast(ResultsPosted, response.json())

    def post_results_csv(
        self,
        campaign_id: str,
        source: str | bytes | Path | IO[str] | IO[bytes],
        *,
        idempotency_key: str | None = None,
    ) -> ResultsPosted:
        """Store results from CSV (a header with sample_id, the parameters and the objective).

        Args:
            campaign_id: The campaign.
            source: A path, an open file, or the CSV text itself (str or bytes).
            idempotency_key: Sent as ``Idempotency-Key``.
        """
        data = read_text(source)
        response = self.request(
            "POST",
            f"/campaigns/{campaign_id}/results",
            data=data.encode("utf-8"),
            headers={"Content-Type": "text/csv; charset=utf-8"},
            idempotency_key=idempotency_key,
            retry_connection=True,
        )
        return cast(ResultsPosted, response.json())

    def iter_results(self, campaign_id: str, *, page_size: int = 1000) -> Iterator[Result]:
        """Yield a campaign's results, oldest first, page by page."""
        for item in self.paged(f"/campaigns/{campaign_id}/results", page_size=page_size):
            yield cast(Result, item)

    def list_results(self, campaign_id: str) -> list[Result]:
        """Every result of a campaign, oldest first."""
        return list(self.iter_results(campaign_id))

    def export_results_csv(self, campaign_id: str) -> str:
        """Every result of a campaign as CSV text (the server's export)."""
        response = self.request(
            "GET",
            f"/campaigns/{campaign_id}/results",
            params={"format": "csv"},
            headers={"Accept": "text/csv"},
        )
        return response.text

    # -- candidate pools ------------------------------------------------------------------------

    def add_candidates(
        self,
        campaign_id: str,
        rows_or_csv_path: Sequence[Mapping[str, Any]] | str | os.PathLike[str],
        *,
        idempotency_key: str | None = None,
    ) -> CandidatesAdded:
        """Add rows to a campaign's candidate pool, all-or-nothing (admin token).

        One request, whatever the size: the server checks every row against the parameters and
        refuses duplicates (within the rows or of an open row of the pool); each addition is a
        new space version.

        Args:
            campaign_id: The campaign.
            rows_or_csv_path: Rows (``{parameter: value}`` each), or the path of a CSV file
                whose header holds the parameter names.
            idempotency_key: Sent as ``Idempotency-Key`` (a retry is replayed, not added twice).
        """
        path = f"/campaigns/{campaign_id}/candidates"
        if isinstance(rows_or_csv_path, str | os.PathLike):
            data = read_text(Path(rows_or_csv_path)).encode("utf-8")
            response = self.request(
                "POST",
                path,
                data=data,
                headers={"Content-Type": "text/csv; charset=utf-8"},
                idempotency_key=idempotency_key,
            )
        else:
            rows = [dict(r) for r in rows_or_csv_path]
            response = self.request("POST", path, json=rows, idempotency_key=idempotency_key)
        return cast(CandidatesAdded, response.json())

    def iter_candidates(
        self, campaign_id: str, *, status: str | None = None, page_size: int = 1000
    ) -> Iterator[Candidate]:
        """Yield a campaign's candidates in id order, page by page, optionally of one status."""
        query = {"status": status} if status else None
        path = f"/campaigns/{campaign_id}/candidates"
        for item in self.paged(path, page_size=page_size, query=query):
            yield cast(Candidate, item)

    def list_candidates(self, campaign_id: str, status: str | None = None) -> list[Candidate]:
        """Every candidate of a campaign in id order, or only those of one ``status``.

        Args:
            campaign_id: The campaign.
            status: open, pending, measured, removed or outside; None for every row.
        """
        return list(self.iter_candidates(campaign_id, status=status))

    def remove_candidates(
        self, campaign_id: str, ids: Sequence[int], reason: str
    ) -> CandidatesRemoved:
        """Take rows out of the pool for good (admin token); their pending proposals are withdrawn.

        Rows removed already are listed in ``already_removed``, so repeating the call is safe
        (it is retried after a lost connection).
        """
        response = self.request(
            "PATCH",
            f"/campaigns/{campaign_id}/candidates",
            json={"remove": [int(i) for i in ids], "reason": reason},
            retry_connection=True,
        )
        return cast(CandidatesRemoved, response.json())

    # -- proposals ------------------------------------------------------------------------------

    def request_proposals(
        self,
        campaign_id: str,
        *,
        batch_size: int | None = None,
        acquisition: str | None = None,
        batch_method: str | None = None,
        idempotency_key: str | None = None,
    ) -> Job:
        """Ask the workers for a batch now; the job to follow (see :meth:`wait_for_job`)."""
        body = {
            k: v
            for k, v in (
                ("batch_size", batch_size),
                ("acquisition", acquisition),
                ("batch_method", batch_method),
            )
            if v is not None
        }
        return cast(
            Job,
            self.post_json(
                f"/campaigns/{campaign_id}/proposals", body, idempotency_key=idempotency_key
            ),
        )

    def poll_proposals(
        self, campaign_id: str, *, etag: str | None = None, wait: float = 0.0
    ) -> Latest:
        """Look at the latest batch once; with ``etag`` and ``wait``, long-poll for a newer one.

        Returns:
            ``Latest(batch, etag, changed)``: ``batch`` is None when it is unchanged (304), there
            is none yet (404), or the server still had too many waiting clients (429) after the
            retries: the caller simply polls again.
        """
        headers = {"If-None-Match": etag} if etag else {}
        params = {"wait": f"{wait:g}"} if wait else {}
        response = self.request(
            "GET",
            f"/campaigns/{campaign_id}/proposals/latest",
            ok=(200, 304, 404, 429),
            wait=wait,
            headers=headers,
            params=params,
        )
        if response.status_code == 404:
            problem = _json_or_none(response)
            if not (isinstance(problem, dict) and problem.get("type", "").endswith("no-batch")):
                raise KilnAPIError.from_response(
                    response, "GET", f"/campaigns/{campaign_id}/proposals/latest"
                )
            return Latest(None, etag, False)
        if response.status_code == 429:
            return Latest(None, etag, False)
        new_etag = response.headers.get("ETag") or etag
        if response.status_code == 304:
            return Latest(None, new_etag, False)
        return Latest(cast(Batch, response.json()), new_etag, True)

    def latest_proposals(self, campaign_id: str) -> Batch | None:
        """The latest batch, or None when there is none yet."""
        return self.poll_proposals(campaign_id).batch

    def wait_for_proposals(
        self,
        campaign_id: str,
        *,
        etag: str | None = None,
        timeout: float = 300.0,
        wait: float = 30.0,
    ) -> Batch:
        """Long-poll until a batch other than ``etag`` exists (any batch when ``etag`` is None).

        Raises:
            WaitTimeout: Nothing new within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(
                    f"no new batch for campaign {campaign_id} within {timeout:.0f} s; is a worker "
                    "running? (GET /api/v1/readyz)"
                )
            started = time.monotonic()
            latest = self.poll_proposals(campaign_id, etag=etag, wait=min(wait, remaining))
            if latest.batch is not None:
                return latest.batch
            etag = latest.etag
            if time.monotonic() - started < 0.5:
                self.sleep(min(1.0, max(0.0, deadline - time.monotonic())))  # no batch yet: 404

    def watch_proposals(
        self, campaign_id: str, *, wait: float = 30.0, etag: str | None = None
    ) -> Iterator[Batch]:
        """Yield the latest batch, then each new batch as it appears (long-polling; endless)."""
        while True:
            started = time.monotonic()
            latest = self.poll_proposals(campaign_id, etag=etag, wait=wait if etag else 0.0)
            etag = latest.etag
            if latest.batch is not None:
                yield latest.batch
            elif time.monotonic() - started < 0.5:
                self.sleep(1.0)  # no batch yet (404 answers at once): do not spin

    def list_proposals(self, campaign_id: str, *, status: str | None = None) -> list[Proposal]:
        """The campaign's proposal ledger, oldest first; ``status="pending"`` for those in flight."""
        query = {"status": status} if status else None
        items = self.paged(f"/campaigns/{campaign_id}/proposals", page_size=500, query=query)
        return [cast(Proposal, p) for p in items]

    def withdraw_proposal(self, campaign_id: str, proposal_id: str) -> Proposal:
        """Withdraw a pending proposal (it stops counting as in flight)."""
        return cast(
            Proposal,
            self.request("DELETE", f"/campaigns/{campaign_id}/proposals/{proposal_id}").json(),
        )

    # -- jobs, models, benchmarks ---------------------------------------------------------------

    def get_job(self, job_id: str) -> Job:
        """A job's state, with its result once done."""
        return cast(Job, self.get_json(f"/jobs/{job_id}"))

    def wait_for_job(
        self,
        job_id: str,
        *,
        timeout: float = 600.0,
        interval: float = 1.0,
        on_update: Callable[[Job], None] | None = None,
    ) -> Job:
        """Poll a job until it is done; call ``on_update`` with each state seen.

        Raises:
            JobFailed: The job failed (the error says why).
            WaitTimeout: Still not done after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_job(job_id)
            if on_update is not None:
                on_update(job)
            if job.get("state") == "done":
                return job
            if job.get("state") == "failed":
                raise JobFailed(job)
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"job {job_id} is still {job.get('state')} after {timeout:.0f} s; is a "
                    "worker running? (GET /api/v1/readyz)"
                )
            self.sleep(interval)

    def model(self, campaign_id: str) -> ModelInfo:
        """The summary of the campaign's latest model (KilnAPIError 404 before the first fit)."""
        return cast(ModelInfo, self.get_json(f"/campaigns/{campaign_id}/model"))

    def predict(
        self,
        campaign_id: str,
        points: Sequence[Mapping[str, Any]],
        *,
        acquisition: str | None = None,
        kappa: float | None = None,
        xi: float | None = None,
    ) -> dict[str, Any]:
        """The latest model's mean, std and acquisition value at points (no job; a pure read).

        Returns:
            ``{"predictions": [{"parameters", "mean", "std", "acquisition_value"}, ...],
            "model_version": ..., ...}``.
        """
        body: dict[str, Any] = {"points": [dict(p) for p in points]}
        body.update(
            {k: v for k, v in (("acquisition", acquisition), ("kappa", kappa), ("xi", xi)) if v}
        )
        response = self.request(
            "POST", f"/campaigns/{campaign_id}/predict", json=body, retry_connection=True
        )
        return cast(dict[str, Any], response.json())

    def model_slice(
        self,
        campaign_id: str,
        x: str,
        y: str,
        *,
        fixed: Mapping[str, Any] | None = None,
        acquisition: str | None = None,
        points: int | None = None,
    ) -> dict[str, Any]:
        """A 2-D slice of the model's mean and acquisition over parameters ``x`` and ``y``.

        Args:
            campaign_id: The campaign.
            x: The parameter along the horizontal axis.
            y: The parameter along the vertical axis.
            fixed: Values for the other parameters (default: the best observed sample's).
            acquisition: Another acquisition function than the campaign's.
            points: Grid points per axis.

        Returns:
            ``{"x": {"name", "unit", "values"}, "y": {...}, "mean": rows, "std": rows,
            "acquisition": rows, "observations": [...], "fixed": {...}, ...}`` where
            ``rows[j][i]`` is at ``(x.values[i], y.values[j])``.
        """
        params: dict[str, Any] = {"x": x, "y": y}
        if acquisition:
            params["acquisition"] = acquisition
        if points:
            params["points"] = points
        params.update({f"fixed.{k}": v for k, v in (fixed or {}).items()})
        return cast(
            dict[str, Any], self.get_json(f"/campaigns/{campaign_id}/model/slice", params=params)
        )

    def start_benchmark(
        self, campaign_id: str, *, idempotency_key: str | None = None, **options: Any
    ) -> Job:
        """Start virtual experiments on the campaign's data; the job to follow.

        Args:
            campaign_id: The campaign.
            idempotency_key: Sent as ``Idempotency-Key``.
            **options: strategies, n_inits, repeats, noise_sd, kappa, xi, seed, chunk_size.
        """
        body = {k: v for k, v in options.items() if v is not None}
        return cast(
            Job,
            self.post_json(
                f"/campaigns/{campaign_id}/benchmarks", body, idempotency_key=idempotency_key
            ),
        )


# -- helpers --------------------------------------------------------------------------------------


def read_text(source: str | bytes | Path | IO[str] | IO[bytes]) -> str:
    """The text of a path, an open file, bytes, or a string that already is the content."""
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8-sig")
    if isinstance(source, bytes):
        return source.decode("utf-8-sig")
    if isinstance(source, str):
        return source
    data = source.read()
    return data.decode("utf-8-sig") if isinstance(data, bytes) else data


def csv_chunks(text: str, size: int) -> Iterator[tuple[str, int]]:
    """Split CSV text into CSV texts of at most ``size`` rows, each with the header.

    Yields:
        ``(csv_text, rows)`` per chunk.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    rows: list[list[str]] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        rows.append(row)
        if len(rows) >= size:
            yield _csv_text(header, rows), len(rows)
            rows = []
    if rows:
        yield _csv_text(header, rows), len(rows)


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _in_progress(response: requests.Response) -> bool:
    if response.status_code != 409:
        return False
    body = _json_or_none(response)
    kind = body.get("type", "") if isinstance(body, dict) else ""
    return str(kind).endswith("idempotency-key-in-progress")


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
