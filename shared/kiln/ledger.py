"""The proposal ledger's domain rules: provenance, the data fingerprint, and space membership.

A proposal stays pending until a result measures it, it is withdrawn, or its time-to-live runs
out. This module holds the pure parts of that life cycle (no storage): which pending proposals
a new search space rules out and why, and what a proposal records about how it was made.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from kiln.errors import OutsideSpaceError
from kiln.parameters import CategoricalParameter, ContinuousParameter
from kiln.space import SearchSpace

PENDING = "pending"
MEASURED = "measured"
WITHDRAWN = "withdrawn"
EXPIRED = "expired"
STATUSES = (PENDING, MEASURED, WITHDRAWN, EXPIRED)
#: What a proposal predicts about itself (`kiln.propose.Proposal`): a proposals export writes them
#: as columns, and a results CSV made from such an export ignores them (never measurements).
PREDICTION_FIELDS = ("predicted_mean", "predicted_std", "acquisition_value")


def _fmt(x: float) -> str:
    return f"{x:g}"


def constraint_reason(space: SearchSpace, point: Mapping[str, Any]) -> str | None:
    """Which of ``space``'s constraints ``point`` breaks, as a sentence, or None when none.

    Returns:
        E.g. ``"breaks constraints.0 (forbidden: temperature_c >= 1075 and time_min > 240)
        (space version 2)"``.
    """
    broken = space.constraints.violations(point)
    if not broken:
        return None
    return f"breaks {', '.join(broken)} (space version {space.version})"


def outside_reason(space: SearchSpace, point: Mapping[str, Any]) -> str | None:
    """Why ``point`` is not a candidate of ``space`` any more, or None when it still is.

    Args:
        space: The (new) search space.
        point: A proposal's parameters.

    Returns:
        A sentence naming the parameter, e.g. ``"acid_wt_pct=-20 is outside [-15, 0] in space
        version 2"``, or None.
    """
    version = f"space version {space.version}"
    try:
        space.check_point(point)
    except OutsideSpaceError as exc:
        return f"{exc.parameter}: {exc.reason} ({version})"
    for p in space.parameters:
        value = point[p.name]
        if isinstance(p, CategoricalParameter):
            continue  # check_point already rejects labels that are not listed
        x = float(value)
        if p.on_grid(x):
            continue
        if isinstance(p, ContinuousParameter):
            if (
                not (p.low <= x <= p.high)
                and not math.isclose(x, p.low)
                and not math.isclose(x, p.high)
            ):
                return f"{p.name}={_fmt(x)} is outside [{_fmt(p.low)}, {_fmt(p.high)}] in {version}"
            return f"{p.name}={_fmt(x)} is not on the step {_fmt(p.step or 0)} in {version}"
        return f"{p.name}={_fmt(x)} is not one of {p.values} in {version}"
    return None


def data_hash(results: Sequence[Mapping[str, Any]]) -> str:
    """A sha256 over the training data a model saw: sample ids, parameters, objective (or a
    multi-objective result's ``objectives``), status.

    Two models (or proposals) with the same hash were made from the same measurements, in the
    same order; it changes with any new, corrected or reordered result.
    """
    digest = hashlib.sha256()
    for r in results:
        row = {
            "sample_id": r.get("sample_id"),
            "parameters": r.get("parameters"),
            "objective": r.get("objective"),
            "status": r.get("status", "ok"),
        }
        if r.get("objectives") is not None:  # absent on one objective: its hashes are unchanged
            row["objectives"] = r["objectives"]
        digest.update(json.dumps(row, sort_keys=True, separators=(",", ":")).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def provenance(
    *,
    model_version: int | None,
    data_version: int,
    data_sha256: str,
    space_version: int,
    strategy: Mapping[str, Any],
    model_summary: Mapping[str, Any] | None,
    fallback: str | None = None,
    feasibility: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What a proposal records about how it was made (plain JSON).

    Args:
        model_version: The stored model's version, None when the batch refitted or fell back.
        data_version: Number of results in the log the batch saw.
        data_sha256: :func:`data_hash` of those results.
        space_version: The search space's version.
        strategy: The effective strategy (acquisition, kappa, xi, batch method, batch size).
        model_summary: The model's summary (kernel and hyperparameters are copied), or None.
        fallback: Why a space-filling design was used, if it was.
        feasibility: Summary of the feasibility classifier that weighted the acquisition.
    """
    acquisition = {
        "name": strategy.get("acquisition"),
        "kappa": strategy.get("kappa"),
        "xi": strategy.get("xi"),
        "batch_method": strategy.get("batch_method"),
        "batch_size": strategy.get("batch_size"),
    }
    out: dict[str, Any] = {
        "model_version": model_version,
        "data_version": data_version,
        "data_sha256": data_sha256,
        "space_version": space_version,
        "acquisition": acquisition,
        "kernel": None,
        "hyperparameters": None,
        "fallback": fallback,
        "feasibility": dict(feasibility) if feasibility else None,
    }
    if model_summary:
        out["kernel"] = model_summary.get("kernel")
        out["hyperparameters"] = model_summary.get("hyperparameters")
    return out
