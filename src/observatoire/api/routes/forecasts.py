"""``GET /api/v1/forecasts``: the top-k cells for the coming days, and a backtest beside the naive baseline.

The use-case (method defaults, training cap, allocation, backtest, summaries, result cache) is
:class:`~observatoire.analytics.forecast.service.ForecastService`, which ``/api/v1/audits/fairness``
calls too; this module reads the request and writes the response.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import ibis.expr.types as ir
import numpy as np
from fastapi import APIRouter, Depends, Query, Request

from observatoire.analytics.forecast.registry import load_forecasters, method_defaults
from observatoire.analytics.forecast.service import ForecastRun, ForecastService, Summary, data_extent
from observatoire.analytics.places import CityGrid
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
from observatoire.api.params import CELL_M_DESCRIPTION, CountFilters, DateText, count_filters, parse_date
from observatoire.api.routes.cells import check_filter_sources, filters_echo, finite, grid_info, polygons
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.event.schema import ATTRIBUTES

if TYPE_CHECKING:
    from observatoire.store.base import ReadStore

router = APIRouter(prefix="/api/v1", tags=["forecasts"])

_LOCK = threading.Lock()

# What a forecast may cost. A fit trains on the most recent events of its window, at most the method's cap, but
# never on less than one horizon (capped.py): past the cap, a longer horizon means more training events, and the
# ETAS fits' cost grows with their square (same-cell pairs). On a synthetic city-year (1,000,000 events, two shared
# cores), grid_etas took 4 s at 7 days, 9 s at 14, 30 s at 28, 46 s at 34 and 145 s at 56: 28 days (four weeks, the
# longest planning horizon) is the limit. The cap itself may be lowered, never raised (its cost is the method's).
MAX_HORIZON_DAYS = 28
MAX_TRAIN_EVENTS = 200_000      # the largest cap of the built-in methods (historical_average, prospective, naive)
HORIZON_DESCRIPTION = (f"Length of the forecast window, days (at most {MAX_HORIZON_DAYS}, and at most train_days: "
                       "the fits' cost grows with the events of one horizon)")
MAX_TRAIN_DESCRIPTION = ("Cap on training events per fit (most recent kept); default and maximum: the method's own "
                         "(20,000 grid_etas, 4,000 st_etas, 200,000 the others)")


def check_training_cap(service: ForecastService, method: str, max_train_events: int | None) -> None:
    """422 for a cap above the method's own (which bounds what one of its fits costs); unknown methods are the
    service's to refuse."""
    if max_train_events is None or method not in service.forecasters:
        return
    cap = method_defaults(service.forecasters[method]).max_train_events
    if max_train_events > cap:
        raise InputError(f"max_train_events ({max_train_events:,}) must not exceed the {method} method's own cap "
                         f"({cap:,}): a lower cap answers faster, a higher one would cost more than the method allows")


def forecast_service(request: Request) -> ForecastService:
    """The app's forecasting service, ``app.state.forecasts`` (built on first use, with the registered
    forecasters, by an app whose factory did not set it)."""
    service = getattr(request.app.state, "forecasts", None)
    if service is None:
        with _LOCK:
            service = getattr(request.app.state, "forecasts", None)
            if service is None:
                service = request.app.state.forecasts = ForecastService(load_forecasters())
    return service


ServiceDep = Annotated[ForecastService, Depends(forecast_service)]


def _extent(events: ir.Table, filters: CountFilters, store: ReadStore | None = None,
            cgrid: CityGrid | None = None) -> tuple[Any, Any, str]:
    """First and last located event of the filters and their fingerprint (:func:`service.data_extent`)."""
    extent = data_extent(events, sources=filters.sources or None, categories=filters.categories or None,
                         store=store, cgrid=cgrid)
    return extent.first, extent.last, extent.fingerprint


def _metric(summary: Summary) -> MetricSummary:
    return MetricSummary(mean=summary.mean, ci_low=summary.ci_low, ci_high=summary.ci_high, origins=summary.origins)


def _result(run: ForecastRun, cgrid: CityGrid, city: CityProfile, filters: CountFilters, *, origins: int,
            origin_step_days: int) -> ForecastResult:
    allocation = run.allocation
    spec = allocation.spec
    chosen = allocation.cells
    features = [ForecastFeature(id=int(c), properties=ForecastProperties(cell=int(c), rank=i + 1,
                                                                       score=float(allocation.scores[c])),
                                geometry=g)
                for i, (c, g) in enumerate(zip(chosen, polygons(cgrid, chosen), strict=True))]
    per_origin = [OriginScore(origin=r.origin.isoformat(), method=r.method, hit_rate=finite(r.hit_rate),
                              pai=finite(r.pai), pei=finite(r.pei), area_share=r.area_share, n_events=r.n_events)
                  for r in run.rows]
    summaries = [MethodSummary(method=name, **{m: _metric(s) for m, s in metrics.items()})
                 for name, metrics in run.summaries.items()]
    return ForecastResult(
        features=features,
        window=Period(start=spec.end.isoformat(), end=(spec.end + timedelta(days=spec.horizon_days)).isoformat()),
        training=Period(start=allocation.training_start.isoformat(), end=spec.end.isoformat()),
        filters=filters_echo(filters),
        parameters=ForecastParameters(method=spec.method, end=spec.end.isoformat(), horizon_days=spec.horizon_days,
                                      train_days=spec.train_days, k=spec.k, cell_m=spec.cell_m, origins=origins,
                                      origin_step_days=origin_step_days, max_train_events=spec.max_train_events,
                                      settings=dict(spec.settings), seed=spec.seed, training=spec.training),
        grid=grid_info(cgrid),
        area_share=len(chosen) / int(cgrid.grid.active.sum()),
        training_events=allocation.training_events,
        fit={key: float(v) for key, v in allocation.params.items() if np.isfinite(float(v))},
        evaluation=Evaluation(origins=[d.isoformat() for d in run.origins], per_origin=per_origin,
                              summary=summaries, pai_difference=_metric(run.pai_difference),
                              bootstrap_replicates=run.bootstrap_replicates),
        attribution=city.attribution,
    )


@router.get("/forecasts", response_model=ForecastResult)
def forecasts(
    city: CityDep,
    store: StoreDep,
    grids: GridsDep,
    service: ServiceDep,
    method: Annotated[str, Query(description="naive, historical_average, prospective, grid_etas or st_etas "
                                             "(or a registered plug-in)")] = "grid_etas",
    end: Annotated[DateText | None, Query(description="Forecast origin YYYY-MM-DD (UTC); default: the day after the "
                                                      "last event")] = None,
    horizon_days: Annotated[int, Query(ge=1, le=MAX_HORIZON_DAYS, description=HORIZON_DESCRIPTION)] = 7,
    train_days: Annotated[int, Query(ge=7, le=1095, description="Training window before each origin, days")] = 365,
    k: Annotated[float, Query(gt=0, le=0.5, description="Share of the city's area to select")] = 0.05,
    cell_m: Annotated[float, Query(ge=50, le=5000, description=CELL_M_DESCRIPTION)] = 250.0,
    origins: Annotated[int, Query(ge=2, le=26, description="Backtest origins, the last one at end - horizon (each "
                                                           "costs a fit of the method and one of the baseline)")] = 8,
    origin_step_days: Annotated[int, Query(ge=1, le=28, description="Days between backtest origins")] = 7,
    max_train_events: Annotated[int | None, Query(ge=100, le=MAX_TRAIN_EVENTS, description=MAX_TRAIN_DESCRIPTION)] \
        = None,
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
    service.validate(method, horizon_days=horizon_days, train_days=train_days, training=training)
    check_training_cap(service, method, max_train_events)
    filters = count_filters(None, None, source, category)
    if not set(filters.sources) <= set(ATTRIBUTES):     # registered sources need no scan of the store
        check_filter_sources(store, filters)
    cgrid = grids.get(cell_m) if city.has_boundaries else None     # (without boundaries: the error comes later)
    backend = store.store if training == "all" else None     # the rollups do not split by provenance
    discoveries = ("independent",) if training == "independent" else None
    extent = store.query(lambda events: data_extent(
        events, sources=filters.sources or None, categories=filters.categories or None, discoveries=discoveries,
        store=backend, cgrid=cgrid))
    stop = service.forecast_end(extent, parse_date("end", end), horizon_days=horizon_days, train_days=train_days,
                                origins=origins, origin_step_days=origin_step_days, training=training)
    spec = service.spec(method, end=stop, horizon_days=horizon_days, train_days=train_days, k=k, cell_m=cell_m,
                        seed=seed, max_train_events=max_train_events, sources=filters.sources,
                        categories=filters.categories, training=training, data_start=extent.first.date())
    cgrid = cgrid or grids.get(cell_m)
    run = service.forecast(store.query, cgrid, spec, origins=origins, origin_step_days=origin_step_days,
                           fingerprint=extent.fingerprint)
    return _result(run, cgrid, city, filters, origins=origins, origin_step_days=origin_step_days)
