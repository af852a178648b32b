"""Multiple testing across the cells of a grid: the Benjamini-Hochberg false discovery rate.

Shared by Gi* (:mod:`.getis_ord`), emerging hotspots and the masked Gi* of
:mod:`observatoire.analytics.places`. Pure: arrays in, new arrays out.

References
----------
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a
practical and powerful approach to multiple testing. *JRSS B* 57(1), 289-300.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from observatoire.errors import InputError

__all__ = ["benjamini_hochberg"]


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
