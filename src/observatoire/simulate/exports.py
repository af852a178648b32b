"""The three reference exports: patrol table, camera registry and planned-event calendar."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from observatoire.simulate.cameras import Cameras
from observatoire.simulate.clock import DAY_S, Clock, format_local
from observatoire.simulate.geography import CityFrame
from observatoire.simulate.patrols import Patrols
from observatoire.simulate.planned import PlannedEvents
from observatoire.simulate.vocab import SHIFTS
from observatoire.simulate.writers import decimal_comma, write_csv


def write_patrols(path: Path, patrols: Patrols, frame: CityFrame, clock: Clock) -> int:
    d, s, z = (a.ravel() for a in np.indices(patrols.officers.shape))
    dates = format_local(np.asarray(clock.start + np.arange(patrols.officers.shape[0]) * DAY_S + 12 * 3600),
                         clock.tz, "%d/%m/%Y")  # noon of each day: never on the wrong side of midnight
    return write_csv(path, {
        "date": dates.take(d),
        "creneau": np.array([name for name, _ in SHIFTS], dtype=object)[s],
        "code_insee": np.array(frame.zone_ids, dtype=object)[z],
        "effectif": patrols.officers.ravel(),
        "heures_patrouille": decimal_comma(patrols.hours.ravel(), 1),
    })


def write_cameras(path: Path, cameras: Cameras) -> int:
    return write_csv(path, {
        "camera_id": np.array(cameras.ids, dtype=object),
        "longitude": decimal_comma(cameras.lon, 6),
        "latitude": decimal_comma(cameras.lat, 6),
        "proprietaire": cameras.owner,
        "orientation_deg": cameras.orientation,
        "angle_champ_deg": cameras.angle,
        "portee_m": cameras.range_m,
        "mise_en_service": format_local(cameras.commissioned_day * DAY_S, "UTC", "%d/%m/%Y"),
    })


def write_planned_events(path: Path, planned: PlannedEvents, clock: Clock) -> int:
    fmt = "%d/%m/%Y %H:%M"
    return write_csv(path, {
        "id": np.array(planned.ids, dtype=object),
        "nom": np.array(planned.names, dtype=object),
        "type": np.array(planned.types, dtype=object),
        "lieu": np.array(planned.venues, dtype=object),
        "longitude": decimal_comma(planned.lon, 6),
        "latitude": decimal_comma(planned.lat, 6),
        "debut": format_local(planned.start, clock.tz, fmt),
        "fin": format_local(planned.end, clock.tz, fmt),
        "affluence_attendue": planned.attendance,
    })
