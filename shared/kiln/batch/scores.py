"""Each step's acquisitions of the candidates under the fantasies so far: densely or lazily."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kiln.batch.fantasy import FantasyPosterior, FantasyState

#: Acquisitions that never rise when a believer fantasy shrinks the std (lazy scoring is exact).
LAZY_ACQUISITIONS = ("ucb", "ei")

#: Candidate rows: a slice or an index array.
Rows = slice | np.ndarray
ALL_ROWS = slice(None)
#: ``(mean, std, rows) -> acquisition`` on the model scale, weighted by success where given.
Weighted = Callable[[np.ndarray, np.ndarray, Rows], np.ndarray]


class DenseScores:
    """Every candidate's acquisition at every step, from a :class:`FantasyPosterior`."""

    def __init__(self, state: FantasyPosterior, weighted: Weighted) -> None:
        self.state = state
        self.weighted = weighted

    def add(self, x: np.ndarray, y: float | None) -> None:
        self.state.add(x, y)

    def scores(self, pool: np.ndarray, need: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu, sd = self.state.mean_std()
        return np.where(pool, self.weighted(mu, sd, ALL_ROWS), -np.inf), mu, sd


def _two_point_variance(
    Kc: np.ndarray, K_train: np.ndarray | None, c: float, noise: np.ndarray
) -> np.ndarray:
    """Each row's prior variance given only its two most correlated training points.

    Conditioning on a subset of the data never gives less variance than conditioning on all
    of it, so this bounds the posterior variance from above. ``Kc`` (rows x n, overwritten) is
    ``k(candidates, X)``; ``K_train`` is ``k(X, X)`` (None for a single training point);
    ``noise`` is each training point's variance on the diagonal (white noise, jitter and its
    own measurement variance, :meth:`GPPosterior.train_noise`).
    """
    rows = np.arange(Kc.shape[0])
    i1 = Kc.argmax(axis=1)
    k1 = Kc[rows, i1]
    a1 = c + noise[i1]  # the point's variance on the diagonal of K + noise
    if K_train is None:
        return c - k1**2 / a1
    Kc[rows, i1] = -np.inf
    i2 = Kc.argmax(axis=1)
    k2 = Kc[rows, i2]
    a2 = c + noise[i2]
    k12 = K_train[i1, i2]
    # [k1 k2] [[a1, k12], [k12, a2]]^-1 [k1 k2]^T
    explained = (a2 * k1**2 + a1 * k2**2 - 2.0 * k12 * k1 * k2) / (a1 * a2 - k12**2)
    return c - explained


class LazyScores:
    """Exact acquisitions for the few candidates that can still win, bounds for the rest.

    Under the Kriging believer a fantasy leaves every mean alone and can only shrink
    variances, and UCB and EI grow with the std at a fixed mean (so does their weighting by a
    success probability): a candidate's acquisition never rises during a batch. Any value it
    had earlier is an upper bound on its value now. The first bound is cheaper still: the
    variance given a few training points is at least the variance given all of them, so the
    variance given each candidate's two most correlated training points
    (:func:`_two_point_variance`) bounds it, from the one pass over ``k(candidates, X)`` that
    the means need anyway.

    Each step scores candidates exactly (:meth:`FantasyState.predict`, under all fantasies so
    far) in order of their bounds, in doubling blocks, until the best ``need`` exact values
    beat every remaining bound. The result equals scoring every candidate (lazy greedy
    evaluation, as in Minoux's accelerated greedy algorithm), at the cost of one mean pass plus
    the handful of candidates near the top, instead of a full ``O(n^2)`` variance per candidate
    and an ``O(n)`` update per candidate and pick.
    """

    FIRST_BLOCK = 128

    def __init__(
        self, state: FantasyState, candidates: np.ndarray, weighted: Weighted, rows: int
    ) -> None:
        self.state = state
        self.C = np.asarray(candidates, dtype=float)
        self.weighted = weighted
        self.rows = rows
        post, model = state.post, state.surrogate
        m = self.C.shape[0]
        self.mu = np.empty(m)  # model scale; the believer never changes it
        self.sd = np.full(m, np.nan)  # model scale, exact where ``level`` is the current step
        self.bound = np.empty(m)
        self.level = np.full(m, -1, dtype=np.int32)
        self.step = 0
        K_train = post.k(post.X, post.X) if post.n > 1 else None
        train_noise = post.train_noise()
        for start in range(0, m, rows):
            sl = slice(start, min(start + rows, m))
            Kc = post.k(self.C[sl], post.X)
            self.mu[sl] = model.y_mean_ + model.y_std_ * (Kc @ post.alpha_)
            var_bound = _two_point_variance(Kc, K_train, float(post.constant), train_noise)
            sd_bound = model.y_std_ * np.sqrt(np.maximum(var_bound, 0.0))
            self.bound[sl] = weighted(self.mu[sl], sd_bound, sl)
        # Candidates never scored exactly keep their first bound: visit them in its order.
        # Scored ones (few) are tracked apart, so a step costs O(scored + block), not O(m).
        self.order = np.argsort(-self.bound)
        self.ptr = 0  # order[:ptr] are all scored
        self.scored = np.zeros(m, dtype=bool)
        self.scored_idx = np.empty(0, dtype=np.intp)

    def add(self, x: np.ndarray, y: float | None) -> None:
        self.state.add(x, y)
        self.step += 1

    def _evaluate(self, rows: np.ndarray) -> None:
        model = self.state.surrogate
        for start in range(0, rows.size, self.rows):
            idx = rows[start : start + self.rows]
            mu, var = self.state.predict(self.C[idx])
            sd = model.y_std_ * np.sqrt(var)
            self.sd[idx] = sd
            self.bound[idx] = self.weighted(model.y_mean_ + model.y_std_ * mu, sd, idx)
            self.level[idx] = self.step
        new = rows[~self.scored[rows]]
        self.scored[new] = True
        self.scored_idx = np.concatenate([self.scored_idx, new])
        m = self.order.size
        while self.ptr < m:  # move past the scored head of the order
            window = self.order[self.ptr : self.ptr + 4096]
            unscored = np.flatnonzero(~self.scored[window])
            if unscored.size:
                self.ptr += int(unscored[0])
                break
            self.ptr += window.size

    def _fresh(self, pool: np.ndarray, k: int) -> np.ndarray:
        """Up to ``k`` never-scored candidates in the pool, highest first bound first."""
        found: list[np.ndarray] = []
        got, j, m = 0, self.ptr, self.order.size
        while got < k and j < m:
            window = self.order[j : j + max(2 * k, 1024)]
            ok = window[~self.scored[window] & pool[window]][: k - got]
            found.append(ok)
            got += ok.size
            j += window.size
        return np.concatenate(found) if found else np.empty(0, dtype=np.intp)

    def scores(self, pool: np.ndarray, need: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        need = min(need, int(pool.sum()))
        block = self.FIRST_BLOCK
        while True:
            seen = self.scored_idx
            current = self.level[seen] == self.step
            in_pool = pool[seen]
            exact = seen[current & in_pool]
            stale = seen[~current & in_pool]  # scored at an earlier step: bound = that value
            fresh = self._fresh(pool, block)
            rest_max = max(
                float(self.bound[stale].max()) if stale.size else -np.inf,
                float(self.bound[fresh[0]]) if fresh.size else -np.inf,
            )
            if exact.size >= need:
                if stale.size == 0 and fresh.size == 0:
                    break
                kth = np.partition(self.bound[exact], exact.size - need)[exact.size - need]
                if kth > rest_max:
                    break
            rest = np.concatenate([stale, fresh])
            if rest.size > block:
                top = np.argpartition(self.bound[rest], rest.size - block)[rest.size - block :]
                rest = rest[top]
            self._evaluate(rest)
            block *= 2
        values = np.full(self.C.shape[0], -np.inf)
        values[exact] = self.bound[exact]
        return values, self.mu, self.sd
