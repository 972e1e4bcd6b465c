"""Batches: the rank-1 believer/liar against a naive refitting reference, exclusion, space filling."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from naive_batch import naive_select_batch
from sklearn.gaussian_process import GaussianProcessRegressor

from kiln import acquisition as acq
from kiln.batch.fantasy import FantasyPosterior
from kiln.batch.picks import lie_value
from kiln.batch.polishing import Polisher
from kiln.batch.selection import select_batch
from kiln.batch.space_filling import space_filling
from kiln.errors import KilnError
from kiln.model.surrogate import JITTER, GPSurrogate

METHODS = ["kriging_believer", "constant_liar_min", "constant_liar_mean", "constant_liar_max"]


def _problem(n: int = 40, m: int = 400, d: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    y = np.sin(5 * X[:, 0]) * np.cos(3 * X[:, 1]) + 0.3 * X[:, 2] + 0.05 * rng.normal(size=n)
    model = GPSurrogate(n_restarts=1, random_state=seed).fit(X, y)
    return model, rng.uniform(size=(m, d)), rng.uniform(size=(2, d))


@pytest.fixture(scope="module")
def problem():
    return _problem()


def _naive_stats(model: GPSurrogate, X: np.ndarray, y_norm: np.ndarray, C: np.ndarray):
    """Refit scikit-learn with the fixed kernel and normalisation; latent mean/std, model scale."""
    gpr = GaussianProcessRegressor(
        kernel=model.kernel_, alpha=JITTER, optimizer=None, normalize_y=False
    ).fit(X, y_norm)
    mu, sd = gpr.predict(C, return_std=True)
    latent = np.sqrt(np.maximum(sd**2 - model.noise_level_, 0.0))
    return model.y_mean_ + model.y_std_ * mu, model.y_std_ * latent


@pytest.mark.parametrize("method", METHODS)
def test_rank1_updates_equal_refitting_step_by_step(problem, method: str) -> None:
    model, C, P = problem
    fast = FantasyPosterior(model, C, chunk_size=150)
    X, y = model.X_train_.copy(), (model.y_train_ - model.y_mean_) / model.y_std_
    lie = lie_value(method, model.y_train_)
    mu0, _ = fast.mean_std()
    for x in [P[0], P[1], C[3], C[100], C[7]]:
        naive_mu, _ = _naive_stats(model, X, y, x[None, :])
        f = naive_mu[0] if lie is None else lie
        fast.add(x, lie)
        X, y = np.vstack([X, x]), np.append(y, (f - model.y_mean_) / model.y_std_)
        mu_ref, sd_ref = _naive_stats(model, X, y, C)
        mu, sd = fast.mean_std()
        np.testing.assert_allclose(mu, mu_ref, rtol=0, atol=1e-8)
        np.testing.assert_allclose(sd, sd_ref, rtol=0, atol=1e-8)
        if lie is None:  # the believer leaves the mean alone
            np.testing.assert_allclose(mu, mu0, rtol=0, atol=1e-10)
    # arbitrary points are predicted consistently with the candidates
    mu_pts, var_pts = fast.predict(C[:20])
    np.testing.assert_allclose(mu_pts, fast.mu[:20], atol=1e-10)
    np.testing.assert_allclose(var_pts, np.maximum(fast.var[:20], 0), atol=1e-10)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("acquisition", ["ucb", "ei", "pi"])
def test_fast_batch_equals_naive_refitting_batch(problem, method: str, acquisition: str) -> None:
    model, C, P = problem
    kwargs = {"acquisition": acquisition, "batch_method": method, "pending": P}
    fast = select_batch(model, C, 6, **kwargs)
    naive = naive_select_batch(model, C, 6, **kwargs)
    assert [p.index for p in fast.picks] == [p.index for p in naive.picks]
    assert len({p.index for p in fast.picks}) == 6
    for a, b in zip(fast.picks, naive.picks, strict=True):
        assert abs(a.mean - b.mean) < 1e-8
        assert abs(a.std - b.std) < 1e-8
        assert a.acquisition_value == pytest.approx(b.acquisition_value, abs=1e-7)


def test_believer_shrinks_variance_only(problem) -> None:
    model, C, _ = problem
    state = FantasyPosterior(model, C)
    mu0, var0 = state.mu.copy(), state.var.copy()
    state.add(C[0])
    np.testing.assert_array_equal(state.mu, mu0)
    assert np.all(state.var <= var0 + 1e-15)
    # the variance at the fantasy point drops to about the noise level times the prior ratio
    assert state.var[0] < var0[0]
    liar = FantasyPosterior(model, C)
    liar.add(C[0], float(np.max(model.y_train_)) + 5.0)
    assert liar.mu[0] > mu0[0]


def test_chunking_and_cache_do_not_change_results(problem) -> None:
    model, C, P = problem
    a = select_batch(model, C, 6, pending=P)
    b = select_batch(model, C, 6, pending=P, chunk_size=33, cache_bytes=0)
    assert [p.index for p in a.picks] == [p.index for p in b.picks]
    for pa, pb in zip(a.picks, b.picks, strict=True):
        assert pa.std == pytest.approx(pb.std, abs=1e-12)
    state = FantasyPosterior(model, C, chunk_size=33, cache_bytes=0)
    assert not state.cache and len(state.chunks) == 13


def test_never_repeats_and_avoids_measured(problem) -> None:
    model, C, _ = problem
    free = select_batch(model, C, 3)
    first = free.picks[0].index
    excluded = np.zeros(len(C), bool)
    excluded[first] = True
    measured = np.zeros(len(C), bool)
    measured[free.picks[1].index] = True
    again = select_batch(model, C, 6, excluded=excluded, measured=measured)
    picked = [p.index for p in again.picks]
    assert first not in picked and free.picks[1].index not in picked
    assert len(set(picked)) == 6 and not again.exhausted


def test_exhaustion(problem) -> None:
    model, C, _ = problem
    few = C[:3]
    sel = select_batch(model, few, 6)
    assert sorted(p.index for p in sel.picks) == [0, 1, 2]
    assert sel.exhausted
    # measured points are repeated only when nothing else is left, and that is flagged
    measured = np.array([True, False, True])
    sel = select_batch(model, few, 2, measured=measured)
    assert sel.picks[0].index == 1 and sel.exhausted
    sel = select_batch(model, few, 1, measured=measured)
    assert [p.index for p in sel.picks] == [1] and not sel.exhausted
    sel = select_batch(model, few, 3, excluded=np.array([True, True, True]))
    assert sel.picks == [] and sel.exhausted


def test_lie_values() -> None:
    y = np.array([1.0, 2.0, 6.0])
    assert lie_value("kriging_believer", y) is None
    assert lie_value("constant_liar_min", y) == 1.0
    assert lie_value("constant_liar_mean", y) == 3.0
    assert lie_value("constant_liar_max", y) == 6.0
    with pytest.raises(KilnError, match="unknown"):
        lie_value("constant_liar_median", y)


def test_space_filling_is_greedy_maximin_and_seeded() -> None:
    grid = np.linspace(0, 1, 11)[:, None]
    sel = space_filling(grid, 3, reference=np.array([[0.0]]))
    assert [p.index for p in sel.picks][:2] == [10, 5]
    assert sel.picks[2].index in {2, 3, 7, 8}  # all at distance 0.2 from 0, 0.5 and 1
    a = space_filling(grid, 4, rng=np.random.default_rng(3))
    b = space_filling(grid, 4, rng=np.random.default_rng(3))
    assert [p.index for p in a.picks] == [p.index for p in b.picks]
    assert len({p.index for p in a.picks}) == 4
    one = space_filling(grid[:1], 6)
    assert len(one.picks) == 1 and one.exhausted


def test_polisher_improves_on_sampled_candidates() -> None:
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(25, 1))
    y = -((X[:, 0] - 0.637) ** 2)
    model = GPSurrogate(n_restarts=1).fit(X, y)
    C = np.array([[0.1], [0.3], [0.5], [0.9]])
    plain = select_batch(model, C, 1, kappa=0.0)
    polished = select_batch(
        model, C, 1, kappa=0.0, polisher=Polisher([0], snap=lambda row: np.round(row, 3))
    )
    assert plain.picks[0].x[0] == 0.5
    assert polished.picks[0].index is None
    assert polished.picks[0].x[0] == pytest.approx(0.637, abs=0.02)
    assert polished.picks[0].acquisition_value > plain.picks[0].acquisition_value


def test_a_polished_pick_avoids_measured_points_the_model_did_not_train_on() -> None:
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(25, 1))
    model = GPSurrogate(n_restarts=1).fit(X, -((X[:, 0] - 0.637) ** 2))
    C = np.array([[0.1], [0.3], [0.5], [0.9]])
    polisher = Polisher([0], snap=lambda row: np.round(row, 3))
    first = select_batch(model, C, 1, kappa=0.0, polisher=polisher).picks[0].x
    measured = np.vstack([X, first])  # measured there, but not in the model's training set
    again = select_batch(model, C, 1, kappa=0.0, polisher=polisher, observed=measured)
    assert not np.allclose(again.picks[0].x, first)
    unchanged = select_batch(model, C, 1, kappa=0.0, polisher=polisher, observed=X)
    assert np.array_equal(unchanged.picks[0].x, first)


def test_memory_stays_bounded_for_many_candidates() -> None:
    model, _, _ = _problem(n=50, m=1)
    m = 200_000
    C = np.random.default_rng(1).uniform(size=(m, 3))
    full_cross = m * 50 * 8  # one dense candidates x observations matrix: 80 MB
    tracemalloc.start()
    try:
        sel = select_batch(model, C, 6, chunk_size=10_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(sel.picks) == 6
    # per-candidate vectors (mean, variance, one column per pick) plus one chunk at a time
    assert peak < full_cross * 0.5, f"peak {peak / 2**20:.0f} MiB"


def _larger_problem(m: int = 3000, seed: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(60, 3))
    y = np.sin(4 * X[:, 0]) + np.cos(5 * X[:, 1]) * X[:, 2] + 0.05 * rng.normal(size=60)
    model = GPSurrogate(n_restarts=1, random_state=seed).fit(X, y)
    return model, rng.uniform(size=(m, 3)), rng


@pytest.mark.parametrize("first_block", [1, 128])
@pytest.mark.parametrize("acquisition", ["ucb", "ei"])
def test_lazy_scoring_equals_scoring_every_candidate(
    monkeypatch, acquisition: str, first_block: int
) -> None:
    from kiln.batch import scores as batch

    # one candidate at a time stresses the bounds and the stopping rule hardest
    monkeypatch.setattr(batch.LazyScores, "FIRST_BLOCK", first_block)
    model, C, rng = _larger_problem()
    C = np.vstack([C, C[:500]])  # exact ties: the lowest index must win in both paths
    excluded = rng.uniform(size=len(C)) < 0.05
    measured = rng.uniform(size=len(C)) < 0.05
    cases = [
        {},
        {"kappa": 10.0, "xi": 0.5},  # exploration: the winners lie far from the best means
        {"pending": rng.uniform(size=(3, 3))},
        {"excluded": excluded, "measured": measured},
        {"success_probability": rng.uniform(0.1, 1.0, size=len(C))},
        {"success_probability": np.zeros(len(C))},  # every weighted value ties at 0
        {"chunk_size": 97},
    ]
    for extra in cases:
        kwargs = {"acquisition": acquisition, **extra}
        lazy = select_batch(model, C, 8, **kwargs)
        dense = select_batch(model, C, 8, lazy=False, **kwargs)
        assert [p.index for p in lazy.picks] == [p.index for p in dense.picks], extra.keys()
        for a, b in zip(lazy.picks, dense.picks, strict=True):
            assert a.mean == pytest.approx(b.mean, abs=1e-10)
            assert a.std == pytest.approx(b.std, abs=1e-10)
            assert a.acquisition_value == pytest.approx(b.acquisition_value, abs=1e-10)


@pytest.mark.parametrize("acquisition", ["ucb", "ei"])
def test_lazy_first_bounds_are_upper_bounds(acquisition: str) -> None:
    from kiln.batch.fantasy import FantasyState
    from kiln.batch.scores import LazyScores

    model, C, _ = _larger_problem()
    C = np.vstack([C, model.X_train_])  # at the data the one-point bound is nearly tight
    best = float(np.max(model.y_train_))

    def weighted(mu, sd, rows):
        return acq.score(acquisition, mu, sd, best, spread=model.y_std_)

    view = LazyScores(FantasyState(model), C, weighted, rows=500)
    mu, sd = model.predict(C)
    exact = acq.score(acquisition, mu, sd, best, spread=model.y_std_)
    np.testing.assert_allclose(view.mu, mu, atol=1e-10)
    assert np.all(view.bound >= exact - 1e-12)
    # and they are bounds worth having: close to the exact value next to the data
    assert np.max(view.bound[-60:] - exact[-60:]) < 0.5 * np.max(view.bound - exact)


def test_lazy_scoring_with_polisher_equals_dense() -> None:
    model, C, _ = _larger_problem(m=2000)
    polisher = Polisher([0, 1, 2], snap=lambda row: np.round(row, 2), n_starts=3)
    lazy = select_batch(model, C, 4, polisher=polisher)
    dense = select_batch(model, C, 4, polisher=polisher, lazy=False)
    assert [p.index for p in lazy.picks] == [p.index for p in dense.picks]
    for a, b in zip(lazy.picks, dense.picks, strict=True):
        np.testing.assert_allclose(a.x, b.x, atol=1e-9)


def test_lazy_scoring_scores_only_candidates_that_can_win(monkeypatch) -> None:
    from kiln.batch import scores as batch

    model, C, _ = _larger_problem(m=20_000)
    scored: list[int] = []
    original = batch.LazyScores._evaluate

    def counting(self, rows):
        scored.append(rows.size)
        return original(self, rows)

    monkeypatch.setattr(batch.LazyScores, "_evaluate", counting)
    sel = select_batch(model, C, 6)
    assert len(sel.picks) == 6
    # exact variances for a minority of the candidates over all six steps, not 6 x 20,000
    assert sum(scored) < len(C) / 2, scored


def test_chunk_rows_bound_the_block_size() -> None:
    from kiln.batch.fantasy import CHUNK_BYTES, chunk_rows

    assert chunk_rows(40, 33) == 33
    assert chunk_rows(1000) * 1000 * 8 <= CHUNK_BYTES
    assert chunk_rows(10**9) == 1


def test_lazy_scoring_with_one_training_point_equals_dense() -> None:
    model = GPSurrogate(n_restarts=0).fit(np.array([[0.5, 0.5]]), np.array([1.0]))
    C = np.random.default_rng(4).uniform(size=(500, 2))
    lazy = select_batch(model, C, 4)
    dense = select_batch(model, C, 4, lazy=False)
    assert [p.index for p in lazy.picks] == [p.index for p in dense.picks]


@pytest.mark.parametrize("acquisition", ["ei", "pi"])
def test_xi_means_the_same_in_any_unit(acquisition: str) -> None:
    """The same data in a unit 1000 times smaller: the same picks (xi counts in target spreads)."""
    rng = np.random.default_rng(5)
    X = rng.uniform(size=(30, 2))
    y = np.sin(4 * X[:, 0]) + X[:, 1] + 0.05 * rng.normal(size=30)
    C = rng.uniform(size=(500, 2))
    picks = []
    for unit in (1.0, 1e3):
        model = GPSurrogate(n_restarts=0).fit(X, unit * y)
        selection = select_batch(model, C, 4, acquisition=acquisition, xi=0.5, lazy=False)
        picks.append([p.index for p in selection.picks])
    assert picks[0] == picks[1]
