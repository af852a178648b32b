"""Getis-Ord Gi* on a grid of counts, with FDR-controlled hot and cold cells.

Pure: arrays in, a frozen record out; esda and scipy are imported inside the
function. Randomness (permutation p-values) comes only from the ``rng`` given.

References
----------
Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of
distance statistics. *Geographical Analysis* 24(3), 189-206.

Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics:
distributional issues and an application. *Geographical Analysis* 27(4), 286-306.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from observatoire.analytics.hotspots.fdr import benjamini_hochberg
from observatoire.analytics.hotspots.weights import Weights, grid_weights
from observatoire.errors import InputError

__all__ = ["GiStar", "gi_star"]


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
    w = grid_weights(n_rows, n_cols, weights)
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
