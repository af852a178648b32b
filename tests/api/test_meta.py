"""``GET /api/v1/meta``, ``/health``, the page and its static files."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from observatoire.api.app import create_app
from observatoire.api.routes import pages
from observatoire.event.taxonomy import CATEGORIES
from observatoire.store.parquet import ParquetStore

from conftest import add_role_accounts, governance_settings, login_as


def test_when_asked_then_health_is_ok(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_when_asked_then_meta_lists_sources_with_counts(client: TestClient, store: ParquetStore) -> None:
    files = ", ".join(f"'{f}'" for f in store.event_files())
    rows = duckdb.sql(f"SELECT source, count(*) FROM read_parquet([{files}], hive_partitioning = false) "
                      "GROUP BY source ORDER BY source").fetchall()
    last = duckdb.sql(f"SELECT strftime(max(occurred_at) AT TIME ZONE 'UTC', '%Y-%m-%d') "
                      f"FROM read_parquet([{files}], hive_partitioning = false)").fetchone()
    meta = client.get("/api/v1/meta").json()
    assert [(s["source"], s["events"]) for s in meta["sources"]] == rows
    assert meta["last_day"] == last[0]               # the day the page watches alerts on
    assert all(s["label_fr"] for s in meta["sources"])


def test_when_asked_then_meta_describes_city_categories_and_months(client: TestClient, months: list[str]) -> None:
    meta = client.get("/api/v1/meta").json()
    assert meta["city"]["name"] == "Marseille" and meta["city"]["zones"] == 16
    assert "IGN" in meta["city"]["attribution"] and "INSEE" in meta["city"]["attribution"]
    assert [c["code"] for c in meta["categories"]] == [c.code for c in CATEGORIES]
    theft = next(c for c in meta["categories"] if c["code"] == "theft")
    assert (theft["label_fr"], theft["label_en"], theft["kind"]) == ("Vol sans violence", "Theft", "incident")
    assert theft["events"] > 0
    assert meta["months"] == {"first": months[0], "last": months[-1], "available": months}
    assert meta["default_period"] == {"start": "2024-01", "end": "2024-12"}


def test_when_page_requested_then_html_with_labelled_pickers(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    for control in ("start", "end", "source", "category"):
        assert f'<label for="{control}">' in html
    assert "<caption" in html and "static/app.js" in html
    assert 'id="vendor-notice"' not in html     # vendor present in this checkout (``make web`` was run)


def test_when_static_requested_then_served(client: TestClient) -> None:
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_when_vendor_missing_then_page_says_make_web(client: TestClient, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(pages.static_dir() / "index.html", tmp_path / "index.html")
    monkeypatch.setattr(pages, "static_dir", lambda: tmp_path)
    html = client.get("/").text
    assert 'id="vendor-notice"' in html and 'role="alert"' in html and "make web" in html


def test_when_store_is_empty_then_meta_has_no_months(tmp_path: Path) -> None:
    settings = governance_settings(tmp_path / "gov", store_dir=tmp_path / "empty")
    app = create_app(settings)
    add_role_accounts(app)
    with TestClient(app) as c:
        login_as(c, "analyst")
        meta = c.get("/api/v1/meta").json()
        zones = c.get("/api/v1/zones").json()
    assert meta["months"] == {"first": None, "last": None, "available": []} and meta["default_period"] is None
    assert meta["last_day"] is None
    assert zones["total"] == 0 and len(zones["features"]) == 16
