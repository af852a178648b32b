"""The purge: records past their retention leave the disk (legal holds excepted).

:func:`purge` takes any :class:`~observatoire.store.base.Store` and has it rewrite its
events and quarantine without the expired, non-held rows (:meth:`Store.filter_rows`); the
store does so with its commit discipline (for the Parquet store: staging, new files invisible
until the manifest lists them, atomic manifest replace, old files deleted after), so that a
crash leaves the store as it was. It uses the same rule as every query
(:class:`~observatoire.governance.retention.Retention`), appends one line to the purge log
(``<store>/purge_log.jsonl``: per source, rows removed, files rewritten or removed, the cut-off)
and one ``purge`` audit entry; then the audit log's own 3-year retention is applied
(:meth:`AuditLog.purge`, its own entry when it removes any).

:class:`PurgeScheduler` runs it from ``serve``: a daemon thread, first run at start-up,
then every ``interval_s`` seconds; each run also writes a signed audit checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from observatoire.governance.audit import AuditError, AuditLog
from observatoire.governance.retention import Retention
from observatoire.periodic import Periodic

if TYPE_CHECKING:
    from observatoire.store.base import Store

log = logging.getLogger("observatoire.purge")


@dataclass(frozen=True, slots=True)
class SourcePurge:
    """What the purge did (or would do) for one source."""

    source: str
    cutoff: str | None                   # ISO instant at or before which records expire (None: no period)
    events_removed: int = 0
    quarantine_removed: int = 0
    held_kept: int = 0                   # expired rows kept because a legal hold covers them
    files_rewritten: int = 0
    files_removed: int = 0


@dataclass(frozen=True, slots=True)
class PurgeReport:
    at: str
    dry_run: bool
    sources: tuple[SourcePurge, ...] = field(default_factory=tuple)
    audit_entries_removed: int = 0

    @property
    def events_removed(self) -> int:
        return sum(s.events_removed for s in self.sources)

    @property
    def quarantine_removed(self) -> int:
        return sum(s.quarantine_removed for s in self.sources)

    @property
    def held_kept(self) -> int:
        return sum(s.held_kept for s in self.sources)

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "dry_run": self.dry_run, "audit_entries_removed": self.audit_entries_removed,
                "sources": [{k: getattr(s, k) for k in SourcePurge.__slots__} for s in self.sources]}


def purge(store: Store, retention: Retention, *, now: datetime, audit: AuditLog | None = None,
          actor: str = "system:purge", role: str = "system", dry_run: bool = False,
          wait: bool = True) -> PurgeReport:
    """Remove the expired, non-held rows of ``store`` from disk; log and audit it (unless ``dry_run``).

    The log is ``store.root / "purge_log.jsonl"``. Files the rewrite took out of the store stay on disk for the
    store's grace (queries planned before may still open them): with ``wait`` the purge waits for it and
    deletes them before it returns; else the next writer (or :meth:`Store.collect_superseded`) does.
    """
    import ibis

    con = ibis.duckdb.connect()
    held: dict[str, int] = {}

    def keep(kind: str, columns: pa.Table) -> pa.Array | None:
        t = ibis.memtable(columns.append_column("__i", pa.array(range(columns.num_rows), pa.int64())))
        expired, is_held = retention.parts(t, now, time_col="occurred_at" if kind == "events" else "quarantined_at")
        if expired is None:
            return None
        held_expr = is_held if is_held is not None else ibis.literal(False)
        out = con.to_pyarrow(t.select(t["__i"], t.source, expired=expired, held=held_expr).order_by("__i"))
        exp = out["expired"].combine_chunks()
        hld = out["held"].combine_chunks()
        import pyarrow.compute as pc

        for src, n in zip(*_count_by(pc.filter(out["source"], pc.and_(exp, hld)))):
            held[src] = held.get(src, 0) + n
        return pc.or_(pc.invert(exp), hld)

    changes = store.filter_rows(keep, dry_run=dry_run)
    cutoffs = retention.cutoffs(now)
    per: dict[str, dict[str, int]] = {}
    for c in changes:
        d = per.setdefault(c["source"], {"events_removed": 0, "quarantine_removed": 0,
                                         "files_rewritten": 0, "files_removed": 0})
        d["events_removed" if c["kind"] == "events" else "quarantine_removed"] += c["rows_before"] - c["rows_after"]
        d["files_rewritten" if c["rows_after"] else "files_removed"] += 1
    names = sorted(set(per) | set(held))
    sources = tuple(SourcePurge(source=s, cutoff=cutoffs[s].isoformat() if s in cutoffs else None,
                                held_kept=held.get(s, 0), **per.get(s, {})) for s in names)
    report = PurgeReport(at=now.astimezone(UTC).isoformat(), dry_run=dry_run, sources=sources)
    if dry_run:
        return report
    _append_log(store.root / "purge_log.jsonl", {**report.to_json(), "actor": actor})
    if audit is not None:
        detail: dict[str, Any] = {"events_removed": report.events_removed,
                                  "quarantine_removed": report.quarantine_removed,
                                  "held_kept": report.held_kept,
                                  "files_rewritten": sum(s.files_rewritten for s in sources),
                                  "files_removed": sum(s.files_removed for s in sources),
                                  "sources": [s.source for s in sources if s.events_removed or s.quarantine_removed]}
        audit.record("purge", actor=actor, role=role, dataset="events",
                     filters={"now": report.at}, rows=report.events_removed + report.quarantine_removed,
                     purpose="retention", detail=detail)
        removed = audit.purge(actor=actor, role=role, now=now)
        report = PurgeReport(report.at, False, sources, removed)
    if wait and changes:
        store.collect_superseded(wait=True)
    return report


def _count_by(values: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    import pyarrow.compute as pc

    vc = pc.value_counts(values)
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist()


def _append_log(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


class PurgeScheduler(Periodic):
    """Runs ``settings``' purge in a daemon thread: once at start, then every ``interval_s`` seconds."""

    thread_name = "observatoire-purge"

    def __init__(self, settings: Any, interval_s: float) -> None:
        super().__init__(settings, interval_s)
        self.runs = 0
        self.last: PurgeReport | None = None

    def run_once(self) -> PurgeReport | None:
        s = self.settings
        try:
            audit = s.audit_log()
            self.last = purge(s.store(), s.retention(), now=s.clock(), audit=audit, actor="system:purge-schedule")
            log.info("scheduled purge: %d events, %d quarantine rows removed, %d held rows kept",
                     self.last.events_removed, self.last.quarantine_removed, self.last.held_kept)
        except Exception as exc:  # noqa: BLE001 - a failed run is logged and retried at the next interval
            log.error("scheduled purge failed (%s); retrying in %.0f s", type(exc).__name__, self.interval_s)
            self.runs += 1
            return None
        try:   # the purge is done; its checkpoint (and timestamp) is another step, and fails as itself
            audit.checkpoint()
        except Exception as exc:  # noqa: BLE001 - an AuditError's message names the step (no record value)
            log.error("audit checkpoint failed after the scheduled purge (which completed): %s",
                      exc if isinstance(exc, AuditError) else type(exc).__name__)
        self.runs += 1
        return self.last
