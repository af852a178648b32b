"""The shared records of place-based forecasting and its evaluation: the grid, events on it, a forecast, a method.

Forecasts are about places and times, never about persons: an event is only a
time, a position (metres in a local projection) and the index of the grid
cell it falls in. :class:`EventArrays` is the one event container (forecasters,
backtests, audits); :class:`Forecaster` is the one protocol every method,
built-in or plug-in, implements.

Cells are numbered row-major from the south-west corner: the cell in column
``ix`` (east) and row ``iy`` (north) has index ``iy * nx + ix``.

Units: times are float days since a reference (``places.days_since``), positions
metres in the grid's projection, ``start``, ``end`` and ``horizon`` days.
:func:`training_events`, which every built-in method calls first, refuses
anything else (calendar ``datetime64`` times, ``timedelta64`` spans, positions
that do not lie in their cell, e.g. degrees).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

import numpy as np

from observatoire.errors import InputError

# A position may lie this far (in cells) outside its own cell: rounding of ``x0 + (ix + u) * size``.
_CELL_SLACK = 1e-6


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
    """Events as parallel arrays: time ``t``, position ``x``, ``y`` (metres, optional), grid ``cell`` index.

    The one event container of forecasting and evaluation.

    - ``t``: float days since a reference (what forecasters take), or ``numpy.datetime64``
      values (calendar times such as months, for :func:`~observatoire.analytics.evaluate.rolling_origin_backtest`;
      forecasters refuse them);
    - ``x``, ``y``: metres in the grid's projection, or both ``None`` for events known by their
      cell only (:meth:`in_cells`); a method that needs positions (``st_etas``) refuses those;
    - ``cell``: integer cell index, row-major (see the module docstring).

    Arrays are copied and made read-only, so that no method can mutate the caller's data.

    Raises
    ------
    InputError
        Arrays not 1-D of one length, cells that are not integers, times that are neither
        numbers nor ``datetime64`` or are not finite (NaN, NaT), non-finite positions, or
        only one of ``x`` and ``y``.
    """

    t: np.ndarray
    x: np.ndarray | None
    y: np.ndarray | None
    cell: np.ndarray

    def __post_init__(self) -> None:
        t = _times(self.t)
        cell = np.array(self.cell)
        if t.ndim != 1 or cell.shape != t.shape:
            raise InputError(f"event times and cells must be 1-D of the same length, got shapes {t.shape} and "
                             f"{cell.shape}")
        if cell.size and not np.issubdtype(cell.dtype, np.integer):
            raise InputError(f"cells must hold integer cell indices, got dtype {cell.dtype}")
        arrays: dict[str, np.ndarray | None] = {"t": t, "x": None, "y": None, "cell": cell.astype(np.int64)}
        if (self.x is None) != (self.y is None):
            raise InputError("event positions need both x and y (or neither)")
        if self.x is not None:
            for name, values in (("x", self.x), ("y", self.y)):
                arr = np.array(values, dtype=float)
                if arr.shape != t.shape:
                    raise InputError(f"event array {name!r} must be 1-D of the same length as the times")
                if not np.isfinite(arr).all():
                    raise InputError(f"event array {name!r} has non-finite values")
                arrays[name] = arr
        for name, arr in arrays.items():
            if arr is not None:
                arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def located(self) -> bool:
        """Whether the events carry positions (``x``, ``y``) beside their cells."""
        return self.x is not None

    @classmethod
    def on_grid(cls, t: np.ndarray, x: np.ndarray, y: np.ndarray, grid: Grid) -> EventArrays:
        """Events whose cells are assigned from their positions; raises if any lies outside the grid."""
        cell = assign_cells(grid, x, y)
        outside = int((cell < 0).sum())
        if outside:
            raise InputError(f"{outside} event(s) lie outside the grid or its mask")
        return cls(t, x, y, cell)

    @classmethod
    def in_cells(cls, t: Any, cell: Any) -> EventArrays:
        """Events known by their time and cell only (no position).

        Examples
        --------
        >>> ev = EventArrays.in_cells(np.array(["2018-06", "2018-07"], dtype="datetime64[M]"), [0, 2])
        >>> ev.between(np.datetime64("2018-07"), np.datetime64("2018-08")).counts(3).tolist()
        [0.0, 0.0, 1.0]
        """
        return cls(t, None, None, cell)

    def select(self, keep: np.ndarray) -> EventArrays:
        """The events where the boolean array ``keep`` is true (a new object)."""
        if self.x is None:
            return EventArrays(self.t[keep], None, None, self.cell[keep])
        assert self.y is not None
        return EventArrays(self.t[keep], self.x[keep], self.y[keep], self.cell[keep])

    def between(self, start: Any, end: Any) -> EventArrays:
        """Events with ``start <= t < end`` (``start=None``: no lower bound)."""
        keep = self.t < end
        if start is not None:
            keep &= self.t >= start
        return self.select(keep)

    def counts(self, n_cells: int) -> np.ndarray:
        """Number of events per cell, shape ``(n_cells,)`` (float64)."""
        if self.cell.size and (self.cell.min() < 0 or self.cell.max() >= n_cells):
            raise InputError(f"cell indices must lie in [0, {n_cells})")
        return np.bincount(self.cell, minlength=n_cells).astype(np.float64)


def _times(values: Any) -> np.ndarray:
    """Event times as a new array: ``datetime64`` kept, numbers as float64 (days)."""
    arr = np.array(values)
    if arr.dtype.kind == "M":
        if np.isnat(arr).any():
            raise InputError("event times hold NaT")
        return arr
    if arr.size and arr.dtype.kind not in "biuf":
        raise InputError(f"event times must be float days or numpy datetime64, got dtype {arr.dtype}")
    arr = arr.astype(float)
    if not np.isfinite(arr).all():
        raise InputError("event array 't' has non-finite values")
    return arr


@dataclass(frozen=True, eq=False)
class Forecast:
    """Scores of every cell for one forecast window, and what the method fitted.

    ``scores`` is an expected count (or, for ``prospective``, a relative risk)
    per cell for ``[end, end + horizon)``; cells outside the mask score 0.
    """

    method: str
    scores: np.ndarray
    params: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MethodDefaults:
    """What a method is served with when the caller does not say (:mod:`~observatoire.analytics.forecast.service`).

    Attributes
    ----------
    max_train_events : int
        Training events per fit, the most recent kept
        (:class:`~observatoire.analytics.forecast.capped.CappedForecaster`): bounds the cost of a
        forecast and its backtest (a method costing more per event declares fewer).
    settings : Mapping[str, Any]
        Constructor parameters the service builds the method with (e.g. the EM iterations and
        tolerance of the ETAS fits); every other parameter keeps the class's own default.

    Examples
    --------
    >>> MethodDefaults(20_000, {"max_iter": 100}).settings["max_iter"]
    100
    """

    max_train_events: int = 200_000
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cap = self.max_train_events
        if isinstance(cap, bool) or not isinstance(cap, (int, np.integer)) or cap < 1:
            raise InputError(f"max_train_events must be a positive whole number, got {cap!r}")
        if not all(isinstance(key, str) for key in self.settings):
            raise InputError("method settings are named by strings")
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))


class Forecaster(Protocol):
    """A place-based forecasting method; built-ins and plug-ins implement the same protocol.

    A class with a ``name`` (a lower-case code, the key of the registry) and
    ``fit_predict``, constructible with keyword parameters only. It may also
    declare ``defaults: ClassVar[MethodDefaults]``, how the forecasting service
    runs it (training cap, settings); without it the service uses
    ``MethodDefaults()``. The contract (``tests/analytics/test_forecast_contract.py``):
    scores of shape ``(n_cells,)``, finite and non-negative, 0 outside the mask;
    the same scores for the same events and seed; the caller's arrays untouched;
    :class:`~observatoire.errors.InputError` for events outside the grid or its
    mask and for anything that is not in days and metres (call :func:`training_events` first).
    """

    name: ClassVar[str]

    def fit_predict(
        self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float, rng: np.random.Generator
    ) -> Forecast:
        """Fit on events with ``start <= t < end``; score each cell for ``[end, end + horizon)``."""
        ...


def _days(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_, np.datetime64, np.timedelta64)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a number of days, got {type(value).__name__}")
    return float(value)


def training_events(events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float) -> EventArrays:
    """Check a forecasting request and return the training events (``start <= t < end``).

    Raises
    ------
    InputError
        If ``start``, ``end`` or ``horizon`` is not a number of days, event times are not float
        days (``datetime64``), the window or horizon is not a positive finite span, the horizon is
        longer than the training window, any event lies outside the grid or its mask, a position lies
        outside its event's cell (not metres in the grid's projection), the training window holds no
        event, or the last training period ``[end - horizon, end)`` lies wholly after the last event
        supplied (the data stop before the window does, so "no event" would mean "no data").
    """
    start, end, horizon = _days("start", start), _days("end", end), _days("horizon", horizon)
    if events.t.dtype.kind == "M":
        raise InputError(f"event times are {events.t.dtype}: forecasters take float days since a reference "
                         "(places.days_since)")
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
    if events.x is not None and events.y is not None and len(events):
        fx = (events.x - grid.x0) / grid.cell_size - cell % grid.nx
        fy = (events.y - grid.y0) / grid.cell_size - cell // grid.nx
        off = (fx < -_CELL_SLACK) | (fx > 1 + _CELL_SLACK) | (fy < -_CELL_SLACK) | (fy > 1 + _CELL_SLACK)
        if off.any():
            raise InputError(f"{int(off.sum())} event position(s) lie outside their cell: x and y must be metres "
                             "in the grid's projection")
    if len(events) == 0 or events.t.max() < end - horizon:
        raise InputError("training window ends after the data: no event in its last period")
    keep = (events.t >= start) & (events.t < end)
    if not keep.any():
        raise InputError("no event in the training window")
    return events.select(keep)
