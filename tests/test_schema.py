"""The canonical event schema refuses what it promises to refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import re

import pyarrow as pa
import pytest

from observatoire.errors import SchemaError
from observatoire.event.schema import EVENT_ID_PATTERN, EVENT_SCHEMA, registered_schema, validate_events
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


# The attribute struct that stores written so far hold for the packaged sources. Each source now declares its
# own on its connector; built from them, the packaged schema must stay exactly this (field order and types).
STORED_ATTRIBUTES = pa.struct([
    pa.field("mains_courantes", pa.struct([
        pa.field("logbook_ref", pa.string()), pa.field("logbook_category", pa.string()),
        pa.field("persons_involved", pa.int16())])),
    pa.field("verbalisations", pa.struct([pa.field("natinf", pa.int32()), pa.field("amount_eur", pa.float64())])),
    pa.field("municipal_reports", pa.struct([pa.field("report_type", pa.string()), pa.field("nature", pa.string())])),
    pa.field("cctv_events", pa.struct([pa.field("camera_id", pa.string()), pa.field("confidence", pa.float32())])),
    pa.field("hospital", pa.struct([
        pa.field("weapon", pa.string()), pa.field("age_band", pa.string()), pa.field("sex", pa.string())])),
    pa.field("social_media", pa.struct([
        pa.field("lang", pa.string()), pa.field("geotagged", pa.bool_()), pa.field("place_from", pa.string()),
        pa.field("topics", pa.list_(pa.string()))])),
    pa.field("police_uk", pa.struct([
        pa.field("crime_id", pa.string()), pa.field("crime_type", pa.string()), pa.field("last_outcome", pa.string()),
        pa.field("reported_by", pa.string()), pa.field("falls_within", pa.string())])),
    pa.field("planned_events", pa.struct([
        pa.field("name", pa.string()), pa.field("event_type", pa.string()), pa.field("venue", pa.string()),
        pa.field("expected_attendance", pa.int32()), pa.field("ends_at", pa.timestamp("us", tz="UTC"))])),
    pa.field("stops", pa.struct([
        pa.field("reason", pa.string()), pa.field("initiated", pa.string()), pa.field("person_searched", pa.bool_()),
        pa.field("vehicle_searched", pa.bool_()), pa.field("found", pa.bool_()), pa.field("outcome", pa.string()),
        pa.field("perceived_origin", pa.string()), pa.field("age_band", pa.string()), pa.field("sex", pa.string())])),
])


def test_the_schema_built_from_the_packaged_descriptors_is_the_layout_stores_hold() -> None:
    assert EVENT_SCHEMA.field("attributes").type == STORED_ATTRIBUTES
    assert EVENT_SCHEMA.names == [
        "event_id", "source", "category", "occurred_at", "time_precision", "reported_at", "lon", "lat",
        "location_precision_m", "zone_id", "h3_r9", "h3_r8", "h3_r7", "discovery", "attributes", "pseudonyms", "text",
        "redactions", "batch_id", "source_file", "source_row", "ingested_at", "retention_until", "month"]
    assert registered_schema().equals(EVENT_SCHEMA, check_metadata=True)   # no plug-in installed here


def test_a_source_name_with_a_digit_makes_valid_event_ids_and_a_leading_digit_does_not() -> None:
    assert re.fullmatch(EVENT_ID_PATTERN, "noise311:" + "a" * 24)
    assert not re.fullmatch(EVENT_ID_PATTERN, "311noise:" + "a" * 24)
    row = one_event(event_id="noise311:" + "a" * 24, source="noise311")
    assert validate_events(table(row)).num_rows == 1
    with pytest.raises(SchemaError, match="event_id"):
        validate_events(table(one_event(event_id="Noise311:" + "a" * 24, source="Noise311")))
