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
#: How a batch is filled after its first point (kiln.batch).
BATCH_METHODS = (
    "kriging_believer",
    "constant_liar_min",
    "constant_liar_mean",
    "constant_liar_max",
)
MAX_BATCH_SIZE = 100


@dataclass(frozen=True)
class Strategy:
    """The campaign's proposal strategy.

    Args:
        acquisition: ``"ucb"``, ``"ei"``, ``"pi"`` or ``"random"``.
        kappa: UCB exploration weight (model-scale standard deviations).
        xi: EI/PI improvement margin relative to the spread of the results: an improvement
            counts from the best result plus ``xi`` times the std of the training targets on
            the model scale (so it means the same in any unit; see :mod:`kiln.acquisition`).
        batch_size: Proposals per batch (1..100).
        batch_method: ``"kriging_believer"`` or ``"constant_liar_{min,mean,max}"``.
        auto_batch: Whether the service computes a new batch after every refit.
        proposal_ttl_s: Seconds a proposal stays pending without a result.

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

    def __post_init__(self) -> None:
        if self.acquisition not in ACQUISITIONS:
            raise SpaceError(
                f"acquisition {self.acquisition!r} is unknown; use one of {list(ACQUISITIONS)}",
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
        """The JSON payload (round-trips through :meth:`from_dict`)."""
        return asdict(self)

    def replace(self, **changes: Any) -> Strategy:
        """A copy with some fields changed (validated), e.g. a per-request batch size."""
        return Strategy.from_dict({**self.to_dict(), **changes})
