"""Coarsening after canonicalisation: store no more precision than the source's policy allows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.event.schema import TIME_PRECISIONS
from observatoire.gate.policy import SourcePolicy

_RANK = {p: i for i, p in enumerate(TIME_PRECISIONS)}   # second < minute < hour < day < month


def coarsen(events: pa.Table, policy: SourcePolicy) -> pa.Table:
    """Every time field floored to the policy's unit, whatever ``occurred_at``'s precision (a record whose
    occurrence is known to the day only still has an exact report time); ``time_precision`` made coarser, never
    finer; points reduced to their zone."""
    if policy.coarsen_time:
        unit = policy.coarsen_time
        coarser = np.array([_RANK[p] < _RANK[unit] for p in events["time_precision"].to_pylist()], dtype=bool)
        mask = pa.array(coarser)
        for name in ("occurred_at", "reported_at"):
            # flooring a time already coarser than the unit leaves it as it is: no mask needed
            floored = pc.floor_temporal(events[name].combine_chunks(), unit=unit)
            events = events.set_column(events.schema.get_field_index(name), name, floored)
        precision = pc.if_else(mask, pa.scalar(unit), events["time_precision"].combine_chunks())
        events = events.set_column(events.schema.get_field_index("time_precision"), "time_precision", precision)
    if policy.coarsen_place == "zone":
        for name in ("lon", "lat", "location_precision_m", "h3_r9", "h3_r8", "h3_r7"):
            i = events.schema.get_field_index(name)
            events = events.set_column(i, events.schema.field(name), pa.nulls(events.num_rows, events.schema.field(name).type))
    return events
