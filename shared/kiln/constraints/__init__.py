"""Constraints on the points a campaign may propose: linear inequalities/equalities and forbidden
regions, parsed as data (never evaluated as code).

- :mod:`kiln.constraints.definitions`: the two kinds, their JSON and its validation;
- :mod:`kiln.constraints.checks`: :class:`~kiln.constraints.checks.ConstraintSet`, a vectorised
  feasibility mask over encoded rows, the violations of one point, and the equality repair;
- :mod:`kiln.constraints.candidates`: feasible grids and rejection sampling.
"""
