"""Randomised assignment at zone or day level (as in Mohler et al. 2015): rate ratio and randomisation inference.

Zone level: a fixed set of units is treated for the whole experiment. The rate ratio comes
from a Poisson regression of the experiment's counts on treatment, period fixed effects and
the log of each unit's pre-period mean (ANCOVA); the period effects profile out, so it is fitted
on the unit totals, with a quasi-Poisson (Pearson) scale and Student's t intervals.

Day level: each period, a random subset of units is treated (the Los Angeles / Kent trials of
Mohler et al. 2015 randomised, each day, which cells received predictive or analyst-chosen
patrols). Unit and period fixed effects, standard errors clustered by unit.

The randomisation-inference p-value (Fisher's sharp null of no effect on any unit) re-draws
the assignment by the same mechanism (zone level: which ``k`` units; day level: which units
on each period, the number per period kept) and compares ``|s|`` of the statistic
``s = log(sum_T y / sum_T b) - log(sum_C y / sum_C b)`` (``b``: the unit's baseline) with its
permutation distribution; ``p = (1 + #{|s*| >= |s|}) / (1 + n)``.

Reference: Mohler, G. O., Short, M. B., Malinowski, S., Johnson, M., Tita, G. E.,
Bertozzi, A. L. & Brantingham, P. J. (2015). Randomized controlled field trials of
predictive policing. *JASA* 110(512), 1399-1411.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from observatoire.errors import InputError
from observatoire.evaluation.glm import RateRatio, dummies, poisson_rate_ratio, quasi_poisson_rate_ratio


@dataclass(frozen=True)
class RandomisedResult:
    estimate: RateRatio
    p_value_ri: float
    permutations: int
    scheme: str
    treated_cells: int
    control_cells: int

    def as_dict(self) -> dict:
        return {"design": "randomised", "scheme": self.scheme, **self.estimate.as_dict(),
                "p_value_randomisation": self.p_value_ri, "permutations": self.permutations,
                "treated_cells": self.treated_cells, "control_cells": self.control_cells}


def _statistic(y: np.ndarray, base: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """``log(sum_T y / sum_T b) - log(sum_C y / sum_C b)`` for one or many assignments ``(..., U, T)``."""
    t = treated.astype(float)
    c = 1.0 - t
    yt, bt = (t * y).sum(axis=(-2, -1)), (t * base).sum(axis=(-2, -1))
    yc, bc = (c * y).sum(axis=(-2, -1)), (c * base).sum(axis=(-2, -1))
    return np.log((yt + 0.5) / bt) - np.log((yc + 0.5) / bc)


def _redraw(assignment: np.ndarray, scheme: str, n: int, rng: np.random.Generator) -> np.ndarray:
    u, t = assignment.shape
    if scheme == "zone":
        k = int(assignment[:, 0].sum())
        keys = rng.random((n, u))
        ranks = keys.argsort(axis=1).argsort(axis=1)
        return np.repeat((ranks < k)[:, :, None], t, axis=2)
    keys = rng.random((n, u, t))
    ranks = keys.argsort(axis=1).argsort(axis=1)
    return ranks < assignment.sum(axis=0)[None, None, :]


def randomised(
    counts: np.ndarray,
    assignment: np.ndarray,
    *,
    baseline: np.ndarray | None = None,
    scheme: Literal["zone", "day"] = "zone",
    level: float = 0.95,
    permutations: int = 999,
    rng: np.random.Generator,
) -> RandomisedResult:
    """Effect of a randomised deployment as a rate ratio with a cluster-robust interval and an RI p-value.

    Parameters
    ----------
    counts
        Counts of the experiment's periods, ``(units, periods)``.
    assignment
        Boolean ``(units, periods)``: treated cells. Zone level: constant along periods.
    baseline
        Per unit, the mean count per period before the experiment (zone level: the ANCOVA
        covariate; both: the statistic's denominator). ``None``: the unit's mean over the
        experiment (valid under the sharp null, less precise).
    scheme
        ``"zone"`` or ``"day"`` (re-randomised per period).
    permutations
        Re-draws for the randomisation-inference p-value (0: none).
    rng
        Draws the re-randomisations.
    """
    y = np.asarray(counts, float)
    a = np.asarray(assignment, bool)
    if y.shape != a.shape or y.ndim != 2:
        raise InputError("counts and assignment must be (units, periods) arrays of the same shape")
    if scheme not in ("zone", "day"):
        raise InputError(f"unknown randomisation scheme {scheme!r}: expected zone or day")
    if scheme == "zone" and not (a == a[:, :1]).all():
        raise InputError("a zone-level assignment must be constant over the periods")
    if not a.any() or a.all():
        raise InputError("a randomised design needs treated and control cells")
    n_u, n_t = y.shape
    base = np.asarray(baseline, float) if baseline is not None else y.mean(axis=1)
    base = np.maximum(base, 0.5 / max(n_t, 1))
    unit = np.repeat(np.arange(n_u), n_t)
    period = np.tile(np.arange(n_t), n_u)
    if scheme == "zone":
        # Period effects profile out of a Poisson fit with unit-level regressors: fit the unit totals.
        estimate = quasi_poisson_rate_ratio(y.sum(axis=1), a[:, 0], np.log(base)[:, None], level=level)
    else:
        controls = np.column_stack([dummies(unit), dummies(period)])
        estimate = poisson_rate_ratio(y.ravel(), a.ravel(), controls, unit, level=level)
    p_ri = float("nan")
    if permutations > 0:
        b = np.repeat(base[:, None], n_t, axis=1)
        observed = _statistic(y, b, a)
        null = np.concatenate([_statistic(y[None], b[None], _redraw(a, scheme, m, rng))
                               for m in np.diff(np.r_[0:permutations:200, permutations])])
        p_ri = float((1 + np.sum(np.abs(null) >= abs(observed) - 1e-12)) / (1 + permutations))
    return RandomisedResult(estimate, p_ri, permutations, scheme, int(a.sum()), int((~a).sum()))
