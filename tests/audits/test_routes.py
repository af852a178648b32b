"""The /api/v1/audits routes on a small synthetic store (bare app, no authentication)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_provenance_counts_every_event_by_zone_and_discovery(audit_client: TestClient) -> None:
    r = audit_client.get("/api/v1/audits/provenance", params={"start": "2024-01-01", "end": "2025-01-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["zones"]) == 16
    assert sum(body["totals"].values()) == 3600
    assert body["totals"]["automated"] == 0 and body["totals"]["unknown"] == 0
    # hospital admissions are independent: 600 of them plus about half the logbook entries
    assert 600 + 1300 < body["totals"]["independent"] < 600 + 1700


def test_zone_counts_filter_on_discovery(audit_store, audit_city) -> None:
    from observatoire.analytics.counts import zone_counts

    events = audit_store.events()

    def total(**filters: list[str]) -> int:
        return sum(zone_counts(events, **filters)["count"].to_pylist())

    n_dir, n_ind = total(discoveries=["directed"]), total(discoveries=["independent"])
    assert n_dir + n_ind == 3600
    # hospital admissions are all independent: a swapped filter would put them on the directed side
    assert total(sources=["hospital"], discoveries=["independent"]) == 600
    assert total(sources=["hospital"], discoveries=["directed"]) == 0


def test_fairness_of_a_forecast_allocation(audit_client: TestClient, audit_city) -> None:
    r = audit_client.get("/api/v1/audits/fairness", params={"method": "historical_average", "cell_m": 1000,
                                                             "train_days": 180, "k": 0.1})
    assert r.status_code == 200, r.text
    body = r.json()
    groups = {g["group"]: g for g in body["audit"]["groups"]}
    assert set(groups) == {"less_deprived", "more_deprived"}
    assert abs(sum(g["residents"] for g in groups.values()) - audit_city.population) < 1.0
    assert {x["measure"] for x in body["audit"]["ratios"]} == {"per_resident", "per_need"}
    assert body["accuracy"]["by_group"]["overall"]["hit_rate"] is not None


def test_fairness_of_hotspots_and_bad_method(audit_client: TestClient) -> None:
    assert audit_client.get("/api/v1/audits/fairness", params={"allocation": "hotspots", "cell_m": 1000}
                            ).status_code == 200
    r = audit_client.get("/api/v1/audits/fairness", params={"method": "oracle"})
    assert r.status_code == 422 and "unknown method" in r.json()["detail"]


def test_feedback_loop_monitor_route(audit_client: TestClient) -> None:
    r = audit_client.get("/api/v1/audits/feedback-loop", params={"window_days": 30, "seed": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["windows"]) == 12 and 0 < body["p_value"] <= 1
    assert audit_client.get("/api/v1/audits/feedback-loop", params={"window_days": 90}).status_code == 422


def test_urn_route_bounded(audit_client: TestClient) -> None:
    r = audit_client.get("/api/v1/audits/urn", params={"days": 5000, "runs": 50, "corrected": True, "seed": 3})
    assert r.status_code == 200 and abs(r.json()["mean_final_share"] - 0.6) < 0.03
    assert audit_client.get("/api/v1/audits/urn", params={"days": 20000, "runs": 200}).status_code == 422
    city = audit_client.get("/api/v1/audits/urn", params={"model": "city", "days": 300, "update": "true"})
    assert city.status_code == 200 and len(city.json()["zones"]) == 16


def test_stops_route_refuses_unlawful_column_then_says_there_are_no_stops(audit_client: TestClient) -> None:
    r = audit_client.get("/api/v1/audits/stops", params={"group_column": "ethnicity"})
    assert r.status_code == 422 and "not declared lawful" in r.json()["detail"]
    r = audit_client.get("/api/v1/audits/stops")
    assert r.status_code == 422 and "no stop records" in r.json()["detail"]
