"""The canonical event schema refuses what it promises to refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from observatoire.errors import SchemaError
from observatoire.event.schema import EVENT_SCHEMA, validate_events
from observatoire.event.taxonomy import CATEGORIES, CCTV_DECREE_CODES


def one_event(**overrides: object) -> dict:
    row = {
        "event_id": "hospital:" + "a" * 24, "source": "hospital", "category": "assault_injury",
        "occurred_at": datetime(2025, 3, 1, 13, tzinfo=UTC), "time_precision": "hour",
        "reported_at": datetime(2025, 3, 1, 14, tzinfo=UTC), "lon": 5.38, "lat": 43.3,
        "location_precision_m": 25.0, "zone_id": "13201", "h3_r9": 1, "h3_r8": 2, "h3_r7": 3,
        "discovery": "independent", "attributes": None, "pseudonyms": [],
        "batch_id": "b", "source_file": "f.csv", "source_row": 1,
        "ingested_at": datetime(2025, 3, 2, tzinfo=UTC), "retention_until": datetime(2026, 3, 1).date(),
        "month": "2025-03",
    }
    row.update(overrides)
    return row


def table(*rows: dict) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=EVENT_SCHEMA)


def test_when_event_is_well_formed_then_it_validates() -> None:
    assert validate_events(table(one_event()), frozenset({"13201"})).num_rows == 1


@pytest.mark.parametrize("overrides, message", [
    ({"category": "suspicious_person"}, "taxonomy"),
    ({"time_precision": "week"}, "time_precision"),
    ({"discovery": "profiling"}, "discovery"),
    ({"event_id": "hospital:BENALI"}, "event_id"),
    ({"event_id": "social_media:" + "a" * 24}, "start with its source"),
    ({"month": "2025-04"}, "month"),
    ({"lat": None}, "both present"),
    ({"location_precision_m": None}, "precision"),
    ({"lon": 500.0}, "lon outside"),
    ({"reported_at": datetime(2025, 2, 1, tzinfo=UTC)}, "precedes"),
    ({"pseudonyms": [{"role": "plate", "token": "AB-123-CD"}]}, "raw identifiers are refused"),
    ({"zone_id": "75056"}, "zone_id"),
])
def test_when_an_invariant_is_broken_then_validation_names_it(overrides: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        validate_events(table(one_event(**overrides)), frozenset({"13201"}))


def test_when_ids_repeat_in_a_batch_then_validation_refuses() -> None:
    with pytest.raises(SchemaError, match="unique"):
        validate_events(table(one_event(), one_event()))


def test_when_a_column_is_missing_or_extra_then_validation_refuses() -> None:
    t = table(one_event())
    with pytest.raises(SchemaError, match="columns"):
        validate_events(t.drop_columns(["month"]))
    with pytest.raises(SchemaError, match="columns"):
        validate_events(t.append_column("name", pa.array(["Karim"])))


def test_when_a_keyed_pseudonym_is_given_then_it_is_accepted() -> None:
    row = one_event(pseudonyms=[{"role": "plate", "token": "k1:" + "0123456789abcdef01234567"}])
    assert validate_events(table(row)).num_rows == 1


def test_taxonomy_codes_are_unique_and_cctv_types_are_exactly_the_decree_eight() -> None:
    codes = [c.code for c in CATEGORIES]
    assert len(codes) == len(set(codes))
    assert len(CCTV_DECREE_CODES) == 8
    assert all(c.label_fr and c.label_en for c in CATEGORIES)
