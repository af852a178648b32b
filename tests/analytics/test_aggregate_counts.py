"""Counts per unit and period against a direct DuckDB SQL query over the same Parquet files, and by hand."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import h3
import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pytest

from observatoire.analytics.aggregate import counts, day_hour_profile, rates_per_1000
from observatoire.city.profile import CityProfile, load_city
from observatoire.errors import InputError
from observatoire.event.schema import EVENT_SCHEMA
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore

SEED = 20250301
# Three weeks around the change to summer time in Paris (31 March 2024, 02:00 -> 03:00).
FIRST = datetime(2024, 3, 18, tzinfo=UTC)
SPAN_S = 21 * 24 * 3600
STREAMS = {"mains_courantes": ("violence", "theft"), "hospital": ("assault_injury",)}


def _events(city: CityProfile, source: str, categories: tuple[str, ...], n: int,
            rng: np.random.Generator) -> pa.Table:
    rows = []
    zones = list(city.zones)
    for i in range(n):
        occurred = FIRST + timedelta(seconds=int(rng.integers(SPAN_S)))
        located = rng.random() >= 0.1
        zone = zones[int(rng.integers(len(zones)))] if located else None
        point = zone.geometry.representative_point() if zone else None
        cell = h3.str_to_int(h3.latlng_to_cell(point.y, point.x, 9)) if point else None
        rows.append({
            "event_id": f"{source}:{hashlib.sha256(f'{source}{i}'.encode()).hexdigest()[:24]}",
            "source": source, "category": categories[int(rng.integers(len(categories)))],
            "occurred_at": occurred, "time_precision": "minute", "reported_at": None,
            "lon": point.x if point else None, "lat": point.y if point else None,
            "location_precision_m": 10.0 if point else None, "zone_id": zone.zone_id if zone else None,
            "h3_r9": cell,
            "h3_r8": h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), 8)) if cell else None,
            "h3_r7": h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), 7)) if cell else None,
            "discovery": "independent", "attributes": None, "pseudonyms": None, "text": None, "redactions": None,
            "batch_id": f"agg-{source}", "source_file": f"{source}.csv", "source_row": i + 1,
            "ingested_at": datetime(2024, 5, 1, tzinfo=UTC), "retention_until": date(2030, 1, 1),
            "month": occurred.strftime("%Y-%m"),
        })
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


@pytest.fixture(scope="module")
def city() -> CityProfile:
    return load_city()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, city: CityProfile) -> ParquetStore:
    rng = np.random.default_rng(SEED)
    store = ParquetStore(tmp_path_factory.mktemp("aggregate"), zone_ids=city.zone_ids)
    for source, categories in STREAMS.items():
        events = _events(city, source, categories, 400, rng)
        store.commit(Batch(batch_id=f"agg-{source}", source=source, source_file=f"{source}.csv",
                           file_sha256="0" * 64, rows_read=events.num_rows, events=events, quarantine=None))
    return store


def _sql_counts(files: list[Path], column: str, period: str, tz: str, where: str = "TRUE") -> dict:
    listed = ", ".join(f"'{f}'" for f in files)
    if tz == "UTC":
        start = f"date_trunc('{period}', occurred_at)"
    else:
        start = f"timezone('{tz}', date_trunc('{period}', timezone('{tz}', occurred_at)))"
    unit = column if column == "zone_id" else f"lower(hex({column}))"
    sql = (f"SELECT {unit} AS unit, epoch_us({start}) AS p, source, category, count(*) FROM "
           f"read_parquet([{listed}], hive_partitioning = false) WHERE {where} GROUP BY ALL")
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return {(u, p, s, c): n for u, p, s, c, n in con.sql(sql).fetchall()}


def _as_dict(table: pa.Table) -> dict:
    micros = table["period_start"].cast(pa.int64()).to_pylist()
    return {(r["unit"], p, r["source"], r["category"]): r["count"] for r, p in zip(table.to_pylist(), micros)}


@pytest.mark.parametrize("by,column", [("zone", "zone_id"), ("h3_9", "h3_r9"), ("h3_7", "h3_r7")])
@pytest.mark.parametrize("period", ["hour", "day", "week", "month"])
def test_when_utc_counts_then_they_equal_a_direct_duckdb_query(store, by, column, period):
    expected = _sql_counts(store.event_files(), column, period, "UTC")
    got = _as_dict(counts(store.events(), by=by, period=period))
    assert got == expected
    assert sum(got.values()) == 800


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_when_paris_periods_then_they_equal_duckdb_local_truncation(store, period):
    expected = _sql_counts(store.event_files(), "zone_id", period, "Europe/Paris")
    got = _as_dict(counts(store.events(), by="zone", period=period, tz="Europe/Paris"))
    assert got == expected


def test_when_filtered_then_the_filters_match_sql(store):
    where = ("source = 'mains_courantes' AND category IN ('violence') "
             "AND occurred_at >= TIMESTAMPTZ '2024-03-20 00:00:00+00' "
             "AND occurred_at < TIMESTAMPTZ '2024-04-01 00:00:00+00'")
    expected = _sql_counts(store.event_files(), "zone_id", "day", "UTC", where)
    got = _as_dict(counts(store.events(), by="zone", period="day", sources=["mains_courantes"],
                          categories=["violence"], start=date(2024, 3, 20), end=date(2024, 4, 1)))
    assert got == expected and got


def _tiny() -> ir.Table:
    times = [datetime(2024, 3, 30, 22, 30, tzinfo=UTC),   # Sat 23:30 Paris (UTC+1)
             datetime(2024, 3, 30, 23, 10, tzinfo=UTC),   # Sun 00:10 Paris
             datetime(2024, 3, 31, 1, 5, tzinfo=UTC),     # Sun 03:05 Paris (UTC+2 from 02:00 local)
             datetime(2024, 3, 31, 12, 0, tzinfo=UTC),    # Sun 14:00 Paris
             datetime(2024, 4, 1, 8, 0, tzinfo=UTC)]      # Mon 10:00 Paris
    return ibis.memtable(pa.table({
        "zone_id": ["13201", "13201", "13201", "13202", None],
        "h3_r9": pa.array([None] * 5, pa.int64()), "h3_r8": pa.array([None] * 5, pa.int64()),
        "h3_r7": pa.array([None] * 5, pa.int64()),
        "source": ["mains_courantes"] * 4 + ["hospital"],
        "category": ["violence", "violence", "theft", "violence", "assault_injury"],
        "occurred_at": pa.array(times, pa.timestamp("us", tz="UTC")),
    }))



def test_when_counted_by_hand_then_utc_days_match():
    rows = [(r["unit"], r["period_start"].date().isoformat(), r["category"], r["count"])
            for r in counts(_tiny(), by="zone", period="day").to_pylist()]
    assert rows == [
        ("13201", "2024-03-30", "violence", 2),
        ("13201", "2024-03-31", "theft", 1),
        ("13202", "2024-03-31", "violence", 1),
        (None, "2024-04-01", "assault_injury", 1),
    ]


def test_when_counted_by_hand_in_paris_then_the_local_midnight_moves_events():
    rows = [(r["unit"], r["period_start"], r["category"], r["count"])
            for r in counts(_tiny(), by="zone", period="day", tz="Europe/Paris").to_pylist()]
    sat, sun = datetime(2024, 3, 29, 23, tzinfo=UTC), datetime(2024, 3, 30, 23, tzinfo=UTC)
    mon = datetime(2024, 3, 31, 22, tzinfo=UTC)   # local midnight in summer time is 22:00 UTC
    assert rows == [("13201", sat, "violence", 1), ("13201", sun, "theft", 1), ("13201", sun, "violence", 1),
                    ("13202", sun, "violence", 1), (None, mon, "assault_injury", 1)]


def test_when_local_start_and_end_then_they_are_paris_midnights():
    # Sunday 31 March in Paris: 30 March 23:00 UTC to 31 March 22:00 UTC.
    table = counts(_tiny(), period="day", start=date(2024, 3, 31), end=date(2024, 4, 1), tz="Europe/Paris")
    assert sum(table["count"].to_pylist()) == 3


def test_when_day_hour_profile_then_weekday_and_hour_are_local():
    rows = [(r["unit"], r["weekday"], r["hour"], r["count"]) for r in day_hour_profile(_tiny()).to_pylist()]
    assert rows == [("13201", 5, 23, 1), ("13201", 6, 0, 1), ("13201", 6, 3, 1), ("13202", 6, 14, 1),
                    (None, 0, 10, 1)]


def test_when_rates_then_count_over_population_times_1000():
    table = counts(_tiny(), by="zone", period="month")
    rates = rates_per_1000(table, {"13201": 40_000, "13202": 0})
    assert [(r["unit"], r["count"], r["rate_per_1000"]) for r in rates.to_pylist()] == [
        ("13201", 1, 1 / 40_000 * 1000), ("13201", 2, 2 / 40_000 * 1000), ("13202", 1, None)]


@pytest.mark.parametrize("kwargs,message", [
    ({"by": "street"}, "unknown unit"),
    ({"period": "fortnight"}, "unknown period"),
    ({"start": date(2024, 4, 1), "end": date(2024, 4, 1)}, "the period is empty"),
    ({"tz": "Mars/Olympus"}, "unknown time zone"),
    ({"categories": ["no_such_thing"]}, "unknown category"),
])
def test_when_bad_parameters_then_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        counts(_tiny(), **kwargs)


def test_when_a_unit_has_no_population_then_input_error():
    with pytest.raises(InputError, match="no population"):
        rates_per_1000(counts(_tiny()), {"13201": 1000})
