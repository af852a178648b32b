"""The report as plain data: sections of text, tables and charts, each saying where its figures come from.

A document is ``{"title", "version", "period", "generated_at", "sections": [...]}``; a section is
``{"title", "source", "blocks"}``; a block is ``{"text": ...}``, ``{"table": {"columns", "rows"}}`` or
``{"chart": <data: URI>, "alt": ...}``. Every number in it is already French-formatted text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def section(title: str, source: str, *blocks: dict[str, Any]) -> dict[str, Any]:
    """A section; ``source`` says where its figures come from."""
    return {"title": title, "source": source, "blocks": list(blocks)}


def text(value: str) -> dict[str, Any]:
    return {"text": value}


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    return {"table": {"columns": list(columns), "rows": [[str(c) for c in r] for r in rows]}}


def chart(uri: str, alt: str) -> dict[str, Any]:
    return {"chart": uri, "alt": alt}


def heading(value: str) -> dict[str, Any]:
    """A sub-heading inside a section."""
    return {"heading": value}
