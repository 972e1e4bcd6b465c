"""Multi-objective campaigns (issue 16): several objectives, Pareto fronts, hypervolume batches.

Every objective is maximised on its model scale (transform, then negate when minimising), as the
single-objective path does with :class:`kiln.objective.Objective`:

- :mod:`kiln.multiobjective.objectives`: the objectives list (1-4), their thresholds, validation;
- :mod:`kiln.multiobjective.pareto`: non-dominated sorting, hypervolume (moocore), reference point;
- :mod:`kiln.multiobjective.ehvi`: exact expected hypervolume improvement (2-3 objectives);
- :mod:`kiln.multiobjective.parego`: random augmented-Chebyshev scalarisations (ParEGO);
- :mod:`kiln.multiobjective.models`: one Gaussian process per objective;
- :mod:`kiln.multiobjective.selection`: batches by Kriging believer across all objectives;
- :mod:`kiln.multiobjective.outcomes`: declared measurements and outcome constraints (data);
- :mod:`kiln.multiobjective.observations`: stored results as objective and measurement arrays;
- :mod:`kiln.multiobjective.fitted`: :class:`ParetoModels`, one fitted model per objective and
  per constrained measurement, and the probability of meeting the outcome constraints;
- :mod:`kiln.multiobjective.training`: the bounded subset the models train on above the limit;
- :mod:`kiln.multiobjective.propose`: :func:`propose_pareto`, the campaign's next batch;
- :mod:`kiln.multiobjective.report`: :func:`pareto_report`, the measured front and hypervolume;
- :mod:`kiln.multiobjective.constrained`: outcome constraints on a single-objective campaign.
"""
