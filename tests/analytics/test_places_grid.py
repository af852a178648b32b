"""analytics/places.py: the city grid, events placed on it from an Ibis table, masked Gi*; capped forecasts and
backtests on the active cells."""

from __future__ import annotations

from datetime import UTC, date, datetime

import ibis
import numpy as np
import pyarrow as pa
import pytest
import shapely

from observatoire.analytics.evaluate import rolling_origin_backtest
from observatoire.analytics.forecast import CappedForecaster, EventArrays, Grid, get_forecaster
from observatoire.analytics.hotspots import gi_star
from observatoire.analytics.places import (
    cell_counts,
    city_grid,
    days_since,
    masked_gi_star,
    query_placed,
    select_cells,
)
from observatoire.city.geo import from_local_metres
from observatoire.city.profile import CityProfile, load_city
from observatoire.errors import InputError


@pytest.fixture(scope="module")
def city() -> CityProfile:
    return load_city()


def _events(city: CityProfile) -> ibis.Table:
    inside = [z.geometry.representative_point() for z in city.zones[:3]]
    rows = [
        # (occurred_at, source, category, lon, lat)
        (datetime(2024, 1, 1, 12, tzinfo=UTC), "a", "theft", inside[0].x, inside[0].y),
        (datetime(2024, 1, 2, 0, tzinfo=UTC), "a", "theft", inside[0].x, inside[0].y),
        (datetime(2024, 1, 3, 6, tzinfo=UTC), "b", "violence", inside[1].x, inside[1].y),
        (datetime(2024, 1, 4, 0, tzinfo=UTC), "a", "violence", inside[2].x, inside[2].y),
        (datetime(2024, 1, 5, 0, tzinfo=UTC), "a", "theft", None, None),            # no point
        (datetime(2024, 1, 5, 0, tzinfo=UTC), "a", "theft", 4.0, 45.0),             # far outside the city
        (datetime(2024, 2, 1, 0, tzinfo=UTC), "a", "theft", inside[0].x, inside[0].y),  # after the period
    ]
    cols = list(zip(*rows, strict=True))
    return ibis.memtable(pa.table({
        "occurred_at": pa.array(cols[0], pa.timestamp("us", tz="UTC")),
        "source": cols[1], "category": cols[2],
        "lon": pa.array(cols[3], pa.float64()), "lat": pa.array(cols[4], pa.float64()),
    }))


def test_when_grid_built_then_mask_keeps_cells_meeting_the_outline(city: CityProfile) -> None:
    cg = city_grid(city, 500.0)
    g = cg.grid
    rings = cg.cell_rings(np.arange(g.n_cells))
    cells = shapely.polygons(rings)
    share = shapely.area(shapely.intersection(city.outline, cells)) / shapely.area(cells)
    # Every cell of the study area meets the city (up to a sliver lost to rounding the rings to 1e-6 degree).
    assert (share[g.active] > 0).mean() > 0.99
    assert g.active[share > 1e-3].all()              # every cell with a real part of the city is in it
    # The active cells cover the outline: their area is at least the city's, and not much more.
    assert shapely.union_all(cells[g.active]).contains(city.outline.buffer(-1e-6))
    # Cells are 500 m squares (equirectangular: under 0.1 % error).
    lon, lat = from_local_metres(np.array([g.x0, g.x0 + 500.0]), np.array([g.y0, g.y0]), cg.lon0, cg.lat0)
    assert lon[1] > lon[0] and lat[1] == pytest.approx(lat[0])


@pytest.mark.parametrize("cell_m", [0.0, 10.0, float("nan"), 1e6])
def test_when_cell_size_out_of_range_then_input_error(city: CityProfile, cell_m: float) -> None:
    with pytest.raises(InputError, match="cell_m"):
        city_grid(city, cell_m)


def test_when_events_queried_then_period_filters_and_points_apply(city: CityProfile) -> None:
    cg = city_grid(city, 250.0)
    placed = query_placed(_events(city), cg, start=date(2024, 1, 1), end=date(2024, 2, 1), sources=["a"])
    # Four located "a" events in January, one of them far outside the city.
    assert len(placed.events) == 3 and placed.outside == 1
    assert placed.events.t.tolist() == [0.5, 1.0, 3.0]
    assert (cg.grid.active[placed.events.cell]).all()
    assert cell_counts(placed.events, cg.grid).sum() == 3
    only_violence = query_placed(_events(city), cg, start=None, end=None, categories=["violence"])
    assert len(only_violence.events) == 2


def test_when_days_since_then_exact_fractions_of_a_day() -> None:
    ts = pa.array([datetime(2024, 3, 1, 18, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))
    assert days_since(ts, datetime(2024, 2, 28, tzinfo=UTC)).tolist() == [2.75]   # 2024 is a leap year
    with pytest.raises(InputError):
        days_since(ts, datetime(2024, 2, 28))


def test_when_mask_keeps_every_cell_then_masked_gi_star_equals_gi_star() -> None:
    rng = np.random.default_rng(3)
    x = rng.poisson(2.0, (6, 8)).astype(float)
    x[2, 3] = 25.0
    mine = masked_gi_star(x.ravel(), Grid(0.0, 0.0, 1.0, 8, 6))
    ref = gi_star(x, "queen", alpha=0.05)
    np.testing.assert_allclose(mine.z, ref.z.ravel())
    np.testing.assert_allclose(mine.p_adjusted, ref.p_adjusted.ravel())
    assert np.array_equal(mine.hot, ref.hot.ravel())


def test_when_cells_masked_then_they_are_neither_zeros_nor_neighbours() -> None:
    x = np.zeros((3, 4))
    x[1, 1] = 10.0
    x[:, 3] = 99.0                              # masked out: must not count anywhere
    mask = np.ones((3, 4), bool)
    mask[:, 3] = False
    grid = Grid(0.0, 0.0, 1.0, 4, 3, mask.ravel())
    mine = masked_gi_star(x.ravel(), grid)
    ref = gi_star(x[:, :3], "queen")
    np.testing.assert_allclose(mine.z.reshape(3, 4)[:, :3], ref.z)
    assert np.isnan(mine.z.reshape(3, 4)[:, 3]).all() and not mine.hot.reshape(3, 4)[:, 3].any()


def _poisson_events(grid: Grid, days: int, rng: np.random.Generator) -> EventArrays:
    rate = rng.gamma(0.5, 2.0, grid.n_cells) * grid.active
    counts = rng.poisson(rate * days / 30.0)
    cell = np.repeat(np.arange(grid.n_cells), counts)
    t = rng.uniform(0, days, cell.size)
    order = np.argsort(t)
    cx, cy = grid.centres()
    return EventArrays(t[order], cx[cell[order]], cy[cell[order]], cell[order])


def test_when_capped_then_only_the_most_recent_events_train() -> None:
    grid = Grid(0.0, 0.0, 100.0, 10, 10)
    events = _poisson_events(grid, 100, np.random.default_rng(1))
    capped = CappedForecaster(get_forecaster("historical_average"), 200)
    start = capped.effective_start(events, start=0.0, end=100.0, horizon=7.0)
    assert ((events.t >= start) & (events.t < 100.0)).sum() == 200
    result = capped.fit_predict(events, grid, start=0.0, end=100.0, horizon=7.0, rng=np.random.default_rng(0))
    assert result.params["train_start"] == start
    uncapped = CappedForecaster(get_forecaster("historical_average"), 10**6)
    assert uncapped.effective_start(events, start=0.0, end=100.0, horizon=7.0) == 0.0


def test_when_backtest_on_active_then_area_is_the_mask_and_baseline_beside() -> None:
    mask = np.ones(100, bool)
    mask[:40] = False
    grid = Grid(0.0, 0.0, 100.0, 10, 10, mask)
    events = _poisson_events(grid, 120, np.random.default_rng(2))
    rows = rolling_origin_backtest(
        get_forecaster("historical_average"), events, grid, np.ones(grid.n_cells), [100.0, 107.0], 7.0, 0.1,
        np.random.default_rng(0), train_window=60.0, baseline=get_forecaster("naive"),
        method="historical_average", baseline_method="naive", study_area=grid.active).to_pylist()
    assert [r["method"] for r in rows] == ["historical_average", "naive"] * 2
    assert all(r["area_share"] == pytest.approx(6 / 60) for r in rows)    # 6 of the 60 active cells
    chosen = select_cells(np.arange(100.0), grid, 0.1, np.random.default_rng(0))
    assert chosen.tolist() == [99, 98, 97, 96, 95, 94]


@pytest.mark.parametrize("cell_m, cells", [(50.0, 200_232), (75.0, 89_100)])
def test_a_grid_too_fine_for_one_answer_is_refused_with_the_finest_that_is_not(cell_m: float, cells: int) -> None:
    from observatoire.analytics.places import MAX_GRID_CELLS

    city = load_city()
    with pytest.raises(InputError, match=f"{cells:,} cells") as err:
        city_grid(city, cell_m)
    finest = float(str(err.value).rsplit(" ", 1)[-1])
    assert city_grid(city, finest).grid.n_cells <= MAX_GRID_CELLS
    assert city_grid(city, 100.0).grid.n_cells == 50_058
