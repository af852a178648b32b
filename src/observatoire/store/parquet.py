"""The embedded store: immutable Parquet files partitioned by source and month, plus a manifest.

Layout under ``root``::

    manifest.json                                   the list of committed batches and their files
    events/source=<s>/month=<YYYY-MM>/<batch>.parquet
    quarantine/source=<s>/<batch>.parquet
    reference/<name>/<batch>.parquet                 camera registry, patrol plan, ...
    .staging/<batch>/                               files of a batch being written
    .lock                                           one writer at a time

A commit writes every file of a batch under ``.staging``, moves them into
place (invisible: no manifest lists them yet), then replaces the manifest
atomically. A crash at any point leaves the previous manifest, hence the
previous store; the next writer removes the leftovers. Queries go through Ibis
on DuckDB, reading only the files the manifest lists.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from observatoire.errors import StoreError
from observatoire.event.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA, validate_events
from observatoire.store.base import Batch, CommitResult
from observatoire.store.manifest import Manifest, fsync_dir, read_manifest, write_manifest


class ParquetStore:
    """Parquet files + manifest on a local directory."""

    def __init__(self, root: Path, *, zone_ids: frozenset[str] | None = None, write_delay_s: float = 0.0):
        self.root = Path(root)
        self.zone_ids = zone_ids
        # Fault injection for the crash test only: a pause after each staged file.
        self._write_delay_s = write_delay_s
        self._con: ibis.BaseBackend | None = None
        self._con_generation = -1

    # -- paths -----------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> Manifest:
        return read_manifest(self.manifest_path)

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        return self.manifest().batches.get(batch_id)

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def _writer(self) -> Iterator[Manifest]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreError(f"store {self.root} is being written by another process") from exc
            manifest = self.manifest()
            self._recover(manifest)
            yield manifest

    def _recover(self, manifest: Manifest) -> None:
        """Remove what an interrupted commit left: staging and files no manifest lists."""
        shutil.rmtree(self.root / ".staging", ignore_errors=True)
        listed = manifest.all_files()
        for top in ("events", "quarantine", "reference"):
            base = self.root / top
            if not base.exists():
                continue
            for path in base.rglob("*.parquet"):
                if path.relative_to(self.root).as_posix() not in listed:
                    path.unlink()

    def commit(self, batch: Batch) -> CommitResult:
        """Write ``batch`` atomically; a batch already committed is not written again."""
        with self._writer() as manifest:
            if batch.batch_id in manifest.batches:
                prior = manifest.batches[batch.batch_id]
                return CommitResult(batch.batch_id, False, prior["events"], prior["quarantined"],
                                    prior.get("reference_rows", 0))
            events = batch.events
            if events is not None:
                events = validate_events(events, self.zone_ids)
            quarantine = batch.quarantine
            if quarantine is not None:
                quarantine = quarantine.cast(QUARANTINE_SCHEMA)
            staging = self.root / ".staging" / batch.batch_id
            staged: list[tuple[Path, str]] = []
            files: dict[str, list[str]] = {"events": [], "quarantine": []}
            if events is not None and events.num_rows:
                for month in sorted(pc.unique(events["month"]).to_pylist()):
                    part = events.filter(pc.equal(events["month"], month))
                    rel = f"events/source={batch.source}/month={month}/{batch.batch_id}.parquet"
                    staged.append((self._stage(staging, rel, part), rel))
                    files["events"].append(rel)
            if quarantine is not None and quarantine.num_rows:
                rel = f"quarantine/source={batch.source}/{batch.batch_id}.parquet"
                staged.append((self._stage(staging, rel, quarantine), rel))
                files["quarantine"].append(rel)
            reference_rows = 0
            if batch.reference is not None:
                rel = f"reference/{batch.source}/{batch.batch_id}.parquet"
                staged.append((self._stage(staging, rel, batch.reference), rel))
                reference_rows = batch.reference.num_rows
            for path, rel in staged:
                final = self.root / rel
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, final)
            n_events = events.num_rows if events is not None else 0
            n_quarantined = quarantine.num_rows if quarantine is not None else 0
            manifest.batches[batch.batch_id] = {
                "source": batch.source, "source_file": batch.source_file, "file_sha256": batch.file_sha256,
                "rows_read": batch.rows_read, "events": n_events, "quarantined": n_quarantined,
                "reference_rows": reference_rows, "files": files,
                "committed_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            if batch.reference is not None:
                manifest.reference[batch.source] = {
                    "batch_id": batch.batch_id, "file": f"reference/{batch.source}/{batch.batch_id}.parquet",
                }
            manifest.generation += 1
            write_manifest(self.manifest_path, manifest)
            shutil.rmtree(self.root / ".staging", ignore_errors=True)
            return CommitResult(batch.batch_id, True, n_events, n_quarantined, reference_rows)

    def _stage(self, staging: Path, rel: str, table: pa.Table) -> Path:
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
        fsync_dir(path.parent)
        if self._write_delay_s:
            time.sleep(self._write_delay_s)
        return path

    # -- reading ---------------------------------------------------------------------------
    def connection(self) -> ibis.BaseBackend:
        """An Ibis DuckDB connection whose ``events``/``quarantine`` views follow the manifest."""
        manifest = self.manifest()
        if self._con is None or self._con_generation != manifest.generation:
            con = ibis.duckdb.connect()
            self._register(con, "events", manifest.files("events"), EVENT_SCHEMA)
            self._register(con, "quarantine", manifest.files("quarantine"), QUARANTINE_SCHEMA)
            for name, ref in manifest.reference.items():
                con.read_parquet(str(self.root / ref["file"]), table_name=f"reference_{name}")
            self._con, self._con_generation = con, manifest.generation
        return self._con

    def _register(self, con: ibis.BaseBackend, name: str, files: list[str], schema: pa.Schema) -> None:
        if files:
            con.read_parquet([str(self.root / f) for f in sorted(files)], table_name=name)
        else:
            con.create_table(name, obj=schema.empty_table(), temp=True)

    def events(self) -> ir.Table:
        return self.connection().table("events")

    def quarantine(self) -> ir.Table:
        return self.connection().table("quarantine")

    def reference(self, name: str) -> ir.Table | None:
        con = self.connection()
        table_name = f"reference_{name}"
        return con.table(table_name) if table_name in con.list_tables() else None

    def event_files(self, source: str | None = None) -> list[Path]:
        return [self.root / f for f in sorted(self.manifest().files("events", source))]

    def existing_event_ids(self, source: str, event_ids: pa.Array) -> pa.Array:
        """The subset of ``event_ids`` already stored for ``source``."""
        files = self.event_files(source)
        if not files or len(event_ids) == 0:
            return pa.array([], pa.string())
        stored = pa.chunked_array([pq.ParquetFile(f).read(columns=["event_id"])["event_id"].combine_chunks()
                                   for f in files])
        return pc.filter(event_ids, pc.is_in(event_ids, stored.combine_chunks()))
