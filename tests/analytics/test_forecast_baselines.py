"""Baselines on hand-computed toy inputs: naive, historical average, prospective hot-spotting."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from observatoire.analytics.forecast import (
    EventArrays,
    Grid,
    HistoricalAverage,
    Naive,
    Prospective,
    grid_from_bbox,
)
from observatoire.errors import InputError

RNG = np.random.default_rng(0)
R = 1.0 / (1.0 + np.sqrt(2.0))  # weight of a diagonal neighbour


@pytest.fixture
def grid() -> Grid:
    return grid_from_bbox(0.0, 0.0, 300.0, 300.0, 100.0)


def _events(grid: Grid, t: list[float], cells: list[int]) -> EventArrays:
    cx, cy = grid.centres()
    c = np.array(cells)
    return EventArrays(np.array(t), cx[c], cy[c], c)


@pytest.fixture
def toy(grid: Grid) -> EventArrays:
    # cell 0: days 1, 8, 9.5; cell 4: days 2, 5, 7; cell 8: day 9.99; one event after the window (day 10)
    return _events(grid, [1.0, 8.0, 9.5, 2.0, 5.0, 7.0, 9.99, 10.0], [0, 0, 0, 4, 4, 4, 8, 8])


def test_when_naive_then_scores_are_the_counts_of_the_last_period(grid: Grid, toy: EventArrays) -> None:
    f = Naive().fit_predict(toy, grid, start=0.0, end=10.0, horizon=3.0, rng=RNG)
    assert f.method == "naive" and dict(f.params) == {}
    # [7, 10): cell 0 -> 8, 9.5; cell 4 -> 7; cell 8 -> 9.99 (day 10 is not training)
    assert_array_equal(f.scores, [2, 0, 0, 0, 1, 0, 0, 0, 1])


def test_when_historical_average_then_scores_are_mean_counts_per_period(grid: Grid, toy: EventArrays) -> None:
    f = HistoricalAverage().fit_predict(toy, grid, start=0.0, end=10.0, horizon=2.0, rng=RNG)
    # five periods of two days: 3, 3 and 1 events
    assert_allclose(f.scores, [0.6, 0, 0, 0, 0.6, 0, 0, 0, 0.2])


def test_when_start_is_later_then_historical_average_ignores_older_events(grid: Grid, toy: EventArrays) -> None:
    f = HistoricalAverage().fit_predict(toy, grid, start=5.0, end=10.0, horizon=2.5, rng=RNG)
    assert_allclose(f.scores, [1.0, 0, 0, 0, 1.0, 0, 0, 0, 0.5])


def test_when_prospective_on_a_3x3_toy_then_scores_match_the_hand_computation(grid: Grid) -> None:
    # A: corner cell 0, age 1 day (week 0, weight 1); B: centre, age 14 days (week 2, weight 1/3);
    # C: cell 8, age 28 days = outside a 4-week window.
    ev = _events(grid, [27.0, 14.0, 0.0], [0, 4, 8])
    f = Prospective(bandwidth_cells=1.5, window_weeks=4.0).fit_predict(ev, grid, start=0.0, end=28.0, horizon=7.0,
                                                                       rng=RNG)
    expected = [1 + R / 3, 1 / 2 + 1 / 6, R / 3,
                1 / 2 + 1 / 6, R + 1 / 3, 1 / 6,
                R / 3, 1 / 6, R / 3]
    assert_allclose(f.scores, expected)
    assert f.params == {"bandwidth_cells": 1.5, "window_weeks": 4.0, "week_days": 7.0}


def test_when_prospective_bandwidth_is_zero_then_only_the_own_cell_scores(grid: Grid) -> None:
    ev = _events(grid, [27.0, 20.5, 9.0], [3, 3, 5])
    f = Prospective(bandwidth_cells=0.0).fit_predict(ev, grid, start=0.0, end=28.0, horizon=7.0, rng=RNG)
    assert_allclose(f.scores, [0, 0, 0, 1 + 1 / 2, 0, 1 / 3, 0, 0, 0])


def test_when_cells_are_masked_then_baselines_score_them_zero() -> None:
    mask = np.ones(9, dtype=bool)
    mask[1] = False
    g = grid_from_bbox(0.0, 0.0, 300.0, 300.0, 100.0, mask=mask)
    ev = _events(g, [9.0], [0])
    f = Prospective(bandwidth_cells=1.0).fit_predict(ev, g, start=0.0, end=10.0, horizon=7.0, rng=RNG)
    assert f.scores[1] == 0.0 and f.scores[3] == 0.5


def test_when_prospective_parameters_are_negative_then_input_error(grid: Grid, toy: EventArrays) -> None:
    with pytest.raises(InputError):
        Prospective(bandwidth_cells=-1.0).fit_predict(toy, grid, start=0.0, end=10.0, horizon=2.0, rng=RNG)
