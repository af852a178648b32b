"""Event counts per zone, rates per 1,000 residents, and what periods and sources a store holds.

Periods are UTC: ``start`` and ``end`` are dates read as UTC midnight, and an
event belongs to the period when ``start <= occurred_at < end`` (``end`` is
exclusive). A month is the UTC calendar month of ``occurred_at`` (the store's
``month`` column), not the Europe/Paris one: an event at 23:30 UTC on 31 March
is a March event even though it is already April in Marseille.

Events without a zone (unknown place, or outside the city) are kept: they form
the row whose ``zone_id`` is null in :func:`zone_counts`, so that the sum of
the rows is the number of events matching the filters. :func:`zone_rates`
leaves that row out (a rate needs a population) and :func:`unlocated_count`
reads it.

All functions only use filters, ``isin``, ``group_by``/``aggregate`` and
``distinct`` so that they compile on every Ibis backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.event.schema import DISCOVERY
from observatoire.event.taxonomy import is_category

COUNTS_SCHEMA = pa.schema([pa.field("zone_id", pa.string()), pa.field("count", pa.int64(), nullable=False)])

RATES_SCHEMA = pa.schema([
    pa.field("zone_id", pa.string(), nullable=False),
    pa.field("name", pa.string(), nullable=False),
    pa.field("short_name", pa.string(), nullable=False),
    pa.field("population", pa.int64(), nullable=False),
    pa.field("count", pa.int64(), nullable=False),
    pa.field("rate_per_1000", pa.float64()),          # null when the population is 0
])


def _utc_midnight(day: date) -> ir.TimestampScalar:
    return ibis.literal(datetime(day.year, day.month, day.day, tzinfo=UTC))


def filter_events(
    events: ir.Table,
    *,
    start: date | None = None,
    end: date | None = None,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    discoveries: Sequence[str] | None = None,
) -> ir.Table:
    """Restrict ``events`` to a UTC period, some sources, some categories and some discovery modes.

    Parameters
    ----------
    events
        An Ibis table with the canonical event columns (at least ``occurred_at``,
        ``source``, ``category``).
    start, end
        First day included and first day excluded, read as UTC midnight; ``None``
        leaves that side open.
    sources, categories
        Values to keep; ``None`` or empty keeps all.
    discoveries
        ``discovery`` values to keep (``directed``, ``independent``, ``automated``, ``unknown``);
        ``None`` or empty keeps all.

    Returns
    -------
    ibis.expr.types.Table
        The filtered expression (nothing is executed).

    Raises
    ------
    InputError
        When ``end <= start``, a category is not in the taxonomy or a discovery value is unknown.
    """
    if start is not None and end is not None and end <= start:
        raise InputError(f"the period is empty: end ({end.isoformat()}) must be after start ({start.isoformat()})")
    unknown = sorted({c for c in categories or () if not is_category(c)})
    if unknown:
        raise InputError(f"unknown category: {', '.join(unknown)}")
    odd = sorted({d for d in discoveries or () if d not in DISCOVERY})
    if odd:
        raise InputError(f"unknown discovery: {', '.join(o[:40] for o in odd)} (known: {', '.join(DISCOVERY)})")
    predicates = []
    if start is not None:
        predicates.append(events.occurred_at >= _utc_midnight(start))
    if end is not None:
        predicates.append(events.occurred_at < _utc_midnight(end))
    if sources:
        predicates.append(events.source.isin(sorted(set(sources))))
    if categories:
        predicates.append(events.category.isin(sorted(set(categories))))
    if discoveries:
        predicates.append(events.discovery.isin(sorted(set(discoveries))))
    return events.filter(*predicates) if predicates else events


def zone_counts(
    events: ir.Table,
    *,
    start: date | None = None,
    end: date | None = None,
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    discoveries: Sequence[str] | None = None,
) -> pa.Table:
    """Number of events per zone for a UTC period, some sources and some categories.

    Parameters are those of :func:`filter_events`.

    Returns
    -------
    pyarrow.Table
        Columns ``zone_id`` (string) and ``count`` (int64), one row per zone with
        at least one event, sorted by ``zone_id``, plus one row with a null
        ``zone_id`` for the events without a zone when there are any. Zones
        without events are absent (see :func:`zone_rates` for every zone).

    Examples
    --------
    >>> import ibis, pyarrow as pa
    >>> from datetime import datetime, UTC
    >>> t = ibis.memtable(pa.table({
    ...     "zone_id": ["13201", None, "13201"], "source": ["a", "a", "b"], "category": ["theft"] * 3,
    ...     "occurred_at": pa.array([datetime(2024, 1, 5, tzinfo=UTC)] * 3, pa.timestamp("us", tz="UTC"))}))
    >>> zone_counts(t, sources=["a"]).to_pylist()
    [{'zone_id': '13201', 'count': 1}, {'zone_id': None, 'count': 1}]
    """
    kept = filter_events(events, start=start, end=end, sources=sources, categories=categories,
                         discoveries=discoveries)
    grouped = kept.group_by("zone_id").aggregate(count=kept.count())
    result = grouped.to_pyarrow().select(["zone_id", "count"]).cast(COUNTS_SCHEMA)
    return result.sort_by([("zone_id", "ascending")])


def unlocated_count(counts: pa.Table) -> int:
    """The number of events without a zone in a :func:`zone_counts` result."""
    mask = pc.is_null(counts["zone_id"])
    return int(pc.sum(pc.filter(counts["count"], mask)).as_py() or 0)


def zone_rates(counts: pa.Table, city: CityProfile) -> pa.Table:
    """Counts and rates per 1,000 residents for every zone of ``city``.

    Parameters
    ----------
    counts
        A :func:`zone_counts` result (``zone_id``, ``count``); its null-zone row is
        left out.
    city
        The city profile whose zone populations are the denominators.

    Returns
    -------
    pyarrow.Table
        One row per zone in profile order (``RATES_SCHEMA``): ``zone_id``, ``name``,
        ``short_name``, ``population``, ``count`` (0 for a zone without events) and
        ``rate_per_1000 = count / population * 1000`` (unrounded; null when the
        population is 0).

    Raises
    ------
    InputError
        When ``counts`` names a zone the profile does not have.
    """
    by_zone = {z: int(n) for z, n in zip(counts["zone_id"].to_pylist(), counts["count"].to_pylist()) if z is not None}
    strangers = sorted(set(by_zone) - city.zone_ids)
    if strangers:
        raise InputError(f"counts name zones absent from the city profile {city.name}: {', '.join(strangers)}")
    rows = []
    for zone in city.zones:
        n = by_zone.get(zone.zone_id, 0)
        rate = n / zone.population * 1000 if zone.population else None
        rows.append({"zone_id": zone.zone_id, "name": zone.name, "short_name": zone.short_name,
                     "population": zone.population, "count": n, "rate_per_1000": rate})
    return pa.Table.from_pylist(rows, schema=RATES_SCHEMA)


def _rows_by(events: ir.Table, column: str) -> pa.Table:
    grouped = events.group_by(column).aggregate(events=events.count())
    table = grouped.to_pyarrow().select([column, "events"])
    schema = pa.schema([pa.field(column, pa.string()), pa.field("events", pa.int64())])
    return table.cast(schema).sort_by(column)


def source_counts(events: ir.Table) -> pa.Table:
    """Sources present in ``events`` with their number of rows (``source``, ``events``), sorted by source."""
    return _rows_by(events, "source")


def category_counts(events: ir.Table) -> pa.Table:
    """Categories present in ``events`` with their number of rows (``category``, ``events``), sorted by code."""
    return _rows_by(events, "category")


def available_months(events: ir.Table) -> list[str]:
    """The UTC months (``YYYY-MM``) with at least one event, in order."""
    months = events.select("month").distinct().to_pyarrow()["month"].to_pylist()
    return sorted(m for m in months if m is not None)


def _shift_month(month: str, delta: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def default_period(months: Sequence[str]) -> tuple[str, str] | None:
    """The period a page shows first: the last full calendar year present, as inclusive months.

    A year is full when each of its twelve months has events. Without a full
    year, the last twelve months up to the last month present (or fewer, from
    the first month present).

    Parameters
    ----------
    months
        Months present (``YYYY-MM``), e.g. :func:`available_months`.

    Returns
    -------
    tuple of str or None
        ``(first month, last month)``, both included; ``None`` without months.

    Examples
    --------
    >>> default_period([f"2023-{m:02d}" for m in range(3, 13)] + [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01"])
    ('2024-01', '2024-12')
    >>> default_period(["2024-02", "2024-03"])
    ('2024-02', '2024-03')
    """
    present = sorted(set(months))
    if not present:
        return None
    for year in sorted({m[:4] for m in present}, reverse=True):
        if all(f"{year}-{m:02d}" in present for m in range(1, 13)):
            return f"{year}-01", f"{year}-12"
    last = present[-1]
    return max(present[0], _shift_month(last, -11)), last
