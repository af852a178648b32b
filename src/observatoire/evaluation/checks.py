"""Checks beside the effect: regression to the mean, displacement into buffer zones, zone adjacency.

Regression to the mean
----------------------
Units chosen because their recent counts were high tend to fall back whatever is done.
:func:`regression_to_mean` compares, over the ``selection_periods`` before the start (when
the units were chosen): the treated units' level with their own earlier history (how extreme
the choice was), their change after the start (the naive before/after), and the same change
for comparable untreated units: for each treated unit (most extreme first), the untreated unit
whose excess over its own history is nearest, without replacement, at most half the untreated
units. The naive change divided by the comparable units' change removes what the
selection alone explains.

Displacement
------------
Crime pushed out of treated zones may reappear next door. :func:`displacement` estimates the
rate ratio of buffer units against control units (neither treated nor buffer) after versus
before the first start (Poisson regression, unit and period fixed effects, standard errors
clustered by unit): above 1, displacement; below 1, diffusion of benefits (Guerette &
Bowers 2009).

References: Barnett, A. G., van der Pols, J. C. & Dobson, A. J. (2005). Regression to the
mean: what it is and how to deal with it. *Int. J. Epidemiology* 34(1), 215-220.
Guerette, R. T. & Bowers, K. J. (2009). Assessing the extent of crime displacement and
diffusion of benefits. *Criminology* 47(4), 1331-1368.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import shapely

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.evaluation.glm import dummies, poisson_rate_ratio

RTM_FLAG = 0.10   # treated units above their own history by more than this when chosen: flagged


def adjacent_zones(city: CityProfile, zones: Iterable[str]) -> list[str]:
    """Zones of ``city`` sharing a border or a point with any of ``zones`` (those excluded), in profile order."""
    chosen = set(zones)
    if not city.has_boundaries:
        raise InputError("the city profile has no zone boundaries: list the buffer zones explicitly")
    shapes = [city.zone(z).geometry for z in chosen]
    union = shapely.union_all(shapes)
    return [z.zone_id for z in city.zones
            if z.zone_id not in chosen and shapely.distance(z.geometry, union) < 1e-9]


def regression_to_mean(counts: np.ndarray, treated: np.ndarray, start: int, *, selection_periods: int) -> dict:
    """How much of a before/after change the choice of units on an extreme recent past explains.

    Parameters
    ----------
    counts
        ``(units, periods)`` counts, treated and untreated units (buffer units left out).
    treated
        Boolean mask of treated units.
    start
        Index of the first treated period.
    selection_periods
        Periods just before ``start`` on which the units were chosen; the periods before them
        are the units' own history.
    """
    y = np.asarray(counts, float)
    mask = np.asarray(treated, bool)
    s0 = start - selection_periods
    if selection_periods < 1 or s0 < 1 or start >= y.shape[1]:
        raise InputError("the regression-to-the-mean check needs history before the selection window and post-periods")
    hist = y[:, :s0].mean(axis=1)
    sel = y[:, s0:start].mean(axis=1)
    post = y[:, start:].mean(axis=1)
    excess = (sel + 0.5) / (hist + 0.5)
    untreated = np.flatnonzero(~mask)
    if len(untreated) < 2:
        raise InputError("the regression-to-the-mean check needs untreated units")
    # Untreated units as extreme as the treated ones were when chosen: for each treated unit, the
    # untreated unit whose excess over its own history is nearest (without replacement).
    pool = list(untreated)
    comparable_list = []
    for i in np.flatnonzero(mask)[np.argsort(-excess[mask], kind="stable")]:
        if len(comparable_list) >= max(1, len(untreated) // 2):
            break
        j = min(pool, key=lambda u: abs(excess[u] - excess[i]))
        comparable_list.append(j)
        pool.remove(j)
    comparable = np.array(comparable_list, int)

    def change(idx: np.ndarray, before: np.ndarray) -> float:
        return float(post[idx].sum() / max(before[idx].sum(), 1e-9) - 1.0)

    treated_idx = np.flatnonzero(mask)
    selection_excess = float(sel[treated_idx].sum() / max(hist[treated_idx].sum(), 1e-9) - 1.0)
    naive = change(treated_idx, sel)
    expected = change(comparable, sel)
    adjusted = (1 + naive) / (1 + expected) - 1 if expected > -1 else None
    flagged = selection_excess > RTM_FLAG
    return {
        "selection_periods": selection_periods,
        "selection_excess": selection_excess,
        "naive_change": naive,
        "change_vs_own_history": change(treated_idx, hist),
        "comparable_units": int(len(comparable)),
        "comparable_change": expected,
        "rtm_adjusted_change": adjusted,
        "flagged": bool(flagged),
        "note": ("treated units were chosen at a high of their own history: a before/after comparison "
                 "overstates the effect; rely on the design's estimate or the adjusted change")
                if flagged else "no sign that the treated units were chosen on an extreme recent past",
    }


def displacement(counts: np.ndarray, treated: np.ndarray, buffer: np.ndarray, start: int, *,
                 level: float = 0.95) -> dict:
    """Rate ratio of buffer units against controls, after versus before ``start`` (1: no displacement).

    Parameters
    ----------
    counts
        ``(units, periods)`` counts of all units.
    treated, buffer
        Boolean masks; controls are the units in neither.
    start
        Index of the first treated period.
    """
    y = np.asarray(counts, float)
    t_mask, b_mask = np.asarray(treated, bool), np.asarray(buffer, bool)
    keep = ~t_mask
    if not b_mask.any():
        raise InputError("no buffer unit")
    if (keep & ~b_mask).sum() < 2:
        raise InputError("the displacement check needs at least two control units outside the buffer")
    if not 1 <= start < y.shape[1]:
        raise InputError("the displacement check needs pre- and post-periods")
    sub, buf = y[keep], b_mask[keep]
    n_u, n_t = sub.shape
    unit = np.repeat(np.arange(n_u), n_t)
    period = np.tile(np.arange(n_t), n_u)
    x = (buf[unit] & (period >= start)).astype(float)
    rr = poisson_rate_ratio(sub.ravel(), x, np.column_stack([dummies(unit), dummies(period)]), unit, level=level)
    lo, hi = rr.ci
    verdict = "displacement" if lo > 1 else "diffusion_of_benefits" if hi < 1 else "none_detected"
    return {"buffer_units": int(buf.sum()), "control_units": int((~buf).sum()), **rr.as_dict(), "verdict": verdict}
