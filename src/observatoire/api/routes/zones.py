"""``GET /api/v1/zones``: the zones as GeoJSON with event counts and rates per 1,000 residents."""

from __future__ import annotations

from typing import Annotated

import pyarrow as pa
import pyarrow.compute as pc
from shapely.geometry import mapping
from fastapi import APIRouter, Depends, Query

from observatoire.analytics.counts import source_counts, unlocated_count, zone_counts, zone_rates
from observatoire.api.deps import CityDep, StoreDep
from observatoire.api.models import Filters, Period, ZoneCounts, ZoneFeature, ZoneProperties
from observatoire.api.params import CountFilters, check_sources, count_filters, split_values

router = APIRouter(prefix="/api/v1", tags=["zones"])

FiltersDep = Annotated[CountFilters, Depends(count_filters)]


@router.get("/zones", response_model=ZoneCounts)
def zones(
    city: CityDep,
    store: StoreDep,
    filters: FiltersDep,
    discovery: Annotated[list[str] | None, Query(
        description="How the events came to be known: directed, independent, automated, unknown "
                    "(repeated or comma-separated; default all). See /api/v1/audits/provenance.")] = None,
) -> ZoneCounts:
    """Counts per zone for a UTC period (``start`` included, ``end`` excluded) and some sources/categories.

    ``total`` counts every matching event; ``unlocated`` those without a zone,
    which no feature shows. ``discovery`` keeps only events discovered that way.
    """
    present = store.query(source_counts)["source"].to_pylist()
    check_sources(filters.sources, present)
    discoveries = split_values(discovery)
    counts: pa.Table = store.query(lambda events: zone_counts(
        events, start=filters.start, end=filters.end,
        sources=filters.sources or None, categories=filters.categories or None,
        discoveries=discoveries or None))
    rates = zone_rates(counts, city)
    geometry = {z.zone_id: z.geometry for z in city.zones}
    features = [
        ZoneFeature(
            id=row["zone_id"],
            properties=ZoneProperties(
                zone_id=row["zone_id"], name=row["name"], short_name=row["short_name"],
                population=row["population"], count=row["count"],
                rate_per_1000=None if row["rate_per_1000"] is None else round(row["rate_per_1000"], 2)),
            geometry=mapping(geometry[row["zone_id"]]),
        )
        for row in rates.to_pylist()
    ]
    return ZoneCounts(
        features=features,
        period=Period(start=filters.start.isoformat() if filters.start else None,
                      end=filters.end.isoformat() if filters.end else None),
        filters=Filters(sources=list(filters.sources) or None, categories=list(filters.categories) or None),
        total=int(pc.sum(counts["count"]).as_py() or 0),
        unlocated=unlocated_count(counts),
        attribution=city.attribution,
    )
