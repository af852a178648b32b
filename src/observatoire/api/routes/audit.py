"""``GET /api/v1/audit``: the last entries of the audit log, and whether the whole log verifies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from observatoire.api.access import AuditNoteDep, audit_log
from observatoire.api.models import AuditEntries, AuditVerification

router = APIRouter(prefix="/api/v1", tags=["audit"])


# The answer carries ``verify`` only when it was asked for (response_model_exclude_unset).
@router.get("/audit", response_model=AuditEntries, response_model_exclude_unset=True)
def audit(
    request: Request,
    note: AuditNoteDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most recent entries returned")] = 100,
    action: Annotated[str | None, Query(max_length=40, description="Only entries of this action")] = None,
    verify: Annotated[bool, Query(description="Also verify the whole chain and its signed checkpoints")] = False,
) -> AuditEntries:
    """The last ``limit`` entries (of ``action``, when given), oldest first; with ``verify``, the result of
    checking every hash, the chain and the checkpoints (``ok``, the first problem, where).

    A damaged line is returned too, flagged ``damaged`` (what is wrong, in the verification's words, and
    where: file and line) next to what it still holds; ``damaged`` at the top counts them."""
    log = audit_log(request)
    entries = log.last(limit, action=action)
    out = AuditEntries(entries=entries, count=len(entries), damaged=sum(1 for e in entries if "damaged" in e))
    if verify:
        report = log.verify()
        out.verify = AuditVerification(ok=report.ok, entries=report.entries, first_seq=report.first_seq,
                                       last_seq=report.last_seq, checkpoints=report.checkpoints,
                                       problems=[str(p) for p in report.problems[:100]])
    note.rows = len(entries)
    return out
