"""The Parquet store's own behaviour: its files, its write lock, a crash of ``ingest`` mid-batch.

What every store backend must do (atomic, idempotent batches; exact round trip; duplicates re-checked at
commit) is the store contract, ``tests/store``, which runs over this store too.
"""

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
from observatoire.event.schema import EVENT_SCHEMA
from observatoire.ingest import pipeline
from observatoire.ingest.pipeline import ingest
from observatoire.store.base import Batch
from observatoire.store.parquet import ParquetStore
from tests.conftest import NOW, write
from tests.store.conftest import logbook


def test_a_parquet_store_writes_one_file_per_source_and_month(
        tmp_path: Path, store: ParquetStore, city: CityProfile, sources: dict, gate: Gate) -> None:
    path = write(tmp_path, "mains_courantes_a.csv", logbook(300))
    prepared = pipeline._prepare(path, sources["mains_courantes"], store=store, city=city, now=NOW,
                                 retention=365, references={}, gate=gate)
    store.commit(prepared.batch)
    months = set(store.events().to_pyarrow()["month"].to_pylist())
    assert len(months) == 7  # 1 January 00:00 in Paris is still December in UTC
    assert len(store.event_files()) == len(months)  # one file per source and month
    assert {p.parent.name for p in store.event_files()} == {f"month={m}" for m in months}


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
