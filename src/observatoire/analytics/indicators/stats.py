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
functions are pure: arrays and plain values in, an Arrow table out, no store and
no Ibis. :mod:`.daily` chooses which sources' counts enter the matrix and
:mod:`.queries` reads them from the store.

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
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from observatoire.errors import InputError

__all__ = [
    "CRITICALITY",
    "INDICATORS_SCHEMA",
    "TRENDS",
    "WINDOWS",
    "Thresholds",
    "indicators",
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

