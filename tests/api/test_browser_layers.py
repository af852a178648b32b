"""The map page's grid-cell layers in headless Debian Chromium: hot spots and forecast drawn, evaluation = API.

Needs ``make web`` (Leaflet under ``static/vendor``) and ``/usr/bin/chromium``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_browser import CHROMIUM, _wait_ready, base_url, browser  # noqa: F401  (fixtures)
from conftest import wait_until

SCREENSHOT = Path("/tmp/observatoire-layers.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                     "(make chromium)"),
]


def _layer_ready(page: Any, box: str) -> str:
    wait_until(page, f"document.querySelector('#{box}').dataset.state === 'ready'", timeout=60000)
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
    assert hot_query == "start=2024-03-01&end=2025-03-01"
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
    wait_until(page, "document.querySelectorAll(\"path[data-layer='hotspots']\").length === 0")
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
    body = client.get(f"/api/v1/indicators?{query}").json()
    # The caption gives the number of baseline years the route says it used.
    assert page.eval_on_selector("#indicators-info", "s => s.dataset.baselineYears") == str(body["baseline_years"])
    years = body["baseline_years"]
    assert f"{years} année{'s' if years > 1 else ''} de référence" in page.inner_text("#indicators-caption")
    # Its own legend (criticality levels, exception outline); the count legend stays for the choropleth.
    assert page.locator("#indicators-legend [data-criticality]").count() == 4
    assert "exception" in page.inner_text("#indicators-legend")
    assert page.locator("#legend .swatch").count() >= 3
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
    wait_until(page, "document.querySelectorAll(\"path[data-layer='indicators']\").length === 0")

    page.check("#layer-alerts")
    alert_query = _layer_ready(page, "layer-alerts")
    # The last day with data (the store ends in February 2025), 24 h of the shortest rule window (3 h).
    assert alert_query == "at=2025-02-28&watch_windows=8"
    answer = client.get(f"/api/v1/alerts?{alert_query}").json()
    alerts = answer["alerts"]
    caption = page.inner_text("#alerts-caption")
    assert "28/02/2025" in caption and "8 fenêtres de 3 h" in caption
    skipped = page.eval_on_selector_all("#alerts-skipped li", "ls => ls.map(l => l.dataset.rule)")
    assert skipped == [s["id"] for s in answer["skipped"]]
    by_zone: dict[str, list[str]] = {}
    for a in alerts:
        by_zone.setdefault(a["zone_id"], []).append(f"{a['rule_id']}@{a['rule_version']}")
    shown = page.eval_on_selector_all("path[data-layer='alerts']",
                                      "ps => ps.map(p => [p.dataset.zoneId, p.dataset.rules])")
    assert {z: r for z, r in shown} == {z: " ".join(sorted(r)) for z, r in by_zone.items()}
    assert int(page.eval_on_selector("#layer-alerts", "b => b.dataset.alerts")) == len(alerts)
    page.close()
    assert not errors, errors


def test_an_anonymous_visitor_is_sent_to_the_public_portal_before_any_staff_figure(
    base_url: str, browser: Any,  # noqa: F811
) -> None:
    errors: list[str] = []
    asked: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="fr-FR")
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: asked.append(r.url))
    page.goto(f"{base_url}/")
    page.wait_for_url(f"{base_url}/public", timeout=10000)
    staff = ("/api/v1/zones", "/api/v1/meta", "/api/v1/hotspots", "/api/v1/forecasts", "/api/v1/indicators",
             "/api/v1/alerts")
    assert not [u for u in asked if any(p in u for p in staff)]     # the page asked for no exact figure
    page.close()
    assert not errors, errors


def test_an_operator_is_told_that_the_role_does_not_open_the_hotspot_layer(
    base_url: str, browser: Any, browser_login: Any,  # noqa: F811
) -> None:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="fr-FR")
    browser_login(page, base_url, role="operator")
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/")
    _wait_ready(page)
    page.check("#layer-hotspots")
    wait_until(page, "['forbidden', 'ready'].includes(document.querySelector('#layer-hotspots').dataset.state)",
                           timeout=60000)
    assert page.eval_on_selector("#layer-hotspots", "b => b.dataset.state") == "forbidden"   # 403
    note = page.inner_text("#layer-notes [data-layer='hotspots']")
    assert "votre rôle (opérateur) ne donne pas accès à cette couche" in note
    assert "connectez-vous" not in note
    page.close()
    assert not errors, errors


def test_cell_layers_stay_on_top_of_the_indicators(
    base_url: str, browser: Any, browser_login: Any,  # noqa: F811
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1500}, locale="fr-FR")
    browser_login(page, base_url)
    page.goto(f"{base_url}/")
    _wait_ready(page)
    page.check("#layer-forecast")
    _layer_ready(page, "layer-forecast")
    page.check("#layer-indicators")
    _layer_ready(page, "layer-indicators")
    assert page.locator("path[data-layer='indicators']").count() > 0
    # Inside the map's view, the element at each forecast cell's centre is that cell's path.
    on_top = page.evaluate("""() => {
        const map = document.querySelector('#map').getBoundingClientRect();
        return [...document.querySelectorAll("path[data-layer='forecast']")].map(p => {
            const b = p.getBoundingClientRect();
            const x = b.left + b.width / 2, y = b.top + b.height / 2;
            if (x < map.left || x > map.right || y < map.top || y > map.bottom) return null;
            return document.elementFromPoint(x, y) === p;
        }).filter(v => v !== null);
    }""")
    assert on_top and all(on_top), on_top
    # Hatched, not an opaque fill: the indicators paint patterns, the choropleth still shows through.
    fills = set(page.eval_on_selector_all("path[data-layer='indicators']", "ps => ps.map(p => p.getAttribute('fill'))"))
    assert fills and all(f.startswith("url(#hatch-") for f in fills)
    page.close()
