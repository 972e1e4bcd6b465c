"""Errors the store raises on purpose; the intake maps them to HTTP status in one place."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's own errors."""


class NotFound(StoreError):
    """No record of this kind has this id (``ident``)."""

    def __init__(self, what: str, ident: str, where: str = "") -> None:
        super().__init__(f"no {what} with id {ident!r}{where}")
        self.ident = ident


class CampaignNotFound(NotFound):
    """No campaign has this id."""

    def __init__(self, campaign_id: str) -> None:
        super().__init__("campaign", campaign_id)
        self.campaign_id = campaign_id


class JobNotFound(NotFound):
    """No job has this id."""

    def __init__(self, job_id: str) -> None:
        super().__init__("job", job_id)
        self.job_id = job_id


class ResultNotFound(NotFound):
    """The campaign has no result with this sample_id."""

    def __init__(self, sample_id: str) -> None:
        super().__init__("result", sample_id)
        self.sample_id = sample_id


class SampleConflict(StoreError):
    """A sample_id is already stored (or repeated in the request) with a different payload."""

    def __init__(self, sample_ids: list[str]) -> None:
        names = ", ".join(sample_ids)
        super().__init__(
            f"sample_id {names} already stored with a different payload; results are "
            "append-only: post a correction under a new sample_id"
        )
        self.sample_ids = sample_ids


class UnknownReference(StoreError):
    """A request names ids the campaign does not hold; `errors` maps each field to why."""

    message = "unknown id"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(self.message)
        self.errors = errors


class UnknownProposal(UnknownReference):
    """A result names a proposal_id that this campaign never issued."""

    message = "unknown proposal_id"


class ProposalNotFound(NotFound):
    """The campaign never issued this proposal id."""

    def __init__(self, proposal_id: str) -> None:
        super().__init__("proposal", proposal_id, " in this campaign")
        self.proposal_id = proposal_id


class ProposalNotPending(StoreError):
    """The proposal is no longer pending (measured, withdrawn or expired)."""

    def __init__(self, proposal_id: str, status: str) -> None:
        super().__init__(f"proposal {proposal_id!r} is {status}, not pending; nothing to withdraw")
        self.proposal_id = proposal_id
        self.status = status


class UnknownCandidate(UnknownReference):
    """A request names candidate ids the campaign's pool does not hold."""

    message = "unknown candidate id"


class NameTaken(StoreError):
    """A campaign or a live token already has this name (names are unique per deployment)."""

    def __init__(self, what: str, name: str, existing_id: str) -> None:
        super().__init__(f"a {what} named {name!r} exists already (id {existing_id})")
        self.what = what
        self.name = name
        self.existing_id = existing_id
