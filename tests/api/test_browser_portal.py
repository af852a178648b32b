"""The public portal and its methodology page in headless Debian Chromium: releases only, each number as the
release shows it ("< 10" drawn as such), its uncertainty in words, the release's files, the privacy ledger;
nothing leaves localhost.

The app here has its own store, bigger than the shared one so that numbers get published, and the releases
of every closed month. Needs ``make web`` (Leaflet under ``static/vendor``) and ``/usr/bin/chromium``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI

from conftest import NOW, Spec, governance_settings, synthetic_events, wait_until
from observatoire.api.app import create_app
from observatoire.city.profile import CityProfile
from observatoire.release.build import publish_due
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore
from test_browser import CHROMIUM, base_url, browser  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (make chromium)")]

SCREENSHOT = Path("/tmp/observatoire-portal.png")
EVENTS = 20_000               # ~1,250 a month over the 16 zones: most group numbers above k, some under
CATEGORIES = ("violence", "theft", "burglary", "nuisance", "public_order", "road_safety")
FILLS = {"primary": "url(#hatch-primary)", "secondary": "#aab2bc"}      # portal.js UNPUBLISHED_FILL
UNCERTAINTY = re.compile(r"\d[\d\u202f]* faits \(± (\d+), à 95\u202f%\) : l'écart entre le nombre publié et le "
                         r"nombre réel est d'au plus (\d+) dans 95\u202f% des cas\.")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> FastAPI:
    """The portal's own app (overrides conftest's for this module's ``base_url``): every closed month published."""
    root = tmp_path_factory.mktemp("portal")
    store = ParquetStore(root / "store", zone_ids=city.zone_ids)
    events = synthetic_events(city, Spec("mains_courantes", EVENTS, CATEGORIES), np.random.default_rng(11), "portal")
    store.commit(Batch(batch_id="portal", source="mains_courantes", source_file="mains_courantes.csv",
                       file_sha256="0" * 64, rows_read=events.num_rows, events=events))
    settings = governance_settings(root / "governance", store_dir=root / "store", releases_dir=root / "releases")
    report = publish_due(store=store, city=city, config=settings.release_config(), archive=settings.releases(),
                         retention_days=dict(settings.retention_days), now=NOW, first_month="2023-12")
    assert report.built and not report.refused, report
    return create_app(settings)


class Watch:
    """Every request, 4xx-5xx response and page error of a page."""

    def __init__(self, page: Any) -> None:
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self, base: str) -> None:
        assert not self.errors, self.errors
        assert not self.failed, self.failed
        assert self.requests and all(u.startswith(base) or u.startswith("data:") for u in self.requests), \
            [u for u in self.requests if not u.startswith(base)]


def _get(page: Any, url: str) -> Any:
    response = page.request.get(url)
    assert response.status == 200, (url, response.status)
    return response


def _wait(page: Any, release: str, group: str) -> None:
    wait_until(page, 
        "([r, g]) => document.body.dataset.state === 'ready' && document.querySelector('#zones-table').dataset.release"
        " === r && document.querySelector('#zones-table').dataset.group === g", arg=[release, group], timeout=15000)


def _drawn(page: Any) -> tuple[dict[str, tuple[str, str, str]], dict[str, tuple[str, str, str]]]:
    """Per zone, (shown, status, fill) of its map path and (shown, status, text) of its table row."""
    paths = page.eval_on_selector_all(
        ".leaflet-overlay-pane svg path[data-zone-id]",
        "ps => ps.map(p => [p.dataset.zoneId, p.dataset.shown, p.dataset.status, p.getAttribute('fill')])")
    rows = page.eval_on_selector_all(
        "#zones-table tbody tr",
        "rs => rs.map(r => [r.dataset.zoneId, r.dataset.shown, r.dataset.status, "
        "r.querySelectorAll('td')[1].textContent])")
    return ({z: (s, st, f) for z, s, st, f in paths},
            {z: (s, st, t.replace("\u202f", "")) for z, s, st, t in rows})


def _check_release_drawn(page: Any, tables: dict[str, Any], group: str) -> list[str]:
    """The map and the table show the release's numbers for ``group``; returns the statuses seen."""
    paths, rows = _drawn(page)
    expected = {z["zone_id"]: z["values"][group] for z in tables["zones"]}
    assert len(paths) == 16 and set(paths) == set(rows) == set(expected)
    for zone, cell in expected.items():
        assert paths[zone][:2] == rows[zone][:2] == (cell["shown"], cell["status"]), (zone, group)
        assert rows[zone][2] == cell["shown"], (zone, group)           # "< 10" and "masqué" as words, never a number
        fill = paths[zone][2]
        if cell["status"] in FILLS:
            assert fill == FILLS[cell["status"]], (zone, group, fill)
        else:
            assert fill.startswith("#") and fill not in FILLS.values(), (zone, group, fill)
    return [c["status"] for c in expected.values()]


def test_anonymous_visitors_read_the_releases_on_the_portal(
    app: FastAPI, base_url: str, browser: Any,  # noqa: F811
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1600}, locale="fr-FR")
    watch = Watch(page)
    page.goto(f"{base_url}/")
    page.wait_for_url(f"{base_url}/public", timeout=15000)              # the staff map sends anonymous visitors on
    releases = _get(page, f"{base_url}/api/v1/public/releases").json()["releases"]
    ids = [r["id"] for r in releases]
    # Every closed month published, newest first (2025-02 is not closed on NOW).
    assert ids == app.state.releases.ids()[::-1] and ids[0] == "2025-01" and len(ids) >= 14
    _wait(page, ids[0], "total")

    # The period picker lists exactly the published months, the newest chosen.
    options = page.eval_on_selector_all("#period option", "os => os.map(o => [o.value, o.textContent])")
    assert [v for v, _ in options] == ids and page.input_value("#period") == ids[0]
    assert options[0][1] == "janvier 2025"

    tables = _get(page, f"{base_url}/api/v1/public/releases/{ids[0]}").json()["tables"]
    groups = [c["code"] for c in tables["columns"]]
    assert page.eval_on_selector_all("#group option", "os => os.map(o => o.value)") == groups
    seen = _check_release_drawn(page, tables, "total")
    assert "published" in seen
    assert page.locator("#legend [data-status='primary']").inner_text().startswith("<\u202f10")

    # Each group as the release shows it: under k drawn hatched and written "< 10", masked grey.
    for group in groups[:-1]:
        page.select_option("#group", group)
        _wait(page, ids[0], group)
        seen += _check_release_drawn(page, tables, group)
    assert {"published", "primary"} <= set(seen)
    assert page.locator("#zones-table tbody tr[data-status='primary'] td:nth-of-type(2)").first.inner_text() == "< 10"

    # The city's number for the chosen group, and its margin, in plain words.
    page.select_option("#group", "atteintes_biens")
    _wait(page, ids[0], "atteintes_biens")
    city = next(r for r in tables["city"] if r["row"] == "groupe" and r["column"] == "atteintes_biens")
    sentence = UNCERTAINTY.search(page.inner_text("#uncertainty"))
    assert city["status"] == "published" and sentence
    assert sentence.groups() == (str(city["margin_95"]),) * 2
    assert page.locator("#city-table tbody tr").count() == len(tables["city"])

    # The rate per 1,000 residents, and an older month.
    page.select_option("#measure", "rate")
    _wait(page, ids[0], "atteintes_biens")
    assert page.inner_text("#legend h2") == "Taux pour 1\u202f000 habitants"
    page.select_option("#period", ids[3])
    _wait(page, ids[3], "atteintes_biens")
    older = _get(page, f"{base_url}/api/v1/public/releases/{ids[3]}").json()["tables"]
    _check_release_drawn(page, older, "atteintes_biens")

    # Every file of the release downloads, byte for byte as published.
    links = page.eval_on_selector_all("#downloads a", "as => as.map(a => [a.dataset.file, a.href])")
    assert sorted(name for name, _ in links) == sorted(releases[3]["files"])
    for name, href in links:
        body = _get(page, href).body()
        if name == "zones.csv":
            assert body.decode().startswith("periode;zone_id;zone;population;groupe;")
        elif name == "city.csv":
            assert body.decode().startswith("periode;ligne;colonne;libelle;valeur;")
        elif name == "zones.geojson":
            assert len(json.loads(body)["features"]) == 16
        else:
            assert json.loads(body) == older

    # The documents a citizen may check, and the staff's way in.
    for link in ("#doc-methodology", "#doc-rules", "#doc-register", "#doc-aipd", "#doc-report-html", "#doc-report-pdf"):
        _get(page, page.eval_on_selector(link, "a => a.href"))
    report = page.eval_on_selector("#doc-report-html", "a => a.href")
    year, month = ids[3].split("-")
    quarter = f"{year}-Q{(int(month) + 2) // 3}"                                   # the older month's quarter
    assert report.endswith(f"/api/v1/public/report?period={quarter}&format=html")
    assert "Publications de la période" in page.request.get(report).text()
    assert page.eval_on_selector("#login-link", "a => [a.textContent, a.href]") == ["Espace agents",
                                                                                  f"{base_url}/login"]
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()
    watch.check(base_url)


def test_the_methodology_page_shows_the_ledger(base_url: str, browser: Any) -> None:  # noqa: F811
    page = browser.new_page(locale="fr-FR")
    watch = Watch(page)
    page.goto(f"{base_url}/public/methodologie")
    wait_until(page, "document.body.dataset.state === 'ready'", timeout=15000)
    ledger = _get(page, f"{base_url}/api/v1/public/ledger").json()
    rows = page.eval_on_selector_all("#ledger-releases tbody tr", "rs => rs.map(r => [r.dataset.release, "
                                     "r.querySelectorAll('td')[3].textContent])")
    assert sorted(r for r, _ in rows) == [e["release"] for e in ledger["releases"]]
    assert {eps for _, eps in rows} == {"1"} and page.inner_text("#epsilon") == "1"
    years = page.eval_on_selector_all("#ledger-years tbody tr", "rs => rs.map(r => [r.dataset.year, "
                                      "[...r.querySelectorAll('td')].map(t => t.textContent)])")
    assert years == [[y["year"], [f"{y['epsilon_spent']:g}", "12", f"{y['epsilon_left']:g}"]] for y in ledger["years"]]
    assert page.inner_text("#sources") == "Mains courantes de la police municipale"
    assert page.locator("#groups dt").count() == 5
    assert page.eval_on_selector("#portal-link", "a => a.href") == f"{base_url}/public"   # <base href="../">
    page.close()
    watch.check(base_url)


def test_before_the_first_release_the_portal_says_so(base_url: str, browser: Any) -> None:  # noqa: F811
    page = browser.new_page(locale="fr-FR")
    watch = Watch(page)
    page.route("**/api/v1/public/releases", lambda route: route.fulfill(json={"releases": []}))
    page.goto(f"{base_url}/public")
    wait_until(page, "document.body.dataset.state === 'empty'", timeout=15000)
    assert page.locator("#empty").is_visible() and not page.locator("#map").is_visible()
    assert "Aucune publication" in page.inner_text("#empty")
    page.close()
    watch.check(base_url)


def test_without_leaflet_the_portal_still_shows_the_tables(base_url: str, browser: Any) -> None:  # noqa: F811
    page = browser.new_page(locale="fr-FR")
    page.route("**/vendor/leaflet/leaflet.js", lambda route: route.abort())
    page.goto(f"{base_url}/public")
    wait_until(page, "document.body.dataset.state === 'ready'", timeout=15000)
    assert page.locator("#notice").is_visible() and not page.locator("#map").is_visible()
    assert page.locator("#zones-table tbody tr").count() == 16
    page.close()
