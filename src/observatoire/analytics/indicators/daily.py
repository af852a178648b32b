"""A theme's counts per zone and local day, per source, and the sources that compare like with like.

Pure: arrays and plain values in, arrays or frozen records out; no store, no Ibis.
:class:`DailyCounts` is what :func:`observatoire.analytics.indicators.queries.daily_counts`
reads from the store once per theme; :func:`comparable` keeps the sources whose data
cover every window and its baseline (a source kept 30 days would inflate the current
windows against a baseline made of the long-kept sources alone), and
:func:`indicators_from_daily` runs :func:`~observatoire.analytics.indicators.stats.indicators`
on the days a reference day needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from observatoire.analytics.indicators.stats import Thresholds, indicators, required_start
from observatoire.errors import InputError

__all__ = ["Comparable", "DailyCounts", "comparable", "indicators_from_daily"]


@dataclass(frozen=True, eq=False)
class DailyCounts:
    """One theme's events per zone and local day over all the days its sources cover.

    ``matrix`` is ``(len(zones), len(dates))``; ``first``/``last`` are the local
    days of the first and last event of the theme's *sources* (any category),
    which is what decides whether a window is covered by the data.
    """

    zones: tuple[str, ...]
    matrix: np.ndarray
    dates: np.ndarray
    first: date
    last: date
    parts: Mapping[str, DailyCounts] = field(default_factory=dict)   # per source (empty: not known)


def combine(parts: Mapping[str, DailyCounts], zones: tuple[str, ...]) -> DailyCounts:
    """The sum of per-source :class:`DailyCounts` over the union of their days (``parts`` kept)."""
    if not parts:
        raise InputError("no events for these sources")
    lo = min(p.first for p in parts.values())
    hi = max(p.last for p in parts.values())
    dates = np.arange(np.datetime64(lo, "D"), np.datetime64(hi, "D") + 1)
    matrix = np.zeros((len(zones), len(dates)), np.int64)
    for part in parts.values():
        i = (part.first - lo).days
        matrix[:, i:i + part.matrix.shape[1]] += part.matrix
    return DailyCounts(zones, matrix, dates, lo, hi, dict(parts))


@dataclass(frozen=True, eq=False)
class Comparable:
    """The sources whose data cover every window and baseline at a reference day (see :func:`comparable`).

    ``daily`` sums the included sources; ``excluded`` lists the others as
    ``{"source", "first", "last", "reason"}`` (ISO days); ``baseline_years`` is the ``K`` used.
    """

    daily: DailyCounts
    included: tuple[str, ...]
    excluded: tuple[dict[str, str], ...]
    baseline_years: int


def _exclusion(part: DailyCounts, source: str, first: date, reference: date,
               retention_days: Mapping[str, int]) -> str | None:
    """Why ``source`` cannot be compared over ``first`` to ``reference`` (None: it can)."""
    if part.first > first:
        days = retention_days.get(source)
        if days is not None and days < (reference - first).days + 1:
            return f"données conservées {days} jours : pas de référence pluriannuelle"
        return f"données depuis le {part.first.isoformat()} : pas de référence pluriannuelle"
    return None


def comparable(
    daily: DailyCounts,
    *,
    reference: date,
    baseline_years: int | None = None,
    max_years: int = 3,
    retention_days: Mapping[str, int] | None = None,
) -> Comparable:
    """Keep only the sources whose data cover every window and its baseline: like is compared with like.

    A source is included when its first day is on or before :func:`required_start`
    (the theme's last day must still reach ``reference``: :func:`indicators_from_daily`);
    a source kept only briefly (CCTV, social posts: 30 days) exists only in the current windows and would inflate them
    against a baseline made of the long-kept sources alone. With ``baseline_years=None``
    the largest ``K`` in ``1..max_years`` that leaves at least one source is chosen
    (the year to date needs ``K`` full years before 1 January).

    Parameters
    ----------
    daily
        A theme's counts with their per-source ``parts`` (without parts, the whole is one source).
    retention_days
        Days each source is kept (``Retention.days``), to word the reason of an exclusion.

    Raises
    ------
    InputError
        No source covers the windows (``window longer than data``), with each source's reason.
    """
    parts = dict(daily.parts) or {"": daily}
    keep = retention_days or {}
    if baseline_years is not None and baseline_years < 1:
        raise InputError("baseline_years must be at least 1")
    tries = [baseline_years] if baseline_years is not None else list(range(max_years, 0, -1))
    for years in tries:
        first = required_start(reference, years)
        reasons = {s: _exclusion(p, s, first, reference, keep) for s, p in sorted(parts.items())}
        included = {s: p for s, p in parts.items() if reasons[s] is None}
        if included:
            excluded = tuple({"source": s, "first": parts[s].first.isoformat(), "last": parts[s].last.isoformat(),
                              "reason": r} for s, r in reasons.items() if r is not None)
            total = daily if len(included) == len(parts) else combine(included, daily.zones)
            return Comparable(total, tuple(sorted(included)), excluded, years)
    years = tries[-1]
    first = required_start(reference, years)
    why = "; ".join(f"{s}: {r}" if s else r for s, r in reasons.items() if r)
    raise InputError(f"window longer than data: indicators at {reference.isoformat()} with {years} baseline "
                     f"year(s) need {first.isoformat()} to {reference.isoformat()}, the data cover "
                     f"{daily.first.isoformat()} to {daily.last.isoformat()}; no source covers it ({why})")


def indicators_from_daily(
    daily: DailyCounts,
    *,
    reference: date,
    city: Any,
    zone_ids: Sequence[str] | None = None,
    baseline_years: int = 3,
    thresholds: Thresholds = Thresholds(),
) -> pa.Table:
    """:func:`indicators` at ``reference`` from a theme's :class:`DailyCounts`.

    Raises
    ------
    InputError
        Unknown zone, or windows (with ``baseline_years``) longer than the data.
    """
    zones = list(daily.zones) if zone_ids is None else list(zone_ids)
    for zone in zones:
        city.zone(zone)   # raises InputError for an unknown zone
    first = required_start(reference, baseline_years)
    if daily.first > first or daily.last < reference:
        raise InputError(f"window longer than data: indicators at {reference.isoformat()} with {baseline_years} "
                         f"baseline year(s) need {first.isoformat()} to {reference.isoformat()}, "
                         f"the data cover {daily.first.isoformat()} to {daily.last.isoformat()}")
    rows = [daily.zones.index(z) for z in zones]
    lo = (first - daily.first).days
    hi = (reference - daily.first).days + 1
    populations = {z.zone_id: z.population for z in city.zones}
    return indicators(daily.matrix[rows, lo:hi], daily.dates[lo:hi], reference, zones=zones,
                      populations=populations, baseline_years=baseline_years, thresholds=thresholds)

