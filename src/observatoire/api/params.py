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

from observatoire.errors import InputError
from observatoire.event.schema import ATTRIBUTES
from observatoire.event.taxonomy import is_category

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class CountFilters:
    """What to count: a UTC period ``[start, end)`` and source/category selections (empty: all)."""

    start: date | None
    end: date | None
    sources: tuple[str, ...]
    categories: tuple[str, ...]


def parse_date(name: str, value: str | None) -> date | None:
    """``YYYY-MM-DD`` as a date; ``None`` or blank as ``None``; anything else an :class:`InputError`."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: {text[:32]!r} is not a date in the form YYYY-MM-DD") from None


def split_values(values: Iterable[str] | None) -> tuple[str, ...]:
    """Values of a repeatable, comma-separated parameter: stripped, without blanks or repeats, in order."""
    seen: dict[str, None] = {}
    for value in values or ():
        for part in value.split(","):
            if part.strip():
                seen.setdefault(part.strip(), None)
    return tuple(seen)


def count_filters(
    start: Annotated[str | None, Query(description="First day included, YYYY-MM-DD (UTC midnight).")] = None,
    end: Annotated[str | None, Query(description="First day excluded, YYYY-MM-DD (UTC midnight).")] = None,
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
