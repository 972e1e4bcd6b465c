"""Virtual experiments (the study's Figure 3 protocol) on the virtual LATP lab's 80-point seed grid.

Usage: ``make bench-bo`` or ``.venv/bin/python bench/bo.py [--repeats 200] [--jobs N]``.
Writes ``bench/results/bo.json`` and ``bench/results/bo.png`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from kiln.lab import NOISE_SIGMA_LOG10, VirtualLatpLab, calibration_error
from kiln.plots import plot_virtual_experiments
from kiln.presets import latp_seed_grid_space
from kiln.virtual_experiments import (
    DEFAULT_N_INITS,
    DEFAULT_NOISE_SD,
    STRATEGIES,
    pool_from_results,
    run_protocol,
)

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    """Run the protocol, print the table, write bo.json and bo.png."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="repeats per strategy and n")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--n-inits", default=",".join(map(str, DEFAULT_N_INITS)))
    parser.add_argument("--noise-sd", type=float, default=DEFAULT_NOISE_SD)
    parser.add_argument("--refit-every", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="lab seed of the seed grid")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    lab = VirtualLatpLab(seed=args.seed)
    calib = calibration_error()
    print(
        f"virtual LATP lab: calibration on the study's 16 Table 2 samples: "
        f"RMS {calib['rms_log10']:.3f} / max {calib['max_abs_log10']:.3f} decades of "
        f"conductivity (bias {calib['bias_log10']:+.3f}); density RMS {calib['rms_density']:.3f}; "
        f"measurement noise sigma {NOISE_SIGMA_LOG10} decades"
    )
    grid = lab.seed_grid()
    best = max(grid, key=lambda r: r["objective"])
    print(
        f"seed grid (lab seed {args.seed}): best {best['objective']:.3g} S/cm at {best['parameters']}"
    )
    objective = {"name": "conductivity", "unit": "S/cm", "transform": "log10"}
    X, y = pool_from_results(latp_seed_grid_space(), objective, grid)

    strategies = [s for s in args.strategies.split(",") if s]
    n_inits = [int(n) for n in args.n_inits.split(",") if n]
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    bar = tqdm(total=len(strategies) * len(n_inits) * args.repeats, unit="run", smoothing=0.05)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    start = time.perf_counter()
    table = run_protocol(
        X,
        y,
        strategies=strategies,
        n_inits=n_inits,
        repeats=args.repeats,
        noise_sd=args.noise_sd,
        refit_every=args.refit_every,
        jobs=jobs,
        progress=progress,
    )
    wall = time.perf_counter() - start
    bar.close()

    print(f"\nfound the best of {len(y)} (of {args.repeats} runs) / mean extra tries when found")
    print("n".rjust(4) + "".join(f"{s:>18}" for s in strategies))
    for n in n_inits:
        cells = []
        for s in strategies:
            cell = table[s][n]
            mean = cell["mean_extra_tries"]
            cells.append(f"{cell['found']:>5} / {'-' if mean is None else f'{mean:5.1f}':>7}")
        print(f"{n:>4}" + "".join(f"{c:>18}" for c in cells))
    print(f"wall time {wall:.0f} s on {jobs} process(es)")

    args.out.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {
        "results": {s: {str(n): table[s][n] for n in n_inits} for s in strategies},
        "lab_calibration": calib,
        "pool": {
            "source": "VirtualLatpLab.seed_grid()",
            "lab_seed": args.seed,
            "size": len(y),
            "best": best,
            "noise_sigma_log10": NOISE_SIGMA_LOG10,
        },
        "protocol": {
            "repeats": args.repeats,
            "observation_noise_sd_log10": args.noise_sd,
            "refit_every": args.refit_every,
            "kappa": 1.96,
            "xi": 0.01,
        },
        "wall_time_s": round(wall, 1),
        "jobs": jobs,
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
    }
    (args.out / "bo.json").write_text(json.dumps(payload, indent=2) + "\n")
    plot_virtual_experiments(
        payload["results"],
        args.out / "bo.png",
        title=f"Virtual experiments on the virtual LATP seed grid ({args.repeats} runs each)",
    )
    print(f"wrote {args.out / 'bo.json'} and {args.out / 'bo.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
