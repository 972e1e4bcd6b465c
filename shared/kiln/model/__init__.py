"""The model: the GP surrogate (:mod:`.surrogate`), its exact posterior (:mod:`.posterior`) and
the reader of a stored model that the intake serves predictions from (:mod:`.reader`).

Nothing is imported here, so the intake can read a stored model without loading scikit-learn.
"""
