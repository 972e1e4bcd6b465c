"""bench-proposal's report: the tables, the target verdicts and the figure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.figures import pyplot, save
from harness.report import dash
from proposal_cases import GRIDS, METHODS, TARGET, TARGET_RATIO, TARGET_SECONDS, is_target


def summarise(
    rows: list[dict[str, Any]],
    refits: dict[int, dict[str, Any]],
    skipped: list[dict[str, Any]],
    load_start: tuple[float, float, float],
    load_end: tuple[float, float, float],
) -> dict[str, Any]:
    """Print the tables and the target verdicts; return the verdicts."""
    print_refits(refits)
    print_cells(rows)
    mem_rows = [r for r in rows if "memory" in r]
    print_memory(mem_rows)
    if skipped:
        print("\nskipped alternative cells")
        for s in skipped:
            print(f"  {s['method']:<5} q={s['q']:<2} n={s['n']:<4} N={s['N']:<9,} {s['reason']}")
    target = next(r for r in rows if is_target(r["q"], r["n"], r["N"]))
    verdict = verdicts(rows, refits, target, mem_rows)
    verdict["load_average_start"] = load_start
    verdict["load_average_end"] = load_end
    print_verdicts(target, verdict, mem_rows)
    print(
        f"load average: start {load_start[0]:.2f} / end {load_end[0]:.2f} (1 min) on "
        f"{os.cpu_count()} cores"
    )
    return verdict


def print_refits(refits: dict[int, dict[str, Any]]) -> None:
    """The refit table: cold and warm medians per n."""
    print("\nrefit (GPSurrogate.fit), median seconds")
    print(f"{'n':>5} {'cold, 5 restarts':>17} {'warm, 0 restarts':>17}  kernel (warm)")
    for n, r in sorted(refits.items()):
        print(f"{n:>5} {r['cold_median_s']:>17.3f} {r['warm_median_s']:>17.3f}  {r['kernel']}")


def print_cells(rows: list[dict[str, Any]]) -> None:
    """The refit + batch table, one line per cell."""
    print("\nrefit + batch, median seconds (total = warm refit + batch; skopt = tell + ask)")
    head = (
        f"{'q':>3} {'n':>5} {'N':>9} | {'kiln batch':>10} {'total':>7} | {'naive':>7} "
        f"{'ratio':>6} | {'skopt':>7} {'ratio':>6} | {'same':>4} {'load':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in sorted(rows, key=lambda r: (r["n"], r["N"], r["q"])):
        same = r["same_picks_kiln_naive"]
        print(
            f"{r['q']:>3} {r['n']:>5} {r['N']:>9,} | {r['kiln_batch_s']:>10.3f} "
            f"{r['kiln_total_s']:>7.3f} | {dash(r['naive_total_s'], '7.3f')} "
            f"{dash(r['ratio_naive'], '5.1f')}x | {dash(r['skopt_total_s'], '7.3f')} "
            f"{dash(r['ratio_skopt'], '5.1f')}x | {'-' if same is None else str(same):>4} "
            f"{r['load_1min']:>5.2f}"
        )


def print_memory(mem_rows: list[dict[str, Any]]) -> None:
    """Peak memory per method at q = 6, beside one unchunked n x N matrix."""
    if not mem_rows:
        return
    print("\npeak memory at q = 6, MiB above the process's RSS before the batch")
    print(f"{'n':>5} {'N':>9} | {'kiln':>7} {'naive':>7} {'skopt':>7} | unchunked n*N*8")
    for r in sorted(mem_rows, key=lambda r: (r["n"], r["N"])):
        cells = [dash(r["memory"].get(m, {}).get("peak_above_before_mib"), "7.0f") for m in METHODS]
        print(
            f"{r['n']:>5} {r['N']:>9,} | {' '.join(f'{c:>7}' for c in cells)} | "
            f"{r['n'] * r['N'] * 8 / 2**20:>8.0f}"
        )


def verdicts(
    rows: list[dict[str, Any]],
    refits: dict[int, dict[str, Any]],
    target: dict[str, Any],
    mem_rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """The target cell's numbers and whether its targets are met."""
    q6 = [r for r in rows if r["q"] == TARGET["q"]]
    big = [r for r in mem_rows if r["N"] == 1_000_000 and "kiln" in r["memory"]]
    return {
        "target_cell": TARGET,
        "kiln_total_cpu_s": refits[TARGET["n"]]["warm_cpu_median_s"] + target["kiln_batch_cpu_s"],
        "kiln_total_s": target["kiln_total_s"],
        "kiln_batch_s": target["kiln_batch_s"],
        "kiln_total_cold_refit_s": target["kiln_total_cold_s"],
        "under_1s": target["kiln_total_s"] < TARGET_SECONDS,
        "under_1s_with_cold_refit": target["kiln_total_cold_s"] < TARGET_SECONDS,
        "ratio_naive": target["ratio_naive"],
        "ratio_skopt": target["ratio_skopt"],
        "ratio_naive_batch_only": target["ratio_naive_batch"],
        "ratio_skopt_ask_only": target["ratio_skopt_batch"],
        "min_ratio_naive_q6": min((r["ratio_naive"] for r in q6 if r["ratio_naive"]), default=None),
        "min_ratio_skopt_q6": min((r["ratio_skopt"] for r in q6 if r["ratio_skopt"]), default=None),
        "ten_times_both": bool(
            target["ratio_naive"] >= TARGET_RATIO and target["ratio_skopt"] >= TARGET_RATIO
        ),
        "kiln_peak_mib_at_1e6": {
            str(r["n"]): r["memory"]["kiln"].get("peak_above_before_mib") for r in big
        },
    }


def print_verdicts(
    target: dict[str, Any], verdict: dict[str, Any], mem_rows: list[dict[str, Any]]
) -> None:
    """The target lines: time under 1 s, ratios of 10x, peak memory at N = 10^6."""
    print(
        f"\ntarget q=6, n=200, N=10^5: kiln {target['kiln_total_s']:.3f} s "
        f"(warm refit {target['kiln_refit_warm_s']:.3f} + batch {target['kiln_batch_s']:.3f}; "
        f"CPU {verdict['kiln_total_cpu_s']:.3f} s; with the cold refit "
        f"{target['kiln_total_cold_s']:.3f} s): "
        f"{'MET' if verdict['under_1s'] else 'NOT MET'} (< {TARGET_SECONDS:.0f} s on "
        f"{os.cpu_count()} cores; cold refit: "
        f"{'met' if verdict['under_1s_with_cold_refit'] else 'not met'})"
    )
    print(
        f"ratios at the target cell: naive {target['ratio_naive']:.1f}x "
        f"(batch alone {target['ratio_naive_batch']:.1f}x), skopt {target['ratio_skopt']:.1f}x "
        f"(ask alone {target['ratio_skopt_batch']:.1f}x): "
        f"{'MET' if verdict['ten_times_both'] else 'NOT MET'} (>= {TARGET_RATIO:.0f}x both)"
    )
    print(
        f"smallest ratio over the measured q=6 cells: naive "
        f"{dash(verdict['min_ratio_naive_q6'], '.1f')}x, "
        f"skopt {dash(verdict['min_ratio_skopt_q6'], '.1f')}x"
    )
    big = [r for r in mem_rows if r["N"] == 1_000_000 and "kiln" in r["memory"]]
    if big:
        print(
            "kiln peak memory at N=10^6: "
            + ", ".join(
                f"n={r['n']}: {r['memory']['kiln'].get('peak_above_before_mib', 0):.0f} MiB "
                f"(unchunked k(C, X) alone: {r['n'] * r['N'] * 8 / 2**20:.0f} MiB)"
                for r in big
            )
        )


STYLES = {
    "kiln": ("Kiln (warm refit + believer)", "tab:blue", "o"),
    "naive": ("naive believer", "tab:orange", "s"),
    "skopt": ("scikit-optimize cl_min", "tab:green", "^"),
}


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Refit + batch against N at n = 200 and 1000, and peak memory against N (q = 6)."""
    fig, axes = pyplot().subplots(1, 3, figsize=(15, 4.4))
    q6 = [r for r in rows if r["q"] == TARGET["q"]]
    for ax, n in zip(axes[:2], (TARGET["n"], 1000), strict=True):
        plot_times(ax, q6, n)
    plot_memory(axes[2], q6)
    fig.suptitle("Proposal latency on the virtual LATP lab (UCB, medians)")
    save(fig, path, dpi=120)


def plot_times(ax: Any, q6: list[dict[str, Any]], n: int) -> None:
    """Each method's refit + batch seconds against N at `n` observations."""
    for method, (label, color, marker) in STYLES.items():
        pts = sorted(
            (r["N"], r[f"{method}_total_s"])
            for r in q6
            if r["n"] == n and r[f"{method}_total_s"] is not None
        )
        if pts:
            ax.plot(*zip(*pts, strict=True), marker=marker, color=color, label=label)
    ax.axhline(TARGET_SECONDS, color="0.5", linestyle=":", linewidth=1)
    ax.set(xscale="log", yscale="log", xlabel="candidates N", ylabel="refit + batch [s]")
    ax.set_title(f"q = 6, n = {n}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def plot_memory(ax: Any, q6: list[dict[str, Any]]) -> None:
    """Each method's peak memory against N, beside one n x N float64 matrix."""
    for method, (label, color, marker) in STYLES.items():
        for n, ls in ((200, "-"), (1000, "--")):
            pts = sorted(
                (r["N"], r["memory"][method]["peak_above_before_mib"])
                for r in q6
                if r["n"] == n
                and "memory" in r
                and "peak_above_before_mib" in r["memory"].get(method, {})
            )
            if pts:
                ax.plot(
                    *zip(*pts, strict=True),
                    marker=marker,
                    color=color,
                    linestyle=ls,
                    label=f"{label.split(' (')[0]}, n={n}",
                )
    Ns = sorted(GRIDS)
    for n, ls in ((200, "-"), (1000, "--")):
        ax.plot(
            Ns,
            [n * N * 8 / 2**20 for N in Ns],
            color="0.6",
            linestyle=ls,
            linewidth=1,
            label=f"one n x N float64 matrix, n={n}",
        )
    ax.set(xscale="log", yscale="log", xlabel="candidates N", ylabel="peak memory [MiB]")
    ax.set_title("peak memory above baseline, q = 6")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
