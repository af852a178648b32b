"""Retention of the audit log: three years, cut at a signed checkpoint that stays as the anchor.

:func:`purge` (:meth:`AuditLog.purge <observatoire.governance.audit.log.AuditLog.purge>`) keeps the last
signed checkpoint before the cut-off as the anchor, records itself (a ``purge`` entry of dataset ``audit``
naming the anchor) and then removes the entries up to the anchor; verification starts from the anchor. A
log that does not verify is never purged (the purge would hide the evidence); anomalies a writer already
recorded in the chain do not stop it. Each file is replaced atomically, so an interrupted purge verifies
and the next one completes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from observatoire.governance.audit.verification import (
    AuditError, as_int, checkpoint_signed, iso, parse_at, safe_json,
)
from observatoire.statefiles import atomic_write

if TYPE_CHECKING:
    from observatoire.governance.audit.log import AuditLog

RETENTION_DAYS = 3 * 365 + 1          # three years (one leap day)


def purge(log: AuditLog, *, actor: str = "system:purge", role: str = "system",
          retention_days: int = RETENTION_DAYS, now: datetime | None = None) -> int:
    """Remove entries older than ``retention_days`` up to the last signed checkpoint before the cut.

    The purge is recorded first (action ``purge``, dataset ``audit``, ``detail.anchor_seq``),
    then the entries up to the anchor are removed. Returns how many entries were removed.
    Refuses (:class:`AuditError`) when the log does not verify: a purge never hides tampering.
    """
    cutoff = (now or log.clock()) - timedelta(days=retention_days)
    with log._locked():
        report = log._verify()
        found = [p for p in report.problems if not p.recorded]   # recorded anomalies stay in the chain
        if found:
            raise AuditError(f"the audit log does not verify ({found[0]}); nothing purged")
        old = [e["seq"] for e in log.entries() if parse_at(e["at"]) < cutoff]
        anchors = [s for s in valid_checkpoint_seqs(log) if old and s <= max(old)]
        anchor = max(anchors, default=0)
        removed = 0
        if anchor > report.anchor_seq:
            n_remove = sum(1 for e in log.entries() if e["seq"] <= anchor)
            log._append(log._body("purge", actor=actor, role=role, dataset="audit",
                                  filters={"before": iso(cutoff)}, rows=n_remove, purpose="retention",
                                  detail={"anchor_seq": anchor, "retention_days": retention_days}))
            removed = n_remove
        else:
            anchor = report.anchor_seq
        if anchor:
            drop_through(log, anchor)
            seq, hash_, _ = log._tail()
            log._write_head(seq, hash_, log._head_at(seq), log._cps_from_file())
        return removed


def valid_checkpoint_seqs(log: AuditLog) -> list[int]:
    """The seqs of the checkpoints whose signature verifies, in file order."""
    keys = log._public_keys()
    return [int(cp["seq"]) for cp, _ in log._read_checkpoints()
            if cp is not None and checkpoint_signed(cp, keys) and as_int(cp.get("seq")) is not None]


def drop_through(log: AuditLog, anchor: int) -> None:
    """Remove entries with seq <= anchor (whole segments, or rewrite the straddling one),
    then checkpoints before the anchor. Each file is replaced atomically."""
    for seg in log.segments():
        raw = [r for r in seg.read_bytes().splitlines() if r.strip()]
        keep = [r for r in raw if as_int(safe_json(r).get("seq")) is None or as_int(safe_json(r).get("seq")) > anchor]
        if not keep:
            seg.unlink()
        elif len(keep) < len(raw):
            atomic_write(seg, b"".join(r + b"\n" for r in keep))
        else:
            break
    if log.checkpoints_path.exists():
        raw = [r for r in log.checkpoints_path.read_bytes().splitlines() if r.strip()]
        keep = [r for r in raw if (as_int(safe_json(r).get("seq")) or 0) >= anchor]
        if len(keep) < len(raw):
            atomic_write(log.checkpoints_path, b"".join(r + b"\n" for r in keep))
