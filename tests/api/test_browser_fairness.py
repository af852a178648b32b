"""The fairness control page in headless Debian Chromium: an auditor reads, in French, each audit's question, its
figure with the interval, what the flag means and does not, the data it rests on, and the patrol audit quarter by
quarter; an audit the store cannot answer says why. The figures are the audit routes' own."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from fastapi.testclient import TestClient

from conftest import add_role_accounts, governance_settings, login_as, wait_until
from observatoire.api.app import create_app
from observatoire.city.profile import CityProfile
from test_browser import CHROMIUM, base_url, browser  # noqa: F401  (fixtures)
from test_browser_portal import Watch

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (make chromium)")]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> FastAPI:
    """Half a year of independent reports and of patrol hours over-deploying the deprived zones ×1.5; no stop."""
    from tests.audits.test_patrol_fairness import _store

    root = tmp_path_factory.mktemp("fairness-page")
    _store(root / "store", city, 1.5, seed=11)
    app = create_app(governance_settings(root / "governance", store_dir=root / "store"))
    add_role_accounts(app)
    return app


def test_an_auditor_reads_each_audit_in_french_with_its_interval_and_its_history(
        base_url: str, browser: Any, browser_login: Any, app: FastAPI) -> None:
    page = browser.new_page()
    watch = Watch(page)
    browser_login(page, base_url, role="auditor")
    page.goto(f"{base_url}/controle/equite")
    wait_until(page, "() => document.body.dataset.state === 'ready' && "
                     "document.querySelectorAll('#patrols-history tr').length === 4")
    text = " ".join(page.inner_text("#patrols").split())
    with login_as(TestClient(app), "auditor") as client:
        api = client.get("/api/v1/audits/fairness", params={"allocation": "patrols"}).json()
    need = next(r for r in api["audit"]["ratios"] if r["measure"] == "per_need")
    shown = lambda v: f"{v:.2f}".replace(".", ",")                    # noqa: E731
    assert (f"reçoivent {shown(need['ratio'])} fois les heures de patrouille par fait signalé" in text
            and f"{shown(need['ci_low'])} à {shown(need['ci_high'])}" in text), text
    assert "Signal levé" in text and page.get_attribute("#patrols-result", "data-flagged") == "true"
    assert "Ce qu'il ne veut pas dire" in text and "[0,80 ; 1,25]" in text
    assert re.search(r"Heures de patrouille et faits signalés indépendamment du 1 janvier 2024 au 1 juillet 2024 "
                     r"\(exclu\) \(\d[\d ]* faits", text), text            # the window clipped to the data
    history = page.locator("#patrols-history tr").all_inner_texts()
    assert len(history) == 4 and "oui" in history[0] and "non calculé" in history[-1], history
    assert "the patrol records start on 2024-01-01" in history[-1]
    assert page.get_attribute("#stops", "data-state") == "refused"
    assert "Audit impossible" in page.inner_text("#stops-result") and "no stop records" in page.inner_text(
        "#stops-result")
    assert page.get_attribute("#loop", "data-state") in ("ready", "refused")
    assert not watch.errors, watch.errors                       # no script error
    assert all(u.startswith(base_url) or u.startswith("data:") for u in watch.requests)   # nothing leaves localhost
    assert watch.failed and all(f.startswith("422 ") and "/api/v1/audits/" in f for f in watch.failed), watch.failed
    page.screenshot(path=str(Path("/tmp/observatoire-equite.png")), full_page=True)
    page.close()


def test_the_page_is_for_the_roles_that_may_read_the_audits(base_url: str, browser: Any,
                                                             browser_login: Any) -> None:
    page = browser.new_page()
    response = page.goto(f"{base_url}/controle/equite")
    assert response is not None and (response.status == 401 or "login" in page.url), (response, page.url)
    assert "Contrôle de l'équité" not in page.content()        # nothing of the page for an anonymous visitor
    browser_login(page, base_url, role="operator")
    response = page.goto(f"{base_url}/controle/equite")
    assert response is not None and response.status == 403
    page.close()
