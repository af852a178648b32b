"""Rollups: the store's pre-aggregates give exactly what the raw events give.

Indicators' daily counts and hotspots' grid counts are computed both ways on one
synthetic store (random points inside and around Marseille, some without a place,
events on local-midnight and UTC-month boundaries) and compared: for several themes,
periods and cell sizes; with a retention cut-off falling inside a day (frozen clock),
with ``retention_until`` dates that bind before the period does; with legal holds;
after a purge; and for a store written before rollups existed.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from observatoire.analytics.indicators import daily_counts
from observatoire.analytics.places import city_grid, query_cell_counts
from observatoire.api.params import CountFilters
from observatoire.api.routes.forecasts import _extent
from observatoire.city.geo import assign_zones
from observatoire.city.profile import CityProfile, load_city
from observatoire.event.schema import EVENT_SCHEMA
from observatoire.governance.purge import purge
from observatoire.governance.retention import Holds, Retention
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore
from observatoire.store.rollup import ROLLUP_VERSION, RollupSpec

T0 = datetime(2022, 1, 1, tzinfo=UTC)
T1 = datetime(2025, 3, 1, tzinfo=UTC)
# Local midnights (Paris) and UTC month boundaries, to the microsecond.
BOUNDARIES = (datetime(2024, 3, 30, 23, 0, tzinfo=UTC), datetime(2024, 3, 30, 22, 59, 59, 999999, tzinfo=UTC),
              datetime(2024, 7, 31, 22, 0, tzinfo=UTC), datetime(2024, 7, 31, 23, 59, tzinfo=UTC),
              datetime(2024, 8, 1, 0, 0, tzinfo=UTC), datetime(2023, 12, 31, 23, 30, tzinfo=UTC))
SOURCES = {"mains_courantes": ("violence", "theft", "nuisance"), "verbalisations": ("parking_offence",
                                                                                   "traffic_offence"),
           "municipal_reports": ("intervention",)}
STAMP_DAYS = {"mains_courantes": 3650, "verbalisations": 3650, "municipal_reports": 700}
THEMES = [dict(sources=None, categories=None), dict(sources=["mains_courantes"], categories=None),
          dict(sources=["mains_courantes"], categories=["theft", "violence"]),
          dict(sources=["verbalisations", "municipal_reports"], categories=None)]
PERIODS = [(None, None), (date(2023, 1, 15), date(2024, 3, 10)), (date(2023, 2, 1), date(2024, 8, 1)),
           (date(2024, 3, 5), date(2024, 3, 20)), (date(2024, 7, 31), date(2024, 8, 2)), (None, date(2023, 6, 7))]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def city() -> CityProfile:
    return load_city()


def make_events(city: CityProfile, rng: np.random.Generator, n: int, source: str, batch_id: str) -> pa.Table:
    """``n`` valid canonical events of ``source`` between T0 and T1, plus the boundary instants."""
    minlon, minlat, maxlon, maxlat = city.outline.bounds
    lon = rng.uniform(minlon - 0.01, maxlon + 0.01, n)
    lat = rng.uniform(minlat - 0.01, maxlat + 0.01, n)
    k = n // 3
    lon[:k], lat[:k] = lon[k:2 * k], lat[k:2 * k]           # repeated places
    times = [T0 + timedelta(seconds=int(s)) for s in rng.integers(0, int((T1 - T0).total_seconds()), n)]
    times += list(BOUNDARIES)
    lon = np.r_[lon, rng.uniform(5.36, 5.40, len(BOUNDARIES))]
    lat = np.r_[lat, rng.uniform(43.28, 43.31, len(BOUNDARIES))]
    zones = assign_zones(city, lon, lat)
    located = np.r_[rng.random(n) > 0.08, np.ones(len(BOUNDARIES), bool)]
    cats = SOURCES[source]
    rows = []
    for i, t in enumerate(times):
        loc = bool(located[i])
        rows.append({
            "event_id": f"{source}:{hashlib.sha256(f'{batch_id}:{i}'.encode()).hexdigest()[:24]}",
            "source": source, "category": cats[int(rng.integers(len(cats)))], "occurred_at": t,
            "time_precision": "minute", "reported_at": None,
            "lon": float(lon[i]) if loc else None, "lat": float(lat[i]) if loc else None,
            "location_precision_m": 10.0 if loc else None, "zone_id": zones[i] if loc else None,
            "h3_r9": None, "h3_r8": None, "h3_r7": None, "discovery": ("independent", "directed")[i % 2],
            "attributes": None, "pseudonyms": None, "batch_id": batch_id, "source_file": f"{source}.csv",
            "source_row": i + 1, "ingested_at": datetime(2025, 3, 1, tzinfo=UTC),
            "retention_until": t.date() + timedelta(days=STAMP_DAYS[source]), "month": t.strftime("%Y-%m"),
        })
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def commit_all(store: ParquetStore, city: CityProfile, seed: int = 7, n: int = 900) -> None:
    rng = np.random.default_rng(seed)
    for source in SOURCES:
        for half in (0, 1):                                  # two batches per source
            batch_id = f"{source}-{seed}-{half}"
            events = make_events(city, rng, n, source, batch_id)
            store.commit(Batch(batch_id, source, f"{source}.csv", "0" * 64, events.num_rows, events=events))


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


def assert_same(store: ParquetStore, city: CityProfile, *, themes=THEMES[:3], periods=PERIODS[:4],
                cells=(250.0,), rolled: bool = True) -> None:
    """Every theme's daily counts, and grid counts per period (first two themes) and cell size
    (the first with every period, the others with the first two): rollups == raw events."""
    events = store.events()
    for theme in themes:
        assert (store.daily_counts(tz=city.timezone, sources=theme["sources"]) is not None) == rolled
        got = daily_counts(events, city=city, store=store, **theme)
        want = daily_counts(events, city=city, **theme)
        assert (got.first, got.last, got.zones) == (want.first, want.last, want.zones), theme
        assert np.array_equal(got.dates, want.dates) and np.array_equal(got.matrix, want.matrix), theme
    for theme in themes[:2]:                    # the extent and fingerprint that key forecasts
        filters = CountFilters(None, None, tuple(theme["sources"] or ()), tuple(theme["categories"] or ()))
        cgrid = city_grid(city, 250.0)
        assert (store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0), cell_m=250.0,
                                  extent_only=True) is not None) == rolled
        assert _extent(events, filters, store, cgrid) == _extent(events, filters), theme
    for i, cell_m in enumerate(cells):
        cgrid = city_grid(city, cell_m)
        for start, end in periods if i == 0 else periods[:2]:
            for theme in themes[:2]:
                got = query_cell_counts(events, cgrid, start=start, end=end, store=store, **theme)
                want = query_cell_counts(events, cgrid, start=start, end=end, **theme)
                assert got[1] == want[1] and np.array_equal(got[0], want[0]), (cell_m, start, end, theme)


@pytest.mark.slow
def test_rollups_equal_the_raw_events_for_themes_periods_and_cell_sizes(master: Path, city: CityProfile) -> None:
    store = ParquetStore(master, zone_ids=city.zone_ids)
    manifest = store.manifest()
    assert manifest.rollup is not None and all(b["rollup"] == ROLLUP_VERSION for b in manifest.batches.values())
    assert all(b["files"]["rollup_daily"] and b["files"]["rollup_cells"] and b["files"]["rollup_months"]
               for b in manifest.batches.values())
    assert_same(store, city, themes=THEMES, periods=PERIODS, cells=(250.0, 1000.0))
    # A cell size that is not a multiple of the rollups' falls back to the raw events (and still agrees).
    cgrid = city_grid(city, 75.0)
    assert store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0), cell_m=75.0) is None
    assert_same(store, city, themes=THEMES[:1], periods=PERIODS[1:2], cells=(75.0,))


def test_a_point_on_a_grid_line_is_placed_from_its_exact_position(root: Path, city: CityProfile) -> None:
    store = ParquetStore(root, zone_ids=city.zone_ids)
    spec = RollupSpec.for_city(city)
    cgrid = city_grid(city, 250.0)
    cos = float(np.cos(np.radians(spec.lat0)))
    # x on the line between two columns of 250, 500 and 1000 m (k = 40), or a hair either side of it:
    # lon = lon0 + (x0 + 250 k) / (111132 cos).
    events = make_events(city, np.random.default_rng(3), 0, "mains_courantes", "edge")
    offsets = np.resize([0.0, 1e-9, -1e-9, 2e-5], events.num_rows)
    lon = spec.lon0 + (spec.x0 + 250.0 * 40 + offsets) / (111_132.0 * cos)
    events = events.set_column(events.schema.get_field_index("lon"), "lon", pa.array(lon))
    zones = assign_zones(city, lon, events["lat"].to_numpy())
    events = events.set_column(events.schema.get_field_index("zone_id"), "zone_id", pa.array(zones, pa.string()))
    store.commit(Batch("edge", "mains_courantes", "e.csv", "1" * 64, events.num_rows, events=events))
    got = store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0), cell_m=250.0)
    assert got is not None and got.edge_events == events.num_rows            # each kept with its position
    edge = got.cells.filter(got.cells["edge"])
    assert sorted(edge["lon"].to_pylist()) == sorted(lon.tolist())
    assert_same(store, city, themes=THEMES[:1], periods=PERIODS[1:2], cells=(250.0, 500.0, 1000.0))


@pytest.mark.parametrize("now", [datetime(2025, 2, 20, 13, 37, 12, tzinfo=UTC),      # cut-off inside a day
                                 datetime(2025, 3, 31, 22, 30, tzinfo=UTC)])          # just after local midnight
def test_a_retention_cut_off_inside_a_day_is_counted_exactly(master: Path, city: CityProfile, now: datetime) -> None:
    # mains_courantes: 400 days; verbalisations: 800 days; municipal_reports: a long period, but the
    # retention date stamped at ingest (700 days) binds first.
    retention = Retention({"mains_courantes": 400, "verbalisations": 800, "municipal_reports": 5000})
    store = ParquetStore(master, zone_ids=city.zone_ids, clock=Clock(now), retention=retention)
    raw = ParquetStore(master, zone_ids=city.zone_ids)
    assert store.events().count().to_pyarrow().as_py() < raw.events().count().to_pyarrow().as_py()
    assert_same(store, city, periods=PERIODS[:3])
    # The cut-off's month of each source comes from the raw events, the other months from the cell rollup.
    cgrid = city_grid(city, 250.0)
    whole_months = dict(start=date(2023, 2, 1), end=date(2025, 3, 1))
    rolled = store.cell_counts(origin=(cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0), cell_m=250.0,
                               **whole_months)
    assert rolled is not None and 0 < rolled.edge_events < rolled.extent["n"]
    got, want = _grid_counts(store, cgrid, **whole_months), query_cell_counts(store.events(), cgrid, **whole_months)
    assert got[1] == want[1] and np.array_equal(got[0], want[0])


def test_records_under_a_legal_hold_stay_counted(master: Path, city: CityProfile, tmp_path: Path) -> None:
    now = datetime(2025, 2, 20, 13, 37, tzinfo=UTC)
    holds = Holds(tmp_path / "holds.json")
    holds.add(reason="r", reference="x", actor="user:dpo", now=now, source="mains_courantes", zone="13201")
    retention = Retention({"mains_courantes": 400, "verbalisations": 800}, holds)
    store = ParquetStore(master, zone_ids=city.zone_ids, clock=Clock(now), retention=retention)
    assert_same(store, city, themes=THEMES[:2], periods=PERIODS[:3])
    # The held source's expired months are many: its hotspot counts are the raw path's altogether.
    cgrid = city_grid(city, 250.0)
    origin = (cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0)
    assert store.cell_counts(origin=origin, cell_m=250.0, sources=["mains_courantes"]) is None
    assert store.cell_counts(origin=origin, cell_m=250.0, sources=["verbalisations"]) is not None
    # A hold without a source touches every source.
    holds.add(reason="r", reference="y", actor="user:dpo", now=now, start=date(2023, 1, 1), end=date(2023, 2, 1))
    assert_same(store, city, themes=THEMES[:1], periods=PERIODS[1:2])


def test_after_a_purge_the_rollups_follow_the_events(root: Path, city: CityProfile, tmp_path: Path) -> None:
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
    listed = {f for b in after.values() for k in ("rollup_daily", "rollup_cells", "rollup_months")
              for f in b["files"][k]}
    assert listed == {p.relative_to(root).as_posix() for p in (root / "rollups").rglob("*.parquet")}
    assert_same(store, city, periods=PERIODS[:3])
    # Without the retention rule, the rollups now count exactly what is left on disk.
    assert_same(ParquetStore(root, zone_ids=city.zone_ids), city, themes=THEMES[1:2], periods=PERIODS[1:2])


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


# -- the monthly cell rollup (250 m base) and the hotspot route ---------------------------------------------
def _grid_counts(store: ParquetStore, cgrid, **scope) -> tuple[np.ndarray, int]:
    return query_cell_counts(store.events(), cgrid, store=store, **scope)


def _answered(store: ParquetStore, cgrid, **scope) -> bool:
    origin = (cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0)
    return store.cell_counts(origin=origin, cell_m=cgrid.grid.cell_size, **scope) is not None


def test_whole_months_come_from_the_cell_rollup_and_partial_months_from_the_raw_events(
        master: Path, city: CityProfile) -> None:
    store = ParquetStore(master, zone_ids=city.zone_ids)
    assert RollupSpec.from_json(store.manifest().rollup).cell_m == 250.0        # the default base cell
    cgrid = city_grid(city, 500.0)
    periods = [(date(2023, 2, 1), date(2024, 8, 1)),      # whole months only
               (date(2023, 2, 14), date(2024, 8, 1)),     # a partial month at the start
               (date(2023, 2, 1), date(2024, 7, 31)),     # ... at the end
               (date(2024, 7, 3), date(2024, 7, 29)),     # inside one month: all raw
               (date(2024, 6, 30), date(2024, 8, 2))]     # one whole month and a day either side
    origin = (cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0)
    for start, end in periods:
        got = _grid_counts(store, cgrid, start=start, end=end, sources=["mains_courantes"])
        want = query_cell_counts(store.events(), cgrid, start=start, end=end, sources=["mains_courantes"])
        assert got[1] == want[1] and np.array_equal(got[0], want[0]), (start, end)
        rolled = store.cell_counts(origin=origin, cell_m=500.0, start=start, end=end, sources=["mains_courantes"])
        assert got[0].sum() > 0
        # whole months from the rollup; a period under two years with partial months at its edges is one raw
        # scan (MIN_MIXED_MONTHS: cheaper than the mix); inside one month, the raw days alone
        aligned, one_month = start.day == 1 and end.day == 1, (start.year, start.month) == (end.year, end.month)
        assert (rolled is not None) == (aligned or one_month), (start, end)
        if rolled is not None:
            assert rolled.factor == 2
            raw = rolled.cells.filter(pc.is_null(rolled.cells["cx"]))        # rows taken from the raw events
            assert (raw.num_rows > 0) == (not aligned), (start, end)
    assert not _answered(store, city_grid(city, 300.0))                         # not a multiple of 250 m


def test_a_batch_without_the_cell_rollup_sends_its_source_to_the_raw_events(root: Path, city: CityProfile) -> None:
    import json

    doc = json.loads((root / "manifest.json").read_text())
    lacking = next(b for b, v in doc["batches"].items() if v["source"] == "verbalisations")
    doc["batches"][lacking].pop("rollup")
    for kind in ("rollup_daily", "rollup_cells", "rollup_months"):
        doc["batches"][lacking]["files"][kind] = []
    (root / "manifest.json").write_text(json.dumps(doc))
    store = ParquetStore(root, zone_ids=city.zone_ids)
    cgrid = city_grid(city, 250.0)
    assert not _answered(store, cgrid, sources=["verbalisations"])
    assert not _answered(store, cgrid)                                          # every source: one lacks it
    assert _answered(store, cgrid, sources=["mains_courantes"])
    for theme in THEMES[:2] + THEMES[3:]:
        got = _grid_counts(store, cgrid, start=date(2023, 2, 1), end=date(2024, 8, 1), **theme)
        want = query_cell_counts(store.events(), cgrid, start=date(2023, 2, 1), end=date(2024, 8, 1), **theme)
        assert got[1] == want[1] and np.array_equal(got[0], want[0]), theme


def test_a_store_of_the_previous_rollup_version_is_rebuilt_with_the_cell_rollup(tmp_path: Path,
                                                                             city: CityProfile) -> None:
    import json

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
    assert not _answered(old, cgrid)                                            # raw until rebuilt
    store = ParquetStore(root, zone_ids=city.zone_ids, rollup=RollupSpec.for_city(city))
    events = make_events(city, np.random.default_rng(6), 20, "verbalisations", "next")
    store.commit(Batch("next", "verbalisations", "n.csv", "5" * 64, events.num_rows, events=events))
    manifest = store.manifest()
    assert manifest.rollup["cell_m"] == 250.0 and manifest.rollup["version"] == ROLLUP_VERSION
    assert all(b["rollup"] == ROLLUP_VERSION and b["files"]["rollup_cells"] for b in manifest.batches.values())
    assert _answered(store, cgrid)
    got = _grid_counts(store, cgrid, start=date(2023, 1, 1), end=date(2025, 1, 1))
    want = query_cell_counts(store.events(), cgrid, start=date(2023, 1, 1), end=date(2025, 1, 1))
    assert got[1] == want[1] and np.array_equal(got[0], want[0])


@pytest.mark.parametrize("method", ["gi_star", "kde"])
def test_the_hotspot_route_writes_the_body_its_response_model_would(master: Path, city: CityProfile,
                                                                     method: str) -> None:
    import orjson

    from observatoire.analytics.places import cell_counts, kde_cells, masked_gi_star, query_placed
    from observatoire.api.deps import GridCache, StoreReader
    from observatoire.api.models import (HotspotFeature, HotspotParameters, HotspotProperties, Hotspots,
                                         Period)
    from observatoire.api.routes.cells import filters_echo, finite, grid_info, polygons
    from observatoire.api.routes.hotspots import hotspots

    store = ParquetStore(master, zone_ids=city.zone_ids)
    filters = CountFilters(date(2023, 2, 1), date(2024, 8, 1), ("mains_courantes",), ())
    grids = GridCache(city)
    body = orjson.loads(hotspots(city, StoreReader(store), grids, filters, method=method, cell_m=500.0,
                                 alpha=0.05, bandwidth_m=800.0, seed=0).body)
    assert grids.cells(500.0) is grids.cells(500.0)                             # the polygons are built once
    # The same response the way the route built it before: one model per cell, validated.
    cgrid = city_grid(city, 500.0)
    active = cgrid.active_cells
    scope = dict(start=filters.start, end=filters.end, sources=["mains_courantes"], categories=None)
    if method == "gi_star":
        counts, outside = query_cell_counts(store.events(), cgrid, **scope)
        gi = masked_gi_star(counts, cgrid.grid, alpha=0.05)
        props = [HotspotProperties(cell=int(c), count=int(counts[c]), z=finite(gi.z[c]),
                                   p_adjusted=finite(gi.p_adjusted[c]), hot=bool(gi.hot[c]), cold=bool(gi.cold[c]))
                 for c in active]
        hot, kde_points = int(gi.hot.sum()), None
    else:
        placed = query_placed(store.events(), cgrid, **scope)
        counts, outside = cell_counts(placed.events, cgrid.grid), placed.outside
        density, kde_points = kde_cells(placed.events, cgrid.grid, 800.0, np.random.default_rng(0))
        props = [HotspotProperties(cell=int(c), count=int(counts[c]), density=round(float(density[c]), 4))
                 for c in active]
        hot = 0
    want = Hotspots(
        features=[HotspotFeature(id=p.cell, properties=p, geometry=g) for p, g in zip(props, polygons(cgrid, active))],
        period=Period(start="2023-02-01", end="2024-08-01"), filters=filters_echo(filters),
        parameters=HotspotParameters(method=method, cell_m=500.0, alpha=0.05, bandwidth_m=800.0, seed=0),
        grid=grid_info(cgrid), located=int(counts.sum()) + outside, outside=outside, hot_cells=hot,
        kde_points=kde_points, attribution=city.attribution)
    assert counts.sum() > 0
    assert body == orjson.loads(want.model_dump_json())
    assert list(body) == list(Hotspots.model_fields)
    assert list(body["features"][0]["properties"]) == list(HotspotProperties.model_fields)
