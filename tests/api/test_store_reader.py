"""A query planned on files a writer then replaces is answered on the new ones; an engine failure is a 503."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from observatoire.api.app import create_app
from observatoire.api.deps import StoreReader
from observatoire.city.profile import CityProfile
from observatoire.governance.purge import purge
from observatoire.governance.retention import Retention

from conftest import add_role_accounts, governance_settings, login_as

sys.path.insert(0, str(Path(__file__).parents[1] / "release"))
from release_fixtures import city_store  # noqa: E402

NOW = datetime(2024, 3, 10, tzinfo=UTC)


def test_a_query_planned_before_a_purge_is_answered_on_the_purged_store(tmp_path: Path, city: CityProfile) -> None:
    store = city_store(tmp_path / "store", city, ["2024-01", "2024-02"], scale=0.05)
    before = store.events().count().to_pyarrow().as_py()
    reader = StoreReader(store)
    calls = []

    def count(events) -> int:
        calls.append(store.manifest().generation)
        if len(calls) == 1:             # a purge runs between planning and reading: January's files go
            report = purge(store, Retention({"mains_courantes": 40}), now=NOW, actor="test")
            assert report.events_removed > 0
        return events.count().to_pyarrow().as_py()

    after = reader.query(count)
    assert len(calls) == 2 and calls[1] > calls[0]          # read again, on the new generation
    assert 0 < after < before and after == store.events().count().to_pyarrow().as_py()


class _Broken:
    """A store whose engine cannot read its files."""

    def manifest(self):
        return type("M", (), {"generation": 1})()

    def events(self):
        raise duckdb.IOException('IO Error: No files found that match the pattern "/store/events/x.parquet"')


def test_an_engine_failure_is_a_503_to_retry_never_a_500_nor_its_message(tmp_path: Path) -> None:
    app = create_app(governance_settings(tmp_path / "gov", store_dir=tmp_path / "store"))
    add_role_accounts(app)
    app.state.store = StoreReader(_Broken())
    with TestClient(app) as client:
        login_as(client, "analyst")
        response = client.get("/api/v1/zones")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert "IOException" in response.json()["detail"] and "/store/events" not in response.text
