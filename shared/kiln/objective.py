"""The campaign's objective and the transform between measured values and the model scale.

The surrogate always *maximises* on the model scale: ``to_model`` applies the transform
(``log10`` by default, because conductivities span orders of magnitude) and negates when the
goal is to minimise.

Back to the original unit (``from_model``) for a ``log10`` transform, with ``m, s`` the
posterior mean and std of ``log10(value)``:

* mean = ``10**m``, the posterior *median* of the value (the log-normal mean
  ``10**m * exp((ln 10 * s)**2 / 2)`` would be pulled up by the std and is not reported);
* std = ``ln(10) * 10**m * s``, the delta method (first-order propagation of ``s``).

Both are used consistently everywhere a value is reported in the original unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from kiln.errors import InvalidObservationError, SpaceError

GOALS = ("maximize", "minimize")
TRANSFORMS = ("log10", "none")
_LN10 = math.log(10.0)


@dataclass(frozen=True)
class Objective:
    """What is measured and which way is better.

    Args:
        name: Name of the measured quantity, e.g. ``"conductivity"``.
        unit: Optional unit label, e.g. ``"S/cm"``.
        goal: ``"maximize"`` or ``"minimize"``.
        transform: ``"log10"`` (default; values must be positive) or ``"none"``.

    Raises:
        SpaceError: On an unknown goal or transform (``field`` e.g. ``"objective.goal"``).
    """

    name: str
    unit: str | None = None
    goal: Literal["maximize", "minimize"] = "maximize"
    transform: Literal["log10", "none"] = "log10"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SpaceError(
                f"name {self.name!r} must be a non-empty string", field="objective.name"
            )
        if self.goal not in GOALS:
            raise SpaceError(
                f"goal {self.goal!r} is unknown; use one of {list(GOALS)}", field="objective.goal"
            )
        if self.transform not in TRANSFORMS:
            raise SpaceError(
                f"transform {self.transform!r} is unknown; use one of {list(TRANSFORMS)}",
                field="objective.transform",
            )

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Objective:
        """Build from ``{"name", "unit"?, "goal"?, "transform"?}``.

        Raises:
            SpaceError: On a missing name, an unknown field or value.
        """
        if not isinstance(payload, Mapping):
            raise SpaceError("objective must be an object", field="objective")
        allowed = {"name", "unit", "goal", "transform"}
        for key in payload:
            if key not in allowed:
                raise SpaceError(
                    f"field {key!r} is not allowed; allowed: {sorted(allowed)}",
                    field=f"objective.{key}",
                )
        if "name" not in payload:
            raise SpaceError("name is required", field="objective.name")
        return cls(**dict(payload))

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload (round-trips through :meth:`from_dict`)."""
        return asdict(self)

    @property
    def sign(self) -> float:
        """+1 when maximising, -1 when minimising."""
        return 1.0 if self.goal == "maximize" else -1.0

    def check_value(self, value: Any, *, field: str = "objective") -> float:
        """Return ``value`` as a float, or raise if it cannot be modelled.

        Raises:
            InvalidObservationError: For non-numbers, NaN/inf, and values ``<= 0`` under log10.
        """
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise InvalidObservationError(field, f"{value!r} is not a number")
        x = float(value)
        if not math.isfinite(x):
            raise InvalidObservationError(field, f"{x!r} is not finite; report a measured number")
        if self.transform == "log10" and x <= 0:
            raise InvalidObservationError(
                field,
                f"{x!r} is not positive, but {self.name} is modelled on a log10 scale; report a "
                "positive value, or mark the sample as failed",
            )
        return x

    def to_model(self, values: ArrayLike) -> np.ndarray:
        """Measured values to the model scale (transform, then negate when minimising).

        Raises:
            InvalidObservationError: On NaN/inf, or values ``<= 0`` under log10.
        """
        y = np.asarray(values, dtype=float)
        bad = ~np.isfinite(y)
        if bad.any():
            raise InvalidObservationError(
                "objective", f"{y[bad].flat[0]!r} is not finite; report a measured number"
            )
        if self.transform == "log10":
            if (y <= 0).any():
                raise InvalidObservationError(
                    "objective",
                    f"{y[y <= 0].flat[0]!r} is not positive, but {self.name} is modelled on a "
                    "log10 scale; report a positive value or mark the sample as failed",
                )
            y = np.log10(y)
        return self.sign * y

    def from_model(self, mu: ArrayLike, sd: ArrayLike) -> tuple[Any, Any]:
        """Model-scale mean and std to the original unit (see the module docstring).

        Returns:
            ``(mean, std)``: floats for scalar input, arrays otherwise.
        """
        m = self.sign * np.asarray(mu, dtype=float)
        s = np.asarray(sd, dtype=float)
        if self.transform == "log10":
            mean = np.power(10.0, m)
            std = _LN10 * mean * s
        else:
            mean, std = m, s
        if mean.ndim == 0:
            return float(mean), float(std)
        return mean, std
