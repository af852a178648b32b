"""The report's one entry point: :func:`build_report`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatoire.errors import InputError
from observatoire.report.collect import collect
from observatoire.report.period import parse_period
from observatoire.report.render import to_html, to_pdf

FORMATS = ("html", "pdf")


def build_report(settings: Any, period: str, *, version: str, fmt: str, now: datetime) -> bytes:
    """The periodic control report of ``period`` (``2026-Q4``, ``2026-11`` or ``2026``) as HTML or PDF bytes.

    Raises
    ------
    InputError
        A period, version or format that cannot be used (the message says which and why).
    """
    if fmt not in FORMATS:
        raise InputError(f"unknown report format {str(fmt)[:20]!r}: html or pdf")
    html = to_html(collect(settings, parse_period(period), version=version, now=now))
    return html.encode("utf-8") if fmt == "html" else to_pdf(html)
