"""The Kadi4Mat bridge's pure parts: the mapping checked against a campaign, a record read as a
result (missing extra, wrong type, wrong unit named), what a correction must change."""

from __future__ import annotations

from typing import Any

import pytest

from kiln_client.kadi import MappingError, RecordError, mapping_from_dict
from kiln_client.kadi.records import changes_of, proposal_extras, result_of

MAPPING: dict[str, Any] = {
    "parameters": {"temperature_c": {"extra": "T", "unit": "degC"}},
    "objective": {"extra": "sigma", "unit": "S/cm"},
    "measurements": {"density": {"extra": "rho", "unit": "g/cm^3"}},
}
CAMPAIGN = {
    "parameters": [{"name": "temperature_c", "unit": "degC"}],
    "objective": {"name": "conductivity", "unit": "S/cm"},
}


def record(**extras: dict[str, Any]) -> dict[str, Any]:
    base = {
        "T": {"type": "int", "value": 950, "unit": "degC"},
        "sigma": {"type": "float", "value": 2e-4, "unit": "S/cm"},
        "rho": {"type": "float", "value": 2.7, "unit": "g/cm^3"},
    }
    base |= extras
    return {"id": 12, "identifier": "s-12", "extras": [{"key": k, **v} for k, v in base.items()]}


def test_a_record_becomes_a_result_with_a_stable_sample_id() -> None:
    result = result_of(record(), mapping_from_dict(MAPPING))
    assert result == {
        "sample_id": "kadi-12",
        "parameters": {"temperature_c": 950.0},
        "objective": 2e-4,
        "measurements": {"density": 2.7},
    }


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        ({"rho": {"type": "float", "value": None}}, "extra 'rho' (measurements.density): missing"),
        (
            {"T": {"type": "str", "value": "hot", "unit": "degC"}},
            "a str ('hot'), expected a number",
        ),
        ({"T": {"type": "bool", "value": True, "unit": "degC"}}, "expected a number"),
        ({"T": {"type": "int", "value": 1223, "unit": "K"}}, "unit 'K', the campaign's is 'degC'"),
    ],
)
def test_a_bad_record_is_refused_naming_the_record_and_the_key(
    extras: dict[str, Any], message: str
) -> None:
    with pytest.raises(RecordError, match="record 12 \\(s-12\\)") as error:
        result_of(record(**extras), mapping_from_dict(MAPPING))
    assert message in str(error.value)


def test_a_mapping_must_use_the_campaigns_parameters_and_units() -> None:
    mapping_from_dict(MAPPING).check_campaign(CAMPAIGN)
    kelvin = {**MAPPING, "parameters": {"temperature_c": {"extra": "T", "unit": "K"}}}
    with pytest.raises(MappingError, match=r"parameters\.temperature_c.*'K'.*'degC'"):
        mapping_from_dict(kelvin).check_campaign(CAMPAIGN)
    with pytest.raises(MappingError, match="missing \\['temperature_c'\\]"):
        mapping_from_dict({**MAPPING, "parameters": {}}).check_campaign(CAMPAIGN)
    with pytest.raises(MappingError, match="unknown mapping entries \\['objektive'\\]"):
        mapping_from_dict({**MAPPING, "objektive": {}})


def test_only_what_changed_is_corrected() -> None:
    stored = {
        "parameters": {"temperature_c": 950.0},
        "objective": 2e-4,
        "measurements": {"density": 2.7},
    }
    result = result_of(
        record(rho={"type": "float", "value": 2.8, "unit": "g/cm^3"}), mapping_from_dict(MAPPING)
    )
    assert changes_of(result, stored) == {"measurements": {"density": 2.8}}
    assert changes_of(result_of(record(), mapping_from_dict(MAPPING)), stored) == {}


def test_a_proposal_becomes_extras_in_the_mappings_units() -> None:
    proposal = {
        "id": "p1",
        "parameters": {"temperature_c": 975.0},
        "predicted_mean": 3e-4,
        "predicted_std": 1e-5,
    }
    extras = {
        e["key"]: e
        for e in proposal_extras(
            proposal, mapping_from_dict(MAPPING), "conductivity", "http://k/p1"
        )
    }
    assert extras["T"] == {"key": "T", "type": "float", "value": 975.0, "unit": "degC"}
    assert extras["conductivity_predicted_mean"]["value"] == 3e-4
    assert extras["conductivity_predicted_std"]["unit"] == "S/cm"
    assert extras["kiln_proposal_id"]["value"] == "p1"
    assert extras["kiln_proposal_url"]["value"] == "http://k/p1"


def test_a_filled_in_proposal_record_is_the_result_of_that_proposal() -> None:
    filled = record(kiln_proposal_id={"type": "str", "value": "p1"})
    assert result_of(filled, mapping_from_dict(MAPPING))["proposal_id"] == "p1"
