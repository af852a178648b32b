"""The embedded store: immutable Parquet files partitioned by source and month, plus a manifest.

Layout under ``root``::

    manifest.json                                   the list of committed batches and their files
    events/source=<s>/month=<YYYY-MM>/<batch>.parquet
    quarantine/source=<s>/<batch>.parquet
    reference/<name>/<batch>.parquet                 camera registry, patrol plan, ...
    rollups/{daily,cells,months}/source=<s>/<batch>.parquet  pre-aggregates of each batch (store/rollup.py)
    .staging/<batch>/                               files of a batch being written
    .lock                                           one writer at a time

A commit writes every file of a batch under ``.staging``, moves them into
place (invisible: no manifest lists them yet), then replaces the manifest
atomically. A crash at any point leaves the previous manifest, hence the
previous store; the next writer removes the leftovers. Queries go through Ibis
on DuckDB, reading only the files the manifest lists.

A change that takes files out of the store (a purge's rewrite, new rollups, a new reference
table) does not delete them at once when the store has a ``superseded_grace_s``: a query planned
on the previous generation, in this process or another, may still open them. They are listed as
superseded with the time after which they go, and deleted by the first writer after it or by
:meth:`ParquetStore.collect_superseded` (the purge waits for it). Queries never see them: the
manifest no longer lists them, and the retention filter hid their expired rows before the purge.

Given a ``retention`` (:class:`observatoire.governance.retention.Retention`) and a
``clock``, :meth:`ParquetStore.events` and :meth:`ParquetStore.quarantine` never return a
record past its retention unless a legal hold covers it, even before the purge runs.

Given a :class:`~observatoire.store.rollup.RollupSpec` (or once the manifest records one),
every commit also writes the batch's rollups, and :meth:`ParquetStore.daily_counts` /
:meth:`ParquetStore.cell_counts` answer from them, exactly as the raw events would
(:mod:`observatoire.store.rollup_read`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from observatoire.errors import StoreError
from observatoire.event.schema import EVENT_SCHEMA, QUARANTINE_SCHEMA, registered_schema, validate_events
from observatoire.store.base import RETENTION_COLUMNS, Batch, CellCounts, CommitResult, RowChange, RowFilter
from observatoire.store import rollup as rollups
from observatoire.store import rollup_read
from observatoire.statefiles import fsync_dir
from observatoire.store.manifest import Manifest, read_manifest, write_manifest
from observatoire.store.rollup import RollupSpec

if TYPE_CHECKING:
    from observatoire.governance.retention import Retention


class ParquetStore:
    """Parquet files + manifest on a local directory: a :class:`~observatoire.store.base.Store`.

    Beyond the protocol: :meth:`build_rollups` (maintenance), :meth:`event_files`, :meth:`connection`.
    """

    def __init__(self, root: Path, *, zone_ids: frozenset[str] | None = None, write_delay_s: float = 0.0,
                 clock: Callable[[], datetime] | None = None, retention: Retention | None = None,
                 rollup: RollupSpec | None = None, lock_timeout_s: float = 300.0, superseded_grace_s: float = 0.0):
        self.root = Path(root)
        # How long files taken out of the store stay on disk for queries planned before (0: deleted at once).
        self.superseded_grace_s = float(superseded_grace_s)
        self.lock_timeout_s = float(lock_timeout_s)     # how long a writer waits for another to finish
        self.zone_ids = zone_ids
        self.clock = clock or (lambda: datetime.now(UTC))
        # None: every committed record is visible (no retention rule applies to this store object).
        self.retention = retention
        # Fault injection for the crash test only: a pause after each staged file.
        self._write_delay_s = write_delay_s
        # The rollup spec for a store whose manifest records none yet (the manifest's wins).
        self.rollup_spec = rollup
        self._local = threading.local()                 # per thread: its cursor, generation and tables
        self._db: _Database | None = None               # the latest generation's database (readers)
        self._db_lock = threading.Lock()
        self._manifest_cache: tuple[tuple[int, int, int], Manifest] | None = None
        self._build_con: ibis.BaseBackend | None = None

    # -- paths -----------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def manifest(self) -> Manifest:
        """The manifest as last committed (re-read only when the file changed; do not modify it)."""
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return Manifest()
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._manifest_cache is None or self._manifest_cache[0] != key:
            self._manifest_cache = (key, read_manifest(self.manifest_path))
        return self._manifest_cache[1]

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        """The record of a committed batch (its manifest entry), or None."""
        return self.manifest().batches.get(batch_id)

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def _writer(self) -> Iterator[Manifest]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            deadline = time.monotonic() + self.lock_timeout_s
            while True:                                    # one writer at a time: wait for the other, bounded
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreError(f"store {self.root} is being written by another process; waited "
                                         f"{self.lock_timeout_s:g} s, try again when it has finished") from None
                    time.sleep(0.2)
            manifest = read_manifest(self.manifest_path)   # a private copy: the writer modifies it
            self._recover(manifest)
            self._local.expired = self._expire(manifest)
            yield manifest

    def _recover(self, manifest: Manifest) -> None:
        """Remove what an interrupted commit left: staging and files no manifest lists."""
        shutil.rmtree(self.root / ".staging", ignore_errors=True)
        listed = manifest.kept_files()
        for top in ("events", "quarantine", "reference", "rollups"):
            base = self.root / top
            if not base.exists():
                continue
            for path in base.rglob("*.parquet"):
                if path.relative_to(self.root).as_posix() not in listed:
                    path.unlink()

    def _retire(self, manifest: Manifest, rels: Sequence[str]) -> list[str]:
        """``rels`` leave the store with the next manifest: the ones to delete right after it is written (none when
        a grace applies: they are listed as superseded until the grace has passed)."""
        if self.superseded_grace_s <= 0:
            return list(rels)
        after = time.time() + self.superseded_grace_s
        manifest.superseded.extend({"file": rel, "after": after} for rel in rels)
        return []

    def _expire(self, manifest: Manifest) -> int:
        """Delete the superseded files whose grace has passed (and forget them in ``manifest``)."""
        now = time.time()
        due = [s for s in manifest.superseded if s["after"] <= now]
        for s in due:
            (self.root / s["file"]).unlink(missing_ok=True)
        manifest.superseded = [s for s in manifest.superseded if s["after"] > now]
        return len(due)

    def superseded(self) -> list[dict[str, Any]]:
        """The files taken out of the store but kept for earlier readers: ``{"file", "after"}`` (epoch seconds)."""
        return [dict(s) for s in self.manifest().superseded]

    def collect_superseded(self, *, wait: bool = False) -> int:
        """Delete the superseded files whose grace has passed (``wait``: wait for the last one's first); the count."""
        pending = self.manifest().superseded
        if not pending:
            return 0
        if wait:
            time.sleep(max(0.0, max(s["after"] for s in pending) - time.time()))
        with self._writer() as manifest:        # the writer deletes what is due as it starts
            removed = self._local.expired
            write_manifest(self.manifest_path, manifest)   # same generation: readers' views are unchanged
            fsync_dir(self.root)
            return removed

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
            # Checked again under the lock: another writer may have stored these records since they were prepared.
            duplicates = 0
            if events is not None and events.num_rows:
                events, quarantine, duplicates = self._without_stored(manifest, batch, events, quarantine)
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
            spec = self._spec(manifest)
            if spec is not None:
                rolled = {batch.batch_id: (batch.source, events)}
                for other, b in manifest.batches.items():   # batches committed before rollups existed
                    if b.get("rollup") != spec.version:
                        rolled[other] = (b["source"], self._read_batch_events(b))
                for batch_id, (source, table) in rolled.items():
                    rfiles: dict[str, list[str]] = {}
                    for kind, (path, rel) in self._stage_rollups(staging, spec, source, batch_id, table).items():
                        rfiles[kind] = [rel] if rel else []
                        if rel:
                            staged.append((path, rel))
                    if batch_id == batch.batch_id:
                        files.update(rfiles)
                    else:
                        manifest.batches[batch_id]["files"].update(rfiles)
                        manifest.batches[batch_id]["rollup"] = spec.version
                manifest.rollup = spec.to_json()
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
                "committed_at": self.clock().astimezone(UTC).isoformat(timespec="seconds"),
            }
            if spec is not None:
                manifest.batches[batch.batch_id]["rollup"] = spec.version
            retired: list[str] = []
            if batch.reference is not None:
                if (old_ref := manifest.reference.get(batch.source)) is not None:
                    retired = self._retire(manifest, [old_ref["file"]])
                manifest.reference[batch.source] = {
                    "batch_id": batch.batch_id, "file": f"reference/{batch.source}/{batch.batch_id}.parquet",
                }
            manifest.generation += 1
            write_manifest(self.manifest_path, manifest)
            shutil.rmtree(self.root / ".staging", ignore_errors=True)
            for rel in retired:
                (self.root / rel).unlink(missing_ok=True)
            return CommitResult(batch.batch_id, True, n_events, n_quarantined, reference_rows, duplicates)

    def _without_stored(self, manifest: Manifest, batch: Batch, events: pa.Table,
                        quarantine: pa.Table | None) -> tuple[pa.Table, pa.Table | None, int]:
        """``events`` without the records ``manifest`` already holds; those go to the quarantine as
        ``duplicate_event``, as the ingest's own check would have sent them."""
        seen = self.existing_event_ids(batch.source, events["event_id"], manifest)
        if not len(seen):
            return events, quarantine, 0
        dup = pc.is_in(events["event_id"], seen)
        rows = events["source_row"].filter(dup)
        n = len(rows)
        extra = pa.table({
            "batch_id": pa.array([batch.batch_id] * n, pa.string()), "source": pa.array([batch.source] * n, pa.string()),
            "source_file": pa.array([batch.source_file] * n, pa.string()), "source_row": rows.cast(pa.int64()),
            "reason": pa.array(["duplicate_event"] * n, pa.string()),
            "detail": pa.array(["this record is already in the store (another batch)"] * n, pa.string()),
            "quarantined_at": pa.array([self.clock()] * n, QUARANTINE_SCHEMA.field("quarantined_at").type),
        }, schema=QUARANTINE_SCHEMA)
        parts = [extra] if quarantine is None else [quarantine, extra]
        return events.filter(pc.invert(dup)), pa.concat_tables(parts).sort_by("source_row"), n

    def filter_rows(self, keep: RowFilter, *, dry_run: bool = False) -> list[RowChange]:
        """Rewrite the events and quarantine files without the rows ``keep`` rejects, atomically.

        ``keep(kind, columns)`` gets, per kind (``events``, ``quarantine``), the
        ``RETENTION_COLUMNS[kind]`` of every listed file, concatenated in file order, and returns
        a boolean mask of the rows to keep (None: keep every row). Files that lose rows are written
        anew under ``.staging`` and moved into place under a new name (invisible: no manifest lists
        them yet); files that lose every row leave the manifest; the manifest is then replaced
        atomically and the old files deleted. A crash at any point leaves the previous manifest,
        hence the previous store (the next writer removes the leftovers). Returns one record per
        affected file: kind, source, batch, file, rows before and after.
        """
        with self._writer() as manifest:
            generation = manifest.generation + 1
            staging = self.root / ".staging" / f"rewrite-{generation}"
            changes: list[RowChange] = []
            for kind in ("events", "quarantine"):
                listed = [(batch_id, b, rel) for batch_id, b in sorted(manifest.batches.items())
                          for rel in b["files"].get(kind, [])]
                if not listed:
                    continue
                schema = EVENT_SCHEMA if kind == "events" else QUARANTINE_SCHEMA
                cols = [c for c in RETENTION_COLUMNS[kind] if c in schema.names]
                parts = [pq.read_table(self.root / rel, columns=cols) for _, _, rel in listed]
                mask = keep(kind, pa.concat_tables(parts))
                if mask is None:
                    continue
                mask = mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask
                offset = 0
                for (batch_id, b, rel), part in zip(listed, parts):
                    m = mask.slice(offset, part.num_rows)
                    offset += part.num_rows
                    n_keep = pc.sum(m.cast(pa.int64())).as_py() or 0
                    if n_keep == part.num_rows:
                        continue
                    change: RowChange = {"kind": kind, "source": b["source"], "batch_id": batch_id, "file": rel,
                                         "rows_before": part.num_rows, "rows_after": n_keep, "new_file": None}
                    changes.append(change)
                    if dry_run or not n_keep:
                        continue
                    new_rel = str(Path(rel).parent / f"{batch_id}.g{generation}.parquet")
                    change["new_file"] = new_rel
                    staged = self._stage(staging, new_rel, pq.read_table(self.root / rel).filter(m))
                    final = self.root / new_rel
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, final)   # invisible until the manifest lists it
            if dry_run or not changes:
                return changes
            rolled, old_rollups = self._rewrite_rollups(manifest, changes, staging, generation)
            for c in changes:
                b = manifest.batches[c["batch_id"]]
                files = b["files"][c["kind"]]
                files[files.index(c["file"])] = c["new_file"]
                b["files"][c["kind"]] = [f for f in files if f is not None]
                purged = b.setdefault("purged", {"events": 0, "quarantined": 0})
                purged["events" if c["kind"] == "events" else "quarantined"] += c["rows_before"] - c["rows_after"]
            for batch_id, rfiles in rolled.items():
                manifest.batches[batch_id]["files"].update(rfiles)
            manifest.generation = generation
            retired = self._retire(manifest, [c["file"] for c in changes] + list(old_rollups))
            write_manifest(self.manifest_path, manifest)
            shutil.rmtree(self.root / ".staging", ignore_errors=True)
            for rel in retired:                                 # the old files leave the disk now (or after the grace)
                (self.root / rel).unlink(missing_ok=True)
            fsync_dir(self.root)
            return changes

    # -- rollups ---------------------------------------------------------------------------
    def _spec(self, manifest: Manifest) -> RollupSpec | None:
        """The spec rollups are written with: the manifest's, else the one this object was given."""
        if manifest.rollup is not None:       # (rollups of an older version are rebuilt with the current one,
            recorded = RollupSpec.from_json(manifest.rollup)          # and the spec this object was given)
            if recorded.version != rollups.ROLLUP_VERSION and self.rollup_spec is not None:
                return replace(self.rollup_spec, version=rollups.ROLLUP_VERSION)
            return replace(recorded, version=rollups.ROLLUP_VERSION)
        return self.rollup_spec

    def _read_batch_events(self, b: dict[str, Any], files: list[str] | None = None) -> pa.Table | None:
        """The columns rollups need, of a batch's event files (None without events)."""
        rels = b["files"].get("events", []) if files is None else files
        if not rels:
            return None
        cols = ["source", "category", "zone_id", "discovery", "occurred_at", "retention_until", "lon", "lat", "month"]
        return pa.concat_tables([pq.read_table(self.root / rel, columns=cols) for rel in rels])

    def _stage_rollups(self, staging: Path, spec: RollupSpec, source: str, name: str,
                       events: pa.Table | None) -> dict[str, tuple[Path | None, str | None]]:
        """Stage the rollups of ``events`` as ``name``; per kind (path staged, final relative path) or Nones."""
        out: dict[str, tuple[Path | None, str | None]] = {k: (None, None) for k in rollups.KINDS}
        if events is None or events.num_rows == 0:
            return out
        if self._build_con is None:
            self._build_con = ibis.duckdb.connect()
        paths = rollups.rollup_paths(source, name)
        for kind, table in rollups.build(events, spec, self._build_con).items():
            if table.num_rows:
                out[kind] = (self._stage(staging, paths[kind], table), paths[kind])
        return out

    def _rewrite_rollups(self, manifest: Manifest, changes: list[RowChange], staging: Path,
                         generation: int) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
        """Rollups of the batches whose events ``changes`` rewrote, staged and moved into place (invisible)."""
        spec = self._spec(manifest) if manifest.rollup is not None else None
        rolled: dict[str, dict[str, list[str]]] = {}
        old: list[str] = []
        if spec is None:
            return rolled, old
        for batch_id in sorted({c["batch_id"] for c in changes if c["kind"] == "events"}):
            b = manifest.batches[batch_id]
            if b.get("rollup") != spec.version:
                continue
            replaced = {c["file"]: c["new_file"] for c in changes if c["kind"] == "events" and c["batch_id"] == batch_id}
            rels = [replaced.get(f, f) for f in b["files"].get("events", [])]
            table = self._read_batch_events(b, [r for r in rels if r is not None])
            rolled[batch_id] = {}
            for kind, (path, rel) in self._stage_rollups(staging, spec, b["source"], f"{batch_id}.g{generation}",
                                                         table).items():
                old += b["files"].get(kind, [])
                rolled[batch_id][kind] = [rel] if rel else []
                if path is not None and rel is not None:
                    final = self.root / rel
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(path, final)              # invisible until the manifest lists it
        return rolled, old

    def build_rollups(self, spec: RollupSpec | None = None) -> int:
        """Write the rollups of every batch that has none (all of them when ``spec`` changes the manifest's).

        A maintenance step for stores written before rollups existed (the next commit does the
        same). Atomic like a commit. Returns the number of batches rolled up.

        Raises
        ------
        StoreError
            When no spec is given and neither the manifest nor this object has one.
        """
        with self._writer() as manifest:
            current = self._spec(manifest) if manifest.rollup is not None else None
            spec = spec or current or self.rollup_spec
            if spec is None:
                raise StoreError("no rollup spec: give one (RollupSpec.for_city(city))")
            generation = manifest.generation + 1
            staging = self.root / ".staging" / f"rollup-{generation}"
            every = current != spec
            old: list[str] = []
            done = 0
            for batch_id, b in sorted(manifest.batches.items()):
                if b.get("rollup") == spec.version and not every:
                    continue
                rfiles: dict[str, list[str]] = {}
                for kind, (path, rel) in self._stage_rollups(staging, spec, b["source"], f"{batch_id}.g{generation}",
                                                             self._read_batch_events(b)).items():
                    old += b["files"].get(kind, [])
                    rfiles[kind] = [rel] if rel else []
                    if path is not None and rel is not None:
                        final = self.root / rel
                        final.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(path, final)
                b["files"].update(rfiles)
                b["rollup"] = spec.version
                done += 1
            if not done and current == spec and RollupSpec.from_json(manifest.rollup) == spec:
                return 0
            manifest.rollup = spec.to_json()
            manifest.generation = generation
            retired = self._retire(manifest, old)
            write_manifest(self.manifest_path, manifest)
            shutil.rmtree(self.root / ".staging", ignore_errors=True)
            for rel in retired:
                (self.root / rel).unlink(missing_ok=True)
            return done

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
        """An Ibis DuckDB connection of the calling thread whose ``events``/``quarantine`` views follow the manifest.

        One in-memory DuckDB database per manifest generation holds the views; each thread reads it through its
        own cursor (DuckDB's way to query one database from several threads), so concurrent readers never wait
        for each other. A thread moves to a new generation's database on its first read after the change; the
        old one goes when no thread uses it any more.
        """
        manifest = self.manifest()
        local = self._local
        if getattr(local, "generation", None) != manifest.generation:
            db = self._database(manifest)
            old = getattr(local, "con", None)
            local.con, local.db, local.generation, local.tables = db.cursor(), db, manifest.generation, {}
            if old is not None:
                old.disconnect()
        return local.con

    def _database(self, manifest: Manifest) -> _Database:
        with self._db_lock:
            db = self._db
            if db is None or db.generation != manifest.generation:
                db = _Database(self.root, manifest)
                if self._db is None or manifest.generation > self._db.generation:
                    self._db = db
            return db

    def _table(self, name: str) -> ir.Table:
        """A table of the thread's connection, kept for the manifest's generation (rollup views made on first use)."""
        con = self.connection()
        tables = self._local.tables
        table = tables.get(name)
        if table is None:
            if name in rollups.KINDS:
                self._local.db.ensure(name, rollups.SCHEMAS[name])
            table = tables[name] = con.table(name)
        return table

    def events(self) -> ir.Table:
        """The events the manifest lists, without those past their retention (unless held)."""
        t = self._table("events")
        return t if self.retention is None else self.retention.visible(t, self.clock())

    def quarantine(self) -> ir.Table:
        """The quarantine rows, without those past their source's retention (unless held)."""
        t = self._table("quarantine")
        return t if self.retention is None else self.retention.visible(t, self.clock(), time_col="quarantined_at")

    def _rollup_ready(self, sources: Sequence[str] | None) -> tuple[RollupSpec, list[str]] | None:
        """The manifest's spec and all sources when every batch of ``sources`` has its rollups, else None."""
        self.connection()
        manifest = self.manifest()
        if manifest.rollup is None or manifest.rollup.get("version") != rollups.ROLLUP_VERSION:
            return None
        wanted = set(sources or ())
        for b in manifest.batches.values():
            if (not wanted or b["source"] in wanted) and b["files"].get("events") \
                    and b.get("rollup") != rollups.ROLLUP_VERSION:
                return None
        return RollupSpec.from_json(manifest.rollup), sorted({b["source"] for b in manifest.batches.values()})

    def daily_counts(self, *, tz: str, sources: Sequence[str] | None = None,
                     categories: Sequence[str] | None = None) -> pa.Table | None:
        """Visible events of ``sources`` per zone and local day in ``tz``, from the rollups.

        Returns ``zone_id``, ``day`` (date32), ``n`` (events of ``categories``, all when None) and
        ``n_all`` (events of any category, > 0), exactly what the raw events give
        (:mod:`observatoire.store.rollup_read`), or None when the rollups cannot answer (no rollups,
        another time zone, a batch of these sources without rollups): the caller then counts the
        raw events.
        """
        ready = self._rollup_ready(sources)
        if ready is None or ready[0].timezone != tz:
            return None
        spec, all_sources = ready
        vis = rollup_read.Visibility.of(self.retention, self.clock())
        return rollup_read.daily_counts(self.connection(), self._table("rollup_daily"), self.events(), spec, vis,
                                        sources=sources, categories=categories, all_sources=all_sources)

    def cell_counts(self, *, origin: tuple[float, float, float, float], cell_m: float,
                    start: date | None = None, end: date | None = None, sources: Sequence[str] | None = None,
                    categories: Sequence[str] | None = None,
                    extent_only: bool = False) -> CellCounts | None:
        """Visible located events per base grid cell within ``[start, end)`` (UTC midnights), from the rollups.

        ``origin`` is ``(lon0, lat0, x0, y0)`` of the asked grid: when it is the rollups' and
        ``cell_m`` a whole multiple ``m`` of their cell, returns the base counts (an asked cell is
        ``cx // m``, ``cy // m``), exactly what the raw events give: whole UTC months from the cell
        rollup, the days around them and the months a retention cut-off or a hold makes mixed from the
        raw events; else None (count the raw events).
        With ``extent_only``, only the extent of those events (count, first and last instant, sum of
        whole epoch seconds), which forecasts use to key their cache.
        """
        ready = self._rollup_ready(sources)
        if ready is None:
            return None
        spec, all_sources = ready
        factor = 1 if extent_only else spec.grid_factor(*origin, cell_m)
        if factor is None:
            return None
        vis = rollup_read.Visibility.of(self.retention, self.clock())
        table = self._table("rollup_months" if extent_only else "rollup_cells")
        out = rollup_read.cell_counts(self.connection(), table, self.events(), spec, vis, start=start, end=end,
                                      sources=sources, categories=categories, all_sources=all_sources,
                                      extent_only=extent_only)
        return None if out is None else CellCounts(factor, *out)

    def reference(self, name: str) -> ir.Table | None:
        """The latest committed reference table of source ``name``, or None."""
        self.connection()
        return self._table(f"reference_{name}") if name in self._local.db.manifest.reference else None

    def event_files(self, source: str | None = None) -> list[Path]:
        return [self.root / f for f in sorted(self.manifest().files("events", source))]

    def existing_event_ids(self, source: str, event_ids: pa.Array, manifest: Manifest | None = None) -> pa.Array:
        """The subset of ``event_ids`` already stored for ``source`` (in ``manifest``, default the current one)."""
        files = [self.root / f for f in sorted((manifest or self.manifest()).files("events", source))]
        if not files or len(event_ids) == 0:
            return pa.array([], pa.string())
        stored = pa.chunked_array([pq.ParquetFile(f).read(columns=["event_id"])["event_id"].combine_chunks()
                                   for f in files])
        return pc.filter(event_ids, pc.is_in(event_ids, stored.combine_chunks()))


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Database:
    """One generation of the store as DuckDB views (in memory), read by one cursor per thread.

    The views live in the database's catalogue (not a connection's temporary one), so every cursor sees them;
    the rollup views are made on first use, once.
    """

    def __init__(self, root: Path, manifest: Manifest) -> None:
        self.root, self.manifest, self.generation = root, manifest, manifest.generation
        self._db = duckdb.connect()
        # Listed files never change: their metadata is read once, for every cursor (a database-wide setting).
        self._db.execute("SET GLOBAL parquet_metadata_cache = true")
        self._made: set[str] = set()
        self._lock = threading.Lock()
        self._view("events", manifest.files("events"), registered_schema())
        self._view("quarantine", manifest.files("quarantine"), QUARANTINE_SCHEMA)
        for name, ref in manifest.reference.items():
            self._view(f"reference_{name}", [ref["file"]], None)

    def _view(self, name: str, files: list[str], schema: pa.Schema | None) -> None:
        if files:
            paths = ", ".join(_sql_string(str(self.root / f)) for f in sorted(files))
            # by name: files written before a source (or a plug-in) added its attributes lack them, and the first
            # file's layout would otherwise be read for all, dropping the newer files' attributes
            self._db.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet([{paths}], union_by_name = true)')
        elif schema is not None:
            self._db.register("_empty_table", schema.empty_table())
            self._db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _empty_table')
            self._db.unregister("_empty_table")
        self._made.add(name)

    def ensure(self, name: str, schema: pa.Schema) -> None:
        """Make the view of the rollup ``name`` unless it exists."""
        with self._lock:
            if name not in self._made:
                self._view(name, self.manifest.files(name), schema)

    def cursor(self) -> ibis.BaseBackend:
        """An Ibis connection over a new cursor of this database (for one thread)."""
        return ibis.duckdb.from_connection(self._db.cursor())
