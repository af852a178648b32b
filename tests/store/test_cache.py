"""Answers kept per store state (``store/cache.py``) and readers without a lock (per-thread cursors).

The caching store runs over every backend of ``FACTORIES``: what it answers is what the store answers at that
instant, it asks the store once per question and state, and it forgets when the generation, the holds or the
visibility window change. A record is never answered past its retention from memory.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from observatoire.analytics.counts import source_counts, zone_counts
from observatoire.analytics.places import city_grid
from observatoire.city.profile import CityProfile
from observatoire.governance.retention import Holds, Retention
from observatoire.store.base import Batch, ReadStore
from observatoire.store.cache import AnswerCache, CachingReadStore, next_expiry

from conftest import Clock, StoreFactory, commit_all, make_events

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _sorted(table):
    return table.sort_by([(c, "ascending") for c in table.column_names])


def _count(store: ReadStore) -> int:
    return store.events().count().to_pyarrow().as_py()


# -- the cache itself ------------------------------------------------------------------------------------------
def test_the_cache_keeps_at_most_its_bound_least_recently_used_out_first() -> None:
    cache = AnswerCache(max_entries=2)
    calls: list[str] = []

    def ask(key: str) -> str:
        return cache.get(("s", key), lambda: calls.append(key) or key.upper())

    assert [ask("a"), ask("b"), ask("a"), ask("c")] == ["A", "B", "A", "C"]   # c evicts b (a was used after b)
    assert calls == ["a", "b", "c"] and len(cache) == 2
    ask("a")
    ask("b")
    assert calls == ["a", "b", "c", "b"] and (cache.hits, cache.misses) == (2, 4)


def test_response_bodies_count_against_the_byte_budget_and_an_oversized_one_is_not_kept() -> None:
    cache = AnswerCache(max_entries=10, max_bytes=100)
    assert cache.get("a", lambda: b"x" * 60) == b"x" * 60
    assert cache.get("b", lambda: b"y" * 30) == b"y" * 30 and len(cache) == 2
    cache.get("c", lambda: b"z" * 30)                     # 120 bytes: the least recently used ("a") goes
    assert len(cache) == 2 and cache.get("a", lambda: b"again") == b"again"
    assert cache.get("big", lambda: b"w" * 101) == b"w" * 101 and cache.get("big", lambda: b"new") == b"new"
    assert cache.get("rows", lambda: list(range(1000))) == list(range(1000))     # not bytes: counts as nothing
    cache.keep_only("none of them")
    assert len(cache) == 0 and cache.get("c", lambda: b"fresh") == b"fresh"


def test_a_burst_of_one_missing_question_is_computed_once_and_errors_are_not_kept() -> None:
    cache = AnswerCache()
    started = threading.Event()
    computed: list[int] = []

    def slow() -> int:
        started.set()
        time.sleep(0.2)
        computed.append(1)
        return 42

    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(cache.get, ("s", "q"), slow)
        started.wait(5)
        others = [pool.submit(cache.get, ("s", "q"), slow) for _ in range(7)]
        assert first.result() == 42 and all(f.result() == 42 for f in others)
    assert computed == [1]

    def fail() -> int:
        raise ValueError("engine down")

    with pytest.raises(ValueError):
        cache.get(("s", "bad"), fail)
    assert cache.get(("s", "bad"), lambda: 7) == 7         # the failure was not kept
    nothing = AnswerCache(max_entries=0)
    assert [nothing.get(("s", "q"), lambda: len(computed)) for _ in range(2)] == [1, 1] and len(nothing) == 0


# -- the state: generation, holds, visibility window -------------------------------------------------------------
def test_a_commit_changes_the_state_and_the_next_answer_is_the_new_one(
        factory: StoreFactory, root: Path, city: CityProfile) -> None:
    inner = factory(root, city)
    cached = CachingReadStore(inner)
    asked: list[int] = []

    def total() -> int:
        return cached.answer("total", lambda: asked.append(1) or _count(inner))

    before = total()
    assert total() == before and len(asked) == 1                   # kept
    events = make_events(city, np.random.default_rng(3), 50, "mains_courantes", "late")
    inner.commit(Batch("late", "mains_courantes", "late.csv", "0" * 64, events.num_rows, events=events))
    assert total() == before + events.num_rows == _count(inner) and len(asked) == 2
    assert len(cached.answers) == 1                                # the old state's answer is gone


def test_the_window_ends_when_the_first_visible_record_expires_and_no_answer_outlives_a_record(
        factory: StoreFactory, master: Path, city: CityProfile) -> None:
    clock = Clock(NOW)
    retention = Retention({"mains_courantes": 400, "verbalisations": 800, "municipal_reports": 5000})
    inner = factory(master, city, clock=clock, retention=retention)
    cached = CachingReadStore(inner, clock=clock)
    state = cached.state()
    assert state is not None and state.since is not None and state.until is not None
    # The window's end is the first expiry of a visible record: the oldest visible record of a source plus its
    # period (or the day after the earliest retention_until).
    firsts = inner.events().group_by("source").aggregate(first=inner.events().occurred_at.min()).to_pyarrow()
    ends = [f + timedelta(days=retention.days[s]) for s, f in zip(firsts["source"].to_pylist(),
                                                                   firsts["first"].to_pylist())]
    assert state.until == min(ends)

    def total() -> int:
        return cached.answer("total", lambda: _count(inner))

    kept = total()
    clock.now = state.until - timedelta(microseconds=1)           # the last instant of the window
    assert total() == kept == _count(inner)                        # kept, and exactly what the store answers
    clock.now = state.until                                        # the first record expires
    assert cached.state() != state
    assert total() == _count(inner) < kept                         # answered afresh, without it
    clock.now = NOW                                                # a clock set back: not the window read later
    assert total() == _count(inner) == kept


def test_a_legal_hold_changes_the_state(factory: StoreFactory, master: Path, city: CityProfile,
                                        tmp_path: Path) -> None:
    holds = Holds(tmp_path / "holds.json")
    now = datetime(2025, 6, 1, tzinfo=UTC)
    retention = Retention({"mains_courantes": 400, "verbalisations": 800}, holds)
    inner = factory(master, city, clock=Clock(now), retention=retention)
    cached = CachingReadStore(inner, clock=Clock(now))
    counted = cached.answer("total", lambda: _count(inner))
    holds.add(reason="enquête", reference="PV-1", actor="user:dpo", now=now, source="mains_courantes",
              end=date(2024, 1, 1))
    assert cached.answer("total", lambda: _count(inner)) == _count(inner) > counted


def test_next_expiry_reads_retention_until_as_well(factory: StoreFactory, master: Path, city: CityProfile) -> None:
    retention = Retention({})                                      # no period: only the stamped dates expire
    inner = factory(master, city, clock=Clock(NOW), retention=retention)
    earliest = inner.events().retention_until.min().to_pyarrow().as_py()
    assert next_expiry(inner.events(), retention, NOW) == datetime.combine(
        earliest + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def test_without_a_retention_rule_the_window_never_closes(factory: StoreFactory, master: Path,
                                                          city: CityProfile) -> None:
    state = CachingReadStore(factory(master, city)).state()
    assert state is not None and state.until is None and state.valid_at(datetime(2999, 1, 1, tzinfo=UTC))
    # With a retention rule but no clock to apply it with, nothing is kept (each answer is computed).
    ruled = CachingReadStore(factory(master, city, clock=Clock(NOW), retention=Retention({"mains_courantes": 400})))
    asked: list[int] = []
    for _ in range(2):
        ruled.answer("total", lambda: asked.append(1))
    assert ruled.state() is None and len(asked) == 2


# -- the protocol through the cache ----------------------------------------------------------------------------
def test_the_capabilities_through_the_cache_equal_the_store_and_are_asked_once(
        factory: StoreFactory, master: Path, city: CityProfile) -> None:
    inner = factory(master, city, clock=Clock(NOW), retention=Retention({"mains_courantes": 400}))
    cached = CachingReadStore(inner, clock=Clock(NOW))
    assert isinstance(cached, ReadStore)
    daily = cached.daily_counts(tz=city.timezone, sources=["mains_courantes"])
    want = inner.daily_counts(tz=city.timezone, sources=["mains_courantes"])
    assert (daily is None) == (want is None) and (daily is None or _sorted(daily).equals(_sorted(want)))
    cgrid = city_grid(city, 250.0)
    origin = (cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0)
    cells = cached.cell_counts(origin=origin, cell_m=250.0, start=date(2023, 1, 1), end=date(2024, 1, 1))
    want_cells = inner.cell_counts(origin=origin, cell_m=250.0, start=date(2023, 1, 1), end=date(2024, 1, 1))
    assert (cells is None) == (want_cells is None)
    if cells is not None:
        assert cells.factor == want_cells.factor and _sorted(cells.cells).equals(_sorted(want_cells.cells))
    misses = cached.answers.misses
    cached.daily_counts(tz=city.timezone, sources=["mains_courantes"])
    cached.cell_counts(origin=origin, cell_m=250.0, start=date(2023, 1, 1), end=date(2024, 1, 1))
    assert cached.answers.misses == misses and cached.answers.hits >= 2
    assert cached.manifest() is inner.manifest() and cached.retention is inner.retention
    assert zone_counts(cached.events()).equals(zone_counts(inner.events()))


# -- readers without a lock -------------------------------------------------------------------------------------
def test_threads_read_through_their_own_cursors_side_by_side(factory: StoreFactory, root: Path,
                                                             city: CityProfile) -> None:
    store = factory(root, city)
    want = source_counts(store.events())
    barrier = threading.Barrier(6)

    def read(_: int) -> tuple[int, bool]:
        barrier.wait(10)                                           # every thread queries at the same time
        con = id(store.events()._find_backend())
        return con, all(source_counts(store.events()).equals(want) for _ in range(5))

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(read, range(6)))
    assert all(ok for _, ok in results)
    assert len({con for con, _ in results}) == 6                   # one connection (cursor) per thread


def test_a_reader_thread_moves_to_the_new_generation_after_a_commit(factory: StoreFactory, root: Path,
                                                                    city: CityProfile) -> None:
    store = factory(root, city)
    before = _count(store)
    with ThreadPoolExecutor(1) as reader:
        assert reader.submit(_count, store).result() == before
        commit_all(store, city, seed=99, n=30)
        assert reader.submit(_count, store).result() == _count(store) > before
