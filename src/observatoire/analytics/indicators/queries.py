"""Data access of the indicators: a theme's :class:`~observatoire.analytics.indicators.daily.DailyCounts`
from the store's rollups or from Ibis queries over its events, and the indicators straight from the events.

Everything that reads the store or builds an Ibis expression is here; the
statistic itself (:mod:`.stats`) and the choice of comparable sources
(:mod:`.daily`) are pure. :func:`daily_matrix` and :func:`daily_from_rollup`
decode what the queries answer (an :func:`observatoire.analytics.aggregate.counts`
table, a store's rollup) into arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.analytics.indicators.daily import DailyCounts, combine, comparable, indicators_from_daily
from observatoire.analytics.indicators.stats import Thresholds
from observatoire.errors import InputError

if TYPE_CHECKING:
    from observatoire.store.base import ReadStore

__all__ = ["daily_counts", "daily_from_rollup", "daily_matrix", "indicators_from_events"]


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
                parts[source] = daily_from_rollup(rolled, zones)
        else:
            return combine(parts, zones)
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
    return combine(parts, zones)


def daily_from_rollup(table: pa.Table, zones: tuple[str, ...]) -> DailyCounts:
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
