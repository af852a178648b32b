"""``GET /``: the map page (static HTML; the data come from the API)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["pages"])

VENDOR_FILES = ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css")
_NOTICE_SLOT = "<!-- vendor-notice -->"
_NOTICE = (
    '<div class="notice" role="alert" id="vendor-notice">'
    "La bibliothèque cartographique (Leaflet) n'est pas installée : lancez <code>make web</code> "
    "puis rechargez la page. <span lang=\"en\">(Leaflet is missing: run <code>make web</code>.)</span></div>"
)


def static_dir() -> Path:
    """The packaged ``static`` folder (page, script, style, and ``vendor/`` made by ``make web``)."""
    return Path(str(resources.files("observatoire.api") / "static"))


def missing_vendor_files(root: Path) -> list[str]:
    """Front-end files that ``make web`` should have copied under ``root`` but did not."""
    return [f for f in VENDOR_FILES if not (root / f).is_file()]


def static_page(name: str) -> HTMLResponse:
    """A packaged page; it says to run ``make web`` when Leaflet is missing instead of staying blank."""
    root = static_dir()
    html = (root / name).read_text(encoding="utf-8")
    if missing_vendor_files(root):
        html = html.replace(_NOTICE_SLOT, _NOTICE)
    return HTMLResponse(html)


@router.get("/controle/equite", response_class=HTMLResponse, include_in_schema=False)
def fairness_page() -> HTMLResponse:
    """The fairness control page for auditors, the DPO and the control committee (it reads /api/v1/audits/*)."""
    return static_page("equite.html")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index() -> HTMLResponse:
    """The staff map page (anonymous visitors are sent on to the public portal, ``/public``)."""
    return static_page("index.html")
