"""Every route of the app × every role (and anonymous): allowed or refused exactly as the matrix says.

``EXPECTED`` is written out here on purpose (not read from ``ACCESS``): it is the reviewed matrix of
``docs/access.md``. A route of the app missing from it, or from ``ACCESS``, fails the suite.
"""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI

from observatoire.api.access import check_routes, route_keys
from observatoire.governance.access import ACCESS, PUBLIC, Requirement
from observatoire.api.app import create_app
from observatoire.api.routes import health
from observatoire.errors import InputError

from conftest import World, csrf_of_form

ANON = "anonymous"
EVERYONE = {ANON, "analyst", "operator", "supervisor", "dpo", "auditor", "admin"}
STAFF = EVERYONE - {ANON}

EXPECTED: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/health"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/docs/oauth2-redirect"): EVERYONE,
    ("GET", "/redoc"): EVERYONE,
    ("GET", "/static"): EVERYONE,
    ("GET", "/public"): EVERYONE,
    ("GET", "/public/methodologie"): EVERYONE,
    ("GET", "/api/v1/public/releases"): EVERYONE,
    ("GET", "/api/v1/public/releases/{release_id}"): EVERYONE,
    ("GET", "/api/v1/public/releases/{release_id}/{name}"): EVERYONE,
    ("GET", "/api/v1/public/ledger"): EVERYONE,
    ("GET", "/api/v1/public/report"): EVERYONE,
    ("GET", "/api/v1/meta"): {"analyst", "operator", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/zones"): {"analyst", "operator", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/rules"): EVERYONE,
    ("GET", "/api/v1/hotspots"): {"analyst", "supervisor", "auditor"},
    ("GET", "/api/v1/forecasts"): {"analyst", "supervisor", "auditor"},
    ("GET", "/api/v1/indicators"): {"analyst", "supervisor", "auditor"},
    ("GET", "/api/v1/dark-figure"): {"analyst", "supervisor", "auditor"},
    ("GET", "/api/v1/alerts"): {"operator", "supervisor", "auditor"},
    ("POST", "/api/v1/alerts/{alert_id}/feedback"): {"operator", "supervisor"},
    ("POST", "/api/v1/rules/{rule_id}/versions"): {"analyst", "supervisor"},
    ("POST", "/api/v1/rules/{rule_id}/versions/{version}/approve"): {"supervisor"},
    ("POST", "/api/v1/rules/{rule_id}/versions/{version}/reject"): {"supervisor"},
    ("GET", "/api/v1/events"): {"analyst", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/events/export"): {"dpo"},
    ("GET", "/api/v1/audit"): {"dpo", "auditor"},
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): STAFF,
    ("GET", "/login/oidc"): EVERYONE,
    ("GET", "/login/oidc/callback"): EVERYONE,
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/api/v1/tokens"): {"admin", "auditor"},
    ("POST", "/api/v1/tokens"): {"admin"},
    ("DELETE", "/api/v1/tokens/{token_id}"): {"admin"},
    ("GET", "/controle/equite"): {"analyst", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/register"): EVERYONE,
    ("GET", "/api/v1/aipd"): EVERYONE,
    ("POST", "/api/v1/evaluations"): {"supervisor"},
    ("GET", "/api/v1/evaluations"): EVERYONE,
    ("GET", "/api/v1/evaluations/{plan_id}"): EVERYONE,
    ("GET", "/api/v1/evaluations/{plan_id}/analysis"): {"analyst", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/audits/provenance"): {"analyst", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/audits/fairness"): {"analyst", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/audits/feedback-loop"): {"analyst", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/audits/urn"): {"analyst", "supervisor", "dpo", "auditor"},
    ("GET", "/api/v1/audits/stops"): {"analyst", "supervisor", "dpo", "auditor"},
}
PURPOSE = {"analyst": "operational_analysis", "supervisor": "operational_analysis", "dpo": "data_subject_request",
           "auditor": "audit_control", "operator": "alert_handling"}
# Cheap parameters: an allowed call must not be refused (401/403), whatever else it answers.
QUERY = {"/api/v1/events/export": "?recipient=cnil", "/api/v1/forecasts": "?origins=2&train_days=7&horizon_days=1&method=naive", "/api/v1/indicators": "",
         "/api/v1/hotspots": "?cell_m=2000"}


def _url(path: str) -> str:
    url = re.sub(r"\{version\}", "1", path)
    url = re.sub(r"\{[^}]+\}", "nothing", url)
    return ("/static/app.css" if url == "/static" else url) + QUERY.get(path, "")


def test_the_app_and_the_expected_matrix_name_the_same_routes(world: World) -> None:
    served = {key for key, _ in route_keys(world.app)}
    assert served - set(EXPECTED) == set(), "add these routes to EXPECTED here and to docs/access.md"
    assert set(EXPECTED) - served == set(), "routes in EXPECTED that the app does not serve"
    for key, roles in EXPECTED.items():                      # the declaration says the same as the matrix
        assert {ANON if r == "public" else r for r in ACCESS[key].roles} == roles, key


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=lambda k: f"{k[0]} {k[1]}")
def test_every_role_gets_what_the_matrix_says(world: World, key: tuple[str, str]) -> None:
    method, path = key
    before = world.last_seq()
    refused_count = 0
    for who in sorted(EVERYONE):
        headers = {} if who == ANON else {"Authorization": f"Bearer {world.tokens[who]}"}
        if who in PURPOSE:
            headers["X-Purpose"] = PURPOSE[who]
        with world.client() as c:
            if path == "/login" and method == "POST":            # with the form's CSRF token, without credentials
                body = {"data": {"csrf_token": csrf_of_form(c.get("/login").text)}}
            else:
                body = {"json": {}} if method in {"POST", "DELETE"} else {}
            response = c.request(method, _url(path), headers=headers, follow_redirects=False, **body)
        refused = response.status_code in (401, 403)
        if who in EXPECTED[key]:
            assert not refused, f"{who} refused on {method} {path}: {response.status_code} {response.text[:200]}"
        else:
            assert refused, f"{who} let through on {method} {path}: {response.status_code}"
            assert response.status_code == (401 if who == ANON else 403)
            refused_count += 1
    denied = [e for e in world.audit.entries() if e["seq"] > before and e["action"] == "authorisation_denied"]
    assert len(denied) == refused_count                       # each refusal audited exactly once
    assert all(e["detail"]["path"] == path and e["outcome"] == "denied" for e in denied)


def test_when_a_route_has_no_declared_requirement_then_create_app_refuses(world: World) -> None:
    settings = world.app.state.settings
    health.router.add_api_route("/undeclared", lambda: {"ok": True}, methods=["GET"])
    try:
        with pytest.raises(InputError, match="GET /undeclared"):
            create_app(settings)
    finally:
        health.router.routes[:] = [r for r in health.router.routes if getattr(r, "path", "") != "/undeclared"]
    create_app(settings)                                     # and without it the app starts again


def test_when_a_documentation_route_is_not_public_then_check_refuses() -> None:
    app = FastAPI()
    router = APIRouter()
    router.add_api_route("/x", lambda: 1, methods=["GET"])
    app.include_router(router)
    declared = {("GET", p): Requirement(roles=PUBLIC) for p in ("/openapi.json", "/docs", "/docs/oauth2-redirect",
                                                                 "/redoc", "/x")}
    check_routes(app, declared)
    with pytest.raises(InputError, match="without a declared requirement.*: GET /x"):
        check_routes(app, {k: v for k, v in declared.items() if k[1] != "/x"})
    with pytest.raises(InputError, match="must be public: GET /docs"):
        check_routes(app, {**declared, ("GET", "/docs"): Requirement(roles=frozenset({"admin"}))})
