"""A Poisson regression with fixed effects and cluster-robust standard errors (statsmodels).

Poisson quasi-likelihood with a sandwich variance clustered by unit is consistent for a
rate ratio whatever the overdispersion and the serial correlation within a unit
(Wooldridge 1999); with ``G`` clusters, intervals use Student's t with ``G - 1`` degrees
of freedom (Cameron & Miller 2015).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import stats

from observatoire.errors import InputError


def _one_thread():
    """BLAS on one thread: these matrices are small, and threads fighting over busy cores make a fit 30x slower."""
    try:
        from threadpoolctl import threadpool_limits   # pinned in requirements.lock (scikit-learn's dependency)
    except ImportError:                                # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(frozen=True)
class RateRatio:
    """A rate ratio ``exp(beta)`` with its interval (same level for both bounds)."""

    rate_ratio: float
    ci: tuple[float, float]
    log_rr: float
    se: float
    p_value: float
    clusters: int

    @property
    def effect(self) -> float:
        """The relative change, ``rate_ratio - 1`` (-0.10: ten per cent fewer)."""
        return self.rate_ratio - 1.0

    def as_dict(self) -> dict[str, float | int | list[float]]:
        return {"rate_ratio": self.rate_ratio, "effect": self.effect, "ci_rate_ratio": list(self.ci),
                "ci_effect": [self.ci[0] - 1.0, self.ci[1] - 1.0], "log_rate_ratio": self.log_rr, "se": self.se,
                "p_value": self.p_value, "clusters": self.clusters}


def dummies(index: np.ndarray) -> np.ndarray:
    """One-hot columns of an integer index, the first level dropped (the intercept holds it)."""
    levels, codes = np.unique(index, return_inverse=True)
    out = np.zeros((len(index), max(len(levels) - 1, 0)))
    rows = np.flatnonzero(codes > 0)
    out[rows, codes[rows] - 1] = 1.0
    return out


def poisson_rate_ratio(
    y: np.ndarray, regressor: np.ndarray, controls: np.ndarray, clusters: np.ndarray, *, level: float = 0.95,
) -> RateRatio:
    """Rate ratio of ``regressor`` (0/1) in ``y ~ Poisson(exp(b0 + b1 regressor + controls @ g))``.

    Parameters
    ----------
    y
        Counts, one per observation.
    regressor
        The 0/1 treatment indicator (the coefficient reported).
    controls
        Further columns (fixed-effect dummies, covariates); the intercept is added here.
    clusters
        Cluster label of each observation (the unit).
    level
        Confidence level of the interval.
    """
    y = np.asarray(y, float)
    X = np.column_stack([np.ones(len(y)), np.asarray(regressor, float), controls])
    groups = np.unique(clusters, return_inverse=True)[1]
    g = int(groups.max()) + 1
    if g < 3:
        raise InputError("too few units for cluster-robust standard errors (at least 3)")
    if y.sum() <= 0:
        raise InputError("the outcome has no event in the analysed periods")
    with _one_thread():
        fit = sm.GLM(y, X, family=sm.families.Poisson()).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                                             maxiter=100)
    beta, se = float(fit.params[1]), float(fit.bse[1])
    if not np.isfinite(se) or se <= 0:
        raise InputError("the treatment effect cannot be estimated (no variation in treatment)")
    q = stats.t.ppf(0.5 + level / 2, g - 1)
    p = float(2 * stats.t.sf(abs(beta / se), g - 1))
    return RateRatio(float(np.exp(beta)), (float(np.exp(beta - q * se)), float(np.exp(beta + q * se))),
                     beta, se, p, g)


def quasi_poisson_rate_ratio(y: np.ndarray, regressor: np.ndarray, controls: np.ndarray, *,
                             level: float = 0.95) -> RateRatio:
    """Rate ratio of ``regressor`` in a quasi-Poisson regression (Pearson scale, Student's t with ``n - p`` df).

    Used on unit totals of a zone-level randomisation: with period fixed effects and unit-level
    regressors only, the Poisson estimate from the unit totals is the panel's (the period
    effects profile out), and the Pearson scale absorbs the between-unit overdispersion.
    """
    y = np.asarray(y, float)
    X = np.column_stack([np.ones(len(y)), np.asarray(regressor, float), controls])
    df = len(y) - X.shape[1]
    if df < 2:
        raise InputError("too few units for the regression (at least the number of coefficients + 2)")
    if y.sum() <= 0:
        raise InputError("the outcome has no event in the analysed periods")
    with _one_thread():
        fit = sm.GLM(y, X, family=sm.families.Poisson()).fit(scale="X2", maxiter=100)
    beta, se = float(fit.params[1]), float(fit.bse[1])
    if not np.isfinite(se) or se <= 0:
        raise InputError("the treatment effect cannot be estimated (no variation in treatment)")
    q = stats.t.ppf(0.5 + level / 2, df)
    p = float(2 * stats.t.sf(abs(beta / se), df))
    return RateRatio(float(np.exp(beta)), (float(np.exp(beta - q * se)), float(np.exp(beta + q * se))),
                     beta, se, p, len(y))
