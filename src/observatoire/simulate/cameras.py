"""Step 6a: the camera registry, and which true incidents each camera sees.

Cameras are denser in the centre and along the main axes (commercial streets,
metro and tram corridors), with social landlords' cameras in the estates of
the most deprived arrondissements. A camera sees an incident when it is in
service, the incident lies within its range and inside its field of view
(domes see all around). The search uses a shapely ``STRtree`` with
``dwithin`` on projected metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from observatoire.simulate.clock import DAY_S, Clock, local_to_utc
from observatoire.simulate.gazetteer import CITY_CENTRE
from observatoire.simulate.geography import CityFrame, Hotspots, along_lines, gaussian_in_geom
from observatoire.simulate.parameters import CctvParameters

OWNERS_BY_COMPONENT: dict[str, dict[str, float]] = {
    "centre": {"ville": 0.85, "amp": 0.15},
    "corridor": {"rtm": 0.55, "ville": 0.35, "amp": 0.10},
    "hotspot": {"ville": 0.80, "amp": 0.20},
    "bailleur": {"bailleur": 1.0},
}


@dataclass(frozen=True)
class Cameras:
    """The registry, ids ``CAM-0001``… in order of commissioning."""

    ids: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    owner: np.ndarray           # object array of owner codes
    orientation: np.ndarray     # degrees clockwise from north
    angle: np.ndarray           # field of view, degrees (360 = dome)
    range_m: np.ndarray
    commissioned_day: np.ndarray  # naive local date, days since 1970-01-01
    in_service: np.ndarray      # UTC seconds from which the camera records

    def __len__(self) -> int:
        return len(self.ids)


def _owners(rng: np.random.Generator, component: str, n: int) -> np.ndarray:
    table = OWNERS_BY_COMPONENT[component]
    names = np.array(list(table), dtype=object)
    p = np.array(list(table.values()))
    return names[rng.choice(len(names), n, p=p / p.sum())]


def _centre(frame: CityFrame) -> tuple[float, float]:
    """Marseille's Canebière, or, for a city the gazetteer does not know, a point of its most populous zone."""
    cx, cy = frame.to_metres(np.array([CITY_CENTRE[0]]), np.array([CITY_CENTRE[1]]))
    if frame.in_city(cx, cy)[0]:
        return float(cx[0]), float(cy[0])
    p = frame.zones_m[int(np.argmax(frame.population))].representative_point()
    return float(p.x), float(p.y)


def simulate_cameras(rng: np.random.Generator, frame: CityFrame, clock: Clock, hotspots: Hotspots,
                     params: CctvParameters) -> Cameras:
    """The camera registry: places from the component mixture, optics, commissioning dates."""
    comps = list(params.components)
    p = np.array([params.components[c] for c in comps])
    counts = rng.multinomial(params.cameras, p / p.sum())
    xs, ys, owners = [], [], []
    for comp, n in zip(comps, counts):
        if n == 0:
            continue
        corridors = [c for c in frame.corridors_m if c is not None]
        if comp == "centre":
            cx, cy = _centre(frame)
            x, y = gaussian_in_geom(rng, frame.outline_m, np.full(n, cx), np.full(n, cy), params.centre_sigma_m)
        elif comp == "corridor" and corridors:
            x, y = along_lines(rng, shapely.union_all(corridors), int(n), params.corridor_sigma_m, frame.outline_m)
        else:  # hotspots (a city without main axes in the gazetteer puts its corridor cameras there too)
            if comp == "bailleur":
                eligible = frame.deprivation >= np.quantile(frame.deprivation, 0.7)
                w = np.where(eligible, frame.population, 0.0)
            else:
                w = frame.population.copy()
            zone = rng.choice(frame.n_zones, n, p=w / w.sum())
            x, y = np.empty(n), np.empty(n)
            for z in np.unique(zone):
                idx = np.flatnonzero(zone == z)
                hs = hotspots.of_zone(int(z))
                pick = hs[rng.integers(0, len(hs), len(idx))]
                x[idx], y[idx] = gaussian_in_geom(rng, frame.zones_m[int(z)], hotspots.x[pick], hotspots.y[pick],
                                                  hotspots.sigma[pick])
        xs.append(x)
        ys.append(y)
        owners.append(_owners(rng, comp, int(n)))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    owner = np.concatenate(owners)
    n = len(x)
    dome = rng.random(n) < params.dome_share
    angle = np.where(dome, 360, np.array(params.field_angles_deg)[rng.integers(0, len(params.field_angles_deg), n)])
    orientation = rng.integers(0, 360, n)
    range_m = rng.integers(params.range_m[0], params.range_m[1] + 1, n)
    # Commissioning: most cameras before the year (more in recent years), a few during it.
    first = int(np.datetime64(f"{params.first_year}-01-01", "D").astype(np.int64))
    year0 = int(np.datetime64(clock.first.isoformat(), "D").astype(np.int64))  # the period's first day
    in_year = rng.random(n) < params.in_year_share
    before = first + np.floor(np.sqrt(rng.random(n)) * (year0 - first)).astype(np.int64)
    during = year0 + rng.integers(0, clock.days, n)
    day = np.where(in_year, during, before)
    order = np.lexsort((rng.random(n), day))
    x, y, owner, angle, orientation, range_m, day = (a[order] for a in (x, y, owner, angle, orientation, range_m, day))
    lon, lat = frame.to_lonlat(x, y)
    return Cameras(
        ids=tuple(f"CAM-{i + 1:04d}" for i in range(n)),
        x=x, y=y, lon=np.asarray(lon), lat=np.asarray(lat), owner=owner,
        orientation=orientation.astype(np.int64), angle=angle.astype(np.int64), range_m=range_m.astype(np.int64),
        commissioned_day=day, in_service=local_to_utc(day * DAY_S, clock.tz),
    )


def camera_tree(cameras: Cameras) -> shapely.STRtree:
    return shapely.STRtree(shapely.points(cameras.x, cameras.y))


def sightings(cameras: Cameras, tree: shapely.STRtree, x: np.ndarray, y: np.ndarray,
              t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (point index, camera index) such that the camera saw the point at time ``t``."""
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pts, cams = tree.query(shapely.points(x, y), predicate="dwithin", distance=float(cameras.range_m.max()))
    dx = x[pts] - cameras.x[cams]
    dy = y[pts] - cameras.y[cams]
    dist = np.hypot(dx, dy)
    bearing = np.degrees(np.arctan2(dx, dy)) % 360.0  # clockwise from north
    off = np.abs((bearing - cameras.orientation[cams] + 180.0) % 360.0 - 180.0)
    seen = (dist <= cameras.range_m[cams]) & ((cameras.angle[cams] >= 360) | (off <= cameras.angle[cams] / 2.0))
    seen &= t[pts] >= cameras.in_service[cams]
    order = np.lexsort((cams[seen], pts[seen]))
    return pts[seen][order].astype(np.int64), cams[seen][order].astype(np.int64)
