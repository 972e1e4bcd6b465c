"""Pick a strategy from a virtual-experiments table, the way the study chose UCB.

The study compared strategies by how often they found the best sample and, when they did, how
many extra tries it took; it chose UCB, which found it in most runs and settled at about five
extra tries. Here the strategy with the highest success rate over every ``n`` wins; close
rates (within 2 percentage points) are decided by fewer mean extra tries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Success rates closer than this count as a tie, decided by the extra tries.
RATE_TIE = 0.02


def choose_strategy(table: Mapping[str, Mapping[Any, Mapping[str, Any]]]) -> dict[str, Any] | None:
    """Choose a strategy from ``{strategy: {n: {"found", "runs", "mean_extra_tries"}}}``.

    Args:
        table: The output of :func:`kiln.virtual_experiments.summarise` (keys may be strings).

    Returns:
        ``{"strategy", "success_rate", "mean_extra_tries", "reason"}``, or None for an empty
        table.
    """
    scores: list[tuple[str, float, float]] = []
    for strategy, rows in table.items():
        found = sum(int(r["found"]) for r in rows.values())
        runs = sum(int(r["runs"]) for r in rows.values())
        tries = [
            float(r["mean_extra_tries"]) * int(r["found"])
            for r in rows.values()
            if r.get("mean_extra_tries") is not None
        ]
        rate = found / runs if runs else 0.0
        mean_tries = sum(tries) / found if found else float("inf")
        scores.append((strategy, rate, mean_tries))
    if not scores:
        return None
    top = max(rate for _, rate, _ in scores)
    contenders = [s for s in scores if s[1] >= top - RATE_TIE]
    strategy, rate, mean_tries = min(contenders, key=lambda s: (s[2], -s[1], s[0]))
    return {
        "strategy": strategy,
        "success_rate": rate,
        "mean_extra_tries": mean_tries if mean_tries != float("inf") else None,
        "reason": (
            f"{strategy} found the best sample in {rate:.0%} of the runs over every n "
            + (
                f"with {mean_tries:.1f} extra tries on average"
                if mean_tries != float("inf")
                else "(never found it)"
            )
            + "; success rates within 2 points are decided by fewer tries"
        ),
    }
