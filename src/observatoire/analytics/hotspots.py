"""Hotspots on a regular grid: kernel density, Getis-Ord Gi* with FDR control, emerging hotspots.

Cells are those of a regular ``(n_rows, n_cols)`` grid, flattened in row-major
(C) order, which is also the order of ``libpysal.weights.lat2W``. Functions are
pure: arrays in, new arrays or frozen records out. esda, libpysal and scipy are
imported inside the functions that need them, never at import time.

References
----------
Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
distance statistics. *Geographical Analysis* 24(3), 189-206.

Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics:
distributional issues and an application. *Geographical Analysis* 27(4), 286-306.

Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a
practical and powerful approach to multiple testing. *JRSS B* 57(1), 289-300.

Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*,
ch. 4 (multivariate kernels). Chapman & Hall.

Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13, 245-259;
Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. Griffin.

Esri. *How Emerging Hot Spot Analysis works* (ArcGIS Pro documentation,
Space Time Pattern Mining toolbox).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from observatoire.errors import InputError

__all__ = [
    "EMERGING_CATEGORIES",
    "EmergingHotspots",
    "GiStar",
    "benjamini_hochberg",
    "emerging_hotspots",
    "gi_star",
    "kde_surface",
]

Kernel = Literal["quartic", "gaussian"]
Weights = Literal["queen", "rook"]


# --------------------------------------------------------------------------- kernel density


def kde_surface(
    points: Any,
    x_centres: Any,
    y_centres: Any,
    bandwidth: float,
    kernel: Kernel = "quartic",
) -> np.ndarray:
    """Fixed-bandwidth kernel density of points, evaluated at the centres of a regular grid.

    The density is in events per unit area, so ``surface.sum() * dx * dy``
    approximates the number of events when the grid covers every point by at
    least one bandwidth (Silverman 1986, ch. 4). Kernels, with ``d`` the
    distance from a point and ``h`` the bandwidth:

    * ``"quartic"`` (biweight, the usual crime-mapping kernel):
      ``K(d) = 3 / (pi h^2) * (1 - d^2 / h^2)^2`` for ``d < h``, 0 beyond;
    * ``"gaussian"``: ``K(d) = 1 / (2 pi h^2) * exp(-d^2 / (2 h^2))``, ``h``
      being the standard deviation; never truncated.

    Parameters
    ----------
    points : array_like, shape (n_points, 2)
        ``(x, y)`` coordinates in a projected unit (metres).
    x_centres : array_like, shape (n_cols,)
        Increasing x coordinates of the cell centres.
    y_centres : array_like, shape (n_rows,)
        Increasing y coordinates of the cell centres.
    bandwidth : float
        Kernel radius (quartic) or standard deviation (Gaussian), > 0.
    kernel : {"quartic", "gaussian"}

    Returns
    -------
    numpy.ndarray, shape (n_rows, n_cols)
        Density at each cell centre; row ``i`` is ``y_centres[i]``.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise InputError(f"points must have shape (n_points, 2), got {pts.shape}")
    if not np.all(np.isfinite(pts)):
        raise InputError("points must have finite coordinates")
    xs = np.asarray(x_centres, dtype=np.float64)
    ys = np.asarray(y_centres, dtype=np.float64)
    for name, axis in (("x_centres", xs), ("y_centres", ys)):
        if axis.ndim != 1 or axis.size == 0 or np.any(np.diff(axis) <= 0):
            raise InputError(f"{name} must be a non-empty increasing 1-D array")
    if not (np.isfinite(bandwidth) and bandwidth > 0):
        raise InputError(f"bandwidth must be positive, got {bandwidth}")
    h = float(bandwidth)
    if kernel == "gaussian":
        # Separable: K(x, y) = g(x) g(y), so the surface is one matrix product.
        gx = np.exp(-0.5 * ((xs[:, None] - pts[None, :, 0]) / h) ** 2)  # (n_cols, n_points)
        gy = np.exp(-0.5 * ((ys[:, None] - pts[None, :, 1]) / h) ** 2)  # (n_rows, n_points)
        return (gy @ gx.T) / (2.0 * np.pi * h * h)
    if kernel == "quartic":
        from scipy.spatial import cKDTree

        gx, gy = np.meshgrid(xs, ys)
        centres = cKDTree(np.column_stack([gx.ravel(), gy.ravel()]))
        pairs = cKDTree(pts).sparse_distance_matrix(centres, h, output_type="ndarray")
        u2 = (pairs["v"] / h) ** 2
        weight = np.where(u2 < 1.0, (1.0 - u2) ** 2, 0.0) * 3.0 / (np.pi * h * h)
        surface = np.bincount(pairs["j"], weights=weight, minlength=gx.size)
        return surface.reshape(ys.size, xs.size)
    raise InputError(f"kernel must be 'quartic' or 'gaussian', got {kernel!r}")


# --------------------------------------------------------------------------- multiple testing


def benjamini_hochberg(p_values: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg step-up procedure controlling the false discovery rate.

    With the ``m`` p-values sorted, ``p_(1) <= ... <= p_(m)``, reject the
    hypotheses ``1..k`` for the largest ``k`` with ``p_(k) <= k alpha / m``
    (Benjamini & Hochberg 1995). The adjusted p-values are
    ``min_{j >= i} min(1, m p_(j) / j)``; a hypothesis is rejected exactly
    when its adjusted p-value is ``<= alpha``. NaN p-values (untestable cells)
    are left out of ``m`` and never rejected.

    Parameters
    ----------
    p_values : array_like
        Any shape.
    alpha : float
        FDR level in ``(0, 1)``.

    Returns
    -------
    reject : numpy.ndarray of bool
        Same shape as ``p_values``.
    adjusted : numpy.ndarray
        Same shape; NaN where the input was NaN.

    Examples
    --------
    >>> reject, adj = benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    >>> reject.tolist(), adj.round(3).tolist()
    ([True, True, True, True], [0.02, 0.04, 0.04, 0.02])
    """
    p = np.asarray(p_values, dtype=np.float64)
    if not (0.0 < alpha < 1.0):
        raise InputError(f"alpha must lie in (0, 1), got {alpha}")
    finite = ~np.isnan(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise InputError("p-values must lie in [0, 1]")
    flat = p[finite]
    m = flat.size
    adjusted = np.full(p.shape, np.nan)
    if m:
        order = np.argsort(flat, kind="stable")
        scaled = flat[order] * m / np.arange(1, m + 1)
        stepped = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
        adj_flat = np.empty(m)
        adj_flat[order] = stepped
        adjusted[finite] = adj_flat
    reject = np.zeros(p.shape, dtype=bool)
    reject[finite] = adjusted[finite] <= alpha
    return reject, adjusted


# --------------------------------------------------------------------------- Gi*


@dataclass(frozen=True)
class GiStar:
    """Getis-Ord Gi* of every cell of a grid.

    Attributes
    ----------
    z : numpy.ndarray, shape (n_rows, n_cols)
        Gi* z-scores (NaN where undefined: constant grid, or a neighbourhood
        covering every cell).
    p : numpy.ndarray, shape (n_rows, n_cols)
        Two-sided p-values (analytical normal, or permutation).
    p_adjusted : numpy.ndarray, shape (n_rows, n_cols)
        Benjamini-Hochberg adjusted p-values (equal to ``p`` when ``fdr`` is off).
    hot : numpy.ndarray of bool, shape (n_rows, n_cols)
        ``z > 0`` and significant at ``alpha`` after correction.
    cold : numpy.ndarray of bool, shape (n_rows, n_cols)
        ``z < 0`` and significant.
    hot_cells : tuple of (row, col)
        The hot cells, strongest z first.
    """

    z: np.ndarray
    p: np.ndarray
    p_adjusted: np.ndarray
    hot: np.ndarray
    cold: np.ndarray
    hot_cells: tuple[tuple[int, int], ...]


def _grid_weights(n_rows: int, n_cols: int, weights: Weights | float) -> Any:
    import libpysal.weights as lw

    if weights in ("queen", "rook"):
        return lw.lat2W(n_rows, n_cols, rook=weights == "rook")
    if isinstance(weights, (int, float)) and not isinstance(weights, bool) and weights > 0:
        rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
        coords = np.column_stack([cols, rows]).astype(np.float64)  # in cell widths
        return lw.DistanceBand(coords, threshold=float(weights), binary=True, silence_warnings=True)
    raise InputError(f"weights must be 'queen', 'rook' or a positive distance in cell widths, got {weights!r}")


def gi_star(
    counts: Any,
    weights: Weights | float = "queen",
    *,
    alpha: float = 0.05,
    fdr: bool = True,
    permutations: int = 0,
    rng: np.random.Generator | None = None,
) -> GiStar:
    """Getis-Ord Gi* z-scores on a grid of counts, with FDR-controlled hot and cold cells.

    With binary weights ``w_ij`` that include the cell itself (``w_ii = 1``),
    ``n`` cells, mean ``xbar`` and ``S = sqrt(sum x_j^2 / n - xbar^2)``
    (Getis & Ord 1992; Ord & Getis 1995, eq. 9)::

        z_i = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1)))

    where ``W_i = sum_j w_ij`` and ``S1_i = sum_j w_ij^2`` (``= W_i`` here).
    Computed by ``esda.G_Local(y, w, transform="B", star=True)``.

    Parameters
    ----------
    counts : array_like, shape (n_rows, n_cols)
        Non-negative values per cell (event counts, or a density).
    weights : {"queen", "rook"} or float
        Contiguity from ``libpysal.weights.lat2W``, or a distance band in cell
        widths between cell centres (``libpysal.weights.DistanceBand``, binary;
        1.5 is queen contiguity).
    alpha : float
        Significance level (FDR level when ``fdr``).
    fdr : bool
        Apply :func:`benjamini_hochberg` across the cells.
    permutations : int
        0 for analytical p-values ``2 * (1 - Phi(|z|))``; otherwise esda's
        conditional-permutation pseudo p-value (folded, one-tailed), doubled
        and capped at 1 to make it two-sided.
    rng : numpy.random.Generator, optional
        Required when ``permutations > 0``; seeds esda's permutations.

    Returns
    -------
    GiStar
    """
    from esda import G_Local
    from scipy.stats import norm

    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 2 or x.size < 3:
        raise InputError(f"counts must be a 2-D grid of at least three cells, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise InputError("counts must be finite and non-negative")
    if permutations and rng is None:
        raise InputError("permutation p-values need an explicit rng")
    n_rows, n_cols = x.shape
    w = _grid_weights(n_rows, n_cols, weights)
    y = x.ravel()
    if y.sum() == 0 or np.all(y == y[0]):
        z = np.full(y.shape, np.nan)
        p = np.full(y.shape, np.nan)
    else:
        seed = None if not permutations else int(rng.integers(2**31 - 1))
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            # esda 2.x warns that its permutation default ("directed", i.e. folded) will become
            # "two-sided"; G_Local does not expose the choice, so we double the folded p ourselves.
            warnings.filterwarnings("ignore", "The alternative hypothesis", DeprecationWarning)
            g = G_Local(y, w, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1,
                        keep_simulations=False)
            z = np.where(np.isfinite(g.Zs), g.Zs, np.nan)
            if permutations:
                p = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, dtype=np.float64))
            else:
                p = 2.0 * norm.sf(np.abs(z))
        p = np.where(np.isnan(z), np.nan, p)
    if fdr:
        significant, p_adj = benjamini_hochberg(p, alpha)
    else:
        p_adj = p.copy()
        significant = np.nan_to_num(p, nan=1.0) <= alpha
    hot = significant & (np.nan_to_num(z) > 0)
    cold = significant & (np.nan_to_num(z) < 0)
    hot_idx = np.flatnonzero(hot)
    hot_idx = hot_idx[np.argsort(-z[hot_idx], kind="stable")]
    shape = (n_rows, n_cols)
    return GiStar(
        z=z.reshape(shape),
        p=p.reshape(shape),
        p_adjusted=p_adj.reshape(shape),
        hot=hot.reshape(shape),
        cold=cold.reshape(shape),
        hot_cells=tuple((int(i // n_cols), int(i % n_cols)) for i in hot_idx),
    )


# --------------------------------------------------------------------------- emerging hotspots

EMERGING_CATEGORIES: dict[str, str] = {
    "emerging": "hot in the last period, with a significant upward Mann-Kendall trend of its Gi* z-scores",
    "diminishing": "hot in the last period, with a significant downward trend",
    "new": "hot in the last period only, never before, no significant trend",
    "persistent": "hot in the last period and in at least 90 % of the periods, no significant trend",
    "sporadic": "hot in the last period, otherwise on and off, no significant trend",
    "historical": "not hot in the last period but hot in at least one earlier period",
    "none": "never hot",
}


@dataclass(frozen=True)
class EmergingHotspots:
    """Per-cell trend of Gi* z-scores over periods, and a category (see ``EMERGING_CATEGORIES``).

    Attributes
    ----------
    z : numpy.ndarray, shape (n_periods, n_rows, n_cols)
        Gi* z-scores of each period.
    hot : numpy.ndarray of bool, shape (n_periods, n_rows, n_cols)
        Significant hot cells of each period (after FDR correction).
    tau, p_trend : numpy.ndarray, shape (n_rows, n_cols)
        Kendall's tau of z against time and its two-sided p-value.
    category : numpy.ndarray of str, shape (n_rows, n_cols)
    """

    z: np.ndarray
    hot: np.ndarray
    tau: np.ndarray
    p_trend: np.ndarray
    category: np.ndarray

    @property
    def emerging_cells(self) -> tuple[tuple[int, int], ...]:
        """Cells in the ``"emerging"`` category, as ``(row, col)``."""
        return tuple((int(r), int(c)) for r, c in zip(*np.nonzero(self.category == "emerging"), strict=True))


def emerging_hotspots(
    counts: Any,
    weights: Weights | float = "queen",
    *,
    alpha: float = 0.05,
    trend_alpha: float = 0.05,
    fdr: bool = True,
) -> EmergingHotspots:
    """Emerging hotspot categories from a time series of gridded counts (after Esri, simplified).

    For every period, :func:`gi_star` gives z-scores and significant hot cells
    (analytical p-values, FDR-corrected when ``fdr``). For every cell, the
    Mann-Kendall test of its z-scores against time is Kendall's tau between
    the period index and z (``scipy.stats.kendalltau``; Mann 1945,
    Kendall 1975). Categories, tested in this order:

    1. ``emerging``: hot in the last period and ``tau > 0`` with
       ``p <= trend_alpha``;
    2. ``diminishing``: hot in the last period and a significant ``tau < 0``;
    3. ``new``: hot in the last period only;
    4. ``persistent``: hot in the last period and in >= 90 % of the periods;
    5. ``sporadic``: any other cell hot in the last period;
    6. ``historical``: not hot in the last period, hot in an earlier one;
    7. ``none``.

    Unlike Esri's tool, cold spots are not classified, and "emerging" merges
    Esri's "intensifying" and the growing part of "new"/"consecutive".
    With fewer than five periods the two-sided Mann-Kendall test cannot reach
    p <= 0.05, so no cell can be emerging.

    Parameters
    ----------
    counts : array_like, shape (n_periods, n_rows, n_cols)
        Counts per period and cell; at least three periods.
    weights, alpha, fdr
        As in :func:`gi_star`.
    trend_alpha : float
        Significance level of the trend test.

    Returns
    -------
    EmergingHotspots
    """
    from scipy.stats import kendalltau

    x = np.asarray(counts, dtype=np.float64)
    if x.ndim != 3 or x.shape[0] < 3:
        raise InputError(f"counts must have shape (n_periods >= 3, n_rows, n_cols), got {x.shape}")
    if not (0.0 < trend_alpha < 1.0):
        raise InputError(f"trend_alpha must lie in (0, 1), got {trend_alpha}")
    results = [gi_star(period, weights, alpha=alpha, fdr=fdr) for period in x]
    z = np.stack([r.z for r in results])
    hot = np.stack([r.hot for r in results])
    n_periods, n_rows, n_cols = x.shape
    time = np.arange(n_periods)
    tau = np.full((n_rows, n_cols), np.nan)
    p_trend = np.full((n_rows, n_cols), np.nan)
    for r in range(n_rows):
        for c in range(n_cols):
            series = z[:, r, c]
            if np.all(np.isfinite(series)) and np.ptp(series) > 0:
                result = kendalltau(time, series)
                tau[r, c], p_trend[r, c] = result.statistic, result.pvalue
    up = (tau > 0) & (np.nan_to_num(p_trend, nan=1.0) <= trend_alpha)
    down = (tau < 0) & (np.nan_to_num(p_trend, nan=1.0) <= trend_alpha)
    last = hot[-1]
    earlier = hot[:-1].any(axis=0)
    share = hot.mean(axis=0)
    category = np.select(
        [last & up, last & down, last & ~earlier, last & (share >= 0.9), last, earlier],
        ["emerging", "diminishing", "new", "persistent", "sporadic", "historical"],
        default="none",
    )
    return EmergingHotspots(z=z, hot=hot, tau=tau, p_trend=p_trend, category=category)
