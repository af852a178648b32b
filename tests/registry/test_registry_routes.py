"""The registry over HTTP: published rules with false-positive rates, proposals, approvals, operator feedback.

The app here mounts the registry's routers over a small in-memory store; the caller is set from test
headers where the real app's access dependency (api/access.py) would set it.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import ibis
import numpy as np
import pyarrow as pa
import pytest
import yaml
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from observatoire.api.routes import alerts as alert_routes
from observatoire.api.routes import rules as rule_routes
from observatoire.errors import InputError
from observatoire.governance.audit import AuditLog
from observatoire.registry.versions import packaged_rules_dir
from observatoire.settings import Settings

NOW = dt.datetime(2024, 7, 1, 0, 30, tzinfo=dt.UTC)
ZONES = ("13201", "13202")


def _events() -> ibis.Table:
    rng = np.random.default_rng(7)
    rows = []
    day0 = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
    for day in range(40):
        for zone in ZONES:
            n = 40 if (zone == "13202" and day == 39) else int(rng.poisson(8))
            rows += [("mains_courantes", "violence", zone,
                      day0 - dt.timedelta(days=40 - day) + dt.timedelta(minutes=int(rng.integers(1440))), None)
                     for _ in range(n)]
    rows.append(("planned_events", "planned_event", "13202", day0 - dt.timedelta(hours=5), day0 - dt.timedelta(hours=2)))
    source, category, zone, at, ends = zip(*rows)
    ts = pa.timestamp("us", tz="UTC")
    attributes = pa.array([{"planned_events": {"ends_at": e}} for e in ends],
                          pa.struct([pa.field("planned_events", pa.struct([pa.field("ends_at", ts)]))]))
    return ibis.memtable(pa.table({
        "event_id": [f"{s}:{i:024x}" for i, s in enumerate(source)], "source": source, "category": category,
        "zone_id": zone, "occurred_at": pa.array(at, ts), "attributes": attributes}))


class _Store:
    def __init__(self) -> None:
        self.events = _events()

    def query(self, fn):
        return fn(self.events)


def _principal(request: Request) -> None:
    from observatoire.api.access import Principal

    role = request.headers.get("X-Test-Role")
    if role:
        request.state.principal = Principal(role=role, login=request.headers.get("X-Test-Login"), via="token",
                                            token_id=request.headers.get("X-Test-Login"))


@pytest.fixture()
def app(tmp_path: Path) -> FastAPI:
    settings = Settings(store_dir=tmp_path / "store", registry_dir=tmp_path / "registry",
                        audit_dir=tmp_path / "audit", clock=lambda: NOW)
    app = FastAPI(dependencies=[Depends(_principal)])
    app.state.settings = settings
    app.state.audit = AuditLog(settings.audit_dir, clock=settings.clock, durable=False)
    app.state.city = SimpleNamespace(zones=[SimpleNamespace(zone_id=z) for z in ZONES])
    app.state.store = _Store()

    @app.exception_handler(InputError)
    def _422(_: Request, exc: Exception):
        from fastapi.responses import JSONResponse
        return JSONResponse({"detail": str(exc)}, status_code=422)

    app.include_router(rule_routes.router)
    app.include_router(alert_routes.router)
    return app


def as_(role: str, login: str) -> dict[str, str]:
    return {"X-Test-Role": role, "X-Test-Login": login}


def test_alerts_carry_a_stable_id_and_the_rule_version_and_the_clash_is_its_own_rule(app: FastAPI) -> None:
    client = TestClient(app)
    body = client.get("/api/v1/alerts").json()
    got = sorted((a["kind"], a["rule_id"], a["rule_version"], a["zone_id"], a["cause_rule_id"]) for a in body["alerts"])
    assert got == [("clash", "planned-event-clash", 1, "13202", "violence-logbook-surge"),
                   ("exceedance", "violence-logbook-surge", 1, "13202", None)]
    assert {s["id"] for s in body["skipped"]} == {"cctv-density-surge", "cctv-weapon-or-fire",
                                                  "operator-reports-surge"}
    again = client.get("/api/v1/alerts").json()
    assert [a["id"] for a in again["alerts"]] == [a["id"] for a in body["alerts"]]
    assert len({a["id"] for a in body["alerts"]}) == 2 and all(len(a["id"]) == 24 for a in body["alerts"])


def test_operator_feedback_gives_each_rule_its_false_positive_rate(app: FastAPI) -> None:
    client = TestClient(app)
    alerts = client.get("/api/v1/alerts").json()["alerts"]
    keys = ("rule_id", "rule_version", "zone_id", "window_start", "window_end", "planned_event_id")
    for a in alerts:
        verdict = "false" if a["kind"] == "clash" else "confirmed"
        r = client.post(f"/api/v1/alerts/{a['id']}/feedback", json={"verdict": verdict, **{k: a[k] for k in keys}},
                        headers=as_("operator", "op1"))
        assert r.status_code == 201, r.text
    exceedance = next(a for a in alerts if a["kind"] == "exceedance")
    forged = {"verdict": "false", **{k: exceedance[k] for k in keys}, "zone_id": "13201"}
    r = client.post(f"/api/v1/alerts/{exceedance['id']}/feedback", json=forged, headers=as_("operator", "op1"))
    assert r.status_code == 422 and "do not give back this alert id" in r.json()["detail"]
    r = client.post(f"/api/v1/alerts/{exceedance['id']}/feedback",
                    json={"verdict": "false", "comment": "free text", **{k: exceedance[k] for k in keys}},
                    headers=as_("operator", "op1"))
    assert r.status_code == 422                                  # no free text in a verdict
    assert client.post(f"/api/v1/alerts/{exceedance['id']}/feedback",
                       json={"verdict": "false", **{k: exceedance[k] for k in keys}}).status_code == 401
    # the public sees the rules, not the verdict counts (exact figures about alerts)
    public = {r["id"]: r for r in client.get("/api/v1/rules").json()["rules"]}
    assert all(r["false_positives"] is None and r["false_positives_withheld"] for r in public.values())
    rules = {r["id"]: r for r in client.get("/api/v1/rules", headers=as_("auditor", "aud1")).json()["rules"]}
    fp = rules["violence-logbook-surge"]["false_positives"]
    assert (fp["confirmed"], fp["false"], fp["rate"]) == (1, 0, 0.0)
    assert rules["planned-event-clash"]["false_positives"]["rate"] == 1.0
    assert rules["cctv-density-surge"]["false_positives"]["rate"] is None
    audit = app.state.audit
    assert [(e["action"], e["actor"], e["filters"]["alert"]) for e in audit.entries()] == [
        ("alert_feedback", "token:op1", a["id"]) for a in alerts]


def test_the_published_registry_lists_every_rule_with_its_versions(app: FastAPI) -> None:
    body = TestClient(app).get("/api/v1/rules").json()
    assert [r["id"] for r in body["rules"]] == sorted(p.stem for p in packaged_rules_dir().glob("*.yaml"))
    for r in body["rules"]:
        assert set(r) >= {"id", "version", "status", "title", "purpose", "legal_basis", "data_used", "owner",
                          "condition", "review_date", "versions", "false_positives", "applied"}
        assert r["versions"] == [{"version": 1, "state": "active", "status": "active", "proposed_by_role": "package",
                                  "proposed_at": None, "decided_by_role": "package", "decided_at": None}]


def test_a_proposal_needs_another_supervisor_over_http(app: FastAPI) -> None:
    client = TestClient(app)
    doc = copy.deepcopy(yaml.safe_load((packaged_rules_dir() / "violence-logbook-surge.yaml").read_text("utf-8")))
    doc.update(version=2, review_date="2026-01-31")
    url = "/api/v1/rules/violence-logbook-surge/versions"
    assert client.post(url, json=doc).status_code == 401
    assert client.post(url, json=doc, headers=as_("operator", "op1")).status_code == 403
    assert client.post(url.replace("violence", "other"), json=doc, headers=as_("analyst", "alice")).status_code == 422
    bad = {**doc, "data_used": [{"source": "mains_courantes", "fields": ["categorie", "agent"]}]}
    r = client.post(url, json=bad, headers=as_("analyst", "alice"))
    assert r.status_code == 422 and "targets or scores persons ('agent')" in r.json()["detail"]
    r = client.post(url, json=doc, headers=as_("analyst", "alice"))
    assert r.status_code == 201 and r.json()["state"] == "pending"
    approve = url + "/2/approve"
    assert client.post(approve, headers=as_("analyst", "bob")).status_code == 403
    r = client.post(approve, headers=as_("supervisor", "carol"))
    assert r.status_code == 200 and r.json()["state"] == "active"
    assert client.post(approve, headers=as_("supervisor", "carol")).status_code == 422   # no longer pending
    rule = next(r for r in client.get("/api/v1/rules").json()["rules"] if r["id"] == "violence-logbook-surge")
    assert (rule["version"], [v["state"] for v in rule["versions"]]) == (2, ["superseded", "active"])
    assert "alice" not in str(rule) and "carol" not in str(rule)      # roles are published, not staff logins
    assert {(r["id"], r["version"]) for r in client.get("/api/v1/alerts").json()["rules"]} >= {
        ("violence-logbook-surge", 2)}
    actions = [(e["action"], e["outcome"]) for e in app.state.audit.entries()]
    assert actions == [("rule_change", "denied"), ("rule_change", "ok"), ("rule_approval", "denied"),
                       ("rule_approval", "ok")]


def test_a_rule_past_its_review_date_raises_no_alert(app: FastAPI) -> None:
    app.state.settings = Settings(registry_dir=app.state.settings.registry_dir, clock=lambda: NOW.replace(year=2028))
    body = TestClient(app).get("/api/v1/alerts", params={"at": "2024-06-30"}).json()
    assert body["alerts"] == [] and body["rules"] == []
    assert all("review date 2027-11-30 has passed" in s["reason"] for s in body["skipped"])
