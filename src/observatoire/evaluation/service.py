"""Register a plan and run its analysis against the store: what the API and the CLI call.

``query`` is how the caller reads the store: a function that runs ``fn(events)`` on the
store's events table and returns its result (``StoreReader.query`` in the API,
``lambda fn: fn(store.events())`` on the command line).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from observatoire.city.profile import CityProfile
from observatoire.evaluation.analysis import analyse
from observatoire.evaluation.panel import PERIOD_DAYS, Panel, panel_from_events
from observatoire.evaluation.plans import attach_power, load_plan, store_plan, validate_plan
from observatoire.settings import Settings

Query = Callable[[Callable[[Any], Any]], Any]


def _panel(plan: Mapping[str, Any], city: CityProfile, query: Query, first: date, end: date) -> Panel:
    outcome = plan["outcome"]
    return query(lambda events: panel_from_events(
        events, units=[z.zone_id for z in city.zones], first=first, end=end, period=plan["period"],
        source=outcome["source"], categories=outcome["categories"], discovery=outcome["discovery"],
        tz=plan["timezone"]))


def _audit(settings: Settings, *, action: str, actor: str, role: str, plan: Mapping[str, Any]) -> None:
    settings.audit_log().record(
        action, actor=actor, role=role, dataset="evaluations",
        filters={"plan": plan["id"], "design": plan["design"], "source": plan["outcome"]["source"]},
        rows=1, purpose="effectiveness_evaluation", outcome="ok", detail={"content_hash": plan["content_hash"]})


def register(spec: Mapping[str, Any], *, settings: Settings, city: CityProfile, query: Query, actor: str,
             role: str) -> dict[str, Any]:
    """Check ``spec``, add the power analysis from the store's pre-period, store it once and audit it.

    Raises
    ------
    InputError
        When the plan is refused (the reason says why).
    """
    now = settings.clock()
    plan = validate_plan(spec, city=city, now=now)
    first = date.fromisoformat(plan["pre_start"])
    start = first + timedelta(days=PERIOD_DAYS[plan["period"]] * plan["pre_periods"])
    pre = _panel(plan, city, query, first, start)
    plan = attach_power(plan, pre, city)
    stored = store_plan(plan, settings.evaluations_dir, registered_at=now, registered_by=actor)
    _audit(settings, action="evaluation_registered", actor=actor, role=role, plan=stored)
    return stored


def analyse_plan(plan_id: str, *, settings: Settings, city: CityProfile, query: Query) -> dict[str, Any]:
    """The bound analysis of a registered plan on the store, up to its end or the last whole period before now."""
    plan = load_plan(settings.evaluations_dir, plan_id)
    now: datetime = settings.clock()
    today = now.astimezone(ZoneInfo(plan["timezone"])).date()
    first = date.fromisoformat(plan["pre_start"])
    end = min(date.fromisoformat(plan["end"]), today)
    panel = _panel(plan, city, query, first, end)
    result = analyse(plan, panel)
    result["as_of"] = now.isoformat()
    return result
