"""French number and date formats for the report's text: decimal comma, narrow no-break space thousands."""

from __future__ import annotations

import math
from datetime import date, datetime

from observatoire.report.period import MONTHS_FR

NNBSP = "\u202f"      # narrow no-break space: thousands separator, and before %, ‰ and ;


def integer(n: int) -> str:
    """``12345`` as ``12 345`` (narrow no-break spaces)."""
    return f"{int(n):,}".replace(",", NNBSP)


def number(x: float | None, digits: int = 2) -> str:
    """``1234.5`` as ``1 234,50``; ``–`` for a missing or non-finite value."""
    if x is None or not math.isfinite(x):
        return "–"
    x = 0.0 if round(x, digits) == 0 else x
    return f"{x:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", NNBSP).replace("-", "−")


def percent(share: float | None, digits: int = 1) -> str:
    """A share ``0.125`` as ``12,5 %``."""
    return "–" if share is None else f"{number(100 * share, digits)}{NNBSP}%"


def interval(low: float | None, high: float | None, digits: int = 2, *, as_percent: bool = False) -> str:
    """``[0,11 ; 0,60]`` (or in percent); ``–`` when a bound is missing."""
    if low is None or high is None:
        return "–"
    fmt = (lambda v: percent(v, digits)) if as_percent else (lambda v: number(v, digits))
    return f"[{fmt(low)}{NNBSP};{NNBSP}{fmt(high)}]"


def day(value: date | datetime | str) -> str:
    """A date (or ISO text) as ``12 novembre 2026``."""
    d = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{'1er' if d.day == 1 else d.day} {MONTHS_FR[d.month - 1]} {d.year}"


def released(cell: dict) -> str:
    """A released number with its 95 % margin (``191 ± 40``); a suppressed one as its text (``< 10``, ``masqué``)."""
    if cell.get("value") is None:
        return str(cell["shown"])
    return f"{integer(cell['value'])}{NNBSP}±{NNBSP}{integer(cell['margin_95'])}"
