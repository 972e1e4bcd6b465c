"""Candidate pools: the finite table of experiments a lab can run."""
