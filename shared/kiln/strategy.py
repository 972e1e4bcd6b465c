"""How a campaign chooses its next experiments: acquisition, batch size and batch method."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from kiln.errors import SpaceError

#: The acquisition functions (kiln.acquisition scores each): the one list the API, the
#: benchmarks and the client's vocabulary (checked by a test) take.
ACQUISITIONS = ("ucb", "ei", "pi", "random")
#: The multi-objective acquisitions (kiln.multiobjective.selection): exact expected hypervolume
#: improvement (2-3 objectives) and ParEGO (any number). A multi-objective campaign takes these
#: or ``"random"``; the campaign rules (kiln.campaign) check which fits how many objectives.
PARETO_ACQUISITIONS = ("ehvi", "parego")
#: How a batch is filled after its first point (kiln.batch).
BATCH_METHODS = (
    "kriging_believer",
    "constant_liar_min",
    "constant_liar_mean",
    "constant_liar_max",
)
MAX_BATCH_SIZE = 100


@dataclass(frozen=True)
class BatchShared:
    """Proposals of one group (one furnace run) share these parameters' values.

    Args:
        parameters: Names of the shared parameters (checked against the space by
            :func:`kiln.batch.sharing.check_sharing`).
        groups: At most this many groups per batch.
    """

    parameters: tuple[str, ...]
    groups: int = 1

    @classmethod
    def from_dict(cls, payload: Any, batch_size: int) -> BatchShared:
        """Build and validate ``{"parameters": [...], "groups": 1}``.

        Raises:
            SpaceError: Naming the field, e.g. ``strategy.batch_shared.groups`` when there are
                more groups than proposals in a batch.
        """
        path = "strategy.batch_shared"
        if not isinstance(payload, Mapping):
            raise SpaceError(
                'batch_shared must be an object {"parameters": [...], "groups": 1}', field=path
            )
        for key in payload:
            if key not in ("parameters", "groups"):
                raise SpaceError(
                    f"field {key!r} is not allowed; allowed: ['groups', 'parameters']",
                    field=f"{path}.{key}",
                )
        names = payload.get("parameters")
        if (
            not isinstance(names, list | tuple)
            or not names
            or not all(isinstance(n, str) for n in names)
            or len(set(names)) != len(names)
        ):
            raise SpaceError(
                f"parameters={names!r} must be a non-empty list of distinct parameter names",
                field=f"{path}.parameters",
            )
        groups = payload.get("groups", 1)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise SpaceError(
                f"groups={groups!r} must be a positive integer", field=f"{path}.groups"
            )
        if groups > batch_size:
            raise SpaceError(
                f"groups={groups} is larger than the batch size {batch_size}; a group holds at "
                "least one proposal",
                field=f"{path}.groups",
            )
        return cls(tuple(names), groups)

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": list(self.parameters), "groups": self.groups}


@dataclass(frozen=True)
class Strategy:
    """The campaign's proposal strategy.

    Args:
        acquisition: ``"ucb"``, ``"ei"``, ``"pi"`` or ``"random"``; for a multi-objective
            campaign ``"ehvi"`` or ``"parego"`` (:data:`PARETO_ACQUISITIONS`).
        kappa: UCB exploration weight (model-scale standard deviations).
        xi: EI/PI improvement margin relative to the spread of the results: an improvement
            counts from the best result plus ``xi`` times the std of the training targets on
            the model scale (so it means the same in any unit; see :mod:`kiln.acquisition`).
        batch_size: Proposals per batch (1..100).
        batch_method: ``"kriging_believer"`` or ``"constant_liar_{min,mean,max}"``.
        auto_batch: Whether the service computes a new batch after every refit.
        proposal_ttl_s: Seconds a proposal stays pending without a result.
        batch_shared: Optional ``{"parameters": [...], "groups": g}``: each batch is split into
            at most ``g`` groups whose proposals share those parameters' values.

    Raises:
        SpaceError: On an invalid value; ``field`` is e.g. ``"strategy.kappa"``.
    """

    acquisition: str = "ucb"
    kappa: float = 1.96
    xi: float = 0.01
    batch_size: int = 6
    batch_method: str = "kriging_believer"
    auto_batch: bool = True
    proposal_ttl_s: int = 604_800
    batch_shared: BatchShared | None = None

    def __post_init__(self) -> None:
        if self.acquisition not in ACQUISITIONS + PARETO_ACQUISITIONS:
            known = list(ACQUISITIONS + PARETO_ACQUISITIONS)
            raise SpaceError(
                f"acquisition {self.acquisition!r} is unknown; use one of {known}",
                field="strategy.acquisition",
            )
        if self.batch_method not in BATCH_METHODS:
            raise SpaceError(
                f"batch_method {self.batch_method!r} is unknown; use one of {list(BATCH_METHODS)}",
                field="strategy.batch_method",
            )
        for key in ("kappa", "xi"):
            v = getattr(self, key)
            if (
                isinstance(v, bool)
                or not isinstance(v, int | float)
                or not math.isfinite(v)
                or v < 0
            ):
                raise SpaceError(
                    f"{key}={v!r} must be a finite number >= 0", field=f"strategy.{key}"
                )
            object.__setattr__(self, key, float(v))
        if (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, int)
            or not 1 <= self.batch_size <= MAX_BATCH_SIZE
        ):
            raise SpaceError(
                f"batch_size={self.batch_size!r} must be an integer from 1 to {MAX_BATCH_SIZE}",
                field="strategy.batch_size",
            )
        if not isinstance(self.auto_batch, bool):
            raise SpaceError(
                f"auto_batch={self.auto_batch!r} must be true or false", field="strategy.auto_batch"
            )
        if (
            isinstance(self.proposal_ttl_s, bool)
            or not isinstance(self.proposal_ttl_s, int)
            or self.proposal_ttl_s <= 0
        ):
            raise SpaceError(
                f"proposal_ttl_s={self.proposal_ttl_s!r} must be a positive integer (seconds)",
                field="strategy.proposal_ttl_s",
            )
        if self.batch_shared is not None and not isinstance(self.batch_shared, BatchShared):
            shared = BatchShared.from_dict(self.batch_shared, self.batch_size)
            object.__setattr__(self, "batch_shared", shared)
        elif self.batch_shared is not None and self.batch_shared.groups > self.batch_size:
            BatchShared.from_dict(self.batch_shared.to_dict(), self.batch_size)  # raises

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any] | None) -> Strategy:
        """Build from a (possibly partial) dict; missing fields take their defaults.

        Raises:
            SpaceError: On an unknown field or an invalid value.
        """
        if payload is None:
            return cls()
        if not isinstance(payload, Mapping):
            raise SpaceError("strategy must be an object", field="strategy")
        allowed = set(cls.__dataclass_fields__)
        for key in payload:
            if key not in allowed:
                raise SpaceError(
                    f"field {key!r} is not allowed; allowed: {sorted(allowed)}",
                    field=f"strategy.{key}",
                )
        return cls(**dict(payload))

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload (round-trips through :meth:`from_dict`); ``batch_shared`` only
        when set."""
        out = asdict(self)
        out.pop("batch_shared")
        if self.batch_shared is not None:
            out["batch_shared"] = self.batch_shared.to_dict()
        return out

    def acquisition_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`kiln.batch.selection.select_batch` this sets."""
        return {
            "acquisition": self.acquisition,
            "kappa": self.kappa,
            "xi": self.xi,
            "batch_method": self.batch_method,
        }

    def replace(self, **changes: Any) -> Strategy:
        """A copy with some fields changed (validated), e.g. a per-request batch size."""
        return Strategy.from_dict({**self.to_dict(), **changes})
