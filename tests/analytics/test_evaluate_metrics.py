"""Hit rate, PAI, PEI and the top-k selection, against hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from observatoire.analytics.evaluate import evaluate, hit_rate, pai, pei, select_top
from observatoire.errors import InputError

# Ten cells. Ranked by score: 0 (0.9), 2 (0.8), 4 (0.7), 8 (0.6), ...
SCORES = np.array([0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.05, 0.4, 0.6, 0.5])
OBSERVED = np.array([5, 0, 3, 1, 0, 2, 0, 4, 1, 4])  # N = 20
ONES = np.ones(10)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_when_k_is_30_percent_of_ten_cells_then_the_three_top_cells_are_selected():
    assert select_top(SCORES, ONES, 0.3, rng()).nonzero()[0].tolist() == [0, 2, 4]


def test_when_equal_cells_then_hit_rate_pai_pei_match_the_hand_computation():
    # Selected cells 0, 2, 4 hold 5 + 3 + 0 = 8 of 20 events: hit rate 0.4.
    # Area share 3/10: PAI = 0.4 / 0.3 = 4/3.
    # Best 3 cells hold 5 + 4 + 4 = 13 events: PEI = 8/13.
    result = evaluate(SCORES, OBSERVED, ONES, 0.3, rng())
    assert_allclose(result.hit_rate, 0.4)
    assert_allclose(result.pai, 4 / 3)
    assert_allclose(result.pei, 8 / 13)
    assert result.n_selected == 3
    assert result.n_events == 20
    assert_allclose(hit_rate(SCORES, OBSERVED, ONES, 0.3, rng()), 0.4)
    assert_allclose(pai(SCORES, OBSERVED, ONES, 0.3, rng()), 4 / 3)
    assert_allclose(pei(SCORES, OBSERVED, ONES, 0.3, rng()), 8 / 13)


def test_when_areas_differ_then_the_area_budget_and_the_oracle_use_areas():
    # Cell 0 has area 2, the others 1: A = 11, budget 0.3 * 11 = 3.3.
    # Cells 0 (2) and 2 (1) fill 3 <= 3.3; adding cell 4 would make 4 > 3.3.
    # Hit rate 8/20 = 0.4; area share 3/11; PAI = 0.4 * 11 / 3.
    # Oracle by density (events / area) within area 3: cells 7 (4), 9 (4), 2 (3): 11 events; PEI = 8/11.
    area = ONES.copy()
    area[0] = 2.0
    result = evaluate(SCORES, OBSERVED, area, 0.3, rng())
    assert result.n_selected == 2
    assert_allclose(result.area_share, 3 / 11)
    assert_allclose(result.hit_rate, 0.4)
    assert_allclose(result.pai, 0.4 * 11 / 3)
    assert_allclose(result.pei, 8 / 11)


def test_when_the_forecast_is_the_observed_counts_then_pei_is_one():
    for k in (0.1, 0.3, 0.5, 0.9, 1.0):
        assert_allclose(pei(OBSERVED, OBSERVED, ONES, k, rng()), 1.0)


def test_when_k_is_one_then_every_cell_is_selected_and_pai_is_one():
    result = evaluate(SCORES, OBSERVED, ONES, 1.0, rng())
    assert result.n_selected == 10
    assert_allclose([result.hit_rate, result.pai, result.pei], [1.0, 1.0, 1.0])


def test_when_k_covers_less_than_one_cell_then_input_error_says_so():
    with pytest.raises(InputError, match="covers less area than the top-ranked cell"):
        select_top(SCORES, ONES, 0.05, rng())


def test_when_k_is_not_a_whole_number_of_cells_then_the_budget_is_not_exceeded():
    assert select_top(SCORES, ONES, 0.39, rng()).sum() == 3
    assert select_top(SCORES, ONES, 0.7, rng()).sum() == 7  # 0.7 * 10 is 7.000000000000001


def test_when_no_event_is_observed_then_the_indices_are_nan():
    result = evaluate(SCORES, np.zeros(10), ONES, 0.3, rng())
    assert np.isnan(result.hit_rate) and np.isnan(result.pai) and np.isnan(result.pei)


def test_when_scores_tie_then_the_rng_breaks_ties_uniformly_and_reproducibly():
    scores = np.array([3.0, 2.0, 2.0, 2.0, 0.0])
    picks = np.array([select_top(scores, np.ones(5), 0.4, rng(seed)) for seed in range(3000)])
    assert picks[:, 0].all() and not picks[:, 4].any()  # never a tie: always in, always out
    share = picks[:, 1:4].mean(axis=0)  # one of three tied cells: 1/3 each
    assert_allclose(share, 1 / 3, atol=0.035)  # ~4 standard errors of a proportion over 3000 draws
    same = select_top(scores, np.ones(5), 0.4, rng(7))
    assert np.array_equal(same, select_top(scores, np.ones(5), 0.4, rng(7)))


def test_when_all_scores_are_equal_then_the_expected_pai_is_one():
    pais = [pai(np.zeros(10), OBSERVED, ONES, 0.3, rng(seed)) for seed in range(2000)]
    assert_allclose(np.mean(pais), 1.0, atol=0.05)


def test_when_inputs_are_used_then_they_are_not_modified():
    scores, observed, area = SCORES.copy(), OBSERVED.copy(), ONES.copy()
    evaluate(scores, observed, area, 0.3, rng())
    assert np.array_equal(scores, SCORES) and np.array_equal(observed, OBSERVED) and np.array_equal(area, ONES)


@pytest.mark.parametrize("k", [0.0, -0.1, 1.01, 2, float("nan"), True, "0.1"])
def test_when_k_is_outside_the_unit_interval_then_input_error(k):
    with pytest.raises(InputError, match="k must be"):
        evaluate(SCORES, OBSERVED, ONES, k, rng())


@pytest.mark.parametrize(
    ("scores", "observed", "area", "message"),
    [
        (SCORES, OBSERVED[:9], ONES, "observed has shape"),
        (SCORES, OBSERVED, ONES[:9], "area has shape"),
        (SCORES, OBSERVED - 1, ONES, "non-negative"),
        (SCORES, OBSERVED, ONES * 0, "strictly positive"),
        (np.where(SCORES > 0.5, np.nan, SCORES), OBSERVED, ONES, "finite"),
        (SCORES.reshape(2, 5), OBSERVED, ONES, "1-D"),
    ],
)
def test_when_inputs_are_malformed_then_input_error_names_the_problem(scores, observed, area, message):
    with pytest.raises(InputError, match=message):
        evaluate(scores, observed, area, 0.3, rng())


def test_input_error_is_also_a_value_error():
    with pytest.raises(ValueError):
        select_top(SCORES, ONES, 0.0, rng())
