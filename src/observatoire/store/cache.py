"""Answers kept per store state: a repeated question is answered from memory, never twice by the engine.

:class:`CachingReadStore` wraps any :class:`~observatoire.store.base.ReadStore`: it reads through it
unchanged and keeps, in a bounded :class:`AnswerCache`, the answers asked of it (its capabilities'
``daily_counts`` and ``cell_counts``, and any answer a caller computes through :meth:`CachingReadStore.answer`,
as the API's store reader does per request: ``api/deps.py``).

An answer is kept for one :class:`ReadState`, the state of everything a query's result depends on besides
its question:

* the store's **generation** (every commit, purge or rollup rebuild increments it);
* the **active legal holds** (a hold keeps records visible past their retention);
* the **visibility window**: records leave the queries when their retention runs out
  (:class:`~observatoire.governance.retention.Retention`), at instants the store's own data fix. The state
  records the first instant at which a record visible now will expire (the oldest visible, unheld record of
  each source plus its period, and the earliest ``retention_until``); until then every query gives what it
  gave when the state was read, so an answer kept is exactly the answer the engine would give. At that
  instant the state changes and the answers kept go.

When any of these changes the answers of the previous state are dropped (never served again), and the
next question is computed afresh. A store without a retention rule has no window; one with a rule but no
clock is not cached at all.

Answers are shared between callers and must not be modified (as the store's manifest).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import ibis.expr.types as ir
import pyarrow as pa

from observatoire.store.base import CellCounts, ReadStore
from observatoire.store.manifest import Manifest

T = TypeVar("T")
DEFAULT_ENTRIES = 256
DEFAULT_BYTES = 256 << 20      # response bodies kept: a 250 m hot-spot map of Marseille is about 1.5 MB


@dataclass(frozen=True, slots=True)
class ReadState:
    """What a store's answers depend on besides the question: generation, active holds, visibility window.

    ``since`` and ``until`` bound the window in which no visible record expires (None: the store applies
    no retention rule, the window never closes).
    """

    generation: int
    holds: tuple[str, ...]
    since: datetime | None = None
    until: datetime | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.generation, self.holds, self.since)

    def valid_at(self, now: datetime | None) -> bool:
        if self.since is None:
            return True
        if now is None or now < self.since:
            return False
        return self.until is None or now < self.until


def _size(value: Any) -> int:
    """What an answer weighs against the byte budget: a body its length, anything else nothing."""
    return len(value) if isinstance(value, (bytes, bytearray)) else 0


class _Pending:
    """An answer being computed: the other askers wait for it."""

    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class AnswerCache:
    """At most ``max_entries`` answers, least recently used out first, each computed once.

    Keys are ``(state key, question)``. Concurrent askers of a missing answer wait for the one computing it (a
    burst of identical requests costs one query); an error is passed to them and nothing is kept.
    ``max_entries`` 0 keeps nothing (every answer is computed). Answers that are bytes (whole response bodies)
    also count against ``max_bytes``: the least recently used go first, and a body larger than that is not kept.
    """

    def __init__(self, max_entries: int = DEFAULT_ENTRIES, *, max_bytes: int = DEFAULT_BYTES) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.max_entries = int(max_entries)
        self.max_bytes = int(max_bytes)
        self._bytes = 0
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer kept under ``key``, else ``compute()``'s (kept, unless the cache keeps nothing)."""
        if self.max_entries == 0:
            with self._lock:
                self.misses += 1
            return compute()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = _Pending()
                self.misses += 1
            else:
                self.hits += 1
        if not owner:
            pending.done.wait()
            if pending.error is not None:
                raise pending.error
            return pending.value
        try:
            value = compute()
        except BaseException as exc:
            pending.error = exc
            with self._lock:
                del self._pending[key]
            pending.done.set()
            raise
        pending.value = value
        size = _size(value)
        with self._lock:
            del self._pending[key]
            if size <= self.max_bytes:
                self._entries[key] = value
                self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                self._bytes -= _size(self._entries.popitem(last=False)[1])
        pending.done.set()
        return value

    def keep_only(self, state_key: Hashable) -> None:
        """Drop every answer kept for another state than ``state_key``."""
        with self._lock:
            for key in [k for k in self._entries if k[0] != state_key]:
                self._bytes -= _size(self._entries.pop(key))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


def _holds(retention: Any) -> tuple[str, ...]:
    holds = getattr(retention, "holds", None) if retention is not None else None
    return tuple(sorted(h.hold_id for h in holds.active())) if holds is not None else ()


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def next_expiry(table: ir.Table, retention: Any, now: datetime, *, time_col: str = "occurred_at") -> datetime | None:
    """The first instant at which a row of ``table`` (visible at ``now``) that no hold covers expires, or None.

    A row expires when its source's period has run out (``time_col + days``) or on the day after its
    ``retention_until``: :meth:`~observatoire.governance.retention.Retention.parts`, read the other way round.
    """
    _, held = retention.parts(table, now, time_col=time_col)
    t = table if held is None else table.filter(~held)
    aggs = {"first": t[time_col].min()}
    if "retention_until" in t.columns:
        aggs["until"] = t.retention_until.min()
    rows = t.group_by("source").aggregate(**aggs).to_pyarrow().to_pylist()
    out: datetime | None = None
    for row in rows:
        days = retention.days.get(row["source"])
        candidates = []
        if days is not None and row["first"] is not None:
            first = row["first"]
            first = first.replace(tzinfo=UTC) if first.tzinfo is None else first
            candidates.append(first + timedelta(days=days))
        if row.get("until") is not None:
            candidates.append(_midnight_after(row["until"]))
        for c in candidates:
            out = c if out is None or c < out else out
    return out


class CachingReadStore:
    """A :class:`~observatoire.store.base.ReadStore` that keeps its answers per :class:`ReadState`.

    Reads go through to ``store``; :meth:`daily_counts` and :meth:`cell_counts` are kept, and so is any answer
    computed through :meth:`answer`. ``clock`` must be the one the store applies its retention rule with
    (``settings.clock``); without it, a store with a retention rule keeps no answer.
    """

    def __init__(self, store: ReadStore, *, max_entries: int = DEFAULT_ENTRIES,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self.answers = AnswerCache(max_entries)
        self._clock = clock
        self._state: ReadState | None = None
        self._state_lock = threading.Lock()

    @property
    def store(self) -> ReadStore:
        """The store read through."""
        return self._store

    # -- the state answers are kept for ---------------------------------------------------------------------
    def state(self) -> ReadState | None:
        """The store's current :class:`ReadState`, or None when answers cannot be kept (a retention rule without
        a clock, or a writer changed the store while the state was read)."""
        generation = self._store.manifest().generation
        retention = self._store.retention
        holds = _holds(retention)
        now = self._clock() if self._clock is not None else None
        state = self._state
        if state is not None and state.generation == generation and state.holds == holds and state.valid_at(now):
            return state
        with self._state_lock:
            state = self._state
            now = self._clock() if self._clock is not None else None
            if state is not None and state.generation == generation and state.holds == holds \
                    and state.valid_at(now):
                return state
            state = self._read_state(generation, holds, retention)
            if state is not None:
                self._state = state
                self.answers.keep_only(state.key)
            return state

    def _read_state(self, generation: int, holds: tuple[str, ...], retention: Any) -> ReadState | None:
        if retention is None:
            return ReadState(generation, holds)
        if self._clock is None:
            return None
        import duckdb

        before = self._clock()
        until = None
        try:
            for table, col in ((self._store.events(), "occurred_at"), (self._store.quarantine(), "quarantined_at")):
                expiry = next_expiry(table, retention, before, time_col=col)
                if expiry is not None and (until is None or expiry < until):
                    until = expiry
        except duckdb.IOException:
            return None              # files replaced under the read (a purge): answer this question uncached
        since = self._clock()        # the tables were read at an instant between `before` and now
        if self._store.manifest().generation != generation or _holds(retention) != holds:
            return None              # changed while read: answer this question uncached
        return ReadState(generation, holds, since, until)

    def answer(self, question: Hashable, compute: Callable[[], T]) -> T:
        """The answer to ``question`` in the store's current state: kept, else ``compute()``'s (then kept).

        ``question`` must determine the answer together with the state (a route, its parameters, the caller's
        role class...). Without a state (:meth:`state` is None) the answer is computed and not kept.
        """
        if self.answers.max_entries == 0:
            return compute()
        state = self.state()
        if state is None:
            return compute()
        return self.answers.get((state.key, question), compute)

    # -- the ReadStore protocol -----------------------------------------------------------------------------
    @property
    def retention(self) -> Any:
        return self._store.retention

    def manifest(self) -> Manifest:
        return self._store.manifest()

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        return self._store.batch(batch_id)

    def events(self) -> ir.Table:
        return self._store.events()

    def quarantine(self) -> ir.Table:
        return self._store.quarantine()

    def reference(self, name: str) -> ir.Table | None:
        return self._store.reference(name)

    def existing_event_ids(self, source: str, event_ids: pa.Array) -> pa.Array:
        return self._store.existing_event_ids(source, event_ids)

    def daily_counts(self, *, tz: str, sources: Sequence[str] | None = None,
                     categories: Sequence[str] | None = None) -> pa.Table | None:
        question = ("daily_counts", tz, _tuple(sources), _tuple(categories))
        return self.answer(question, lambda: self._store.daily_counts(tz=tz, sources=sources, categories=categories))

    def cell_counts(self, *, origin: tuple[float, float, float, float], cell_m: float,
                    start: date | None = None, end: date | None = None, sources: Sequence[str] | None = None,
                    categories: Sequence[str] | None = None, extent_only: bool = False) -> CellCounts | None:
        question = ("cell_counts", tuple(float(v) for v in origin), float(cell_m), start, end, _tuple(sources),
                    _tuple(categories), bool(extent_only))
        return self.answer(question, lambda: self._store.cell_counts(
            origin=origin, cell_m=cell_m, start=start, end=end, sources=sources, categories=categories,
            extent_only=extent_only))


def _tuple(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)
