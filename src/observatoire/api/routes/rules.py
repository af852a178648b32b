"""The rule registry over HTTP: ``GET /api/v1/rules`` (published, with versions and false-positive rates),
proposals (``POST /api/v1/rules/{rule_id}/versions``) and decisions (``.../{version}/approve|reject``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request

from observatoire.api.models import Rules, RuleVersionOut

from observatoire.registry.feedback import FeedbackLog
from observatoire.registry.publish import published
from observatoire.registry.versions import AccessDenied, RuleRegistry, RuleVersion

router = APIRouter(prefix="/api/v1", tags=["rules"])


def audit_of(request: Request) -> Any:
    """The app's audit log (``app.state.audit``), else the settings' one."""
    audit = getattr(request.app.state, "audit", None)
    if audit is None:
        settings = request.app.state.settings
        maker = getattr(settings, "audit_log", None)
        audit = maker() if callable(maker) else None
    return audit


def registry_of(request: Request) -> RuleRegistry:
    """The app's rule registry (``app.state.registry``), built from the settings on first use."""
    registry = getattr(request.app.state, "registry", None)
    if registry is None:
        registry = RuleRegistry.from_settings(request.app.state.settings, audit=audit_of(request))
        request.app.state.registry = registry
    return registry


def caller(request: Request) -> tuple[str, str]:
    """``(actor, role)`` of the authenticated caller; 401 when the access dependency set none."""
    principal = getattr(request.state, "principal", None)
    role = getattr(principal, "role", None)
    if principal is None or role in (None, "public"):
        raise HTTPException(status_code=401, detail="authentication required")
    actor = getattr(principal, "actor", None) or f"user:{getattr(principal, 'login', None) or 'unknown'}"
    return str(actor), str(role)


# A rule carries false_positives_withheld for the public only, and its kind's engine fields
# (response_model_exclude_unset: what the registry publishes, as it publishes it).
@router.get("/rules", response_model=Rules, response_model_exclude_unset=True)
def rules(request: Request) -> Rules:
    """The published rule registry: every rule, its versions and states; for staff, the false-positive rate of
    its alerts from operators' feedback (``false / (confirmed + false)``, Wilson 95 % interval), which the public
    does not see (exact counts about alerts)."""
    registry = registry_of(request)
    settings = request.app.state.settings
    principal = getattr(request.state, "principal", None)
    staff = principal is not None and principal.role != "public"
    feedback = FeedbackLog(settings.registry_dir, clock=settings.clock) if staff else None
    return Rules.model_validate({"as_of": settings.clock(), "rules": published(registry, feedback)})


def _version(v: RuleVersion) -> RuleVersionOut:
    return RuleVersionOut.model_validate({"id": v.rule_id, **v.public(), "document": dict(v.document)})


@router.post("/rules/{rule_id}/versions", status_code=201)
def propose(request: Request, rule_id: str, document: dict[str, Any] = Body(...)) -> RuleVersionOut:
    """Propose a new version of a rule (or a new rule, version 1): stored pending until a supervisor
    other than the author approves it. The body is the rule document (the YAML's keys, as JSON)."""
    actor, role = caller(request)
    if document.get("id") != rule_id:
        raise HTTPException(status_code=422, detail="the document's id must be the rule id of the path")
    try:
        return _version(registry_of(request).propose(document, actor=actor, role=role))
    except AccessDenied as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None


def _decide(request: Request, rule_id: str, version: int, approve: bool) -> RuleVersionOut:
    actor, role = caller(request)
    registry = registry_of(request)
    try:
        decided = registry.decide(rule_id, version, approve=approve, actor=actor, role=role)
    except AccessDenied as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from None
    return _version(decided)


@router.post("/rules/{rule_id}/versions/{version}/approve")
def approve(request: Request, rule_id: str, version: int) -> RuleVersionOut:
    """Approve a pending version: it becomes the active one (a supervisor other than its author)."""
    return _decide(request, rule_id, version, True)


@router.post("/rules/{rule_id}/versions/{version}/reject")
def reject(request: Request, rule_id: str, version: int) -> RuleVersionOut:
    """Reject a pending version (a supervisor other than its author); it stays in the history."""
    return _decide(request, rule_id, version, False)
