"""Step 4: fines (*verbalisations*), driven by where and when officers patrol.

The count in each (day, shift, zone) cell is Poisson(rate_shift × patrol
hours × scale), the rates calibrated so that a year at scale 1 expects
``fines_per_year`` fines. Offences follow a per-shift mix of categories
(parking by day, by-laws at night) and, within a category, weights over the
NATINF codes of the connector's table. Places concentrate along commercial
streets and main axes. Plates come from a fleet where a few vehicles are
fined often (Zipf-like popularity).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.simulate.clock import Clock, format_local, numbered
from observatoire.simulate.geography import CityFrame, Hotspots, jitter_inside, sample_in_zones
from observatoire.simulate.logbook import agent_pool
from observatoire.simulate.parameters import FineParameters
from observatoire.simulate.patrols import Patrols
from observatoire.simulate.people import plates_vectorised
from observatoire.simulate.vocab import SHIFTS
from observatoire.simulate.writers import decimal_comma, write_csv
from observatoire.sources.natinf import NATINF


@dataclass(frozen=True)
class Fines:
    t: np.ndarray
    x: np.ndarray               # NaN when without coordinates
    y: np.ndarray
    zone: np.ndarray
    natinf: np.ndarray          # int64
    plate: np.ndarray           # object
    street_number: np.ndarray
    street: np.ndarray          # object
    agent: np.ndarray           # object
    rates: dict[str, float]     # fines per patrol hour, per shift (calibrated)

    def __len__(self) -> int:
        return len(self.t)


def natinf_choice(params: FineParameters) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per category: the NATINF codes of the connector's table and their drawing probabilities."""
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for cat in sorted({v[1] for v in NATINF.values()}):
        codes = np.array(sorted(c for c, v in NATINF.items() if v[1] == cat), dtype=np.int64)
        w = np.array([params.natinf_weights.get(str(c), 0.1) for c in codes], dtype=float)
        out[cat] = (codes, w / w.sum())
    return out


def simulate_fines(rng: np.random.Generator, frame: CityFrame, clock: Clock, hotspots: Hotspots,
                   patrols: Patrols, params: FineParameters, scale: float) -> Fines:
    """Fines per (day, shift, zone) cell in proportion to patrol hours, with code, place and plate."""
    names = [name for name, _ in SHIFTS]
    weight = np.array([params.shift_weights[s] for s in names])
    per_shift_hours = patrols.hours.sum(axis=(0, 2))
    base = params.fines_per_year * clock.years / float((weight * per_shift_hours).sum())
    rate = base * weight
    counts = rng.poisson(rate[None, :, None] * patrols.hours * scale)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    d, s, z = np.unravel_index(cell, counts.shape)
    t = patrols.start[d, s] + (rng.random(len(cell)) * (patrols.end[d, s] - patrols.start[d, s])).astype(np.int64)
    t = t // 60 * 60
    in_year = t < clock.end  # the last night shift runs into the next year: its fines belong there
    t, s, z = t[in_year], s[in_year], z[in_year]
    n = len(t)

    choice = natinf_choice(params)
    natinf = np.zeros(n, dtype=np.int64)
    for k, shift in enumerate(names):
        idx = np.flatnonzero(s == k)
        mix = params.category_mix[shift]
        cats = [c for c in mix if c in choice]
        p = np.array([mix[c] for c in cats])
        which = rng.choice(len(cats), len(idx), p=p / p.sum())
        for j, cat in enumerate(cats):
            sub = idx[which == j]
            codes, pc_ = choice[cat]
            natinf[sub] = codes[rng.choice(len(codes), len(sub), p=pc_)]

    x, y = sample_in_zones(rng, frame, hotspots, z, 0.6, params.corridor_share, params.corridor_sigma_m)
    x, y = jitter_inside(rng, frame, x, y, 10.0, 25.0)
    no_xy = rng.random(n) < params.no_coordinates_share
    x = np.where(no_xy, np.nan, x)
    y = np.where(no_xy, np.nan, y)

    fleet = plates_vectorised(rng, params.fleet_size, params.fni_share)
    popularity = 1.0 / np.arange(1, len(fleet) + 1) ** params.fleet_zipf
    plate = fleet[rng.choice(len(fleet), n, p=popularity / popularity.sum())]

    street = np.empty(n, dtype=object)
    for zi in range(frame.n_zones):
        idx = np.flatnonzero(z == zi)
        streets = np.array(frame.streets[zi], dtype=object)
        street[idx] = streets[rng.integers(0, len(streets), len(idx))]
    agents = agent_pool(rng, params.agents)
    order = np.argsort(t, kind="stable")
    return Fines(t=t[order], x=x[order], y=y[order], zone=z[order].astype(np.int64), natinf=natinf[order],
                 plate=plate[order], street_number=rng.integers(1, 180, n)[order], street=street[order],
                 agent=agents[rng.integers(0, len(agents), n)][order],
                 rates={name: float(r) for name, r in zip(names, rate)})


def write_fines(path: Path, fines: Fines, frame: CityFrame, clock: Clock) -> int:
    lon, lat = frame.to_lonlat(fines.x, fines.y)
    codes = sorted(NATINF)
    label = {c: NATINF[c][0] for c in codes}
    amount = {c: NATINF[c][2] for c in codes}
    uniq, inverse = np.unique(fines.natinf, return_inverse=True)
    labels = np.array([label[int(c)] for c in uniq], dtype=object)[inverse.ravel()]
    amounts = np.array([amount[int(c)] for c in uniq], dtype=float)[inverse.ravel()]
    postcodes = np.array(frame.postcodes, dtype=object)[fines.zone]
    lieu = pc.binary_join_element_wise(
        pc.cast(pa.array(fines.street_number), pa.string()), pa.array(fines.street, type=pa.string()),
        pa.array(postcodes, type=pa.string()), pa.array(np.full(len(fines), "Marseille", dtype=object),
                                                        type=pa.string()), " ")
    # "12 rue de Rome 13006 Marseille" -> "12 rue de Rome, 13006 Marseille"
    lieu = pc.replace_substring_regex(lieu, r" (\d{5}) Marseille$", r", \1 Marseille")
    return write_csv(path, {
        "numero_avis": np.array(numbered(fines.t, clock.tz, "AV{year}{n:07d}"), dtype=object),
        "date_infraction": format_local(fines.t, clock.tz, "%d/%m/%Y"),
        "heure_infraction": format_local(fines.t, clock.tz, "%H:%M"),
        "natinf": fines.natinf,
        "libelle_infraction": labels,
        "lieu": lieu,
        "longitude": decimal_comma(lon, 6),
        "latitude": decimal_comma(lat, 6),
        "immatriculation": fines.plate,
        "montant_eur": decimal_comma(amounts, 2, fixed=True),
        "matricule_agent": fines.agent,
    })
