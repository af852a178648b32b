"""Feedback-loop monitor: concentration measures by hand, alarm on a runaway loop, calibrated false alarms."""

from __future__ import annotations

import numpy as np
import pytest

from observatoire.audits.feedback_loop import feedback_monitor, gini, hill, keep_directed, top_share
from observatoire.audits.urn import city_urn

RATES = np.array([0.3, 0.25, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05])


def _windows(x: np.ndarray, w: int) -> np.ndarray:
    return x[: (x.shape[0] // w) * w].reshape(-1, w, x.shape[1]).sum(axis=1)


def _run(update: str, rng: np.random.Generator):
    # 900 days in 20 windows of 45 days, 50 patrols a day, 50 reports a day on average.
    # bench/feedback_loop_power.py, 1,000 runs each: runaway alarms 94.4 %, loop-free 4.8 % (alpha = 5 %).
    s = city_urn(RATES, days=900, patrols_per_day=50, rng=rng, update=update, report_rate=50)
    return feedback_monitor(_windows(s.directed, 45), _windows(s.reported, 45), rng=rng, permutations=499)


def test_concentration_measures_by_hand() -> None:
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([1, 3]) == pytest.approx(0.25)          # |1-3| * 2 / (2 * 4 * 2)
    assert gini([1, 3], [3, 1]) == pytest.approx(2 * 3 * 2 / (2 * 16 * 1.5))
    assert top_share([5, 3, 1, 1], 0.25) == pytest.approx(0.5)
    assert hill([1, 1, 2]) == pytest.approx(1 / (0.25 ** 2 * 2 + 0.5 ** 2))


def test_alarm_on_runaway_quiet_on_fair() -> None:
    """10 runaway loops and 10 loop-free cities (patrols at the true shares), seeded."""
    rng = np.random.default_rng(11)
    runaway = [_run("discovered", rng) for _ in range(10)]
    fair = [_run("true", rng) for _ in range(10)]
    assert sum(r.alarm for r in runaway) >= 8
    assert all(r.attention_slope > 0 for r in runaway if r.alarm)
    assert sum(r.alarm for r in fair) <= 1


@pytest.mark.slow
def test_false_alarm_rate_is_controlled() -> None:
    rng = np.random.default_rng(12)
    false_alarms = sum(_run("true", rng).alarm for _ in range(100))
    assert false_alarms <= 10          # nominal 5 %


def test_keep_directed_thins_by_attention() -> None:
    rng = np.random.default_rng(0)
    zone = np.repeat([0, 1], 10_000)
    keep = keep_directed(zone, np.ones(20_000, bool), np.array([0.8, 0.2]), rng)
    assert keep[zone == 1].mean() == 1.0
    assert keep[zone == 0].mean() == pytest.approx(0.25, abs=0.02)
