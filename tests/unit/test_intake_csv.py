"""CSV as LIMS export it: delimiters, quoting, line ends, blank lines; errors by row and column."""

from __future__ import annotations

import pytest

from kiln_services.intake.csv_io import LINE_KEY, csv_errors, parse_csv, results_from_csv
from kiln_services.intake.errors import InvalidRequest, flatten_messages

CAMPAIGN = {
    "parameters": [
        {"name": "temperature_c", "kind": "continuous"},
        {"name": "atmosphere", "kind": "categorical"},
    ],
    "objective": {"name": "conductivity"},
}


def cells(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != LINE_KEY} for row in rows]


def test_crlf_quotes_and_blank_lines() -> None:
    text = 'sample_id,temperature_c,note\r\n\r\n"a",900,"x, y"\r\nb,950,"two\r\nlines"\r\n\r\n\r\n'
    rows = parse_csv(text)
    assert cells(rows) == [
        {"sample_id": "a", "temperature_c": "900", "note": "x, y"},
        {"sample_id": "b", "temperature_c": "950", "note": "two\r\nlines"},
    ]
    assert [row[LINE_KEY] for row in rows] == ["3", "5"]  # rows as a spreadsheet numbers them


def test_semicolon_files_may_use_decimal_commas() -> None:
    rows = parse_csv("sample_id;temperature_c;conductivity\na;900,5;1,2e-4\n")
    assert cells(rows) == [{"sample_id": "a", "temperature_c": "900.5", "conductivity": "1.2e-4"}]
    # with ',' as the delimiter a quoted "1,5" stays text (it could be a thousands separator)
    assert cells(parse_csv('sample_id,x\na,"1,5"\n'))[0]["x"] == "1,5"


def test_tab_delimited() -> None:
    assert cells(parse_csv("sample_id\ttemperature_c\na\t900\n")) == [
        {"sample_id": "a", "temperature_c": "900"}
    ]


def test_short_rows_are_padded_long_rows_refused() -> None:
    assert cells(parse_csv("sample_id,a,b\nx,1\n"))[0] == {"sample_id": "x", "a": "1", "b": ""}
    with pytest.raises(InvalidRequest) as caught:
        parse_csv("sample_id,a\nx,1\ny,1,2\n")
    assert list(caught.value.errors) == ["row.3"] and "row 3" in str(caught.value.detail)


@pytest.mark.parametrize(
    "text", ["", "\n\n", "sample_id,a\n", "sample_id,,b\nx,1,2\n", "a,a\n1,2\n"]
)
def test_empty_or_bad_headers(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_csv(text)


def test_results_from_csv_names_row_and_column() -> None:
    rows = parse_csv(
        "sample_id,temperature_c,atmosphere,conductivity\na,900,air,1e-4\nb,hot,air,x\n"
    )
    with pytest.raises(InvalidRequest) as caught:
        results_from_csv(CAMPAIGN, rows)
    assert set(caught.value.errors) == {"row.3.temperature_c", "row.3.conductivity"}
    good = results_from_csv(CAMPAIGN, rows[:1]).results
    assert good == [
        {"sample_id": "a", "parameters": {"temperature_c": 900.0, "atmosphere": "air"},
         "objective": 1e-4}
    ]  # fmt: skip


def test_validation_errors_are_rekeyed_by_row_and_column() -> None:
    rows = parse_csv("sample_id,temperature_c,conductivity,density\na,900,1,2\n\nb,950,1,2\n")
    errors = {
        "results.1.objective": ["must be > 0"],
        "results.1.parameters.temperature_c": ["outside"],
        "results.0.measurements.density": ["bad"],
        "results.0.measured_at": ["not ISO 8601"],
        "header": ["x"],
    }
    assert csv_errors(errors, rows, {"objective": "conductivity"}) == {
        "row.4.conductivity": ["must be > 0"],
        "row.4.temperature_c": ["outside"],
        "row.2.density": ["bad"],
        "row.2.measured_at": ["not ISO 8601"],
        "header": ["x"],
    }


def test_dict_field_errors_name_the_key() -> None:
    messages = {"results": {0: {"parameters": {"t": {"value": ["must be a finite number"]}}}}}
    assert flatten_messages(messages) == {"results.0.parameters.t": ["must be a finite number"]}
