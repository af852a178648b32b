"""Routes over the indicators, the published rules, their alerts and the dark figure."""

from __future__ import annotations

import duckdb
from fastapi.testclient import TestClient

from observatoire.registry.versions import RuleRegistry


def test_the_published_rules_are_served_with_id_and_version(client: TestClient) -> None:
    body = client.get("/api/v1/rules").json()
    assert [(r["id"], r["version"]) for r in body["rules"]] == [(r.id, r.version) for r in RuleRegistry(None).engine_rules()]
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


def test_the_dark_figure_without_hospital_data_says_there_is_no_common_period(client: TestClient, store) -> None:
    # This store holds logbooks but no hospital record: comparing them with nothing would read as
    # "no assault reaches the hospital". The counts over a common period are checked by hand in
    # tests/analytics/test_dark_figure_ratio.py.
    files = [str(p) for p in store.event_files()]
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet({files}) WHERE source = 'hospital'").fetchone() == (0,)
    response = client.get("/api/v1/dark-figure", params={"start": "2024-01-01", "end": "2025-01-01"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("pas de période commune")


def test_indicators_choose_the_baseline_the_data_support_and_report_it(client: TestClient) -> None:
    # The store runs from 2023-11 to 2025-02: at 2025-02-28 the year to date needs 1 January 2024 for
    # one baseline year (held) and 1 January 2023 for two (not held): K = 1 is chosen and reported.
    body = client.get("/api/v1/indicators", params={"reference": "2025-02-28"}).json()
    assert body["baseline_years"] == 1 and {r["baseline_years"] for r in body["rows"]} == {1}
    assert body["excluded_sources"] == [] and set(body["sources"]) == {"mains_courantes", "verbalisations",
                                                                        "municipal_reports"}
    explicit = client.get("/api/v1/indicators", params={"reference": "2025-02-28", "baseline_years": 2})
    assert explicit.status_code == 422 and "window longer than data" in explicit.json()["detail"]


def test_bad_parameters_get_a_422_with_one_line(client: TestClient) -> None:
    for url, params in [("/api/v1/indicators", {"reference": "31/12/2024"}),
                        ("/api/v1/indicators", {"reference": "2024-12-31", "method": "vibes"}),
                        ("/api/v1/indicators", {"reference": "2024-12-31", "baseline_years": 3}),
                        ("/api/v1/alerts", {"at": "tomorrow"}),
                        ("/api/v1/dark-figure", {"start": "2024-02-01", "end": "2024-01-01"})]:
        response = client.get(url, params=params)
        assert response.status_code == 422, (url, params, response.text)
        assert "\n" not in response.json()["detail"]
