"""Baseline forecasts: the last period, the historical average, prospective hot-spotting.

References
----------
Bowers, K. J., Johnson, S. D. & Pease, K. (2004). Prospective hot-spotting: the
future of crime mapping? *British Journal of Criminology* 44(5), 641-658.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from observatoire.analytics.forecast.grid import EventArrays, Forecast, Grid, MethodDefaults, training_events
from observatoire.errors import InputError


def _masked(grid: Grid, scores: np.ndarray) -> np.ndarray:
    return np.where(grid.active, scores, 0.0)


def naive_scores(events: EventArrays, grid: Grid, *, end: float, horizon: float) -> np.ndarray:
    """Count of events per cell in the last period ``[end - horizon, end)``.

    Examples
    --------
    >>> from observatoire.analytics.forecast.grid import grid_from_bbox
    >>> g = grid_from_bbox(0, 0, 2, 1, 1)
    >>> ev = EventArrays([0.5, 8.0, 9.5], [0.5, 1.5, 1.5], [0.5, 0.5, 0.5], [0, 1, 1])
    >>> naive_scores(ev, g, end=10.0, horizon=5.0).tolist()
    [0.0, 2.0]
    """
    last = (events.t >= end - horizon) & (events.t < end)
    return _masked(grid, np.bincount(events.cell[last], minlength=grid.n_cells).astype(float))


def historical_average_scores(events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float) -> np.ndarray:
    """Mean count per period of length ``horizon`` over ``[start, end)``: ``count * horizon / (end - start)``.

    When ``end - start`` is not a whole number of periods this is the rate over
    the whole window times the horizon, so no event is dropped.
    """
    window = (events.t >= start) & (events.t < end)
    counts = np.bincount(events.cell[window], minlength=grid.n_cells).astype(float)
    return _masked(grid, counts * (horizon / (end - start)))


def prospective_scores(
    events: EventArrays,
    grid: Grid,
    *,
    end: float,
    bandwidth_cells: float = 3.0,
    window_weeks: float = 8.0,
    week_days: float = 7.0,
) -> np.ndarray:
    """Prospective hot-spotting score of every cell (Bowers, Johnson & Pease 2004).

    Each event ``i`` with age ``a_i = end - t_i`` in ``[0, window_weeks * week_days)``
    adds to every cell ``c`` whose centre lies within ``bandwidth_cells`` cells
    of the centre of its cell:

    .. math:: s_c = \\sum_i \\frac{1}{1 + d_{ic}} \\cdot \\frac{1}{1 + w_i},

    where ``d_ic`` is the Euclidean distance between cell centres in cell units
    and ``w_i = floor(a_i / week_days)`` the age in whole weeks (an event of
    this week has ``w = 0``). The score is a relative risk, not a count.

    Examples
    --------
    One event this week in the centre of a 3x3 grid, bandwidth 1 cell: the
    centre scores 1, the four edge-adjacent cells 1/2, the corners
    (distance sqrt 2 > 1) nothing.

    >>> from observatoire.analytics.forecast.grid import grid_from_bbox
    >>> g = grid_from_bbox(0, 0, 3, 3, 1)
    >>> ev = EventArrays([9.0], [1.5], [1.5], [4])
    >>> prospective_scores(ev, g, end=10.0, bandwidth_cells=1.0).reshape(3, 3).tolist()
    [[0.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 0.0]]
    """
    if not (bandwidth_cells >= 0 and window_weeks > 0 and week_days > 0):
        raise InputError("prospective needs bandwidth_cells >= 0, window_weeks > 0 and week_days > 0")
    age = end - events.t
    recent = (age >= 0) & (age < window_weeks * week_days)
    weeks = np.floor(age[recent] / week_days)
    # Time weights summed per cell, then spread by the (small) spatial kernel.
    heat = np.bincount(events.cell[recent], weights=1.0 / (1.0 + weeks), minlength=grid.n_cells)
    heat = heat.reshape(grid.ny, grid.nx)
    reach = int(np.floor(bandwidth_cells))
    out = np.zeros_like(heat)
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            d = float(np.hypot(dx, dy))
            if d > bandwidth_cells:
                continue
            ys, yd = (slice(0, grid.ny - dy), slice(dy, grid.ny)) if dy >= 0 else (slice(-dy, grid.ny), slice(0, grid.ny + dy))
            xs, xd = (slice(0, grid.nx - dx), slice(dx, grid.nx)) if dx >= 0 else (slice(-dx, grid.nx), slice(0, grid.nx + dx))
            out[yd, xd] += heat[ys, xs] / (1.0 + d)
    return _masked(grid, out.ravel())


@dataclass(frozen=True)
class Naive:
    """Forecast = count of the last period of length ``horizon``."""

    name: ClassVar[str] = "naive"
    defaults: ClassVar[MethodDefaults] = MethodDefaults()

    def fit_predict(
        self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float, rng: np.random.Generator
    ) -> Forecast:
        train = training_events(events, grid, start=start, end=end, horizon=horizon)
        return Forecast(self.name, naive_scores(train, grid, end=end, horizon=horizon), {})


@dataclass(frozen=True)
class HistoricalAverage:
    """Forecast = mean count per period of length ``horizon`` over the training window."""

    name: ClassVar[str] = "historical_average"
    defaults: ClassVar[MethodDefaults] = MethodDefaults()

    def fit_predict(
        self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float, rng: np.random.Generator
    ) -> Forecast:
        train = training_events(events, grid, start=start, end=end, horizon=horizon)
        return Forecast(self.name, historical_average_scores(train, grid, start=start, end=end, horizon=horizon), {})


@dataclass(frozen=True)
class Prospective:
    """Prospective hot-spotting (Bowers, Johnson & Pease 2004); see :func:`prospective_scores`."""

    bandwidth_cells: float = 3.0
    window_weeks: float = 8.0
    week_days: float = 7.0
    name: ClassVar[str] = "prospective"
    defaults: ClassVar[MethodDefaults] = MethodDefaults()

    def fit_predict(
        self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float, rng: np.random.Generator
    ) -> Forecast:
        train = training_events(events, grid, start=start, end=end, horizon=horizon)
        scores = prospective_scores(
            train, grid, end=end, bandwidth_cells=self.bandwidth_cells,
            window_weeks=self.window_weeks, week_days=self.week_days,
        )
        params = {"bandwidth_cells": self.bandwidth_cells, "window_weeks": self.window_weeks, "week_days": self.week_days}
        return Forecast(self.name, scores, params)
