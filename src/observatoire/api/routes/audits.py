"""``/api/v1/audits/*``: provenance, fairness of places, feedback-loop monitor, urn simulation, stop audits.

See ``docs/fairness.md``. The audit configuration is ``app.state.audit_config``
when the factory sets it, else the packaged ``audits/audits.toml``. The fairness
audit of a forecast audits the allocation ``/api/v1/forecasts`` publishes: both
routes ask the app's :class:`~observatoire.analytics.forecast.service.ForecastService`
for it, with the same spec for the same query.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request

from observatoire.analytics.counts import filter_events
from observatoire.analytics.evaluate import evaluate
from observatoire.analytics.forecast.service import data_extent
from observatoire.analytics.places import cell_counts, masked_gi_star, query_placed
from observatoire.api.deps import CityDep, GridsDep, StoreDep
from observatoire.api.models import (CityUrn, Fairness, FeedbackLoop, Filters, Period, Provenance, ProvenanceZone,
                                     StopAuditResult,
                                     TwoZoneUrn)
from observatoire.api.params import DateText, count_filters, parse_date
from observatoire.api.routes.cells import check_filter_sources, finite
from observatoire.api.routes.forecasts import (HORIZON_DESCRIPTION, MAX_HORIZON_DAYS, MAX_TRAIN_DESCRIPTION,
                                               MAX_TRAIN_EVENTS, ServiceDep, check_training_cap)
from observatoire.audits.config import AuditConfig, area_groups, load_audit_config, zone_cuts
from observatoire.audits.fairness import (MEASURES, Units, accuracy_by_group, exposure_audit, grid_units, need_on_grid,
                                          place_on_units)
from observatoire.audits.feedback_loop import discoveries_by_window, feedback_monitor
from observatoire.audits.patrols import patrol_audit
from observatoire.audits.provenance import provenance_counts, provenance_matrix
from observatoire.audits.stops import check_group_column, stop_audit
from observatoire.audits.urn import city_urn, two_zone_urn
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError

router = APIRouter(prefix="/api/v1/audits", tags=["audits"])

_LOCK = threading.Lock()


def _config(request: Request) -> AuditConfig:
    config = getattr(request.app.state, "audit_config", None)
    if config is None:
        with _LOCK:
            config = getattr(request.app.state, "audit_config", None) or load_audit_config()
            request.app.state.audit_config = config
    return config


def _units(request: Request, city: CityProfile, cgrid: Any, cell_m: float) -> Units:
    with _LOCK:
        cache = getattr(request.app.state, "audit_units", None)
        if cache is None:
            cache = request.app.state.audit_units = {}
        units = cache.get(cell_m)
        if units is None:
            units = cache[cell_m] = grid_units(cgrid, city)
            if len(cache) > 8:
                cache.pop(next(iter(cache)))
    return units


def _period(start: date | None, end: date | None) -> Period:
    return Period(start=start.isoformat() if start else None, end=end.isoformat() if end else None, timezone="UTC")


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


# --------------------------------------------------------------------------- provenance


@router.get("/provenance")
def provenance(
    city: CityDep,
    store: StoreDep,
    start: Annotated[DateText | None, Query(description="First day included, YYYY-MM-DD (UTC)")] = None,
    end: Annotated[DateText | None, Query(description="First day excluded, YYYY-MM-DD (UTC)")] = None,
    source: Annotated[list[str] | None, Query(description="Source name(s)")] = None,
    category: Annotated[list[str] | None, Query(description="Category code(s)")] = None,
) -> Provenance:
    """Events per zone and discovery mode (directed, independent, automated, unknown): aggregated counts."""
    filters = count_filters(start, end, source, category)
    check_filter_sources(store, filters)
    counts = store.query(lambda events: provenance_counts(
        events, start=filters.start, end=filters.end, sources=filters.sources or None,
        categories=filters.categories or None))
    zones = [z.zone_id for z in city.zones]
    matrix = provenance_matrix(counts, zones)
    unlocated: dict[str, int] = {}
    for row in counts.to_pylist():
        if row["zone_id"] is None:
            unlocated[row["discovery"]] = int(row["count"])
    totals: dict[str, int] = {}
    for by in matrix.values():
        for k, v in by.items():
            totals[k] = totals.get(k, 0) + v
    return Provenance(
        period=_period(filters.start, filters.end),
        filters=Filters(sources=list(filters.sources) or None, categories=list(filters.categories) or None),
        zones=[ProvenanceZone(zone_id=z.zone_id, short_name=z.short_name, counts=matrix[z.zone_id],
                               directed_share=(finite(matrix[z.zone_id]["directed"] / sum(matrix[z.zone_id].values()))
                                               if sum(matrix[z.zone_id].values()) else None))
               for z in city.zones],
        totals=totals,
        unlocated=unlocated,
    )


# --------------------------------------------------------------------------- fairness


def _audit_dict(audit: Any) -> dict[str, Any]:
    return {
        "groups": [g.as_dict() for g in audit.groups],
        "ratios": [vars(r) for r in audit.ratios],
        "band": list(audit.band), "level": audit.level, "bootstrap_replicates": audit.n_boot,
        "resampled": audit.resampled, "areas": dict(audit.areas), "interval": audit.interval,
        "flag_rule": "a ratio is flagged when its whole confidence interval lies outside the band",
        "flagged": audit.flagged(),
    }


# The allocation carries the forecast's own parameters only for allocation=forecast (response_model_exclude_unset).
@router.get("/fairness", response_model=Fairness, response_model_exclude_unset=True)
def fairness(
    request: Request,
    city: CityDep,
    store: StoreDep,
    grids: GridsDep,
    service: ServiceDep,
    allocation: Annotated[Literal["forecast", "hotspots", "patrols"], Query(
        description="forecast: a method's top-k cells; hotspots: the Gi* hot cells; patrols: the patrol hours "
                    "the store's patrol records give each zone")] = "forecast",
    method: Annotated[str, Query(description="Forecast method (allocation=forecast)")] = "historical_average",
    end: Annotated[DateText | None, Query(description="Allocation date YYYY-MM-DD (UTC); default: one horizon "
                                                      "before the day after the last event")] = None,
    horizon_days: Annotated[int, Query(ge=1, le=MAX_HORIZON_DAYS, description=HORIZON_DESCRIPTION)] = 7,
    train_days: Annotated[int, Query(ge=7, le=1095, description="Training window, and period of the need")] = 365,
    k: Annotated[float, Query(gt=0, le=0.5, description="Share of the city's area selected")] = 0.05,
    cell_m: Annotated[float, Query(ge=100, le=5000, description="Side of a grid cell, metres")] = 250.0,
    alpha: Annotated[float, Query(gt=0, le=0.5, description="FDR level (allocation=hotspots)")] = 0.05,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of every random draw")] = 0,
    source: Annotated[list[str] | None, Query(description="Sources the allocation is computed from")] = None,
    category: Annotated[list[str] | None, Query(description="Categories the allocation is computed from")] = None,
    max_train_events: Annotated[int | None, Query(ge=100, le=MAX_TRAIN_EVENTS, description=(
        f"allocation=forecast, as /forecasts: {MAX_TRAIN_DESCRIPTION}"))] = None,
    training: Annotated[Literal["all", "independent"], Query(
        description="Incidents the allocation learns from (and is judged on), as /forecasts")] = "all",
) -> Fairness:
    """Exposure to an allocation per resident and per unit of independently measured need, by area group.

    Units are grid cells cut by zones; residents are spread evenly over their zone; need is the
    configured independent events of the ``train_days`` before ``end`` (a zone-only event is spread over
    its zone). Ratios against the reference group with intervals over zones (delete-one-zone jackknife,
    Student quantiles); flagged when the whole interval lies outside the band. For a forecast, the allocation is the one ``/api/v1/forecasts``
    publishes for the same method, ``end``, horizon, training window, ``k``, cell size, cap, seed, filters
    and training set (the forecasting service's); hit rate and PAI per group on ``[end, end + horizon)``
    when those days are in the data.
    """
    config = _config(request)
    if allocation == "patrols":
        return _patrol_fairness(city, store, config, parse_date("end", end), train_days, seed)
    if allocation == "forecast":
        service.validate(method, horizon_days=horizon_days, train_days=train_days, training=training)
        check_training_cap(service, method, max_train_events)
    filters = count_filters(None, None, source, category)
    check_filter_sources(store, filters)
    discoveries = ["independent"] if training == "independent" else None

    cgrid = grids.get(cell_m)
    # The located events' first and last days, as /forecasts reads them (the same spec gives the same cells).
    extent = store.query(lambda events: data_extent(
        events, sources=filters.sources or None, categories=filters.categories or None,
        discoveries=tuple(discoveries) if discoveries else None,
        store=store.store if training == "all" else None, cgrid=cgrid))
    if extent.last is None or extent.first is None:
        raise InputError("no event with a place matches the filters: there is no allocation to audit")
    data_end = extent.last.date() + timedelta(days=1)
    stop = parse_date("end", end) or (data_end - timedelta(days=horizon_days))
    first = stop - timedelta(days=train_days)
    units = _units(request, city, cgrid, cell_m)
    zone_group = area_groups(city, config.groups)
    group = units.groups(zone_group)
    # Days since the allocation date: training before 0, the allocation's window from 0 (the service's axis).
    spec = None
    if allocation == "forecast":
        spec = service.spec(method, end=stop, horizon_days=horizon_days, train_days=train_days, k=k, cell_m=cell_m,
                            seed=seed, max_train_events=max_train_events, sources=filters.sources,
                            categories=filters.categories, training=training, data_start=extent.first.date())
        placed = service.place(store.query, cgrid, spec, start=first, end=stop + timedelta(days=horizon_days))
    else:
        placed = store.query(lambda events: query_placed(
            events, cgrid, start=first, end=stop + timedelta(days=horizon_days), sources=filters.sources or None,
            categories=filters.categories or None, reference=_day(stop), discoveries=discoveries))
    _, _, rng_boot, rng_eval = np.random.default_rng(seed).spawn(4)      # 0 and 1: the allocation's (service)
    train = placed.events.select(placed.events.t < 0.0)
    grid = cgrid.grid
    if len(train) == 0:
        raise InputError("no event with a place in the training period: there is no allocation to audit")
    scores: np.ndarray | None = None
    described: dict[str, Any] = {"training": training}
    if spec is not None:
        allocated = service.allocate(placed, grid, spec)
        scores, chosen = allocated.scores, allocated.cells
        described |= {"horizon_days": spec.horizon_days, "train_days": spec.train_days,
                      "max_train_events": spec.max_train_events, "settings": dict(spec.settings),
                      "training_events": allocated.training_events,
                      "training_period": _period(allocated.training_start, stop)}
    else:
        chosen = np.flatnonzero(masked_gi_star(cell_counts(train, grid), grid, alpha=alpha).hot)
    weights = np.zeros(grid.n_cells)
    weights[chosen] = 1.0
    exposure = units.from_cells(weights) * cell_m ** 2 / 1e6          # selected km²
    cell, zone_ids = store.query(lambda events: need_on_grid(
        events, cgrid, start=first, end=stop, categories=config.need_categories, discoveries=config.need_discovery))
    need = place_on_units(units, cell, zone_ids)
    audit = exposure_audit(group, units.residents, exposure, need, reference=config.groups.reference, rng=rng_boot,
                           band=config.band, level=config.level, n_boot=config.bootstrap, cluster=units.zone)
    # The comparator a selection of cells needs: as many cells, chosen by the independent need alone.
    need_cells = np.bincount(units.cell, weights=need, minlength=grid.n_cells)
    by_need = np.zeros(grid.n_cells)
    by_need[np.argsort(-need_cells, kind="stable")[:len(chosen)]] = 1.0
    need_allocation = exposure_audit(group, units.residents, exposure, units.from_cells(by_need) * cell_m ** 2 / 1e6,
                                     reference=config.groups.reference, rng=rng_boot, band=config.band,
                                     level=config.level, n_boot=config.bootstrap, measures=MEASURES[1:],
                                     cluster=units.zone)
    accuracy = None
    window_observed = stop + timedelta(days=horizon_days) <= data_end
    if allocation == "forecast" and window_observed and scores is not None:
        future = placed.events.select(placed.events.t >= 0.0)
        observed_cells = cell_counts(future, grid)
        observed_units = observed_cells[units.cell] * units.cell_share
        active = cgrid.active_cells
        overall = evaluate(scores[active], observed_cells[active], np.ones(active.size), k, rng_eval)
        accuracy = {"by_group": accuracy_by_group(group, weights[units.cell], observed_units, units.area),
                    "overall": {"hit_rate": finite(overall.hit_rate), "pai": finite(overall.pai),
                                "pei": finite(overall.pei), "events": overall.n_events},
                    "window": _period(stop, stop + timedelta(days=horizon_days))}
    return Fairness.model_validate({
        "allocation": {"kind": allocation, "method": method if allocation == "forecast" else "gi_star",
                       "cells": int(len(chosen)), "k": k, "cell_m": cell_m, "date": stop.isoformat(),
                       "selected": [int(c) for c in chosen], **described},
        "need": {"period": _period(first, stop), "discovery": list(config.need_discovery),
                 "categories": list(config.need_categories), "events": float(need.sum())},
        "groups_by": {"indicator": config.groups.indicator, "cuts": list(zone_cuts(city, config.groups)),
                      "labels": list(config.groups.labels), "reference": config.groups.reference,
                      "zones": zone_group},
        "exposure_unit": "selected km²",
        "audit": _audit_dict(audit),
        "against_need_allocation": {
            "cells": int(len(chosen)),
            "explanation": "the allocation's selected km² per group against those of the same number of cells "
                           "ranked by independently reported need alone: a ratio of 1 means the allocation "
                           "favours no group beyond what need alone would; flagged when its whole interval "
                           "leaves the band",
            "audit": _audit_dict(need_allocation)},
        "accuracy": accuracy,
        "seed": seed,
    })


def _patrol_fairness(city: CityProfile, store: Any, config: AuditConfig, end: date | None, train_days: int,
                     seed: int) -> Fairness:
    """Patrol hours per resident and per unit of independently measured need, by area group (audits/patrols.py)."""
    patrols = store.store.reference("patrols")
    result = store.query(lambda events: patrol_audit(patrols, events, city, config, end=end, days=train_days,
                                                     rng=np.random.default_rng(seed).spawn(4)[2]))
    return Fairness.model_validate({
        "allocation": {"kind": "patrols", "method": "patrol_hours", "date": result.end.isoformat(),
                       "patrol_hours": result.hours},
        "need": {"period": _period(result.start, result.end), "discovery": list(config.need_discovery),
                 "categories": list(config.need_categories), "events": float(result.need_events)},
        "groups_by": {"indicator": config.groups.indicator, "cuts": list(zone_cuts(city, config.groups)),
                      "labels": list(config.groups.labels), "reference": config.groups.reference,
                      "zones": result.zone_group},
        "exposure_unit": "patrol hours",
        "audit": _audit_dict(result.audit),
        "accuracy": None,
        "seed": seed,
    })


# --------------------------------------------------------------------------- feedback loop


@router.get("/feedback-loop")
def feedback_loop(
    request: Request,
    city: CityDep,
    store: StoreDep,
    start: Annotated[DateText | None, Query(description="First day included, YYYY-MM-DD (default: first event)")] = None,
    end: Annotated[DateText | None, Query(description="First day excluded, YYYY-MM-DD (default: day after the last "
                                                      "event)")] = None,
    window_days: Annotated[int, Query(ge=1, le=365, description="Length of a window, days")] = 28,
    measure: Annotated[Literal["gini", "top_share", "hill"], Query(description="Concentration measure")] = "gini",
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of every random draw")] = 0,
) -> FeedbackLoop:
    """Concentration across zones of directed discoveries against independent reports, per window, and the alarm.

    Counts the configured incident categories; attention = ``discovery = directed``, independent =
    ``discovery = independent``; Gini of rates per resident (population-weighted). Alarm: one-sided
    permutation test of an upward trend in the difference, at the configured false-alarm rate.
    """
    config = _config(request)
    first, stop = parse_date("start", start), parse_date("end", end)

    def fetch(events: Any) -> Any:
        kept = filter_events(events, start=first, end=stop, categories=list(config.need_categories),
                             discoveries=["directed", "independent"])
        kept = kept.filter(kept.zone_id.notnull())
        return kept.select("occurred_at", "zone_id", "discovery").to_pyarrow()

    table = store.query(fetch)
    if table.num_rows == 0:
        raise InputError("no directed or independent incident with a zone in the period")
    times = table["occurred_at"].to_pylist()
    t0 = _day(first) if first else _day(min(times).date())
    t1 = _day(stop) if stop else _day(max(times).date() + timedelta(days=1))
    n_windows = int((t1 - t0).days // window_days)
    if n_windows < 6:
        raise InputError(f"the period holds {n_windows} whole windows of {window_days} days; the monitor needs 6")
    att, ind = discoveries_by_window(table, [zz.zone_id for zz in city.zones], t0=t0, window_days=window_days,
                                     n_windows=n_windows)
    population = np.array([max(zz.population, 1) for zz in city.zones], dtype=float)
    result = feedback_monitor(att, ind, rng=np.random.default_rng(seed), alpha=config.monitor_alpha,
                              permutations=config.monitor_permutations, measure=measure,
                              population=population if measure == "gini" else None)
    return FeedbackLoop.model_validate({
        "period": _period(t0.date(), (t0 + timedelta(days=n_windows * window_days)).date()),
        "window_days": window_days,
        "measure": measure,
        "windows": [{"start": (t0 + timedelta(days=i * window_days)).date().isoformat(),
                     "attention": finite(result.attention[i]), "independent": finite(result.independent[i]),
                     "difference": finite(result.difference[i]), "directed_events": int(att[i].sum()),
                     "independent_events": int(ind[i].sum())} for i in range(n_windows)],
        "slope": result.slope, "attention_slope": result.attention_slope,
        "independent_slope": result.independent_slope,
        "p_value": result.p_value, "alpha": result.alpha, "alarm": result.alarm,
        "permutations": result.permutations,
    })


# --------------------------------------------------------------------------- urn


@router.get("/urn")
def urn(
    city: CityDep,
    model: Annotated[Literal["two_zone", "city"], Query(
        description="two_zone: runs of two urns; city: one run over the city's zones")] = "two_zone",
    rate_a: Annotated[float, Query(gt=0, le=1, description="two_zone: zone A's true rate")] = 0.3,
    rate_b: Annotated[float, Query(gt=0, le=1, description="two_zone: zone B's true rate")] = 0.2,
    corrected: Annotated[bool, Query(description="Apply Ensign et al.'s importance-weighting correction")] = False,
    update: Annotated[Literal["discovered", "corrected", "reported", "true"], Query(
        description="city model: what feeds the urn")] = "discovered",
    days: Annotated[int, Query(ge=1, le=20_000, description="Days simulated (city: at most 5,000; two_zone: "
                                                            "days × runs at most 2,000,000)")] = 10_000,
    runs: Annotated[int, Query(ge=1, le=200, description="two_zone: runs")] = 100,
    patrols_per_day: Annotated[int, Query(ge=1, le=100, description="city: patrols a day")] = 20,
    report_rate: Annotated[float, Query(ge=0, le=100, description="city: reported incidents a day")] = 10.0,
    max_rate: Annotated[float, Query(gt=0, le=1, description="city model: the highest zone's true rate")] = 0.5,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of every random draw")] = 0,
) -> TwoZoneUrn | CityUrn:
    """Run the Pólya-urn simulation of Ensign et al. (2018) with the given parameters (bounded).

    ``two_zone``: ``runs`` urns of ``days`` days, the final share of zone A (mean, quantiles).
    ``city``: one run over the city's zones, true rates ∝ population × exp(deprivation) (the simulator's
    need), the highest equal to ``max_rate``; final attention shares against the true shares.
    """
    rng = np.random.default_rng(seed)
    if model == "two_zone":
        if days * runs > 2_000_000:
            raise InputError("days × runs must not exceed 2,000,000")
        r = two_zone_urn(rate_a, rate_b, days=days, runs=runs, rng=rng, corrected=corrected)
        q = np.quantile(r.final_share, [0.05, 0.5, 0.95])
        return TwoZoneUrn.model_validate({
            "model": model, "rates": [rate_a, rate_b], "corrected": corrected, "days": days, "runs": runs,
            "true_share": r.true_share, "mean_final_share": float(r.final_share.mean()),
            "quantiles": {"q05": float(q[0]), "q50": float(q[1]), "q95": float(q[2])},
            "mean_path": [float(x) for x in r.mean_path], "record_every": r.record_every, "seed": seed})
    need = np.array([z.population * np.exp(z.covariates.get("deprivation", 0.0)) for z in city.zones], float)
    if need.sum() <= 0:
        raise InputError("the city's zones have no population")
    rates = np.maximum(need / need.max() * max_rate, 1e-6)
    r = city_urn(rates, days=min(days, 5000), patrols_per_day=patrols_per_day, rng=rng, update=update,
                 report_rate=report_rate)
    return CityUrn.model_validate({
        "model": model, "update": update, "days": min(days, 5000), "patrols_per_day": patrols_per_day,
        "zones": [{"zone_id": z.zone_id, "true_share": float(t), "final_share": float(f)}
                  for z, t, f in zip(city.zones, r.true_share, r.final_share, strict=True)],
        "total_variation": float(0.5 * np.abs(r.final_share - r.true_share).sum()), "seed": seed})


# --------------------------------------------------------------------------- stops


@router.get("/stops")
def stops(
    request: Request,
    city: CityDep,
    store: StoreDep,
    group_column: Annotated[str, Query(description="area_group (the area group of the stop's zone, audits.toml "
                                                   "[groups]) or a group column the deployment's policies file "
                                                   "declares lawful with its legal basis")] = "area_group",
    reference_group: Annotated[str | None, Query(description="The group the others are compared with (default: the "
                                                       "configured reference area group; for a declared column, "
                                                       "its most frequent value)")] = None,
    target: Annotated[str | None, Query(description="The group the veil of darkness tests (default: the last "
                                                    "area group; for a declared column, the most frequent "
                                                    "non-reference value)")] = None,
    start: Annotated[DateText | None, Query(description="First day included, YYYY-MM-DD (UTC)")] = None,
    end: Annotated[DateText | None, Query(description="First day excluded, YYYY-MM-DD (UTC)")] = None,
) -> StopAuditResult:
    """Search-rate, hit-rate and veil-of-darkness tests on the store's stop records, by group (docs/stops.md).

    Degenerate input (no stop, no search outcome, every search finding something or none, a group under the
    documented minimum) is refused with a 422 that says what is missing.
    """
    import pyarrow as pa

    from observatoire.audits.stops import (MIN_GROUP_SEARCHES, MIN_GROUP_STOPS, PRIMARY_WINDOW,
                                           declared_group_columns, rate_test, veil_sensitivity)

    config = _config(request)
    settings = getattr(request.app.state, "settings", None)
    declared = declared_group_columns(getattr(settings, "policy_path", None))
    lawful = sorted({"area_group", *config.lawful_group_columns, *declared})
    check_group_column(group_column, lawful)
    first, stop = parse_date("start", start), parse_date("end", end)
    sources = list(config.stop_sources)
    columns = ("person_searched", "vehicle_searched", "found", *declared)

    def fetch(events: Any) -> Any:
        kept = filter_events(events, start=first, end=stop)
        kept = kept.filter(kept.source.isin(sources), kept.zone_id.notnull())
        own = kept.attributes["stops"]
        return kept.select("occurred_at", "zone_id", **{c: own[c] for c in columns}).to_pyarrow()

    table = store.query(fetch)
    if table.num_rows == 0:
        raise InputError(f"the store holds no stop records (sources: {', '.join(sources)}) in the period: "
                         "nothing to audit")
    if group_column == "area_group":
        zone_group = area_groups(city, config.groups)
        groups = np.array([zone_group.get(z) for z in table["zone_id"].to_pylist()], dtype=object)
        ref = reference_group or config.groups.reference
        default_target = next((lab for lab in reversed(config.groups.labels) if lab != ref), None)
    elif group_column in declared:
        groups = np.array(table[group_column].to_pylist(), dtype=object)
        present = groups[groups != None].astype(str)  # noqa: E711
        if present.size == 0:
            raise InputError(f"no stop record of the period carries {group_column}: the column is declared lawful "
                             "but the exports did not fill it")
        values, counts = np.unique(present, return_counts=True)
        by_size = [str(v) for v in values[np.argsort(-counts, kind="stable")]]
        ref = reference_group or by_size[0]
        default_target = next((v for v in by_size if v != ref), None)
    else:
        raise InputError(f"stop records carry no column {group_column[:40]!r}: it is listed in audits.toml but the "
                         "deployment's policies file does not keep it with a legal basis ([stops.lawful])")
    with_group = groups != None  # noqa: E711
    tgt = target or default_target
    if tgt is None or tgt == ref:
        raise InputError("the veil of darkness needs a target group other than the reference")
    person = np.array(table["person_searched"].to_pylist(), dtype=object)
    vehicle = np.array(table["vehicle_searched"].to_pylist(), dtype=object)
    known = (person != None) | (vehicle != None)  # noqa: E711
    if not known.any():
        raise InputError("no stop record of the period says whether a search took place (person_searched, "
                         "vehicle_searched are empty): there is no search outcome to test")
    searched = (person == True) | (vehicle == True)  # noqa: E712
    search = rate_test(groups[with_group & known], searched[with_group & known], reference=ref, level=config.level,
                       minimum=MIN_GROUP_STOPS, records="stops", event="searched")
    found = np.array(table["found"].to_pylist(), dtype=object)
    has_found = searched & (found != None) & with_group  # noqa: E711
    if not (searched & with_group).any() or not has_found.any():
        raise InputError("no searched stop of the period says whether the search found something (found is "
                         "empty): there is no outcome for the hit-rate test")
    hits = rate_test(groups[has_found], found[has_found] == True, reference=ref,  # noqa: E712
                     level=config.level, minimum=MIN_GROUP_SEARCHES, records="searches", event="successful")
    if not city.has_boundaries:
        raise InputError("the city profile has no boundaries: no location for the sun (veil of darkness)")
    centre = city.outline.centroid
    lat, lon = float(centre.y), float(centre.x)
    veil = veil_sensitivity(groups[with_group] == tgt, pa.array(table["occurred_at"].filter(pa.array(with_group))),
                            lat=lat, lon=lon, timezone=city.timezone, level=config.level)

    def row(spec: Any, v: Any) -> dict[str, Any]:
        estimable = v.coef_dark is not None
        return {"key": spec.key, "description": spec.description, "window": v.window,
                "stops_in_window": v.stops_in_window, "dark_stops": v.dark_stops,
                "share_target_light": v.share_target_light, "share_target_dark": v.share_target_dark,
                "coef_dark": v.coef_dark, "ci_low": v.ci_low, "ci_high": v.ci_high, "p_value": v.p_value,
                "estimable": estimable, "disparity": v.disparity if estimable else None,
                "note": None if estimable else (
                    "not estimable: fewer than 50 stops in the window, fewer than 10 light or dark ones, the "
                    "target group always or never present, or the regression did not converge")}

    rows = [row(spec, v) for spec, v in veil]
    primary = next(r for r in rows if r["key"] == PRIMARY_WINDOW)
    estimable = [r for r in rows if r["estimable"]]
    consistent = (all(r["disparity"] == primary["disparity"] for r in estimable)
                  if primary["estimable"] and len(estimable) >= 2 else None)

    per_resident = None
    if group_column == "area_group":      # stops per 1,000 residents by area group, zones resampled
        zones = [z.zone_id for z in city.zones]
        counts = dict(zip(*np.unique(np.array(table["zone_id"].to_pylist(), dtype=object).astype(str),
                                     return_counts=True)))
        area = exposure_audit([zone_group[z] for z in zones], [z.population for z in city.zones],
                              [float(counts.get(z, 0)) for z in zones], np.zeros(len(zones)), reference=ref,
                              rng=np.random.default_rng(0), band=config.band, level=config.level,
                              n_boot=config.bootstrap, measures=MEASURES[:1], cluster=zones)
        per_resident = _audit_dict(area)

    def rate_dict(test: Any, question: str) -> dict[str, Any]:
        return {"question": question, "groups": [vars(g) for g in test.groups],
                "comparisons": [vars(c) for c in test.comparisons], "level": test.level,
                "adjusted_level": test.adjusted_level, "minimum_per_group": test.minimum, "flagged": test.flagged}

    return StopAuditResult.model_validate({
        "period": _period(first, stop), "sources": sources, "group_column": group_column,
        "legal_basis": declared.get(group_column), "reference": ref, "target": tgt,
        "stops": int(table.num_rows), "stops_without_group": int((~with_group).sum()),
        "searches": int((searched & with_group).sum()),
        "search_rate": rate_dict(search, "Are stops of one group searched more often than those of the reference?"),
        "hit_rate": rate_dict(hits, "Do searches of one group find something less (or more) often than those of "
                                    "the reference?"),
        "veil_of_darkness": {"target": tgt, "location": {"lat": lat, "lon": lon}, "timezone": city.timezone,
                             "primary": primary, "sensitivity": rows, "consistent": consistent},
        "stops_per_resident": per_resident,
        "flagged": bool(search.flagged or hits.flagged or bool(primary["disparity"])),
        "conclusive": bool(primary["estimable"]),
    })
