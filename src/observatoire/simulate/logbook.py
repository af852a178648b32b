"""Step 3: the municipal police logbook (*mains courantes*).

A true incident reaches the logbook in one of two ways. A resident (or
another service) reports it with a fixed probability ``report_probability``
(*independent* discovery: origine ``appel_usager`` or ``requisition``);
otherwise a patrol may come across it with probability
``1 - exp(-κ · h / n_z)``, where ``h`` is the patrol hours in the incident's
zone and shift and ``n_z`` the zone's need unit (its expected share of
incidents times the number of zones), so that a proportional allocation would
give every zone the same chance and over-deployment raises it (*directed*
discovery: ``initiative``, or ``videoprotection`` for part of the incidents
a camera saw). Entries that are not incidents (assistance, miscellaneous
interventions) are added in proportion to patrol hours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from observatoire.simulate.clock import Clock, format_local, numbered
from observatoire.simulate.geography import CityFrame, Hotspots, jitter_inside, sample_in_zones
from observatoire.simulate.incidents import Incidents
from observatoire.simulate.narratives import logbook_narrative
from observatoire.simulate.parameters import LogbookParameters
from observatoire.simulate.patrols import Patrols
from observatoire.simulate.people import address
from observatoire.simulate.vocab import FRENCH_LABELS, INCIDENT_CATEGORIES
from observatoire.simulate.writers import decimal_comma, write_csv

NOT_RECORDED, DIRECTED, INDEPENDENT = 0, 1, 2
PiiRow = tuple[str, str, str, str, str]  # source, record id, field, kind, value


@dataclass(frozen=True)
class Logbook:
    """Logbook entries in entry order, and how each true incident was (or was not) recorded."""

    discovery: np.ndarray       # per incident: NOT_RECORDED, DIRECTED or INDEPENDENT
    entry_of: np.ndarray        # per incident: entry index, -1 when not recorded
    numero: tuple[str, ...]
    t: np.ndarray               # facts (UTC seconds, minute precision)
    saisie: np.ndarray          # entry written
    x: np.ndarray               # recorded place (metres), NaN when without coordinates
    y: np.ndarray
    zone: np.ndarray
    code: np.ndarray            # category code, or "assistance" / "intervention" (object)
    origine: np.ndarray         # object
    incident: np.ndarray        # incident index, -1 for non-incident entries
    adresse: tuple[str, ...]
    recit: tuple[str, ...]
    agent: tuple[str, ...]
    persons: tuple[str | None, ...]
    pii: tuple[PiiRow, ...]

    def __len__(self) -> int:
        return len(self.numero)


def agent_pool(rng: np.random.Generator, n: int) -> np.ndarray:
    """Officer numbers ``PM0421``-style, distinct."""
    nums = np.sort(rng.choice(np.arange(1, 10_000), size=n, replace=False))
    return np.array([f"PM{k:04d}" for k in nums.tolist()], dtype=object)


def _pick(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(table), dtype=object)
    p = np.array(list(table.values()), dtype=float)
    return names[rng.choice(len(names), n, p=p / p.sum())]


def _delay_minutes(rng: np.random.Generator, n: int, spec: tuple[float, float], late_share: float,
                   late_days: float) -> np.ndarray:
    m = spec[0] + rng.exponential(spec[1], n)
    late = rng.random(n) < late_share
    m = np.where(late, m + rng.exponential(late_days * 24 * 60, n), m)
    return np.maximum(1, np.ceil(m)).astype(np.int64)


def simulate_logbook(rng: np.random.Generator, frame: CityFrame, clock: Clock, hotspots: Hotspots,
                     incidents: Incidents, patrols: Patrols, first_camera: np.ndarray, camera_ids: tuple[str, ...],
                     params: LogbookParameters, scale: float) -> Logbook:
    """Decide which incidents are recorded and how, add non-incident entries, write their text."""
    n = len(incidents)
    independent = rng.random(n) < params.report_probability
    day, shift = patrols.shift_of(incidents.t, clock)
    hours = patrols.hours[day, shift, incidents.zone]
    p_dir = 1.0 - np.exp(-params.patrol_kappa * hours / patrols.need_unit[incidents.zone])
    directed = ~independent & (rng.random(n) < p_dir)
    discovery = np.where(independent, INDEPENDENT, np.where(directed, DIRECTED, NOT_RECORDED))
    u = rng.random(n)
    origine_inc = np.where(independent, np.where(u < params.requisition_share, "requisition", "appel_usager"),
                           np.where((first_camera >= 0) & (u < params.videoprotection_share), "videoprotection",
                                    "initiative")).astype(object)
    rec = np.flatnonzero(discovery != NOT_RECORDED)

    # Entries that are not incidents, in proportion to patrol hours.
    t_non, z = patrols.sample_on_patrol(rng, int(rng.poisson(params.non_incident_per_year * clock.years * scale)), clock)
    m = len(t_non)
    xn, yn = sample_in_zones(rng, frame, hotspots, z, 0.7)

    t = np.concatenate([incidents.t[rec], t_non]) // 60 * 60
    x = np.concatenate([incidents.x[rec], xn])
    y = np.concatenate([incidents.y[rec], yn])
    zone = np.concatenate([incidents.zone[rec], z]).astype(np.int64)
    cats = np.array(INCIDENT_CATEGORIES, dtype=object)
    code = np.concatenate([cats[incidents.category[rec]], _pick(rng, params.non_incident_labels, m)])
    origine = np.concatenate([origine_inc[rec], _pick(rng, params.non_incident_origins, m)])
    incident = np.concatenate([rec, np.full(m, -1)]).astype(np.int64)
    is_directed = np.isin(origine, ("initiative", "videoprotection"))
    delay = np.where(is_directed,
                     _delay_minutes(rng, len(t), params.directed_delay_min, params.late_entry_share,
                                    params.late_entry_mean_days),
                     _delay_minutes(rng, len(t), params.independent_delay_min, params.late_entry_share,
                                    params.late_entry_mean_days))
    saisie = t + delay * 60
    x, y = jitter_inside(rng, frame, x, y, params.jitter_sigma_m, params.jitter_max_m)
    no_xy = rng.random(len(t)) < params.no_coordinates_share
    x = np.where(no_xy, np.nan, x)
    y = np.where(no_xy, np.nan, y)
    agents = agent_pool(rng, params.agents)
    agent = agents[rng.integers(0, len(agents), len(t))]

    order = np.lexsort((t, saisie))
    t, saisie, x, y, zone, code, origine, incident, agent = (
        a[order] for a in (t, saisie, x, y, zone, code, origine, incident, agent))
    numero = numbered(t, clock.tz, "MC-{year}-{n:06d}")  # in the order written, per year of the facts
    entry_of = np.full(n, -1, dtype=np.int64)
    has_inc = incident >= 0
    entry_of[incident[has_inc]] = np.flatnonzero(has_inc)

    rnd = random.Random(int(rng.integers(2**63)))  # per-row text: see people.py for why
    adresses, recits, persons, pii = [], [], [], []
    for i in range(len(t)):
        zi = int(zone[i])
        a = address(rnd, frame.streets[zi], frame.postcodes[zi])
        inc_i = int(incident[i])
        cam = camera_ids[int(first_camera[inc_i])] if inc_i >= 0 and first_camera[inc_i] >= 0 else None
        w_ = logbook_narrative(rnd, str(code[i]), str(origine[i]), frame.streets[zi], frame.postcodes[zi],
                               clock.year, cam, params.persons_max)
        adresses.append(a)
        recits.append(w_.text)
        persons.append("|".join(w_.persons) if w_.persons else None)
        num = numero[i]
        pii.append(("mains_courantes", num, "adresse", "address", a))
        pii.extend(("mains_courantes", num, "recit", kind, value) for kind, value in w_.pii)
        pii.extend(("mains_courantes", num, "personnes_impliquees", "name", p) for p in w_.persons)
    return Logbook(discovery=discovery, entry_of=entry_of, numero=numero, t=t, saisie=saisie, x=x, y=y,
                   zone=zone, code=code, origine=origine, incident=incident, adresse=tuple(adresses),
                   recit=tuple(recits), agent=tuple(agent.tolist()), persons=tuple(persons), pii=tuple(pii))


def write_logbook(path: Path, logbook: Logbook, frame: CityFrame, clock: Clock) -> int:
    lon, lat = frame.to_lonlat(logbook.x, logbook.y)
    labels = np.array([FRENCH_LABELS[c] for c in logbook.code.tolist()], dtype=object)
    fmt = "%d/%m/%Y %H:%M"
    return write_csv(path, {
        "numero": np.array(logbook.numero, dtype=object),
        "date_heure": format_local(logbook.t, clock.tz, fmt),
        "date_saisie": format_local(logbook.saisie, clock.tz, fmt),
        "adresse": np.array(logbook.adresse, dtype=object),
        "longitude": decimal_comma(lon, 6),
        "latitude": decimal_comma(lat, 6),
        "categorie": labels,
        "origine": logbook.origine,
        "recit": np.array(logbook.recit, dtype=object),
        "agent": np.array(logbook.agent, dtype=object),
        "personnes_impliquees": np.array(logbook.persons, dtype=object),
    })


