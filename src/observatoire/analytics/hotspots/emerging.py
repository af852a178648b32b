"""Emerging hotspots: the Mann-Kendall trend of each cell's Gi* z-scores over periods, and a category.

Pure: arrays in, a frozen record out; scipy is imported inside the function.

References
----------
Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13, 245-259;
Kendall, M. G. (1975). *Rank Correlation Methods*, 4th ed. Griffin.

Esri. *How Emerging Hot Spot Analysis works* (ArcGIS Pro documentation,
Space Time Pattern Mining toolbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from observatoire.analytics.hotspots.getis_ord import gi_star
from observatoire.analytics.hotspots.weights import Weights
from observatoire.errors import InputError

__all__ = ["EMERGING_CATEGORIES", "EmergingHotspots", "emerging_hotspots"]

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
