"""``GET /api/v1/hotspots``: grid cells of the city with counts and Gi* hot spots (FDR) or a KDE surface."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Depends, Query, Response

from observatoire.analytics.places import cell_counts, kde_cells, masked_gi_star, query_cell_counts, query_placed
from observatoire.api.deps import CityDep, GridCache, GridsDep, StoreDep, StoreReader
from observatoire.api.models import HotspotParameters, Hotspots, Period
from observatoire.api.params import CELL_M_DESCRIPTION, CountFilters, count_filters
from observatoire.api.routes.cells import check_filter_sources, filters_echo, finite_list, grid_info
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.event.schema import ATTRIBUTES

router = APIRouter(prefix="/api/v1", tags=["hotspots"])

FiltersDep = Annotated[CountFilters, Depends(count_filters)]
KDE_MAX_POINTS = 100_000
# The KDE's cost is its pairs (point, cell centre within the radius): up to 100,000 points times
# pi (bandwidth_m / cell_m)^2 cells each. On a synthetic city-year (a 100 m grid, two shared cores): 1.5 s at a
# radius of 4 or 5 cells, 5.5 s at 8, 6.6 s at 10; at 100 cells (10 km on a 100 m grid) it needs billions of pairs.
KDE_MAX_CELLS_PER_BANDWIDTH = 5


@router.get("/hotspots", response_model=Hotspots)
def hotspots(
    city: CityDep,
    store: StoreDep,
    grids: GridsDep,
    filters: FiltersDep,
    method: Annotated[Literal["gi_star", "kde"], Query(description="gi_star (Getis-Ord, FDR) or kde")] = "gi_star",
    cell_m: Annotated[float, Query(ge=50, le=5000, description=CELL_M_DESCRIPTION)] = 250.0,
    alpha: Annotated[float, Query(gt=0, le=0.5, description="FDR level for the hot flags")] = 0.05,
    bandwidth_m: Annotated[float, Query(gt=0, le=10000, description=(
        f"KDE quartic radius, metres; at most {KDE_MAX_CELLS_PER_BANDWIDTH} × cell_m (the KDE's cost grows with "
        "(bandwidth_m / cell_m)²)"))] = 500.0,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of the KDE's sample above 100,000 points")] = 0,
) -> Response:
    """Every cell of a square grid intersecting the city, with the events with a point in it.

    ``gi_star``: Getis-Ord Gi* z-scores with queen contiguity among the cells of
    the city, two-sided normal p-values adjusted by Benjamini-Hochberg; ``hot``
    is ``z > 0`` and ``p_adjusted <= alpha``. ``kde``: quartic kernel density at
    each cell centre, events per km².

    The body is the JSON of :class:`~observatoire.api.models.Hotspots` (the response model), written
    directly: one dict per cell and the grid's cached polygons, not one model per cell.
    """
    if method == "kde" and bandwidth_m > KDE_MAX_CELLS_PER_BANDWIDTH * cell_m:
        raise InputError(f"bandwidth_m ({bandwidth_m:g}) must not exceed {KDE_MAX_CELLS_PER_BANDWIDTH} × cell_m "
                         f"({KDE_MAX_CELLS_PER_BANDWIDTH * cell_m:g}): use a coarser grid for a wider kernel")
    if not set(filters.sources) <= set(ATTRIBUTES):     # registered sources need no scan of the store
        check_filter_sources(store, filters)
    # The body is kept per store state, parameters and role (the Gi* statistics and the JSON of every cell are
    # most of the cost); the route still runs for each request, so each is checked and audited.
    return Response(store.respond(lambda: _body(city, store, grids, filters, method, cell_m, alpha, bandwidth_m,
                                                seed)), media_type="application/json")


def _body(city: CityProfile, store: StoreReader, grids: GridCache, filters: CountFilters, method: str,
          cell_m: float, alpha: float, bandwidth_m: float, seed: int) -> bytes:
    cells = grids.cells(cell_m)
    cgrid = cells.cgrid
    grid = cgrid.grid
    scope = dict(start=filters.start, end=filters.end, sources=filters.sources or None,
                 categories=filters.categories or None)
    if method == "gi_star":  # only counts per cell are needed: the engine groups them
        backend = store.store   # its rollups answer the counts when it keeps them
        counts, outside = store.query(lambda events: query_cell_counts(events, cgrid, store=backend, **scope))
    else:
        placed = store.query(lambda events: query_placed(events, cgrid, **scope))
        counts, outside = cell_counts(placed.events, grid), placed.outside
    active = cells.active
    ids = active.tolist()
    n = counts[active].tolist()
    kde_points: int | None = None
    hot_total = 0
    if method == "gi_star":
        gi = masked_gi_star(counts, grid, alpha=alpha)
        hot_total = int(gi.hot.sum())
        props = [{"cell": c, "count": k, "z": z, "p_adjusted": p, "hot": h, "cold": o, "density": None}
                 for c, k, z, p, h, o in zip(ids, n, finite_list(gi.z[active]), finite_list(gi.p_adjusted[active]),
                                             gi.hot[active].tolist(), gi.cold[active].tolist(), strict=True)]
    else:
        density, kde_points = kde_cells(placed.events, grid, bandwidth_m, np.random.default_rng(seed),
                                        max_points=KDE_MAX_POINTS)
        props = [{"cell": c, "count": k, "z": None, "p_adjusted": None, "hot": None, "cold": None,
                  "density": round(d, 4)} for c, k, d in zip(ids, n, density[active].tolist(), strict=True)]
    envelope = Hotspots(
        features=[],
        period=Period(start=filters.start.isoformat() if filters.start else None,
                      end=filters.end.isoformat() if filters.end else None),
        filters=filters_echo(filters),
        parameters=HotspotParameters(method=method, cell_m=cell_m, alpha=alpha, bandwidth_m=bandwidth_m, seed=seed),
        grid=grid_info(cgrid),
        located=int(counts.sum()) + outside,
        outside=outside,
        hot_cells=hot_total,
        kde_points=kde_points,
        attribution=city.attribution,
    ).model_dump(mode="json")
    # The features as Hotspots would serialise them (HotspotFeature's fields, in order), without a model
    # per cell; the polygons are the grid's, built once (GridCache.cells).
    envelope["features"] = [{"type": "Feature", "id": c, "properties": p, "geometry": g}
                            for c, p, g in zip(ids, props, cells.geometries, strict=True)]
    return orjson.dumps(envelope)
