"""Stop audits: the veil-of-darkness window by hand, lawful columns, and detection on simulated stops."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest

from observatoire.audits.stops import light_status, simulate_stops, stop_audit, twilight_window
from observatoire.errors import InputError

MARSEILLE = {"lat": 43.2965, "lon": 5.3698, "timezone": "Europe/Paris"}


def test_twilight_window_and_light_status_by_hand() -> None:
    # Civil dusk in Marseille: earliest ~17:35 CET (early December), latest ~21:58 CEST (late June).
    w = twilight_window(43.2965, 5.3698, "Europe/Paris", 2024)
    assert w.label() == "17:35-21:58"
    # 21 June 2024: sunset 21:22, dusk 21:58 local. 21 Dec 2024: sunset 17:05, dusk 17:38 local.
    times = pa.array([datetime(2024, 6, 21, 19, 0, tzinfo=UTC),     # 21:00 CEST: light
                      datetime(2024, 6, 21, 19, 40, tzinfo=UTC),    # 21:40 CEST: twilight
                      datetime(2024, 12, 21, 17, 0, tzinfo=UTC),    # 18:00 CET: dark
                      datetime(2024, 12, 21, 16, 20, tzinfo=UTC)],  # 17:20 CET: twilight
                     pa.timestamp("us", tz="UTC"))
    minute, dark, twilight = light_status(times, **MARSEILLE)
    assert minute.tolist() == [21 * 60, 21 * 60 + 40, 18 * 60, 17 * 60 + 20]
    assert dark.tolist() == [False, False, True, False]
    assert twilight.tolist() == [False, True, False, True]


def test_unlawful_group_column_is_refused() -> None:
    stops = simulate_stops(np.random.default_rng(0), 100, **MARSEILLE)
    with pytest.raises(InputError, match="not declared lawful"):
        stop_audit(stops, group_column="ethnicity", target="x", lawful=["area_group"], **MARSEILLE)


def test_injected_disparity_detected_null_not() -> None:
    biased = simulate_stops(np.random.default_rng(1), 10_000, daylight_excess=0.5, hit_gap=0.08, **MARSEILLE)
    fair = simulate_stops(np.random.default_rng(2), 10_000, **MARSEILLE)
    a = stop_audit(biased, group_column="area_group", target="more_deprived", lawful=["area_group"], **MARSEILLE)
    b = stop_audit(fair, group_column="area_group", target="more_deprived", lawful=["area_group"], **MARSEILLE)
    assert a.veil.disparity and a.outcome.disparity
    assert a.veil.coef_dark == pytest.approx(-np.log(1.5), abs=0.15)
    assert not b.veil.disparity and not b.outcome.disparity
