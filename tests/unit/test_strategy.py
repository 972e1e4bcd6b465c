"""Strategy validation and serialisation."""

from __future__ import annotations

import pytest

from kiln.errors import KilnError, SpaceError
from kiln.strategy import Strategy


def test_defaults_match_the_design() -> None:
    s = Strategy.from_dict({})
    assert s.to_dict() == {
        "acquisition": "ucb", "kappa": 1.96, "xi": 0.01, "batch_size": 6,
        "batch_method": "kriging_believer", "auto_batch": True, "proposal_ttl_s": 604800,
    }  # fmt: skip
    assert Strategy.from_dict(s.to_dict()) == s
    assert Strategy.from_dict(None) == s


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"acquisition": "thompson"}, "strategy.acquisition"),
        ({"batch_method": "local_penalization"}, "strategy.batch_method"),
        ({"kappa": -1}, "strategy.kappa"),
        ({"kappa": float("nan")}, "strategy.kappa"),
        ({"xi": "0.1"}, "strategy.xi"),
        ({"batch_size": 0}, "strategy.batch_size"),
        ({"batch_size": 2.5}, "strategy.batch_size"),
        ({"batch_size": 1000}, "strategy.batch_size"),
        ({"auto_batch": "yes"}, "strategy.auto_batch"),
        ({"proposal_ttl_s": 0}, "strategy.proposal_ttl_s"),
        ({"colour": "red"}, "strategy.colour"),
    ],
)
def test_invalid_values_name_the_field(changes, field: str) -> None:
    with pytest.raises(SpaceError) as info:
        Strategy.from_dict(changes)
    assert isinstance(info.value, KilnError)
    assert info.value.field == field


def test_replace_validates() -> None:
    s = Strategy().replace(batch_size=3, acquisition="ei")
    assert (s.batch_size, s.acquisition) == (3, "ei")
    with pytest.raises(SpaceError):
        Strategy().replace(batch_method="constant_liar_median")
