"""The forecasting use-case: one allocation, published by ``/forecasts`` and audited by ``/audits/fairness``.

An *allocation* is the set of cells a forecast selects: the top cells covering at
most ``k`` of the city's area for ``[end, end + horizon)``. Everything that decides
it is an :class:`AllocationSpec` (method, date, horizon, training window, ``k``,
cell size, training cap, the method's settings, seed, filters, training set),
built by :meth:`ForecastService.spec` from the method's own declared defaults
(:class:`~observatoire.analytics.forecast.grid.MethodDefaults`), and it is
computed by :meth:`ForecastService.allocate` only: a forecast the API publishes
and the fairness audit of it select the same cells whenever their specs are equal.

Time axis: float days since the allocation date (UTC midnight of ``spec.end``).
Training uses ``[-train_days, 0)`` (a later start when the training cap binds,
:class:`~observatoire.analytics.forecast.capped.CappedForecaster`); the forecast
is for ``[0, horizon)``. Events are placed on this axis whatever period a route
reads (:func:`~observatoire.analytics.places.place_events` sorts them by
``(t, x, y)``), so the training events, hence the scores, are the same to the bit.

Random draws: ``numpy.random.default_rng(spec.seed).spawn(4)``; child 0 fits,
1 breaks ties in the selection, 2 drives the backtest, 3 the bootstrap.

Backtest (:meth:`ForecastService.forecast`): ``origins`` origins at
``-horizon - origin_step * i`` (``i = origins - 1, ..., 0``), each trained on the
``train_days`` before it with the same capped model and judged on the city's
cells over ``[origin, origin + horizon)`` (hit rate, PAI, PEI:
:func:`~observatoire.analytics.evaluate.rolling_origin_backtest`), beside the
naive baseline (last horizon's counts); per method and metric, the mean over
origins with events and its percentile bootstrap 95 % interval
(:func:`~observatoire.analytics.evaluate.bootstrap_ci`, ``BOOTSTRAP_REPLICATES``
replicates), and the same for the paired PAI difference method minus baseline.

Results are cached per service (one per app): a forecast and its backtest are a
pure function of the spec, the backtest's origins and the events they read,
which :func:`data_extent` fingerprints.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir
import numpy as np

from observatoire.analytics.evaluate import bootstrap_ci, rolling_origin_backtest
from observatoire.analytics.forecast.capped import CappedForecaster
from observatoire.analytics.forecast.grid import Grid
from observatoire.analytics.forecast.registry import FORECASTERS, build_forecaster, method_defaults
from observatoire.analytics.places import CityGrid, PlacedEvents, located_events, query_placed, select_cells
from observatoire.errors import InputError

if TYPE_CHECKING:
    from observatoire.store.base import ReadStore

BASELINE = "naive"
BOOTSTRAP_REPLICATES = 2000
RESULT_CACHE_SIZE = 32
TRAINING = ("all", "independent")

# ``StoreReader.query``: runs a function on the store's events table and returns its result.
Query = Callable[[Callable[[ir.Table], Any]], Any]


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def seeded_streams(seed: int) -> list[np.random.Generator]:
    """The four independent streams of a seed: fit, selection ties, backtest, bootstrap."""
    return list(np.random.default_rng(seed).spawn(4))


# --------------------------------------------------------------------------- what decides an allocation


@dataclass(frozen=True)
class AllocationSpec:
    """Everything that decides an allocation; equal specs give equal allocations on equal events.

    ``settings`` are the constructor parameters the method is built with (sorted pairs),
    ``max_train_events`` its training cap, both from its declared defaults unless the caller
    set the cap. ``training`` is ``all`` or ``independent`` (only incidents reported
    independently of the observatory's own attention, against feedback loops).
    """

    method: str
    end: date
    horizon_days: int
    train_days: int
    k: float
    cell_m: float
    max_train_events: int
    settings: tuple[tuple[str, Any], ...]
    seed: int
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    training: str = "all"
    # The first day of the data (the filters' first located event): no training window starts before it, since
    # days before the data are not days without incidents. None: the windows are taken as given.
    data_start: date | None = None

    @property
    def data_start_day(self) -> float | None:
        """``data_start`` on the allocation's axis (days since ``end``), or None."""
        return None if self.data_start is None else float((self.data_start - self.end).days)

    @property
    def reference(self) -> datetime:
        """Time 0 of the allocation's axis: UTC midnight of its date."""
        return _day(self.end)

    @property
    def discoveries(self) -> tuple[str, ...] | None:
        """The discovery modes the allocation learns from (``None``: all)."""
        return ("independent",) if self.training == "independent" else None


@dataclass(frozen=True, eq=False)
class Allocation:
    """The forecast of a spec and the cells it selects.

    Attributes
    ----------
    scores : numpy.ndarray, shape (n_cells,)
        The forecast for ``[0, horizon)`` (days since ``spec.end``); 0 outside the city.
    cells : numpy.ndarray of int
        The selected cells, highest score first (ties in random order from the seed).
    params : Mapping[str, float]
        What the method fitted, and ``train_start``.
    train_start : float
        First training day actually used (negative; later than ``-train_days`` when capped).
    training_events : int
        Events the forecast was trained on.
    """

    spec: AllocationSpec
    scores: np.ndarray
    cells: np.ndarray
    params: Mapping[str, float]
    train_start: float
    training_events: int

    @property
    def training_start(self) -> date:
        """The day (UTC) of the first training instant actually used."""
        return (self.spec.reference + timedelta(days=self.train_start)).date()


# --------------------------------------------------------------------------- the data a forecast reads


@dataclass(frozen=True)
class Extent:
    """First and last located event of some filters, and a fingerprint of those events."""

    first: datetime | None
    last: datetime | None
    fingerprint: str


def data_extent(
    events: ir.Table,
    *,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    discoveries: Sequence[str] | None = None,
    store: ReadStore | None = None,
    cgrid: CityGrid | None = None,
) -> Extent:
    """First and last located event of the filters and their fingerprint: one engine scan, or the store's
    ``cell_counts`` when it answers (a store that keeps rollups: same figures; not split by discovery mode).

    The fingerprint is a digest of the number of events and the (integer) sum of their epoch seconds:
    the store only appends batches and purges rows, so any change to the events a forecast may read
    changes it.
    """
    if store is not None and cgrid is not None and not discoveries:
        rolled = store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0),
                                   cell_m=cgrid.grid.cell_size, sources=sources, categories=categories,
                                   extent_only=True)
        if rolled is not None:
            n = rolled.extent["n"]
            total = rolled.extent["t_sum"] if n else None
            return Extent(rolled.extent["t_min"], rolled.extent["t_max"], _digest(n, total))
    kept = located_events(events, sources=sources, categories=categories, discoveries=discoveries)
    row = kept.aggregate(first=kept.occurred_at.min(), last=kept.occurred_at.max(), n=kept.count(),
                         t=kept.occurred_at.epoch_seconds().cast("int64").sum()).to_pyarrow().to_pylist()[0]
    return Extent(row["first"], row["last"], _digest(row["n"], row["t"]))


def _digest(n: Any, total: Any) -> str:
    return hashlib.blake2b(f"{n}:{total}".encode(), digest_size=16).hexdigest()


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Summary:
    """Mean over the origins with a finite value, and its percentile bootstrap 95 % interval (two origins or more)."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    origins: int


@dataclass(frozen=True)
class BacktestRow:
    """One method at one backtest origin (NaN metrics: no event in the window)."""

    origin: date
    method: str
    hit_rate: float
    pai: float
    pei: float
    area_share: float
    n_events: int


@dataclass(frozen=True, eq=False)
class ForecastRun:
    """An allocation and its rolling-origin backtest beside the naive baseline."""

    allocation: Allocation
    origins: list[date]
    rows: list[BacktestRow]                       # per origin: the method, then the baseline
    summaries: dict[str, dict[str, Summary]]     # method (then baseline) -> metric -> summary
    pai_difference: Summary
    bootstrap_replicates: int


def summarise(values: Sequence[float], rng: np.random.Generator, replicates: int = BOOTSTRAP_REPLICATES) -> Summary:
    """:class:`Summary` of the finite ``values`` (NaN: an origin without events, left out)."""
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return Summary(None, None, None, 0)
    low = high = None
    if v.size >= 2:
        low, high = bootstrap_ci(v, rng, n=replicates)
    return Summary(float(v.mean()), low, high, int(v.size))


class ResultCache:
    """The last ``size`` results, by key (thread-safe, least recently used out first)."""

    def __init__(self, size: int = RESULT_CACHE_SIZE) -> None:
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


# --------------------------------------------------------------------------- the service


class ForecastService:
    """Forecasts as the API serves them: one per app, holding the registered forecasters and a result cache.

    Parameters
    ----------
    forecasters
        The methods by name (``registry.load_forecasters()`` at the app's start: built-ins and
        plug-ins); default: the built-ins.
    cache_size
        Forecast results kept.
    """

    def __init__(self, forecasters: Mapping[str, type] | None = None, *, cache_size: int = RESULT_CACHE_SIZE) -> None:
        self.forecasters: Mapping[str, type] = FORECASTERS if forecasters is None else forecasters
        if BASELINE not in self.forecasters:
            raise InputError(f"the forecasters must include the {BASELINE} baseline")
        self._cache = ResultCache(cache_size)

    # ---- parameters

    def validate(self, method: str, *, horizon_days: int, train_days: int, training: str = "all") -> None:
        """422-worthy parameter errors, before any work: unknown method or training set, horizon too long."""
        if method not in self.forecasters:
            raise InputError(f"unknown method {method[:40]!r}; known: {', '.join(sorted(self.forecasters))}")
        if horizon_days > train_days:
            raise InputError(f"horizon_days ({horizon_days}) must not exceed train_days ({train_days})")
        if training not in TRAINING:
            raise InputError(f"training: expected all or independent, not {training[:40]!r}")

    def spec(
        self, method: str, *, end: date, horizon_days: int, train_days: int, k: float, cell_m: float, seed: int,
        max_train_events: int | None = None, sources: Sequence[str] = (), categories: Sequence[str] = (),
        training: str = "all", data_start: date | None = None,
    ) -> AllocationSpec:
        """The spec of an allocation, with the method's declared training cap (unless given) and settings."""
        self.validate(method, horizon_days=horizon_days, train_days=train_days, training=training)
        defaults = method_defaults(self.forecasters[method])
        return AllocationSpec(
            method=method, end=end, horizon_days=int(horizon_days), train_days=int(train_days), k=float(k),
            cell_m=float(cell_m), max_train_events=int(max_train_events or defaults.max_train_events),
            settings=tuple(sorted(defaults.settings.items())), seed=int(seed), sources=tuple(sources),
            categories=tuple(categories), training=training, data_start=data_start)

    def model(self, spec: AllocationSpec) -> CappedForecaster:
        """The method of ``spec`` built with its settings, trained on at most its cap of events."""
        return CappedForecaster(build_forecaster(self.forecasters, spec.method, **dict(spec.settings)),
                                spec.max_train_events)

    # ---- events

    def place(self, query: Query, cgrid: CityGrid, spec: AllocationSpec, *, start: date,
              end: date | None = None) -> PlacedEvents:
        """The spec's located events of ``[start, end)`` (``end``: the allocation date) on its time axis."""
        return query(lambda events: query_placed(
            events, cgrid, start=start, end=end or spec.end, sources=spec.sources or None,
            categories=spec.categories or None, discoveries=spec.discoveries, reference=spec.reference))

    # ---- the allocation

    def allocate(self, placed: PlacedEvents, grid: Grid, spec: AllocationSpec) -> Allocation:
        """Fit the spec's capped model on ``[-train_days, 0)`` and select its top cells (see the module docstring).

        Raises
        ------
        InputError
            Events placed on another time axis than the spec's, or the forecaster's own refusals
            (no event in the training window...).
        """
        if placed.reference != spec.reference:
            raise InputError("the events must be placed on the allocation's time axis (days since its date)")
        rng_fit, rng_select = seeded_streams(spec.seed)[:2]
        start, horizon = -float(spec.train_days), float(spec.horizon_days)
        if spec.data_start_day is not None:            # never before the data
            start = max(start, spec.data_start_day)
        events = placed.events
        train = events.select((events.t >= start) & (events.t < 0.0))
        forecast = self.model(spec).fit_predict(train, grid, start=start, end=0.0, horizon=horizon, rng=rng_fit)
        cells = select_cells(forecast.scores, grid, spec.k, rng_select)
        used = float(forecast.params.get("train_start", start))
        return Allocation(spec, np.asarray(forecast.scores, dtype=float), cells, dict(forecast.params), used,
                          int((train.t >= used).sum()))

    # ---- the published forecast

    def forecast_end(self, extent: Extent, end: date | None, *, horizon_days: int, train_days: int, origins: int,
                     origin_step_days: int, training: str = "all") -> date:
        """The forecast's date: ``end``, or the day after the data; refused when the data cannot back it."""
        if extent.last is None or extent.first is None:
            raise InputError("no event with a place matches the filters"
                             + (" among independently reported incidents" if training == "independent" else "")
                             + ": nothing to forecast from")
        data_end = extent.last.date() + timedelta(days=1)           # first day after the data
        stop = end or data_end
        if stop > data_end:
            raise InputError(f"end ({stop.isoformat()}) is after the data (last event on "
                             f"{extent.last.date().isoformat()}): the backtest's last window would be empty")
        span = horizon_days + origin_step_days * (origins - 1)
        if stop - timedelta(days=span) <= extent.first.date():
            raise InputError(f"the data start on {extent.first.date().isoformat()}: too late for {origins} origins "
                             f"every {origin_step_days} days before {stop.isoformat()} with a {horizon_days}-day "
                             "horizon")
        return stop

    def forecast(self, query: Query, cgrid: CityGrid, spec: AllocationSpec, *, origins: int, origin_step_days: int,
                 fingerprint: str) -> ForecastRun:
        """The allocation of ``spec`` and its backtest (cached by spec, origins and the events' fingerprint)."""
        key = (spec, origins, origin_step_days, fingerprint)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        h = float(spec.horizon_days)
        span = spec.horizon_days + origin_step_days * (origins - 1)
        placed = self.place(query, cgrid, spec, start=spec.end - timedelta(days=span + spec.train_days))
        if len(placed.events) == 0:
            raise InputError("no event with a place inside the city in the training period")
        grid = cgrid.grid
        allocation = self.allocate(placed, grid, spec)
        rng_backtest, rng_boot = seeded_streams(spec.seed)[2:]
        origin_days = [-h - origin_step_days * i for i in range(origins - 1, -1, -1)]
        table = rolling_origin_backtest(
            self.model(spec), placed.events, grid, np.ones(grid.n_cells), origin_days, h, spec.k, rng_backtest,
            train_window=float(spec.train_days), baseline=build_forecaster(self.forecasters, BASELINE),
            method=spec.method, baseline_method=BASELINE, study_area=grid.active, data_start=spec.data_start_day)
        dates = [spec.end + timedelta(days=int(o)) for o in origin_days]
        rows = [BacktestRow(dates[i // 2], r["method"], r["hit_rate"], r["pai"], r["pei"], r["area_share"],
                            int(r["n_events"])) for i, r in enumerate(table.to_pylist())]
        summaries: dict[str, dict[str, Summary]] = {}
        for name, mine in ((spec.method, rows[0::2]), (BASELINE, rows[1::2])):
            if name not in summaries:                      # the baseline itself: listed once
                summaries[name] = {m: summarise([getattr(r, m) for r in mine], rng_boot)
                                   for m in ("hit_rate", "pai", "pei")}
        diffs = [a.pai - b.pai for a, b in zip(rows[0::2], rows[1::2], strict=True)]
        run = ForecastRun(allocation, dates, rows, summaries, summarise(diffs, rng_boot), BOOTSTRAP_REPLICATES)
        self._cache.put(key, run)
        return run
