"""The tamper-evident audit log: append-only JSON lines, hash-chained, with signed checkpoints.

Modules: :mod:`~observatoire.governance.audit.log` (:class:`AuditLog`: appending, the signed head,
checkpoints, reading entries back), :mod:`~observatoire.governance.audit.verification` (the entry format
and what :meth:`AuditLog.verify` checks, line by line and as a whole),
:mod:`~observatoire.governance.audit.keys` (the signing key and the public keys verification trusts) and
:mod:`~observatoire.governance.audit.retention` (the three-year purge). Everything callers use is
importable from here.

Layout under ``audit_dir``::

    log/<YYYY-MM>.jsonl     monthly segments of entries, one JSON object a line, in ``seq`` order
    checkpoints.jsonl       signed checkpoints: Ed25519 over (seq, hash, at, key_id, prev), each
                            linked to the one before it (``prev``: SHA-256 of its canonical line)
    head.json               the signed head: the last entry (seq, hash, at) and the checkpoint list
                            (count, last seq, last line's hash), replaced atomically after every write
    keys/checkpoint.key     the checkpoint signing key (PKCS#8 PEM, mode 0600, directory 0700)
    keys/<key id>.pub       the public keys verification trusts (raw Ed25519, hex)
    keys/head.started       marks that this log has a signed head (so a removed head.json is noticed)
    .lock                   one writer at a time (``flock``: threads and processes)

Each entry carries ``seq`` (1, 2, 3, ...), ``at`` (UTC, from the clock), who/what/why fields,
``prev`` (the previous entry's ``hash``; 64 zeros for the first) and ``hash``: SHA-256 over
the canonical JSON (sorted keys, no spaces, UTF-8) of the entry without ``hash``. Modifying,
removing, inserting or reordering an entry breaks the chain; rewriting the whole chain
after an entry breaks the signed checkpoint that covers it. A checkpoint is written every
``checkpoint_every`` entries (and on demand); its absence at such a ``seq`` is itself
reported, and each checkpoint names the one before it, so removing checkpoints is detected too.
The signed head closes the two ends the chain cannot see: entries cut from the tail, and the
latest checkpoint removed. Each writer checks the head against the log before appending; when they
disagree it first appends a ``audit_verify`` entry saying so (``detail.head``), so the anomaly stays
in the chain even after the head is signed again, and :meth:`AuditLog.verify` keeps reporting it.
A writer continues the chain from the last complete entry; a damaged line after it (a write torn by a
crash) stays in place, reported by :meth:`AuditLog.verify` and flagged by :meth:`AuditLog.last`.

Retention: entries older than the retention period (3 years) are purged with
:meth:`AuditLog.purge`. The purge keeps the last signed checkpoint before the cut-off as
the anchor, records itself (a ``purge`` entry of dataset ``audit`` naming the anchor) and
then removes the entries up to the anchor; :meth:`AuditLog.verify` starts from the anchor.

The signing key lives under ``audit_dir/keys`` by default; in production give
``key_path`` elsewhere (another volume or account, or an HSM-backed path) and publish the
public key, so that whoever can write the log cannot also sign checkpoints.
"""

from __future__ import annotations

from observatoire.governance.audit.log import ACTIONS, CHECKPOINT_EVERY, HEAD_SIZE, OUTCOMES, AuditLog, cli_actor
from observatoire.governance.audit.retention import RETENTION_DAYS
from observatoire.governance.audit.verification import (
    FIELDS, GENESIS, AuditError, Problem, VerifyReport, canonical, entry_hash,
)

__all__ = [
    "ACTIONS", "CHECKPOINT_EVERY", "FIELDS", "GENESIS", "HEAD_SIZE", "OUTCOMES", "RETENTION_DAYS",
    "AuditError", "AuditLog", "Problem", "VerifyReport", "canonical", "cli_actor", "entry_hash",
]
