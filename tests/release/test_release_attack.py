"""The release gate against an attacker: small cells, differencing, membership, and the public routes.

The attacker here is independent of the gate's own check: SciPy's ``linprog`` over the published numbers,
written afresh, with every public answer the API gives for a month.
"""

from __future__ import annotations

import csv
import json
import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from scipy.optimize import linprog
from scipy.stats import beta

from observatoire.governance.access import ACCESS
from observatoire.api.app import create_app
from observatoire.city.profile import load_city
from observatoire.governance.purge import purge
from observatoire.release.build import build_release, publish_due
from observatoire.release.config import load_release_config
from observatoire.release.mechanism import margin, measure, noise_sd
from observatoire.release.suppression import PRIMARY, PUBLISHED, SECONDARY, protect
from observatoire.release.tables import Layout, exact_matrix, numbers
from observatoire.settings import Settings, _packaged_retention_days

sys.path.insert(0, str(Path(__file__).parent))
from release_fixtures import city_month_rows, city_store, commit  # noqa: E402

NOW = datetime(2024, 3, 20, tzinfo=UTC)


# -- an attacker written apart from the gate ------------------------------------------------------------
def attack(supports: list[tuple[int, ...]], known: dict[int, int], shown: dict[int, str], k: int,
           n_cells: int) -> dict[int, tuple[float, float]]:
    """Bounds of every hidden number given the known ones and what the display says (SciPy HiGHS)."""
    def row(i: int) -> np.ndarray:
        r = np.zeros(n_cells)
        r[list(supports[i])] = 1
        return r

    a_eq = np.array([row(i) for i in known]) if known else None
    b_eq = np.array(list(known.values()), float) if known else None
    ub, bub = [], []
    for i, text in shown.items():
        if text.startswith("<"):
            ub.append(row(i)); bub.append(k - 1)
        else:                                               # masked: at least k
            ub.append(-row(i)); bub.append(-k)
    out = {}
    for i in shown:
        ends = []
        for sign in (1, -1):
            res = linprog(sign * row(i), A_ub=np.array(ub) if ub else None, b_ub=np.array(bub) if ub else None,
                          A_eq=a_eq, b_eq=b_eq, bounds=(None, None), method="highs")
            ends.append(-sign * np.inf if res.status == 3 else sign * res.fun)
        out[i] = (ends[0], ends[1])
    return out


def exact(bounds: tuple[float, float]) -> bool:
    low, high = bounds
    return np.floor(high + 1e-7) - np.ceil(low - 1e-7) < 1


def test_two_small_cells_of_a_published_margin_are_masked_further() -> None:
    # cells a, b, c; numbers: a, b, c, a+b (margin), a+b+c (total)
    supports = [(0,), (1,), (2,), (0, 1), (0, 1, 2)]
    values = [9, 9, 40, 18, 58]
    # without secondary suppression, a = b = 9 follow from a + b = 18 and a, b <= 9
    naive = {3: 18, 2: 40, 4: 58}
    assert exact(attack(supports, naive, {0: "< 10", 1: "< 10"}, 10, 3)[0])
    status = protect(supports, values, 10, 3)
    assert status[:2] == [PRIMARY, PRIMARY] and SECONDARY in status
    known = {i: v for i, (v, s) in enumerate(zip(values, status)) if s == PUBLISHED}
    hidden = {i: ("< 10" if s == PRIMARY else "masqué") for i, s in enumerate(status) if s != PUBLISHED}
    assert not any(exact(b) for b in attack(supports, known, hidden, 10, 3).values())


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=-4, max_value=40), min_size=24, max_size=24))
def test_no_suppressed_number_of_a_release_layout_is_recovered(cells: list[int]) -> None:
    """4 zones + unlocated (rows) x 6 categories in 3 groups, numbers as a release lays them out."""
    from observatoire.release.config import Group, ReleaseConfig

    config = ReleaseConfig(("mains_courantes",), 7, 1.0, 12.0, 10, {},
                           (Group("a", "A", ("violence", "robbery")), Group("b", "B", ("theft", "burglary", "drugs")),
                            Group("c", "C", ("road_safety",))))
    layout = Layout(("z1", "z2", "z3", "z4", "hors_zone"), config.categories)
    cells = (cells * 2)[:30]
    nums = numbers(layout, config)
    supports = [n.cells for n in nums]
    values = [int(sum(cells[c] for c in s)) for s in supports]
    status = protect(supports, values, 10, 30)
    known = {i: v for i, (v, s) in enumerate(zip(values, status)) if s == PUBLISHED}
    hidden = {i: ("< 10" if s == PRIMARY else "masqué") for i, s in enumerate(status) if s != PUBLISHED}
    assert all(values[i] < 10 for i, s in enumerate(status) if s == PRIMARY)
    bounds = attack(supports, known, hidden, 10, 30)
    assert not [nums[i] for i, b in bounds.items() if exact(b)]


# Noisy numbers of a release (Marseille's layout) on which HiGHS, warm-started, once stopped with "Unknown".
STALLED = [-1, 8, 13, 2, 0, 22, 8, 6, 12, 5, -2, 29, 17, 21, 29, 17, -1, 83, 7, 6, 0, 4, -1, 16, 6, 10, 3, 3, 0, 22,
           15, 36, 23, 20, 1, 95, 3, 9, 4, 3, 0, 19, 6, 16, 12, 6, -1, 39, 45, 58, 58, 35, 0, 196, 11, 41, 39, 15, -2,
           104, 17, 31, 16, 12, 0, 76, 18, 33, 40, 9, -1, 99, 35, 63, 50, 38, 0, 186, 13, 28, 21, 10, 0, 72, 2, 4, 14,
           6, 2, 28, 6, 13, 10, 5, -1, 33, 223, 229, -3, -3, 415, 200, 208, -1, 8, 380, 194, 204, -15, -3, 207, -6,
           100, 1219]


def test_a_case_that_stalled_the_warm_started_solver_is_protected() -> None:
    config = load_release_config()
    layout = Layout.of(load_city(), config)
    nums = numbers(layout, config)
    supports = [n.cells for n in nums]
    status = protect(supports, STALLED, 10, 221)
    known = {i: v for i, (v, s) in enumerate(zip(STALLED, status)) if s == PUBLISHED}
    hidden = {i: ("< 10" if s == PRIMARY else "masqué") for i, s in enumerate(status) if s != PUBLISHED}
    assert len(hidden) >= 40
    assert not any(exact(b) for b in attack(supports, known, hidden, 10, 221).values())


# -- the public API of a month, attacked ----------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    city = load_city()
    root = tmp_path_factory.mktemp("release-world")
    # a small month: many cells under k, so suppression has work to do
    store = city_store(root / "store", city, ["2024-01", "2024-02"], scale=0.15, seed=11)
    settings = Settings(store_dir=root / "store", audit_dir=root / "audit", auth_dir=root / "auth",
                        releases_dir=root / "releases", registry_dir=root / "registry",
                        evaluations_dir=root / "evaluations", holds_path=root / "holds.json",
                        secure_cookies=False, clock=lambda: NOW)
    report = publish_due(store=store, city=city, config=settings.release_config(), archive=settings.releases(),
                         retention_days=dict(settings.retention_days), now=NOW, audit=settings.audit_log(),
                         first_month="2024-01")
    assert report.built == ["2024-01", "2024-02"]
    return city, settings


def _public_answers(client: TestClient, release_id: str) -> dict[str, bytes]:
    answers = {"list": client.get("/api/v1/public/releases").content,
               "release": client.get(f"/api/v1/public/releases/{release_id}").content,
               "ledger": client.get("/api/v1/public/ledger").content}
    for name in ("zones.csv", "city.csv", "zones.geojson", "release.json"):
        response = client.get(f"/api/v1/public/releases/{release_id}/{name}")
        assert response.status_code == 200
        answers[name] = response.content
    return answers


def test_every_public_answer_combined_recovers_no_cell_under_k(world) -> None:
    city, settings = world
    config = settings.release_config()
    layout = Layout.of(city, config)
    nums = numbers(layout, config)
    index = {(n.table, n.row, n.column): i for i, n in enumerate(nums)}
    with TestClient(create_app(settings)) as anon:
        answers = _public_answers(anon, "2024-01")
        body = anon.get("/api/v1/public/releases/2024-01").json()["tables"]
        # differencing by period, category or filter is impossible: parameters change nothing
        for query in ("?start=2024-01-01&end=2024-01-15", "?category=violence", "?discovery=independent"):
            assert anon.get(f"/api/v1/public/releases/2024-01{query}").content == answers["release"]
            assert anon.get(f"/api/v1/public/releases/2024-01/zones.csv{query}").content == answers["zones.csv"]
        # every staff route that reads the store is closed to the public
        for path in ("/api/v1/zones", "/api/v1/meta", "/api/v1/audits/provenance", "/api/v1/hotspots",
                     "/api/v1/indicators", "/api/v1/events", "/api/v1/dark-figure", "/api/v1/alerts"):
            assert anon.get(path).status_code == 401, path
    known, hidden = {}, {}
    for row in body["zones"]:
        for code, v in row["values"].items():
            i = index[("zones", row["zone_id"], code)]
            if v["value"] is None:
                hidden[i] = v["shown"]
                assert v["rate_per_1000"] is None                 # rate x population gives nothing back
            else:
                known[i] = v["value"]
                assert round(v["value"] / row["population"] * 1000, 2) == v["rate_per_1000"]
    for c in body["city"]:
        i = index[("city", c["row"], c["column"])]
        if c["value"] is None:
            hidden[i] = c["shown"]
        else:
            known[i] = c["value"]
    assert len(known) + len(hidden) == len(nums)
    assert sum(t.startswith("<") for t in hidden.values()) >= 20      # the month has small cells to protect
    # the CSV files say exactly what the JSON says
    zones_csv = list(csv.DictReader(io.StringIO(answers["zones.csv"].decode()), delimiter=";"))
    for r in zones_csv:
        i = index[("zones", r["zone_id"], r["groupe"])]
        assert (int(r["valeur"]) if r["valeur"] else None) == known.get(i)
        assert r["affichage"] == (hidden[i] if i in hidden else str(known[i]))
    bounds = attack([n.cells for n in nums], known, hidden, body["k"], layout.shape[0] * layout.shape[1])
    recovered = [(nums[i].table, nums[i].row, nums[i].column) for i, b in bounds.items() if exact(b)]
    assert recovered == []
    # no event's time: the only instants published are the months' bounds and the release's creation
    instants = set(re.findall(rb"\d{4}-\d{2}-\d{2}T[\d:.]+", b"".join(answers.values())))
    assert instants <= {NOW.isoformat().encode()[:19]}


@pytest.mark.parametrize("url", [
    "/api/v1/public/releases/..%2F..%2Fmanifest.json", "/api/v1/public/releases/2024-01/..%2Fmanifest.json",
    "/api/v1/public/releases/2024-01/manifest.json", "/api/v1/public/releases/2024-07",
    "/api/v1/public/releases/2024-01/%2E%2E", "/api/v1/public/releases/.private/2024-01.json",
    "/api/v1/public/report?period=2024-Q9", "/api/v1/public/report?period=2024-Q1&format=docx",
    "/api/v1/public/report?period=0000", "/api/v1/public/report?period=9999-Q4", "/api/v1/public/releases/0000-01",
])
def test_hostile_public_requests_get_a_clear_refusal(world, url) -> None:
    _, settings = world
    with TestClient(create_app(settings)) as anon:
        response = anon.get(url)
    assert response.status_code in (404, 422), (url, response.status_code)
    assert "noisy" not in response.text and "input_sha256" not in response.text


def test_purges_and_retention_do_not_touch_published_releases(world, tmp_path) -> None:
    city, settings = world
    with TestClient(create_app(settings)) as anon:
        before = _public_answers(anon, "2024-01")
    shorter = Settings(**{**{f: getattr(settings, f) for f in settings.__dataclass_fields__},
                          "retention_days": {"mains_courantes": 30}})
    report = purge(shorter.store(city), shorter.retention(), now=NOW, audit=None, actor="test", wait=False)
    assert report.events_removed > 0
    with TestClient(create_app(shorter)) as anon:
        assert _public_answers(anon, "2024-01") == before


def test_public_calls_are_audited(world) -> None:
    _, settings = world
    seq = max((e["seq"] for e in settings.audit_log().entries()), default=0)
    with TestClient(create_app(settings)) as anon:
        anon.get("/api/v1/public/ledger")
        anon.get("/api/v1/public/releases/2024-02/city.csv")
    entries = [e for e in settings.audit_log().entries() if e["seq"] > seq]
    assert [(e["action"], e["actor"], e["dataset"], e["detail"]["path"]) for e in entries] == [
        ("consult", "anonymous", "releases", "/api/v1/public/ledger"),
        ("consult", "anonymous", "releases", "/api/v1/public/releases/{release_id}/{name}")]


class _NoStore:
    """A store reader that fails the test on any use."""

    def __init__(self) -> None:
        self.reads: list[str] = []

    def __getattr__(self, name: str):
        self.reads.append(name)
        raise AssertionError(f"a public route used the store ({name})")


def test_no_public_route_reads_the_store(world, monkeypatch) -> None:
    _, settings = world
    app = create_app(settings)
    spy = _NoStore()
    app.state.store = spy
    # nor a store of its own, nor the operators' verdicts (exact counts about alerts)
    monkeypatch.setattr(Settings, "store", lambda *a, **k: spy.__getattr__("Settings.store"))
    import observatoire.registry.feedback as feedback
    monkeypatch.setattr(feedback.FeedbackLog, "latest", lambda *a, **k: spy.__getattr__("FeedbackLog.latest"))
    public = sorted(key for key, req in ACCESS.items() if "public" in req.roles)
    for method, path in public:
        assert ACCESS[(method, path)].dataset in (None, "releases"), path
    urls = {"/api/v1/public/releases/{release_id}": "/api/v1/public/releases/2024-01",
            "/api/v1/public/releases/{release_id}/{name}": "/api/v1/public/releases/2024-01/zones.geojson",
            "/api/v1/evaluations/{plan_id}": "/api/v1/evaluations/ev-000000000000", "/static": "/static/app.css",
            "/api/v1/public/report": "/api/v1/public/report?period=2024-Q1&format=html",
            "/login/oidc/callback": "/login/oidc/callback?code=x&state=y"}
    with TestClient(app) as anon:
        for method, path in public:
            if method != "GET":
                continue
            response = anon.get(urls.get(path, path), follow_redirects=False)
            assert response.status_code < 500, (path, response.status_code)
            if path.startswith("/api/v1/public/"):
                assert response.status_code == 200, (path, response.text[:200])
    assert spy.reads == []


# -- membership: one event more or less -----------------------------------------------------------------
def _clopper_pearson(successes: int, n: int, alpha: float) -> tuple[float, float]:
    low = 0.0 if successes == 0 else beta.ppf(alpha / 2, successes, n - successes + 1)
    high = 1.0 if successes == n else beta.ppf(1 - alpha / 2, successes + 1, n - successes)
    return float(low), float(high)


def test_releases_of_two_stores_differing_by_one_event_are_as_close_as_the_ledger_says(tmp_path) -> None:
    city = load_city()
    rng = np.random.default_rng(5)
    rows = city_month_rows(city, "2024-01", rng, scale=0.3)
    extra = ("mains_courantes", "violence", "13203", datetime(2024, 1, 17, 22, 10, tzinfo=UTC))
    config = load_release_config()
    layout = Layout.of(city, config)
    matrices, epsilons = [], []
    for name, batch in (("without", rows), ("with", rows + [extra])):
        store = city_store(tmp_path / name, city, [])
        commit(store, batch, f"m-{name}", city)
        manifest = build_release("2024-01", store=store, city=city, config=config,
                                 archive=Settings(releases_dir=tmp_path / f"r-{name}").releases(),
                                 retention_days=dict(_packaged_retention_days()), now=NOW)
        epsilons.append(manifest["privacy_loss"]["epsilon"])
        matrices.append(exact_matrix(store.events(), layout, month="2024-01", sources=("mains_courantes",)))
    assert epsilons[0] == epsilons[1] == config.epsilon
    assert int(np.abs(matrices[1] - matrices[0]).sum()) == 1                 # one cell, by one
    # the measurement is the release's only contact with the data (the tables are its post-processing); the
    # cells other than the event's have the same distribution under both stores, so the event's cell decides
    cell = layout.zones.index("13203") * len(layout.categories) + layout.categories.index("violence")
    runs = 1500
    samples = [np.array([measure(m.reshape(-1), config.epsilon).values[cell] for _ in range(runs)])
               for m in matrices]
    base = int(matrices[0].reshape(-1)[cell])
    eps = epsilons[0]
    lower_bounds = []
    for t in range(base - 3, base + 5):                   # threshold tests "released value >= t"
        tpr = _clopper_pearson(int((samples[1] >= t).sum()), runs, 1e-6)
        fpr = _clopper_pearson(int((samples[0] >= t).sum()), runs, 1e-6)
        # no test separates the two stores better than e^eps allows, at 1e-6 per bound, in either direction
        assert tpr[0] <= np.exp(eps) * fpr[1] + 1e-9, t
        below1 = _clopper_pearson(int((samples[1] < t).sum()), runs, 1e-6)
        below0 = _clopper_pearson(int((samples[0] < t).sum()), runs, 1e-6)
        assert below0[0] <= np.exp(eps) * below1[1] + 1e-9, t
        lower_bounds.append(np.log(max(tpr[0], 1e-12) / fpr[1]))
    # and the noise is not larger than stated: the best test comes close to the ledger's epsilon
    assert max(lower_bounds) > 0.6 * eps
    # the stated margin and spread are the noise's: simulated coverage of +-margin is 95 % or more
    noise = samples[0] - base
    assert np.mean(np.abs(noise) <= margin(1, 1 / eps)) >= 0.94
    assert np.std(noise) == pytest.approx(noise_sd(1, 1 / eps), rel=0.1)
    # a published number sums several cells: its margin is the sum's, checked against simulated sums
    three = np.array([sum(measure([0, 0, 0], eps).values) for _ in range(600)])
    assert np.mean(np.abs(three) <= margin(3, 1 / eps)) >= 0.93
    assert np.std(three) == pytest.approx(noise_sd(3, 1 / eps), rel=0.12)


def test_the_public_report_is_built_once_a_day_per_period_and_set_of_releases(world, monkeypatch) -> None:
    import observatoire.report.build as report_build

    _, settings = world
    calls: list[str] = []
    real = report_build.build_report
    monkeypatch.setattr(report_build, "build_report", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    with TestClient(create_app(settings)) as anon:
        first = anon.get("/api/v1/public/report?period=2024-Q1")
        again = anon.get("/api/v1/public/report?period=2024-Q1")
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert calls == ["2024-Q1"]
    assert "Publications de la période" in first.text and "janvier 2024" in first.text


def test_the_public_report_is_refused_for_a_period_without_a_release_and_nothing_is_built(world, monkeypatch) -> None:
    """An anonymous caller cannot have the server render reports of arbitrary periods: only periods holding a
    published release are built (their number is bounded by the releases)."""
    import observatoire.report.build as report_build

    _, settings = world
    calls: list[str] = []
    monkeypatch.setattr(report_build, "build_report", lambda *a, **k: calls.append(a[1]) or b"")
    with TestClient(create_app(settings)) as anon:
        answers = {p: anon.get(f"/api/v1/public/report?period={p}&format=pdf")
                   for p in ("2019", "2023-Q4", "2024-09", "2150-Q1", "1901-02")}
    assert {p: a.status_code for p, a in answers.items()} == dict.fromkeys(answers, 404)
    assert all("no release is published" in a.json()["detail"] for a in answers.values())
    assert calls == []


def test_public_copies_of_rules_register_and_plans_carry_no_figure_from_the_data(world) -> None:
    from observatoire.evaluation.plans import NO_PRE_PERIOD, UNDERPOWERED, public_view

    _, settings = world
    with TestClient(create_app(settings)) as anon:
        rules = anon.get("/api/v1/rules").json()["rules"]
        register = anon.get("/api/v1/register?format=md").text
        aipd = anon.get("/api/v1/aipd?format=md").text
    assert rules and all(r["false_positives"] is None and r["false_positives_withheld"] for r in rules)
    assert "communiqué au comité de contrôle" in register and "communiqués au comité de contrôle" in aipd
    plan = {"id": "ev-1", "warnings": ["a cohort of a single zone: ...", NO_PRE_PERIOD,
                                       f"{UNDERPOWERED}the power to detect -10% is 0.41, below the planned 0.80"],
            "power_analysis": {"mean": 3.2, "dispersion": 0.4}, "content_hash": "x"}
    assert public_view(plan) == {"id": "ev-1", "warnings": ["a cohort of a single zone: ..."], "content_hash": "x",
                                 "power_analysis_withheld": True}


def test_what_a_caller_types_reaches_the_audit_log_only_as_declared_codes(world) -> None:
    """Anonymous traffic is only counted (api/tally.py: no parameter at all); an identified caller's request, or a
    failed one, keeps its declared parameters, their values as typed only when they are codes."""
    from observatoire.auth.tokens import Tokens

    _, settings = world
    seq = max((e["seq"] for e in settings.audit_log().entries()), default=0)
    _, token = Tokens(settings.auth_dir, settings.clock).issue("typist", "operator", issued_by="test")
    operator = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as anon:
        anon.get("/api/v1/public/ledger?note=0612345678&jean.dupont%40mail.fr=1")
        anon.get("/api/v1/public/report?period=Jean%20Dupont&format=html")
        anon.get("/api/v1/events?zone=Zoubida%20Castafiore&start=2024-01-01&source=mains_courantes,hospital",
                 headers=operator)
        anon.get("/api/v1/events?zone=castafiore&category=violence,dupont&limit=10", headers=operator)
        anon.get("/api/v1/events?zone=Zoubida%20Castafiore&note=0612345678")
    entries = [e for e in settings.audit_log().entries() if e["seq"] > seq]
    text = json.dumps(entries)
    for typed in ("0612345678", "dupont", "Dupont", "Zoubida", "Castafiore", "castafiore"):
        assert typed not in text
    individual = [e for e in entries if not e["detail"].get("aggregated")]
    assert [e["filters"] for e in individual] == [
        {"period": "<withheld: 11 characters>", "format": "html"},
        {"zone": "<withheld: 18 characters>", "start": "2024-01-01", "source": "mains_courantes,hospital"},
        {"zone": "<withheld: 10 characters>", "category": "<withheld: 15 characters>", "limit": "10"}]
    assert [e["outcome"] for e in individual] == ["failed", "denied", "denied"]
    counted = sorted((e["detail"]["path"], e["detail"]["count"]) for e in entries if e["detail"].get("aggregated"))
    assert counted == [("/api/v1/events", 1), ("/api/v1/public/ledger", 1)]
    assert all(e["filters"] in (None, {}) for e in entries if e["detail"].get("aggregated"))


def test_the_server_log_drops_query_strings() -> None:
    import logging

    from observatoire.api.app import NoQueryStrings

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/api/v1/events?zone=Jean%20Dupont&tel=0612345678", "1.1",
                                401), None)
    assert NoQueryStrings().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/v1/events HTTP/1.1" 401'
