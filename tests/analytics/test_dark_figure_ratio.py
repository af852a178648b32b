"""The dark-figure ratio against a hand computation of the conditional Clopper-Pearson interval."""

from __future__ import annotations

from datetime import UTC, date, datetime

import ibis
import numpy as np
import pyarrow as pa
import pytest
from numpy.testing import assert_allclose
from scipy.stats import beta, binom

from observatoire.analytics.dark_figure import dark_figure, dark_figure_from_events
from observatoire.errors import InputError


def test_when_30_hospital_and_10_police_then_the_interval_matches_the_beta_quantiles():
    # n = 40, h = 30: pi in [Beta(0.025; 30, 11), Beta(0.975; 31, 10)], R = pi / (1 - pi).
    pi_low, pi_high = beta.ppf(0.025, 30, 11), beta.ppf(0.975, 31, 10)
    ratio, low, high = dark_figure([30], [10])
    assert_allclose(ratio, [3.0])
    assert_allclose(low, [pi_low / (1 - pi_low)], rtol=1e-10)
    assert_allclose(high, [pi_high / (1 - pi_high)], rtol=1e-10)
    assert_allclose([low[0], high[0]], [1.427, 6.879], atol=1e-3)
    # Clopper-Pearson's defining property: each tail has probability alpha/2 at its bound.
    assert_allclose(binom.sf(29, 40, pi_low), 0.025, rtol=1e-8)
    assert_allclose(binom.cdf(30, 40, pi_high), 0.025, rtol=1e-8)


def test_when_counts_are_zero_then_the_bounds_are_the_documented_ones():
    ratio, low, high = dark_figure([0, 5, 0], [4, 0, 0], level=0.9)
    # h = 0: ratio 0, low 0, pi_high = 1 - 0.05 ** (1 / 4) (Beta(0.95; 1, 4)).
    pi_high = 1 - 0.05 ** (1 / 4)
    assert (ratio[0], low[0]) == (0.0, 0.0)
    assert_allclose(high[0], pi_high / (1 - pi_high), rtol=1e-10)
    # p = 0: ratio and upper bound infinite, pi_low = 0.05 ** (1 / 5) (Beta(0.05; 5, 1)).
    pi_low = 0.05 ** (1 / 5)
    assert np.isinf(ratio[1]) and np.isinf(high[1])
    assert_allclose(low[1], pi_low / (1 - pi_low), rtol=1e-10)
    # Both zero: nothing is known.
    assert np.isnan(ratio[2]) and low[2] == 0.0 and np.isinf(high[2])


def test_when_inputs_are_bad_then_input_error():
    with pytest.raises(InputError, match="same shape"):
        dark_figure([1, 2], [1])
    with pytest.raises(InputError, match="non-negative"):
        dark_figure([-1], [1])
    with pytest.raises(InputError, match="level"):
        dark_figure([1], [1], level=1.0)


def _events() -> ibis.Table:
    rows = ([("hospital", "assault_injury", "13201")] * 6 + [("mains_courantes", "violence", "13201")] * 3
            + [("hospital", "assault_injury", "13202")] * 2 + [("mains_courantes", "theft", "13203")] * 4)
    source, category, zone = zip(*rows)
    return ibis.memtable(pa.table({
        "source": source, "category": category, "zone_id": zone,
        "occurred_at": pa.array([datetime(2024, 5, 1, tzinfo=UTC)] * len(rows), pa.timestamp("us", tz="UTC")),
    }))


def test_when_built_from_events_then_every_zone_has_a_row_and_infinities_are_null():
    table = dark_figure_from_events(_events(), zone_ids=["13201", "13202", "13203"], start=date(2024, 1, 1),
                                    end=date(2025, 1, 1))
    rows = table.to_pylist()
    assert [(r["zone_id"], r["hospital"], r["police"], r["ratio"]) for r in rows] == [
        ("13201", 6, 3, 2.0), ("13202", 2, 0, None), ("13203", 0, 0, None)]
    lo = beta.ppf(0.025, 6, 4)
    assert_allclose(rows[0]["ci_low"], lo / (1 - lo))
    assert rows[1]["ci_high"] is None and rows[2]["ci_low"] == 0.0
    with pytest.raises(InputError, match="no zones"):
        dark_figure_from_events(_events(), zone_ids=[])
    with pytest.raises(InputError, match="empty"):
        dark_figure_from_events(_events(), zone_ids=["13201"], start=date(2024, 2, 1), end=date(2024, 1, 1))


def _years_events() -> ibis.Table:
    """Hospital: 2024 only (kept one year); logbook: 2022 to 2024, zone 13201."""
    rows = ([("hospital", "assault_injury", datetime(2024, 1, 1, 9, tzinfo=UTC))] * 3
            + [("hospital", "assault_injury", datetime(2024, 12, 31, 9, tzinfo=UTC))] * 3
            + [("mains_courantes", "violence", datetime(y, 6, 1, tzinfo=UTC)) for y in (2022, 2022, 2023, 2023)]
            + [("mains_courantes", "violence", datetime(2024, 6, 1, tzinfo=UTC))] * 2
            + [("mains_courantes", "violence", datetime(2024, 12, 31, 20, tzinfo=UTC))]
            + [("mains_courantes", "theft", datetime(2021, 3, 1, tzinfo=UTC))])
    source, category, at = zip(*rows)
    return ibis.memtable(pa.table({
        "source": source, "category": category, "zone_id": ["13201"] * len(rows),
        "occurred_at": pa.array(at, pa.timestamp("us", tz="UTC")),
    }))


def test_when_hospital_holds_one_year_and_police_three_then_only_the_common_year_is_compared():
    table = dark_figure_from_events(_years_events(), zone_ids=["13201"])
    row = table.to_pylist()[0]
    # 6 hospital records against the 3 logbook entries of 2024 (not the 7 of 2022-2024): ratio 2.
    assert (row["hospital"], row["police"], row["ratio"]) == (6, 3, 2.0)
    lo = beta.ppf(0.025, 6, 4)
    assert_allclose(row["ci_low"], lo / (1 - lo))
    assert table.schema.metadata == {b"start": b"2024-01-01", b"end": b"2025-01-01"}
    within = dark_figure_from_events(_years_events(), zone_ids=["13201"], start=date(2023, 1, 1),
                                     end=date(2024, 7, 1))
    assert within.schema.metadata == {b"start": b"2024-01-01", b"end": b"2024-07-01"}
    assert (within["hospital"][0].as_py(), within["police"][0].as_py()) == (3, 2)
    with pytest.raises(InputError, match="^pas de période commune"):
        dark_figure_from_events(_years_events(), zone_ids=["13201"], start=date(2022, 1, 1), end=date(2023, 1, 1))
