"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with in-space placebo tests, using ``pysyncon``.

Each unit's series is divided by its pre-period mean, so that treated and donor units are on
one scale; the treated series is the mean of the treated units' normalised series. Donor
weights (non-negative, summing to one) come from :class:`pysyncon.Synth` fitted on the
pre-period values with equal predictor weights (the pre-period fit itself).

Effect: ``log(sum_post treated / sum_post synthetic)``, reported as ``exp(.) - 1``.

For the placebo test the treated group is fitted, like each placebo group, on all donors but as
many as it has units (averaged over a few random leave-out sets), so that its RMSPE ratio is
not inflated by a better pre-period fit with more donors.

Placebos in space: the same estimator is run with groups of donors as if treated (groups of
the treated group's size, so that their noise is comparable: all groups when there are at
most ``max_placebos``, else a random draw of that many), each against the remaining donors.
- p-value: rank of the treated group's post/pre RMSPE ratio among the placebos'
  (Abadie et al. 2010): ``(1 + #{placebo ratio >= treated ratio}) / (1 + n)``;
- interval: the treated leave-out estimate is ``log(1 + effect) + e`` with ``e`` exchangeable
  with the placebo estimates, so ``[l - q_hi, l - q_lo]`` with ``q`` the placebo quantiles
  (test inversion under a constant effect, Firpo & Possebom 2018). With few placebos the
  interval's true level is coarse: ``placebos`` says how many there were.

References: Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for
comparative case studies. *JASA* 105(490), 493-505. Firpo, S. & Possebom, V. (2018).
Synthetic control method: inference, sensitivity analysis and confidence sets.
*Journal of Causal Inference* 6(2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from observatoire.errors import InputError

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
    weights: dict[str, float]

    def as_dict(self) -> dict:
        return {"design": "synthetic_control", "effect": self.effect, "ci_effect": list(self.ci_effect),
                "rate_ratio": 1.0 + self.effect, "ci_rate_ratio": [1.0 + self.ci_effect[0], 1.0 + self.ci_effect[1]],
                "log_ratio": self.log_ratio, "rmspe_pre": self.rmspe_pre, "rmspe_ratio": self.rmspe_ratio,
                "rank": self.rank, "placebos": self.placebos, "p_value_placebo": self.p_value,
                "weights": self.weights}


def _fit(treated: np.ndarray, donors: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Donor weights and the synthetic series for one treated series (pysyncon, equal predictor weights)."""
    from pysyncon import Synth

    names = [f"d{i}" for i in range(donors.shape[0])]
    z0 = pd.DataFrame(donors.T, columns=names)
    z1 = pd.Series(treated, name="treated")
    pre = slice(0, start)
    model = Synth()
    model.fit(X0=z0.iloc[pre], X1=z1.iloc[pre], Z0=z0.iloc[pre], Z1=z1.iloc[pre], custom_V=np.ones(start))
    w = np.asarray(model.W, float)
    return w, donors.T @ w


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
        Confidence level of the placebo interval.
    max_placebos
        At most this many placebo groups (drawn with ``rng`` when there are more).
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
    norm = y / np.maximum(y[:, :start].mean(axis=1, keepdims=True), 0.5)
    series = norm[mask].mean(axis=0)
    donors = norm[donors_idx]
    w, synth = _fit(series, donors, start)                      # the estimate: all donors (ADH 2010)
    log_ratio, rmspe_pre, _ = _stats(series, synth, start)
    size = max(1, min(k, len(donors_idx) - 2))   # placebo groups as large as the treated group, when donors allow
    # For the test, the treated group is fitted like each placebo group: on the donors less ``size`` of
    # them (averaged over LEAVE_OUT random leave-out sets), so that its fit is not better than the
    # placebos' by having more donors.
    held = np.zeros(y.shape[1])
    for _ in range(LEAVE_OUT):
        kept = np.sort(rng.choice(len(donors_idx), len(donors_idx) - size, replace=False))
        held += _fit(series, donors[kept], start)[1] / LEAVE_OUT
    held_log, _, ratio = _stats(series, held, start)

    total = math.comb(len(donors_idx), size)
    if total <= max_placebos:
        groups = [np.array(c) for c in combinations(range(len(donors_idx)), size)]
    else:
        seen: set[tuple[int, ...]] = set()
        while len(seen) < max_placebos:
            seen.add(tuple(sorted(rng.choice(len(donors_idx), size, replace=False).tolist())))
        groups = [np.array(c) for c in sorted(seen)]
    logs, ratios = [], []
    for group in groups:
        inside = np.zeros(len(donors_idx), bool)
        inside[group] = True
        _, s = _fit(donors[inside].mean(axis=0), donors[~inside], start)
        lr, _, rr = _stats(donors[inside].mean(axis=0), s, start)
        logs.append(lr)
        ratios.append(rr)
    logs_a, ratios_a = np.array(logs), np.array(ratios)
    p = float((1 + np.sum(ratios_a >= ratio - 1e-12)) / (1 + len(ratios_a)))
    rank = int(1 + np.sum(ratios_a > ratio))
    q_lo, q_hi = np.quantile(logs_a, [0.5 - level / 2, 0.5 + level / 2])
    ci = (math.expm1(held_log - q_hi), math.expm1(held_log - q_lo))   # centred like the placebos were fitted
    names = units if units is not None else tuple(str(i) for i in range(y.shape[0]))
    weights = {names[i]: round(float(wi), 4) for i, wi in zip(donors_idx, w) if wi > 1e-3}
    return SyntheticResult(math.expm1(log_ratio), ci, log_ratio, rmspe_pre, ratio, rank, len(groups), p, weights)
