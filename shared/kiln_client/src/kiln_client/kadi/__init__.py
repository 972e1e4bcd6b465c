"""The Kadi4Mat bridge: a lab's records become results, Kiln's proposals become records.

    from kiln_client.client import Client
    from kiln_client.kadi import Kadi, load_mapping, import_collection, export_proposals

    kiln = Client("http://kiln.lab:8000", token="...")
    kadi = Kadi("https://kadi.lab.example", token="pat_...")
    mapping = load_mapping("mapping.json")
    print(import_collection(kiln, kadi, "latp-samples", campaign_id, mapping).line())
    print(export_proposals(kiln, kadi, campaign_id, "latp-samples", mapping).line())

It speaks HTTP to both sides (Kadi4Mat through `kadi-apy`, the ``kadi`` extra); the mapping
(:mod:`kiln_client.kadi.mapping`) says which extras hold what. See the README, "Kadi4Mat".
"""

from __future__ import annotations

from kiln_client.kadi.bridge import (
    CORRECTION_REASON,
    ExportReport,
    ImportReport,
    export_proposals,
    import_collection,
    sync,
)
from kiln_client.kadi.connection import Kadi
from kiln_client.kadi.errors import KadiError, MappingError, RecordError
from kiln_client.kadi.mapping import Field, Mapping, load_mapping, mapping_from_dict

__all__ = [
    "CORRECTION_REASON",
    "ExportReport",
    "Field",
    "ImportReport",
    "Kadi",
    "KadiError",
    "Mapping",
    "MappingError",
    "RecordError",
    "export_proposals",
    "import_collection",
    "load_mapping",
    "mapping_from_dict",
    "sync",
]
