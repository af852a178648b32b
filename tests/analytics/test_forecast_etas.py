"""Grid and space-time ETAS: simulator, parameter recovery, scores, duplicates.

Recovery tolerances are four standard deviations of the estimates, measured
over 20 seeded replications of exactly these designs (about 1,500 events per
100 days): sd(theta) = 0.020, sd(omega) = 0.55 for grid ETAS; sd(theta) = 0.020,
sd(omega) = 0.43, sd(sigma) = 0.74 m for space-time ETAS. The tests use 300
days (about 4,500 events), so the standard deviations shrink by sqrt(3).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import ndtr

from observatoire.analytics.forecast import (
    EventArrays,
    GridEtas,
    GridEtasFit,
    StEtas,
    fit_grid_etas,
    fit_st_etas,
    grid_etas_scores,
    grid_from_bbox,
    simulate_grid_etas,
    simulate_st_etas,
    st_etas_scores,
)
from observatoire.analytics.forecast.pairs import same_cell_pairs, space_time_pairs
from observatoire.errors import InputError

THETA, OMEGA, SIGMA = 0.5, 10.0, 30.0
DAYS = 300.0
SQRT3 = np.sqrt(3.0)


@pytest.fixture(scope="module")
def grid():
    return grid_from_bbox(0.0, 0.0, 2000.0, 2000.0, 100.0)


@pytest.fixture(scope="module")
def grid_sim(grid):
    mu = np.full(grid.n_cells, 7.5 / grid.n_cells)
    return simulate_grid_etas(grid, mu, theta=THETA, omega=OMEGA, duration=DAYS, rng=np.random.default_rng(11))


@pytest.fixture(scope="module")
def st_sim():
    big = grid_from_bbox(0.0, 0.0, 4000.0, 4000.0, 200.0)  # sigma / side small: few offspring lost at the edges
    mu = np.random.default_rng(5).gamma(2.0, 1.0, big.n_cells)
    mu *= 7.5 / mu.sum()
    return big, simulate_st_etas(big, mu, theta=THETA, omega=OMEGA, sigma=SIGMA, duration=DAYS,
                                 rng=np.random.default_rng(12))


def test_when_simulating_then_counts_match_the_branching_expectation(grid_sim) -> None:
    n = len(grid_sim.events)
    expected = 7.5 * DAYS / (1 - THETA)
    assert abs(n - expected) < 4 * np.sqrt(expected / (1 - THETA) ** 2)  # cluster sizes inflate the variance
    assert (np.diff(grid_sim.events.t) >= 0).all()
    child = grid_sim.parent >= 0
    assert (grid_sim.events.t[grid_sim.parent[child]] <= grid_sim.events.t[child]).all()
    assert (grid_sim.events.cell[grid_sim.parent[child]] == grid_sim.events.cell[child]).all()
    assert (grid_sim.generation[child] == grid_sim.generation[grid_sim.parent[child]] + 1).all()


def test_when_simulating_space_time_then_displacements_have_sd_sigma(st_sim) -> None:
    _, sim = st_sim
    child = sim.parent >= 0
    dx = sim.events.x[child] - sim.events.x[sim.parent[child]]
    delay = sim.events.t[child] - sim.events.t[sim.parent[child]]
    assert abs(dx.std() - SIGMA) < 4 * SIGMA / np.sqrt(2 * child.sum())
    assert abs(delay.mean() - 1 / OMEGA) < 4 / OMEGA / np.sqrt(child.sum())


def test_when_fitting_grid_etas_then_theta_and_omega_are_recovered(grid, grid_sim) -> None:
    ev = grid_sim.events
    fit = fit_grid_etas(ev.t, ev.cell, grid.n_cells, DAYS)
    assert fit.converged
    assert abs(fit.theta - THETA) < 4 * 0.020 / SQRT3
    assert abs(fit.omega - OMEGA) < 4 * 0.55 / SQRT3
    assert abs(fit.mu.sum() - 7.5) < 0.1 * 7.5
    assert abs(fit.background_share - (grid_sim.parent < 0).mean()) < 0.03


def test_when_fitting_st_etas_then_theta_omega_and_sigma_are_recovered(st_sim) -> None:
    big, sim = st_sim
    ev = sim.events
    fit = fit_st_etas(ev.t, ev.x, ev.y, ev.cell, big, DAYS)
    assert fit.converged
    assert abs(fit.theta - THETA) < 4 * 0.020 / SQRT3
    assert abs(fit.omega - OMEGA) < 4 * 0.43 / SQRT3
    assert abs(fit.sigma - SIGMA) < 4 * 0.74 / SQRT3


def test_when_em_is_stopped_early_then_it_says_it_did_not_converge(grid, grid_sim) -> None:
    ev = grid_sim.events
    fit = fit_grid_etas(ev.t, ev.cell, grid.n_cells, DAYS, max_iter=2)
    assert fit.iterations == 2 and not fit.converged


def test_when_scoring_grid_etas_then_background_and_triggering_integrate_exactly() -> None:
    fit = GridEtasFit(mu=np.array([0.2, 0.0]), theta=0.5, omega=2.0, t_max=3.0, duration=10.0, loglik=0.0,
                      iterations=1, converged=True, n_pairs=0, background_share=1.0)
    t = np.array([9.0, 9.5, 6.0])   # ages 1, 0.5 and 4 (> t_max: no longer triggers)
    cell = np.array([1, 1, 0])
    scores = grid_etas_scores(fit, t, cell, horizon=1.0)
    # cell 1: 0.5 (e^{-2} - e^{-4}) + 0.5 (e^{-1} - e^{-3}); the second window [0.5, 1.5) is inside t_max
    expected_1 = 0.5 * (np.exp(-2) - np.exp(-4)) + 0.5 * (np.exp(-1) - np.exp(-3))
    assert_allclose(scores, [0.2, expected_1])
    # a window reaching past t_max is cut there: age 1, horizon 5 -> [1, 3)
    assert_allclose(grid_etas_scores(fit, t[:1], cell[:1], horizon=5.0)[1], 0.5 * (np.exp(-2) - np.exp(-6)))


def test_when_scoring_st_etas_then_cell_masses_are_gaussian_and_the_total_is_conserved(st_sim) -> None:
    big, _ = st_sim
    fit = fit_st_etas(np.array([0.0, 50.0]), np.array([1100.0, 2100.0]), np.array([1100.0, 2100.0]),
                      np.array([115, 230]), big, 100.0)
    # one event at the centre of cell (5, 5), 0.01 day before the end
    t, x, y = np.array([99.99]), np.array([1100.0]), np.array([1100.0])
    scores = st_etas_scores(fit, t, x, y, big, horizon=2.0)
    w = fit.theta * (np.exp(-fit.omega * 0.01) - np.exp(-fit.omega * 2.01))
    own = (ndtr(100 / fit.sigma) - ndtr(-100 / fit.sigma)) ** 2
    cell = 5 * big.nx + 5
    assert_allclose(scores[cell] - fit.mu[cell] * 2.0, w * own, rtol=1e-10)
    assert_allclose(scores.sum(), fit.mu.sum() * 2.0 + w, rtol=1e-9)


def test_when_events_are_exact_duplicates_then_fits_stay_finite(grid) -> None:
    # every event three times over, same time, same place, plus some events all at one spot
    rng = np.random.default_rng(3)
    t = np.repeat(np.sort(rng.uniform(0, 50, 40)), 3)
    x = np.repeat(rng.uniform(0, 2000, 40), 3)
    y = np.repeat(rng.uniform(0, 2000, 40), 3)
    t = np.r_[t, np.linspace(20, 22, 10)]
    x = np.r_[x, np.full(10, 555.0)]
    y = np.r_[y, np.full(10, 777.0)]
    ev = EventArrays.on_grid(t, x, y, grid)
    for model in (GridEtas(), StEtas()):
        f = model.fit_predict(ev, grid, start=0.0, end=50.0, horizon=5.0, rng=np.random.default_rng(0))
        assert np.isfinite(f.scores).all() and (f.scores >= 0).all()
        assert all(np.isfinite(v) for v in f.params.values()), f.params
    st = StEtas(sigma_min=1.0).fit_predict(ev, grid, start=0.0, end=50.0, horizon=5.0, rng=np.random.default_rng(0))
    assert st.params["sigma"] >= 1.0


def test_when_all_events_share_one_time_and_place_then_no_pair_and_all_background(grid) -> None:
    t, x, y = np.full(20, 5.0), np.full(20, 150.0), np.full(20, 150.0)
    cell = np.full(20, 21)
    g = same_cell_pairs(t, cell, 30.0)
    s = space_time_pairs(t, x, y, 14.0, 500.0)
    assert len(g) == 0 and len(s) == 0
    fit = fit_st_etas(t, x, y, cell, grid, 10.0)
    assert fit.theta == 0.0 and fit.background_share == 1.0 and np.isfinite(fit.loglik)
    gfit = fit_grid_etas(t, cell, grid.n_cells, 10.0)
    assert gfit.theta == 0.0 and np.isfinite(gfit.loglik)


def test_when_finding_pairs_then_they_match_brute_force() -> None:
    rng = np.random.default_rng(4)
    n = 300
    t = np.round(rng.uniform(0, 30, n), 1)  # rounded: many ties
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    cell = rng.integers(0, 5, n)
    dt = t[None, :] - t[:, None]
    d2 = (x[None, :] - x[:, None]) ** 2 + (y[None, :] - y[:, None]) ** 2
    want_g = {(int(i), int(j)) for i, j in zip(*np.nonzero((dt > 0) & (dt <= 2.0) & (cell[:, None] == cell[None, :])))}
    g = same_cell_pairs(t, cell, 2.0)
    assert set(zip(g.i.tolist(), g.j.tolist())) == want_g
    want_s = {(int(i), int(j)) for i, j in zip(*np.nonzero((dt > 0) & (dt <= 2.0) & (d2 <= 150.0**2)))}
    s = space_time_pairs(t, x, y, 2.0, 150.0)
    assert set(zip(s.i.tolist(), s.j.tolist())) == want_s
    assert_allclose(s.d2, d2[s.i, s.j])


@pytest.mark.parametrize("kwargs", [{"t_max": 0.0}, {"tol": 0.0}, {"max_iter": 0}])
def test_when_em_settings_are_unusable_then_input_error(grid, grid_sim, kwargs) -> None:
    with pytest.raises(InputError):
        fit_grid_etas(grid_sim.events.t, grid_sim.events.cell, grid.n_cells, DAYS, **kwargs)


def test_when_simulation_parameters_are_unusable_then_input_error(grid) -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="theta"):
        simulate_grid_etas(grid, np.ones(grid.n_cells), theta=1.2, omega=1.0, duration=10.0, rng=rng)
    with pytest.raises(InputError, match="mu"):
        simulate_grid_etas(grid, np.ones(3), theta=0.2, omega=1.0, duration=10.0, rng=rng)
    with pytest.raises(InputError, match="sigma"):
        simulate_st_etas(grid, np.ones(grid.n_cells), theta=0.2, omega=1.0, sigma=0.0, duration=10.0, rng=rng)
