"""``GET /api/v1/register`` and ``GET /api/v1/aipd``: the regulator documents, generated on each request
from the live configuration (JSON by default; ``?format=md|html``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from observatoire.api.models import RegulatorDocument
from observatoire.regulator import document
from observatoire.regulator.render import MEDIA_TYPES, render

router = APIRouter(prefix="/api/v1", tags=["regulator"])

FormatQuery = Annotated[Literal["json", "md", "html"], Query(description="json (default), md or html")]
# The document as JSON (the model), Markdown or HTML.
FORMATS = {200: {"content": {"text/markdown": {"schema": {"type": "string"}},
                             "text/html": {"schema": {"type": "string"}}},
                 "description": "The document: JSON by default, Markdown or HTML with format"}}


def _answer(request: Request, kind: str, fmt: str) -> RegulatorDocument | Response:
    principal = getattr(request.state, "principal", None)
    staff = principal is not None and principal.role != "public"
    doc = document(request.app.state.settings, kind, verdicts=staff)     # verdict counts: staff only
    if fmt == "json":
        return RegulatorDocument.model_validate(doc)
    return Response(render(doc, fmt), media_type=MEDIA_TYPES[fmt])


@router.get("/register", response_model=RegulatorDocument, responses=FORMATS)
def register(request: Request, format: FormatQuery = "json") -> Any:  # noqa: A002 (the query parameter's name)
    """The public algorithm register entry: purpose, data and sources, rules and parameters, human oversight,
    non-discrimination, risks, access, contact (CRPA L312-1-3; Amsterdam/Helsinki registers)."""
    return _answer(request, "register", format)


@router.get("/aipd", response_model=RegulatorDocument, responses=FORMATS)
def aipd(request: Request, format: FormatQuery = "json") -> Any:  # noqa: A002
    """The AIPD (DPIA) skeleton: processing inventory per source, legal bases, retention, recipients, measures;
    the sections the DPO completes are marked ``to_complete``."""
    return _answer(request, "aipd", format)
