"""``GET /api/v1/rules`` (the published rules), ``GET /api/v1/alerts`` (what they raise),
``GET /api/v1/dark-figure`` (hospital-recorded assaults against police-recorded violence)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from observatoire.analytics.alerts import alerts_from_events
from observatoire.analytics.dark_figure import dark_figure_from_events
from observatoire.api.deps import CityDep, StoreDep
from observatoire.api.params import parse_date
from observatoire.errors import InputError

router = APIRouter(prefix="/api/v1", tags=["alerts"])


def _rule(rule: Any) -> dict[str, Any]:
    out = dataclasses.asdict(rule)
    out["stream"] = {"source": rule.stream.source, "categories": sorted(rule.stream.categories)}
    out["parameters"] = dict(rule.parameters)
    return out


@router.get("/rules")
def rules(request: Request) -> dict[str, Any]:
    """Every published alert rule, with its id and version: an alert exists only as one of them."""
    return {"rules": [_rule(r) for r in request.app.state.rules]}


@router.get("/alerts")
def alerts(
    request: Request,
    city: CityDep,
    store: StoreDep,
    at: Annotated[str | None, Query(description="Evaluate as of this UTC day, YYYY-MM-DD (default: now)")] = None,
    watch_windows: Annotated[int, Query(ge=1, le=168, description="Recent windows watched per rule")] = 1,
) -> dict[str, Any]:
    """Alerts of the published rules on the last ``watch_windows`` windows before ``at``;
    each carries the id and version of the rule that raised it."""
    day = parse_date("at", at)
    now = datetime.now(UTC) if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    zones = [z.zone_id for z in city.zones]
    found, skipped = [], []
    for rule in request.app.state.rules:  # a rule without enough data is reported, not fatal to the others
        try:
            found += store.query(lambda events: alerts_from_events(events, [rule], zones=zones, now=now,
                                                                   watch_windows=watch_windows))
        except InputError as exc:
            skipped.append({"id": rule.id, "version": rule.version, "reason": str(exc)})
    return {"as_of": now.isoformat(), "alerts": [dataclasses.asdict(a) for a in found], "skipped": skipped,
            "rules": [{"id": r.id, "version": r.version} for r in request.app.state.rules]}


@router.get("/dark-figure")
def dark_figure(
    city: CityDep,
    store: StoreDep,
    start: Annotated[str | None, Query(description="First day included, YYYY-MM-DD (UTC)")] = None,
    end: Annotated[str | None, Query(description="First day excluded, YYYY-MM-DD (UTC)")] = None,
    level: Annotated[float, Query(gt=0.5, lt=1.0, description="Confidence level")] = 0.95,
) -> dict[str, Any]:
    """Per zone, hospital-recorded assault injuries against police-recorded violence (logbook),
    the ratio and its exact confidence interval (null bound: unbounded)."""
    first, stop = parse_date("start", start), parse_date("end", end)
    if first and stop and stop <= first:
        raise InputError("end must be after start: the period is empty")
    table = store.query(lambda events: dark_figure_from_events(
        events, zone_ids=[z.zone_id for z in city.zones], start=first, end=stop, level=level))
    return {"period": {"start": start, "end": end}, "level": level, "rows": table.to_pylist()}
