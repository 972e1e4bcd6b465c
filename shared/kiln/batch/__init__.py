"""Batches of proposals, chosen greedily under fantasy observations of a fixed GP posterior.

- :mod:`kiln.batch.picks`: what a selection returns, the constant-liar values, which rows are open;
- :mod:`kiln.batch.fantasy`: the rank-1 fantasy posterior (its maths is documented there);
- :mod:`kiln.batch.scores`: scoring candidates at every step, densely or lazily;
- :mod:`kiln.batch.polishing`: local continuous refinement of the best sampled candidates;
- :mod:`kiln.batch.selection`: :func:`~kiln.batch.selection.select_batch`;
- :mod:`kiln.batch.space_filling`: the greedy maximin design used without a model.
"""
