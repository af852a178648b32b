"""The units x periods panel of counts that every design reads, from the store or simulated.

A :class:`Panel` holds counts per unit (zone) and period (day or ISO week, local
calendar of the city) for one outcome stream. :func:`panel_from_events` builds it
from the store's events with :func:`observatoire.analytics.aggregate.counts`
(Ibis; the engine groups), filling absent unit-periods with zero.
:func:`simulate_panel` draws overdispersed counts with a known multiplicative
effect on treated unit-periods, to validate the designs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import ibis.expr.types as ir
import numpy as np

from observatoire.errors import InputError

PERIOD_DAYS = {"day": 1, "week": 7}


@dataclass(frozen=True)
class Panel:
    """Counts of one outcome stream per unit and period.

    Attributes
    ----------
    units
        Unit ids (zone ids), one per row of ``counts``.
    periods
        First day of each period (local calendar), one per column.
    counts
        Float array, shape ``(len(units), len(periods))``.
    """

    units: tuple[str, ...]
    periods: tuple[date, ...]
    counts: np.ndarray

    def period_index(self, day: date) -> int:
        """Index of the period that starts on ``day`` (InputError when none does)."""
        try:
            return self.periods.index(day)
        except ValueError:
            raise InputError(f"{day.isoformat()} is not the start of a period of the panel") from None


def period_starts(first: date, end: date, period: str) -> tuple[date, ...]:
    """Starts of the periods from ``first`` (included) to ``end`` (excluded)."""
    step = PERIOD_DAYS[period]
    n = (end - first).days // step
    return tuple(first + timedelta(days=step * i) for i in range(n))


def panel_from_events(
    events: ir.Table,
    *,
    units: Sequence[str],
    first: date,
    end: date,
    period: str,
    source: str,
    categories: Sequence[str],
    discovery: Sequence[str] | None = None,
    tz: str = "UTC",
) -> Panel:
    """Counts of a stream per zone and local day or ISO week, zeros included.

    Parameters
    ----------
    events
        The store's events (Ibis table with the canonical columns).
    units
        Zone ids, in the panel's row order; events of other zones (or none) are left out.
    first, end
        First day of the first period, and the first day after the last period
        (a period that ``end`` would cut is left out).
    period
        ``"day"`` or ``"week"`` (``first`` must then be a Monday).
    source, categories, discovery
        The outcome stream; ``discovery`` keeps only events of these provenances.
    tz
        The city's time zone: periods are local calendar days or weeks.
    """
    from observatoire.analytics.aggregate import counts

    if period not in PERIOD_DAYS:
        raise InputError(f"unknown period {period!r}: expected day or week")
    if period == "week" and first.weekday() != 0:
        raise InputError("a weekly panel starts on a Monday")
    starts = period_starts(first, end, period)
    if not starts:
        raise InputError("the panel has no whole period")
    table = events.filter(events.discovery.isin(list(discovery))) if discovery else events
    stop = starts[-1] + timedelta(days=PERIOD_DAYS[period])
    raw = counts(table, by="zone", period=period, sources=[source], categories=list(categories),
                 start=first, end=stop, tz=tz)
    row = {u: i for i, u in enumerate(units)}
    col = {d: j for j, d in enumerate(starts)}
    out = np.zeros((len(units), len(starts)))
    zone = ZoneInfo(tz)
    for unit, start, n in zip(raw["unit"].to_pylist(), raw["period_start"].to_pylist(), raw["count"].to_pylist()):
        i, j = row.get(unit), col.get(start.astimezone(zone).date())
        if i is not None and j is not None:
            out[i, j] += n
    return Panel(tuple(units), starts, out)


def nb_draw(mean: np.ndarray, dispersion: float, rng: np.random.Generator) -> np.ndarray:
    """Negative binomial counts with ``E = mean`` and ``Var = mean + dispersion * mean**2`` (Poisson at 0)."""
    mean = np.asarray(mean, dtype=float)
    if dispersion <= 0:
        return rng.poisson(mean).astype(float)
    return rng.poisson(rng.gamma(1.0 / dispersion, mean * dispersion)).astype(float)


def simulate_panel(
    n_units: int,
    n_periods: int,
    *,
    first_treated: np.ndarray | None = None,
    assignment: np.ndarray | None = None,
    effect: float = -0.10,
    mean: float = 20.0,
    dispersion: float = 0.05,
    unit_sd: float = 0.4,
    period_sd: float = 0.1,
    trend_sd: float = 0.0,
    spill: np.ndarray | None = None,
    spill_effect: float = 0.0,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Overdispersed counts with a known multiplicative effect on treated unit-periods.

    ``y[u, t] ~ NB(mu[u, t], dispersion)``, ``mu[u, t] = mean * exp(a_u + b_t + c_u t) * (1 + effect)^D[u, t]
    * (1 + spill_effect)^S[u, t]``, with unit levels ``a_u ~ N(0, unit_sd)``, common period shocks
    ``b_t ~ N(0, period_sd)``, unit trends ``c_u ~ N(0, trend_sd)`` (0: parallel trends hold).

    Parameters
    ----------
    first_treated
        Per unit, index of the first treated period (``-1``: never); treated from then on.
    assignment
        Alternatively, a boolean ``(n_units, n_periods)`` matrix of treated cells (randomised designs).
    spill
        Per unit, True for buffer units that receive ``spill_effect`` once any unit is treated
        (displacement > 0, diffusion of benefits < 0).

    Returns
    -------
    counts, mu
        The drawn counts and their true means (both ``(n_units, n_periods)``).
    """
    t = np.arange(n_periods)
    log_mu = (np.log(mean) + rng.normal(0, unit_sd, n_units)[:, None] + rng.normal(0, period_sd, n_periods)[None, :]
              + rng.normal(0, trend_sd, n_units)[:, None] * (t[None, :] - n_periods / 2) / n_periods)
    treated = np.zeros((n_units, n_periods), bool)
    if assignment is not None:
        treated = np.asarray(assignment, bool)
    elif first_treated is not None:
        ft = np.asarray(first_treated)
        treated = (ft[:, None] >= 0) & (t[None, :] >= ft[:, None])
    mu = np.exp(log_mu) * np.where(treated, 1.0 + effect, 1.0)
    if spill is not None and first_treated is not None:
        started = np.asarray(first_treated)[np.asarray(first_treated) >= 0]
        if started.size:
            on = np.asarray(spill, bool)[:, None] & (t[None, :] >= started.min())
            mu = mu * np.where(on, 1.0 + spill_effect, 1.0)
    return nb_draw(mu, dispersion, rng), mu
