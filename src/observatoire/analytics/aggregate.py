"""Event counts per spatial unit and period, computed by the engine through Ibis.

:func:`counts` groups the canonical events by a spatial unit (a zone of the
city profile or an H3 cell at resolution 9, 8 or 7), a period (hour, day, ISO
week starting on Monday, calendar month), the source and the category. The
grouping runs in the engine (DuckDB here, Spark elsewhere): the expression only
uses ``filter``, ``isin``, ``truncate``, ``group_by``/``aggregate``, which every
Ibis backend compiles.

Time zones
----------
By default periods are UTC: a day is ``[00:00 UTC, 24:00 UTC)`` and ``start``/
``end`` are dates read as UTC midnight (as in :mod:`observatoire.analytics.counts`).
With ``tz="Europe/Paris"`` (any IANA name) periods are local calendar periods
and ``start``/``end`` are local midnights. Time-zone conversion is not portable
across Ibis backends, so the engine groups by UTC *hour* and the local
re-grouping is done in Arrow on that (small) hourly table; this is exact for
every zone whose offset from UTC is a whole number of hours, as Europe/Paris
(+1 h, +2 h in summer). ``period_start`` is always returned as a UTC instant:
the local midnight of 31 March 2024 in Paris is ``2024-03-30T23:00Z``. Local
days have 23 or 25 hours on the days the clocks change.

:func:`day_hour_profile` gives the weekday × hour-of-day profile in local time
(the "when" of analysts' heat tables), and :func:`rates_per_1000` the rates per
1,000 residents.

Events whose unit is unknown (no zone, or no point hence no H3 cell) form rows
with a null ``unit``, so that the rows add up to the number of matching events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.analytics.counts import filter_events
from observatoire.errors import InputError

__all__ = [
    "COUNTS_SCHEMA",
    "PERIODS",
    "PROFILE_SCHEMA",
    "UNITS",
    "counts",
    "day_hour_profile",
    "rates_per_1000",
]

Unit = Literal["zone", "h3_9", "h3_8", "h3_7"]
Period = Literal["hour", "day", "week", "month"]

UNITS: dict[str, str] = {"zone": "zone_id", "h3_9": "h3_r9", "h3_8": "h3_r8", "h3_7": "h3_r7"}
PERIODS: dict[str, str] = {"hour": "h", "day": "D", "week": "W", "month": "M"}

UTC_TS = pa.timestamp("us", tz="UTC")

COUNTS_SCHEMA = pa.schema([
    pa.field("unit", pa.string()),                     # zone id or H3 cell (hex); null when unknown
    pa.field("period_start", UTC_TS, nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("category", pa.string(), nullable=False),
    pa.field("count", pa.int64(), nullable=False),
])

PROFILE_SCHEMA = pa.schema([
    pa.field("unit", pa.string()),
    pa.field("weekday", pa.int8(), nullable=False),    # 0 = Monday ... 6 = Sunday, local time
    pa.field("hour", pa.int8(), nullable=False),       # 0 ... 23, local time
    pa.field("count", pa.int64(), nullable=False),
])


def _zone_info(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {tz!r} (expected an IANA name such as 'Europe/Paris')") from exc


def _midnight(day: date, tz: ZoneInfo) -> ir.TimestampScalar:
    local = datetime(day.year, day.month, day.day, tzinfo=tz)
    return ibis.literal(local.astimezone(UTC))


def _check(by: str, period: str, start: date | None, end: date | None) -> None:
    if by not in UNITS:
        raise InputError(f"unknown unit {by!r}: expected one of {', '.join(UNITS)}")
    if period not in PERIODS:
        raise InputError(f"unknown period {period!r}: expected one of {', '.join(PERIODS)}")
    if start is not None and end is not None and end <= start:
        raise InputError(f"the period is empty: end ({end.isoformat()}) must be after start ({start.isoformat()})")


def _unit_strings(column: pa.ChunkedArray | pa.Array, by: str) -> pa.Array:
    """Zone ids as they are; H3 cells (int64) as their usual lower-case hex string."""
    if by == "zone":
        arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        return arr.cast(pa.string())
    return pa.array([None if v is None else format(v, "x") for v in column.to_pylist()], pa.string())


def _engine_counts(
    events: ir.Table, by: str, period: str, tz: ZoneInfo, sources: Sequence[str] | None,
    categories: Sequence[str] | None, start: date | None, end: date | None,
) -> pa.Table:
    kept = filter_events(events, sources=sources, categories=categories)
    predicates = []
    if start is not None:
        predicates.append(kept.occurred_at >= _midnight(start, tz))
    if end is not None:
        predicates.append(kept.occurred_at < _midnight(end, tz))
    if predicates:
        kept = kept.filter(*predicates)
    column = UNITS[by]
    grouped = kept.group_by(
        unit=kept[column], period_start=kept.occurred_at.truncate(PERIODS[period]),
        source=kept.source, category=kept.category,
    ).aggregate(count=kept.count())
    table = grouped.to_pyarrow()
    return pa.table({
        "unit": _unit_strings(table["unit"], by),
        "period_start": table["period_start"].cast(UTC_TS),
        "source": table["source"].cast(pa.string()),
        "category": table["category"].cast(pa.string()),
        "count": table["count"].cast(pa.int64()),
    })


def _offset_changes(tz: ZoneInfo, start: date, end: date) -> tuple[int, list[tuple[int, int]]]:
    """UTC offset of ``tz`` (seconds) at ``start``'s midnight and its changes until ``end``: (UTC epoch s, delta)."""
    def offset(epoch: int) -> int:
        return int(datetime.fromtimestamp(epoch, UTC).astimezone(tz).utcoffset().total_seconds())

    lo = int(datetime(start.year, start.month, start.day, tzinfo=tz).timestamp()) - 86_400
    hi = int(datetime(end.year, end.month, end.day, tzinfo=tz).timestamp()) + 86_400
    base = current = offset(lo)
    changes = []
    for day in range(lo, hi, 86_400):
        nxt = offset(day + 86_400)
        if nxt != current:  # the change is within this day: find its hour (offsets are whole hours)
            for hour in range(day + 3_600, day + 86_401, 3_600):
                if offset(hour) != current:
                    changes.append((hour, offset(hour) - current))
                    current = offset(hour)
                    break
    return base, changes


def _engine_local_days(
    events: ir.Table, by: str, tz: ZoneInfo, sources: Sequence[str] | None, categories: Sequence[str] | None,
    start: date, end: date,
) -> pa.Table:
    """Counts per unit, *local* day, source and category, grouped by the engine.

    The local day of an instant is ``floor((epoch seconds + UTC offset) / 86400)``;
    the offset is a sum of comparisons with the time zone's changes between
    ``start`` and ``end`` (a handful a year), which every backend compiles. The
    engine thus returns one row per unit and day instead of one per hour.
    """
    kept = filter_events(events, sources=sources, categories=categories)
    kept = kept.filter(kept.occurred_at >= _midnight(start, tz), kept.occurred_at < _midnight(end, tz))
    base, changes = _offset_changes(tz, start, end)
    seconds = kept.occurred_at.epoch_seconds().floor().cast("int64")   # floor: 23:59:59.9 is not midnight
    shift = ibis.literal(base, "int64")
    for instant, delta in changes:
        shift = shift + ibis.ifelse(seconds >= instant, delta, 0)
    column = UNITS[by]
    grouped = kept.group_by(
        unit=kept[column], local_day=((seconds + shift) // 86_400).cast("int64"),
        source=kept.source, category=kept.category,
    ).aggregate(count=kept.count())
    table = grouped.to_pyarrow()
    days = pa.array(table["local_day"].to_numpy().astype("datetime64[D]").astype("datetime64[us]"))
    starts = pc.assume_timezone(days, timezone=tz.key, ambiguous="earliest", nonexistent="earliest").cast(UTC_TS)
    return pa.table({
        "unit": _unit_strings(table["unit"], by),
        "period_start": starts,
        "source": table["source"].cast(pa.string()),
        "category": table["category"].cast(pa.string()),
        "count": table["count"].cast(pa.int64()),
    })


def _regroup_local(hourly: pa.Table, period: str, tz: str) -> pa.Table:
    """Re-group UTC-hour counts by local ``period``; ``period_start`` back as the UTC instant."""
    local = pc.local_timestamp(hourly["period_start"].cast(pa.timestamp("us", tz=tz)))
    floored = pc.floor_temporal(local, unit=period, week_starts_monday=True)
    starts = pc.assume_timezone(floored, timezone=tz, ambiguous="earliest", nonexistent="earliest").cast(UTC_TS)
    table = hourly.set_column(1, "period_start", starts)
    return table.group_by(["unit", "period_start", "source", "category"], use_threads=False).aggregate(
        [("count", "sum")]).rename_columns(["unit", "period_start", "source", "category", "count"])


def counts(
    events: ir.Table,
    *,
    by: Unit = "zone",
    period: Period = "day",
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    tz: str = "UTC",
) -> pa.Table:
    """Number of events per unit, period, source and category.

    Parameters
    ----------
    events
        An Ibis table with the canonical event columns (``store.events()``).
    by
        ``"zone"`` (``zone_id``) or ``"h3_9"``, ``"h3_8"``, ``"h3_7"`` (H3 cell of
        the point at that resolution).
    period
        ``"hour"``, ``"day"``, ``"week"`` (ISO week, from Monday) or ``"month"``.
    sources, categories
        Values to keep; ``None`` or empty keeps all.
    start, end
        First day included and first day excluded, read as midnight in ``tz``;
        ``None`` leaves that side open.
    tz
        ``"UTC"`` (default) or an IANA time zone whose offsets are whole hours
        (``"Europe/Paris"``): the periods are then local calendar periods.

    Returns
    -------
    pyarrow.Table
        ``COUNTS_SCHEMA``: ``unit``, ``period_start`` (UTC instant of the period's
        start), ``source``, ``category``, ``count`` > 0; sorted by unit (nulls
        last), period, source, category. Combinations without events are absent.

    Raises
    ------
    InputError
        Unknown unit, period, category or time zone; ``end <= start``.

    Examples
    --------
    >>> import ibis, pyarrow as pa
    >>> t = ibis.memtable(pa.table({
    ...     "zone_id": ["13201", "13201", "13202"], "source": ["a"] * 3, "category": ["theft"] * 3,
    ...     "occurred_at": pa.array([datetime(2024, 1, 5, 9, tzinfo=UTC), datetime(2024, 1, 5, 23, tzinfo=UTC),
    ...                              datetime(2024, 1, 6, 1, tzinfo=UTC)], pa.timestamp("us", tz="UTC"))}))
    >>> [(r["unit"], r["period_start"].isoformat(), r["count"]) for r in counts(t, period="day").to_pylist()]
    [('13201', '2024-01-05T00:00:00+00:00', 2), ('13202', '2024-01-06T00:00:00+00:00', 1)]

    In Paris time, 23:00 UTC on 5 January is already 6 January (local midnight = 23:00 UTC):

    >>> [(r["unit"], r["period_start"].isoformat(), r["count"])  # doctest: +NORMALIZE_WHITESPACE
    ...  for r in counts(t, period="day", tz="Europe/Paris").to_pylist()]
    [('13201', '2024-01-04T23:00:00+00:00', 1), ('13201', '2024-01-05T23:00:00+00:00', 1),
     ('13202', '2024-01-05T23:00:00+00:00', 1)]
    """
    _check(by, period, start, end)
    zone = _zone_info(tz)
    if tz == "UTC":
        table = _engine_counts(events, by, period, zone, sources, categories, start, end)
    elif period != "hour" and start is not None and end is not None:
        daily = _engine_local_days(events, by, zone, sources, categories, start, end)
        table = daily if period == "day" else _regroup_local(daily, period, tz)
    else:
        hourly = _engine_counts(events, by, "hour", zone, sources, categories, start, end)
        table = hourly if period == "hour" else _regroup_local(hourly, period, tz)
    table = table.cast(COUNTS_SCHEMA)
    return table.sort_by([("unit", "ascending"), ("period_start", "ascending"), ("source", "ascending"),
                          ("category", "ascending")])


def day_hour_profile(
    events: ir.Table,
    *,
    by: Unit = "zone",
    sources: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    tz: str = "Europe/Paris",
) -> pa.Table:
    """Events per unit, local weekday and local hour of day (all sources and categories kept summed).

    The engine counts per UTC hour (:func:`counts`); each hour is then placed on
    its local weekday and hour in ``tz``. ``start``/``end`` are local midnights.

    Returns
    -------
    pyarrow.Table
        ``PROFILE_SCHEMA``: ``unit``, ``weekday`` (0 = Monday), ``hour`` (0-23),
        ``count`` > 0, sorted by unit (nulls last), weekday, hour.
    """
    hourly = counts(events, by=by, period="hour", sources=sources, categories=categories,
                    start=start, end=end, tz=tz)
    local = pc.local_timestamp(hourly["period_start"].cast(pa.timestamp("us", tz=tz)))
    table = pa.table({
        "unit": hourly["unit"],
        "weekday": pc.day_of_week(local).cast(pa.int8()),
        "hour": pc.hour(local).cast(pa.int8()),
        "count": hourly["count"],
    })
    grouped = table.group_by(["unit", "weekday", "hour"], use_threads=False).aggregate([("count", "sum")])
    grouped = grouped.rename_columns(["unit", "weekday", "hour", "count"]).cast(PROFILE_SCHEMA)
    return grouped.sort_by([("unit", "ascending"), ("weekday", "ascending"), ("hour", "ascending")])


def rates_per_1000(counts: pa.Table, populations: Mapping[str, int]) -> pa.Table:
    """Add ``population`` and ``rate_per_1000 = count / population × 1000`` to a counts table.

    Parameters
    ----------
    counts
        A table with ``unit`` and ``count`` columns (:func:`counts`); rows with a
        null unit are left out (a rate needs a population).
    populations
        Residents per unit (``{zone.zone_id: zone.population for zone in city.zones}``).

    Returns
    -------
    pyarrow.Table
        The located rows of ``counts`` plus ``population`` (int64) and
        ``rate_per_1000`` (float64, null when the population is 0).

    Raises
    ------
    InputError
        When a unit has no population.

    Examples
    --------
    >>> t = pa.table({"unit": ["a", None], "count": [3, 1]})
    >>> rates_per_1000(t, {"a": 1500}).to_pylist()
    [{'unit': 'a', 'count': 3, 'population': 1500, 'rate_per_1000': 2.0}]
    """
    located = counts.filter(pc.is_valid(counts["unit"]))
    units = located["unit"].to_pylist()
    unknown = sorted(set(units) - set(populations))
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        raise InputError(f"no population for unit(s): {shown}")
    pops = [int(populations[u]) for u in units]
    rates = [n / p * 1000 if p else None for n, p in zip(located["count"].to_pylist(), pops)]
    return located.append_column("population", pa.array(pops, pa.int64())).append_column(
        "rate_per_1000", pa.array(rates, pa.float64()))
