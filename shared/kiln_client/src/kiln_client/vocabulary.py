"""The names Kiln's HTTP API accepts, as the command line offers them (no domain import).

The domain is their single source (``kiln.strategy.ACQUISITIONS``,
``kiln.strategy.PARETO_ACQUISITIONS``, ``kiln.strategy.BATCH_METHODS``,
``kiln.pool.STATUSES``, ``kiln.strategy.MAX_BATCH_SIZE``, ``kiln.presets.PRESETS``,
``kiln.ledger.PREDICTION_FIELDS``, ``kiln_services.intake.csv_columns.PROPOSAL_COLUMNS``); the client distribution cannot import
it (it would pull NumPy and scikit-learn into a LIMS), so it keeps this copy and
``tests/unit/test_client_settings.py`` fails when the two differ. The server validates every
value again: these only let ``kiln --help`` list the choices and catch a typo before a request.
"""

from __future__ import annotations

#: Acquisition functions a proposal request or a benchmark may name.
ACQUISITIONS = ("ucb", "ei", "pi", "random")
#: Acquisition functions of a multi-objective campaign (with "random").
PARETO_ACQUISITIONS = ("ehvi", "parego")
#: How a batch is filled after its first point.
BATCH_METHODS = (
    "kriging_believer",
    "constant_liar_min",
    "constant_liar_mean",
    "constant_liar_max",
)
#: The largest batch a proposal request may ask for.
MAX_BATCH_SIZE = 100
#: Statuses of a candidate pool's rows.
POOL_STATUSES = ("open", "pending", "measured", "removed", "outside")
#: Campaign presets the server expands (``{"preset": "latp"}``).
PRESETS = ("latp", "latp-furnace", "latp-moo")
#: What a proposal predicts about itself: columns of a proposals export that the server ignores
#: when the filled-in file comes back as results.
PREDICTION_FIELDS = ("predicted_mean", "predicted_std", "acquisition_value")
#: Columns of a proposals export about the proposal itself (its furnace group with
#: ``strategy.batch_shared``), also ignored when the file comes back as results.
PROPOSAL_COLUMNS = ("group",)
