"""``observatoire.analytics.counts`` on tiny hand-made tables and on the synthetic store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import ibis
import pyarrow as pa
import pytest

from observatoire.analytics.counts import (
    available_months,
    default_period,
    source_counts,
    unlocated_count,
    zone_counts,
    zone_rates,
)
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.store.parquet import ParquetStore


def _events(rows: list[tuple[str | None, str, str, datetime]]) -> ibis.Table:
    zone, source, category, when = zip(*rows)
    return ibis.memtable(pa.table({
        "zone_id": pa.array(zone, pa.string()), "source": list(source), "category": list(category),
        "occurred_at": pa.array(when, pa.timestamp("us", tz="UTC")),
        "month": [w.strftime("%Y-%m") for w in when],
    }))


TINY = _events([
    ("13201", "a", "theft", datetime(2024, 1, 31, 23, 59, tzinfo=UTC)),
    ("13201", "a", "theft", datetime(2024, 2, 1, 0, 0, tzinfo=UTC)),
    ("13202", "b", "violence", datetime(2024, 2, 10, tzinfo=UTC)),
    (None, "b", "theft", datetime(2024, 2, 11, tzinfo=UTC)),
])


def test_when_no_filter_then_every_event_is_counted_with_a_null_zone_row() -> None:
    assert zone_counts(TINY).to_pylist() == [
        {"zone_id": "13201", "count": 2}, {"zone_id": "13202", "count": 1}, {"zone_id": None, "count": 1}]


def test_when_period_then_start_included_end_excluded_in_utc() -> None:
    got = zone_counts(TINY, start=date(2024, 2, 1), end=date(2024, 2, 11))
    assert got.to_pylist() == [{"zone_id": "13201", "count": 1}, {"zone_id": "13202", "count": 1}]


def test_when_sources_and_categories_then_both_apply() -> None:
    assert zone_counts(TINY, sources=["b"], categories=["theft"]).to_pylist() == [{"zone_id": None, "count": 1}]
    assert unlocated_count(zone_counts(TINY, sources=["a"])) == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"start": date(2024, 2, 1), "end": date(2024, 2, 1)}, "period is empty"),
    ({"categories": ["nope"]}, "unknown category"),
])
def test_when_filters_are_wrong_then_input_error(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        zone_counts(TINY, **kwargs)


def test_when_rates_then_every_zone_with_count_over_population(city: CityProfile) -> None:
    rates = zone_rates(zone_counts(TINY), city).to_pylist()
    assert [r["zone_id"] for r in rates] == [z.zone_id for z in city.zones]
    first = rates[0]
    assert first["count"] == 2 and first["rate_per_1000"] == pytest.approx(2 / city.zone("13201").population * 1000)
    assert sum(r["count"] for r in rates) == 3          # the null-zone row is left out


def test_when_counts_name_a_stranger_zone_then_input_error(city: CityProfile) -> None:
    with pytest.raises(InputError, match="absent from the city profile"):
        zone_rates(pa.table({"zone_id": ["99999"], "count": [1]}), city)


def test_when_store_then_counts_equal_duckdb(store: ParquetStore, reference_counts: Callable[..., dict]) -> None:
    got = zone_counts(store.events(), start=date(2024, 5, 1), sources=["verbalisations", "municipal_reports"])
    assert dict(zip(got["zone_id"].to_pylist(), got["count"].to_pylist())) == reference_counts(
        start=date(2024, 5, 1), sources=["verbalisations", "municipal_reports"])


def test_when_store_then_months_and_sources_are_listed(store: ParquetStore, months: list[str]) -> None:
    assert available_months(store.events()) == months
    assert source_counts(store.events())["source"].to_pylist() == ["mains_courantes", "municipal_reports",
                                                                  "verbalisations"]


@pytest.mark.parametrize(("months", "expected"), [
    ([], None),
    (["2024-02", "2024-03"], ("2024-02", "2024-03")),
    ([f"2024-{m:02d}" for m in range(1, 13)], ("2024-01", "2024-12")),
    ([f"2023-{m:02d}" for m in range(1, 13)] + [f"2024-{m:02d}" for m in range(1, 12)], ("2023-01", "2023-12")),
    ([f"2023-{m:02d}" for m in range(2, 13)] + [f"2024-{m:02d}" for m in range(1, 6)], ("2023-06", "2024-05")),
])
def test_when_months_then_default_period_is_last_full_year(months: list[str], expected: tuple | None) -> None:
    assert default_period(months) == expected
