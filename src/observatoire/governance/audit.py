"""The tamper-evident audit log: append-only JSON lines, hash-chained, with signed checkpoints.

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

Retention: entries older than the retention period (3 years) are purged with
:meth:`AuditLog.purge`. The purge keeps the last signed checkpoint before the cut-off as
the anchor, records itself (a ``purge`` entry of dataset ``audit`` naming the anchor) and
then removes the entries up to the anchor; :meth:`AuditLog.verify` starts from the anchor.

The signing key lives under ``audit_dir/keys`` by default; in production give
``key_path`` elsewhere (another volume or account, or an HSM-backed path) and publish the
public key, so that whoever can write the log cannot also sign checkpoints.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from observatoire.errors import InputError, ObservatoireError
from observatoire.statefiles import atomic_write, fsync_dir

ACTIONS = frozenset({
    "ingest", "consult", "export", "modify", "delete", "purge", "rule_change", "rule_approval",
    "key_rotation", "login", "login_failed", "logout", "authorisation_denied", "token_issued", "token_revoked",
    "account_change", "alert_feedback", "evaluation_registered", "legal_hold", "audit_verify",
    "release",
})
OUTCOMES = frozenset({"ok", "denied", "failed"})
GENESIS = "0" * 64
CHECKPOINT_EVERY = 1000
HEAD_SIZE = 512                       # head.json: one sector, so an in-place rewrite is not torn
RETENTION_DAYS = 3 * 365 + 1          # three years (one leap day)
FIELDS = ("seq", "at", "action", "actor", "role", "dataset", "filters", "rows", "purpose", "recipient",
          "outcome", "detail", "prev", "hash")


class AuditError(ObservatoireError, RuntimeError):
    """The audit log cannot be written or does not verify."""


# -- canonical form and value rules ------------------------------------------------------------
def canonical(obj: Mapping[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``entry`` without its ``hash``."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def _scalar_ok(v: object) -> bool:
    if v is None or isinstance(v, (str, bool, int)):
        return True
    return isinstance(v, float) and math.isfinite(v)


def _params(name: str, value: Mapping[str, Any] | None) -> dict[str, Any]:
    """``filters``/``detail``: a flat mapping of str to scalars or lists of scalars (never record data)."""
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


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_at(s: str) -> datetime:
    return datetime.fromisoformat(s)


def cli_actor(by: str | None = None) -> str:
    """Who an audit entry names for a command-line caller: ``cli:<by>``, else ``cli:<os user>``."""
    if by:
        return f"cli:{by}"
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


# -- verification report --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Problem:
    """One place where the log does not verify."""

    message: str
    seq: int | None = None
    file: str | None = None       # relative to the audit directory
    line: int | None = None       # 1-based line in ``file``
    recorded: bool = False        # an anomaly the writer already recorded in the chain (purge may proceed)

    def __str__(self) -> str:
        where = []
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        if self.file is not None:
            where.append(f"{self.file} line {self.line}" if self.line is not None else self.file)
        return (f"{', '.join(where)}: " if where else "") + self.message


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :meth:`AuditLog.verify` found: ``ok`` when no problem; ``problems`` in log order."""

    entries: int
    first_seq: int | None
    last_seq: int | None
    checkpoints: int                 # valid signed checkpoints checked against the log
    anchor_seq: int                  # the purge anchor verification started from (0: none)
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def error(self) -> str | None:
        """The first problem as one line, or None when the log is intact."""
        return str(self.problems[0]) if self.problems else None


@dataclass(frozen=True, slots=True)
class _Line:
    file: str
    line: int
    entry: dict[str, Any] | None   # None: not a JSON object


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
        with self._locked():
            return self._append(body)

    def _tail(self) -> tuple[int, str, str | None]:
        """(last seq, last hash, last segment name) -- from the log, else from the purge anchor."""
        for seg in reversed(self.segments()):
            last = _last_line(seg)
            if last is not None:
                try:
                    entry = json.loads(last)
                    return int(entry["seq"]), str(entry["hash"]), seg.name
                except (ValueError, KeyError, TypeError) as exc:
                    raise AuditError(f"audit log {seg.name}: the last line is unreadable; "
                                     "run `observatoire audit verify`") from exc
        cps = self._read_checkpoints()
        valid = [c for c, _ in cps if isinstance(c, dict) and "seq" in c]
        if valid:
            last_cp = max(valid, key=lambda c: int(c["seq"]))
            return int(last_cp["seq"]), str(last_cp["hash"]), None
        return 0, GENESIS, None

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
        entry = {"seq": seq + 1, "at": _iso(at), **body, "prev": prev}
        entry["hash"] = entry_hash(entry)
        name = f"{_iso(at)[:7]}.jsonl"
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
        head = _safe_json(raw)
        if not _HEAD_FIELDS <= head.keys() or _int(head["seq"]) is None or _int(head["checkpoints"]) is None:
            return None, "unreadable"
        if cache and raw == self._head_seen:
            return head, None
        key = keys.get(str(head["key_id"]))
        if key is None:
            return None, "unknown key"
        try:
            key.verify(bytes.fromhex(str(head["sig"])), canonical({k: head[k] for k in _HEAD_FIELDS - {"sig"}}))
        except (InvalidSignature, ValueError):
            return None, "bad signature"
        if cache:
            self._head_seen = raw
        return head, None

    def _write_head(self, seq: int, hash_: str, at: str, cps: _Cps) -> None:
        key = self._signing_key()
        body = {"seq": seq, "hash": hash_, "at": at, "checkpoints": cps.count, "checkpoint_seq": cps.seq,
                "checkpoint": cps.hash, "key_id": self._key_id()}
        data = canonical({**body, "sig": key.sign(canonical(body)).hex()})
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
        return _Cps(len(cps), _int(cps[-1].get("seq")) or 0, _cp_hash(cps[-1]))

    def head(self) -> dict[str, Any] | None:
        """The signed head as stored (None when there is none); publish it to anchor the log's end."""
        head = _safe_json(self.head_path.read_bytes()) if self.head_path.exists() else {}
        return head or None

    # -- checkpoints ------------------------------------------------------------------------------
    def _signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = self._load_signing_key()
        return self._key

    def _key_id(self) -> str:
        return _key_id(_public_hex(self._signing_key().public_key()))

    def _load_signing_key(self) -> Ed25519PrivateKey:
        path = self.key_path
        if path.exists():
            if path.stat().st_mode & 0o077:
                raise AuditError(f"checkpoint key {path} is readable by others; chmod 600 it")
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise AuditError(f"checkpoint key {path} is not an Ed25519 key")
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
            fh.flush()
            os.fsync(fh.fileno())
        self._publish_key(_public_hex(key.public_key()))
        return key

    def _publish_key(self, pub: str) -> str:
        """Put the public key ``pub`` (hex) among those verification trusts, once; returns its id."""
        kid = _key_id(pub)
        path = self.public_keys_dir / f"{kid}.pub"
        if not path.exists():
            path.write_text(pub + "\n", encoding="ascii")
        return kid

    def _write_checkpoint(self, seq: int, hash_: str, cps: _Cps) -> _Cps:
        key = self._signing_key()
        kid = self._publish_key(_public_hex(key.public_key()))
        body = {"seq": seq, "hash": hash_, "at": _iso(self.clock()), "key_id": kid, "prev": cps.hash}
        cp = {**body, "sig": key.sign(canonical(body)).hex()}
        with open(self.checkpoints_path, "ab") as fh:
            fh.write(canonical(cp) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._last_checkpoint = cp
        return _Cps(cps.count + 1, seq, _cp_hash(cp))

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
        last = self.last(1)
        return str(last[0]["at"]) if last and last[0].get("seq") == seq else _iso(self.clock())

    def _read_checkpoints(self) -> list[tuple[dict[str, Any] | None, int]]:
        if not self.checkpoints_path.exists():
            return []
        return [(obj, i) for i, obj in _jsonl(self.checkpoints_path)]

    def _public_keys(self) -> dict[str, Ed25519PublicKey]:
        keys = {}
        if self.public_keys_dir.exists():
            for p in self.public_keys_dir.glob("*.pub"):
                try:
                    keys[p.stem] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(p.read_text().strip()))
                except ValueError:
                    continue
        return keys

    # -- reading ----------------------------------------------------------------------------------
    def _lines(self) -> Iterator[_Line]:
        for seg in self.segments():
            rel = f"log/{seg.name}"
            for i, obj in _jsonl(seg):
                yield _Line(rel, i, obj)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every readable entry, in file order."""
        for ln in self._lines():
            if ln.entry is not None:
                yield ln.entry

    def last(self, n: int) -> list[dict[str, Any]]:
        """The last ``n`` entries (oldest first)."""
        if n <= 0:
            return []
        out: list[dict[str, Any]] = []
        for seg in reversed(self.segments()):
            lines = [json.loads(r) for r in seg.read_bytes().splitlines() if r.strip()]
            out = lines[-(n - len(out)):] + out
            if len(out) >= n:
                break
        return out

    # -- verification -----------------------------------------------------------------------------
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
        problems: list[Problem] = []
        keys = self._public_keys()
        lines = list(self._lines())
        anchor = 0
        for ln in lines:
            e = ln.entry
            if e and e.get("action") == "purge" and e.get("dataset") == "audit":
                anchor = max(anchor, _int((e.get("detail") or {}).get("anchor_seq")) or 0)

        checkpoints: dict[int, dict[str, Any]] = {}
        cp_prev: str | None = None           # hash of the previous checkpoint line (None: first line)
        n_cps = 0
        links: list[Problem] = []            # reported after the entries, before the head
        for cp, line in self._read_checkpoints():
            where = {"file": "checkpoints.jsonl", "line": line}
            if cp is not None:
                n_cps += 1
                expected = cp_prev if cp_prev is not None else (GENESIS if not anchor else None)
                cp_prev = _cp_hash(cp)
                if "prev" in cp and expected is not None and cp["prev"] != expected:
                    links.append(Problem("the signed checkpoint before this one was removed or replaced "
                                            "(its prev does not match)", seq=_int(cp.get("seq")), **where))
            if cp is None or not {"seq", "hash", "at", "key_id", "sig"} <= cp.keys():
                problems.append(Problem("unreadable checkpoint", **where))
                continue
            key = keys.get(str(cp["key_id"]))
            if key is None:
                problems.append(Problem(f"checkpoint signed by an unknown key {cp['key_id']!r}",
                                        seq=_int(cp["seq"]), **where))
                continue
            try:
                key.verify(bytes.fromhex(str(cp["sig"])), canonical(_cp_body(cp)))
            except (InvalidSignature, ValueError):
                problems.append(Problem("checkpoint signature does not verify (forged or altered)",
                                        seq=_int(cp["seq"]), **where))
                continue
            seq = int(cp["seq"])
            if seq in checkpoints and checkpoints[seq]["hash"] != cp["hash"]:
                problems.append(Problem("two signed checkpoints disagree on this entry", seq=seq, **where))
            checkpoints[seq] = cp

        hashes: dict[int, tuple[str, dict[str, Any]]] = {}
        prev_seq: int | None = None
        prev_hash: str | None = None
        first_seq: int | None = None
        n = 0
        for ln in lines:
            where = {"file": ln.file, "line": ln.line}
            e = ln.entry
            if e is None or not set(FIELDS) <= e.keys() or not isinstance(e.get("seq"), int):
                problems.append(Problem("unreadable entry (not a complete JSON entry)", **where))
                continue
            n += 1
            seq = e["seq"]
            if first_seq is None:
                first_seq = seq
            hashes[seq] = (e["hash"], where)
            if entry_hash(e) != e["hash"]:
                problems.append(Problem("entry was modified (its hash does not match its content)", seq=seq, **where))
            note = e["detail"].get("head") if e["action"] == "audit_verify" and e["dataset"] == "audit" \
                and isinstance(e["detail"], dict) else None
            if note is not None:
                problems.append(Problem(
                    f"a writer found the signed head {_NOTES.get(str(note), str(note))} (head at seq "
                    f"{e['detail'].get('head_seq')}, log at seq {e['detail'].get('log_seq')}) and recorded it here: "
                    "entries may have been cut, replaced or appended by another hand, or a write was interrupted",
                    seq=seq, recorded=True, **where))
            if prev_seq is None:
                if seq == 1:
                    if e["prev"] != GENESIS:
                        problems.append(Problem("first entry does not start the chain", seq=seq, **where))
                elif anchor and seq == anchor + 1:
                    cp = checkpoints.get(anchor)
                    if cp is None:
                        problems.append(Problem(f"the purge anchor (signed checkpoint at seq {anchor}) is missing",
                                                seq=seq, **where))
                    elif e["prev"] != cp["hash"]:
                        problems.append(Problem(f"entry does not follow the purge anchor (seq {anchor})",
                                                seq=seq, **where))
                elif anchor and seq <= anchor:
                    pass   # left by an interrupted purge: verified through the chain up to the anchor
                else:
                    start = anchor + 1
                    problems.append(Problem(f"entries {start}..{seq - 1} are missing (removed, no purge recorded)"
                                            if seq - 1 > start else f"entry {start} is missing", seq=seq, **where))
            else:
                if seq <= prev_seq:
                    problems.append(Problem(f"entry out of order or duplicated (follows seq {prev_seq}): "
                                            "inserted or reordered", seq=seq, **where))
                elif seq > prev_seq + 1:
                    missing = (f"entries {prev_seq + 1}..{seq - 1} are missing" if seq - 1 > prev_seq + 1
                               else f"entry {prev_seq + 1} is missing")
                    problems.append(Problem(f"{missing} (removed or reordered)", seq=seq, **where))
                elif e["prev"] != prev_hash:
                    problems.append(Problem(f"chain broken: prev does not match the hash of seq {prev_seq} "
                                            "(an entry was inserted, replaced or rewritten)", seq=seq, **where))
            cp = checkpoints.get(seq)
            if cp is not None and cp["hash"] != e["hash"]:
                problems.append(Problem("entry differs from its signed checkpoint (rewritten)", seq=seq, **where))
            prev_seq = seq if prev_seq is None else max(prev_seq, seq)
            prev_hash = e["hash"]

        last_seq = prev_seq
        beyond = sorted(s for s in checkpoints if s > (last_seq or 0))
        if beyond:
            problems.append(Problem(f"the log ends at seq {last_seq or 0} but a signed checkpoint covers seq "
                                    f"{beyond[-1]}: entries were removed from the tail", seq=beyond[-1],
                                    file="checkpoints.jsonl"))
        if self.checkpoint_every and last_seq:
            k = self.checkpoint_every
            for s in range(((anchor // k) + 1) * k, last_seq + 1, k):
                if s not in checkpoints:
                    problems.append(Problem("the periodic signed checkpoint of this entry is missing (removed?)",
                                            seq=s, file="checkpoints.jsonl"))
        problems.extend(links)
        problems.extend(self._verify_head(keys, last_seq or 0, hashes, n_cps, cp_prev))
        checked = sum(1 for s in checkpoints if s <= (last_seq or 0))
        return VerifyReport(n, first_seq, last_seq, checked, anchor, tuple(problems))

    def _verify_head(self, keys: Mapping[str, Ed25519PublicKey], last_seq: int,
                     hashes: Mapping[int, tuple[str, dict[str, Any]]], n_cps: int,
                     last_cp: str | None) -> list[Problem]:
        """The signed head against the log's last entry and the checkpoint list."""
        where = {"file": "head.json"}
        head, why = self._load_head(keys)
        if head is None:
            if why == "missing":
                if not self._head_marker.exists():
                    return []       # a log from before signed heads: its next write signs one
                return [Problem("the signed head is missing (head.json removed): the end of the log is not "
                                "vouched for", seq=last_seq, **where)]
            seq = _int(_safe_json(self.head_path.read_bytes()).get("seq"))
            return [Problem({"unreadable": "the signed head is unreadable",
                             "unknown key": "the signed head is signed by an unknown key (forged)",
                             "bad signature": "the signed head's signature does not verify (forged or altered)",
                             }[str(why)], seq=seq, **where)]
        out: list[Problem] = []
        h = head["seq"]
        if h > last_seq:
            out.append(Problem(f"the log ends at seq {last_seq} but the signed head is at seq {h}: "
                               "entries were removed from the tail", seq=h, **where))
        elif h < last_seq:
            first, place = h + 1, hashes.get(h + 1, (None, where))[1]
            out.append(Problem(f"the signed head stops at seq {h} but the log goes on to seq {last_seq}: an older "
                               "head was put back (replay), or entries were appended by another hand or by an "
                               "interrupted write", seq=first, **place))
        if h in hashes and hashes[h][0] != head["hash"]:
            out.append(Problem("entry differs from the signed head (rewritten)", seq=h, **hashes[h][1]))
        last_cp = last_cp or GENESIS
        if head["checkpoints"] != n_cps or head["checkpoint"] != last_cp:
            cseq = _int(head["checkpoint_seq"])
            what = ("the latest signed checkpoint was removed or replaced" if head["checkpoint"] != last_cp
                    else "a signed checkpoint was removed or added")
            out.append(Problem(f"{what}: the signed head counts {head['checkpoints']} checkpoints, the latest at seq "
                               f"{cseq}; checkpoints.jsonl holds {n_cps}", seq=cseq if head["checkpoint"] != last_cp
                               else None, file="checkpoints.jsonl"))
        return out

    # -- retention --------------------------------------------------------------------------------
    def purge(self, *, actor: str = "system:purge", role: str = "system",
              retention_days: int = RETENTION_DAYS, now: datetime | None = None) -> int:
        """Remove entries older than ``retention_days`` up to the last signed checkpoint before the cut.

        The purge is recorded first (action ``purge``, dataset ``audit``, ``detail.anchor_seq``),
        then the entries up to the anchor are removed. Returns how many entries were removed.
        Refuses (:class:`AuditError`) when the log does not verify: a purge never hides tampering.
        """
        cutoff = (now or self.clock()) - timedelta(days=retention_days)
        with self._locked():
            report = self._verify()
            found = [p for p in report.problems if not p.recorded]   # recorded anomalies stay in the chain
            if found:
                raise AuditError(f"the audit log does not verify ({found[0]}); nothing purged")
            old = [e["seq"] for e in self.entries() if _parse_at(e["at"]) < cutoff]
            anchors = [s for s in self._valid_checkpoint_seqs() if old and s <= max(old)]
            anchor = max(anchors, default=0)
            removed = 0
            if anchor > report.anchor_seq:
                n_remove = sum(1 for e in self.entries() if e["seq"] <= anchor)
                self._append({"action": "purge", "actor": _text("actor", actor), "role": _text("role", role),
                              "dataset": "audit", "filters": {"before": _iso(cutoff)}, "rows": n_remove,
                              "purpose": "retention", "recipient": None, "outcome": "ok",
                              "detail": {"anchor_seq": anchor, "retention_days": retention_days}})
                removed = n_remove
            else:
                anchor = report.anchor_seq
            if anchor:
                self._drop_through(anchor)
                seq, hash_, _ = self._tail()
                self._write_head(seq, hash_, self._head_at(seq), self._cps_from_file())
            return removed

    def _valid_checkpoint_seqs(self) -> list[int]:
        keys = self._public_keys()
        out = []
        for cp, _ in self._read_checkpoints():
            try:
                keys[str(cp["key_id"])].verify(bytes.fromhex(str(cp["sig"])), canonical(_cp_body(cp)))  # type: ignore[index]
                out.append(int(cp["seq"]))  # type: ignore[index]
            except (TypeError, KeyError, ValueError, InvalidSignature):
                continue
        return out

    def _drop_through(self, anchor: int) -> None:
        """Remove entries with seq <= anchor (whole segments, or rewrite the straddling one),
        then checkpoints before the anchor. Each file is replaced atomically."""
        for seg in self.segments():
            raw = [r for r in seg.read_bytes().splitlines() if r.strip()]
            keep = [r for r in raw if _int(_safe_json(r).get("seq")) is None or _int(_safe_json(r).get("seq")) > anchor]
            if not keep:
                seg.unlink()
            elif len(keep) < len(raw):
                atomic_write(seg, b"".join(r + b"\n" for r in keep))
            else:
                break
        if self.checkpoints_path.exists():
            raw = [r for r in self.checkpoints_path.read_bytes().splitlines() if r.strip()]
            keep = [r for r in raw if (_int(_safe_json(r).get("seq")) or 0) >= anchor]
            if len(keep) < len(raw):
                atomic_write(self.checkpoints_path, b"".join(r + b"\n" for r in keep))


# -- helpers ------------------------------------------------------------------------------------------
_HEAD_FIELDS = frozenset({"seq", "hash", "at", "checkpoints", "checkpoint_seq", "checkpoint", "key_id", "sig"})
_NOTES = {"missing": "missing", "unreadable": "unreadable", "unknown key": "signed by an unknown key",
          "bad signature": "with a signature that does not verify", "ahead": "ahead of the log (tail cut)",
          "behind": "behind the log (older head or unsigned entries)", "mismatch": "not matching the last entry"}


@dataclass(frozen=True, slots=True)
class _Cps:
    """The checkpoint list as a head states it: how many, the last one's seq and line hash."""

    count: int
    seq: int
    hash: str


def _cp_body(cp: Mapping[str, Any]) -> dict[str, Any]:
    """What a checkpoint's signature covers: everything but ``sig`` (older lines: seq, hash, at, key_id)."""
    return {k: v for k, v in cp.items() if k != "sig"}


def _cp_hash(cp: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a checkpoint line's canonical JSON, signature included."""
    return hashlib.sha256(canonical(cp)).hexdigest()


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _safe_json(raw: bytes) -> dict[str, Any]:
    """The JSON object of a line; ``{}`` when the line is not one."""
    try:
        obj = json.loads(raw)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, object or ``None`` when unreadable) for each non-blank line of ``path``."""
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, 1):
            if raw.strip():
                try:
                    obj = json.loads(raw)
                except ValueError:
                    obj = None
                yield i, obj if isinstance(obj, dict) else None


def _public_hex(pub: Ed25519PublicKey) -> str:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _key_id(pub_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(pub_hex)).hexdigest()[:16]


def _last_line(path: Path) -> bytes | None:
    """The last non-empty line of ``path`` (reading only its end)."""
    size = path.stat().st_size
    if not size:
        return None
    with open(path, "rb") as fh:
        chunk = 8192
        while True:
            start = max(0, size - chunk)
            fh.seek(start)
            data = fh.read(size - start).rstrip(b"\n\r \t")
            cut = data.rfind(b"\n")
            if cut >= 0 or start == 0:
                line = data[cut + 1:]
                return line if line.strip() else None
            chunk *= 4


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"


