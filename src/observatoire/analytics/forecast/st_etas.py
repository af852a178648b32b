"""Space-time ETAS: exponential-in-time, Gaussian-in-space triggering, fitted by EM on truncated pairs.

.. math::

    \\lambda(t, x, y) = \\mu(x, y) + \\sum_{t_i < t} \\theta\\,\\omega\\, e^{-\\omega (t - t_i)}
        \\frac{1}{2\\pi\\sigma^2} e^{-d_i^2 / (2\\sigma^2)},

with ``d_i`` the distance from ``(x_i, y_i)``. The background ``mu(x, y)`` is
piecewise constant on the grid: ``mu_n / A`` per square metre in cell ``n``
(``A`` the cell area), i.e. ``mu0`` times the grid histogram of the background
events, weighted by their background probabilities and re-estimated at every
EM step (the maximum-likelihood histogram, not a fixed KDE).

EM as in Mohler et al. (2011) and Veen & Schoenberg (2008). Maximisation:
``mu_n = sum_{j in n} p_jj / T``, ``omega = S / sum p_ij dt_ij``,
``sigma^2 = sum p_ij d_ij^2 / (2 S)``, ``theta = S / sum_i (1 - exp(-omega min(T - t_i, t_max)))``
with ``S = sum p_ij``. Only pairs with ``0 < t_j - t_i <= t_max`` and
``d_ij <= d_max`` are considered (found with a k-d tree), which truncates the
kernel: the mass lost, ``exp(-omega t_max)`` in time and
``exp(-d_max^2 / (2 sigma^2))`` in space, is reported. Offspring that would
fall outside the study area are not corrected for (a bias of order
``sigma * perimeter / area`` on ``theta``).

Guards for duplicates: events at the same time never trigger each other (the
intensity sums over ``t_i < t``); ``sigma`` is kept above ``sigma_min`` metres
so that events at the very same place cannot make the Gaussian a Dirac; the
intensity is floored before any logarithm or division.

References
----------
Mohler, G. O., Short, M. B., Brantingham, P. J., Schoenberg, F. P. & Tita, G. E.
(2011). Self-exciting point process modeling of crime. *JASA* 106(493), 100-108.

Mohler, G. O. et al. (2015). Randomized controlled field trials of predictive
policing. *JASA* 110(512), 1399-1411.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from observatoire.analytics.forecast.grid import EventArrays, Forecast, Grid, MethodDefaults, training_events
from observatoire.analytics.forecast.grid_etas import _TINY, _check_em, _edge
from observatoire.analytics.forecast.pairs import space_time_pairs
from observatoire.errors import InputError


@dataclass(frozen=True, eq=False)
class StEtasFit:
    """A fitted space-time ETAS model; times are days since the start of the training window."""

    mu: np.ndarray          # (n_cells,) background events per day in each cell
    theta: float
    omega: float
    sigma: float
    t_max: float
    d_max: float
    duration: float
    loglik: float
    iterations: int
    converged: bool
    n_pairs: int
    background_share: float

    def params(self) -> dict[str, float]:
        """The scalar parameters, as a forecast reports them."""
        return {
            "theta": self.theta, "omega": self.omega, "sigma": self.sigma, "mu_total": float(self.mu.sum()),
            "t_max": self.t_max, "d_max": self.d_max,
            "truncated_mass_time": float(np.exp(-self.omega * self.t_max)),
            "truncated_mass_space": float(np.exp(-self.d_max**2 / (2 * self.sigma**2))),
            "loglik": self.loglik, "iterations": float(self.iterations), "converged": float(self.converged),
            "n_pairs": float(self.n_pairs), "background_share": self.background_share,
        }


def fit_st_etas(
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    cell: np.ndarray,
    grid: Grid,
    duration: float,
    *,
    t_max: float = 14.0,
    d_max: float = 500.0,
    sigma_min: float = 1.0,
    tol: float = 1e-6,
    max_iter: int = 500,
    theta0: float = 0.5,
) -> StEtasFit:
    """Fit space-time ETAS by EM to events in ``[0, duration)``; see the module docstring.

    Parameters
    ----------
    t, x, y, cell : numpy.ndarray
        Times (days since the window start), positions (metres), cell indices.
    grid : Grid
        The grid of the piecewise-constant background.
    duration : float
        Length ``T`` of the training window, in days.
    t_max, d_max : float
        Pair truncation in days and metres.
    sigma_min : float
        Floor on ``sigma`` in metres (duplicates guard).
    tol, max_iter
        Stop when the largest relative change of ``theta``, ``omega``,
        ``sigma`` and ``mu0`` is below ``tol``, or after ``max_iter`` steps.
    theta0 : float
        Starting branching ratio; ``omega`` and ``sigma`` start from the
        moments of the candidate pairs.
    """
    _check_em(t_max, tol, max_iter)
    if not (np.isfinite(d_max) and d_max > 0 and sigma_min > 0):
        raise InputError("d_max and sigma_min must be positive numbers of metres")
    t = np.asarray(t, dtype=float)
    cell = np.asarray(cell, dtype=np.int64)
    n = t.size
    if n == 0:
        raise InputError("no event to fit")
    pairs = space_time_pairs(t, np.asarray(x, dtype=float), np.asarray(y, dtype=float), t_max, d_max)
    j, dt, d2 = pairs.j, pairs.dt, pairs.d2
    area = grid.cell_area
    counts = np.bincount(cell, minlength=grid.n_cells).astype(float)
    mu = counts * (1.0 - theta0) / duration
    theta = float(theta0)
    omega = 1.0 / float(dt.mean()) if dt.size else 1.0
    sigma = max(float(np.sqrt(d2.mean() / 2.0)) if d2.size else d_max / 4.0, sigma_min)
    converged = False
    iterations = 0
    p_bg = np.ones(n)

    buf = np.empty(dt.size)   # one buffer per pair array, reused: the fit is bound by memory traffic
    p_pair = np.empty(dt.size)

    def triggering(theta: float, omega: float, sigma: float) -> np.ndarray:
        s2 = sigma * sigma
        np.multiply(dt, -omega, out=buf)
        np.subtract(buf, d2 * (0.5 / s2), out=buf)
        np.exp(buf, out=buf)
        return np.multiply(buf, theta * omega / (2.0 * np.pi * s2), out=buf)

    for iterations in range(1, max_iter + 1):
        trig = triggering(theta, omega, sigma)
        bg = mu[cell] / area
        lam = np.maximum(bg + np.bincount(j, weights=trig, minlength=n), _TINY)
        np.divide(trig, lam[j], out=p_pair)
        p_bg = bg / lam
        s = float(p_pair.sum())
        new_mu = np.bincount(cell, weights=p_bg, minlength=grid.n_cells) / duration
        s_dt = float(p_pair @ dt)
        new_omega = s / s_dt if s > 0 and s_dt > 0 else omega
        new_sigma = max(float(np.sqrt(float(p_pair @ d2) / (2.0 * s))), sigma_min) if s > 0 else sigma
        new_theta = s / max(float(_edge(t, new_omega, duration, t_max).sum()), _TINY)
        change = max(
            abs(new_theta - theta) / max(theta, 1e-12),
            abs(new_omega - omega) / max(omega, 1e-12),
            abs(new_sigma - sigma) / max(sigma, 1e-12),
            abs(new_mu.sum() - mu.sum()) / max(mu.sum(), 1e-12),
        )
        mu, theta, omega, sigma = new_mu, new_theta, new_omega, new_sigma
        if change < tol:
            converged = True
            break
    trig = triggering(theta, omega, sigma)
    lam = np.maximum(mu[cell] / area + np.bincount(j, weights=trig, minlength=n), _TINY)
    loglik = float(np.log(lam).sum() - mu.sum() * duration - theta * _edge(t, omega, duration, t_max).sum())
    return StEtasFit(mu, theta, omega, sigma, t_max, d_max, duration, loglik, iterations, converged, len(pairs),
                     float(p_bg.sum() / n))


def st_etas_scores(fit: StEtasFit, t: np.ndarray, x: np.ndarray, y: np.ndarray, grid: Grid,
                   horizon: float) -> np.ndarray:
    """Expected count per cell over ``[duration, duration + horizon)``: the intensity integrated exactly.

    Background: ``mu_n * horizon``. Triggering: each event still within
    ``t_max`` adds ``theta (exp(-omega a_i) - exp(-omega b_i))`` times the mass
    of its Gaussian over the cell, which is separable on a square cell
    (a product of normal CDF differences in x and in y).
    """
    from scipy.special import ndtr

    a = fit.duration - np.asarray(t, dtype=float)
    b = np.minimum(a + horizon, fit.t_max)
    live = b > a
    w = fit.theta * (np.exp(-fit.omega * a[live]) - np.exp(-fit.omega * b[live]))
    xe = grid.x0 + np.arange(grid.nx + 1) * grid.cell_size
    ye = grid.y0 + np.arange(grid.ny + 1) * grid.cell_size
    px = np.diff(ndtr((xe[None, :] - np.asarray(x)[live, None]) / fit.sigma), axis=1)  # (m, nx)
    py = np.diff(ndtr((ye[None, :] - np.asarray(y)[live, None]) / fit.sigma), axis=1)  # (m, ny)
    trig = (py * w[:, None]).T @ px  # (ny, nx)
    return np.where(grid.active, fit.mu * horizon + trig.ravel(), 0.0)


@dataclass(frozen=True)
class StEtas:
    """Space-time ETAS; see :func:`fit_st_etas`. Needs event positions.

    Served (``defaults``) with 4,000 training events at most (it costs about ten times the grid
    model per event) and the EM settings of :class:`~observatoire.analytics.forecast.grid_etas.GridEtas`.
    """

    t_max: float = 14.0
    d_max: float = 500.0
    sigma_min: float = 1.0
    tol: float = 1e-6
    max_iter: int = 500
    name: ClassVar[str] = "st_etas"
    defaults: ClassVar[MethodDefaults] = MethodDefaults(4_000, {"max_iter": 100, "tol": 1e-4})

    def fit_predict(
        self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float, rng: np.random.Generator
    ) -> Forecast:
        train = training_events(events, grid, start=start, end=end, horizon=horizon)
        if train.x is None or train.y is None:
            raise InputError("st_etas needs event positions (x, y in metres); these events carry their cells only")
        t = train.t - start
        fit = fit_st_etas(t, train.x, train.y, train.cell, grid, end - start, t_max=self.t_max, d_max=self.d_max,
                          sigma_min=self.sigma_min, tol=self.tol, max_iter=self.max_iter)
        return Forecast(self.name, st_etas_scores(fit, t, train.x, train.y, grid, horizon), fit.params())
