"""Seeded single-objective batches stay bit-identical (issue 16 shares propose's helpers).

The expected outputs were recorded on main before the multi-objective work
(``cd tests && python -m support.seeded_proposals``); regenerate them only for an intended change.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.seeded_proposals import cases

EXPECTED = Path(__file__).parent / "data" / "seeded_proposals.json"


def test_seeded_single_objective_batches_are_unchanged() -> None:
    expected = json.loads(EXPECTED.read_text())
    got = json.loads(json.dumps(cases(), sort_keys=True))
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], name
