"""Legal holds in force during the period (restricted), from the holds file (``settings.holds()``).

A hold's reason and reference are free text kept in the holds file: the report shows its scope only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatoire.report import fr
from observatoire.report.document import section, table, text
from observatoire.report.period import Period


def in_force(holds: Any, period: Period) -> list[Any]:
    """The holds created before the period's end and not lifted before its start."""
    return [h for h in holds if datetime.fromisoformat(h.created_at) < period.end_at
            and (h.lifted_at is None or datetime.fromisoformat(h.lifted_at) >= period.start_at)]


def holds_section(holds: Any, period: Period) -> dict[str, Any]:
    """One row per hold in force: its scope, when it was placed and lifted."""
    rows = []
    for h in in_force(holds, period):
        span = " – ".join(fr.day(t) if t else "…" for t in (h.start, h.end)) if (h.start or h.end) else "toute période"
        rows.append([h.hold_id, h.source or "toutes", h.zone or "toutes", span,
                     fr.integer(len(h.event_ids)) if h.event_ids else "–", fr.day(h.created_at),
                     fr.day(h.lifted_at) if h.lifted_at else "en vigueur"])
    return section(
        "Gels juridiques", "fichier des gels juridiques",
        text("Un gel garde des enregistrements au-delà de leur durée de conservation (procédure judiciaire, "
             "demande d'une autorité). Le motif et la référence de chaque gel sont consignés dans le fichier des "
             "gels et ne sont pas reproduits ici."),
        table(["gel", "source", "arrondissement", "période des faits", "enregistrements désignés", "posé le",
               "levé le"],
              rows or [["aucun gel en vigueur dans la période", "–", "–", "–", "–", "–", "–"]]),
    )
