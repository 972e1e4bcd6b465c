"""bench-loop's report: the statistics of a setting's loops, the table and the figure."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import machine
from harness.figures import cpus_and_load, pyplot, save
from harness.report import dash, log, print_targets
from harness.timing import quantile

TARGET_P50_S = 2.0


def stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = [r["latency_s"] for r in rows]
    out: dict[str, Any] = {
        "p50_s": quantile(latencies, 0.5),
        "p95_s": quantile(latencies, 0.95),
        "max_s": max(latencies),
        "n_max": max(r["n"] for r in rows),
    }
    for part in ("post_s", "refit_s", "propose_s", "notify_s"):
        values = [r[part] for r in rows if r[part] is not None]
        out[f"median_{part}"] = statistics.median(values) if values else None
    return out


def print_table(payload: dict[str, Any]) -> None:
    log("")
    log(f"Results posted -> next batch at a long-polling client ({payload['setup']})")
    log(f"machine: {machine.summary(payload['machine'])}")
    header = (
        f"{'workers':>7} {'labs':>4} {'loops':>5} {'n max':>5} {'p50 s':>6} {'p95 s':>6} "
        f"{'max s':>6} | {'post':>5} {'refit':>5} {'propose':>7} {'notify':>6}  load"
    )
    log(header)
    log("-" * len(header))
    for s in payload["settings"]:
        log(
            f"{s['workers']:>7} {s['labs']:>4} {len(s['loops']):>5} {s['n_max']:>5} "
            f"{s['p50_s']:6.2f} {s['p95_s']:6.2f} {s['max_s']:6.2f} | "
            f"{dash(s['median_post_s'], '.2f'):>5} {dash(s['median_refit_s'], '.2f'):>5} "
            f"{dash(s['median_propose_s'], '.2f'):>7} {dash(s['median_notify_s'], '.2f'):>6}  "
            f"{s['load_average_before'][0]:.1f}-{s['load_average_after'][0]:.1f}"
        )
    log("(post | refit | propose | notify: medians of the parts, from server timestamps;")
    log(" load: 1-minute load average before and after the setting)")
    log("")
    print_targets(payload["targets"])


def plot(payload: dict[str, Any], path: Path) -> None:
    fig, axes = pyplot().subplots(1, 2, figsize=(12, 4.2))
    ax = axes[0]
    for s in payload["settings"]:
        rows = sorted(s["loops"], key=lambda r: r["n"])
        ax.plot(
            [r["n"] for r in rows],
            [r["latency_s"] for r in rows],
            ".",
            label=f"{s['workers']} worker(s), {s['labs']} lab(s): p50 {s['p50_s']:.2f} s",
        )
    ax.axhline(TARGET_P50_S, color="k", ls="--", lw=1)
    ax.set_xlabel("observations in the campaign (n)")
    ax.set_ylabel("results posted -> next batch seen [s]")
    ax.set_title("each loop (dashed: p50 target)")
    ax.legend(fontsize=8)
    ax = axes[1]
    parts = ("post_s", "refit_s", "propose_s", "notify_s")
    labels = [f"{s['workers']}w/{s['labs']}l" for s in payload["settings"]]
    bottom = [0.0] * len(labels)
    for part in parts:
        heights = [s[f"median_{part}"] or 0.0 for s in payload["settings"]]
        ax.bar(labels, heights, bottom=bottom, label=part.removesuffix("_s"))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel("median seconds")
    ax.set_title("where the time goes (workers / labs)")
    ax.legend(fontsize=8)
    fig.suptitle(f"Kiln closed loop, {cpus_and_load(payload['machine'])}")
    save(fig, path, dpi=110)
