"""Anonymous traffic is counted per minute, not written request by request; a scanning network is slowed to 429."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from observatoire.api.app import create_app
from observatoire.api.tally import REFUSALS_PER_MINUTE, network_of

from conftest import NOW, governance_settings


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def world(tmp_path: Path, store_dir: Path):
    clock = Clock()
    app = create_app(governance_settings(tmp_path, store_dir=store_dir, clock=clock))
    return app, clock


def _entries(app) -> list[dict]:
    return list(app.state.audit.entries())


def test_a_scan_of_closed_routes_writes_a_few_counters_and_is_slowed_past_its_allowance(world) -> None:
    app, _ = world
    with TestClient(app) as c:
        statuses = [c.get("/api/v1/events").status_code for _ in range(REFUSALS_PER_MINUTE + 80)]
        assert statuses[:REFUSALS_PER_MINUTE] == [401] * REFUSALS_PER_MINUTE
        assert set(statuses[REFUSALS_PER_MINUTE:]) == {429}
        limited = c.get("/api/v1/zones")
        assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 60
        assert _entries(app) == []                                   # nothing written yet, one minute open
    entries = _entries(app)                                          # flushed at shutdown
    assert len(entries) == 3 and all(e["actor"] == "anonymous" and e["detail"]["aggregated"] for e in entries)
    counts = {(e["detail"]["path"], e["detail"]["status"]): e["detail"]["count"] for e in entries}
    assert counts == {("/api/v1/events", 401): REFUSALS_PER_MINUTE, ("/api/v1/events", 429): 80,
                      ("/api/v1/zones", 429): 1}
    assert {e["detail"]["network"] for e in entries} == {"unknown"}   # the test client has no IP address


def test_public_reads_are_one_entry_per_minute_and_route(world) -> None:
    app, clock = world
    with TestClient(app) as c:
        for _ in range(30):
            assert c.get("/api/v1/public/releases").status_code == 200
        clock.now += timedelta(minutes=1)
        assert c.get("/api/v1/public/ledger").status_code == 200      # the next minute writes the past one
        [entry] = _entries(app)
        assert entry["action"] == "consult" and entry["dataset"] == "releases" and entry["outcome"] == "ok"
        assert entry["detail"] == {"aggregated": True, "count": 30, "minute": NOW.strftime("%Y-%m-%dT%H:%MZ"),
                                   "method": "GET", "path": "/api/v1/public/releases", "status": 200}
    assert [e["detail"]["path"] for e in _entries(app)][1:] == ["/api/v1/public/ledger"]


def test_a_failed_credential_keeps_its_own_entry_and_counts_against_the_network(world) -> None:
    app, _ = world
    with TestClient(app) as c:
        r = c.get("/api/v1/zones", headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401
        [entry] = _entries(app)
        assert entry["action"] == "authorisation_denied" and entry["detail"]["reason"].startswith("token")


@pytest.mark.parametrize("address, network", [
    ("203.0.113.57", "203.0.113.0/24"), ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"), ("testclient", "unknown"),
    (None, "unknown"),
])
def test_the_network_of_an_address_is_its_slash_24_or_slash_48(address: str | None, network: str) -> None:
    assert network_of(address) == network
