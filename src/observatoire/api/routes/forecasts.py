"""``GET /api/v1/forecasts``: the top-k cells for the coming days, and a backtest beside the naive baseline."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import ibis.expr.types as ir
import numpy as np
from fastapi import APIRouter, Query, Request

from observatoire.analytics.evaluate import bootstrap_ci
from observatoire.analytics.forecast import FORECASTERS, get_forecaster
from observatoire.analytics.places import (
    CappedForecaster,
    backtest_on_active,
    located_events,
    query_placed,
    select_cells,
)
from observatoire.audits.feedback_loop import independent_events
from observatoire.api.deps import CityDep, GridsDep, StoreDep
from observatoire.api.models import (
    Evaluation,
    ForecastFeature,
    ForecastParameters,
    ForecastProperties,
    ForecastResult,
    MethodSummary,
    MetricSummary,
    OriginScore,
    Period,
)
from observatoire.api.params import CountFilters, count_filters, parse_date
from observatoire.api.routes.cells import check_filter_sources, filters_echo, finite, grid_info, polygons
from observatoire.errors import InputError
from observatoire.event.schema import ATTRIBUTES

router = APIRouter(prefix="/api/v1", tags=["forecasts"])

BASELINE = "naive"
BOOTSTRAP_REPLICATES = 2000
# Training events per fit (the most recent ones are kept): bounds a forecast plus its backtest to a few
# seconds on a city-year (docs/api.md). The space-time model costs about ten times the grid one per event.
DEFAULT_MAX_TRAIN_EVENTS = {"st_etas": 4_000, "grid_etas": 20_000}
OTHER_MAX_TRAIN_EVENTS = 200_000
# EM settings of the ETAS fits: where triggering is weak (theta near 0) EM creeps for hundreds of
# iterations without changing the ranking of cells; 100 iterations at 1e-4 keep a fit under a second.
ETAS_FIT: dict[str, Any] = {"max_iter": 100, "tol": 1e-4}


RESULT_CACHE_SIZE = 32


class ResultCache:
    """The last ``size`` forecast results, by request parameters and a digest of the training events.

    A forecast and its backtest are a pure function of their parameters and of
    the events they read (every draw is seeded): when both are the same the
    result is too, whatever the store did in between. When data are committed
    (or leave by retention) the events, hence the digest, change and the entry
    is simply not found again. Kept on ``app.state``: one cache per app.
    """

    def __init__(self, size: int = RESULT_CACHE_SIZE) -> None:
        self._items: OrderedDict[tuple[Any, ...], ForecastResult] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> ForecastResult | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[Any, ...], value: ForecastResult) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def _cache(request: Request) -> ResultCache:
    cache = getattr(request.app.state, "forecast_results", None)
    if cache is None:
        cache = request.app.state.forecast_results = ResultCache()
    return cache


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _extent(events: ir.Table, filters: CountFilters, store: Any = None, cgrid: Any = None) -> tuple[Any, Any, str]:
    """First and last located event of the filters, and a fingerprint of those events (one engine scan,
    or the store's rollups when it keeps them: the same figures).

    The store only appends batches and purges rows: any change to the events a
    forecast may read changes their count or the (integer) sum of their times,
    hence the fingerprint, which keys the result cache.
    """
    kept = located_events(events, sources=filters.sources or None, categories=filters.categories or None)
    rolled = None
    if hasattr(store, "cell_counts") and cgrid is not None:
        rolled = store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0),
                                   cell_m=cgrid.grid.cell_size, sources=filters.sources or None,
                                   categories=filters.categories or None, extent_only=True)
    if rolled is not None:
        row = {"first": rolled.extent["t_min"], "last": rolled.extent["t_max"], "n": rolled.extent["n"],
               "t": rolled.extent["t_sum"] if rolled.extent["n"] else None}
        digest = hashlib.blake2b(f"{row['n']}:{row['t']}".encode(), digest_size=16).hexdigest()
        return row["first"], row["last"], digest
    row = kept.aggregate(first=kept.occurred_at.min(), last=kept.occurred_at.max(), n=kept.count(),
                         t=kept.occurred_at.epoch_seconds().cast("int64").sum()).to_pyarrow().to_pylist()[0]
    digest = hashlib.blake2b(f"{row['n']}:{row['t']}".encode(), digest_size=16).hexdigest()
    return row["first"], row["last"], digest


def _summary(values: list[float | None], rng: np.random.Generator) -> MetricSummary:
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return MetricSummary(mean=None, ci_low=None, ci_high=None, origins=0)
    low = high = None
    if v.size >= 2:
        low, high = bootstrap_ci(v, rng, n=BOOTSTRAP_REPLICATES)
    return MetricSummary(mean=float(v.mean()), ci_low=low, ci_high=high, origins=int(v.size))


@router.get("/forecasts", response_model=ForecastResult)
def forecasts(
    request: Request,
    city: CityDep,
    store: StoreDep,
    grids: GridsDep,
    method: Annotated[str, Query(description="naive, historical_average, prospective, grid_etas or st_etas")]
    = "grid_etas",
    end: Annotated[str | None, Query(description="Forecast origin YYYY-MM-DD (UTC); default: the day after the "
                                                 "last event")] = None,
    horizon_days: Annotated[int, Query(ge=1, le=56, description="Length of the forecast window, days")] = 7,
    train_days: Annotated[int, Query(ge=7, le=1095, description="Training window before each origin, days")] = 365,
    k: Annotated[float, Query(gt=0, le=0.5, description="Share of the city's area to select")] = 0.05,
    cell_m: Annotated[float, Query(ge=50, le=5000, description="Side of a grid cell, metres")] = 250.0,
    origins: Annotated[int, Query(ge=2, le=26, description="Backtest origins, the last one at end - horizon")] = 8,
    origin_step_days: Annotated[int, Query(ge=1, le=28, description="Days between backtest origins")] = 7,
    max_train_events: Annotated[int | None, Query(ge=100, le=1_000_000, description="Cap on training events per "
                                                  "fit (most recent kept); default by method")] = None,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of every random draw (ties, bootstrap)")] = 0,
    source: Annotated[list[str] | None, Query(description="Source name(s)")] = None,
    category: Annotated[list[str] | None, Query(description="Category code(s)")] = None,
    training: Annotated[str, Query(description="all, or independent: learn (and judge) only from incidents reported "
                                               "independently of the observatory's own attention (citizens, "
                                               "hospitals), against feedback loops — docs/fairness.md")] = "all",
) -> ForecastResult:
    """Score every cell of the city for ``[end, end + horizon)`` and return the top cells covering ≤ k of its area.

    ``evaluation`` replays the same method and the naive baseline (last
    horizon's counts) at ``origins`` weekly origins ending at ``end - horizon``,
    each trained on the ``train_days`` before it and judged on the following
    ``horizon_days`` (hit rate, PAI, PEI), with bootstrap 95 % intervals over
    origins.
    """
    if method not in FORECASTERS:
        raise InputError(f"unknown method {method[:40]!r}; known: {', '.join(sorted(FORECASTERS))}")
    if horizon_days > train_days:
        raise InputError(f"horizon_days ({horizon_days}) must not exceed train_days ({train_days})")
    if training not in ("all", "independent"):
        raise InputError(f"training: expected all or independent, not {training[:40]!r}")
    learn_from = independent_events if training == "independent" else (lambda events: events)
    filters = count_filters(None, None, source, category)
    if not set(filters.sources) <= set(ATTRIBUTES):     # registered sources need no scan of the store
        check_filter_sources(store, filters)
    cgrid = grids.get(cell_m) if city.has_boundaries else None     # (without boundaries: the error comes later)
    backend = store.store if training == "all" else None     # the rollups do not split by provenance
    first, last, fingerprint = store.query(lambda events: _extent(learn_from(events), filters, backend, cgrid))
    if last is None:
        raise InputError("no event with a place matches the filters"
                         + (" among independently reported incidents" if training == "independent" else "")
                         + ": nothing to forecast from")
    data_end = last.date() + timedelta(days=1)           # first day after the data
    stop = parse_date("end", end) or data_end
    if stop > data_end:
        raise InputError(f"end ({stop.isoformat()}) is after the data (last event on {last.date().isoformat()}): "
                         "the backtest's last window would be empty")
    span = horizon_days + origin_step_days * (origins - 1)
    earliest = stop - timedelta(days=span + train_days)
    if stop - timedelta(days=span) <= first.date():
        raise InputError(f"the data start on {first.date().isoformat()}: too late for {origins} origins every "
                         f"{origin_step_days} days before {stop.isoformat()} with a {horizon_days}-day horizon")
    cap = max_train_events or DEFAULT_MAX_TRAIN_EVENTS.get(method, OTHER_MAX_TRAIN_EVENTS)
    key = (method, stop, horizon_days, train_days, k, cell_m, origins, origin_step_days, cap, seed,
           filters.sources, filters.categories, training, fingerprint)
    cache = _cache(request)
    cached = cache.get(key)
    if cached is not None:
        return cached
    cgrid = cgrid or grids.get(cell_m)
    placed = store.query(lambda events: query_placed(
        learn_from(events), cgrid, start=earliest, end=stop, sources=filters.sources or None,
        categories=filters.categories or None, reference=_day(earliest)))
    if len(placed.events) == 0:
        raise InputError("no event with a place inside the city in the training period")
    model = CappedForecaster(get_forecaster(method, **(ETAS_FIT if method.endswith("etas") else {})), cap)
    baseline = get_forecaster(BASELINE)
    rng_fit, rng_select, rng_backtest, rng_boot = np.random.default_rng(seed).spawn(4)

    t_end = float((stop - earliest).days)
    t_start = t_end - train_days
    h = float(horizon_days)
    forecast = model.fit_predict(placed.events, cgrid.grid, start=t_start, end=t_end, horizon=h, rng=rng_fit)
    chosen = select_cells(forecast.scores, cgrid.grid, k, rng_select)
    used_start = float(forecast.params.get("train_start", t_start))
    n_train = int(((placed.events.t >= used_start) & (placed.events.t < t_end)).sum())

    origin_days = [t_end - h - origin_step_days * i for i in range(origins - 1, -1, -1)]
    bt = backtest_on_active(model, baseline, placed.events, cgrid.grid, origins=origin_days, horizon=h,
                            train_days=float(train_days), k=k, rng=rng_backtest)
    labels = [(earliest + timedelta(days=int(o))).isoformat() for o in origin_days]
    per_origin = [OriginScore(origin=labels[i // 2], method=r["method"], hit_rate=finite(r["hit_rate"]),
                              pai=finite(r["pai"]), pei=finite(r["pei"]), area_share=r["area_share"],
                              n_events=int(r["n_events"])) for i, r in enumerate(bt.rows)]
    summaries = []
    for name in (method,) if method == BASELINE else (method, BASELINE):   # the baseline itself: listed once
        mine = per_origin[(0 if name == method else 1)::2]
        summaries.append(MethodSummary(method=name, **{m: _summary([getattr(s, m) for s in mine], rng_boot)
                                                        for m in ("hit_rate", "pai", "pei")}))
    diffs = [a.pai - b.pai if a.pai is not None and b.pai is not None else None
             for a, b in zip(per_origin[0::2], per_origin[1::2], strict=True)]

    active_n = int(cgrid.grid.active.sum())
    features = [ForecastFeature(id=int(c), properties=ForecastProperties(cell=int(c), rank=i + 1,
                                                                       score=float(forecast.scores[c])),
                                geometry=g)
                for i, (c, g) in enumerate(zip(chosen, polygons(cgrid, chosen), strict=True))]
    result = ForecastResult(
        features=features,
        window=Period(start=stop.isoformat(), end=(stop + timedelta(days=horizon_days)).isoformat()),
        training=Period(start=(_day(earliest) + timedelta(days=used_start)).date().isoformat(), end=stop.isoformat()),
        filters=filters_echo(filters),
        parameters=ForecastParameters(method=method, end=stop.isoformat(), horizon_days=horizon_days,
                                      train_days=train_days, k=k, cell_m=cell_m, origins=origins,
                                      origin_step_days=origin_step_days, max_train_events=cap, seed=seed,
                                      training=training),
        grid=grid_info(cgrid),
        area_share=len(chosen) / active_n,
        training_events=n_train,
        fit={key: float(v) for key, v in forecast.params.items() if np.isfinite(float(v))},
        evaluation=Evaluation(origins=labels, per_origin=per_origin, summary=summaries,
                              pai_difference=_summary(diffs, rng_boot), bootstrap_replicates=BOOTSTRAP_REPLICATES),
        attribution=city.attribution,
    )
    cache.put(key, result)
    return result
