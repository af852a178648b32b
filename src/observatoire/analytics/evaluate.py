"""Evaluation of place-based forecasts: hit rate, PAI, PEI, rolling-origin backtests, bootstrap intervals.

A place-based forecast gives every cell of a grid a score; a patrol plan covers
the highest-scoring cells until a fraction ``k`` of the study area is covered.
The forecast is judged on the events observed afterwards in those cells.

Every function here is pure: arrays in, numbers or a new Arrow table out, the
caller's arrays are never modified, and every random choice comes from the
``numpy.random.Generator`` passed in. Events are the forecasters' own container,
:class:`~observatoire.analytics.forecast.grid.EventArrays` (times in days or
``datetime64``), and a forecaster is anything implementing
:class:`~observatoire.analytics.forecast.grid.Forecaster`.

Formulas (``n`` events observed in the selected cells, ``N`` in all cells,
``a`` the selected area, ``A`` the whole area, ``n*`` the most events any
selection of area ``a`` could have captured):

* hit rate ``= n / N``;
* PAI ``= (n / N) / (a / A)`` (Chainey, Tompson & Uhlig 2008);
* PEI ``= (n / N) / (n* / N) = n / n*`` (Hunt 2016), in ``[0, 1]`` for
  equal-area cells, 1 for a perfect (oracle) forecast.

References
----------
Chainey, S., Tompson, L. & Uhlig, S. (2008). The utility of hotspot mapping
for predicting spatial patterns of crime. *Security Journal* 21, 4-28.

Hunt, J. M. (2016). *Do crime hot spots move? Exploring the effects of the
modifiable areal unit problem and modifiable temporal unit problem on crime
hot spot stability.* PhD thesis, American University, Washington DC.

Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*,
ch. 13 (percentile intervals). Chapman & Hall.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from observatoire.analytics.forecast.grid import EventArrays, Forecast, Forecaster, Grid
from observatoire.errors import InputError

__all__ = [
    "Evaluation",
    "BACKTEST_SCHEMA",
    "bootstrap_ci",
    "evaluate",
    "historical_baseline",
    "hit_rate",
    "pai",
    "pei",
    "rolling_origin_backtest",
    "select_top",
    "uniform_baseline",
]

# Relative slack on the area budget so that k = 0.3 of ten unit cells selects 3 cells
# although 0.3 * 10 == 3.0000000000000004 in binary floating point.
_AREA_RTOL = 1e-9


@dataclass(frozen=True)
class Evaluation:
    """Scores of one forecast against one evaluation window (see the module docstring)."""

    hit_rate: float
    pai: float
    pei: float
    area_share: float
    n_selected: int
    n_events: float


def _window(times: np.ndarray, start: Any, end: Any) -> np.ndarray:
    keep = times < end
    if start is not None:
        keep &= times >= start
    return keep


def _times_and_cells(events: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ``t`` and ``cell`` arrays of :class:`EventArrays` (or of any object with those and ``select``)."""
    times, cells = getattr(events, "t", None), getattr(events, "cell", None)
    if times is None or cells is None or not callable(getattr(events, "select", None)):
        raise InputError("events must be EventArrays: times .t, cell indices .cell and a .select(mask)")
    return np.asarray(times), np.asarray(cells)


# --------------------------------------------------------------------------- validation


def _check_k(k: float) -> float:
    if not isinstance(k, (int, float, np.integer, np.floating)) or isinstance(k, bool):
        raise InputError(f"k must be a number in (0, 1], got {type(k).__name__}")
    k = float(k)
    if not (0.0 < k <= 1.0):
        raise InputError(f"k must be a coverage fraction in (0, 1], got {k}")
    return k


def _as_vector(name: str, values: Any) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise InputError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite (no NaN or infinity)")
    return arr


def _check_area(area: Any, n_cells: int) -> np.ndarray:
    arr = _as_vector("area", area)
    if arr.shape != (n_cells,):
        raise InputError(f"area has shape {arr.shape} but scores has shape ({n_cells},)")
    if np.any(arr <= 0):
        raise InputError("area must be strictly positive in every cell")
    return arr


def _check_observed(observed: Any, n_cells: int) -> np.ndarray:
    arr = _as_vector("observed", observed)
    if arr.shape != (n_cells,):
        raise InputError(f"observed has shape {arr.shape} but scores has shape ({n_cells},)")
    if np.any(arr < 0):
        raise InputError("observed counts must be non-negative")
    return arr


# --------------------------------------------------------------------------- selection


def _prefix_within_budget(order: np.ndarray, area: np.ndarray, budget: float) -> np.ndarray:
    """Boolean mask of the longest prefix of ``order`` whose total area is <= ``budget``."""
    cum = np.cumsum(area[order])
    m = int(np.searchsorted(cum, budget * (1.0 + _AREA_RTOL), side="right"))
    mask = np.zeros(area.shape[0], dtype=bool)
    mask[order[:m]] = True
    return mask


def select_top(scores: Any, area: Any, k: float, rng: np.random.Generator) -> np.ndarray:
    """Select the highest-scoring cells until a fraction ``k`` of the total area is covered.

    Cells are ranked by decreasing score and taken in that order while the
    selected area stays within ``k * area.sum()`` (the budget is never
    exceeded; with equal areas this is ``floor(k * n_cells)`` cells).
    Cells with equal scores are ordered by a uniformly random permutation
    drawn from ``rng``, so ties never favour low cell indices; a constant
    forecast therefore gives a uniformly random selection.

    Parameters
    ----------
    scores : array_like, shape (n_cells,)
        Forecast scores; larger means more expected events. Must be finite.
    area : array_like, shape (n_cells,)
        Strictly positive cell areas (use ones for equal cells).
    k : float
        Coverage fraction in ``(0, 1]``, e.g. 0.05 for 5 % of the area.
    rng : numpy.random.Generator
        Source of the tie-breaking permutation (one ``permutation`` call).

    Returns
    -------
    numpy.ndarray of bool, shape (n_cells,)
        True for the selected cells.

    Raises
    ------
    InputError
        If ``k`` is outside ``(0, 1]``, shapes differ, values are not finite,
        an area is not positive, or ``k`` is too small to cover even the
        top-ranked cell.

    Examples
    --------
    >>> import numpy as np
    >>> select_top([5, 1, 9, 3], np.ones(4), 0.5, np.random.default_rng(0)).nonzero()[0]
    array([0, 2])
    """
    s = _as_vector("scores", scores)
    a = _check_area(area, s.shape[0])
    k = _check_k(k)
    tie_order = rng.permutation(s.shape[0])
    order = tie_order[np.argsort(-s[tie_order], kind="stable")]
    mask = _prefix_within_budget(order, a, k * a.sum())
    if not mask.any():
        raise InputError(
            f"k={k} covers less area than the top-ranked cell ({a[order[0]] / a.sum():.4g} of the total); "
            "use a larger k or smaller cells"
        )
    return mask


def _oracle_capture(observed: np.ndarray, area: np.ndarray, budget: float) -> float:
    """Most events a selection within ``budget`` area can capture (greedy by event density).

    Exact for equal-area cells (the top cells by count); for unequal areas the
    greedy density order is the usual approximation of this knapsack problem.
    """
    density = observed / area
    order = np.argsort(-density, kind="stable")
    return float(observed[_prefix_within_budget(order, area, budget)].sum())


def evaluate(scores: Any, observed: Any, area: Any, k: float, rng: np.random.Generator) -> Evaluation:
    """Hit rate, PAI and PEI of one forecast on one evaluation window, from one selection.

    Parameters
    ----------
    scores : array_like, shape (n_cells,)
        Forecast scores.
    observed : array_like, shape (n_cells,)
        Non-negative event counts in the evaluation window.
    area : array_like, shape (n_cells,)
        Strictly positive cell areas.
    k : float
        Coverage fraction in ``(0, 1]``.
    rng : numpy.random.Generator
        Tie-breaking for :func:`select_top`.

    Returns
    -------
    Evaluation
        ``hit_rate = n / N``, ``pai = hit_rate / (a / A)`` (Chainey et al.
        2008), ``pei = n / n*`` (Hunt 2016) where ``n*`` is the count caught
        by the best selection of the same area ``a`` as the forecast's.
        All three are NaN when no event was observed (``N = 0``).
    """
    mask = select_top(scores, area, k, rng)
    s = np.asarray(scores, dtype=np.float64)
    a = _check_area(area, s.shape[0])
    obs = _check_observed(observed, s.shape[0])
    total = float(obs.sum())
    caught = float(obs[mask].sum())
    selected_area = float(a[mask].sum())
    area_share = selected_area / float(a.sum())
    if total == 0.0:
        return Evaluation(np.nan, np.nan, np.nan, area_share, int(mask.sum()), 0.0)
    hr = caught / total
    best = _oracle_capture(obs, a, selected_area)
    pei_value = caught / best if best > 0 else np.nan
    return Evaluation(hr, hr / area_share, pei_value, area_share, int(mask.sum()), total)


def hit_rate(scores: Any, observed: Any, area: Any, k: float, rng: np.random.Generator) -> float:
    """Share of the observed events that fall in the cells selected by :func:`select_top`.

    Examples
    --------
    >>> import numpy as np
    >>> hit_rate([3, 2, 1, 0], [4, 0, 1, 5], np.ones(4), 0.5, np.random.default_rng(0))
    0.4
    """
    return evaluate(scores, observed, area, k, rng).hit_rate


def pai(scores: Any, observed: Any, area: Any, k: float, rng: np.random.Generator) -> float:
    """Predictive Accuracy Index: hit rate divided by the selected share of the area.

    ``PAI = (n / N) / (a / A)`` (Chainey, Tompson & Uhlig 2008). The actual
    selected share ``a / A`` is used, not ``k``, so rounding to whole cells
    does not bias the index. A random selection has expected PAI 1.

    Examples
    --------
    >>> import numpy as np
    >>> pai([3, 2, 1, 0], [4, 0, 1, 5], np.ones(4), 0.5, np.random.default_rng(0))
    0.8
    """
    return evaluate(scores, observed, area, k, rng).pai


def pei(scores: Any, observed: Any, area: Any, k: float, rng: np.random.Generator) -> float:
    """Predictive Efficiency Index: events caught over the most an equal-area selection could catch.

    ``PEI = n / n*`` (Hunt 2016): 1 for the oracle that selects the cells
    with the most observed events, 0 when no selected cell had an event.

    Examples
    --------
    >>> import numpy as np
    >>> pei([3, 2, 1, 0], [4, 0, 1, 5], np.ones(4), 0.5, np.random.default_rng(0))
    0.4444444444444444
    """
    return evaluate(scores, observed, area, k, rng).pei


# --------------------------------------------------------------------------- baselines


@dataclass(frozen=True)
class _HistoricalCounts:
    """Score = number of training events per cell, whatever the time unit (days, months...)."""

    n_cells: int
    name: ClassVar[str] = "historical_counts"

    def fit_predict(self, events: Any, grid: Any, *, start: Any, end: Any, horizon: Any,
                    rng: np.random.Generator) -> Forecast:
        _, cells = _times_and_cells(events)
        return Forecast(self.name, EventArrays.in_cells(np.zeros(cells.shape[0]), cells).counts(self.n_cells))


@dataclass(frozen=True)
class _Uniform:
    """One constant score for every cell."""

    n_cells: int
    name: ClassVar[str] = "uniform"

    def fit_predict(self, events: Any, grid: Any, *, start: Any, end: Any, horizon: Any,
                    rng: np.random.Generator) -> Forecast:
        return Forecast(self.name, np.zeros(self.n_cells))


def historical_baseline(n_cells: int) -> Forecaster:
    """Naive forecaster: the number of training events per cell ("last period's hotspots").

    Unlike the registered methods it takes any time unit (``datetime64`` months too): it only counts cells.
    """
    return _HistoricalCounts(n_cells)


def uniform_baseline(n_cells: int) -> Forecaster:
    """Forecaster with one constant score: :func:`select_top` then picks cells uniformly at random."""
    return _Uniform(n_cells)


# --------------------------------------------------------------------------- backtest

BACKTEST_SCHEMA = pa.schema([
    pa.field("origin", pa.string(), nullable=False),
    pa.field("method", pa.string(), nullable=False),
    pa.field("hit_rate", pa.float64()),
    pa.field("pai", pa.float64()),
    pa.field("pei", pa.float64()),
    pa.field("area_share", pa.float64(), nullable=False),
    pa.field("n_events", pa.float64(), nullable=False),
])


def _scores_of(result: Any, n_cells: int, method: str) -> np.ndarray:
    scores = np.asarray(getattr(result, "scores", result), dtype=np.float64)
    if scores.shape != (n_cells,):
        raise InputError(f"forecaster {method!r} returned scores of shape {scores.shape}, expected ({n_cells},)")
    return scores


def rolling_origin_backtest(
    forecaster: Forecaster | Callable[..., Any],
    events: Any,
    grid: Any,
    area: Any,
    origins: Sequence[Any],
    horizon: Any,
    k: float,
    rng: np.random.Generator,
    *,
    train_window: Any = None,
    baseline: Forecaster | Callable[..., Any] | None = None,
    method: str = "forecast",
    baseline_method: str = "baseline",
    study_area: Any = None,
    data_start: Any = None,
) -> pa.Table:
    """Rolling-origin evaluation of a forecaster beside a naive baseline.

    For each ``origin`` the forecaster is fitted on the events with
    ``start <= t < origin``, where ``start = origin - train_window`` (the
    earliest event time when ``train_window`` is None), but never before ``data_start`` when given (time
    before the data is not time without events), and called as
    ``forecaster.fit_predict(train_events, grid, start=start, end=origin, horizon=horizon, rng=rng)``;
    its scores are evaluated (:func:`evaluate`) on the events with
    ``origin <= t < origin + horizon``. The baseline is run the same way on
    the same windows.

    Parameters
    ----------
    forecaster : Forecaster
        See :class:`~observatoire.analytics.forecast.grid.Forecaster`; a bare function with the
        signature of ``fit_predict`` is taken as one. Its result is a ``Forecast`` (or anything
        with ``.scores``) or the scores themselves, shape ``(n_cells,)``.
    events : EventArrays
        All events (training and evaluation), times in any unit ``origins`` compare with (days,
        ``datetime64`` months...); any object with ``t`` and ``cell`` arrays and a ``select(mask)``
        is read the same way, and training subsets keep its type.
    grid : object
        Passed through to the forecasters untouched.
    area : array_like, shape (n_cells,)
        Cell areas; ``n_cells`` is its length.
    origins : sequence
        Forecast origins, comparable with ``events.t``.
    horizon : object
        Length of the evaluation window (``origin + horizon`` must be valid,
        e.g. a ``numpy.timedelta64`` for ``datetime64`` times).
    k : float
        Coverage fraction in ``(0, 1]``.
    rng : numpy.random.Generator
        Parent generator. Each origin and method gets its own child stream
        (``rng.spawn``), so adding a baseline never changes the forecast's draws.
    train_window : object, optional
        Length of the training window before each origin.
    baseline : Forecaster, optional
        Defaults to :func:`historical_baseline` (training counts per cell).
    method, baseline_method : str
        Labels written in the ``method`` column.
    study_area : array_like of bool, shape (n_cells,), optional
        The cells the evaluation is about (e.g. a grid's cells inside the city): the selection,
        ``a / A``, ``N`` and ``n*`` are taken over these cells only, as if the others did not exist;
        the forecasters still see and score the whole grid. Default: the mask of ``grid`` when it is a
        masked :class:`~observatoire.analytics.forecast.grid.Grid` (so ``k`` is a share of the study
        area, never of the bounding box), else every cell.
    data_start : object, optional
        The start of the data (comparable with ``events.t``): no training window starts before it.

    Returns
    -------
    pyarrow.Table
        One row per origin and method, schema :data:`BACKTEST_SCHEMA`:
        ``origin`` (as text), ``method``, ``hit_rate``, ``pai``, ``pei``,
        ``area_share``, ``n_events``.
    """
    times, cells = _times_and_cells(events)
    a = _as_vector("area", area)
    n_cells = a.shape[0]
    _check_k(k)
    if len(origins) == 0:
        raise InputError("origins must hold at least one forecast origin")
    if study_area is None and isinstance(grid, Grid) and grid.mask is not None and grid.n_cells == n_cells:
        study_area = grid.active          # a masked grid's study area is its mask (k is a share of it)
    study = np.ones(n_cells, dtype=bool) if study_area is None else np.asarray(study_area, dtype=bool)
    if study.shape != (n_cells,) or not study.any():
        raise InputError(f"study_area must be a boolean mask of shape ({n_cells},) keeping at least one cell")
    runs = [(method, forecaster), (baseline_method, baseline if baseline is not None else historical_baseline(n_cells))]
    rows: dict[str, list[Any]] = {name: [] for name in BACKTEST_SCHEMA.names}
    earliest = times.min() if times.size else None
    for origin, origin_rng in zip(origins, rng.spawn(len(origins)), strict=True):
        start = earliest if train_window is None else origin - train_window
        if data_start is not None and start is not None and start < data_start:
            start = data_start
        train = events.select(_window(times, start, origin))
        future = _window(times, origin, origin + horizon)
        observed = EventArrays.in_cells(np.zeros(int(future.sum())), cells[future]).counts(n_cells)[study]
        for (label, fn), child in zip(runs, origin_rng.spawn(len(runs)), strict=True):
            fit_rng, tie_rng = child.spawn(2)
            call = getattr(fn, "fit_predict", fn)
            result = call(train, grid, start=start, end=origin, horizon=horizon, rng=fit_rng)
            scores = _scores_of(result, n_cells, label)
            evaluation = evaluate(scores[study], observed, a[study], k, tie_rng)
            rows["origin"].append(str(origin))
            rows["method"].append(label)
            rows["hit_rate"].append(evaluation.hit_rate)
            rows["pai"].append(evaluation.pai)
            rows["pei"].append(evaluation.pei)
            rows["area_share"].append(evaluation.area_share)
            rows["n_events"].append(evaluation.n_events)
    return pa.Table.from_pydict(rows, schema=BACKTEST_SCHEMA)


# --------------------------------------------------------------------------- bootstrap


def bootstrap_ci(
    values: Any,
    rng: np.random.Generator,
    n: int = 9999,
    level: float = 0.95,
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval over origins.

    The unit of resampling is the *origin*: ``values`` holds one number per
    backtest origin (a PAI, a hit rate, or a paired difference forecast minus
    baseline), and each replicate draws ``len(values)`` of them with
    replacement (Efron & Tibshirani 1993, ch. 13). This treats origins as
    exchangeable; with overlapping or strongly autocorrelated windows the
    interval is too narrow. Events are not resampled.

    Parameters
    ----------
    values : array_like, shape (n_origins,)
        Finite values, at least two.
    rng : numpy.random.Generator
        Source of the resampling indices.
    n : int
        Number of bootstrap replicates.
    level : float
        Confidence level in ``(0, 1)``.
    statistic : callable, optional
        Vectorised statistic applied along axis 1 of the ``(n, n_origins)``
        replicate matrix; defaults to the mean.

    Returns
    -------
    (float, float)
        The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the
        replicated statistic.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size < 2:
        raise InputError(f"values must be a 1-D array of at least two origins, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise InputError("values must be finite; drop origins without events (NaN) before bootstrapping")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a positive number of replicates, got {n}")
    if not (0.0 < level < 1.0):
        raise InputError(f"level must lie in (0, 1), got {level}")
    idx = rng.integers(0, v.size, size=(int(n), v.size))
    samples = v[idx]
    stats = samples.mean(axis=1) if statistic is None else np.asarray(statistic(samples), dtype=np.float64)
    alpha = 1.0 - level
    low, high = np.quantile(stats, [alpha / 2.0, 1.0 - alpha / 2.0])
    return float(low), float(high)
