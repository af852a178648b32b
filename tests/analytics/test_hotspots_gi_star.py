"""Getis-Ord Gi* against hand computations of Ord & Getis (1995), and Benjamini-Hochberg by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from observatoire.analytics.hotspots.fdr import benjamini_hochberg
from observatoire.analytics.hotspots.getis_ord import gi_star
from observatoire.errors import InputError

GRID = np.arange(1, 10, dtype=float).reshape(3, 3)  # 1 2 3 / 4 5 6 / 7 8 9


def test_when_queen_weights_then_the_corner_z_matches_the_hand_computation():
    # Cell (0, 0) with itself and its queen neighbours: cells holding 1, 2, 4, 5.
    # n = 9, xbar = 45 / 9 = 5, S^2 = sum(x^2) / n - xbar^2 = 285 / 9 - 25 = 20 / 3.
    # W = S1 = 4 (binary weights, self included).
    # z = (12 - 5 * 4) / (S * sqrt((9 * 4 - 4 ** 2) / (9 - 1))) = -8 / sqrt(20/3 * 20/8)
    expected = -8 / math.sqrt(20 / 3 * 20 / 8)
    assert_allclose(expected, -1.959591794, rtol=1e-9)
    result = gi_star(GRID, "queen", fdr=False)
    assert_allclose(result.z[0, 0], expected, rtol=1e-9)
    # By symmetry of 1..9, the opposite corner has the opposite z.
    assert_allclose(result.z[2, 2], -expected, rtol=1e-9)
    # Two-sided normal p-value.
    assert_allclose(result.p[0, 0], math.erfc(abs(expected) / math.sqrt(2)), rtol=1e-9)


def test_when_rook_weights_then_the_corner_z_matches_the_hand_computation():
    # Cells 1, 2, 4 (self, right, below): sum 7, W = 3.
    # z = (7 - 15) / (sqrt(20/3) * sqrt((27 - 9) / 8)) = -8 / (sqrt(20/3) * 1.5)
    expected = -8 / (math.sqrt(20 / 3) * 1.5)
    assert_allclose(gi_star(GRID, "rook", fdr=False).z[0, 0], expected, rtol=1e-9)


def test_when_the_neighbourhood_covers_every_cell_then_z_is_undefined():
    # The centre's queen neighbourhood is the whole 3 x 3 grid: n - W = 0, 0 / 0.
    result = gi_star(GRID, "queen")
    assert np.isnan(result.z[1, 1]) and np.isnan(result.p[1, 1]) and not result.hot[1, 1]


def ord_getis_z(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Ord & Getis (1995) eq. 9 written out for any weights matrix with self-weights."""
    n = x.size
    xbar = x.mean()
    s = math.sqrt((x**2).sum() / n - xbar**2)
    wi = w.sum(axis=1)
    s1 = (w**2).sum(axis=1)
    return (w @ x - xbar * wi) / (s * np.sqrt((n * s1 - wi**2) / (n - 1)))


def queen_matrix(n_rows: int, n_cols: int) -> np.ndarray:
    r, c = np.divmod(np.arange(n_rows * n_cols), n_cols)
    return ((np.abs(r[:, None] - r[None, :]) <= 1) & (np.abs(c[:, None] - c[None, :]) <= 1)).astype(float)


def test_when_the_grid_is_larger_then_every_z_matches_the_formula_and_a_distance_band_of_1_5_is_queen():
    x = np.random.default_rng(3).poisson(4.0, size=(5, 6)).astype(float)
    expected = ord_getis_z(x.ravel(), queen_matrix(5, 6)).reshape(5, 6)
    assert_allclose(gi_star(x, "queen").z, expected, rtol=1e-9)
    assert_allclose(gi_star(x, 1.5).z, expected, rtol=1e-9)


def test_when_a_cluster_stands_out_then_it_is_a_significant_hot_cell_first_in_the_list():
    x = np.random.default_rng(5).poisson(2.0, size=(12, 12)).astype(float)
    x[5:8, 5:8] += 15
    result = gi_star(x, "queen", alpha=0.05)
    assert result.hot_cells[0] == (6, 6)
    assert result.hot[6, 6] and not result.hot[0, 0]
    assert set(result.hot_cells) == set(zip(*np.nonzero(result.hot), strict=True))
    # FDR correction can only remove discoveries.
    raw = gi_star(x, "queen", alpha=0.05, fdr=False)
    assert result.hot.sum() <= raw.hot.sum()
    assert np.all(result.p_adjusted[np.isfinite(result.p)] >= result.p[np.isfinite(result.p)])


def test_when_permutations_are_asked_then_p_values_are_reproducible_from_the_rng():
    x = np.random.default_rng(5).poisson(2.0, size=(6, 6)).astype(float)
    x[2:4, 2:4] += 10
    a = gi_star(x, permutations=199, rng=np.random.default_rng(11))
    b = gi_star(x, permutations=199, rng=np.random.default_rng(11))
    assert_allclose(a.p, b.p)
    assert np.all((a.p[np.isfinite(a.p)] > 0) & (a.p[np.isfinite(a.p)] <= 1))
    assert a.p[2, 2] <= 0.02  # 1/200 folded, doubled


def test_when_inputs_are_bad_then_input_error():
    with pytest.raises(InputError, match="2-D grid"):
        gi_star(np.ones(9))
    with pytest.raises(InputError, match="non-negative"):
        gi_star(-GRID)
    with pytest.raises(InputError, match="explicit rng"):
        gi_star(GRID, permutations=99)
    with pytest.raises(InputError, match="weights must be"):
        gi_star(GRID, "bishop")


def test_when_the_grid_is_constant_then_nothing_is_hot():
    result = gi_star(np.full((4, 4), 3.0))
    assert np.isnan(result.z).all() and not result.hot.any() and result.hot_cells == ()


# --------------------------------------------------------------------------- Benjamini-Hochberg


def test_when_ten_p_values_then_bh_rejects_the_two_found_by_hand():
    # m = 10, alpha = 0.05: thresholds k * 0.005. p_(1) = 0.001 <= 0.005, p_(2) = 0.008 <= 0.010,
    # p_(3) = 0.039 > 0.015 and no later p_(k) <= k * 0.005: reject the two smallest.
    # Adjusted m p_(k) / k = .01, .04, .13, .1025, .084, .1, .10571, .25625, .23556, .216,
    # then the running minimum from the top.
    p = np.array([0.205, 0.001, 0.039, 0.216, 0.008, 0.041, 0.060, 0.042, 0.074, 0.212])
    reject, adjusted = benjamini_hochberg(p, 0.05)
    assert reject.tolist() == [False, True, False, False, True, False, False, False, False, False]
    expected_sorted = [0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.74 / 7, 0.216, 0.216, 0.216]
    assert_allclose(np.sort(adjusted), expected_sorted)
    assert_allclose(adjusted[1], 0.01)
    assert_allclose(adjusted[2], 0.084)


def test_when_compared_with_scipy_then_adjusted_p_values_agree():
    from scipy.stats import false_discovery_control

    p = np.random.default_rng(0).uniform(size=50) ** 3
    assert_allclose(benjamini_hochberg(p)[1], false_discovery_control(p, method="bh"))


def test_when_p_values_are_nan_then_they_are_left_out_of_m():
    reject, adjusted = benjamini_hochberg([0.01, np.nan, 0.04])
    # m = 2: adjusted 0.02 and 0.04.
    assert reject.tolist() == [True, False, True]
    assert_allclose(adjusted, [0.02, np.nan, 0.04])


@pytest.mark.parametrize(("p", "alpha"), [([0.1, 1.2], 0.05), ([0.1], 0.0), ([0.1], 1.0)])
def test_when_bh_inputs_are_bad_then_input_error(p, alpha):
    with pytest.raises(InputError):
        benjamini_hochberg(p, alpha)
