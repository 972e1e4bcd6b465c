"""Virtual experiments: the study's model-selection protocol (its Figure 3).

A *pool* is a measured data set of ``N`` points (encoded inputs ``X``, model-scale targets ``y``).
One *repeat* of the protocol for a strategy and an initial size ``n``:

1. draw ``n`` initial pool indices uniformly **with replacement**; the model sees their targets
   plus fresh Gaussian observation noise (``noise_sd``, model scale);
2. at each step the strategy picks one pool index: the argmax of the acquisition over the whole
   pool for the GP strategies (re-picking an index already seen is allowed, which is how PI gets
   stuck), a uniform draw for ``random``; the model sees that target plus fresh noise;
3. count the extra tries until the pick is the pool's best index; give up after ``N - n`` tries.

A repeat whose initial draw already holds the best index counts as found after 0 extra tries.
The protocol runs every strategy and ``n`` for 200 repeats; repeat ``r`` at size ``n`` uses the
same seed for every strategy, so all strategies start from the same initial draws.

The GP strategies use :class:`kiln.model.surrogate.GPSurrogate` on the space's unit-cube encoding, the
same surrogate the service proposes with. To keep 4 x 8 x 200 repeats affordable, the
hyperparameters are fitted with restarts once at the start of a repeat and then refitted at every
step from the previous optimum (warm start, no restarts); the posterior used for the acquisition
is the exact one of those hyperparameters.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from threadpoolctl import threadpool_limits

from kiln.acquisition import score, spread
from kiln.errors import KilnError, ModelFitError
from kiln.model.surrogate import JITTER, GPSurrogate, make_kernel
from kiln.objective import Objective
from kiln.space import SearchSpace
from kiln.strategy import ACQUISITIONS

__all__ = [
    "DEFAULT_NOISE_SD",
    "DEFAULT_N_INITS",
    "STRATEGIES",
    "pool_from_results",
    "repeat_seed",
    "run_protocol",
    "run_repeat",
    "summarise",
]

#: The strategies a protocol compares: every acquisition.
STRATEGIES = ACQUISITIONS
DEFAULT_N_INITS = (1, 5, 10, 15, 20, 30, 40, 50)
#: Observation noise (model scale: decades of conductivity for a log10 objective) added to every
#: target the model sees. The pool values are already single noisy measurements (the virtual
#: lab's 0.2 decades), so this is only the protocol's jitter: re-picking a point does not return
#: an identical number. On the virtual seed grid, 0, 0.02 and 0.1 give the same GP-UCB result
#: within the repeat-to-repeat scatter.
DEFAULT_NOISE_SD = 0.02

ProgressCallback = Callable[[int, int], None]


def pool_from_results(
    space: SearchSpace | Mapping[str, Any],
    objective: Objective | Mapping[str, Any],
    results: Sequence[Mapping[str, Any]],
) -> tuple[np.ndarray, np.ndarray]:
    """Turn measured results into a pool ``(X, y)`` on the model's scales.

    Failed results (no objective) are skipped, and so are results that break the space's
    constraints (:mod:`kiln.constraints`): a virtual experiment only picks points the lab may run.

    Args:
        space: The campaign's search space (object or dict).
        objective: The campaign's objective (object or dict).
        results: Result dicts with ``parameters`` and ``objective``.

    Returns:
        ``X`` of shape ``(N, d)`` in the space's encoding and ``y`` of shape ``(N,)`` on the
        model scale (transformed, maximised).

    Raises:
        KilnError: When fewer than two results have an objective.
    """
    sp = space if isinstance(space, SearchSpace) else SearchSpace.from_dict(space)
    obj = objective if isinstance(objective, Objective) else Objective.from_dict(objective)
    measured = [r for r in results if r.get("objective") is not None]
    if sp.constraints and measured:
        keep = sp.constraints.mask_points([r["parameters"] for r in measured])
        measured = [r for r, k in zip(measured, keep, strict=True) if k]
    if len(measured) < 2:
        which = " that satisfy the constraints" if sp.constraints else ""
        raise KilnError(
            f"virtual experiments need at least 2 measured results{which}, got {len(measured)}"
        )
    X = sp.encode([r["parameters"] for r in measured])
    y = obj.to_model([float(r["objective"]) for r in measured])
    return X, np.asarray(y, dtype=float)


def repeat_seed(n_init: int, repeat: int, base_seed: int = 0) -> int:
    """The seed of repeat ``repeat`` at initial size ``n_init`` (shared by all strategies)."""
    state = np.random.SeedSequence([base_seed, n_init, repeat]).generate_state(1)
    return int(state[0])


class _WarmGP:
    """GPSurrogate fits within one repeat.

    The first fit optimises the hyperparameters with restarts; afterwards they are re-optimised
    from the previous optimum (warm start, no restarts) every ``refit_every`` new observations,
    and in between the exact posterior is rebuilt with the hyperparameters held fixed.
    """

    def __init__(self, n_restarts: int, random_state: int, refit_every: int = 1) -> None:
        self.n_restarts = n_restarts
        self.random_state = random_state
        self.refit_every = max(1, refit_every)
        self.model: GPSurrogate | None = None
        self._since_refit = 0

    def _payload(
        self,
        constant: float,
        length_scale: Any,
        noise: float,
        lml: float,
        X: np.ndarray,
        y: np.ndarray,
    ) -> dict[str, Any]:
        return {
            "n_restarts": 0,
            "random_state": self.random_state,
            "constant": float(constant),
            "length_scale": np.atleast_1d(length_scale).astype(float).tolist(),
            "noise_level": float(noise),
            "log_marginal_likelihood": float(lml),
            "X_train": X.tolist(),
            "y_train": y.tolist(),
        }

    def fit(self, X: np.ndarray, y: np.ndarray) -> GPSurrogate:
        if self.model is None:
            self.model = GPSurrogate(n_restarts=self.n_restarts, random_state=self.random_state)
            self._since_refit = 0
            return self.model.fit(X, y)
        prev = self.model
        self._since_refit += 1
        if self._since_refit < self.refit_every:
            self.model = GPSurrogate.from_dict(
                self._payload(
                    prev.constant_,
                    prev.length_scale_,
                    prev.noise_level_,
                    prev.log_marginal_likelihood_,
                    X,
                    y,
                )
            )
            return self.model
        self._since_refit = 0
        gpr = GaussianProcessRegressor(
            kernel=make_kernel(
                X.shape[1],
                constant=prev.constant_,
                length_scale=prev.length_scale_,
                noise_level=prev.noise_level_,
            ),
            alpha=JITTER,
            normalize_y=True,
            n_restarts_optimizer=0,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                gpr.fit(X, y)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise ModelFitError(f"the Gaussian process could not be refitted: {exc}") from None
        params = gpr.kernel_.get_params()
        self.model = GPSurrogate.from_dict(
            self._payload(
                params["k1__k1__constant_value"],
                params["k1__k2__length_scale"],
                params["k2__noise_level"],
                gpr.log_marginal_likelihood_value_,
                X,
                y,
            )
        )
        return self.model


def run_repeat(
    X: np.ndarray,
    y: np.ndarray,
    strategy: str,
    n_init: int,
    seed: int,
    *,
    noise_sd: float = DEFAULT_NOISE_SD,
    kappa: float = 1.96,
    xi: float = 0.01,
    n_restarts: int = 2,
    refit_every: int = 1,
) -> dict[str, Any]:
    """Run one repeat of the protocol; a pure function of its arguments.

    Args:
        X: Pool inputs (encoded), shape ``(N, d)``.
        y: Pool targets (model scale, maximised), shape ``(N,)``.
        strategy: ``"ucb"``, ``"ei"``, ``"pi"`` or ``"random"``.
        n_init: Number of initial random picks (with replacement), ``1 <= n_init < N``.
        seed: Seed of the initial picks, the observation noise and the random strategy.
        noise_sd: Std of the Gaussian noise added to every target the model sees.
        kappa: UCB exploration weight.
        xi: EI / PI margin, relative to the std of the targets seen (see kiln.acquisition).
        n_restarts: Optimiser restarts of the first GP fit of the repeat.
        refit_every: Re-optimise the hyperparameters (warm start) every this many new
            observations; in between only the posterior is updated.

    Returns:
        ``{"found": bool, "extra_tries": int}``; ``extra_tries`` is ``N - n_init`` when the best
        was not found.

    Raises:
        KilnError: On an unknown strategy or an ``n_init`` outside ``1 .. N - 1``.
    """
    # Small matrices: multi-threaded BLAS is an order of magnitude slower here (thread wake-ups
    # dominate an 80 x 80 Cholesky), and parallelism comes from running repeats side by side.
    with threadpool_limits(1):
        return _run_repeat(
            X, y, strategy, n_init, seed, noise_sd, kappa, xi, n_restarts, refit_every
        )


def _run_repeat(
    X: np.ndarray,
    y: np.ndarray,
    strategy: str,
    n_init: int,
    seed: int,
    noise_sd: float,
    kappa: float,
    xi: float,
    n_restarts: int,
    refit_every: int,
) -> dict[str, Any]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n_pool = y.shape[0]
    if strategy not in STRATEGIES:
        raise KilnError(f"strategy {strategy!r} is unknown; use one of {list(STRATEGIES)}")
    if not 1 <= n_init < n_pool:
        raise KilnError(f"n_init must be between 1 and {n_pool - 1} for a pool of {n_pool}")
    rng = np.random.default_rng(seed)
    best = int(np.argmax(y))
    seen = [int(i) for i in rng.integers(0, n_pool, size=n_init)]
    y_seen = [float(v) for v in y[seen] + noise_sd * rng.standard_normal(n_init)]
    if best in seen:
        return {"found": True, "extra_tries": 0}
    budget = n_pool - n_init
    gp = _WarmGP(n_restarts, random_state=seed % (2**31), refit_every=refit_every)
    for tries in range(1, budget + 1):
        if strategy == "random":
            pick = int(rng.integers(0, n_pool))
        else:
            model = gp.fit(X[seen], np.asarray(y_seen))
            mu, sd = model.predict(X)
            values = score(strategy, mu, sd, max(y_seen), kappa, xi, spread=spread(y_seen))
            pick = int(np.argmax(values))
        if pick == best:
            return {"found": True, "extra_tries": tries}
        seen.append(pick)
        y_seen.append(float(y[pick] + noise_sd * rng.standard_normal()))
    return {"found": False, "extra_tries": budget}


def summarise(
    outcomes: Mapping[tuple[str, int], Sequence[Mapping[str, Any]]],
) -> dict[str, dict[int, dict[str, Any]]]:
    """Aggregate repeat outcomes per strategy and ``n``.

    Args:
        outcomes: ``{(strategy, n_init): [run_repeat results]}``.

    Returns:
        ``{strategy: {n_init: {"found": k, "runs": R, "mean_extra_tries": x | None}}}``, the mean
        taken over the runs that found the best (None when none did).
    """
    table: dict[str, dict[int, dict[str, Any]]] = {}
    for (strategy, n_init), runs in sorted(outcomes.items(), key=lambda kv: kv[0][1]):
        tries = [int(r["extra_tries"]) for r in runs if r["found"]]
        table.setdefault(strategy, {})[n_init] = {
            "found": len(tries),
            "runs": len(runs),
            "mean_extra_tries": float(np.mean(tries)) if tries else None,
        }
    return table


def _init_worker() -> None:
    threadpool_limits(1)


def _run_chunk(
    X: np.ndarray, y: np.ndarray, jobs: list[tuple[str, int, int]], options: dict[str, Any]
) -> list[tuple[str, int, dict[str, Any]]]:
    return [(s, n, run_repeat(X, y, s, n, seed, **options)) for s, n, seed in jobs]


def _chunk_results(
    X: np.ndarray,
    y: np.ndarray,
    chunks: list[list[tuple[str, int, int]]],
    options: dict[str, Any],
    workers: int,
) -> Iterator[tuple[int, list[tuple[str, int, dict[str, Any]]]]]:
    """``(repeats in the chunk, their outcomes)`` per chunk: in this process, or from a pool of
    ``workers`` processes as each chunk finishes."""
    if workers <= 1:
        for chunk in chunks:
            yield len(chunk), _run_chunk(X, y, chunk, options)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        futures = {pool.submit(_run_chunk, X, y, chunk, options): len(chunk) for chunk in chunks}
        for future in as_completed(futures):
            yield futures[future], future.result()


def run_protocol(
    X: np.ndarray,
    y: np.ndarray,
    *,
    strategies: Sequence[str] = STRATEGIES,
    n_inits: Sequence[int] = DEFAULT_N_INITS,
    repeats: int = 200,
    noise_sd: float = DEFAULT_NOISE_SD,
    kappa: float = 1.96,
    xi: float = 0.01,
    n_restarts: int = 2,
    refit_every: int = 1,
    base_seed: int = 0,
    jobs: int | None = None,
    chunk_size: int = 10,
    progress: ProgressCallback | None = None,
) -> dict[str, dict[int, dict[str, Any]]]:
    """Run the full protocol (strategies x n x repeats) on all local cores.

    Args:
        X: Pool inputs (encoded), shape ``(N, d)``.
        y: Pool targets (model scale), shape ``(N,)``.
        strategies: Strategies to compare.
        n_inits: Initial sizes; sizes ``>= N`` are skipped.
        repeats: Repeats per strategy and size (the study used 200).
        noise_sd: Observation noise added to what the model sees (model scale).
        kappa: UCB exploration weight.
        xi: EI / PI margin, relative to the std of the targets seen (see kiln.acquisition).
        n_restarts: Optimiser restarts of each repeat's first GP fit.
        refit_every: See :func:`run_repeat`.
        base_seed: Seed of the whole protocol (see :func:`repeat_seed`).
        jobs: Worker processes; None uses every core, 1 runs in this process.
        chunk_size: Repeats per task sent to a worker.
        progress: Called as ``progress(done, total)`` after each finished chunk.

    Returns:
        The :func:`summarise` table.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    options = {
        "noise_sd": noise_sd,
        "kappa": kappa,
        "xi": xi,
        "n_restarts": n_restarts,
        "refit_every": refit_every,
    }
    sizes = [n for n in n_inits if 1 <= n < y.shape[0]]
    tasks = [
        (s, n, repeat_seed(n, r, base_seed))
        for n in sizes
        for r in range(repeats)
        for s in strategies
    ]
    # The GP strategies cost far more than random; interleaving keeps the workers evenly loaded.
    chunks = [tasks[i : i + chunk_size] for i in range(0, len(tasks), chunk_size)]
    outcomes: dict[tuple[str, int], list[dict[str, Any]]] = {
        (s, n): [] for s in strategies for n in sizes
    }
    done = 0
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    for size, results in _chunk_results(X, y, chunks, options, workers):
        for s, n, out in results:
            outcomes[(s, n)].append(out)
        done += size
        if progress is not None:
            progress(done, len(tasks))
    return summarise(outcomes)
