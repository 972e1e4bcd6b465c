"""Batches of proposals: Kriging believer and constant liar by rank-1 posterior updates.

Sequential batch construction (Ginsbourger, Le Riche & Carraro, "Kriging is well-suited to
parallelize optimization", 2010): pick the best candidate, add a *fantasy* observation there,
update the posterior, pick the next. The fantasy value is the current posterior mean (Kriging
believer) or a constant "lie" (min/mean/max of the observed targets: constant liar).

Hyperparameters and the target normalisation are held fixed, so the update is exact and needs
no refit. With ``s = Σ(x, x) + σ²`` (``σ²`` = white-noise level plus jitter, the value on the
training diagonal) adding an observation ``y`` at ``x`` gives

    Σ'(a, b) = Σ(a, b) - Σ(a, x) Σ(x, b) / s
    μ'(a)    = μ(a)    + Σ(a, x) (y - μ(x)) / s

(the conditioning identity behind R&W eq. 2.19). For the believer ``y = μ(x)``: the mean is
unchanged and only the covariance shrinks. Here ``Σ`` is the covariance of the *latent*
function; scikit-learn's ``predict`` adds the white noise to its std, so the naive reference
below subtracts it again.

After ``k`` fantasies ``f_1..f_k`` the state is kept as vectors ``u_j(a) = Σ_{j-1}(a, f_j) /
sqrt(s_j)`` and residuals ``r_j = (y_j - μ_{j-1}(f_j)) / sqrt(s_j)``:

    Σ_k(a, b) = Σ_0(a, b) - Σ_j u_j(a) u_j(b)        μ_k(a) = μ_0(a) + Σ_j u_j(a) r_j

so each candidate carries its mean, its variance and one number per fantasy. Candidates are
processed in chunks; their cross-covariances with the training points are cached only while they
fit a memory budget and are recomputed per chunk otherwise, so a million candidates stay bounded.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import minimize
from scipy.spatial.distance import cdist
from sklearn.gaussian_process import GaussianProcessRegressor

from kiln import acquisition as acq
from kiln.errors import KilnError
from kiln.feasibility import acquisition_floor, weigh
from kiln.strategy import BATCH_METHODS
from kiln.surrogate import JITTER, GPPosterior, GPSurrogate

#: Acquisitions that never rise when a believer fantasy shrinks the std (lazy scoring is exact).
LAZY_ACQUISITIONS = ("ucb", "ei")
DEFAULT_CHUNK = 25_000
DEFAULT_CACHE_BYTES = 64 * 2**20
#: Bytes of one ``candidates x observations`` float64 block processed at a time. Small enough
#: to stay in the CPU cache through the Matern kernel's elementwise passes: ``make
#: bench-proposal`` measured the mean pass over 10^5 candidates x 200 observations 2x faster
#: with 1-3 MiB blocks than with 30-150 MiB ones.
CHUNK_BYTES = 2 * 2**20
_SAME_POINT = 1e-9

#: Candidate rows: a slice or an index array.
Rows = slice | np.ndarray
_ALL = slice(None)
#: ``(mean, std, rows) -> acquisition`` on the model scale, weighted by success where given.
Weighted = Callable[[np.ndarray, np.ndarray, Rows], np.ndarray]


@dataclass(frozen=True)
class Pick:
    """One point of a batch.

    Attributes:
        index: Row of the candidate array, or None for a point found by local polishing.
        x: Encoded point.
        acquisition_value: Acquisition at pick time (under the fantasies so far).
        mean: Posterior mean on the model scale at pick time.
        std: Latent posterior std on the model scale at pick time.
    """

    index: int | None
    x: np.ndarray
    acquisition_value: float
    mean: float
    std: float


@dataclass(frozen=True)
class Selection:
    """Result of a batch selection.

    Attributes:
        picks: The chosen points, in order.
        exhausted: True when the unmeasured, non-pending candidates ran out: fewer picks than
            asked for, or some picks repeat measured points.
    """

    picks: list[Pick]
    exhausted: bool


def lie_value(method: str, y: np.ndarray) -> float | None:
    """The constant-liar value (model scale) for ``method``; None for the Kriging believer.

    Raises:
        KilnError: On an unknown method.
    """
    if method == "kriging_believer":
        return None
    if method == "constant_liar_min":
        return float(np.min(y))
    if method == "constant_liar_mean":
        return float(np.mean(y))
    if method == "constant_liar_max":
        return float(np.max(y))
    raise KilnError(f"batch method {method!r} is unknown; use one of {list(BATCH_METHODS)}")


class FantasyState:
    """Fantasy observations on a fixed-hyperparameter GP posterior, evaluated at any points.

    Holds only the fantasies (their points and rank-1 factors), so it costs nothing per
    candidate: :meth:`predict` gives the exact posterior under the fantasies at whatever points
    it is asked about. :class:`FantasyPosterior` adds dense bookkeeping over a candidate set.
    Everything is on the surrogate's normalised target scale.

    Args:
        surrogate: A fitted surrogate (its hyperparameters and normalisation are held fixed).
    """

    def __init__(self, surrogate: GPSurrogate) -> None:
        self.surrogate = surrogate
        self.post: GPPosterior = surrogate.posterior_
        d, n = self.post.X.shape[1], self.post.n
        self.Xf = np.empty((0, d))
        self.Vf = np.empty((0, n))  # L^-1 k(X, f_j)
        self.Uf = np.empty((0, 0))  # Uf[i, j] = u_j(f_i), j < i
        self.s = np.empty(0)
        self.r = np.empty(0)

    @property
    def n_fantasies(self) -> int:
        """Number of fantasy observations added so far."""
        return int(self.s.shape[0])

    def _point_state(self, A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance, ``u`` vectors and ``L^-1 k(X, a)`` for arbitrary points ``A``."""
        Ks, V = self.post.solve_cross(A)
        mu = Ks @ self.post.alpha_
        var = self.post.prior_var(A) - np.einsum("ij,ij->j", V, V)
        k = self.n_fantasies
        U = np.zeros((A.shape[0], k))
        if k:
            cross0 = self.post.k(A, self.Xf) - V.T @ self.Vf.T  # Σ_0(a, f_j)
            for j in range(k):
                U[:, j] = (cross0[:, j] - U[:, :j] @ self.Uf[j, :j]) / math.sqrt(self.s[j])
            mu = mu + U @ self.r
            var = var - np.einsum("ij,ij->i", U, U)
        return mu, var, U, V

    def predict(self, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent mean and variance (normalised) at arbitrary points under the fantasies."""
        mu, var, _, _ = self._point_state(np.atleast_2d(A))
        return mu, np.maximum(var, 0.0)

    def _condition(
        self, x: np.ndarray, y: float | None
    ) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Record a fantasy at ``x``; return ``(K^-1 k(X, x), u(x), sqrt(s), r)`` of the update."""
        x = np.asarray(x, dtype=float).reshape(1, -1)
        mu_x, var_x, u_x, v_x = self._point_state(x)
        s = max(float(var_x[0]), 0.0) + self.post.noise
        sqrt_s = math.sqrt(s)
        if y is None:
            r = 0.0
        else:
            y_norm = (y - self.surrogate.y_mean_) / self.surrogate.y_std_
            r = (y_norm - float(mu_x[0])) / sqrt_s
        # K^-1 k(X, x) = L^-T L^-1 k(X, x)
        w = solve_triangular(self.post.L_, v_x[:, 0], lower=True, trans="T", check_finite=False)
        ux = u_x[0]
        k = self.n_fantasies
        Uf = np.zeros((k + 1, k + 1))
        Uf[:k, :k] = self.Uf
        Uf[k, :k] = ux
        self.Uf = Uf
        self.Xf = np.vstack([self.Xf, x])
        self.Vf = np.vstack([self.Vf, v_x[:, 0]])
        self.s = np.append(self.s, s)
        self.r = np.append(self.r, r)
        return w, ux, sqrt_s, r

    def add(self, x: np.ndarray, y: float | None = None) -> None:
        """Condition on a fantasy observation at ``x``.

        Args:
            x: Encoded point, shape ``(d,)``.
            y: Fantasy value on the model scale; None for the Kriging believer (the current
                mean, which leaves every mean unchanged).
        """
        self._condition(x, y)


def chunk_rows(n_train: int, chunk_size: int = DEFAULT_CHUNK) -> int:
    """Candidate rows per chunk: at most ``chunk_size``, and one ``rows x n_train`` float64
    matrix within :data:`CHUNK_BYTES`, so the working set does not grow with the training set."""
    return max(1, min(chunk_size, CHUNK_BYTES // (8 * max(n_train, 1))))


class FantasyPosterior(FantasyState):
    """A GP posterior over fixed candidates, updated in place by fantasy observations.

    Everything is on the surrogate's normalised target scale; use :meth:`mean_std` for the
    model scale.

    Args:
        surrogate: A fitted surrogate (its hyperparameters and normalisation are held fixed).
        candidates: Encoded candidates, shape ``(m, d)``.
        chunk_size: Rows processed at a time (fewer when :func:`chunk_rows` says so).
        cache_bytes: Budget for caching ``k(candidates, X_train)``; above it the
            cross-covariances are recomputed per chunk at every update.
    """

    def __init__(
        self,
        surrogate: GPSurrogate,
        candidates: np.ndarray,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        super().__init__(surrogate)
        self.C = np.asarray(candidates, dtype=float)
        m = self.C.shape[0]
        rows = chunk_rows(self.post.n, chunk_size)
        self.chunks = [slice(i, min(i + rows, m)) for i in range(0, m, rows)]
        self.cache = m * self.post.n * 8 <= cache_bytes
        self._kc: list[np.ndarray] = []
        self.mu = np.empty(m)
        self.var = np.empty(m)
        for sl in self.chunks:
            Kc, V = self.post.solve_cross(self.C[sl])
            self.mu[sl] = Kc @ self.post.alpha_
            self.var[sl] = self.post.prior_var(self.C[sl]) - np.einsum("ij,ij->j", V, V)
            if self.cache:
                self._kc.append(Kc)
        self.U: list[np.ndarray] = []  # u_j over the candidates, one array per fantasy

    def add(self, x: np.ndarray, y: float | None = None) -> None:
        """Condition on a fantasy observation at ``x`` and update every candidate.

        Args:
            x: Encoded point, shape ``(d,)``.
            y: Fantasy value on the model scale; None for the Kriging believer (the current
                mean, which leaves every mean unchanged).
        """
        x = np.asarray(x, dtype=float).reshape(1, -1)
        w, ux, sqrt_s, r = self._condition(x, y)
        u_new = np.empty(self.C.shape[0])
        for c, sl in enumerate(self.chunks):
            Kc = self._kc[c] if self.cache else self.post.k(self.C[sl], self.post.X)
            cross = self.post.k(self.C[sl], x)[:, 0] - Kc @ w  # Σ_0(a, x)
            for j, Uj in enumerate(self.U):
                cross -= Uj[sl] * ux[j]  # Σ_k(a, x)
            u_new[sl] = cross / sqrt_s
        self.var -= u_new**2
        if r:
            self.mu += u_new * r
        self.U.append(u_new)

    def mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        """Candidates' posterior mean and latent std on the model scale."""
        ys = self.surrogate.y_std_
        return self.surrogate.y_mean_ + ys * self.mu, ys * np.sqrt(np.maximum(self.var, 0.0))


@dataclass(frozen=True)
class Polisher:
    """Local continuous refinement of the best sampled candidates.

    Attributes:
        columns: Encoded columns the optimiser may move (continuous parameters).
        snap: Maps an encoded row to the encoded row of the nearest allowed point
            (steps, listed values); applied after the optimiser.
        n_starts: How many of the best candidates start an L-BFGS-B run.
        maxiter: Iteration cap per run.
    """

    columns: Sequence[int]
    snap: Callable[[np.ndarray], np.ndarray]
    n_starts: int = 3
    maxiter: int = 50


def _pool(excluded: np.ndarray, measured: np.ndarray) -> tuple[np.ndarray, bool]:
    """Rows a pick may come from, preferring unmeasured ones; flag when measured are needed."""
    fresh = ~excluded & ~measured
    if fresh.any():
        return fresh, False
    return ~excluded, True


def _near(x: np.ndarray, points: np.ndarray) -> bool:
    return points.shape[0] > 0 and float(cdist(x[None, :], points).min()) < _SAME_POINT


def select_batch(
    surrogate: GPSurrogate,
    candidates: np.ndarray,
    q: int,
    *,
    acquisition: str = "ucb",
    kappa: float = 1.96,
    xi: float = 0.01,
    batch_method: str = "kriging_believer",
    pending: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    measured: np.ndarray | None = None,
    polisher: Polisher | None = None,
    rng: np.random.Generator | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    cache_bytes: int = DEFAULT_CACHE_BYTES,
    success_probability: np.ndarray | None = None,
    lazy: bool = True,
) -> Selection:
    """Choose ``q`` points by sequential fantasies with rank-1 posterior updates.

    With the Kriging believer and UCB or EI, candidates are scored lazily (see
    :class:`_LazyScores`): the picks are those of scoring every candidate at every step, but
    only the candidates that can still win are scored exactly.

    Args:
        surrogate: Fitted surrogate.
        candidates: Encoded candidates ``(m, d)``.
        q: Batch size.
        acquisition: ``"ucb"``, ``"ei"``, ``"pi"`` or ``"random"``.
        kappa: UCB weight.
        xi: EI/PI margin in units of the training targets' std (see :mod:`kiln.acquisition`).
        batch_method: Kriging believer or a constant liar.
        pending: Encoded points already handed out; they become fantasies first.
        excluded: Candidates never to pick (e.g. those equal to pending points).
        measured: Candidates to pick only when nothing else is left.
        polisher: Optional continuous refinement of the best candidates at each step.
        rng: Randomness for ``"random"``.
        chunk_size: Candidate rows per chunk.
        cache_bytes: Memory budget for cached cross-covariances.
        success_probability: Optional probability of a successful synthesis per candidate
            (:mod:`kiln.feasibility`); it multiplies the acquisition, and the candidates are
            then used as they are (no polishing).
        lazy: False scores every candidate at every step (the reference the lazy path must
            equal; slower).

    Returns:
        The picks; ``exhausted`` when unmeasured candidates ran out.
    """
    m = candidates.shape[0]
    excluded = np.zeros(m, bool) if excluded is None else excluded.copy()
    measured = np.zeros(m, bool) if measured is None else measured
    rng = rng if rng is not None else np.random.default_rng(0)
    y_train = surrogate.y_train_
    lie = lie_value(batch_method, y_train)
    best = float(np.max(y_train))
    pending = np.empty((0, candidates.shape[1])) if pending is None else pending

    def score(mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
        return acq.score(acquisition, mu, sd, best, kappa, xi, spread=surrogate.y_std_, rng=rng)

    floor = acquisition_floor(acquisition, y_train)
    if success_probability is not None:
        polisher = None

    def weighted(mu: np.ndarray, sd: np.ndarray, rows: Rows = _ALL) -> np.ndarray:
        values = score(mu, sd)
        if success_probability is None or acquisition == "random":
            return values
        return weigh(values, success_probability[rows], floor)

    view: _DenseScores | _LazyScores
    if lazy and lie is None and acquisition in LAZY_ACQUISITIONS:
        state: FantasyState = FantasyState(surrogate)
        for p in pending:
            state.add(p, lie)
        view = _LazyScores(state, candidates, weighted, chunk_rows(state.post.n, chunk_size))
    else:
        state = FantasyPosterior(
            surrogate, candidates, chunk_size=chunk_size, cache_bytes=cache_bytes
        )
        for p in pending:
            state.add(p, lie)
        view = _DenseScores(state, weighted)
    need = 1 if polisher is None or acquisition == "random" else max(1, polisher.n_starts)

    picks: list[Pick] = []
    exhausted = False
    taken = np.empty((0, candidates.shape[1]))
    for step in range(q):
        pool, repeats = _pool(excluded, measured)
        if not pool.any():
            exhausted = True
            break
        exhausted |= repeats
        values, mu, sd = view.scores(pool, need)
        i = int(np.argmax(values))
        pick = Pick(i, candidates[i], float(values[i]), float(mu[i]), float(sd[i]))
        if polisher is not None and acquisition != "random":
            forbid = np.vstack([pending, taken] + ([] if repeats else [surrogate.X_train_]))
            pick = _polish(pick, values, candidates, state, score, polisher, forbid) or pick
        if pick.index is not None:
            excluded[pick.index] = True
        picks.append(pick)
        taken = np.vstack([taken, pick.x])
        if step < q - 1:  # the last pick's fantasy would change nothing that is used
            view.add(pick.x, lie)
    return Selection(picks, exhausted)


class _DenseScores:
    """Every candidate's acquisition at every step, from a :class:`FantasyPosterior`."""

    def __init__(self, state: FantasyPosterior, weighted: Weighted) -> None:
        self.state = state
        self.weighted = weighted

    def add(self, x: np.ndarray, y: float | None) -> None:
        self.state.add(x, y)

    def scores(self, pool: np.ndarray, need: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu, sd = self.state.mean_std()
        return np.where(pool, self.weighted(mu, sd, _ALL), -np.inf), mu, sd


def _two_point_variance(
    Kc: np.ndarray, K_train: np.ndarray | None, c: float, noise: float
) -> np.ndarray:
    """Each row's prior variance given only its two most correlated training points.

    Conditioning on a subset of the data never gives less variance than conditioning on all
    of it, so this bounds the posterior variance from above. ``Kc`` (rows x n, overwritten) is
    ``k(candidates, X)``; ``K_train`` is ``k(X, X)`` (None for a single training point).
    """
    rows = np.arange(Kc.shape[0])
    a = c + noise  # a training point's variance on the diagonal of K + noise I
    i1 = Kc.argmax(axis=1)
    k1 = Kc[rows, i1]
    if K_train is None:
        return c - k1**2 / a
    Kc[rows, i1] = -np.inf
    i2 = Kc.argmax(axis=1)
    k2 = Kc[rows, i2]
    k12 = K_train[i1, i2]
    # [k1 k2] [[a, k12], [k12, a]]^-1 [k1 k2]^T
    explained = (a * (k1**2 + k2**2) - 2.0 * k12 * k1 * k2) / (a * a - k12**2)
    return c - explained


class _LazyScores:
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
        for start in range(0, m, rows):
            sl = slice(start, min(start + rows, m))
            Kc = post.k(self.C[sl], post.X)
            self.mu[sl] = model.y_mean_ + model.y_std_ * (Kc @ post.alpha_)
            var_bound = _two_point_variance(Kc, K_train, float(post.constant), post.noise)
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


def _polish(
    pick: Pick,
    values: np.ndarray,
    candidates: np.ndarray,
    state: FantasyState,
    score: Callable[[np.ndarray, np.ndarray], np.ndarray],
    polisher: Polisher,
    forbid: np.ndarray,
) -> Pick | None:
    """Improve the best sampled candidates with L-BFGS-B over the continuous columns."""
    cols = np.asarray(polisher.columns, dtype=int)
    if cols.size == 0:
        return None
    ys = state.surrogate.y_std_
    ym = state.surrogate.y_mean_

    def model_scale(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu, var = state.predict(X)
        return ym + ys * mu, ys * np.sqrt(var)

    finite = np.flatnonzero(np.isfinite(values))
    starts = finite[np.argsort(values[finite])[::-1][: polisher.n_starts]]
    best: Pick | None = None
    for i in starts:
        base = candidates[i].copy()

        def negative(z: np.ndarray, base: np.ndarray = base) -> float:
            x = base.copy()
            x[cols] = z
            return -float(score(*model_scale(x[None, :]))[0])

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = minimize(
                negative,
                base[cols],
                method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * cols.size,
                options={"maxiter": polisher.maxiter},
            )
        x = base.copy()
        x[cols] = res.x
        x = polisher.snap(x)
        if _near(x, forbid):
            continue
        mu, sd = model_scale(x[None, :])
        value = float(score(mu, sd)[0])
        if value > pick.acquisition_value and (best is None or value > best.acquisition_value):
            best = Pick(None, x, value, float(mu[0]), float(sd[0]))
    if best is not None:
        # a polished point that lands on a candidate row takes that row's identity
        dist = cdist(best.x[None, :], candidates)[0]
        j = int(np.argmin(dist))
        if dist[j] < _SAME_POINT:
            best = Pick(j, candidates[j], best.acquisition_value, best.mean, best.std)
    return best


def naive_select_batch(
    surrogate: GPSurrogate,
    candidates: np.ndarray,
    q: int,
    *,
    acquisition: str = "ucb",
    kappa: float = 1.96,
    xi: float = 0.01,
    batch_method: str = "kriging_believer",
    pending: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    measured: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> Selection:
    """Reference implementation of :func:`select_batch` that refits at every step.

    Each step fits a fresh scikit-learn ``GaussianProcessRegressor`` (the surrogate's fitted
    kernel, ``optimizer=None``, ``normalize_y=False``; the surrogate's normalisation applied
    outside) on the observations plus all fantasies, and predicts every candidate. It exists
    to test and benchmark the rank-1 version; it is slow by construction.
    """
    m = candidates.shape[0]
    excluded = np.zeros(m, bool) if excluded is None else excluded.copy()
    measured = np.zeros(m, bool) if measured is None else measured
    rng = rng if rng is not None else np.random.default_rng(0)
    ym, ys = surrogate.y_mean_, surrogate.y_std_
    noise = surrogate.noise_level_
    lie = lie_value(batch_method, surrogate.y_train_)
    best = float(np.max(surrogate.y_train_))
    X = surrogate.X_train_.copy()
    y = (surrogate.y_train_ - ym) / ys

    def refit() -> GaussianProcessRegressor:
        gpr = GaussianProcessRegressor(
            kernel=surrogate.kernel_, alpha=JITTER, optimizer=None, normalize_y=False
        )
        return gpr.fit(X, y)

    def fantasy(gpr: GaussianProcessRegressor, x: np.ndarray) -> float:
        return float(gpr.predict(x[None, :])[0]) if lie is None else (lie - ym) / ys

    pending = np.empty((0, candidates.shape[1])) if pending is None else pending
    for p in pending:
        f = fantasy(refit(), p)
        X, y = np.vstack([X, p]), np.append(y, f)
    picks: list[Pick] = []
    exhausted = False
    for _ in range(q):
        pool, repeats = _pool(excluded, measured)
        if not pool.any():
            exhausted = True
            break
        exhausted |= repeats
        gpr = refit()
        mu_n, sd_total = gpr.predict(candidates, return_std=True)
        # scikit-learn's std includes the white noise (k(x, x) of the WhiteKernel): remove it
        sd = ys * np.sqrt(np.maximum(sd_total**2 - noise, 0.0))
        mu = ym + ys * mu_n
        values = np.where(
            pool, acq.score(acquisition, mu, sd, best, kappa, xi, spread=ys, rng=rng), -np.inf
        )
        i = int(np.argmax(values))
        picks.append(Pick(i, candidates[i], float(values[i]), float(mu[i]), float(sd[i])))
        excluded[i] = True
        f = fantasy(gpr, candidates[i])
        X, y = np.vstack([X, candidates[i]]), np.append(y, f)
    return Selection(picks, exhausted)


def space_filling(
    candidates: np.ndarray,
    q: int,
    *,
    reference: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    measured: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Selection:
    """Greedy maximin design: each pick is the candidate farthest from all earlier points.

    Args:
        candidates: Encoded candidates ``(m, d)``.
        q: Number of picks.
        reference: Encoded points already there (observations, pending proposals).
        excluded: Candidates never to pick.
        measured: Candidates to pick only when nothing else is left.
        rng: Breaks ties (and chooses the first point when there is no reference), seeded.
        chunk_size: Rows per chunk for the distance computation.
    """
    m = candidates.shape[0]
    excluded = np.zeros(m, bool) if excluded is None else excluded.copy()
    measured = np.zeros(m, bool) if measured is None else measured
    rng = rng if rng is not None else np.random.default_rng(0)
    dmin = np.full(m, np.inf)
    if reference is not None and reference.shape[0]:
        for i in range(0, m, chunk_size):
            dmin[i : i + chunk_size] = cdist(candidates[i : i + chunk_size], reference).min(1)
    picks: list[Pick] = []
    exhausted = False
    for _ in range(q):
        pool, repeats = _pool(excluded, measured)
        if not pool.any():
            exhausted = True
            break
        exhausted |= repeats
        d = np.where(pool, dmin, -np.inf)
        top = d.max()
        ties = np.flatnonzero(d >= top - 1e-12) if np.isfinite(top) else np.flatnonzero(pool)
        i = int(rng.choice(ties))
        picks.append(Pick(i, candidates[i], math.nan, math.nan, math.nan))
        excluded[i] = True
        for s in range(0, m, chunk_size):
            sl = slice(s, s + chunk_size)
            dmin[sl] = np.minimum(dmin[sl], cdist(candidates[sl], candidates[i][None, :])[:, 0])
    return Selection(picks, exhausted)
