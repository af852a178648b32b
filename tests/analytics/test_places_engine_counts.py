"""The engine's per-cell counts equal the NumPy placement, point for point (edges and outside points included)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import ibis
import numpy as np
import pyarrow as pa

from observatoire.analytics.places import cell_counts, city_grid, query_cell_counts, query_placed
from observatoire.city.geo import from_local_metres


def test_engine_cell_counts_equal_numpy_placement(city):
    cg = city_grid(city, 500.0)
    g = cg.grid
    rng = np.random.default_rng(3)
    n = 20_000
    x = rng.uniform(g.x0 - 2_000, g.x0 + g.nx * g.cell_size + 2_000, n)
    y = rng.uniform(g.y0 - 2_000, g.y0 + g.ny * g.cell_size + 2_000, n)
    # points exactly on cell edges and on the grid's east/north edges
    k = np.arange(200)
    x[:200] = g.x0 + (k % g.nx) * g.cell_size
    y[:200] = g.y0 + g.ny * g.cell_size
    lon, lat = from_local_metres(x, y, cg.lon0, cg.lat0)
    t0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1e6)
    table = pa.table({
        "occurred_at": pa.array(t0 + rng.integers(0, 365 * 86_400_000_000, n), pa.timestamp("us", tz="UTC")),
        "lon": lon, "lat": lat,
        "source": pa.array(np.where(rng.random(n) < 0.5, "a", "b")),
        "category": pa.array(np.full(n, "theft")),
    })
    events = ibis.memtable(table)
    scope = dict(start=date(2025, 3, 1), end=date(2025, 9, 1), sources=["a"], categories=None)
    counts, outside = query_cell_counts(events, cg, **scope)
    placed = query_placed(events, cg, **scope)
    assert np.array_equal(counts, cell_counts(placed.events, g))
    assert outside == placed.outside > 0
