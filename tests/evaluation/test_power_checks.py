"""Power for overdispersed counts (analytic against hand values and simulation); regression to the mean; displacement."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from observatoire.evaluation.checks import displacement, regression_to_mean
from observatoire.evaluation.panel import nb_draw, simulate_panel
from observatoire.evaluation.power import estimate_nb, mde_nb, power_nb


def test_poisson_limit_matches_the_hand_formula() -> None:
    # Var(log RR) = 1/(n mu1) + 1/(n mu0) at dispersion 0; power = Phi(|log RR| / sd - z_0.975) (+ the far tail).
    mu, n, rr = 5.0, 200, 0.9
    sd = math.sqrt(1 / (n * mu * rr) + 1 / (n * mu))
    z = stats.norm.ppf(0.975)
    hand = stats.norm.cdf(abs(math.log(rr)) / sd - z) + stats.norm.cdf(-abs(math.log(rr)) / sd - z)
    assert power_nb(-0.1, mean=mu, dispersion=0.0, n_treated=n, n_control=n) == pytest.approx(hand, abs=1e-6)


def test_mde_inverts_power_and_overdispersion_costs_power() -> None:
    kw = dict(mean=8.0, n_treated=300, n_control=600, alpha=0.05)
    mde = mde_nb(dispersion=0.2, power=0.8, **kw)
    assert power_nb(-mde, dispersion=0.2, **kw) == pytest.approx(0.8, abs=1e-4)
    assert mde > mde_nb(dispersion=0.0, power=0.8, **kw)
    assert mde_nb(mean=0.01, dispersion=5.0, n_treated=2, n_control=2, power=0.9) is None


def test_analytic_power_agrees_with_simulated_negative_binomial_tests() -> None:
    rng = np.random.default_rng(14)
    mu, alpha_nb, n, effect, reps = 4.0, 0.3, 150, -0.2, 300
    analytic = power_nb(effect, mean=mu, dispersion=alpha_nb, n_treated=n, n_control=n)
    x = np.r_[np.ones(n), np.zeros(n)]
    X = sm.add_constant(x)
    rejected = 0
    for _ in range(reps):
        y = np.r_[nb_draw(np.full(n, mu * (1 + effect)), alpha_nb, rng), nb_draw(np.full(n, mu), alpha_nb, rng)]
        fit = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha_nb)).fit()
        rejected += fit.pvalues[1] < 0.05
    assert 0.3 < analytic < 0.9
    assert rejected / reps == pytest.approx(analytic, abs=0.07)


def test_dispersion_is_estimated_within_units() -> None:
    rng = np.random.default_rng(3)
    y, _ = simulate_panel(40, 200, mean=10.0, dispersion=0.15, unit_sd=0.5, period_sd=0.0, rng=rng)
    mean, dispersion = estimate_nb(y)
    assert dispersion == pytest.approx(0.15, abs=0.03)


def test_units_chosen_on_an_extreme_past_fall_back_without_any_effect() -> None:
    rng = np.random.default_rng(5)
    naive, adjusted, flagged = [], [], 0
    for _ in range(30):
        y, _ = simulate_panel(30, 30, mean=8.0, dispersion=0.1, period_sd=0.0, rng=rng)
        chosen = np.zeros(30, bool)
        chosen[np.argsort(-y[:, 16:20].sum(axis=1))[:5]] = True    # the 5 highest of the last 4 weeks
        out = regression_to_mean(y, chosen, 20, selection_periods=4)
        naive.append(out["naive_change"])
        adjusted.append(out["rtm_adjusted_change"])
        flagged += out["flagged"]
    assert np.mean(naive) < -0.10                  # a before/after would claim a 10 %+ drop
    assert abs(np.mean(adjusted)) < 0.04           # the same selection among untreated units explains it
    assert flagged >= 15                           # and the check says so in most runs


def test_displacement_into_the_buffer_is_detected_and_its_absence_is_not_flagged() -> None:
    rng = np.random.default_rng(9)
    first = np.full(20, -1)
    first[:3] = 15
    buffer = np.zeros(20, bool)
    buffer[3:7] = True
    y, _ = simulate_panel(20, 30, first_treated=first, effect=-0.2, spill=buffer, spill_effect=0.3, mean=20.0,
                          rng=rng)
    moved = displacement(y, first >= 0, buffer, 15)
    assert moved["verdict"] == "displacement" and moved["ci_rate_ratio"][0] <= 1.3 <= moved["ci_rate_ratio"][1]
    flags = 0
    for _ in range(30):
        y, _ = simulate_panel(20, 30, first_treated=first, effect=-0.2, mean=20.0, rng=rng)
        flags += displacement(y, first >= 0, buffer, 15)["verdict"] != "none_detected"
    assert flags / 30 <= 0.10
