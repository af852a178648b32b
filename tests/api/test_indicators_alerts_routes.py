"""Routes over the indicators, the published rules, their alerts and the dark figure."""

from __future__ import annotations

import duckdb
from fastapi.testclient import TestClient

from observatoire.analytics.rules import load_rules


def test_the_published_rules_are_served_with_id_and_version(client: TestClient) -> None:
    body = client.get("/api/v1/rules").json()
    assert [(r["id"], r["version"]) for r in body["rules"]] == [(r.id, r.version) for r in load_rules()]
    counts = [r for r in body["rules"] if r["condition"]["kind"] == "count_anomaly"]
    assert len(counts) == 4
    assert all(set(r) >= {"title", "stream", "window_hours", "method", "target_false_alarm", "legal_basis",
                          "versions", "false_positives"} for r in counts)


def test_alerts_name_the_rule_version_that_raised_them(client: TestClient) -> None:
    response = client.get("/api/v1/alerts", params={"at": "2024-12-31", "watch_windows": 24})
    assert response.status_code == 200, response.text
    body = response.json()
    versions = {(r["id"], r["version"]) for r in body["rules"]}
    assert all((a["rule_id"], a["rule_version"]) in versions for a in body["alerts"])
    assert all(len(a["id"]) == 24 for a in body["alerts"])


def test_the_dark_figure_counts_equal_a_direct_query(client: TestClient, store) -> None:
    body = client.get("/api/v1/dark-figure", params={"start": "2024-01-01", "end": "2025-01-01"}).json()
    files = [str(p) for p in store.event_files()]
    where = "occurred_at >= TIMESTAMPTZ '2024-01-01 00:00:00+00' AND occurred_at < TIMESTAMPTZ '2025-01-01 00:00:00+00'"
    direct = dict(duckdb.sql(
        f"SELECT zone_id, count(*) FROM read_parquet({files}) WHERE source = 'hospital' "
        f"AND category = 'assault_injury' AND {where} GROUP BY 1").fetchall())
    assert {r["zone_id"]: r["hospital"] for r in body["rows"] if r["hospital"]} == direct


def test_bad_parameters_get_a_422_with_one_line(client: TestClient) -> None:
    for url, params in [("/api/v1/indicators", {"reference": "31/12/2024"}),
                        ("/api/v1/indicators", {"reference": "2024-12-31", "method": "vibes"}),
                        ("/api/v1/indicators", {"reference": "2024-12-31", "baseline_years": 3}),
                        ("/api/v1/alerts", {"at": "tomorrow"}),
                        ("/api/v1/dark-figure", {"start": "2024-02-01", "end": "2024-01-01"})]:
        response = client.get(url, params=params)
        assert response.status_code == 422, (url, params, response.text)
        assert "\n" not in response.json()["detail"]
