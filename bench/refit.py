"""Refit quality and cost: the worker's refit path against the previous one and a cold fit.

Issue 12: the worker warm-started every refit from the stored model without restarts, and on a
mixed campaign stayed in the first 12-point fit's optimum. This replays campaigns through the
worker's own code (``worker.refits.fit_and_store``, the store on a real Redis started here on
a free port) and, side by side in one run on the same data:

* **worker** (this code): per-column length-scale bounds (numeric 0.01..10, one-hot 0.2..100);
  warm start from the stored model, plus ``EXPLORE_RESTARTS`` seeded random restarts whenever
  the results grew by ``EXPLORE_GROWTH`` since the last exploring refit;
* **previous**: the previous worker path, emulated on the same surrogate: bounds 0.01..100 for
  every column, a cold first fit with 5 restarts, then warm starts without restarts;
* **cold**: a cold fit with 5 restarts (the library's ``fit_model`` default), for each bounds.

Problems: the issue's mixed campaign (two stepped continuous parameters, one discrete, one
3-level categorical; a smooth response with a decoy optimum, the category an additive offset;
noise sd 0.05) and the virtual LATP lab (3 parameters, log10 conductivity). Results arrive in
random order (seeded) from 12 up to 500: batches of 4 until 100, then 4 % of n at a time, with
stops at exactly 50, 200 and 500, where the log marginal likelihood (LML) of each path and of
the cold fits is recorded. Times are those of ``GPSurrogate.fit`` (all optimiser runs of one
refit), the same call on every path, interleaved, so the machine's load hits them alike; the
load average is printed.

Run: ``make bench-refit`` (or ``.venv/bin/python bench/refit.py --seeds 1``). Writes
``bench/results/refit.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import machine
import numpy as np
from refit_problem import MIXED, mixed_truth

from kiln.lab import VirtualLatpLab
from kiln.model.surrogate import GPSurrogate, length_scale_bounds
from kiln.objective import Objective
from kiln.presets import latp_space
from kiln.space import SearchSpace
from kiln_services.devstack.redis_server import RedisServer
from kiln_services.store import Store
from kiln_services.worker import refits

RESULTS = Path(__file__).resolve().parent / "results"
STOPS = (50, 200, 500)
PREVIOUS_BOUNDS = (1e-2, 1e2)


def campaign_rows(problem: str, n: int, seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The campaign definition and ``n`` measured results in random (seeded) order."""
    rng = np.random.default_rng(seed)
    if problem == "mixed":
        campaign = MIXED
        points = SearchSpace.from_dict({"parameters": MIXED["parameters"]}).sample(n, rng)
        values = [mixed_truth(p) + 0.05 * float(rng.standard_normal()) for p in points]
    else:
        campaign = {
            "name": "latp",
            "parameters": latp_space()["parameters"],
            "objective": {"name": "conductivity", "goal": "maximize", "transform": "log10"},
            "strategy": {"acquisition": "ucb", "batch_size": 6, "auto_batch": False},
        }
        lab = VirtualLatpLab(seed=seed)
        points = SearchSpace.from_dict({"parameters": campaign["parameters"]}).sample(n, rng)
        values = [lab.measure(p, rng)["objective"] for p in points]
    rows = [
        {"sample_id": f"s{i}", "parameters": p, "objective": v, "status": "ok"}
        for i, (p, v) in enumerate(zip(points, values, strict=True))
    ]
    return campaign, rows


def sizes(n_max: int) -> list[int]:
    """Data sizes after each arrival: +4 until 100, then +4 % of n, with every stop included."""
    out, n = [12], 12
    while n < n_max:
        n = min(n + (4 if n < 100 else max(4, round(0.04 * n))), n_max)
        nxt = [s for s in STOPS if out[-1] < s < n]
        out.extend([*nxt, n])
    return out


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def onehot(model: GPSurrogate, categorical: list[bool]) -> list[float]:
    """The model's length scales of the one-hot columns."""
    return [float(v) for v, c in zip(model.length_scale_, categorical, strict=True) if c]


class WorkerPath:
    """The worker's refits: fit_and_store on the real store, the surrogate fits timed.

    The time is that of ``GPSurrogate.fit`` within the refit (all of its optimiser runs), the
    same call the emulated previous path times; what the worker does around it (the model's
    summary, the feasibility classifier, storing) did not change.
    """

    def __init__(self, store: Store, campaign: dict[str, Any]) -> None:
        self.store = store
        self.cid = store.campaigns.create(campaign)["id"]
        self.calls: list[dict[str, Any]] = []
        real = GPSurrogate.fit

        def recorded(model: GPSurrogate, *args: Any, **kwargs: Any) -> Any:
            out, seconds = timed(real, model, *args, **kwargs)
            self.calls.append({"seconds": seconds, "restarts": model.n_restarts})
            return out

        self._real = real
        self._recorded = recorded

    def refit(self, rows: list[dict[str, Any]]) -> tuple[GPSurrogate, float, int]:
        self.store.results.append(self.cid, rows)
        GPSurrogate.fit = self._recorded  # type: ignore[method-assign]
        try:
            refits.fit_and_store(self.store, self.store.campaigns.get(self.cid))
        finally:
            GPSurrogate.fit = self._real  # type: ignore[method-assign]
        stored = self.store.models.get(self.cid, with_state=True)
        assert stored is not None
        surrogate = GPSurrogate.from_dict(stored["state"]["surrogate"])
        last = self.calls[-1]
        return surrogate, last["seconds"], last["restarts"]


def run_problem(store: Store, problem: str, seed: int, n_max: int) -> dict[str, Any]:
    campaign, rows = campaign_rows(problem, n_max, seed)
    space = SearchSpace.from_dict({"parameters": campaign["parameters"]})
    objective = Objective.from_dict(campaign["objective"])
    X = space.encode([r["parameters"] for r in rows])
    y = objective.to_model([r["objective"] for r in rows])
    cat = [label is not None for _, label in space.columns()]
    worker = WorkerPath(store, {**campaign, "name": f"{campaign['name']}-{seed}"})  # names unique
    previous: GPSurrogate | None = None
    steps: list[dict[str, Any]] = []
    stops: dict[int, dict[str, Any]] = {}
    done = 0
    for n in sizes(n_max):
        model, t_worker, restarts = worker.refit(rows[done:n])
        done = n
        restarts_previous = 5 if previous is None else 0
        fit = GPSurrogate(restarts_previous, 0, PREVIOUS_BOUNDS).fit
        previous, t_prev = timed(fit, X[:n], y[:n], start=previous)
        steps.append({"n": n, "worker_s": t_worker, "worker_restarts": restarts,
                      "previous_s": t_prev})  # fmt: skip
        if n in STOPS:
            # the library's cold fit (fit_model's default: 5 restarts, the per-column bounds)
            cold, t_cold = timed(GPSurrogate(5, 0, length_scale_bounds(cat)).fit, X[:n], y[:n])
            cold_prev, t_cold_prev = timed(GPSurrogate(5, 0, PREVIOUS_BOUNDS).fit, X[:n], y[:n])
            stops[n] = {
                "worker_lml": model.log_marginal_likelihood_,
                "cold_lml": cold.log_marginal_likelihood_,
                "previous_lml": previous.log_marginal_likelihood_,
                "cold_previous_bounds_lml": cold_prev.log_marginal_likelihood_,
                "worker_s": t_worker,
                "worker_restarts": restarts,
                "previous_s": t_prev,
                "cold_s": t_cold,
                "cold_previous_bounds_s": t_cold_prev,
                "worker_onehot_ls": onehot(model, cat),
                "previous_onehot_ls": onehot(previous, cat),
                "cold_onehot_ls": onehot(cold, cat),
            }
            s = stops[n]
            print(
                f"  {problem} seed {seed} n={n}: LML worker {s['worker_lml']:.2f} "
                f"(restarts {restarts}, {t_worker:.2f} s), previous {s['previous_lml']:.2f} "
                f"({t_prev:.2f} s), cold {s['cold_lml']:.2f} ({t_cold:.2f} s), cold with the "
                f"previous bounds {s['cold_previous_bounds_lml']:.2f} ({t_cold_prev:.2f} s); "
                f"one-hot ls worker {np.round(s['worker_onehot_ls'], 2).tolist()} previous "
                f"{np.round(s['previous_onehot_ls'], 2).tolist()} cold "
                f"{np.round(s['cold_onehot_ls'], 2).tolist()}; load {machine.load_average()}",
                flush=True,
            )
    return {"problem": problem, "seed": seed, "steps": steps, "stops": stops}


def window(steps: list[dict[str, Any]], key: str, lo: int, hi: int) -> float:
    return statistics.median(s[key] for s in steps if lo <= s["n"] <= hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--n-max", type=int, default=500)
    parser.add_argument("--problems", nargs="+", default=["mixed", "latp"])
    args = parser.parse_args()
    load_before = machine.load_average()
    print(f"load before {load_before}", flush=True)
    runs = []
    with tempfile.TemporaryDirectory() as tmp, RedisServer(tmp) as server:
        store = Store.from_url(server.url)
        for problem in args.problems:
            for seed in range(args.seeds):
                runs.append(run_problem(store, problem, seed, args.n_max))
    print("\n| problem | seed | n | LML worker | previous | cold | worker - cold | "
          "fit s worker | previous | cold |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        for n, s in sorted(run["stops"].items()):
            print(
                f"| {run['problem']} | {run['seed']} | {n} | {s['worker_lml']:.2f} | "
                f"{s['previous_lml']:.2f} | {s['cold_lml']:.2f} | "
                f"{s['worker_lml'] - s['cold_lml']:+.2f} | {s['worker_s']:.2f}"
                f"{'*' if s['worker_restarts'] else ''} | {s['previous_s']:.2f} | "
                f"{s['cold_s']:.2f} |"
            )
    print("(* an exploring refit, with restarts)\n")
    print("Median fit time per refit over the bench-loop range (n 86-380) and the whole path:")
    summary = []
    for run in runs:
        for lo, hi in ((86, 380), (12, 500)):
            if not any(lo <= s["n"] <= hi for s in run["steps"]):
                continue
            w = window(run["steps"], "worker_s", lo, hi)
            p = window(run["steps"], "previous_s", lo, hi)
            explored = sum(s["worker_restarts"] > 0 for s in run["steps"] if lo <= s["n"] <= hi)
            total = sum(lo <= s["n"] <= hi for s in run["steps"])
            summary.append({"problem": run["problem"], "seed": run["seed"], "n": [lo, hi],
                            "worker_median_s": w, "previous_median_s": p,
                            "explored": explored, "refits": total})  # fmt: skip
            print(
                f"  {run['problem']} seed {run['seed']} n {lo}-{hi}: worker {w:.3f} s, previous "
                f"{p:.3f} s, ratio {w / p:.2f}; {explored} of {total} refits explored"
            )
    load_after = machine.load_average()
    print(f"load before {load_before}, after {load_after}")
    RESULTS.mkdir(exist_ok=True)
    out = {"machine": machine.describe(),
           "load_before": load_before, "load_after": load_after, "runs": runs,
           "summary": summary}  # fmt: skip
    (RESULTS / "refit.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
