"""The registry as published (``GET /api/v1/rules``, the algorithm register): every rule, its versions, its
false-positive rate. Staff appear by role only; their logins are in the audit log."""

from __future__ import annotations

from typing import Any

from observatoire.analytics.alerts import PARAMETERS
from observatoire.registry.feedback import FeedbackLog, false_positive_rate
from observatoire.registry.versions import RuleRegistry

__all__ = ["published"]


def _engine_fields(doc: dict[str, Any]) -> dict[str, Any]:
    cond = doc["condition"]
    if cond["kind"] == "planned_event_clash":
        return {"watches": sorted(cond["watches"])}
    return {"stream": {"source": cond["stream"]["source"], "categories": sorted(cond["stream"]["categories"])},
            "window_hours": cond["window_hours"], "method": cond["method"],
            "target_false_alarm": cond["target_false_alarm"], "unit": cond["unit"],
            "parameters": {**PARAMETERS[cond["method"]], **(cond.get("parameters") or {})}}


# Operators' verdicts are exact counts about alerts, which come from the store: the public sees the rules and
# their versions, never these counts (they go to staff and to the restricted control report).
VERDICTS_WITHHELD = ("operators' verdicts are exact counts: for staff and for the control committee "
                     "(restricted control report), not for the public")


def published(registry: RuleRegistry, feedback: FeedbackLog | None) -> list[dict[str, Any]]:
    """Every rule as published: its active version's document, all versions' states, and (given ``feedback``)
    its false-positive rate; without ``feedback``, ``false_positives`` is None and ``false_positives_withheld``
    says why (the public view)."""
    rates = feedback.rates() if feedback is not None else None
    out = []
    for rule_id in registry.ids():
        versions = registry.versions(rule_id)
        active = next((v for v in versions if v.state == "active"), None)
        shown = active or versions[-1]
        doc = dict(shown.document)
        overdue = registry.overdue(shown)
        out.append({
            "id": rule_id, "version": shown.version, "state": shown.state, "status": doc.get("status"),
            "applied": active is not None and doc.get("status") == "active" and not overdue,
            "review_overdue": overdue, **{k: doc.get(k) for k in ("title", "purpose", "legal_basis", "data_used",
                                                                   "owner", "condition", "review_date")},
            **_engine_fields(doc),
            "versions": [v.public() for v in versions],
            **({"false_positives": rates.get(rule_id, false_positive_rate(0, 0) | {"by_version": {}})}
               if rates is not None else {"false_positives": None, "false_positives_withheld": VERDICTS_WITHHELD}),
        })
    return out
