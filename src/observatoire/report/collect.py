"""Gather the report's sections for a period and a version.

- public: the period's releases and the privacy budget (release archive only), the rule registry and the
  references of the algorithm register and the AIPD; nothing is read from the store or the audit log.
- restricted (the DPO and the council's control committee): the same, then exact volumes by source, alerts
  and false-positive rates, the fairness and feedback-loop audits, evaluations, access statistics,
  retention and purges, legal holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from observatoire.errors import InputError
from observatoire.report import fr, releases
from observatoire.report.document import section, table, text
from observatoire.report.period import Period

VERSIONS = ("public", "restricted")
VERSION_FR = {"public": "version publique", "restricted": "version restreinte"}


def introduction(period: Period, version: str, now: datetime) -> dict[str, Any]:
    """What the report is, for whom, and the state of the period at ``now``."""
    audience = (
        "Cette version publique ne contient que des chiffres publiés, protégés par la passerelle de publication, "
        "et des informations de configuration : elle peut être diffusée sans restriction."
        if version == "public" else
        "Cette version restreinte est réservée au délégué à la protection des données (DPO) et au comité de "
        "contrôle du conseil municipal : elle contient des chiffres exacts, non protégés, tirés de l'entrepôt et "
        "du journal d'audit. Ne pas la diffuser.")
    state = ("La période est close." if now >= period.end_at else
             f"La période n'est pas close : les chiffres sont arrêtés au {fr.day(now)}.")
    return section(
        "Objet du rapport", "ce générateur (observatoire report)",
        text(f"Rapport de contrôle périodique de l'observatoire de la tranquillité publique pour le "
             f"{period.title_fr} (du {fr.day(period.start)} au {fr.day(period.end_at.date())} exclu, heure UTC). "
             f"{state} Chaque section indique la source de ses chiffres."),
        text(audience),
    )


def references(settings: Any) -> dict[str, Any]:
    """The algorithm register and the AIPD: their titles, software version and where to read them in full."""
    from observatoire.regulator import document

    rows = []
    for kind, route in (("register", "/api/v1/register"), ("aipd", "/api/v1/aipd")):
        doc = document(settings, kind, verdicts=False)        # only its title and version are used here
        rows.append([doc["title"], doc["version"], f"{route}?format=html", f"observatoire documents {kind}"])
    return section(
        "Registre des algorithmes et analyse d'impact", "documents réglementaires générés depuis la configuration "
        "en service",
        text("Le registre public des algorithmes (article L312-1-3 du code des relations entre le public et "
             "l'administration) et l'analyse d'impact relative à la protection des données (AIPD) sont générés à "
             "la demande depuis la configuration en service ; ils décrivent chaque traitement, ses données, ses "
             "durées de conservation et ses destinataires."),
        table(["document", "version du logiciel", "en ligne", "en ligne de commande"], rows),
    )


def public_sections(settings: Any, period: Period) -> list[dict[str, Any]]:
    """The sections both versions share: release figures, budget, rules, references."""
    from observatoire.report.rules import registry_list

    archive = settings.releases()
    found = releases.period_releases(archive, period)
    return [releases.publications(found), releases.city_series(found), releases.zones(found),
            releases.budget(archive, settings.release_config().annual_budget, period),
            registry_list(settings), references(settings)]


def restricted_sections(settings: Any, period: Period, now: datetime) -> list[dict[str, Any]]:
    """The sections only the restricted version has: from the store, the audit log and governance files."""
    from observatoire.evaluation.plans import list_plans
    from observatoire.governance.audit import RETENTION_DAYS
    from observatoire.report.auditlog import access_section, in_period, purges_section
    from observatoire.report.audits import fairness_section, feedback_loop_section, patrols_section
    from observatoire.report.evaluations import evaluations_section
    from observatoire.report.holds import holds_section
    from observatoire.report.rules import alerts_section
    from observatoire.report.volumes import volumes_section

    city = settings.city()
    store = settings.store(city)
    events = store.events()
    audit_config = settings.audit_config()
    log = settings.audit_log()
    entries = in_period(log.entries(), period)
    return [volumes_section(events, period),
            alerts_section(settings, events, [z.zone_id for z in city.zones], period),
            fairness_section(events, city, audit_config, period),
            patrols_section(store.reference("patrols"), events, city, audit_config, period),
            feedback_loop_section(events, city, audit_config, period),
            evaluations_section(list_plans(settings.evaluations_dir), now),
            access_section(entries, log.verify()),
            purges_section(entries, dict(settings.retention_days), RETENTION_DAYS),
            holds_section(settings.holds().all(), period)]


def collect(settings: Any, period: Period, *, version: str, now: datetime) -> dict[str, Any]:
    """The report document of ``period`` in ``version``, as of ``now``.

    Raises
    ------
    InputError
        An unknown version, or a period that has not started at ``now``.
    """
    if version not in VERSIONS:
        raise InputError(f"unknown report version {str(version)[:20]!r}: public or restricted")
    if now < period.start_at:
        raise InputError(f"the period {period.label} has not started yet: there is nothing to report")
    sections = [introduction(period, version, now), *public_sections(settings, period)]
    if version == "restricted":
        sections += restricted_sections(settings, period, now)
    return {"title": f"Rapport de contrôle périodique — {period.title_fr}", "version": version,
            "version_fr": VERSION_FR[version], "period": period.label, "city": settings.city().name,
            "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"), "sections": sections}
