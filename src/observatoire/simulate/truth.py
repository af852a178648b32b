"""The ground truth, written apart from the exports (``out_dir/truth/``).

``parameters.json``  every parameter, the seed, and the values the run derived from them;
``incidents.parquet`` one row per true incident and how each was observed;
``zone_rates.parquet`` per zone: population, deprivation, background rate, need and patrol shares;
``pii.parquet``       every personal-data string inserted in free text (logbook, municipal reports);
``links.parquet``     which export record stems from which incident or planned event.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pyarrow as pa

from observatoire.simulate.cameras import Cameras
from observatoire.simulate.cctv_events import CROWD, TRUE, CctvEvents
from observatoire.simulate.clock import Clock, numbered
from observatoire.simulate.fines import Fines
from observatoire.simulate.geography import CityFrame, Hotspots
from observatoire.simulate.hospital import Admissions
from observatoire.simulate.incidents import BackgroundRates, Incidents
from observatoire.simulate.logbook import DIRECTED, INDEPENDENT, Logbook
from observatoire.simulate.parameters import SimulationParameters
from observatoire.simulate.patrols import Patrols
from observatoire.simulate.planned import PlannedEvents
from observatoire.simulate.reports import Reports
from observatoire.simulate.social import INCIDENT_POST, NOISE, PLANNED_POST, Posts
from observatoire.simulate.vocab import INCIDENT_CATEGORIES
from observatoire.simulate.writers import write_json, write_parquet

JSONL_SOURCES = frozenset({"municipal_reports", "cctv_events", "social_media"})
SIMULATOR_VERSION = "1"


def incident_ids(t: np.ndarray, tz: str) -> np.ndarray:
    """``INC-<year>-0000001``... in time order, numbered per local year."""
    return np.array(numbered(t, tz, "INC-{year}-{n:07d}"), dtype=object)


def _opt(ids: np.ndarray, idx: np.ndarray) -> pa.Array:
    """``ids[idx]`` with nulls where ``idx`` is -1."""
    out = np.where(idx >= 0, ids[np.maximum(idx, 0)], None) if len(ids) else np.full(len(idx), None)
    return pa.array(out, type=pa.string())


def write_truth(truth_dir: Path, *, seed: int, label: str, windows: Mapping[str, int], scale: float, params: SimulationParameters,
                frame: CityFrame, clock: Clock, hotspots: Hotspots, incidents: Incidents, rates: BackgroundRates,
                patrols: Patrols, logbook: Logbook, reports: Reports, cctv: CctvEvents, admissions: Admissions,
                posts: Posts, planned: PlannedEvents, cameras: Cameras, fines: Fines, first_camera: np.ndarray,
                rows: dict[str, int]) -> dict[str, Path]:
    n = len(incidents)
    ids = incident_ids(incidents.t, clock.tz)
    zone_ids = np.array(frame.zone_ids, dtype=object)
    paths = {name: truth_dir / name for name in
             ("parameters.json", "incidents.parquet", "zone_rates.parquet", "pii.parquet", "links.parquet")}

    hospital = np.zeros(n, dtype=bool)
    hospital[admissions.incident] = True
    detected = np.zeros(n, dtype=bool)
    detected[cctv.incident[cctv.kind == TRUE]] = True
    in_report = np.zeros(n, dtype=bool)
    in_report[reports.incident[reports.incident >= 0]] = True
    posts_per_incident = np.bincount(posts.incident[posts.kind == INCIDENT_POST], minlength=n)
    discovery = np.where(logbook.discovery == DIRECTED, "directed",
                         np.where(logbook.discovery == INDEPENDENT, "independent", None))
    numero = np.array(logbook.numero, dtype=object)
    write_parquet(paths["incidents.parquet"], pa.table({
        "incident_id": pa.array(ids, type=pa.string()),
        "occurred_at": pa.array(incidents.t * 1_000_000, type=pa.timestamp("us", tz="UTC")),
        "lon": incidents.lon,
        "lat": incidents.lat,
        "zone_id": pa.array(zone_ids[incidents.zone], type=pa.string()),
        "category": pa.array(np.array(INCIDENT_CATEGORIES, dtype=object)[incidents.category], type=pa.string()),
        "parent_id": _opt(ids, incidents.parent),
        "generation": pa.array(incidents.generation, type=pa.int16()),
        "recorded_logbook": logbook.discovery != 0,
        "logbook_discovery": pa.array(discovery, type=pa.string()),
        "logbook_numero": _opt(numero, logbook.entry_of),
        "hospital": hospital,
        "on_camera": first_camera >= 0,
        "cctv_detected": detected,
        "municipal_report": in_report,
        "social_posts": pa.array(posts_per_incident, type=pa.int32()),
    }))

    hours = patrols.hours.sum(axis=(0, 1))
    write_parquet(paths["zone_rates.parquet"], pa.table({
        "zone_id": pa.array(zone_ids, type=pa.string()),
        "population": pa.array(frame.population.astype(np.int64)),
        "deprivation": frame.deprivation,
        "background_rate_per_year": rates.per_zone,
        "need_share": rates.need_share,
        "patrol_share": patrols.patrol_share,
        "over_deployed": patrols.over_deployed,
        "patrol_hours": hours,
        "true_incidents": pa.array(np.bincount(incidents.zone, minlength=frame.n_zones).astype(np.int64)),
    }))

    pii = list(logbook.pii) + list(reports.pii)
    write_parquet(paths["pii.parquet"], pa.table({
        "source": pa.array([r[0] for r in pii], type=pa.string()),
        "record_id": pa.array([r[1] for r in pii], type=pa.string()),
        "field": pa.array([r[2] for r in pii], type=pa.string()),
        "kind": pa.array([r[3] for r in pii], type=pa.string()),
        "value": pa.array([r[4] for r in pii], type=pa.string()),
    }))

    write_parquet(paths["links.parquet"], _links(ids, logbook, reports, cctv, admissions, posts, planned))

    write_json(paths["parameters.json"], {
        "simulator_version": SIMULATOR_VERSION,
        "seed": seed,
        "year": clock.year,
        "period": {"label": label, "first_day": clock.first.isoformat(), "last_day": clock.last.isoformat(),
                   "days": clock.days, "start_utc": clock.start, "end_utc": clock.end},
        "recent_days": dict(windows),
        "scale": scale,
        "city": frame.city.name,
        "timezone": clock.tz,
        "parameters": params.as_dict(),
        "derived": _derived(frame, clock, hotspots, incidents, rates, patrols, fines, cameras, planned),
        "rows": rows,
        "true_incidents": n,
    })
    return paths


def _links(ids: np.ndarray, logbook: Logbook, reports: Reports, cctv: CctvEvents, admissions: Admissions,
           posts: Posts, planned: PlannedEvents) -> pa.Table:
    ev_ids = np.array(planned.ids, dtype=object)
    src, rec, inc, ev, kind = [], [], [], [], []

    def add(source: str, records: np.ndarray, incident: np.ndarray, event: np.ndarray, kinds: np.ndarray) -> None:
        src.append(np.full(len(records), source, dtype=object))
        rec.append(np.asarray(records, dtype=object))
        inc.append(incident)
        ev.append(event)
        kind.append(kinds)

    def none(k: int) -> np.ndarray:
        return np.full(k, -1, dtype=np.int64)

    add("mains_courantes", np.array(logbook.numero, dtype=object), logbook.incident, none(len(logbook)),
        np.where(logbook.incident >= 0, "incident", "activity").astype(object))
    add("municipal_reports", np.array(reports.ids, dtype=object), reports.incident, none(len(reports)),
        np.where(reports.incident >= 0, "incident", "activity").astype(object))
    add("cctv_events", np.array(cctv.ids, dtype=object), cctv.incident, cctv.planned,
        np.where(cctv.kind == TRUE, "incident", np.where(cctv.kind == CROWD, "planned_event", "spurious"))
        .astype(object))
    add("hospital", np.array([str(i + 1) for i in range(len(admissions))], dtype=object), admissions.incident,
        none(len(admissions)), np.full(len(admissions), "incident", dtype=object))
    add("social_media", np.array(posts.ids, dtype=object), posts.incident, posts.planned,
        np.select([posts.kind == INCIDENT_POST, posts.kind == PLANNED_POST, posts.kind == NOISE],
                  ["incident", "planned_event", "noise"], "noise").astype(object))
    incident = np.concatenate(inc)
    event = np.concatenate(ev)
    return pa.table({
        "source": pa.array(np.concatenate(src), type=pa.string()),
        "record_id": pa.array(np.concatenate(rec), type=pa.string()),
        "incident_id": _opt(ids, incident),
        "planned_event_id": _opt(ev_ids, event),
        "kind": pa.array(np.concatenate(kind), type=pa.string()),
    })


def _derived(frame: CityFrame, clock: Clock, hotspots: Hotspots, incidents: Incidents, rates: BackgroundRates,
             patrols: Patrols, fines: Fines, cameras: Cameras, planned: PlannedEvents) -> dict[str, Any]:
    hlon, hlat = frame.to_lonlat(hotspots.x, hotspots.y)
    return {
        "projection_origin": {"lon": frame.lon0, "lat": frame.lat0},
        "year_start_utc": clock.start,
        "year_end_utc": clock.end,
        "hotspots": [{"zone_id": frame.zone_ids[int(z)], "lon": round(float(a), 6), "lat": round(float(b), 6),
                      "sigma_m": round(float(s), 1)}
                     for z, a, b, s in zip(hotspots.zone, hlon, hlat, hotspots.sigma)],
        "background_rate_per_zone": {z: float(r) for z, r in zip(frame.zone_ids, rates.per_zone)},
        "need_share": {z: float(r) for z, r in zip(frame.zone_ids, rates.need_share)},
        "patrol_share": {z: float(r) for z, r in zip(frame.zone_ids, patrols.patrol_share)},
        "over_deployed_zones": [z for z, o in zip(frame.zone_ids, patrols.over_deployed) if o],
        "fines_per_patrol_hour": fines.rates,
        "background_incidents": int((incidents.generation == 0).sum()),
        "offspring_incidents": int((incidents.generation > 0).sum()),
        "dropped_offspring_after_year": incidents.dropped_late,
        "dropped_offspring_outside_city": incidents.dropped_outside,
        "cameras": len(cameras),
        "planned_events": len(planned),
    }
