"""One contract, run against every registered forecaster."""

from __future__ import annotations

import numpy as np
import pytest

from observatoire.analytics.forecast import FORECASTERS, Grid, get_forecaster, grid_from_bbox, simulate_st_etas


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
