"""Public response models of the API (what clients may rely on)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema


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
    events: int = Field(description="Events visible to queries")
    past_retention: int = Field(0, description="Events stored but past their retention (hidden from every query "
                                               "unless held, removed by the next purge)")


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


# --------------------------------------------------------------------------- shared pieces of the other routes

def _isoformat(value: datetime) -> str:
    return value.isoformat()


# A time as Python's isoformat writes it (``2025-03-01T12:00:00+00:00``), where a route always wrote it so
# (a ``datetime`` field writes UTC as ``Z``).
IsoDateTime = Annotated[datetime, PlainSerializer(_isoformat, return_type=str, when_used="json"),
                        WithJsonSchema({"type": "string", "format": "date-time"})]


class Document(BaseModel):
    """A document whose fields another part of the observatory defines (named in its description): the fields
    listed are always there; any other it holds is passed on as it is."""

    model_config = ConfigDict(extra="allow")


class OpenPeriod(BaseModel):
    """Days asked for, as given (YYYY-MM-DD); null when not given."""

    start: str | None
    end: str | None


class DayPeriod(BaseModel):
    """First day included, first day excluded (YYYY-MM-DD, UTC)."""

    start: str
    end: str


# --------------------------------------------------------------------------- indicators, alerts, dark figure


class ExcludedSource(BaseModel):
    source: str
    first: str = Field(description="First day of the source's data, YYYY-MM-DD")
    last: str = Field(description="Last day of the source's data, YYYY-MM-DD")
    reason: str


class IndicatorRow(BaseModel):
    """One zone and window (``docs/indicators-and-alerts.md``)."""

    zone_id: str
    window: str = Field(description="7d, 28d or ytd")
    start: date = Field(description="First day of the current window")
    end: date = Field(description="Last day of the current window, included (the reference day)")
    current: int
    previous: int
    change: int = Field(description="current - previous")
    pct_change: float | None = Field(description="For reading only; null when previous = 0")
    baseline_years: int
    baseline_mean: float
    baseline_sd: float | None = Field(description="Null with a single baseline year")
    band_low: float | None
    band_high: float | None
    expected: float
    p_up: float
    p_down: float
    p_value: float
    exception: bool
    trend: str
    population: int | None
    rate_per_1000: float | None
    rate_ratio: float | None
    criticality: str


class Indicators(BaseModel):
    """CompStat-style indicators per zone for one theme."""

    reference: str = Field(description="The reference day, YYYY-MM-DD: windows end on it")
    baseline_years: int = Field(description="Years of the same period averaged (the ones used)")
    method: Literal["poisson", "band"]
    filters: Filters
    sources: list[str] = Field(description="Sources counted: their data cover every window and its baseline")
    excluded_sources: list[ExcludedSource]
    rows: list[IndicatorRow]


class Alert(BaseModel):
    """An alert a registered rule raised, with its stable id and the rule (id, version) that raised it."""

    id: str = Field(description="Stable id: the same alert has the same id each time it is computed")
    kind: str = Field(description="exceedance, ewma or clash")
    rule_id: str
    rule_version: int
    zone_id: str
    window_start: datetime
    window_end: datetime = Field(description="Excluded")
    observed: float = Field(description="The window's count")
    expected: float = Field(description="Baseline count per window")
    statistic: float
    threshold: float
    p_value: float | None
    planned_event_id: str | None = None
    cause_rule_id: str | None = Field(None, description="Clash: the surge rule that fired")
    cause_rule_version: int | None = None


class RuleRef(BaseModel):
    id: str
    version: int


class SkippedRule(RuleRef):
    reason: str = Field(description="Why the rule was not applied (not enough data, stream stopped, review due)")


class Alerts(BaseModel):
    as_of: IsoDateTime = Field(description="The time the rules were evaluated at (UTC)")
    alerts: list[Alert]
    skipped: list[SkippedRule]
    rules: list[RuleRef] = Field(description="The rule versions applied")


class FeedbackRecord(BaseModel):
    """An operator's verdict as stored."""

    alert_id: str
    rule_id: str
    rule_version: int
    verdict: Literal["confirmed", "false"]
    at: str = Field(description="When it was recorded (UTC, ISO 8601)")


class DarkFigureRow(BaseModel):
    zone_id: str
    hospital: int = Field(description="Hospital-recorded assault injuries")
    police: int = Field(description="Police-recorded violence (logbook)")
    ratio: float | None = Field(description="hospital / police; null when police = 0 (unbounded) or both are 0")
    ci_low: float
    ci_high: float | None = Field(description="Null when unbounded (police = 0)")
    level: float


class DarkFigure(BaseModel):
    period: DayPeriod = Field(description="The days of the asked period both streams hold")
    asked: OpenPeriod
    level: float
    rows: list[DarkFigureRow]


# --------------------------------------------------------------------------- rules


class RuleVersionState(BaseModel):
    """A version as published: roles, not the logins of the staff involved (those are in the audit log)."""

    version: int
    state: str = Field(description="pending, active, superseded or rejected")
    status: str | None = Field(description="The document's status (active, suspended...)")
    proposed_by_role: str | None
    proposed_at: str | None
    decided_by_role: str | None
    decided_at: str | None


class RuleVersionOut(RuleVersionState):
    """A version with its document (the rule's YAML keys)."""

    id: str
    document: dict[str, Any]


class PublishedRule(Document):
    """A rule as published (``docs/rules.md``): its shown version's document fields, its versions, and for staff
    its false-positive rate; the rule's engine fields (method, unit, window, parameters...) as its kind has them."""

    id: str
    version: int
    state: str
    status: str | None
    applied: bool = Field(description="Active, with status active, review date not passed: the engine runs it")
    review_overdue: bool
    title: str | None
    purpose: str | None
    legal_basis: str | None
    data_used: Any
    owner: str | None
    condition: Any
    review_date: Any
    versions: list[RuleVersionState]
    false_positives: dict[str, Any] | None = Field(description="Staff: false / (confirmed + false) with its "
                                                               "Wilson 95 % interval; null for the public")
    false_positives_withheld: str | None = Field(None, description="The public: why the rate is not shown")


class Rules(BaseModel):
    as_of: IsoDateTime
    rules: list[PublishedRule]


# --------------------------------------------------------------------------- event-level records, audit log


class EventRecords(BaseModel):
    """Event-level pseudonymised records, with the fields the caller's role may see."""

    purpose: str | None = Field(description="The purpose declared (X-Purpose)")
    role: str
    fields: list[str] = Field(description="The fields each row carries (the role's, as far as stored)")
    count: int
    truncated: bool = Field(description="More records match than limit")
    rows: list[dict[str, Any]] = Field(description="One record per event, oldest first: the fields named above")


class AuditVerification(BaseModel):
    ok: bool
    entries: int
    first_seq: int | None
    last_seq: int | None
    checkpoints: int
    problems: list[str] = Field(description="The first 100 problems found, in the verification's words")


class AuditEntries(BaseModel):
    """The last entries of the audit log (``docs/audit.md``), oldest first."""

    entries: list[dict[str, Any]] = Field(description="Entries as logged; a damaged line is flagged `damaged`")
    count: int
    damaged: int = Field(description="Entries returned that are damaged")
    verify: AuditVerification | None = Field(None, description="With verify=true only")


# --------------------------------------------------------------------------- audits of places


class ProvenanceZone(BaseModel):
    zone_id: str
    short_name: str
    counts: dict[str, int] = Field(description="Events per discovery mode")
    directed_share: float | None


class Provenance(BaseModel):
    """Events per zone and discovery mode (directed, independent, automated, unknown)."""

    period: Period
    filters: Filters
    zones: list[ProvenanceZone]
    totals: dict[str, int] = Field(description="Events with a zone per discovery mode")
    unlocated: dict[str, int] = Field(description="Events without a zone per discovery mode")


class FairnessAllocation(BaseModel):
    """The allocation audited; the forecast's own parameters for allocation=forecast."""

    kind: Literal["forecast", "hotspots", "patrols"]
    method: str
    cells: int | None = Field(None, description="Cells selected (forecast, hotspots)")
    k: float | None = None
    cell_m: float | None = None
    date: str = Field(description="Allocation date, YYYY-MM-DD (patrols: the first day after the period audited)")
    selected: list[int] | None = Field(None, description="The cells selected (forecast, hotspots)")
    training: Literal["all", "independent"] | None = None
    patrol_hours: float | None = Field(None, description="allocation=patrols: the patrol hours of the period")
    horizon_days: int | None = None
    train_days: int | None = None
    max_train_events: int | None = None
    settings: dict[str, Any] | None = None
    training_events: int | None = None
    training_period: Period | None = None


class Need(BaseModel):
    period: Period
    discovery: list[str]
    categories: list[str]
    events: float


class GroupsBy(BaseModel):
    indicator: str
    cuts: list[float]
    labels: list[str]
    reference: str
    zones: dict[str, str] = Field(description="The area group of each zone")


class ExposureGroup(BaseModel):
    """A group's sums, then one rate per measure of the audit (``audits/fairness.py: MEASURES``): the two
    packaged measures are named here; a measure added to the table adds its column, kept as it comes."""

    model_config = ConfigDict(extra="allow")

    group: str
    units: int
    residents: float
    exposure: float
    need: float
    exposure_per_1000: float | None = Field(None, description="Absent when the audit has no per-resident measure")
    exposure_per_need: float | None = Field(None, description="Absent when the audit has no per-need measure "
                                                              "(stops per resident)")


class ExposureRatio(BaseModel):
    group: str
    reference: str
    measure: str = Field(description="a measure of the audit's table (audits/fairness.py: MEASURES): per_resident, "
                                     "per_need...")
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    flagged: bool


class ExposureAudit(BaseModel):
    groups: list[ExposureGroup]
    ratios: list[ExposureRatio]
    band: list[float]
    level: float
    bootstrap_replicates: int
    resampled: Literal["units", "areas"] = Field(
        description="The independent draws of the interval: the zones (areas), whose units share their zone's "
                    "policy and reporting, or the units themselves")
    areas: dict[str, int] = Field(default_factory=dict, description="Zones per group (resampled=areas)")
    interval: str = Field("percentile bootstrap", description="percentile bootstrap (units) or area jackknife (t): "
                                                             "the delete-one-zone jackknife of the log ratio")
    flag_rule: str
    flagged: bool


class GroupAccuracy(BaseModel):
    model_config = ConfigDict(extra="allow")

    hit_rate: float | None
    pai: float | None


class OverallAccuracy(BaseModel):
    hit_rate: float | None
    pai: float | None
    pei: float | None
    events: int


class Accuracy(BaseModel):
    by_group: dict[str, GroupAccuracy]
    overall: OverallAccuracy
    window: Period


class NeedAllocationAudit(BaseModel):
    """A selection of cells against the same number of cells chosen by independent need alone."""

    cells: int = Field(description="Cells of the need-driven selection (as many as the allocation's)")
    explanation: str
    audit: ExposureAudit = Field(description="exposure: the allocation's km²; need: the need-driven selection's km² "
                                             "(the per_need ratio is the allocation's share over the need-driven "
                                             "one's, group against reference: 1 when they agree)")


class Fairness(BaseModel):
    """Exposure to an allocation per resident and per unit of independently measured need, by area group."""

    allocation: FairnessAllocation
    need: Need
    groups_by: GroupsBy
    exposure_unit: str
    audit: ExposureAudit
    against_need_allocation: NeedAllocationAudit | None = Field(None, description=(
        "allocation=forecast|hotspots: choosing the top cells concentrates exposure where need is high even when "
        "the choice is unbiased, so the allocation is also compared with the selection need alone would make"))
    accuracy: Accuracy | None = Field(description="Hit rate and PAI per group when the allocation's window is "
                                                  "in the data (allocation=forecast)")
    seed: int


class MonitorWindow(BaseModel):
    start: str
    attention: float | None
    independent: float | None
    difference: float | None
    directed_events: int
    independent_events: int


class FeedbackLoop(BaseModel):
    """Concentration of directed discoveries against independent reports per window, and the alarm."""

    period: Period
    window_days: int
    measure: Literal["gini", "top_share", "hill"]
    windows: list[MonitorWindow]
    slope: float | None
    attention_slope: float | None
    independent_slope: float | None
    p_value: float | None
    alpha: float
    alarm: bool
    permutations: int


class UrnQuantiles(BaseModel):
    q05: float
    q50: float
    q95: float


class TwoZoneUrn(BaseModel):
    """``runs`` two-zone urns of ``days`` days: the final share of zone A."""

    model: Literal["two_zone"]
    rates: list[float]
    corrected: bool
    days: int
    runs: int
    true_share: float
    mean_final_share: float
    quantiles: UrnQuantiles
    mean_path: list[float]
    record_every: int
    seed: int


class UrnZone(BaseModel):
    zone_id: str
    true_share: float
    final_share: float


class CityUrn(BaseModel):
    """One run over the city's zones: final attention shares against the true shares."""

    model: Literal["city"]
    update: str
    days: int
    patrols_per_day: int
    zones: list[UrnZone]
    total_variation: float
    seed: int


class StopGroupRate(BaseModel):
    group: str
    records: int = Field(description="Stops (search-rate test) or searches (hit-rate test) of the group")
    successes: int = Field(description="Searches (search-rate test) or searches that found something (hit-rate)")
    rate: float
    ci_low: float = Field(description="Wilson score interval at the configured level")
    ci_high: float


class StopComparison(BaseModel):
    group: str
    reference: str
    ratio: float = Field(description="rate(group) / rate(reference)")
    ratio_low: float = Field(description="Log (Katz, 0.5-adjusted) interval at the Bonferroni-adjusted level")
    ratio_high: float
    difference: float = Field(description="rate(group) - rate(reference)")
    difference_low: float = Field(description="Newcombe (score) interval at the Bonferroni-adjusted level")
    difference_high: float
    p_value: float = Field(description="Two-proportion z-test, two-sided")
    flagged: bool = Field(description="The difference's interval excludes 0")


class StopRateTest(BaseModel):
    """A rate by group, each group against the reference (``docs/stops.md``)."""

    question: str
    groups: list[StopGroupRate]
    comparisons: list[StopComparison]
    level: float
    adjusted_level: float = Field(description="Bonferroni: 1 - (1 - level) / number of comparisons")
    minimum_per_group: int
    flagged: bool


class StopVeilWindow(BaseModel):
    key: str
    description: str
    window: str = Field(description="Local clock times HH:MM-HH:MM")
    stops_in_window: int
    dark_stops: int
    share_target_light: float | None
    share_target_dark: float | None
    coef_dark: float | None = Field(description="Log-odds of 'target group' when dark; null when not estimable")
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    estimable: bool
    disparity: bool | None = Field(description="Interval entirely below 0; null when not estimable (never read "
                                               "as 'no disparity')")
    note: str | None


class StopVeil(BaseModel):
    """Veil of darkness: the primary window and the sensitivity table over the reasonable windows."""

    target: str
    location: dict[str, float] = Field(description="Latitude and longitude of the sun's computation")
    timezone: str
    primary: StopVeilWindow
    sensitivity: list[StopVeilWindow]
    consistent: bool | None = Field(description="Every estimable window agrees with the primary one on the flag; "
                                                "null when fewer than two are estimable")


class StopAuditResult(BaseModel):
    """Search-rate, hit-rate and veil-of-darkness tests on the store's stop records (``docs/stops.md``)."""

    period: Period
    sources: list[str]
    group_column: str
    legal_basis: str | None = Field(description="For a declared group column: the basis the deployment gives")
    reference: str
    target: str
    stops: int
    stops_without_group: int
    searches: int
    search_rate: StopRateTest
    hit_rate: StopRateTest
    veil_of_darkness: StopVeil
    stops_per_resident: ExposureAudit | None = Field(None, description=(
        "group_column=area_group: stops per 1,000 residents by area group and their ratio to the reference, "
        "with intervals that resample zones; descriptive (stops also follow incidents), not part of 'flagged'"))
    flagged: bool = Field(description="Some estimable test is flagged")
    conclusive: bool = Field(description="The primary veil-of-darkness window was estimable (the rate tests always "
                                         "are, or the request is refused); false: see its note")


# --------------------------------------------------------------------------- effectiveness evaluations


class EvaluationSummary(BaseModel):
    id: str | None
    title: str | None
    design: str | None
    outcome: Any
    period: Any
    pre_start: str | None
    end: str | None
    registered_at: str | None
    content_hash: str | None


class EvaluationList(BaseModel):
    evaluations: list[EvaluationSummary] = Field(description="Every registered plan, oldest first")


class EvaluationPlan(Document):
    """A registered plan as stored, immutable (``docs/evaluation.md``); for the public without its
    ``power_analysis`` (``power_analysis_withheld``: true)."""

    id: str
    content_hash: str
    registered_at: str


class EvaluationAnalysis(Document):
    """The analysis the plan registered, on the store now (``docs/evaluation.md``, section 2)."""

    plan_id: str
    content_hash: str
    design: str
    as_of: str


# --------------------------------------------------------------------------- accounts, tokens


class Me(BaseModel):
    login: str | None
    role: str
    via: Literal["anonymous", "session", "token"]
    purposes: list[str] = Field(description="The purposes the role may declare (X-Purpose)")
    csrf_token: str | None = Field(description="Session only: send it in X-CSRF-Token with unsafe requests")


class TokenView(BaseModel):
    """An API token's record (never its secret)."""

    id: str
    name: str
    role: str
    issued_by: str
    issued_at: str
    expires_at: str
    revoked_at: str | None


class IssuedToken(TokenView):
    secret: str = Field(description="The token itself: shown in this answer only, stored hashed")


class TokenList(BaseModel):
    tokens: list[TokenView]


# --------------------------------------------------------------------------- the public edge, regulator documents


class ReleaseSummary(BaseModel):
    id: str
    period: dict[str, Any]
    created_at: str
    epsilon: float
    k: int
    sources: list[str]
    files: list[str]


class ReleaseDocument(BaseModel):
    """One published release as published (``docs/release.md``)."""

    manifest: dict[str, Any] = Field(description="Mechanism, parameters, privacy loss, code version, files' SHA-256")
    tables: dict[str, Any] = Field(description="Its protected tables (the content of release.json)")


class ReleaseList(BaseModel):
    releases: list[ReleaseSummary] = Field(description="Newest first")


class LedgerEntry(BaseModel):
    release: str
    month: str
    created_at: str
    mechanism: str
    epsilon: float
    delta: float
    tables: Any = Field(description="The loss of each measured table")


class LedgerYear(BaseModel):
    year: str
    epsilon_spent: float
    epsilon_left: float


class Ledger(BaseModel):
    """The privacy ledger (``docs/release.md``)."""

    unit: str
    composition: str
    annual_budget: float
    releases: list[LedgerEntry]
    years: list[LedgerYear]


class RegulatorSection(Document):
    key: str
    title: str
    basis: str | None = Field(description="The text of law or guidance the section answers")
    to_complete: bool = Field(description="A section the DPO completes")
    blocks: list[str | dict[str, Any]] = Field(description="Paragraphs (text), lists and tables (objects)")


class RegulatorDocument(Document):
    """The algorithm register entry or the AIPD skeleton (``docs/regulator.md``), from the live configuration."""

    kind: str
    title: str
    version: str
    generated_at: str
    sections: list[RegulatorSection]
