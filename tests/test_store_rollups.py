"""The Parquet store's rollup files: recorded in the manifest, rewritten with the events, rebuilt for an old store.

That the rollups give exactly what the raw events give is the store contract (``tests/store/test_capabilities.py``,
run over every backend); here, what only the Parquet store has: its rollup files and their manifest entries, a
store written before rollups existed (or by an older version), the maintenance step, a commit failing while it
writes them, its tables kept per manifest generation.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from observatoire.analytics.places import city_grid, query_cell_counts
from observatoire.city.profile import CityProfile
from observatoire.governance.purge import purge
from observatoire.governance.retention import Holds, Retention
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore
from observatoire.store.rollup import ROLLUP_VERSION, RollupSpec
from tests.store.conftest import (PERIODS, SOURCES, THEMES, Clock, answered, assert_same, commit_all, grid_counts,
                                  make_events)

KINDS = ("rollup_daily", "rollup_cells", "rollup_months")


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> Path:
    root = tmp_path_factory.mktemp("rollups") / "store"
    commit_all(ParquetStore(root, zone_ids=city.zone_ids, rollup=RollupSpec.for_city(city)), city)
    return root


@pytest.fixture
def root(master: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store"
    shutil.copytree(master, copy)
    return copy


def test_every_batch_has_its_rollup_files_in_the_manifest(master: Path, city: CityProfile) -> None:
    store = ParquetStore(master, zone_ids=city.zone_ids)
    manifest = store.manifest()
    assert manifest.rollup is not None and all(b["rollup"] == ROLLUP_VERSION for b in manifest.batches.values())
    assert all(b["files"]["rollup_daily"] and b["files"]["rollup_cells"] and b["files"]["rollup_months"]
               for b in manifest.batches.values())
    assert RollupSpec.from_json(manifest.rollup).cell_m == 250.0                # the default base cell
    listed = {f for b in manifest.batches.values() for k in KINDS for f in b["files"][k]}
    assert listed == {p.relative_to(master).as_posix() for p in (master / "rollups").rglob("*.parquet")}


def test_after_a_purge_the_rollup_files_follow_the_event_files(root: Path, city: CityProfile, tmp_path: Path) -> None:
    now = datetime(2025, 2, 20, 13, 37, tzinfo=UTC)
    retention = Retention({"mains_courantes": 400, "verbalisations": 2000}, Holds(tmp_path / "holds.json"))
    store = ParquetStore(root, zone_ids=city.zone_ids, clock=Clock(now), retention=retention)
    before = {b: dict(v["files"]) for b, v in store.manifest().batches.items()}
    report = purge(store, retention, now=now)
    assert report.events_removed > 0
    after = store.manifest().batches
    for batch_id, b in after.items():
        rewritten = b["files"]["events"] != before[batch_id]["events"]
        assert (b["files"]["rollup_daily"] != before[batch_id]["rollup_daily"]) == rewritten
    listed = {f for b in after.values() for k in KINDS for f in b["files"][k]}
    assert listed == {p.relative_to(root).as_posix() for p in (root / "rollups").rglob("*.parquet")}


def test_a_store_without_rollups_reads_the_raw_events_until_they_are_built(tmp_path: Path,
                                                                           city: CityProfile) -> None:
    root = tmp_path / "store"
    legacy = ParquetStore(root, zone_ids=city.zone_ids)          # as written before rollups existed
    commit_all(legacy, city, seed=11, n=300)
    assert legacy.manifest().rollup is None and legacy.daily_counts(tz=city.timezone) is None
    assert_same(legacy, city, themes=THEMES[1:2], periods=PERIODS[1:2], rolled=False)
    # The next commit with a spec rolls up every batch, the old ones included.
    spec = RollupSpec.for_city(city)
    store = ParquetStore(root, zone_ids=city.zone_ids, rollup=spec)
    events = make_events(city, np.random.default_rng(5), 50, "mains_courantes", "late")
    store.commit(Batch("late", "mains_courantes", "late.csv", "2" * 64, events.num_rows, events=events))
    assert all(b["rollup"] == ROLLUP_VERSION for b in store.manifest().batches.values())
    assert_same(ParquetStore(root, zone_ids=city.zone_ids), city, themes=THEMES[1:2], periods=PERIODS[1:2])


def test_build_rollups_is_the_maintenance_step_for_an_old_store(tmp_path: Path, city: CityProfile) -> None:
    root = tmp_path / "store"
    store = ParquetStore(root, zone_ids=city.zone_ids)
    commit_all(store, city, seed=12, n=200)
    assert store.build_rollups(RollupSpec.for_city(city)) == len(SOURCES) * 2
    assert store.build_rollups() == 0                                  # nothing left to do
    assert_same(store, city, themes=THEMES[:1], periods=PERIODS[1:2])


def test_a_commit_that_fails_while_writing_rollups_leaves_the_store_unchanged(root: Path, city: CityProfile,
                                                                               monkeypatch) -> None:
    store = ParquetStore(root, zone_ids=city.zone_ids)
    manifest_before = (root / "manifest.json").read_bytes()
    n_before = store.events().count().to_pyarrow().as_py()
    real = ParquetStore._stage

    def failing(self, staging, rel, table):
        if rel.startswith("rollups/cells"):
            raise OSError("disk full")
        return real(self, staging, rel, table)

    monkeypatch.setattr(ParquetStore, "_stage", failing)
    events = make_events(city, np.random.default_rng(9), 40, "verbalisations", "fails")
    with pytest.raises(OSError):
        store.commit(Batch("fails", "verbalisations", "f.csv", "3" * 64, events.num_rows, events=events))
    monkeypatch.undo()
    assert (root / "manifest.json").read_bytes() == manifest_before
    fresh = ParquetStore(root, zone_ids=city.zone_ids)
    assert fresh.events().count().to_pyarrow().as_py() == n_before
    fresh.commit(Batch("fails", "verbalisations", "f.csv", "3" * 64, events.num_rows, events=events))
    listed = set(fresh.manifest().all_files())
    on_disk = {p.relative_to(root).as_posix() for top in ("events", "rollups") for p in (root / top).rglob("*.parquet")}
    assert on_disk <= listed                                           # the leftovers were removed
    assert_same(fresh, city, themes=THEMES[:1], periods=PERIODS[1:2])


def test_the_events_table_is_kept_per_manifest_generation(root: Path, city: CityProfile) -> None:
    store = ParquetStore(root, zone_ids=city.zone_ids)
    first = store._table("events")
    assert store._table("events") is first
    events = make_events(city, np.random.default_rng(4), 10, "verbalisations", "more")
    store.commit(Batch("more", "verbalisations", "m.csv", "4" * 64, events.num_rows, events=events))
    assert store._table("events") is not first


def test_a_batch_without_the_cell_rollup_sends_its_source_to_the_raw_events(root: Path, city: CityProfile) -> None:
    doc = json.loads((root / "manifest.json").read_text())
    lacking = next(b for b, v in doc["batches"].items() if v["source"] == "verbalisations")
    doc["batches"][lacking].pop("rollup")
    for kind in KINDS:
        doc["batches"][lacking]["files"][kind] = []
    (root / "manifest.json").write_text(json.dumps(doc))
    store = ParquetStore(root, zone_ids=city.zone_ids)
    cgrid = city_grid(city, 250.0)
    assert not answered(store, cgrid, sources=["verbalisations"])
    assert not answered(store, cgrid)                                          # every source: one lacks it
    assert answered(store, cgrid, sources=["mains_courantes"])
    for theme in THEMES[:2] + THEMES[3:]:
        got = grid_counts(store, cgrid, start=date(2023, 2, 1), end=date(2024, 8, 1), **theme)
        want = query_cell_counts(store.events(), cgrid, start=date(2023, 2, 1), end=date(2024, 8, 1), **theme)
        assert got[1] == want[1] and np.array_equal(got[0], want[0]), theme


def test_a_store_of_the_previous_rollup_version_is_rebuilt_with_the_cell_rollup(tmp_path: Path,
                                                                             city: CityProfile) -> None:
    root = tmp_path / "store"
    commit_all(ParquetStore(root, zone_ids=city.zone_ids, rollup=RollupSpec.for_city(city, cell_m=None)), city,
               seed=13, n=150)
    doc = json.loads((root / "manifest.json").read_text())          # as version 2 wrote it: no cell rollup
    doc["rollup"]["version"] = 2
    for b in doc["batches"].values():
        b["rollup"] = 2
    (root / "manifest.json").write_text(json.dumps(doc))
    cgrid = city_grid(city, 250.0)
    old = ParquetStore(root, zone_ids=city.zone_ids)
    assert not answered(old, cgrid)                                            # raw until rebuilt
    store = ParquetStore(root, zone_ids=city.zone_ids, rollup=RollupSpec.for_city(city))
    events = make_events(city, np.random.default_rng(6), 20, "verbalisations", "next")
    store.commit(Batch("next", "verbalisations", "n.csv", "5" * 64, events.num_rows, events=events))
    manifest = store.manifest()
    assert manifest.rollup["cell_m"] == 250.0 and manifest.rollup["version"] == ROLLUP_VERSION
    assert all(b["rollup"] == ROLLUP_VERSION and b["files"]["rollup_cells"] for b in manifest.batches.values())
    assert answered(store, cgrid)
    got = grid_counts(store, cgrid, start=date(2023, 1, 1), end=date(2025, 1, 1))
    want = query_cell_counts(store.events(), cgrid, start=date(2023, 1, 1), end=date(2025, 1, 1))
    assert got[1] == want[1] and np.array_equal(got[0], want[0])
