"""The instrument's HTTP client: Kiln's Python client (`kiln.client`) under its older names.

The demo and the end-to-end fixtures use `KilnClient`; everything it does is `kiln.client.Client`.
"""

from __future__ import annotations

from kiln.client import (
    AuthError,
    Batch,
    Campaign,
    Client,
    ClientError,
    ConnectionFailed,
    Job,
    KilnAPIError,
    Result,
)

#: Something the person running the instrument must fix; the message says what.
InstrumentError = ClientError
Unreachable = ConnectionFailed
Unauthorised = AuthError
ApiError = KilnAPIError

__all__ = ["ApiError", "InstrumentError", "KilnClient", "Unauthorised", "Unreachable"]


class KilnClient(Client):
    """`kiln.client.Client` with the short names the demo loop reads well with."""

    def campaigns(self) -> list[Campaign]:
        """Every campaign the token may read."""
        return self.list_campaigns()

    def campaign(self, campaign_id: str) -> Campaign:
        """One campaign."""
        return self.get_campaign(campaign_id)

    def results(self, campaign_id: str) -> list[Result]:
        """Every stored result of a campaign, following the pages."""
        return self.list_results(campaign_id)

    def request_batch(self, campaign_id: str) -> Job:
        """Ask the workers for a batch now (202 + job)."""
        return self.request_proposals(campaign_id)

    def latest_batch(
        self, campaign_id: str, *, etag: str | None = None, wait: float = 0.0
    ) -> tuple[Batch | None, str | None]:
        """The latest batch and its ETag; (None, etag) if unchanged (304) or none yet (404)."""
        latest = self.poll_proposals(campaign_id, etag=etag, wait=wait)
        return latest.batch, latest.etag
