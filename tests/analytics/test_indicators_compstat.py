"""CompStat indicators on small hand-made daily matrices, and the exact Poisson test against scipy by hand."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime

import ibis
import numpy as np
import pyarrow as pa
import pytest
from numpy.testing import assert_allclose
from scipy.stats import poisson

from observatoire.analytics.indicators.daily import comparable
from observatoire.analytics.indicators.queries import daily_counts, daily_matrix, indicators_from_events
from observatoire.analytics.indicators.stats import Thresholds, indicators, poisson_test, required_start
from observatoire.city.profile import load_city
from observatoire.errors import InputError

REFERENCE = date(2024, 3, 10)
DATES = np.arange(np.datetime64("2021-01-01"), np.datetime64("2024-03-11"))
ZONES = ["A", "B"]


def _day(d: str) -> int:
    return int((np.datetime64(d) - DATES[0]).astype(int))


def _matrix() -> np.ndarray:
    m = np.zeros((2, len(DATES)), np.int64)
    m[0, :] = 1                                  # A: one event every day
    m[1, _day("2024-03-08")] = 12                # B: current 7 days
    m[1, _day("2024-03-01")] = 5                 # B: previous 7 days (and inside the current 28)
    for year, n in ((2023, 2), (2022, 3), (2021, 4)):
        m[1, _day(f"{year}-03-05")] = n          # B: the same week in each of the three previous years
    return m


def _row(table: pa.Table, zone: str, window: str) -> dict:
    return next(r for r in table.to_pylist() if r["zone_id"] == zone and r["window"] == window)


def test_when_poisson_test_then_tails_match_the_hand_sums():
    # P(X >= 10 | 4) = 1 - sum_{k<10} e^-4 4^k / k!
    hand_up = 1 - sum(math.exp(-4) * 4**k / math.factorial(k) for k in range(10))
    up, down, two = poisson_test(10, 4.0)
    assert_allclose(up, hand_up, rtol=1e-10)
    assert_allclose(up, poisson.sf(9, 4.0), rtol=1e-12)
    assert_allclose(down, poisson.cdf(10, 4.0), rtol=1e-12)
    assert_allclose(two, 2 * hand_up, rtol=1e-10)
    assert_allclose(up, 0.0081322428, rtol=1e-8)
    # A zero count: P(X >= 0) = 1, P(X <= 0) = e^-mu; an expected 0 makes any positive count a rise.
    up0, down0, _ = poisson_test([0, 3], [2.0, 0.0])
    assert_allclose(up0, [1.0, 0.0])
    assert_allclose(down0, [math.exp(-2), 1.0])


def test_when_seven_days_then_current_previous_and_baseline_match_the_hand_counts():
    table = indicators(_matrix(), DATES, REFERENCE, zones=ZONES)
    b = _row(table, "B", "7d")
    assert (b["start"], b["end"]) == (date(2024, 3, 4), date(2024, 3, 10))
    assert (b["current"], b["previous"], b["change"]) == (12, 5, 7)
    assert_allclose(b["pct_change"], 140.0)
    assert_allclose([b["baseline_mean"], b["baseline_sd"]], [3.0, 1.0])   # (2, 3, 4)
    assert_allclose([b["band_low"], b["band_high"]], [1.0, 5.0])          # 3 ± 2·1
    assert_allclose(b["p_up"], poisson.sf(11, 3.0), rtol=1e-12)
    assert b["trend"] == "hausse significative" and b["exception"]
    a = _row(table, "A", "7d")
    assert (a["current"], a["previous"], a["baseline_mean"], a["baseline_sd"]) == (7, 7, 7.0, 0.0)
    assert_allclose(a["p_up"], poisson.sf(6, 7.0))
    assert a["trend"] == "stable" and not a["exception"]


def test_when_28_days_and_year_to_date_then_windows_are_the_analysts_ones():
    table = indicators(_matrix(), DATES, REFERENCE, zones=ZONES)
    b28 = _row(table, "B", "28d")
    assert (b28["start"], b28["current"], b28["previous"]) == (date(2024, 2, 12), 17, 0)
    assert b28["pct_change"] is None
    ytd = _row(table, "B", "ytd")
    assert (ytd["start"], ytd["current"], ytd["previous"], ytd["baseline_mean"]) == (date(2024, 1, 1), 17, 2, 3.0)
    a = _row(table, "A", "ytd")
    # 1 Jan - 10 Mar: 70 days in 2024 (leap), 69 in 2023, 2022 and 2021.
    assert (a["current"], a["previous"], a["baseline_mean"], a["baseline_sd"]) == (70, 69, 69.0, 0.0)


def test_when_populations_then_rates_and_criticality_follow_the_thresholds():
    table = indicators(_matrix(), DATES, REFERENCE, zones=ZONES, populations={"A": 1000, "B": 500})
    a, b = _row(table, "A", "7d"), _row(table, "B", "7d")
    overall = 19 / 1500 * 1000
    assert_allclose([a["rate_per_1000"], b["rate_per_1000"]], [7.0, 24.0])
    assert_allclose([a["rate_ratio"], b["rate_ratio"]], [7 / overall, 24 / overall])
    assert b["p_up"] < 0.001 and b["rate_ratio"] >= 1.5
    assert (a["criticality"], b["criticality"]) == ("faible", "critique")
    # The same rise with equal populations: the rate ratio is 12/9.5 < 1.5, so "élevée".
    equal = indicators(_matrix(), DATES, REFERENCE, zones=ZONES, populations={"A": 1000, "B": 1000})
    assert _row(equal, "B", "7d")["criticality"] == "élevée"


def test_when_counts_fall_then_baisse_significative():
    m = _matrix()
    m[0, _day("2024-03-04"):_day("2024-03-10") + 1] = 0     # A: 0 instead of the usual 7
    a = _row(indicators(m, DATES, REFERENCE, zones=ZONES), "A", "7d")
    assert_allclose(a["p_down"], math.exp(-7))
    assert a["trend"] == "baisse significative"


def test_when_band_method_then_the_flag_follows_the_band_not_the_p_value():
    m = _matrix()
    m[1, _day("2024-03-08")] = 5                             # B: 5 = the band's upper edge (3 + 2·1)
    band = indicators(m, DATES, REFERENCE, zones=ZONES, thresholds=Thresholds(method="band"))
    assert _row(band, "B", "7d")["trend"] == "stable"
    m[1, _day("2024-03-08")] = 6
    band = indicators(m, DATES, REFERENCE, zones=ZONES, thresholds=Thresholds(method="band"))
    assert _row(band, "B", "7d")["trend"] == "hausse significative"
    # The Poisson test does not find 6 against 3 significant at 5 % (P(X >= 6) = 0.0839).
    assert _row(indicators(m, DATES, REFERENCE, zones=ZONES), "B", "7d")["trend"] == "stable"


def test_when_below_min_count_then_never_a_rise():
    m = np.zeros((1, len(DATES)), np.int64)
    m[0, _day("2024-03-09")] = 2                             # 2 against a baseline of 0
    row = _row(indicators(m, DATES, REFERENCE, zones=["A"]), "A", "7d")
    assert row["p_up"] == 0.0 and row["trend"] == "stable"


def test_when_the_input_is_used_then_it_is_not_modified():
    m = _matrix()
    before = m.copy()
    indicators(m, DATES, REFERENCE, zones=ZONES, populations={"A": 1, "B": 1})
    np.testing.assert_array_equal(m, before)


def test_when_the_reference_is_29_february_then_previous_years_use_28_february():
    assert required_start(date(2024, 2, 29), 1) == date(2023, 1, 1)
    m = np.ones((1, len(DATES)), np.int64)
    row = _row(indicators(m, DATES, date(2024, 2, 29), zones=["A"], baseline_years=1), "A", "ytd")
    assert (row["current"], row["previous"], row["baseline_sd"]) == (60, 59, None)


@pytest.mark.parametrize("kwargs,message", [
    ({"reference": date(2024, 3, 11)}, "outside the data"),
    ({"baseline_years": 4}, "window longer than data"),
    ({"populations": {"A": 10}}, "unknown zone"),
    ({"zones": ["A"]}, "expected"),
    ({"baseline_years": 0}, "at least 1"),
])
def test_when_bad_parameters_then_input_error(kwargs, message):
    args = {"reference": REFERENCE, "zones": ZONES} | kwargs
    with pytest.raises(InputError, match=message):
        indicators(_matrix(), DATES, args.pop("reference"), **args)


def test_when_dates_are_not_consecutive_or_counts_negative_then_input_error():
    with pytest.raises(InputError, match="consecutive"):
        indicators(_matrix(), DATES[::-1], REFERENCE, zones=ZONES)
    m = _matrix()
    m[0, 0] = -1
    with pytest.raises(InputError, match="non-negative"):
        indicators(m, DATES, REFERENCE, zones=ZONES)
    with pytest.raises(InputError, match="empty"):
        daily_matrix(pa.table({"unit": [], "period_start": [], "count": []}), ZONES, date(2024, 1, 2), date(2024, 1, 1))


def _events() -> ibis.Table:
    times = [datetime(2021, 1, 1, 12, tzinfo=UTC),             # the data start: 1 Jan 2021
             datetime(2024, 3, 9, 22, 30, tzinfo=UTC),         # 23:30 Paris on 9 March: in the 7 days
             datetime(2024, 3, 10, 23, 30, tzinfo=UTC),        # 00:30 Paris on 11 March: after the reference
             datetime(2024, 3, 5, 8, tzinfo=UTC),
             datetime(2023, 3, 6, 8, tzinfo=UTC)]
    return ibis.memtable(pa.table({
        "zone_id": ["13201", "13201", "13201", "13202", "13201"],
        "source": ["mains_courantes"] * 5,
        "category": ["violence", "violence", "violence", "theft", "violence"],
        "occurred_at": pa.array(times, pa.timestamp("us", tz="UTC")),
    }))


def test_when_built_from_events_then_local_days_and_theme_are_used():
    city = load_city()
    table = indicators_from_events(_events(), reference=REFERENCE, city=city, zone_ids=["13201", "13202"],
                                   categories=["violence"])
    row = _row(table, "13201", "7d")
    assert (row["current"], row["baseline_mean"]) == (1, 1 / 3)
    assert row["population"] == city.zone("13201").population
    assert _row(table, "13202", "7d")["current"] == 0       # theft is another theme


def test_when_built_from_events_with_bad_zone_or_short_data_then_input_error():
    city = load_city()
    with pytest.raises(InputError, match="unknown zone"):
        indicators_from_events(_events(), reference=REFERENCE, city=city, zone_ids=["99999"])
    with pytest.raises(InputError, match="window longer than data"):
        indicators_from_events(_events(), reference=REFERENCE, city=city, baseline_years=4)
    with pytest.raises(InputError, match="window longer than data"):
        indicators_from_events(_events(), reference=date(2024, 6, 1), city=city)


def _mixed_events(cctv: int = 50) -> ibis.Table:
    """The logbook events of :func:`_events` plus ``cctv`` CCTV detections in zone 13201 on 8 March 2024."""
    base = _events().to_pyarrow()
    extra = pa.table({
        "zone_id": ["13201"] * cctv, "source": ["cctv_events"] * cctv, "category": ["violence"] * cctv,
        "occurred_at": pa.array([datetime(2024, 3, 8, 12, tzinfo=UTC)] * cctv, pa.timestamp("us", tz="UTC")),
    })
    return ibis.memtable(pa.concat_tables([base, extra]))


def test_when_a_source_is_kept_30_days_then_it_is_left_out_and_said_so():
    import json

    city = load_city()
    table = indicators_from_events(_mixed_events(), reference=REFERENCE, city=city, zone_ids=["13201"],
                                   categories=["violence"], baseline_years=None,
                                   retention_days={"cctv_events": 30, "mains_courantes": 1825})
    row = _row(table, "13201", "7d")
    # Only the logbook counts (as without CCTV): 1 event in the 7 days against 1/3 a year, not 51.
    assert (row["current"], row["baseline_mean"], row["baseline_years"]) == (1, 1 / 3, 3)
    excluded = json.loads(table.schema.metadata[b"excluded_sources"])
    assert excluded == [{"source": "cctv_events", "first": "2024-03-08", "last": "2024-03-08",
                         "reason": "données conservées 30 jours : pas de référence pluriannuelle"}]
    assert table.schema.metadata[b"baseline_years"] == b"3"
    with pytest.raises(InputError, match="window longer than data.*cctv_events"):    # asked alone: 422
        indicators_from_events(_mixed_events(), reference=REFERENCE, city=city, sources=["cctv_events"])


def test_when_the_baseline_is_not_given_then_the_largest_the_data_support_is_chosen():
    city = load_city()
    daily = daily_counts(_mixed_events(), city=city, categories=["violence"])
    assert sorted(daily.parts) == ["cctv_events", "mains_courantes"]
    assert int(daily.matrix.sum()) == 4 + 50 and daily.first == date(2021, 1, 1)
    # The year to date at 10 March 2024 needs 1 January 2021 for K = 3: held. Cut the logbook's first
    # day and only K = 2 (1 January 2022) remains.
    assert comparable(daily, reference=REFERENCE).baseline_years == 3
    late = daily_counts(_mixed_events(), city=city, categories=["violence"])
    late_parts = {"mains_courantes": dataclasses.replace(
        late.parts["mains_courantes"], matrix=late.parts["mains_courantes"].matrix[:, 1:],
        dates=late.parts["mains_courantes"].dates[1:], first=date(2021, 1, 2))}
    shorter = dataclasses.replace(late, parts=late_parts)
    chosen = comparable(shorter, reference=REFERENCE)             # 2 January 2021: two full years before 2024
    assert (chosen.baseline_years, chosen.included, chosen.excluded) == (2, ("mains_courantes",), ())
    with pytest.raises(InputError, match="window longer than data"):
        comparable(shorter, reference=REFERENCE, baseline_years=3)   # explicit: as before
    with pytest.raises(InputError, match="données depuis le 2024-03-08"):
        comparable(dataclasses.replace(daily, parts={"cctv_events": daily.parts["cctv_events"]}),
                   reference=REFERENCE)
