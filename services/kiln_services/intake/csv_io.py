"""CSV in and out of the intake: results and candidates as LIMS export them, results as they are read back.

Rows are read into raw strings (`parse_csv`), then mapped to results or candidates for a campaign;
errors are named by CSV row and column (``row.<row>.<column>``, the header is row 1).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.ledger import STATUSES as PROPOSAL_STATUSES
from kiln_services.intake import csv_columns
from kiln_services.intake.csv_columns import RESERVED_COLUMNS, VIEW_COLUMNS
from kiln_services.intake.errors import InvalidRequest

#: Each parsed row carries its CSV line number under this key (the header is line 1).
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


def _number(text: str) -> int | float:
    """A cell's number as JSON would give it: "1000" is the int 1000, "1000.5" a float."""
    try:
        return int(text)
    except ValueError:
        pass
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


@dataclass
class CsvResults:
    """The results a CSV holds, the rows they came from, and what was left out."""

    results: list[dict[str, Any]]
    #: The row each result came from (for errors by row and column).
    rows: list[Mapping[str, str]]
    #: The column each result field came from (`csv_columns.field_columns`).
    columns: dict[str, str]
    #: Rows of a proposals export not filled in (a proposal's status, no objective value).
    skipped: int = 0

    def problem(self, exc: InvalidRequest) -> InvalidRequest:
        """The same problem with its errors named by CSV row and column."""
        errors = csv_errors(exc.errors, self.rows, self.columns)
        return InvalidRequest(errors, _csv_detail(errors))


def results_from_csv(campaign: Mapping[str, Any], rows: Sequence[Mapping[str, str]]) -> CsvResults:
    """Map CSV rows to result objects: parameter columns, the objective column, measurements.

    Columns are read as `csv_columns.results_columns` says (units in headers checked, prediction
    columns ignored). A proposals export filled in by a lab posts as it is: a status cell holding
    a proposal's status (pending, ...) is not the result's; such a row with nothing measured in
    it (no objective, sd or measurement) is skipped and counted; an empty sample_id is the row's
    proposal_id. Errors are keyed `row.<row>.<column>` (the header is row 1).
    """
    header = [k for k in rows[0] if k != LINE_KEY] if rows else []
    columns, header_errors = csv_columns.results_columns(campaign, header)
    if header_errors:
        raise InvalidRequest(header_errors, _csv_detail(header_errors))
    kinds = {p["name"]: p["kind"] for p in campaign["parameters"]}
    out = CsvResults([], [], csv_columns.field_columns(columns))
    errors: dict[str, list[str]] = {}
    for row in rows:
        result = _result(row, columns, kinds, errors)
        if result.get("status") in PROPOSAL_STATUSES:
            del result["status"]
            if not {"objective", "objectives", "objective_sd", "measurements"} & set(result):
                out.skipped += 1
                continue
        if "sample_id" not in result and "proposal_id" in result:
            result["sample_id"] = result["proposal_id"]
        out.results.append(result)
        out.rows.append(row)
    if errors:
        raise InvalidRequest(errors, _csv_detail(errors))
    return out


def _result(
    row: Mapping[str, str],
    columns: Mapping[str, csv_columns.Column],
    kinds: Mapping[str, str],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    # One row as a result object; cells that are not numbers where numbers belong go to `errors`.
    result: dict[str, Any] = {"parameters": {}}
    measurements: dict[str, Any] = {}
    for column, cell in row.items():
        if cell == "" or column == LINE_KEY:
            continue
        role, name = columns[column].role, columns[column].name
        try:
            if role == csv_columns.RESERVED:
                result[name] = cell
            elif role == csv_columns.PARAMETER:
                result["parameters"][name] = cell if kinds[name] == "categorical" else _number(cell)
            elif role in (csv_columns.OBJECTIVE, csv_columns.SD):
                result[role] = _number(cell)
            elif role == csv_columns.OBJECTIVES:
                result.setdefault("objectives", {})[name] = _number(cell)
            elif role == csv_columns.MEASUREMENT:
                measurements[name] = _number_or_text(cell)
        except ValueError:
            line = row.get(LINE_KEY, "?")
            errors.setdefault(f"row.{line}.{column}", []).append(f"not a finite number: {cell!r}")
    if measurements:
        result["measurements"] = measurements
    return result


def _number_or_text(cell: str) -> int | float | str:
    try:
        return _number(cell)
    except ValueError:
        return cell


def csv_errors(
    errors: Mapping[str, list[str]],
    rows: Sequence[Mapping[str, str]],
    columns: Mapping[str, str],
) -> dict[str, list[str]]:
    """Re-key 'results.<i>.<field>' errors of CSV-born results as 'row.<row>.<column>'.

    `rows[i]` is the row result i came from; `columns` maps a result field (``objective``,
    ``parameters.<name>``, ...) to the column it came from (a field without one keeps its name).
    """
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "results" and parts[1].isdigit():
            index = int(parts[1])
            line = rows[index].get(LINE_KEY, str(index + 2)) if index < len(rows) else "?"
            rest = ".".join(parts[2:])
            column = columns.get(rest, rest)
            if rest.startswith(("parameters.", "measurements.", "objectives.")) and (
                rest not in columns
            ):
                column = rest.split(".", 1)[1]
            key = f"row.{line}.{column}" if column else f"row.{line}"
        out.setdefault(key, []).extend(messages)
    return out


def _csv_detail(errors: Mapping[str, list[str]]) -> str:
    key, messages = next(iter(errors.items()))
    parts = key.split(".", 2)
    where = key
    if parts[0] == "row" and len(parts) >= 2:
        where = f"row {parts[1]}" + (f", column {parts[2]!r}" if len(parts) > 2 else "")
    elif parts[0] == "header" and len(parts) >= 2:
        where = f"column {key.split('.', 1)[1]!r}"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {'; '.join(messages)}{more}; nothing of the file was stored"


def results_to_csv(campaign: Mapping[str, Any], results: Sequence[Mapping[str, Any]]) -> str:
    """Write results as CSV with the same columns `results_from_csv` reads (a multi-objective
    campaign's: a column per objective name, no standard deviation column)."""
    names = [p["name"] for p in campaign["parameters"]]
    several = csv_columns.objective_columns(campaign)
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
    header = [
        "sample_id",
        *names,
        *extra,
        *(several or _objective_header(campaign)),
        *measured,
        *RESERVED_COLUMNS[1:],
        *VIEW_COLUMNS,
    ]
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
                *_objective_cells(r, several),
                *[_cell(meas.get(m)) for m in measured],
                *[_cell(r.get(c)) for c in RESERVED_COLUMNS[1:]],
                _cell(r.get("revision", 0)),
                "true" if r.get("excluded") else "false",
            ]
        )
    return buffer.getvalue()


def _objective_header(campaign: Mapping[str, Any]) -> list[str]:
    # A single-objective campaign's columns: the objective's name and its standard deviation.
    name = campaign["objective"]["name"]
    return [name, csv_columns.sd_columns(name)[1]]


def _objective_cells(result: Mapping[str, Any], several: Sequence[str]) -> list[str]:
    # The objective cells of a row: each named objective's value, or the objective and its sd.
    if several:
        values = result.get("objectives") or {}
        return [_cell(values.get(name)) for name in several]
    return [_cell(result.get("objective")), _cell(result.get(csv_columns.OBJECTIVE_SD))]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))  # 1000.0 (stored before CSV ints were kept) writes as 1000
    if isinstance(value, float):
        return repr(value)
    return str(value)
