"""Reading rollups exactly: what the raw events would give, retention and legal holds included.

A rollup row counts a group of events of one source in one *period* (a local day for the
daily rollup, a UTC month for the cell rollup). Against the visibility rule of
:class:`~observatoire.governance.retention.Retention` a row is

* **visible** when no event of it can be expired: its period lies wholly after its source's
  cut-off and its smallest ``retention_until`` is not past;
* **expired** when every event of it is: its period lies wholly at or before the cut-off, or
  its largest ``retention_until`` is past (and no active legal hold touches its source);
* **mixed** otherwise: the cut-off falls inside the period, the ``retention_until`` dates
  straddle today, or a hold touches the source of an expired row.

Visible rows are summed; expired rows are left out; for every (source, period) with a mixed
row, the whole period of that source is counted from the raw events (``store.events()``,
which applies the rule itself). The cut-off falls in one period per source, so the raw part
is a day (or a month) per source. A source with more than :data:`MAX_MIXED` mixed periods
(a hold over years of expired records) is counted from the raw events altogether; for cell
counts, more than :data:`MAX_RAW_MONTHS` mixed months send the whole query to the raw path.
Cell counts take the raw events as positions (``lon``, ``lat``), which the caller places on
its grid (:func:`observatoire.analytics.places.coarse_cell_counts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.store.base import CellCounts as CellCounts  # the capability's answer, defined with the protocol
from observatoire.store.rollup import RollupSpec, group_cells, group_daily, local_date, local_midnight

MAX_MIXED = 62
MAX_RAW_MONTHS = 6      # mixed months (all sources) the cell counts take from the raw events' positions
CELLS_OUT = pa.schema([("cx", pa.int64()), ("cy", pa.int64()), ("edge", pa.bool_()), ("lon", pa.float64()),
                       ("lat", pa.float64()), ("n", pa.int64())])


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _month(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def _month_start(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=UTC)


def _next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class Visibility:
    """The visibility rule at one instant, reduced to what a rollup row can be judged by."""

    cutoffs: dict[str, datetime]        # per source: expired when occurred_at <= cut-off
    today: date | None                  # expired when retention_until < today (None: no retention)
    held: frozenset[str] | None         # sources an active hold touches (None: every source)

    @classmethod
    def of(cls, retention: Any, now: datetime) -> Visibility:
        if retention is None:
            return cls({}, None, frozenset())
        now = _utc(now)
        holds = retention.holds.active() if retention.holds else ()
        held: frozenset[str] | None = frozenset()
        for h in holds:
            if h.source is None:
                held = None
                break
            held = held | {h.source}
        return cls(dict(retention.cutoffs(now)), now.date(), held)

    def is_held(self, source: str) -> bool:
        return self.held is None or source in self.held


def _states(r: ir.Table, vis: Visibility, period: ir.Value, cut_period: dict[str, Any],
            sources: Sequence[str]) -> tuple[ir.BooleanValue, ir.BooleanValue]:
    """(visible, mixed) boolean expressions over the rollup rows of ``sources``."""
    if vis.today is None:
        return ibis.literal(True), ibis.literal(False)
    visible: ir.BooleanValue = r.ru_min >= ibis.literal(vis.today)
    expired: ir.BooleanValue = r.ru_max < ibis.literal(vis.today)
    for s in sources:
        if s not in cut_period:
            continue
        p = ibis.literal(cut_period[s])
        visible &= (r.source != s) | (period > p)
        expired |= (r.source == s) & (period < p)
    held = [s for s in sources if vis.is_held(s)]
    if held:
        expired &= ~r.source.isin(held)
    return visible, ~visible & ~expired


def _filters(t: ir.Table, sources: Sequence[str] | None, categories: Sequence[str] | None) -> list[ir.BooleanValue]:
    preds = []
    if sources:
        preds.append(t.source.isin(sorted(set(sources))))
    if categories:
        preds.append(t.category.isin(sorted(set(categories))))
    return preds


def _mixed(r: ir.Table, period_col: str, mixed: ir.BooleanValue, preds: list[ir.BooleanValue],
           con: ibis.BaseBackend) -> tuple[dict[str, list[Any]], set[str]]:
    """Mixed periods per source, and the sources with too many of them to list."""
    rows = con.to_pyarrow(r.filter(mixed, *preds).select("source", period_col).distinct()).to_pylist()
    per: dict[str, list[Any]] = {}
    for row in rows:
        per.setdefault(row["source"], []).append(row[period_col])
    whole = {s for s, ps in per.items() if len(ps) > MAX_MIXED}
    return {s: sorted(ps) for s, ps in per.items() if s not in whole}, whole


def daily_counts(con: ibis.BaseBackend, rollup: ir.Table, events: ir.Table, spec: RollupSpec, vis: Visibility, *,
                 sources: Sequence[str] | None, categories: Sequence[str] | None,
                 all_sources: Sequence[str]) -> pa.Table:
    """Visible events of ``sources`` per zone and local day: rollup rows plus raw mixed days.

    Returns ``zone_id``, ``day`` (date32), ``n`` (events of ``categories``; all when None) and
    ``n_all`` (events of any category), one row per zone and day with ``n_all > 0``.
    """
    tz = spec.timezone
    scope = sorted(set(sources)) if sources else sorted(all_sources)
    cut_day = {s: local_date(c, tz) for s, c in vis.cutoffs.items()}
    preds = _filters(rollup, sources, None)
    visible, mixed = _states(rollup, vis, rollup.day, cut_day, scope)
    per, whole = _mixed(rollup, "day", mixed, preds, con) if vis.today is not None else ({}, set())
    excluded: list[ir.BooleanValue] = []
    raw: list[ir.BooleanValue] = []
    for s in sorted(whole):
        excluded.append(rollup.source == s)
        raw.append(events.source == s)
    for s, days in per.items():
        excluded.append((rollup.source == s) & rollup.day.isin(days))
        for a, b in _runs(days):
            raw.append((events.source == s) & (events.occurred_at >= ibis.literal(local_midnight(a, tz)))
                       & (events.occurred_at < ibis.literal(local_midnight(b + timedelta(days=1), tz))))
    keep = rollup.filter(visible, *preds, *([~_any(excluded)] if excluded else []))
    wanted = sorted(set(categories)) if categories else None
    in_theme = keep.n if wanted is None else ibis.ifelse(keep.category.isin(wanted), keep.n, 0)
    keys = ["zone_id", "day"]
    parts = [con.to_pyarrow(keep.group_by(keys).aggregate(n=in_theme.sum(), n_all=keep.n.sum()))]
    if raw:
        kept = events.filter(_any(raw), *_filters(events, sources, None))
        rows = con.to_pyarrow(kept.select("source", "category", "zone_id", "discovery", "occurred_at"))
        if rows.num_rows:
            daily = group_daily(rows, tz, with_retention=False)
            theme = daily["n"] if wanted is None else pc.if_else(
                pc.is_in(daily["category"], value_set=pa.array(wanted, pa.string())), daily["n"], 0)
            parts.append(pa.table({"zone_id": daily["zone_id"], "day": daily["day"], "n": theme,
                                   "n_all": daily["n"]}))
    return _sum(parts, keys, ["n", "n_all"])


# A period with partial months at its edges and fewer whole months than this is counted from the raw
# events in one scan (measured by hand at 10 M events during development: the mix of rollup and raw edge days costs more below two years).
MIN_MIXED_MONTHS = 24


def cell_counts(con: ibis.BaseBackend, rollup: ir.Table, events: ir.Table, spec: RollupSpec, vis: Visibility, *,
                start: date | None, end: date | None, sources: Sequence[str] | None,
                categories: Sequence[str] | None, all_sources: Sequence[str],
                extent_only: bool = False) -> tuple[pa.Table, dict[str, Any]] | None:
    """Visible located events per base cell within ``[start, end)`` (UTC midnights).

    Whole UTC months of the period are read from ``rollup`` (the cell rollup, or the monthly
    extents with ``extent_only``); the days before the first whole month and after the last one,
    and the mixed months (see the module), from ``events``, in the same query.

    Returns ``(cells, extent)``: a table ``cx``, ``cy``, ``edge``, ``lon``, ``lat``, ``n``
    (:data:`CELLS_OUT`; empty with ``extent_only``) where the ``edge`` rows are to be placed by
    their exact position (``lon``, ``lat``): events near a base-grid line, and the events counted
    from the raw events; and the counted events' extent: ``n``, and with ``extent_only`` also
    ``t_min``, ``t_max``, ``t_sum`` (first and last instant, sum of whole epoch seconds).
    None (cells only) when more than :data:`MAX_RAW_MONTHS` months are mixed: the caller counts
    the raw events.
    """
    scope = sorted(set(sources)) if sources else sorted(all_sources)
    t = events.occurred_at
    lo, hi = _whole_months(start, end)
    raw: list[ir.BooleanValue] = []
    preds = _filters(rollup, sources, categories)
    if lo is not None and hi is not None and lo >= hi:           # not one whole month: all raw
        rolled = False
        raw.append(_within(t, start, end) & _in_months(events, start, end))
    else:
        rolled = True
        if lo is not None:
            preds.append(rollup.month >= _month(lo))
            if start is not None and _day(start) < lo:
                raw.append(_span(t, _day(start), lo) & _in_months(events, _day(start), lo))
        if hi is not None:
            preds.append(rollup.month < _month(hi))
            if end is not None and hi < _day(end):
                raw.append(_span(t, hi, _day(end)) & _in_months(events, hi, _day(end)))
        if raw and not extent_only and lo is not None and hi is not None and _months_between(lo, hi) < MIN_MIXED_MONTHS:
            return None     # partial months at the edges of a short period: one raw scan is cheaper than the mix
    excluded: list[ir.BooleanValue] = []
    per: dict[str, list[Any]] = {}
    whole: set[str] = set()
    if rolled and vis.today is not None:
        visible, mixed = _states(rollup, vis, rollup.month, {s: _month(c) for s, c in vis.cutoffs.items()}, scope)
        preds.append(visible)
        per, whole = _mixed(rollup, "month", mixed, preds[:-1], con)
        for s in sorted(whole):
            excluded.append(rollup.source == s)
            raw.append((events.source == s) & _within(t, lo, hi))
        for s, months in per.items():
            excluded.append((rollup.source == s) & rollup.month.isin(months))
            runs: list[list[str]] = []
            for m in months:                                    # consecutive months as one span
                if runs and _next_month(runs[-1][1]) == m:
                    runs[-1][1] = m
                else:
                    runs.append([m, m])
            for a, b in runs:
                raw.append((events.source == s) & _span(t, _month_start(a), _month_start(_next_month(b))))
    if not extent_only and (whole or sum(len(ms) for ms in per.values()) > MAX_RAW_MONTHS):
        return None                             # (a hold over many expired months): the raw path does it all
    if extent_only:
        return CELLS_OUT.empty_table(), _extent(con, rollup, events, spec, preds, excluded, raw, rolled,
                                                sources, categories)
    # Base cells of the whole months, grouped by the engine; the edge rows and the raw events
    # as they are (placed by their exact position by the caller).
    parts: list[ir.Table] = []
    if rolled:
        conds = [*preds, *([~_any(excluded)] if excluded else [])]
        keep = rollup.filter(*conds) if conds else rollup
        inner = keep.filter(~keep.edge)
        parts.append(inner.group_by(["cx", "cy"]).aggregate(n=inner.n.sum().cast("int64"))
                     .mutate(edge=ibis.literal(False), lon=ibis.null().cast("float64"),
                             lat=ibis.null().cast("float64")))
        on_line = keep.filter(keep.edge)
        parts.append(on_line.select("cx", "cy", "n", "edge", "lon", "lat"))
    for span in raw:        # disjoint spans, each a plain conjunction (pushed down to the Parquet scan)
        kept = events.filter(span, *_filters(events, sources, categories))
        kept = kept.filter(kept.lon.notnull(), kept.lat.notnull())
        parts.append(kept.select(cx=ibis.null().cast("int64"), cy=ibis.null().cast("int64"),
                                 n=ibis.literal(1, "int64"), edge=ibis.literal(True),
                                 lon=kept.lon.cast("float64"), lat=kept.lat.cast("float64")))
    names = ["cx", "cy", "n", "edge", "lon", "lat"]
    union = parts[0].select(*names)
    for part in parts[1:]:
        union = union.union(part.select(*names).cast(union.schema()), distinct=False)
    cells = con.to_pyarrow(union).select(CELLS_OUT.names).cast(CELLS_OUT)
    return cells, {"n": int(pc.sum(cells["n"]).as_py() or 0)}


def _extent(con: ibis.BaseBackend, rollup: ir.Table, events: ir.Table, spec: RollupSpec,
            preds: list[ir.BooleanValue], excluded: list[ir.BooleanValue], raw: list[ir.BooleanValue],
            rolled: bool, sources: Sequence[str] | None, categories: Sequence[str] | None) -> dict[str, Any]:
    """The count, first and last instant and sum of epoch seconds of the rollup rows kept and the raw spans."""
    stats = ["n", "t_min", "t_max", "t_sum"]
    parts: list[ir.Table] = []
    if rolled:
        conds = [*preds, *([~_any(excluded)] if excluded else [])]
        parts.append((rollup.filter(*conds) if conds else rollup).select(*stats))
    for span in raw:
        kept = events.filter(span, *_filters(events, sources, categories))
        part = group_cells(kept, spec, with_retention=False, with_cells=False).select(*stats)
        parts.append(part.cast(parts[0].schema()) if parts else part)
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part, distinct=False)
    out = con.to_pyarrow(union.aggregate(n=union.n.sum().cast("int64"), t_min=union.t_min.min(),
                                         t_max=union.t_max.max(), t_sum=union.t_sum.sum().cast("int64")))
    row = out.to_pylist()[0]
    return {"n": int(row["n"] or 0), "t_min": row["t_min"], "t_max": row["t_max"], "t_sum": int(row["t_sum"] or 0)}


def _whole_months(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """The first instant of the first whole UTC month in ``[start, end)`` and the first instant after the
    last one (None: open)."""
    lo = None if start is None else _month_start(_month(_day(start)) if start.day == 1
                                                 else _next_month(_month(_day(start))))
    hi = None if end is None else _month_start(_month(_day(end)))
    return lo, hi


def _span(t: ir.TimestampValue, a: datetime, b: datetime) -> ir.BooleanValue:
    return (t >= ibis.literal(a)) & (t < ibis.literal(b))


def _months_between(a: datetime, b: datetime) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _in_months(events: ir.Table, a: date | datetime | None, b: date | datetime | None) -> ir.BooleanValue:
    """The UTC months ``[a, b)`` touches, on the events' ``month`` column (each Parquet file holds one month:
    the scan skips the others by their statistics); always true when the span is open or long."""
    if a is None or b is None:
        return ibis.literal(True)
    months, y, m = [], a.year, a.month
    while (y, m) < (b.year, b.month) or ((y, m) == (b.year, b.month) and (b.day > 1 or getattr(b, "hour", 0))):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        if len(months) > 24:
            return ibis.literal(True)
    return events.month.isin(months) if months else ibis.literal(False)


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _within(t: ir.TimestampValue, start: date | datetime | None, end: date | datetime | None) -> ir.BooleanValue:
    pred: ir.BooleanValue = ibis.literal(True)
    if start is not None:
        pred &= t >= ibis.literal(start if isinstance(start, datetime) else _day(start))
    if end is not None:
        pred &= t < ibis.literal(end if isinstance(end, datetime) else _day(end))
    return pred


def _any(preds: list[ir.BooleanValue]) -> ir.BooleanValue:
    out = preds[0]
    for p in preds[1:]:
        out |= p
    return out


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days merged into inclusive (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and d == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _sum(parts: list[pa.Table], keys: list[str], values: Sequence[str] = ("n",)) -> pa.Table:
    parts = [p for p in parts if p.num_rows] or parts[:1]
    schema = pa.schema([parts[0].schema.field(k) for k in keys] + [pa.field(v, pa.int64()) for v in values])
    table = pa.concat_tables([p.select(keys + list(values)).cast(schema) for p in parts])
    if len(parts) == 1:
        return table
    out = table.group_by(keys, use_threads=False).aggregate([(v, "sum") for v in values])
    return pa.table({**{k: out[k] for k in keys}, **{v: out[f"{v}_sum"].cast(pa.int64()) for v in values}})
