"""What a multi-objective batch scores at each step, and how each pick changes it.

Each scorer owns its models' state; :func:`kiln.multiobjective.selection.select_pareto_batch`
asks it to :meth:`~Scorer.score` the open candidates and tells it what was :meth:`~Scorer.taken`.

- :class:`EHVIScorer`: exact EHVI against the front of the observed values (or the models' means
  at them) plus the believed picks; every pick is a Kriging-believer fantasy in every objective.
- :class:`NoisyEHVIScorer`: for noisy objectives, the expectation of the exact EHVI over joint
  posterior samples of the front (the idea of Daulton, Balandat & Bakshy, "Parallel Bayesian
  optimization of multiple noisy objectives with expected hypervolume improvement", NeurIPS
  2021, with the inner expectation in closed form). The front points ``Z`` (measured rows, pending
  proposals, earlier picks) are sampled jointly, ``f(Z) = mu_Z + L_Z eps``, and given ``f(Z)`` a
  candidate's latent value is Gaussian with mean ``mu_c + U_c eps`` and variance
  ``var_c - |U_c|^2``, ``U_c = Sigma(c, Z) L_Z^-T``: the same for every sample but the mean. A
  candidate at a measured point then has the same sampled value as that point and adds nothing,
  which the mean front cannot express (its noisy neighbours keep their full latent variance).
- :class:`ParEGOScorer`: a fresh augmented-Chebyshev weight per pick, one GP on the scalarised
  observations, EI on it under believer fantasies of the pending points and earlier picks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from scipy.linalg import cholesky, solve_triangular

from kiln import acquisition as acq
from kiln.batch.fantasy import FantasyPosterior
from kiln.errors import KilnError
from kiln.model.surrogate import GPSurrogate
from kiln.multiobjective import parego
from kiln.multiobjective.ehvi import decompose, ehvi_boxes
from kiln.multiobjective.pareto import complete_rows

#: ParEGO's EI margin, in units of the scalarised targets' std (as :mod:`kiln.acquisition`).
PAREGO_XI = 0.01
#: Relative jitter on the joint posterior covariance of the front points (duplicates, pending
#: points equal to measured ones).
FRONT_JITTER = 1e-8


class Scorer(Protocol):
    """Scores the open rows at each step and learns of every pick."""

    def score(self, rows: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values over ``rows``, their means ``(r, k)`` and latent stds ``(r, k)`` (model scale)."""

    def taken(self, x: np.ndarray, mean: np.ndarray) -> None:
        """Record a pick (its point and believed objectives)."""


class Believers:
    """One fantasy posterior per objective over the candidates; picks become believer fantasies."""

    def __init__(self, models: Sequence[GPSurrogate], candidates: np.ndarray) -> None:
        self.posteriors = [FantasyPosterior(m, candidates) for m in models]

    def add(self, x: np.ndarray) -> None:
        for post in self.posteriors:
            post.add(x)

    def mean_std(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means and latent stds ``(r, k)`` of ``rows`` on the model scale."""
        pairs = [p.mean_std() for p in self.posteriors]
        mu = np.column_stack([p[0] for p in pairs])
        sd = np.column_stack([p[1] for p in pairs])
        return mu[rows], sd[rows]


class EHVIScorer:
    """Exact EHVI against ``front`` plus the believed picks so far."""

    def __init__(
        self, believers: Believers, front: np.ndarray, pending: np.ndarray, ref: np.ndarray
    ) -> None:
        self.believers, self.ref = believers, ref
        self.front = front
        for p in pending:
            self.taken(p, np.array([m.predict(p[None], return_std=False)[0] for m in self._models]))

    @property
    def _models(self) -> list[GPSurrogate]:
        return [p.surrogate for p in self.believers.posteriors]

    def score(self, rows: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu, sd = self.believers.mean_std(rows)
        return ehvi_boxes(mu, sd, decompose(self.front, self.ref)), mu, sd

    def taken(self, x: np.ndarray, mean: np.ndarray) -> None:
        self.front = np.vstack([self.front, mean])
        self.believers.add(x)


class _JointPosterior:
    """One objective's posterior over the candidates, jointly with the front points ``Z``."""

    def __init__(self, model: GPSurrogate, candidates: np.ndarray) -> None:
        self.model, self.post = model, model.posterior_
        Kc, self.Vc = self.post.solve_cross(candidates)  # Vc = L^-1 k(X, C)
        self.C = candidates
        self.mu_c = Kc @ self.post.alpha_
        self.var_c = self.post.prior_var(candidates) - np.einsum("ij,ij->j", self.Vc, self.Vc)
        self.Z = np.empty((0, candidates.shape[1]))
        self.Vz = np.empty((self.post.n, 0))
        self.S_cz = np.empty((candidates.shape[0], 0))  # Sigma(C, Z)

    def extend(self, Z: np.ndarray) -> None:
        """Add front points (their cross-covariances with the candidates are kept)."""
        _, Vz = self.post.solve_cross(Z)
        self.S_cz = np.hstack([self.S_cz, self.post.k(self.C, Z) - self.Vc.T @ Vz])
        self.Z, self.Vz = np.vstack([self.Z, Z]), np.hstack([self.Vz, Vz])

    def factors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mu_Z, L_Z, U)`` on the normalised scale (``U = Sigma(C, Z) L_Z^-T``, ``(m, |Z|)``)."""
        mu_z = self.post.k(self.Z, self.post.X) @ self.post.alpha_
        S_zz = self.post.k(self.Z, self.Z) - self.Vz.T @ self.Vz
        S_zz[np.diag_indices_from(S_zz)] += FRONT_JITTER * self.post.constant
        L_z = cholesky(S_zz, lower=True, check_finite=False)
        U = solve_triangular(L_z, self.S_cz.T, lower=True, check_finite=False).T
        return mu_z, L_z, U


class NoisyEHVIScorer:
    """EHVI averaged over ``n_samples`` joint posterior samples of the front (module docstring)."""

    def __init__(
        self,
        models: Sequence[GPSurrogate],
        candidates: np.ndarray,
        Z: np.ndarray,
        ref: np.ndarray,
        rng: np.random.Generator,
        n_samples: int,
    ) -> None:
        self.joint = [_JointPosterior(m, candidates) for m in models]
        for j in self.joint:
            j.extend(Z)
        self.ref, self.rng, self.n_samples = ref, rng, n_samples

    def score(self, rows: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fronts, means, sds = [], [], []
        for j in self.joint:
            mu_z, L_z, U = j.factors()
            U = U[rows]
            eps = self.rng.standard_normal((mu_z.shape[0], self.n_samples))
            scale = j.model.y_std_
            fronts.append(j.model.y_mean_ + scale * (mu_z[:, None] + L_z @ eps))  # (|Z|, S)
            means.append(j.model.y_mean_ + scale * (j.mu_c[rows, None] + U @ eps))  # (r, S)
            sds.append(scale * np.sqrt(np.maximum(j.var_c[rows] - np.einsum("ij,ij->i", U, U), 0)))
        sd = np.column_stack(sds)
        total = np.zeros(rows.shape[0])
        for s in range(self.n_samples):
            front = np.column_stack([f[:, s] for f in fronts])
            mean = np.column_stack([m[:, s] for m in means])
            total += ehvi_boxes(mean, sd, decompose(front, self.ref))
        mu = np.column_stack([j.model.y_mean_ + j.model.y_std_ * j.mu_c[rows] for j in self.joint])
        latent = np.column_stack(
            [j.model.y_std_ * np.sqrt(np.maximum(j.var_c[rows], 0.0)) for j in self.joint]
        )
        return total / self.n_samples, mu, latent

    def taken(self, x: np.ndarray, mean: np.ndarray) -> None:
        for j in self.joint:
            j.extend(np.atleast_2d(x))


class ParEGOScorer:
    """Per step a new weight vector and a GP on the scalarised complete observations; EI on it.

    The scalarised values are those of the objectives' models at the observed points (their
    posterior means: the measured values smoothed by each objective's noise), scaled to [0, 1]
    between the reference point and the best mean (:func:`kiln.multiobjective.parego.scale_unit`),
    so the weights share out the region the hypervolume counts rather than the observed range.
    """

    def __init__(
        self,
        believers: Believers,
        X: np.ndarray,
        Y: np.ndarray,
        candidates: np.ndarray,
        pending: np.ndarray,
        ref: np.ndarray,
        rng: np.random.Generator,
        weights: str,
    ) -> None:
        self.X = np.asarray(X, dtype=float)[complete_rows(Y)]
        if self.X.shape[0] == 0:
            raise KilnError("ParEGO needs at least one result with every objective measured")
        models = [p.surrogate for p in believers.posteriors]
        self.Y = np.column_stack([m.predict(self.X, return_std=False) for m in models])
        self.low, self.high = ref, np.maximum(self.Y.max(axis=0), ref)
        self.believers, self.candidates = believers, candidates
        self.rng, self.weights = rng, weights
        self.fantasies = list(pending)
        for p in pending:
            believers.add(p)
        self.model: GPSurrogate | None = None

    def score(self, rows: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w = parego.draw_weights(self.Y.shape[1], self.rng, self.weights)
        s = parego.chebyshev(parego.scale_unit(self.Y, self.low, self.high), w)
        model = GPSurrogate(n_restarts=1, random_state=step).fit(self.X, s, start=self.model)
        self.model = model
        post = FantasyPosterior(model, self.candidates[rows])
        for p in self.fantasies:
            post.add(p)
        m, sd = post.mean_std()
        values = acq.ei(m, sd, float(s.max()), PAREGO_XI * model.y_std_)
        mu_k, sd_k = self.believers.mean_std(rows)
        return values, mu_k, sd_k

    def taken(self, x: np.ndarray, mean: np.ndarray) -> None:
        self.fantasies.append(x)
        self.believers.add(x)


class RandomScorer:
    """A seeded random order of the open rows (the ``random`` baseline); picks are believer
    fantasies only so that the reported means and stds are those of the other scorers."""

    def __init__(self, believers: Believers, rng: np.random.Generator) -> None:
        self.believers, self.rng = believers, rng

    def score(self, rows: np.ndarray, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mu, sd = self.believers.mean_std(rows)
        return np.asarray(self.rng.random(rows.shape[0])), mu, sd

    def taken(self, x: np.ndarray, mean: np.ndarray) -> None:
        self.believers.add(x)
