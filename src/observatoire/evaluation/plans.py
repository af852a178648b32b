"""Evaluation plans: checked, then stored immutably, before the deployment they evaluate.

A plan says, before anything is deployed, what will be measured and how: the hypothesis,
the outcome stream (a source and categories, preferably data the deployment cannot inflate,
such as hospital admissions), the design, the treated units and start dates, the minimum
detectable effect with its power and alpha, the pre-periods and the buffer zones watched for
displacement. :func:`register_plan` refuses, with a reason, a plan that could not be
honest: an unknown outcome, a registration after the deployment started, too few
pre-periods for the design, unknown units, no controls... The stored plan is a JSON file
named by its id, written once (never replaced) and read-only, carrying ``registered_at``
(the settings' clock) and the SHA-256 of its canonical content; :func:`load_plan` refuses a
file whose content no longer matches its hash. The analysis (:mod:`analysis`) reads
everything from the plan and takes no outcome or design of its own.

Outcomes discovered by directed activity
----------------------------------------
More patrols find more drug dealing and write more fines: an outcome made of incidents the
deployment itself discovers rises with the deployment whatever its effect on safety. Each source
declares how its incidents come to be known (its descriptor's ``discovery``: ``independent``,
``mixed``, ``directed`` or ``planned``). An outcome from a ``directed`` source, or a ``mixed`` one
(the logbook) without ``discovery: [independent]``, is refused unless ``acknowledge_directed: true``,
and then carries a warning in the plan; a ``planned`` source (a calendar) is never an outcome.
"""

from __future__ import annotations

import math

import hashlib
import json
import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError, StoreError
from observatoire.event.schema import DISCOVERY
from observatoire.event.taxonomy import category, is_category
from observatoire.evaluation.checks import adjacent_zones
from observatoire.evaluation.panel import PERIOD_DAYS, Panel
from observatoire.governance.audit import canonical

DESIGNS = ("randomised", "staggered_did", "synthetic_control")
# Pre-periods a design needs at the least: a baseline for each unit (randomised), more than one
# pre-period to see trends (DiD), a long pre-period to fit donor weights (synthetic control).
MIN_PRE_PERIODS = {"randomised": 4, "staggered_did": 4, "synthetic_control": 10}
MIN_CONTROLS = {"randomised": 2, "staggered_did": 2, "synthetic_control": 4}
PLAN_ID = re.compile(r"^ev-[0-9a-f]{12}$")
FIELDS = {"title", "hypothesis", "outcome", "design", "period", "treated", "randomisation", "buffer", "mde", "power",
          "alpha", "pre_periods", "end", "scale", "selection_periods"}
OUTCOME_FIELDS = {"source", "categories", "discovery", "acknowledge_directed"}
RANDOMISATION_FIELDS = {"level", "seed", "share", "units", "start"}


def _date(value: Any, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{name}: expected a date YYYY-MM-DD")


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low < float(value) < high:
        raise InputError(f"{name}: expected a number between {low:g} and {high:g} (excluded)")
    return float(value)


def _text(value: Any, name: str, limit: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{name}: required text")
    if len(value) > limit:
        raise InputError(f"{name}: longer than {limit} characters")
    return value.strip()


def _zones(value: Any, name: str, city: CityProfile) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{name}: expected a list of zone ids")
    unknown = [v for v in value if v not in city.zone_ids]
    if unknown:
        raise InputError(f"{name}: {len(unknown)} unknown unit(s), not zones of the city profile {city.name}")
    if len(set(value)) != len(value):
        raise InputError(f"{name}: a zone is listed twice")
    return list(value)


def discovery_natures() -> dict[str, str]:
    """How each registered event source's incidents come to be known (its descriptor's ``discovery``)."""
    from observatoire.sources.registry import registered

    registry = registered()
    return {name: registry.sources[name].descriptor.discovery or "" for name in registry.event_sources()}


def check_outcome(spec: Any) -> tuple[dict[str, Any], list[str]]:
    """The outcome stream, normalised, and its warnings; InputError when it is unknown or not independent."""
    if not isinstance(spec, Mapping):
        raise InputError("outcome: expected {source, categories[, discovery, acknowledge_directed]}")
    extra = set(spec) - OUTCOME_FIELDS
    if extra:
        raise InputError(f"outcome: unknown field(s) {', '.join(sorted(extra))}")
    source = spec.get("source")
    natures = discovery_natures()
    if not isinstance(source, str) or natures.get(source, "planned") == "planned":
        raise InputError("outcome unknown: the source is not an event source of the observatory "
                         f"(expected one of {', '.join(s for s in sorted(natures) if natures[s] != 'planned')})")
    cats = spec.get("categories")
    if not isinstance(cats, list) or not cats or not all(isinstance(c, str) for c in cats):
        raise InputError("outcome: categories must be a non-empty list of category codes")
    unknown = [c for c in cats if not is_category(c)]
    if unknown:
        raise InputError(f"outcome unknown: {len(unknown)} category code(s) not in the taxonomy")
    not_incidents = sorted(c for c in cats if category(c).kind != "incident")
    discovery = spec.get("discovery")
    if discovery is not None and (not isinstance(discovery, list) or not discovery
                                  or not set(discovery) <= set(DISCOVERY)):
        raise InputError(f"outcome: discovery must be a list of {', '.join(DISCOVERY)}")
    acknowledged = spec.get("acknowledge_directed", False)
    if not isinstance(acknowledged, bool):
        raise InputError("outcome: acknowledge_directed must be true or false")
    independent = (natures[source] == "independent"
                   or (natures[source] == "mixed" and discovery is not None and set(discovery) == {"independent"}))
    warnings: list[str] = []
    if not independent or not_incidents:
        reason = ("its categories count what the institutions did, not what happened" if not_incidents else
                  "its events are (partly) discovered by the patrols or cameras the deployment directs, so it "
                  "rises with the deployment whatever its effect")
        if not acknowledged:
            raise InputError(f"outcome not independent of the deployment: {reason}; choose independently recorded "
                             "data (hospital admissions, or the logbook with discovery [independent]) or set "
                             "acknowledge_directed: true")
        warnings.append(f"outcome not independent of the deployment ({reason}); acknowledged at registration")
    out = {"source": source, "categories": sorted(set(cats)), "discovery": sorted(set(discovery)) if discovery else None,
           "acknowledge_directed": acknowledged, "independent": independent and not not_incidents}
    return out, warnings


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz))


def _draw_assignment(rand: Mapping[str, Any], *, eligible: list[str], period: str, start: date, end: date
                     ) -> tuple[list[dict[str, str]], dict[str, list[str]] | None]:
    """Zone level: the treated zones; day level: the treated zones of each period, drawn from the seed."""
    seed = rand.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError("randomisation.seed: expected a non-negative integer")
    share = _number(rand.get("share", 0.5), "randomisation.share", 0.0, 1.0)
    k = int(round(share * len(eligible)))
    if k < 1 or len(eligible) - k < MIN_CONTROLS["randomised"]:
        raise InputError(f"randomisation: too few eligible units for treated and at least "
                         f"{MIN_CONTROLS['randomised']} control units")
    rng = np.random.default_rng(seed)
    if rand.get("level", "zone") == "zone":
        chosen = sorted(rng.choice(eligible, k, replace=False).tolist())
        return [{"unit": u, "start": start.isoformat()} for u in chosen], None
    step = PERIOD_DAYS[period]
    schedule = {}
    day = start
    while day + timedelta(days=step) <= end:
        schedule[day.isoformat()] = sorted(rng.choice(eligible, k, replace=False).tolist())
        day += timedelta(days=step)
    return [], schedule


def validate_plan(spec: Mapping[str, Any], *, city: CityProfile, now: datetime) -> dict[str, Any]:
    """Check a plan and return its normalised content (no id, hash or registration time yet).

    Raises
    ------
    InputError
        With the reason: unknown field, outcome unknown or not independent, unknown design or
        units, a start already passed at ``now``, too few pre-periods, no control units, a
        buffer overlapping the treated units, MDE/power/alpha out of range.
    """
    if not isinstance(spec, Mapping):
        raise InputError("a plan is a mapping of fields")
    extra = set(spec) - FIELDS
    if extra:
        raise InputError(f"unknown plan field(s): {', '.join(sorted(str(e) for e in extra))}")
    outcome, warnings = check_outcome(spec.get("outcome"))
    design = spec.get("design")
    if design not in DESIGNS:
        raise InputError(f"design: expected one of {', '.join(DESIGNS)}")
    period = spec.get("period", "week")
    if period not in PERIOD_DAYS:
        raise InputError("period: expected day or week")
    pre_periods = spec.get("pre_periods")
    if isinstance(pre_periods, bool) or not isinstance(pre_periods, int):
        raise InputError("pre_periods: expected a whole number of periods before the first start")
    if pre_periods < MIN_PRE_PERIODS[design]:
        raise InputError(f"too few pre-periods: {design} needs at least {MIN_PRE_PERIODS[design]} {period}s "
                         f"before the start, the plan has {pre_periods}")
    end = _date(spec.get("end"), "end")
    mde = _number(spec.get("mde"), "mde (relative reduction to detect, e.g. 0.1)", 0.0, 1.0)
    power = _number(spec.get("power", 0.8), "power", 0.5, 1.0)
    alpha = _number(spec.get("alpha", 0.05), "alpha", 0.0, 0.5)
    scale = spec.get("scale", "log")
    if scale not in ("log", "level"):
        raise InputError("scale: expected log or level")

    buffer_spec = spec.get("buffer", [])
    rand = spec.get("randomisation")
    schedule = None
    if design == "randomised":
        if not isinstance(rand, Mapping) or set(rand) - RANDOMISATION_FIELDS:
            raise InputError("randomisation: expected {level, seed, share, units, start}")
        if rand.get("level", "zone") not in ("zone", "day"):
            raise InputError("randomisation.level: expected zone or day")
        if spec.get("treated"):
            raise InputError("treated: a randomised plan draws its treated units from randomisation.seed")
        start = _date(rand.get("start"), "randomisation.start")
        eligible = _zones(rand.get("units", [z.zone_id for z in city.zones]), "randomisation.units", city)
        if buffer_spec not in ([], None):
            raise InputError("buffer: a randomised plan has no buffer (displacement is balanced across arms)")
        treated, schedule = _draw_assignment(rand, eligible=eligible, period=period, start=start, end=end)
        randomisation = {"level": rand.get("level", "zone"), "seed": rand["seed"],
                         "share": float(rand.get("share", 0.5)), "units": eligible, "start": start.isoformat()}
    else:
        if rand is not None:
            raise InputError(f"randomisation: only for the randomised design, not {design}")
        items = spec.get("treated")
        if not isinstance(items, list) or not items or not all(isinstance(i, Mapping) for i in items):
            raise InputError("treated: expected a non-empty list of {unit, start}")
        units = _zones([i.get("unit") for i in items], "treated", city)
        starts = [_date(i.get("start"), "treated.start") for i in items]
        treated = [{"unit": u, "start": s.isoformat()} for u, s in zip(units, starts)]
        if design == "synthetic_control" and len(set(starts)) > 1:
            raise InputError("synthetic_control: every treated unit must start on the same date (use staggered_did)")
        randomisation = None
    starts = sorted({date.fromisoformat(t["start"]) for t in treated} |
                    ({date.fromisoformat(randomisation["start"])} if randomisation else set()))
    first_start = starts[0]
    if period == "week" and any(s.weekday() != 0 for s in starts):
        raise InputError("weekly plans start on a Monday (ISO weeks)")
    if end <= starts[-1] + timedelta(days=PERIOD_DAYS[period] - 1):
        raise InputError("end: the plan must end at least one whole period after the last start")
    if now >= _local_midnight(first_start, city.timezone):
        raise InputError(f"plan registered after the deployment start: registration at {now.isoformat()} is not "
                         f"before the first start {first_start.isoformat()} (a plan must precede its deployment)")

    treated_units = [t["unit"] for t in treated]
    if buffer_spec == "adjacent":
        base = treated_units
        buffer = adjacent_zones(city, base) if base else []
    else:
        buffer = _zones(buffer_spec or [], "buffer", city)
    if set(buffer) & set(treated_units):
        raise InputError("buffer: a zone cannot be both treated and in the buffer")
    if design != "randomised":
        controls = [z.zone_id for z in city.zones if z.zone_id not in set(treated_units) | set(buffer)]
        if design == "staggered_did" and len(controls) < MIN_CONTROLS[design] and len(starts) == 1:
            raise InputError(f"staggered_did: at least {MIN_CONTROLS[design]} control zones outside the treated "
                             "and buffer zones are needed")
        if design == "synthetic_control" and len(controls) < MIN_CONTROLS[design]:
            raise InputError(f"synthetic_control: at least {MIN_CONTROLS[design]} donor zones outside the treated "
                             "and buffer zones are needed")
    selection = spec.get("selection_periods")
    if selection is not None and (isinstance(selection, bool) or not isinstance(selection, int)
                                  or not 1 <= selection < pre_periods):
        raise InputError("selection_periods: expected a whole number between 1 and pre_periods - 1")

    step = PERIOD_DAYS[period]
    if design == "synthetic_control":     # the conformal interval ranks 1/alpha cyclic shifts of the whole series
        total = pre_periods + (end - first_start).days // step
        if total < (needed := math.ceil(1 / alpha)):
            raise InputError(f"synthetic_control: its conformal interval needs at least {needed} periods in all at "
                             f"alpha {alpha:g}; the plan has {total} (pre-periods plus the deployment)")
    if design == "staggered_did":
        cohorts = [sum(1 for t in treated if t["start"] == s.isoformat()) for s in starts]
        if 1 in cohorts:
            warnings.append("a cohort of a single zone: its own noise cannot be estimated and its interval is too "
                            "narrow; the analysis counts it under singleton_cohorts")
    return {
        "title": _text(spec.get("title"), "title", 200),
        "hypothesis": _text(spec.get("hypothesis"), "hypothesis"),
        "outcome": outcome,
        "design": design,
        "period": period,
        "pre_periods": pre_periods,
        "pre_start": (first_start - timedelta(days=step * pre_periods)).isoformat(),
        "end": end.isoformat(),
        "treated": treated,
        "schedule": schedule,
        "randomisation": randomisation,
        "buffer": buffer,
        "mde": mde,
        "power": power,
        "alpha": alpha,
        "scale": scale,
        "selection_periods": selection,
        "timezone": city.timezone,
        "city": city.name,
        "warnings": warnings,
    }


def expected_cells(plan: Mapping[str, Any], units: int) -> tuple[int, int]:
    """Treated and control unit-periods the plan's post-period will hold (for the power analysis)."""
    step = PERIOD_DAYS[plan["period"]]
    end = date.fromisoformat(plan["end"])
    if plan["schedule"]:
        treated = sum(len(v) for v in plan["schedule"].values())
        return treated, len(plan["schedule"]) * len(plan["randomisation"]["units"]) - treated
    posts = [(end - date.fromisoformat(t["start"])).days // step for t in plan["treated"]]
    first = min(date.fromisoformat(t["start"]) for t in plan["treated"])
    n_control = units - len(plan["treated"]) - len(plan["buffer"])
    return int(sum(posts)), int(n_control * ((end - first).days // step))


# What attach_power adds from exact counts of the store: kept from the public's copy of a plan (public_view).
NO_PRE_PERIOD = "no pre-period data in the store: the power could not be computed"
UNDERPOWERED = "underpowered: "


def public_view(plan: dict[str, Any]) -> dict[str, Any]:
    """A registered plan as the public reads it: without ``power_analysis`` and its warnings, computed from
    exact pre-period counts (``power_analysis_withheld``: true). The content hash still covers the whole plan."""
    warnings = [w for w in plan.get("warnings", []) if w != NO_PRE_PERIOD and not w.startswith(UNDERPOWERED)]
    return {**{k: v for k, v in plan.items() if k != "power_analysis"}, "warnings": warnings,
            "power_analysis_withheld": True}


def attach_power(plan: dict[str, Any], pre_panel: Panel | None, city: CityProfile) -> dict[str, Any]:
    """Add ``power_analysis`` from the pre-period counts (baseline mean and dispersion), and a warning when short."""
    from observatoire.evaluation.power import estimate_nb, power_analysis

    if pre_panel is None or pre_panel.counts.size == 0 or pre_panel.counts.sum() == 0:
        plan["power_analysis"] = None
        plan["warnings"].append(NO_PRE_PERIOD)
        return plan
    units = len(plan["randomisation"]["units"]) if plan["randomisation"] else len(city.zones)
    n_t, n_c = expected_cells(plan, units)
    mean, dispersion = estimate_nb(pre_panel.counts)
    if n_t < 1 or n_c < 1:
        plan["power_analysis"] = None
        return plan
    analysis = power_analysis(mean=mean, dispersion=dispersion, n_treated=n_t, n_control=n_c, alpha=plan["alpha"],
                              mde=plan["mde"], power=plan["power"]).as_dict()
    plan["power_analysis"] = analysis
    if analysis["power_at_mde"] < plan["power"]:
        plan["warnings"].append(f"{UNDERPOWERED}the power to detect -{plan['mde']:.0%} is "
                                f"{analysis['power_at_mde']:.2f}, below the planned {plan['power']:.2f}")
    return plan


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a plan without its ``id`` and ``content_hash``."""
    body = {k: v for k, v in content.items() if k not in ("id", "content_hash")}
    return hashlib.sha256(canonical(body)).hexdigest()


def store_plan(plan: dict[str, Any], directory: Path, *, registered_at: datetime, registered_by: str | None
               ) -> dict[str, Any]:
    """Stamp, hash and write ``plan`` once, read-only, as ``<directory>/<id>.json``; return the stored plan."""
    plan = dict(plan, registered_at=registered_at.astimezone(UTC).isoformat(), registered_by=registered_by)
    digest = content_hash(plan)
    plan["content_hash"] = digest
    plan["id"] = f"ev-{digest[:12]}"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{plan['id']}.json"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    except FileExistsError:
        raise InputError(f"this plan is already registered as {plan['id']}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(canonical(plan))
        fh.flush()
        os.fsync(fh.fileno())
    return plan


def load_plan(directory: Path, plan_id: str) -> dict[str, Any]:
    """The registered plan ``plan_id``; InputError when unknown, StoreError when its file was altered."""
    if not isinstance(plan_id, str) or not PLAN_ID.match(plan_id):
        raise InputError("unknown evaluation plan: an id looks like ev-<12 hex>")
    path = directory / f"{plan_id}.json"
    try:
        plan = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"unknown evaluation plan {plan_id}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"evaluation plan {plan_id} cannot be read ({type(exc).__name__})") from exc
    if plan.get("content_hash") != content_hash(plan) or plan.get("id") != plan_id:
        raise StoreError(f"evaluation plan {plan_id} was modified after registration (its content hash differs)")
    return plan


def list_plans(directory: Path) -> list[dict[str, Any]]:
    """Every registered plan (checked), oldest first."""
    if not directory.is_dir():
        return []
    plans = [load_plan(directory, p.stem) for p in sorted(directory.glob("ev-*.json")) if PLAN_ID.match(p.stem)]
    return sorted(plans, key=lambda p: (p["registered_at"], p["id"]))
