"""Real-time alerts from registered rules only: Poisson exceedance, EWMA control chart, planned-event clashes.

A :class:`Rule` is a frozen declarative record: which stream of events (one
source, a set of categories), counted per zone over windows of ``window_hours``,
watched by which method, with which target false-alarm rate. Its fields are
fixed: a stream is named by *source and category only* and the unit is the
*zone*, so a rule on a protected attribute (sex, age band, origin...) or on a
person (a pseudonym, a name) cannot be written — the record has no field to hold
one, an extra keyword is a ``TypeError``, and the method parameters are a closed
list of numeric names per method. Every :class:`Alert` carries the ``rule_id``
and ``rule_version`` that produced it.

Poisson exceedance
------------------
For each zone, the expected count per window ``mu`` is the mean count of the
``training_windows`` windows before the monitored ones (floored at half an event
over the training period, ``0.5 / n_train``, so that a zone with no training
event is not alarmed by a single one). A monitored window with count ``x``
alarms when ``x >= c``, the smallest integer with ``P(X >= c | mu) <= alpha_z``
(``X ~ Poisson(mu)``). The rule's ``target_false_alarm`` is the probability of
*at least one* false alarm among the ``Z`` zones in a window; with the
Bonferroni inequality ``alpha_z = target / Z`` keeps it below the target
(conservative; the discreteness of the Poisson law makes it more so).

EWMA control chart
------------------
Counts are first made nearly normal with unit variance by the Anscombe (1948)
transform ``y = 2 sqrt(x + 3/8)`` (a raw Poisson count is skewed, and a chart
designed for normal data then alarms too often). Per zone,
``z_t = lambda y_t + (1 - lambda) z_{t-1}``, ``z_0 = m`` (restarted at ``m``
after an alarm), ``m`` the mean of ``y`` over the training windows, with the
asymptotic upper control limit ``m + L sqrt(lambda / (2 - lambda) + 1 / n_train)``;
the ``1 / n_train`` term adds the variance of the estimated centre ``m`` (an
approximation: estimated parameters otherwise raise the false-alarm rate,
Jones, Champ & Rigdon 2001). ``L`` is chosen for an in-control average run length: the two-sided chart's
``ARL0`` is computed for normal observations with the Markov-chain method of
Brook & Evans (1972) as used by Lucas & Saccucci (1990), and solved for
``ARL0 = 1 / (2 alpha_z)``, so that the upper side alone signals about once
every ``1 / alpha_z`` windows per zone (``alpha_z = target / Z`` as above). The
``statistic`` and ``threshold`` of an EWMA alert are on the transformed scale;
EWMA alarms carry no exact p-value (``p_value`` is None). A small ``lambda``
(0.05-0.2) detects small persistent shifts; a large one (0.5-1) reacts to a
one-window surge (Lucas & Saccucci 1990); the default is 0.3.

Count floor
-----------
Both methods take an optional ``min_count`` (default 0): a window alarms only if
its count also reaches this floor, so that a rule may ignore statistically
unusual but tiny counts. It can only remove alarms, never add one (an EWMA
chart still restarts after a signal the floor suppressed).

Planned-event clashes
---------------------
A planned event (category ``planned_event``: a match, a concert...) whose
``[start, end]`` overlaps the window of a surge alert in its zone gives an alert
of kind ``clash``, carrying the surge's figures and the planned event's id.
A :class:`ClashRule` names the surge rules it watches; its clash alerts carry
its own id and version and, in ``cause_rule_id``/``cause_rule_version``, those of
the surge. Without a clash rule, :func:`alerts_from_events` reports clashes under
the surge's rule (the behaviour before the rule registry).

Alert ids
---------
:func:`alert_id` is a stable id: the first 24 hex digits of the SHA-256 of the
rule id, version, zone, window (and planned event of a clash), so that the same
alert computed twice, in any process, has the same id (operators' feedback uses it).

References
----------
Lucas, J. M. & Saccucci, M. S. (1990). Exponentially weighted moving average
control schemes: properties and enhancements. *Technometrics* 32(1), 1-12.

Brook, D. & Evans, D. A. (1972). An approach to the probability distribution of
CUSUM run length. *Biometrika* 59(3), 539-549.

Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*, 8th ed.,
§9.2 (EWMA design table: lambda = 0.1, L = 2.814 and lambda = 0.2, L = 2.962
give ARL0 ≈ 500).

Anscombe, F. J. (1948). The transformation of Poisson, binomial and
negative-binomial data. *Biometrika* 35, 246-254.

Jones, L. A., Champ, C. W. & Rigdon, S. E. (2001). The performance of
exponentially weighted moving average charts with estimated parameters.
*Technometrics* 43(2), 156-167.

Dunn, O. J. (1961). Multiple comparisons among means. *JASA* 56, 52-64 (Bonferroni).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np

from observatoire.errors import InputError
from observatoire.event.taxonomy import is_category

__all__ = [
    "PARAMETERS",
    "Alert",
    "ClashRule",
    "PlannedEvent",
    "Rule",
    "Stream",
    "alert_id",
    "alerts_from_events",
    "clashes",
    "evaluate_rule",
    "ewma_arl",
    "ewma_limit",
    "planned_events",
    "poisson_threshold",
    "rules_from_mapping",
]

Method = Literal["poisson", "ewma"]
AlertKind = Literal["exceedance", "ewma", "clash"]

# The only parameters a method accepts (all numeric): a closed list, so nothing else can slip in.
PARAMETERS: dict[str, dict[str, float]] = {
    "poisson": {"training_windows": 28.0, "min_count": 0.0},
    "ewma": {"training_windows": 28.0, "lambda": 0.3, "min_count": 0.0},
}


@dataclass(frozen=True, slots=True)
class Stream:
    """A stream of events: one source and a set of taxonomy categories. Nothing else can be selected."""

    source: str
    categories: frozenset[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", frozenset(self.categories))
        if not self.source or not self.categories:
            raise InputError("a stream needs a source and at least one category")
        unknown = sorted(c for c in self.categories if not is_category(c))
        if unknown:
            raise InputError(f"unknown category: {', '.join(unknown)}")


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered alert rule (declarative, frozen). The unit is always the zone.

    ``parameters`` takes a mapping of the method's parameter names (see ``PARAMETERS``)
    to numbers and is stored as a sorted tuple; unnamed parameters take their default.
    """

    id: str
    version: int
    title: str
    stream: Stream
    window_hours: int
    method: Method
    target_false_alarm: float
    parameters: Any = ()
    unit: Literal["zone"] = "zone"

    def __post_init__(self) -> None:
        if not self.id or self.version < 1:
            raise InputError("a rule needs an id and a version >= 1")
        if self.unit != "zone":
            raise InputError(f"unknown unit {self.unit!r}: rules count events per zone")
        if self.method not in PARAMETERS:
            raise InputError(f"unknown method {self.method!r}: expected one of {', '.join(PARAMETERS)}")
        if not isinstance(self.window_hours, int) or self.window_hours < 1:
            raise InputError("window_hours must be a positive whole number of hours")
        if not 0 < self.target_false_alarm < 1:
            raise InputError("target_false_alarm must lie in (0, 1)")
        given = dict(self.parameters)
        unknown = sorted(set(given) - set(PARAMETERS[self.method]))
        if unknown:
            raise InputError(f"method {self.method} has no parameter {', '.join(unknown)} "
                             f"(allowed: {', '.join(PARAMETERS[self.method])})")
        values = {**PARAMETERS[self.method], **{k: float(v) for k, v in given.items()}}
        if values["training_windows"] < 2 or values["training_windows"] != int(values["training_windows"]):
            raise InputError("training_windows must be a whole number >= 2")
        if self.method == "ewma" and not 0 < values["lambda"] <= 1:
            raise InputError("lambda must lie in (0, 1]")
        if values["min_count"] < 0 or values["min_count"] != int(values["min_count"]):
            raise InputError("min_count must be a whole number >= 0")
        object.__setattr__(self, "parameters", tuple(sorted(values.items())))

    def param(self, name: str) -> float:
        return dict(self.parameters)[name]

    @property
    def training_windows(self) -> int:
        return int(self.param("training_windows"))


@dataclass(frozen=True, slots=True)
class ClashRule:
    """A registered planned-event clash rule: a planned event overlapping, in its zone, an alert of a watched rule."""

    id: str
    version: int
    title: str
    watches: frozenset[str]        # ids of the surge rules whose alerts are compared with planned events
    unit: Literal["zone"] = "zone"

    def __post_init__(self) -> None:
        object.__setattr__(self, "watches", frozenset(self.watches))
        if not self.id or self.version < 1:
            raise InputError("a rule needs an id and a version >= 1")
        if self.unit != "zone":
            raise InputError(f"unknown unit {self.unit!r}: rules count events per zone")
        if not self.watches or self.id in self.watches:
            raise InputError("a clash rule watches at least one other rule")


def alert_id(rule_id: str, rule_version: int, zone_id: str, window_start: datetime, window_end: datetime,
             planned_event_id: str | None = None) -> str:
    """Stable id of an alert: 24 hex digits of SHA-256 over its rule, version, zone and window (UTC).

    Examples
    --------
    >>> t = datetime(2024, 7, 1, tzinfo=UTC)
    >>> alert_id("r", 1, "13201", t, t + timedelta(hours=3)) == alert_id("r", 1, "13201", t, t + timedelta(hours=3))
    True
    """
    key = "|".join([rule_id, str(int(rule_version)), zone_id, window_start.astimezone(UTC).isoformat(),
                    window_end.astimezone(UTC).isoformat(), planned_event_id or ""])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: which rule (id and version), where, when, and the figures behind it."""

    kind: AlertKind
    rule_id: str
    rule_version: int
    zone_id: str
    window_start: datetime
    window_end: datetime           # excluded
    observed: float                # the window's count
    expected: float                # baseline count per window
    statistic: float               # Poisson: (x - mu) / sqrt(mu); EWMA: z_t (Anscombe scale)
    threshold: float               # Poisson: the alarm count c; EWMA: the upper limit (Anscombe scale)
    p_value: float | None          # Poisson: P(X >= x | mu); None for EWMA
    planned_event_id: str | None = None
    cause_rule_id: str | None = None        # clash under a ClashRule: the surge rule that fired
    cause_rule_version: int | None = None

    @property
    def id(self) -> str:
        """The stable :func:`alert_id` of this alert."""
        return alert_id(self.rule_id, self.rule_version, self.zone_id, self.window_start, self.window_end,
                        self.planned_event_id)


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """A planned public event in a zone (from the ``planned_events`` source), ``end`` included."""

    event_id: str
    zone_id: str
    start: datetime
    end: datetime = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.end is None:
            object.__setattr__(self, "end", self.start)
        if self.end < self.start:
            raise InputError("a planned event cannot end before it starts")


# --------------------------------------------------------------------------- Poisson


def poisson_threshold(mu: Any, alpha: float) -> np.ndarray:
    """Smallest count ``c`` with ``P(X >= c) <= alpha`` for ``X ~ Poisson(mu)`` (elementwise).

    Examples
    --------
    >>> int(poisson_threshold(5.0, 0.01))   # P(X >= 11) = 0.0137, P(X >= 12) = 0.0055
    12
    """
    from scipy.stats import poisson

    if not 0 < alpha < 1:
        raise InputError("alpha must lie in (0, 1)")
    mu = np.asarray(mu, dtype=float)
    c = poisson.isf(alpha, mu).astype(np.int64) + 1
    # Guard against rounding at the boundary: step back while c - 1 still satisfies the bound.
    while True:
        lower = np.maximum(c - 1, 0)
        better = (c > 0) & (poisson.sf(lower - 1, mu) <= alpha)
        if not np.any(better):
            return c
        c = np.where(better, lower, c)


def _baseline(counts: np.ndarray, n_train: int) -> np.ndarray:
    return np.maximum(counts[:, :n_train].mean(axis=1), 0.5 / n_train)


def _poisson_alarms(counts: np.ndarray, n_train: int, alpha_z: float):
    from scipy.stats import poisson

    mu = _baseline(counts, n_train)
    c = poisson_threshold(mu, alpha_z)
    watched = counts[:, n_train:]
    alarm = watched >= c[:, None]
    p = poisson.sf(watched - 1, mu[:, None])
    stat = (watched - mu[:, None]) / np.sqrt(mu[:, None])
    return alarm, mu, c.astype(float), stat, p


# --------------------------------------------------------------------------- EWMA


def ewma_arl(lam: float, limit: float, shift: float = 0.0, n_states: int = 201) -> float:
    """Average run length of a two-sided EWMA chart on N(shift, 1) observations (Markov chain).

    The in-control region ``[-h, h]``, ``h = L sqrt(lam / (2 - lam))``, is cut into
    ``n_states`` intervals (Brook & Evans 1972; Lucas & Saccucci 1990); the chart starts at 0.

    Examples
    --------
    >>> abs(ewma_arl(0.1, 2.814) - 500) < 2      # Lucas & Saccucci (1990): about 500
    True
    """
    from scipy.stats import norm

    if not 0 < lam <= 1 or limit <= 0:
        raise InputError("lambda must lie in (0, 1] and L be positive")
    h = limit * math.sqrt(lam / (2 - lam))
    width = 2 * h / n_states
    mid = -h + width * (np.arange(n_states) + 0.5)
    centre = (1 - lam) * mid[:, None]
    upper = norm.cdf((mid[None, :] + width / 2 - centre) / lam - shift)
    lower = norm.cdf((mid[None, :] - width / 2 - centre) / lam - shift)
    transition = upper - lower
    arl = np.linalg.solve(np.eye(n_states) - transition, np.ones(n_states))
    return float(arl[n_states // 2])


@lru_cache(maxsize=64)
def ewma_limit(lam: float, arl0: float) -> float:
    """The ``L`` for which the two-sided EWMA chart has in-control ARL ``arl0`` (bisection on :func:`ewma_arl`).

    Examples
    --------
    >>> round(ewma_limit(0.2, 500), 2)   # Lucas & Saccucci (1990): L = 2.962
    2.96

    The result is memoised (the function is pure; about a second to compute).
    """
    if arl0 <= 1:
        raise InputError("the in-control ARL must exceed 1")
    from scipy.optimize import brentq

    return float(brentq(lambda limit: math.log(ewma_arl(lam, limit)) - math.log(arl0), 0.1, 6.0, xtol=1e-6))


def _anscombe(x: np.ndarray) -> np.ndarray:
    """``2 sqrt(x + 3/8)``: Poisson counts become about N(2 sqrt(mu), 1) (Anscombe 1948)."""
    return 2 * np.sqrt(x + 3 / 8)


def _ewma_alarms(counts: np.ndarray, n_train: int, alpha_z: float, lam: float):
    mu = _baseline(counts, n_train)
    y = _anscombe(counts.astype(float))
    centre = y[:, :n_train].mean(axis=1)
    limit = ewma_limit(float(lam), float(1 / (2 * alpha_z)))
    # Unit variance after the transform; 1 / n_train adds the variance of the estimated centre.
    ucl = centre + limit * math.sqrt(lam / (2 - lam) + 1 / n_train)
    watched = y[:, n_train:]
    z = centre.copy()
    alarm = np.zeros(watched.shape, bool)
    stat = np.zeros(watched.shape)
    for t in range(watched.shape[1]):
        z = lam * watched[:, t] + (1 - lam) * z
        stat[:, t] = z
        alarm[:, t] = z > ucl
        z = np.where(alarm[:, t], centre, z)        # restart after a signal
    return alarm, mu, ucl, stat, None


# --------------------------------------------------------------------------- rules


def evaluate_rule(
    rule: Rule,
    counts: Any,
    window_starts: Sequence[datetime],
    zones: Sequence[str],
) -> list[Alert]:
    """Alerts of ``rule`` on a zones × windows count matrix.

    Parameters
    ----------
    rule
        The rule; its ``training_windows`` first windows are the baseline, the others are watched.
    counts
        Counts per zone (rows, in ``zones`` order) and window (columns, in time order). Not modified.
    window_starts
        Start of each window (UTC); each lasts ``rule.window_hours``.
    zones
        Zone id of each row (the ``Z`` of the Bonferroni correction).

    Returns
    -------
    list of Alert
        In window then zone order.

    Raises
    ------
    InputError
        Malformed counts, or fewer windows than the training period plus one.
    """
    matrix = np.asarray(counts)
    if matrix.ndim != 2 or matrix.shape != (len(zones), len(window_starts)):
        raise InputError(f"counts must be (zones, windows) = ({len(zones)}, {len(window_starts)})")
    if len(zones) == 0:
        raise InputError("no zones")
    if np.any(matrix < 0) or np.any(matrix != np.round(matrix)):
        raise InputError("counts must be non-negative integers")
    n_train = rule.training_windows
    if matrix.shape[1] <= n_train:
        raise InputError(f"window longer than data: rule {rule.id} trains on {n_train} windows and needs at least "
                         f"one more, the data have {matrix.shape[1]}")
    alpha_z = rule.target_false_alarm / len(zones)
    if rule.method == "poisson":
        alarm, mu, threshold, stat, p = _poisson_alarms(matrix, n_train, alpha_z)
        kind: AlertKind = "exceedance"
    else:
        alarm, mu, threshold, stat, p = _ewma_alarms(matrix, n_train, alpha_z, rule.param("lambda"))
        kind = "ewma"
    alarm = alarm & (matrix[:, n_train:] >= rule.param("min_count"))
    step = timedelta(hours=rule.window_hours)
    out = []
    for t, i in zip(*np.nonzero(alarm.T)):
        start = window_starts[n_train + t]
        out.append(Alert(
            kind=kind, rule_id=rule.id, rule_version=rule.version, zone_id=zones[i],
            window_start=start, window_end=start + step, observed=float(matrix[i, n_train + t]),
            expected=float(mu[i]), statistic=float(stat[i, t]), threshold=float(threshold[i]),
            p_value=None if p is None else float(p[i, t]),
        ))
    return out


def clashes(planned: Sequence[PlannedEvent], alerts: Sequence[Alert], rule: ClashRule | None = None) -> list[Alert]:
    """Clash alerts: a planned event overlapping, in its zone, the window of a surge alert.

    ``[start, end]`` of the planned event overlaps ``[window_start, window_end)`` when
    ``start < window_end`` and ``end >= window_start``. With a clash ``rule``, only
    alerts of the rules it watches are compared and the clashes carry its id and version
    (the surge's in ``cause_rule_id``/``cause_rule_version``); without one, they carry the surge's.
    """
    out = []
    for event in planned:
        for alert in alerts:
            if alert.kind == "clash" or alert.zone_id != event.zone_id:
                continue
            if rule is not None and alert.rule_id not in rule.watches:
                continue
            if event.start < alert.window_end and event.end >= alert.window_start:
                out.append(Alert(
                    kind="clash", rule_id=alert.rule_id if rule is None else rule.id,
                    rule_version=alert.rule_version if rule is None else rule.version, zone_id=alert.zone_id,
                    window_start=alert.window_start, window_end=alert.window_end, observed=alert.observed,
                    expected=alert.expected, statistic=alert.statistic, threshold=alert.threshold,
                    p_value=alert.p_value, planned_event_id=event.event_id,
                    cause_rule_id=None if rule is None else alert.rule_id,
                    cause_rule_version=None if rule is None else alert.rule_version,
                ))
    return out


# --------------------------------------------------------------------------- from the store


def planned_events(events: Any, *, start: datetime | None = None, end: datetime | None = None) -> list[PlannedEvent]:
    """Planned events with a zone from the store (``category == "planned_event"``), optionally overlapping a period.

    The end is ``attributes.planned_events.ends_at`` (the start when absent).
    """
    t = events.filter(events.category == "planned_event", events.zone_id.notnull())
    t = t.select(event_id=t.event_id, zone_id=t.zone_id, start=t.occurred_at,
                 end=t.attributes["planned_events"]["ends_at"])
    out = []
    for row in t.to_pyarrow().to_pylist():
        event = PlannedEvent(row["event_id"], row["zone_id"], row["start"], row["end"])
        if (start is None or event.end >= start) and (end is None or event.start < end):
            out.append(event)
    return out


def alerts_from_events(
    events: Any,
    rules: Sequence[Rule | ClashRule],
    *,
    zones: Sequence[str],
    now: datetime,
    watch_windows: int = 1,
    with_clashes: bool = True,
) -> list[Alert]:
    """Evaluate each rule on the store's events up to ``now`` (UTC, floored to the hour).

    For a rule with windows of ``w`` hours, the last ``watch_windows`` complete
    windows before ``now`` are watched and the ``training_windows`` before them are
    the baseline. Events without a zone are not counted. Each :class:`ClashRule`
    among ``rules`` then compares the planned events with the alerts of the rules it
    watches; when there is none, ``with_clashes`` reports clashes under the surge rules.

    Raises
    ------
    InputError
        ``now`` without a time zone, ``watch_windows < 1``, data that do not cover
        the training windows of a rule, or a stream with no event in or after its watched
        windows (``flux interrompu : dernière donnée le <day>``, UTC day).
    """
    from observatoire.analytics.aggregate import counts as aggregate_counts

    if now.tzinfo is None:
        raise InputError("now must carry a time zone (UTC)")
    if watch_windows < 1:
        raise InputError("watch_windows must be at least 1")
    if not zones:
        raise InputError("no zones")
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    index = {z: i for i, z in enumerate(zones)}
    found: list[Alert] = []
    clash_rules = [r for r in rules if isinstance(r, ClashRule)]
    for rule in rules:
        if isinstance(rule, ClashRule):
            continue
        n = rule.training_windows + watch_windows
        step = timedelta(hours=rule.window_hours)
        first = end - n * step
        scope = events.filter(events.source == rule.stream.source)
        bounds = scope.aggregate(lo=scope.occurred_at.min(), hi=scope.occurred_at.max()).to_pyarrow()
        lo, hi = bounds["lo"][0].as_py(), bounds["hi"][0].as_py()
        if lo is None or lo > first:
            raise InputError(f"window longer than data: rule {rule.id} needs events of {rule.stream.source} "
                             f"from {first.isoformat()}, the data start at {lo.isoformat() if lo else 'never'}")
        if hi < end - watch_windows * step:     # a stopped feed: silence would read as calm
            raise InputError(f"flux interrompu : dernière donnée le {hi.astimezone(UTC).date().isoformat()}")
        hourly = aggregate_counts(events, by="zone", period="hour", sources=[rule.stream.source],
                                  categories=sorted(rule.stream.categories),
                                  start=first.date(), end=end.date() + timedelta(days=1))
        matrix = np.zeros((len(zones), n), np.int64)
        for unit, at, count in zip(hourly["unit"].to_pylist(), hourly["period_start"].to_pylist(),
                                   hourly["count"].to_pylist()):
            if unit in index and first <= at < end:
                matrix[index[unit], int((at - first) // step)] += count
        found += evaluate_rule(rule, matrix, [first + k * step for k in range(n)], zones)
    if (clash_rules or with_clashes) and found:
        earliest = min(a.window_start for a in found)
        planned = planned_events(events, start=earliest, end=end)
        if clash_rules:
            found += [c for rule in clash_rules for c in clashes(planned, found, rule)]
        else:
            found += clashes(planned, found)
    return found


def rules_from_mapping(records: Sequence[Mapping[str, Any]]) -> list[Rule]:
    """Rules from plain records (e.g. a TOML registry): ``stream`` is ``{"source": ..., "categories": [...]}``.

    Unknown keys raise ``InputError`` (no field exists for anything else).
    """
    rules = []
    for record in records:
        data = dict(record)
        stream = data.pop("stream", None)
        if not isinstance(stream, Mapping):
            raise InputError("a rule needs a stream {source, categories}")
        try:
            rules.append(Rule(stream=Stream(stream["source"], frozenset(stream["categories"])), **data))
        except (TypeError, KeyError) as exc:
            raise InputError(f"a rule record has unknown or missing fields ({exc})") from exc
    return rules
