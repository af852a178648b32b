"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with conformal inference and placebo tests (``pysyncon``).

Each unit's series is divided by its pre-period mean, so that treated and donor units are on
one scale; the treated series is the mean of the treated units' normalised series. Donor
weights (non-negative, summing to one) come from :class:`pysyncon.Synth` fitted on the
pre-period values with equal predictor weights (the pre-period fit itself).

Effect: ``log(sum_post treated / sum_post synthetic)``, reported as ``exp(.) - 1``.

Interval: conformal inference (Chernozhukov, Wüthrich & Zhu 2021, :mod:`.conformal`): the rate
ratios ``r`` that a moving-block permutation test does not reject once the treated post-period is
divided by ``r`` and the weights are refitted on all periods; ``p_value_conformal`` is that test at
``r = 1``. It needs at least ``1 / alpha`` periods in all (20 at 95 %).

Placebos in space (Abadie et al. 2010): the same estimator is run with groups of donors as if
treated (groups of the treated group's size, so that their noise is comparable: all groups when
there are at most ``max_placebos``, else a random draw of that many), each against the remaining
donors. p-value: rank of the treated group's post/pre RMSPE ratio among the placebos'
``(1 + #{placebo ratio >= treated ratio}) / (1 + n)``. For this test the treated group is fitted,
like each placebo group, on all donors but as many as it has units (averaged over a few random
leave-out sets), so that its RMSPE ratio is not inflated by a better pre-period fit with more
donors. (An interval made of the placebo estimates, as in Firpo & Possebom 2018, was used before:
with a dozen donors the placebo groups share zones and it covered the truth 81 % of the time.)

References: Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for
comparative case studies. *JASA* 105(490), 493-505. Chernozhukov, V., Wüthrich, K. & Zhu, Y.
(2021). An exact and robust conformal inference method for counterfactual and synthetic
controls. *JASA* 116(536), 1849-1864.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from observatoire.errors import InputError
from observatoire.evaluation.conformal import conformal_interval, conformal_p_value

MIN_DONORS = 4
LEAVE_OUT = 5


@dataclass(frozen=True)
class SyntheticResult:
    effect: float
    ci_effect: tuple[float, float]
    log_ratio: float
    rmspe_pre: float
    rmspe_ratio: float
    rank: int
    placebos: int
    p_value: float
    p_value_conformal: float
    permutations: int
    weights: dict[str, float]

    def as_dict(self) -> dict:
        return {"design": "synthetic_control", "effect": self.effect, "ci_effect": list(self.ci_effect),
                "rate_ratio": 1.0 + self.effect, "ci_rate_ratio": [1.0 + self.ci_effect[0], 1.0 + self.ci_effect[1]],
                "log_ratio": self.log_ratio, "rmspe_pre": self.rmspe_pre, "rmspe_ratio": self.rmspe_ratio,
                "rank": self.rank, "placebos": self.placebos, "p_value_placebo": self.p_value,
                "p_value_conformal": self.p_value_conformal, "ci_method": "conformal, moving-block permutations",
                "permutations": self.permutations, "weights": self.weights}


def _fit(treated: np.ndarray, donors: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Donor weights fitted on the first ``start`` periods and the synthetic series (pysyncon, equal period weights)."""
    from pysyncon import Synth

    names = [f"d{i}" for i in range(donors.shape[0])]
    z0 = pd.DataFrame(donors.T, columns=names)
    z1 = pd.Series(treated, name="treated")
    pre = slice(0, start)
    model = Synth()
    model.fit(X0=z0.iloc[pre], X1=z1.iloc[pre], Z0=z0.iloc[pre], Z1=z1.iloc[pre], custom_V=np.ones(start))
    w = np.asarray(model.W, float)
    return w, donors.T @ w


def _fit_all(treated: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """The synthetic series with weights fitted on every period (the conformal refits under a null)."""
    return _fit(treated, donors, len(treated))[1]


def _normalised(y: np.ndarray, mask: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """The treated group's series and the donors' series, each unit divided by its pre-period mean."""
    norm = y / np.maximum(y[:, :start].mean(axis=1, keepdims=True), 0.5)
    return norm[mask].mean(axis=0), norm[~mask]


def conformal_test(counts: np.ndarray, treated: np.ndarray, start: int, *, rate_ratio: float = 1.0) -> float:
    """p-value of the conformal test that the treated units' rate ratio is ``rate_ratio`` (1: no effect).

    The test that :func:`synthetic_control` inverts for its interval (moving-block permutations,
    weights refitted on all periods under the null); ``counts``, ``treated`` and ``start`` as there.
    """
    y = np.asarray(counts, float)
    mask = np.asarray(treated, bool)
    if y.ndim != 2 or mask.shape != (y.shape[0],) or not 2 <= start < y.shape[1] or not mask.any() or mask.all():
        raise InputError("counts must be (units, periods) with treated and donor units, pre- and post-periods")
    if rate_ratio <= 0:
        raise InputError("the rate ratio under test must be positive")
    series, donors = _normalised(y, mask, start)
    return conformal_p_value(series, donors, start, math.log(rate_ratio), _fit_all)


def _stats(treated: np.ndarray, synthetic: np.ndarray, start: int) -> tuple[float, float, float]:
    gap = treated - synthetic
    pre = math.sqrt(float(np.mean(gap[:start] ** 2)))
    post = math.sqrt(float(np.mean(gap[start:] ** 2)))
    log_ratio = math.log(max(float(treated[start:].sum()), 1e-9) / max(float(synthetic[start:].sum()), 1e-9))
    return log_ratio, pre, post / max(pre, 1e-12)


def synthetic_control(
    counts: np.ndarray,
    treated: np.ndarray,
    start: int,
    *,
    units: tuple[str, ...] | None = None,
    level: float = 0.95,
    max_placebos: int = 200,
    rng: np.random.Generator,
) -> SyntheticResult:
    """Effect of a deployment on a group of units against a synthetic control, with placebo inference.

    Parameters
    ----------
    counts
        ``(units, periods)`` counts of the treated units and the donors (buffer units left out by the caller).
    treated
        Boolean mask of treated units (treated from ``start`` on, all at once).
    start
        Index of the first treated period (the number of pre-periods).
    units
        Unit ids, for the reported donor weights.
    level
        Confidence level of the conformal interval (needs ``periods >= 1 / (1 - level)``).
    max_placebos
        At most this many placebo groups (drawn with ``rng`` when there are more); 0: no placebo test
        (``p_value``, ``rmspe_ratio`` and ``rank`` are then NaN, NaN and 0).
    rng
        Draws the placebo groups when they are sampled.
    """
    y = np.asarray(counts, float)
    mask = np.asarray(treated, bool)
    if y.ndim != 2 or mask.shape != (y.shape[0],):
        raise InputError("counts must be (units, periods) and treated one flag per unit")
    if not 2 <= start < y.shape[1]:
        raise InputError("a synthetic control needs pre-periods and post-periods")
    k, donors_idx = int(mask.sum()), np.flatnonzero(~mask)
    if k == 0:
        raise InputError("no treated unit")
    if len(donors_idx) < MIN_DONORS:
        raise InputError(f"a synthetic control needs at least {MIN_DONORS} donor units (untreated, outside the buffer)")
    if y.shape[1] * (1 - level) < 1:
        raise InputError(f"a synthetic control's interval at level {level:.0%} needs at least "
                         f"{math.ceil(1 / (1 - level))} periods (pre and post together); the panel has {y.shape[1]}")
    series, donors = _normalised(y, mask, start)
    w, synth = _fit(series, donors, start)                      # the estimate: all donors (ADH 2010)
    log_ratio, rmspe_pre, _ = _stats(series, synth, start)
    # Interval and test of no effect: conformal inference, the weights refitted on all periods under each null.
    lo, hi = conformal_interval(series, donors, start, centre=log_ratio, fit=_fit_all, level=level,
                                step=max(0.01, 2.0 * rmspe_pre / math.sqrt(y.shape[1] - start)))
    p_conformal = conformal_p_value(series, donors, start, 0.0, _fit_all)
    p, rank, ratio, n_groups = _placebo_test(series, donors, start, k, max_placebos, rng)
    names = units if units is not None else tuple(str(i) for i in range(y.shape[0]))
    weights = {names[i]: round(float(wi), 4) for i, wi in zip(donors_idx, w) if wi > 1e-3}
    return SyntheticResult(math.expm1(log_ratio), (math.expm1(lo), math.expm1(hi)), log_ratio, rmspe_pre, ratio,
                           rank, n_groups, p, p_conformal, y.shape[1], weights)


def _placebo_test(series: np.ndarray, donors: np.ndarray, start: int, k: int, max_placebos: int,
                  rng: np.random.Generator) -> tuple[float, int, float, int]:
    """In-space placebo test: ``(p-value, rank, treated RMSPE ratio, placebo groups)``."""
    n_d = donors.shape[0]
    if max_placebos <= 0:
        return float("nan"), 0, float("nan"), 0
    size = max(1, min(k, n_d - 2))   # placebo groups as large as the treated group, when donors allow
    # The treated group is fitted like each placebo group: on the donors less ``size`` of them (averaged
    # over LEAVE_OUT random leave-out sets), so that its fit is not better than the placebos' by having
    # more donors.
    held = np.zeros(len(series))
    for _ in range(LEAVE_OUT):
        kept = np.sort(rng.choice(n_d, n_d - size, replace=False))
        held += _fit(series, donors[kept], start)[1] / LEAVE_OUT
    _, _, ratio = _stats(series, held, start)
    total = math.comb(n_d, size)
    if total <= max_placebos:
        groups = [np.array(c) for c in combinations(range(n_d), size)]
    else:
        seen: set[tuple[int, ...]] = set()
        while len(seen) < max_placebos:
            seen.add(tuple(sorted(rng.choice(n_d, size, replace=False).tolist())))
        groups = [np.array(c) for c in sorted(seen)]
    ratios = []
    for group in groups:
        inside = np.zeros(n_d, bool)
        inside[group] = True
        target = donors[inside].mean(axis=0)
        ratios.append(_stats(target, _fit(target, donors[~inside], start)[1], start)[2])
    ratios_a = np.array(ratios)
    p = float((1 + np.sum(ratios_a >= ratio - 1e-12)) / (1 + len(ratios_a)))
    return p, int(1 + np.sum(ratios_a > ratio)), ratio, len(groups)
