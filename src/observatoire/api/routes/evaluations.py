"""``/api/v1/evaluations``: register an evaluation plan before a deployment, read plans, run their bound analysis.

- ``POST /api/v1/evaluations``: register a plan (JSON body, the fields of ``docs/evaluation.md``);
  422 with the reason when refused (outcome unknown, registered after the deployment start,
  too few pre-periods, unknown units...). Audited as ``evaluation_registered``.
- ``GET /api/v1/evaluations``: every registered plan (id, title, design, outcome, dates, registration).
- ``GET /api/v1/evaluations/{plan_id}``: one plan as stored (immutable, with its content hash); for the
  public without its ``power_analysis`` and the warnings drawn from it, computed from exact pre-period counts
  of the store (``power_analysis_withheld``: true). The hash still covers the whole plan.
- ``GET /api/v1/evaluations/{plan_id}/analysis``: the analysis the plan registered, on the store
  as it is now (no parameter can change the outcome or the design).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from observatoire.api.deps import CityDep, StoreDep
from observatoire.errors import InputError
from observatoire.evaluation.plans import list_plans, load_plan, public_view
from observatoire.evaluation.service import analyse_plan, register

router = APIRouter(prefix="/api/v1", tags=["evaluations"])

SUMMARY_FIELDS = ("id", "title", "design", "outcome", "period", "pre_start", "end", "registered_at", "content_hash")


def _caller(request: Request) -> tuple[str, str]:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return "anonymous", "public"
    return principal.actor, principal.role


@router.post("/evaluations", status_code=201)
def register_evaluation(
    request: Request, city: CityDep, store: StoreDep, plan: dict[str, Any] = Body(..., description="The plan."),
) -> dict[str, Any]:
    """Register an evaluation plan; it must precede the deployment's first start (422 otherwise)."""
    if not isinstance(plan, dict):
        raise InputError("the body must be a JSON object (the plan)")
    actor, role = _caller(request)
    settings = request.app.state.settings
    return register(plan, settings=settings, city=city, query=store.query, actor=actor, role=role)


@router.get("/evaluations")
def evaluations(request: Request) -> dict[str, Any]:
    """Every registered plan, oldest first (summary fields)."""
    plans = list_plans(request.app.state.settings.evaluations_dir)
    return {"evaluations": [{k: p.get(k) for k in SUMMARY_FIELDS} for p in plans]}


@router.get("/evaluations/{plan_id}")
def evaluation(request: Request, plan_id: str) -> dict[str, Any]:
    """One registered plan, as stored (for the public, without the figures computed from the store)."""
    plan = load_plan(request.app.state.settings.evaluations_dir, plan_id)
    return plan if _caller(request)[1] != "public" else public_view(plan)


@router.get("/evaluations/{plan_id}/analysis")
def evaluation_analysis(request: Request, plan_id: str, city: CityDep, store: StoreDep) -> dict[str, Any]:
    """The plan's bound analysis on the store now: estimate, interval, conclusion, checks, deviations."""
    return analyse_plan(plan_id, settings=request.app.state.settings, city=city, query=store.query)
