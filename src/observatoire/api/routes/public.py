"""The public edge: releases only (``docs/release.md``). No route here reads the store.

- ``GET /api/v1/public/releases``: the published releases (manifests), newest first.
- ``GET /api/v1/public/releases/{release_id}``: one release's manifest and tables.
- ``GET /api/v1/public/releases/{release_id}/{name}``: its files (``zones.csv``, ``city.csv``, ``zones.geojson``,
  ``release.json``) to download.
- ``GET /api/v1/public/ledger``: the privacy ledger (each release's loss, per measured table and per year).
- ``GET /api/v1/public/report?period=2026-Q4&format=html|pdf``: the public control report (releases, the
  ledger and the published registry only: ``docs/report.md``).
- ``GET /public``, ``GET /public/methodologie``: the public portal and its methodology page.

Every call is audited as ``consult`` of the dataset ``releases`` (``api/access.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from observatoire.api.access import AuditNoteDep
from observatoire.api.models import Ledger, ReleaseDocument, ReleaseList
from observatoire.api.openapi import NOT_FOUND
from observatoire.api.routes.pages import static_page
from observatoire.release.archive import ReleaseArchive

router = APIRouter(tags=["public"])

MEDIA_TYPES = {"zones.csv": "text/csv; charset=utf-8", "city.csv": "text/csv; charset=utf-8",
               "zones.geojson": "application/geo+json", "release.json": "application/json"}


def _archive(request: Request) -> ReleaseArchive:
    archive: ReleaseArchive = request.app.state.releases
    return archive


def _summary(manifest: dict[str, Any]) -> dict[str, Any]:
    return {"id": manifest["id"], "period": manifest["period"], "created_at": manifest["created_at"],
            "epsilon": manifest["privacy_loss"]["epsilon"], "k": manifest["suppression"]["k"],
            "sources": manifest["sources"]["included"], "files": sorted(manifest["files"])}


@router.get("/api/v1/public/releases")
def releases(request: Request, note: AuditNoteDep) -> ReleaseList:
    """The published monthly releases, newest first (their period, privacy loss, threshold and files)."""
    manifests = _archive(request).manifests()
    note.rows = len(manifests)
    return ReleaseList.model_validate({"releases": [_summary(m) for m in reversed(manifests)]})


def _published(request: Request, release_id: str, name: str | None = None) -> None:
    """404 unless ``release_id`` is a published release (and ``name`` one of its public files)."""
    if release_id not in _archive(request).ids():
        raise HTTPException(404, f"no published release {release_id[:20]!r}")
    if name is not None and name not in MEDIA_TYPES:
        raise HTTPException(404, f"a release has no file {name[:40]!r}; files: {', '.join(sorted(MEDIA_TYPES))}")


@router.get("/api/v1/public/releases/{release_id}", response_model=ReleaseDocument, responses=NOT_FOUND)
async def release(request: Request, release_id: str) -> Response:
    """One release: its manifest (mechanism, parameters, privacy loss, code version) and its tables."""
    # Async: the document is read once per release and kept (ReleaseArchive), so the usual answer is from memory
    # and needs no trip through the thread pool (the public map's route under load: bench/load.py).
    _published(request, release_id)
    # As published, made once per release (ReleaseArchive.document): the numbers are never drawn again.
    return Response(_archive(request).document(release_id), media_type="application/json")


@router.get("/api/v1/public/releases/{release_id}/{name}", response_class=FileResponse, responses={
    **NOT_FOUND, 200: {"description": "The file, byte for byte as published",
                       "content": {t.split(";")[0]: {"schema": {"type": "string"}} for t in MEDIA_TYPES.values()}}})
def release_file(request: Request, release_id: str, name: str) -> FileResponse:
    """A release's file to download, byte for byte as published (its SHA-256 is in the manifest)."""
    _published(request, release_id, name)
    path = _archive(request).path(release_id, name)
    return FileResponse(path, media_type=MEDIA_TYPES[name], filename=f"observatoire-{release_id}-{name}")


@router.get("/api/v1/public/ledger")
def ledger(request: Request) -> Ledger:
    """The privacy ledger: every release's loss (epsilon, delta) per measured table, and per year against the
    configured budget."""
    return Ledger.model_validate(_archive(request).ledger(request.app.state.release_config.annual_budget))


REPORTS_KEPT = 32


@router.get("/api/v1/public/report", response_class=HTMLResponse, responses={**NOT_FOUND, 200: {
    "description": "The report, as HTML or PDF",
    "content": {"text/html": {"schema": {"type": "string"}}, "application/pdf": {"schema": {"type": "string"}}}}})
def report(request: Request,
           period: Annotated[str, Query(max_length=16, description="A quarter 2026-Q4, a month 2026-11 or a year "
                                                                   "2026.")],
           format: Annotated[Literal["html", "pdf"], Query(description="html or pdf.")] = "html",  # noqa: A002
           ) -> Response:
    """The public version of the periodic control report: built from the releases only, once a day per period,
    format and set of releases (then served from memory). Only for a period holding a published release (so an
    anonymous caller cannot have the server render reports of arbitrary periods)."""
    from observatoire.report.build import build_report
    from observatoire.report.period import parse_period

    settings = request.app.state.settings
    published = tuple(_archive(request).ids())
    months = parse_period(period).months      # an unusable period: the documented 422 (InputError)
    if not set(months) & set(published):
        raise HTTPException(status_code=404, detail=f"no release is published for the period {period}; "
                                                    "GET /api/v1/public/releases lists them")
    key = (period, format, published, settings.clock().date())
    reports: OrderedDict[tuple, bytes] = request.app.state.public_reports
    data = reports.get(key)
    if data is None:
        data = build_report(settings, period, version="public", fmt=format, now=settings.clock())
        reports[key] = data
        while len(reports) > REPORTS_KEPT:
            reports.popitem(last=False)
    if format == "pdf":
        return Response(data, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="observatoire-rapport-{period}.pdf"'})
    return HTMLResponse(data.decode("utf-8"))


@router.get("/public", response_class=HTMLResponse, include_in_schema=False)
def portal() -> HTMLResponse:
    """The public portal: the map of the published releases, their downloads and links."""
    return static_page("portal.html")


@router.get("/public/methodologie", response_class=HTMLResponse, include_in_schema=False)
def methodology() -> HTMLResponse:
    """What is counted, how it is protected, and the ledger."""
    return static_page("methodologie.html")
