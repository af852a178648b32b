"""The audit log itself: :class:`AuditLog` appends entries, signs checkpoints and the head, and reads entries back.

Writers take an exclusive ``flock`` on ``audit_dir/.lock`` (threads and processes), readers that must not
see half an append a shared one. Each append checks the signed head against the log's last entry first,
and records any disagreement in the chain (an ``audit_verify`` entry) before signing a new head; every head
is also appended to the witness when one is configured (:mod:`~observatoire.governance.audit.anchors`).
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from observatoire.errors import InputError
from observatoire.governance.audit import anchors as _anchors
from observatoire.governance.audit import keys as _keys
from observatoire.governance.audit import retention as _retention
from observatoire.governance.audit.verification import (
    GENESIS, AuditError, Line, Problem, VerifyReport, as_int, canonical, cp_hash, entry_hash, is_entry, iso, jsonl,
    line_problem, safe_json, verify_log,
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


@dataclass(frozen=True, slots=True)
class Trust:
    """The public keys verification trusts, where they come from, and why none when there are none."""

    keys: Mapping[str, Ed25519PublicKey]
    source: str                    # in words: which pins
    problem: str | None = None     # set when nothing trustworthy is pinned ("unpinned: ...")
    notes: tuple[str, ...] = ()


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
        The checkpoint signing key, created at first use; default ``<audit_dir>-signing/checkpoint.key``,
        outside the log's folder (a log of the older layout, whose key is ``audit_dir/keys/checkpoint.key``,
        keeps using it, and verifies as *unpinned* until the key is moved out).
    checkpoint_every
        A signed checkpoint is written after every ``checkpoint_every``-th entry (the signed head
        checkpoints every entry, from the first).
    durable
        ``fsync`` each entry (default True).
    trusted_keys
        The pinned public keys verification trusts: public key files (hex or PEM) or ``sha256:``
        fingerprints. None or empty: the public half of ``key_path``, when it lies outside the log's folder.
    witness
        The DPO's append-only witness file (outside the log's folder): every signed head is appended to it.
    tsa_url, tsa_cert
        An RFC 3161 timestamp authority that timestamps each on-demand checkpoint and receipt, and the
        PEM certificate(s) its tokens are checked against.

    Building one touches no file; the first write creates the directory and the signing key.
    """

    def __init__(self, audit_dir: Path, *, clock: Callable[[], datetime] | None = None,
                 key_path: Path | None = None, checkpoint_every: int = CHECKPOINT_EVERY,
                 durable: bool = True, trusted_keys: Iterable[str | Path] | None = None,
                 witness: Path | None = None, tsa_url: str | None = None, tsa_cert: Path | None = None) -> None:
        self.dir = Path(audit_dir)
        self.clock = clock or (lambda: datetime.now(UTC))
        default = _keys.default_key_path(self.dir)
        legacy = self.dir / "keys" / _keys.KEY_NAME
        if key_path:
            self.key_path = Path(key_path)
        else:                       # a log of the older layout keeps its key (and is reported unpinned)
            self.key_path = legacy if not default.exists() and legacy.exists() else default
        self.checkpoint_every = int(checkpoint_every)
        self.durable = durable
        self.trusted_keys = tuple(trusted_keys or ())
        self.witness = Path(witness) if witness else None
        if self.witness is not None and _keys.inside(self.witness, self.dir):
            raise InputError(f"the witness {self.witness} must lie outside the audit folder {self.dir} "
                             "(whoever rewrites the log could rewrite it)")
        self.tsa_url = tsa_url or None
        self.tsa_cert = Path(tsa_cert) if tsa_cert else None
        self.last_timestamp: dict[str, Any] | None = None   # the latest RFC 3161 record this instance obtained
        self._key: Ed25519PrivateKey | None = None
        self._head_seen: bytes | None = None     # the head this instance last wrote or verified
        self._published = False
        self._key_error = ""
        self._kid: str | None = None
        self._own: dict[str, Ed25519PublicKey] | None = None
        self._marker: Path | None = None

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
        """Says, beside the signing key and outside the log's folder, that this log has a signed head."""
        if self._marker is None:
            if self.key_path == _keys.default_key_path(self.dir) or _keys.inside(self.key_path, self.dir):
                self._marker = self.public_keys_dir / "head.started"
            else:                                                   # a signing key shared by several logs
                digest = hashlib.sha256(os.path.realpath(self.dir).encode()).hexdigest()[:12]
                self._marker = self.public_keys_dir / f"head-{digest}.started"
        return self._marker

    def _headless_allowed(self) -> bool:
        """Whether a missing head may be a log from before signed heads: only when the marker would lie outside
        the log's folder, beside a signing key this process can read and a folder it can write (where the
        marker would be, had a head ever been signed); never in the older layout."""
        marker = self._head_marker
        return (not marker.exists() and not _keys.inside(marker, self.dir) and self.key_path.exists()
                and os.access(marker.parent, os.W_OK))

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
        if self._own is None:
            self._own = {self._key_id(): self._signing_key().public_key()}
        head, why = self._load_head(self._own, cache=True)
        if head is None and why == "missing" and not self._head_marker.exists() and (
                seq == 0 and not self.checkpoints_path.exists() or self._headless_allowed()):
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
        if not _keys.signature_ok(key, head["sig"], {k: v for k, v in head.items() if k != "sig"}):
            return None, "bad signature"
        if cache:
            self._head_seen = raw
        return head, None

    def _write_head(self, seq: int, hash_: str, at: str, cps: _Cps) -> None:
        key = self._signing_key()
        body: dict[str, Any] = {"seq": seq, "hash": hash_, "at": at, "checkpoints": cps.count,
                                "checkpoint_seq": cps.seq, "checkpoint": cps.hash, "key_id": self._key_id()}
        if self.witness is not None:
            body["witnessed"] = True               # from now on a missing witness is a failure
        head = {**body, "sig": _keys.sign(key, body)}
        data = canonical(head)
        if len(data) >= HEAD_SIZE:
            raise AuditError(f"the signed head would not fit in {HEAD_SIZE} bytes")
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
        if self.witness is not None:              # after the head: a crash leaves the witness behind, never ahead
            # One append per entry; flushed to disk (fsync) with each checkpoint: a crash can only make it lag.
            _anchors.append_witness(self.witness, head, durable=self.durable and cps.seq == seq)
        if not self._head_marker.exists():
            try:
                self._head_marker.write_text("this audit log has a signed head (head.json)\n", encoding="ascii")
            except OSError:     # a key folder this account may not write (a separate service account's)
                pass

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
        if not self._published:   # a copy for those who verify by fingerprint (trusted only when pinned)
            try:
                _keys.publish_key(self.dir / "keys", _keys.public_hex(self._key.public_key()))
            except OSError:
                pass
            self._published = True
        return self._key

    def can_sign(self) -> bool:
        """Whether this process holds the signing key (it exists and can be read), without creating it."""
        try:
            self._key = self._key or _keys.load_signing_key(self.key_path, create=False)
        except AuditError as exc:
            self._key_error = str(exc)
            return False
        return True

    def trust(self) -> Trust:
        """The pinned public keys verification trusts (:func:`~observatoire.governance.audit.keys.resolve_pins`).

        Raises :class:`InputError` for a pin that is not a readable public key or lies in the log's folder.
        """
        if self.trusted_keys:
            keys, missing = _keys.resolve_pins(self.trusted_keys, audit_dir=self.dir,
                                               search=[self.public_keys_dir, self.dir / "keys"])
            notes = tuple(f"pinned key {fp} not found (no .pub file with that fingerprint beside the signing key "
                          "or in the log's keys/): pin its file instead" for fp in missing)
            source = "pinned keys " + ", ".join(_keys.fingerprint(_keys.public_hex(k)) for k in keys.values())
            if not keys:
                return Trust({}, "none", "unpinned: none of the pinned public keys could be found", notes)
            return Trust(keys, source, None, notes)
        if _keys.inside(self.key_path, self.dir):
            return Trust({}, "none", f"unpinned: the only key at hand is the signing key {self.key_path}, inside "
                         "the log's own folder, so whoever can rewrite the log can re-sign it: move the key out "
                         "(--signing-key, OBSERVATOIRE_AUDIT_SIGNING_KEY) and pin its public key (--trusted-key)")
        if not self.can_sign():
            return Trust({}, "none", "unpinned: no public key is pinned (--trusted-key, "
                         f"OBSERVATOIRE_AUDIT_TRUSTED_KEYS) and the signing key is not at hand: {self._key_error}")
        assert self._key is not None
        pub = _keys.public_hex(self._key.public_key())
        return Trust({_keys.key_id(pub): self._key.public_key()},
                     f"the configured signing key {self.key_path} ({_keys.fingerprint(pub)})")

    def _key_id(self) -> str:
        if self._kid is None:
            self._kid = _keys.key_id(_keys.public_hex(self._signing_key().public_key()))
        return self._kid

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

    def checkpoint(self, *, timestamp: bool | None = None) -> dict[str, Any] | None:
        """Sign the current tail (seq, hash, at) now; None when the log is empty.

        With a timestamp authority (``tsa_url``; ``timestamp`` not False) the checkpoint is also timestamped
        (RFC 3161) and the token appended to the witness; ``last_timestamp`` holds the record. Raises
        :class:`AuditError` when the authority fails (the checkpoint itself is written).
        """
        self.last_timestamp = None
        with self._locked():
            seq, hash_, segment = self._tail()
            if seq == 0:
                return None
            cps = self._check_head(seq, hash_, segment)
            seq, hash_, _ = self._pending_tail
            at = self._head_at(seq)
            cps = self._write_checkpoint(seq, hash_, cps)
            self._write_head(seq, hash_, at, cps)
            cp = self._last_checkpoint
        if self.tsa_url and timestamp is not False:
            self._timestamp(cp)
        return cp

    def _timestamp(self, cp: Mapping[str, Any]) -> dict[str, Any]:
        """An RFC 3161 timestamp of checkpoint ``cp`` from ``tsa_url``, appended to the witness."""
        assert self.tsa_url
        seq, hash_ = int(cp["seq"]), str(cp["hash"])
        try:
            token = _anchors.request_timestamp(self.tsa_url, _anchors.anchor_message(seq, hash_))
        except AuditError as exc:
            raise AuditError(f"checkpoint at seq {seq} signed, but not timestamped: {exc}") from None
        record = _anchors.timestamp_record(seq, hash_, self.tsa_url, token)
        if self.witness is not None:
            with self._locked():
                _anchors.append_witness(self.witness, record, durable=self.durable)
        self.last_timestamp = record
        return record

    def receipt(self, *, timestamp: bool | None = None) -> dict[str, Any]:
        """A receipt for the DPO: a fresh signed checkpoint's seq and hash, signed again as a receipt, with an
        RFC 3161 timestamp when a timestamp authority is configured (``timestamp`` not False).

        Keep it apart from the system; ``verify(against=[receipt file])`` proves the log still extends it.
        Raises :class:`InputError` on an empty log, :class:`AuditError` when the authority fails.
        """
        cp = self.checkpoint(timestamp=False)
        if cp is None:
            raise InputError(f"the audit log in {self.dir} is empty: nothing to give a receipt for")
        key = self._signing_key()
        pub = _keys.public_hex(key.public_key())
        body: dict[str, Any] = {
            "receipt": _anchors.RECEIPT_KIND, "version": 1, "log": os.path.abspath(self.dir),
            "seq": cp["seq"], "hash": cp["hash"], "at": cp["at"], "issued_at": iso(self.clock()),
            "key_id": _keys.key_id(pub), "fingerprint": _keys.fingerprint(pub)}
        if self.tsa_url and timestamp is not False:
            stamp = self._timestamp(cp)
            body["rfc3161"] = {k: stamp[k] for k in ("tsa", "gen_time", "token")}
        return {**body, "sig": _keys.sign(key, body)}

    def _head_at(self, seq: int) -> str:
        """The ``at`` of entry ``seq`` (the tail), for a head written without a new entry."""
        last, _ = self._last_entry()
        return str(last["at"]) if last is not None and last.get("seq") == seq else iso(self.clock())

    def _read_checkpoints(self) -> list[tuple[dict[str, Any] | None, int]]:
        if not self.checkpoints_path.exists():
            return []
        return [(obj, i) for i, obj in jsonl(self.checkpoints_path)]

    def _public_keys(self) -> dict[str, Ed25519PublicKey]:
        return dict(self.trust().keys)

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
    def verify(self, *, against: Sequence[Path | str] = ()) -> VerifyReport:
        """Check the chain, every hash, every checkpoint signature, the signed head and the purge anchor,
        against the pinned keys only (:meth:`trust`); then the witness (when configured) and each receipt of
        ``against``.

        Detects a modified, removed, inserted or reordered entry, a truncated tail, a forged,
        altered or removed checkpoint (periodic or on demand), a removed, forged or stale head,
        and the anomalies a writer recorded, and says where; with a witness or a receipt, also a log
        put back as it was (an older head) or rewritten and re-signed with the key. Reads under a shared
        lock, so a concurrent append is never half seen. Raises :class:`InputError` for a receipt or pin
        that cannot be read.
        """
        receipts = [(str(p), _anchors.read_receipt(Path(p))) for p in against]
        roots = _anchors.load_tsa_roots(self.tsa_cert)
        if not self.dir.exists():
            problems = tuple(Problem(f"the audit folder {self.dir} does not exist, but the receipt witnessed seq "
                                     f"{r['seq']}", seq=int(r["seq"]), file=name) for name, r in receipts)
            return VerifyReport(0, None, None, 0, 0, problems)
        with self._locked(shared=True):
            return verify_log(self, receipts=receipts, tsa_roots=roots)

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
