"""The bridge's errors: each says what went wrong in words a lab can act on."""

from __future__ import annotations

from kiln_client.errors import ClientError


class KadiError(ClientError):
    """Kadi4Mat refused or could not be reached (wrong token, unknown collection, ...)."""


class MappingError(KadiError):
    """The mapping is malformed or does not fit the campaign (parameters, units)."""


class RecordError(KadiError):
    """One record cannot become a result: a missing extra, a wrong type or unit."""
