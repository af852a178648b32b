"""The map page in headless Debian Chromium: polygons drawn, table equal to the API, nothing leaves localhost.

Needs ``make web`` (Leaflet under ``static/vendor``) and ``/usr/bin/chromium``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright import sync_api

from conftest import wait_until
from observatoire.api.routes.pages import missing_vendor_files, static_dir

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/observatoire-map.png")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                     "(make chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(app: FastAPI) -> Iterator[str]:
    assert not missing_vendor_files(static_dir()), "Leaflet is missing: run `make web` before the browser tests"
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _table(page: Any) -> dict[str, tuple[int, float]]:
    rows = page.eval_on_selector_all(
        "#zones-table tbody tr",
        """rows => rows.map(r => [r.dataset.zoneId,
                                  r.querySelectorAll('td')[1].dataset.value,
                                  r.querySelectorAll('td')[2].dataset.value])""")
    return {z: (int(n), float(rate)) for z, n, rate in rows}


def _api(client: TestClient, query: str) -> dict[str, tuple[int, float]]:
    payload = client.get(f"/api/v1/zones?{query}").json()
    return {f["id"]: (f["properties"]["count"], f["properties"]["rate_per_1000"]) for f in payload["features"]}


def _wait_ready(page: Any, previous_query: str | None = None) -> str:
    wait_until(page, 
        "prev => document.body.dataset.state === 'ready' && document.querySelector('#zones-table').dataset.query "
        "!== undefined && document.querySelector('#zones-table').dataset.query !== prev",
        arg=previous_query, timeout=15000)
    query: str = page.eval_on_selector("#zones-table", "t => t.dataset.query")
    return query


def test_when_page_opened_then_map_and_table_match_the_api(base_url: str, browser: Any, client: TestClient,
                                                          browser_login: Any) -> None:
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 1400}, locale="fr-FR")
    browser_login(page, base_url)                   # exact figures are for staff (the public reads releases)
    page.on("request", lambda r: requests.append(r.url))
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/")
    query = _wait_ready(page)

    # Default period: the last 12 months ending at the last month with data (/api/v1/meta: 2023-11 to 2025-02).
    assert (page.input_value("#start"), page.input_value("#end")) == ("2024-03", "2025-02")
    assert query == "start=2024-03-01&end=2025-03-01"
    # Logged in: the header names the user; no favicon request fails.
    assert page.locator("#logout").is_visible() and not page.locator("#login-link").is_visible()

    paths = page.locator(".leaflet-overlay-pane svg path[data-zone-id]")
    assert paths.count() == 16
    fills = set(page.eval_on_selector_all(".leaflet-overlay-pane svg path[data-zone-id]",
                                          "ps => ps.map(p => p.getAttribute('fill'))"))
    assert len(fills) >= 3                          # a choropleth, not a flat fill
    drawn = page.eval_on_selector_all(".leaflet-overlay-pane svg path[data-zone-id]",
                                      "ps => ps.map(p => [p.dataset.zoneId, p.getBBox().width * p.getBBox().height])")
    assert all(area > 0 for _, area in drawn)

    expected = _api(client, query)
    assert _table(page) == expected
    assert page.locator("#zones-table tbody tr").count() == 16
    assert page.locator("#legend .swatch").count() >= 3
    assert "IGN" in page.inner_text("footer") and "INSEE" in page.inner_text("footer")
    assert page.inner_text("#zones-table caption").startswith("Événements par arrondissement")

    # French display: decimal comma and narrow no-break space between thousands.
    population = page.eval_on_selector("#zones-table tbody tr[data-zone-id='13208'] td", "td => td.textContent")
    assert population == "81\u202f028"
    rate_text = page.eval_on_selector_all("#zones-table tbody tr td:nth-of-type(3)",
                                          "tds => tds.map(t => t.textContent)")
    assert all("," in t and "." not in t for t in rate_text)

    # Another source: the figures change and still equal the API's.
    page.select_option("#source", "verbalisations")
    query2 = _wait_ready(page, query)
    assert "source=verbalisations" in query2
    after = _table(page)
    assert after == _api(client, query2) and after != expected
    counts_on_map = dict(page.eval_on_selector_all(
        ".leaflet-overlay-pane svg path[data-zone-id]", "ps => ps.map(p => [p.dataset.zoneId, +p.dataset.count])"))
    assert counts_on_map == {z: n for z, (n, _) in after.items()}

    page.select_option("#source", "")
    _wait_ready(page, query2)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()

    assert not errors, errors
    assert not failed, failed                       # e.g. no /favicon.ico 404
    assert requests and all(u.startswith(base_url) or u.startswith("data:") for u in requests), \
        [u for u in requests if not u.startswith(base_url)]


def test_when_logged_in_then_header_names_the_user_and_logout_returns_to_the_portal(
    base_url: str, browser: Any, browser_login: Any,
) -> None:
    errors: list[str] = []
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(page, base_url, role="analyst")
    page.goto(f"{base_url}/")
    _wait_ready(page)
    page.wait_for_selector("#session-user:not([hidden])", timeout=10000)
    assert page.inner_text("#session-who") == "Connecté : analyst (analyste)"
    assert not page.locator("#login-link").is_visible()

    page.click("#logout")
    page.wait_for_url(f"{base_url}/public", timeout=10000)   # anonymous again: the public portal
    me = page.evaluate("fetch('api/v1/me').then(r => r.json())")
    assert me["login"] is None                              # the session is closed on the server too
    context.close()
    assert not errors, errors


def test_when_leaflet_fails_to_load_then_page_says_make_web(base_url: str, browser: Any) -> None:
    page = browser.new_page()
    page.route("**/vendor/leaflet/leaflet.js", lambda route: route.abort())
    page.goto(f"{base_url}/")
    wait_until(page, "document.body.dataset.state === 'error'", timeout=10000)
    notice = page.locator("#notice")
    assert notice.is_visible() and "make web" in notice.inner_text()
    page.close()
