"""Candidate pools: the finite table of experiments a lab can actually run.

Many labs choose from what exists (precursor lots, a library of compositions, samples on a
shelf). A :class:`CandidatePool` holds those rows, validated against the campaign's
:class:`~kiln.space.SearchSpace`; :func:`kiln.propose.propose` then scores exactly these rows
(no grid, no nearest-point mapping) and proposes only open ones.

A row's id is its index in the table; ids never change (a removed row keeps its id and is
never proposed again). Measured and pending points are matched to rows by index, either given
(``candidate`` on a proposal or a result) or found by an exact comparison of encoded rows
(:class:`RowIndex`, a sort of the encoded table made once per pool), never by hashing every row
at every call.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from kiln.errors import OutsideSpaceError
from kiln.parameters import CategoricalParameter, DiscreteParameter
from kiln.space import SearchSpace

#: Rows a pool may hold: 10^5 float64 rows of a 10-column encoding take 8 MB.
MAX_CANDIDATES = 100_000

#: Relative tolerance of the range check (the same as the space's own).
_REL_TOL = 1e-9

#: A candidate's status, as listings show it: ``open`` (may be proposed), ``pending`` (proposed,
#: not yet measured), ``measured``, ``removed`` (taken out for good) or ``outside`` (a value lies
#: outside the campaign's current ranges, listed values or labels: not proposed while it does).
OPEN, PENDING, MEASURED, REMOVED, OUTSIDE = "open", "pending", "measured", "removed", "outside"
STATUSES = (OPEN, PENDING, MEASURED, REMOVED, OUTSIDE)


def row_key(names: Sequence[str], point: Mapping[str, Any]) -> str:
    """A canonical text of a point's values in ``names`` order: equal for exactly equal rows.

    Numbers are written as floats (1 and 1.0 are the same value), labels as they are; a store
    indexes rows by it, so a measured point is matched to its row with one lookup.

    Raises:
        KeyError: When the point misses one of ``names``.
    """
    return json.dumps([v if isinstance(v, str) else float(v) for v in (point[n] for n in names)])


class CandidateError(OutsideSpaceError):
    """A candidate row is malformed, outside the space or a duplicate.

    Attributes:
        row: Index of the offending row in the submitted table.
        parameter: The offending field (a parameter name, or ``"parameters"`` for the row).
    """

    def __init__(self, row: int, parameter: str, reason: str) -> None:
        super().__init__(parameter, reason)
        self.row = row

    def __str__(self) -> str:
        return f"candidates[{self.row}].{self.parameter}: {self.reason}"


class RowIndex:
    """Exact lookup of encoded rows in a fixed table: one sort, then binary searches.

    Rows are compared bit for bit (``-0.0`` is folded into ``0.0``), which is what an exact
    match of parameter values means once they are encoded the same way.

    Args:
        table: Encoded rows ``(n, d)``.
    """

    def __init__(self, table: np.ndarray) -> None:
        self._keys = _row_bytes(table)
        self._order = np.argsort(self._keys, kind="stable")
        self._sorted = self._keys[self._order]

    def find(self, rows: np.ndarray) -> np.ndarray:
        """Table index of each row, or -1 where the table does not hold it."""
        if rows.shape[0] == 0 or self._sorted.shape[0] == 0:
            return np.full(rows.shape[0], -1, dtype=np.int64)
        keys = _row_bytes(rows)
        at = np.searchsorted(self._sorted, keys)
        at = np.minimum(at, self._sorted.shape[0] - 1)
        found = self._sorted[at] == keys
        return np.where(found, self._order[at], -1).astype(np.int64)


def _row_bytes(X: np.ndarray) -> np.ndarray:
    """Each row of a float64 matrix as one fixed-size byte string (comparable, sortable)."""
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64) + 0.0)  # + 0.0: -0.0 -> 0.0
    return X.view(np.dtype((np.void, X.dtype.itemsize * max(X.shape[1], 1)))).ravel()


class CandidatePool:
    """A finite table of candidates a lab can run, validated against a SearchSpace.

    Build it with :meth:`from_rows` (validates) from what a lab sends; the constructor trusts
    rows that were validated before (e.g. read back from the store).

    Args:
        space: The campaign's current space (encodes the rows).
        rows: The candidates, in order (row index = candidate id).
        removed: Ids of rows taken out of the pool: never proposed again.

    Attributes:
        rows: The candidates, in order.
        removed: Ids of removed rows.
    """

    def __init__(
        self,
        space: SearchSpace,
        rows: Sequence[Mapping[str, Any]],
        removed: Collection[int] = (),
    ) -> None:
        self.space = space
        self.rows: list[dict[str, Any]] = [r if isinstance(r, dict) else dict(r) for r in rows]
        self.removed = frozenset(int(i) for i in removed)
        self._encoded: np.ndarray | None = None
        self._index: RowIndex | None = None

    @classmethod
    def from_rows(
        cls,
        space: SearchSpace,
        rows: Sequence[Mapping[str, Any]],
        *,
        existing: CandidatePool | None = None,
        max_rows: int = MAX_CANDIDATES,
    ) -> CandidatePool:
        """Validate rows and build a pool of them.

        Each row must give every parameter and nothing else, with the right type, inside the
        current range (numeric), a listed value (discrete) or a listed label (categorical).
        Steps are not enforced: the pool, not the grid, says what can be run.

        Args:
            space: The campaign's current space.
            rows: The candidates.
            existing: A pool the rows will be appended to: a row equal to one of its open rows
                is a duplicate too.
            max_rows: Size guard (the existing rows count).

        Returns:
            The pool of ``rows`` alone (ids from 0).

        Raises:
            CandidateError: Naming the first offending row and field (a duplicate names the
                row it repeats).
        """
        if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Sequence):
            raise CandidateError(0, "candidates", "must be a list of parameter objects")
        held = len(existing) if existing is not None else 0
        if held + len(rows) > max_rows:
            raise CandidateError(
                max_rows - held if max_rows > held else 0,
                "candidates",
                f"{held + len(rows)} candidates exceed the limit of {max_rows}; "
                "split the campaign or thin the table",
            )
        clean = _checked_rows(space, rows)
        pool = cls(space, clean)
        if not clean:
            return pool
        encoded = pool.encoded()
        # Duplicates within the table: equal encodings (sort once, compare neighbours).
        keys = _row_bytes(encoded)
        order = np.argsort(keys, kind="stable")
        same = np.flatnonzero(keys[order][1:] == keys[order][:-1])
        if same.size:
            # Stable sort: among equal rows the earlier id comes first.
            dup, orig = order[same + 1], order[same]
            j = int(np.argmin(dup))
            raise CandidateError(
                int(dup[j]),
                "parameters",
                f"duplicates candidates[{int(orig[j])}]; list each candidate once",
            )
        if existing is not None and len(existing):
            hits = existing.locate_encoded(encoded)
            for i, hit in enumerate(hits):
                if hit >= 0 and int(hit) not in existing.removed:
                    raise CandidateError(
                        i, "parameters", f"duplicates the pool's candidate {int(hit)}"
                    )
        return pool

    def __len__(self) -> int:
        return len(self.rows)

    def encoded(self) -> np.ndarray:
        """The rows encoded by the space, ``(len, space.dim)`` float64 (computed once)."""
        if self._encoded is None:
            self._encoded = (
                self.space.encode(self.rows) if self.rows else np.empty((0, self.space.dim))
            )
        return self._encoded

    def locate(self, points: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Row id of each point equal to a row (exact values), else -1.

        Raises:
            OutsideSpaceError: For a point that cannot be encoded.
        """
        if not points:
            return np.empty(0, dtype=np.int64)
        return self.locate_encoded(self.space.encode(points))

    def locate_encoded(self, X: np.ndarray) -> np.ndarray:
        """Row id of each encoded row equal to a pool row, else -1."""
        if self._index is None:
            self._index = RowIndex(self.encoded())
        return self._index.find(X)

    def closed(self) -> np.ndarray:
        """Rows never to propose: removed ones and those outside the space (see :meth:`outside`)."""
        mask = self.outside() >= 0
        if self.removed:
            mask[np.fromiter(self.removed, dtype=np.int64)] = True
        return mask

    def outside(self) -> np.ndarray:
        """Per row, the index in ``space.parameters`` of its first value the space now excludes.

        After a PATCH narrows a range, drops a listed value or a label, rows that were valid when
        added may lie outside: they are kept (a later widening brings them back) but not
        proposed. Works on the raw rows, so a label the space no longer lists is no error.

        Returns:
            ``(len,)`` int64: the parameter's index, or -1 for a row inside the space.
        """
        where = np.full(len(self), -1, dtype=np.int64)
        for k in range(len(self.space.parameters) - 1, -1, -1):  # the first parameter wins
            p = self.space.parameters[k]
            where[~_inside(p, [row[p.name] for row in self.rows])] = k
        return where

    def open_count(self, used: Collection[int] = ()) -> int:
        """Rows still open given the ids ``used`` (measured or pending)."""
        closed = self.closed()
        if used:
            closed[np.fromiter(used, dtype=np.int64)] = True
        return int((~closed).sum())


def _checked_rows(space: SearchSpace, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Every row checked and normalised, column by column (vectorised where it can be).

    The first offending row (the lowest index of any column's first failure, or of a row of the
    wrong shape) is then checked on its own to name the field and the reason.
    """
    names = space.names
    expected = set(names)
    first_bad = len(rows)
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or row.keys() != expected:
            first_bad = i
            break
    columns: list[list[Any]] = []
    for p in space.parameters:
        values = [row[p.name] for row in rows[:first_bad]]
        bad, clean = _column(p, values)
        first_bad = min(first_bad, bad)
        columns.append(clean)
    if first_bad < len(rows):
        _checked_row(space, first_bad, rows[first_bad])  # raises, naming field and reason
        # Only reached when the tolerances of the two checks disagree: the per-row one decides.
        return [_checked_row(space, i, row) for i, row in enumerate(rows)]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _column(p: Any, values: list[Any]) -> tuple[int, list[Any]]:
    """(index of the first bad value or len(values), the values normalised)."""
    n = len(values)
    if isinstance(p, CategoricalParameter):
        labels = set(p.values)
        for i, v in enumerate(values):
            if v.__class__ is not str or v not in labels:
                return i, values
        return n, values
    for i, v in enumerate(values):
        if v.__class__ not in (int, float) and not (
            isinstance(v, np.integer | np.floating) and not isinstance(v, bool)
        ):
            return i, values
    x = np.asarray(values, dtype=np.float64) if values else np.empty(0)
    ok, clean = _inside_numeric(p, x, values)
    bad = np.flatnonzero(~ok)
    return (int(bad[0]) if bad.size else n), clean


def outside_reason(space: SearchSpace, row: Mapping[str, Any]) -> str | None:
    """Why ``space`` excludes a pool row (its first excluded value), or None when it holds it.

    Unlike :func:`kiln.ledger.outside_reason` for proposals, steps do not apply to pool rows.

    Returns:
        E.g. ``"x=9.5 is outside [0, 8] in space version 3"``, or None.
    """
    for p in space.parameters:
        value = row[p.name]
        if _inside(p, [value])[0]:
            continue
        where = f"in space version {space.version}"
        if isinstance(p, CategoricalParameter | DiscreteParameter):
            return f"{p.name}={value!r} is not one of {list(p.values)} {where}"
        return f"{p.name}={value!r} is outside [{p.low:g}, {p.high:g}] {where}"
    return None


def covers(space: SearchSpace, earlier: SearchSpace) -> bool:
    """Whether ``space`` holds every value ``earlier`` allowed (same parameter names).

    Then no pool row that was valid in ``earlier`` lies outside ``space``, which spares a
    listing the check of every row while no range was ever narrowed.
    """
    for p in space.parameters:
        q = earlier[p.name]
        allowed: list[Any]
        if isinstance(q, CategoricalParameter | DiscreteParameter):
            allowed = list(q.values)
        else:
            allowed = [q.low, q.high]
        if not _inside(p, allowed).all():
            return False
    return True


def _inside(p: Any, values: list[Any]) -> np.ndarray:
    """Which of a column's values (of the right types) the parameter's current space holds."""
    if isinstance(p, CategoricalParameter):
        labels = set(p.values)
        return np.fromiter((v in labels for v in values), dtype=bool, count=len(values))
    x = np.asarray(values, dtype=np.float64) if values else np.empty(0)
    return _inside_numeric(p, x, values)[0]


def _inside_numeric(p: Any, x: np.ndarray, values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """(inside mask, the values normalised) of a numeric column: listed values or the range."""
    if isinstance(p, DiscreteParameter):
        listed = np.asarray(p.values, dtype=np.float64)
        at = np.clip(np.searchsorted(listed, x), 1, max(len(listed) - 1, 1))
        lower = listed[at - 1]
        upper = listed[np.minimum(at, len(listed) - 1)]
        nearest = np.where(np.abs(x - lower) <= np.abs(upper - x), at - 1, at)
        nearest = np.minimum(nearest, len(listed) - 1)
        ok = np.abs(x - listed[nearest]) <= np.maximum(_REL_TOL * np.abs(x), 1e-12)
        return ok, [p.values[k] for k in nearest]
    tol = _REL_TOL * max(1.0, abs(p.low), abs(p.high))
    ok = np.isfinite(x) & (x >= p.low - tol) & (x <= p.high + tol)
    clean = [v if v.__class__ in (int, float) else _plain(v) for v in values]
    return ok, clean


def _plain(v: Any) -> int | float:
    return int(v) if isinstance(v, np.integer) else float(v)


def _checked_row(space: SearchSpace, i: int, row: Any) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise CandidateError(i, "parameters", f"{row!r} must be an object of parameter values")
    names = set(space.names)
    for key in row:
        if key not in names:
            raise CandidateError(
                i, str(key), f"unknown parameter {key!r}; this space has {space.names}"
            )
    out: dict[str, Any] = {}
    for p in space.parameters:
        if p.name not in row:
            raise CandidateError(i, p.name, "missing; every parameter needs a value")
        value = row[p.name]
        try:
            space.check_value(p.name, value)
        except OutsideSpaceError as exc:
            raise CandidateError(i, p.name, exc.reason) from None
        if isinstance(p, CategoricalParameter):
            out[p.name] = value
            continue
        x = float(value)
        if isinstance(p, DiscreteParameter):
            match = [v for v in p.values if math.isclose(x, v, rel_tol=_REL_TOL, abs_tol=1e-12)]
            if not match:
                raise CandidateError(
                    i, p.name, f"{value!r} is not one of the listed values {p.values}"
                )
            out[p.name] = match[0]
            continue
        tol = _REL_TOL * max(1.0, abs(p.low), abs(p.high))
        if not p.low - tol <= x <= p.high + tol:
            raise CandidateError(
                i,
                p.name,
                f"{value!r} is outside the range [{p.low:g}, {p.high:g}]; widen the campaign's "
                "space first or leave the row out",
            )
        out[p.name] = int(value) if isinstance(value, int | np.integer) else x
    return out
