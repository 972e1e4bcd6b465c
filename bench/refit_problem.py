"""Issue 12's mixed campaign: the problem bench/refit.py replays and that
tests/integration/test_refit_quality.py checks the worker's refits on (one definition for both).

Two stepped continuous parameters, one discrete, one 3-level categorical; a smooth response with a
decoy optimum, the category an additive offset that matters as much as the main optimum's height.
"""

from __future__ import annotations

import math
from typing import Any

MIXED: dict[str, Any] = {
    "name": "mixed",
    "parameters": [
        {"name": "x1", "kind": "continuous", "low": 0.0, "high": 10.0, "step": 0.5},
        {"name": "x2", "kind": "continuous", "low": -5.0, "high": 5.0, "step": 0.25},
        {"name": "d", "kind": "discrete", "values": [1, 2, 4, 8, 16]},
        {"name": "c", "kind": "categorical", "values": ["a", "b", "c"]},
    ],
    "objective": {"name": "y", "goal": "maximize", "transform": "none"},
    "strategy": {"acquisition": "ucb", "batch_size": 4, "auto_batch": False},
}
#: The category shifts the whole response: it matters as much as the main optimum's height.
OFFSET = {"a": 0.0, "b": -0.8, "c": 0.6}


def mixed_truth(p: dict[str, Any]) -> float:
    """A smooth response with a decoy optimum; the category adds an offset."""
    x1, x2, d = p["x1"], p["x2"], math.log2(p["d"])
    main = 2.0 * math.exp(-(((x1 - 7) / 2) ** 2) - ((x2 - 1.5) / 2.5) ** 2 - ((d - 3) / 2) ** 2)
    decoy = 1.6 * math.exp(-(((x1 - 2) / 1.5) ** 2) - ((x2 + 3) / 1.5) ** 2)
    return main + decoy + OFFSET[p["c"]] * (1 + 0.3 * math.sin(x1 / 3))
