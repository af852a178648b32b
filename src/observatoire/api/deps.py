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

    Sync routes run in a thread pool; each thread reads the store through its own DuckDB cursor
    (:meth:`ParquetStore.connection <observatoire.store.parquet.ParquetStore.connection>`), so queries run side
    by side, without a lock. ``serialise`` runs them one at a time instead, as the server did before it had
    per-thread readers (``bench/load.py``'s baseline).

    When the store is a :class:`~observatoire.store.cache.CachingReadStore`, :meth:`for_request` gives the
    reader a request uses: on the routes of :data:`CACHED_ROUTES` it keeps each query's answer per store state
    (:class:`~observatoire.store.cache.ReadState`), keyed by the route, its parameters and the caller's role.
    The route itself still runs (access check, audit entry, response), only its queries are answered from memory.
    """

    def __init__(self, store: Store, *, serialise: bool = False) -> None:
        self._store = store
        self._lock = threading.Lock() if serialise else None

    @property
    def store(self) -> Store:
        """The store itself (its rollups; answers kept when it is a CachingReadStore)."""
        return self._store

    def query(self, fn: Callable[[ir.Table], T]) -> T:
        """Run ``fn`` on the store's events table and return its (materialised) result.

        A writer (a purge, an ingest) may replace the files a query was planned on: when the engine then fails
        to read them and the manifest has moved on, the query runs once more on the new generation's files.
        """
        if self._lock is None:
            return self._query(fn)
        with self._lock:
            return self._query(fn)

    def respond(self, compute: Callable[[], bytes]) -> bytes:
        """A response body: ``compute()``'s (kept per store state on a cached route of a request's reader, for the
        routes whose body, not only its queries, costs: :mod:`observatoire.api.routes.hotspots`)."""
        return compute()

    def _query(self, fn: Callable[[ir.Table], T]) -> T:
        import duckdb

        generation = self._generation()
        try:
            return fn(self._store.events())
        except duckdb.IOException:
            if self._generation() == generation:
                raise
            return fn(self._store.events())

    def _generation(self) -> int:
        return self._store.manifest().generation

    def for_request(self, request: Request) -> "StoreReader":
        """The reader for one request: keeps its answers when the store keeps answers and the route is cached."""
        from observatoire.store.cache import CachingReadStore

        if not isinstance(self._store, CachingReadStore):
            return self
        return _RequestReader(self, request)


# The routes whose queries' answers are kept per store state: each depends only on its parameters, the caller's
# role and the store (not on the clock beyond the retention rule, nor on other state). A route added here must be so.
CACHED_ROUTES = frozenset({"/api/v1/zones", "/api/v1/meta", "/api/v1/indicators", "/api/v1/hotspots",
                           "/api/v1/events"})


class _RequestReader(StoreReader):
    """A request's reader: the n-th query of a given function in a cached route is the same question each time
    the route is asked with the same parameters by the same role, in the same store state."""

    def __init__(self, reader: StoreReader, request: Request) -> None:
        super().__init__(reader.store)
        self._reader = reader
        self._request = request
        self._scope: tuple[Any, ...] | None = None
        self._asked: dict[Any, int] = {}

    def query(self, fn: Callable[[ir.Table], T]) -> T:
        scope = self._route_scope()
        if scope is None:
            return self._reader.query(fn)
        code = getattr(fn, "__code__", None)
        where = (code.co_filename, code.co_firstlineno, code.co_name) if code is not None else \
            getattr(fn, "__qualname__", type(fn).__qualname__)
        n = self._asked[where] = self._asked.get(where, -1) + 1
        store: Any = self._store
        return store.answer(("api", scope, where, n), lambda: self._reader.query(fn))

    def respond(self, compute: Callable[[], bytes]) -> bytes:
        scope = self._route_scope()
        if scope is None:
            return compute()
        store: Any = self._store
        return store.answer(("response", scope), compute)

    def _route_scope(self) -> tuple[Any, ...] | None:
        if self._scope is None:
            self._scope = answer_scope(self._request) or ()
        return self._scope or None


def answer_scope(request: Request) -> tuple[Any, ...] | None:
    """What a cached route's answer depends on in a request: the route, its declared parameters (as given, by
    name), its path parameters and the caller's role; None for a route whose answers are not kept."""
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    if template not in CACHED_ROUTES or request.method not in ("GET", "HEAD"):
        return None
    declared: set[str] = set()
    stack = [getattr(route, "dependant", None)]
    while stack:
        dependant = stack.pop()
        if dependant is not None:
            declared.update(p.alias for p in dependant.query_params)
            stack.extend(dependant.dependencies)
    params = tuple(sorted((k, tuple(request.query_params.getlist(k))) for k in set(request.query_params) & declared))
    principal = getattr(request.state, "principal", None)
    return (template, params, tuple(sorted(request.path_params.items())), getattr(principal, "role", "public"))


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
    return reader.for_request(request) if isinstance(reader, StoreReader) else reader


CityDep = Annotated[CityProfile, Depends(get_city)]
StoreDep = Annotated[StoreReader, Depends(get_store)]


def get_grids(request: Request) -> GridCache:
    """The city grids the factory set up."""
    grids: GridCache = request.app.state.grids
    return grids


GridsDep = Annotated[GridCache, Depends(get_grids)]
