"""Query parameters of the counting routes, parsed strictly into a :class:`CountFilters`.

Dates are ``YYYY-MM-DD`` only (no timestamps, no Unix times); lists are
repeatable (``source=a&source=b``) or comma-separated (``source=a,b``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import WithJsonSchema

from observatoire.errors import InputError
from observatoire.event.schema import ATTRIBUTES
from observatoire.event.taxonomy import is_category

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# A day parameter: documented as an OpenAPI ``date`` (RFC 3339 full-date, YYYY-MM-DD), read by
# :func:`parse_date` (which says, in one line, what is wrong with anything else), between FIRST_YEAR and LAST_YEAR:
# a period of records, not of the calendar's extremes (at which the windows before and after a day overflow).
DateText = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
FIRST_YEAR, LAST_YEAR = 1900, 2199

# The grid's side: its bound in the schema, and the bound on the grid's cells (analytics/places.py
# MAX_GRID_CELLS, which depends on the city's extent) in words.
CELL_M_DESCRIPTION = ("Side of a grid cell, metres; a grid of more than 60,000 cells over the city is refused "
                      "(422 naming the finest size allowed: 100 m over Marseille)")


@dataclass(frozen=True, slots=True)
class CountFilters:
    """What to count: a UTC period ``[start, end)`` and source/category selections (empty: all)."""

    start: date | None
    end: date | None
    sources: tuple[str, ...]
    categories: tuple[str, ...]


def parse_date(name: str, value: str | None) -> date | None:
    """``YYYY-MM-DD`` as a date; ``None`` or blank as ``None``; anything else, or a year outside
    ``FIRST_YEAR``..``LAST_YEAR``, an :class:`InputError`."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: {text[:32]!r} is not a date in the form YYYY-MM-DD") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InputError(f"{name}: {text} lies outside the years {FIRST_YEAR} to {LAST_YEAR}")
    return day


def split_values(values: Iterable[str] | None) -> tuple[str, ...]:
    """Values of a repeatable, comma-separated parameter: stripped, without blanks or repeats, in order."""
    seen: dict[str, None] = {}
    for value in values or ():
        for part in value.split(","):
            if part.strip():
                seen.setdefault(part.strip(), None)
    return tuple(seen)


def count_filters(
    start: Annotated[DateText | None, Query(description="First day included, YYYY-MM-DD (UTC midnight).")] = None,
    end: Annotated[DateText | None, Query(description="First day excluded, YYYY-MM-DD (UTC midnight).")] = None,
    source: Annotated[list[str] | None, Query(description="Source name(s), repeated or comma-separated.")] = None,
    category: Annotated[list[str] | None, Query(description="Category code(s), repeated or comma-separated.")] = None,
) -> CountFilters:
    """Parse and check the counting parameters (sources are checked against the store by the route)."""
    first, stop = parse_date("start", start), parse_date("end", end)
    if first is not None and stop is not None and stop <= first:
        raise InputError(f"end ({stop.isoformat()}) must be after start ({first.isoformat()}): the period is empty")
    categories = split_values(category)
    unknown = [c for c in categories if not is_category(c)]
    if unknown:
        raise InputError(f"unknown category: {', '.join(u[:40] for u in unknown)} (see /api/v1/meta for the codes)")
    return CountFilters(first, stop, split_values(source), categories)


def check_sources(sources: tuple[str, ...], present: Iterable[str]) -> None:
    """Raise :class:`InputError` unless each requested source is registered or present in the store.

    A registered source without data is valid (it counts zero everywhere).
    """
    known_set = set(ATTRIBUTES) | set(present)
    unknown = [s for s in sources if s not in known_set]
    if unknown:
        names = ", ".join(u[:40] for u in unknown)
        raise InputError(f"unknown source: {names} (known: {', '.join(sorted(known_set))})")
