"""Exact volumes by source and month (restricted), counted in the store over the period.

Exact counts: for the DPO and the control committee only; the public figures are the releases'.
Records past their retention are not counted (the store never returns them).
"""

from __future__ import annotations

from typing import Any

from observatoire.report import charts, fr
from observatoire.report.document import chart, section, table, text
from observatoire.report.period import Period, month_fr


def monthly_volumes(events: Any, period: Period) -> dict[str, dict[str, int]]:
    """Per month of ``period``: events per source (UTC months of ``occurred_at``, the store's ``month``), in one
    query."""
    kept = events.filter(events.month.isin(list(period.months)))
    counted = kept.group_by(["month", "source"]).aggregate(events=kept.count()).to_pyarrow().to_pylist()
    out: dict[str, dict[str, int]] = {m: {} for m in period.months}
    for row in counted:
        out[row["month"]][row["source"]] = int(row["events"])
    return out


def volumes_section(events: Any, period: Period) -> dict[str, Any]:
    """A table (sources × months, with totals) and a chart of the period's exact volumes."""
    volumes = monthly_volumes(events, period)
    sources = sorted({s for by in volumes.values() for s in by})
    rows = [[s] + [fr.integer(volumes[m].get(s, 0)) for m in period.months]
            + [fr.integer(sum(volumes[m].get(s, 0) for m in period.months))] for s in sources]
    rows.append(["total"] + [fr.integer(sum(volumes[m].values())) for m in period.months]
                + [fr.integer(sum(sum(v.values()) for v in volumes.values()))])
    blocks = [text("Nombre exact d'enregistrements admis par source et par mois des faits. Ces nombres ne sont pas "
                   "protégés : ils sont réservés au DPO et au comité de contrôle."),
              table(["source"] + [month_fr(m) for m in period.months] + ["période"], rows)]
    if sources:
        blocks.append(chart(charts.grouped_bars([month_fr(m) for m in period.months],
                                                {s: [volumes[m].get(s, 0) for m in period.months] for s in sources},
                                                ylabel="enregistrements"),
                            "Enregistrements par source et par mois"))
    return section("Volumes par source", "entrepôt (comptage exact des événements, hors enregistrements au-delà de "
                   "leur durée de conservation)", *blocks)
