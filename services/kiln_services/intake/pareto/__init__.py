"""The Pareto front of a multi-objective campaign."""
