"""bench-intake's report: medians over the repeats, the table and the figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import machine
from harness.figures import cpus_and_load, pyplot, save
from harness.report import dash, log, print_targets
from harness.timing import median_or_none

TARGET_RATIO = 0.5  # intake throughput >= 50 % of the no-op ceiling
TARGET_RATE = 1000.0  # requests/s of the fixed-rate run
TARGET_P99_MS = 50.0  # p99 at that rate
TARGET_CSV_S = 2.0  # a 10,000-row CSV stored


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("rps", "p50_ms", "p99_ms", "mean_ms", "generator_cores")
    out: dict[str, Any] = {f"median_{k}": median_or_none([r[k] for r in runs]) for k in keys}
    for name in runs[0]["cores_busy"]:
        out[f"median_cores_{name}"] = median_or_none([r["cores_busy"][name] for r in runs])
    out["failures"] = sum(r["failures"] for r in runs)
    out["generator_cpu_warning"] = any(r["generator_cpu_warning"] for r in runs)
    return out


def print_table(payload: dict[str, Any]) -> None:
    log("")
    log(f"Intake throughput on loopback ({payload['setup']})")
    log(
        f"machine: {machine.summary(payload['machine'])}; "
        f"load average after: {payload['load_average_after']}"
    )
    header = (
        f"{'run':<26} {'target':<7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'server':>7} {'redis':>6} {'locust':>7}"
    )
    log(header)
    log("-" * len(header))
    for scenario in ("max", "fixed"):
        block = payload["scenarios"][scenario]
        for target in ("noop", "intake"):
            s = block[target]
            log(
                f"{block['label']:<26} {target:<7} {dash(s['median_rps'], '7.0f')} "
                f"{dash(s['median_p50_ms'], '7.0f')} {dash(s['median_p99_ms'], '7.0f')} "
                f"{dash(s['median_cores_server'], '7.2f')} {dash(s['median_cores_redis'], '6.2f')} "
                f"{dash(s['median_generator_cores'], '7.2f')}"
            )
    log("(server, redis, locust: CPU cores busy during the run; medians of the repeats)")
    csv_runs = payload["csv"]
    log(
        f"CSV, {csv_runs['rows']:,} rows ({csv_runs['bytes'] / 1024:.0f} KiB) posted to a new "
        f"campaign: median {csv_runs['median_s']:.2f} s over {len(csv_runs['seconds'])} runs "
        f"({', '.join(f'{s:.2f}' for s in csv_runs['seconds'])})"
    )
    log("")
    print_targets(payload["targets"])


def plot(payload: dict[str, Any], path: Path) -> None:
    fig, axes = pyplot().subplots(1, 3, figsize=(13, 4))
    colors = {"noop": "#9e9e9e", "intake": "#c0392b"}
    scen = payload["scenarios"]
    ax = axes[0]
    for i, target in enumerate(("noop", "intake")):
        runs = scen["max"]["runs"][target]
        ax.bar(i, scen["max"][target]["median_rps"], color=colors[target], alpha=0.8)
        ax.plot([i] * len(runs), [r["rps"] for r in runs], "k.", ms=6)
    ax.set_xticks([0, 1], ["no-op ceiling", "intake"])
    ax.set_ylabel("requests/s (back to back)")
    ax.set_title(f"throughput, {scen['max']['users']} users")
    ax = axes[1]
    width = 0.2
    for j, (scenario, label) in enumerate((("max", "back to back"), ("fixed", "fixed rate"))):
        for k, target in enumerate(("noop", "intake")):
            s = scen[scenario][target]
            x = j + (k - 0.5) * 2 * width
            ax.bar(x - width / 2, s["median_p50_ms"] or 0, width, color=colors[target], alpha=0.5)
            ax.bar(x + width / 2, s["median_p99_ms"] or 0, width, color=colors[target])
        ax.text(j, 0, label, ha="center", va="bottom", fontsize=8)
    ax.axhline(TARGET_P99_MS, color="k", ls="--", lw=1)
    ax.set_xticks([0, 1], ["back to back", f"{scen['fixed']['offered_rate']:.0f}/s offered"])
    ax.set_ylabel("latency ms (light: p50, dark: p99)")
    ax.set_title("latency; dashed: p99 target")
    ax = axes[2]
    seconds = payload["csv"]["seconds"]
    ax.plot(range(1, len(seconds) + 1), seconds, "o-", color=colors["intake"])
    ax.axhline(TARGET_CSV_S, color="k", ls="--", lw=1)
    ax.set_ylim(0, max([*seconds, TARGET_CSV_S]) * 1.2)
    ax.set_xlabel("run")
    ax.set_ylabel("seconds")
    ax.set_title(f"{payload['csv']['rows']:,}-row CSV post (dashed: target)")
    fig.suptitle(f"Kiln intake on loopback — {cpus_and_load(payload['machine'])}")
    save(fig, path, dpi=110)
