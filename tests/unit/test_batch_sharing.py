"""Batches whose groups share parameters' values: validation, the joint choice, every setting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiln.batch.picks import Pick, Selection
from kiln.batch.selection import acquisition_values, select_batch
from kiln.batch.sharing import select_shared
from kiln.errors import SpaceError
from kiln.objective import Objective
from kiln.pool import CandidatePool
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import BatchShared, Strategy

OBJ = Objective("y", transform="none")
SHARED = {"parameters": ["temperature_c", "time_min"], "groups": 1}
PARAMETERS = [
    {"name": "acid", "kind": "discrete", "values": [-10, -7.5, -5, -2.5, 0, 2.5, 5, 7.5]},
    {"name": "temperature_c", "kind": "continuous", "low": 900, "high": 1100, "step": 50},
    {"name": "time_min", "kind": "discrete", "values": [60, 120, 240]},
]


def truth(p: dict) -> float:
    return (
        -(((p["temperature_c"] - 1040) / 100) ** 2)
        - ((p["time_min"] - 200) / 150) ** 2
        - (p["acid"] / 10) ** 2
    )


def observations(space: SearchSpace, n: int = 12, seed: int = 0) -> list[dict]:
    points = space.sample(n, np.random.default_rng(seed))
    return [{"parameters": p, "objective": truth(p)} for p in points]


def shared_ok(batch, names: list[str], groups: int) -> None:
    labels = [p.group for p in batch.proposals]
    assert all(g is not None and 0 <= g < groups for g in labels)
    for g in set(labels):
        values = {tuple(p.parameters[n] for n in names) for p in batch.proposals if p.group == g}
        assert len(values) == 1


def test_strategy_validates_batch_shared_and_omits_it_when_unset() -> None:
    assert "batch_shared" not in Strategy().to_dict()
    s = Strategy(batch_size=6, batch_shared=SHARED)
    assert s.to_dict()["batch_shared"] == SHARED
    assert Strategy.from_dict(s.to_dict()) == s
    with pytest.raises(SpaceError, match="larger than the batch size") as info:
        Strategy(batch_size=2, batch_shared={"parameters": ["t"], "groups": 3})
    assert info.value.field == "strategy.batch_shared.groups"
    with pytest.raises(SpaceError) as info:
        Strategy(batch_shared={"parameters": [], "groups": 1})
    assert info.value.field == "strategy.batch_shared.parameters"
    with pytest.raises(SpaceError) as info:
        Strategy(batch_shared={"parameters": ["t"], "groups": 0})
    assert info.value.field == "strategy.batch_shared.groups"
    with pytest.raises(SpaceError) as info:
        Strategy(batch_shared={"parameters": ["t"], "furnaces": 2})
    assert info.value.field == "strategy.batch_shared.furnaces"
    with pytest.raises(SpaceError) as info:  # also when built from the dataclass
        Strategy(batch_size=1, batch_shared=BatchShared(("t",), 2))
    assert info.value.field == "strategy.batch_shared.groups"


def test_an_unknown_shared_parameter_names_the_field() -> None:
    space = SearchSpace.from_dict({"parameters": PARAMETERS})
    strategy = Strategy(batch_shared={"parameters": ["time_min", "pressure"], "groups": 1})
    with pytest.raises(SpaceError, match="unknown parameter 'pressure'") as info:
        propose(space, OBJ, observations(space), [], strategy)
    assert info.value.field == "strategy.batch_shared.parameters.1"


@pytest.mark.parametrize("groups", [1, 2, 3])
@pytest.mark.parametrize(
    ("acquisition", "method"),
    [("ucb", "kriging_believer"), ("ei", "kriging_believer"), ("pi", "kriging_believer"),
     ("ucb", "constant_liar_max"), ("random", "kriging_believer")],
)  # fmt: skip
def test_groups_share_their_values(groups: int, acquisition: str, method: str) -> None:
    space = SearchSpace.from_dict({"parameters": PARAMETERS})
    obs = observations(space)
    strategy = Strategy(
        acquisition=acquisition,
        batch_method=method,
        batch_shared={"parameters": ["temperature_c", "time_min"], "groups": groups},
    )
    batch = propose(space, OBJ, obs, [obs[0]["parameters"]], strategy)
    assert len(batch.proposals) == 6
    shared_ok(batch, ["temperature_c", "time_min"], groups)
    assert len({p.group for p in batch.proposals}) == groups
    keys = [space.key(p.parameters) for p in batch.proposals]
    assert len(set(keys)) == 6
    assert space.key(obs[0]["parameters"]) not in keys  # pending: never proposed again


@pytest.mark.parametrize("n_obs", [0, 1])
def test_space_filling_batches_share_too(n_obs: int) -> None:
    space = SearchSpace.from_dict({"parameters": PARAMETERS})
    strategy = Strategy(batch_shared={"parameters": ["temperature_c"], "groups": 2})
    batch = propose(space, OBJ, observations(space)[:n_obs], [], strategy)
    assert batch.fallback is not None
    shared_ok(batch, ["temperature_c"], 2)
    assert len(batch.proposals) == 6


def test_a_categorical_can_be_shared_and_unshared_batches_carry_no_group() -> None:
    space = SearchSpace.from_dict(
        {"parameters": [*PARAMETERS, {"name": "gas", "kind": "categorical", "values": ["a", "b"]}]}
    )
    obs = [{"parameters": {**o["parameters"], "gas": "a"}, "objective": o["objective"]}
           for o in observations(space)]  # fmt: skip
    batch = propose(space, OBJ, obs, [], Strategy(batch_shared={"parameters": ["gas"]}))
    shared_ok(batch, ["gas"], 1)
    plain = propose(space, OBJ, obs, [], Strategy())
    assert all(p.group is None and "group" not in p.to_dict() for p in plain.proposals)
    assert all(p.to_dict()["group"] == 0 for p in batch.proposals)


def test_sampled_continuous_space_shares_exactly_and_keeps_constraints() -> None:
    space = SearchSpace.from_dict({
        "parameters": [
            {"name": "x", "kind": "continuous", "low": 0, "high": 1},
            {"name": "t", "kind": "continuous", "low": 0, "high": 1},
            {"name": "y", "kind": "continuous", "low": 0, "high": 1},
        ],
        "constraints": [{"kind": "linear", "terms": {"x": 1, "y": 1}, "op": "<=", "rhs": 1.2}],
    })  # fmt: skip
    rng = np.random.default_rng(3)
    obs = [{"parameters": p, "objective": -(p["x"] - 0.5) ** 2 - (p["t"] - 0.3) ** 2 + p["y"]}
           for p in space.candidates(rng, n_samples=15)]  # fmt: skip
    batch = propose(space, OBJ, obs, [], Strategy(batch_shared={"parameters": ["t"], "groups": 2}))
    assert len(batch.proposals) == 6
    shared_ok(batch, ["t"], 2)
    assert space.constraints.mask_points([p.parameters for p in batch.proposals]).all()


def test_pool_rows_share_values() -> None:
    space = SearchSpace.from_dict({"parameters": PARAMETERS})
    pool = CandidatePool(space, space.grid()[::2])
    obs = observations(space)
    batch = propose(space, OBJ, obs, [], Strategy(batch_shared=SHARED), pool=pool)
    shared_ok(batch, ["temperature_c", "time_min"], 1)
    assert all(p.candidate is not None for p in batch.proposals)


# ------------------------------------------------------------- the joint choice, on a fake model
def fake_batches(values: np.ndarray):
    """A greedy batch without fantasies: the rows' fixed values, best first."""

    def pick_batch(rows: np.ndarray, size: int, extra: np.ndarray) -> Selection:
        order = np.argsort(-values[rows], kind="stable")[:size]
        picks = [Pick(int(i), np.zeros(1), float(values[rows[i]]), 0.0, 0.0) for i in order]
        return Selection(picks, len(picks) < size)

    return pick_batch


def test_the_setting_is_chosen_by_the_whole_batch_not_the_best_point() -> None:
    # setting 0 holds the best single point (10) but nothing else; setting 1 is good throughout
    X = np.array([[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]])
    values = np.array([10.0, 0.0, 0.0, 9.0, 8.0, 8.0])
    none = np.zeros(6, dtype=bool)
    sel = select_shared(X, [0], 3, 1, none, none, fake_batches(values), lambda e: values,
                        bounded=True)  # fmt: skip
    assert [p.index for p in sel.picks] == [3, 4, 5]
    assert sel.groups == [0, 0, 0]


def test_bounded_search_equals_trying_every_setting() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        X = rng.integers(0, 6, size=(60, 1)).astype(float)
        values = rng.normal(size=60)
        excluded = rng.random(60) < 0.2
        none = np.zeros(60, dtype=bool)
        args = (X, [0], 4, 2, excluded, none, fake_batches(values), lambda e, v=values: v)
        exact = select_shared(*args, bounded=True)
        every = select_shared(*args, bounded=False, max_settings=math.inf)  # type: ignore[arg-type]
        assert [p.index for p in exact.picks] == [p.index for p in every.picks]
        assert exact.groups == every.groups


def test_groups_take_the_remainder_of_a_short_setting() -> None:
    X = np.array([[0.0], [1.0], [1.0], [1.0], [1.0], [1.0]])
    values = np.array([10.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    none = np.zeros(6, dtype=bool)
    sel = select_shared(X, [0], 4, 2, none, none, fake_batches(values), lambda e: values,
                        bounded=True)  # fmt: skip
    # two picks per group asked; setting 1 wins the first group (2 picks beat 1), setting 0
    # can then give only one: the batch has 3 picks and says it is exhausted
    assert sel.groups == [0, 0, 1]
    assert sel.exhausted


def test_no_open_row_gives_an_empty_exhausted_batch() -> None:
    X = np.array([[0.0], [1.0]])
    values = np.array([1.0, 2.0])
    closed = np.ones(2, dtype=bool)
    sel = select_shared(X, [0], 2, 1, closed, ~closed, fake_batches(values), lambda e: values,
                        bounded=True)  # fmt: skip
    assert sel.picks == [] and sel.groups == [] and sel.exhausted


@pytest.mark.parametrize("acquisition", ["ucb", "ei", "pi"])
def test_the_ranking_is_the_first_greedy_steps_acquisition(acquisition: str) -> None:
    space = SearchSpace.from_dict({"parameters": PARAMETERS})
    obs = observations(space)
    fitted = propose(space, OBJ, obs, [], Strategy()).model
    assert fitted is not None
    X = space.encode(space.grid())
    pending = space.encode([obs[0]["parameters"], space.grid()[5]])
    strategy = Strategy(acquisition=acquisition)
    values = acquisition_values(
        fitted.surrogate, X, strategy.acquisition_options(), pending=pending
    )
    first = select_batch(fitted.surrogate, X, 1, **strategy.acquisition_options(), pending=pending)
    assert first.picks[0].acquisition_value == pytest.approx(values.max(), rel=1e-9, abs=1e-12)
    assert first.picks[0].index == int(np.argmax(values))
