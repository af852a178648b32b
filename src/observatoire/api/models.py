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
    last_day: str | None = Field(None, description="UTC day of the latest event still held, YYYY-MM-DD")


# --------------------------------------------------------------------------- grid cells (hotspots, forecasts)


class CellGeometry(BaseModel):
    """A grid cell as a GeoJSON polygon in WGS84 (``[lon, lat]``, closed ring, counter-clockwise)."""

    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[list[float]]]


class GridInfo(BaseModel):
    """The square grid over the city outline (local equirectangular metres around the outline's centroid)."""

    cell_m: float
    nx: int
    ny: int
    cells_in_city: int = Field(description="Cells intersecting the city outline: the study area")
    origin_lon: float
    origin_lat: float


class HotspotProperties(BaseModel):
    cell: int = Field(description="Row-major cell index from the south-west corner (iy * nx + ix)")
    count: int = Field(description="Events with a point in the cell")
    z: float | None = Field(None, description="Getis-Ord Gi* z-score (gi_star; null when undefined)")
    p_adjusted: float | None = Field(None, description="Benjamini-Hochberg adjusted two-sided p-value (gi_star)")
    hot: bool | None = Field(None, description="z > 0 and p_adjusted <= alpha (gi_star)")
    cold: bool | None = Field(None, description="z < 0 and p_adjusted <= alpha (gi_star)")
    density: float | None = Field(None, description="Quartic kernel density, events per km² (kde)")


class HotspotFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    properties: HotspotProperties
    geometry: CellGeometry


class HotspotParameters(BaseModel):
    method: Literal["gi_star", "kde"]
    cell_m: float
    alpha: float
    bandwidth_m: float
    seed: int


class Hotspots(BaseModel):
    """Every grid cell inside the city with its count and Gi* statistics or KDE density."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[HotspotFeature]
    period: Period
    filters: Filters
    parameters: HotspotParameters
    grid: GridInfo
    located: int = Field(description="Events matching the filters with a point (the sum of the counts + outside)")
    outside: int = Field(description="Located events outside every cell of the city (not in any feature)")
    hot_cells: int
    kde_points: int | None = Field(None, description="Points used by the KDE (a seeded sample above 100,000)")
    attribution: str


class ForecastProperties(BaseModel):
    cell: int
    rank: int = Field(description="1 for the highest score")
    score: float = Field(description="Expected events in the horizon (relative risk for prospective)")


class ForecastFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    properties: ForecastProperties
    geometry: CellGeometry


class ForecastParameters(BaseModel):
    method: str
    baseline: Literal["naive"] = "naive"
    end: str = Field(description="Forecast origin: first day of the forecast window, YYYY-MM-DD (UTC)")
    horizon_days: int
    train_days: int
    k: float
    cell_m: float
    origins: int
    origin_step_days: int
    max_train_events: int
    settings: dict[str, float | int | str | bool] = Field(
        default_factory=dict, description="The settings the method is built with, as it declares them "
                                          "(e.g. the EM max_iter and tol of the ETAS fits)")
    seed: int
    training: Literal["all", "independent"] = Field(
        "all", description="Which incidents the forecast learns from: all, or only those reported independently")


class MetricSummary(BaseModel):
    """Mean over the origins with events, and its percentile bootstrap 95 % interval over origins."""

    mean: float | None
    ci_low: float | None
    ci_high: float | None
    origins: int = Field(description="Origins with at least one event in their window")


class MethodSummary(BaseModel):
    method: str
    hit_rate: MetricSummary
    pai: MetricSummary
    pei: MetricSummary


class OriginScore(BaseModel):
    origin: str = Field(description="Forecast origin (first day of the evaluated window), YYYY-MM-DD")
    method: str
    hit_rate: float | None
    pai: float | None
    pei: float | None
    area_share: float
    n_events: int


class Evaluation(BaseModel):
    """Rolling-origin backtest of the method beside the naive baseline, on the same windows and cells."""

    origins: list[str]
    per_origin: list[OriginScore]
    summary: list[MethodSummary] = Field(description="The method first, then the naive baseline")
    pai_difference: MetricSummary = Field(description="PAI of the method minus the baseline's, paired by origin")
    bootstrap_replicates: int


class ForecastResult(BaseModel):
    """The top cells covering at most k of the city's area for [end, end + horizon), and their evaluation."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[ForecastFeature]
    window: Period = Field(description="The forecast window [end, end + horizon)")
    training: Period = Field(description="The training window actually used (after the cap on events)")
    filters: Filters
    parameters: ForecastParameters
    grid: GridInfo
    area_share: float = Field(description="Share of the city's cells selected (<= k)")
    training_events: int
    fit: dict[str, float] = Field(description="What the method fitted (e.g. theta, omega for ETAS)")
    evaluation: Evaluation
    attribution: str
