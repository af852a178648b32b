"""Step 5: municipal reports, interventions and supervision-centre (CSU) operator reports.

Interventions follow a share of the logbook entries (a report written after
going on site, same category, a little later) plus routine interventions in
proportion to patrol hours. Operator reports exist only near cameras: a CSU
operator notices part of the true incidents a camera saw, and writes a few
reports of suspicious situations with no incident behind them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from observatoire.simulate.cameras import Cameras
from observatoire.simulate.clock import Clock, format_local_offset, numbered
from observatoire.simulate.geography import CityFrame, Hotspots, jitter_inside, sample_in_zones
from observatoire.simulate.incidents import Incidents
from observatoire.simulate.logbook import Logbook, PiiRow, agent_pool
from observatoire.simulate.narratives import report_note
from observatoire.simulate.parameters import ReportParameters
from observatoire.simulate.patrols import Patrols
from observatoire.simulate.vocab import FRENCH_LABELS, INCIDENT_CATEGORIES
from observatoire.simulate.writers import write_jsonl


@dataclass(frozen=True)
class Reports:
    ids: tuple[str, ...]
    type: np.ndarray        # "intervention" | "rapport_operateur" (object)
    t: np.ndarray
    x: np.ndarray           # NaN without a point
    y: np.ndarray
    code: np.ndarray        # category / activity code (object)
    incident: np.ndarray    # incident index or -1
    note: tuple[str, ...]
    agent: np.ndarray
    pii: tuple[PiiRow, ...]

    def __len__(self) -> int:
        return len(self.ids)


def _delay_s(rng: np.random.Generator, n: int, spec: tuple[float, float]) -> np.ndarray:
    return np.ceil((spec[0] + rng.exponential(spec[1], n)) * 60).astype(np.int64)


def simulate_reports(rng: np.random.Generator, frame: CityFrame, clock: Clock, hotspots: Hotspots,
                     incidents: Incidents, logbook: Logbook, patrols: Patrols, cameras: Cameras,
                     first_camera: np.ndarray, params: ReportParameters, scale: float) -> Reports:
    """Interventions (after logbook entries, routine) and operator reports (at cameras)."""
    parts: list[dict[str, np.ndarray]] = []
    cats = np.array(INCIDENT_CATEGORIES, dtype=object)

    # Interventions after logbook entries.
    sel = np.flatnonzero(rng.random(len(logbook)) < params.intervention_share_of_logbook)
    parts.append(dict(type=np.full(len(sel), "intervention", dtype=object),
                      t=logbook.t[sel] + _delay_s(rng, len(sel), params.intervention_delay_min),
                      x=logbook.x[sel], y=logbook.y[sel], zone=logbook.zone[sel], code=logbook.code[sel],
                      incident=logbook.incident[sel]))

    # Routine interventions, in proportion to patrol hours.
    t, z = patrols.sample_on_patrol(rng, int(rng.poisson(params.routine_per_year * clock.years * scale)), clock)
    m = len(t)
    x, y = sample_in_zones(rng, frame, hotspots, z, 0.7)
    x, y = jitter_inside(rng, frame, x, y, 10.0, 25.0)
    names = np.array(list(params.routine_labels), dtype=object)
    p = np.array(list(params.routine_labels.values()))
    parts.append(dict(type=np.full(m, "intervention", dtype=object), t=t, x=x, y=y, zone=z.astype(np.int64),
                      code=names[rng.choice(len(names), m, p=p / p.sum())], incident=np.full(m, -1)))

    # Operator reports of incidents a camera saw (placed at the camera).
    cam_zone = frame.zone_index(cameras.x, cameras.y)
    seen = np.flatnonzero(first_camera >= 0)
    op = seen[rng.random(len(seen)) < params.operator_report_probability]
    cam = first_camera[op]
    parts.append(dict(type=np.full(len(op), "rapport_operateur", dtype=object),
                      t=incidents.t[op] + _delay_s(rng, len(op), params.operator_delay_min),
                      x=cameras.x[cam], y=cameras.y[cam], zone=cam_zone[cam], code=cats[incidents.category[op]],
                      incident=op.astype(np.int64)))

    # Operator reports with no incident behind them.
    start = np.maximum(cameras.in_service, clock.start)
    active_days = np.maximum(clock.end - start, 0) / 86_400
    k = rng.poisson(params.spurious_operator_per_camera_day * active_days * scale)
    cam = np.repeat(np.arange(len(cameras)), k)
    t = start[cam] + (rng.random(len(cam)) * (clock.end - start[cam])).astype(np.int64)
    parts.append(dict(type=np.full(len(cam), "rapport_operateur", dtype=object), t=t, x=cameras.x[cam],
                      y=cameras.y[cam], zone=cam_zone[cam], code=np.full(len(cam), "operator_report", dtype=object),
                      incident=np.full(len(cam), -1)))

    cols = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    n = len(cols["t"])
    cols["t"] = np.minimum(cols["t"] // 60 * 60, clock.end - 60)
    no_xy = (cols["type"] == "intervention") & (rng.random(n) < params.no_coordinates_share)
    cols["x"] = np.where(no_xy, np.nan, cols["x"])
    cols["y"] = np.where(no_xy, np.nan, cols["y"])
    with_pii = rng.random(n) < params.note_pii_share
    agents = agent_pool(rng, 450)
    agent = agents[rng.integers(0, len(agents), n)]
    order = np.lexsort((cols["incident"], cols["t"]))
    cols = {key: v[order] for key, v in cols.items()}
    with_pii, agent = with_pii[order], agent[order]
    ids = numbered(cols["t"], clock.tz, "RI-{year}-{n:06d}")

    rnd = random.Random(int(rng.integers(2**63)))
    notes, pii = [], []
    zone = np.clip(cols["zone"], 0, frame.n_zones - 1)
    for i in range(n):
        zi = int(zone[i])
        w_ = report_note(rnd, str(cols["code"][i]), str(cols["type"][i]), frame.streets[zi], frame.postcodes[zi],
                         clock.year, bool(with_pii[i]))
        notes.append(w_.text)
        pii.extend(("municipal_reports", ids[i], "note", kind, value) for kind, value in w_.pii)
    return Reports(ids=ids, type=cols["type"], t=cols["t"], x=cols["x"], y=cols["y"], code=cols["code"],
                   incident=cols["incident"].astype(np.int64), note=tuple(notes), agent=agent, pii=tuple(pii))


def write_reports(path: Path, reports: Reports, frame: CityFrame, clock: Clock) -> int:
    lon, lat = frame.to_lonlat(reports.x, reports.y)
    lon = np.round(lon, 6)
    lat = np.round(lat, 6)
    when = format_local_offset(reports.t, clock.tz).to_pylist()
    labels = [FRENCH_LABELS[c] for c in reports.code.tolist()]

    def rows() -> Iterator[dict[str, Any]]:
        lons, lats = lon.tolist(), lat.tolist()
        for i in range(len(reports)):
            ok = lons[i] == lons[i]  # NaN check without a call
            yield {"id": reports.ids[i], "type": reports.type[i], "horodatage": when[i],
                   "lon": lons[i] if ok else None, "lat": lats[i] if ok else None,
                   "nature": labels[i], "note": reports.note[i], "agent": reports.agent[i]}
    return write_jsonl(path, rows())
