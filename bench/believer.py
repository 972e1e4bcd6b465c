"""Fast Kriging believer (rank-1 updates) against a naive refitting believer, side by side.

Setting: q = 6 picks, n = 200 observations, 20,000 grid candidates in a 3-D space, UCB.
Both versions start from the same fitted surrogate and must return the same picks; each is
timed several times, interleaved so that machine load hits both alike, and the medians are
compared. Writes ``bench/results/believer.json``.

Run: ``make bench-believer`` (or ``.venv/bin/python bench/believer.py --repeats 7``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from naive_batch import naive_select_batch

from kiln.batch.picks import Selection
from kiln.batch.selection import select_batch
from kiln.model.surrogate import GPSurrogate
from kiln.parameters import ContinuousParameter
from kiln.space import SearchSpace

RESULTS = Path(__file__).resolve().parent / "results" / "believer.json"
REQUIRED_RATIO = 10.0


def make_problem(n: int, seed: int) -> tuple[GPSurrogate, np.ndarray]:
    """A fitted surrogate on ``n`` noisy observations and the 20,000-point candidate grid."""
    space = SearchSpace(
        [
            ContinuousParameter("acid_wt_pct", -22.5, 7.5, step=30 / 19),  # 20 values
            ContinuousParameter("temperature_c", 800, 1100, step=12.5),  # 25 values
            ContinuousParameter("time_min", 10, 540, step=530 / 39),  # 40 values
        ]
    )
    candidates = space.encode(space.grid())
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 3))
    y = (
        -3.0
        - ((X[:, 0] - 0.55) / 0.35) ** 2
        - ((X[:, 1] - 0.65) / 0.3) ** 2
        - 0.5 * np.sin(6 * X[:, 2])
        + 0.1 * rng.normal(size=n)
    )
    return GPSurrogate(n_restarts=2, random_state=seed).fit(X, y), candidates


def timed(fn: Callable[[], Selection]) -> tuple[float, Selection]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(q: int, n: int, repeats: int, seed: int, method: str) -> dict:
    model, candidates = make_problem(n, seed)
    kwargs = {"acquisition": "ucb", "batch_method": method}
    select_batch(model, candidates, q, **kwargs)  # warm-up (imports, BLAS threads)
    fast_times, naive_times = [], []
    fast = naive = None
    for _ in range(repeats):
        t, fast = timed(lambda: select_batch(model, candidates, q, **kwargs))
        fast_times.append(t)
        t, naive = timed(lambda: naive_select_batch(model, candidates, q, **kwargs))
        naive_times.append(t)
    assert fast is not None and naive is not None
    same = [p.index for p in fast.picks] == [p.index for p in naive.picks]
    fast_med, naive_med = statistics.median(fast_times), statistics.median(naive_times)
    pairs = list(zip(fast.picks, naive.picks, strict=True))
    return {
        "batch_method": method,
        "q": q,
        "n_observations": n,
        "n_candidates": int(candidates.shape[0]),
        "dim": int(candidates.shape[1]),
        "repeats": repeats,
        "fast_s": fast_times,
        "naive_s": naive_times,
        "fast_median_s": fast_med,
        "naive_median_s": naive_med,
        "speed_ratio": naive_med / fast_med,
        "same_picks": same,
        "max_abs_diff_mean": max(abs(a.mean - b.mean) for a, b in pairs),
        "max_abs_diff_std": max(abs(a.std - b.std) for a, b in pairs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--q", type=int, default=6)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    rows = [
        run(args.q, args.n, args.repeats, args.seed, method)
        for method in ("kriging_believer", "constant_liar_mean")
    ]
    print(
        f"q={args.q}, n={args.n} observations, {rows[0]['n_candidates']} candidates in "
        f"{rows[0]['dim']}-D, median of {args.repeats} interleaved repeats"
    )
    header = f"{'batch method':<20} {'fast [s]':>9} {'naive [s]':>10} {'ratio':>7}  same picks"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['batch_method']:<20} {r['fast_median_s']:>9.4f} {r['naive_median_s']:>10.4f} "
            f"{r['speed_ratio']:>6.1f}x  {r['same_picks']}"
        )
    believer = rows[0]
    ok = believer["speed_ratio"] >= REQUIRED_RATIO and all(r["same_picks"] for r in rows)
    print(
        f"\nKriging believer speed ratio: {believer['speed_ratio']:.1f}x "
        f"(required >= {REQUIRED_RATIO:.0f}x): {'OK' if ok else 'NOT MET'}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "believer",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "required_ratio": REQUIRED_RATIO,
        "ok": ok,
        "results": rows,
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
