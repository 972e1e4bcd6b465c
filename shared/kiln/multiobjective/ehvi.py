"""Expected hypervolume improvement, exact, for 2-3 objectives under independent Gaussians.

Everything is maximised. The region a new point can add to the hypervolume is the part above the
reference point ``r`` that no point of the front ``P`` dominates. It is cut into disjoint boxes
``[l_b, u_b]`` (``u`` may be infinite): a grid over the front's coordinates in all objectives but
the last (cells between consecutive sorted coordinates, starting at ``r``), and in each column the
non-dominated part along the last objective, one box ``[max(r_k, h), inf)`` where ``h`` is the
largest last coordinate among the front points that dominate the column's cell in the others. In
2-D these are the sorted front's strips; in 3-D ``(|P| + 1)^2`` columns.

The improvement of an outcome ``y`` is ``sum_b prod_i (min(y_i, u_bi) - l_bi)^+``; with
independent ``y_i ~ N(mu_i, sd_i)`` the expectation factorises per box and per objective:

    E[(min(Y, u) - l)^+] = psi(l) - psi(u),    psi(a) = E[(Y - a)^+] = (mu - a) Phi(z) + sd phi(z),

``z = (mu - a) / sd`` and ``psi(inf) = 0``: the closed form of Emmerich, Giannakoglou & Naujoks,
"Single- and multiobjective evolutionary optimization assisted by Gaussian random field
metamodels" (IEEE TEC, 2006), computed over a cell decomposition as in Couckuyt, Deschrijver &
Dhaene, "Fast calculation of multiobjective probability of improvement and expected improvement
criteria for Pareto optimization" (J. Glob. Optim., 2014) and Yang, Emmerich, Deutz & Bäck,
"Efficient computation of expected hypervolume improvement using box decomposition algorithms"
(J. Glob. Optim., 2019). Vectorised over candidates with NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from kiln.errors import KilnError
from kiln.multiobjective.pareto import pareto_mask

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
#: Candidates scored per block (bounds the ``block x cells`` arrays).
BLOCK = 2048


@dataclass(frozen=True)
class Boxes:
    """The non-dominated region above the reference point, as a grid with one box per column.

    Attributes:
        edges: Per objective but the last, the sorted cell edges (starting at the reference,
            ending at +inf), so column ``(a, b)`` spans ``edges[0][a]..edges[0][a+1]`` x ...
        floor: Per column, the lower end of its box along the last objective (upper end +inf).
    """

    edges: tuple[np.ndarray, ...]
    floor: np.ndarray


def decompose(front: np.ndarray, ref: np.ndarray) -> Boxes:
    """Box decomposition of the region above ``ref`` not dominated by ``front`` (2-3 objectives).

    Front rows not strictly above ``ref`` in every objective add nothing and are dropped.
    """
    ref = np.asarray(ref, dtype=float)
    k = ref.shape[0]
    if k not in (2, 3):
        raise KilnError(f"exact EHVI takes 2 or 3 objectives, got {k}; use ParEGO")
    P = np.atleast_2d(np.asarray(front, dtype=float)).reshape(-1, k)
    P = P[(ref < P).all(axis=1)]
    if P.shape[0]:
        P = P[pareto_mask(P)]
    edges = tuple(np.concatenate([[ref[i]], np.unique(P[:, i]), [np.inf]]) for i in range(k - 1))
    lows = np.meshgrid(*(e[:-1] for e in edges), indexing="ij")  # each cell's lower corner
    uppers = np.meshgrid(*(e[1:] for e in edges), indexing="ij")
    # a front point covers a column when it reaches the column's upper end in the first k-1
    covers = np.ones((P.shape[0], *lows[0].shape), bool)
    for i in range(k - 1):
        covers &= P[:, i].reshape(-1, *([1] * (k - 1))) >= uppers[i][None]
    last = np.where(covers, P[:, -1].reshape(-1, *([1] * (k - 1))), -np.inf)
    floor = np.maximum(ref[-1], last.max(axis=0, initial=-np.inf))
    return Boxes(edges, floor)


def psi(a: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``E[(Y - a)^+]`` for ``Y ~ N(mu, sd)``; broadcasts; ``a = inf`` gives 0, ``sd = 0`` the max."""
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = mu - a
        z = gap / sd
        value = gap * ndtr(z) + sd * np.exp(-0.5 * z * z) * _INV_SQRT_2PI
    exact = np.maximum(gap, 0.0)
    value = np.where(sd > 0, value, exact)
    return np.where(np.isinf(a), 0.0, value)


def ehvi(mu: np.ndarray, sd: np.ndarray, front: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Exact expected hypervolume improvement of each candidate over ``front``.

    Args:
        mu: Posterior means ``(m, k)`` on the model scale (maximised), ``k`` = 2 or 3.
        sd: Posterior stds ``(m, k)`` (independent objectives).
        front: The current points ``(p, k)`` (dominated ones are ignored).
        ref: The reference point ``(k,)``.

    Returns:
        EHVI per candidate ``(m,)``.
    """
    mu = np.atleast_2d(np.asarray(mu, dtype=float))
    sd = np.atleast_2d(np.asarray(sd, dtype=float))
    return ehvi_boxes(mu, sd, decompose(front, ref))


def ehvi_boxes(mu: np.ndarray, sd: np.ndarray, boxes: Boxes) -> np.ndarray:
    """:func:`ehvi` on a decomposition computed once (e.g. for every step's candidate subset)."""
    m, k = mu.shape
    out = np.empty(m)
    for start in range(0, m, BLOCK):
        sl = slice(start, start + BLOCK)
        mu_b, sd_b = mu[sl, :, None], sd[sl, :, None]
        # per objective but the last: psi(lower) - psi(upper) of every cell, (block, cells_i)
        widths = []
        for i, e in enumerate(boxes.edges):
            p = psi(e[None, :], mu_b[:, i], sd_b[:, i])
            widths.append(p[:, :-1] - p[:, 1:])
        tail = psi(boxes.floor.reshape(1, -1), mu_b[:, -1], sd_b[:, -1])
        tail = tail.reshape(-1, *boxes.floor.shape)
        if k == 2:
            out[sl] = np.einsum("ma,ma->m", widths[0], tail)
        else:
            out[sl] = np.einsum("ma,mb,mab->m", widths[0], widths[1], tail)
    return np.maximum(out, 0.0)
