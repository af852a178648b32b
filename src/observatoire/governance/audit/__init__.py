"""The tamper-evident audit log: append-only JSON lines, hash-chained, signed per entry, anchored outside.

Modules: :mod:`~observatoire.governance.audit.log` (:class:`AuditLog`: appending, the signed head,
checkpoints, receipts, reading entries back), :mod:`~observatoire.governance.audit.verification` (the entry
format and what :meth:`AuditLog.verify` checks, line by line and as a whole),
:mod:`~observatoire.governance.audit.keys` (the signing key and the pinned public keys verification trusts),
:mod:`~observatoire.governance.audit.anchors` (the witness file, receipts and RFC 3161 timestamps) and
:mod:`~observatoire.governance.audit.retention` (the three-year purge). Everything callers use is
importable from here.

Layout under ``audit_dir``::

    log/<YYYY-MM>.jsonl     monthly segments of entries, one JSON object a line, in ``seq`` order
    checkpoints.jsonl       signed checkpoints: Ed25519 over (seq, hash, at, key_id, prev), each
                            linked to the one before it (``prev``: SHA-256 of its canonical line)
    head.json               the signed head: the last entry (seq, hash, at) and the checkpoint list
                            (count, last seq, last line's hash), replaced atomically after every write
    keys/<key id>.pub       a copy of the public key, used only when its fingerprint is pinned
    .lock                   one writer at a time (``flock``: threads and processes)

and outside it (each configurable, docs/audit.md)::

    <audit_dir>-signing/checkpoint.key   the signing key (PKCS#8 PEM, 0600 in a 0700 folder): ``key_path``
    <audit_dir>-signing/<key id>.pub     its public key, to pin (``trusted_keys``)
    <audit_dir>-signing/head.started     says this log has a signed head (a removed head.json is noticed)
    <audit_dir>-witness/witness.jsonl    the DPO's append-only copy of every signed head (``witness``)

Each entry carries ``seq`` (1, 2, 3, ...), ``at`` (UTC, from the clock), who/what/why fields,
``prev`` (the previous entry's ``hash``; 64 zeros for the first) and ``hash``: SHA-256 over
the canonical JSON (sorted keys, no spaces, UTF-8) of the entry without ``hash``. Modifying,
removing, inserting or reordering an entry breaks the chain; rewriting the whole chain
after an entry breaks the signed head and the signed checkpoints that cover it. The head is signed after
every entry, from the first (it checkpoints each entry), and copied to the witness; a checkpoint line is
written every ``checkpoint_every`` entries (and on demand) for the purge to anchor on; its absence at such a
``seq`` is itself reported, and each checkpoint names the one before it, so removing checkpoints is detected
too. A missing head or checkpoint file is a failure, never a fresh start. Each writer checks the head
against the log before appending; when they disagree it first appends a ``audit_verify`` entry saying so
(``detail.head``), so the anomaly stays in the chain even after the head is signed again, and
:meth:`AuditLog.verify` keeps reporting it. A writer continues the chain from the last complete entry; a
damaged line after it (a write torn by a crash) stays in place, reported by :meth:`AuditLog.verify` and
flagged by :meth:`AuditLog.last`.

Signatures are checked against **pinned** public keys only (:meth:`AuditLog.trust`), never against a key
found in the log's folder: a log whose only key lies there verifies as *unpinned*. What the folder alone
cannot show (a log cut back to an older genuine head; a history rewritten and re-signed by whoever holds
the key) the witness, a receipt (:meth:`AuditLog.receipt`, ``verify(against=...)``) and RFC 3161 timestamps
show.

Retention: entries older than the retention period (3 years) are purged with
:meth:`AuditLog.purge`. The purge keeps the last signed checkpoint before the cut-off as
the anchor, records itself (a ``purge`` entry of dataset ``audit`` naming the anchor) and
then removes the entries up to the anchor; :meth:`AuditLog.verify` starts from the anchor.
"""

from __future__ import annotations

from observatoire.governance.audit.anchors import default_witness_path, read_receipt, receipt_text
from observatoire.governance.audit.keys import default_key_path
from observatoire.governance.audit.log import (
    ACTIONS, CHECKPOINT_EVERY, HEAD_SIZE, OUTCOMES, AuditLog, Trust, cli_actor,
)
from observatoire.governance.audit.retention import RETENTION_DAYS
from observatoire.governance.audit.verification import (
    FIELDS, GENESIS, AuditError, Problem, VerifyReport, canonical, entry_hash,
)

__all__ = [
    "ACTIONS", "CHECKPOINT_EVERY", "FIELDS", "GENESIS", "HEAD_SIZE", "OUTCOMES", "RETENTION_DAYS",
    "AuditError", "AuditLog", "Problem", "Trust", "VerifyReport", "canonical", "cli_actor", "default_key_path",
    "default_witness_path", "entry_hash", "read_receipt", "receipt_text",
]
