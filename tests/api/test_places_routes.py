"""/api/v1/hotspots and /api/v1/forecasts on the small synthetic store of conftest.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from observatoire.city.profile import CityProfile
from observatoire.store.parquet import ParquetStore


def _located(files: Sequence[Path], start: date | None = None, end: date | None = None,
             sources: Sequence[str] = ()) -> int:
    where = ["lon IS NOT NULL", "lat IS NOT NULL"]
    if start:
        where.append(f"occurred_at >= TIMESTAMPTZ '{start.isoformat()} 00:00:00+00'")
    if end:
        where.append(f"occurred_at < TIMESTAMPTZ '{end.isoformat()} 00:00:00+00'")
    if sources:
        where.append("source IN (" + ", ".join(f"'{s}'" for s in sources) + ")")
    files_sql = ", ".join(f"'{f}'" for f in files)
    with duckdb.connect() as con:
        row = con.sql(f"SELECT count(*) FROM read_parquet([{files_sql}], hive_partitioning = false) "
                      f"WHERE {' AND '.join(where)}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def hotspots(client: TestClient) -> dict[str, Any]:
    r = client.get("/api/v1/hotspots?start=2024-01-01&end=2025-01-01")
    assert r.status_code == 200, r.text
    return dict(r.json())


@pytest.fixture(scope="module")
def forecast(client: TestClient) -> dict[str, Any]:
    r = client.get("/api/v1/forecasts?method=grid_etas&k=0.05&seed=7")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_when_hotspots_then_cells_lie_in_the_city(hotspots: dict[str, Any], city: CityProfile) -> None:
    assert hotspots["type"] == "FeatureCollection"
    assert len(hotspots["features"]) == hotspots["grid"]["cells_in_city"] > 100
    cells = [shape(f["geometry"]) for f in hotspots["features"]]
    share = shapely.area(shapely.intersection(city.outline, cells)) / shapely.area(cells)
    assert (share > 0).mean() > 0.99
    assert hotspots["attribution"] == city.attribution
    assert hotspots["parameters"] == {"method": "gi_star", "cell_m": 250.0, "alpha": 0.05, "bandwidth_m": 500.0,
                                      "seed": 0}


@pytest.mark.parametrize("query,start,end,sources", [
    ("start=2024-01-01&end=2025-01-01", date(2024, 1, 1), date(2025, 1, 1), ()),
    ("source=verbalisations", None, None, ("verbalisations",)),
    ("start=2024-03-01&end=2024-04-01&source=mains_courantes", date(2024, 3, 1), date(2024, 4, 1),
     ("mains_courantes",)),
])
def test_when_hotspots_then_counts_sum_to_located_events(
    client: TestClient, store: ParquetStore, query: str, start: date | None, end: date | None,
    sources: tuple[str, ...],
) -> None:
    payload = client.get(f"/api/v1/hotspots?{query}").json()
    expected = _located(store.event_files(), start, end, sources)
    assert sum(f["properties"]["count"] for f in payload["features"]) == expected == payload["located"]
    assert payload["outside"] == 0


def test_when_gi_star_then_hot_flags_follow_adjusted_p(hotspots: dict[str, Any]) -> None:
    props = [f["properties"] for f in hotspots["features"]]
    hot = [p for p in props if p["hot"]]
    assert hot and len(hot) == hotspots["hot_cells"]
    for p in props:
        significant = p["p_adjusted"] is not None and p["p_adjusted"] <= 0.05
        assert p["hot"] == (significant and p["z"] > 0)
        assert p["cold"] == (significant and p["z"] < 0)
    # Gi* looks at the neighbourhood: a zero cell next to a busy one may be hot, but the busiest cell is.
    assert max(props, key=lambda p: p["count"])["hot"]


def test_when_kde_then_densities_and_no_gi_fields(client: TestClient) -> None:
    payload = client.get("/api/v1/hotspots?method=kde&bandwidth_m=800").json()
    props = [f["properties"] for f in payload["features"]]
    assert all(p["z"] is None and p["density"] is not None and p["density"] >= 0 for p in props)
    assert max(p["density"] for p in props) > 0
    assert payload["kde_points"] == payload["located"]


def test_when_forecast_then_top_cells_cover_at_most_k(forecast: dict[str, Any]) -> None:
    n_city = forecast["grid"]["cells_in_city"]
    features = forecast["features"]
    assert len(features) == int(np.floor(0.05 * n_city + 1e-9))
    assert forecast["area_share"] == pytest.approx(len(features) / n_city) and forecast["area_share"] <= 0.05
    scores = [f["properties"]["score"] for f in features]
    assert scores == sorted(scores, reverse=True)
    assert [f["properties"]["rank"] for f in features] == list(range(1, len(features) + 1))
    assert len({f["id"] for f in features}) == len(features)
    assert forecast["window"] == {"start": "2025-03-01", "end": "2025-03-08", "timezone": "UTC"}


def test_when_forecast_then_evaluation_beside_naive(forecast: dict[str, Any]) -> None:
    ev = forecast["evaluation"]
    assert len(ev["origins"]) == 8 and ev["origins"][-1] == "2025-02-22"
    assert [s["method"] for s in ev["summary"]] == ["grid_etas", "naive"]
    assert [r["method"] for r in ev["per_origin"]] == ["grid_etas", "naive"] * 8
    for summary in ev["summary"]:
        for metric in ("hit_rate", "pai", "pei"):
            m = summary[metric]
            values = [r[metric] for r in ev["per_origin"] if r["method"] == summary["method"] and r[metric] is not None]
            assert m["mean"] == pytest.approx(np.mean(values)) and m["origins"] == len(values)
            assert m["ci_low"] <= m["mean"] <= m["ci_high"]


def test_when_same_seed_then_same_response(client: TestClient, forecast: dict[str, Any]) -> None:
    again = client.get("/api/v1/forecasts?method=grid_etas&k=0.05&seed=7").json()
    assert again == forecast
    other = client.get("/api/v1/forecasts?method=grid_etas&k=0.05&seed=8").json()
    assert other["evaluation"]["summary"] != forecast["evaluation"]["summary"]


@pytest.mark.parametrize("method", ["naive", "historical_average", "prospective", "st_etas"])
def test_when_other_methods_then_forecast_and_evaluation(client: TestClient, method: str) -> None:
    r = client.get(f"/api/v1/forecasts?method={method}&origins=3&source=mains_courantes")
    assert r.status_code == 200, r.text
    summary = [s["method"] for s in r.json()["evaluation"]["summary"]]
    assert summary == (["naive"] if method == "naive" else [method, "naive"])   # the baseline is listed once


def test_when_trained_on_independent_reports_then_said_and_only_those_learnt(client: TestClient) -> None:
    query = "/api/v1/forecasts?method=naive&origins=3&source=mains_courantes"
    everything = client.get(query).json()
    independent = client.get(query + "&training=independent").json()
    assert independent["parameters"]["training"] == "independent" and everything["parameters"]["training"] == "all"
    # every event of this store was reported independently: the same cells, learnt from the same events
    assert independent["training_events"] == everything["training_events"] > 0
    assert [f["id"] for f in independent["features"]] == [f["id"] for f in everything["features"]]


@pytest.mark.parametrize("route,query,needle", [
    ("forecasts", "training=mine", "training: expected all or independent"),
    ("forecasts", "method=oracle", "unknown method"),
    ("forecasts", "end=2025-06-01", "after the data"),
    ("forecasts", "end=2023-12-01", "too late"),
    ("forecasts", "horizon_days=30&train_days=14", "must not exceed"),
    ("forecasts", "horizon_days=0", "horizon_days"),
    ("forecasts", "k=0", "invalid parameter k"),
    ("forecasts", "k=0.0001", "k="),
    ("forecasts", "end=2025-02-30", "not a date"),
    ("forecasts", "source=nowhere", "unknown source"),
    ("forecasts", "source=hospital", "no event with a place"),
    ("forecasts", "origins=1", "origins"),
    ("forecasts", "seed=-1", "seed"),
    ("hotspots", "method=lisa", "method"),
    ("hotspots", "cell_m=5", "cell_m"),
    ("hotspots", "alpha=0", "alpha"),
    ("hotspots", "start=2024-05-01&end=2024-04-01", "period is empty"),
    ("hotspots", "category=unicorn", "unknown category"),
    ("hotspots", "cell_m=abc", "cell_m"),
])
def test_when_bad_input_then_422_one_line(client: TestClient, route: str, query: str, needle: str) -> None:
    r = client.get(f"/api/v1/{route}?{query}")
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and needle in detail


def test_when_period_has_no_event_then_hotspots_are_zeros_not_500(client: TestClient) -> None:
    r = client.get("/api/v1/hotspots?start=2030-01-01&end=2030-02-01")
    assert r.status_code == 200
    payload = r.json()
    assert payload["located"] == 0 and payload["hot_cells"] == 0
    assert all(f["properties"]["z"] is None for f in payload["features"])
