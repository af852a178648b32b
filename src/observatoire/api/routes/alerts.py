"""``GET /api/v1/alerts`` (what the registered rules raise), ``POST /api/v1/alerts/{alert_id}/feedback``
(an operator's verdict), ``GET /api/v1/dark-figure`` (hospital-recorded assaults against police-recorded
violence). The rule registry itself is served by ``routes/rules.py``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from observatoire.analytics.alerts import Alert, ClashRule, alert_id, alerts_from_events, clashes, planned_events
from observatoire.analytics.dark_figure import dark_figure_from_events
from observatoire.api.access import AuditNoteDep
from observatoire.api.deps import CityDep, StoreDep
from observatoire.api.models import Alert as AlertOut
from observatoire.api.models import Alerts, DarkFigure, DarkFigureRow, DayPeriod, FeedbackRecord, OpenPeriod, RuleRef
from observatoire.api.params import DateText, parse_date
from observatoire.api.routes.rules import audit_of, caller, registry_of
from observatoire.errors import InputError
from observatoire.registry.feedback import FeedbackLog

router = APIRouter(prefix="/api/v1", tags=["alerts"])


def _alert(a: Alert) -> AlertOut:
    return AlertOut(id=a.id, **dataclasses.asdict(a))


@router.get("/alerts")
def alerts(
    request: Request,
    city: CityDep,
    store: StoreDep,
    note: AuditNoteDep,
    at: Annotated[DateText | None, Query(description="Evaluate as of this UTC day, YYYY-MM-DD (default: now)")] = None,
    watch_windows: Annotated[int, Query(ge=1, le=168, description="Recent windows watched per rule")] = 1,
) -> Alerts:
    """Alerts of the registry's active rules on the last ``watch_windows`` windows before ``at``; each
    carries a stable ``id`` and the id and version of the rule that raised it. A rule without enough
    data, whose stream has stopped before its watched windows (``flux interrompu : dernière donnée
    le <day>``), or past its review date, is listed under ``skipped`` with the reason."""
    day = parse_date("at", at)
    now = (request.app.state.settings.clock().astimezone(UTC) if day is None
           else datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1))
    registry = registry_of(request)
    zones = [z.zone_id for z in city.zones]
    found: list[Alert] = []
    applied, skipped = registry.applied()
    for rule in applied:  # a rule without enough data is reported, not fatal to the others
        if isinstance(rule, ClashRule):
            continue
        try:
            found += store.query(lambda events: alerts_from_events(events, [rule], zones=zones, now=now,
                                                                   watch_windows=watch_windows,
                                                                   with_clashes=False))
        except InputError as exc:
            skipped.append({"id": rule.id, "version": rule.version, "reason": str(exc)})
    clash_rules = [r for r in applied if isinstance(r, ClashRule)]
    if clash_rules and found:
        end = now.replace(minute=0, second=0, microsecond=0)
        earliest = min(a.window_start for a in found)
        planned = store.query(lambda events: planned_events(events, start=earliest, end=end))
        found += [c for rule in clash_rules for c in clashes(planned, found, rule)]
    note.rows = len(found)
    return Alerts(as_of=now, alerts=[_alert(a) for a in found], skipped=skipped,
                  rules=[RuleRef(id=r.id, version=r.version) for r in applied])


class Feedback(BaseModel):
    """An operator's verdict on one alert, with the alert's key fields as ``GET /api/v1/alerts`` gave them."""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["confirmed", "false"]
    rule_id: str
    rule_version: int
    zone_id: str
    window_start: datetime
    window_end: datetime
    planned_event_id: str | None = None


@router.post("/alerts/{alert_id}/feedback", status_code=201)
def feedback(request: Request, alert_id: str, body: Feedback) -> FeedbackRecord:
    """Mark an alert confirmed or false (audited ``alert_feedback``); the rule's false-positive rate in
    ``GET /api/v1/rules`` counts it. The alert's fields must give back its id."""
    actor, role = caller(request)
    if any(t.tzinfo is None for t in (body.window_start, body.window_end)):
        raise InputError("window_start and window_end must carry a time zone (UTC)")
    expected = alert_id_of(body)
    if expected != alert_id:
        raise InputError("the alert's fields do not give back this alert id")
    versions = {v.version: v.state for v in registry_of(request).versions(body.rule_id)}
    if versions.get(body.rule_version) not in ("active", "superseded"):
        raise InputError(f"rule {body.rule_id} has no approved version {body.rule_version}")
    settings = request.app.state.settings
    record = FeedbackLog(settings.registry_dir, clock=settings.clock).add(
        alert_id=alert_id, rule_id=body.rule_id, rule_version=body.rule_version, verdict=body.verdict,
        actor=actor, role=role, audit=audit_of(request))
    return FeedbackRecord(**{k: record[k] for k in ("alert_id", "rule_id", "rule_version", "verdict", "at")})


def alert_id_of(body: Feedback) -> str:
    return alert_id(body.rule_id, body.rule_version, body.zone_id, body.window_start, body.window_end,
                    body.planned_event_id)


@router.get("/dark-figure")
def dark_figure(
    city: CityDep,
    store: StoreDep,
    start: Annotated[DateText | None, Query(description="First day included, YYYY-MM-DD (UTC)")] = None,
    end: Annotated[DateText | None, Query(description="First day excluded, YYYY-MM-DD (UTC)")] = None,
    level: Annotated[float, Query(gt=0.5, lt=1.0, description="Confidence level")] = 0.95,
) -> DarkFigure:
    """Per zone, hospital-recorded assault injuries against police-recorded violence (logbook),
    the ratio and its exact confidence interval (null bound: unbounded), over the days of the
    asked period that both streams hold (``period``: first day included, first day excluded;
    ``asked``: the request). 422 when they hold none in common."""
    first, stop = parse_date("start", start), parse_date("end", end)
    if first and stop and stop <= first:
        raise InputError("end must be after start: the period is empty")
    table = store.query(lambda events: dark_figure_from_events(
        events, zone_ids=[z.zone_id for z in city.zones], start=first, end=stop, level=level))
    meta = table.schema.metadata
    return DarkFigure(period=DayPeriod(start=meta[b"start"].decode(), end=meta[b"end"].decode()),
                      asked=OpenPeriod(start=start, end=end), level=level,
                      rows=[DarkFigureRow(**row) for row in table.to_pylist()])
