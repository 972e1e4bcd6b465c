"""Job, model and benchmark requests: follow a job, read the model, start virtual experiments."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from kiln_client.errors import JobFailed, WaitTimeout
from kiln_client.payloads import Job, ModelInfo
from kiln_client.transport import Transport


def get_job(api: Transport, job_id: str) -> Job:
    """A job's state, with its result once done."""
    return cast(Job, api.get_json(f"/jobs/{job_id}"))


def wait_for_job(
    api: Transport,
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
        job = get_job(api, job_id)
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
        api.sleep(interval)


def model(api: Transport, campaign_id: str) -> ModelInfo:
    """The summary of the campaign's latest model (KilnAPIError 404 before the first fit)."""
    return cast(ModelInfo, api.get_json(f"/campaigns/{campaign_id}/model"))


def predict(
    api: Transport,
    campaign_id: str,
    points: Sequence[Mapping[str, Any]],
    *,
    acquisition: str | None = None,
    kappa: float | None = None,
    xi: float | None = None,
    objective: str | None = None,
) -> dict[str, Any]:
    """The latest model's mean, std and acquisition value at points (no job; a pure read).

    ``objective`` names the objective whose model answers: required for a multi-objective
    campaign (whose answer has no acquisition value), optional otherwise.

    Returns:
        ``{"predictions": [{"parameters", "mean", "std", "acquisition_value"}, ...],
        "model_version": ..., ...}``.
    """
    body: dict[str, Any] = {"points": [dict(p) for p in points]}
    body.update(
        {k: v for k, v in (("acquisition", acquisition), ("kappa", kappa), ("xi", xi)) if v}
    )
    if objective is not None:
        body["objective"] = objective
    response = api.request(
        "POST", f"/campaigns/{campaign_id}/predict", json=body, retry_connection=True
    )
    return cast(dict[str, Any], response.json())


def model_slice(
    api: Transport,
    campaign_id: str,
    x: str,
    y: str,
    *,
    fixed: Mapping[str, Any] | None = None,
    acquisition: str | None = None,
    points: int | None = None,
    objective: str | None = None,
) -> dict[str, Any]:
    """A 2-D slice of the model's mean and acquisition over parameters ``x`` and ``y``.

    Args:
        campaign_id: The campaign.
        x: The parameter along the horizontal axis.
        y: The parameter along the vertical axis.
        fixed: Values for the other parameters (default: the best observed sample's).
        acquisition: Another acquisition function than the campaign's.
        points: Grid points per axis.
        objective: The objective whose model is sliced: required for a multi-objective
            campaign (then ``acquisition`` and ``acquisition_name`` are None), else optional.

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
    if objective is not None:
        params["objective"] = objective
    params.update({f"fixed.{k}": v for k, v in (fixed or {}).items()})
    return cast(
        dict[str, Any], api.get_json(f"/campaigns/{campaign_id}/model/slice", params=params)
    )


def start_benchmark(
    api: Transport, campaign_id: str, *, idempotency_key: str | None = None, **options: Any
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
        api.post_json(
            f"/campaigns/{campaign_id}/benchmarks", body, idempotency_key=idempotency_key
        ),
    )
