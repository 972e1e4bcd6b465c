"""Seeded single-objective batches stay the same (issue 16 shares propose's helpers).

The expected outputs were recorded on main before the multi-objective work
(``cd tests && python -m support.seeded_proposals``); regenerate them only for an intended change.
Grid picks and labels must match exactly. Floats are compared to a relative 1e-6 (predictions,
acquisition values), and the continuously polished parameter values to 1e-3: a newer SciPy or
NumPy moves an L-BFGS-B end point on a flat acquisition optimum by about 1e-4 of its value (seen
with SciPy 1.17 / NumPy 2.4: acid -10.2077 against -10.2089 wt%, the same acquisition value to
1e-11), which is no change of behaviour.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from support.seeded_proposals import cases

EXPECTED = Path(__file__).parent / "data" / "seeded_proposals.json"
#: Relative tolerances: every float, and a polished parameter value.
REL_FLOAT, REL_PARAMETER = 1e-6, 1e-3


def _differences(got: Any, expected: Any, path: str, rel: float = REL_FLOAT) -> list[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        if sorted(got) != sorted(expected):
            return [f"{path}: keys {sorted(got)} != {sorted(expected)}"]
        tol = {"parameters": REL_PARAMETER}
        return [
            d
            for k in expected
            for d in _differences(got[k], expected[k], f"{path}.{k}", tol.get(k, rel))
        ]
    if isinstance(expected, list) and isinstance(got, list):
        if len(got) != len(expected):
            return [f"{path}: {len(got)} items != {len(expected)}"]
        return [
            d for i, (g, e) in enumerate(zip(got, expected, strict=True))
            for d in _differences(g, e, f"{path}[{i}]", rel)
        ]  # fmt: skip
    if isinstance(expected, float) and isinstance(got, int | float) and not isinstance(got, bool):
        return (
            []
            if math.isclose(got, expected, rel_tol=rel, abs_tol=1e-12)
            else [f"{path}: {got!r} != {expected!r}"]
        )
    return [] if got == expected else [f"{path}: {got!r} != {expected!r}"]


def test_seeded_single_objective_batches_are_unchanged() -> None:
    expected = json.loads(EXPECTED.read_text())
    got = json.loads(json.dumps(cases(), sort_keys=True))
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert _differences(got[name], expected[name], name) == []


def test_a_changed_pick_is_caught() -> None:
    expected = json.loads(EXPECTED.read_text())
    name = next(iter(expected))
    changed = json.loads(json.dumps(expected[name]))
    first = changed["proposals"][0]["parameters"]
    key = next(iter(first))
    first[key] = first[key] + 1 if not isinstance(first[key], str) else first[key] + "x"
    assert _differences(changed, expected[name], name) != []
