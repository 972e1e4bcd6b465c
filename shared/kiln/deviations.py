"""How a result departs from the proposal it reports: flagged, never refused.

Labs deviate: a furnace that overshoots by 12 K still measured that proposal, and measuring a
proposal twice is a welcome replicate. A result naming a ``proposal_id`` is therefore stored as
it was measured, with flags (plain sentences, like the space's own flags) naming each parameter
measured other than proposed with both values, and naming the first result of a proposal
measured before. The storage reads the proposal; the rules live here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kiln.parameters import format_number


def same_value(a: Any, b: Any) -> bool:
    """Whether two parameter values are the same setting (numbers compared closely: a value that
    went through JSON or a CSV cell as 1000, 1000.0 or 1e3 is the same temperature)."""
    if isinstance(a, str) or isinstance(b, str):
        return bool(a == b)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def same_point(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two parameter dicts name the same point (the same names, every value the same)."""
    return set(a) == set(b) and all(same_value(a[name], b[name]) for name in a)


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else format_number(float(value))


def differences(
    proposed: Mapping[str, Any], measured: Mapping[str, Any]
) -> list[tuple[str, Any, Any]]:
    """The parameters measured other than proposed: ``(name, proposed, measured)``, in the
    proposal's order."""
    return [
        (name, value, measured[name])
        for name, value in proposed.items()
        if name in measured and not same_value(value, measured[name])
    ]


def proposal_flags(
    proposal: Mapping[str, Any],
    measured: Mapping[str, Any],
    first_sample_id: str | None = None,
) -> list[str]:
    """The flags of a result that reports ``proposal``.

    Args:
        proposal: The proposal as the ledger keeps it (``id``, ``parameters``).
        measured: The result's parameters.
        first_sample_id: The sample that measured the proposal before this result, if any.

    Returns:
        E.g. ``["temperature_c differs from proposal b1-0: proposed 950, measured 962",
        "replicate of proposal b1-0, first measured as sample LATP-007"]``; empty when the
        result measured exactly the proposal, for the first time.
    """
    pid = proposal["id"]
    flags = [
        f"{name} differs from proposal {pid}: proposed {_shown(p)}, measured {_shown(m)}"
        for name, p, m in differences(proposal["parameters"], measured)
    ]
    if first_sample_id is not None:
        flags.append(f"replicate of proposal {pid}, first measured as sample {first_sample_id}")
    return flags
