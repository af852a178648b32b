"""Simulate grid and space-time ETAS (Hawkes) processes with known parameters.

Simulation by branching (Zhuang, Ogata & Vere-Jones 2004): background events
are drawn first (a Poisson process of rate ``mu_n`` per cell, uniform in time
and in the cell), then each generation draws its children: ``Poisson(theta)``
children per event, each delayed by an ``Exponential(omega)`` time and, in the
space-time model, displaced by an isotropic Gaussian of standard deviation
``sigma``. Children after ``duration`` or outside the grid or its mask are
dropped, and with them their descendants (as real data would miss them).

References
----------
Zhuang, J., Ogata, Y. & Vere-Jones, D. (2004). Analyzing earthquake clustering
features by using stochastic reconstruction. *Journal of Geophysical Research*
109, B05301.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from observatoire.analytics.forecast.grid import EventArrays, Grid, assign_cells
from observatoire.errors import InputError


@dataclass(frozen=True, eq=False)
class Simulation:
    """Simulated events (sorted by time) and the truth: each event's parent (``-1``: background)."""

    events: EventArrays
    parent: np.ndarray
    generation: np.ndarray


def _check(grid: Grid, mu: np.ndarray, theta: float, omega: float, duration: float) -> np.ndarray:
    mu = np.asarray(mu, dtype=float)
    if mu.shape != (grid.n_cells,) or (mu < 0).any() or not np.isfinite(mu).all():
        raise InputError("mu must be a non-negative rate per cell, of shape (n_cells,)")
    if not (0 <= theta < 1):
        raise InputError("theta must be in [0, 1) for a stationary process")
    if not (omega > 0 and duration > 0):
        raise InputError("omega and duration must be positive")
    return np.where(grid.active, mu, 0.0)


def _background(grid: Grid, mu: np.ndarray, duration: float, rng: np.random.Generator):
    counts = rng.poisson(mu * duration)
    cell = np.repeat(np.arange(grid.n_cells), counts)
    t = rng.uniform(0.0, duration, cell.size)
    x = grid.x0 + (cell % grid.nx + rng.uniform(0.0, 1.0, cell.size)) * grid.cell_size
    y = grid.y0 + (cell // grid.nx + rng.uniform(0.0, 1.0, cell.size)) * grid.cell_size
    return t, x, y, cell


def _branch(
    grid: Grid, mu: np.ndarray, theta: float, omega: float, sigma: float | None, duration: float,
    rng: np.random.Generator,
) -> Simulation:
    t, x, y, cell = _background(grid, mu, duration, rng)
    ts, xs, ys, cs = [t], [x], [y], [cell]
    parents = [np.full(t.size, -1)]
    gens = [np.zeros(t.size, dtype=np.int64)]
    offset, gen = 0, 0
    while t.size:
        gen += 1
        k = rng.poisson(theta, t.size)
        par = np.repeat(np.arange(t.size), k)
        ct = t[par] + rng.exponential(1.0 / omega, par.size)
        if sigma is None:  # grid model: children stay in their parent's cell
            cc = cell[par]
            cx = grid.x0 + (cc % grid.nx + rng.uniform(0.0, 1.0, par.size)) * grid.cell_size
            cy = grid.y0 + (cc // grid.nx + rng.uniform(0.0, 1.0, par.size)) * grid.cell_size
        else:
            cx = x[par] + rng.normal(0.0, sigma, par.size)
            cy = y[par] + rng.normal(0.0, sigma, par.size)
            cc = assign_cells(grid, cx, cy)
        keep = (ct < duration) & (cc >= 0)
        parents.append(par[keep] + offset)
        offset += t.size
        t, x, y, cell = ct[keep], cx[keep], cy[keep], cc[keep]
        ts.append(t), xs.append(x), ys.append(y), cs.append(cell)
        gens.append(np.full(t.size, gen, dtype=np.int64))
    t_all = np.concatenate(ts)
    order = np.argsort(t_all, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    parent = np.concatenate(parents)[order]
    parent = np.where(parent >= 0, rank[np.maximum(parent, 0)], -1)
    events = EventArrays(t_all[order], np.concatenate(xs)[order], np.concatenate(ys)[order],
                         np.concatenate(cs)[order])
    return Simulation(events, parent, np.concatenate(gens)[order])


def simulate_grid_etas(
    grid: Grid, mu: np.ndarray, *, theta: float, omega: float, duration: float, rng: np.random.Generator
) -> Simulation:
    """Grid ETAS of Mohler et al. (2015): children fall in their parent's cell.

    Parameters
    ----------
    grid : Grid
    mu : numpy.ndarray, shape (n_cells,)
        Background events per day in each cell (cells outside the mask get none).
    theta, omega : float
        Mean number of children per event (``< 1``) and inverse mean delay (per day).
    duration : float
        Days simulated, from 0.
    rng : numpy.random.Generator

    Examples
    --------
    >>> from observatoire.analytics.forecast.grid import grid_from_bbox
    >>> g = grid_from_bbox(0, 0, 200, 200, 100)
    >>> sim = simulate_grid_etas(g, np.full(4, 1.0), theta=0.5, omega=10.0, duration=100.0,
    ...                          rng=np.random.default_rng(1))
    >>> 600 < len(sim.events) < 1000   # expected 4 * 100 / (1 - 0.5) = 800, minus edge losses
    True
    """
    mu = _check(grid, mu, theta, omega, duration)
    return _branch(grid, mu, theta, omega, None, duration, rng)


def simulate_st_etas(
    grid: Grid, mu: np.ndarray, *, theta: float, omega: float, sigma: float, duration: float,
    rng: np.random.Generator,
) -> Simulation:
    """Space-time ETAS: children displaced by an isotropic Gaussian of standard deviation ``sigma`` metres.

    Background events are uniform within each cell at rate ``mu[n]`` per day,
    so the background density is the piecewise-constant one that
    :func:`~observatoire.analytics.forecast.st_etas.fit_st_etas` estimates.
    """
    mu = _check(grid, mu, theta, omega, duration)
    if not sigma > 0:
        raise InputError("sigma must be a positive number of metres")
    return _branch(grid, mu, theta, omega, float(sigma), duration, rng)
