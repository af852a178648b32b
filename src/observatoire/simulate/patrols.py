"""Step 2: patrol allocation per day, shift and arrondissement.

Deliberately *not* proportional to need: zones whose deprivation reaches a
threshold get ``over_deployment_factor`` times their share of expected true
incidents, so that everything patrols find (initiative logbook entries,
fines) is biased by where officers were sent, not only by what happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from observatoire.simulate.clock import DAY_S, HOUR_S, Clock, local_fields, local_to_utc
from observatoire.simulate.geography import CityFrame
from observatoire.simulate.parameters import PatrolParameters
from observatoire.simulate.vocab import SHIFT_HOURS, SHIFTS


@dataclass(frozen=True)
class Patrols:
    """Officers and patrol hours, arrays indexed ``[day, shift, zone]``."""

    officers: np.ndarray        # int64 (D, 3, Z)
    hours: np.ndarray           # float (D, 3, Z), multiples of 0.5 h
    start: np.ndarray           # int64 (D, 3) UTC seconds of the shift start
    end: np.ndarray             # int64 (D, 3)
    need_share: np.ndarray      # (Z,) expected share of true incidents
    patrol_share: np.ndarray    # (Z,) share of officers allocated
    over_deployed: np.ndarray   # (Z,) bool

    @property
    def need_unit(self) -> np.ndarray:
        """A zone's need relative to the average zone (1 = an equal share of incidents)."""
        return self.need_share * len(self.need_share)

    def shift_of(self, t: np.ndarray, clock: Clock) -> tuple[np.ndarray, np.ndarray]:
        """(day, shift) indices of instants; the night shift of day d covers 22 h on d to 06 h on d + 1."""
        f = local_fields(t, clock)
        shift = np.where(f.hour < 6, 2, np.where(f.hour < 14, 0, np.where(f.hour < 22, 1, 2)))
        day = np.where(f.hour < 6, f.day - 1, f.day)
        # the small hours of 1 January belong to a night shift of the previous year: use the year's first night
        return np.clip(day, 0, self.officers.shape[0] - 1), shift

    def sample_on_patrol(self, rng: np.random.Generator, n: int, clock: Clock) -> tuple[np.ndarray, np.ndarray]:
        """(UTC seconds, zone index) of ``n`` moments drawn in proportion to patrol hours.

        Draws past the year's end (the last night shift runs into the next year) are dropped.
        """
        w = self.hours.ravel()
        cell = rng.choice(len(w), n, p=w / w.sum())
        d, s, z = np.unravel_index(cell, self.hours.shape)
        t = self.start[d, s] + (rng.random(n) * (self.end[d, s] - self.start[d, s])).astype(np.int64)
        in_year = t < clock.end
        return t[in_year], z[in_year]


def shift_bounds(clock: Clock) -> tuple[np.ndarray, np.ndarray]:
    """UTC start and end of every (day, shift) of the local year."""
    days = np.arange(clock.days, dtype=np.int64)
    starts_local = clock.local_origin + days[:, None] * DAY_S + np.array([h for _, h in SHIFTS]) * HOUR_S
    ends_local = starts_local + SHIFT_HOURS * HOUR_S
    start = local_to_utc(starts_local.ravel(), clock.tz).reshape(starts_local.shape)
    end = local_to_utc(ends_local.ravel(), clock.tz).reshape(ends_local.shape)
    return start, end


def simulate_patrols(rng: np.random.Generator, frame: CityFrame, clock: Clock, need_share: np.ndarray,
                     params: PatrolParameters) -> Patrols:
    """Officers and hours per (day, shift, zone), over-deploying the most deprived zones."""
    over = frame.deprivation >= params.over_deployment_min_deprivation
    weight = need_share * np.where(over, params.over_deployment_factor, 1.0)
    share = weight / weight.sum()
    start, end = shift_bounds(clock)
    f = local_fields(start[:, 0], clock)
    base = np.array([params.officers_per_shift[name] for name, _ in SHIFTS], dtype=float)
    total = np.broadcast_to(base, start.shape).copy()
    friday_saturday = np.isin(f.dow, (4, 5))
    total[friday_saturday, 2] *= params.weekend_night_factor
    total[np.isin(f.month, (5, 6, 7))] *= params.summer_factor
    total *= rng.lognormal(-params.daily_noise_sd ** 2 / 2, params.daily_noise_sd, total.shape)
    officers = rng.multinomial(np.round(total).astype(np.int64), share)
    lo, hi = params.hours_per_officer
    per_officer = rng.uniform(lo, hi, officers.shape)
    hours = np.round(officers * per_officer * 2.0) / 2.0
    return Patrols(officers=officers, hours=hours, start=start, end=end, need_share=need_share,
                   patrol_share=share, over_deployed=over)
