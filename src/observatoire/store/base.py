"""The store extension point: what ingest writes to, analytics and the API read from, the purge rewrites.

A store backend implements :class:`Store`, the read side :class:`ReadStore` (all that analytics and
the API use) plus the writes (:meth:`Store.commit`, :meth:`Store.filter_rows`). The embedded backend
is :class:`~observatoire.store.parquet.ParquetStore`. Another engine (Spark, say) plugs in by
implementing the same protocol and passing the store contract suite, ``tests/store``: add its factory
to ``FACTORIES`` in ``tests/store/conftest.py``, and the one suite runs over every backend, as Ibis
runs one test suite over all of its backends.

Every member is required and typed. The *capabilities*, answers a backend may give without scanning
the raw events (:meth:`ReadStore.daily_counts`, :meth:`ReadStore.cell_counts`), are methods like the
others that return ``None`` where the backend cannot answer (it keeps no rollups, or none for that
question): the caller then computes the same figures from :meth:`ReadStore.events`. Callers never
probe a store with ``hasattr``; a backend without rollups simply returns ``None``.

What every backend guarantees (``tests/store`` checks it; the Parquet store's crash and lock tests are
``tests/test_store.py``):

* a commit is atomic (all of a batch, or nothing: a failed or interrupted commit leaves the store
  as it was) and idempotent per ``batch_id``;
* one writer at a time: a commit re-checks, under its write lock, the records another writer stored
  since the batch was prepared, and quarantines them as ``duplicate_event``
  (:attr:`CommitResult.duplicates`);
* :meth:`ReadStore.events` and :meth:`ReadStore.quarantine` never return a record past its retention
  unless a legal hold covers it, when the store is opened with a retention rule
  (:attr:`ReadStore.retention`);
* a capability's answer, when not ``None``, equals what the raw events give.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypedDict, runtime_checkable

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.governance.retention import Retention
from observatoire.store.manifest import Manifest


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


@dataclass(frozen=True, slots=True)
class CellCounts:
    """Base-cell counts a store gives from its rollups (:meth:`ReadStore.cell_counts`).

    ``cells`` has the columns ``cx``, ``cy``, ``edge``, ``lon``, ``lat``, ``n``
    (:data:`observatoire.store.rollup_read.CELLS_OUT`): ``n`` events in base cell (``cx``, ``cy``),
    or, on the ``edge`` rows, ``n`` events at the exact position (``lon``, ``lat``) that the caller
    places on its grid itself (events near a base-grid line, events counted from the raw events).
    ``factor`` is the asked grid's cell in base cells (an asked cell is ``cx // factor``,
    ``cy // factor``); ``extent`` the counted events' ``n`` and, for an ``extent_only`` question,
    ``t_min``, ``t_max`` (first and last instant) and ``t_sum`` (sum of whole epoch seconds).
    """

    factor: int
    cells: pa.Table
    extent: dict[str, Any]

    @property
    def edge_events(self) -> int:
        """Events to be placed by their exact position: near a base-grid line, or counted from the raw events."""
        return int(pc.sum(pc.filter(self.cells["n"], self.cells["edge"])).as_py() or 0)


class RowChange(TypedDict):
    """One unit of storage (a Parquet file, a partition) that :meth:`Store.filter_rows` rewrites or removes."""

    kind: str                # "events" | "quarantine"
    source: str
    batch_id: str
    file: str                # the unit as stored before, relative to the store
    rows_before: int
    rows_after: int          # 0: the unit leaves the store
    new_file: str | None     # what replaces it (None when it is removed, and on a dry run)


# The columns a row filter's ``keep`` gets, per kind (what the retention rule reads).
RETENTION_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": ("event_id", "source", "occurred_at", "retention_until", "zone_id"),
    "quarantine": ("source", "quarantined_at"),
}

RowFilter = Callable[[str, pa.Table], pa.Array | pa.ChunkedArray | None]
"""``keep(kind, columns)``: a boolean mask of the rows to keep, over :data:`RETENTION_COLUMNS` (None: keep all)."""


@runtime_checkable
class ReadStore(Protocol):
    """The read side of a store: what analytics, reports and the API use."""

    @property
    def retention(self) -> Retention | None:
        """The visibility rule :meth:`events` and :meth:`quarantine` apply (periods per source, legal holds), or
        None: every committed record is visible. Readers use its periods to tell which sources cover a window."""
        ...

    def manifest(self) -> Manifest:
        """The committed state, as of the last change: do not modify it.

        ``generation`` increases with every change of the store's content (a commit, a row filter, a
        rollup rebuild): a reader compares two generations to tell whether the store changed under a
        query (the API re-runs such a query once). ``batches`` maps each committed ``batch_id`` to its
        record (as :meth:`batch` gives it); ``reference`` names the reference tables.
        """
        ...

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        """The record of a committed batch, or None when ``batch_id`` is not in the store.

        At least ``source``, ``source_file``, ``file_sha256``, ``rows_read``, ``events``,
        ``quarantined`` (rows committed), ``reference_rows`` and ``committed_at`` (ISO instant).
        """
        ...

    def events(self) -> ir.Table:
        """The committed events (:data:`~observatoire.event.schema.EVENT_SCHEMA`), without those past their
        retention unless a legal hold covers them (when the store was opened with a retention rule)."""
        ...

    def quarantine(self) -> ir.Table:
        """The quarantined rows (:data:`~observatoire.event.schema.QUARANTINE_SCHEMA`: batch, row, reason; no
        personal data), without those past their source's retention (unless held)."""
        ...

    def reference(self, name: str) -> ir.Table | None:
        """The latest committed reference table of source ``name`` (camera registry, patrol plan), or None."""
        ...

    def existing_event_ids(self, source: str, event_ids: pa.Array) -> pa.Array:
        """The subset of ``event_ids`` already stored for ``source`` (strings; retention does not hide any)."""
        ...

    def daily_counts(self, *, tz: str, sources: Sequence[str] | None = None,
                     categories: Sequence[str] | None = None) -> pa.Table | None:
        """Capability: visible events of ``sources`` (all when None) per zone and local day in ``tz``.

        Columns ``zone_id`` (string), ``day`` (date32), ``n`` (events of ``categories``, all when
        None) and ``n_all`` (events of any category), one row per zone and day with ``n_all > 0``,
        exactly what the raw events give; or None when the store cannot answer (no rollups, another
        time zone): the caller counts :meth:`events` itself.
        """
        ...

    def cell_counts(self, *, origin: tuple[float, float, float, float], cell_m: float,
                    start: date | None = None, end: date | None = None, sources: Sequence[str] | None = None,
                    categories: Sequence[str] | None = None, extent_only: bool = False) -> CellCounts | None:
        """Capability: visible located events per base grid cell within ``[start, end)`` (UTC midnights).

        ``origin`` is ``(lon0, lat0, x0, y0)`` of the asked grid of ``cell_m`` squares
        (:func:`observatoire.analytics.places.city_grid`). Returns :class:`CellCounts`, exactly what
        the raw events give; with ``extent_only``, only their extent (count, first and last instant,
        sum of whole epoch seconds: what keys the forecasts' cache). None when the store cannot answer
        (no rollups, a grid its rollups do not divide): the caller counts :meth:`events` itself.
        """
        ...


@runtime_checkable
class Store(ReadStore, Protocol):
    """A store backend: the read side plus the writes. Commits are atomic and idempotent per ``batch_id``."""

    @property
    def root(self) -> Path:
        """The store's directory: its state lives under it, and so do its logs (``purge_log.jsonl``)."""
        ...

    def commit(self, batch: Batch) -> CommitResult:
        """Write ``batch`` atomically; a batch already committed is not written again (``committed`` False).

        The events are validated first (a :class:`~observatoire.errors.SchemaError` leaves the store
        unchanged). Under the write lock, records another writer stored since the batch was prepared
        go to the quarantine as ``duplicate_event`` (counted in ``duplicates``). One writer at a
        time: a writer waits for another, and gives up with a
        :class:`~observatoire.errors.StoreError` after the backend's bound.
        """
        ...

    def filter_rows(self, keep: RowFilter, *, dry_run: bool = False) -> list[RowChange]:
        """Rewrite the events and quarantine without the rows ``keep`` rejects, atomically (the purge).

        ``keep(kind, columns)`` gets, per kind (``events``, ``quarantine``), the
        :data:`RETENTION_COLUMNS` of every stored row, in the store's order, and returns a boolean mask
        of the rows to keep (None: keep every row). Rollups follow the rows. A crash at any point leaves
        the store as it was. Returns one :class:`RowChange` per unit of storage that loses rows; with
        ``dry_run``, the same list and no change.
        """
        ...

    def collect_superseded(self, *, wait: bool = False) -> int:
        """Delete the storage units a change took out of the store and kept for queries planned before it, once
        their grace has passed (``wait``: wait for it first). A backend that deletes at once returns 0."""
        ...
