"""The store extension point: what ingest writes to and analytics read from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import ibis.expr.types as ir
import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Batch:
    """One unit of atomic commit: everything an ingest of one source file produced."""

    batch_id: str
    source: str
    source_file: str
    file_sha256: str
    rows_read: int
    events: pa.Table | None = None       # canonical events (validated before commit)
    quarantine: pa.Table | None = None   # rows refused, with their reason (no personal data)
    reference: pa.Table | None = None    # a reference dataset (camera registry, patrol plan)


@dataclass(frozen=True, slots=True)
class CommitResult:
    batch_id: str
    committed: bool          # False when the batch was already in the store
    events: int
    quarantined: int
    reference_rows: int
    duplicates: int = 0      # records found stored by another writer at commit time (quarantined)


class Store(Protocol):
    """A store backend. Commits are atomic and idempotent per ``batch_id``."""

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        """The record of a committed batch (source, file, rows read, events, quarantined), or None."""
        ...

    def commit(self, batch: Batch) -> CommitResult: ...

    def events(self) -> ir.Table: ...

    def quarantine(self) -> ir.Table: ...

    def reference(self, name: str) -> ir.Table | None: ...

    def existing_event_ids(self, source: str, event_ids: pa.Array) -> pa.Array: ...
