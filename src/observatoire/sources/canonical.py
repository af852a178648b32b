"""Shared by every connector: turn parsed columns into canonical events, and refused rows into quarantine rows."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.city.geo import assign_zones, h3_cells
from observatoire.errors import SchemaError
from observatoire.event.schema import QUARANTINE_SCHEMA, UTC, month_of, registered_schema
from observatoire.sources.base import Context

PSEUDONYMS = "__pseudonyms"   # columns added by the privacy gate (observatoire.gate.admit)
REDACTIONS = "__redactions"

# How far in the future an event may be dated before it is refused (clock skew, time zones).
FUTURE_TOLERANCE = timedelta(days=1)
# retention_until of a source whose descriptor declares no time limit (Retention.no_limit).
NO_LIMIT_DAYS = 365 * 100


def mask(condition: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as a NumPy mask, null counting as False."""
    return np.asarray(pc.fill_null(condition, False).to_numpy(zero_copy_only=False), dtype=bool)


class Rejects:
    """The first reason each row is refused for; later reasons do not overwrite earlier ones."""

    def __init__(self, rows: np.ndarray):
        self.rows = np.asarray(rows, dtype=np.int64)
        self.reason = np.full(len(self.rows), None, dtype=object)
        self.detail = np.full(len(self.rows), None, dtype=object)

    def reject(self, mask: np.ndarray, reason: str, detail: str) -> None:
        mask = np.asarray(mask, dtype=bool) & (self.reason == None)  # noqa: E711 - elementwise
        self.reason[mask] = reason
        self.detail[mask] = detail

    @property
    def ok(self) -> np.ndarray:
        return self.reason == None  # noqa: E711

    def table(self, source: str, ctx: Context) -> pa.Table:
        bad = ~self.ok
        return quarantine_table(source, ctx, self.rows[bad], list(self.reason[bad]), list(self.detail[bad]))


def quarantine_table(source: str, ctx: Context, rows: Sequence[int] | np.ndarray, reasons: Sequence[str],
                     details: Sequence[str]) -> pa.Table:
    """Quarantine rows: where a refused row came from and why, never its content."""
    n = len(rows)
    return pa.table({
        "batch_id": pa.array([ctx.batch_id] * n, pa.string()),
        "source": pa.array([source] * n, pa.string()),
        "source_file": pa.array([ctx.source_file] * n, pa.string()),
        "source_row": pa.array(np.asarray(rows, dtype=np.int64), pa.int64()),
        "reason": pa.array(list(reasons), pa.string()),
        "detail": pa.array(list(details), pa.string()),
        "quarantined_at": pa.array([ctx.ingested_at] * n, UTC),
    }, schema=QUARANTINE_SCHEMA)


def event_ids(source: str, keys: Sequence[str]) -> list[str]:
    """Stable ids: the same source record always gets the same id."""
    prefix = source.encode() + b"\x1f"
    return [f"{source}:{hashlib.sha256(prefix + k.encode()).hexdigest()[:24]}" for k in keys]


def _np_float(a: pa.Array | np.ndarray | None, n: int) -> np.ndarray:
    if a is None:
        return np.full(n, np.nan)
    if isinstance(a, np.ndarray):
        return a.astype(float)
    return np.asarray(pc.fill_null(a.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False), dtype=float)


def _broadcast(value: object, n: int) -> np.ndarray:
    if isinstance(value, (np.ndarray, list, pa.Array, pa.ChunkedArray)):
        arr = value.to_pylist() if isinstance(value, (pa.Array, pa.ChunkedArray)) else value
        return np.asarray(arr, dtype=object)
    return np.full(n, value, dtype=object)


def build_events(
    *,
    source: str,
    ctx: Context,
    rejects: Rejects,
    keys: Sequence[str],
    category: object,
    occurred_at: pa.Array,
    time_precision: object,
    discovery: object,
    attributes: pa.StructArray,
    reported_at: pa.Array | None = None,
    lon: pa.Array | np.ndarray | None = None,
    lat: pa.Array | np.ndarray | None = None,
    precision_m: object = None,
    zone_id: Sequence[str | None] | None = None,
    admitted: pa.RecordBatch,
    text: pa.Array | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Canonical events for the rows ``rejects`` still accepts, and the quarantine table.

    Checks made here for every source: a timestamp is present and not in the
    future, ``reported_at`` does not precede it, a point lies in a zone of the
    city, a zone given by the source exists, and a record key is not repeated
    within the file.

    ``admitted`` is the privacy gate's output for these rows: its
    ``__pseudonyms`` and ``__redactions`` columns go into the events as they
    are; ``text`` is a free-text field the gate scrubbed.
    """
    n = len(keys)
    lon_a, lat_a = _np_float(lon, n), _np_float(lat, n)
    has_point = np.isfinite(lon_a) & np.isfinite(lat_a)
    # A zone-only profile (no boundaries) cannot place a point: the source gives the zone, the point is kept.
    placed = has_point & ctx.city.has_boundaries
    point_zone = assign_zones(ctx.city, lon_a, lat_a) if ctx.city.has_boundaries else np.full(n, None, dtype=object)
    given = _broadcast(zone_id, n) if zone_id is not None else np.full(n, None, dtype=object)
    known = np.isin(given.astype(str), np.array(sorted(ctx.city.zone_ids)))
    rejects.reject(mask(pc.is_null(occurred_at)),
                   "missing_timestamp", "no date of the facts")
    limit = pa.scalar(ctx.ingested_at + FUTURE_TOLERANCE, UTC)
    rejects.reject(np.asarray(pc.fill_null(pc.greater(occurred_at, limit), False).to_numpy(zero_copy_only=False),
                              bool), "future_date", "date of the facts is after the ingest date")
    if reported_at is not None:
        before = pc.fill_null(pc.less(reported_at, occurred_at), False)
        rejects.reject(np.asarray(before.to_numpy(zero_copy_only=False), bool),
                       "reported_before_occurred", "report date precedes the date of the facts")
    rejects.reject(placed & (point_zone == None), "outside_city",  # noqa: E711
                   "point lies outside every zone of the city")
    rejects.reject(~placed & (given != None) & ~known, "unknown_zone",  # noqa: E711
                   "zone code is not a zone of the city profile")
    key_arr = np.asarray(keys, dtype=object)
    _, first = np.unique(key_arr.astype(str), return_index=True)
    repeated = np.ones(n, dtype=bool)
    repeated[first] = False
    rejects.reject(repeated, "duplicate_in_file", "record key repeated within the file")

    ok = rejects.ok
    idx = np.flatnonzero(ok)
    m = len(idx)
    take = pa.array(idx, pa.int64())
    zone = np.where(placed, point_zone, np.where(known, given, None))[idx]
    lon_k = np.where(has_point, lon_a, np.nan)[idx]
    lat_k = np.where(has_point, lat_a, np.nan)[idx]
    point_k = has_point[idx]
    cells = h3_cells(lon_k, lat_k)
    occurred = occurred_at.take(take)
    precision = _broadcast(precision_m, n)[idx] if precision_m is not None else np.full(m, None, dtype=object)
    precision = np.where(point_k, precision, None)
    days = ctx.retention_days if ctx.retention_days is not None else declared_retention_days(source)
    micros = np.asarray(occurred.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    retention = pa.array((micros // 86_400_000_000 + days).astype(np.int32), pa.int32()).view(pa.date32())
    schema = registered_schema()
    struct = schema.field("attributes").type
    if source not in struct.names:
        raise SchemaError(f"source {source!r} is not a registered event source: its attributes have no place in the "
                          "event schema (register it: sources/registry.py)")
    attrs = pa.StructArray.from_arrays(
        [attributes.take(take) if f.name == source else pa.nulls(m, f.type) for f in struct], fields=list(struct))
    def masked(a: np.ndarray) -> pa.Array:
        return pa.array(a, pa.float64(), mask=~point_k)

    def cell(res: int) -> pa.Array:
        return pa.array(cells[res], pa.int64(), mask=~point_k)

    events = pa.table({
        "event_id": pa.array(event_ids(source, [str(k) for k in key_arr[idx]]), pa.string()),
        "source": pa.array([source] * m, pa.string()),
        "category": pa.array(_broadcast(category, n)[idx], pa.string()),
        "occurred_at": occurred,
        "time_precision": pa.array(_broadcast(time_precision, n)[idx], pa.string()),
        "reported_at": reported_at.take(take) if reported_at is not None else pa.nulls(m, UTC),
        "lon": masked(lon_k),
        "lat": masked(lat_k),
        "location_precision_m": pa.array(precision, pa.float32()),
        "zone_id": pa.array(zone, pa.string()),
        "h3_r9": cell(9),
        "h3_r8": cell(8),
        "h3_r7": cell(7),
        "discovery": pa.array(_broadcast(discovery, n)[idx], pa.string()),
        "attributes": attrs,
        "pseudonyms": admitted[PSEUDONYMS].take(take),
        "text": text.take(take) if text is not None else pa.nulls(m, pa.string()),
        "redactions": admitted[REDACTIONS].take(take),
        "batch_id": pa.array([ctx.batch_id] * m, pa.string()),
        "source_file": pa.array([ctx.source_file] * m, pa.string()),
        "source_row": pa.array(rejects.rows[idx], pa.int64()),
        "ingested_at": pa.array([ctx.ingested_at] * m, UTC),
        "retention_until": retention,
        "month": month_of(occurred),
    }, schema=schema)
    return events, rejects.table(source, ctx)


def zones_of_postcodes(ctx: Context, postcodes: pa.Array) -> list[str | None]:
    """Zone of each postcode per the city profile (``None`` when unknown or absent)."""
    table = ctx.city.zone_of_postcode()
    return [table.get(p) if p else None for p in postcodes.to_pylist()]


def declared_retention_days(source: str) -> int:
    """The retention its descriptor declares for ``source``, in days (:data:`NO_LIMIT_DAYS` for no limit): the
    period of a source the operator's retention table does not name."""
    from observatoire.sources.registry import registered

    descriptor = registered().descriptor(source)
    if descriptor is None:
        raise SchemaError(f"source {source!r} is not registered: no retention is declared for it")
    return descriptor.retention.days if descriptor.retention.days is not None else NO_LIMIT_DAYS


def attributes_for(source: str, **columns: pa.Array) -> pa.StructArray:
    """The typed attribute struct of registered ``source`` (its descriptor's ``attributes``), from its fields."""
    from observatoire.sources.registry import registered

    descriptor = registered().descriptor(source)
    if descriptor is None or descriptor.attributes is None:
        raise SchemaError(f"source {source!r} is not a registered event source: it has no attribute struct")
    typ = descriptor.attributes
    arrays = [columns[f.name].cast(f.type) for f in typ]
    return pa.StructArray.from_arrays(arrays, fields=list(typ))
