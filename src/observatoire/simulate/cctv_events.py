"""Step 6b: video-analytics events, restricted to the eight types of decree n° 2023-828.

Three kinds of detections: a true incident seen by a camera may trigger the
decree types its category maps to (each with its own probability, per camera
that saw it); crowds at planned events trigger density and crowd-movement
events on the cameras around the venue; and every camera raises spurious
events (false positives, or real but harmless situations such as a cyclist
against the traffic) at its own rate, mostly by day.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import shapely

from observatoire.simulate.cameras import Cameras
from observatoire.simulate.clock import HOUR_S, Clock, format_utc_z, hour_bins, local_fields, numbered
from observatoire.simulate.geography import CityFrame
from observatoire.simulate.incidents import Incidents
from observatoire.simulate.parameters import CctvParameters
from observatoire.simulate.planned import PlannedEvents
from observatoire.simulate.vocab import DECREE_TYPES, INCIDENT_CATEGORIES
from observatoire.simulate.writers import write_jsonl

DECREE = tuple(DECREE_TYPES)
TRUE, CROWD, SPURIOUS = 0, 1, 2


@dataclass(frozen=True)
class CctvEvents:
    ids: tuple[str, ...]
    camera: np.ndarray      # camera index
    t: np.ndarray
    type: np.ndarray        # index into DECREE
    confidence: np.ndarray
    kind: np.ndarray        # TRUE, CROWD or SPURIOUS
    incident: np.ndarray    # incident index or -1
    planned: np.ndarray     # planned event index or -1

    def __len__(self) -> int:
        return len(self.ids)


def _types(table: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    idx = np.array([DECREE.index(k) for k in table], dtype=np.int64)
    p = np.array(list(table.values()), dtype=float)
    return idx, p / p.sum()


def simulate_cctv_events(rng: np.random.Generator, clock: Clock, cameras: Cameras, tree: shapely.STRtree,
                         incidents: Incidents, pairs: tuple[np.ndarray, np.ndarray], planned: PlannedEvents,
                         frame: CityFrame, params: CctvParameters, scale: float) -> CctvEvents:
    """Detections of seen incidents, crowd events at planned events and spurious detections."""
    cam_l, t_l, type_l, kind_l, inc_l, ev_l = [], [], [], [], [], []
    # 1. detections of true incidents
    inc, cam = pairs
    cat = incidents.category[inc]
    for k, name in enumerate(INCIDENT_CATEGORIES):
        for dtype, p in params.detection.get(name, {}).items():
            hit = (cat == k) & (rng.random(len(inc)) < p)
            sel = np.flatnonzero(hit)
            delay = np.ceil(params.detection_delay_s[0] + rng.exponential(params.detection_delay_s[1], len(sel)))
            cam_l.append(cam[sel]); t_l.append(incidents.t[inc[sel]] + delay.astype(np.int64))
            type_l.append(np.full(len(sel), DECREE.index(dtype))); kind_l.append(np.full(len(sel), TRUE))
            inc_l.append(inc[sel]); ev_l.append(np.full(len(sel), -1))
    # 2. crowds at planned events
    if len(planned):
        px, py = frame.to_metres(planned.lon, planned.lat)
        ev, cm = tree.query(shapely.points(px, py), predicate="dwithin", distance=params.crowd_radius_m)
        order = np.lexsort((cm, ev))
        ev, cm = ev[order], cm[order]
        in_service = cameras.in_service[cm] <= planned.start[ev]
        ev, cm = ev[in_service], cm[in_service]
        lam = params.crowd_events_per_10k_attendance * planned.attendance[ev] / 10_000 * scale
        k = rng.poisson(lam)
        ev_r, cm_r = np.repeat(ev, k), np.repeat(cm, k)
        lo = planned.start[ev_r] - HOUR_S
        hi = planned.end[ev_r] + HOUR_S
        t = lo + (rng.random(len(ev_r)) * (hi - lo)).astype(np.int64)
        idx, p = _types(params.crowd_types)
        cam_l.append(cm_r); t_l.append(t); type_l.append(idx[rng.choice(len(idx), len(t), p=p)])
        kind_l.append(np.full(len(t), CROWD)); inc_l.append(np.full(len(t), -1)); ev_l.append(ev_r)
    # 3. spurious detections, per camera, mostly by day
    bins = hour_bins(clock)
    hw = np.asarray(params.false_alarm_hours)[local_fields(bins, clock).hour]
    cdf = np.cumsum(hw) / hw.sum()
    sd = params.false_alarm_heterogeneity_sd
    rate = params.false_alarm_per_camera_day * rng.lognormal(-sd * sd / 2, sd, len(cameras))
    start = np.maximum(cameras.in_service, clock.start)
    active_days = np.maximum(clock.end - start, 0) / 86_400
    k = rng.poisson(rate * active_days * scale)
    cm = np.repeat(np.arange(len(cameras)), k)
    lo = np.interp(start[cm], bins, np.concatenate([[0.0], cdf[:-1]]))  # cdf mass before the camera's start
    u = lo + rng.random(len(cm)) * (1.0 - lo)
    b = np.minimum(np.searchsorted(cdf, u, side="right"), len(bins) - 1)
    t = np.maximum(bins[b] + rng.integers(0, HOUR_S, len(cm)), start[cm])
    idx, p = _types(params.false_alarm_types)
    cam_l.append(cm); t_l.append(t); type_l.append(idx[rng.choice(len(idx), len(t), p=p)])
    kind_l.append(np.full(len(t), SPURIOUS)); inc_l.append(np.full(len(t), -1)); ev_l.append(np.full(len(t), -1))

    camera = np.concatenate(cam_l).astype(np.int64)
    t = np.minimum(np.concatenate(t_l).astype(np.int64), clock.end - 1)
    kind = np.concatenate(kind_l).astype(np.int64)
    a_t, b_t = params.true_confidence_beta
    a_f, b_f = params.false_confidence_beta
    conf = np.where(kind == SPURIOUS, rng.beta(a_f, b_f, len(t)), rng.beta(a_t, b_t, len(t)))
    conf = np.round(np.clip(conf, 0.3, 0.99), 2)
    typ = np.concatenate(type_l).astype(np.int64)
    incident = np.concatenate(inc_l).astype(np.int64)
    planned_ix = np.concatenate(ev_l).astype(np.int64)
    keep = t >= clock.start
    order = np.lexsort((typ[keep], camera[keep], t[keep]))
    sel = np.flatnonzero(keep)[order]
    return CctvEvents(ids=numbered(t[sel], clock.tz, "VA-{year}-{n:07d}"), camera=camera[sel],
                      t=t[sel], type=typ[sel], confidence=conf[sel], kind=kind[sel], incident=incident[sel],
                      planned=planned_ix[sel])


def write_cctv_events(path: Path, events: CctvEvents, cameras: Cameras) -> int:
    when = format_utc_z(events.t).to_pylist()
    cams = [cameras.ids[i] for i in events.camera.tolist()]
    types = [DECREE[i] for i in events.type.tolist()]
    conf = events.confidence.tolist()

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(len(events)):
            yield {"event_id": events.ids[i], "camera_id": cams[i], "detected_at": when[i], "type": types[i],
                   "confidence": conf[i]}
    return write_jsonl(path, rows())
