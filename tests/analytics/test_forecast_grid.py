"""Grid helpers and input checks shared by every forecaster."""

from __future__ import annotations

import numpy as np
import pytest

from observatoire.analytics.forecast import (
    FORECASTERS,
    EventArrays,
    Grid,
    assign_cells,
    get_forecaster,
    grid_from_bbox,
    training_events,
)
from observatoire.errors import InputError


@pytest.fixture
def grid() -> Grid:
    return grid_from_bbox(0.0, 0.0, 300.0, 300.0, 100.0)


@pytest.fixture
def events(grid: Grid) -> EventArrays:
    t = np.array([0.5, 3.0, 5.5, 9.0, 9.5])
    x = np.array([50.0, 150.0, 150.0, 250.0, 50.0])
    y = np.array([50.0, 150.0, 150.0, 250.0, 250.0])
    return EventArrays.on_grid(t, x, y, grid)


def test_when_bbox_is_not_a_multiple_of_the_cell_then_the_grid_covers_it() -> None:
    g = grid_from_bbox(10.0, 20.0, 1010.0, 470.0, 200.0)
    assert (g.nx, g.ny, g.n_cells) == (5, 3, 15)
    assert g.cell_area == 40_000.0


def test_when_points_are_assigned_then_cells_are_row_major_and_outside_is_minus_one(grid: Grid) -> None:
    x = np.array([50.0, 250.0, 50.0, 300.0, 300.01, -5.0, np.nan])
    y = np.array([50.0, 50.0, 250.0, 300.0, 10.0, 10.0, 10.0])
    assert assign_cells(grid, x, y).tolist() == [0, 2, 6, 8, -1, -1, -1]


def test_when_a_mask_excludes_a_cell_then_its_points_are_outside() -> None:
    mask = np.ones(9, dtype=bool)
    mask[4] = False
    g = grid_from_bbox(0.0, 0.0, 300.0, 300.0, 100.0, mask=mask)
    assert assign_cells(g, np.array([150.0, 50.0]), np.array([150.0, 50.0])).tolist() == [-1, 0]


def test_when_centres_are_asked_then_they_follow_the_cell_order(grid: Grid) -> None:
    cx, cy = grid.centres()
    np.testing.assert_array_equal(assign_cells(grid, cx, cy), np.arange(9))


def test_when_caller_arrays_change_then_event_arrays_do_not() -> None:
    t = np.array([1.0, 2.0])
    ev = EventArrays(t, [0.0, 0.0], [0.0, 0.0], [0, 0])
    t[0] = 99.0
    assert ev.t[0] == 1.0
    with pytest.raises(ValueError):
        ev.t[0] = 5.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": 5.0, "end": 5.0, "horizon": 1.0}, "training window is empty"),
        ({"start": 0.0, "end": 10.0, "horizon": 0.0}, "horizon must be a positive"),
        ({"start": 0.0, "end": 10.0, "horizon": 20.0}, "horizon is longer than the training window"),
        ({"start": 0.0, "end": 40.0, "horizon": 7.0}, "training window ends after the data"),
        ({"start": 20.0, "end": 30.0, "horizon": 30.0}, "horizon is longer"),
        ({"start": 0.0, "end": float("nan"), "horizon": 1.0}, "finite"),
    ],
)
def test_when_window_or_horizon_is_unusable_then_input_error(
    events: EventArrays, grid: Grid, kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        training_events(events, grid, **kwargs)


def test_when_no_event_falls_in_the_training_window_then_input_error(grid: Grid) -> None:
    ev = EventArrays([50.0, 51.0], [50.0, 50.0], [50.0, 50.0], [0, 0])
    with pytest.raises(InputError, match="no event in the training window"):
        training_events(ev, grid, start=0.0, end=45.0, horizon=5.0)


def test_when_there_are_no_events_at_all_then_input_error(grid: Grid) -> None:
    ev = EventArrays([], [], [], [])
    with pytest.raises(InputError):
        training_events(ev, grid, start=0.0, end=10.0, horizon=1.0)


@pytest.mark.parametrize("bad_cell", [-1, 9, 1000])
def test_when_an_event_lies_outside_the_grid_then_input_error(events: EventArrays, grid: Grid, bad_cell: int) -> None:
    ev = EventArrays(events.t, events.x, events.y, np.r_[events.cell[:-1], bad_cell])
    with pytest.raises(InputError, match="outside the grid"):
        training_events(ev, grid, start=0.0, end=10.0, horizon=2.0)


def test_when_building_events_from_points_outside_the_grid_then_input_error(grid: Grid) -> None:
    with pytest.raises(InputError, match="1 event"):
        EventArrays.on_grid([1.0, 2.0], [50.0, 500.0], [50.0, 50.0], grid)


def test_when_an_event_is_outside_the_mask_then_every_forecaster_refuses_it() -> None:
    mask = np.ones(9, dtype=bool)
    mask[0] = False
    g = grid_from_bbox(0.0, 0.0, 300.0, 300.0, 100.0, mask=mask)
    ev = EventArrays([1.0, 9.0], [50.0, 150.0], [50.0, 150.0], [0, 4])
    for name in FORECASTERS:
        with pytest.raises(InputError, match="outside the grid"):
            get_forecaster(name).fit_predict(ev, g, start=0.0, end=10.0, horizon=2.0, rng=np.random.default_rng(0))


@pytest.mark.parametrize("kwargs", [{"nx": 0}, {"cell_size": 0.0}, {"cell_size": float("inf")}, {"mask": np.zeros(9, bool)}])
def test_when_grid_is_degenerate_then_input_error(kwargs: dict) -> None:
    base = {"x0": 0.0, "y0": 0.0, "cell_size": 100.0, "nx": 3, "ny": 3}
    with pytest.raises(InputError):
        Grid(**(base | kwargs))


def test_when_bbox_is_inverted_then_input_error() -> None:
    with pytest.raises(InputError):
        grid_from_bbox(10.0, 0.0, 0.0, 10.0, 1.0)


def test_when_forecaster_name_is_unknown_then_the_error_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="grid_etas"):
        get_forecaster("crystal_ball")
    with pytest.raises(InputError, match="bad parameters"):
        get_forecaster("naive", bandwidth=3)
