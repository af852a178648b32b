"""Spatial weights of a regular grid: which cells are a cell's neighbours.

Cells are those of a regular ``(n_rows, n_cols)`` grid, flattened in row-major
(C) order, which is also the order of ``libpysal.weights.lat2W``. libpysal is
imported inside the function, never at import time.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from observatoire.errors import InputError

__all__ = ["Weights", "grid_weights"]

Weights = Literal["queen", "rook"]


def grid_weights(n_rows: int, n_cols: int, weights: Weights | float) -> Any:
    """libpysal weights of an ``(n_rows, n_cols)`` grid: queen or rook contiguity, or a binary distance band.

    ``weights`` is ``"queen"``, ``"rook"`` or a positive distance in cell widths between
    cell centres (1.5 is queen contiguity).
    """
    import libpysal.weights as lw

    if weights in ("queen", "rook"):
        return lw.lat2W(n_rows, n_cols, rook=weights == "rook")
    if isinstance(weights, (int, float)) and not isinstance(weights, bool) and weights > 0:
        rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
        coords = np.column_stack([cols, rows]).astype(np.float64)  # in cell widths
        return lw.DistanceBand(coords, threshold=float(weights), binary=True, silence_warnings=True)
    raise InputError(f"weights must be 'queen', 'rook' or a positive distance in cell widths, got {weights!r}")
