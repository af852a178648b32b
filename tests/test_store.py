"""The store: atomic, idempotent batches; exact round trip; a crash mid-batch changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from observatoire.city.profile import CityProfile
from observatoire.gate.admit import Gate
from observatoire.errors import SchemaError
from observatoire.event.schema import EVENT_SCHEMA
from observatoire.ingest import pipeline
from observatoire.ingest.pipeline import ingest
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore
from tests.conftest import NOW, write

HEADER = "numero;date_heure;date_saisie;adresse;longitude;latitude;categorie;origine;recit;agent;personnes_impliquees\n"


def logbook(rows: int, months: int = 6, prefix: str = "MC") -> str:
    lines = [HEADER]
    for i in range(rows):
        month = 1 + i % months
        lines.append(f"{prefix}-{i};{1 + i % 28:02d}/{month:02d}/2025 {i % 24:02d}:{i % 60:02d};;;"
                     f"5,{37000 + i % 900:05d};43,{29000 + i % 700:05d};Vol;appel_usager;récit;PM{i % 50:04d};\n")
    return "".join(lines)


def test_when_ingest_then_query_the_stored_events_round_trip_exactly(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    path = write(tmp_path, "mains_courantes_a.csv", logbook(300))
    prepared = pipeline._prepare(path, sources["mains_courantes"], store=store, city=city, now=NOW,
                                 retention=365, references={}, gate=gate)
    store.commit(prepared.batch)
    expected = prepared.batch.events.sort_by("event_id")
    got = store.events().to_pyarrow().sort_by("event_id")
    assert got.cast(EVENT_SCHEMA).equals(expected.cast(EVENT_SCHEMA))
    months = set(got["month"].to_pylist())
    assert len(months) == 7  # 1 January 00:00 in Paris is still December in UTC
    assert len(store.event_files()) == len(months)  # one file per source and month


def test_when_the_same_file_is_ingested_twice_then_nothing_is_added(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    path = write(tmp_path, "mains_courantes_a.csv", logbook(100))
    [first] = ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW)
    generation = store.manifest().generation
    [again] = ingest([path], store=store, city=city, sources=sources, gate=gate, now=NOW)
    assert first.committed and not again.committed
    assert (again.rows_read, again.admitted) == (first.rows_read, first.admitted) == (100, 100)
    assert store.manifest().generation == generation
    assert store.events().count().to_pyarrow().as_py() == 100


def test_when_another_file_repeats_stored_records_then_they_are_quarantined_as_duplicates(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    ingest([write(tmp_path, "mains_courantes_a.csv", logbook(100))], store=store, city=city, sources=sources, gate=gate, now=NOW)
    [r] = ingest([write(tmp_path, "mains_courantes_b.csv", logbook(150))], store=store, city=city, sources=sources,
                 gate=gate, now=NOW)
    assert (r.admitted, r.quarantined, r.reasons) == (50, 100, {"duplicate_event": 100})
    ids = store.events().event_id.to_pyarrow()
    assert len(ids) == 150 and pc.count_distinct(ids).as_py() == 150


def test_two_files_prepared_at_once_store_each_record_once(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
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


def test_a_writer_waits_for_another_then_gives_up_with_a_message(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    import fcntl
    import threading

    from observatoire.errors import StoreError

    prepared = pipeline._prepare(write(tmp_path, "mains_courantes_a.csv", logbook(20)), sources["mains_courantes"],
                                 store=store, city=city, now=NOW, retention=365, references={}, gate=gate)
    store.root.mkdir(parents=True, exist_ok=True)
    holder = open(store.root / ".lock", "w")
    fcntl.flock(holder, fcntl.LOCK_EX)                     # another writer holds the store
    threading.Timer(0.6, lambda: (fcntl.flock(holder, fcntl.LOCK_UN), holder.close())).start()
    started = time.monotonic()
    assert store.commit(prepared.batch).committed          # it waited, then wrote
    assert time.monotonic() - started >= 0.5
    impatient = ParquetStore(store.root, zone_ids=store.zone_ids, lock_timeout_s=0.3)
    with open(store.root / ".lock", "w") as again:
        fcntl.flock(again, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="being written by another process; waited 0.3 s, try again"):
            impatient.commit(Batch("c" * 24, "mains_courantes", "x.csv", "0" * 64, 0))


def test_when_a_batch_is_invalid_then_the_store_is_unchanged(tmp_path: Path, store: ParquetStore,
                                                             city: CityProfile, sources: dict, gate: Gate) -> None:
    ingest([write(tmp_path, "mains_courantes_a.csv", logbook(10))], store=store, city=city, sources=sources, gate=gate, now=NOW)
    before = store.manifest_path.read_bytes()
    bad = store.events().to_pyarrow().drop_columns(["month"])
    with pytest.raises(SchemaError):
        store.commit(Batch("b" * 24, "mains_courantes", "x.csv", "0" * 64, 10, events=bad))
    assert store.manifest_path.read_bytes() == before


def test_files_not_in_the_manifest_are_invisible_and_removed_by_the_next_writer(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    ingest([write(tmp_path, "mains_courantes_a.csv", logbook(10))], store=store, city=city, sources=sources, gate=gate, now=NOW)
    listed = store.event_files()[0]
    orphan = listed.parent / "orphan.parquet"
    orphan.write_bytes(listed.read_bytes())  # as if a crash happened after the move, before the manifest
    fresh = ParquetStore(store.root, zone_ids=city.zone_ids)
    assert fresh.events().count().to_pyarrow().as_py() == 10
    ingest([write(tmp_path, "mains_courantes_b.csv", logbook(20, prefix="MB"))], store=fresh, city=city,
           sources=sources, gate=gate, now=NOW)
    assert not orphan.exists()


def test_when_ingest_is_killed_mid_batch_then_the_store_is_unchanged_and_the_next_ingest_completes(
        tmp_path: Path, city: CityProfile) -> None:
    root = tmp_path / "store"
    exports = tmp_path / "in"
    write(exports, "mains_courantes_old.csv", logbook(50, prefix="OLD"))
    big = write(exports / "next", "mains_courantes_new.csv", logbook(1200, months=12))
    env = {**os.environ, "OBSERVATOIRE_STORE": str(root), "OBSERVATOIRE_KEYS": str(tmp_path / "keys" / "k.key"),
           "OBSERVATOIRE_AUDIT": str(tmp_path / "audit")}
    cmd = [sys.executable, "-m", "observatoire.cli", "ingest"]
    subprocess.run(cmd + [str(exports / "mains_courantes_old.csv")], env=env, check=True, capture_output=True)
    manifest_before = (root / "manifest.json").read_bytes()
    slow = {**env, "OBSERVATOIRE_TEST_WRITE_DELAY_S": "0.3"}
    proc = subprocess.Popen(cmd + [str(big)], env=slow, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = root / ".staging"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(staging.rglob("*.parquet"))) < 3:
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(list(staging.rglob("*.parquet"))) >= 3  # it really was part-way through the batch
    assert (root / "manifest.json").read_bytes() == manifest_before
    store = ParquetStore(root, zone_ids=city.zone_ids)
    assert store.events().count().to_pyarrow().as_py() == 50
    done = subprocess.run(cmd + [str(big)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    store = ParquetStore(root, zone_ids=city.zone_ids)
    ids = store.events().event_id.to_pyarrow()
    quarantined = store.quarantine().count().to_pyarrow().as_py()  # points in the harbour are outside the city
    assert len(ids) + quarantined == 1250 and pc.count_distinct(ids).as_py() == len(ids)
    assert not staging.exists()
    listed = {str(p) for p in store.event_files()}
    on_disk = {str(p) for p in (root / "events").rglob("*.parquet")}
    assert listed == on_disk


def test_a_second_writer_is_refused_while_one_holds_the_store_past_its_wait(store: ParquetStore) -> None:
    import fcntl

    store.root.mkdir(parents=True)
    patient_briefly = ParquetStore(store.root, zone_ids=store.zone_ids, lock_timeout_s=0.2)
    with open(store.root / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(Exception, match="being written"):
            patient_briefly.commit(Batch("c" * 24, "mains_courantes", "x.csv", "0" * 64, 0,
                                         events=pa.Table.from_pylist([], schema=EVENT_SCHEMA)))
