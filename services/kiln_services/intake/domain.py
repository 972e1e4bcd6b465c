"""Glue between the HTTP edge and kiln: campaign definitions, result validation, CSV in and out.

Only the light kiln modules (space, objective, strategy, presets) are imported here: the intake
never fits a model, so scikit-learn is never loaded in a web process.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from kiln.errors import InvalidObservationError, KilnError, OutsideSpaceError
from kiln.objective import Objective
from kiln.space import SearchSpace
from kiln.strategy import Strategy
from kiln_services.intake.errors import InvalidRequest, field_path

T = TypeVar("T")

RESERVED_COLUMNS = ("sample_id", "status", "proposal_id", "measured_at", "instrument")


def campaign_definition(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return a normalised, validated campaign definition from a POST /campaigns body."""
    if body.get("preset"):
        from kiln.presets import latp_campaign

        definition: dict[str, Any] = dict(latp_campaign())
        for key in ("name", "description", "strategy"):
            if key in body:
                definition[key] = body[key]
    else:
        definition = dict(body)
    errors: dict[str, list[str]] = {}
    space = objective = strategy = None
    try:
        space = SearchSpace.from_dict({"parameters": definition["parameters"], "version": 1})
    except KilnError as exc:
        errors[field_path(getattr(exc, "field", None) or "parameters")] = [str(exc)]
    else:
        errors.update(_step_problems(definition["parameters"]))
    try:
        objective = Objective.from_dict(definition["objective"])
    except (KilnError, TypeError) as exc:
        errors[_strategy_field("objective", exc)] = [str(exc)]
    try:
        strategy = Strategy.from_dict(dict(definition.get("strategy") or {}))
    except (KilnError, TypeError) as exc:
        errors[_strategy_field("strategy", exc)] = [str(exc)]
    if errors:
        raise InvalidRequest(errors)
    assert space is not None and objective is not None and strategy is not None
    out = {
        "name": definition["name"],
        "parameters": space.to_dict()["parameters"],
        "objective": objective.to_dict(),
        "strategy": strategy.to_dict(),
        "space_version": 1,
    }
    if definition.get("description"):
        out["description"] = definition["description"]
    if "candidates" in body:
        # Checked row by row against the parameters where they are stored (store.create_campaign
        # calls kiln.pool), so a campaign made in-process gets exactly the same checks.
        out["candidates"] = body["candidates"]
    return out


def campaign_update(
    campaign: Mapping[str, Any], body: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Apply a PATCH: new ranges (a new space version, within the hard limits) and/or strategy.

    The parameters themselves (names, kinds, hard limits) stay: every stored result remains
    valid training data. Returns the updated campaign and whether its space changed.
    """
    updated = dict(campaign)
    errors: dict[str, list[str]] = {}
    space_changed = False
    if "parameters" in body:
        previous = {p["name"]: p for p in campaign["parameters"]}
        proposed = list(body["parameters"])
        if sorted(p["name"] for p in proposed) != sorted(previous):
            errors["parameters"] = [
                f"a PATCH changes ranges, not the parameters: give exactly {sorted(previous)}"
            ]
        merged: list[dict[str, Any]] = []
        for i, param in enumerate(proposed if not errors else []):
            before = previous[param["name"]]
            if param["kind"] != before["kind"]:
                errors[f"parameters.{i}.kind"] = [f"stays {before['kind']!r}"]
            new = dict(param)
            for limit in ("hard_low", "hard_high"):
                if before.get(limit) is None:
                    continue
                if param.get(limit) is not None and param[limit] != before[limit]:
                    errors[f"parameters.{i}.{limit}"] = [
                        f"hard limits do not change (it is {before[limit]})"
                    ]
                new[limit] = before[limit]
            merged.append(new)
        if not errors:
            version = int(campaign.get("space_version", 1))
            try:
                space = SearchSpace.from_dict({"parameters": merged, "version": version + 1})
            except KilnError as exc:
                errors[field_path(getattr(exc, "field", None) or "parameters")] = [str(exc)]
            else:
                errors.update(_step_problems(merged))
                parameters = space.to_dict()["parameters"]
                if not errors and parameters != campaign["parameters"]:
                    updated["parameters"] = parameters
                    updated["space_version"] = version + 1
                    space_changed = True
    if "strategy" in body:
        try:
            updated["strategy"] = strategy_with(campaign, body["strategy"])
        except InvalidRequest as exc:
            errors.update({_prefixed("strategy", k): v for k, v in exc.errors.items()})
    for key in ("name", "description"):
        if key in body:
            updated[key] = body[key]
    if errors:
        raise InvalidRequest(errors)
    return updated, space_changed


MAX_STEPS = 10**9


def _step_problems(parameters: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    # A step that divides the (hard) range into more than MAX_STEPS parts is a typo, and its
    # arithmetic overflows; refuse it where it is defined.
    out: dict[str, list[str]] = {}
    for i, p in enumerate(parameters):
        step = p.get("step")
        if p.get("kind") != "continuous" or not step:
            continue
        low = min(v for v in (p.get("low"), p.get("hard_low")) if v is not None)
        high = max(v for v in (p.get("high"), p.get("hard_high")) if v is not None)
        parts = (high - low) / step
        if not math.isfinite(parts) or parts > MAX_STEPS:
            out[f"parameters.{i}.step"] = [
                f"step {step} divides the range [{low}, {high}] into more than {MAX_STEPS:.0e} "
                "steps; use a coarser step, or none for a continuous parameter"
            ]
    return out


def _prefixed(prefix: str, field: str) -> str:
    return field if field.startswith(prefix) else f"{prefix}.{field}"


def _strategy_field(prefix: str, exc: Exception) -> str:
    field = getattr(exc, "field", None)
    if not field:
        return prefix
    field = field_path(str(field))
    return field if field.startswith(prefix) else f"{prefix}.{field}"


def space_of(campaign: Mapping[str, Any]) -> SearchSpace:
    """The campaign's current search space (built once per distinct definition, then reused)."""
    version = campaign.get("space_version", 1)
    return _cached(
        ("space", campaign.get("id"), version),
        campaign["parameters"],
        lambda p: SearchSpace.from_dict({"parameters": p, "version": version}),
    )


def objective_of(campaign: Mapping[str, Any]) -> Objective:
    """The campaign's objective (built once per distinct definition, then reused)."""
    return _cached(("objective", campaign.get("id")), campaign["objective"], Objective.from_dict)


# Every posted result is checked against its campaign's space: building the space's frozen
# parameters from JSON on each request cost more than the check itself (bench/intake.py). An
# entry is used only while its definition equals the campaign's (a dict comparison, cheaper than
# hashing a serialisation), so a changed space or objective is never served stale.
_BUILT: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_MAX_BUILT = 512


def _cached(key: tuple[Any, ...], definition: Any, build: Callable[[Any], T]) -> T:
    hit = _BUILT.get(key)
    if hit is not None and hit[0] == definition:
        return cast(T, hit[1])
    built = build(definition)
    if len(_BUILT) >= _MAX_BUILT:
        _BUILT.clear()
    _BUILT[key] = (copy.deepcopy(definition), built)
    return built


def strategy_with(campaign: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's strategy with a request's overrides, validated by kiln."""
    merged = {
        **campaign.get("strategy", {}),
        **{k: v for k, v in overrides.items() if v is not None},
    }
    try:
        return Strategy.from_dict(merged).to_dict()
    except (KilnError, TypeError) as exc:
        raise InvalidRequest({_strategy_field("", exc).lstrip(".") or "body": [str(exc)]}) from exc


def validate_results(
    campaign: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Check every row against the campaign's space and objective; all errors, or flagged rows.

    Raises:
        InvalidRequest: naming each bad row by index and field; nothing may be stored then.
    """
    space = space_of(campaign)
    objective = objective_of(campaign)
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        where = f"results.{i}"
        flags: list[str] = []
        try:
            flags = list(space.validate(row["parameters"]))
        except OutsideSpaceError as exc:
            key = "" if exc.parameter == "parameters" else f".{exc.parameter}"
            errors.setdefault(f"{where}.parameters{key}", []).append(exc.reason)
        except KilnError as exc:
            errors.setdefault(f"{where}.parameters", []).append(str(exc))
        except ArithmeticError:  # e.g. a value that is astronomically many steps away
            errors.setdefault(f"{where}.parameters", []).append(
                "a value cannot be placed on its parameter's steps (too far from the range)"
            )
        value = row.get("objective")
        if row.get("status", "ok") == "failed":
            if value is not None:
                errors.setdefault(f"{where}.objective", []).append(
                    "a failed synthesis has no objective value; drop it or set status 'ok'"
                )
        elif value is None:
            errors.setdefault(f"{where}.objective", []).append(
                f"missing {objective.name!r} value; post status 'failed' for a failed synthesis"
            )
        else:
            try:
                objective.check_value(value)  # finite, and positive under log10
            except InvalidObservationError as exc:
                errors.setdefault(f"{where}.objective", []).append(exc.reason)
        for key, measured in (row.get("measurements") or {}).items():
            if isinstance(measured, float) and not math.isfinite(measured):
                errors.setdefault(f"{where}.measurements.{key}", []).append(
                    "must be a finite number"
                )
        out.append(
            {
                **{k: v for k, v in row.items() if v is not None},
                "flags": flags,
                "space_version": campaign.get("space_version", 1),
            }
        )
    if errors:
        raise InvalidRequest(errors)
    return out


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


LINE_KEY = "__line__"
_DECIMAL_COMMA = re.compile(r"^([+-]?\d+),(\d+(?:[eE][+-]?\d+)?)$")


def _delimiter(header_line: str) -> str:
    # LIMS in locales with a decimal comma export ';'-separated files; some export tabs.
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_csv(text: str) -> list[dict[str, str]]:
    """Read CSV text (header row first) into rows of raw strings.

    Accepts what LIMS export: a UTF-8 BOM (stripped by the caller), CRLF or LF line ends, quoted
    fields (with embedded delimiters or line breaks), ',' ';' or tab as delimiter (from the
    header line), blank lines anywhere (skipped). Each row carries its line number under
    `LINE_KEY`, so errors can name the row as a spreadsheet shows it (the header is row 1).
    """
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise InvalidRequest({"body": ["empty CSV: the first line must be a header"]})
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank line (e.g. trailing)
            if header is None:
                header = [cell.strip() for cell in cells]
                problems = _header_problems(header)
                if problems:
                    raise InvalidRequest({"header": problems})
                continue
            line = str(reader.line_num)
            if len(cells) > len(header):
                too_many = {
                    f"row.{line}": [f"{len(cells)} cells but the header has {len(header)} columns"]
                }
                raise InvalidRequest(too_many, _csv_detail(too_many))
            cells = cells + [""] * (len(header) - len(cells))
            row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
            if delimiter == ";":  # such files write numbers with a decimal comma
                row = {k: _DECIMAL_COMMA.sub(r"\1.\2", v) for k, v in row.items()}
            row[LINE_KEY] = line
            rows.append(row)
    except csv.Error as exc:
        malformed = {f"row.{reader.line_num}": [f"malformed CSV: {exc}"]}
        raise InvalidRequest(malformed, _csv_detail(malformed)) from exc
    if not rows:
        raise InvalidRequest({"body": ["the CSV has a header but no rows"]})
    return rows


def _header_problems(header: Sequence[str]) -> list[str]:
    problems = []
    if any(not name for name in header):
        problems.append("every column needs a name (an empty header cell)")
    duplicates = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicates:
        problems.append(f"duplicate column names: {', '.join(duplicates)}")
    if LINE_KEY in header:
        problems.append(f"{LINE_KEY!r} is not a valid column name")
    if any(len(name) > 100 for name in header):
        problems.append("column names have at most 100 characters")
    return problems


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def candidates_from_csv(
    campaign: Mapping[str, Any], rows: Sequence[Mapping[str, str]]
) -> list[dict[str, Any]]:
    """Map CSV rows (a header of parameter names, as in a results CSV) to candidate rows.

    Numbers are parsed for numeric parameters; every other check (unknown or missing columns,
    ranges, labels, duplicates) is kiln.pool's. Errors are keyed ``row.<row>.<column>``.
    """
    kinds = {p["name"]: p["kind"] for p in campaign["parameters"]}
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        line = row.get(LINE_KEY, "?")
        candidate: dict[str, Any] = {}
        for column, cell in row.items():
            if column == LINE_KEY or cell == "":
                continue
            if kinds.get(column, "categorical") == "categorical":
                candidate[column] = cell
                continue
            try:
                candidate[column] = _number(cell)
            except ValueError:
                errors.setdefault(f"row.{line}.{column}", []).append(
                    f"not a finite number: {cell!r}"
                )
        out.append(candidate)
    if errors:
        raise InvalidRequest(errors, _csv_detail(errors))
    return out


def objective_column(campaign: Mapping[str, Any], header: Sequence[str]) -> str:
    """The CSV column holding the objective: the objective's name, else 'objective'."""
    name = campaign["objective"]["name"]
    return name if name in header else "objective"


def results_from_csv(
    campaign: Mapping[str, Any], rows: Sequence[Mapping[str, str]]
) -> list[dict[str, Any]]:
    """Map CSV rows to result objects: parameter columns, the objective column, measurements.

    The objective column is named after the campaign's objective or simply "objective"; any
    other column that is not a parameter or a reserved one is a measurement. Errors are keyed
    `row.<row>.<column>` (the header is row 1).
    """
    kinds = {p["name"]: p["kind"] for p in campaign["parameters"]}
    objective_name = campaign["objective"]["name"]
    header = [k for k in rows[0] if k != LINE_KEY] if rows else []
    errors: dict[str, list[str]] = {}
    if "sample_id" not in header:
        errors["header"] = ["the CSV needs a sample_id column"]
    objective_cols = [c for c in header if c in (objective_name, "objective")]
    if len(objective_cols) > 1:
        errors["header"] = [f"give either {objective_name!r} or 'objective', not both"]
    if errors:
        raise InvalidRequest(errors)
    results: list[dict[str, Any]] = []
    for row in rows:
        line = row.get(LINE_KEY, "?")
        result: dict[str, Any] = {"parameters": {}, "measurements": {}}
        for column, cell in row.items():
            if cell == "" or column == LINE_KEY:
                continue
            try:
                if column in RESERVED_COLUMNS:
                    result[column] = cell
                elif column in kinds:
                    result["parameters"][column] = (
                        cell if kinds[column] == "categorical" else _number(cell)
                    )
                elif column in objective_cols:
                    result["objective"] = _number(cell)
                else:
                    try:
                        result["measurements"][column] = _number(cell)
                    except ValueError:
                        result["measurements"][column] = cell
            except ValueError:
                errors.setdefault(f"row.{line}.{column}", []).append(
                    f"not a finite number: {cell!r}"
                )
        if not result["measurements"]:
            del result["measurements"]
        results.append(result)
    if errors:
        raise InvalidRequest(errors, _csv_detail(errors))
    return results


def csv_errors(
    errors: Mapping[str, list[str]], rows: Sequence[Mapping[str, str]], objective_col: str
) -> dict[str, list[str]]:
    """Re-key 'results.<i>.<field>' errors of CSV-born results as 'row.<row>.<column>'."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "results" and parts[1].isdigit():
            index = int(parts[1])
            line = rows[index].get(LINE_KEY, str(index + 2)) if index < len(rows) else "?"
            rest = parts[2:]
            if rest[:1] in (["parameters"], ["measurements"]) and len(rest) > 1:
                column = ".".join(rest[1:])
            elif rest[:1] == ["objective"]:
                column = objective_col
            else:
                column = ".".join(rest)
            key = f"row.{line}.{column}" if column else f"row.{line}"
        out.setdefault(key, []).extend(messages)
    return out


def _csv_detail(errors: Mapping[str, list[str]]) -> str:
    key, messages = next(iter(errors.items()))
    parts = key.split(".", 2)
    where = key
    if parts[0] == "row" and len(parts) >= 2:
        where = f"row {parts[1]}" + (f", column {parts[2]!r}" if len(parts) > 2 else "")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {'; '.join(messages)}{more}; nothing of the file was stored"


def csv_problem(
    exc: InvalidRequest, rows: Sequence[Mapping[str, str]], objective_col: str
) -> InvalidRequest:
    """The same problem with its errors named by CSV row and column."""
    errors = csv_errors(exc.errors, rows, objective_col)
    return InvalidRequest(errors, _csv_detail(errors))


def results_to_csv(campaign: Mapping[str, Any], results: Sequence[Mapping[str, Any]]) -> str:
    """Write results as CSV with the same columns `results_from_csv` reads."""
    names = [p["name"] for p in campaign["parameters"]]
    objective_name = campaign["objective"]["name"]
    extra: list[str] = []
    for r in results:
        for key in r.get("parameters", {}):
            if key not in names and key not in extra:
                extra.append(key)
    measured: list[str] = []
    for r in results:
        for key in r.get("measurements") or {}:
            if key not in measured:
                measured.append(key)
    header = ["sample_id", *names, *extra, objective_name, *measured, *RESERVED_COLUMNS[1:]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for r in results:
        params = r.get("parameters", {})
        meas = r.get("measurements") or {}
        writer.writerow(
            [
                r.get("sample_id"),
                *[_cell(params.get(n)) for n in [*names, *extra]],
                _cell(r.get("objective")),
                *[_cell(meas.get(m)) for m in measured],
                *[_cell(r.get(c)) for c in RESERVED_COLUMNS[1:]],
            ]
        )
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)
