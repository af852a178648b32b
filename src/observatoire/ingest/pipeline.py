"""Ingest files into the store.

Two phases, so that bad input leaves the store untouched: first every file is
resolved to a source, read, passed through the privacy gate, canonicalised
and validated; only if all of them succeed is each committed, one atomic batch
per file. A file already ingested (same source, same bytes) is a no-op.
For each file: rows read = admitted + quarantined.

Given an audit log, each file leaves one ``ingest`` entry (who, which file and source,
rows admitted and quarantined; never the data); a run refused before any commit leaves
one ``failed`` entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError, UnreadableFileError
from observatoire.event.schema import validate_events
from observatoire.gate.admit import Gate
from observatoire.gate.coarsen import coarsen
from observatoire.sources.base import Context, Source
from observatoire.sources.canonical import quarantine_table
from observatoire.sources.registry import resolve
from observatoire.store.base import Batch, CommitResult, Store


@dataclass(frozen=True, slots=True)
class FileReport:
    path: str
    source: str
    batch_id: str
    rows_read: int
    admitted: int
    quarantined: int
    committed: bool                   # False: this exact file was already in the store
    dropped_fields: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    stored_as: str = ""               # the name the store and the audit log know the file by (stored_name)
    # Admitted events already past their retention when ingested: stored, but hidden from every query at once
    # (unless a legal hold covers them) and removed by the next purge. Said, never silent.
    past_retention: int = 0


@dataclass(frozen=True, slots=True)
class _Prepared:
    path: Path
    source: Source
    batch: Batch
    already: dict[str, Any] | None         # the manifest entry when this exact file is already in the store
    dropped: dict[str, str]
    past_retention: int = 0                # admitted events whose retention ended before ``now``


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from exc
    return h.hexdigest()


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the files of directories named (sorted); missing paths are an error."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith(".")))
        elif p.is_file():
            out.append(p)
        else:
            raise UnreadableFileError(f"{p}: no such file or directory")
    if not out:
        raise InputError("nothing to ingest: no file given or the directories are empty")
    return out


def _order(items: list[tuple[Path, Source]]) -> list[tuple[Path, Source]]:
    """Reference datasets before the sources that need them."""
    return sorted(items, key=lambda it: (0 if it[1].kind == "reference" else 1, it[0].name))


def ingest(
    paths: Sequence[Path],
    *,
    store: Store,
    city: CityProfile,
    sources: dict[str, Source],
    gate: Gate,
    retention_days: dict[str, int] | None = None,
    source_name: str | None = None,
    now: datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    audit: Any | None = None,
    actor: str = "system:ingest",
    role: str = "admin",
    replace_reference: bool = False,
) -> list[FileReport]:
    """Ingest ``paths`` (files or directories); return one report per file.

    ``audit`` (an :class:`observatoire.governance.audit.AuditLog`) receives one ``ingest`` entry
    per file, made by ``actor`` acting as ``role``. A reference table in the store (camera registry, patrol
    plan) is replaced by an empty one, or by one with quarantined rows, only with ``replace_reference``: else
    the run is refused (InputError) and nothing is stored.
    """
    now = now or datetime.now(UTC)
    try:
        prepared = _prepare_all(paths, store=store, city=city, sources=sources, gate=gate,
                                retention_days=retention_days or {}, source_name=source_name, now=now,
                                progress=progress)
        if not replace_reference:
            _keep_references(prepared, store)
    except Exception as exc:   # bad input: the store is untouched; the refused run is audited once
        if audit is not None:
            audit.record("ingest", actor=actor, role=role, dataset="events", filters={"files": len(paths)},
                         outcome="failed", detail={"error": type(exc).__name__})
        raise
    n = len(prepared)
    reports = []
    for i, item in enumerate(prepared):
        if progress:
            progress(f"commit {item.path.name}", n + i, n * 2)
        filters = {"file": item.batch.source_file, "source": item.source.name}
        try:
            result = store.commit(item.batch) if item.already is None else None
        except Exception as exc:
            if audit is not None:
                audit.record("ingest", actor=actor, role=role, dataset=_dataset(item), filters=filters,
                             outcome="failed", detail={"batch_id": item.batch.batch_id, "error": type(exc).__name__})
            raise
        r = _report(item, result)
        reports.append(r)
        if audit is not None:
            audit.record("ingest", actor=actor, role=role, dataset=_dataset(item), filters=filters, rows=r.admitted,
                         detail={"batch_id": r.batch_id, "rows_read": r.rows_read, "admitted": r.admitted,
                                 "quarantined": r.quarantined, "committed": r.committed,
                                 "past_retention": r.past_retention})
    if progress:
        progress("done", n * 2, n * 2)
    return reports


def _keep_references(prepared: Sequence[_Prepared], store: Store) -> None:
    """Refuse a file that would replace a stored reference table with an empty or a partial one."""
    for item in prepared:
        b = item.batch
        if item.already is not None or b.reference is None or store.reference(b.source) is None:
            continue
        quarantined = b.quarantine.num_rows if b.quarantine is not None else 0
        if b.reference.num_rows == 0 or quarantined:
            raise InputError(f"{b.source_file}: would replace the stored {b.source} table with "
                             f"{b.reference.num_rows} row(s) ({quarantined} of {b.rows_read} quarantined); "
                             "correct the file, or pass --replace-reference to replace it anyway")


def _prepare_all(paths: Sequence[Path], *, store: Store, city: CityProfile, sources: dict[str, Source], gate: Gate,
                 retention_days: dict[str, int], source_name: str | None, now: datetime,
                 progress: Callable[[str, int, int], None] | None) -> list[_Prepared]:
    files = _order([(p, resolve(p, sources, source_name)) for p in expand(paths)])
    references = {name: store.reference(name) for name in {n for _, s in files for n in s.needs}}
    in_run: dict[str, pa.Table] = {}
    prepared: list[_Prepared] = []
    for i, (path, source) in enumerate(files):
        if progress:
            progress(f"read {path.name}", i, len(files) * 2)
        prepared.append(_prepare(path, source, store=store, city=city, gate=gate, now=now,
                                 retention=retention_days.get(source.name),
                                 references={**{k: v.to_pyarrow() for k, v in references.items() if v is not None},
                                             **in_run}))
        if prepared[-1].batch.reference is not None:
            in_run[source.name] = prepared[-1].batch.reference
    return prepared


def _dataset(item: _Prepared) -> str:
    return "reference" if item.source.kind == "reference" else "events"


def stored_name(path: Path, source: str, digest: str) -> str:
    """The name a file is known by in the store, the quarantine, the manifest and the audit log: its source and
    the start of its SHA-256, with its format's extension; never the name it came with, which can carry an
    identifier (``social_media_<handle>.jsonl``)."""
    lower = path.name.lower()
    suffix = next((s for s in (".csv.gz", ".csv", ".jsonl", ".json", ".gz") if lower.endswith(s)), "")
    return f"{source}-{digest[:16]}{suffix}"


def _prepare(path: Path, source: Source, *, store: Store, city: CityProfile, gate: Gate, now: datetime,
             retention: int | None, references: dict[str, pa.Table]) -> _Prepared:
    digest = file_sha256(path)
    batch_id = hashlib.sha256(f"{source.name}\x1f{digest}".encode()).hexdigest()[:24]
    name = stored_name(path, source.name, digest)
    prior = store.batch(batch_id)
    if prior is not None:
        return _Prepared(path, source, Batch(batch_id, source.name, name, digest, prior["rows_read"]), prior, {})
    missing = [n for n in source.needs if n not in references]
    if missing:
        raise InputError(f"{path}: source {source.name} needs {', '.join(missing)} ingested first")
    raw = source.read(path, city.timezone)
    try:
        admitted = gate.admit(source, raw)
    except InputError as exc:          # the gate's refusal, said with the file it refuses
        raise type(exc)(f"{path}: {exc}") from None
    ctx = Context(city=city, batch_id=batch_id, source_file=name, ingested_at=now,
                  retention_days=retention, references=references)
    out = source.canonicalise(admitted.table, ctx)
    parts = [out.quarantine]
    if admitted.refused:
        rows, reasons, details = zip(*admitted.refused)
        parts.append(quarantine_table(source.name, ctx, rows, reasons, details))
    if raw.malformed_rows:
        parts.append(quarantine_table(source.name, ctx, raw.malformed_rows, ["malformed_row"] * len(raw.malformed_rows),
                                      ["the row could not be parsed (wrong number of fields or bad quoting)"]
                                      * len(raw.malformed_rows)))
    events = out.events
    if events is not None and events.num_rows:
        events = validate_events(coarsen(events, gate.policies.of(source.name)), city.zone_ids)
        seen = store.existing_event_ids(source.name, events["event_id"])
        if len(seen):
            dup = pc.is_in(events["event_id"], seen)
            rows = events["source_row"].filter(dup).to_numpy()
            parts.append(quarantine_table(source.name, ctx, rows, ["duplicate_event"] * len(rows),
                                          ["this record is already in the store (another batch)"] * len(rows)))
            events = events.filter(pc.invert(dup))
    quarantine = pa.concat_tables(parts).sort_by("source_row")
    rows_read = raw.table.num_rows + len(raw.malformed_rows)  # gate-refused rows are in raw.table
    admitted_rows = (events.num_rows if events is not None else 0) + (
        out.reference.num_rows if out.reference is not None else 0)
    if admitted_rows + quarantine.num_rows != rows_read:  # pragma: no cover - an internal bug, never bad input
        raise AssertionError(f"{path}: {rows_read} rows read but {admitted_rows} admitted "
                             f"+ {quarantine.num_rows} quarantined")
    batch = Batch(batch_id, source.name, name, digest, rows_read, events=events, quarantine=quarantine,
                  reference=out.reference)
    past = 0
    if events is not None and events.num_rows and now is not None:
        past = int(pc.sum(pc.less(events["retention_until"], pa.scalar(now.astimezone(UTC).date()))).as_py() or 0)
    return _Prepared(path, source, batch, None, admitted.dropped, past)


def _report(item: _Prepared, result: CommitResult | None) -> FileReport:
    b = item.batch
    if result is None:
        prior = item.already or {}
        return FileReport(str(item.path), item.source.name, b.batch_id, prior.get("rows_read", 0),
                          prior.get("events", 0) + prior.get("reference_rows", 0), prior.get("quarantined", 0), False,
                          stored_as=b.source_file)
    reasons: dict[str, int] = {}
    if b.quarantine is not None and b.quarantine.num_rows:
        values, counts = np.unique(b.quarantine["reason"].to_numpy(zero_copy_only=False), return_counts=True)
        reasons = {str(v): int(c) for v, c in zip(values, counts)}
    if result.duplicates:                        # stored by another writer between preparing and committing
        reasons["duplicate_event"] = reasons.get("duplicate_event", 0) + result.duplicates
    return FileReport(str(item.path), item.source.name, b.batch_id, b.rows_read,
                      result.events + result.reference_rows, result.quarantined, result.committed,
                      item.dropped, reasons, b.source_file, min(item.past_retention, result.events))
