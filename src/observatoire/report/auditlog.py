"""From the tamper-evident audit log (restricted): access statistics, refusals, purges, and its integrity.

Entries are read with ``settings.audit_log().entries()`` and kept when their ``at`` lies in the period.
Only closed-vocabulary fields are counted (action, role, purpose, refusal reason, purge row counts):
never an actor's login, a filter value or a record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from observatoire.report import fr
from observatoire.report.document import heading, section, table, text
from observatoire.report.period import Period

ROLES_FR = {"public": "public (anonyme)", "analyst": "analyste", "operator": "opérateur", "supervisor": "superviseur",
            "dpo": "DPO", "auditor": "auditeur", "admin": "administrateur", "system": "système"}
REASONS_FR = {"not_authenticated": "non authentifié", "role_not_allowed": "rôle non autorisé",
              "undeclared_route": "route sans règle d'accès", "csrf_missing": "jeton CSRF absent",
              "csrf_mismatch": "jeton CSRF invalide", "purpose_missing": "finalité absente",
              "purpose_unknown": "finalité inconnue", "purpose_not_open_to_role": "finalité non ouverte au rôle",
              "session_unknown_or_expired": "session inconnue ou expirée", "token_malformed": "jeton mal formé"}


def in_period(entries: Iterable[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """The entries stamped within ``period``."""
    return [e for e in entries if period.start_at <= datetime.fromisoformat(e["at"]) < period.end_at]


def _role(role: str | None) -> str:
    return ROLES_FR.get(role or "", role or "–")


def access_section(entries: list[dict[str, Any]], integrity: Any) -> dict[str, Any]:
    """Consultations and exports per role and purpose, refusals per role and reason, logins, and the log's state."""
    uses = Counter((e["role"], e.get("purpose") or "", e["action"]) for e in entries
                   if e["action"] in ("consult", "export"))
    pairs = sorted({(role, purpose) for role, purpose, _ in uses})
    use_rows = [[_role(role), purpose or "aucune déclarée", fr.integer(uses[(role, purpose, "consult")]),
                 fr.integer(uses[(role, purpose, "export")])] for role, purpose in pairs]
    denied = Counter((e["role"], str((e.get("detail") or {}).get("reason", "–"))) for e in entries
                     if e["action"] == "authorisation_denied")
    denied_rows = [[_role(role), REASONS_FR.get(reason, reason), fr.integer(n)]
                   for (role, reason), n in sorted(denied.items())]
    logins = Counter(e["action"] for e in entries if e["action"] in ("login", "login_failed"))
    state = (f"intègre : {fr.integer(integrity.entries)} entrées vérifiées (chaînage et points de contrôle signés)"
             if integrity.ok else f"ANOMALIE : {integrity.error}")
    return section(
        "Accès aux données", "journal d'audit (entrées horodatées dans la période)",
        text("Chaque consultation de données et chaque export est journalisé avec le rôle et la finalité "
             "déclarée ; chaque refus d'accès (authentification, rôle, finalité, jeton CSRF) aussi. "
             f"État du journal à la date du rapport : {state}."),
        heading("Consultations et exports par rôle et finalité"),
        table(["rôle", "finalité", "consultations", "exports"], use_rows or [["–", "–", "0", "0"]]),
        heading("Refus d'accès"),
        table(["rôle", "motif", "refus"], denied_rows or [["–", "aucun refus", "0"]]),
        text(f"Connexions réussies : {fr.integer(logins['login'])} ; connexions échouées : "
             f"{fr.integer(logins['login_failed'])}."),
    )


def purges_section(entries: list[dict[str, Any]], retention_days: dict[str, int], audit_days: int) -> dict[str, Any]:
    """Retention periods per source, and each purge of the period with the rows it removed or kept."""
    retention = [[source, fr.integer(days), fr.number(days / 365.25, 1)]
                 for source, days in sorted(retention_days.items())]
    rows = []
    for e in entries:
        if e["action"] != "purge":
            continue
        d = e.get("detail") or {}
        if e["dataset"] == "audit":
            rows.append([fr.day(e["at"]), "journal d'audit", fr.integer(e.get("rows") or 0), "–", "–"])
        else:
            rows.append([fr.day(e["at"]), "entrepôt", fr.integer(d.get("events_removed", 0)),
                         fr.integer(d.get("quarantine_removed", 0)), fr.integer(d.get("held_kept", 0))])
    return section(
        "Conservation et purges", "durées de conservation en service (governance/retention.toml ou celles de la "
        "configuration) ; entrées « purge » du journal d'audit",
        text("Un enregistrement qui a dépassé sa durée de conservation n'est plus jamais renvoyé par une requête, "
             "puis la purge le retire du disque, sauf gel juridique. Une source absente de la liste n'a pas de "
             f"limite (agrégats publiés sans données personnelles). Le journal d'audit est conservé "
             f"{fr.integer(audit_days)} jours."),
        table(["source", "conservation (jours)", "soit (années)"], retention),
        heading("Purges de la période"),
        table(["date", "portée", "lignes retirées", "lignes de quarantaine retirées", "gardées par un gel"],
              rows or [["aucune purge dans la période", "–", "–", "–", "–"]]),
    )
