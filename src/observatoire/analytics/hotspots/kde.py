"""Kernel density of points on a regular grid (fixed bandwidth, quartic or Gaussian kernel).

Pure: arrays in, a new array out; scipy is imported inside the function.

References
----------
Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*,
ch. 4 (multivariate kernels). Chapman & Hall.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from observatoire.errors import InputError

__all__ = ["Kernel", "kde_surface"]

Kernel = Literal["quartic", "gaussian"]


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
