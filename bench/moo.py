"""Multi-objective closed loops (issue 16): Kiln's EHVI and ParEGO beside random and the published runs.

Problems (definitions checked against PHYSBO's and BoTorch's sources; no code copied):

- ``vlmop2``: PHYSBO's tutorial. f1 = 1 - exp(-sum (x - 1/sqrt 2)^2), f2 = 1 - exp(-sum (x +
  1/sqrt 2)^2), both minimised, on the 101 x 101 grid over [-2, 2]^2; 10 random + 40 proposals;
  hypervolume of the maximised (-f1, -f2) in the box [-1, -1]..[0, 0]. Best possible on the grid
  0.3345; PHYSBO's EHVI reached 0.3200, HVPI 0.3288, random 0.2377. Run sequentially (q = 1) and
  in batches of 4 (10 batches).
- ``branin-currin``: BoTorch's tutorial. Branin and Currin on [0, 1]^2, both minimised, with its
  observation noise (std 15.19 and 0.63); 6 initial points + 20 batches of q = 4; hypervolume of
  the TRUE values of the evaluated points against the reference point (18, 6) (BoTorch:
  maximised negatives against (-18, -6)); maximum 59.36. Its single run reached qNEHVI 57.77,
  qEHVI 56.03, qNParEGO 54.32. Continuous: each batch is chosen from a fresh scrambled Sobol set
  (2048 points) plus Gaussian perturbations (std 0.03) of the current front's inputs. With noisy
  observations the front that EHVI improves on is the models' mean at the evaluated points.

Kiln: one GP per objective (kiln.multiobjective.models, warm-started after the first batch),
batches by the Kriging believer across objectives (kiln.multiobjective.selection); reference
point from the problems' boxes (the objectives' thresholds). Also the time to choose a batch of 4
among 10,000 candidates at n = 100 with 2 objectives (fit and selection reported apart).

The virtual LATP lab (preset ``latp-moo``, conductivity and relative density) through the public
``propose_pareto`` against random: :mod:`moo_latp` (setup ``latp-moo``, methods ehvi and random).

Opt-in peer (``--peers``, the ``peers`` extra): BayBE's ``ParetoObjective`` with qLogNEHVI on
VLMOP2 and Branin-Currin (:mod:`peers_moo`), same seeds, initial designs and initial noise.

Usage: ``make bench-moo`` (5 seeds, 10 for the LATP lab) or ``.venv/bin/python bench/moo.py
[--full] [--seeds N] [--latp-seeds N] [--latp-first-seed S] [--jobs 2] [--methods ehvi,parego,random]
[--setups ...] [--peers] [--out PATH]``; ``--full`` is 20 seeds everywhere. Writes
bench/results/moo.json (with ``--peers``: moo-peers.json), keeping the stored results of the
setups not run this time.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from moo_latp import DEFAULT_SEEDS, METHODS, latp_run, summarise_latp, time_public_batch
from scipy.stats import qmc
from threadpoolctl import threadpool_limits

from kiln.multiobjective.models import fit_models, predict_all
from kiln.multiobjective.pareto import hypervolume, pareto_mask
from kiln.multiobjective.selection import select_pareto_batch

HERE = Path(__file__).resolve().parent
PUBLISHED = {
    "vlmop2": {
        "grid maximum": 0.3345,
        "PHYSBO EHVI": 0.3200,
        "PHYSBO HVPI": 0.3288,
        "PHYSBO random": 0.2377,
    },
    "branin-currin": {
        "maximum": 59.36,
        "BoTorch qNEHVI": 57.77,
        "BoTorch qEHVI": 56.03,
        "BoTorch qNParEGO": 54.32,
    },
}
#: Joint posterior samples of the front for the noisy problem (kiln.multiobjective.scorers).
FRONT_SAMPLES = 32
TARGETS = {"vlmop2": 0.320, "branin-currin": 56.0}


def vlmop2(x: np.ndarray) -> np.ndarray:
    """(f1, f2) to minimise, ``x`` in [-2, 2]^2."""
    c = 1 / math.sqrt(x.shape[1])
    return np.column_stack(
        [1 - np.exp(-((x - c) ** 2).sum(axis=1)), 1 - np.exp(-((x + c) ** 2).sum(axis=1))]
    )


def branin_currin(u: np.ndarray) -> np.ndarray:
    """(Branin, Currin) to minimise, ``u`` in [0, 1]^2."""
    a, b = 15 * u[:, 0] - 5, 15 * u[:, 1]
    branin = (b - 5.1 / (4 * math.pi**2) * a**2 + 5 / math.pi * a - 6) ** 2
    branin += 10 * (1 - 1 / (8 * math.pi)) * np.cos(a) + 10
    x0, x1 = u[:, 0], np.maximum(u[:, 1], 1e-12)
    currin = (
        (1 - np.exp(-1 / (2 * x1)))
        * (2300 * x0**3 + 1900 * x0**2 + 2092 * x0 + 60)
        / (100 * x0**3 + 500 * x0**2 + 4 * x0 + 20)
    )
    return np.column_stack([branin, currin])


@dataclass(frozen=True)
class Setup:
    name: str
    truth: Callable[[np.ndarray], np.ndarray]  # unit-cube inputs -> maximised objectives
    ref: np.ndarray
    n_init: int
    q: int
    n_batches: int
    noise: np.ndarray
    grid: np.ndarray | None  # unit-cube candidates of a discrete problem


GRID = np.stack(np.meshgrid(np.linspace(0, 1, 101), np.linspace(0, 1, 101), indexing="ij"), -1)
SETUPS = {
    "vlmop2-seq": Setup(
        "vlmop2",
        lambda u: -vlmop2(4 * u - 2),
        np.array([-1.0, -1.0]),
        10,
        1,
        40,
        np.zeros(2),
        GRID.reshape(-1, 2),
    ),
    "branin-currin-q4": Setup(
        "branin-currin",
        lambda u: -branin_currin(u),
        np.array([-18.0, -6.0]),
        6,
        4,
        20,
        np.array([15.19, 0.63]),
        None,
    ),
}
SETUPS["vlmop2-q4"] = replace(SETUPS["vlmop2-seq"], q=4, n_batches=10)


def continuous_candidates(X: np.ndarray, Y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A fresh Sobol set plus perturbations of the inputs on the (noisy) observed front."""
    sobol = qmc.Sobol(2, scramble=True, seed=rng).random(2048)
    near = np.repeat(X[pareto_mask(Y)], 64, axis=0)
    wide = np.clip(near + rng.normal(0, 0.03, near.shape), 0, 1)
    # the box's faces, where a gradient optimiser of the acquisition would stop
    faces = np.repeat(sobol[:256], 4, axis=0)
    faces[np.arange(faces.shape[0]), np.tile([0, 0, 1, 1], 256)] = np.tile([0.0, 1.0], 512)
    return np.vstack([sobol, faces, wide])


def run(key: str, method: str, seed: int) -> list[float]:
    """Hypervolume of the true values after the initial design and after every batch."""
    if method == "baybe":  # the opt-in peer (--peers): bench/peers_moo.py, the peers extra
        from peers_moo import run_baybe

        return run_baybe(key, seed)
    s = SETUPS[key]
    rng = np.random.default_rng(seed)
    with threadpool_limits(1):
        if s.grid is not None:
            rows = list(rng.choice(s.grid.shape[0], s.n_init, replace=False))
            X = s.grid[rows]
        else:
            X = qmc.Sobol(2, scramble=True, seed=rng).random(8)[: s.n_init]
        F = s.truth(X)
        Y = F + rng.normal(0, 1, F.shape) * s.noise
        hv = [hypervolume(F, s.ref)]
        models = None
        for _ in range(s.n_batches):
            if s.grid is not None:
                cand, measured = s.grid, np.zeros(s.grid.shape[0], bool)
                measured[rows] = True
            else:
                front_y = Y if models is None else predict_all(models, X)[0]
                cand, measured = continuous_candidates(X, front_y, rng), None
            if method == "random":
                open_ = np.flatnonzero(~measured) if measured is not None else np.arange(len(cand))
                picked = rng.choice(open_, s.q, replace=False)
            else:
                models = fit_models(X, Y, random_state=seed, n_restarts=2, start=models)
                noisy = bool(s.noise.any())
                sel = select_pareto_batch(
                    models,
                    X,
                    Y,
                    cand,
                    s.q,
                    s.ref,
                    acquisition=method,
                    excluded=measured,
                    rng=rng,
                    front_samples=FRONT_SAMPLES if noisy else 0,
                )
                picked = np.array([p.index for p in sel.picks])
            if s.grid is not None:
                rows.extend(int(i) for i in picked)
            Xn = cand[picked]
            Fn = s.truth(Xn)
            X, F = np.vstack([X, Xn]), np.vstack([F, Fn])
            Y = np.vstack([Y, Fn + rng.normal(0, 1, Fn.shape) * s.noise])
            hv.append(hypervolume(F, s.ref))
    return hv


def time_batch(repeats: int = 3) -> dict[str, float]:
    """Seconds to fit two GPs (cold, 5 restarts) and to choose 4 of 10,000 candidates, n = 100."""
    rng = np.random.default_rng(0)
    X = rng.random((100, 2))
    Y = -branin_currin(X)
    cand = rng.random((10_000, 2))
    fits, selects, noisy = [], [], []
    ref = np.array([-18.0, -6.0])
    for _ in range(repeats):
        t0 = time.perf_counter()
        models = fit_models(X, Y, n_restarts=5)
        t1 = time.perf_counter()
        select_pareto_batch(models, X, Y, cand, 4, ref)
        t2 = time.perf_counter()
        select_pareto_batch(models, X, Y, cand, 4, ref, front_samples=FRONT_SAMPLES)
        fits.append(t1 - t0)
        selects.append(t2 - t1)
        noisy.append(time.perf_counter() - t2)
    return {
        "fit_s": float(np.median(fits)),
        "select_s": float(np.median(selects)),
        "select_noisy_s": float(np.median(noisy)),
        "total_s": float(np.median(np.add(fits, selects))),
        "total_noisy_s": float(np.median(np.add(fits, noisy))),
    }


def summarise(results: dict[str, dict[str, list[list[float]]]]) -> None:
    for key, by_method in results.items():
        s = SETUPS[key]
        print(f"\n{key}: {s.n_init} initial + {s.n_batches} batches of q = {s.q}")
        for method, runs in by_method.items():
            final = np.array([r[-1] for r in runs])
            q1, med, q3 = np.percentile(final, [25, 50, 75])
            print(
                f"  {method:8s} final HV median {med:.4f}  quartiles [{q1:.4f}, {q3:.4f}]  "
                f"({len(runs)} seeds)"
            )
        for label, value in PUBLISHED[s.name].items():
            print(f"  {label:18s} {value:.4f}")
        if "ehvi" in by_method:
            med = float(np.median([r[-1] for r in by_method["ehvi"]]))
            target = TARGETS[s.name]
            verdict = "met" if med >= target else f"MISSED by {target - med:.4f}"
            print(f"  target median >= {target}: {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="20 seeds (the acceptance run)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--latp-seeds", type=int, default=DEFAULT_SEEDS)
    parser.add_argument("--latp-first-seed", type=int, default=0, help="e.g. 20: seeds 20..39")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--setups", default=",".join([*SETUPS, "latp-moo"]))
    parser.add_argument("--methods", default="ehvi,parego,random")
    parser.add_argument("--peers", action="store_true", help="add BayBE (bench/peers_moo.py)")
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/moo.json")
    args = parser.parse_args(argv)
    seeds = list(range(20 if args.full else args.seeds))
    first = args.latp_first_seed
    latp_seeds = list(range(first, first + (20 if args.full else args.latp_seeds)))
    keys, methods = args.setups.split(","), args.methods.split(",") + ["baybe"] * args.peers
    latp = "latp-moo" in keys
    keys = [k for k in keys if k != "latp-moo"]
    print(f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}), setups {keys}, methods {methods}")
    if latp:
        print(f"latp-moo: seeds {first}..{latp_seeds[-1]} ({len(latp_seeds)}), methods {METHODS}")
    t0 = time.perf_counter()
    jobs = [(k, m, sd) for k in keys for m in methods for sd in seeds]
    jobs += [("latp-moo", m, sd) for m in METHODS for sd in latp_seeds if latp]
    results: dict[str, dict[str, list[list[float]]]] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for done, ((k, m, _), hv) in enumerate(
            zip(jobs, pool.map(_run, *zip(*jobs, strict=True)), strict=True), 1
        ):
            results.setdefault(k, {}).setdefault(m, []).append(hv)
            if done % 10 == 0 or done == len(jobs):
                print(f"  {done}/{len(jobs)} runs, {time.perf_counter() - t0:.0f} s", flush=True)
    latp_runs = results.pop("latp-moo", None)
    summarise(results)
    latp_table = summarise_latp(latp_runs) if latp_runs else None
    with threadpool_limits(1):
        timing = time_batch()
        public = time_public_batch()
    timing.update({f"propose_pareto_{k}": v for k, v in public.items()})
    print(
        f"\nbatch of 4 at 10,000 candidates, n = 100, 2 objectives (target <= 2 s): fit "
        f"{timing['fit_s']:.2f} s + EHVI selection {timing['select_s']:.2f} s = "
        f"{timing['total_s']:.2f} s; with {FRONT_SAMPLES} front samples (noisy) "
        f"{timing['select_noisy_s']:.2f} s, total {timing['total_noisy_s']:.2f} s"
    )
    print(
        f"through propose_pareto (10,000-point grid, n = 100): {public['cold_s']:.2f} s fitting "
        f"both models, {public['models_given_s']:.2f} s with the models given"
    )
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    out = (
        args.out or HERE / "results" / ("moo-peers.json" if args.peers else "moo.json")
    ).resolve()
    out.parent.mkdir(exist_ok=True)
    if latp_runs:
        results["latp-moo"] = latp_runs
    payload = _kept(out, keys, latp)
    payload["results"].update(results)
    payload.update(timing=timing)
    if keys:
        payload["seeds"] = seeds
    if latp:
        payload.update(latp_seeds=latp_seeds, latp_table=latp_table)
    out.write_text(json.dumps(payload, indent=1))
    shown = out.relative_to(HERE.parent) if out.is_relative_to(HERE.parent) else out
    print(f"wrote {shown}")


def _kept(out: Path, keys: list[str], latp: bool) -> dict:
    """The stored results of the setups not run this time (a LATP-only run keeps the others')."""
    try:
        stored = json.loads(out.read_text())
    except (OSError, ValueError):
        return {"results": {}}
    kept = {k: v for k, v in stored.get("results", {}).items() if k not in keys}
    if latp:
        kept.pop("latp-moo", None)
    return {**stored, "results": kept}


def _run(key: str, method: str, seed: int) -> list[float]:
    """One loop: a problem of :data:`SETUPS` or the virtual LATP lab."""
    return latp_run(method, seed) if key == "latp-moo" else run(key, method, seed)


if __name__ == "__main__":
    sys.exit(main())
