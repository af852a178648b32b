"""Serving under load: answers kept per store state (still audited), public releases never re-noised, and a real
uvicorn with two worker processes (``observatoire serve --workers 2``) on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from observatoire.auth.service import Auth
from observatoire.city.profile import CityProfile
from observatoire.governance.audit import AuditLog
from observatoire.release.build import publish_due
from observatoire.settings import Settings
from observatoire.store.cache import CachingReadStore

sys.path.insert(0, str(Path(__file__).parents[1] / "release"))
from release_fixtures import city_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _consults(audit: AuditLog, path: str) -> list[dict]:
    return [e for e in audit.entries() if e.get("action") == "consult" and (e.get("detail") or {}).get("path") == path]


# -- answers kept, in one process -----------------------------------------------------------------------------
def test_a_repeated_staff_question_is_answered_from_memory_and_audited_each_time(app: FastAPI,
                                                                                  client: TestClient) -> None:
    cached = app.state.store.store
    assert isinstance(cached, CachingReadStore)
    audit: AuditLog = app.state.audit
    url = "/api/v1/zones?start=2024-01-01&end=2024-07-01&sources=mains_courantes"
    before = len(_consults(audit, "/api/v1/zones"))
    first = client.get(url)
    misses, hits = cached.answers.misses, cached.answers.hits
    second = client.get(url + "&ignored=1")                        # an undeclared parameter asks the same question
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert cached.answers.misses == misses and cached.answers.hits > hits
    assert len(_consults(audit, "/api/v1/zones")) == before + 2   # the answer from memory is audited too
    other = client.get("/api/v1/zones?start=2024-01-01&end=2024-04-01&sources=mains_courantes")
    assert other.status_code == 200 and other.json()["total"] < first.json()["total"]


def test_a_repeated_hot_spot_map_is_sent_from_memory_and_audited_each_time(
        app: FastAPI, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot-spot body (Gi* statistics, every cell's JSON) is kept per store state, parameters and role."""
    import observatoire.api.routes.hotspots as route

    computed: list[int] = []
    real = route.masked_gi_star
    monkeypatch.setattr(route, "masked_gi_star", lambda *a, **k: computed.append(1) or real(*a, **k))
    audit: AuditLog = app.state.audit
    url = "/api/v1/hotspots?start=2024-01-01&end=2024-04-01&cell_m=400"
    before = len(_consults(audit, "/api/v1/hotspots"))
    answers = [client.get(url) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3 and len({a.content for a in answers}) == 1
    assert computed == [1]
    assert len(_consults(audit, "/api/v1/hotspots")) == before + 3
    other = client.get(url.replace("cell_m=400", "cell_m=500"))
    assert other.status_code == 200 and computed == [1, 1] and other.content != answers[0].content


def test_event_records_from_memory_carry_the_row_count_in_the_audit(app: FastAPI, client: TestClient) -> None:
    audit: AuditLog = app.state.audit
    headers = {"X-Purpose": "operational_analysis"}
    answers = [client.get("/api/v1/events?limit=7&sources=verbalisations", headers=headers) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200] and answers[0].json() == answers[1].json()
    last = _consults(audit, "/api/v1/events")[-2:]
    assert [e["rows"] for e in last] == [7, 7]


# -- the public releases are read, never recomputed -------------------------------------------------------------
@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> Path:
    """A deployment folder (``Settings.layout``): a store of two months and their published releases."""
    from datetime import UTC, datetime

    home = tmp_path_factory.mktemp("workers-home")
    settings = Settings.from_env(home=home, secure_cookies=False)
    store = city_store(settings.store_dir, city, ["2024-01", "2024-02"], scale=0.1, seed=5)
    report = publish_due(store=store, city=city, config=settings.release_config(), archive=settings.releases(),
                         retention_days=dict(settings.retention_days), now=datetime(2024, 3, 10, tzinfo=UTC),
                         audit=settings.audit_log(), first_month="2024-01")
    assert report.built == ["2024-01", "2024-02"]
    return home


def test_a_release_answers_its_published_numbers_every_time(home: Path) -> None:
    from observatoire.api.app import create_app

    app = create_app(Settings.from_env(home=home, secure_cookies=False))
    published = json.loads((home / "releases" / "2024-01" / "release.json").read_text(encoding="utf-8"))
    with TestClient(app) as anonymous:
        bodies = {anonymous.get("/api/v1/public/releases/2024-01").content for _ in range(5)}
        assert len(bodies) == 1                                     # the same bytes: no noise drawn per request
        answer = json.loads(bodies.pop())
        assert answer["tables"] == published
        assert answer["manifest"] == app.state.releases.manifest("2024-01")
        assert 400 <= anonymous.get("/api/v1/public/releases/2099-01").status_code < 500     # no such release


# -- two worker processes ---------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(home: Path, tmp_path_factory: pytest.TempPathFactory):
    """``observatoire serve --home HOME --workers 2`` on a free loopback port; its log file."""
    port = _free_port()
    log = tmp_path_factory.mktemp("workers-log") / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBSERVATOIRE_")}
    env["OBSERVATOIRE_SECURE_COOKIES"] = "0"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "observatoire.cli", "serve", "--home", str(home), "--host",
                                 "127.0.0.1", "--port", str(port), "--workers", "2", "--purge-every", "0",
                                 "--release-every", "0"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()[-3000:]
            started = re.findall(r"Started server process \[(\d+)\]", log.read_text())
            try:
                if len(set(started)) == 2 and httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("the two workers did not start: " + log.read_text()[-3000:])
        yield base, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)                         # the server and its workers
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.mark.slow          # two server processes to start: 20 to 60 s on this machine
def test_two_workers_answer_staff_and_public_requests_alike_each_audited(home: Path, served) -> None:
    base, log = served
    settings = Settings.from_env(home=home)
    _, secret = Auth.from_settings(settings).tokens.issue("workers-test", "supervisor", issued_by="test", days=1)
    staff = {"Authorization": f"Bearer {secret}"}
    audit = settings.audit_log()
    before = len(_consults(audit, "/api/v1/zones"))

    def get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as c:               # a connection each: both workers answer
            return c.get(path, headers=headers)

    with ThreadPoolExecutor(8) as pool:
        zones = list(pool.map(lambda _: get("/api/v1/zones?start=2024-01-01&end=2024-03-01", staff), range(24)))
        public = list(pool.map(lambda _: get("/api/v1/public/releases/2024-02"), range(24)))
    assert {r.status_code for r in zones} == {200} and len({r.content for r in zones}) == 1
    assert zones[0].json()["total"] > 0
    assert {r.status_code for r in public} == {200} and len({r.content for r in public}) == 1
    published = json.loads((home / "releases" / "2024-02" / "release.json").read_text(encoding="utf-8"))
    assert public[0].json()["tables"] == published                   # the published numbers, never drawn again
    assert len(_consults(audit, "/api/v1/zones")) == before + 24      # one entry per request, whichever worker
    assert audit.verify().ok                                           # two writers, one intact chain
    text = log.read_text()
    assert '"GET /api/v1/zones HTTP/1.1" 200' in text and "start=2024" not in text   # no query string in the log
    assert len(set(re.findall(r"Started server process \[(\d+)\]", text))) == 2


@pytest.mark.slow
def test_two_workers_share_the_login_throttle(served) -> None:
    """Each attempt on its own connection lands on either worker: the lock still comes after the 5 free failures
    of the login (per-process counters would allow up to 10)."""
    base, _ = served
    statuses = []
    for _ in range(12):
        with httpx.Client(base_url=base, timeout=30) as c:         # the form's CSRF token, then the attempt
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
            statuses.append(c.post("/login", data={"login": "nobody-at-all", "password": "not the password",
                                                   "csrf_token": token}).status_code)
    assert statuses.count(401) == 5 and statuses[5:] == [429] * 7, statuses


@pytest.mark.slow
def test_two_workers_share_the_allowance_of_anonymous_refusals(served) -> None:
    """An anonymous network's 120 refusals a minute are counted across both workers: the 121st is a 429."""
    from observatoire.api.tally import REFUSALS_PER_MINUTE

    base, _ = served
    while time.gmtime().tm_sec > 30:            # all of it within one minute
        time.sleep(1)
    minute = time.gmtime().tm_min

    def get(_: int) -> int:
        with httpx.Client(base_url=base, timeout=30) as c:
            return c.get("/api/v1/zones?start=2024-01-01&end=2024-02-01").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(get, range(REFUSALS_PER_MINUTE + 40)))
    assert time.gmtime().tm_min == minute, "the minute turned during the test"
    assert statuses.count(401) == REFUSALS_PER_MINUTE and statuses.count(429) == 40, statuses
