"""bench/moo.py and bench/moo_latp.py: the LATP comparison against random, and partial runs."""

from __future__ import annotations

import json
from pathlib import Path

from support.bench import load_bench

moo = load_bench("moo")
moo_latp = load_bench("moo_latp")

BUDGETS = [6, 12, 18]


def test_versus_random_counts_seed_wins_and_says_where_the_median_is_not_above() -> None:
    runs = {
        "ehvi": [[0.0, 0.3, 0.1], [0.0, 0.4, 0.1], [0.0, 0.5, 0.1]],
        "random": [[0.0, 0.1, 0.2], [0.0, 0.2, 0.2], [0.0, 0.6, 0.2]],
    }
    table = moo_latp._versus_random("ehvi", runs, BUDGETS)
    assert table["seeds_won"] == [0, 2, 0]
    assert table["median_difference"][1] > 0 > table["median_difference"][2]
    low, high = table["interval_90"]
    assert all(lo <= hi for lo, hi in zip(low, high, strict=True))
    assert table["every_budget"] is False


def test_a_partial_run_keeps_the_stored_results_of_the_setups_it_did_not_run(
    tmp_path: Path,
) -> None:
    out = tmp_path / "moo.json"
    stored = {"results": {"vlmop2-seq": {"ehvi": [[1.0]]}, "latp-moo": {"ehvi": [[2.0]]}}}
    out.write_text(json.dumps({**stored, "seeds": [0]}))
    kept = moo._kept(out, [], latp=True)
    assert kept["results"] == {"vlmop2-seq": {"ehvi": [[1.0]]}}
    assert kept["seeds"] == [0]
    assert moo._kept(out, ["vlmop2-seq"], latp=False)["results"] == {"latp-moo": {"ehvi": [[2.0]]}}
    assert moo._kept(tmp_path / "missing.json", [], latp=True) == {"results": {}}
