"""Each design recovers a known injected effect; with no effect its tests reject at about their nominal rate.

Hand-checked toy examples first (no published case ships inside csdid, drdid or pysyncon:
see docs/evaluation.md), then small seeded simulation campaigns (the bigger campaign is
bench/evaluation_coverage.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from observatoire.errors import InputError
from observatoire.evaluation.did import staggered_did
from observatoire.evaluation.panel import simulate_panel
from observatoire.evaluation.randomised import randomised
from observatoire.evaluation.synthetic import synthetic_control

EFFECT = -0.10


# -- hand-checked toy examples -----------------------------------------------------------------

def test_did_toy_matches_the_hand_computation() -> None:
    # Unit 0 treated from period 2 (0-based); base period 1. By hand:
    # ATT(2) = (9 - 12) - mean(10-9, 21-22, 6-5) = -3 - 1/3;  ATT(3) = (11 - 12) - mean(11-9, 23-22, 6-5) = -1 - 4/3
    y = np.array([[10, 12, 9, 11], [8, 9, 10, 11], [20, 22, 21, 23], [5, 5, 6, 6]], float)
    result = staggered_did(y, np.array([2, -1, -1, -1]), scale="level")
    assert result.att == pytest.approx(((-3 - 1 / 3) + (-1 - 4 / 3)) / 2, abs=1e-9)
    # Relative effect: ATT over the treated post mean minus ATT (the counterfactual mean).
    assert result.effect == pytest.approx(result.att / (10 - result.att), abs=1e-9)


def test_synthetic_control_toy_recovers_weights_and_effect() -> None:
    rng = np.random.default_rng(0)
    pre, post = 12, 6
    donors = rng.uniform(8, 12, (5, pre + post))
    donors[:2, :pre] *= 10 / donors[:2, :pre].mean(axis=1, keepdims=True)   # equal pre means for the first two
    treated = 0.5 * donors[0] + 0.5 * donors[1]
    treated[pre:] *= 0.8                                                      # -20 % from the start
    y = np.vstack([treated, donors])
    result = synthetic_control(y, np.array([True] + [False] * 5), pre, units=("t", "a", "b", "c", "d", "e"), rng=rng)
    assert result.effect == pytest.approx(-0.20, abs=0.01)
    assert result.weights.get("a", 0) == pytest.approx(0.5, abs=0.05)
    assert result.weights.get("b", 0) == pytest.approx(0.5, abs=0.05)
    assert result.rmspe_pre < 0.01


def test_randomised_toy_noise_free_rate_ratio_is_exact() -> None:
    rng = np.random.default_rng(1)
    u, t = 8, 10
    a = np.zeros((u, t), bool)
    for j in range(t):
        a[rng.choice(u, 4, replace=False), j] = True
    mu = np.outer(rng.uniform(2, 9, u), rng.uniform(0.5, 1.5, t)) * np.where(a, 0.9, 1.0)
    result = randomised(mu, a, scheme="day", permutations=0, rng=rng)
    assert result.estimate.rate_ratio == pytest.approx(0.9, abs=1e-6)


def test_designs_refuse_impossible_inputs() -> None:
    rng = np.random.default_rng(0)
    y = np.ones((5, 6))
    with pytest.raises(InputError, match="treated and control"):
        randomised(y, np.ones((5, 6), bool), rng=rng)
    with pytest.raises(InputError, match="no pre-period"):
        staggered_did(y, np.array([0, -1, -1, -1, -1]))
    with pytest.raises(InputError, match="donor"):
        synthetic_control(y, np.array([True, True, False, False, False]), 3, rng=rng)


# -- coverage and null rejection ------------------------------------------------------------------

def _randomised_run(scheme: str, effect: float, rng: np.random.Generator, permutations: int):
    u, t, pre = 20, 40, 10
    a = np.zeros((u, t), bool)
    if scheme == "zone":
        a[rng.choice(u, u // 2, replace=False), pre:] = True
    else:
        for j in range(pre, t):
            a[rng.choice(u, u // 2, replace=False), j] = True
    y, _ = simulate_panel(u, t, assignment=a, effect=effect, mean=6.0, dispersion=0.1, rng=rng)
    return randomised(y[:, pre:], a[:, pre:], baseline=y[:, :pre].mean(axis=1), scheme=scheme,
                      permutations=permutations, rng=rng)


@pytest.mark.parametrize("scheme", ["zone", "day"])
def test_randomised_interval_covers_the_injected_effect(scheme: str) -> None:
    rng = np.random.default_rng(2015)
    reps = 150 if scheme == "zone" else 100
    covered = sum(lo <= 1 + EFFECT <= hi for lo, hi in
                  (_randomised_run(scheme, EFFECT, rng, 0).estimate.ci for _ in range(reps)))
    assert covered / reps >= 0.90


@pytest.mark.parametrize("scheme", ["zone", "day"])
def test_randomisation_inference_rejects_at_its_nominal_rate_without_effect(scheme: str) -> None:
    rng = np.random.default_rng(1399)
    reps = 100
    rejections = sum(_randomised_run(scheme, 0.0, rng, 199).p_value_ri < 0.05 for _ in range(reps))
    assert rejections / reps <= 0.10


def _did_run(effect: float, rng: np.random.Generator):
    first = np.full(24, -1)
    first[:6], first[6:12] = 8, 11
    y, _ = simulate_panel(24, 16, first_treated=first, effect=effect, mean=30.0, dispersion=0.05, rng=rng)
    return staggered_did(y, first)


@pytest.mark.slow
def test_staggered_did_interval_covers_the_injected_effect_and_rejects_rarely_without() -> None:
    rng = np.random.default_rng(2021)
    reps = 40
    cis = [_did_run(EFFECT, rng).ci_effect for _ in range(reps)]
    assert sum(lo <= EFFECT <= hi for lo, hi in cis) / reps >= 0.90
    nulls = [_did_run(0.0, rng).ci_effect for _ in range(2 * reps)]
    assert sum(not lo <= 0 <= hi for lo, hi in nulls) / (2 * reps) <= 0.10


def _sc_run(effect: float, rng: np.random.Generator):
    first = np.full(14, -1)
    first[:2] = 16
    y, _ = simulate_panel(14, 24, first_treated=first, effect=effect, mean=40.0, dispersion=0.02, rng=rng)
    return synthetic_control(y, first >= 0, 16, max_placebos=39, rng=rng)


@pytest.mark.slow
def test_synthetic_control_interval_covers_the_injected_effect_and_placebo_test_rejects_rarely_without() -> None:
    rng = np.random.default_rng(2010)
    reps = 30
    cis = [_sc_run(EFFECT, rng).ci_effect for _ in range(reps)]
    assert sum(lo <= EFFECT <= hi for lo, hi in cis) / reps >= 0.90
    p_values = [_sc_run(0.0, rng).p_value for _ in range(reps)]
    assert sum(p < 0.05 for p in p_values) / reps <= 0.10
