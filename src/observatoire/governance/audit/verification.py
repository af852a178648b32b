"""What makes the audit log verify: the entry format, each line on its own, the chain, the checkpoints, the head.

The entry format lives here because verification is what it is for: ``canonical`` JSON, ``entry_hash``,
``GENESIS`` and ``FIELDS``. So does the reading of one line on its own (:func:`line_problem`), which
:func:`verify_log` and :meth:`AuditLog.last <observatoire.governance.audit.log.AuditLog.last>` share: a
damaged line reads the same in ``observatoire audit verify``, ``observatoire audit show`` and
``GET /api/v1/audit``.

>>> canonical({"b": 1, "a": "é"})
b'{"a":"\\xc3\\xa9","b":1}'
>>> entry_hash({"seq": 1, "hash": "anything"}) == entry_hash({"seq": 1})   # the hash leaves itself out
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from observatoire.errors import ObservatoireError

if TYPE_CHECKING:
    from observatoire.governance.audit.log import AuditLog

GENESIS = "0" * 64
FIELDS = ("seq", "at", "action", "actor", "role", "dataset", "filters", "rows", "purpose", "recipient",
          "outcome", "detail", "prev", "hash")
UNREADABLE = "unreadable entry (not a complete JSON entry)"
MODIFIED = "entry was modified (its hash does not match its content)"


class AuditError(ObservatoireError, RuntimeError):
    """The audit log cannot be written or does not verify."""


# -- the entry format ---------------------------------------------------------------------------------
def canonical(obj: Mapping[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8, no NaN."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``entry`` without its ``hash``."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def iso(at: datetime) -> str:
    """An entry's ``at``: UTC, microseconds (a naive time is taken as UTC).

    >>> iso(datetime(2024, 1, 1, 12))
    '2024-01-01T12:00:00.000000+00:00'
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def parse_at(s: str) -> datetime:
    return datetime.fromisoformat(s)


def as_int(v: object) -> int | None:
    """``v`` when it is an int (not a bool), else None."""
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def safe_json(raw: bytes) -> dict[str, Any]:
    """The JSON object of a line; ``{}`` when the line is not one.

    >>> safe_json(b'{"seq": 1}'), safe_json(b'{"seq": 1'), safe_json(b'[1]')
    ({'seq': 1}, {}, {})
    """
    try:
        obj = json.loads(raw)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, object or ``None`` when unreadable) for each non-blank line of ``path``."""
    with open(path, "rb") as fh:
        for i, raw in enumerate(fh, 1):
            if raw.strip():
                try:
                    obj = json.loads(raw)
                except ValueError:
                    obj = None
                yield i, obj if isinstance(obj, dict) else None


# -- one line on its own --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Line:
    """One non-blank line of a segment: where it is, and its JSON object (None: not a JSON object)."""

    file: str                      # relative to the audit directory
    line: int                      # 1-based
    entry: dict[str, Any] | None


def is_entry(obj: object) -> bool:
    """Whether ``obj`` is a complete entry, as verification counts one: every field, an integer ``seq``."""
    return isinstance(obj, dict) and set(FIELDS) <= obj.keys() and isinstance(obj.get("seq"), int)


def line_problem(line: Line) -> str | None:
    """What is wrong with one line of the log on its own (None: nothing), in :func:`verify_log`'s words.

    >>> e = {k: None for k in FIELDS} | {"seq": 1}
    >>> e["hash"] = entry_hash(e)
    >>> line_problem(Line("log/2024-01.jsonl", 1, e)) is None
    True
    >>> line_problem(Line("log/2024-01.jsonl", 2, {**e, "rows": 3}))
    'entry was modified (its hash does not match its content)'
    >>> line_problem(Line("log/2024-01.jsonl", 3, {"seq": 3})), line_problem(Line("log/2024-01.jsonl", 4, None))
    ('unreadable entry (not a complete JSON entry)', 'unreadable entry (not a complete JSON entry)')
    """
    e = line.entry
    if e is None or not is_entry(e):
        return UNREADABLE
    try:
        if entry_hash(e) == e["hash"]:
            return None
    except ValueError:          # a NaN or an infinity parsed from the line: canonical JSON refuses it
        pass
    return MODIFIED


# -- the report -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Problem:
    """One place where the log does not verify.

    >>> str(Problem("entry 3 is missing", seq=4, file="log/2024-01.jsonl", line=3))
    'seq 4, log/2024-01.jsonl line 3: entry 3 is missing'
    """

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
    trust: str = ""                  # which pinned keys the signatures were checked against
    notes: tuple[str, ...] = ()      # what was checked besides, or could not be (no witness, ...)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def error(self) -> str | None:
        """The first problem as one line, or None when the log is intact."""
        return str(self.problems[0]) if self.problems else None


# -- checkpoints --------------------------------------------------------------------------------------------
def cp_body(cp: Mapping[str, Any]) -> dict[str, Any]:
    """What a checkpoint's signature covers: everything but ``sig`` (older lines: seq, hash, at, key_id)."""
    return {k: v for k, v in cp.items() if k != "sig"}


def cp_hash(cp: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a checkpoint line's canonical JSON, signature included."""
    return hashlib.sha256(canonical(cp)).hexdigest()


def checkpoint_signed(cp: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]) -> bool:
    """Whether checkpoint ``cp`` carries a signature by one of ``keys`` that verifies."""
    try:
        keys[str(cp["key_id"])].verify(bytes.fromhex(str(cp["sig"])), canonical(cp_body(cp)))
    except (TypeError, KeyError, ValueError, InvalidSignature):
        return False
    return True


# -- the whole log ------------------------------------------------------------------------------------------
NOTES = {"missing": "missing", "unreadable": "unreadable", "unknown key": "signed by an unknown key",
         "bad signature": "with a signature that does not verify", "ahead": "ahead of the log (tail cut)",
         "behind": "behind the log (older head or unsigned entries)", "mismatch": "not matching the last entry"}


def verify_log(log: AuditLog, *, receipts: Sequence[tuple[str, Mapping[str, Any]]] = (),
               tsa_roots: Sequence[Any] = ()) -> VerifyReport:
    """The body of :meth:`AuditLog.verify`, to be called under the log's lock."""
    from observatoire.governance.audit import anchors

    problems: list[Problem] = []
    trust = log.trust()
    keys = trust.keys
    notes = list(trust.notes)
    signed = log.head_path.exists() or log.checkpoints_path.exists() or bool(log.segments())
    if trust.problem and signed:
        problems.append(Problem(trust.problem))
    lines = list(log._lines())
    anchor = 0
    for ln in lines:
        e = ln.entry
        if e and e.get("action") == "purge" and e.get("dataset") == "audit":
            anchor = max(anchor, as_int((e.get("detail") or {}).get("anchor_seq")) or 0)

    checkpoints: dict[int, dict[str, Any]] = {}
    cp_prev: str | None = None           # hash of the previous checkpoint line (None: first line)
    n_cps = 0
    links: list[Problem] = []            # reported after the entries, before the head
    for cp, line in log._read_checkpoints():
        where = {"file": "checkpoints.jsonl", "line": line}
        if cp is not None:
            n_cps += 1
            expected = cp_prev if cp_prev is not None else (GENESIS if not anchor else None)
            cp_prev = cp_hash(cp)
            if "prev" in cp and expected is not None and cp["prev"] != expected:
                links.append(Problem("the signed checkpoint before this one was removed or replaced "
                                     "(its prev does not match)", seq=as_int(cp.get("seq")), **where))
        if cp is None or not {"seq", "hash", "at", "key_id", "sig"} <= cp.keys():
            problems.append(Problem("unreadable checkpoint", **where))
            continue
        key = keys.get(str(cp["key_id"]))
        if key is None:
            problems.append(Problem(f"checkpoint signed by an unknown key {cp['key_id']!r} (not pinned)",
                                    seq=as_int(cp["seq"]), **where))
            continue
        try:
            key.verify(bytes.fromhex(str(cp["sig"])), canonical(cp_body(cp)))
        except (InvalidSignature, ValueError):
            problems.append(Problem("checkpoint signature does not verify (forged or altered)",
                                    seq=as_int(cp["seq"]), **where))
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
        problem = line_problem(ln)
        if problem == UNREADABLE:
            problems.append(Problem(problem, **where))
            continue
        e = ln.entry
        assert e is not None
        n += 1
        seq = e["seq"]
        if first_seq is None:
            first_seq = seq
        hashes[seq] = (e["hash"], where)
        if problem is not None:
            problems.append(Problem(problem, seq=seq, **where))
        note = e["detail"].get("head") if e["action"] == "audit_verify" and e["dataset"] == "audit" \
            and isinstance(e["detail"], dict) else None
        if note is not None:
            problems.append(Problem(
                f"a writer found the signed head {NOTES.get(str(note), str(note))} (head at seq "
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
    if log.checkpoint_every and last_seq:
        k = log.checkpoint_every
        for s in range(((anchor // k) + 1) * k, last_seq + 1, k):
            if s not in checkpoints:
                problems.append(Problem("the periodic signed checkpoint of this entry is missing (removed?)",
                                        seq=s, file="checkpoints.jsonl"))
    problems.extend(links)
    head, why = log._load_head(keys)
    witnessed = log.witness is not None and log.witness.exists() and log.witness.stat().st_size > 0
    problems.extend(_verify_head(log, head, why, last_seq or 0, hashes, n_cps, cp_prev, witnessed))
    chain = anchors.Chain(hashes, last_seq or 0, anchor, checkpoints[anchor]["hash"] if anchor in checkpoints
                          else None, keys, tsa_roots)
    if log.witness is not None:
        found, said = anchors.check_witness(log.witness, chain, head_witnessed=bool(head and head.get("witnessed")))
        problems.extend(found)
        notes.extend(said)
    else:
        notes.append("no witness configured: a log put back as it was before (an older head) cannot be told "
                     "from its real past without one, or without a receipt")
    for name, receipt in receipts:
        found, said = anchors.check_receipt(receipt, name, chain)
        problems.extend(found)
        notes.extend(said)
    checked = sum(1 for s in checkpoints if s <= (last_seq or 0))
    return VerifyReport(n, first_seq, last_seq, checked, anchor, tuple(problems), trust.source, tuple(notes))


def _verify_head(log: AuditLog, head: dict[str, Any] | None, why: str | None, last_seq: int,
                 hashes: Mapping[int, tuple[str, dict[str, Any]]], n_cps: int,
                 last_cp: str | None, witnessed: bool) -> list[Problem]:
    """The signed head against the log's last entry and the checkpoint list."""
    where = {"file": "head.json"}
    if head is None:
        if why == "missing":
            if not log._head_marker.exists() and (not last_seq and not n_cps and not witnessed
                                                  or log._headless_allowed() and not witnessed):
                return []       # an empty log, or one from before signed heads: its next write signs one
            return [Problem("the signed head is missing (head.json removed): the end of the log is not "
                            "vouched for", seq=last_seq, **where)]
        seq = as_int(safe_json(log.head_path.read_bytes()).get("seq"))
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
    if head["checkpoints"] and not log.checkpoints_path.exists():
        out.append(Problem(f"checkpoints.jsonl is missing, but the signed head counts {head['checkpoints']} "
                           f"checkpoints, the latest at seq {head['checkpoint_seq']}: removed",
                           seq=as_int(head["checkpoint_seq"]), file="checkpoints.jsonl"))
    elif head["checkpoints"] != n_cps or head["checkpoint"] != last_cp:
        cseq = as_int(head["checkpoint_seq"])
        what = ("the latest signed checkpoint was removed or replaced" if head["checkpoint"] != last_cp
                else "a signed checkpoint was removed or added")
        out.append(Problem(f"{what}: the signed head counts {head['checkpoints']} checkpoints, the latest at seq "
                           f"{cseq}; checkpoints.jsonl holds {n_cps}", seq=cseq if head["checkpoint"] != last_cp
                           else None, file="checkpoints.jsonl"))
    return out
