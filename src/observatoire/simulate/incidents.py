"""Step 1: the true incidents of the period.

A background Poisson process per zone (rate ∝ population × exp(β·deprivation))
with a seasonal × day-of-week × hour-of-day time profile per category and
hotspot-concentrated places, then near-repeat self-excitation: a Galton-Watson
branching process, generation by generation, in which every incident has
Poisson(θ) offspring of its own category, later by an exponential delay and
displaced by an isotropic Gaussian. Offspring beyond the period or outside the
city are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from observatoire.simulate.clock import DAY_S, HOUR_S, Clock, hour_bins, local_fields
from observatoire.simulate.geography import CityFrame, Hotspots, sample_in_zones
from observatoire.simulate.parameters import IncidentParameters
from observatoire.simulate.vocab import INCIDENT_CATEGORIES


@dataclass(frozen=True)
class Incidents:
    """True incidents, sorted by time; ``parent`` indexes these same arrays (-1 for background)."""

    t: np.ndarray           # int64 UTC seconds
    x: np.ndarray           # metres (CityFrame projection)
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    zone: np.ndarray        # zone index
    category: np.ndarray    # index into INCIDENT_CATEGORIES
    parent: np.ndarray      # int64, -1 for background
    generation: np.ndarray  # 0 for background
    dropped_late: int = 0       # offspring that would fall after the period
    dropped_outside: int = 0    # offspring displaced out of the city (sea, neighbouring communes)

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class BackgroundRates:
    """Expected background incidents per zone and year for the run (already multiplied by scale)."""

    per_zone: np.ndarray
    need_share: np.ndarray  # expected share of all true incidents by zone


def background_rates(frame: CityFrame, params: IncidentParameters, scale: float) -> BackgroundRates:
    w = frame.population * np.exp(params.deprivation_beta * frame.deprivation)
    share = w / w.sum()
    return BackgroundRates(per_zone=params.background_per_year * scale * share, need_share=share)


def time_weights(clock: Clock, params: IncidentParameters) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Hour bins of the period and, per category, the cumulative intensity over them."""
    bins = hour_bins(clock)
    f = local_fields(bins, clock)
    month = np.asarray(params.month_profile)[f.month]
    cdfs = {}
    for cat in INCIDENT_CATEGORIES:
        w = month * np.asarray(params.dow_profiles[cat])[f.dow] * np.asarray(params.hour_profiles[cat])[f.hour]
        c = np.cumsum(w)
        cdfs[cat] = c / c[-1]
    return bins, cdfs


def sample_times(rng: np.random.Generator, bins: np.ndarray, cdf: np.ndarray, n: int,
                 end: int) -> np.ndarray:
    """``n`` instants from the hourly intensity whose cumulative is ``cdf`` (uniform within an hour)."""
    k = np.searchsorted(cdf, rng.random(n), side="right")
    k = np.minimum(k, len(bins) - 1)
    t = bins[k] + rng.integers(0, HOUR_S, n)
    return np.minimum(t, end - 1)


def simulate_incidents(rng: np.random.Generator, frame: CityFrame, clock: Clock, hotspots: Hotspots,
                       params: IncidentParameters, scale: float) -> Incidents:
    """Background incidents, then their offspring generation by generation; sorted by time."""
    rates = background_rates(frame, params, scale)
    counts = rng.poisson(rates.per_zone * clock.years)
    zone = np.repeat(np.arange(frame.n_zones), counts)
    shares = np.array([params.category_shares[c] for c in INCIDENT_CATEGORIES], dtype=float)
    cat = rng.choice(len(INCIDENT_CATEGORIES), size=len(zone), p=shares / shares.sum())
    bins, cdfs = time_weights(clock, params)
    t = np.empty(len(zone), dtype=np.int64)
    for k, name in enumerate(INCIDENT_CATEGORIES):
        idx = np.flatnonzero(cat == k)
        t[idx] = sample_times(rng, bins, cdfs[name], len(idx), clock.end)
    x, y = sample_in_zones(rng, frame, hotspots, zone, params.hotspot_weight)

    ts, xs, ys, zs, cs = [t], [x], [y], [zone], [cat]
    parents = [np.full(len(t), -1, dtype=np.int64)]
    gens = [np.zeros(len(t), dtype=np.int64)]
    current = np.arange(len(t))  # indices (global) of the previous generation
    cur_t, cur_x, cur_y, cur_c = t, x, y, cat
    mean_delay = params.offspring_delay_mean_days * DAY_S
    dropped_late = dropped_outside = 0
    for g in range(1, params.max_generations + 1):
        k = rng.poisson(params.branching_ratio, len(current))
        if k.sum() == 0:
            break
        rep = np.repeat(np.arange(len(current)), k)
        n = len(rep)
        ct = cur_t[rep] + np.ceil(rng.exponential(mean_delay, n)).astype(np.int64)
        cx = cur_x[rep] + params.offspring_sigma_m * rng.standard_normal(n)
        cy = cur_y[rep] + params.offspring_sigma_m * rng.standard_normal(n)
        cz = frame.zone_index(cx, cy)
        late = ct >= clock.end
        outside = ~late & (cz < 0)  # in the sea or in a neighbouring commune
        dropped_late += int(late.sum())
        dropped_outside += int(outside.sum())
        keep = ~late & ~outside
        base = sum(len(a) for a in ts)
        parent_global = current[rep][keep]
        ts.append(ct[keep]); xs.append(cx[keep]); ys.append(cy[keep]); zs.append(cz[keep])
        cs.append(cur_c[rep][keep])
        parents.append(parent_global)
        gens.append(np.full(int(keep.sum()), g, dtype=np.int64))
        current = base + np.arange(int(keep.sum()))
        cur_t, cur_x, cur_y, cur_c = ts[-1], xs[-1], ys[-1], cs[-1]
        if len(current) == 0:
            break

    t_all = np.concatenate(ts)
    order = np.lexsort((np.concatenate(gens), t_all))  # by time; stable ties
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    parent = np.concatenate(parents)[order]
    parent = np.where(parent >= 0, inverse[np.maximum(parent, 0)], -1)
    x_all = np.concatenate(xs)[order]
    y_all = np.concatenate(ys)[order]
    lon, lat = frame.to_lonlat(x_all, y_all)
    return Incidents(
        t=t_all[order], x=x_all, y=y_all, lon=np.asarray(lon), lat=np.asarray(lat),
        zone=np.concatenate(zs)[order], category=np.concatenate(cs)[order].astype(np.int64),
        parent=parent, generation=np.concatenate(gens)[order],
        dropped_late=dropped_late, dropped_outside=dropped_outside,
    )
