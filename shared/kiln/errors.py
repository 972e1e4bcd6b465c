"""The domain's exceptions: one small hierarchy that the services map to HTTP status in one place."""

from __future__ import annotations


class KilnError(Exception):
    """Base class of every error the domain library raises on purpose."""


class SpaceError(KilnError, ValueError):
    """A search-space definition is invalid (bad bounds, empty value list, duplicate names, ...)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class OutsideSpaceError(KilnError, ValueError):
    """A point names an unknown parameter, misses one, or lies outside the allowed values."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


class InvalidObservationError(KilnError, ValueError):
    """A measured value cannot be used (non-finite, non-positive under a log transform, ...)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NoObservationsError(KilnError):
    """A model was asked for but there is nothing to fit it on."""


class ModelFitError(KilnError):
    """The surrogate could not be fitted to the data (the caller falls back to space filling)."""


class SpaceTooLargeError(KilnError):
    """A grid was asked for a space whose candidate count exceeds the size guard."""


class CampaignError(KilnError, ValueError):
    """A campaign definition, a change to one, or a set of results breaks the campaign's rules.

    Attributes:
        errors: Every problem found, keyed by the field's dotted path (``parameters.2.step``,
            ``results.0.objective``); nothing may be stored when this is raised.
    """

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class InfeasibleConstraintsError(SpaceError):
    """No candidate of the space satisfies its constraints (the intake answers 422)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="constraints")
