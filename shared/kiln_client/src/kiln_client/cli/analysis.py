"""`kiln model` and `kiln benchmark`: what the model holds, and strategies compared on a campaign."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping
from typing import Any

import click

from kiln_client.cli.eta import about, progress_line
from kiln_client.cli.options import campaign_argument, json_option
from kiln_client.cli.output import counted, echo_json, number, sci, table
from kiln_client.cli.root import client_of
from kiln_client.client import Client, Job
from kiln_client.vocabulary import ACQUISITIONS


@click.command("model")
@campaign_argument
@json_option("the model summary")
@click.pass_context
def model(ctx: click.Context, campaign_id: str, as_json: bool) -> None:
    """Show a campaign's latest model (one per objective for a multi-objective campaign).

    Kernel, log marginal likelihood, best observed and best predicted.
    """
    info = client_of(ctx).model(campaign_id)
    if as_json:
        echo_json(info)
        return
    summary = info.get("summary", {})
    click.echo(
        f"Model v{info.get('model_version')} (data v{info.get('data_version')}, "
        f"space v{info.get('space_version')}), fitted {info.get('fitted_at', '')[:19]}"
    )
    # A multi-objective campaign's summary has one entry per objective (``summary.objectives``).
    for part in summary.get("objectives") or [summary]:
        indent = "  "
        if part is not summary:
            click.echo(f"  {part.get('name')}:")
            indent = "    "
        for line in summary_lines(part):
            click.echo(indent + line)


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """One model's summary: kernel, fit, length scales, leave-one-out error, best observed and
    best predicted."""
    lines = [
        f"{key.replace('_', ' ')}: {number(summary[key])}"
        for key in ("kernel", "log_marginal_likelihood", "n_observations")
        if key in summary
    ]
    hyper = summary.get("hyperparameters") or {}
    scales = hyper.get("length_scales") or {}
    # a log-scale parameter's length scale is a factor ("x3": from 10 to 30 min), not minutes
    factors = set(hyper.get("length_scale_factors") or [])
    if scales:
        lines.append(
            "length scales: "
            + ", ".join(f"{k} {'x' if k in factors else ''}{number(v)}" for k, v in scales.items())
        )
    loo = summary.get("leave_one_out") or {}
    if loo.get("rmse") is not None:
        unit = f" {loo['unit']}" if loo.get("unit") else ""
        lines.append(f"leave-one-out error: rmse {sci(loo['rmse'])}{unit} over {loo.get('n')}")
    for key in ("best_observed", "best_predicted"):
        best = summary.get(key) or {}
        if best:
            where = ", ".join(f"{k}={number(v)}" for k, v in (best.get("parameters") or {}).items())
            value = best.get("objective", best.get("mean"))
            lines.append(f"{key.replace('_', ' ')}: {sci(value)} at {where}")
    return lines


@click.command("benchmark")
@campaign_argument
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    type=click.Choice(ACQUISITIONS),
    help="A strategy to compare (repeatable; default all four).",
)
@click.option(
    "--n-init",
    "n_inits",
    multiple=True,
    type=click.IntRange(1),
    help="Initial sample count n (repeatable; default 1 5 10 15 20 30 40 50).",
)
@click.option("--repeats", type=click.IntRange(1, 1000), help="Runs per strategy and n (200).")
@click.option("--seed", type=click.IntRange(0), help="Random seed (0).")
@click.option("--no-wait", is_flag=True, help="Print the job id and return at once.")
@json_option("the finished job")
@click.option(
    "--max-wait",
    type=float,
    default=3600,
    show_default=True,
    help="Seconds to wait for the result.",
)
@click.pass_context
def benchmark(
    ctx: click.Context,
    campaign_id: str,
    strategies: tuple[str, ...],
    n_inits: tuple[int, ...],
    repeats: int | None,
    seed: int | None,
    no_wait: bool,
    as_json: bool,
    max_wait: float,
) -> None:
    """Compare strategies by virtual experiments on a campaign's data.

    The study's model-selection protocol: draw n initial samples from the campaign's own data,
    let each strategy pick from the same pool and count the extra tries until it finds the best
    sample. The workers run the repeats in parallel: the command says how long the job should
    take once it is planned, then the share done and the time left as chunks finish.

    \b
    Examples:
      kiln benchmark latp-2026
      kiln benchmark latp-2026 --strategy ucb --strategy random --n-init 5 --n-init 15 --repeats 50
    """
    client = client_of(ctx)
    job = client.start_benchmark(
        campaign_id,
        strategies=list(strategies) or None,
        n_inits=list(n_inits) or None,
        repeats=repeats,
        seed=seed,
    )
    click.echo(f"Benchmark job {job['id']} started.", err=True)
    click.echo(
        f"Dashboard: {client.base_url}/campaigns/{campaign_id}?benchmark={job['id']}", err=True
    )
    if no_wait:
        click.echo(job["id"])
        return
    finished = follow_benchmark(client, job["id"], max_wait)
    if as_json:
        echo_json(finished)
        return
    click.echo(format_benchmark(finished.get("result") or {}))


def follow_benchmark(client: Client, job_id: str, max_wait: float) -> Job:
    """Wait for a benchmark job: say its estimated duration once planned, then a progress bar
    with the share done and the time left ("35 % · about 4 min left")."""
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []  # the progress bar, once the job is planned

        def update(seen: Job) -> None:
            progress = seen.get("progress") or {}
            total, done = int(progress.get("total") or 0), int(progress.get("done") or 0)
            if not bars:
                if not total:
                    return  # not planned yet
                estimate = progress.get("estimated_seconds")
                if estimate is not None:
                    click.echo(
                        f"{counted(total, 'repeat')}, estimated at {about(float(estimate))} "
                        "(Ctrl-C stops waiting, not the job).",
                        err=True,
                    )
                bars.append(
                    stack.enter_context(
                        click.progressbar(
                            length=total,
                            label="Virtual experiments",
                            file=sys.stderr,
                            show_percent=False,
                            show_eta=False,
                            item_show_func=lambda text: text,
                        )
                    )
                )
            line = progress_line(progress, time.monotonic() - started)
            bars[0].update(max(0, done - bars[0].pos), line)

        return client.wait_for_job(job_id, timeout=max_wait, on_update=update)


def format_benchmark(result: Mapping[str, Any]) -> str:
    """The virtual-experiment table: per strategy and n, how often it found the best, in how many.

    Each cell reads "found/runs  mean extra tries" (the mean over the runs that found it).
    """
    table_data: Mapping[str, Mapping[str, Any]] = result.get("table") or {}
    ns = sorted({int(n) for rows in table_data.values() for n in rows})
    rows = []
    for strategy, per_n in table_data.items():
        cells = []
        for n in ns:
            cell = per_n.get(str(n)) or {}
            if not cell:
                cells.append("-")
                continue
            tries = cell.get("mean_extra_tries")
            mean = "-" if tries is None else f"{tries:.1f}"
            cells.append(f"{cell.get('found')}/{cell.get('runs')} {mean:>5}")
        rows.append([strategy, *cells])
    heading = (
        f"Virtual experiments on {counted(int(result.get('pool_size') or 0), 'result')} "
        f"({result.get('repeats')} repeats; cell: found best/runs, mean extra tries)"
    )
    return f"{heading}\n{table(['strategy', *[f'n={n}' for n in ns]], rows)}"
