"""Objective transforms between measured values and the model scale."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiln.errors import InvalidObservationError, SpaceError
from kiln.objective import Objective


def test_defaults_and_round_trip() -> None:
    obj = Objective.from_dict({"name": "conductivity", "unit": "S/cm"})
    assert obj.goal == "maximize" and obj.transform == "log10"
    assert Objective.from_dict(obj.to_dict()) == obj


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "c", "goal": "up"}, "objective.goal"),
        ({"name": "c", "transform": "ln"}, "objective.transform"),
        ({"name": ""}, "objective.name"),
        ({"unit": "S/cm"}, "objective.name"),
        ({"name": "c", "scale": 2}, "objective.scale"),
    ],
)
def test_bad_definitions(payload, field: str) -> None:
    with pytest.raises(SpaceError) as info:
        Objective.from_dict(payload)
    assert info.value.field == field


def test_log10_maximise() -> None:
    obj = Objective("conductivity")
    np.testing.assert_allclose(obj.to_model([1e-3, 1e-7]), [-3.0, -7.0])


def test_minimise_negates_so_the_model_maximises() -> None:
    obj = Objective("loss", goal="minimize", transform="none")
    np.testing.assert_allclose(obj.to_model([2.0, -1.0]), [-2.0, 1.0])
    mean, std = obj.from_model(-2.0, 0.5)
    assert (mean, std) == (2.0, 0.5)
    log_min = Objective("resistance", goal="minimize")
    np.testing.assert_allclose(log_min.to_model([100.0]), [-2.0])
    assert log_min.from_model(-2.0, 0.0)[0] == pytest.approx(100.0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_values_are_rejected(bad: float) -> None:
    for transform in ("log10", "none"):
        with pytest.raises(InvalidObservationError) as info:
            Objective("c", transform=transform).to_model([1.0, bad])
        assert info.value.field == "objective"
        assert "not finite" in info.value.reason


@pytest.mark.parametrize("bad", [0.0, -1e-4])
def test_non_positive_values_under_log10(bad: float) -> None:
    with pytest.raises(InvalidObservationError, match=r"not positive.*log10"):
        Objective("c").to_model([1e-3, bad])
    with pytest.raises(InvalidObservationError, match="not positive"):
        Objective("c").check_value(bad)
    assert Objective("c", transform="none").to_model([bad]).tolist() == [bad]


def test_check_value_types() -> None:
    obj = Objective("c")
    assert obj.check_value(1e-3) == 1e-3
    for bad in ("1e-3", None, True, float("nan")):
        with pytest.raises(InvalidObservationError):
            obj.check_value(bad)


def test_from_model_log10_median_and_delta_method() -> None:
    obj = Objective("c")
    mean, std = obj.from_model(-3.0, 0.1)
    assert mean == pytest.approx(1e-3)
    assert std == pytest.approx(math.log(10) * 1e-3 * 0.1)
    means, stds = obj.from_model(np.array([-3.0, -4.0]), np.array([0.0, 0.2]))
    np.testing.assert_allclose(means, [1e-3, 1e-4])
    np.testing.assert_allclose(stds, [0.0, math.log(10) * 1e-4 * 0.2])
    # the delta-method std matches a finite-difference derivative of 10**m
    h = 1e-6
    slope = (10 ** (-3.0 + h) - 10 ** (-3.0 - h)) / (2 * h)
    assert std == pytest.approx(slope * 0.1, rel=1e-6)
