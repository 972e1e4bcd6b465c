"""Printing and writing a benchmark's results: log lines, missing values, targets, JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import machine


def log(message: str) -> None:
    """One line of a benchmark's output, flushed at once (runs take minutes)."""
    print(message, flush=True)


def dash(value: float | None, spec: str) -> str:
    """`value` formatted with `spec`, or "-" when there is none."""
    return "-" if value is None else format(value, spec)


def print_targets(targets: Iterable[Mapping[str, Any]]) -> None:
    """One line per target: MET or MISS, what it is and the value measured."""
    for check in targets:
        log(f"{'MET ' if check['met'] else 'MISS'} {check['what']}: {check['value']}")


def write_json(
    path: Path,
    payload: Any,
    *,
    indent: int = 2,
    default: Callable[[Any], Any] | None = None,
    allow_nan: bool = True,
) -> Path:
    """Write `payload` as indented JSON ending in a newline; returns `path`."""
    text = json.dumps(payload, indent=indent, default=default, allow_nan=allow_nan)
    path.write_text(text + "\n")
    return path


def publish(
    out: Path,
    name: str,
    payload: dict[str, Any],
    plot: Callable[[dict[str, Any], Path], None],
    print_table: Callable[[dict[str, Any]], None],
) -> None:
    """Write <name>.json and <name>.png into `out`, then print the table and where they are."""
    write_json(out / f"{name}.json", payload)
    plot(payload, out / f"{name}.png")
    print_table(payload)
    log(f"wrote {out / f'{name}.json'} and {out / f'{name}.png'}")


def header(benchmark: str, setup: str, info: dict[str, Any]) -> dict[str, Any]:
    """The first keys of a results file: which benchmark, its set-up, the machine and its load
    average now (after the run)."""
    return {
        "benchmark": benchmark,
        "setup": setup,
        "machine": info,
        "load_average_after": machine.load_average(),
    }
