"""The alert rules: the published registry (public), and what the rules raised in the period with the
operators' false-positive rates (restricted).

Alerts are not stored: they are what the registry's rules raise on the store's counts. The period is
replayed window by window as the alert engine runs live (``analytics/alerts.py``: each window judged
against its own ``training_windows`` preceding windows, windows aligned on UTC midnight), so that the
alerts carry the ids operators gave their verdicts on (``registry/feedback.py``); false-positive rates
come with Wilson's 95 % interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from observatoire.analytics.aggregate import counts as aggregate_counts
from observatoire.analytics.alerts import Alert, ClashRule, Rule, clashes, evaluate_rule, planned_events
from observatoire.registry.feedback import FeedbackLog, false_positive_rate
from observatoire.registry.publish import published
from observatoire.registry.versions import RuleRegistry
from observatoire.report import fr
from observatoire.report.document import section, table, text
from observatoire.report.period import Period

METHODS_FR = {"poisson": "dépassement de Poisson", "ewma": "moyenne mobile exponentielle (EWMA)"}


def _registry(settings: Any) -> RuleRegistry:
    """The rule registry of ``settings``, read only (no audit log needed)."""
    return RuleRegistry(settings.registry_dir, rules_dir=settings.rules_path, clock=settings.clock,
                        policy_path=settings.policy_path)


def registry_list(settings: Any) -> dict[str, Any]:
    """Every rule of the published registry: version, title, what it watches, whether it is applied."""
    rows = []
    for r in published(_registry(settings), None):             # the public list: no verdict counts
        watches = (f"{r['stream']['source']} : {', '.join(r['stream']['categories'])} ; fenêtres de "
                   f"{r['window_hours']} h, {METHODS_FR.get(r['method'], r['method'])}" if "stream" in r
                   else f"concomitance avec un événement programmé ({', '.join(r['watches'])})")
        rows.append([r["id"], str(r["version"]), r["title"], watches, "oui" if r["applied"] else "non",
                     fr.day(str(r["review_date"]))])
    return section(
        "Règles d'alerte (registre)", "registre des règles (règles publiées et versions approuvées)",
        text("Une alerte ne peut venir que d'une règle du registre : déclarative, vérifiée (aucun attribut "
             "protégé, aucune personne visée), approuvée par un second superviseur et révisée à date fixe."),
        table(["règle", "version", "titre", "ce qu'elle surveille", "appliquée", "révision"], rows),
    )


@dataclass(frozen=True, slots=True)
class Replay:
    """What one surge rule raised over the period: its alerts and how many windows could be judged."""

    alerts: list[Alert]
    windows: int
    judged: int


def replay(events: Any, rule: Rule, zones: list[str], start: datetime, end: datetime) -> Replay:
    """The alerts ``rule`` raises on the windows of ``[start, end)``, each judged as the live engine would.

    A window is judged when the stream's data cover its training windows and reach the window itself (the
    live engine refuses otherwise: « window longer than data », « flux interrompu »).
    """
    step = timedelta(hours=rule.window_hours)
    n_train = rule.training_windows
    n_watch = int((end - start) // step)
    first = start - n_train * step
    starts = [first + i * step for i in range(n_train + n_watch)]
    scope = events.filter(events.source == rule.stream.source)
    bounds = scope.aggregate(lo=scope.occurred_at.min(), hi=scope.occurred_at.max()).to_pyarrow()
    lo, hi = bounds["lo"][0].as_py(), bounds["hi"][0].as_py()
    if lo is None or n_watch == 0:
        return Replay([], n_watch, 0)
    hourly = aggregate_counts(events, by="zone", period="hour", sources=[rule.stream.source],
                              categories=sorted(rule.stream.categories), start=first.date(), end=end.date())
    index = {z: i for i, z in enumerate(zones)}
    matrix = np.zeros((len(zones), len(starts)), np.int64)
    for unit, at, count in zip(hourly["unit"].to_pylist(), hourly["period_start"].to_pylist(),
                               hourly["count"].to_pylist()):
        if unit in index and first <= at < end:
            matrix[index[unit], int((at - first) // step)] += count
    found: list[Alert] = []
    judged = 0
    for t in range(n_watch):
        if lo > starts[t] or hi < starts[t + n_train]:
            continue
        judged += 1
        found += evaluate_rule(rule, matrix[:, t:t + n_train + 1], starts[t:t + n_train + 1], zones)
    return Replay(found, n_watch, judged)


def _rate(r: dict[str, Any]) -> str:
    if r["rate"] is None:
        return "aucun verdict"
    return f"{fr.percent(r['rate'])} {fr.interval(r['low'], r['high'], 1, as_percent=True)}"


def alerts_section(settings: Any, events: Any, zones: list[str], period: Period) -> dict[str, Any]:
    """Per applied rule: windows judged, alerts raised, zones concerned, verdicts and false-positive rates."""
    registry = _registry(settings)
    applied, skipped = registry.applied()
    feedback = FeedbackLog(settings.registry_dir, clock=settings.clock)
    verdicts = feedback.latest()
    to_date = feedback.rates()
    raised: dict[str, list[Alert]] = {}
    rows = []
    surge = [r for r in applied if isinstance(r, Rule)]
    replays = {r.id: replay(events, r, zones, period.start_at, period.end_at) for r in surge}
    for rule in applied:
        if isinstance(rule, ClashRule):
            watched = [a for rid in sorted(rule.watches) for a in replays.get(rid, Replay([], 0, 0)).alerts]
            planned = planned_events(events, start=period.start_at, end=period.end_at) if watched else []
            raised[rule.id] = clashes(planned, watched, rule)
            judged = "selon les règles surveillées"
        else:
            raised[rule.id] = replays[rule.id].alerts
            judged = f"{fr.integer(replays[rule.id].judged)} sur {fr.integer(replays[rule.id].windows)}"
        ids = {a.id for a in raised[rule.id]}
        # the verdicts operators gave during the period on this rule's alerts (live alerts' windows may be
        # aligned otherwise than the replay's: verdicts are matched by rule and date, not by alert id)
        mine = [v for v in verdicts.values() if v["rule_id"] == rule.id
                and period.start_at <= datetime.fromisoformat(v["at"]) < period.end_at]
        n_false = sum(v["verdict"] == "false" for v in mine)
        period_rate = false_positive_rate(n_false, len(mine) - n_false)
        rows.append([rule.id, str(rule.version), judged, fr.integer(len(ids)),
                     fr.integer(len({a.zone_id for a in raised[rule.id]})),
                     f"{fr.integer(len(mine) - n_false)} / {fr.integer(n_false)}", _rate(period_rate),
                     _rate(to_date.get(rule.id, false_positive_rate(0, 0)))])
    blocks = [
        text("Les alertes ne sont pas conservées : elles sont recalculées ici fenêtre par fenêtre, comme le "
             "moteur d'alerte les lève en service (chaque fenêtre jugée contre ses propres fenêtres "
             "d'apprentissage précédentes, fenêtres alignées sur minuit UTC), avec les versions des règles "
             "appliquées à la date du rapport. Le taux de faux positifs est la part des alertes jugées « fausses » "
             "par les opérateurs parmi celles qui ont reçu un verdict, avec son intervalle de Wilson à 95 %."),
        table(["règle", "version", "fenêtres jugées", "alertes", "arrondissements concernés",
               "verdicts (confirmées / fausses)", "faux positifs sur la période [IC 95 %]",
               "faux positifs depuis l'origine [IC 95 %]"], rows),
    ]
    if skipped:
        blocks.append(table(["règle non appliquée", "version", "raison"],
                            [[s["id"], str(s["version"]), "date de révision dépassée"] for s in skipped]))
    return section("Alertes levées et faux positifs",
                   "registre des règles ; événements de l'entrepôt (comptages par arrondissement et par heure) ; "
                   "verdicts des opérateurs (registry/feedback.jsonl)", *blocks)
