"""Ensign et al. (2018) urn model: the runaway loop and its correction, with their numbers (seeded)."""

from __future__ import annotations

import numpy as np
import pytest

from observatoire.audits.urn import city_urn, two_zone_urn
from observatoire.errors import InputError


def test_uncorrected_urn_runs_away_to_about_090() -> None:
    r = two_zone_urn(0.3, 0.2, days=10_000, runs=400, rng=np.random.default_rng(2018))
    # measured: mean 0.881, median 0.933 (true share 0.6)
    assert r.true_share == pytest.approx(0.6)
    assert 0.85 <= float(r.final_share.mean()) <= 0.92
    assert float(np.median(r.final_share)) > 0.9


def test_corrected_urn_converges_to_the_true_share() -> None:
    r = two_zone_urn(0.3, 0.2, days=10_000, runs=400, rng=np.random.default_rng(2018), corrected=True)
    # measured: mean 0.5995, 99 % of runs within 0.6 ± 0.03
    assert abs(float(r.final_share.mean()) - 0.6) <= 0.005
    assert float(np.mean(np.abs(r.final_share - 0.6) <= 0.03)) >= 0.98


def test_city_urn_runs_away_unless_corrected_or_trained_on_reports() -> None:
    rates = np.array([0.3, 0.25, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05])
    tv = {}
    for update in ("discovered", "corrected", "reported"):
        r = city_urn(rates, days=3000, patrols_per_day=20, rng=np.random.default_rng(7), update=update,
                     report_rate=20)
        tv[update] = 0.5 * float(np.abs(r.final_share - r.true_share).sum())
    assert tv["discovered"] > 0.3
    assert tv["corrected"] < 0.05 and tv["reported"] < 0.05


def test_bounds_are_enforced() -> None:
    with pytest.raises(InputError):
        two_zone_urn(0.3, 0.2, days=200_000, runs=1, rng=np.random.default_rng(0))
    with pytest.raises(InputError):
        city_urn(np.array([0.3]), days=10, patrols_per_day=1, rng=np.random.default_rng(0))
