"""The OpenAPI document tells the truth: every answer has the body its schema says (refusals and failures
included, as one line), each route documents the refusals it may give, days are ``date``s, what a request may
cost is bounded and documented, and every failure is answered for what it is."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb
import jsonschema_rs
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from conftest import add_role_accounts, governance_settings, login_as

from observatoire.api.access import app_routes, route_keys
from observatoire.api.app import create_app
from observatoire.api.deps import StoreReader
from observatoire.errors import StoreError
from observatoire.governance.access import ACCESS, PUBLIC

DATE_PARAMETERS = {"start", "end", "at", "reference"}
# Requests of every JSON route whose answer the suite checks against the document (role, path and query).
ANSWERS = [
    ("supervisor", "/health"), ("supervisor", "/api/v1/meta"), ("supervisor", "/api/v1/zones?source=mains_courantes"),
    ("supervisor", "/api/v1/hotspots?cell_m=1000"), ("supervisor", "/api/v1/hotspots?method=kde&cell_m=1000"),
    ("supervisor", "/api/v1/forecasts?method=naive&origins=2&cell_m=1000"),
    ("supervisor", "/api/v1/indicators"), ("supervisor", "/api/v1/alerts?at=2025-01-15&watch_windows=8"),
    ("supervisor", "/api/v1/dark-figure"), ("supervisor", "/api/v1/rules"), ("anonymous", "/api/v1/rules"),
    ("supervisor", "/api/v1/events?limit=2"), ("dpo", "/api/v1/audit?limit=3"),
    ("auditor", "/api/v1/audit?limit=2&verify=true"), ("supervisor", "/api/v1/audits/provenance"),
    ("supervisor", "/api/v1/audits/fairness?method=naive&cell_m=1000"),
    ("supervisor", "/api/v1/audits/fairness?allocation=hotspots&cell_m=1000"),
    ("supervisor", "/api/v1/audits/feedback-loop"), ("supervisor", "/api/v1/audits/urn?days=100&runs=3"),
    ("supervisor", "/api/v1/audits/urn?model=city&days=50"), ("supervisor", "/api/v1/audits/stops"),
    ("anonymous", "/api/v1/evaluations"), ("anonymous", "/api/v1/evaluations/ev-000000000000"),
    ("anonymous", "/api/v1/register"), ("supervisor", "/api/v1/aipd"), ("anonymous", "/api/v1/me"),
    ("supervisor", "/api/v1/me"), ("admin", "/api/v1/tokens"), ("anonymous", "/api/v1/public/releases"),
    ("anonymous", "/api/v1/public/ledger"), ("anonymous", "/api/v1/public/releases/2024-01"),
    ("anonymous", "/api/v1/zones"), ("analyst", "/api/v1/audit"), ("supervisor", "/api/v1/forecasts?horizon_days=29"),
]
PURPOSES = {"supervisor": "operational_analysis", "analyst": "operational_analysis", "dpo": "data_subject_request",
            "auditor": "audit_control"}


@pytest.fixture(scope="module")
def spec(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


@pytest.fixture(scope="module")
def clients(app: FastAPI):
    made: dict[str, TestClient] = {}
    yield lambda role: made.get(role) or made.setdefault(
        role, TestClient(app) if role == "anonymous" else login_as(TestClient(app), role))
    for c in made.values():
        c.close()


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return spec["paths"][path][method.lower()]


def _template(app: FastAPI, path: str) -> str:
    for route in app_routes(app):
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            return route.path
    raise AssertionError(f"no route for {path}")


@pytest.mark.parametrize("role, url", ANSWERS, ids=[f"{r} {u}" for r, u in ANSWERS])
def test_every_answer_has_the_body_and_status_its_operation_documents(app: FastAPI, spec: dict[str, Any], clients,
                                                                      role: str, url: str) -> None:
    headers = {"X-Purpose": PURPOSES[role]} if role in PURPOSES and "/events" in url else {}
    response = clients(role).get(url, headers=headers)
    operation = _operation(spec, "GET", _template(app, url.split("?")[0]))
    assert str(response.status_code) in operation["responses"], (url, response.status_code, response.text[:300])
    documented = operation["responses"][str(response.status_code)]["content"]["application/json"]["schema"]
    errors = [e.message for e in _validator(spec, documented).iter_errors(response.json())]
    assert errors == [], (url, response.status_code, errors[:3])


def test_422_bodies_are_one_line_as_documented_never_pydantic_s_list(spec: dict[str, Any], client: TestClient) -> None:
    error_message = {"$ref": "#/components/schemas/ErrorMessage"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status[0] in "45":
                    assert answer["content"]["application/json"]["schema"] == error_message, (method, path, status)
    for url in ("/api/v1/zones?start=yesterday", "/api/v1/hotspots?cell_m=abc&alpha=9", "/api/v1/events?limit=0"):
        body = client.get(url).json()
        assert _validator(spec, error_message).is_valid(body) and "\n" not in body["detail"], url


def test_every_route_documents_the_refusals_the_access_policy_gives_it(app: FastAPI, spec: dict[str, Any]) -> None:
    for (method, path), _ in route_keys(app):
        if path not in spec["paths"]:
            continue                                             # pages and documentation: not operations
        responses = _operation(spec, method, path)["responses"]
        assert {"401", "429"} <= set(responses), (method, path)          # a refused credential, anywhere
        requirement = ACCESS[(method, path)]
        if requirement.roles != PUBLIC or method != "GET":
            assert "403" in responses, (method, path)
        if requirement.dataset == "events":
            assert "503" in responses, (method, path)


def test_an_anonymous_caller_of_a_closed_route_gets_the_documented_401(spec: dict[str, Any], anonymous: TestClient
                                                                       ) -> None:
    response = anonymous.get("/api/v1/hotspots")
    assert response.status_code == 401 and "401" in _operation(spec, "GET", "/api/v1/hotspots")["responses"]


@pytest.mark.parametrize("role, url", [
    ("anonymous", "/api/v1/evaluations/ev-000000000000"), ("anonymous", "/api/v1/evaluations/not-a-plan"),
    ("supervisor", "/api/v1/evaluations/ev-0123456789ab/analysis"), ("anonymous", "/api/v1/public/releases/2024-01"),
    ("anonymous", "/api/v1/public/releases/2024-01/zones.csv"), ("anonymous", "/api/v1/public/releases/x/y"),
])
def test_an_unknown_plan_or_release_is_a_documented_404(app: FastAPI, spec: dict[str, Any], clients, role: str,
                                                        url: str) -> None:
    response = clients(role).get(url)
    assert response.status_code == 404, response.text
    assert "404" in _operation(spec, "GET", _template(app, url))["responses"]


def test_an_unknown_token_is_a_documented_404(spec: dict[str, Any], clients) -> None:
    admin = clients("admin")
    me = admin.get("/api/v1/me").json()
    response = admin.delete("/api/v1/tokens/tok-unknown", headers={"X-CSRF-Token": me["csrf_token"]})
    assert response.status_code == 404
    assert "404" in _operation(spec, "DELETE", "/api/v1/tokens/{token_id}")["responses"]


def test_every_day_parameter_is_a_date(spec: dict[str, Any]) -> None:
    seen = 0
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in DATE_PARAMETERS:
                    schema = parameter["schema"]
                    formats = {s.get("format") for s in schema.get("anyOf", [schema]) if s.get("type") == "string"}
                    assert formats == {"date"}, (path, parameter["name"], schema)
                    seen += 1
    assert seen >= 15


@pytest.mark.parametrize("url", ["/api/v1/zones?start=0001-01-01", "/api/v1/alerts?at=9999-12-31",
                                 "/api/v1/forecasts?end=0001-01-01", "/api/v1/indicators?reference=9999-12-31"])
def test_a_day_at_the_calendar_s_edges_is_refused_not_overflowed(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422 and "outside the years 1900 to 2199" in response.json()["detail"]


def test_options_and_undeclared_methods_get_405_with_allow(app: FastAPI, client: TestClient) -> None:
    methods: dict[str, set[str]] = {}
    for (method, path), _ in route_keys(app):
        methods.setdefault(path, set()).add(method)
    assert len(methods) > 30
    for path, allowed in methods.items():
        url = path.replace("{version}", "1").replace("{", "").replace("}", "")
        if path == "/static":
            url, allowed = "/static/app.css", {"GET", "HEAD"}
        for method in ("OPTIONS", "PATCH"):
            response = client.request(method, url)
            assert response.status_code == 405, (method, url, response.status_code)
            assert set(response.headers["allow"].replace(" ", "").split(",")) - {"HEAD"} == allowed - {"HEAD"}, url


# --------------------------------------------------------------------------- what a request may cost


@pytest.mark.parametrize("url, needle", [
    ("/api/v1/forecasts?horizon_days=29", "invalid parameter horizon_days: must not exceed 28"),
    ("/api/v1/audits/fairness?horizon_days=29", "invalid parameter horizon_days: must not exceed 28"),
    ("/api/v1/forecasts?method=grid_etas&max_train_events=20001", "must not exceed the grid_etas method's own cap"),
    ("/api/v1/forecasts?max_train_events=200001", "invalid parameter max_train_events: must not exceed 200000"),
    ("/api/v1/audits/fairness?method=st_etas&max_train_events=5000", "st_etas method's own cap (4,000)"),
    ("/api/v1/hotspots?method=kde&cell_m=100&bandwidth_m=501", "must not exceed 5 × cell_m (500)"),
    ("/api/v1/hotspots?cell_m=50", "more than the 60,000 an answer may cost"),
    ("/api/v1/forecasts?horizon_days=14&train_days=7", "must not exceed train_days"),
])
def test_an_expensive_request_beyond_its_documented_limit_is_refused_at_once(client: TestClient, url: str,
                                                                            needle: str) -> None:
    response = client.get(url)
    assert response.status_code == 422 and needle in response.json()["detail"], response.text


def test_the_limits_are_in_the_parameters_schema_and_description(spec: dict[str, Any]) -> None:
    def parameter(path: str, name: str) -> dict[str, Any]:
        return next(p for p in _operation(spec, "GET", path)["parameters"] if p["name"] == name)

    def bound(schema: dict[str, Any], key: str) -> Any:
        return next(s[key] for s in schema.get("anyOf", [schema]) if key in s)

    for path in ("/api/v1/forecasts", "/api/v1/audits/fairness"):
        horizon = parameter(path, "horizon_days")
        assert bound(horizon["schema"], "maximum") == 28 and "at most 28" in horizon["description"]
        cap = parameter(path, "max_train_events")
        assert bound(cap["schema"], "maximum") == 200_000 and "method's own" in cap["description"]
    assert "5 × cell_m" in parameter("/api/v1/hotspots", "bandwidth_m")["description"]
    assert "60,000 cells" in parameter("/api/v1/hotspots", "cell_m")["description"]
    assert bound(parameter("/api/v1/events", "limit")["schema"], "maximum") == 1000


def test_a_kde_within_its_limits_still_answers(client: TestClient) -> None:
    response = client.get("/api/v1/hotspots?method=kde&cell_m=500&bandwidth_m=2500")
    assert response.status_code == 200 and response.json()["kde_points"] > 0


# --------------------------------------------------------------------------- failures answered for what they are


class _Failing:
    """A store whose engine fails with ``exc`` (a message quoting what a caller sent)."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def manifest(self):
        return type("M", (), {"generation": 1})()

    def events(self):
        raise self.exc


def _broken_app(tmp_path: Path, exc: Exception) -> TestClient:
    app = create_app(governance_settings(tmp_path / "gov", store_dir=tmp_path / "store"))
    add_role_accounts(app)
    app.state.store = StoreReader(_Failing(exc))
    return login_as(TestClient(app), "analyst")


@pytest.mark.parametrize("exc, status, says", [
    (duckdb.IOException("IO Error: No files found that match /store/events/secret-zone.parquet"), 503,
     "the store cannot be read right now (IOException); retry"),
    (StoreError("the manifest names a file that is missing"), 503,
     "the store cannot be read: the manifest names a file that is missing"),
    (duckdb.BinderException("Binder Error: column 'secret-zone' not found"), 500, "internal error"),
    (KeyError("secret-zone"), 500, "internal error"),
    (ZeroDivisionError("secret-zone"), 500, "internal error"),
])
def test_each_failure_is_answered_for_what_it_is_and_logged_without_what_was_sent(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, exc: Exception, status: int, says: str) -> None:
    with _broken_app(tmp_path, exc) as client, caplog.at_level(logging.ERROR, logger="observatoire.api"):
        response = client.get("/api/v1/zones?source=secret-zone-code&start=2024-01-01")
    assert response.status_code == status and response.json()["detail"].startswith(says), response.text
    assert "secret" not in response.text and "/store/" not in response.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "secret" not in logged
    if status == 500:
        assert f"internal error on GET /api/v1/zones: {type(exc).__name__}" in logged
    audit = client.app.state.audit
    failed = [e for e in audit.entries() if e["action"] == "consult" and e["outcome"] == "failed"]
    assert failed and failed[-1]["detail"]["status"] == status            # the audit says what the caller got


def test_the_audit_entry_of_a_read_counts_what_the_route_handed_over(tmp_path: Path, store_dir: Path) -> None:
    app = create_app(governance_settings(tmp_path / "gov", store_dir=store_dir))
    add_role_accounts(app)
    with login_as(TestClient(app), "dpo") as dpo:
        body = dpo.get("/api/v1/audit?limit=2").json()
        events = dpo.get("/api/v1/events?limit=4", headers={"X-Purpose": "data_subject_request"}).json()
        listed = dpo.get("/api/v1/audit?limit=5").json()["entries"]
    reads = {e["detail"]["path"]: e for e in listed if e["action"] == "consult"}
    assert reads["/api/v1/audit"]["rows"] == body["count"] >= 1
    assert reads["/api/v1/events"]["rows"] == events["count"] == 4 and reads["/api/v1/events"]["recipient"] is None


def test_every_json_route_answers_a_named_model(spec: dict[str, Any]) -> None:
    untyped = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            ok = next(v for k, v in operation["responses"].items() if k.startswith("2"))
            schema = ok.get("content", {}).get("application/json", {}).get("schema")
            if schema is None or schema.get("type") == "string":      # not JSON, or a file (release.json)
                continue
            if "$ref" not in schema and not all("$ref" in s for s in schema.get("anyOf", [{}])):
                untyped.append(f"{method.upper()} {path}: {schema}")
    assert untyped == []
