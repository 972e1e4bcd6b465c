"""The problems of `make bench-quality`: what every method is run on, the same for all of them.

A :class:`Problem` carries the campaign JSON the service is given (``POST /campaigns``), the
finite candidate pool (real data sets) or the grid its parameters span, a noiseless ``truth``
and a seeded noisy ``measure``, the initial design (``initial_points(seed)``, identical for every
method) and the budget (``n_init`` random points, then ``n_batches`` batches of ``batch_size``).

Problems (``PROBLEMS`` builds them by name):

- ``latp``: the virtual LATP lab (kiln.lab.VirtualLatpLab, the study's iteration 3-4 space of
  kiln.presets, 2,574 grid points); maximise conductivity, modelled as log10; the lab's own
  measurement noise (0.2 decades).
- ``hartmann6``: Hartmann-6 on a 0.1-stepped grid of [0, 1]^6 (1,771,561 points: more than a
  grid Kiln enumerates, so it scores sampled candidates); maximise; Gaussian noise sd 0.05.
- ``branin-cat``: Branin on a 0.25-stepped grid of [-5, 10] x [0, 15] with a 3-level categorical
  ``surface`` that shifts and scales it (one level holds the global minimum); minimise; noise
  sd 0.5.
- ``decoy-3d``: three 0.025-stepped continuous inputs; a broad bump (height 0.8) and a narrow one
  (height 1.0, 0.4 of its width) far from it; maximise; noise sd 0.02.
- ``mixed-4``: the issue's shape: two 0.05-stepped continuous, one discrete, one 3-level
  categorical; a smooth objective whose broad optimum (0.8) sits in one category and the narrow
  global one (1.0) in another; maximise; noise sd 0.02.
- ``crossed-barrel``, ``agnp``: the two real data sets of Liang et al. (2021) as candidate pools
  (bench/data/liang2021, attribution in its README): mean objective per unique input; top set =
  best ceil(5 %) rows; 2 random initial rows; measurements are the pool's values (no noise added).

Trace format (what a method returns for one seed; `bench/quality_methods.py` and
`bench/peers_baybe.py` both produce it)::

    {
        "points": [ {param: value, ...}, ... ],  # every experiment in order, initial ones first
        "values": [float, ...],                 # what was measured there (noisy, original unit)
        "batch_seconds": [float, ...],          # wall time of each proposed batch (n_batches)
        "n_init": int,                          # how many of the points are the initial design
    }

For pools every point is one of ``problem.pool``'s rows (``problem.row_of(point)`` finds its
index); the metrics use ``problem.truth`` on the points, never the noisy values.
"""

from __future__ import annotations

from collections.abc import Callable

from .grids import branin_cat, decoy3, hartmann6, latp, mixed4
from .pools import agnp, crossed_barrel
from .problem import Problem

__all__ = ["PROBLEMS", "Problem", "load"]

#: Every problem by name, in the order the benchmark runs them.
PROBLEMS: dict[str, Callable[[], Problem]] = {
    "latp": latp,
    "hartmann6": hartmann6,
    "branin-cat": branin_cat,
    "decoy-3d": decoy3,
    "mixed-4": mixed4,
    "crossed-barrel": crossed_barrel,
    "agnp": agnp,
}


def load(name: str) -> Problem:
    """Build one problem by name (KeyError names the known ones)."""
    try:
        return PROBLEMS[name]()
    except KeyError:
        raise KeyError(f"unknown problem {name!r}; known: {sorted(PROBLEMS)}") from None
