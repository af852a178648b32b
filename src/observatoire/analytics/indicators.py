"""CompStat-style indicators per zone: current period against the previous one and a 3-year baseline.

For a reference day ``d`` (included) and each window — the last 7 days, the last
28 days and the year to date (1 January to ``d``) — an analyst reads:

* ``current``: events in the window;
* ``previous``: events in the previous equivalent period (the 7 or 28 days just
  before; for the year to date, 1 January to the same day one year earlier);
* ``baseline_mean``, ``baseline_sd``: mean and sample standard deviation
  (``ddof=1``) of the counts of the *same* window in each of the ``K`` previous
  years (default ``K = 3``; same calendar days, 29 February read as 28 February);
* a Poisson test of ``current`` against ``expected = baseline_mean``:
  ``p_up = P(X >= current)``, ``p_down = P(X <= current)`` for ``X ~ Poisson(expected)``,
  ``p_value = min(1, 2 min(p_up, p_down))`` (two-sided, exact);
* a control band ``baseline_mean ± z · baseline_sd`` (Shewhart-style, ``z = 2`` by default).

A percentage change is reported for reading only; no flag ever depends on it
(a rise from 1 to 2 is +100 % and means nothing).

Trend and criticality (``Thresholds``)
--------------------------------------
``trend`` with ``method="poisson"`` (default): *hausse significative* when
``p_up < alpha / 2`` and ``current >= min_count``, *baisse significative* when
``p_down < alpha / 2``, *stable* otherwise. With ``method="band"``: above or
below the control band. ``exception`` is ``trend != "stable"``.

``criticality``, from the rise's p-value and the zone's rate per 1,000 residents
relative to the rate of all the zones together (``rate_ratio``):

========== =====================================================================
critique   hausse significative, ``p_up < critical_p`` (0.001) and ``rate_ratio >= high_rate_ratio`` (1.5)
élevée     hausse significative otherwise
modérée    no significant rise, but ``rate_ratio >= high_rate_ratio``
faible     otherwise
========== =====================================================================

Without populations ``rate_ratio`` is null and only the first two levels and
*faible* can occur.

Input is a daily count matrix (zones × consecutive days) in NumPy; the
functions are pure. :func:`indicators_from_events` builds the matrix from
:func:`observatoire.analytics.aggregate.counts` in the city's local time.

References
----------
Bratton, W. & Knobler, P. (1998). *Turnaround*. Random House (CompStat: week,
28-day and year-to-date counts against the previous periods).

Esri. *Crime Analysis solution: Crime Reduction Statistics* (ArcGIS Solutions
documentation): current vs previous period and vs multi-year averages.

Garwood, F. (1936). Fiducial limits for the Poisson distribution. *Biometrika*
28, 437-442 (exact Poisson tail probabilities).

Shewhart, W. A. (1931). *Economic Control of Quality of Manufactured Product*.
Van Nostrand (control bands mean ± k·sd).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.errors import InputError

if TYPE_CHECKING:
    from observatoire.store.base import ReadStore

__all__ = [
    "INDICATORS_SCHEMA",
    "WINDOWS",
    "Thresholds",
    "daily_matrix",
    "indicators",
    "Comparable",
    "DailyCounts",
    "comparable",
    "daily_counts",
    "indicators_from_daily",
    "indicators_from_events",
    "poisson_test",
    "required_start",
]

WINDOWS: tuple[str, ...] = ("7d", "28d", "ytd")
TRENDS = ("hausse significative", "stable", "baisse significative")
CRITICALITY = ("faible", "modérée", "élevée", "critique")

INDICATORS_SCHEMA = pa.schema([
    pa.field("zone_id", pa.string(), nullable=False),
    pa.field("window", pa.string(), nullable=False),
    pa.field("start", pa.date32(), nullable=False),          # first day of the current window
    pa.field("end", pa.date32(), nullable=False),            # last day, included (the reference day)
    pa.field("current", pa.int64(), nullable=False),
    pa.field("previous", pa.int64(), nullable=False),
    pa.field("change", pa.int64(), nullable=False),          # current - previous
    pa.field("pct_change", pa.float64()),                    # for reading only; null when previous = 0
    pa.field("baseline_years", pa.int64(), nullable=False),
    pa.field("baseline_mean", pa.float64(), nullable=False),
    pa.field("baseline_sd", pa.float64()),                   # null with a single baseline year
    pa.field("band_low", pa.float64()),
    pa.field("band_high", pa.float64()),
    pa.field("expected", pa.float64(), nullable=False),
    pa.field("p_up", pa.float64(), nullable=False),
    pa.field("p_down", pa.float64(), nullable=False),
    pa.field("p_value", pa.float64(), nullable=False),
    pa.field("exception", pa.bool_(), nullable=False),
    pa.field("trend", pa.string(), nullable=False),
    pa.field("population", pa.int64()),
    pa.field("rate_per_1000", pa.float64()),
    pa.field("rate_ratio", pa.float64()),
    pa.field("criticality", pa.string(), nullable=False),
])


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How a trend and a criticality level are decided (see the module docstring)."""

    alpha: float = 0.05
    z: float = 2.0
    method: Literal["poisson", "band"] = "poisson"
    min_count: int = 3
    critical_p: float = 0.001
    high_rate_ratio: float = 1.5

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1 or not 0 < self.critical_p < 1:
            raise InputError("alpha and critical_p must lie in (0, 1)")
        if self.z <= 0 or self.high_rate_ratio <= 0 or self.min_count < 0:
            raise InputError("z and high_rate_ratio must be positive and min_count non-negative")
        if self.method not in ("poisson", "band"):
            raise InputError(f"unknown method {self.method!r}: expected 'poisson' or 'band'")


def poisson_test(observed: Any, expected: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact Poisson tail probabilities of ``observed`` counts given ``expected`` means.

    Returns
    -------
    p_up, p_down, p_two
        ``P(X >= observed)``, ``P(X <= observed)`` and ``min(1, 2 min(p_up, p_down))``
        for ``X ~ Poisson(expected)``. An expected value of 0 gives ``p_up = 0``
        for any positive count.

    Examples
    --------
    >>> up, down, two = poisson_test(10, 4.0)
    >>> round(float(up), 6), round(float(down), 6)
    (0.008132, 0.99716)
    """
    from scipy.stats import poisson

    k = np.asarray(observed, dtype=float)
    mu = np.asarray(expected, dtype=float)
    if np.any(k < 0) or np.any(mu < 0):
        raise InputError("counts and expected values must be non-negative")
    p_up = np.where(k > 0, poisson.sf(k - 1, mu), 1.0)
    p_down = poisson.cdf(k, mu)
    return p_up, p_down, np.minimum(1.0, 2 * np.minimum(p_up, p_down))


def _same_day(day: date, years_back: int) -> date:
    year = day.year - years_back
    return date(year, day.month, 28) if (day.month, day.day) == (2, 29) else date(year, day.month, day.day)


def _windows(reference: date, window: str, years: int) -> tuple[tuple[date, date], tuple[date, date],
                                                                  list[tuple[date, date]]]:
    """(current, previous, [same window k years back]) as inclusive (first, last) days."""
    if window == "ytd":
        current = (date(reference.year, 1, 1), reference)
        previous = (date(reference.year - 1, 1, 1), _same_day(reference, 1))
        baseline = [(date(reference.year - k, 1, 1), _same_day(reference, k)) for k in range(1, years + 1)]
        return current, previous, baseline
    length = {"7d": 7, "28d": 28}[window]
    current = (reference - timedelta(days=length - 1), reference)
    previous = (reference - timedelta(days=2 * length - 1), reference - timedelta(days=length))
    baseline = []
    for k in range(1, years + 1):
        last = _same_day(reference, k)
        baseline.append((last - timedelta(days=length - 1), last))
    return current, previous, baseline


def required_start(reference: date, baseline_years: int = 3) -> date:
    """The first day a daily matrix must cover for :func:`indicators` at ``reference``."""
    firsts = []
    for window in WINDOWS:
        current, previous, baseline = _windows(reference, window, baseline_years)
        firsts += [current[0], previous[0]] + [b[0] for b in baseline]
    return min(firsts)


def _check_matrix(matrix: Any, dates: Any, zones: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    counts = np.asarray(matrix)
    days = np.asarray(dates, dtype="datetime64[D]")
    if counts.ndim != 2:
        raise InputError("the count matrix must be two-dimensional (zones × days)")
    if counts.shape != (len(zones), len(days)):
        raise InputError(f"the count matrix is {counts.shape}, expected ({len(zones)} zones, {len(days)} days)")
    if len(days) == 0:
        raise InputError("the period is empty: no days")
    if len(set(zones)) != len(zones):
        raise InputError("zones are repeated")
    if np.any(np.diff(days).astype(int) != 1):
        raise InputError("dates must be consecutive days in increasing order")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise InputError("counts must be non-negative integers")
    return counts.astype(np.int64), days


def indicators(
    matrix: Any,
    dates: Any,
    reference: date,
    *,
    zones: Sequence[str],
    populations: Mapping[str, int] | None = None,
    baseline_years: int = 3,
    thresholds: Thresholds = Thresholds(),
) -> pa.Table:
    """Indicators for each zone and window (``7d``, ``28d``, ``ytd``) at ``reference``.

    Parameters
    ----------
    matrix
        Daily counts, shape ``(len(zones), len(dates))``, non-negative integers. Not modified.
    dates
        The consecutive days of the columns (``datetime64[D]`` or ``date``).
    reference
        The last day of every current window (included).
    zones
        Zone id of each row.
    populations
        Residents per zone, for ``rate_per_1000`` and ``rate_ratio``; ``None`` leaves them null.
    baseline_years
        ``K``, the number of previous years averaged (>= 1).
    thresholds
        Test level, band width and criticality thresholds.

    Returns
    -------
    pyarrow.Table
        ``INDICATORS_SCHEMA``, one row per zone and window (zones in the given order).

    Raises
    ------
    InputError
        Malformed matrix or dates, reference outside the dates, a window (or its
        baseline) longer than the data, a zone without population.
    """
    counts, days = _check_matrix(matrix, dates, zones)
    if baseline_years < 1:
        raise InputError("baseline_years must be at least 1")
    ref = np.datetime64(reference, "D")
    if not days[0] <= ref <= days[-1]:
        raise InputError(f"the reference day {reference.isoformat()} is outside the data "
                         f"({days[0]} to {days[-1]})")
    first_needed = np.datetime64(required_start(reference, baseline_years), "D")
    if first_needed < days[0]:
        raise InputError(f"window longer than data: {baseline_years} baseline year(s) at {reference.isoformat()} "
                         f"need days from {first_needed}, the data start on {days[0]}")
    pops = None
    if populations is not None:
        missing = [z for z in zones if z not in populations]
        if missing:
            raise InputError(f"unknown zone (no population): {', '.join(missing[:5])}")
        pops = np.array([populations[z] for z in zones], dtype=float)
    cumulative = np.concatenate([np.zeros((len(zones), 1), np.int64), np.cumsum(counts, axis=1)], axis=1)

    def total(span: tuple[date, date]) -> np.ndarray:
        i = int((np.datetime64(span[0], "D") - days[0]).astype(int))
        j = int((np.datetime64(span[1], "D") - days[0]).astype(int)) + 1
        return cumulative[:, j] - cumulative[:, i]

    columns: dict[str, list[Any]] = {f.name: [] for f in INDICATORS_SCHEMA}
    for window in WINDOWS:
        cur_span, prev_span, base_spans = _windows(reference, window, baseline_years)
        current, previous = total(cur_span), total(prev_span)
        base = np.stack([total(s) for s in base_spans], axis=1).astype(float)
        mean = base.mean(axis=1)
        sd = base.std(axis=1, ddof=1) if baseline_years > 1 else np.full(len(zones), np.nan)
        p_up, p_down, p_two = poisson_test(current, mean)
        low, high = mean - thresholds.z * sd, mean + thresholds.z * sd
        if thresholds.method == "poisson":
            up = (p_up < thresholds.alpha / 2) & (current >= thresholds.min_count)
            down = p_down < thresholds.alpha / 2
        else:
            up = (current > high) & (current >= thresholds.min_count)
            down = current < low
        if pops is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.where(pops > 0, current / pops * 1000, np.nan)
                overall = current.sum() / pops.sum() * 1000 if pops.sum() > 0 else np.nan
                ratio = rate / overall if overall > 0 else np.full(len(zones), np.nan)
        else:
            rate = ratio = np.full(len(zones), np.nan)
        high_rate = np.nan_to_num(ratio, nan=0.0) >= thresholds.high_rate_ratio
        for i, zone in enumerate(zones):
            if up[i] and p_up[i] < thresholds.critical_p and high_rate[i]:
                level = "critique"
            elif up[i]:
                level = "élevée"
            elif high_rate[i]:
                level = "modérée"
            else:
                level = "faible"
            row = {
                "zone_id": zone, "window": window, "start": cur_span[0], "end": cur_span[1],
                "current": int(current[i]), "previous": int(previous[i]),
                "change": int(current[i] - previous[i]),
                "pct_change": (current[i] - previous[i]) / previous[i] * 100 if previous[i] else None,
                "baseline_years": baseline_years, "baseline_mean": float(mean[i]),
                "baseline_sd": None if np.isnan(sd[i]) else float(sd[i]),
                "band_low": None if np.isnan(low[i]) else float(low[i]),
                "band_high": None if np.isnan(high[i]) else float(high[i]),
                "expected": float(mean[i]), "p_up": float(p_up[i]), "p_down": float(p_down[i]),
                "p_value": float(p_two[i]), "exception": bool(up[i] or down[i]),
                "trend": "hausse significative" if up[i] else ("baisse significative" if down[i] else "stable"),
                "population": None if pops is None else int(pops[i]),
                "rate_per_1000": None if np.isnan(rate[i]) else float(rate[i]),
                "rate_ratio": None if np.isnan(ratio[i]) else float(ratio[i]),
                "criticality": level,
            }
            for name, value in row.items():
                columns[name].append(value)
    return pa.table(columns, schema=INDICATORS_SCHEMA)


def daily_matrix(counts: pa.Table, zones: Sequence[str], first: date, last: date,
                 tz: str = "UTC") -> tuple[np.ndarray, np.ndarray]:
    """A zones × days matrix from an :func:`aggregate.counts` table with ``period="day"``.

    Sources and categories are summed; rows of other zones (and the null zone) are
    left out. ``tz`` must be the one the counts were made in (``period_start`` is the
    UTC instant of the local midnight).

    Returns
    -------
    matrix, dates
        ``int64`` array ``(len(zones), n_days)`` and the ``datetime64[D]`` days ``first`` to ``last``.
    """
    if last < first:
        raise InputError(f"the period is empty: {first.isoformat()} to {last.isoformat()}")
    dates = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    matrix = np.zeros((len(zones), len(dates)), np.int64)
    if counts.num_rows == 0:
        return matrix, dates
    local = pc.local_timestamp(counts["period_start"].cast(pa.timestamp("us", tz=tz)))
    days = np.asarray(local.cast(pa.date32()).to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    index = {z: i for i, z in enumerate(zones)}
    rows = np.array([index.get(u, -1) if u is not None else -1 for u in counts["unit"].to_pylist()])
    cols = (days - dates[0]).astype(int)
    keep = (rows >= 0) & (cols >= 0) & (cols < len(dates))
    np.add.at(matrix, (rows[keep], cols[keep]), np.asarray(counts["count"].to_numpy(), np.int64)[keep])
    return matrix, dates


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


def _combine(parts: Mapping[str, DailyCounts], zones: tuple[str, ...]) -> DailyCounts:
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


def daily_counts(
    events: Any,
    *,
    city: Any,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    store: ReadStore | None = None,
) -> DailyCounts:
    """Pre-aggregate one theme: counts per zone of ``city`` and local day, from the first to the last day of data.

    With a ``store`` whose ``daily_counts`` answers (a store that keeps rollups, e.g.
    :class:`~observatoire.store.parquet.ParquetStore`) the counts come from it, equal to
    what the events give; otherwise (no store, or its answer is None) two engine
    queries over ``events`` (the bounds, then the counts per zone and local day).
    The result serves every reference day and baseline length, so that callers
    may keep it for as long as the store does not change.

    Raises
    ------
    InputError
        No events for these sources, or a bad filter.
    """
    from zoneinfo import ZoneInfo

    from observatoire.analytics.aggregate import counts as aggregate_counts
    from observatoire.analytics.counts import filter_events

    zones = tuple(z.zone_id for z in city.zones)
    scope = filter_events(events, sources=sources, categories=categories)  # checks the categories
    if store is not None:
        from observatoire.event.schema import ATTRIBUTES

        parts: dict[str, DailyCounts] = {}
        for source in sorted(set(sources) if sources else ATTRIBUTES):   # one rollup query per source
            rolled = store.daily_counts(tz=city.timezone, sources=[source], categories=categories)
            if rolled is None:
                break
            if rolled.num_rows:
                parts[source] = _daily_from_rollup(rolled, zones)
        else:
            return _combine(parts, zones)
    scope = filter_events(events, sources=sources)
    bounds = (scope.group_by("source").aggregate(lo=scope.occurred_at.min(), hi=scope.occurred_at.max())
              .to_pyarrow().to_pylist())
    if not bounds:
        raise InputError("no events for these sources")
    local = ZoneInfo(city.timezone)
    spans = {b["source"]: (b["lo"].astimezone(local).date(), b["hi"].astimezone(local).date()) for b in bounds}
    lo, hi = min(a for a, _ in spans.values()), max(b for _, b in spans.values())
    table = aggregate_counts(events, by="zone", period="day", sources=sources, categories=categories,
                             start=lo, end=hi + timedelta(days=1), tz=city.timezone)
    parts = {}
    for source, (first, last) in sorted(spans.items()):
        mine = table.filter(pc.equal(table["source"], source))
        matrix, dates = daily_matrix(mine, zones, first, last, tz=city.timezone)
        parts[source] = DailyCounts(zones, matrix, dates, first, last)
    return _combine(parts, zones)


def _daily_from_rollup(table: pa.Table, zones: tuple[str, ...]) -> DailyCounts:
    """:class:`DailyCounts` from a store's counts per zone and local day (``zone_id``, ``day``, ``n`` of the
    theme, ``n_all`` of its sources: the bounds)."""
    if table.num_rows == 0:
        raise InputError("no events for these sources")
    day = np.asarray(table["day"].to_numpy(zero_copy_only=False), dtype="datetime64[D]")
    lo, hi = day.min(), day.max()
    dates = np.arange(lo, hi + 1)
    matrix = np.zeros((len(zones), len(dates)), np.int64)
    rows = pc.index_in(table["zone_id"], value_set=pa.array(zones, pa.string())).fill_null(-1).to_numpy()
    keep = rows >= 0
    np.add.at(matrix, (rows[keep], (day - lo).astype(int)[keep]), np.asarray(table["n"].to_numpy(), np.int64)[keep])
    return DailyCounts(zones, matrix, dates, lo.item(), hi.item())


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
    (the theme's last day must still reach ``reference``: :func:`indicators_from_daily`); a source kept only briefly (CCTV,
    social posts: 30 days) exists only in the current windows and would inflate them
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
            total = daily if len(included) == len(parts) else _combine(included, daily.zones)
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


def indicators_from_events(
    events: Any,
    *,
    reference: date,
    city: Any,
    zone_ids: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    baseline_years: int | None = 3,
    thresholds: Thresholds = Thresholds(),
    store: ReadStore | None = None,
    retention_days: Mapping[str, int] | None = None,
) -> pa.Table:
    """:func:`indicators` for one theme (sources × categories) straight from the store's events.

    Days are local days of ``city.timezone`` (Europe/Paris for Marseille). Only the
    sources whose data cover the baselines are counted (:func:`comparable`: first event
    on or before :func:`required_start`); the last event must reach ``reference``. The table's
    schema metadata ``excluded_sources`` (JSON) lists the others with the reason, and
    ``baseline_years`` the ``K`` used (``baseline_years=None``: the largest of 1..3
    the data support).

    Parameters
    ----------
    events
        ``store.events()`` (an Ibis table).
    city
        The :class:`~observatoire.city.profile.CityProfile` (zones, populations, time zone).
    zone_ids
        The zones to report (default: all, in profile order).
    store
        The store, whose ``daily_counts`` (when it answers) replaces the scan of ``events``.

    Raises
    ------
    InputError
        Unknown zone, a window longer than the data, or a bad filter.
    """
    zones = None if zone_ids is None else list(zone_ids)
    for zone in zones or ():
        city.zone(zone)   # unknown zones fail before any query
    import json

    daily = daily_counts(events, city=city, sources=sources, categories=categories, store=store)
    chosen = comparable(daily, reference=reference, baseline_years=baseline_years, retention_days=retention_days)
    table = indicators_from_daily(chosen.daily, reference=reference, city=city, zone_ids=zones,
                                  baseline_years=chosen.baseline_years, thresholds=thresholds)
    return table.replace_schema_metadata({"excluded_sources": json.dumps(list(chosen.excluded)),
                                          "baseline_years": str(chosen.baseline_years)})
