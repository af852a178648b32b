"""The city in local metres, and vectorised sampling of points inside its zones.

Sampling works in a local equirectangular projection (``geo.local_metres``)
so that Gaussian spreads are in metres; containment is tested against the
projected zone polygons with ``shapely.contains_xy`` on whole batches, and
rejected proposals are redrawn (rejection sampling), round after round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from observatoire.city.geo import assign_zones, from_local_metres, local_metres
from observatoire.city.profile import CityProfile
from observatoire.city.gazetteer import load_places
from observatoire.simulate.gazetteer import CORRIDORS, GENERIC_STREETS, STREETS

MAX_ROUNDS = 40


@dataclass(frozen=True)
class CityFrame:
    """A city profile projected to metres, with the per-zone arrays the steps share."""

    city: CityProfile
    lon0: float
    lat0: float
    zone_ids: tuple[str, ...]
    zones_m: tuple[BaseGeometry, ...]
    bounds_m: np.ndarray            # (Z, 4) minx, miny, maxx, maxy
    outline_m: BaseGeometry
    population: np.ndarray          # (Z,)
    deprivation: np.ndarray         # (Z,)
    postcodes: tuple[str, ...]      # the postcode written in a zone's addresses
    streets: tuple[tuple[str, ...], ...]
    corridors_m: tuple[BaseGeometry | None, ...]  # main axes clipped to each zone
    quartier_names: tuple[str, ...]
    quartier_xy: np.ndarray         # (Q, 2) metres
    quartier_zone: np.ndarray       # (Q,) zone index, -1 outside the city

    @property
    def n_zones(self) -> int:
        return len(self.zone_ids)

    def to_lonlat(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return from_local_metres(x, y, self.lon0, self.lat0)

    def to_metres(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = local_metres(lon, lat, self.lon0, self.lat0)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def zone_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Zone index of each point (``-1`` outside the city), with the connectors' own rule."""
        lon, lat = self.to_lonlat(x, y)
        ids = assign_zones(self.city, lon, lat)
        lookup = {z: i for i, z in enumerate(self.zone_ids)}
        return np.array([lookup.get(z, -1) for z in ids.tolist()], dtype=np.int64)

    def in_city(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return shapely.contains_xy(self.outline_m, x, y)


def _project(geom: BaseGeometry, lon0: float, lat0: float) -> BaseGeometry:
    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = local_metres(coords[:, 0], coords[:, 1], lon0, lat0)
        return np.column_stack([x, y])
    out = shapely.transform(geom, fn)
    shapely.prepare(out)
    return out


def make_frame(city: CityProfile) -> CityFrame:
    """Project ``city`` around the centroid of its outline and attach the gazetteer."""
    c = city.outline.centroid
    lon0, lat0 = float(c.x), float(c.y)
    zones_m = tuple(_project(z.geometry, lon0, lat0) for z in city.zones)
    outline_m = _project(city.outline, lon0, lat0)
    corridors = shapely.multilinestrings([shapely.linestrings(list(pts)) for _, pts in CORRIDORS])
    corridors_m = _project(corridors, lon0, lat0)
    clipped = []
    for zm in zones_m:
        part = shapely.intersection(corridors_m, zm)
        clipped.append(part if not part.is_empty and part.length > 1.0 else None)
    postcodes = tuple(z.postcodes[0] if z.postcodes else z.zone_id for z in city.zones)
    places = load_places(city)   # the product's gazetteer: what posts name is what ingest can place
    q_lon = np.array([p.lon for p in places])
    q_lat = np.array([p.lat for p in places])
    qx, qy = local_metres(q_lon, q_lat, lon0, lat0)
    lookup = {z.zone_id: i for i, z in enumerate(city.zones)}
    q_zone = np.array([lookup.get(p.zone_id, -1) for p in places], dtype=np.int64)
    return CityFrame(
        city=city, lon0=lon0, lat0=lat0,
        zone_ids=tuple(z.zone_id for z in city.zones),
        zones_m=zones_m,
        bounds_m=np.array([zm.bounds for zm in zones_m], dtype=float),
        outline_m=outline_m,
        population=np.array([z.population for z in city.zones], dtype=float),
        deprivation=np.array([z.covariates.get("deprivation", 0.5) for z in city.zones], dtype=float),
        postcodes=postcodes,
        streets=tuple(STREETS.get(p, GENERIC_STREETS) for p in postcodes),
        corridors_m=tuple(clipped),
        quartier_names=tuple(p.name for p in places),
        quartier_xy=np.column_stack([qx, qy]),
        quartier_zone=q_zone,
    )


# ---------------------------------------------------------------- samplers

def uniform_in_zone(rng: np.random.Generator, frame: CityFrame, z: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniformly distributed in zone ``z``."""
    minx, miny, maxx, maxy = frame.bounds_m[z]
    xs, ys, have = [], [], 0
    geom = frame.zones_m[z]
    while have < n:
        m = max(64, int((n - have) * 2.5))
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(geom, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        have += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def gaussian_in_geom(rng: np.random.Generator, geom: BaseGeometry, cx: np.ndarray, cy: np.ndarray,
                     sigma: np.ndarray | float, fallback: BaseGeometry | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One point per centre, Gaussian around it, redrawn until it falls inside ``geom``.

    A centre whose spread barely overlaps ``geom`` may keep missing; after
    ``MAX_ROUNDS`` its point is put on the centre itself, which the callers
    choose inside the geometry.
    """
    cx = np.asarray(cx, dtype=float)
    cy = np.asarray(cy, dtype=float)
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), cx.shape)
    x = np.empty_like(cx)
    y = np.empty_like(cy)
    todo = np.arange(len(cx))
    for _ in range(MAX_ROUNDS):
        if len(todo) == 0:
            break
        px = cx[todo] + sig[todo] * rng.standard_normal(len(todo))
        py = cy[todo] + sig[todo] * rng.standard_normal(len(todo))
        ok = shapely.contains_xy(geom, px, py)
        x[todo[ok]] = px[ok]
        y[todo[ok]] = py[ok]
        todo = todo[~ok]
    x[todo] = cx[todo]
    y[todo] = cy[todo]
    return x, y


def along_lines(rng: np.random.Generator, lines: BaseGeometry, n: int, sigma: float,
                inside: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points along ``lines`` (uniform by length), spread by ``sigma`` metres, kept inside ``inside``."""
    xs, ys, have = [], [], 0
    parts = shapely.get_parts(lines)
    lengths = shapely.length(parts)
    cum = np.cumsum(lengths)
    for _ in range(MAX_ROUNDS):
        if have >= n:
            break
        m = max(32, int((n - have) * 1.6))
        d = rng.uniform(0.0, cum[-1], m)
        k = np.minimum(np.searchsorted(cum, d, side="right"), len(parts) - 1)
        local = d - (cum[k] - lengths[k])
        pts = shapely.line_interpolate_point(parts[k], local)
        px = shapely.get_x(pts) + sigma * rng.standard_normal(m)
        py = shapely.get_y(pts) + sigma * rng.standard_normal(m)
        ok = shapely.contains_xy(inside, px, py)
        xs.append(px[ok])
        ys.append(py[ok])
        have += int(ok.sum())
    x = np.concatenate(xs)[:n] if xs else np.zeros(0)
    y = np.concatenate(ys)[:n] if ys else np.zeros(0)
    if len(x) < n:  # a corridor part too short to fill: top up on the line itself
        extra = n - len(x)
        pts = shapely.line_interpolate_point(parts[0], rng.uniform(0.0, lengths[0], extra))
        x = np.concatenate([x, shapely.get_x(pts)])
        y = np.concatenate([y, shapely.get_y(pts)])
    return x, y


@dataclass(frozen=True)
class Hotspots:
    """Gaussian hotspot centres of each zone (metres), where incidents concentrate."""

    zone: np.ndarray    # (H,) zone index of each centre
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray

    def of_zone(self, z: int) -> np.ndarray:
        return np.flatnonzero(self.zone == z)


def make_hotspots(rng: np.random.Generator, frame: CityFrame, per_zone: int,
                  sigma_range: tuple[float, float]) -> Hotspots:
    """``per_zone`` centres in each zone: named quartiers of the zone first, then random places.

    Starting from the gazetteer's quartiers puts the centres where people
    live and go out, not in the hills and calanques inside the city limits.
    """
    zs, xs, ys = [], [], []
    for z in range(frame.n_zones):
        named = np.flatnonzero(frame.quartier_zone == z)
        if len(named) > per_zone:
            named = np.sort(rng.choice(named, per_zone, replace=False))
        cx = list(frame.quartier_xy[named, 0])
        cy = list(frame.quartier_xy[named, 1])
        if len(cx) < per_zone:
            ux, uy = uniform_in_zone(rng, frame, z, per_zone - len(cx))
            cx += list(ux)
            cy += list(uy)
        zs += [z] * per_zone
        xs += cx
        ys += cy
    return Hotspots(zone=np.array(zs, dtype=np.int64), x=np.array(xs), y=np.array(ys),
                    sigma=rng.uniform(sigma_range[0], sigma_range[1], len(zs)))


def sample_in_zones(rng: np.random.Generator, frame: CityFrame, hotspots: Hotspots, zone: np.ndarray,
                    hotspot_weight: float, corridor_share: float = 0.0,
                    corridor_sigma: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """A point for each entry of ``zone``: corridor, hotspot or uniform component, inside that zone."""
    zone = np.asarray(zone, dtype=np.int64)
    x = np.empty(len(zone))
    y = np.empty(len(zone))
    for z in range(frame.n_zones):
        idx = np.flatnonzero(zone == z)
        if len(idx) == 0:
            continue
        u = rng.random(len(idx))
        has_corridor = frame.corridors_m[z] is not None and corridor_share > 0
        on_corr = u < corridor_share if has_corridor else np.zeros(len(idx), dtype=bool)
        # hotspot_weight applies to what is not on a corridor
        rest = ~on_corr
        on_hot = rest & (rng.random(len(idx)) < hotspot_weight)
        uni = rest & ~on_hot
        if on_corr.any():
            cx, cy = along_lines(rng, frame.corridors_m[z], int(on_corr.sum()), corridor_sigma, frame.zones_m[z])
            x[idx[on_corr]], y[idx[on_corr]] = cx, cy
        if on_hot.any():
            hs = hotspots.of_zone(z)
            pick = hs[rng.integers(0, len(hs), int(on_hot.sum()))]
            hx, hy = gaussian_in_geom(rng, frame.zones_m[z], hotspots.x[pick], hotspots.y[pick],
                                      hotspots.sigma[pick])
            x[idx[on_hot]], y[idx[on_hot]] = hx, hy
        if uni.any():
            ux, uy = uniform_in_zone(rng, frame, z, int(uni.sum()))
            x[idx[uni]], y[idx[uni]] = ux, uy
    return x, y


def jitter_inside(rng: np.random.Generator, frame: CityFrame, x: np.ndarray, y: np.ndarray, sigma: float,
                  max_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Recorded positions: the true point moved by a Gaussian error of ``sigma`` metres, at most ``max_m``.

    A moved point that would leave the city (the coast) keeps the true place,
    so that a connector never quarantines a recorded place the city owns.
    """
    dx = np.clip(sigma * rng.standard_normal(len(x)), -max_m, max_m)
    dy = np.clip(sigma * rng.standard_normal(len(y)), -max_m, max_m)
    r = np.hypot(dx, dy)
    shrink = np.where(r > max_m, max_m / np.maximum(r, 1e-9), 1.0)
    nx, ny = x + dx * shrink, y + dy * shrink
    ok = frame.in_city(nx, ny)
    return np.where(ok, nx, x), np.where(ok, ny, y)
