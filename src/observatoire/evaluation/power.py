"""Power and minimum detectable effect for overdispersed counts (negative binomial).

Counts per unit-period are taken as independent negative binomial with mean ``mu`` and
variance ``mu + dispersion * mu**2`` (NB2). A deployment that multiplies the treated mean by
``1 - mde`` is detected by the two-sided Wald test of the log rate ratio with the power of
Zhu & Lakkis (2014), as :func:`statsmodels.stats.rates.power_negbin_ratio_2indep` computes it
(``method_var="alt"``): ``Var(log RR) ~ (1/mu_T + dispersion) / n_T + (1/mu_C + dispersion) / n_C``
with ``n`` the treated and control unit-periods. The minimum detectable effect is solved from it.

Independence across periods is an approximation: persistent differences between units are
removed by the designs' pre-period adjustment, and what remains of serial correlation makes
the real power somewhat lower (the simulations of ``bench/evaluation_coverage.py`` measure it).

Reference: Zhu, H. & Lakkis, H. (2014). Sample size calculation for comparing two negative
binomial rates. *Statistics in Medicine* 33(3), 376-387.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from observatoire.errors import InputError


@dataclass(frozen=True)
class PowerAnalysis:
    mean: float
    dispersion: float
    treated_cells: int
    control_cells: int
    alpha: float
    mde: float
    power_at_mde: float
    target_power: float
    mde_at_target: float | None

    def as_dict(self) -> dict:
        return {"baseline_mean": self.mean, "dispersion": self.dispersion, "treated_cells": self.treated_cells,
                "control_cells": self.control_cells, "alpha": self.alpha, "mde": self.mde,
                "power_at_mde": self.power_at_mde, "target_power": self.target_power,
                "mde_at_target_power": self.mde_at_target, "model": "negative binomial (Zhu & Lakkis 2014)"}


def _check(mean: float, dispersion: float, n_treated: int, n_control: int, alpha: float) -> None:
    if not mean > 0:
        raise InputError("the baseline mean count must be positive")
    if dispersion < 0:
        raise InputError("the dispersion must be >= 0")
    if n_treated < 1 or n_control < 1:
        raise InputError("power needs treated and control unit-periods")
    if not 0 < alpha < 0.5:
        raise InputError("alpha must lie in (0, 0.5)")


def power_nb(effect: float, *, mean: float, dispersion: float, n_treated: int, n_control: int,
             alpha: float = 0.05) -> float:
    """Power of the two-sided test of a relative change ``effect`` (``-0.10``: ten per cent fewer).

    Parameters
    ----------
    effect
        Relative change of the treated mean, > -1.
    mean
        Baseline mean count per unit-period.
    dispersion
        NB2 dispersion (0: Poisson).
    n_treated, n_control
        Treated and control unit-periods of the post-period.
    alpha
        Two-sided significance level.
    """
    from statsmodels.stats.rates import power_negbin_ratio_2indep

    _check(mean, dispersion, n_treated, n_control, alpha)
    if not effect > -1:
        raise InputError("the effect must be > -1 (a relative change)")
    if effect == 0:
        return float(alpha)
    return float(power_negbin_ratio_2indep(mean * (1 + effect), mean, n_treated, nobs_ratio=n_control / n_treated,
                                           exposure=1, value=1, alpha=alpha, dispersion=dispersion,
                                           method_var="alt", return_results=False))


def mde_nb(*, mean: float, dispersion: float, n_treated: int, n_control: int, alpha: float = 0.05,
           power: float = 0.8) -> float | None:
    """The smallest relative reduction detected with ``power`` (e.g. 0.12 for -12 %); ``None`` if even -99 % is not."""
    _check(mean, dispersion, n_treated, n_control, alpha)
    if not alpha < power < 1:
        raise InputError("power must lie between alpha and 1")
    f = lambda d: power_nb(-d, mean=mean, dispersion=dispersion, n_treated=n_treated, n_control=n_control,
                           alpha=alpha) - power
    if f(0.99) < 0:
        return None
    return float(brentq(f, 1e-6, 0.99, xtol=1e-6))


def estimate_nb(counts: np.ndarray) -> tuple[float, float]:
    """Mean count per unit-period and NB2 dispersion by moments within units.

    ``dispersion = sum_u (s2_u - m_u) / sum_u m_u**2`` (floored at 0) over units with at least two
    periods, ``m_u`` and ``s2_u`` the mean and variance of unit ``u``'s counts: between-unit
    differences do not count as overdispersion.
    """
    y = np.asarray(counts, float)
    if y.ndim != 2 or y.shape[1] < 2 or y.size == 0:
        raise InputError("estimating overdispersion needs at least two periods per unit")
    m, s2 = y.mean(axis=1), y.var(axis=1, ddof=1)
    mean = float(y.mean())
    denom = float(np.sum(m ** 2))
    dispersion = max(0.0, float(np.sum(s2 - m)) / denom) if denom > 0 else 0.0
    return mean, dispersion


def power_analysis(*, mean: float, dispersion: float, n_treated: int, n_control: int, alpha: float, mde: float,
                   power: float) -> PowerAnalysis:
    """Power at the plan's MDE and the MDE at the plan's power, for these unit-periods."""
    return PowerAnalysis(mean, dispersion, int(n_treated), int(n_control), alpha, mde,
                         power_nb(-mde, mean=mean, dispersion=dispersion, n_treated=n_treated, n_control=n_control,
                                  alpha=alpha),
                         power, mde_nb(mean=mean, dispersion=dispersion, n_treated=n_treated, n_control=n_control,
                                       alpha=alpha, power=power))
