"""`kiln pareto`: a multi-objective campaign's front, reference point and hypervolume history."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import click

from kiln_client.cli.options import campaign_argument, json_option
from kiln_client.cli.output import counted, echo_json, number, sci, table
from kiln_client.cli.root import client_of

#: The hypervolume history rows printed (the newest); ``--json`` has them all.
HISTORY_ROWS = 20
#: What marks a reference coordinate derived from the data (no threshold given).
DERIVED = "*"


@click.command("pareto")
@campaign_argument
@json_option("the Pareto report")
@click.pass_context
def pareto(ctx: click.Context, campaign_id: str, as_json: bool) -> None:
    """Show a multi-objective campaign's Pareto front and hypervolume.

    The objectives, the hypervolume's reference point (a coordinate marked * is derived from
    the data because the objective has no threshold), the hypervolume, the results on the front
    and how the hypervolume grew with the results.

    \b
    Examples:
      kiln pareto latp-moo-2026
      kiln pareto latp-moo-2026 --json | jq '.front[].sample_id'
    """
    report = client_of(ctx).pareto(campaign_id)
    if as_json:
        echo_json(report)
        return
    click.echo(format_pareto(report, campaign_id))


def objective_label(spec: Mapping[str, Any]) -> str:
    """An objective's column heading: its name and unit (``conductivity (S/cm)``)."""
    unit = spec.get("unit")
    return f"{spec.get('name')} ({unit})" if unit else str(spec.get("name"))


def objective_value(value: Any, spec: Mapping[str, Any]) -> str:
    """An objective's value: scientific for a log10 objective (values span decades)."""
    if value is None:
        return "-"
    return sci(value) if spec.get("transform", "log10") == "log10" else number(float(value))


def model_unit(spec: Mapping[str, Any]) -> str:
    """The unit an objective contributes to the hypervolume (its model scale)."""
    unit = spec.get("unit") or "1"
    return f"log10 {unit}" if spec.get("transform", "log10") == "log10" else unit


def format_objectives(specs: Sequence[Mapping[str, Any]]) -> str:
    """One line per objective: goal, name, unit, transform and threshold."""
    lines = []
    for spec in specs:
        threshold = spec.get("threshold")
        extra = [f"transform {spec.get('transform', 'log10')}"]
        if threshold is not None:
            extra.append(f"threshold {objective_value(threshold, spec)}")
        lines.append(
            f"  {spec.get('goal', 'maximize')} {objective_label(spec)}: {', '.join(extra)}"
        )
    return "\n".join(lines)


def objective_lines(campaign: Mapping[str, Any]) -> list[str]:
    """A campaign's objective, or its objectives (with thresholds), its declared measurements
    and outcome constraints, as lines of `kiln campaigns show`."""
    specs = campaign.get("objectives")
    if not specs:
        objective = campaign.get("objective") or {}
        lines = [f"  objective: {objective.get('goal', 'maximize')} {objective_label(objective)}"]
    else:
        lines = ["  objectives:", *["  " + line for line in format_objectives(specs).splitlines()]]
    measurements = campaign.get("measurements") or []
    if measurements:
        lines.append("  measurements: " + ", ".join(objective_label(m) for m in measurements))
    constraints = campaign.get("outcome_constraints") or []
    if constraints:
        lines.append(f"  outcome constraints: {constraints_text(constraints)}")
    return lines


def constraints_text(constraints: Sequence[Mapping[str, Any]]) -> str:
    """Outcome constraints in words: ``relative_density >= 0.95, ...``."""
    return ", ".join(f"{c.get('name')} {c.get('op')} {number(c.get('value'))}" for c in constraints)


def format_reference(report: Mapping[str, Any]) -> str:
    """The reference point, each derived coordinate marked with ``*``."""
    point = report.get("reference_point") or {}
    derived = report.get("reference_point_derived") or {}
    specs = {s.get("name"): s for s in report.get("objectives") or []}
    parts = [
        f"{name} {objective_value(value, specs.get(name, {}))}{DERIVED if derived.get(name) else ''}"
        for name, value in point.items()
    ]
    text = "Reference point: " + ", ".join(parts)
    if any(derived.get(name) for name in point):
        text += f"  ({DERIVED} derived from the data: the objective has no threshold)"
    return text


def _sort_key(point: Mapping[str, Any], spec: Mapping[str, Any]) -> float:
    value = (point.get("objectives") or {}).get(spec.get("name"))
    if value is None or not math.isfinite(float(value)):
        return math.inf
    return -float(value) if spec.get("goal", "maximize") == "maximize" else float(value)


def format_front(report: Mapping[str, Any]) -> str:
    """The front as a table: sample, each objective, each parameter; best first objective first."""
    specs = list(report.get("objectives") or [])
    front = list(report.get("front") or [])
    if not front:
        return "Front: empty (no result meets every outcome constraint yet)."
    if specs:
        front.sort(key=lambda p: _sort_key(p, specs[0]))
    names = list(front[0].get("parameters") or {})
    rows = [
        [
            str(p.get("sample_id", "")),
            *[objective_value((p.get("objectives") or {}).get(s.get("name")), s) for s in specs],
            *[number((p.get("parameters") or {}).get(n)) for n in names],
        ]
        for p in front
    ]
    headers = ["sample", *[objective_label(s) for s in specs], *names]
    return f"Front ({counted(len(front), 'result')}):\n{table(headers, rows)}"


def format_history(history: Sequence[Mapping[str, Any]]) -> str:
    """Hypervolume against the number of results: the first row, each row where it changed and
    the last, at most the newest ``HISTORY_ROWS`` of them (``--json`` has every row)."""
    steps = [h for h in history if h.get("hypervolume") is not None]
    if not steps:
        return "Hypervolume history: none yet."
    changed = [
        h
        for i, h in enumerate(steps)
        if i in (0, len(steps) - 1) or h["hypervolume"] != steps[i - 1]["hypervolume"]
    ]
    shown = changed[-HISTORY_ROWS:]
    note = "where it changed" if len(changed) < len(steps) else ""
    if len(shown) < len(changed):
        note = f"{note}, " if note else ""
        note += f"the newest {len(shown)} of {len(changed)} rows; --json has all"
    rows = [
        [str(h.get("data_version")), str(h.get("n_results")), f"{float(h['hypervolume']):.4g}"]
        for h in shown
    ]
    heading = f"Hypervolume history ({note}):" if note else "Hypervolume history:"
    return f"{heading}\n{table(['data version', 'results', 'hypervolume'], rows)}"


def format_pareto(report: Mapping[str, Any], campaign_id: str = "") -> str:
    """The whole report as text: objectives, reference point, hypervolume, front, history."""
    specs = list(report.get("objectives") or [])
    n_results = int(report.get("n_results") or 0)
    lines = [
        f"Pareto front of campaign {campaign_id}: {counted(n_results, 'result')}, "
        f"{counted(len(specs), 'objective')}",
        "Objectives:",
        format_objectives(specs),
    ]
    constraints = report.get("outcome_constraints") or []
    if constraints:
        lines.append(f"Outcome constraints: {constraints_text(constraints)}")
    lines.append(format_reference(report))
    volume = report.get("hypervolume")
    units = " × ".join(model_unit(s) for s in specs)
    shown = "-" if volume is None else f"{float(volume):.4g}"
    lines.append(f"Hypervolume: {shown} ({units}, on the model scale)")
    lines.append("")
    lines.append(format_front(report))
    lines.append("")
    lines.append(format_history(report.get("history") or []))
    return "\n".join(lines)
