"""Candidate pools: validation, exact row lookup, and propose() restricted to open rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiln.errors import OutsideSpaceError
from kiln.objective import Objective
from kiln.parameters import CategoricalParameter, ContinuousParameter, DiscreteParameter
from kiln.pool import CandidateError, CandidatePool, RowIndex, covers, outside_reason
from kiln.propose import propose
from kiln.space import SearchSpace
from kiln.strategy import Strategy

OBJ = Objective("y", transform="none")


def space() -> SearchSpace:
    return SearchSpace(
        [
            ContinuousParameter("x", 0.0, 10.0, step=0.5),
            DiscreteParameter("n", [1, 2, 4, 8]),
            CategoricalParameter("c", ["a", "b", "c"]),
        ]
    )


def table(n: int = 60, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows, seen = [], set()
    while len(rows) < n:
        row = {
            "x": round(float(rng.uniform(0, 10)), 3),
            "n": int(rng.choice([1, 2, 4, 8])),
            "c": str(rng.choice(["a", "b", "c"])),
        }
        key = tuple(row.values())
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


def truth(row: dict) -> float:
    return -((row["x"] - 6.3) ** 2) - math.log2(row["n"]) + (3.0 if row["c"] == "b" else 0.0)


def observe(rows: list[dict], ids: list[int], named: bool = False) -> list[dict]:
    out = []
    for i in ids:
        obs = {"parameters": dict(rows[i]), "objective": truth(rows[i])}
        if named:
            obs["candidate"] = i
        out.append(obs)
    return out


# --------------------------------------------------------------------------- validation
def test_from_rows_keeps_valid_rows_in_order() -> None:
    rows = table(10)
    pool = CandidatePool.from_rows(space(), rows)
    assert len(pool) == 10
    assert pool.rows == rows
    assert pool.encoded().shape == (10, space().dim)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"x": 1.0, "n": 2}, "c"),  # missing
        ({"x": 1.0, "n": 2, "c": "a", "z": 1}, "z"),  # unknown
        ({"x": "1", "n": 2, "c": "a"}, "x"),  # wrong type
        ({"x": 11.0, "n": 2, "c": "a"}, "x"),  # outside the range
        ({"x": float("nan"), "n": 2, "c": "a"}, "x"),  # not finite
        ({"x": 1.0, "n": 3, "c": "a"}, "n"),  # not a listed value
        ({"x": 1.0, "n": 2, "c": "d"}, "c"),  # not a listed label
    ],
)
def test_from_rows_names_the_row_and_field(row: dict, field: str) -> None:
    rows = [*table(3), row]
    with pytest.raises(CandidateError) as info:
        CandidatePool.from_rows(space(), rows)
    assert info.value.row == 3
    assert info.value.parameter == field
    assert str(info.value).startswith(f"candidates[3].{field}: ")


def test_off_step_values_are_fine_in_a_pool() -> None:
    pool = CandidatePool.from_rows(space(), [{"x": 1.234, "n": 2, "c": "a"}])
    assert pool.rows[0]["x"] == 1.234


def test_duplicates_are_refused_naming_both_rows() -> None:
    rows = table(5)
    dup = {**rows[1], "n": float(rows[1]["n"])}  # 2.0 and 2 are the same value
    with pytest.raises(CandidateError) as info:
        CandidatePool.from_rows(space(), [*rows, dup])
    assert info.value.row == 5
    assert "candidates[1]" in info.value.reason


def test_duplicates_of_an_existing_pool_are_refused() -> None:
    rows = table(5)
    existing = CandidatePool.from_rows(space(), rows)
    with pytest.raises(CandidateError) as info:
        CandidatePool.from_rows(space(), [{"x": 0.1, "n": 1, "c": "c"}, rows[3]], existing=existing)
    assert info.value.row == 1
    assert "candidate 3" in info.value.reason
    # a removed row may come back
    removed = CandidatePool(space(), rows, removed={3})
    assert len(CandidatePool.from_rows(space(), [rows[3]], existing=removed)) == 1


def test_size_guard() -> None:
    with pytest.raises(CandidateError, match="exceed the limit of 4"):
        CandidatePool.from_rows(space(), table(5), max_rows=4)


def test_row_index_finds_exact_rows_only() -> None:
    X = np.array([[0.0, 1.0], [0.5, 0.25], [1.0, 0.0]])
    index = RowIndex(X)
    found = index.find(np.array([[1.0, 0.0], [0.5, 0.25000001], [-0.0, 1.0]]))
    assert found.tolist() == [2, -1, 0]


def test_locate_matches_equal_points() -> None:
    rows = table(20)
    pool = CandidatePool.from_rows(space(), rows)
    probe = [rows[7], {**rows[2], "x": rows[2]["x"] + 1e-6}, rows[19]]
    assert pool.locate(probe).tolist() == [7, -1, 19]


# -------------------------------------------------------------------------------- propose
def test_proposals_come_from_open_rows_scored_exactly() -> None:
    rows = table(60)
    pool = CandidatePool.from_rows(space(), rows)
    measured = list(range(0, 60, 5))
    pending = [{"parameters": rows[1], "candidate": 1}, {"parameters": rows[2]}]
    batch = propose(space(), OBJ, observe(rows, measured), pending, Strategy(batch_size=5),
                    pool=pool)  # fmt: skip
    ids = [p.candidate for p in batch.proposals]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert not set(ids) & ({1, 2} | set(measured))
    for p in batch.proposals:
        assert p.parameters == rows[p.candidate]  # a pool row as it is, no snapping
    assert batch.exhausted is False and batch.fallback is None


def test_pool_batch_is_the_best_open_row_first() -> None:
    rows = table(60)
    pool = CandidatePool.from_rows(space(), rows)
    obs = observe(rows, list(range(30)))
    batch = propose(space(), OBJ, obs, [], Strategy(batch_size=1, acquisition="ucb", kappa=0.0),
                    pool=pool)  # fmt: skip
    mean, _ = batch.model.predict(rows[30:])  # type: ignore[union-attr]
    assert batch.proposals[0].candidate == 30 + int(np.argmax(mean))


def test_named_candidates_close_their_rows_even_off_value() -> None:
    rows = table(12)
    pool = CandidatePool.from_rows(space(), rows)
    # measured at a slightly different set-point than the row, but naming it
    obs = observe(rows, list(range(11)), named=True)
    obs[0]["parameters"]["x"] += 0.01
    batch = propose(space(), OBJ, obs, [], Strategy(batch_size=3), pool=pool)
    assert [p.candidate for p in batch.proposals] == [11]
    assert batch.exhausted is True


def test_failed_syntheses_close_their_rows() -> None:
    rows = table(6)
    pool = CandidatePool.from_rows(space(), rows)
    obs = observe(rows, [0, 1, 2, 3])
    obs.append({"parameters": rows[4], "status": "failed"})
    batch = propose(space(), OBJ, obs, [], Strategy(batch_size=3), pool=pool)
    assert [p.candidate for p in batch.proposals] == [5]


def test_exhausted_pool_says_so_and_proposes_nothing() -> None:
    rows = table(6)
    pool = CandidatePool.from_rows(space(), rows)
    pending = [{"parameters": rows[5], "candidate": 5}]
    batch = propose(space(), OBJ, observe(rows, [0, 1, 2, 3, 4]), pending, Strategy(), pool=pool)
    assert batch.proposals == [] and batch.exhausted is True
    assert batch.fallback is not None and batch.fallback.startswith("pool_exhausted")


def test_removed_and_out_of_range_rows_are_never_proposed() -> None:
    rows = table(40)
    narrowed = SearchSpace(
        [
            ContinuousParameter("x", 0.0, 5.0, step=0.5),
            DiscreteParameter("n", [1, 2, 4, 8]),
            CategoricalParameter("c", ["a", "b", "c"]),
        ],
        version=2,
    )
    pool = CandidatePool(space(), rows, removed={0, 1, 2})
    batch = propose(narrowed, OBJ, observe(rows, [3, 4, 5, 6]), [], Strategy(batch_size=40),
                    pool=pool)  # fmt: skip
    ids = {p.candidate for p in batch.proposals}
    assert not ids & {0, 1, 2, 3, 4, 5, 6}
    assert all(rows[i]["x"] <= 5.0 for i in ids)
    assert ids == {i for i in range(7, 40) if rows[i]["x"] <= 5.0}
    assert batch.exhausted is True


def test_outside_names_the_first_excluded_parameter_and_closes_the_row() -> None:
    rows = [
        {"x": 1.0, "n": 1, "c": "a"},  # inside
        {"x": 7.0, "n": 1, "c": "a"},  # x beyond the narrowed range
        {"x": 2.0, "n": 2, "c": "a"},  # n no longer listed (though between listed values)
        {"x": 8.0, "n": 2, "c": "c"},  # x, n and c: x, the first parameter, is named
        {"x": 3.0, "n": 8, "c": "c"},  # a label the space dropped: no encoding needed
    ]
    narrowed = SearchSpace(
        [
            ContinuousParameter("x", 0.0, 5.0, step=0.5),
            DiscreteParameter("n", [1, 4, 8]),
            CategoricalParameter("c", ["a", "b"]),
        ],
        version=2,
    )
    pool = CandidatePool(narrowed, rows, removed={0})
    assert pool.outside().tolist() == [-1, 0, 1, 0, 2]
    assert pool.closed().tolist() == [True, True, True, True, True]
    reasons = [outside_reason(narrowed, row) for row in rows]
    assert reasons == [
        None,
        "x=7.0 is outside [0, 5] in space version 2",
        "n=2 is not one of [1, 4, 8] in space version 2",
        "x=8.0 is outside [0, 5] in space version 2",
        "c='c' is not one of ['a', 'b'] in space version 2",
    ]
    assert CandidatePool(space(), rows).outside().tolist() == [-1] * 5
    assert CandidatePool(narrowed, []).outside().shape == (0,)


def test_a_space_covers_an_earlier_one_when_it_holds_every_value_it_allowed() -> None:
    wider = SearchSpace(
        [
            ContinuousParameter("x", -1.0, 10.0),
            DiscreteParameter("n", [1, 2, 4, 8, 16]),
            CategoricalParameter("c", ["c", "b", "a", "d"]),
        ]
    )
    assert covers(space(), space()) and covers(wider, space())
    assert not covers(space(), wider)
    for narrowed in (
        [ContinuousParameter("x", 0.0, 9.5), DiscreteParameter("n", [1, 2, 4, 8]),
         CategoricalParameter("c", ["a", "b", "c"])],
        [ContinuousParameter("x", 0.0, 10.0), DiscreteParameter("n", [1, 4, 8]),
         CategoricalParameter("c", ["a", "b", "c"])],
        [ContinuousParameter("x", 0.0, 10.0), DiscreteParameter("n", [1, 2, 4, 8]),
         CategoricalParameter("c", ["a", "c"])],
    ):  # fmt: skip
        assert not covers(SearchSpace(narrowed), space())


def test_space_filling_in_a_pool_without_a_model() -> None:
    rows = table(30)
    pool = CandidatePool.from_rows(space(), rows)
    batch = propose(space(), OBJ, [], [], Strategy(batch_size=4), pool=pool)
    ids = [p.candidate for p in batch.proposals]
    assert len(set(ids)) == 4 and batch.fallback == "space_filling: no observations"


def test_constant_liar_batches_in_a_pool() -> None:
    rows = table(60)
    pool = CandidatePool.from_rows(space(), rows)
    batch = propose(space(), OBJ, observe(rows, list(range(20))), [],
                    Strategy(batch_size=4, batch_method="constant_liar_min"), pool=pool)  # fmt: skip
    ids = [p.candidate for p in batch.proposals]
    assert len(set(ids)) == 4 and min(ids) >= 20


def test_pending_that_cannot_be_encoded_is_an_error() -> None:
    pool = CandidatePool.from_rows(space(), table(5))
    with pytest.raises(OutsideSpaceError):
        propose(space(), OBJ, [], [{"x": 1.0, "n": 2}], Strategy(), pool=pool)


# ------------------------------------------------------------------ grid masks, no hashing
def test_grid_index_is_the_position_in_the_grid() -> None:
    s = space()
    grid = s.grid()
    probe = [grid[0], grid[123], grid[-1], {"x": 0.25, "n": 1, "c": "a"}, {"x": 12, "n": 1,
             "c": "a"}]  # fmt: skip
    assert s.grid_index(probe).tolist() == [0, 123, len(grid) - 1, -1, -1]


def test_grid_path_still_avoids_pending_and_measured_points() -> None:
    s = space()
    grid = s.grid()
    obs = [{"parameters": grid[i], "objective": truth(grid[i])} for i in range(0, len(grid), 7)]
    best = max(range(len(grid)), key=lambda i: truth(grid[i]))
    pending = [grid[best]]
    batch = propose(s, OBJ, obs, pending, Strategy(batch_size=6))
    keys = {s.key(p.parameters) for p in batch.proposals}
    assert s.key(grid[best]) not in keys
    assert not keys & {s.key(o["parameters"]) for o in obs}
    assert all(p.candidate is None for p in batch.proposals)


def test_masks_do_not_key_the_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    s = space()
    grid = s.grid()
    obs = [{"parameters": grid[i], "objective": truth(grid[i])} for i in range(0, len(grid), 9)]
    calls = []
    original = SearchSpace.key

    def counting(self: SearchSpace, point: dict) -> tuple:
        calls.append(1)
        return original(self, point)

    monkeypatch.setattr(SearchSpace, "key", counting)
    propose(s, OBJ, obs, [grid[1]], Strategy(batch_size=3))
    propose(s, OBJ, obs, [], Strategy(batch_size=3), pool=CandidatePool(s, grid))
    assert calls == []


def test_the_first_offending_row_is_named_whatever_the_column() -> None:
    rows = table(6)
    rows[4] = {"x": 1.0, "n": 2}  # missing c
    rows[2] = {**rows[2], "c": "zz"}  # an unknown label, earlier
    with pytest.raises(CandidateError) as info:
        CandidatePool.from_rows(space(), rows)
    assert (info.value.row, info.value.parameter) == (2, "c")
    rows[1] = {**rows[1], "n": 2.0000000001}  # within tolerance of a listed value: fine
    rows[1]["n"] = np.int64(2)
    rows[0] = {**rows[0], "x": np.float32(10.5)}  # numpy scalar, outside the range, earliest
    with pytest.raises(CandidateError) as info:
        CandidatePool.from_rows(space(), rows)
    assert (info.value.row, info.value.parameter) == (0, "x")


def test_numpy_scalars_and_near_values_are_normalised() -> None:
    pool = CandidatePool.from_rows(
        space(), [{"x": np.float64(2.5), "n": 4.0000000001, "c": "b"}, {"x": 3, "n": np.int64(1),
                                                                          "c": "a"}]
    )  # fmt: skip
    assert pool.rows == [{"x": 2.5, "n": 4, "c": "b"}, {"x": 3, "n": 1, "c": "a"}]
    assert type(pool.rows[0]["x"]) is float and type(pool.rows[1]["n"]) is int
