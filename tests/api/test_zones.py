"""``GET /api/v1/zones``: counts equal a direct DuckDB query, rates follow, bad input gives a 422."""

from __future__ import annotations

from datetime import date
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from observatoire.city.profile import CityProfile

# (query string, the same filters as keyword arguments of duckdb_counts)
CASES: list[tuple[str, dict[str, Any]]] = [
    ("", {}),
    ("start=2024-01-01&end=2025-01-01", {"start": date(2024, 1, 1), "end": date(2025, 1, 1)}),
    ("source=mains_courantes", {"sources": ["mains_courantes"]}),
    ("source=mains_courantes&source=verbalisations", {"sources": ["mains_courantes", "verbalisations"]}),
    ("source=municipal_reports,verbalisations", {"sources": ["municipal_reports", "verbalisations"]}),
    ("category=theft", {"categories": ["theft"]}),
    ("category=parking_offence,traffic_offence&start=2024-06-01",
     {"categories": ["parking_offence", "traffic_offence"], "start": date(2024, 6, 1)}),
    ("source=mains_courantes&category=violence&start=2024-03-01&end=2024-09-01",
     {"sources": ["mains_courantes"], "categories": ["violence"], "start": date(2024, 3, 1), "end": date(2024, 9, 1)}),
    ("end=2024-01-01", {"end": date(2024, 1, 1)}),
    # UTC month boundaries: 2024-04-01T00:00Z is in April, 2024-03-31T23:30Z is not.
    ("start=2024-04-01&end=2024-05-01", {"start": date(2024, 4, 1), "end": date(2024, 5, 1)}),
    ("start=2024-03-01&end=2024-04-01&source=mains_courantes",
     {"start": date(2024, 3, 1), "end": date(2024, 4, 1), "sources": ["mains_courantes"]}),
    ("source=verbalisations", {"sources": ["verbalisations"]}),
]


def _counts(payload: dict[str, Any]) -> dict[str, int]:
    return {f["properties"]["zone_id"]: f["properties"]["count"] for f in payload["features"]}


@pytest.mark.parametrize(("query", "filters"), CASES, ids=[q or "all" for q, _ in CASES])
def test_when_filtered_then_counts_equal_duckdb(client: TestClient, reference_counts: Callable[..., dict],
                                                city: CityProfile, query: str, filters: dict[str, Any]) -> None:
    response = client.get(f"/api/v1/zones?{query}")
    assert response.status_code == 200, response.text
    payload = response.json()
    expected = reference_counts(**filters)
    assert set(expected) - {None} <= city.zone_ids
    assert _counts(payload) == {z.zone_id: expected.get(z.zone_id, 0) for z in city.zones}
    assert payload["unlocated"] == expected.get(None, 0)
    assert payload["total"] == sum(expected.values())


def test_when_counted_then_most_filters_select_something(client: TestClient) -> None:
    # Guards the comparisons above against passing on empty results.
    for query, _ in CASES:
        assert client.get(f"/api/v1/zones?{query}").json()["total"] > 0, query


def test_when_boundary_then_utc_month_decides(client: TestClient, reference_counts: Callable[..., dict]) -> None:
    march = reference_counts(start=date(2024, 3, 31), end=date(2024, 4, 1))
    april_first = reference_counts(start=date(2024, 4, 1), end=date(2024, 4, 2))
    assert march.get("13201", 0) >= 1 and april_first.get("13201", 0) >= 1
    got = _counts(client.get("/api/v1/zones?start=2024-03-31&end=2024-04-01").json())
    assert got["13201"] == march["13201"]


def test_when_counted_then_rates_are_per_1000_residents(client: TestClient, city: CityProfile) -> None:
    payload = client.get("/api/v1/zones?start=2024-01-01&end=2025-01-01").json()
    for feature in payload["features"]:
        p = feature["properties"]
        zone = city.zone(p["zone_id"])
        assert p["population"] == zone.population
        assert p["rate_per_1000"] == round(p["count"] / zone.population * 1000, 2)


def test_when_zone_has_no_event_then_count_and_rate_are_zero(client: TestClient, empty_zone: str) -> None:
    payload = client.get("/api/v1/zones?source=verbalisations").json()
    empty = next(f["properties"] for f in payload["features"] if f["id"] == empty_zone)
    assert (empty["count"], empty["rate_per_1000"]) == (0, 0.0)


def test_when_registered_source_has_no_data_then_zeros(client: TestClient) -> None:
    payload = client.get("/api/v1/zones?source=hospital").json()
    assert payload["total"] == 0 and all(f["properties"]["count"] == 0 for f in payload["features"])


def test_when_requested_then_payload_is_geojson_with_members(client: TestClient, city: CityProfile) -> None:
    payload = client.get("/api/v1/zones?start=2024-01-01&end=2024-07-01&source=mains_courantes,verbalisations"
                         "&category=theft").json()
    assert payload["type"] == "FeatureCollection"
    assert [f["id"] for f in payload["features"]] == [z.zone_id for z in city.zones]
    for f in payload["features"]:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] in {"Polygon", "MultiPolygon"}
        assert set(f["properties"]) == {"zone_id", "name", "short_name", "population", "count", "rate_per_1000"}
    assert payload["period"] == {"start": "2024-01-01", "end": "2024-07-01", "timezone": "UTC"}
    assert payload["filters"] == {"sources": ["mains_courantes", "verbalisations"], "categories": ["theft"]}
    assert "IGN" in payload["attribution"] and "INSEE" in payload["attribution"]


def test_when_no_filter_then_period_and_filters_are_open(client: TestClient) -> None:
    payload = client.get("/api/v1/zones").json()
    assert payload["period"] == {"start": None, "end": None, "timezone": "UTC"}
    assert payload["filters"] == {"sources": None, "categories": None}


BAD = [
    ("start=2024-13-01", "start"),
    ("start=2024/01/01", "start"),
    ("end=1700000000", "end"),
    ("start=2024-01-01T00:00:00", "start"),
    ("start=2024-02-01&end=2024-02-01", "end"),
    ("start=2024-03-01&end=2024-02-01", "end"),
    ("source=nope", "unknown source"),
    ("source=mains_courantes,nope", "unknown source"),
    ("category=nope", "unknown category"),
    ("category=theft&category=nope", "unknown category"),
]


@pytest.mark.parametrize(("query", "mentions"), BAD, ids=[q for q, _ in BAD])
def test_when_input_is_bad_then_422_with_one_line(client: TestClient, query: str, mentions: str) -> None:
    response = client.get(f"/api/v1/zones?{query}")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and mentions in detail
