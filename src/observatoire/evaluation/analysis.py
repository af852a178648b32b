"""The analysis a plan registered, and nothing else: outcome, design, units and dates come from the plan.

:func:`analyse` takes the stored plan and the panel of its outcome stream and runs the
plan's design, then the checks (regression to the mean for designs that choose their units,
displacement when the plan has buffer zones). It has no parameter to change the outcome or
the design. Departures from the plan are reported in ``deviations`` (an interim analysis
before the plan's end, treated units without any event before the start; days of a
schedule outside the panel's periods are left out of the schedule). Random draws (re-randomisations, placebo groups) come from a
generator seeded by the plan's content hash, so the same plan on the same data gives the
same result.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np

from observatoire.errors import InputError
from observatoire.evaluation.checks import displacement, regression_to_mean
from observatoire.evaluation.did import staggered_did
from observatoire.evaluation.panel import PERIOD_DAYS, Panel
from observatoire.evaluation.randomised import randomised
from observatoire.evaluation.synthetic import synthetic_control

PERMUTATIONS = 999
MAX_PLACEBOS = 200


def plan_rng(plan: Mapping[str, Any]) -> np.random.Generator:
    """The generator of a plan's analysis, seeded by its content hash."""
    return np.random.default_rng(int(plan["content_hash"][:16], 16))


def _conclusion(ci: tuple[float, float], mde: float) -> str:
    lo, hi = ci
    if hi < 0:
        return "reduction detected (the interval lies below zero)"
    if lo > 0:
        return "increase detected (the interval lies above zero)"
    if lo > -mde:
        return f"no effect detected, and the interval rules out a reduction of {mde:.0%} or more"
    return "no effect detected; the interval is too wide to rule out the planned effect"


def _checked(fn, *args, **kwargs) -> dict[str, Any]:
    try:
        return fn(*args, **kwargs)
    except InputError as exc:
        return {"skipped": str(exc)}


def analyse(plan: Mapping[str, Any], panel: Panel, *, planned_end: date | None = None) -> dict[str, Any]:
    """Run the plan's design and checks on ``panel`` (the plan's outcome, all zones, from its pre-start).

    Parameters
    ----------
    plan
        A stored plan (:func:`observatoire.evaluation.plans.load_plan`).
    panel
        Counts of the plan's outcome stream per zone and period, from ``plan["pre_start"]``
        up to the plan's end or the last complete period observed.
    planned_end
        The plan's end (default ``plan["end"]``); a shorter panel is an interim analysis.

    Returns
    -------
    dict
        ``plan_id``, ``content_hash``, ``design``, ``outcome``, ``periods``, ``estimate`` (the
        design's result), ``conclusion``, ``checks`` and ``deviations``.
    """
    rng = plan_rng(plan)
    units = panel.units
    missing = [u for t in plan["treated"] for u in [t["unit"]] if u not in units]
    missing += [u for u in plan["buffer"] if u not in units]
    if missing:
        raise InputError(f"{len(missing)} unit(s) of the plan are not zones of the city profile")
    n_t = len(panel.periods)
    step_end = date.fromisoformat(plan["end"]) if planned_end is None else planned_end
    deviations: list[str] = []
    first_start = date.fromisoformat(plan["randomisation"]["start"] if plan["randomisation"]
                                     else min(t["start"] for t in plan["treated"]))
    if first_start not in panel.periods:
        raise InputError(f"no post-period has been observed yet: the deployment starts on {first_start.isoformat()}")
    start = panel.period_index(first_start)
    last = panel.periods[-1]
    step = PERIOD_DAYS[plan["period"]]
    if (step_end - (last + timedelta(days=step))).days >= step:
        deviations.append(f"interim analysis: periods up to {last.isoformat()} observed, the plan ends on "
                          f"{plan['end']}")
    y = panel.counts
    row = {u: i for i, u in enumerate(units)}
    treated_rows = [row[t["unit"]] for t in plan["treated"]]
    silent = [u for u in (t["unit"] for t in plan["treated"]) if y[row[u], :start].sum() == 0]
    if silent:
        deviations.append(f"{len(silent)} treated unit(s) have no event of the outcome before the start")
    buffer = np.zeros(len(units), bool)
    buffer[[row[u] for u in plan["buffer"]]] = True
    checks: dict[str, Any] = {}
    design = plan["design"]
    if design == "randomised":
        rand = plan["randomisation"]
        eligible = [row[u] for u in rand["units"]]
        sub = y[eligible]
        if rand["level"] == "zone":
            assign = np.zeros((len(eligible), n_t - start), bool)
            chosen = {t["unit"] for t in plan["treated"]}
            assign[[i for i, u in enumerate(rand["units"]) if u in chosen], :] = True
            cols = np.arange(start, n_t)
        else:
            cols_list, rows = [], []
            for day, chosen in sorted(plan["schedule"].items()):
                d = date.fromisoformat(day)
                if d in panel.periods:
                    cols_list.append(panel.period_index(d))
                    rows.append({rand["units"].index(u) for u in chosen})
            cols = np.array(cols_list, int)
            assign = np.array([[i in r for r in rows] for i in range(len(eligible))], bool).reshape(len(eligible), -1)
        result = randomised(sub[:, cols], assign, baseline=sub[:, :start].mean(axis=1), scheme=rand["level"],
                            level=1 - plan["alpha"], permutations=PERMUTATIONS, rng=rng).as_dict()
        checks["regression_to_mean"] = {"skipped": "randomised assignment: units were not chosen on their past"}
        checks["displacement"] = {"skipped": "randomised assignment: no buffer zones"}
    else:
        keep = ~buffer
        sub = y[keep]
        kept_units = tuple(u for u, k in zip(units, keep) if k)
        first = np.full(len(kept_units), -1)
        for t in plan["treated"]:
            first[kept_units.index(t["unit"])] = panel.period_index(date.fromisoformat(t["start"]))
        if design == "staggered_did":
            result = staggered_did(sub, first, scale=plan["scale"], level=1 - plan["alpha"]).as_dict()
        else:
            result = synthetic_control(sub, first >= 0, start, units=kept_units, level=1 - plan["alpha"],
                                       max_placebos=MAX_PLACEBOS, rng=rng).as_dict()
        selection = plan.get("selection_periods") or max(1, plan["pre_periods"] // 4)
        checks["regression_to_mean"] = _checked(regression_to_mean, sub, first >= 0, start,
                                                selection_periods=selection)
        if buffer.any():
            treated_mask = np.zeros(len(units), bool)
            treated_mask[treated_rows] = True
            checks["displacement"] = _checked(displacement, y, treated_mask, buffer, start, level=1 - plan["alpha"])
        else:
            checks["displacement"] = {"skipped": "the plan has no buffer zones"}
    effect_ci = (result["ci_effect"][0], result["ci_effect"][1])
    return {
        "plan_id": plan["id"],
        "content_hash": plan["content_hash"],
        "design": design,
        "outcome": plan["outcome"],
        "periods": {"period": plan["period"], "first": panel.periods[0].isoformat(), "start": first_start.isoformat(),
                    "last": last.isoformat(), "pre_periods": start, "post_periods": n_t - start},
        "estimate": result,
        "level": 1 - plan["alpha"],
        "conclusion": _conclusion(effect_ci, plan["mde"]),
        "checks": checks,
        "deviations": deviations,
        "warnings": list(plan.get("warnings", [])),
    }
