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

An id that names no registered plan is a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request

from observatoire.api.deps import CityDep, StoreDep
from observatoire.api.models import EvaluationAnalysis, EvaluationList, EvaluationPlan, EvaluationSummary
from observatoire.api.openapi import NOT_FOUND
from observatoire.errors import InputError
from observatoire.evaluation.plans import PLAN_ID, list_plans, load_plan, public_view
from observatoire.evaluation.service import analyse_plan, register

router = APIRouter(prefix="/api/v1", tags=["evaluations"])

SUMMARY_FIELDS = ("id", "title", "design", "outcome", "period", "pre_start", "end", "registered_at", "content_hash")


def _caller(request: Request) -> tuple[str, str]:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return "anonymous", "public"
    return principal.actor, principal.role


def _known(request: Request, plan_id: str) -> None:
    """404 unless ``plan_id`` names a registered plan (a plan whose file was altered is the store's failure, not
    an unknown plan: :func:`load_plan` says so)."""
    directory = request.app.state.settings.evaluations_dir
    if not PLAN_ID.match(plan_id) or not (directory / f"{plan_id}.json").is_file():
        raise HTTPException(404, f"no registered evaluation plan {plan_id[:40]!r} (an id looks like ev-<12 hex>)")


@router.post("/evaluations", status_code=201)
def register_evaluation(
    request: Request, city: CityDep, store: StoreDep, plan: dict[str, Any] = Body(..., description="The plan."),
) -> EvaluationPlan:
    """Register an evaluation plan; it must precede the deployment's first start (422 otherwise)."""
    if not isinstance(plan, dict):
        raise InputError("the body must be a JSON object (the plan)")
    actor, role = _caller(request)
    settings = request.app.state.settings
    return EvaluationPlan.model_validate(register(plan, settings=settings, city=city, query=store.query,
                                                  actor=actor, role=role))


@router.get("/evaluations")
def evaluations(request: Request) -> EvaluationList:
    """Every registered plan, oldest first (summary fields)."""
    plans = list_plans(request.app.state.settings.evaluations_dir)
    return EvaluationList(evaluations=[EvaluationSummary(**{k: p.get(k) for k in SUMMARY_FIELDS}) for p in plans])


@router.get("/evaluations/{plan_id}", responses=NOT_FOUND)
def evaluation(request: Request, plan_id: str) -> EvaluationPlan:
    """One registered plan, as stored (for the public, without the figures computed from the store)."""
    _known(request, plan_id)
    plan = load_plan(request.app.state.settings.evaluations_dir, plan_id)
    return EvaluationPlan.model_validate(plan if _caller(request)[1] != "public" else public_view(plan))


@router.get("/evaluations/{plan_id}/analysis", responses=NOT_FOUND)
def evaluation_analysis(request: Request, plan_id: str, city: CityDep, store: StoreDep) -> EvaluationAnalysis:
    """The plan's bound analysis on the store now: estimate, interval, conclusion, checks, deviations."""
    _known(request, plan_id)
    return EvaluationAnalysis.model_validate(analyse_plan(plan_id, settings=request.app.state.settings, city=city,
                                                          query=store.query))
