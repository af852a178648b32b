"""The map page's grid-cell layers in headless Debian Chromium: hot spots and forecast drawn, evaluation = API.

Needs ``make web`` (Leaflet under ``static/vendor``) and ``/usr/bin/chromium``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright import sync_api

from test_browser import CHROMIUM, CHROMIUM_ARGS, _wait_ready, base_url  # noqa: F401  (fixture)

SCREENSHOT = Path("/tmp/observatoire-layers.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                     "(make chromium)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _layer_ready(page: Any, box: str) -> str:
    page.wait_for_function(f"document.querySelector('#{box}').dataset.state === 'ready'", timeout=60000)
    query: str = page.eval_on_selector(f"#{box}", "b => b.dataset.query")
    return query


def test_when_layers_toggled_then_cells_drawn_and_evaluation_matches_api(
    base_url: str, browser: Any, client: TestClient,  # noqa: F811
) -> None:
    requests: list[str] = []
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 1500}, locale="fr-FR")
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/")
    _wait_ready(page)
    assert page.locator("path[data-layer]").count() == 0

    page.check("#layer-hotspots")
    hot_query = _layer_ready(page, "layer-hotspots")
    assert hot_query == "start=2024-01-01&end=2025-01-01"
    hot = client.get(f"/api/v1/hotspots?{hot_query}").json()
    expected_hot = sorted(f["properties"]["cell"] for f in hot["features"] if f["properties"]["hot"])
    drawn_hot = page.eval_on_selector_all("path[data-layer='hotspots']", "ps => ps.map(p => +p.dataset.cell)")
    assert expected_hot and sorted(drawn_hot) == expected_hot
    sizes = page.eval_on_selector_all("path[data-layer='hotspots']",
                                      "ps => ps.map(p => p.getBBox().width * p.getBBox().height)")
    assert all(s > 0 for s in sizes)

    page.check("#layer-forecast")
    fc_query = _layer_ready(page, "layer-forecast")
    assert fc_query == "k=0.05"
    forecast = client.get(f"/api/v1/forecasts?{fc_query}").json()
    drawn = page.eval_on_selector_all("path[data-layer='forecast']", "ps => ps.map(p => +p.dataset.cell)")
    assert sorted(drawn) == sorted(f["id"] for f in forecast["features"]) and drawn
    assert page.locator("#evaluation").is_visible()
    shown = page.eval_on_selector_all(
        "#evaluation-table tbody tr",
        "rows => rows.map(r => [r.dataset.method, ...[...r.querySelectorAll('td')].map(td => td.dataset.value)])")
    expected = [[s["method"], str(s["pai"]["mean"]), str(s["pai"]["ci_low"]), str(s["hit_rate"]["mean"]),
                 str(s["hit_rate"]["ci_low"])] for s in forecast["evaluation"]["summary"]]
    assert [[m, *[str(float(v)) for v in vals]] for m, *vals in shown] == \
           [[m, *[str(float(v)) for v in vals]] for m, *vals in expected]
    assert [r[0] for r in shown] == ["grid_etas", "naive"]
    text = page.inner_text("#evaluation-table")
    assert "," in text and "[" in text                       # French decimals and intervals

    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.uncheck("#layer-hotspots")
    page.wait_for_function("document.querySelectorAll(\"path[data-layer='hotspots']\").length === 0")
    assert page.locator("path[data-layer='forecast']").count() == len(drawn)
    page.close()
    assert not errors, errors
    assert requests and all(u.startswith(base_url) or u.startswith("data:") for u in requests)
