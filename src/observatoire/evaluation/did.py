"""Staggered difference-in-differences (Callaway & Sant'Anna 2021) with ``csdid``.

Units start treatment at different periods (cohorts) and stay treated. ``csdid`` estimates
each group-time ATT(g, t) against the not-yet-treated (and never-treated) units with the
last pre-period ``g - 1`` as base, then averages them over the treated cells ("simple"
aggregation, weighted by cohort size). Standard errors are analytic (influence functions),
so the result is deterministic.

Scales
------
``"log"`` (default): the outcome is ``log(y + 1)``; parallel trends are assumed for the
log counts (multiplicative common shocks, as seasonality is), and the relative effect is
``exp(ATT) - 1``. The ``+ 1`` shrinks the effect towards 0 when counts are small: use
periods long enough for counts of about ten or more per unit-period (weeks rather than days).

``"level"``: the outcome is the count; parallel trends in levels; the relative effect is
``ATT / (mean treated post count - ATT)`` (the counterfactual mean taken as known).

Reference: Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. *Journal of Econometrics* 225(2), 200-230.
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
    ci: tuple[float, float]
    effect: float
    ci_effect: tuple[float, float]
    scale: str
    cohorts: int
    treated_units: int
    control_units: int

    def as_dict(self) -> dict:
        return {"design": "staggered_did", "scale": self.scale, "att": self.att, "se": self.se, "ci_att": list(self.ci),
                "effect": self.effect, "ci_effect": list(self.ci_effect), "rate_ratio": 1.0 + self.effect,
                "ci_rate_ratio": [1.0 + self.ci_effect[0], 1.0 + self.ci_effect[1]], "cohorts": self.cohorts,
                "treated_units": self.treated_units, "control_units": self.control_units}


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
    att, se = float(model.atte["overall_att"]), float(model.atte["overall_se"])
    if not (math.isfinite(att) and math.isfinite(se)):
        raise InputError("the difference-in-differences cannot be estimated (too few comparable units)")
    q = float(stats.norm.ppf(0.5 + level / 2))
    lo, hi = att - q * se, att + q * se
    if scale == "log":
        effect, ci_effect = math.expm1(att), (math.expm1(lo), math.expm1(hi))
    else:
        post = np.arange(n_t)[None, :] >= np.where(treated, ft, n_t)[:, None]
        counterfactual = float(y[post].mean()) - att
        if counterfactual <= 0:
            raise InputError("the counterfactual mean is not positive: use the log scale")
        effect, ci_effect = att / counterfactual, (lo / counterfactual, hi / counterfactual)
    return DidResult(att, se, (lo, hi), effect, ci_effect, scale, int(len(np.unique(ft[treated]))),
                     int(treated.sum()), int((~treated).sum()))
