"""Shared pieces of the grid-cell routes (hotspots, forecasts): grid description, cell polygons, filters echo."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from observatoire.analytics.counts import source_counts
from observatoire.analytics.places import CityGrid
from observatoire.api.deps import StoreReader
from observatoire.api.models import CellGeometry, Filters, GridInfo
from observatoire.api.params import CountFilters, check_sources
from observatoire.event.schema import ATTRIBUTES


def grid_info(cgrid: CityGrid) -> GridInfo:
    """The public description of a city grid."""
    g = cgrid.grid
    return GridInfo(cell_m=g.cell_size, nx=g.nx, ny=g.ny, cells_in_city=int(g.active.sum()),
                    origin_lon=round(cgrid.lon0, 6), origin_lat=round(cgrid.lat0, 6))


def polygons(cgrid: CityGrid, cells: Sequence[int]) -> list[CellGeometry]:
    """The WGS84 polygon of each cell."""
    return [CellGeometry(coordinates=[ring]) for ring in cgrid.cell_rings(list(cells))]


def filters_echo(filters: CountFilters) -> Filters:
    return Filters(sources=list(filters.sources) or None, categories=list(filters.categories) or None)


def check_filter_sources(store: StoreReader, filters: CountFilters) -> None:
    """422 for a source neither registered nor present in the store (the store is read only when needed)."""
    if filters.sources and not set(filters.sources) <= set(ATTRIBUTES):
        check_sources(filters.sources, store.query(source_counts)["source"].to_pylist())


def finite(value: float) -> float | None:
    """``value`` as a float, ``None`` for NaN or infinity (JSON has neither)."""
    v = float(value)
    return v if math.isfinite(v) else None


def finite_list(values: np.ndarray) -> list[float | None]:
    """:func:`finite` of each value, as a list."""
    return [v if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64).tolist()]
