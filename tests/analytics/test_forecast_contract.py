"""One contract, run against every registered forecaster and a sample plug-in.

Any class implementing ``Forecaster`` must: pass the registry's protocol check; return a
``Forecast`` named after it with one finite, non-negative score per cell (row-major, also on a
grid that is not square), 0 outside the mask; refuse events outside the grid or its mask; give the
same forecast for the same events and seed, without touching the caller's arrays; and refuse,
with an ``InputError``, what is not in days and metres (``datetime64`` times, ``timedelta64`` spans,
positions in degrees). A plug-in author can run this file against a class by adding it to ``CLASSES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from observatoire.analytics.forecast import (
    FORECASTERS,
    EventArrays,
    Forecast,
    Grid,
    MethodDefaults,
    get_forecaster,
    grid_from_bbox,
    method_defaults,
    simulate_st_etas,
    training_events,
)
from observatoire.analytics.forecast.registry import protocol_problems
from observatoire.errors import InputError


@dataclass(frozen=True)
class BaggedRecency:
    """A sample plug-in, random on purpose: exponentially decayed counts, averaged over bootstrap resamples."""

    half_life: float = 14.0
    resamples: int = 20
    name: ClassVar[str] = "bagged_recency"
    defaults: ClassVar[MethodDefaults] = MethodDefaults(50_000, {"resamples": 10})

    def fit_predict(self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float,
                    rng: np.random.Generator) -> Forecast:
        train = training_events(events, grid, start=start, end=end, horizon=horizon)
        weight = 0.5 ** ((end - train.t) / self.half_life)
        draws = rng.integers(0, len(train), size=(self.resamples, len(train)))
        scores = np.mean([np.bincount(train.cell[d], weights=weight[d], minlength=grid.n_cells) for d in draws], axis=0)
        return Forecast(self.name, np.where(grid.active, scores * horizon / self.half_life, 0.0),
                        {"half_life": self.half_life})


CLASSES = [*FORECASTERS.values(), BaggedRecency]
IDS = [cls.name for cls in CLASSES]


@pytest.fixture(scope="module")
def masked_grid() -> Grid:
    mask = np.ones(100, dtype=bool)
    mask[[0, 1, 10, 99]] = False
    return grid_from_bbox(0.0, 0.0, 1000.0, 1000.0, 100.0, mask=mask)


@pytest.fixture(scope="module")
def sim(masked_grid: Grid):
    mu = np.linspace(0.01, 0.1, masked_grid.n_cells)
    return simulate_st_etas(masked_grid, mu, theta=0.4, omega=2.0, sigma=60.0, duration=120.0,
                            rng=np.random.default_rng(7))


HOT = 12          # column 5, row 1 of the oblong grid (transposed, 5 * 4 + 1 = 21, is masked)


@pytest.fixture(scope="module")
def oblong() -> tuple[Grid, EventArrays]:
    """7 columns by 4 rows, two cells masked; one event in every active cell, and a steady stream in ``HOT``."""
    mask = np.ones(28, dtype=bool)
    mask[[6, 21]] = False
    grid = grid_from_bbox(0.0, 0.0, 700.0, 400.0, 100.0, mask=mask)
    gen = np.random.default_rng(11)
    cells = np.r_[np.flatnonzero(mask), np.full(40, HOT)]
    t = np.r_[np.linspace(2.0, 60.0, int(mask.sum())), np.sort(gen.uniform(5.0, 80.0, 40))]
    cx, cy = grid.centres()
    x = cx[cells] + gen.uniform(-20.0, 20.0, cells.size)
    y = cy[cells] + gen.uniform(-20.0, 20.0, cells.size)
    order = np.argsort(t)
    return grid, EventArrays(t[order], x[order], y[order], cells[order])


@pytest.mark.parametrize("name", sorted(FORECASTERS))
def test_when_any_forecaster_runs_then_scores_are_finite_nonnegative_and_zero_off_the_mask(
    name: str, masked_grid: Grid, sim
) -> None:
    before = sim.events.t.copy()
    f = get_forecaster(name).fit_predict(sim.events, masked_grid, start=10.0, end=100.0, horizon=7.0,
                                         rng=np.random.default_rng(1))
    assert f.method == name == FORECASTERS[name].name
    assert f.scores.shape == (masked_grid.n_cells,)
    assert np.isfinite(f.scores).all() and (f.scores >= 0).all()
    assert (f.scores[~masked_grid.active] == 0).all()
    assert f.scores.sum() > 0
    assert all(np.isfinite(v) for v in f.params.values())
    np.testing.assert_array_equal(sim.events.t, before)


@pytest.mark.parametrize("name", sorted(FORECASTERS))
def test_when_run_twice_then_the_forecast_is_the_same(name: str, masked_grid: Grid, sim) -> None:
    a, b = (get_forecaster(name).fit_predict(sim.events, masked_grid, start=0.0, end=90.0, horizon=3.0,
                                             rng=np.random.default_rng(s)) for s in (1, 2))
    np.testing.assert_array_equal(a.scores, b.scores)


# --------------------------------------------------------------------------- every class, plug-ins included


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_when_a_class_is_checked_then_it_passes_the_protocol_and_builds_from_its_defaults(cls: type) -> None:
    assert protocol_problems(cls) == []
    defaults = method_defaults(cls)
    assert isinstance(defaults, MethodDefaults) and defaults.max_train_events >= 1
    assert cls(**defaults.settings).name == cls.name


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_when_fitted_on_an_oblong_grid_then_one_score_per_cell_row_major_zero_off_the_mask(
    cls: type, oblong: tuple[Grid, EventArrays]
) -> None:
    grid, events = oblong
    f = cls(**method_defaults(cls).settings).fit_predict(events, grid, start=0.0, end=80.0, horizon=7.0,
                                                         rng=np.random.default_rng(3))
    assert isinstance(f, Forecast) and f.method == cls.name
    assert f.scores.shape == (grid.n_cells,) and f.scores.dtype == np.float64
    assert np.isfinite(f.scores).all() and (f.scores >= 0).all()
    assert (f.scores[~grid.active] == 0).all() and f.scores[grid.active].sum() > 0
    assert all(np.isfinite(float(v)) for v in f.params.values())
    assert int(np.argmax(f.scores)) == HOT                 # cells are numbered iy * nx + ix, not swapped


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_when_the_seed_is_the_same_then_the_forecast_is_the_same_and_the_events_untouched(
    cls: type, masked_grid: Grid, sim
) -> None:
    before = [a.copy() for a in (sim.events.t, sim.events.x, sim.events.y, sim.events.cell)]
    a, b = (cls().fit_predict(sim.events, masked_grid, start=5.0, end=95.0, horizon=7.0,
                              rng=np.random.default_rng(2024)) for _ in range(2))
    np.testing.assert_array_equal(a.scores, b.scores)
    assert dict(a.params) == dict(b.params)
    for was, now in zip(before, (sim.events.t, sim.events.x, sim.events.y, sim.events.cell), strict=True):
        np.testing.assert_array_equal(was, now)


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_when_an_event_lies_outside_the_mask_then_it_is_refused(cls: type, masked_grid: Grid) -> None:
    cx, cy = masked_grid.centres()
    cells = np.array([0, 55, 55, 56])                 # cell 0 is masked
    ev = EventArrays([1.0, 3.0, 8.0, 9.0], cx[cells], cy[cells], cells)
    with pytest.raises(InputError, match="outside the grid"):
        cls().fit_predict(ev, masked_grid, start=0.0, end=10.0, horizon=2.0, rng=np.random.default_rng(0))


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_when_times_are_calendar_dates_not_days_then_refused(cls: type, masked_grid: Grid, sim) -> None:
    ev = sim.events
    dated = EventArrays(np.datetime64("2024-01-01T00:00") + np.round(ev.t * 1440).astype("timedelta64[m]"),
                        ev.x, ev.y, ev.cell)
    with pytest.raises(InputError, match="float days"):
        cls().fit_predict(dated, masked_grid, start=0.0, end=90.0, horizon=7.0, rng=np.random.default_rng(0))


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
@pytest.mark.parametrize("bad", [{"horizon": np.timedelta64(7, "D")}, {"end": np.datetime64("2024-04-01")},
                                 {"start": True}])
def test_when_spans_are_not_numbers_of_days_then_refused(cls: type, masked_grid: Grid, sim, bad: dict) -> None:
    window = {"start": 0.0, "end": 90.0, "horizon": 7.0} | bad
    with pytest.raises(InputError, match="number of days"):
        cls().fit_predict(sim.events, masked_grid, **window, rng=np.random.default_rng(0))


@pytest.mark.parametrize("cls", CLASSES, ids=IDS)
def test_when_positions_are_degrees_not_metres_then_refused(cls: type, masked_grid: Grid, sim) -> None:
    ev = sim.events
    degrees = EventArrays(ev.t, 5.37 + ev.x / 80_000.0, 43.29 + ev.y / 111_000.0, ev.cell)
    with pytest.raises(InputError, match="metres"):
        cls().fit_predict(degrees, masked_grid, start=0.0, end=90.0, horizon=7.0, rng=np.random.default_rng(0))
