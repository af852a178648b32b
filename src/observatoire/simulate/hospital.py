"""Step 7: emergency admissions for assault injuries (Cardiff model).

A share of true violence and robbery incidents sends a victim to the
emergency department, whatever the patrols did: this source is independent
of deployment, which is what makes it valuable. The hospital records the
assault's day, often its time (rounded down to five minutes, as patients
tell it), and only the arrondissement of the place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.simulate.clock import Clock, format_local
from observatoire.simulate.geography import CityFrame
from observatoire.simulate.incidents import Incidents
from observatoire.simulate.parameters import HospitalParameters
from observatoire.simulate.vocab import AGE_BANDS, INCIDENT_CATEGORIES, SEXES, WEAPONS
from observatoire.simulate.writers import write_csv


@dataclass(frozen=True)
class Admissions:
    incident: np.ndarray        # incident index
    t_assault: np.ndarray       # UTC seconds, rounded down to 5 minutes
    hour_missing: np.ndarray    # bool
    zone: np.ndarray
    weapon: np.ndarray          # index into WEAPONS
    age: np.ndarray             # index into AGE_BANDS
    sex: np.ndarray             # index into SEXES
    t_admission: np.ndarray

    def __len__(self) -> int:
        return len(self.incident)


def _draw(rng: np.random.Generator, vocab: tuple[str, ...], table: dict[str, float], n: int) -> np.ndarray:
    p = np.array([table.get(v, 0.0) for v in vocab], dtype=float)
    return rng.choice(len(vocab), n, p=p / p.sum())


def simulate_hospital(rng: np.random.Generator, incidents: Incidents, params: HospitalParameters,
                      since: int | None = None) -> Admissions:
    """Admissions for a share of violence and robbery incidents, whatever the patrols did.

    Only incidents at or after ``since`` (UTC seconds; None: all) send anyone:
    a long period keeps hospital records for its last months only.
    """
    prob = np.zeros(len(INCIDENT_CATEGORIES))
    for name, p in params.admission_probability.items():
        prob[INCIDENT_CATEGORIES.index(name)] = p
    admitted = rng.random(len(incidents)) < prob[incidents.category]
    if since is not None:
        admitted &= incidents.t >= since
    chosen = np.flatnonzero(admitted)
    n = len(chosen)
    weapon = np.zeros(n, dtype=np.int64)
    cat = incidents.category[chosen]
    for name, table in params.weapons.items():
        idx = np.flatnonzero(cat == INCIDENT_CATEGORIES.index(name))
        weapon[idx] = _draw(rng, WEAPONS, table, len(idx))
    t = incidents.t[chosen]
    delay = np.ceil((params.admission_delay_min[0] + rng.exponential(params.admission_delay_min[1], n)) * 60)
    admission = (t + delay.astype(np.int64)) // 60 * 60
    order = np.argsort(admission, kind="stable")
    return Admissions(
        incident=chosen[order], t_assault=(t // 300 * 300)[order],
        hour_missing=(rng.random(n) < params.missing_hour_share)[order], zone=incidents.zone[chosen][order],
        weapon=weapon[order], age=_draw(rng, AGE_BANDS, params.age_bands, n)[order],
        sex=_draw(rng, SEXES, params.sexes, n)[order], t_admission=admission[order],
    )


def write_hospital(path: Path, adm: Admissions, frame: CityFrame, clock: Clock) -> int:
    hour = format_local(adm.t_assault, clock.tz, "%H:%M")
    hour = pc.if_else(pa.array(adm.hour_missing), pa.scalar(None, pa.string()), hour)
    return write_csv(path, {
        "date_agression": format_local(adm.t_assault, clock.tz, "%d/%m/%Y"),
        "heure_agression": hour,
        "code_insee_lieu": np.array(frame.zone_ids, dtype=object)[adm.zone],
        "categorie_arme": np.array(WEAPONS, dtype=object)[adm.weapon],
        "tranche_age": np.array(AGE_BANDS, dtype=object)[adm.age],
        "sexe": np.array(SEXES, dtype=object)[adm.sex],
        "date_admission": format_local(adm.t_admission, clock.tz, "%d/%m/%Y"),
        "heure_admission": format_local(adm.t_admission, clock.tz, "%H:%M"),
    })
