"""Typed dependencies: what a route may ask for, read from ``app.state`` (set by the factory).

Route signatures read like prose: ``def zones(city: CityDep, store: StoreDep, ...)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import ibis.expr.types as ir
import numpy as np
from fastapi import Depends, Request

from observatoire.analytics.places import CityGrid, city_grid
from observatoire.city.profile import CityProfile
from observatoire.store.base import Store

T = TypeVar("T")


class StoreReader:
    """Read access to a store's events for request handlers.

    Sync routes run in a thread pool while the store shares one DuckDB
    connection, which must not run two queries at once: queries go through
    :meth:`query`, one at a time.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()

    @property
    def store(self) -> Store:
        """The store itself (its rollups); call its methods inside :meth:`query`'s lock or on immutable results."""
        return self._store

    def query(self, fn: Callable[[ir.Table], T]) -> T:
        """Run ``fn`` on the store's events table and return its (materialised) result.

        A writer (a purge, an ingest) may replace the files a query was planned on: when the engine then fails
        to read them and the manifest has moved on, the query runs once more on the new generation's files.
        """
        import duckdb

        with self._lock:
            generation = self._generation()
            try:
                return fn(self._store.events())
            except duckdb.IOException:
                if self._generation() == generation:
                    raise
                return fn(self._store.events())

    def _generation(self) -> int:
        return self._store.manifest().generation


@dataclass(frozen=True, eq=False)
class GridCells:
    """A city grid with what a response needs of its active cells, built once per grid.

    ``geometries[i]`` is the GeoJSON polygon (a dict: ``type``, ``coordinates``) of cell ``active[i]``,
    as :class:`~observatoire.api.models.CellGeometry` serialises it; shared by every response, never
    modified.
    """

    cgrid: CityGrid
    active: np.ndarray
    geometries: list[dict[str, Any]]


class GridCache:
    """City grids by cell size, built once each (a few dozen sizes at most are ever asked for),
    with the polygons of their cells (:meth:`cells`), also built once."""

    def __init__(self, city: CityProfile, max_sizes: int = 32) -> None:
        self._city = city
        self._grids: dict[float, CityGrid] = {}
        self._cells: dict[float, GridCells] = {}
        self._lock = threading.Lock()
        self._max = max_sizes

    def get(self, cell_m: float) -> CityGrid:
        """The grid of ``cell_m`` squares over the city (InputError for a size out of range)."""
        with self._lock:
            return self._grid(cell_m)

    def cells(self, cell_m: float) -> GridCells:
        """The grid of ``cell_m`` squares with the polygons of its active cells (InputError as :meth:`get`)."""
        with self._lock:
            cells = self._cells.get(cell_m)
            grid = self._grid(cell_m)
            if cells is None or cells.cgrid is not grid:
                active = grid.active_cells
                geometries = [{"type": "Polygon", "coordinates": [ring]} for ring in grid.cell_rings(active)]
                cells = self._cells[cell_m] = GridCells(grid, active, geometries)
                for size in [k for k in self._cells if k not in self._grids]:
                    del self._cells[size]                         # evicted with their grid
            return cells

    def _grid(self, cell_m: float) -> CityGrid:
        grid = self._grids.get(cell_m)
        if grid is None:
            grid = city_grid(self._city, cell_m)
            if len(self._grids) >= self._max:
                self._grids.pop(next(iter(self._grids)))
            self._grids[cell_m] = grid
        return grid


def get_city(request: Request) -> CityProfile:
    """The city profile the factory loaded."""
    city: CityProfile = request.app.state.city
    return city


def get_store(request: Request) -> StoreReader:
    """The store reader the factory opened."""
    reader: StoreReader = request.app.state.store
    return reader


CityDep = Annotated[CityProfile, Depends(get_city)]
StoreDep = Annotated[StoreReader, Depends(get_store)]


def get_grids(request: Request) -> GridCache:
    """The city grids the factory set up."""
    grids: GridCache = request.app.state.grids
    return grids


GridsDep = Annotated[GridCache, Depends(get_grids)]
