"""The capabilities (``daily_counts``, ``cell_counts``): where a store answers, exactly what the raw events give.

Indicators' daily counts, hotspots' grid counts and forecasts' extent are computed both ways on one
synthetic store (random points inside and around Marseille, some without a place, events on
local-midnight and UTC-month boundaries) and compared: for several themes, periods and cell sizes;
with a retention cut-off falling inside a day (frozen clock), with ``retention_until`` dates that bind
before the period does; with legal holds; after a purge. These run on the factories with the ``rollups``
capability; every factory runs :func:`test_a_store_answers_its_capabilities_or_none` (a backend without rollups
answers None, and the analytics then count its raw events: the same figures) and the hotspot route's test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from observatoire.analytics.places import city_grid, query_cell_counts
from observatoire.api.params import CountFilters
from observatoire.city.geo import assign_zones
from observatoire.city.profile import CityProfile
from observatoire.governance.purge import purge
from observatoire.governance.retention import Holds, Retention
from observatoire.store.base import Batch
from observatoire.store.rollup import RollupSpec

from conftest import PERIODS, THEMES, Clock, StoreFactory, answered, assert_same, grid_counts, make_events


def test_a_store_answers_its_capabilities_or_none(master: Path, factory: StoreFactory, city: CityProfile) -> None:
    store = factory(master, city)
    cgrid = city_grid(city, 250.0)
    origin = (cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0)
    got = store.daily_counts(tz=city.timezone, sources=["mains_courantes"], categories=["theft"])
    assert (got is not None) == factory.rollups
    assert (store.cell_counts(origin=origin, cell_m=250.0) is not None) == factory.rollups
    assert (store.cell_counts(origin=origin, cell_m=250.0, extent_only=True) is not None) == factory.rollups
    assert_same(store, city, themes=THEMES[1:2], periods=PERIODS[1:2], rolled=factory.rollups)
    if got is None:
        return
    assert got.schema.names == ["zone_id", "day", "n", "n_all"]
    assert [f.type for f in got.schema] == [pa.string(), pa.date32(), pa.int64(), pa.int64()]
    assert pc.all(pc.greater(got["n_all"], 0)).as_py() and pc.all(pc.less_equal(got["n"], got["n_all"])).as_py()
    t = store.events()
    mc = t.filter(t.source == "mains_courantes")
    assert pc.sum(got["n_all"]).as_py() == mc.count().to_pyarrow().as_py()
    assert pc.sum(got["n"]).as_py() == mc.filter(mc.category == "theft").count().to_pyarrow().as_py()
    assert store.daily_counts(tz="America/New_York") is None                    # another time zone


@pytest.mark.slow
@pytest.mark.capability("rollups")
def test_rollups_equal_the_raw_events_for_themes_periods_and_cell_sizes(master: Path, factory: StoreFactory,
                                                                        city: CityProfile) -> None:
    store = factory(master, city)
    assert_same(store, city, themes=THEMES, periods=PERIODS, cells=(250.0, 1000.0))
    # A cell size that is not a multiple of the rollups' falls back to the raw events (and still agrees).
    cgrid = city_grid(city, 150.0)
    assert store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0), cell_m=150.0) is None
    assert_same(store, city, themes=THEMES[:1], periods=PERIODS[1:2], cells=(150.0,))


@pytest.mark.capability("rollups")
def test_a_point_on_a_grid_line_is_placed_from_its_exact_position(root: Path, factory: StoreFactory,
                                                                 city: CityProfile) -> None:
    store = factory(root, city)
    spec = RollupSpec.for_city(city)                  # the city grid's origin, as places.city_grid computes it
    cgrid = city_grid(city, 250.0)
    cos = float(np.cos(np.radians(spec.lat0)))
    # x on the line between two columns of 250, 500 and 1000 m (k = 40), or a hair either side of it:
    # lon = lon0 + (x0 + 250 k) / (111132 cos).
    events = make_events(city, np.random.default_rng(3), 0, "mains_courantes", "edge")
    offsets = np.resize([0.0, 1e-9, -1e-9, 2e-5], events.num_rows)
    lon = spec.lon0 + (spec.x0 + 250.0 * 40 + offsets) / (111_132.0 * cos)
    events = events.set_column(events.schema.get_field_index("lon"), "lon", pa.array(lon))
    zones = assign_zones(city, lon, events["lat"].to_numpy())
    events = events.set_column(events.schema.get_field_index("zone_id"), "zone_id", pa.array(zones, pa.string()))
    store.commit(Batch("edge", "mains_courantes", "e.csv", "1" * 64, events.num_rows, events=events))
    got = store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0), cell_m=250.0)
    assert got is not None and got.edge_events == events.num_rows            # each kept with its position
    edge = got.cells.filter(got.cells["edge"])
    assert sorted(edge["lon"].to_pylist()) == sorted(lon.tolist())
    assert_same(store, city, themes=THEMES[:1], periods=PERIODS[1:2], cells=(250.0, 500.0, 1000.0))


@pytest.mark.capability("rollups")
@pytest.mark.parametrize("now", [datetime(2025, 2, 20, 13, 37, 12, tzinfo=UTC),      # cut-off inside a day
                                 datetime(2025, 3, 31, 22, 30, tzinfo=UTC)])          # just after local midnight
def test_a_retention_cut_off_inside_a_day_is_counted_exactly(master: Path, factory: StoreFactory, city: CityProfile,
                                                             now: datetime) -> None:
    # mains_courantes: 400 days; verbalisations: 800 days; municipal_reports: a long period, but the
    # retention date stamped at ingest (700 days) binds first.
    retention = Retention({"mains_courantes": 400, "verbalisations": 800, "municipal_reports": 5000})
    store = factory(master, city, clock=Clock(now), retention=retention)
    raw = factory(master, city)
    assert store.events().count().to_pyarrow().as_py() < raw.events().count().to_pyarrow().as_py()
    assert_same(store, city, periods=PERIODS[:3])
    # The cut-off's month of each source comes from the raw events, the other months from the cell rollup.
    cgrid = city_grid(city, 250.0)
    whole_months = dict(start=date(2023, 2, 1), end=date(2025, 3, 1))
    rolled = store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0), cell_m=250.0,
                               **whole_months)
    assert rolled is not None and 0 < rolled.edge_events < rolled.extent["n"]
    got, want = grid_counts(store, cgrid, **whole_months), query_cell_counts(store.events(), cgrid, **whole_months)
    assert got[1] == want[1] and np.array_equal(got[0], want[0])


@pytest.mark.capability("rollups")
def test_records_under_a_legal_hold_stay_counted(master: Path, factory: StoreFactory, city: CityProfile,
                                                 tmp_path: Path) -> None:
    now = datetime(2025, 2, 20, 13, 37, tzinfo=UTC)
    holds = Holds(tmp_path / "holds.json")
    holds.add(reason="r", reference="x", actor="user:dpo", now=now, source="mains_courantes", zone="13201")
    retention = Retention({"mains_courantes": 400, "verbalisations": 800}, holds)
    store = factory(master, city, clock=Clock(now), retention=retention)
    assert_same(store, city, themes=THEMES[:2], periods=PERIODS[:3])
    # The held source's expired months are many: its hotspot counts are the raw path's altogether.
    cgrid = city_grid(city, 250.0)
    origin = (cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0)
    assert store.cell_counts(origin=origin, cell_m=250.0, sources=["mains_courantes"]) is None
    assert store.cell_counts(origin=origin, cell_m=250.0, sources=["verbalisations"]) is not None
    # A hold without a source touches every source.
    holds.add(reason="r", reference="y", actor="user:dpo", now=now, start=date(2023, 1, 1), end=date(2023, 2, 1))
    assert_same(store, city, themes=THEMES[:1], periods=PERIODS[1:2])


@pytest.mark.capability("rollups")
def test_after_a_purge_the_capabilities_follow_the_events(root: Path, factory: StoreFactory, city: CityProfile,
                                                          tmp_path: Path) -> None:
    now = datetime(2025, 2, 20, 13, 37, tzinfo=UTC)
    retention = Retention({"mains_courantes": 400, "verbalisations": 2000}, Holds(tmp_path / "holds.json"))
    store = factory(root, city, clock=Clock(now), retention=retention)
    report = purge(store, retention, now=now)
    assert report.events_removed > 0
    assert_same(store, city, periods=PERIODS[:3])
    # Without the retention rule, the capabilities now count exactly what is left in the store.
    assert_same(factory(root, city), city, themes=THEMES[1:2], periods=PERIODS[1:2])


@pytest.mark.capability("rollups")
def test_whole_months_come_from_the_cell_rollup_and_partial_months_from_the_raw_events(
        master: Path, factory: StoreFactory, city: CityProfile) -> None:
    store = factory(master, city)
    cgrid = city_grid(city, 500.0)
    periods = [(date(2023, 2, 1), date(2024, 8, 1)),      # whole months only
               (date(2023, 2, 14), date(2024, 8, 1)),     # a partial month at the start
               (date(2023, 2, 1), date(2024, 7, 31)),     # ... at the end
               (date(2024, 7, 3), date(2024, 7, 29)),     # inside one month: all raw
               (date(2024, 6, 30), date(2024, 8, 2))]     # one whole month and a day either side
    origin = (cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0)
    for start, end in periods:
        got = grid_counts(store, cgrid, start=start, end=end, sources=["mains_courantes"])
        want = query_cell_counts(store.events(), cgrid, start=start, end=end, sources=["mains_courantes"])
        assert got[1] == want[1] and np.array_equal(got[0], want[0]), (start, end)
        rolled = store.cell_counts(origin=origin, cell_m=500.0, start=start, end=end, sources=["mains_courantes"])
        assert got[0].sum() > 0
        # whole months from the rollup; a period under two years with partial months at its edges is one raw
        # scan (MIN_MIXED_MONTHS: cheaper than the mix); inside one month, the raw days alone
        aligned, one_month = start.day == 1 and end.day == 1, (start.year, start.month) == (end.year, end.month)
        assert (rolled is not None) == (aligned or one_month), (start, end)
        if rolled is not None:
            assert rolled.factor == 2
            raw = rolled.cells.filter(pc.is_null(rolled.cells["cx"]))        # rows taken from the raw events
            assert (raw.num_rows > 0) == (not aligned), (start, end)
    assert not answered(store, city_grid(city, 300.0))                          # not a multiple of 250 m


@pytest.mark.parametrize("method", ["gi_star", "kde"])
def test_the_hotspot_route_writes_the_body_its_response_model_would(master: Path, factory: StoreFactory,
                                                                     city: CityProfile, method: str) -> None:
    import orjson

    from observatoire.analytics.places import cell_counts, kde_cells, masked_gi_star, query_placed
    from observatoire.api.deps import GridCache, StoreReader
    from observatoire.api.models import (HotspotFeature, HotspotParameters, HotspotProperties, Hotspots,
                                         Period)
    from observatoire.api.routes.cells import filters_echo, finite, grid_info, polygons
    from observatoire.api.routes.hotspots import hotspots

    store = factory(master, city)
    filters = CountFilters(date(2023, 2, 1), date(2024, 8, 1), ("mains_courantes",), ())
    grids = GridCache(city)
    body = orjson.loads(hotspots(city, StoreReader(store), grids, filters, method=method, cell_m=500.0,
                                 alpha=0.05, bandwidth_m=800.0, seed=0).body)
    assert grids.cells(500.0) is grids.cells(500.0)                             # the polygons are built once
    # The same response the way the route built it before: one model per cell, validated.
    cgrid = city_grid(city, 500.0)
    active = cgrid.active_cells
    scope = dict(start=filters.start, end=filters.end, sources=["mains_courantes"], categories=None)
    if method == "gi_star":
        counts, outside = query_cell_counts(store.events(), cgrid, **scope)
        gi = masked_gi_star(counts, cgrid.grid, alpha=0.05)
        props = [HotspotProperties(cell=int(c), count=int(counts[c]), z=finite(gi.z[c]),
                                   p_adjusted=finite(gi.p_adjusted[c]), hot=bool(gi.hot[c]), cold=bool(gi.cold[c]))
                 for c in active]
        hot, kde_points = int(gi.hot.sum()), None
    else:
        placed = query_placed(store.events(), cgrid, **scope)
        counts, outside = cell_counts(placed.events, cgrid.grid), placed.outside
        density, kde_points = kde_cells(placed.events, cgrid.grid, 800.0, np.random.default_rng(0))
        props = [HotspotProperties(cell=int(c), count=int(counts[c]), density=round(float(density[c]), 4))
                 for c in active]
        hot = 0
    want = Hotspots(
        features=[HotspotFeature(id=p.cell, properties=p, geometry=g) for p, g in zip(props, polygons(cgrid, active))],
        period=Period(start="2023-02-01", end="2024-08-01"), filters=filters_echo(filters),
        parameters=HotspotParameters(method=method, cell_m=500.0, alpha=0.05, bandwidth_m=800.0, seed=0),
        grid=grid_info(cgrid), located=int(counts.sum()) + outside, outside=outside, hot_cells=hot,
        kde_points=kde_points, attribution=city.attribution)
    assert counts.sum() > 0
    assert body == orjson.loads(want.model_dump_json())
    assert list(body) == list(Hotspots.model_fields)
    assert list(body["features"][0]["properties"]) == list(HotspotProperties.model_fields)
