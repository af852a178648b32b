"""The control audits run on the period's data (restricted): fairness of places and the feedback-loop monitor.

The same functions as ``/api/v1/audits/fairness`` and ``/api/v1/audits/feedback-loop``
(``audits/fairness.py``, ``audits/feedback_loop.py``, configured by ``audits/audits.toml``), with the
parameters fixed here and printed in the report:

- fairness: the allocation is the cells the historical-average forecast trained on the period selects
  (5 % of the city's area, 250 m cells, the forecast's seven days after the period); the need is the
  configured independently reported incidents of the period; ratios against the reference area group
  with intervals over arrondissements (the delete-one-arrondissement jackknife, Student quantiles).
- feedback loop: concentration across zones (Gini of rates per resident) of directed discoveries against
  independent reports, over windows of a twelfth of the period (at least one day); the alarm is the
  one-sided permutation test of an upward trend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from observatoire.analytics.counts import filter_events
from observatoire.analytics.forecast.service import ForecastService, seeded_streams
from observatoire.analytics.places import city_grid, query_placed
from observatoire.audits.config import AuditConfig, area_groups
from observatoire.audits.fairness import FairnessAudit, exposure_audit, grid_units, need_on_grid, place_on_units
from observatoire.audits.feedback_loop import MonitorResult, discoveries_by_window, feedback_monitor
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.report import charts, fr
from observatoire.report.document import chart, section, table, text
from observatoire.report.period import Period

CELL_M = 250.0
AREA_SHARE = 0.05
METHOD = "historical_average"
HORIZON_DAYS = 7
SEED = 0
GROUP_FR = {"less_deprived": "moins défavorisés", "more_deprived": "plus défavorisés"}


def fairness(events: Any, city: CityProfile, config: AuditConfig, period: Period) -> FairnessAudit:
    """Exposure to the period's forecast allocation per resident and per unit of need, by area group.

    Raises
    ------
    InputError
        No located event in the period, or a city profile without boundaries.
    """
    cgrid = city_grid(city, CELL_M)
    units = grid_units(cgrid, city)
    group = units.groups(area_groups(city, config.groups))
    service = ForecastService()
    spec = service.spec(METHOD, end=period.end, horizon_days=HORIZON_DAYS, train_days=period.days, k=AREA_SHARE,
                        cell_m=CELL_M, seed=SEED)
    placed = query_placed(events, cgrid, start=period.start, end=period.end, reference=spec.reference)
    if len(placed.events.t) == 0:
        raise InputError("aucun événement localisé dans la période : pas d'allocation à auditer")
    rng_boot = seeded_streams(SEED)[2]
    weights = np.zeros(cgrid.grid.n_cells)
    weights[service.allocate(placed, cgrid.grid, spec).cells] = 1.0
    exposure = units.from_cells(weights) * CELL_M ** 2 / 1e6          # selected km²
    need = place_on_units(units, *need_on_grid(events, cgrid, start=period.start, end=period.end,
                                               categories=config.need_categories,
                                               discoveries=config.need_discovery))
    return exposure_audit(group, units.residents, exposure, need, reference=config.groups.reference, rng=rng_boot,
                          band=config.band, level=config.level, n_boot=config.bootstrap, cluster=units.zone)


@dataclass(frozen=True, slots=True)
class Loop:
    """The monitor's result with its windows and the events counted in each."""

    result: MonitorResult
    window_days: int
    starts: list
    directed: list[int]
    independent: list[int]


def feedback_loop(events: Any, city: CityProfile, config: AuditConfig, period: Period) -> Loop:
    """The feedback-loop monitor over the period's windows (a twelfth of the period each).

    Raises
    ------
    InputError
        A window without directed or without independent incidents.
    """
    window_days = max(1, period.days // 12)
    n_windows = period.days // window_days
    kept = filter_events(events, start=period.start, end=period.end, categories=list(config.need_categories),
                         discoveries=["directed", "independent"])
    kept = kept.filter(kept.zone_id.notnull())
    t = kept.select("occurred_at", "zone_id", "discovery").to_pyarrow()
    att, ind = discoveries_by_window(t, [zz.zone_id for zz in city.zones], t0=period.start_at,
                                     window_days=window_days, n_windows=n_windows)
    empty = int(np.sum((att.sum(axis=1) == 0) | (ind.sum(axis=1) == 0)))
    if empty:
        raise InputError(f"{empty} fenêtre(s) sur {n_windows} sans fait découvert par l'attention dirigée ou sans "
                         "signalement indépendant")
    population = np.array([max(zz.population, 1) for zz in city.zones], dtype=float)
    result = feedback_monitor(att, ind, rng=np.random.default_rng(SEED), alpha=config.monitor_alpha,
                              permutations=config.monitor_permutations, measure="gini", population=population)
    starts = [period.start + timedelta(days=i * window_days) for i in range(n_windows)]
    return Loop(result, window_days, starts, [int(x) for x in att.sum(axis=1)], [int(x) for x in ind.sum(axis=1)])


def _group(label: str) -> str:
    return GROUP_FR.get(label, label)


def fairness_section(events: Any, city: CityProfile, config: AuditConfig, period: Period) -> dict[str, Any]:
    """The fairness audit as a section: groups, ratios with their intervals and flags, a chart."""
    source = ("événements de l'entrepôt sur la période ; audit d'équité des lieux (audits/fairness.py, "
              "configuration audits/audits.toml)")
    title = "Équité des lieux"
    about = text(
        f"Allocation auditée : les cellules de {fr.integer(CELL_M)} m que la prévision « moyenne historique » "
        f"entraînée sur la période sélectionne ({fr.percent(AREA_SHARE, 0)} de la surface de la ville). Besoin "
        "mesuré indépendamment : les faits signalés par des tiers (appels, réquisitions) de la période. Les "
        f"arrondissements sont groupés selon l'indicateur « {config.groups.indicator} » du profil de la ville. "
        f"Un rapport est signalé quand tout son intervalle de confiance à {fr.percent(config.level, 0)} sort de "
        f"la bande [{fr.number(config.band[0])} ; {fr.number(config.band[1])}].")
    try:
        audit = fairness(events, city, config, period)
    except InputError as exc:
        return section(title, source, about, text(f"Audit non calculable : {exc}."))
    # one column per measure and one label per ratio, from the audit's table of measures (audits/fairness.py)
    groups = [[_group(g.group), fr.integer(g.units), fr.integer(round(g.residents)), fr.number(g.exposure, 2),
               fr.number(g.need, 0), *(fr.number(g.rates[m.column], 4) for m in audit.measures)]
              for g in audit.groups]
    measure = {m.name: m.label for m in audit.measures}
    ratios = [[f"{_group(r.group)} / {_group(r.reference)}", measure[r.measure], fr.number(r.ratio),
               fr.interval(r.ci_low, r.ci_high), "oui" if r.flagged else "non"] for r in audit.ratios]
    uri = charts.ratios_with_intervals([f"{_group(r.group)}, {measure[r.measure]}" for r in audit.ratios],
                                       [r.ratio for r in audit.ratios], [r.ci_low for r in audit.ratios],
                                       [r.ci_high for r in audit.ratios], audit.band, xlabel="rapport d'exposition")
    return section(
        title, source, about,
        table(["groupe", "unités", "habitants", "exposition (km² sélectionnés)", "besoin (faits)",
               *(m.heading for m in audit.measures)], groups),
        table(["rapport", "mesure", "valeur", f"IC {fr.percent(audit.level, 0)} (jackknife des "
               "arrondissements, loi de Student)", "signalé"], ratios),
        chart(uri, "Rapports d'exposition entre groupes d'arrondissements avec leurs intervalles de confiance"),
        text("Conclusion : " + ("au moins un rapport sort de la bande, l'allocation doit être examinée."
                                if audit.flagged() else "aucun rapport ne sort de la bande.")),
    )


def patrols_section(patrols: Any, events: Any, city: CityProfile, config: AuditConfig,
                    period: Period) -> dict[str, Any]:
    """The patrol audit of the period as a section: hours per resident and per reported fact, by area group."""
    from observatoire.audits.patrols import patrol_audit

    source = ("relevés de patrouille (source patrols) et faits signalés indépendamment de la période ; "
              "audits/patrols.py, configuration de l'audit de la ville")
    title = "Patrouilles et besoin"
    about = text(
        "Les heures de patrouille de chaque groupe d'arrondissements sont rapportées aux faits signalés "
        "indépendamment (appels, admissions hospitalières) : un rapport de 1 entre groupes veut dire des "
        "patrouilles proportionnées au besoin. Un rapport est signalé quand tout son intervalle de confiance à "
        f"{fr.percent(config.level, 0)} sort de la bande [{fr.number(config.band[0])} ; "
        f"{fr.number(config.band[1])}] ; l'intervalle traite chaque arrondissement comme un tirage indépendant "
        "(jackknife, loi de Student). Le signal porte sur des lieux, jamais sur des personnes ; un quartier qui "
        "signale moins voit son besoin sous-estimé.")
    try:
        result = patrol_audit(patrols, events, city, config, end=period.end, days=period.days,
                              rng=seeded_streams(SEED)[2])
    except InputError as exc:
        return section(title, source, about, text(f"Audit non calculable : {exc}."))
    audit = result.audit
    groups = [[_group(g.group), fr.integer(g.units), fr.integer(round(g.residents)), fr.number(g.exposure, 0),
               fr.number(g.need, 0), fr.number(g.rates["exposure_per_need"], 2)] for g in audit.groups]
    ratios = [[f"{_group(r.group)} / {_group(r.reference)}", r.measure.replace("per_resident", "par habitant")
               .replace("per_need", "par fait signalé"), fr.number(r.ratio), fr.interval(r.ci_low, r.ci_high),
               "oui" if r.flagged else "non"] for r in audit.ratios]
    return section(
        title, source, about,
        text(f"Période auditée : du {fr.day(result.start)} au {fr.day(result.end)} (exclu) ; "
             f"{fr.integer(round(result.hours))} heures de patrouille, {fr.integer(result.need_events)} faits "
             "signalés indépendamment."),
        table(["groupe", "arrondissements", "habitants", "heures de patrouille", "faits signalés",
               "heures par fait"], groups),
        table(["rapport", "mesure", "valeur", f"IC {fr.percent(audit.level, 0)} (jackknife des arrondissements, "
               "loi de Student)", "signalé"], ratios),
        text("Conclusion : " + ("les heures de patrouille par fait signalé diffèrent entre groupes au-delà de la "
                                "bande : l'allocation doit être examinée." if audit.flagged("per_need") else
                                "pas d'écart d'heures par fait signalé au-delà de la bande.")),
    )


def feedback_loop_section(events: Any, city: CityProfile, config: AuditConfig, period: Period) -> dict[str, Any]:
    """The feedback-loop monitor as a section: windows, trend, p-value and alarm, a chart."""
    source = ("événements de l'entrepôt sur la période ; moniteur de boucle de rétroaction "
              "(audits/feedback_loop.py, configuration audits/audits.toml)")
    title = "Boucle de rétroaction"
    about = text(
        "Le moniteur compare, fenêtre par fenêtre, la concentration entre arrondissements (indice de Gini des "
        "taux par habitant) des faits découverts là où l'attention est dirigée (patrouilles, vidéo) à celle des "
        "faits signalés indépendamment. Une tendance à la hausse de l'écart signale une attention qui se "
        f"nourrit d'elle-même ; l'alarme est un test de permutation unilatéral au seuil de "
        f"{fr.percent(config.monitor_alpha, 0)}.")
    try:
        loop = feedback_loop(events, city, config, period)
    except InputError as exc:
        return section(title, source, about, text(f"Moniteur non calculable sur la période : {exc}."))
    r = loop.result
    rows = [[fr.day(s), fr.number(a, 3), fr.number(i, 3), fr.number(d, 3), fr.integer(nd), fr.integer(ni)]
            for s, a, i, d, nd, ni in zip(loop.starts, r.attention, r.independent, r.difference, loop.directed,
                                          loop.independent, strict=True)]
    uri = charts.two_lines([s.strftime("%d/%m") for s in loop.starts], list(r.attention), list(r.independent),
                           ("attention dirigée", "signalements indépendants"), ylabel="Gini")
    return section(
        title, source, about,
        chart(uri, "Concentration de l'attention dirigée et des signalements indépendants par fenêtre"),
        table([f"fenêtre de {fr.integer(loop.window_days)} j (début)", "Gini attention", "Gini indépendant", "écart",
               "faits dirigés", "faits indépendants"], rows),
        text(f"Pente de l'écart : {fr.number(r.slope, 4)} par fenêtre ; p = {fr.number(r.p_value, 3)} "
             f"({fr.integer(r.permutations)} permutations). Alarme : {'oui' if r.alarm else 'non'}."),
    )
