"""Constraints, furnace sharing and a batch's groups in plain words (command line and dashboard).

Reads the JSON the API answers with (a campaign's ``constraints``, ``strategy.batch_shared``,
proposals with their ``group``); no domain import, so the client distribution stays light and the
dashboard (which depends on it) words things the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Units written the way a lab reads them; any other unit is shown as given.
_UNIT_WORDS = {"degC": "°C", "degc": "°C", "deg C": "°C"}


def number_words(value: Any) -> str:
    """A value as a person writes it: ``1050`` for 1050.0, ``0.25``, ``1e-05``, labels as is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".6g")


def _linear_words(c: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for name, coefficient in (c.get("terms") or {}).items():
        a = float(coefficient)
        size = "" if abs(a) == 1 else f"{number_words(abs(a))} "
        if not parts:
            parts.append(f"{'-' if a < 0 else ''}{size}{name}")
        else:
            parts.append(f"{'-' if a < 0 else '+'} {size}{name}")
    return f"{' '.join(parts)} {c.get('op')} {number_words(c.get('rhs'))}"


def _condition_words(name: str, op: str, value: Any) -> str:
    if op == "in":
        return f"{name} in {{{', '.join(number_words(v) for v in value)}}}"
    return f"{name} {op} {number_words(value)}"


def constraint_words(c: Mapping[str, Any]) -> str:
    """One constraint as a line: ``a + 2 b <= 10``, ``not (temperature_c >= 1050 and time_min >
    120)``; an unknown kind as its JSON keys (a newer server's)."""
    if c.get("kind") == "linear":
        return _linear_words(c)
    if c.get("kind") == "forbidden":
        conditions = [
            _condition_words(name, op, value)
            for name, ops in (c.get("when") or {}).items()
            for op, value in ops.items()
        ]
        return f"not ({' and '.join(conditions)})"
    return f"{c.get('kind', 'constraint')}: {', '.join(sorted(c))}"


def sharing_words(batch_shared: Mapping[str, Any] | None) -> str | None:
    """``strategy.batch_shared`` as a sentence, or None without sharing."""
    if not batch_shared:
        return None
    names = list(batch_shared.get("parameters") or [])
    groups = int(batch_shared.get("groups") or 1)
    shared = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    runs = "one furnace run" if groups == 1 else f"at most {groups} furnace runs"
    return f"Each batch is {runs}: the pellets of a run share {shared}."


def _unit(parameters: Sequence[Mapping[str, Any]], name: str) -> str:
    for p in parameters:
        if p.get("name") == name and p.get("unit"):
            return " " + _UNIT_WORDS.get(str(p["unit"]), str(p["unit"]))
    return ""


def group_words(
    group: int, values: Mapping[str, Any], parameters: Sequence[Mapping[str, Any]] = ()
) -> str:
    """A group's heading: ``Furnace run 1: 1050 °C, 120 min`` (groups count from 0 in the API)."""
    shown = ", ".join(f"{number_words(v)}{_unit(parameters, n)}" for n, v in values.items())
    return f"Furnace run {group + 1}: {shown}" if shown else f"Furnace run {group + 1}"


def batch_groups(
    proposals: Sequence[Mapping[str, Any]], shared: Sequence[str]
) -> list[tuple[int, dict[str, Any], list[Mapping[str, Any]]]]:
    """A batch's proposals by group, in group order: ``(group, shared values, proposals)``.

    Proposals without a group (none shared) give an empty list: show the batch as one table.
    """
    by_group: dict[int, list[Mapping[str, Any]]] = {}
    for p in proposals:
        if p.get("group") is None:
            return []
        by_group.setdefault(int(p["group"]), []).append(p)
    out = []
    for group in sorted(by_group):
        first = by_group[group][0].get("parameters") or {}
        out.append((group, {n: first.get(n) for n in shared if n in first}, by_group[group]))
    return out


def broken_flags(result: Mapping[str, Any]) -> list[str]:
    """A result's flags that say it breaks a constraint (``breaks constraints.0 (...)``)."""
    return [f for f in result.get("flags") or [] if str(f).startswith("breaks ")]
