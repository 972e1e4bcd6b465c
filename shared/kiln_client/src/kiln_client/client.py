"""A Python client of Kiln's v1 HTTP API, for LIMS and instrument integrations (requests only).

    from kiln_client.client import Client

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

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

from kiln_client.csvtext import csv_chunks, read_text
from kiln_client.errors import (
    AuthError,
    ClientError,
    ConnectionFailed,
    JobFailed,
    KilnAPIError,
    WaitTimeout,
)
from kiln_client.payloads import (
    Batch,
    Campaign,
    Candidate,
    CandidatesAdded,
    CandidatesRemoved,
    Counts,
    Job,
    Latest,
    ModelInfo,
    Proposal,
    Result,
    ResultsPosted,
)
from kiln_client.transport import API_PREFIX, Transport, json_or_none

__all__ = [
    "API_PREFIX",
    "AuthError",
    "Batch",
    "Campaign",
    "Candidate",
    "CandidatesAdded",
    "CandidatesRemoved",
    "Client",
    "ClientError",
    "ConnectionFailed",
    "Counts",
    "Job",
    "JobFailed",
    "KilnAPIError",
    "Latest",
    "ModelInfo",
    "Proposal",
    "Result",
    "ResultsPosted",
    "WaitTimeout",
    "csv_chunks",
    "read_text",
]


class Client(Transport):
    """Speak to one Kiln server with one bearer token: every call of the v1 API.

    The constructor's arguments are :class:`kiln_client.transport.Transport`'s (url, token,
    timeout, retries, backoff, max_retry_after, session); ``Client.from_env()`` reads them from
    :mod:`kiln_client.settings`.
    """

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
            problem = json_or_none(response)
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
