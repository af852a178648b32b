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
(a hold over years of expired records) is counted from the raw events altogether.
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

from observatoire.store.rollup import RollupSpec, group_cells, group_daily, local_date, local_midnight

MAX_MIXED = 62


@dataclass(frozen=True, slots=True)
class CellCounts:
    """Fine-cell counts from the rollups: ``cells`` (``cx``, ``cy``, ``edge``, ``n``), the asked grid's
    cell in fine cells (``factor``), and the counted events' extent (``n``, ``t_min``, ``t_max``, ``t_sum``)."""

    factor: int
    cells: pa.Table
    extent: dict[str, Any]

    @property
    def edge_events(self) -> int:
        """Events too close to a grid line to be placed without the raw coordinates."""
        return int(pc.sum(pc.filter(self.cells["n"], self.cells["edge"])).as_py() or 0)


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
    per, whole = _mixed(rollup, "day", mixed, preds, con)
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


def cell_counts(con: ibis.BaseBackend, rollup: ir.Table, events: ir.Table, spec: RollupSpec, vis: Visibility, *,
                start: date | None, end: date | None, sources: Sequence[str] | None,
                categories: Sequence[str] | None, all_sources: Sequence[str],
                extent_only: bool = False) -> tuple[pa.Table, dict[str, Any]]:
    """Visible located events per fine cell within ``[start, end)`` (UTC midnights).

    Returns ``(cells, extent)``: a table ``cx``, ``cy``, ``edge``, ``n`` (empty with
    ``extent_only``), and the extent of the counted events (``n``, ``t_min``, ``t_max``,
    ``t_sum``: count, first and last instant, sum of whole epoch seconds).
    """
    scope = sorted(set(sources)) if sources else sorted(all_sources)
    cut_month = {s: _month(c) for s, c in vis.cutoffs.items()}
    preds = _filters(rollup, sources, categories)
    first_full = None if start is None else (_month(_day(start)) if start.day == 1
                                             else _next_month(_month(_day(start))))
    end_full = None if end is None else _month(_day(end))            # months before this one are full
    if first_full is not None:
        preds.append(rollup.month >= first_full)
    if end_full is not None:
        preds.append(rollup.month < end_full)
    raw: list[ir.BooleanValue] = []
    t = events.occurred_at
    if first_full is not None and start is not None:              # the partial month at the start
        stop = _month_start(first_full)
        if end is not None:
            stop = min(stop, _day(end))
        if _day(start) < stop:
            raw.append((t >= ibis.literal(_day(start))) & (t < ibis.literal(stop)))
    if end_full is not None and end is not None and _day(end) > _month_start(end_full):   # at the end
        begin = _month_start(end_full)
        if start is not None:
            begin = max(begin, _day(start))
        if begin < _day(end) and not (first_full is not None and _month_start(first_full) > begin):
            raw.append((t >= ibis.literal(begin)) & (t < ibis.literal(_day(end))))
    visible, mixed = _states(rollup, vis, rollup.month, cut_month, scope)
    per, whole = _mixed(rollup, "month", mixed, preds, con)
    excluded: list[ir.BooleanValue] = []
    for s in sorted(whole):
        excluded.append(rollup.source == s)
        raw.append((events.source == s) & _within(t, start, end))
    for s, months in per.items():
        excluded.append((rollup.source == s) & rollup.month.isin(months))
        for m in months:
            raw.append((events.source == s) & (t >= ibis.literal(_month_start(m)))
                       & (t < ibis.literal(_month_start(_next_month(m)))))
    keep = rollup.filter(visible, *preds, *([~_any(excluded)] if excluded else []))
    keys = [] if extent_only else ["cx", "cy", "edge"]
    stats = ["n", "t_min", "t_max", "t_sum"]

    def totals(t: ir.Table) -> pa.Table:
        aggs = dict(n=t.n.sum(), t_min=t.t_min.min(), t_max=t.t_max.max(), t_sum=t.t_sum.sum())
        out = con.to_pyarrow(t.group_by(keys).aggregate(**aggs) if keys else t.aggregate(**aggs))
        return out.filter(pc.is_valid(out["n"])) if not keys else out

    parts = [totals(keep)]
    if raw:
        kept = events.filter(_any(raw), *_filters(events, sources, categories))
        parts.append(totals(group_cells(kept, spec, with_cells=not extent_only)))
    parts = [p.select(keys + stats).cast(parts[0].select(keys + stats).schema) for p in parts]
    table = pa.concat_tables(parts)
    extent = {"n": int(pc.sum(table["n"]).as_py() or 0), "t_min": pc.min(table["t_min"]).as_py(),
              "t_max": pc.max(table["t_max"]).as_py(), "t_sum": int(pc.sum(table["t_sum"]).as_py() or 0)}
    if extent_only:
        return pa.table({"cx": pa.array([], pa.int64()), "cy": pa.array([], pa.int64()),
                         "edge": pa.array([], pa.bool_()), "n": pa.array([], pa.int64())}), extent
    return _sum([p.select(keys + ["n"]) for p in parts], keys), extent


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _within(t: ir.TimestampValue, start: date | None, end: date | None) -> ir.BooleanValue:
    pred: ir.BooleanValue = ibis.literal(True)
    if start is not None:
        pred &= t >= ibis.literal(_day(start))
    if end is not None:
        pred &= t < ibis.literal(_day(end))
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
