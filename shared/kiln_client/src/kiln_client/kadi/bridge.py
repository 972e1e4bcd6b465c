"""The bridge's three verbs: import a collection's records as results, export pending proposals
as records, and sync (both, repeatedly). Each failed record is reported and counted, and never
stops the others."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiln_client.client import Client, KilnAPIError
from kiln_client.kadi.connection import Kadi
from kiln_client.kadi.errors import KadiError, RecordError
from kiln_client.kadi.mapping import Mapping
from kiln_client.kadi.records import (
    changes_of,
    is_unmeasured_proposal,
    proposal_extras,
    proposal_identifier,
    result_of,
)

#: The reason of a correction made because a record changed in Kadi4Mat.
CORRECTION_REASON = "updated in Kadi4Mat, revision {revision}"


@dataclass
class ImportReport:
    """What an import did: sample ids stored, corrected, unchanged; failures by record."""

    stored: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # exported proposals not measured yet
    failed: dict[str, str] = field(default_factory=dict)  # record -> why

    def line(self) -> str:
        return (
            f"import: {len(self.stored)} stored, {len(self.corrected)} corrected, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} pending proposals, "
            f"{len(self.failed)} failed"
        )


@dataclass
class ExportReport:
    """What an export did: records created, proposals already exported; failures by proposal."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"export: {len(self.created)} records created, {len(self.existing)} already in "
            f"Kadi4Mat, {len(self.failed)} failed"
        )


def import_collection(
    kiln: Client, kadi: Kadi, collection: str, campaign_id: str, mapping: Mapping
) -> ImportReport:
    """Every record of the collection as a result of the campaign, once; a changed record as a
    correction ("updated in Kadi4Mat, revision R")."""
    mapping.check_campaign(dict(kiln.get_campaign(campaign_id)))
    collection_id = kadi.collection(collection)["id"]
    stored = {r["sample_id"]: dict(r) for r in kiln.iter_results(campaign_id)}
    report = ImportReport()
    new: list[dict[str, Any]] = []
    for record in kadi.records(collection_id):
        name = f"record {record['id']} ({record.get('identifier')})"
        if is_unmeasured_proposal(record, mapping):
            report.skipped.append(name)
            continue
        try:
            result = result_of(record, mapping)
            if result["sample_id"] not in stored:
                new.append(result)
                continue
            changes = changes_of(result, stored[result["sample_id"]])
            if not changes:
                report.unchanged.append(result["sample_id"])
                continue
            reason = CORRECTION_REASON.format(revision=kadi.revision(record["id"]))
            kiln.correct_result(campaign_id, result["sample_id"], reason=reason, **changes)
            report.corrected.append(result["sample_id"])
        except (RecordError, KilnAPIError) as error:
            report.failed[name] = str(error)
    _post(kiln, campaign_id, new, report)
    return report


def _post(kiln: Client, campaign_id: str, new: list[dict[str, Any]], report: ImportReport) -> None:
    """Post the new results at once; if the intake refuses the batch, one by one so that each
    refused record is reported alone."""
    if not new:
        return
    try:
        kiln.post_results(campaign_id, new)
        report.stored += [r["sample_id"] for r in new]
        return
    except KilnAPIError as error:
        if error.status >= 500:
            raise
    for result in new:
        try:
            kiln.post_results(campaign_id, result)
            report.stored.append(result["sample_id"])
        except KilnAPIError as error:
            report.failed[result["sample_id"]] = str(error)


def export_proposals(
    kiln: Client, kadi: Kadi, campaign_id: str, collection: str, mapping: Mapping
) -> ExportReport:
    """Each pending proposal as a record of the collection, once (its identifier is derived
    from the proposal's id): parameters in their units, predicted mean and std, a link back."""
    campaign: dict[str, Any] = dict(kiln.get_campaign(campaign_id))
    mapping.check_campaign(campaign)
    collection_id = kadi.collection(collection)["id"]
    objective = campaign.get("objective", {}).get("name", "objective")
    report = ExportReport()
    for proposal in kiln.list_proposals(campaign_id, status="pending"):
        identifier = proposal_identifier(proposal["id"])
        try:
            if kadi.record_by_identifier(identifier) is not None:
                report.existing.append(identifier)
                continue
            link = kiln.url(f"/campaigns/{campaign_id}/proposals/{proposal['id']}")
            kadi.create_record(
                collection_id,
                identifier=identifier,
                title=f"Kiln proposal {proposal['id']} ({campaign.get('name', campaign_id)})",
                description=f"Proposed by Kiln: {link}",
                extras=proposal_extras(dict(proposal), mapping, objective, link),
            )
            report.created.append(identifier)
        except KadiError as error:
            report.failed[proposal["id"]] = str(error)
    return report


def sync(
    kiln: Client,
    kadi: Kadi,
    campaign_id: str,
    collection: str,
    mapping: Mapping,
    *,
    every: float = 60.0,
    rounds: int | None = None,
    progress: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Import then export every ``every`` seconds, one progress line per round, until
    interrupted (or ``rounds`` rounds)."""
    done = 0
    while rounds is None or done < rounds:
        imported = import_collection(kiln, kadi, collection, campaign_id, mapping)
        exported = export_proposals(kiln, kadi, campaign_id, collection, mapping)
        done += 1
        progress(f"{time.strftime('%H:%M:%S')} round {done}: {imported.line()}; {exported.line()}")
        if rounds is None or done < rounds:
            sleep(every)
