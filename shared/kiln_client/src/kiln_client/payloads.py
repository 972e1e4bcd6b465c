"""The JSON bodies Kiln answers with, typed with ``TypedDict`` (plain dicts that print and serialise).

Each mirrors an output schema of the intake; ``tests/unit/test_client_payloads.py`` fails when a
key (or whether it may be null) differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict


class Counts(TypedDict, total=False):
    """How much a campaign holds."""

    results: int
    proposals_pending: int
    proposals: int
    batches: int
    model_version: int | None
    candidates: int


class Campaign(TypedDict, total=False):
    """A campaign as the server returns it: one ``objective``, or 2-4 ``objectives`` (with the
    ``measurements`` its ``outcome_constraints`` may name)."""

    id: str
    name: str
    description: str
    parameters: list[dict[str, Any]]
    objective: dict[str, Any]
    objectives: list[dict[str, Any]]
    measurements: list[dict[str, Any]]
    outcome_constraints: list[dict[str, Any]]
    strategy: dict[str, Any]
    constraints: list[dict[str, Any]]
    space_version: int
    created_at: str
    updated_at: str
    counts: Counts


class Result(TypedDict, total=False):
    """One stored measurement with its corrections applied (``revision`` counts them) and
    whether it is ``excluded`` from training. A multi-objective campaign's result has
    ``objectives`` ({name: value}) instead of ``objective``."""

    sample_id: str
    parameters: dict[str, Any]
    objective: float | None
    objectives: dict[str, float]
    objective_sd: float
    measurements: dict[str, Any]
    status: str
    proposal_id: str | None
    matched_proposal_id: str | None
    measured_at: str | None
    instrument: str | None
    flags: list[str]
    space_version: int
    received_at: str
    revision: int
    excluded: bool


class Revision(TypedDict, total=False):
    """One correction of a result: who, when, why and each changed field's old and new value.

    ``changes`` maps a field (``objective``, ``excluded``, ``parameters.temperature_c``,
    ``measurements.density``, ...) to ``{"from": old, "to": new}``.
    """

    sample_id: str
    revision: int
    at: str
    by: str
    reason: str
    changes: dict[str, dict[str, Any]]


class ResultView(Result, total=False):
    """One result as it stands now (its original entry with every revision applied) and its
    ``revisions``, oldest first (``revision`` 0: never corrected)."""

    revisions: list[Revision]


class ResultsPosted(TypedDict, total=False):
    """The answer to a results post."""

    stored: int
    duplicates: int
    data_version: int
    flags: list[dict[str, Any]]
    measured_proposals: list[str]
    refit_enqueued: bool
    skipped: int


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
    """One proposed experiment; with several objectives, ``predicted`` holds each one's
    ``{"mean", "std"}`` (``predicted_mean``/``predicted_std`` are then null)."""

    id: str
    batch_id: str
    parameters: dict[str, Any]
    predicted_mean: float | None
    predicted_std: float | None
    predicted: dict[str, dict[str, float] | None] | None
    probability_feasible: float | None
    acquisition_value: float | None
    candidate: int
    group: int
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
    reference_point: dict[str, float] | None
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


class ParetoPoint(TypedDict, total=False):
    """One result on the Pareto front: its sample, parameters and objective values."""

    sample_id: str
    parameters: dict[str, Any]
    objectives: dict[str, float | None]


class HypervolumeStep(TypedDict, total=False):
    """The hypervolume once the results up to one data version were in."""

    data_version: int
    n_results: int
    hypervolume: float | None


class ParetoReport(TypedDict, total=False):
    """A multi-objective campaign's front (GET /campaigns/{id}/pareto).

    ``reference_point`` is in each objective's own unit; ``reference_point_derived`` says which
    coordinates came from the data rather than a threshold. ``hypervolume`` is in the product of
    the objectives' model-scale units (log10 for a log10 objective), the reference point fixed
    over the whole ``history``.
    """

    campaign_id: str
    data_version: int
    objectives: list[dict[str, Any]]
    reference_point: dict[str, float | None]
    reference_point_derived: dict[str, bool]
    front: list[ParetoPoint]
    hypervolume: float | None
    n_results: int
    history: list[HypervolumeStep]
    outcome_constraints: list[dict[str, Any]]


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
