"""analytics/forecast/service.py: one allocation, published by /forecasts and audited by /audits/fairness.

The route tests run a bare app with the two routers (no authentication: the access table has its own
suite) on a small synthetic store: a year of logbook entries around a few hot places in Marseille.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import sys
import types
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from observatoire.analytics.forecast import GROUP, Forecast, MethodDefaults, training_events
from observatoire.analytics.forecast.service import AllocationSpec, ForecastService, data_extent
from observatoire.analytics.places import city_grid, place_events
from observatoire.api.deps import GridCache, StoreReader
from observatoire.api.routes import audits, forecasts
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.event.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore

START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 366
END = date(2024, 12, 1)          # an allocation date with its week observed


def _points(city: CityProfile, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points around six hot places (most events) and anywhere in the city's zones."""
    zones = list(city.zones)
    centres = [zones[i].geometry.representative_point() for i in rng.choice(len(zones), 6, replace=False)]
    lon, lat = np.empty(n), np.empty(n)
    for i in range(n):
        if rng.random() < 0.7:
            c = centres[rng.integers(len(centres))]
            lon[i], lat[i] = c.x + rng.normal(0, 0.002), c.y + rng.normal(0, 0.002)
        else:
            p = zones[rng.integers(len(zones))].geometry.representative_point()
            lon[i], lat[i] = p.x + rng.normal(0, 0.003), p.y + rng.normal(0, 0.003)
    return lon, lat


def _events(city: CityProfile, rng: np.random.Generator, source: str, n: int, located: bool) -> pa.Table:
    lon, lat = _points(city, rng, n)
    zone_of = city.zones[0].zone_id
    rows = []
    for i in range(n):
        occurred = START + timedelta(seconds=int(rng.integers(DAYS * 86400)))
        digest = hashlib.sha256(f"{source}:{i}".encode()).hexdigest()[:24]
        rows.append({
            "event_id": f"{source}:{digest}", "source": source,
            "category": "assault_injury" if source == "hospital" else ("violence" if rng.random() < 0.5 else "theft"),
            "occurred_at": occurred, "time_precision": "minute", "reported_at": occurred,
            "lon": float(lon[i]) if located else None, "lat": float(lat[i]) if located else None,
            "location_precision_m": 10.0 if located else None, "zone_id": zone_of,
            "h3_r9": None, "h3_r8": None, "h3_r7": None,
            "discovery": "independent" if source == "hospital" or rng.random() < 0.5 else "directed",
            "attributes": None, "pseudonyms": None, "batch_id": f"t-{source}", "source_file": f"{source}.csv",
            "source_row": i + 1, "ingested_at": datetime(2025, 3, 1, tzinfo=UTC), "retention_until": date(2030, 1, 1),
            "month": occurred.strftime("%Y-%m"),
        })
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> ParquetStore:
    root: Path = tmp_path_factory.mktemp("forecast_service_store")
    store = ParquetStore(root, zone_ids=city.zone_ids)
    rng = np.random.default_rng(18)
    for source, n, located in (("mains_courantes", 2500, True), ("hospital", 300, False)):
        events = _events(city, rng, source, n, located)
        store.commit(Batch(batch_id=f"t-{source}", source=source, source_file=f"{source}.csv", file_sha256="0" * 64,
                           rows_read=events.num_rows, events=events, quarantine=QUARANTINE_SCHEMA.empty_table()))
    return store


def _app(city: CityProfile, store: ParquetStore) -> FastAPI:
    app = FastAPI()
    app.state.city = city
    app.state.store = StoreReader(store)
    app.state.grids = GridCache(city)
    app.add_exception_handler(InputError, lambda _r, exc: JSONResponse({"detail": str(exc)}, status_code=422))
    app.include_router(forecasts.router)
    app.include_router(audits.router)
    return app


@pytest.fixture(scope="module")
def client(city: CityProfile, store: ParquetStore) -> Iterator[TestClient]:
    with TestClient(_app(city, store)) as c:
        yield c


# --------------------------------------------------------------------------- the spec


def test_when_a_spec_is_built_then_the_method_declares_its_cap_and_settings() -> None:
    service = ForecastService()
    kw: dict[str, Any] = {"end": END, "horizon_days": 7, "train_days": 365, "k": 0.05, "cell_m": 250.0, "seed": 0}
    grid_etas = service.spec("grid_etas", **kw)
    assert (grid_etas.max_train_events, grid_etas.settings) == (20_000, (("max_iter", 100), ("tol", 1e-4)))
    assert service.spec("st_etas", **kw).max_train_events == 4_000
    naive = service.spec("naive", **kw)
    assert (naive.max_train_events, naive.settings) == (200_000, ())
    assert service.spec("grid_etas", max_train_events=500, **kw).max_train_events == 500
    model = service.model(grid_etas)
    assert (model.max_events, model.inner.max_iter, model.inner.tol, model.inner.t_max) == (20_000, 100, 1e-4, 30.0)
    assert hash(grid_etas) == hash(service.spec("grid_etas", **kw))          # a cache key


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"method": "oracle"}, "unknown method 'oracle'; known: grid_etas"),
    ({"horizon_days": 30, "train_days": 14}, "must not exceed train_days"),
    ({"training": "mine"}, "training: expected all or independent"),
])
def test_when_parameters_are_unusable_then_input_error(kwargs: dict[str, Any], needle: str) -> None:
    args = {"method": "naive", "horizon_days": 7, "train_days": 90, "training": "all"} | kwargs
    with pytest.raises(InputError, match=needle):
        ForecastService().validate(args.pop("method"), **args)


# --------------------------------------------------------------------------- the allocation


def _table(city: CityProfile, n: int, seed: int) -> pa.Table:
    """Located events with times to the hour (as the gate coarsens some sources): many share a time."""
    rng = np.random.default_rng(seed)
    lon, lat = _points(city, rng, n)
    t = START + np.array([timedelta(hours=int(h)) for h in rng.integers(0, DAYS * 24, n)])
    return pa.table({"occurred_at": pa.array(list(t), pa.timestamp("us", tz="UTC")), "lon": lon, "lat": lat})


@pytest.mark.parametrize("method", ["historical_average", "grid_etas", "st_etas"])
def test_when_the_same_events_are_read_over_other_periods_in_another_order_then_the_allocation_is_identical(
    city: CityProfile, method: str
) -> None:
    cgrid = city_grid(city, 500.0)
    service = ForecastService()
    spec = service.spec(method, end=END, horizon_days=7, train_days=120, k=0.05, cell_m=500.0, seed=3)
    table = _table(city, 3000, 5)
    ts = table["occurred_at"].to_pylist()
    # /forecasts reads from the first backtest origin's training start, /audits/fairness from the training
    # start to the end of the allocation's week; the engine may return rows in any order.
    wide = table.filter(pa.array([t < spec.reference for t in ts]))
    narrow = table.filter(pa.array([spec.reference - timedelta(days=120) <= t < spec.reference + timedelta(days=7)
                                    for t in ts]))
    narrow = narrow.take(np.random.default_rng(1).permutation(narrow.num_rows))
    a = service.allocate(place_events(wide, cgrid, spec.reference), cgrid.grid, spec)
    b = service.allocate(place_events(narrow, cgrid, spec.reference), cgrid.grid, spec)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.cells, b.cells)
    assert a.training_events == b.training_events and a.train_start == b.train_start
    assert len(a.cells) == int(np.floor(0.05 * cgrid.grid.active.sum()))
    assert cgrid.grid.active[a.cells].all()
    assert list(a.scores[a.cells]) == sorted(a.scores[a.cells], reverse=True)


def test_when_events_are_placed_on_another_time_axis_then_allocate_refuses(city: CityProfile) -> None:
    cgrid = city_grid(city, 500.0)
    service = ForecastService()
    spec = service.spec("naive", end=END, horizon_days=7, train_days=60, k=0.05, cell_m=500.0, seed=0)
    placed = place_events(_table(city, 200, 2), cgrid, START)
    with pytest.raises(InputError, match="time axis"):
        service.allocate(placed, cgrid.grid, spec)


def test_when_the_same_forecast_is_asked_again_then_the_cache_answers_until_the_events_change(
    city: CityProfile, store: ParquetStore
) -> None:
    service = ForecastService()
    reader = StoreReader(store)
    cgrid = city_grid(city, 500.0)
    spec = service.spec("historical_average", end=END, horizon_days=7, train_days=90, k=0.05, cell_m=500.0, seed=0)
    extent = reader.query(lambda events: data_extent(events))
    calls = []

    def query(fn: Any) -> Any:
        calls.append(fn)
        return reader.query(fn)

    first = service.forecast(query, cgrid, spec, origins=3, origin_step_days=7, fingerprint=extent.fingerprint)
    again = service.forecast(query, cgrid, spec, origins=3, origin_step_days=7, fingerprint=extent.fingerprint)
    assert again is first and len(calls) == 1
    other = service.forecast(query, cgrid, spec, origins=3, origin_step_days=7, fingerprint="changed")
    assert other is not first and len(calls) == 2
    np.testing.assert_array_equal(other.allocation.cells, first.allocation.cells)
    assert [r.method for r in first.rows] == ["historical_average", "naive"] * 3
    assert list(first.summaries) == ["historical_average", "naive"]
    assert first.origins == [date(2024, 11, 10), date(2024, 11, 17), date(2024, 11, 24)]


# --------------------------------------------------------------------------- the two routes


QUERY = {"method": "grid_etas", "end": END.isoformat(), "horizon_days": 7, "train_days": 180, "k": 0.05,
         "cell_m": 500.0, "seed": 11, "source": "mains_courantes"}


def test_when_the_same_query_is_published_and_audited_then_the_allocation_is_the_same(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[AllocationSpec, list[int]]] = []
    allocate = ForecastService.allocate

    def spy(self: ForecastService, placed: Any, grid: Any, spec: AllocationSpec) -> Any:
        result = allocate(self, placed, grid, spec)
        seen.append((spec, result.cells.tolist()))
        return result

    monkeypatch.setattr(ForecastService, "allocate", spy)
    r = client.get("/api/v1/forecasts", params=QUERY | {"origins": 2})
    assert r.status_code == 200, r.text
    published = r.json()
    r = client.get("/api/v1/audits/fairness", params=QUERY | {"allocation": "forecast"})
    assert r.status_code == 200, r.text
    audited = r.json()["allocation"]
    # the same spec (method, date, windows, k, cell size, cap, EM settings, seed, filters), the same cells
    (spec_published, cells_published), (spec_audited, cells_audited) = seen
    assert spec_published == spec_audited
    assert spec_audited.settings == (("max_iter", 100), ("tol", 1e-4)) and spec_audited.max_train_events == 20_000
    assert cells_published == cells_audited and len(cells_published) > 0
    # ... and both responses say so
    assert audited["selected"] == [f["id"] for f in published["features"]] == cells_published
    assert audited["settings"] == published["parameters"]["settings"] == {"max_iter": 100, "tol": 1e-4}
    assert audited["max_train_events"] == published["parameters"]["max_train_events"] == 20_000
    assert audited["training_events"] == published["training_events"] > 0
    assert audited["training_period"] == published["training"]
    assert audited["date"] == published["window"]["start"] == END.isoformat()


def test_when_trained_on_independent_reports_then_both_routes_learn_from_those_only(client: TestClient) -> None:
    query = QUERY | {"method": "historical_average", "training": "independent"}
    published = client.get("/api/v1/forecasts", params=query | {"origins": 2}).json()
    audited = client.get("/api/v1/audits/fairness", params=query).json()["allocation"]
    everything = client.get("/api/v1/forecasts", params=query | {"origins": 2, "training": "all"}).json()
    assert audited["training"] == published["parameters"]["training"] == "independent"
    assert audited["selected"] == [f["id"] for f in published["features"]]
    assert audited["training_events"] == published["training_events"] < everything["training_events"]


def test_when_a_plugin_is_registered_then_the_routes_serve_it(
    city: CityProfile, store: ParquetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Uniformish:
        """Counts of the training window plus one: every active cell has a chance."""

        name: ClassVar[str] = "counts_plus_one"
        defaults: ClassVar[MethodDefaults] = MethodDefaults(1_000)

        def fit_predict(self, events: Any, grid: Any, *, start: float, end: float, horizon: float,
                        rng: np.random.Generator) -> Forecast:
            train = training_events(events, grid, start=start, end=end, horizon=horizon)
            return Forecast(self.name, np.where(grid.active, np.bincount(train.cell, minlength=grid.n_cells) + 1.0,
                                                0.0))

    module = types.ModuleType("fake_route_plugin")
    module.Uniformish = Uniformish  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    ep = importlib.metadata.EntryPoint("counts_plus_one", "fake_route_plugin:Uniformish", GROUP)
    real = importlib.metadata.entry_points
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda **p: [ep] if p.get("group") == GROUP else real(**p))
    with TestClient(_app(city, store)) as fresh:          # the app's service reads the group once
        r = fresh.get("/api/v1/forecasts", params=QUERY | {"method": "counts_plus_one", "origins": 2})
        assert r.status_code == 200, r.text
        assert r.json()["parameters"]["max_train_events"] == 1_000
        audited = fresh.get("/api/v1/audits/fairness", params=QUERY | {"method": "counts_plus_one"})
        assert audited.status_code == 200, audited.text
        assert audited.json()["allocation"]["selected"] == [f["id"] for f in r.json()["features"]]


# --------------------------------------------------------------------------- never before the data


def test_when_the_training_window_reaches_before_the_data_then_it_starts_with_the_data(
        client: TestClient, store: ParquetStore) -> None:
    """Days before the first event are not days without incidents: a 365-day window ending on 1 December 2024
    over data that start on 1 January 2024 trains from the data's first day, in the forecast and in every
    backtest origin (an ETAS fit over the empty month would read it as quiet time)."""
    first = data_extent(store.events()).first.date()
    assert first <= date(2024, 1, 2)
    r = client.get("/api/v1/forecasts", params=QUERY | {"origins": 2, "train_days": 365})
    assert r.status_code == 200, r.text
    assert r.json()["training"]["start"] == first.isoformat()        # not 2023-12-02


def test_the_backtest_never_trains_before_the_data_start() -> None:
    from observatoire.analytics.evaluate import rolling_origin_backtest
    from observatoire.analytics.forecast.grid import EventArrays

    starts: list[float] = []

    def recording(train: Any, grid: Any, *, start: float, end: float, horizon: float, rng: Any) -> np.ndarray:
        starts.append(start)
        return train.counts(4).astype(float)

    events = EventArrays.in_cells(np.arange(100.0), np.arange(100) % 4)
    rolling_origin_backtest(recording, events, None, np.ones(4), [60.0, 80.0], 10.0, 0.5, np.random.default_rng(0),
                            train_window=70.0, data_start=0.0)
    assert starts == [0.0, 10.0]          # 60 - 70 < 0: clipped to the data; 80 - 70 = 10
    starts.clear()
    rolling_origin_backtest(recording, events, None, np.ones(4), [60.0], 10.0, 0.5, np.random.default_rng(0),
                            train_window=70.0)
    assert starts[0] == -10.0                   # without data_start, the window as given
