"""Typed dependencies: what a route may ask for, read from ``app.state`` (set by the factory).

Route signatures read like prose: ``def zones(city: CityDep, store: StoreDep, ...)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, TypeVar

import ibis.expr.types as ir
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
        """Run ``fn`` on the store's events table and return its (materialised) result."""
        with self._lock:
            return fn(self._store.events())


class GridCache:
    """City grids by cell size, built once each (a few dozen sizes at most are ever asked for)."""

    def __init__(self, city: CityProfile, max_sizes: int = 32) -> None:
        self._city = city
        self._grids: dict[float, CityGrid] = {}
        self._lock = threading.Lock()
        self._max = max_sizes

    def get(self, cell_m: float) -> CityGrid:
        """The grid of ``cell_m`` squares over the city (InputError for a size out of range)."""
        with self._lock:
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


def get_principal(request: Request) -> "Principal":
    """The caller, as authenticated by the access dependency (``api/access.py``)."""
    principal: Principal = request.state.principal
    return principal


from observatoire.api.access import Principal  # noqa: E402  (after the names access.py does not need)

PrincipalDep = Annotated[Principal, Depends(get_principal)]
