"""The regulator documents and the login page in headless Debian Chromium: they render from the app alone
(no request leaves localhost), carry the live configuration, and a wrong password is refused on the page."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from test_browser import CHROMIUM, base_url, browser  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (make chromium)")]


@pytest.mark.parametrize("document", ["register", "aipd"])
def test_a_regulator_document_renders_with_the_live_configuration(
    base_url: str, browser: Any, anonymous: TestClient, document: str,  # noqa: F811
) -> None:
    requests: list[str] = []
    page = browser.new_page(locale="fr-FR")
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{base_url}/api/v1/{document}?format=html")
    page.wait_for_load_state("load")
    headings = page.eval_on_selector_all("h1, h2", "hs => hs.map(h => h.textContent.trim())")
    assert headings and all(h for h in headings)
    text = page.inner_text("body")
    live = anonymous.get(f"/api/v1/{document}").json()
    for section in live["sections"]:                                   # the page is the JSON document, rendered
        assert any(h.startswith(section["title"]) for h in headings), section["title"]
    if document == "register":
        for rule in anonymous.get("/api/v1/rules").json()["rules"]:   # every active rule is in the register
            assert rule["id"] in text
    else:
        assert "cctv_events" in text                                   # the inventory names the sources
    assert all(u.startswith(base_url) for u in requests), [u for u in requests if not u.startswith(base_url)]
    page.close()


def test_the_login_page_refuses_a_wrong_password_and_admits_the_right_one(
    base_url: str, browser: Any, browser_login: Any,  # noqa: F811
) -> None:
    page = browser.new_page(locale="fr-FR")
    page.goto(f"{base_url}/login")
    page.fill("#login", "analyst")
    page.fill("#password", "not the password")
    page.click("#submit")
    page.wait_for_load_state("load")
    assert page.url.startswith(f"{base_url}/login")
    assert page.locator("#password").count() == 1                       # still the form, with a message
    browser_login(page, base_url, role="analyst")
    me = page.evaluate("fetch('/api/v1/me').then(r => r.json())")
    assert me["role"] == "analyst"
    page.close()
