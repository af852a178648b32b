"""Public response models of the API (what clients may rely on)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Period(BaseModel):
    """A UTC period: ``start`` included, ``end`` excluded (dates at UTC midnight); null is open."""

    start: str | None = Field(description="First day included, YYYY-MM-DD, UTC")
    end: str | None = Field(description="First day excluded, YYYY-MM-DD, UTC")
    timezone: Literal["UTC"] = "UTC"


class Filters(BaseModel):
    """The selections applied; null means all."""

    sources: list[str] | None
    categories: list[str] | None


class ZoneProperties(BaseModel):
    zone_id: str
    name: str
    short_name: str
    population: int
    count: int
    rate_per_1000: float | None = Field(description="count / population × 1000, rounded to 2 decimals")


class ZoneFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: ZoneProperties
    geometry: dict[str, Any]


class ZoneCounts(BaseModel):
    """A GeoJSON FeatureCollection of the zones with their counts, and foreign members describing them."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ZoneFeature]
    period: Period
    filters: Filters
    total: int = Field(description="Events matching the filters, located or not")
    unlocated: int = Field(description="Events matching the filters without a zone (unknown place)")
    attribution: str


class CityInfo(BaseModel):
    name: str
    attribution: str
    timezone: str
    zones: int
    population: int


class SourceInfo(BaseModel):
    source: str
    label_fr: str
    events: int


class CategoryInfo(BaseModel):
    code: str
    label_fr: str
    label_en: str
    kind: str
    events: int


class MonthRange(BaseModel):
    """UTC months (YYYY-MM) with events."""

    first: str | None
    last: str | None
    available: list[str]


class MonthPeriod(BaseModel):
    """Inclusive months (YYYY-MM)."""

    start: str
    end: str


class Meta(BaseModel):
    city: CityInfo
    sources: list[SourceInfo]
    categories: list[CategoryInfo]
    months: MonthRange
    default_period: MonthPeriod | None = Field(description="The last full calendar year present, inclusive months")
