"""CSV as LIMS export it: delimiters, quoting, line ends, blank lines; errors by row and column."""

from __future__ import annotations

import pytest

from kiln_services.intake.csv_columns import results_columns
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


UNITS = {
    "parameters": [
        {"name": "temperature_c", "kind": "continuous", "unit": "degC"},
        {"name": "atmosphere", "kind": "categorical"},
    ],
    "objective": {"name": "conductivity", "unit": "S/cm"},
}


def test_columns_by_role_with_units_in_headers() -> None:
    header = [
        "proposal_id",
        "temperature_c ( degC )",
        "atmosphere",
        "conductivity [S / cm]",
        "conductivity_sd (S/cm)",
        "predicted_mean",
        "acquisition_value",
        "density (g/cm3)",
    ]
    columns, errors = results_columns(UNITS, header)
    assert errors == {}
    assert {c: (m.role, m.name) for c, m in columns.items()} == {
        "proposal_id": ("reserved", "proposal_id"),
        "temperature_c ( degC )": ("parameter", "temperature_c"),
        "atmosphere": ("parameter", "atmosphere"),
        "conductivity [S / cm]": ("objective", "conductivity"),
        "conductivity_sd (S/cm)": ("objective_sd", "conductivity_sd"),
        "predicted_mean": ("ignored", "predicted_mean"),
        "acquisition_value": ("ignored", "acquisition_value"),
        "density (g/cm3)": ("measurement", "density (g/cm3)"),
    }


def test_wrong_units_and_missing_ids_are_header_errors() -> None:
    header = ["temperature_c (K)", "objective [mS/cm]", "atmosphere [-]"]
    _, errors = results_columns(UNITS, header)
    assert set(errors) == {
        "header.temperature_c (K)",
        "header.objective [mS/cm]",
        "header.atmosphere [-]",
        "header",
    }
    assert "'K'" in errors["header.temperature_c (K)"][0]
    assert "'degC'" in errors["header.temperature_c (K)"][0]
    assert "no unit" in errors["header.atmosphere [-]"][0]
    assert "sample_id" in errors["header"][0]


def test_an_unfilled_export_row_is_skipped_and_a_proposal_id_names_its_sample() -> None:
    rows = parse_csv(
        "proposal_id,sample_id,temperature_c,atmosphere,conductivity,predicted_mean,status\n"
        "b1-0,,900,air,1e-4,2e-4,pending\n"
        "b1-1,,950,air,,2e-4,pending\n"
        "b1-2,S-3,1000,air,3e-4,2e-4,pending\n"
    )
    parsed = results_from_csv(UNITS, rows)
    assert parsed.skipped == 1 and [row[LINE_KEY] for row in parsed.rows] == ["2", "4"]
    assert parsed.results == [
        {"proposal_id": "b1-0", "sample_id": "b1-0", "objective": 1e-4,
         "parameters": {"temperature_c": 900, "atmosphere": "air"}},
        {"proposal_id": "b1-2", "sample_id": "S-3", "objective": 3e-4,
         "parameters": {"temperature_c": 1000, "atmosphere": "air"}},
    ]  # fmt: skip
    # errors of the results after a skipped row name their own rows
    problem = parsed.problem(InvalidRequest({"results.1.objective": ["must be > 0"]}))
    assert problem.errors == {"row.4.conductivity": ["must be > 0"]}
