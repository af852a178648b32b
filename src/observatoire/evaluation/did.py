"""Staggered difference-in-differences (Callaway & Sant'Anna 2021) with ``csdid``.

Units start treatment at different periods (cohorts) and stay treated. ``csdid`` estimates
each group-time ATT(g, t) against the not-yet-treated (and never-treated) units with the
last pre-period ``g - 1`` as base, then averages them over the treated cells ("simple"
aggregation, weighted by cohort size). The result is deterministic (no bootstrap).

Small-sample inference
----------------------
csdid's analytic standard error is ``sqrt(sum_i psi_i^2) / n`` over the units' influence
functions: within each cell it is the variance of a difference of group means with ``n_k``
rather than ``n_k - 1`` in the denominators, about 9 % too small with cohorts of six zones, and
it is read against the normal distribution. Both made the interval reject a true null 10-12 %
of the time at 5 % (measured during development, before this correction). Here each unit's influence in each cell is
divided by ``sqrt(1 - h)``, ``h = 1 / size of its group in that cell`` (treated cohort or
controls), the cluster-robust "CR2" correction (Bell & McCaffrey 2002), which makes the
variance of every cell's difference of means unbiased; the part due to the estimated cohort
weights is kept as csdid computes it. The interval uses Student's t with Welch-Satterthwaite
degrees of freedom over the cohorts (the never-treated units being one more group):
``df = (sum_k V_k)^2 / sum_k V_k^2 / (n_k - 1)``, ``V_k`` the variance share of cohort ``k``
(Imbens & Kolesar 2016 for CR2 with few clusters). Its rejection rate without effect is in the
table of docs/evaluation.md (``bench/evaluation_coverage.py``). A cohort of a single unit has no estimable noise of its own (``h = 1``):
its share is left out, which makes the interval too narrow; ``singleton_cohorts`` counts them.

Scales
------
``"log"`` (default): the outcome is ``log(y + 1)``; parallel trends are assumed for the
log counts (multiplicative common shocks, as seasonality is), and the relative effect is
``exp(ATT) - 1``. The ``+ 1`` shrinks the effect towards 0 when counts are small: use
periods long enough for counts of about ten or more per unit-period (weeks rather than days).

``"level"``: the outcome is the count; parallel trends in levels; the relative effect is
``ATT / (mean treated post count - ATT)`` (the counterfactual mean taken as known).

References: Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. *Journal of Econometrics* 225(2), 200-230. Bell, R. M. & McCaffrey,
D. F. (2002). Bias reduction in standard errors for linear regression with multi-stage
samples. *Survey Methodology* 28(2), 169-181. Imbens, G. W. & Kolesar, M. (2016). Robust
standard errors in small samples: some practical advice. *REStat* 98(4), 701-712.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from observatoire.errors import InputError


@dataclass(frozen=True)
class DidResult:
    att: float
    se: float
    df: float
    se_csdid: float
    ci: tuple[float, float]
    effect: float
    ci_effect: tuple[float, float]
    scale: str
    cohorts: int
    treated_units: int
    control_units: int
    singleton_cohorts: int

    def as_dict(self) -> dict:
        return {"design": "staggered_did", "scale": self.scale, "att": self.att, "se": self.se, "df": self.df,
                "se_csdid": self.se_csdid, "ci_att": list(self.ci),
                "effect": self.effect, "ci_effect": list(self.ci_effect), "rate_ratio": 1.0 + self.effect,
                "ci_rate_ratio": [1.0 + self.ci_effect[0], 1.0 + self.ci_effect[1]], "cohorts": self.cohorts,
                "treated_units": self.treated_units, "control_units": self.control_units,
                "singleton_cohorts": self.singleton_cohorts}


def staggered_did(
    counts: np.ndarray,
    first_treated: np.ndarray,
    *,
    scale: Literal["log", "level"] = "log",
    level: float = 0.95,
    control_group: Literal["notyettreated", "nevertreated"] = "notyettreated",
) -> DidResult:
    """Aggregate ATT of a staggered deployment, with its interval.

    Parameters
    ----------
    counts
        ``(units, periods)`` counts.
    first_treated
        Per unit, index of the first treated period (``-1``: never treated). A unit
        treated from period 0 has no pre-period and is refused.
    scale
        ``"log"`` or ``"level"`` (see the module docstring).
    level
        Confidence level.
    control_group
        ``"notyettreated"`` (default) or ``"nevertreated"``.
    """
    from csdid.att_gt import ATTgt

    y = np.asarray(counts, float)
    ft = np.asarray(first_treated, int)
    if y.ndim != 2 or ft.shape != (y.shape[0],):
        raise InputError("counts must be (units, periods) and first_treated one index per unit")
    if scale not in ("log", "level"):
        raise InputError(f"unknown scale {scale!r}: expected log or level")
    if ((ft == 0)).any():
        raise InputError("a unit treated from the first period has no pre-period")
    if (ft >= y.shape[1]).any():
        raise InputError("a treatment start lies after the last period")
    treated = ft > 0
    if not treated.any():
        raise InputError("no treated unit")
    if control_group == "nevertreated" and treated.all():
        raise InputError("no never-treated unit to compare with")
    n_u, n_t = y.shape
    outcome = np.log1p(y) if scale == "log" else y
    frame = pd.DataFrame({
        "unit": np.repeat(np.arange(1, n_u + 1), n_t),
        "period": np.tile(np.arange(1, n_t + 1), n_u),
        "cohort": np.repeat(np.where(treated, ft + 1, 0), n_t),   # csdid: first treated period, 0 = never
        "y": outcome.ravel(),
    })
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        model = ATTgt(yname="y", tname="period", idname="unit", gname="cohort", data=frame,
                      control_group=control_group, alp=1 - level)
        model.fit(est_method="reg", bstrap=False)
        model.aggte(typec="simple", bstrap=False, alp=1 - level)
    att, se_csdid = float(model.atte["overall_att"]), float(model.atte["overall_se"])
    if not (math.isfinite(att) and math.isfinite(se_csdid)):
        raise InputError("the difference-in-differences cannot be estimated (too few comparable units)")
    cohort = np.where(treated, ft + 1, 0)
    se, df, singletons = small_sample_se(model, cohort, control_group)
    q = float(stats.t.ppf(0.5 + level / 2, df))
    lo, hi = att - q * se, att + q * se
    if scale == "log":
        effect, ci_effect = math.expm1(att), (math.expm1(lo), math.expm1(hi))
    else:
        post = np.arange(n_t)[None, :] >= np.where(treated, ft, n_t)[:, None]
        counterfactual = float(y[post].mean()) - att
        if counterfactual <= 0:
            raise InputError("the counterfactual mean is not positive: use the log scale")
        effect, ci_effect = att / counterfactual, (lo / counterfactual, hi / counterfactual)
    return DidResult(att, se, df, se_csdid, (lo, hi), effect, ci_effect, scale, int(len(np.unique(ft[treated]))),
                     int(treated.sum()), int((~treated).sum()), singletons)


def small_sample_se(model, cohort: np.ndarray, control_group: str) -> tuple[float, float, int]:
    """CR2-corrected standard error of csdid's simple ATT, its Welch-Satterthwaite df, and the singleton cohorts.

    Parameters
    ----------
    model
        A fitted ``csdid`` ``ATTgt`` after ``aggte(typec="simple")``.
    cohort
        Per unit (in csdid's unit order), its cohort code as given to csdid (0: never treated).
    control_group
        ``"notyettreated"`` or ``"nevertreated"``, as fitted.
    """
    cells = np.asarray(model.MP["inffunc"]["inffunc"], float)          # units x (g, t) cells
    groups, times = np.asarray(model.MP["group"], float), np.asarray(model.MP["t"], float)
    total = np.asarray(model.atte["inf_function"]["simple_att"], float).ravel()
    n = len(cohort)
    post = np.flatnonzero(groups <= times)                                # the cells the simple ATT averages
    share = np.array([np.mean(cohort == g) for g in groups[post]])
    weights = share / share.sum()
    corrected = total - cells[:, post] @ weights                          # the estimated weights' part, as is
    for c, w in zip(post, weights):
        in_treated = cohort == groups[c]
        in_control = (cohort == 0) if control_group == "nevertreated" else ((cohort == 0) | (cohort > times[c]))
        in_control &= ~in_treated
        size = np.where(in_treated, in_treated.sum(), np.where(in_control, in_control.sum(), 0))
        scale = np.zeros(n)
        ok = size > 1
        scale[ok] = 1.0 / np.sqrt(1.0 - 1.0 / size[ok])                   # size 1: its deviation is 0 anyway
        corrected += w * cells[:, c] * scale
    parts, sizes = [], []
    for k in np.unique(cohort):
        members = cohort == k
        parts.append(float(np.sum(corrected[members] ** 2)) / n**2)
        sizes.append(int(members.sum()))
    v, sizes_a, parts_a = sum(parts), np.array(sizes), np.array(parts)
    many = sizes_a > 1
    denom = float(np.sum(parts_a[many] ** 2 / (sizes_a[many] - 1)))
    df = max(1.0, v**2 / denom) if denom > 0 else float(n - 1)
    singletons = int(np.sum((sizes_a == 1) & (np.unique(cohort) > 0)))
    return math.sqrt(v), df, singletons
