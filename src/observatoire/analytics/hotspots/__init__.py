"""Hotspots on a regular grid, one module per statistic.

==================  ============================================================
``kde.py``          fixed-bandwidth kernel density (quartic, Gaussian)
``getis_ord.py``    Getis-Ord Gi* z-scores with FDR-controlled hot and cold cells
``emerging.py``     emerging hotspots: Mann-Kendall trend of Gi* over periods
``fdr.py``          Benjamini-Hochberg step-up (shared by Gi* and ``places.py``)
``weights.py``      spatial weights of a grid: queen, rook, distance band
==================  ============================================================

Cells are those of a regular ``(n_rows, n_cols)`` grid, flattened in row-major
(C) order, which is also the order of ``libpysal.weights.lat2W``. Every function
is pure: arrays in, new arrays or frozen records out, randomness only from an
explicit ``rng``; no store, no Ibis. esda, libpysal and scipy are imported inside
the functions that need them, never at import time. Reading the store into grid
arrays is :mod:`observatoire.analytics.places`'s work.

A new statistic is a module here, re-exported below, with its known-value tests
in ``tests/analytics/test_hotspots_<statistic>.py``.
"""

from observatoire.analytics.hotspots.emerging import EMERGING_CATEGORIES, EmergingHotspots, emerging_hotspots
from observatoire.analytics.hotspots.fdr import benjamini_hochberg
from observatoire.analytics.hotspots.getis_ord import GiStar, gi_star
from observatoire.analytics.hotspots.kde import Kernel, kde_surface
from observatoire.analytics.hotspots.weights import Weights, grid_weights

__all__ = [
    "EMERGING_CATEGORIES",
    "EmergingHotspots",
    "GiStar",
    "Kernel",
    "Weights",
    "benjamini_hochberg",
    "emerging_hotspots",
    "gi_star",
    "grid_weights",
    "kde_surface",
]
