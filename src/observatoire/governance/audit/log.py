"""The audit log itself: :class:`AuditLog` appends entries, signs checkpoints and the head, and reads entries back.

Writers take an exclusive ``flock`` on ``audit_dir/.lock`` (threads and processes), readers that must not
see half an append a shared one. Each append checks the signed head against the log's last entry first,
and records any disagreement in the chain (an ``audit_verify`` entry) before signing a new head.
"""

from __future__ import annotations

import fcntl
import getpass
import math
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from observatoire.errors import InputError
from observatoire.governance.audit import keys as _keys
from observatoire.governance.audit import retention as _retention
from observatoire.governance.audit.verification import (
    GENESIS, Line, VerifyReport, as_int, canonical, cp_hash, entry_hash, is_entry, iso, jsonl, line_problem,
    safe_json, verify_log,
)
from observatoire.statefiles import fsync_dir

ACTIONS = frozenset({
    "ingest", "consult", "export", "modify", "delete", "purge", "rule_change", "rule_approval",
    "key_rotation", "login", "login_failed", "logout", "authorisation_denied", "token_issued", "token_revoked",
    "account_change", "alert_feedback", "evaluation_registered", "legal_hold", "audit_verify",
    "release",
})
OUTCOMES = frozenset({"ok", "denied", "failed"})
CHECKPOINT_EVERY = 1000
HEAD_SIZE = 512                       # head.json: one sector, so an in-place rewrite is not torn
_HEAD_FIELDS = frozenset({"seq", "hash", "at", "checkpoints", "checkpoint_seq", "checkpoint", "key_id", "sig"})


# -- value rules ----------------------------------------------------------------------------------------
def _scalar_ok(v: object) -> bool:
    if v is None or isinstance(v, (str, bool, int)):
        return True
    return isinstance(v, float) and math.isfinite(v)


def _params(name: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    """``filters``/``detail``: a flat mapping of str to scalars or lists of scalars (never record data).

    >>> _params("filters", {"zone": "13201", "sources": ("a", "b")})
    {'zone': '13201', 'sources': ['a', 'b']}
    >>> _params("detail", {"row": {"name": "x"}})
    Traceback (most recent call last):
    observatoire.errors.InputError: audit detail['row'] has a disallowed type (dict)
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"audit {name} must be a mapping of parameters")
    out: dict[str, Any] = {}
    for k, v in value.items():
        if not isinstance(k, str):
            raise InputError(f"audit {name} keys must be strings")
        if isinstance(v, (list, tuple)):
            if not all(_scalar_ok(x) for x in v):
                raise InputError(f"audit {name}[{k!r}] may only hold str/int/float/bool/None values")
            out[k] = list(v)
        elif _scalar_ok(v):
            out[k] = v
        else:
            raise InputError(f"audit {name}[{k!r}] has a disallowed type ({type(v).__name__})")
    return out


def _text(name: str, value: object, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(f"audit {name} must be a non-empty string")
    return value


def cli_actor(by: str | None = None) -> str:
    """Who an audit entry names for a command-line caller: ``cli:<by>``, else ``cli:<os user>``.

    >>> cli_actor("alice")
    'cli:alice'
    """
    if by:
        return f"cli:{by}"
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


@dataclass(frozen=True, slots=True)
class _Cps:
    """The checkpoint list as a head states it: how many, the last one's seq and line hash."""

    count: int
    seq: int
    hash: str


# -- the log ----------------------------------------------------------------------------------------
class AuditLog:
    """An append-only, hash-chained, checkpointed audit log in ``audit_dir``.

    Parameters
    ----------
    audit_dir
        Directory of the log (kept apart from the store).
    clock
        The process clock (``settings.clock``); entries and checkpoints are stamped with it.
    key_path
        The checkpoint signing key (default ``audit_dir/keys/checkpoint.key``); created at first use.
    checkpoint_every
        A signed checkpoint is written after every ``checkpoint_every``-th entry.
    durable
        ``fsync`` each entry (default True).

    Building one touches no file; the first write creates the directory and the signing key.
    """

    def __init__(self, audit_dir: Path, *, clock: Callable[[], datetime] | None = None,
                 key_path: Path | None = None, checkpoint_every: int = CHECKPOINT_EVERY,
                 durable: bool = True) -> None:
        self.dir = Path(audit_dir)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.key_path = Path(key_path) if key_path else self.dir / "keys" / "checkpoint.key"
        self.checkpoint_every = int(checkpoint_every)
        self.durable = durable
        self._key: Ed25519PrivateKey | None = None
        self._head_seen: bytes | None = None     # the head this instance last wrote or verified

    # -- paths ------------------------------------------------------------------------------------
    @property
    def log_dir(self) -> Path:
        return self.dir / "log"

    @property
    def checkpoints_path(self) -> Path:
        return self.dir / "checkpoints.jsonl"

    @property
    def head_path(self) -> Path:
        return self.dir / "head.json"

    @property
    def public_keys_dir(self) -> Path:
        return self.key_path.parent

    @property
    def _head_marker(self) -> Path:
        return self.public_keys_dir / "head.started"

    def segments(self) -> list[Path]:
        """The segment files, oldest first."""
        if not self.log_dir.exists():
            return []
        return sorted(self.log_dir.glob("*.jsonl"))

    # -- writing ----------------------------------------------------------------------------------
    @contextmanager
    def _locked(self, *, shared: bool = False) -> Iterator[None]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def record(self, action: str, *, actor: str, role: str, dataset: str,
               filters: Mapping[str, Any] | None = None, rows: int | None = None,
               purpose: str | None = None, recipient: str | None = None, outcome: str = "ok",
               detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Append one entry and return it (with ``seq``, ``at``, ``prev`` and ``hash``).

        Raises
        ------
        InputError
            For an action outside :data:`ACTIONS`, an unknown outcome, or a value of a disallowed
            type (so that no record data can be put in the log by accident).
        """
        body = self._body(action, actor=actor, role=role, dataset=dataset, filters=filters, rows=rows,
                          purpose=purpose, recipient=recipient, outcome=outcome, detail=detail)
        with self._locked():
            return self._append(body)

    @staticmethod
    def _body(action: str, *, actor: str, role: str, dataset: str, filters: Mapping[str, Any] | None = None,
              rows: int | None = None, purpose: str | None = None, recipient: str | None = None,
              outcome: str = "ok", detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """An entry's body (no seq, at, prev, hash yet), every value checked (see :meth:`record`)."""
        if action not in ACTIONS:
            raise InputError(f"unknown audit action {action!r}; expected one of {', '.join(sorted(ACTIONS))}")
        if outcome not in OUTCOMES:
            raise InputError(f"unknown audit outcome {outcome!r}; expected ok, denied or failed")
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
            raise InputError("audit rows must be a non-negative integer or None")
        body = {
            "action": action, "actor": _text("actor", actor), "role": _text("role", role),
            "dataset": _text("dataset", dataset), "filters": _params("filters", filters), "rows": rows,
            "purpose": _text("purpose", purpose, optional=True),
            "recipient": _text("recipient", recipient, optional=True),
            "outcome": outcome, "detail": _params("detail", detail),
        }
        try:
            canonical(body)  # fails early on anything canonical JSON cannot carry
        except (TypeError, ValueError) as exc:
            raise InputError(f"audit entry cannot be encoded ({type(exc).__name__})") from exc
        return body

    def _last_entry(self) -> tuple[dict[str, Any] | None, str | None]:
        """(the last line that is a complete entry, as :meth:`verify` counts one; the last non-empty segment).

        Reads from the end. Lines after that entry which are not one (a write torn by a crash, a damaged
        line) stay where they are, reported by :meth:`verify`; when they hid the entry the signed head
        vouches for, the next write's head check records it in the chain.
        """
        last_segment = None
        for seg in reversed(self.segments()):
            for raw in _lines_backwards(seg):
                last_segment = last_segment or seg.name
                entry = safe_json(raw)
                if is_entry(entry):
                    return entry, last_segment
        return None, last_segment

    def _tail(self) -> tuple[int, str, str | None]:
        """(last seq, last hash, last segment name) -- from the log, else from the purge anchor."""
        entry, last_segment = self._last_entry()
        if entry is not None:
            return int(entry["seq"]), str(entry["hash"]), last_segment
        cps = self._read_checkpoints()
        valid = [c for c, _ in cps if isinstance(c, dict) and as_int(c.get("seq")) is not None and "hash" in c]
        if valid:
            last_cp = max(valid, key=lambda c: int(c["seq"]))
            return int(last_cp["seq"]), str(last_cp["hash"]), last_segment
        return 0, GENESIS, last_segment

    def _append(self, body: dict[str, Any]) -> dict[str, Any]:
        seq, prev, last_segment = self._tail()
        cps = self._check_head(seq, prev, last_segment)
        seq, prev, last_segment = self._pending_tail
        entry = self._write_entry(body, seq, prev, last_segment)
        if self.checkpoint_every and entry["seq"] % self.checkpoint_every == 0:
            cps = self._write_checkpoint(entry["seq"], entry["hash"], cps)
        self._write_head(entry["seq"], entry["hash"], entry["at"], cps)
        return entry

    def _write_entry(self, body: dict[str, Any], seq: int, prev: str, last_segment: str | None) -> dict[str, Any]:
        at = self.clock()
        entry = {"seq": seq + 1, "at": iso(at), **body, "prev": prev}
        entry["hash"] = entry_hash(entry)
        name = f"{iso(at)[:7]}.jsonl"
        if last_segment is not None and last_segment > name:   # a clock set back never reorders segments
            name = last_segment
        path = self.log_dir / name
        line = canonical(entry) + b"\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            if os.fstat(fd).st_size and not _ends_with_newline(path):
                os.write(fd, b"\n")            # a torn line from a crash stays alone (verify reports it)
            os.write(fd, line)
            if self.durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        return entry

    # -- the signed head --------------------------------------------------------------------------
    def _check_head(self, seq: int, hash_: str, last_segment: str | None) -> _Cps:
        """Check the signed head against the log's tail before a write (under the lock).

        Returns the checkpoint-list state the next head carries. When head and log disagree, first
        appends an ``audit_verify`` entry saying how (never silently re-signing a cut or replaced
        tail), and moves ``seq``/``hash_`` on accordingly through ``self._pending_tail``.
        """
        self._pending_tail = (seq, hash_, last_segment)
        head, why = self._load_head({self._key_id(): self._signing_key().public_key()}, cache=True)
        if head is None and why == "missing" and not self._head_marker.exists():
            return self._cps_from_file()            # a new log, or one from before signed heads
        if head is not None and head["seq"] == seq and head["hash"] == hash_:
            return _Cps(head["checkpoints"], head["checkpoint_seq"], head["checkpoint"])
        if head is None:
            reason, head_seq, cps = why, None, self._cps_from_file()
        else:
            head_seq = head["seq"]
            reason = "ahead" if head_seq > seq else "behind" if head_seq < seq else "mismatch"
            cps = _Cps(head["checkpoints"], head["checkpoint_seq"], head["checkpoint"])
            found = self._cps_from_file()
            if reason == "behind" and found.count == cps.count + 1 and found.seq > head_seq:
                cps = found                         # the checkpoint of an interrupted write
        note = self._write_entry({
            "action": "audit_verify", "actor": "system:audit", "role": "system", "dataset": "audit",
            "filters": {}, "rows": None, "purpose": None, "recipient": None, "outcome": "failed",
            "detail": {"head": reason, "head_seq": head_seq, "log_seq": seq}}, seq, hash_, last_segment)
        if self.checkpoint_every and note["seq"] % self.checkpoint_every == 0:
            cps = self._write_checkpoint(note["seq"], note["hash"], cps)
        self._pending_tail = (note["seq"], note["hash"], self._tail()[2])
        return cps

    def _load_head(self, keys: Mapping[str, Ed25519PublicKey], *,
                   cache: bool = False) -> tuple[dict[str, Any] | None, str | None]:
        """(the head, None) when it is readable and its signature verifies, else (None, why)."""
        try:
            raw = self.head_path.read_bytes()
        except FileNotFoundError:
            return None, "missing"
        head = safe_json(raw)
        if not _HEAD_FIELDS <= head.keys() or as_int(head["seq"]) is None or as_int(head["checkpoints"]) is None:
            return None, "unreadable"
        if cache and raw == self._head_seen:
            return head, None
        key = keys.get(str(head["key_id"]))
        if key is None:
            return None, "unknown key"
        if not _keys.signature_ok(key, head["sig"], {k: head[k] for k in _HEAD_FIELDS - {"sig"}}):
            return None, "bad signature"
        if cache:
            self._head_seen = raw
        return head, None

    def _write_head(self, seq: int, hash_: str, at: str, cps: _Cps) -> None:
        key = self._signing_key()
        body = {"seq": seq, "hash": hash_, "at": at, "checkpoints": cps.count, "checkpoint_seq": cps.seq,
                "checkpoint": cps.hash, "key_id": self._key_id()}
        data = canonical({**body, "sig": _keys.sign(key, body)})
        data = data + b" " * (HEAD_SIZE - 1 - len(data)) + b"\n"     # one sector, rewritten in place
        new = not self.head_path.exists()
        fd = os.open(self.head_path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            os.pwrite(fd, data, 0)
            self._head_seen = data
            if os.fstat(fd).st_size != len(data):
                os.ftruncate(fd, len(data))
            if self.durable:
                os.fdatasync(fd)
        finally:
            os.close(fd)
        if new and self.durable:
            fsync_dir(self.dir)
        if not self._head_marker.exists():
            self._head_marker.write_text("this audit log has a signed head (head.json)\n", encoding="ascii")

    def _cps_from_file(self) -> _Cps:
        """The checkpoint list as the file holds it: count, last seq, hash of the last line."""
        cps = [c for c, _ in self._read_checkpoints() if c is not None]
        if not cps:
            return _Cps(0, 0, GENESIS)
        return _Cps(len(cps), as_int(cps[-1].get("seq")) or 0, cp_hash(cps[-1]))

    def head(self) -> dict[str, Any] | None:
        """The signed head as stored (None when there is none); publish it to anchor the log's end."""
        head = safe_json(self.head_path.read_bytes()) if self.head_path.exists() else {}
        return head or None

    # -- checkpoints ------------------------------------------------------------------------------
    def _signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = _keys.load_signing_key(self.key_path)
        return self._key

    def _key_id(self) -> str:
        return _keys.key_id(_keys.public_hex(self._signing_key().public_key()))

    def _write_checkpoint(self, seq: int, hash_: str, cps: _Cps) -> _Cps:
        key = self._signing_key()
        kid = _keys.publish_key(self.public_keys_dir, _keys.public_hex(key.public_key()))
        body = {"seq": seq, "hash": hash_, "at": iso(self.clock()), "key_id": kid, "prev": cps.hash}
        cp = {**body, "sig": _keys.sign(key, body)}
        with open(self.checkpoints_path, "ab") as fh:
            fh.write(canonical(cp) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._last_checkpoint = cp
        return _Cps(cps.count + 1, seq, cp_hash(cp))

    def checkpoint(self) -> dict[str, Any] | None:
        """Sign the current tail (seq, hash, at) now; None when the log is empty."""
        with self._locked():
            seq, hash_, segment = self._tail()
            if seq == 0:
                return None
            cps = self._check_head(seq, hash_, segment)
            seq, hash_, _ = self._pending_tail
            at = self._head_at(seq)
            cps = self._write_checkpoint(seq, hash_, cps)
            self._write_head(seq, hash_, at, cps)
            return self._last_checkpoint

    def _head_at(self, seq: int) -> str:
        """The ``at`` of entry ``seq`` (the tail), for a head written without a new entry."""
        last, _ = self._last_entry()
        return str(last["at"]) if last is not None and last.get("seq") == seq else iso(self.clock())

    def _read_checkpoints(self) -> list[tuple[dict[str, Any] | None, int]]:
        if not self.checkpoints_path.exists():
            return []
        return [(obj, i) for i, obj in jsonl(self.checkpoints_path)]

    def _public_keys(self) -> dict[str, Ed25519PublicKey]:
        return _keys.public_keys(self.public_keys_dir)

    # -- reading ----------------------------------------------------------------------------------
    def _lines(self) -> Iterator[Line]:
        for seg in self.segments():
            rel = f"log/{seg.name}"
            for i, obj in jsonl(seg):
                yield Line(rel, i, obj)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every readable entry, in file order."""
        for ln in self._lines():
            if ln.entry is not None:
                yield ln.entry

    def last(self, n: int, *, action: str | None = None) -> list[dict[str, Any]]:
        """The last ``n`` entries (oldest first), only those of ``action`` when given.

        Each line is read as :meth:`verify` reads it on its own, and a damaged one is shown, never raised
        on: an entry that is whole comes as stored; a line that is not (not JSON, cut short, a field
        missing, a hash that does not match) comes with what it still holds (nothing when it is not a JSON
        object) and ``damaged``: ``{"problem": ..., "file": ..., "line": ...}``, the problem in
        :meth:`verify`'s words. Problems between lines (a gap, a broken chain, the head) are
        :meth:`verify`'s alone.
        """
        if n <= 0:
            return []
        out: list[dict[str, Any]] = []
        for seg in reversed(self.segments()):
            rel = f"log/{seg.name}"
            shown = [_shown(Line(rel, i, obj)) for i, obj in jsonl(seg)]
            if action is not None:
                shown = [e for e in shown if e.get("action") == action]
            out = shown[-(n - len(out)):] + out
            if len(out) >= n:
                break
        return out

    # -- verification and retention -------------------------------------------------------------
    def verify(self) -> VerifyReport:
        """Check the chain, every hash, every checkpoint signature, the signed head and the purge anchor.

        Detects a modified, removed, inserted or reordered entry, a truncated tail, a forged,
        altered or removed checkpoint (periodic or on demand), a removed, forged or stale head,
        and the anomalies a writer recorded, and says where. Reads under a shared lock, so a
        concurrent append is never half seen.
        """
        if not self.dir.exists():
            return VerifyReport(0, None, None, 0, 0, ())
        with self._locked(shared=True):
            return self._verify()

    def _verify(self) -> VerifyReport:
        return verify_log(self)

    def purge(self, *, actor: str = "system:purge", role: str = "system",
              retention_days: int = _retention.RETENTION_DAYS, now: datetime | None = None) -> int:
        """Remove entries older than ``retention_days`` up to the last signed checkpoint before the cut
        (:func:`observatoire.governance.audit.retention.purge`); returns how many were removed."""
        return _retention.purge(self, actor=actor, role=role, retention_days=retention_days, now=now)


# -- helpers ------------------------------------------------------------------------------------------
def _shown(line: Line) -> dict[str, Any]:
    """One line as :meth:`AuditLog.last` returns it: the entry, flagged ``damaged`` when it does not verify."""
    problem = line_problem(line)
    if problem is None:
        assert line.entry is not None
        return line.entry
    return {**(line.entry or {}), "damaged": {"problem": problem, "file": line.file, "line": line.line}}


def _lines_backwards(path: Path, chunk: int = 8192) -> Iterator[bytes]:
    """The non-blank lines of ``path``, last first, reading from the end a chunk at a time."""
    with open(path, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        rest = b""
        while end > 0:
            start = max(0, end - chunk)
            fh.seek(start)
            parts = (fh.read(end - start) + rest).split(b"\n")
            end = start
            rest = parts[0]                   # the start of a line that may begin in the chunk before
            for raw in reversed(parts[1:]):
                if raw.strip():
                    yield raw
            chunk = min(chunk * 2, 1 << 20)
        if rest.strip():
            yield rest


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
