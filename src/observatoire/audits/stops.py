"""Stop and check audits: the outcome (hit-rate) test and the veil-of-darkness test.

A *stop record* has a UTC time (``occurred_at``), a group column and, for the
outcome test, whether a search took place (``searched``) and found something
(``hit``). The group column must be one the configuration declares lawful
(``audits.toml``, ``[stops] lawful_group_columns``; by default only
``area_group``, the area group of the stop's zone): any other column is
refused with an :class:`InputError` before a single value is read.

Outcome test (Becker 1957; Knowles, Persico & Todd 2001)
    Among searched stops, the hit rate of the target group against the
    others. A lower hit rate for the target group suggests it is searched on
    weaker evidence. The difference (target − others) gets a Newcombe (score)
    interval and a two-proportion z-test (statsmodels); ``disparity`` is true
    when the interval lies entirely below 0. Caveat: infra-marginality (Ayres
    2002; Simoiu, Corbett-Davies & Goel 2017) — hit rates compare averages,
    not thresholds.

Veil of darkness (Grogger & Ridgeway 2006; Pierson et al. 2020)
    Officers see who they stop less well after dark. Within the
    *inter-twilight window* — local clock times between the earliest and the
    latest end of civil twilight (dusk) of the year, computed with ``astral``
    from the city's coordinates — the same clock time is light on some days
    and dark on others. Stops between sunset and dusk are dropped (neither
    light nor dark). A logistic regression of "the stopped person is in the
    target group" on ``dark`` with a cubic in clock time (statsmodels
    ``Logit``) estimates the darkness effect; ``disparity`` is true when its
    interval lies entirely below 0 (the target group is stopped less often
    when it cannot be seen).

References: Grogger, J. & Ridgeway, G. (2006). Testing for racial profiling in
traffic stops from behind a veil of darkness. *JASA* 101, 878-887. Pierson,
E. et al. (2020). A large-scale analysis of racial disparities in police
stops across the United States. *Nature Human Behaviour* 4, 736-745.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from observatoire.errors import InputError

__all__ = ["check_group_column", "TwilightWindow", "twilight_window", "light_status", "OutcomeTest",
           "outcome_test", "VeilTest", "veil_of_darkness", "StopAudit", "stop_audit", "simulate_stops"]


def check_group_column(column: str, lawful: Sequence[str]) -> None:
    """Refuse a group column the configuration does not declare lawful.

    Examples
    --------
    >>> check_group_column("ethnicity", ["area_group"])
    Traceback (most recent call last):
    ...
    observatoire.errors.InputError: group column 'ethnicity' is not declared lawful (audits.toml [stops] lawful_group_columns: area_group)
    """
    if column not in lawful:
        raise InputError(f"group column {column[:40]!r} is not declared lawful (audits.toml [stops] "
                         f"lawful_group_columns: {', '.join(lawful) or 'none'})")


# --------------------------------------------------------------------------- sun


def _sun_times(day: date, lat: float, lon: float, tz: ZoneInfo) -> tuple[datetime, datetime]:
    from astral import Observer
    from astral.sun import dusk, sunset

    obs = Observer(latitude=lat, longitude=lon)
    return sunset(obs, day, tzinfo=tz), dusk(obs, day, tzinfo=tz)


def _minutes(t: datetime) -> float:
    return t.hour * 60 + t.minute + t.second / 60 + t.microsecond / 6e7


@dataclass(frozen=True)
class TwilightWindow:
    """Local clock times (minutes after midnight) of the earliest and latest dusk of a year."""

    start_min: float
    end_min: float
    year: int

    def label(self) -> str:
        def hm(m: float) -> str:
            return f"{int(m // 60):02d}:{int(m % 60):02d}"
        return f"{hm(self.start_min)}-{hm(self.end_min)}"


def twilight_window(lat: float, lon: float, timezone: str, year: int) -> TwilightWindow:
    """The inter-twilight window of ``year`` at ``(lat, lon)``, in local clock time (DST included).

    Examples
    --------
    >>> twilight_window(43.2965, 5.3698, "Europe/Paris", 2024).label()    # Marseille
    '17:35-21:58'
    """
    tz = ZoneInfo(timezone)
    d0 = date(year, 1, 1)
    days = (date(year + 1, 1, 1) - d0).days
    dusks = [_minutes(_sun_times(d0 + timedelta(days=i), lat, lon, tz)[1]) for i in range(days)]
    return TwilightWindow(min(dusks), max(dusks), year)


def light_status(occurred_at: pa.Array | pa.ChunkedArray, lat: float, lon: float,
                 timezone: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per stop: local clock minute, ``dark`` (after dusk) and ``twilight`` (between sunset and dusk).

    ``occurred_at`` are UTC timestamps; the sun is computed once per local date.
    """
    tz = ZoneInfo(timezone)
    times = (occurred_at.combine_chunks() if isinstance(occurred_at, pa.ChunkedArray) else occurred_at)
    if times.null_count:
        raise InputError("occurred_at must not hold nulls")
    local = [t.astimezone(tz) for t in times.cast(pa.timestamp("us", tz="UTC")).to_pylist()]
    cache: dict[date, tuple[float, float]] = {}
    minute = np.empty(len(local))
    dark = np.zeros(len(local), dtype=bool)
    twilight = np.zeros(len(local), dtype=bool)
    for i, t in enumerate(local):
        d = t.date()
        if d not in cache:
            s, k = _sun_times(d, lat, lon, tz)
            cache[d] = (_minutes(s), _minutes(k))
        m = _minutes(t)
        minute[i] = m
        sunset_m, dusk_m = cache[d]
        dark[i] = m >= dusk_m
        twilight[i] = sunset_m <= m < dusk_m
    return minute, dark, twilight


# --------------------------------------------------------------------------- tests


@dataclass(frozen=True)
class OutcomeTest:
    searched_target: int
    searched_other: int
    hit_rate_target: float | None
    hit_rate_other: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    disparity: bool


def outcome_test(is_target: np.ndarray, searched: np.ndarray, hit: np.ndarray, *,
                 level: float = 0.95) -> OutcomeTest:
    """Hit rates of searches, target group against the others (module docstring)."""
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    s = np.asarray(searched, dtype=bool)
    h = np.asarray(hit, dtype=bool) & s
    tg = np.asarray(is_target, dtype=bool)
    n1, n0 = int((s & tg).sum()), int((s & ~tg).sum())
    x1, x0 = int((h & tg).sum()), int((h & ~tg).sum())
    if n1 < 10 or n0 < 10:
        return OutcomeTest(n1, n0, x1 / n1 if n1 else None, x0 / n0 if n0 else None, None, None, None, None, False)
    low, high = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff", alpha=1 - level)
    _, p = proportions_ztest([x1, x0], [n1, n0])
    return OutcomeTest(n1, n0, x1 / n1, x0 / n0, x1 / n1 - x0 / n0, float(low), float(high), float(p),
                       bool(high < 0))


@dataclass(frozen=True)
class VeilTest:
    window: str
    stops_in_window: int
    dark_stops: int
    share_target_light: float | None
    share_target_dark: float | None
    coef_dark: float | None         # log-odds of "target group" when dark
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    disparity: bool


def veil_of_darkness(is_target: np.ndarray, minute: np.ndarray, dark: np.ndarray, twilight: np.ndarray,
                     window: TwilightWindow, *, level: float = 0.95) -> VeilTest:
    """Logistic regression of target-group membership on darkness within the inter-twilight window."""
    import statsmodels.api as sm

    tg = np.asarray(is_target, dtype=bool)
    inside = (minute >= window.start_min) & (minute <= window.end_min) & ~twilight
    y, d, m = tg[inside].astype(float), dark[inside].astype(float), minute[inside]
    n, nd = int(inside.sum()), int(d.sum())
    light_share = float(y[d == 0].mean()) if (d == 0).any() else None
    dark_share = float(y[d == 1].mean()) if (d == 1).any() else None
    if n < 50 or nd < 10 or n - nd < 10 or y.min() == y.max():
        return VeilTest(window.label(), n, nd, light_share, dark_share, None, None, None, None, False)
    t = (m - m.mean()) / (m.std() or 1.0)
    x = np.column_stack([np.ones(n), d, t, t ** 2, t ** 3])
    fit = sm.Logit(y, x).fit(disp=0)
    low, high = fit.conf_int(alpha=1 - level)[1]
    return VeilTest(window.label(), n, nd, light_share, dark_share, float(fit.params[1]), float(low), float(high),
                    float(fit.pvalues[1]), bool(high < 0))


@dataclass(frozen=True)
class StopAudit:
    group_column: str
    target: str
    stops: int
    outcome: OutcomeTest | None
    veil: VeilTest


def stop_audit(
    stops: pa.Table,
    *,
    group_column: str,
    target: str,
    lawful: Sequence[str],
    lat: float,
    lon: float,
    timezone: str,
    level: float = 0.95,
) -> StopAudit:
    """Run both tests on ``stops`` for ``group_column == target`` against every other value.

    Raises
    ------
    InputError
        A group column not declared lawful (checked first), a missing column, no stop, or a target absent.
    """
    check_group_column(group_column, lawful)
    missing = [c for c in ("occurred_at", group_column) if c not in stops.column_names]
    if missing:
        raise InputError(f"stop records lack the column(s): {', '.join(missing)}")
    if stops.num_rows == 0:
        raise InputError("there is no stop record to audit")
    groups = np.array(stops[group_column].to_pylist(), dtype=object)
    is_target = groups == target
    if not is_target.any():
        raise InputError(f"no stop record has {group_column} = {target[:40]!r}")
    outcome = None
    if "searched" in stops.column_names and "hit" in stops.column_names:
        outcome = outcome_test(is_target, np.array(stops["searched"].to_pylist(), dtype=bool),
                               np.array(stops["hit"].to_pylist(), dtype=bool), level=level)
    minute, dark, twilight = light_status(stops["occurred_at"], lat, lon, timezone)
    years = stops["occurred_at"].to_pylist()
    window = twilight_window(lat, lon, timezone, years[len(years) // 2].year)
    veil = veil_of_darkness(is_target, minute, dark, twilight, window, level=level)
    return StopAudit(group_column, target, stops.num_rows, outcome, veil)


# --------------------------------------------------------------------------- a stop simulator with known truth


def simulate_stops(
    rng: np.random.Generator,
    n: int,
    *,
    lat: float,
    lon: float,
    timezone: str,
    year: int = 2024,
    target: str = "more_deprived",
    other: str = "less_deprived",
    target_share: float = 0.3,
    daylight_excess: float = 0.0,
    search_rate: float = 0.3,
    hit_rate: float = 0.3,
    hit_gap: float = 0.0,
) -> pa.Table:
    """``n`` simulated stops with a known disparity, clock times uniform over 16:00-23:00 local.

    In daylight the target group is stopped with relative intensity ``1 + daylight_excess`` (officers
    see it); after dark every group alike (``P(target) = target_share``). Searches happen with
    probability ``search_rate``; a search of the target group finds something with probability
    ``hit_rate - hit_gap`` (searched on weaker evidence), of the others ``hit_rate``.
    Columns: ``occurred_at`` (UTC), ``area_group``, ``searched``, ``hit``.
    """
    if n < 1 or not (0 < target_share < 1) or daylight_excess <= -1 or not (0 <= hit_gap <= hit_rate <= 1):
        raise InputError("bad stop simulation parameters")
    tz = ZoneInfo(timezone)
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    day = rng.integers(0, days, n)
    minute = rng.uniform(16 * 60, 23 * 60, n)
    local = [datetime(year, 1, 1, tzinfo=tz) + timedelta(days=int(d)) for d in day]
    # Wall-clock local times (the fold of the autumn DST change is resolved as zoneinfo does).
    stamps = [datetime(t.year, t.month, t.day, int(m // 60), int(m % 60), int((m * 60) % 60), tzinfo=tz)
              .astimezone(UTC) for t, m in zip(local, minute, strict=True)]
    occurred = pa.array(stamps, pa.timestamp("us", tz="UTC"))
    _, dark, twilight = light_status(occurred, lat, lon, timezone)
    light = ~dark & ~twilight
    w = target_share * (1 + daylight_excess)
    p_target = np.where(light, w / (w + 1 - target_share), target_share)
    is_target = rng.random(n) < p_target
    searched = rng.random(n) < search_rate
    hit = searched & (rng.random(n) < np.where(is_target, hit_rate - hit_gap, hit_rate))
    return pa.table({"occurred_at": occurred, "area_group": np.where(is_target, target, other).astype(str),
                     "searched": searched, "hit": hit})


# --------------------------------------------------------------------------- the stop audit of the API
#
# What ``GET /api/v1/audits/stops`` computes on the store's stop records (docs/stops.md, "The stop audit").
# Every test refuses degenerate input with an InputError (a 422 naming what is missing) rather than report a
# null or a NaN that a reader could take for "no disparity".

MIN_GROUP_STOPS = 30        # stops per group, for the search-rate test
MIN_GROUP_SEARCHES = 30     # searches per group, for the hit-rate test
GROUP_COLUMNS = ("perceived_origin", "age_band", "sex")   # the stop connector's optional group columns


def declared_group_columns(policy_path: "str | None") -> dict[str, str]:
    """The group columns a deployment lawfully holds: kept by its policies file (``[stops.fields]``, action
    ``keep``) *and* given a legal basis under ``[stops.lawful]``; column -> legal basis.

    Raises
    ------
    InputError
        A group column the policy keeps without a legal basis (the deployment must say why it may hold it).
    """
    from pathlib import Path

    from observatoire.configfile import read_toml
    from observatoire.gate.policy import load_policies

    policies = load_policies(Path(policy_path) if policy_path else None)
    policy = policies.sources.get("stops")
    if policy is None:
        return {}
    doc, _ = read_toml(Path(policy_path) if policy_path else None, "observatoire.gate", "policies.toml",
                       "policy file")
    lawful = (doc.get("stops") or {}).get("lawful") or {}
    out: dict[str, str] = {}
    for column in GROUP_COLUMNS:
        rule = policy.fields.get(column)
        if rule is None or rule.action != "keep":
            continue
        basis = lawful.get(column)
        if not isinstance(basis, str) or not basis.strip():
            raise InputError(f"policy file {policies.path}: the stop group column {column} is kept without a legal "
                             f"basis; name it under [stops.lawful] ({column} = \"...\") or drop the column")
        out[column] = basis.strip()
    return out


@dataclass(frozen=True)
class GroupRate:
    group: str
    records: int            # stops (search-rate test) or searches (hit-rate test)
    successes: int          # searches, or searches that found something
    rate: float
    ci_low: float           # Wilson score interval
    ci_high: float


@dataclass(frozen=True)
class Comparison:
    group: str
    reference: str
    ratio: float            # rate(group) / rate(reference)
    ratio_low: float        # log (Katz, 0.5-adjusted) interval at the adjusted level
    ratio_high: float
    difference: float       # rate(group) - rate(reference)
    difference_low: float   # Newcombe (score) interval at the adjusted level
    difference_high: float
    p_value: float          # two-proportion z-test, two-sided
    flagged: bool           # the difference's interval excludes 0


@dataclass(frozen=True)
class RateTest:
    groups: list[GroupRate]
    comparisons: list[Comparison]
    level: float
    adjusted_level: float   # Bonferroni over the comparisons
    minimum: int
    flagged: bool


def rate_test(groups: np.ndarray, success: np.ndarray, *, reference: str, level: float, minimum: int,
              records: str, event: str) -> RateTest:
    """Rate of ``success`` per group with Wilson intervals; each other group against ``reference``: ratio (log
    interval) and difference (Newcombe), Bonferroni-adjusted over the comparisons, flagged when the difference's
    interval excludes 0.

    Raises
    ------
    InputError
        No record, every record a success or none (the rate is degenerate), the reference absent, or a group
        with fewer than ``minimum`` records.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

    g = np.asarray(groups, dtype=object)
    s = np.asarray(success, dtype=bool)
    if g.size == 0:
        raise InputError(f"no {records} to test")
    if s.all() or not s.any():
        raise InputError(f"every one of the {g.size} {records} is {'' if s.all() else 'not '}{event}: the rate is "
                         f"degenerate ({'100' if s.all() else '0'} %) and the test cannot tell groups apart")
    labels, counts = np.unique(g.astype(str), return_counts=True)
    small = [f"{lab} ({int(c)})" for lab, c in zip(labels, counts) if c < minimum]
    if small:
        raise InputError(f"group(s) with fewer than {minimum} {records}: {', '.join(small)}; the test needs at least "
                         f"{minimum} per group (docs/stops.md)")
    for lab, c in zip(labels, counts):
        x = int(s[g == lab].sum())
        if x in (0, int(c)):
            raise InputError(f"every one of the {int(c)} {records} of group {lab[:40]} is {'' if x else 'not '}"
                             f"{event}: a group rate of {'100' if x else '0'} % leaves the ratio and the test "
                             "undefined")
    if reference not in set(labels):
        raise InputError(f"the reference group {reference[:40]!r} has no {records}")
    others = [lab for lab in labels if lab != reference]
    if not others:
        raise InputError(f"only the reference group {reference[:40]!r} has {records}: nothing to compare")
    m = len(others)
    adjusted = 1 - (1 - level) / m
    rates = []
    for lab in labels:
        n, x = int((g == lab).sum()), int(s[g == lab].sum())
        low, high = proportion_confint(x, n, alpha=1 - level, method="wilson")
        rates.append(GroupRate(str(lab), n, x, x / n, float(low), float(high)))
    ref = next(r for r in rates if r.group == reference)
    comparisons = []
    for r in rates:
        if r.group == reference:
            continue
        args = (r.successes, r.records, ref.successes, ref.records)
        d_low, d_high = confint_proportions_2indep(*args, method="newcomb", compare="diff", alpha=1 - adjusted)
        q_low, q_high = confint_proportions_2indep(*args, method="log-adjusted", compare="ratio", alpha=1 - adjusted)
        _, p = proportions_ztest([r.successes, ref.successes], [r.records, ref.records])
        ratio = r.rate / ref.rate if ref.rate > 0 else float("inf")
        comparisons.append(Comparison(r.group, reference, float(ratio), float(q_low), float(q_high),
                                      r.rate - ref.rate, float(d_low), float(d_high), float(p),
                                      bool(d_low > 0 or d_high < 0)))
    return RateTest(rates, comparisons, level, adjusted, minimum, any(c.flagged for c in comparisons))


@dataclass(frozen=True)
class VeilWindowSpec:
    key: str
    description: str


VEIL_WINDOWS = (
    VeilWindowSpec("inter_twilight", "earliest to latest end of civil twilight of the year (primary: Grogger & "
                                     "Ridgeway 2006; Pierson et al. 2020)"),
    VeilWindowSpec("narrow", "the middle half of the inter-twilight window (less extrapolation in clock time)"),
    VeilWindowSpec("wide", "the inter-twilight window widened by 30 minutes on each side"),
    VeilWindowSpec("dst_30_days", "the inter-twilight window, stops within 30 days of a daylight-saving change "
                                  "(the same clock time light one week, dark the next)"),
)
PRIMARY_WINDOW = "inter_twilight"


def _dst_distance(local_days: list[date], timezone: str) -> np.ndarray:
    """Days from each local date to the nearest daylight-saving change of its year (inf: no change)."""
    tz = ZoneInfo(timezone)
    changes: list[date] = []
    for year in sorted({d.year for d in local_days}):
        d0 = date(year, 1, 1)
        prev = datetime(year, 1, 1, 12, tzinfo=tz).utcoffset()
        for i in range(1, (date(year + 1, 1, 1) - d0).days):
            day = d0 + timedelta(days=i)
            off = datetime(day.year, day.month, day.day, 12, tzinfo=tz).utcoffset()
            if off != prev:
                changes.append(day)
            prev = off
    if not changes:
        return np.full(len(local_days), np.inf)
    ordinals = np.array([c.toordinal() for c in changes])
    days = np.array([d.toordinal() for d in local_days])
    return np.abs(days[:, None] - ordinals[None, :]).min(axis=1).astype(float)


def veil_sensitivity(is_target: np.ndarray, occurred_at: pa.Array | pa.ChunkedArray, *, lat: float, lon: float,
                     timezone: str, level: float = 0.95) -> list[tuple[VeilWindowSpec, VeilTest]]:
    """The veil-of-darkness test over :data:`VEIL_WINDOWS` (the first is the primary one)."""
    times = occurred_at.combine_chunks() if isinstance(occurred_at, pa.ChunkedArray) else occurred_at
    minute, dark, twilight = light_status(times, lat, lon, timezone)
    stamps = times.cast(pa.timestamp("us", tz="UTC")).to_pylist()
    years = sorted(t.year for t in stamps)
    base = twilight_window(lat, lon, timezone, years[len(years) // 2])
    quarter = (base.end_min - base.start_min) / 4
    tz = ZoneInfo(timezone)
    near_dst = _dst_distance([t.astimezone(tz).date() for t in stamps], timezone) <= 30
    windows = {
        "inter_twilight": (base, np.ones(len(stamps), dtype=bool)),
        "narrow": (TwilightWindow(base.start_min + quarter, base.end_min - quarter, base.year),
                   np.ones(len(stamps), dtype=bool)),
        "wide": (TwilightWindow(max(base.start_min - 30, 0), min(base.end_min + 30, 1439.99), base.year),
                 np.ones(len(stamps), dtype=bool)),
        "dst_30_days": (base, near_dst),
    }
    out = []
    tg = np.asarray(is_target, dtype=bool)
    for spec in VEIL_WINDOWS:
        window, keep = windows[spec.key]
        try:
            test = veil_of_darkness(tg[keep], minute[keep], dark[keep], twilight[keep], window, level=level)
        except (np.linalg.LinAlgError, ValueError, OverflowError) as exc:   # separation, a singular design
            test = VeilTest(window.label(), int(keep.sum()), int(dark[keep].sum()), None, None, None, None, None,
                            None, False)
            del exc
        out.append((spec, test))
    return out
