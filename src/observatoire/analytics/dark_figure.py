"""The dark figure of violence per zone: hospital-recorded assaults against police-recorded violence.

Per zone, ``h`` emergency admissions for an assault injury (source ``hospital``,
category ``assault_injury``; the Cardiff model) and ``p`` violence entries in
the police logbooks (source ``mains_courantes``, category ``violence``) over the
same period. Both are taken as Poisson counts with means ``lambda_h`` and
``lambda_p``; the ratio ``R = lambda_h / lambda_p`` says how many assaults reach
the hospital for one that reaches the police (an indicator of under-recording,
not an estimate of unrecorded crime).

Exact interval (conditional binomial)
-------------------------------------
Given ``n = h + p``, ``h ~ Binomial(n, pi)`` with ``pi = R / (1 + R)``. The
Clopper–Pearson interval for ``pi`` at level ``1 - alpha`` is::

    pi_low  = Beta.ppf(alpha / 2, h, p + 1)        (0 when h = 0)
    pi_high = Beta.ppf(1 - alpha / 2, h + 1, p)    (1 when p = 0)

and ``R`` lies in ``[pi_low / (1 - pi_low), pi_high / (1 - pi_high)]`` with at
least that confidence (the map ``pi -> pi / (1 - pi)`` is increasing). Zero
counts: ``p = 0`` gives ``ratio = inf`` and an unbounded upper limit; ``h = 0``
gives ``ratio = 0`` and a lower limit of 0; ``h = p = 0`` gives ``ratio = nan``
and ``[0, inf]`` (nothing is known). In the Arrow table of
:func:`dark_figure_from_events`, ``inf`` and ``nan`` are written as null
(JSON has neither), with ``ci_high`` null meaning *unbounded*.

References
----------
Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits
illustrated in the case of the binomial. *Biometrika* 26, 404-413.

Przyborowski, J. & Wilenski, H. (1940). Homogeneity of results in testing samples
from Poisson series. *Biometrika* 31, 313-323 (the conditional binomial).

Shepherd, J. P. & Sivarajasingam, V. (2005). Injury research explains conflicting
violence trends. *Injury Prevention* 11, 324-325 (Cardiff model: emergency data
against police records).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from observatoire.errors import InputError

__all__ = ["DARK_FIGURE_SCHEMA", "HOSPITAL", "POLICE", "common_period", "dark_figure", "dark_figure_from_events"]

HOSPITAL = ("hospital", "assault_injury")
POLICE = ("mains_courantes", "violence")

DARK_FIGURE_SCHEMA = pa.schema([
    pa.field("zone_id", pa.string(), nullable=False),
    pa.field("hospital", pa.int64(), nullable=False),
    pa.field("police", pa.int64(), nullable=False),
    pa.field("ratio", pa.float64()),          # null when police = 0 (unbounded) or both are 0
    pa.field("ci_low", pa.float64(), nullable=False),
    pa.field("ci_high", pa.float64()),        # null when unbounded (police = 0)
    pa.field("level", pa.float64(), nullable=False),
])


def dark_figure(hospital: Any, police: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio of two Poisson counts with its exact (Clopper–Pearson, conditional) interval.

    Parameters
    ----------
    hospital, police
        Counts per zone (same shape), non-negative integers. Not modified.
    level
        Confidence level in (0, 1).

    Returns
    -------
    ratio, low, high
        ``hospital / police`` (``inf`` when police is 0, ``nan`` when both are)
        and the interval bounds (``high`` may be ``inf``).

    Examples
    --------
    >>> r, lo, hi = dark_figure([30], [10])
    >>> float(r[0]), round(float(lo[0]), 3), round(float(hi[0]), 3)
    (3.0, 1.427, 6.879)
    """
    from scipy.stats import beta

    h = np.asarray(hospital, dtype=float)
    p = np.asarray(police, dtype=float)
    if h.shape != p.shape:
        raise InputError("hospital and police counts must have the same shape")
    if np.any(h < 0) or np.any(p < 0) or np.any(h != np.round(h)) or np.any(p != np.round(p)):
        raise InputError("counts must be non-negative integers")
    if not 0 < level < 1:
        raise InputError("level must lie in (0, 1)")
    alpha = 1 - level
    with np.errstate(divide="ignore", invalid="ignore"):
        pi_low = np.where(h > 0, beta.ppf(alpha / 2, np.maximum(h, 1), p + 1), 0.0)
        pi_high = np.where(p > 0, beta.ppf(1 - alpha / 2, h + 1, np.maximum(p, 1)), 1.0)
        ratio = np.where(p > 0, h / np.where(p > 0, p, 1), np.where(h > 0, np.inf, np.nan))
        low = pi_low / (1 - pi_low)
        high = np.where(pi_high < 1, pi_high / (1 - pi_high), np.inf)
    return ratio, low, high


def _null(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def dark_figure_from_events(
    events: Any,
    *,
    zone_ids: Sequence[str],
    start: date | None = None,
    end: date | None = None,
    level: float = 0.95,
) -> pa.Table:
    """:func:`dark_figure` per zone from the store's events over the days of ``[start, end)`` (UTC days)
    that both streams hold (:func:`common_period`), stated in the schema metadata ``start``/``end``
    (first day included, first day excluded).

    Parameters
    ----------
    events
        ``store.events()`` (an Ibis table).
    zone_ids
        The zones to report (every one gets a row, zero counts included), e.g. ``city.zone_ids`` sorted.

    Returns
    -------
    pyarrow.Table
        ``DARK_FIGURE_SCHEMA``, one row per zone in the given order.

    Raises
    ------
    InputError
        No zones, an empty period, no day held by both streams, or a bad level.
    """
    from observatoire.analytics.counts import zone_counts

    zones = list(zone_ids)
    if not zones:
        raise InputError("no zones")
    if len(set(zones)) != len(zones):
        raise InputError("zones are repeated")
    start, end = common_period(events, start=start, end=end)

    def per_zone(source: str, category: str) -> np.ndarray:
        table = zone_counts(events, start=start, end=end, sources=[source], categories=[category])
        found = dict(zip(table["zone_id"].to_pylist(), table["count"].to_pylist()))
        return np.array([found.get(z, 0) for z in zones], np.int64)

    h, p = per_zone(*HOSPITAL), per_zone(*POLICE)
    ratio, low, high = dark_figure(h, p, level)
    return pa.table({
        "zone_id": zones, "hospital": h, "police": p,
        "ratio": [_null(x) for x in ratio], "ci_low": low.astype(float), "ci_high": [_null(x) for x in high],
        "level": [float(level)] * len(zones),
    }, schema=DARK_FIGURE_SCHEMA.with_metadata({"start": start.isoformat(), "end": end.isoformat()}))


def common_period(events: Any, *, start: date | None = None, end: date | None = None) -> tuple[date, date]:
    """The UTC days ``[first, stop)`` within ``[start, end)`` that both streams hold.

    A stream holds the days from its source's first to its last event (any category):
    hospital records kept one year are compared with the same year of the logbooks,
    never with three years of them.

    Raises
    ------
    InputError
        An empty requested period, or no day held by both (``pas de période commune``).
    """
    from datetime import UTC, timedelta

    if start is not None and end is not None and end <= start:
        raise InputError("end must be after start: the period is empty")
    scope = events.filter(events.source.isin([HOSPITAL[0], POLICE[0]]))
    rows = (scope.group_by("source").aggregate(lo=scope.occurred_at.min(), hi=scope.occurred_at.max())
            .to_pyarrow().to_pylist())
    spans = {r["source"]: (r["lo"].astimezone(UTC).date(), r["hi"].astimezone(UTC).date() + timedelta(days=1))
             for r in rows}
    held = {s: f"{a.isoformat()} to {b.isoformat()}" for s, (a, b) in sorted(spans.items())}
    if len(spans) < 2:
        raise InputError(f"pas de période commune : hospital and mains_courantes must both have events "
                         f"(held: {held or 'none'})")
    firsts = [a for a, _ in spans.values()] + ([start] if start else [])
    stops = [b for _, b in spans.values()] + ([end] if end else [])
    first, stop = max(firsts), min(stops)
    if stop <= first:
        raise InputError(f"pas de période commune : the streams hold {held}, "
                         f"asked {start or 'any'} to {end or 'any'}")
    return first, stop
