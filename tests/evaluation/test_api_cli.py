"""The routes and the command line: register before the start, refuse with a reason, analyse the bound plan.

The store holds weekly hospital assault admissions with a -30 % effect injected in three
zones from 2025-01-06 (see conftest.py).
"""

from __future__ import annotations

import json
import sys

import pytest
from fastapi.testclient import TestClient

from conftest import ANALYSED, EFFECT, did_plan
from observatoire.api.app import create_app
from observatoire.errors import InputError
from observatoire.evaluation.cli import _query as _cli_query
from observatoire.evaluation.service import analyse_plan, register


def _query(settings, city):
    return _cli_query(settings, city)


def test_register_then_analyse_recovers_the_injected_effect(settings, city, clock) -> None:
    plan = register(did_plan(buffer=["13202", "13204"], selection_periods=4), settings=settings, city=city,
                    query=_query(settings, city), actor="user:sup", role="supervisor")
    assert plan["id"].startswith("ev-") and plan["power_analysis"]["power_at_mde"] > 0.8
    clock.now = ANALYSED
    result = analyse_plan(plan["id"], settings=settings, city=city, query=_query(settings, city))
    lo, hi = result["estimate"]["ci_effect"]
    assert lo <= EFFECT <= hi and hi < 0
    assert result["conclusion"].startswith("reduction detected")
    assert result["periods"]["pre_periods"] == 40 and result["periods"]["post_periods"] == 17
    assert any("interim" in d for d in result["deviations"])
    assert result["checks"]["displacement"]["verdict"] == "none_detected"
    assert "selection_excess" in result["checks"]["regression_to_mean"]
    # The same plan and store give the same result (seeded by the plan's hash).
    assert analyse_plan(plan["id"], settings=settings, city=city, query=_query(settings, city)) == result


@pytest.mark.slow
def test_synthetic_control_plan_on_the_store(settings, city, clock) -> None:
    plan = register(did_plan(design="synthetic_control", treated=[{"unit": "13201", "start": "2025-01-06"}],
                             buffer="adjacent"), settings=settings, city=city, query=_query(settings, city),
                    actor="user:sup", role="supervisor")
    clock.now = ANALYSED
    result = analyse_plan(plan["id"], settings=settings, city=city, query=_query(settings, city))
    assert result["estimate"]["placebos"] >= 8
    assert result["estimate"]["effect"] < 0
    lo, hi = result["estimate"]["ci_effect"]
    assert lo <= result["estimate"]["effect"] <= hi            # the conformal interval (CWZ 2021)
    assert 0 < result["estimate"]["p_value_conformal"] <= 1
    assert set(result["estimate"]["weights"]).isdisjoint({"13201", *plan["buffer"]})


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


def _supervisor(settings) -> dict[str, str]:
    """Headers of a supervisor's API token."""
    from observatoire.auth.tokens import Tokens

    settings.auth_dir.mkdir(parents=True, exist_ok=True)
    _, secret = Tokens(settings.auth_dir, settings.clock).issue("evaluations", "supervisor", issued_by="test")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("change, reason", [
    ({"outcome": {"source": "hospital", "categories": ["no_such_category"]}}, "outcome unknown"),
    ({"treated": [{"unit": "13201", "start": "2024-12-16"}]}, "registered after the deployment start"),
    ({"pre_periods": 3}, "too few pre-periods"),
])
def test_api_refuses_a_bad_plan_with_422_and_the_reason(settings, client, change, reason) -> None:
    response = client.post("/api/v1/evaluations", json=did_plan(**change), headers=_supervisor(settings))
    assert response.status_code == 422
    assert reason in response.json()["detail"]


def test_api_registers_a_plan_for_a_supervisor_only(settings, client) -> None:
    assert client.post("/api/v1/evaluations", json=did_plan()).status_code == 401
    response = client.post("/api/v1/evaluations", json=did_plan(), headers=_supervisor(settings))
    assert response.status_code == 201
    plan = response.json()
    assert plan["registered_by"].startswith("token:") and plan["registered_at"] == "2024-12-20T09:00:00+00:00"
    log = settings.audit_log()
    entries = list(log.entries())
    assert any(e["action"] == "evaluation_registered" and e["filters"]["plan"] == plan["id"] for e in entries)


def test_api_publishes_plans_and_gives_analyses_to_staff(settings, city, client, clock) -> None:
    plan = register(did_plan(), settings=settings, city=city, query=_query(settings, city), actor="user:sup",
                    role="supervisor")
    listed = client.get("/api/v1/evaluations").json()["evaluations"]
    assert [p["id"] for p in listed] == [plan["id"]]
    staff = _supervisor(settings)
    assert client.get(f"/api/v1/evaluations/{plan['id']}", headers=staff).json() == plan
    # the public sees the registration, not the power computed from exact pre-period counts
    public = client.get(f"/api/v1/evaluations/{plan['id']}").json()
    assert public["power_analysis_withheld"] is True and "power_analysis" not in public
    assert not [w for w in public["warnings"] if "power" in w]
    assert {k: v for k, v in public.items() if k not in ("power_analysis_withheld", "warnings")} == \
        {k: v for k, v in plan.items() if k not in ("power_analysis", "warnings")}
    assert client.get("/api/v1/evaluations/ev-000000000000").status_code == 404      # no such plan
    # the analysis reads the store: staff only (the public reads releases and the control report)
    assert client.get(f"/api/v1/evaluations/{plan['id']}/analysis").status_code == 401
    early = client.get(f"/api/v1/evaluations/{plan['id']}/analysis", headers=staff)
    assert early.status_code == 422 and "no post-period" in early.json()["detail"]
    clock.now = ANALYSED
    body = client.get(f"/api/v1/evaluations/{plan['id']}/analysis", headers=_supervisor(settings)).json()
    assert body["plan_id"] == plan["id"] and body["design"] == "staggered_did"


def _run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``observatoire evaluation ...`` through the real ``main`` (its output, error line and exit code)."""
    import observatoire.cli as cli

    monkeypatch.setattr(sys, "argv", ["observatoire", "evaluation", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_registers_and_refuses_with_an_error_line(monkeypatch, capsys, settings, tmp_path, clock) -> None:
    monkeypatch.setenv("OBSERVATOIRE_STORE", str(settings.store_dir))
    monkeypatch.setenv("OBSERVATOIRE_EVALUATIONS", str(tmp_path / "cli_plans"))
    monkeypatch.setenv("OBSERVATOIRE_AUDIT", str(tmp_path / "cli_audit"))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(did_plan(pre_periods=2)))
    code, _, err = _run_cli(monkeypatch, capsys, "register", str(bad))
    assert code == 2 and "error:" in err and "too few pre-periods" in err
    # Registered today (the real clock) for a deployment in 2025: after the start, refused.
    good = tmp_path / "plan.yaml"
    good.write_text("title: t\nhypothesis: h\noutcome: {source: hospital, categories: [assault_injury]}\n"
                    "design: staggered_did\nperiod: week\npre_periods: 8\nend: '2025-06-30'\nmde: 0.2\n"
                    "treated: [{unit: '13201', start: '2025-01-06'}]\n")
    code, _, err = _run_cli(monkeypatch, capsys, "register", str(good))
    assert code == 2 and "registered after the deployment start" in err
    code, _, err = _run_cli(monkeypatch, capsys, "analyse", "ev-000000000000")
    assert code == 2 and "unknown evaluation plan" in err
