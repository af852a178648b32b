"""Glue from the store's events to the place-based arrays of ``forecast`` and ``hotspots``.

Places and times only: an event becomes a time (days since a reference UTC
midnight), a position (metres in a local equirectangular projection around
the centroid of the city outline, :func:`observatoire.city.geo.local_metres`)
and the index of the square grid cell it falls in. Nothing about persons is
read: the query selects ``occurred_at``, ``lon`` and ``lat`` only.

The grid covers the bounding box of the city outline; its mask keeps the cells
that intersect the outline (shapely), so that the sea and the neighbouring
communes are not part of the study area.

Events become the forecasters' one container, :class:`EventArrays`; what is
done with them (fitting, selecting, backtesting) is the forecasting service's
(:mod:`observatoire.analytics.forecast.service`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import shapely

from observatoire.analytics.counts import filter_events
from observatoire.analytics.forecast.grid import EventArrays, Grid, assign_cells, grid_from_bbox
from observatoire.analytics.hotspots import benjamini_hochberg
from observatoire.city.geo import from_local_metres, grid_position, local_metres
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError

if TYPE_CHECKING:
    from observatoire.store.base import ReadStore

DEFAULT_CELL_M = 250.0
MIN_CELL_M = 50.0
MAX_CELL_M = 5000.0
MAX_GRID_CELLS = 60_000   # bounding box cells of one answer: a 100 m grid of Marseille (50,058), not 50 m (200,232)
_US_PER_DAY = 86_400_000_000


@dataclass(frozen=True, eq=False)
class CityGrid:
    """A square grid over a city outline, with the projection that places events on it.

    Attributes
    ----------
    grid : Grid
        Cells in metres around ``(lon0, lat0)``; ``grid.mask`` marks the cells
        intersecting the outline.
    lon0, lat0 : float
        Origin of the local projection (the outline's centroid).
    """

    grid: Grid
    lon0: float
    lat0: float

    @property
    def active_cells(self) -> np.ndarray:
        """Indices of the cells inside the city, increasing."""
        return np.flatnonzero(self.grid.active)

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` in metres of WGS84 points."""
        return local_metres(lon, lat, self.lon0, self.lat0)

    def cell_rings(self, cells: Sequence[int] | np.ndarray) -> list[list[list[float]]]:
        """The WGS84 outer ring (closed, counter-clockwise, ``[lon, lat]``) of each cell."""
        idx = np.asarray(cells, dtype=np.int64)
        g = self.grid
        x0 = g.x0 + (idx % g.nx) * g.cell_size
        y0 = g.y0 + (idx // g.nx) * g.cell_size
        xs = np.stack([x0, x0 + g.cell_size, x0 + g.cell_size, x0, x0], axis=1)
        ys = np.stack([y0, y0, y0 + g.cell_size, y0 + g.cell_size, y0], axis=1)
        lon, lat = from_local_metres(xs, ys, self.lon0, self.lat0)
        return [[[round(a, 6), round(b, 6)] for a, b in zip(lo, la, strict=True)]
                for lo, la in zip(lon.tolist(), lat.tolist(), strict=True)]


def city_grid(city: CityProfile, cell_m: float = DEFAULT_CELL_M) -> CityGrid:
    """A grid of ``cell_m`` squares over the city outline, masked to the cells that intersect it.

    Raises
    ------
    InputError
        When the profile has no boundaries, ``cell_m`` is outside
        ``[MIN_CELL_M, MAX_CELL_M]``, or the grid would have more than ``MAX_GRID_CELLS`` cells
        (Marseille: 100 m is the finest, 50,058 cells).

    Examples
    --------
    >>> from observatoire.city.profile import load_city
    >>> cg = city_grid(load_city(), 1000.0)
    >>> 200 < int(cg.grid.active.sum()) < cg.grid.n_cells
    True
    """
    if not city.has_boundaries:
        raise InputError(f"city profile {city.name} has no zone boundaries: no grid can be drawn")
    if not (np.isfinite(cell_m) and MIN_CELL_M <= cell_m <= MAX_CELL_M):
        raise InputError(f"cell_m must lie between {MIN_CELL_M:g} and {MAX_CELL_M:g} metres, got {cell_m:g}")
    centroid = city.outline.centroid
    lon0, lat0 = float(centroid.x), float(centroid.y)
    minlon, minlat, maxlon, maxlat = city.outline.bounds
    (xmin, xmax), (ymin, ymax) = local_metres(np.array([minlon, maxlon]), np.array([minlat, maxlat]), lon0, lat0)
    bare = grid_from_bbox(float(xmin), float(ymin), float(xmax), float(ymax), float(cell_m))
    if bare.n_cells > MAX_GRID_CELLS:   # the cost of hot spots and forecasts grows with the cells
        finest = float(np.ceil(cell_m * np.sqrt(bare.n_cells / MAX_GRID_CELLS)))
        raise InputError(f"a {cell_m:g} m grid over {city.name} has {bare.n_cells:,} cells, more than the "
                         f"{MAX_GRID_CELLS:,} an answer may cost; use cell_m of at least {finest:g}")
    outline_m = shapely.transform(city.outline, lambda c: np.column_stack(local_metres(c[:, 0], c[:, 1], lon0, lat0)))
    idx = np.arange(bare.n_cells)
    x0 = bare.x0 + (idx % bare.nx) * bare.cell_size
    y0 = bare.y0 + (idx // bare.nx) * bare.cell_size
    boxes = shapely.box(x0, y0, x0 + bare.cell_size, y0 + bare.cell_size)
    shapely.prepare(outline_m)
    mask = shapely.intersects(outline_m, boxes)
    # Touching the outline only along an edge is not intersecting the city's area.
    edge_only = mask & ~shapely.intersects(outline_m, shapely.buffer(boxes, -1e-6 * bare.cell_size))
    mask &= ~edge_only
    return CityGrid(Grid(bare.x0, bare.y0, bare.cell_size, bare.nx, bare.ny, mask), lon0, lat0)


def located_events(
    events: ir.Table,
    *,
    start: date | None = None,
    end: date | None = None,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    discoveries: Sequence[str] | None = None,
) -> ir.Table:
    """The events with a point matching the filters, as ``occurred_at``, ``lon``, ``lat`` (an expression).

    ``discoveries`` keeps only those discovery modes (e.g. ``["independent"]``); ``None`` keeps all.
    """
    kept = filter_events(events, start=start, end=end, sources=sources, categories=categories,
                         discoveries=discoveries)
    kept = kept.filter(kept.lon.notnull(), kept.lat.notnull())
    return kept.select("occurred_at", "lon", "lat")


@dataclass(frozen=True, eq=False)
class PlacedEvents:
    """Events placed on a city grid, and how many could not be placed.

    ``events`` are those inside the grid's mask; ``outside`` counts the located
    events that fall outside it (a point beyond the city outline).
    """

    events: EventArrays
    reference: datetime
    outside: int

    @property
    def last_time(self) -> float | None:
        """Time (days) of the latest placed event, or ``None`` without events."""
        return float(self.events.t.max()) if len(self.events) else None


def days_since(occurred_at: pa.Array | pa.ChunkedArray, reference: datetime) -> np.ndarray:
    """Float days between each UTC timestamp and ``reference`` (a timezone-aware datetime)."""
    if reference.tzinfo is None:
        raise InputError("the reference time must be timezone-aware (UTC)")
    arr = occurred_at.combine_chunks() if isinstance(occurred_at, pa.ChunkedArray) else occurred_at
    us = arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
    ref_us = int(reference.astimezone(UTC).timestamp() * 1_000_000)
    return (us.astype(np.int64) - ref_us) / _US_PER_DAY


def place_events(table: pa.Table, cgrid: CityGrid, reference: datetime) -> PlacedEvents:
    """Events (``occurred_at``, ``lon``, ``lat``) as :class:`EventArrays` on ``cgrid``, sorted by ``(t, x, y)``.

    Events outside the grid's mask are dropped and counted in ``outside``. The order
    depends on the events only, never on the order the engine returned them in, so a
    forecast from the same events is the same to the last bit.
    """
    lon = table["lon"].to_numpy().astype(float)
    lat = table["lat"].to_numpy().astype(float)
    t = days_since(table["occurred_at"], reference)
    x, y = cgrid.project(lon, lat)
    cell = assign_cells(cgrid.grid, x, y)
    keep = cell >= 0
    t, x, y, cell = t[keep], x[keep], y[keep], cell[keep]
    order = np.lexsort((y, x, t))
    arrays = EventArrays(t[order], x[order], y[order], cell[order])
    return PlacedEvents(arrays, reference, int((~keep).sum()))


def query_placed(
    events: ir.Table,
    cgrid: CityGrid,
    *,
    start: date | None,
    end: date | None,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    reference: datetime | None = None,
    discoveries: Sequence[str] | None = None,
) -> PlacedEvents:
    """Filter the store's events, fetch their times and points, and place them on ``cgrid``.

    ``reference`` defaults to ``start`` at UTC midnight (or the Unix epoch when ``start`` is open).
    """
    table = located_events(events, start=start, end=end, sources=sources, categories=categories,
                           discoveries=discoveries).to_pyarrow()
    if reference is None:
        reference = datetime(start.year, start.month, start.day, tzinfo=UTC) if start else datetime(1970, 1, 1,
                                                                                                    tzinfo=UTC)
    return place_events(table, cgrid, reference)


def query_cell_counts(
    events: ir.Table,
    cgrid: CityGrid,
    *,
    start: date | None,
    end: date | None,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    store: ReadStore | None = None,
) -> tuple[np.ndarray, int]:
    """Events per grid cell, counted by the engine, and the located events outside the grid's mask.

    The engine projects each point and groups by grid column and row, with the
    very operations of :func:`observatoire.city.geo.local_metres` and
    :func:`~observatoire.analytics.forecast.grid.assign_cells` (same order, IEEE
    doubles), so the counts equal ``cell_counts(query_placed(...).events, grid)``
    while only one row per occupied cell leaves the engine.

    With a ``store`` whose ``cell_counts`` answers (one that keeps rollups, for a grid whose
    cell is a whole multiple of theirs), the counts come from the monthly cell rollup (whole
    UTC months) and the raw events (the days around them): equal, see
    :mod:`observatoire.store.rollup`; otherwise from ``events``.

    Returns
    -------
    counts, outside
        ``int64`` array ``(n_cells,)`` and the number of located events that fall outside the mask.
    """
    kept = located_events(events, start=start, end=end, sources=sources, categories=categories)
    if store is not None:
        rolled = store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0),
                                   cell_m=cgrid.grid.cell_size, start=start, end=end, sources=sources,
                                   categories=categories)
        if rolled is not None:
            return coarse_cell_counts(rolled.cells, rolled.factor, cgrid)
    g = cgrid.grid
    fx, fy = grid_position(kept.lon, kept.lat, cgrid.lon0, cgrid.lat0, g.x0, g.y0, g.cell_size)
    inside = (fx >= 0) & (fy >= 0) & (fx <= g.nx) & (fy <= g.ny)
    grouped = kept.group_by(
        ix=ibis.ifelse(inside, fx.floor(), -1).cast("int64"), iy=ibis.ifelse(inside, fy.floor(), -1).cast("int64"),
    ).aggregate(n=kept.count())
    table = grouped.to_pyarrow()
    ix = np.asarray(table["ix"].to_numpy(zero_copy_only=False), np.int64)
    iy = np.asarray(table["iy"].to_numpy(zero_copy_only=False), np.int64)
    n = np.asarray(table["n"].to_numpy(zero_copy_only=False), np.int64)
    ok = (ix >= 0) & (iy >= 0)
    cell = np.where(ok, np.minimum(iy, g.ny - 1) * g.nx + np.minimum(ix, g.nx - 1), -1)
    if g.mask is not None:
        ok &= g.mask[np.maximum(cell, 0)]
    counts = np.bincount(cell[ok], weights=n[ok], minlength=g.n_cells).astype(np.int64)
    return counts, int(n[~ok].sum())


def coarse_cell_counts(fine: pa.Table, factor: int, cgrid: CityGrid) -> tuple[np.ndarray, int]:
    """Counts per cell of ``cgrid`` from counts per base cell, ``factor`` base cells a side.

    ``fine`` has ``cx``, ``cy``, ``edge``, ``n`` and, for the edge rows (points within a millionth
    of a base cell of a grid line, where ``cx // factor`` could differ from the asked grid's own
    division), the exact ``lon``, ``lat``: those are placed on ``cgrid`` as :func:`place_events`
    places a point. Returns ``(counts (n_cells,), events outside the grid or its mask)``, as
    :func:`query_cell_counts`.
    """
    grid = cgrid.grid
    cx = np.asarray(fine["cx"].fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    cy = np.asarray(fine["cy"].fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    n = np.asarray(fine["n"].to_numpy(zero_copy_only=False), np.int64)
    edge = np.asarray(fine["edge"].to_numpy(zero_copy_only=False), bool)
    ix, iy = cx // factor, cy // factor
    ok = (cx >= 0) & (cy >= 0) & (ix < grid.nx) & (iy < grid.ny)
    cell = np.where(ok, iy * grid.nx + ix, -1)
    if edge.any():
        lon = np.asarray(fine["lon"].fill_null(np.nan).to_numpy(zero_copy_only=False), np.float64)[edge]
        lat = np.asarray(fine["lat"].fill_null(np.nan).to_numpy(zero_copy_only=False), np.float64)[edge]
        placed = assign_cells(grid, *cgrid.project(lon, lat))
        cell[edge] = placed
        ok[edge] = placed >= 0
    if grid.mask is not None:
        ok &= grid.mask[np.maximum(cell, 0)]
    counts = np.bincount(cell[ok], weights=n[ok], minlength=grid.n_cells).astype(np.int64)
    return counts, int(n[~ok].sum())


def cell_counts(placed: EventArrays, grid: Grid) -> np.ndarray:
    """Number of events per cell, shape ``(n_cells,)`` (int64)."""
    return np.bincount(placed.cell, minlength=grid.n_cells).astype(np.int64)


@dataclass(frozen=True)
class MaskedGiStar:
    """Gi* of the active cells of a grid (arrays of shape ``(n_cells,)``; NaN/False outside the mask)."""

    z: np.ndarray
    p: np.ndarray
    p_adjusted: np.ndarray
    hot: np.ndarray
    cold: np.ndarray


def masked_gi_star(values: np.ndarray, grid: Grid, *, alpha: float = 0.05) -> MaskedGiStar:
    """Getis-Ord Gi* with queen contiguity restricted to the grid's mask, FDR-corrected.

    The same statistic as :func:`observatoire.analytics.hotspots.gi_star`
    (binary weights with ``w_ii = 1``; Ord & Getis 1995, eq. 9), but ``n``,
    the mean and the standard deviation are taken over the cells inside the
    study area only, and a cell's neighbours are its active queen neighbours:
    the sea and the neighbouring communes are neither zeros nor neighbours.
    With a mask that keeps every cell it equals ``gi_star(..., "queen")``.
    p-values are two-sided normal; Benjamini-Hochberg across the active cells.

    Raises
    ------
    InputError
        When ``values`` is not one finite non-negative value per cell or ``alpha`` is outside ``(0, 1)``.
    """
    from scipy.stats import norm

    x = np.asarray(values, dtype=np.float64)
    if x.shape != (grid.n_cells,) or not np.all(np.isfinite(x)) or np.any(x < 0):
        raise InputError(f"values must be {grid.n_cells} finite non-negative numbers, one per cell")
    if not (0.0 < alpha < 1.0):
        raise InputError(f"alpha must lie in (0, 1), got {alpha}")
    active = grid.active.reshape(grid.ny, grid.nx)
    x2 = np.where(active, x.reshape(grid.ny, grid.nx), 0.0)
    a2 = active.astype(np.float64)

    def window_sum(arr: np.ndarray) -> np.ndarray:
        padded = np.pad(arr, 1)
        return sum(padded[1 + dy:1 + dy + grid.ny, 1 + dx:1 + dx + grid.nx]
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))

    n = float(a2.sum())
    mean = float(x2.sum()) / n
    s = float(np.sqrt(max((x2 ** 2).sum() / n - mean ** 2, 0.0)))
    w = window_sum(a2)          # W_i = S1_i: active cells in the 3 x 3 window, the cell included
    lag = window_sum(x2)
    z = np.full(grid.n_cells, np.nan)
    if s > 0 and n > 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            z2 = (lag - mean * w) / (s * np.sqrt((n * w - w ** 2) / (n - 1)))
        z = np.where(active & np.isfinite(z2), z2, np.nan).ravel()
    p = np.where(np.isnan(z), np.nan, 2.0 * norm.sf(np.abs(np.nan_to_num(z))))
    significant, p_adj = benjamini_hochberg(p, alpha)
    hot = significant & (np.nan_to_num(z) > 0)
    cold = significant & (np.nan_to_num(z) < 0)
    return MaskedGiStar(z, p, p_adj, hot, cold)


def kde_cells(
    events: EventArrays, grid: Grid, bandwidth_m: float, rng: np.random.Generator, *, max_points: int = 100_000
) -> tuple[np.ndarray, int]:
    """Quartic kernel density (events per km²) at every cell centre, from at most ``max_points`` points.

    Above ``max_points`` a uniform sample (from ``rng``) is used and the density
    scaled by ``n / max_points``, so that it still estimates events per km².
    Returns ``(density (n_cells,), points used)``; 0 outside the mask.
    """
    from observatoire.analytics.hotspots import kde_surface

    n = len(events)
    density = np.zeros(grid.n_cells)
    if n == 0:
        return density, 0
    idx = np.arange(n) if n <= max_points else np.sort(rng.choice(n, size=max_points, replace=False))
    pts = np.column_stack([events.x[idx], events.y[idx]])
    xs = grid.x0 + (np.arange(grid.nx) + 0.5) * grid.cell_size
    ys = grid.y0 + (np.arange(grid.ny) + 0.5) * grid.cell_size
    surface = kde_surface(pts, xs, ys, bandwidth_m) * (n / idx.size) * 1e6
    density = np.where(grid.active, surface.ravel(), 0.0)
    return density, int(idx.size)


# --------------------------------------------------------------------------- selections on the active cells


def select_cells(scores: np.ndarray, grid: Grid, k: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of the top cells covering at most ``k`` of the city's area, highest score first (ties at random).

    :func:`~observatoire.analytics.evaluate.select_top` among the grid's active cells (equal areas):
    ``floor(k * n_active)`` cells.
    """
    from observatoire.analytics.evaluate import select_top

    active = np.flatnonzero(grid.active)
    s = np.asarray(scores, dtype=np.float64)[active]
    chosen = active[select_top(s, np.ones(active.size), k, rng)]
    return chosen[np.argsort(-np.asarray(scores)[chosen], kind="stable")]
