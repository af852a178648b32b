"""``admit``: what of a raw source table may go further.

Every raw field carries a role declared by its source: ``data`` goes on,
``identifier`` and ``free_text`` are removed here, before any canonical event
is built. Fields a source did not declare are removed too (a source cannot
smuggle a field past the gate by forgetting to declare it) and reported.

This is the first version of the gate: identifiers and free text are dropped
entirely. Keyed pseudonyms and PII scrubbing of free text will replace the
dropping (issue 3) without changing this one way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa

from observatoire.sources.base import ROW, FieldRole


@dataclass(frozen=True, slots=True)
class Admitted:
    table: pa.RecordBatch          # one contiguous batch: connectors work on plain arrays
    dropped: dict[str, str]        # field -> why it did not pass (role or "undeclared")


def admit(raw: pa.Table, fields: Mapping[str, FieldRole]) -> Admitted:
    """The columns of ``raw`` whose declared role is ``data`` (and the row number)."""
    keep, dropped = [], {}
    for name in raw.column_names:
        role = fields.get(name)
        if name == ROW or role == "data":
            keep.append(name)
        else:
            dropped[name] = role or "undeclared"
    kept = raw.select(keep)
    batch = pa.RecordBatch.from_arrays([c.combine_chunks() for c in kept.columns], names=kept.column_names)
    return Admitted(batch, dropped)
