"""Step 12: stop and identity-check records, with a known, injectable disparity by area group.

Stops are made on patrol: candidate moments and zones are drawn in proportion to patrol hours
(``Patrols.sample_on_patrol``), so that over-patrolled zones see more stops. The disparity concerns the
*target areas* (zones whose deprivation reaches ``target_min_deprivation``; ``audits.toml`` cuts the area
groups at the same 0.6), and has three parts, each set to zero for a fair city:

- **veil of darkness**: in daylight (after civil dusk is dark; sunset to dusk, twilight, is neither) a
  candidate stop in a target area is kept with probability 1, any other with ``1 / (1 + daylight_excess)``:
  the odds that a stop is in a target area are ``1 + daylight_excess`` times higher in daylight than after
  dusk at the same clock time (true darkness log-odds ``-log(1 + daylight_excess)``);
- **search rate**: a stop is searched with probability ``search_rate``, ``search_rate × search_ratio`` in a
  target area;
- **hit rate**: a search finds something with probability ``hit_rate``, ``hit_rate - hit_gap`` in a target
  area (searched on weaker evidence).

The export (``stops_<period>.csv``, docs/stops.md) gives the zone code, no coordinates and no group column
(a French city may not hold one). The truth (``truth/stops.parquet``) gives each stop's area, light and the
probabilities it was drawn with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from observatoire.simulate.clock import Clock, format_local_offset, numbered
from observatoire.simulate.geography import CityFrame
from observatoire.simulate.parameters import StopParameters
from observatoire.simulate.patrols import Patrols
from observatoire.simulate.writers import write_csv, write_parquet


@dataclass(frozen=True)
class StopRecords:
    t: np.ndarray               # int64 UTC seconds, sorted
    zone: np.ndarray            # zone index
    target: np.ndarray          # bool: a target area
    light: np.ndarray           # bool: daylight (neither dark nor twilight)
    initiated: np.ndarray       # "dispatch" | "self"
    reason: np.ndarray
    p_search: np.ndarray
    person_searched: np.ndarray
    vehicle_searched: np.ndarray
    p_hit: np.ndarray
    found: np.ndarray           # bool (False where not searched)
    outcome: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def simulate_stops(rng: np.random.Generator, frame: CityFrame, clock: Clock, patrols: Patrols,
                   params: StopParameters, scale: float, *, lat: float, lon: float) -> StopRecords:
    """Stop records over the clock's period (module docstring); ``lat``, ``lon``: where the sun is computed."""
    from observatoire.audits.stops import light_status

    excess = params.daylight_excess
    expected = params.stops_per_year * clock.years * scale * (1 + max(excess, 0.0))
    t, zone = patrols.sample_on_patrol(rng, int(rng.poisson(expected)), clock)
    order = np.argsort(t, kind="stable")
    t, zone = t[order], zone[order]
    target = frame.deprivation[zone] >= params.target_min_deprivation
    if len(t):
        _, dark, twilight = light_status(pa.array(t * 1_000_000, pa.timestamp("us", tz="UTC")), lat, lon, clock.tz)
    else:
        dark = twilight = np.zeros(0, dtype=bool)
    light = ~dark & ~twilight
    keep_p = np.where(target & light, 1.0, 1.0 / (1.0 + excess)) if excess > 0 else np.ones(len(t))
    kept = rng.random(len(t)) < keep_p
    t, zone, target, light = t[kept], zone[kept], target[kept], light[kept]
    n = len(t)
    dispatch = rng.random(n) < params.dispatch_share
    names = list(params.self_reasons)
    w = np.array([params.self_reasons[k] for k in names], dtype=float)
    reason = np.where(dispatch, "call_for_service", np.array(names, dtype=object)[rng.choice(len(names), n, p=w / w.sum())])
    p_search = np.where(target, params.search_rate * params.search_ratio, params.search_rate).clip(0, 1)
    searched = rng.random(n) < p_search
    vehicle = searched & (rng.random(n) < params.vehicle_search_share)
    person = searched & (~vehicle | (rng.random(n) < 0.5))
    p_hit = np.where(target, params.hit_rate - params.hit_gap, params.hit_rate).clip(0, 1)
    found = searched & (rng.random(n) < p_hit)
    u = rng.random(n)
    outcome = np.where(found, np.where(u < 0.6, "arrest", "citation"),
                       np.where(u < 0.6, "no_action", np.where(u < 0.8, "warning", "citation")))
    return StopRecords(t=t, zone=zone, target=target, light=light,
                       initiated=np.where(dispatch, "dispatch", "self").astype(object), reason=reason.astype(object),
                       p_search=p_search, person_searched=person, vehicle_searched=vehicle, p_hit=p_hit, found=found,
                       outcome=outcome.astype(object))


def _ids(stops: StopRecords, clock: Clock) -> np.ndarray:
    return np.array(numbered(stops.t, clock.tz, "CTL-{year}-{n:06d}"), dtype=object)


def _flag(values: np.ndarray) -> np.ndarray:
    return np.where(values, "true", "false").astype(object)


def write_stops(path: Path, stops: StopRecords, frame: CityFrame, clock: Clock) -> int:
    """``stops_<period>.csv`` in the format of docs/stops.md (zone codes, no coordinates, no group column)."""
    found = np.where(stops.person_searched | stops.vehicle_searched, _flag(stops.found), None)
    return write_csv(path, {
        "stop_id": _ids(stops, clock),
        "occurred_at": format_local_offset(stops.t, clock.tz),
        "zone": np.array(frame.zone_ids, dtype=object)[stops.zone],
        "reason": stops.reason,
        "initiated": stops.initiated,
        "person_searched": _flag(stops.person_searched),
        "vehicle_searched": _flag(stops.vehicle_searched),
        "found": found,
        "outcome": stops.outcome,
    })


def write_stops_truth(path: Path, stops: StopRecords, frame: CityFrame, clock: Clock) -> int:
    """``truth/stops.parquet``: each stop with its area, light and the probabilities it was drawn with."""
    return write_parquet(path, pa.table({
        "stop_id": pa.array(_ids(stops, clock), pa.string()),
        "occurred_at": pa.array(stops.t * 1_000_000, pa.timestamp("us", tz="UTC")),
        "zone_id": pa.array(np.array(frame.zone_ids, dtype=object)[stops.zone], pa.string()),
        "target_area": pa.array(stops.target, pa.bool_()),
        "light": pa.array(stops.light, pa.bool_()),
        "p_search": pa.array(stops.p_search, pa.float64()),
        "searched": pa.array(stops.person_searched | stops.vehicle_searched, pa.bool_()),
        "p_hit": pa.array(stops.p_hit, pa.float64()),
        "found": pa.array(stops.found, pa.bool_()),
    }))
