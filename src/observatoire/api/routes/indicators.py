"""``GET /api/v1/indicators``: CompStat-style indicators per zone for one theme (sources × categories)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from observatoire.analytics.indicators import Thresholds, comparable, daily_counts, indicators_from_daily
from observatoire.api.deps import CityDep, StoreDep
from observatoire.api.models import Indicators
from observatoire.api.params import CountFilters, DateText, count_filters, parse_date
from observatoire.api.routes.cells import check_filter_sources, filters_echo
from observatoire.event.schema import ATTRIBUTES

router = APIRouter(prefix="/api/v1", tags=["indicators"])


FiltersDep = Annotated[CountFilters, Depends(count_filters)]


@router.get("/indicators")
def indicators(
    city: CityDep,
    store: StoreDep,
    filters: FiltersDep,
    reference: Annotated[DateText | None, Query(description="Reference day (local), YYYY-MM-DD: windows end on it "
                                                            "(default: the last day of the theme's data).")] = None,
    baseline_years: Annotated[int | None, Query(ge=1, le=10, description="Years of the same period averaged "
                                                "(default: the largest of 1 to 3 the data support)")] = None,
    method: Annotated[Literal["poisson", "band"], Query(
        description="Exception test: poisson or band (mean ± z·sd)")] = "poisson",
) -> Indicators:
    """Per zone: 7-day, 28-day and year-to-date counts against the previous period and the
    ``baseline_years`` average and standard deviation, with an exception flag (exact
    Poisson test or control band, never a bare percentage change), trend and criticality
    levels (thresholds in ``docs/indicators-and-alerts.md``). ``start``/``end`` are not used.

    Like is compared with like: only the sources whose data cover every window and its
    baseline are counted; the others are listed under ``excluded_sources`` with the reason
    (e.g. CCTV events kept 30 days). ``baseline_years`` in the answer is the one used."""
    if not set(filters.sources) <= set(ATTRIBUTES):     # registered sources need no scan of the store
        check_filter_sources(store, filters)
    day = parse_date("reference", reference)
    backend = store.store      # its rollups answer the daily counts when it keeps them
    daily = store.query(lambda events: daily_counts(events, city=city, sources=filters.sources or None,
                                                    categories=filters.categories or None, store=backend))
    day = day or daily.last
    retention = backend.retention    # None: the store keeps every record (no period to respect)
    chosen = comparable(daily, reference=day, baseline_years=baseline_years,
                        retention_days=None if retention is None else retention.days)
    table = indicators_from_daily(chosen.daily, reference=day, city=city, baseline_years=chosen.baseline_years,
                                  thresholds=Thresholds(method=method))
    return Indicators.model_validate({
        "reference": day.isoformat(), "baseline_years": chosen.baseline_years, "method": method,
        "filters": filters_echo(filters), "sources": list(chosen.included), "excluded_sources": list(chosen.excluded),
        "rows": table.to_pylist()})
