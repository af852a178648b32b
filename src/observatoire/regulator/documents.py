"""The algorithm register entry and the AIPD (DPIA) skeleton, written from a :class:`Snapshot`.

A document is plain data: ``{"kind", "title", "generated_at", "version", "sections": [...]}``;
each section has a ``key``, a ``title``, an optional ``basis`` (the article or register field it
answers), ``to_complete`` (True: the data-protection officer completes it) and ``blocks``: text
paragraphs, ``{"list": [...]}``, ``{"fields": [[name, value], ...]}`` or ``{"table": {"columns",
"rows"}}``. :mod:`observatoire.regulator.render` turns it into Markdown or HTML.

The register entry answers CRPA art. L312-1-3 and R311-3-1-2 (the degree and manner in which the
processing contributes to decisions, the data and their sources, the parameters and their weighting,
the operations carried out) and the fields of the Amsterdam and Helsinki algorithm registers (purpose,
data and sources, processing, human oversight, non-discrimination, risks, contact). The AIPD follows
the CNIL's PIA method: context, processing inventory, legal bases, retention, recipients, measures,
then the sections only the DPO can write (necessity and proportionality, risk assessment, rights,
opinion), marked ``to_complete``.
"""

from __future__ import annotations

from typing import Any

from observatoire.regulator.collect import Snapshot

__all__ = ["REGISTER_KEYS", "AIPD_KEYS", "aipd", "algorithm_register"]

TO_COMPLETE = "À compléter par le délégué à la protection des données (DPO)."

REGISTER_KEYS = ("identification", "purpose", "decision_role", "legal_basis", "data_and_sources",
                 "processing_and_parameters", "operations", "human_oversight", "non_discrimination", "risks",
                 "access", "contact")
AIPD_KEYS = ("context", "inventory", "legal_bases", "retention", "recipients", "measures", "governance",
             "necessity_proportionality", "risk_assessment", "data_subject_rights", "dpo_opinion")


def _or_dpo(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        return TO_COMPLETE
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _section(key: str, title: str, *blocks: Any, basis: str | None = None, to_complete: bool = False) -> dict:
    return {"key": key, "title": title, "basis": basis, "to_complete": to_complete, "blocks": list(blocks)}


def _days(days: int | None) -> str:
    return "aucune durée configurée (table de référence ou agrégats)" if days is None else f"{days} jours"


def _subjects(value: Any) -> str:
    return "aucune (pas de donnée personnelle)" if value == [] else _or_dpo(value)


def _event_sources(snap: Snapshot) -> list[dict[str, Any]]:
    return [s for s in snap.sources if s["has_policy"]]


def _measures(source: dict[str, Any]) -> str:
    f = source["fields"]
    parts = []
    if f.get("pseudonymise"):
        parts.append("pseudonymisation HMAC : " + ", ".join(
            f"{n} ({source['pseudonym_kinds'].get(n, '?')})" for n in f["pseudonymise"]))
    if f.get("scrub"):
        parts.append("texte libre expurgé des données personnelles : " + ", ".join(f["scrub"]))
    if f.get("drop"):
        parts.append("lu puis jamais stocké : " + ", ".join(f["drop"]))
    if f.get("refuse"):
        parts.append("refusé (ligne mise en quarantaine) : " + ", ".join(f["refuse"]))
    if source.get("lawful_group_columns"):
        parts.append("colonnes de groupe conservées pour les audits d'équité, déclarées licites : " + ", ".join(
            f"{c} (base légale : {basis})" for c, basis in sorted(source["lawful_group_columns"].items())))
    coarse = [x for x in ({"hour": "temps à l'heure", "day": "temps au jour"}.get(source["coarsen_time"] or ""),
                          "lieu à la zone" if source["coarsen_place"] else None) if x]
    if coarse:
        parts.append("précision réduite : " + ", ".join(coarse))
    parts.append("tout champ non déclaré est refusé")
    return " ; ".join(parts)


def _rule_rows(snap: Snapshot) -> list[list[str]]:
    rows = []
    for r in snap.rules:
        cond = r["condition"]
        if cond["kind"] == "count_anomaly":
            what = (f"{cond['stream']['source']} : {', '.join(sorted(cond['stream']['categories']))} ; par zone et "
                    f"fenêtre de {cond['window_hours']} h ; méthode {cond['method']} ; taux cible de fausse alarme "
                    f"{cond['target_false_alarm']} ; paramètres "
                    + ", ".join(f"{k} = {v:g}" for k, v in sorted(r["parameters"].items())))
        else:
            what = "événement programmé dans la zone d'une alerte des règles " + ", ".join(sorted(cond["watches"]))
        fp = r["false_positives"]
        rate = ("communiqué au comité de contrôle" if fp is None else "pas encore de retour" if fp["rate"] is None else
                f"{fp['rate']:.0%} ({fp['false']} sur {fp['false'] + fp['confirmed']}, IC 95 % "
                f"{fp['low']:.0%}-{fp['high']:.0%})")
        rows.append([r["id"], str(r["version"]), r["title"], what, "oui" if r["applied"] else f"non ({r['status']})",
                     str(r["review_date"]), rate])
    return rows


def _verdicts(snap: Snapshot) -> str:
    """How many verdicts operators gave, or where they are when this copy leaves them out (the public's)."""
    if any(r["false_positives"] is None for r in snap.rules):
        return "communiqués au comité de contrôle (rapport de contrôle restreint)"
    return str(sum(r["false_positives"]["confirmed"] + r["false_positives"]["false"] for r in snap.rules))


def _roles(snap: Snapshot) -> list[list[str]]:
    return [[a["method"], a["path"], ", ".join(a["roles"]), "oui" if a["purpose"] else "non"] for a in snap.access]


def _source_rows(snap: Snapshot) -> list[list[str]]:
    rows = []
    for s in _event_sources(snap):
        meta = snap.processing["sources"].get(s["name"], {})
        kept = s["fields"].get("keep", []) + s["fields"].get("scrub", [])
        lawful = s.get("lawful_group_columns") or {}
        described = ", ".join(f"{f} (colonne de groupe, base légale : {lawful[f]})" if f in lawful else f
                              for f in kept)
        rows.append([s["name"], _or_dpo(meta.get("label")), s["kind"] or "-", described or "-",
                     _days(s["retention_days"])])
    return rows


def algorithm_register(snap: Snapshot) -> dict[str, Any]:
    """The public algorithm register entry (CRPA L312-1-3, Amsterdam/Helsinki register fields)."""
    p = snap.processing
    controller = p.get("controller", {})
    sections = [
        _section("identification", "Identification", {"fields": [
            ["Nom", "Observatoire de la tranquillité publique"], ["Administration", _or_dpo(controller.get("name"))],
            ["Service", _or_dpo(controller.get("service"))], ["Version du logiciel", snap.version],
            ["Statut", "en service"], ["Généré le", snap.generated_at]]}, basis="Amsterdam/Helsinki : name, status"),
        _section("purpose", "Finalité", _or_dpo(p.get("purpose")), basis="Amsterdam/Helsinki : purpose"),
        _section("decision_role", "Degré et mode de contribution à la décision", _or_dpo(p.get("decision_role")),
                 basis="CRPA R311-3-1-2, 1°"),
        _section("legal_basis", "Bases légales", {"list": sorted({
            f"{s['name']} : {_or_dpo(p['sources'].get(s['name'], {}).get('legal_basis'))}"
            for s in _event_sources(snap)})}, basis="CRPA L312-1-3"),
        _section("data_and_sources", "Données traitées et leurs sources",
                 "Chaque source n'entre que par la porte de confidentialité : seuls les champs déclarés passent, "
                 "avec l'action indiquée par sa politique.",
                 {"table": {"columns": ["source", "description", "type", "champs conservés", "conservation"],
                            "rows": _source_rows(snap)}}, basis="CRPA R311-3-1-2, 2° ; Amsterdam/Helsinki : data"),
        _section("processing_and_parameters", "Traitements et principaux paramètres",
                 "Règles d'alerte publiées (seules sources possibles d'une alerte) :",
                 {"table": {"columns": ["règle", "version", "titre", "condition et paramètres", "appliquée",
                                        "révision", "taux de fausses alertes"], "rows": _rule_rows(snap)}},
                 "Méthodes de prévision par zone ou maille (aucune ne porte sur des personnes) :",
                 {"list": [f"{f['name']} : {f['summary']}" for f in snap.forecasters]},
                 basis="CRPA R311-3-1-2, 3° ; Amsterdam/Helsinki : data processing"),
        _section("operations", "Opérations effectuées", {"list": [
            "lecture des exports des services (fichiers) ;",
            "porte de confidentialité : champs déclarés seulement, pseudonymisation, expurgation des textes, refus ;",
            "réduction de précision (heure, jour, zone) selon la politique de chaque source ;",
            "stockage en lots immuables, effacement à l'échéance de conservation ;",
            "comptages par zone et période, points chauds, prévisions par zone ou maille ;",
            "alertes : règles publiées, évaluées par zone et fenêtre de temps, vérifiées par un opérateur."]},
            basis="CRPA R311-3-1-2, 4°"),
        _section("human_oversight", "Contrôle humain", {"list": [
            "une alerte est vérifiée par un opérateur, qui la marque confirmée ou fausse ; le taux de fausses "
            "alertes de chaque règle est publié ;",
            "une règle nouvelle ou modifiée n'entre en vigueur qu'après approbation par un superviseur autre que "
            "son auteur ; chaque proposition et décision est journalisée ;",
            "une règle dont la date de révision est passée cesse de produire des alertes ;",
            "l'accès aux enregistrements pseudonymisés exige un rôle et une finalité déclarée, journalisés."]},
            basis="Amsterdam/Helsinki : human oversight"),
        _section("non_discrimination", "Non-discrimination", {"list": [
            "les règles comptent des événements par zone : aucune ne peut porter sur une personne, un pseudonyme, "
            "une plaque, un visage ni un attribut protégé (origine, religion, opinions, appartenance syndicale, "
            "santé, vie ou orientation sexuelle, biométrie, âge) ; le vérificateur de règles les refuse ;",
            "champs jamais admis par la porte : " + (", ".join(sorted({f for s in snap.sources
                                                                     for f in s["fields"].get("refuse", [])}))
                                                     or "aucun") + " ;",
            "les indicateurs sont rapportés à la population et publiés avec leurs intervalles de confiance."]},
            basis="Amsterdam/Helsinki : non-discrimination"),
        _section("risks", "Risques et mesures", {"table": {"columns": ["risque", "mesures"], "rows": [
            [r.get("risk", ""), _or_dpo(r.get("measures"))] for r in p.get("risks", [])]}},
            basis="Amsterdam/Helsinki : risks"),
        _section("access", "Qui accède à quoi",
                 {"table": {"columns": ["méthode", "route", "rôles", "finalité exigée"], "rows": _roles(snap)}}),
        _section("contact", "Contact", {"fields": [["Contact public", _or_dpo(controller.get("public_contact"))],
                                                   ["Délégué à la protection des données",
                                                    _or_dpo(controller.get("dpo_contact"))]]},
                 basis="Amsterdam/Helsinki : contact"),
    ]
    return {"kind": "algorithm_register", "title": "Registre des algorithmes publics — Observatoire",
            "generated_at": snap.generated_at, "version": snap.version, "sections": sections}


def aipd(snap: Snapshot) -> dict[str, Any]:
    """The data-protection impact assessment skeleton (AIPD), with the DPO's sections marked ``to_complete``."""
    p = snap.processing
    controller = p.get("controller", {})
    inventory = []
    for s in _event_sources(snap):
        meta = p["sources"].get(s["name"], {})
        categories = s["fields"].get("keep", []) + s["fields"].get("scrub", []) + s["fields"].get("pseudonymise", [])
        inventory.append([s["name"], ", ".join(categories) or "-", _subjects(meta.get("data_subjects")),
                          _or_dpo(meta.get("legal_basis")), _days(s["retention_days"]),
                          _or_dpo(meta.get("recipients")), _measures(s)])
    missing = [s["name"] for s in _event_sources(snap) if not p["sources"].get(s["name"], {}).get("legal_basis")]
    roles: dict[str, list[str]] = {}
    for a in snap.access:
        for role in a["roles"]:
            roles.setdefault(role, []).append(f"{a['method']} {a['path']}")
    applied = [r for r in snap.rules if r["applied"]]
    sections = [
        _section("context", "Contexte", {"fields": [
            ["Responsable du traitement", _or_dpo(controller.get("name"))],
            ["Service", _or_dpo(controller.get("service"))],
            ["Délégué à la protection des données", _or_dpo(controller.get("dpo_contact"))],
            ["Finalité", _or_dpo(p.get("purpose"))], ["Version du logiciel", snap.version],
            ["Configuration lue le", snap.generated_at]]}, basis="CNIL, méthode PIA : contexte"),
        _section("inventory", "Inventaire des traitements (une ligne par source)", {"table": {
            "columns": ["source", "catégories de données", "personnes concernées", "base légale", "conservation",
                        "destinataires", "mesures"], "rows": inventory}},
            *([f"Base légale à compléter pour : {', '.join(missing)}."] if missing else []),
            basis="RGPD art. 30 et 35(7)(a)"),
        _section("legal_bases", "Bases légales", {"list": [
            f"{s['name']} : {_or_dpo(p['sources'].get(s['name'], {}).get('legal_basis'))}"
            for s in _event_sources(snap)]}, basis="RGPD art. 6 et 9 ; directive (UE) 2016/680"),
        _section("retention", "Durées de conservation", {"table": {"columns": ["source", "durée"], "rows": [
            [s["name"], _days(s["retention_days"])] for s in _event_sources(snap)]}},
            "Un enregistrement dont la durée est échue n'est plus renvoyé par aucune requête, même avant la purge ; "
            "les gels judiciaires (legal holds) suspendent l'effacement des seuls enregistrements visés.",
            *([f"Journal d'audit : {snap.audit_retention_days} jours, puis purgé."]
              if snap.audit_retention_days else []), basis="RGPD art. 5(1)(e)"),
        _section("recipients", "Destinataires et accès par rôle", {"table": {
            "columns": ["rôle", "routes accessibles"],
            "rows": [[r, "; ".join(sorted(v))] for r, v in sorted(roles.items())]}},
            {"table": {"columns": ["finalité déclarée", "description", "rôles"],
                       "rows": [[x["name"], x["description"], ", ".join(x["roles"])] for x in snap.purposes]}}
            if snap.purposes else "Aucune finalité déclarée n'est configurée.", basis="RGPD art. 13(1)(e)"),
        _section("measures", "Mesures de protection des données", {"list": [
            "minimisation : un champ non déclaré par la politique de sa source est refusé ;",
            "pseudonymisation par HMAC-SHA256 sous une clé gardée hors du stockage, renouvelable ;",
            "expurgation des textes libres (identifiants structurés et noms) ;",
            "réduction de précision du temps et du lieu selon la source ;",
            "effacement à l'échéance de conservation, invisibilité dès l'échéance ;",
            "accès par rôle, finalité déclarée pour les enregistrements, champs limités par rôle ;",
            "journal d'audit chaîné (SHA-256) avec points de contrôle signés (Ed25519)."]},
            basis="RGPD art. 25 et 32"),
        _section("governance", "Gouvernance des règles d'alerte", {"fields": [
            ["Règles publiées", str(len(snap.rules))], ["Règles appliquées", str(len(applied))],
            ["Approbation", "un superviseur autre que l'auteur"],
            ["Retours des opérateurs", _verdicts(snap)]]},
            {"list": [f"{r['id']} v{r['version']} : {r['title']} (révision {r['review_date']})" for r in snap.rules]}),
        _section("necessity_proportionality", "Nécessité et proportionnalité", TO_COMPLETE,
                 basis="RGPD art. 35(7)(b)", to_complete=True),
        _section("risk_assessment", "Appréciation des risques (accès illégitime, modification non désirée, "
                 "disparition)", {"table": {"columns": ["risque", "mesures existantes", "gravité", "vraisemblance"],
                                            "rows": [[r.get("risk", ""), _or_dpo(r.get("measures")), TO_COMPLETE,
                                                      TO_COMPLETE] for r in p.get("risks", [])]}},
                 basis="RGPD art. 35(7)(c)", to_complete=True),
        _section("data_subject_rights", "Droits des personnes (information, accès, rectification, effacement, "
                 "opposition)", TO_COMPLETE, basis="RGPD art. 12 à 22", to_complete=True),
        _section("dpo_opinion", "Avis du DPO et validation", TO_COMPLETE, basis="RGPD art. 35(2)", to_complete=True),
    ]
    return {"kind": "aipd", "title": "Analyse d'impact relative à la protection des données (AIPD) — squelette",
            "generated_at": snap.generated_at, "version": snap.version, "sections": sections}
