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
    base_url: str, browser: Any, client: TestClient, browser_login: Any,  # noqa: F811
) -> None:
    requests: list[str] = []
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 1500}, locale="fr-FR")
    browser_login(page, base_url)          # the cell layers are for analysts and supervisors
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


def test_indicator_and_alert_layers_show_the_figures_of_the_api(
    base_url: str, browser: Any, client: TestClient, browser_login: Any,  # noqa: F811
) -> None:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 1500}, locale="fr-FR")
    browser_login(page, base_url)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/")
    _wait_ready(page)

    page.check("#layer-indicators")
    query = _layer_ready(page, "layer-indicators")
    assert query.startswith("baseline_years=")          # as many baseline years as the store holds
    body = client.get(f"/api/v1/indicators?{query}").json()
    expected = {r["zone_id"]: r for r in body["rows"] if r["window"] == "28d"}
    drawn = page.eval_on_selector_all(
        "path[data-layer='indicators']",
        "ps => ps.map(p => [p.dataset.zoneId, p.dataset.criticality, +p.dataset.current, p.dataset.exception, "
        "+p.dataset.baselineMean])")
    assert len(drawn) == len(expected) > 0
    for zone, criticality, current, exception, mean in drawn:
        r = expected[zone]
        assert (criticality, current, exception) == (r["criticality"], r["current"], str(r["exception"]).lower())
        assert mean == r["baseline_mean"]
    assert page.locator("#indicators-info").is_visible()
    zone = drawn[0][0]
    page.eval_on_selector(f"path[data-layer='indicators'][data-zone-id='{zone}']",
                          "p => p.dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    page.wait_for_selector(".leaflet-popup-content tr[data-window='28d']")
    cells = page.eval_on_selector_all(".leaflet-popup-content tbody tr",
                                      "rows => rows.map(r => [r.dataset.window, r.children[1].textContent])")
    by_window = {r["window"]: r for r in body["rows"] if r["zone_id"] == zone}
    assert [w for w, _ in cells] == ["7d", "28d", "ytd"]
    assert all(int(text.replace("\u202f", "")) == by_window[w]["current"] for w, text in cells)
    page.uncheck("#layer-indicators")
    page.wait_for_function("document.querySelectorAll(\"path[data-layer='indicators']\").length === 0")

    page.check("#layer-alerts")
    _layer_ready(page, "layer-alerts")
    alerts = client.get("/api/v1/alerts").json()["alerts"]
    by_zone: dict[str, list[str]] = {}
    for a in alerts:
        by_zone.setdefault(a["zone_id"], []).append(f"{a['rule_id']}@{a['rule_version']}")
    shown = page.eval_on_selector_all("path[data-layer='alerts']",
                                      "ps => ps.map(p => [p.dataset.zoneId, p.dataset.rules])")
    assert {z: r for z, r in shown} == {z: " ".join(sorted(r)) for z, r in by_zone.items()}
    assert int(page.eval_on_selector("#layer-alerts", "b => b.dataset.alerts")) == len(alerts)
    page.close()
    assert not errors, errors


def test_an_anonymous_visitor_is_asked_to_log_in_for_the_restricted_layers(
    base_url: str, browser: Any,  # noqa: F811
) -> None:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="fr-FR")
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/")
    _wait_ready(page)
    for box in ("layer-indicators", "layer-alerts", "layer-hotspots"):
        page.check(f"#{box}")
        page.wait_for_function(f"['forbidden', 'ready'].includes(document.querySelector('#{box}').dataset.state)",
                               timeout=60000)
        assert page.eval_on_selector(f"#{box}", "b => b.dataset.state") == "forbidden"   # 401 for anonymous
        kind = box.removeprefix("layer-")
        assert "connectez-vous" in page.inner_text(f"#layer-notes [data-layer='{kind}']")
        assert page.locator(f"path[data-layer='{kind}']").count() == 0
    assert page.locator("#zones-table tbody tr").count() > 0    # the public choropleth still works
    page.close()
    assert not errors, errors
