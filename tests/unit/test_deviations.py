"""kiln.deviations: how a result departs from the proposal it reports."""

from __future__ import annotations

from kiln.deviations import differences, proposal_flags, same_point

PROPOSAL = {"id": "b1-0", "parameters": {"temperature_c": 950, "time_min": 60, "gas": "air"}}


def test_values_equal_through_json_or_csv_are_the_same() -> None:
    measured = {"temperature_c": 950.0, "time_min": 6e1, "gas": "air"}
    assert same_point(PROPOSAL["parameters"], measured)
    assert differences(PROPOSAL["parameters"], measured) == []
    assert proposal_flags(PROPOSAL, measured) == []


def test_each_differing_parameter_is_named_with_both_values() -> None:
    measured = {"temperature_c": 962, "time_min": 60, "gas": "argon"}
    assert not same_point(PROPOSAL["parameters"], measured)
    assert differences(PROPOSAL["parameters"], measured) == [
        ("temperature_c", 950, 962),
        ("gas", "air", "argon"),
    ]
    assert proposal_flags(PROPOSAL, measured) == [
        "temperature_c differs from proposal b1-0: proposed 950, measured 962",
        "gas differs from proposal b1-0: proposed air, measured argon",
    ]


def test_a_replicate_names_the_first_sample() -> None:
    flags = proposal_flags(PROPOSAL, {**PROPOSAL["parameters"], "temperature_c": 950.5}, "LATP-7")
    assert flags == [
        "temperature_c differs from proposal b1-0: proposed 950, measured 950.5",
        "replicate of proposal b1-0, first measured as sample LATP-7",
    ]
