"""An app over a tiny store, with one account and one API token per role, a clock the tests move,
and a watch on the audit log (entries written since a test began)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from observatoire.api.app import create_app
from observatoire.city.profile import load_city
from observatoire.event.schema import EVENT_SCHEMA
from observatoire.settings import Settings
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
ROLES = ("analyst", "operator", "supervisor", "dpo", "auditor", "admin")
FAST_AUTH_TOML = "[passwords]\ntime_cost = 1\nmemory_kib = 8\nparallelism = 1\n"
PSEUDONYM = "k1:" + "ab" * 12
TEXT = "bagarre devant le bar <PERSONNE>"


class Clock:
    """A clock the tests set and move."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def tiny_events(city: Any, n: int = 40) -> pa.Table:
    """``n`` logbook events in January-February 2025 in two zones; every other one with a pseudonym and text."""
    zones = [city.zones[0], city.zones[1]]
    rows = []
    for i in range(n):
        zone = zones[i % 2]
        point = zone.geometry.representative_point()
        occurred = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=29 * i)
        rows.append({
            "event_id": f"mains_courantes:{i:024x}", "source": "mains_courantes",
            "category": ("violence", "theft")[i % 2], "occurred_at": occurred, "time_precision": "minute",
            "reported_at": occurred + timedelta(hours=1), "lon": point.x, "lat": point.y,
            "location_precision_m": 10.0, "zone_id": zone.zone_id, "discovery": "independent",
            "pseudonyms": [{"role": "suspect", "token": PSEUDONYM}] if i % 2 == 0 else None,
            "text": TEXT if i % 2 == 0 else None,
            "batch_id": "tiny", "source_file": "mc.csv", "source_row": i + 1,
            "ingested_at": datetime(2025, 2, 28, tzinfo=UTC), "retention_until": date(2030, 1, 1),
            "month": occurred.strftime("%Y-%m"),
        })
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


@dataclass
class World:
    """The app and what the tests need to call it as anyone."""

    app: FastAPI
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def audit(self) -> Any:
        return self.app.state.audit

    def last_seq(self) -> int:
        last = self.audit.last(1)
        return int(last[0]["seq"]) if last else 0

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(self.app, **kwargs)

    def login(self, client: TestClient, login: str, password: str = PASSWORD) -> TestClient:
        token = csrf_of_form(client.get("/login").text)
        response = client.post("/login", data={"login": login, "password": password, "csrf_token": token},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        return client


def csrf_of_form(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def governance(root: Path, **overrides: Any) -> Settings:
    (root / "auth").mkdir(parents=True, exist_ok=True, mode=0o700)
    (root / "auth" / "auth.toml").write_text(FAST_AUTH_TOML)
    values: dict[str, Any] = dict(auth_dir=root / "auth", audit_dir=root / "audit", registry_dir=root / "registry",
                                  evaluations_dir=root / "evaluations", holds_path=root / "holds.json",
                                  secure_cookies=False)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    city = load_city()
    root = tmp_path_factory.mktemp("tiny-store")
    events = tiny_events(city)
    ParquetStore(root, zone_ids=city.zone_ids).commit(Batch(
        batch_id="tiny", source="mains_courantes", source_file="mc.csv", file_sha256="1" * 64,
        rows_read=events.num_rows, events=events))
    return root


@pytest.fixture(scope="session")
def world_session(tiny_store: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    clock = Clock()
    settings = governance(tmp_path_factory.mktemp("auth-world"), store_dir=tiny_store, clock=clock)
    app = create_app(settings)
    world = World(app, clock)
    for role in ROLES:
        app.state.auth.accounts.add(role, role, PASSWORD)
        world.tokens[role] = app.state.auth.tokens.issue(f"{role} machine", role, issued_by="test", days=365)[1]
    return world


@pytest.fixture()
def world(world_session: World) -> Iterator[World]:
    """The shared app, its clock back at T0."""
    world_session.clock.now = T0
    world_session.app.state.auth.throttle.reset()
    yield world_session
    world_session.clock.now = T0
