"""Fairness audit of places: who is exposed to an allocation, per resident and per unit of need.

An *allocation* is any set of places with weights the observatoire produces:
hot-spot cells, a forecast's top-k cells, alerts, a patrol plan (hours per
place). The audit works on *units*, places that each belong to one area group
(zones grouped by a configured indicator, ``audits.toml``); on a city grid a
unit is the piece of a grid cell inside one zone (:func:`grid_units`).

Per area group ``g``, with ``E_g``, ``R_g``, ``N_g`` the sums over its units of
exposure, residents and need, each *measure* of :data:`MEASURES` is a rate of those
sums, and its disparity ratio against the reference group ``r`` is the group's rate
over the reference's:

========================  ===================  ========================================
measure                   rate                 ratio
========================  ===================  ========================================
``per_resident`` (raw)    ``E_g / R_g``        ``(E_g / R_g) / (E_r / R_r)``
``per_need``              ``E_g / N_g``        ``(E_g / N_g) / (E_r / N_r)`` (need-adjusted)
========================  ===================  ========================================

where ``N`` is an independently measured need (hospital-recorded assaults,
independently reported incidents). The group rows report each rate in its
column's unit (``exposure_per_1000``: per 1,000 residents; ``exposure_per_need``).
A new measure is one :class:`Measure` line in :data:`MEASURES` and one known-value
case in ``tests/audits/test_fairness.py`` (a test fails while a measure has none);
the route and the control report iterate the table.

Intervals: with ``cluster`` (the area of each unit: its zone, for grid units), the
**areas** are the independent draws: the stratified delete-one-area jackknife of the
log ratio, with Student quantiles on the areas' degrees of freedom (``K_g + K_r − 2``).
Units of one zone share its deployment policy, its residents' density and its
reporting: counted as independent, the intervals come out far too narrow (an outside
review's clustered simulation on Marseille's grid pieces: 95 % intervals covered the
truth 52 % of the time; ``tests/audits/test_fairness.py``: 16 of 60 against 57 of 60
over zones). With few areas per group (Marseille: 11 and 5 arrondissements) the
jackknife-t is used rather than a percentile bootstrap of the areas, which needs many
(its coverage: ``bench/fairness_calibration.py``). Without ``cluster``: the stratified percentile bootstrap over units
(``n_boot`` replicates from the ``rng`` given), right only for independent units.
The API and the report give the zones; the answer says which (``resampled``,
``interval``).

**Flag rule**: a ratio is flagged when its whole confidence interval lies
outside the band ``[0.8, 1.25]`` (``ci_low > 1.25`` or ``ci_high < 0.8``).
The rule is conservative: a fair allocation is flagged only if sampling noise
pushes a whole interval past a band edge (measured: 0 % of simulations), and
an attention ratio of 1.5 at equal need is flagged in ≥ 90 % of simulations
once each group holds about 150 units (see ``bench/fairness_power.py`` and
``docs/fairness.md``).

Accuracy per group uses Fairlearn's ``MetricFrame`` (units as rows, area as
a sample parameter); the exposure rates are also available as a
``MetricFrame`` (:func:`metric_frame`, checked equal to the audit's sums).
The spatial parts (cells cut by zones, residents per piece) and the
stratified bootstrap are written here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import shapely

from observatoire.analytics.counts import filter_events
from observatoire.analytics.forecast.grid import assign_cells
from observatoire.analytics.places import CityGrid
from observatoire.city.geo import local_metres
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError

__all__ = ["MEASURES", "Measure", "Sums", "GroupRow", "RatioRow", "FairnessAudit", "Units", "grid_units",
           "place_on_units", "exposure_audit", "accuracy_by_group", "metric_frame", "simulate_allocation"]


# --------------------------------------------------------------------------- spatial units


@dataclass(frozen=True, eq=False)
class Units:
    """Pieces of grid cells cut by zone boundaries (one row per non-empty cell ∩ zone).

    Attributes
    ----------
    cell : int array — grid cell of each piece; zone : int array — index into ``zone_ids``;
    area : float array — m²; residents : float array — ``population_z × area / area_z``
    (residents spread evenly over their zone); cell_share : float array — the piece's share of
    its cell's area inside the city (how a cell's allocation weight is split);
    zone_share : float array — the piece's share of its zone's area.
    """

    cell: np.ndarray
    zone: np.ndarray
    zone_ids: tuple[str, ...]
    area: np.ndarray
    residents: np.ndarray
    cell_share: np.ndarray
    zone_share: np.ndarray

    def __len__(self) -> int:
        return int(self.cell.size)

    def groups(self, zone_group: Mapping[str, str]) -> np.ndarray:
        """The area group of each piece (an object array of labels)."""
        labels = np.array([zone_group[z] for z in self.zone_ids], dtype=object)
        return labels[self.zone]

    def from_cells(self, weights: np.ndarray) -> np.ndarray:
        """Per-cell weights (shape ``(n_cells,)``) split over the pieces by area."""
        return np.asarray(weights, dtype=np.float64)[self.cell] * self.cell_share


def grid_units(cgrid: CityGrid, city: CityProfile) -> Units:
    """Cut the active cells of ``cgrid`` by the zones of ``city`` (shapely, in the grid's metres).

    Raises
    ------
    InputError
        When the profile has no zone boundaries.
    """
    if not city.has_boundaries:
        raise InputError(f"city profile {city.name} has no zone boundaries: no grid units can be drawn")
    g = cgrid.grid
    active = cgrid.active_cells
    x0 = g.x0 + (active % g.nx) * g.cell_size
    y0 = g.y0 + (active // g.nx) * g.cell_size
    boxes = shapely.box(x0, y0, x0 + g.cell_size, y0 + g.cell_size)

    def to_m(geom: Any) -> Any:
        return shapely.transform(geom, lambda c: np.column_stack(local_metres(c[:, 0], c[:, 1], cgrid.lon0,
                                                                              cgrid.lat0)))

    zones_m = [to_m(z.geometry) for z in city.zones]
    tree = shapely.STRtree(boxes)
    cells, zones, areas = [], [], []
    for zi, zg in enumerate(zones_m):
        hits = tree.query(zg, predicate="intersects")
        if hits.size == 0:
            continue
        a = shapely.area(shapely.intersection(boxes[hits], zg))
        keep = a > 1e-6 * g.cell_size ** 2
        cells.append(active[hits[keep]])
        zones.append(np.full(int(keep.sum()), zi))
        areas.append(a[keep])
    cell = np.concatenate(cells)
    zone = np.concatenate(zones)
    area = np.concatenate(areas)
    zone_area = np.bincount(zone, weights=area, minlength=len(zones_m))
    cell_area = np.bincount(cell, weights=area, minlength=g.n_cells)
    pop = np.array([z.population for z in city.zones], dtype=np.float64)
    zone_share = area / zone_area[zone]
    order = np.lexsort((zone, cell))
    return Units(cell=cell[order], zone=zone[order], zone_ids=tuple(z.zone_id for z in city.zones),
                 area=area[order], residents=(pop[zone] * zone_share)[order],
                 cell_share=(area / cell_area[cell])[order], zone_share=zone_share[order])


def need_on_grid(events: Any, cgrid: CityGrid, *, start: Any, end: Any, categories: Sequence[str],
                 discoveries: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
    """Grid cell (-1: no point) and zone of each event of ``[start, end)`` that measures need (the given
    categories, discovered the given ways), for :func:`place_on_units`."""
    kept = filter_events(events, start=start, end=end, categories=list(categories), discoveries=list(discoveries))
    table = kept.select("lon", "lat", "zone_id").to_pyarrow()
    lon = np.asarray(table["lon"].to_numpy(zero_copy_only=False), dtype=float)
    lat = np.asarray(table["lat"].to_numpy(zero_copy_only=False), dtype=float)
    cell = np.full(lon.size, -1, dtype=np.int64)
    has = np.isfinite(lon) & np.isfinite(lat)
    if has.any():
        x, y = cgrid.project(lon[has], lat[has])
        cell[has] = assign_cells(cgrid.grid, x, y)
    return cell, table["zone_id"].to_pylist()


def place_on_units(units: Units, cell: np.ndarray, zone_id: Sequence[str | None]) -> np.ndarray:
    """Count events on the units: by (cell, zone) when both are known, else spread over the zone by area.

    Parameters
    ----------
    cell
        Grid cell of each event, ``-1`` when it has no point (or one outside the grid).
    zone_id
        Zone of each event (``None`` when unknown; such events are not counted).

    Returns
    -------
    numpy.ndarray
        Events per unit (floats: a zone-only event adds ``zone_share`` to each piece of its zone).
    """
    index = {z: i for i, z in enumerate(units.zone_ids)}
    z = np.array([index.get(v, -1) if v is not None else -1 for v in zone_id], dtype=np.int64)
    c = np.asarray(cell, dtype=np.int64)
    n_zones = len(units.zone_ids)
    key = units.cell * n_zones + units.zone
    out = np.zeros(len(units))
    known = z >= 0
    ev_key = np.where(known & (c >= 0), c * n_zones + z, -1)
    pos = np.searchsorted(key, ev_key)
    pos = np.clip(pos, 0, len(units) - 1)
    on_piece = (ev_key >= 0) & (key[pos] == ev_key)
    np.add.at(out, pos[on_piece], 1.0)
    spread = np.bincount(z[known & ~on_piece], minlength=n_zones).astype(np.float64)
    out += spread[units.zone] * units.zone_share
    return out


# --------------------------------------------------------------------------- the measures


class Sums(NamedTuple):
    """A group's sums over its units: floats for the point estimate, arrays of ``B`` for the bootstrap replicates."""

    exposure: Any
    residents: Any
    need: Any


@dataclass(frozen=True)
class Measure:
    """One exposure rate the audit compares between area groups.

    Attributes
    ----------
    name : the ratio rows' ``measure`` (``per_resident``).
    label : French, the report's name of the measure (``par habitant``).
    fn : the rate of a group's :class:`Sums`, vectorised (``s.exposure / s.residents``); NumPy division,
        so a zero denominator gives ``inf`` or ``nan`` (a non-finite rate is reported null).
    column : the group rows' field holding the rate (``exposure_per_1000``), also the API's.
    scale : the column's unit against the rate (1000: per 1,000 residents).
    heading : French, the report's column of the group table (``exposition pour 1 000 hab.``).
    """

    name: str
    label: str
    fn: Callable[[Sums], Any]
    column: str
    scale: float
    heading: str


# A new measure is one line here and one known-value case in tests/audits/test_fairness.py.
MEASURES: tuple[Measure, ...] = (
    Measure("per_resident", "par habitant", lambda s: s.exposure / s.residents, "exposure_per_1000", 1000.0,
            "exposition pour 1 000 hab."),
    Measure("per_need", "par unité de besoin", lambda s: s.exposure / s.need, "exposure_per_need", 1.0,
            "exposition par fait"),
)


def _rate(measure: Measure, sums: Sums) -> float:
    """``measure.fn`` of point sums; ``nan`` where it is not finite (a zero denominator)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(measure.fn(Sums(*(np.float64(x) for x in sums))))
    return value if np.isfinite(value) else float("nan")


# --------------------------------------------------------------------------- the audit


@dataclass(frozen=True)
class GroupRow:
    """One area group: its sums, and each measure's rate in its column's unit (``rates[measure.column]``).

    A rate is also read as an attribute: ``row.exposure_per_1000``.
    """

    group: str
    units: int
    residents: float
    exposure: float
    need: float
    rates: Mapping[str, float | None] = field(default_factory=dict)

    def __getattr__(self, name: str) -> float | None:
        rates = self.__dict__.get("rates", {})
        if name in rates:
            return rates[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def as_dict(self) -> dict[str, Any]:
        """The row as the API and the report read it: the sums, then one key per measure's column."""
        return {"group": self.group, "units": self.units, "residents": self.residents, "exposure": self.exposure,
                "need": self.need, **self.rates}


@dataclass(frozen=True)
class RatioRow:
    group: str
    reference: str
    measure: str            # a Measure's name
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    flagged: bool


@dataclass(frozen=True)
class FairnessAudit:
    groups: list[GroupRow]
    ratios: list[RatioRow]
    band: tuple[float, float]
    level: float
    n_boot: int
    flag_rule: str = "flagged when the whole confidence interval lies outside the band"
    measures: tuple[Measure, ...] = MEASURES       # the measures computed, in order (what readers iterate)
    resampled: str = "units"                        # the independent draws: "units" or "areas"
    areas: Mapping[str, int] = field(default_factory=dict)   # areas per group (resampled="areas")
    interval: str = "percentile bootstrap"          # or "area jackknife (t)" when resampled="areas"

    def flagged(self, measure: str | None = None) -> bool:
        return any(r.flagged for r in self.ratios if measure is None or r.measure == measure)


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _sum_ratio(num: np.ndarray, den: np.ndarray) -> float:
    d = float(np.sum(den))
    return float(np.sum(num)) / d if d > 0 else float("nan")


def metric_frame(group: Any, residents: Any, exposure: Any, need: Any,
                 measures: Sequence[Measure] = MEASURES) -> Any:
    """The per-group exposure rates as a Fairlearn ``MetricFrame`` (units as rows; residents, need as weights).

    ``by_group`` has one column per measure (``per_resident``, ``per_need``: the rates, not scaled);
    ``ratio()`` and ``difference()`` give Fairlearn's min/max and max−min summaries. :func:`exposure_audit`
    computes the same sums with NumPy (a ``MetricFrame`` costs ~70 ms, and the bootstrap needs the sums anyway).
    """
    from fairlearn.metrics import MetricFrame

    def metric(measure: Measure) -> Callable[..., float]:
        def rate(y_true: Any, y_pred: Any, residents: Any) -> float:
            return _rate(measure, Sums(np.sum(y_pred), np.sum(residents), np.sum(y_true)))
        return rate

    res = np.asarray(residents, float)
    return MetricFrame(metrics={m.name: metric(m) for m in measures}, y_true=np.asarray(need, float),
                       y_pred=np.asarray(exposure, float), sensitive_features=np.asarray(group, dtype=object),
                       sample_params={m.name: {"residents": res} for m in measures})


def exposure_audit(
    group: Sequence[str] | np.ndarray,
    residents: Any,
    exposure: Any,
    need: Any,
    *,
    reference: str,
    rng: np.random.Generator,
    band: tuple[float, float] = (0.8, 1.25),
    level: float = 0.95,
    n_boot: int = 1000,
    measures: Sequence[Measure] = MEASURES,
    cluster: Sequence[Any] | np.ndarray | None = None,
) -> FairnessAudit:
    """Exposure per resident and per unit of need (each of ``measures``) by area group, with disparity ratios.

    Parameters
    ----------
    group
        Area group of each unit.
    residents, exposure, need
        Non-negative numbers per unit: residents, allocation weight (hours, selected area, 0/1...),
        independently measured need.
    reference
        The group every other group is compared with.
    rng
        Source of the bootstrap draws.
    measures
        The rates compared (default :data:`MEASURES`: per resident, per unit of need).
    cluster
        The area of each unit (e.g. its zone): the bootstrap then resamples areas, not units. Each area must lie
        in one group, and each group hold at least two areas.

    Returns
    -------
    FairnessAudit
        One :class:`GroupRow` per group (sorted) and one :class:`RatioRow` per measure (in the order of
        ``measures``) per non-reference group. A ratio with a zero denominator is null and not flagged.

    Raises
    ------
    InputError
        Shapes differ, negative or non-finite values, the reference group is absent, fewer than two groups, an
        area across two groups or a group of one area.

    Examples
    --------
    >>> a = exposure_audit(["a", "a", "b", "b"], [100, 100, 100, 100], [1, 1, 3, 3], [2, 2, 2, 2],
    ...                    reference="a", rng=np.random.default_rng(0), n_boot=10)
    >>> [(r.measure, r.ratio) for r in a.ratios]
    [('per_resident', 3.0), ('per_need', 3.0)]
    """
    g = np.asarray(group, dtype=object)
    arrays = []
    for name, v in (("residents", residents), ("exposure", exposure), ("need", need)):
        arr = np.asarray(v, dtype=np.float64)
        if arr.shape != g.shape or g.ndim != 1:
            raise InputError(f"{name} must have one value per unit ({g.size}), got shape {arr.shape}")
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise InputError(f"{name} must be finite and non-negative")
        arrays.append(arr)
    res, exp, need_arr = arrays
    labels = sorted({str(x) for x in g})
    if reference not in labels:
        raise InputError(f"the reference group {reference[:40]!r} has no unit")
    if len(labels) < 2:
        raise InputError("an audit needs at least two area groups with units")
    if not (0 < band[0] < 1 < band[1]) or not (0 < level < 1) or n_boot < 1:
        raise InputError("band must satisfy 0 < low < 1 < high, level lie in (0, 1), n_boot be positive")
    measures = tuple(measures)
    if not measures or len({m.name for m in measures}) != len(measures):
        raise InputError("an audit needs at least one measure, each with its own name")
    rows = []
    point: dict[str, dict[str, float]] = {}
    for lab in labels:
        m = g == lab
        sums = Sums(float(exp[m].sum()), float(res[m].sum()), float(need_arr[m].sum()))
        point[lab] = {ms.name: _rate(ms, sums) for ms in measures}
        rows.append(GroupRow(group=lab, units=int(m.sum()), residents=sums.residents, exposure=sums.exposure,
                             need=sums.need, rates={ms.column: _finite(point[lab][ms.name] * ms.scale)
                                                    for ms in measures}))

    alpha = 1.0 - level
    ratios = []
    if cluster is not None:   # areas: the stratified delete-one-area jackknife of each log ratio, t quantiles
        area_group, sums = _areas(g, cluster, exp, res, need_arr)
        areas = {lab: int(np.sum(area_group == lab)) for lab in labels}
        few = {lab: n for lab, n in areas.items() if n < 2}
        if few:
            raise InputError("an interval over areas needs at least two areas per group; "
                             + ", ".join(f"{lab} has {n}" for lab, n in few.items()))
        for lab in labels:
            if lab == reference:
                continue
            for measure in measures:
                ratio = _ratio(point[lab][measure.name], point[reference][measure.name])
                bounds = _jackknife(measure, sums, area_group, lab, reference, alpha) if np.isfinite(ratio) else None
                if bounds is None:
                    ratios.append(RatioRow(lab, reference, measure.name, _finite(ratio), None, None, False))
                    continue
                low, high = bounds
                ratios.append(RatioRow(lab, reference, measure.name, ratio, low, high,
                                       low > band[1] or high < band[0]))
        return FairnessAudit(rows, ratios, band, level, int(n_boot), measures=measures, resampled="areas",
                             areas=areas, interval="area jackknife (t)")
    # Stratified bootstrap: per group, B replicate sums of exposure, residents and need.
    boot: dict[str, Sums] = {}
    for lab in labels:
        idx_g = np.flatnonzero(g == lab)
        draw = idx_g[rng.integers(0, idx_g.size, size=(n_boot, idx_g.size))]
        boot[lab] = Sums(exp[draw].sum(axis=1), res[draw].sum(axis=1), need_arr[draw].sum(axis=1))
    for lab in labels:
        if lab == reference:
            continue
        for measure in measures:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.float64(point[lab][measure.name]) / np.float64(point[reference][measure.name])
                reps = np.asarray(measure.fn(boot[lab]) / measure.fn(boot[reference]), dtype=np.float64)
            reps = reps[np.isfinite(reps)]
            name = measure.name
            if not np.isfinite(ratio) or reps.size < n_boot // 2:
                ratios.append(RatioRow(lab, reference, name, _finite(float(ratio)), None, None, False))
                continue
            low, high = (float(q) for q in np.quantile(reps, [alpha / 2, 1 - alpha / 2]))
            ratios.append(RatioRow(lab, reference, name, float(ratio), low, high, low > band[1] or high < band[0]))
    return FairnessAudit(rows, ratios, band, level, int(n_boot), measures=measures)


def _ratio(a: float, b: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def _areas(g: np.ndarray, cluster: Any, exp: np.ndarray, res: np.ndarray,
           need: np.ndarray) -> tuple[np.ndarray, Sums]:
    """The group of each area and its sums (arrays over the areas); an area must lie in one group."""
    c = np.asarray(cluster, dtype=object)
    if c.shape != g.shape:
        raise InputError(f"cluster must have one value per unit ({g.size}), got shape {c.shape}")
    keys, inverse = np.unique(c.astype(str), return_inverse=True)
    area_group = np.empty(keys.size, dtype=object)
    for k in range(keys.size):
        in_k = set(g[inverse == k].tolist())
        if len(in_k) != 1:
            raise InputError(f"the area {str(keys[k])[:40]!r} has units in {len(in_k)} groups: "
                             "an area must lie in one group")
        area_group[k] = in_k.pop()
    return area_group, Sums(*(np.bincount(inverse, weights=a, minlength=keys.size) for a in (exp, res, need)))


def _jackknife(measure: Measure, sums: Sums, area_group: np.ndarray, lab: str, reference: str,
               alpha: float) -> tuple[float, float] | None:
    """The ``1 - alpha`` interval of group ``lab``'s ratio to ``reference`` by the stratified delete-one-area
    jackknife of the log ratio: variance ``sum_h (K_h - 1) / K_h * sum_k (theta_hk - mean_h)^2`` over the two
    groups' areas, Student quantiles with ``K_lab + K_ref - 2`` degrees of freedom (the areas, not the units,
    are the independent draws); None when a leave-one-out ratio is not finite."""
    from scipy import stats

    def rate(mask: np.ndarray, drop: np.ndarray | None = None) -> np.ndarray:
        idx = np.flatnonzero(mask)
        tot = Sums(*(float(a[idx].sum()) for a in sums))
        if drop is None:
            parts = Sums(*(np.float64(t) for t in tot))
        else:
            parts = Sums(*(t - a[idx] for t, a in zip(tot, sums)))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(measure.fn(parts), dtype=np.float64)

    in_lab, in_ref = area_group == lab, area_group == reference
    full_lab, full_ref = rate(in_lab), rate(in_ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = float(np.log(full_lab / full_ref))
        loo_lab = np.log(rate(in_lab, in_lab) / full_ref)
        loo_ref = np.log(full_lab / rate(in_ref, in_ref))
    if not (np.isfinite(theta) and np.all(np.isfinite(loo_lab)) and np.all(np.isfinite(loo_ref))):
        return None
    var = sum((v.size - 1) / v.size * float(np.sum((v - v.mean()) ** 2)) for v in (loo_lab, loo_ref))
    t = float(stats.t.ppf(1 - alpha / 2, loo_lab.size + loo_ref.size - 2))
    half = t * float(np.sqrt(var))
    return float(np.exp(theta - half)), float(np.exp(theta + half))


def accuracy_by_group(
    group: Sequence[str] | np.ndarray, selected: Any, observed: Any, area: Any
) -> dict[str, dict[str, float | None]]:
    """Hit rate and PAI of one selection within each area group (and ``"overall"``).

    Within group ``g``: ``hit_rate = n_g / N_g`` (events in its selected units over its events) and
    ``PAI = hit_rate / (a_g / A_g)`` (its selected area share), the formulas of
    :mod:`observatoire.analytics.evaluate` restricted to the group; null when undefined.
    ``selected`` may be fractional (the selected share of a unit).

    Examples
    --------
    >>> accuracy_by_group(["a", "a", "b", "b"], [1, 0, 1, 0], [3, 1, 1, 1], [1, 1, 1, 1])["a"]
    {'hit_rate': 0.75, 'pai': 1.5, 'events': 4.0, 'area_share': 0.5}
    """
    from fairlearn.metrics import MetricFrame

    g = np.asarray(group, dtype=object)
    sel = np.asarray(selected, dtype=np.float64)
    obs = np.asarray(observed, dtype=np.float64)
    a = np.asarray(area, dtype=np.float64)
    if not (sel.shape == obs.shape == a.shape == g.shape):
        raise InputError("group, selected, observed and area must have one value per unit")

    def hit(y_true: Any, y_pred: Any) -> float:
        return _sum_ratio(np.asarray(y_true) * np.asarray(y_pred), np.asarray(y_true))

    def share(y_true: Any, y_pred: Any, area: Any) -> float:
        return _sum_ratio(np.asarray(area) * np.asarray(y_pred), np.asarray(area))

    def events(y_true: Any, y_pred: Any) -> float:
        return float(np.sum(y_true))

    frame = MetricFrame(metrics={"hit_rate": hit, "area_share": share, "events": events}, y_true=obs, y_pred=sel,
                        sensitive_features=g, sample_params={"area_share": {"area": a}})
    out: dict[str, dict[str, float | None]] = {}
    rows = [(str(k), frame.by_group.loc[k]) for k in frame.by_group.index] + [("overall", frame.overall)]
    for key, row in rows:
        hr, sh = float(row["hit_rate"]), float(row["area_share"])
        out[key] = {"hit_rate": _finite(hr), "pai": _finite(hr / sh) if sh > 0 else None,
                    "events": float(row["events"]), "area_share": _finite(sh)}
    return out


# --------------------------------------------------------------------------- simulation with known truth


def simulate_allocation(
    rng: np.random.Generator,
    *,
    units_per_group: int = 150,
    attention_ratio: float = 1.0,
    need_per_resident: float = 0.01,
    noise_sd: float = 0.3,
) -> dict[str, np.ndarray]:
    """Two area groups at equal need per resident; attention ∝ expected need × ``attention_ratio`` in group "b".

    Residents per unit ~ U(300, 3000); the unit's true need rate varies as a log-normal of sd 0.3 around
    ``need_per_resident`` (the same in both groups); the measured need is Poisson; the allocation
    (e.g. patrol hours) is the expected need times a log-normal noise of sd ``noise_sd``, times
    ``attention_ratio`` in group "b". The true disparity ratio (b against a) is ``attention_ratio``
    for both measures.
    """
    n = 2 * units_per_group
    group = np.array(["a"] * units_per_group + ["b"] * units_per_group, dtype=object)
    residents = rng.uniform(300, 3000, n)
    rate = need_per_resident * np.exp(rng.normal(-0.045, 0.3, n))
    need = rng.poisson(residents * rate).astype(np.float64)
    attention = residents * rate * np.exp(rng.normal(-noise_sd ** 2 / 2, noise_sd, n))
    attention[units_per_group:] *= attention_ratio
    return {"group": group, "residents": residents, "need": need, "exposure": attention}
