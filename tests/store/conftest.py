"""The store contract suite: one suite, run over every store backend (as Ibis runs one suite over all of its backends).

Every test of ``tests/store`` takes its store from a *factory*: the ``factory`` fixture is parametrised over
:data:`FACTORIES`, and ``store`` (an empty store), ``master`` (a store of synthetic events, built once per
factory) and ``root`` (a private copy of it) are made with it. A new backend (the Spark engine) passes the
suite by adding its :class:`StoreFactory` to :data:`FACTORIES`; nothing else in the suite names a backend.
A test marked ``@pytest.mark.capability("rollups")`` runs only for the factories that have that capability
(the others are skipped, with the reason), as Ibis marks a test a backend does not implement.

What a test may use of a store is the protocol (:class:`observatoire.store.base.Store`) and nothing else;
the Parquet store's own behaviour (its files, its lock file, a crash of the ``ingest`` command) is tested in
``tests/test_store.py`` and ``tests/test_store_rollups.py``.

Helpers for the test modules (``from conftest import ...``): the logbook export :func:`logbook`, the synthetic
events :func:`make_events` / :func:`commit_all`, and :func:`assert_same`, which checks that analytics give the
same figures with the store's capabilities as from its raw events.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from observatoire.analytics.indicators import daily_counts
from observatoire.analytics.places import city_grid, query_cell_counts
from observatoire.api.params import CountFilters
from observatoire.api.routes.forecasts import _extent
from observatoire.city.geo import assign_zones
from observatoire.city.profile import CityProfile
from observatoire.event.schema import EVENT_SCHEMA
from observatoire.store.base import Batch, Store
from observatoire.store.parquet import ParquetStore
from observatoire.store.rollup import RollupSpec


# -- the factories -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoreFactory:
    """How the suite opens a store of one backend.

    ``open(root, city, clock=None, retention=None)`` opens the store at ``root`` for ``city`` (its zones; its
    grid and time zone where the backend keeps rollups), creating it when it does not exist; opening the same
    ``root`` again gives a store over the same committed data (a second process, a reader). ``clock`` and
    ``retention`` are the visibility rule's (:class:`~observatoire.governance.retention.Retention`).

    ``capabilities``: ``"rollups"`` when the backend keeps the rollups of :mod:`observatoire.store.rollup` and
    answers the protocol's capabilities (``daily_counts``, ``cell_counts``) with
    :mod:`observatoire.store.rollup_read`, which fixes which questions they answer; without it, the suite
    expects ``None`` from both. Either way, analytics must give the same figures with the store as from its
    raw events.

    ``state(store)``: the store's durable state, to compare before and after a write that must change nothing.
    """

    name: str
    open: Callable[..., Store]
    capabilities: frozenset[str]
    state: Callable[[Store], Any]

    @property
    def rollups(self) -> bool:
        return "rollups" in self.capabilities

    def __call__(self, root: Path, city: CityProfile, *, clock: Callable[[], datetime] | None = None,
                 retention: Any = None) -> Store:
        return self.open(root, city, clock=clock, retention=retention)


def _parquet(rollups: bool) -> Callable[..., Store]:
    def open_(root: Path, city: CityProfile, *, clock: Callable[[], datetime] | None = None,
              retention: Any = None) -> Store:
        # As Settings.store opens it (rollups for the city), or without a rollup spec.
        return ParquetStore(root, zone_ids=city.zone_ids, clock=clock, retention=retention,
                            rollup=RollupSpec.for_city(city) if rollups else None)
    return open_


def _parquet_state(store: Store) -> tuple[bytes | None, list[str]]:
    """The manifest, byte for byte, and the Parquet files on disk (staging aside)."""
    root = store.root
    manifest = root / "manifest.json"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet")
                   if ".staging" not in p.relative_to(root).parts)
    return (manifest.read_bytes() if manifest.exists() else None), files


FACTORIES = [
    StoreFactory("parquet", _parquet(rollups=True), frozenset({"rollups"}), state=_parquet_state),
    # The same backend without a rollup spec: its capabilities answer None (as a backend without rollups).
    StoreFactory("parquet-raw", _parquet(rollups=False), frozenset(), state=_parquet_state),
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "capability(name): runs only on the store factories with this capability")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    callspec = getattr(item, "callspec", None)
    factory = callspec.params.get("factory") if callspec is not None else None
    for mark in item.iter_markers("capability"):
        if factory is not None and mark.args[0] not in factory.capabilities:
            pytest.skip(f"{factory.name} has no {mark.args[0]}: its capabilities answer None "
                        "(test_a_store_answers_its_capabilities_or_none)")


@pytest.fixture(scope="session", params=FACTORIES, ids=lambda f: f.name)
def factory(request: pytest.FixtureRequest) -> StoreFactory:
    return request.param


@pytest.fixture
def store(factory: StoreFactory, tmp_path: Path, city: CityProfile) -> Store:
    """An empty store of the factory's backend."""
    return factory(tmp_path / "store", city)


# -- a logbook export (through the whole ingest) ---------------------------------------------------------------
HEADER = "numero;date_heure;date_saisie;adresse;longitude;latitude;categorie;origine;recit;agent;personnes_impliquees\n"


def logbook(rows: int, months: int = 6, prefix: str = "MC") -> str:
    lines = [HEADER]
    for i in range(rows):
        month = 1 + i % months
        lines.append(f"{prefix}-{i};{1 + i % 28:02d}/{month:02d}/2025 {i % 24:02d}:{i % 60:02d};;;"
                     f"5,{37000 + i % 900:05d};43,{29000 + i % 700:05d};Vol;appel_usager;récit;PM{i % 50:04d};\n")
    return "".join(lines)


# -- synthetic canonical events (committed directly) -------------------------------------------------------------
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


def commit_all(store: Store, city: CityProfile, seed: int = 7, n: int = 900) -> None:
    rng = np.random.default_rng(seed)
    for source in SOURCES:
        for half in (0, 1):                                  # two batches per source
            batch_id = f"{source}-{seed}-{half}"
            events = make_events(city, rng, n, source, batch_id)
            store.commit(Batch(batch_id, source, f"{source}.csv", "0" * 64, events.num_rows, events=events))


@pytest.fixture(scope="session")
def master(factory: StoreFactory, tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> Path:
    """The root of a store of the synthetic events (three sources, two batches each), built once per factory."""
    root = tmp_path_factory.mktemp(f"master-{factory.name}") / "store"
    commit_all(factory(root, city), city)
    return root


@pytest.fixture
def root(master: Path, tmp_path: Path) -> Path:
    """A private copy of ``master``, to write to."""
    copy = tmp_path / "store"
    shutil.copytree(master, copy)
    return copy


# -- the capabilities against the raw events ---------------------------------------------------------------------
def assert_same(store: Store, city: CityProfile, *, themes=THEMES[:3], periods=PERIODS[:4],
                cells=(250.0,), rolled: bool = True) -> None:
    """Every theme's daily counts, and grid counts per period (first two themes) and cell size
    (the first with every period, the others with the first two): with the store's capabilities
    == from the raw events; ``rolled``: whether the capabilities answer (else None)."""
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


def grid_counts(store: Store, cgrid, **scope) -> tuple[np.ndarray, int]:
    """Grid counts with the store's capabilities (from its raw events where they do not answer)."""
    return query_cell_counts(store.events(), cgrid, store=store, **scope)


def answered(store: Store, cgrid, **scope) -> bool:
    """Whether the store's ``cell_counts`` answers for ``cgrid`` (not None)."""
    origin = (cgrid.lon0, cgrid.lat0, cgrid.grid.x0, cgrid.grid.y0)
    return store.cell_counts(origin=origin, cell_m=cgrid.grid.cell_size, **scope) is not None
