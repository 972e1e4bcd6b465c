"""bench-quality's report: a table per problem, the acceptance lines, the figure and the JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import machine
import numpy as np
from harness.figures import pyplot, save
from harness.report import write_json
from problems import Problem
from quality_summary import budget_of


def _fmt_q(q: tuple[float, float, float], digits: int = 3) -> str:
    def one(x: float) -> str:
        return "inf" if math.isinf(x) else f"{x:.{digits}g}"

    return f"{one(q[1])} [{one(q[0])}, {one(q[2])}]"


def print_acceptance(checks: Mapping[str, Any] | None) -> None:
    """One line per check."""
    if checks is None:
        return
    if "within_or_better" in checks:
        q1, q3 = checks["library_regret_quartiles"]
        print(
            f"   service median regret {checks['service_regret_median']:.3g} vs library quartiles "
            f"[{q1:.3g}, {q3:.3g}]: {'ok' if checks['within_or_better'] else 'OUTSIDE'}"
        )
        return
    for level, c in checks.items():
        q1, q3 = c["library_needed_quartiles"]
        line = (
            f"   {level}: service median {c['service_needed_median']:.3g} experiments vs library "
            f"quartiles [{q1:.3g}, {q3:.3g}]: {'ok' if c['within_or_better'] else 'OUTSIDE'}"
        )
        if "paper_gp_af" in c:
            af_s, af_p = c["service_af"], c["paper_gp_af"]
            line += f"; AF service {_fmt_af(af_s)} vs paper-gp {_fmt_af(af_p)}"
        print(line)


def _fmt_af(af: float | None) -> str:
    return "-" if af is None else f"{af:.2f}"


def print_grid(problem: Problem, summary: Mapping[str, Any]) -> None:
    """The table of a grid problem."""
    print(
        f"\n== {problem.name}: {problem.description}\n   {problem.n_init} initial + "
        f"{problem.n_batches} batches of {problem.batch_size}; optimum {problem.optimum:.4g} "
        f"(grid median {problem.median:.4g}); medians [quartiles] over seeds after the last batch"
    )
    unit = " (decades)" if problem.score_transform == "log10" else ""
    print(
        f"   {'method':<14} {'seeds':>5}  {'best true':<26} {'regret' + unit:<26} "
        f"{'% of the way median->opt':<26} {'s/batch':>8}"
    )
    for method, s in summary.items():
        share = tuple(100 * x for x in s["final"]["share"])
        spb = s["seconds_per_batch_median"]
        print(
            f"   {method:<14} {s['seeds']:>5}  {_fmt_q(s['final']['best'], 4):<26} "
            f"{_fmt_q(s['final']['regret']):<26} {_fmt_q(share):<26} "  # type: ignore[arg-type]
            f"{spb if spb is None else f'{spb:.3f}':>8}"
        )


def print_pool(problem: Problem, summary: Mapping[str, Any]) -> None:
    """The table of a pool problem."""
    k_top = len(problem.top_set)
    print(
        f"\n== {problem.name}: {problem.description}\n   top set {k_top} of {problem.size} rows; "
        f"{problem.n_init} initial + up to {problem.n_batches} batches of {problem.batch_size} "
        f"(paper-gp: one pick per step, same budget {budget_of(problem)}); experiments to a share "
        "of the top set: median [quartiles] over seeds (inf: not within the budget); AF = "
        "random's exact expectation / the median; EF = mean share found / random's n/N"
    )
    levels = list(next(iter(summary.values()))["levels"])
    efs = list(next(iter(summary.values()))["ef"])
    head = "".join(f"{'n to ' + lv:<22}" for lv in levels)
    head += "".join(f"{'AF ' + lv:>8}" for lv in levels[:-1])
    head += "".join(f"{'EF@' + b:>8}" for b in efs)
    print(f"   {'method':<14} {'seeds':>5}  {head} {'s/batch':>8}")
    for method, s in summary.items():
        row = "".join(f"{_fmt_q(tuple(s['levels'][lv]['needed_quartiles'])):<22}" for lv in levels)
        for lv in levels[:-1]:
            af = s["levels"][lv]["af"]
            row += f"{'-' if af is None else f'{af:.2f}':>8}"
        row += "".join(f"{s['ef'][b]:>8.2f}" for b in efs)
        spb = s["seconds_per_batch_median"]
        print(f"   {method:<14} {s['seeds']:>5}  {row} {spb if spb is None else f'{spb:.3f}':>8}")
    first = next(iter(summary.values()))["levels"]
    print(
        "   random (exact expectation): "
        + ", ".join(f"{lv}: {first[lv]['random_expected']:.1f}" for lv in levels)
    )


COLORS = {
    "kiln-service": "tab:blue",
    "kiln-library": "tab:orange",
    "random": "tab:gray",
    "paper-gp": "tab:green",
    "baybe": "tab:red",
}


def plot(problem: Problem, summary: Mapping[str, Any], path: Path) -> None:
    """Median line and quartile band per method against experiments."""
    fig, ax = pyplot().subplots(figsize=(7, 4.5))
    for method, s in summary.items():
        color = COLORS.get(method)
        if problem.pool is None:
            x = [problem.n_init + b * problem.batch_size for b in range(problem.n_batches + 1)]
            q = np.array(s["per_batch"]["regret"])
            ylabel = "simple regret" + (" (decades)" if problem.score_transform == "log10" else "")
        else:
            x = list(range(1, budget_of(problem) + 1))
            q = np.array(s["found_quartiles"])
            ylabel = f"top-set rows found (of {len(problem.top_set)})"
        ax.plot(x, q[:, 1], label=f"{method} ({s['seeds']} seeds)", color=color)
        ax.fill_between(x, q[:, 0], q[:, 2], alpha=0.2, color=color)
    if problem.pool is not None:
        x = np.arange(1, budget_of(problem) + 1)
        ax.plot(x, len(problem.top_set) * x / problem.size, "k--", lw=1, label="random (exact)")
    else:
        ax.set_yscale("symlog", linthresh=1e-3 if problem.score_transform == "log10" else 1e-2)
    ax.set_xlabel("experiments")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{problem.name}: median and quartiles over seeds")
    ax.legend(fontsize=8)
    save(fig, path, dpi=110)


def finite(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, infinities (never reached) and NaN to None."""
    if isinstance(value, Mapping):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def print_summary(problem: Problem, summary: Mapping[str, Any]) -> None:
    """The table of a grid or a pool problem."""
    if problem.pool is None:
        print_grid(problem, summary)
    else:
        print_pool(problem, summary)


def write_report(path: Path, report: dict[str, Any]) -> None:
    """The report as strict JSON (see :func:`finite`)."""
    write_json(path, finite(report), indent=1, allow_nan=False)


def report_head(
    benchmark: str,
    info: dict[str, Any],
    wall: float,
    seeds: Any,
    jobs: int,
    pools: Mapping[str, bool],
) -> dict[str, Any]:
    """The first keys of quality.json / peers.json: the run, its machine, seeds and processes."""
    return {
        "benchmark": benchmark,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "load_average_after": machine.load_average(),
        "wall_seconds": wall,
        "seeds": seeds,
        "jobs": jobs,
        "pools_supported": pools,
    }


def finish(report: dict[str, Any], out: Path, name: str, wall: float) -> None:
    """Print the wall time and the load, write <name>.json and say where the files are."""
    print(
        f"\nwall time {wall:.0f} s; load average before {report['machine']['load_average']}, "
        f"after {report['load_average_after']}"
    )
    path = out / f"{name}.json"
    write_report(path, report)
    print(f"wrote {path} and {out}/{name}-<problem>.png")
