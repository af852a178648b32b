"""Provenance of incidents: counts by zone × discovery mode (directed, independent, automated, unknown).

Every canonical event carries ``discovery`` (``event/schema.py``), set by its
connector: ``directed`` for logbook entries from a patrol's initiative or the
camera centre, fines and municipal reports; ``independent`` for residents'
calls, requisitions, hospital admissions and public posts; ``automated`` for
CCTV detections; ``unknown`` for open data that do not say (police.uk).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis.expr.types as ir
import pyarrow as pa

from observatoire.analytics.counts import filter_events
from observatoire.event.schema import DISCOVERY

__all__ = ["PROVENANCE_SCHEMA", "provenance_counts", "provenance_matrix"]

PROVENANCE_SCHEMA = pa.schema([
    pa.field("zone_id", pa.string()),
    pa.field("discovery", pa.string(), nullable=False),
    pa.field("count", pa.int64(), nullable=False),
])


def provenance_counts(
    events: ir.Table,
    *,
    start: date | None = None,
    end: date | None = None,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
) -> pa.Table:
    """Events per zone and discovery mode over ``[start, end)`` (UTC), sorted; null zone = unlocated.

    Parameters are those of :func:`observatoire.analytics.counts.filter_events`.
    """
    kept = filter_events(events, start=start, end=end, sources=sources, categories=categories)
    grouped = kept.group_by(["zone_id", "discovery"]).aggregate(count=kept.count())
    table = grouped.to_pyarrow().select(["zone_id", "discovery", "count"]).cast(PROVENANCE_SCHEMA)
    return table.sort_by([("zone_id", "ascending"), ("discovery", "ascending")])


def provenance_matrix(counts: pa.Table, zone_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{zone_id: {discovery: count}}`` for every zone given and every discovery mode (zeros included)."""
    out = {z: dict.fromkeys(DISCOVERY, 0) for z in zone_ids}
    for row in counts.to_pylist():
        if row["zone_id"] in out:
            out[row["zone_id"]][row["discovery"]] = int(row["count"])
    return out
