"""The noiseless test functions of the grid problems (vectorised over rows / columns)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6_values(x: np.ndarray) -> np.ndarray:
    """Hartmann-6 (positive form, maximum 3.32237 at the known optimum) of rows of x in [0,1]^6."""
    d = ((x[:, None, :] - _H6_P[None]) ** 2 * _H6_A[None]).sum(-1)
    return (_H6_ALPHA * np.exp(-d)).sum(-1)


def branin_values(x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Branin-Hoo (minimum 0.397887) on [-5, 10] x [0, 15]."""
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * np.cos(x1) + 10


#: Each Branin surface: (x1 shift, scale, offset): "b" holds the global minimum (about 0.02).
BRANIN_SURFACES = {"a": (0.0, 1.0, 0.0), "b": (1.5, 0.8, -0.3), "c": (-1.0, 1.3, 0.6)}


def branin_cat_values(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    x1, x2 = cols["x1"], cols["x2"]
    surface = cols["surface"]
    out = np.empty(len(x1))
    for label, (shift, scale, offset) in BRANIN_SURFACES.items():
        m = surface == label
        out[m] = scale * branin_values(x1[m] - shift, x2[m]) + offset
    return out


def _bump(sq_dist: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-0.5 * sq_dist / width**2)


def decoy3_values(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    x = np.stack([cols[n] for n in ("x1", "x2", "x3")], axis=1)
    broad = 0.8 * _bump(((x - [0.3, 0.35, 0.6]) ** 2).sum(1), 0.22)
    narrow = 1.0 * _bump(((x - [0.82, 0.78, 0.18]) ** 2).sum(1), 0.09)
    return np.maximum(broad, narrow) + 0.05 * x[:, 0]


MIXED_COUNTS = [1, 2, 3, 4, 6, 8, 12]


#: Per category: (centre x1, centre x2, centre of log2(count), height, width).
MIXED_PEAKS = {
    "A": (0.30, 0.60, 1.5, 0.80, 0.30),  # the broad decoy
    "B": (0.75, 0.25, 2.8, 1.00, 0.18),  # the narrower global optimum
    "C": (0.50, 0.50, 2.0, 0.45, 0.35),
}


def mixed4_values(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    x1, x2 = cols["x1"], cols["x2"]
    z = np.log2(cols["count"]) / np.log2(max(MIXED_COUNTS))
    cat = cols["catalyst"]
    out = np.empty(len(x1))
    for label, (c1, c2, cz, height, width) in MIXED_PEAKS.items():
        m = cat == label
        zc = cz / np.log2(max(MIXED_COUNTS))
        d = (x1[m] - c1) ** 2 + (x2[m] - c2) ** 2 + 0.5 * (z[m] - zc) ** 2
        out[m] = height * _bump(d, width) + 0.1 * x2[m]
    return out
