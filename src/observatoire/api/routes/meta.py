"""``GET /api/v1/meta``: the city, and what the store holds (for the page's pickers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import ibis.expr.types as ir
import pyarrow as pa
from fastapi import APIRouter

from observatoire.analytics.counts import available_months, category_counts, default_period, source_counts
from observatoire.api.deps import CityDep, StoreDep
from observatoire.api.models import CategoryInfo, CityInfo, Meta, MonthPeriod, MonthRange, SourceInfo
from observatoire.event.taxonomy import CATEGORIES
from observatoire.sources.registry import source_labels

router = APIRouter(prefix="/api/v1", tags=["meta"])

# French display names of the registered sources, from their descriptors (the code is shown for any other).
SOURCE_LABELS_FR: Mapping[str, str] = source_labels()


class _Holdings(NamedTuple):
    sources: pa.Table
    categories: pa.Table
    months: list[str]
    last_day: str | None


def _holdings(events: ir.Table) -> _Holdings:
    last = events.occurred_at.max().to_pyarrow().as_py()
    return _Holdings(source_counts(events), category_counts(events), available_months(events),
                     last.date().isoformat() if last is not None else None)


def _sources(manifest: Any, visible: dict[str, int]) -> list[SourceInfo]:
    """Each source with events stored: visible, and stored but past retention (so none vanishes without a word)."""
    stored: dict[str, int] = {}
    for b in manifest.batches.values():
        n = int(b.get("events", 0)) - int((b.get("purged") or {}).get("events", 0))
        if n:
            stored[b["source"]] = stored.get(b["source"], 0) + n
    return [SourceInfo(source=s, label_fr=SOURCE_LABELS_FR.get(s, s), events=int(visible.get(s, 0)),
                       past_retention=max(0, stored.get(s, 0) - int(visible.get(s, 0))))
            for s in [*visible, *sorted(set(stored) - set(visible))]]


@router.get("/meta", response_model=Meta)
def meta(city: CityDep, store: StoreDep) -> Meta:
    """City name and attribution, sources and categories with their row counts, months present."""
    held = store.query(_holdings)
    by_category = dict(zip(held.categories["category"].to_pylist(), held.categories["events"].to_pylist()))
    period = default_period(held.months)
    return Meta(
        city=CityInfo(name=city.name, attribution=city.attribution, timezone=city.timezone,
                      zones=len(city.zones), population=city.population),
        sources=_sources(store.store.manifest(), dict(zip(held.sources["source"].to_pylist(),
                                                          held.sources["events"].to_pylist()))),
        categories=[CategoryInfo(code=c.code, label_fr=c.label_fr, label_en=c.label_en, kind=c.kind,
                                 events=by_category.get(c.code, 0)) for c in CATEGORIES],
        months=MonthRange(first=held.months[0] if held.months else None,
                          last=held.months[-1] if held.months else None, available=held.months),
        default_period=MonthPeriod(start=period[0], end=period[1]) if period else None,
        last_day=held.last_day,
    )
