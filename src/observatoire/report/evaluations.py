"""Evaluation plans registered before their deployment, and where each stands (restricted), from the plans
directory (``evaluation/plans.py: list_plans``, each checked against its content hash)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from observatoire.report import fr
from observatoire.report.document import section, table, text

DESIGNS_FR = {"randomised": "essai randomisé", "staggered_did": "doubles différences échelonnées",
              "synthetic_control": "contrôle synthétique"}


def first_start(plan: dict[str, Any]) -> date:
    """The deployment's first start: the earliest treated start or the randomisation's start."""
    starts = [date.fromisoformat(t["start"]) for t in plan.get("treated") or ()]
    if plan.get("randomisation"):
        starts.append(date.fromisoformat(plan["randomisation"]["start"]))
    return min(starts)


def status(plan: dict[str, Any], now: datetime) -> str:
    """« déploiement à venir », « en cours » or « terminée » at ``now``."""
    today = now.date()
    if today < first_start(plan):
        return "déploiement à venir"
    return "en cours" if today < date.fromisoformat(plan["end"]) else "terminée (analyse disponible)"


def evaluations_section(plans: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """One row per registered plan: id, title, design, outcome, dates and status."""
    rows = [[p["id"], p["title"], DESIGNS_FR.get(p["design"], p["design"]),
             f"{p['outcome']['source']} : {', '.join(p['outcome']['categories'])}", fr.day(p["registered_at"]),
             fr.day(first_start(p).isoformat()), fr.day(p["end"]), status(p, now)] for p in plans]
    return section(
        "Évaluations enregistrées", "plans d'évaluation enregistrés (répertoire des évaluations)",
        text("Une évaluation d'efficacité est enregistrée, figée et horodatée avant le déploiement qu'elle "
             "évalue : résultat mesuré, plan d'analyse et effet minimal détectable ne peuvent plus changer."),
        table(["plan", "titre", "méthode", "résultat mesuré", "enregistré le", "début du déploiement", "fin",
               "statut"], rows or [["aucun plan enregistré", "–", "–", "–", "–", "–", "–", "–"]]),
    )
