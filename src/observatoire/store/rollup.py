"""Rollups: small Parquet pre-aggregates written beside each batch's event files.

Each committed batch gets three rollup files, written in the same atomic commit as its
events (and rewritten with them by :meth:`ParquetStore.filter_rows`, hence by the purge):

``rollups/daily/source=<s>/<batch>.parquet``
    events per ``source``, ``category``, ``zone_id``, ``discovery`` and **local day** in the
    city's time zone (``day``), what indicators read;
``rollups/cells/source=<s>/<batch>.parquet``
    located events per ``source``, ``category``, UTC ``month`` and **base grid cell**
    (``cx``, ``cy``: columns and rows of ``cell_m`` squares in the city's local metres, with the
    origin of :func:`observatoire.analytics.places.city_grid`; 250 m by default, the map's own
    cell), what hotspots read;
``rollups/months/source=<s>/<batch>.parquet``
    located events per ``source``, ``category`` and UTC ``month`` with their first and last
    instant and the sum of their epoch seconds: the extent and fingerprint forecasts read.

Every row also carries the smallest and largest ``retention_until`` of its events
(``ru_min``, ``ru_max``) so that a reader can tell a group wholly visible, wholly expired,
or mixed (then counted from the raw events: see :mod:`observatoire.store.rollup_read`).

Months are UTC months (the events' own ``month`` column) because the API's periods are UTC
midnights: the map page asks for whole months (``start=YYYY-MM-01``, ``end`` the first day of the
next month), which are whole rollup months.

The base cell is computed by the engine with the very operations of
``places.query_cell_counts`` (same order, IEEE doubles), and ``edge`` marks the events
whose position is within a millionth of a cell of a grid line, where a coarser grid's
division could round the other way: a grid of ``m × cell_m`` squares with the same origin
is then answered exactly by ``cx // m`` for the other events, and the edge events (a few in
a million) keep their exact position (``lon``, ``lat``, null on the other rows) for the
reader to place them on the asked grid itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.city.geo import grid_position, local_metres

ROLLUP_VERSION = 3             # 3: cells at 250 m by default, without the extent columns
KINDS = ("rollup_daily", "rollup_cells", "rollup_months")
DEFAULT_CELL_M = 250.0         # the base cell of the cell rollup (the map's grid; 1.9 M rows at 10 M events)
EDGE_TOLERANCE = 1e-6          # in base cells: a point this close to a grid line is an "edge" event
UTC_TS = pa.timestamp("us", tz="UTC")

DAILY_SCHEMA = pa.schema([
    pa.field("source", pa.string(), nullable=False),
    pa.field("category", pa.string(), nullable=False),
    pa.field("zone_id", pa.string()),
    pa.field("discovery", pa.string(), nullable=False),
    pa.field("day", pa.date32(), nullable=False),             # local day in the spec's time zone
    pa.field("n", pa.int64(), nullable=False),
    pa.field("ru_min", pa.date32(), nullable=False),
    pa.field("ru_max", pa.date32(), nullable=False),
])

CELLS_SCHEMA = pa.schema([
    pa.field("source", pa.string(), nullable=False),
    pa.field("category", pa.string(), nullable=False),
    pa.field("month", pa.string(), nullable=False),           # UTC month, YYYY-MM (the events' own column)
    pa.field("cx", pa.int64()),                               # null when the position is not finite
    pa.field("cy", pa.int64()),
    pa.field("edge", pa.bool_(), nullable=False),
    pa.field("lon", pa.float64()),                            # the exact position of edge events only
    pa.field("lat", pa.float64()),
    pa.field("n", pa.int64(), nullable=False),
    pa.field("ru_min", pa.date32(), nullable=False),
    pa.field("ru_max", pa.date32(), nullable=False),
])

MONTHS_SCHEMA = pa.schema([
    pa.field("source", pa.string(), nullable=False),
    pa.field("category", pa.string(), nullable=False),
    pa.field("month", pa.string(), nullable=False),
    pa.field("n", pa.int64(), nullable=False),
    pa.field("ru_min", pa.date32(), nullable=False),
    pa.field("ru_max", pa.date32(), nullable=False),
    pa.field("t_min", UTC_TS, nullable=False),
    pa.field("t_max", UTC_TS, nullable=False),
    pa.field("t_sum", pa.int64(), nullable=False),            # sum of epoch seconds (forecast fingerprints)
])


@dataclass(frozen=True, slots=True)
class RollupSpec:
    """What the rollups of a store are made of: the local time zone and the base grid.

    ``lon0``/``lat0`` is the origin of the local projection and ``(x0, y0)`` the grid's
    south-west corner in metres, both exactly as :func:`places.city_grid` computes them.
    """

    timezone: str
    lon0: float
    lat0: float
    x0: float
    y0: float
    cell_m: float | None = DEFAULT_CELL_M      # None: no cell rollup
    version: int = ROLLUP_VERSION

    @classmethod
    def for_city(cls, city: Any, cell_m: float | None = DEFAULT_CELL_M) -> RollupSpec:
        """The spec of a city profile: its time zone and, with boundaries, its grid origin.

        ``cell_m`` is the base cell of the cell rollup (grids of whole multiples of it are answered
        from it); None leaves the cell rollup out.
        """
        if not getattr(city, "has_boundaries", False):
            return cls(city.timezone, float("nan"), float("nan"), float("nan"), float("nan"), cell_m)
        centroid = city.outline.centroid
        lon0, lat0 = float(centroid.x), float(centroid.y)
        minlon, minlat, maxlon, maxlat = city.outline.bounds
        (xmin, _), (ymin, _) = local_metres(np.array([minlon, maxlon]), np.array([minlat, maxlat]), lon0, lat0)
        return cls(city.timezone, lon0, lat0, float(xmin), float(ymin), None if cell_m is None else float(cell_m))

    @property
    def has_grid(self) -> bool:
        return self.cell_m is not None and bool(np.isfinite([self.lon0, self.lat0, self.x0, self.y0]).all())

    def to_json(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> RollupSpec:
        nan = float("nan")
        cell = doc.get("cell_m")
        return cls(str(doc["timezone"]), *(nan if doc.get(k) is None else float(doc[k])
                                           for k in ("lon0", "lat0", "x0", "y0")),
                   None if cell is None else float(cell), int(doc.get("version", ROLLUP_VERSION)))

    def grid_factor(self, lon0: float, lat0: float, x0: float, y0: float, cell_m: float) -> int | None:
        """``m`` when a grid of ``cell_m`` squares at this origin is ``m × m`` base cells, else None."""
        if not self.has_grid or (lon0, lat0, x0, y0) != (self.lon0, self.lat0, self.x0, self.y0):
            return None
        m = cell_m / float(self.cell_m or 1.0)
        return int(round(m)) if round(m) >= 1 and abs(m - round(m)) < 1e-9 else None


# -- local days ------------------------------------------------------------------------------
def local_days(occurred_at: pa.Array | pa.ChunkedArray, tz: str) -> pa.Array:
    """The local calendar day (date32) in ``tz`` of each UTC instant."""
    arr = occurred_at.combine_chunks() if isinstance(occurred_at, pa.ChunkedArray) else occurred_at
    local = pc.local_timestamp(arr.cast(pa.timestamp("us", tz=tz)))
    us = local.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return pa.array(np.floor_divide(us, 86_400_000_000).astype(np.int32), pa.int32()).view(pa.date32())


def local_midnight(day: date, tz: str) -> datetime:
    """The UTC instant of ``day``'s local midnight in ``tz``."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def local_date(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def group_daily(table: pa.Table, tz: str, *, with_retention: bool = True) -> pa.Table:
    """Events (``source``, ``category``, ``zone_id``, ``discovery``, ``occurred_at``[, ``retention_until``])
    counted per local day: :data:`DAILY_SCHEMA` (or without ``ru_*``)."""
    t = pa.table({
        "source": table["source"], "category": table["category"], "zone_id": table["zone_id"],
        "discovery": table["discovery"], "day": local_days(table["occurred_at"], tz),
        **({"ru": table["retention_until"]} if with_retention else {}),
    })
    keys = ["source", "category", "zone_id", "discovery", "day"]
    aggs = [("source", "count", pc.CountOptions(mode="all"))]
    if with_retention:
        aggs += [("ru", "min"), ("ru", "max")]
    out = t.group_by(keys, use_threads=False).aggregate(aggs)
    cols = {**{k: out[k] for k in keys}, "n": out["source_count"]}
    if with_retention:
        cols |= {"ru_min": out["ru_min"], "ru_max": out["ru_max"]}
        return pa.table(cols).cast(DAILY_SCHEMA)
    return pa.table(cols)


def daily_rollup(events: pa.Table, spec: RollupSpec) -> pa.Table:
    """The daily rollup of one batch's events."""
    if events.num_rows == 0:
        return DAILY_SCHEMA.empty_table()
    return group_daily(events, spec.timezone).sort_by([("day", "ascending"), ("category", "ascending")])


# -- base cells ------------------------------------------------------------------------------
def with_cell_columns(t: ir.Table, spec: RollupSpec) -> ir.Table:
    """``t`` with ``cx``, ``cy``, ``edge`` of its located rows, as ``places.query_cell_counts`` computes them,
    and ``edge_lon``, ``edge_lat``: the position of the edge events (null for the others).

    Built in steps (each projection names its columns) so that the engine computes each
    division once and the query stays small.
    """
    fx, fy = grid_position(t.lon, t.lat, spec.lon0, spec.lat0, spec.x0, spec.y0, float(spec.cell_m or 1.0))
    t = t.mutate(_fx=fx, _fy=fy)
    finite = (~t._fx.isinf() & ~t._fy.isinf() & ~t._fx.isnan() & ~t._fy.isnan()
              & (t._fx.abs() < 1e12) & (t._fy.abs() < 1e12))
    t = t.mutate(_finite=finite, _fx=ibis.ifelse(finite, t._fx, 0.0), _fy=ibis.ifelse(finite, t._fy, 0.0))

    def near_line(f: ir.FloatingValue) -> ir.BooleanValue:
        frac = f - f.floor()
        return (frac < EDGE_TOLERANCE) | (frac > 1 - EDGE_TOLERANCE)

    edge = ~t._finite | near_line(t._fx) | near_line(t._fy)
    return t.mutate(cx=ibis.ifelse(t._finite, t._fx.floor(), ibis.null()).cast("int64"),
                    cy=ibis.ifelse(t._finite, t._fy.floor(), ibis.null()).cast("int64"), edge=edge,
                    edge_lon=ibis.ifelse(edge, t.lon, ibis.null()).cast("float64"),
                    edge_lat=ibis.ifelse(edge, t.lat, ibis.null()).cast("float64"))


def group_cells(t: ir.Table, spec: RollupSpec, *, with_retention: bool = True, with_cells: bool = True) -> ir.Table:
    """Located rows of ``t`` counted per source, category, UTC month and base cell (an expression).

    With cells: keys ``cx``, ``cy``, ``edge``, ``lon``, ``lat`` (the position of edge events) and ``n``
    (and ``ru_min``, ``ru_max`` with ``with_retention``); without: the monthly extents, ``n``, ``ru_min``,
    ``ru_max``, ``t_min``, ``t_max``, ``t_sum``.
    """
    kept = t.filter(t.lon.notnull(), t.lat.notnull())
    kept = kept.select("source", "category", "month", "lon", "lat",
                       *(["retention_until"] if with_retention else []), *([] if with_cells else ["occurred_at"]))
    cols: dict[str, ir.Value] = {}
    if with_cells:
        kept = with_cell_columns(kept, spec)
        cols = {"cx": kept.cx, "cy": kept.cy, "edge": kept.edge, "lon": kept.edge_lon, "lat": kept.edge_lat}
    aggs: dict[str, ir.Value] = {"n": kept.count()}
    if with_retention:
        aggs |= {"ru_min": kept.retention_until.min(), "ru_max": kept.retention_until.max()}
    if not with_cells:
        aggs |= {"t_min": kept.occurred_at.min(), "t_max": kept.occurred_at.max(),
                 "t_sum": kept.occurred_at.epoch_seconds().cast("int64").sum()}
    return kept.group_by(source=kept.source, category=kept.category, month=kept.month, **cols).aggregate(**aggs)


def cells_rollup(events: pa.Table, spec: RollupSpec, con: ibis.BaseBackend, *, with_cells: bool = True) -> pa.Table:
    """The cell rollup of one batch's events (or, without cells, the monthly extents), computed by
    ``con`` (an Ibis DuckDB connection)."""
    schema = CELLS_SCHEMA if with_cells else MONTHS_SCHEMA
    if events.num_rows == 0 or (with_cells and not spec.has_grid):
        return schema.empty_table()
    cols = ["source", "category", "month", "occurred_at", "lon", "lat", "retention_until"]
    t = ibis.memtable(events.select(cols))
    out = con.to_pyarrow(group_cells(t, spec, with_cells=with_cells)).select(schema.names).cast(schema)
    order = [("month", "ascending"), ("category", "ascending")]
    return out.sort_by(order + ([("cy", "ascending"), ("cx", "ascending")] if with_cells else []))


def rollup_paths(source: str, name: str) -> dict[str, str]:
    """Relative paths of a batch's rollup files (``name`` is the file's stem)."""
    return {"rollup_daily": f"rollups/daily/source={source}/{name}.parquet",
            "rollup_cells": f"rollups/cells/source={source}/{name}.parquet",
            "rollup_months": f"rollups/months/source={source}/{name}.parquet"}


def build(events: pa.Table, spec: RollupSpec, con: ibis.BaseBackend) -> dict[str, pa.Table]:
    """Both rollups of one batch's events, by kind."""
    return {"rollup_daily": daily_rollup(events, spec), "rollup_cells": cells_rollup(events, spec, con),
            "rollup_months": cells_rollup(events, spec, con, with_cells=False)}


SCHEMAS = {"rollup_daily": DAILY_SCHEMA, "rollup_cells": CELLS_SCHEMA, "rollup_months": MONTHS_SCHEMA}
