"""The store contract: atomic, idempotent batches; exact round trip; duplicates re-checked at commit; row filters.

Every test runs on every backend of ``FACTORIES`` (``conftest.py``) and uses the protocol only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from observatoire.city.profile import CityProfile
from observatoire.errors import SchemaError
from observatoire.event.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA
from observatoire.gate.admit import Gate
from observatoire.governance.retention import Retention
from observatoire.ingest import pipeline
from observatoire.ingest.pipeline import ingest
from observatoire.store.base import RETENTION_COLUMNS, Batch, Store
from tests.conftest import NOW, write

from conftest import Clock, StoreFactory, logbook


def test_when_ingest_then_query_the_stored_events_round_trip_exactly(
        tmp_path: Path, store: Store, city: CityProfile, sources: dict, gate: Gate) -> None:
    path = write(tmp_path, "mains_courantes_a.csv", logbook(300))
    prepared = pipeline._prepare(path, sources["mains_courantes"], store=store, city=city, now=NOW,
                                 retention=365, references={}, gate=gate)
    store.commit(prepared.batch)
    expected = prepared.batch.events.sort_by("event_id")
    got = store.events().to_pyarrow().sort_by("event_id")
    assert got.cast(EVENT_SCHEMA).equals(expected.cast(EVENT_SCHEMA))
    months = set(got["month"].to_pylist())
    assert len(months) == 7  # 1 January 00:00 in Paris is still December in UTC


def test_when_the_same_file_is_ingested_twice_then_nothing_is_added(
        tmp_path: Path, store: Store, city: CityProfile, sources: dict, gate: Gate) -> None:
    path = write(tmp_path, "mains_courantes_a.csv", logbook(100))
    [first] = ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW)
    generation = store.manifest().generation
    [again] = ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW)
    assert first.committed and not again.committed
    assert (again.rows_read, again.admitted) == (first.rows_read, first.admitted) == (100, 100)
    assert store.manifest().generation == generation
    assert store.events().count().to_pyarrow().as_py() == 100


def test_when_another_file_repeats_stored_records_then_they_are_quarantined_as_duplicates(
        tmp_path: Path, store: Store, city: CityProfile, sources: dict, gate: Gate) -> None:
    ingest([write(tmp_path, "mains_courantes_a.csv", logbook(100))], store=store, city=city, sources=sources, gate=gate, now=NOW)
    [r] = ingest([write(tmp_path, "mains_courantes_b.csv", logbook(150))], store=store, city=city, sources=sources,
                 gate=gate, now=NOW)
    assert (r.admitted, r.quarantined, r.reasons) == (50, 100, {"duplicate_event": 100})
    ids = store.events().event_id.to_pyarrow()
    assert len(ids) == 150 and pc.count_distinct(ids).as_py() == 150


def test_two_files_prepared_at_once_store_each_record_once(
        tmp_path: Path, store: Store, city: CityProfile, sources: dict, gate: Gate) -> None:
    """Two ingests prepared before either commits (two processes at once): the second commit finds the first's
    records under the write lock and quarantines them as duplicates."""
    prepared = [pipeline._prepare(write(tmp_path, name, logbook(rows)), sources["mains_courantes"], store=store,
                                  city=city, now=NOW, retention=365, references={}, gate=gate)
                for name, rows in (("mains_courantes_a.csv", 100), ("mains_courantes_b.csv", 150))]
    first, second = (store.commit(p.batch) for p in prepared)
    assert (first.events, first.duplicates) == (100, 0)
    assert (second.events, second.quarantined, second.duplicates) == (50, 100, 100)
    ids = store.events().event_id.to_pyarrow()
    assert len(ids) == 150 and pc.count_distinct(ids).as_py() == 150
    reasons = store.quarantine().to_pyarrow()["reason"].to_pylist()
    assert reasons == ["duplicate_event"] * 100
    report = pipeline._report(prepared[1], second)
    assert (report.admitted, report.quarantined, report.reasons) == (50, 100, {"duplicate_event": 100})


def test_two_stores_over_one_root_see_each_other_commits(
        tmp_path: Path, factory: StoreFactory, city: CityProfile, sources: dict, gate: Gate) -> None:
    """Two processes (two store objects) over one store: each commit re-checks what the other stored."""
    a, b = factory(tmp_path / "store", city), factory(tmp_path / "store", city)
    prepared = [pipeline._prepare(write(tmp_path, name, logbook(rows)), sources["mains_courantes"], store=s,
                                  city=city, now=NOW, retention=365, references={}, gate=gate)
                for s, name, rows in ((a, "mains_courantes_a.csv", 100), (b, "mains_courantes_b.csv", 150))]
    assert a.commit(prepared[0].batch).duplicates == 0
    second = b.commit(prepared[1].batch)
    assert (second.events, second.duplicates) == (50, 100)
    for s in (a, b):
        assert s.manifest().generation == 2 and set(s.manifest().batches) == {p.batch.batch_id for p in prepared}
        assert s.events().count().to_pyarrow().as_py() == 150


def test_when_a_batch_is_invalid_then_the_store_is_unchanged(tmp_path: Path, store: Store, factory: StoreFactory,
                                                             city: CityProfile, sources: dict, gate: Gate) -> None:
    ingest([write(tmp_path, "mains_courantes_a.csv", logbook(10))], store=store, city=city, sources=sources, gate=gate, now=NOW)
    before = factory.state(store)
    bad = store.events().to_pyarrow().drop_columns(["month"])
    with pytest.raises(SchemaError):
        store.commit(Batch("b" * 24, "mains_courantes", "x.csv", "0" * 64, 10, events=bad))
    assert factory.state(store) == before
    assert store.batch("b" * 24) is None and store.events().count().to_pyarrow().as_py() == 10


def test_a_committed_batch_has_its_record_and_is_committed_once(
        tmp_path: Path, store: Store, city: CityProfile, sources: dict, gate: Gate) -> None:
    path = write(tmp_path, "mains_courantes_a.csv", logbook(40))
    prepared = pipeline._prepare(path, sources["mains_courantes"], store=store, city=city, now=NOW,
                                 retention=365, references={}, gate=gate)
    batch = prepared.batch
    assert store.batch(batch.batch_id) is None
    first = store.commit(batch)
    assert (first.batch_id, first.committed, first.events, first.duplicates) == (batch.batch_id, True, 40, 0)
    record = store.batch(batch.batch_id)
    assert record is not None
    assert {k: record[k] for k in ("source", "source_file", "file_sha256", "rows_read", "events", "quarantined",
                                   "reference_rows")} == {
        "source": "mains_courantes", "source_file": batch.source_file, "file_sha256": batch.file_sha256,
        "rows_read": 40, "events": 40, "quarantined": 0, "reference_rows": 0}
    datetime.fromisoformat(record["committed_at"])
    assert store.manifest().batches[batch.batch_id] == record
    generation = store.manifest().generation
    again = store.commit(batch)
    assert (again.committed, again.events, again.quarantined) == (False, 40, 0)
    assert store.manifest().generation == generation and store.events().count().to_pyarrow().as_py() == 40


def test_a_reference_table_is_read_back_and_replaced_by_the_next(store: Store) -> None:
    assert store.reference("cctv_registry") is None
    first = pa.table({"camera_id": ["c1", "c2"], "zone_id": ["13201", "13202"]})
    result = store.commit(Batch("r" * 24, "cctv_registry", "cams.csv", "1" * 64, 2, reference=first))
    assert result.committed and result.reference_rows == 2
    assert store.reference("cctv_registry").to_pyarrow().sort_by("camera_id").equals(first)
    second = pa.table({"camera_id": ["c3"], "zone_id": ["13203"]})
    store.commit(Batch("s" * 24, "cctv_registry", "cams2.csv", "2" * 64, 1, reference=second))
    assert store.reference("cctv_registry").to_pyarrow().equals(second)
    assert store.reference("patrol_plan") is None


def test_existing_event_ids_are_those_stored_for_that_source(
        tmp_path: Path, store: Store, city: CityProfile, sources: dict, gate: Gate) -> None:
    ingest([write(tmp_path, "mains_courantes_a.csv", logbook(30))], store=store, city=city, sources=sources, gate=gate, now=NOW)
    stored = store.events().event_id.to_pyarrow().combine_chunks()
    asked = pa.concat_arrays([stored.slice(0, 10), pa.array(["mains_courantes:nope", "other"], pa.string())])
    assert sorted(store.existing_event_ids("mains_courantes", asked).to_pylist()) == sorted(stored[:10].to_pylist())
    assert len(store.existing_event_ids("verbalisations", asked)) == 0
    assert len(store.existing_event_ids("mains_courantes", pa.array([], pa.string()))) == 0


def test_filter_rows_removes_what_keep_rejects_atomically_and_a_dry_run_nothing(
        tmp_path: Path, store: Store, factory: StoreFactory, city: CityProfile, sources: dict, gate: Gate) -> None:
    ingest([write(tmp_path, "mains_courantes_a.csv", logbook(120))], store=store, city=city, sources=sources, gate=gate, now=NOW)
    ingest([write(tmp_path, "mains_courantes_b.csv", logbook(130))], store=store, city=city, sources=sources,
           gate=gate, now=NOW)                                                    # 120 duplicates quarantined
    seen: dict[str, list[str]] = {}

    def keep(kind: str, columns: pa.Table) -> pa.Array | None:
        seen[kind] = columns.column_names
        if kind == "quarantine":
            return None                                                          # keep every row
        return pc.not_equal(pc.month(columns["occurred_at"]), 1)                 # drop (UTC) January

    before, generation = factory.state(store), store.manifest().generation
    n_before = store.events().count().to_pyarrow().as_py()
    january = store.events().filter(store.events().occurred_at.month() == 1).count().to_pyarrow().as_py()
    assert 0 < january < n_before
    dry = store.filter_rows(keep, dry_run=True)
    assert factory.state(store) == before and store.manifest().generation == generation
    assert seen == {k: list(v) for k, v in RETENTION_COLUMNS.items()}
    changes = store.filter_rows(keep)
    assert [{k: c[k] for k in ("kind", "source", "batch_id", "file", "rows_before", "rows_after")} for c in dry] == \
        [{k: c[k] for k in ("kind", "source", "batch_id", "file", "rows_before", "rows_after")} for c in changes]
    assert changes and all(c["kind"] == "events" and c["source"] == "mains_courantes" for c in changes)
    assert sum(c["rows_before"] - c["rows_after"] for c in changes) == january
    assert all((c["new_file"] is None) == (c["rows_after"] == 0) for c in changes)
    assert store.manifest().generation > generation
    assert store.events().count().to_pyarrow().as_py() == n_before - january
    assert store.events().filter(store.events().occurred_at.month() == 1).count().to_pyarrow().as_py() == 0
    assert store.quarantine().count().to_pyarrow().as_py() == 120                 # kept: keep gave None
    generation = store.manifest().generation
    assert store.filter_rows(lambda kind, columns: None) == []                  # nothing to remove: no change
    assert store.manifest().generation == generation


def test_a_retention_rule_hides_expired_records_unless_held(
        tmp_path: Path, factory: StoreFactory, city: CityProfile, sources: dict, gate: Gate) -> None:
    raw = factory(tmp_path / "store", city)
    ingest([write(tmp_path, "mains_courantes_a.csv", logbook(120))], store=raw, city=city, sources=sources, gate=gate, now=NOW)
    from observatoire.governance.retention import Holds

    now = datetime(2025, 7, 1, tzinfo=UTC)                      # the logbook spans January to June 2025
    holds = Holds(tmp_path / "holds.json")
    retention = Retention({"mains_courantes": 120}, holds)      # cut-off 2025-03-03
    store = factory(tmp_path / "store", city, clock=Clock(now), retention=retention)
    assert raw.retention is None and store.retention is retention
    t = raw.events()
    cut = datetime(2025, 3, 3, tzinfo=UTC)
    expired = t.filter(t.occurred_at <= cut).count().to_pyarrow().as_py()
    assert 0 < expired < 120
    assert store.events().count().to_pyarrow().as_py() == 120 - expired
    holds.add(reason="r", reference="x", actor="user:dpo", now=now, source="mains_courantes",
              start=datetime(2025, 2, 1, tzinfo=UTC), end=datetime(2025, 3, 1, tzinfo=UTC))
    feb = t.filter((t.occurred_at >= datetime(2025, 2, 1, tzinfo=UTC))
                   & (t.occurred_at < datetime(2025, 3, 1, tzinfo=UTC))).count().to_pyarrow().as_py()
    assert feb > 0 and store.events().count().to_pyarrow().as_py() == 120 - expired + feb
    assert raw.events().count().to_pyarrow().as_py() == 120                    # nothing left the store


def test_an_empty_store_reads_empty_tables_of_the_canonical_schemas(store: Store, city: CityProfile) -> None:
    assert store.manifest().generation == 0 and store.manifest().batches == {}
    assert store.events().count().to_pyarrow().as_py() == 0
    assert store.quarantine().count().to_pyarrow().as_py() == 0
    assert set(EVENT_SCHEMA.names) <= set(store.events().columns)
    assert set(QUARANTINE_SCHEMA.names) <= set(store.quarantine().columns)
