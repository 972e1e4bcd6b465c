"""How the `kiln` commands print: tables, compact numbers, JSON, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NoReturn

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def echo_json(value: Any) -> None:
    """Print a value as JSON (one document)."""
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def fail(message: str) -> NoReturn:
    """Stop with a friendly error."""
    raise click.ClickException(message)


def number(value: Any) -> str:
    """A compact rendering of a parameter or measured value."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e6:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def plural(n: int, noun: str) -> str:
    """The noun as ``n`` of it reads: "result" for 1, "results" otherwise (0 results, 2 results)."""
    return noun if n == 1 else f"{noun}s"


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless n is 1 ("1 candidate", "3 candidates")."""
    return f"{n} {plural(n, noun)}"


def sci(value: Any) -> str:
    """An objective in scientific notation (conductivities span orders of magnitude)."""
    return "-" if value is None else f"{float(value):.3e}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table, numbers right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)
        ).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def _numeric(text: str) -> bool:
    try:
        float(text.replace("±", "").split()[0])
    except (ValueError, IndexError):
        return False
    return True
