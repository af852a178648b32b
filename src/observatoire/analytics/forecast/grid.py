"""The shared records of place-based forecasting: events on a grid, the grid, a forecast.

Forecasts are about places and times, never about persons: an event is only a
time (float days), a position (metres in a local projection) and the index of
the grid cell it falls in.

Cells are numbered row-major from the south-west corner: the cell in column
``ix`` (east) and row ``iy`` (north) has index ``iy * nx + ix``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

import numpy as np

from observatoire.errors import InputError


@dataclass(frozen=True, eq=False)
class Grid:
    """A regular square grid in a local metric projection.

    Parameters
    ----------
    x0, y0 : float
        South-west corner of the grid, in metres.
    cell_size : float
        Side of a square cell, in metres.
    nx, ny : int
        Number of columns (east) and rows (north).
    mask : numpy.ndarray of bool, shape (nx * ny,), optional
        ``True`` for cells inside the study area; ``None`` means all cells.
    """

    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int
    mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.x0) and np.isfinite(self.y0)):
            raise InputError("grid origin must be finite")
        if not (np.isfinite(self.cell_size) and self.cell_size > 0):
            raise InputError("grid cell_size must be a positive number of metres")
        if self.nx < 1 or self.ny < 1:
            raise InputError("grid must have at least one column and one row")
        if self.mask is not None:
            mask = np.asarray(self.mask, dtype=bool)
            if mask.shape != (self.nx * self.ny,):
                raise InputError(f"grid mask must have shape ({self.nx * self.ny},), got {mask.shape}")
            if not mask.any():
                raise InputError("grid mask leaves no cell inside the study area")
            mask = mask.copy()
            mask.flags.writeable = False
            object.__setattr__(self, "mask", mask)

    @property
    def n_cells(self) -> int:
        """Number of cells, inside the mask or not."""
        return self.nx * self.ny

    @property
    def active(self) -> np.ndarray:
        """Boolean array (n_cells,): cells inside the study area."""
        return np.ones(self.n_cells, dtype=bool) if self.mask is None else self.mask

    @property
    def cell_area(self) -> float:
        """Area of one cell, in square metres."""
        return float(self.cell_size) ** 2

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell centres ``(x, y)``, each of shape (n_cells,)."""
        ix = np.tile(np.arange(self.nx), self.ny)
        iy = np.repeat(np.arange(self.ny), self.nx)
        return self.x0 + (ix + 0.5) * self.cell_size, self.y0 + (iy + 0.5) * self.cell_size


def grid_from_bbox(
    xmin: float, ymin: float, xmax: float, ymax: float, cell_size: float, *, mask: np.ndarray | None = None
) -> Grid:
    """Smallest grid of ``cell_size`` squares anchored at ``(xmin, ymin)`` covering the box.

    Examples
    --------
    >>> g = grid_from_bbox(0, 0, 1000, 450, 200)
    >>> (g.nx, g.ny)
    (5, 3)
    """
    if not all(np.isfinite(v) for v in (xmin, ymin, xmax, ymax)) or xmax <= xmin or ymax <= ymin:
        raise InputError("bounding box must be finite with xmin < xmax and ymin < ymax")
    if not (np.isfinite(cell_size) and cell_size > 0):
        raise InputError("cell_size must be a positive number of metres")
    nx = max(1, int(np.ceil((xmax - xmin) / cell_size - 1e-9)))
    ny = max(1, int(np.ceil((ymax - ymin) / cell_size - 1e-9)))
    return Grid(float(xmin), float(ymin), float(cell_size), nx, ny, mask)


def assign_cells(grid: Grid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cell index of each point; ``-1`` for points outside the grid or its mask.

    A point on the east or north edge of the grid belongs to the last column or row.

    Examples
    --------
    >>> g = grid_from_bbox(0, 0, 300, 300, 100)
    >>> assign_cells(g, np.array([50.0, 250.0, 300.0, -1.0]), np.array([50.0, 150.0, 300.0, 0.0])).tolist()
    [0, 5, 8, -1]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    fx = (x - grid.x0) / grid.cell_size
    fy = (y - grid.y0) / grid.cell_size
    inside = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fy >= 0) & (fx <= grid.nx) & (fy <= grid.ny)
    ix = np.clip(np.floor(np.where(inside, fx, 0)).astype(np.int64), 0, grid.nx - 1)
    iy = np.clip(np.floor(np.where(inside, fy, 0)).astype(np.int64), 0, grid.ny - 1)
    cell = np.where(inside, iy * grid.nx + ix, -1)
    if grid.mask is not None:
        cell = np.where((cell >= 0) & grid.mask[np.maximum(cell, 0)], cell, -1)
    return cell


@dataclass(frozen=True, eq=False)
class EventArrays:
    """Events as parallel arrays: time ``t`` (float days), position ``x``, ``y`` (metres), ``cell`` index.

    Arrays are copied and made read-only, so that no method can mutate the caller's data.
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    cell: np.ndarray

    def __post_init__(self) -> None:
        arrays = {
            "t": np.array(self.t, dtype=float),
            "x": np.array(self.x, dtype=float),
            "y": np.array(self.y, dtype=float),
            "cell": np.array(self.cell, dtype=np.int64),
        }
        n = arrays["t"].shape
        for name, arr in arrays.items():
            if arr.ndim != 1 or arr.shape != n:
                raise InputError(f"event array {name!r} must be one-dimensional with the length of 't'")
            if name != "cell" and not np.isfinite(arr).all():
                raise InputError(f"event array {name!r} has non-finite values")
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @classmethod
    def on_grid(cls, t: np.ndarray, x: np.ndarray, y: np.ndarray, grid: Grid) -> EventArrays:
        """Events whose cells are assigned from their positions; raises if any lies outside the grid."""
        cell = assign_cells(grid, x, y)
        outside = int((cell < 0).sum())
        if outside:
            raise InputError(f"{outside} event(s) lie outside the grid or its mask")
        return cls(t, x, y, cell)

    def select(self, keep: np.ndarray) -> EventArrays:
        """The events where the boolean array ``keep`` is true (a new object)."""
        return EventArrays(self.t[keep], self.x[keep], self.y[keep], self.cell[keep])


@dataclass(frozen=True, eq=False)
class Forecast:
    """Scores of every cell for one forecast window, and what the method fitted.

    ``scores`` is an expected count (or, for ``prospective``, a relative risk)
    per cell for ``[end, end + horizon)``; cells outside the mask score 0.
    """

    method: str
    scores: np.ndarray
    params: Mapping[str, float] = field(default_factory=dict)


class Forecaster(Protocol):
    """A place-based forecasting method; built-ins and plug-ins implement the same protocol."""

    name: ClassVar[str]

    def fit_predict(
        self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float, rng: np.random.Generator
    ) -> Forecast:
        """Fit on events with ``start <= t < end``; score each cell for ``[end, end + horizon)``."""
        ...


def training_events(events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float) -> EventArrays:
    """Check a forecasting request and return the training events (``start <= t < end``).

    Raises
    ------
    InputError
        If the window or horizon is not a positive finite span, the horizon is
        longer than the training window, any event lies outside the grid or its
        mask, the training window holds no event, or the last training period
        ``[end - horizon, end)`` lies wholly after the last event supplied (the
        data stop before the window does, so "no event" would mean "no data").
    """
    if not all(np.isfinite(v) for v in (start, end, horizon)):
        raise InputError("start, end and horizon must be finite numbers of days")
    if end <= start:
        raise InputError("training window is empty: end must be after start")
    if horizon <= 0:
        raise InputError("horizon must be a positive number of days")
    if horizon > end - start:
        raise InputError("horizon is longer than the training window")
    cell = events.cell
    bad = (cell < 0) | (cell >= grid.n_cells)
    if not bad.any() and grid.mask is not None:
        bad = ~grid.mask[cell]
    if bad.any():
        raise InputError(f"{int(bad.sum())} event(s) lie outside the grid or its mask")
    if len(events) == 0 or events.t.max() < end - horizon:
        raise InputError("training window ends after the data: no event in its last period")
    keep = (events.t >= start) & (events.t < end)
    if not keep.any():
        raise InputError("no event in the training window")
    return events.select(keep)
