"""Anchors of trust outside the log's folder: the witness file, receipts, RFC 3161 timestamps.

Whoever can write the log's folder could put the log back as it was (an older genuine head with the log cut
to its end), and whoever also holds the signing key could re-sign a rewritten history. Neither can change
what was already handed to someone else:

* the **witness** (``audit_witness``): an append-only file for the DPO, outside the log's folder, that
  receives a copy of every signed head (one line per entry, from the first) and every RFC 3161 timestamp.
  ``verify`` checks that each head it saw is still in the chain, at its seq, with its hash;
* a **receipt** (``observatoire audit receipt``): a small signed JSON (or the same, armoured as printable
  text for e-mail or paper) naming the seq and hash of a fresh checkpoint, kept by the DPO;
  ``observatoire audit verify --against RECEIPT`` proves that the log still extends it;
* an **RFC 3161 timestamp** of a checkpoint (``audit_tsa_url``; the ``rfc3161-client`` library): a timestamp
  authority's signature over the checkpoint's seq and hash (:func:`anchor_message`) and the time, carried by
  the receipt and appended to the witness; checked against the authority's certificate
  (``audit_tsa_cert``) when given.

>>> anchor_message(7, "ab" * 32)[:28]
b'observatoire-audit-head:7:ab'
>>> armour({"seq": 1}).splitlines()[0]
'-----BEGIN OBSERVATOIRE AUDIT RECEIPT-----'
>>> unarmour(armour({"seq": 1}))
{'seq': 1}
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from observatoire.errors import InputError
from observatoire.governance.audit.verification import AuditError, Problem, as_int, canonical, jsonl

RECEIPT_KIND = "observatoire-audit-receipt"
TIMESTAMP_KIND = "rfc3161"
_BEGIN, _END = "-----BEGIN OBSERVATOIRE AUDIT RECEIPT-----", "-----END OBSERVATOIRE AUDIT RECEIPT-----"
_SHA256_OID = "2.16.840.1.101.3.4.2.1"
MAX_TSA_REPLY = 1 << 20


def anchor_message(seq: int, hash_: str) -> bytes:
    """What a timestamp authority signs for the checkpoint (seq, hash)."""
    return f"observatoire-audit-head:{seq}:{hash_}".encode("ascii")


# -- the witness ----------------------------------------------------------------------------------------
def default_witness_path(audit_dir: Path) -> Path:
    """The witness when none is configured (settings only): ``<audit_dir>-witness/witness.jsonl``.

    >>> default_witness_path(Path("var/audit"))
    PosixPath('var/audit-witness/witness.jsonl')
    """
    d = audit_dir if audit_dir.name else Path(os.path.abspath(audit_dir))
    return d.parent / f"{d.name}-witness" / "witness.jsonl"


def append_witness(path: Path, obj: Mapping[str, Any], *, durable: bool) -> None:
    """Append one line to the witness (``O_APPEND``: never rewritten, never truncated)."""
    line = canonical(obj) + b"\n"
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise AuditError(f"the witness {path} cannot be written ({type(exc).__name__}): seq {obj.get('seq')} is "
                         "recorded and signed, but not witnessed") from None


@dataclass(frozen=True, slots=True)
class Chain:
    """What the anchors are checked against: the chain's hashes by seq (with where each entry is), its last
    seq, the purge anchor (seq and signed hash), the trusted keys and the timestamp authority's roots."""

    hashes: Mapping[int, tuple[str, dict[str, Any]]]
    last_seq: int
    anchor: int
    anchor_hash: str | None
    keys: Mapping[str, Ed25519PublicKey]
    tsa_roots: Sequence[Any] = ()


def _head_signed(line: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey]) -> bool:
    from observatoire.governance.audit.keys import signature_ok

    return signature_ok(keys.get(str(line.get("key_id"))), line.get("sig"),
                        {k: v for k, v in line.items() if k != "sig"})


def check_witness(path: Path, chain: Chain, *, head_witnessed: bool) -> tuple[list[Problem], list[str]]:
    """The witness against the chain: (problems, notes).

    Every head the witness saw must still be in the chain at its seq with its hash (else the log was rewritten
    after it was witnessed), and none may lie beyond the log's end (else entries were cut, or an older head
    was put back). A line that contradicts the log is reported only when its own signature (a head's) or
    timestamp (an RFC 3161 line's) holds; an unsigned one is reported as such.
    """
    name = str(path)
    if not path.exists() or path.stat().st_size == 0:
        if head_witnessed:
            return [Problem("the witness file is missing or empty, but the signed head says this log is "
                            "witnessed: it was removed or emptied", file=name)], []
        return [], [f"witness {name}: nothing witnessed yet (its first line comes with the next entry)"]
    try:
        lines = list(jsonl(path))
    except OSError as exc:
        return [Problem(f"the witness cannot be read ({type(exc).__name__})", file=name)], []
    problems: list[Problem] = []
    notes: list[str] = []
    rewritten: Problem | None = None
    beyond: tuple[int, int, dict[str, Any]] | None = None
    heads = stamps = 0
    for n, obj in lines:
        where = {"file": name, "line": n}
        seq = as_int((obj or {}).get("seq"))
        if obj is None or seq is None or not isinstance(obj.get("hash"), str):
            problems.append(Problem("unreadable witness line", **where))
            continue
        is_stamp = obj.get("kind") == TIMESTAMP_KIND
        stamps += is_stamp
        heads += not is_stamp
        if seq < chain.anchor:
            continue                                  # purged: the anchor vouches for it
        if seq in chain.hashes:
            known: str | None = chain.hashes[seq][0]
        else:                                         # the anchor itself, or an entry the chain reports missing
            known = chain.anchor_hash if seq == chain.anchor else None
        bad = (seq > chain.last_seq) or (known is not None and known != obj["hash"])
        if is_stamp:
            why = _stamp_problem(obj, chain.tsa_roots)
            if why:
                problems.append(Problem(f"witnessed timestamp does not hold: {why}", seq=seq, **where))
                continue
        if not bad:
            continue
        if not is_stamp and not _head_signed(obj, chain.keys):
            problems.append(Problem("witness line not signed by a pinned key (written by another hand)",
                                    seq=seq, **where))
            continue
        if seq > chain.last_seq:
            if beyond is None or seq > beyond[0]:
                beyond = (seq, n, obj)
        elif rewritten is None:
            place = chain.hashes[seq][1] if seq in chain.hashes else where
            rewritten = Problem(f"entry differs from what the witness saw ({name} line {n}, at {obj.get('at')}): "
                                "the log was rewritten after it was witnessed", seq=seq, **place)
    if rewritten is not None:
        problems.append(rewritten)
    if beyond is not None:
        seq, n, obj = beyond
        problems.append(Problem(f"the witness saw seq {seq} (line {n}) but the log ends at seq {chain.last_seq}: "
                                "entries were removed from the tail, or an older head was put back",
                                seq=seq, file=name))
    notes.append(f"witness {name}: {heads} head(s) and {stamps} timestamp(s) checked against the chain")
    return problems, notes


# -- RFC 3161 -------------------------------------------------------------------------------------------
def load_tsa_roots(path: Path | None) -> list[Any]:
    """The timestamp authority's certificates (PEM, one or more) that tokens are checked against."""
    if path is None:
        return []
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise InputError(f"timestamp authority certificate {path}: cannot be read ({type(exc).__name__})") from None
    except ValueError:
        raise InputError(f"timestamp authority certificate {path}: not a PEM certificate") from None
    return list(certs)


def request_timestamp(url: str, message: bytes, *, timeout: float = 15.0) -> bytes:
    """An RFC 3161 timestamp of ``message`` from the authority at ``url`` (the DER reply, checked: granted, our
    nonce, our digest). :class:`AuditError` when the authority cannot be reached or answers otherwise."""
    from rfc3161_client import HashAlgorithm, TimestampRequestBuilder, decode_timestamp_response

    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"timestamp authority {url!r}: give an http:// or https:// address")
    req = (TimestampRequestBuilder().data(message).hash_algorithm(HashAlgorithm.SHA256)
           .nonce(nonce=True).cert_request(cert_request=True).build())
    http = urllib.request.Request(url, data=req.as_bytes(), method="POST", headers={
        "Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(http, timeout=timeout) as reply:
            data = reply.read(MAX_TSA_REPLY + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise AuditError(f"timestamp authority {url} could not be reached ({type(exc).__name__})") from None
    if len(data) > MAX_TSA_REPLY:
        raise AuditError(f"timestamp authority {url} answered more than {MAX_TSA_REPLY} bytes")
    try:
        resp = decode_timestamp_response(data)
        status = int(resp.status)
    except Exception:  # noqa: BLE001 - the library raises its own parse errors
        raise AuditError(f"timestamp authority {url} answered something that is not an RFC 3161 reply") from None
    if status not in (0, 1):
        raise AuditError(f"timestamp authority {url} refused the request (status {status})")
    try:
        nonce = resp.tst_info.nonce
    except Exception:  # noqa: BLE001
        raise AuditError(f"timestamp authority {url} granted the request but sent no timestamp") from None
    if nonce != req.nonce:
        raise AuditError(f"timestamp authority {url} answered another request (nonce mismatch)")
    why = _token_problem(data, message, ())
    if why:
        raise AuditError(f"timestamp authority {url}: {why}")
    return data


def _token_problem(token: bytes, message: bytes, roots: Sequence[Any]) -> str | None:
    """What is wrong with an RFC 3161 reply for ``message`` (None: nothing); its signature is checked against
    ``roots`` when given."""
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        resp = decode_timestamp_response(token)
        imprint = resp.tst_info.message_imprint
        algo, digest = imprint.hash_algorithm.dotted_string, imprint.message
    except Exception:  # noqa: BLE001
        return "not an RFC 3161 timestamp"
    if algo != _SHA256_OID:
        return f"the timestamp uses an unexpected digest ({algo})"
    if digest != hashlib.sha256(message).digest():
        return "the timestamp is of another seq or hash"
    if roots:
        builder = VerifierBuilder()
        for root in roots:
            builder = builder.add_root_certificate(root)
        try:
            builder.build().verify_message(resp, message)
        except (VerificationError, ValueError) as exc:
            reason = str(exc).split("Verify error:")[-1].split('"')[0].strip() or type(exc).__name__
            return f"the timestamp's signature does not chain to the authority's certificate ({reason[:100]})"
    return None


def _stamp_problem(obj: Mapping[str, Any], roots: Sequence[Any]) -> str | None:
    try:
        token = base64.b64decode(str(obj.get("token")), validate=True)
    except ValueError:
        return "its token is not base64"
    return _token_problem(token, anchor_message(int(obj["seq"]), str(obj["hash"])), roots)


def timestamp_record(seq: int, hash_: str, url: str, token: bytes) -> dict[str, Any]:
    """The witness line (and receipt field) of a timestamp: seq, hash, authority, token and its time."""
    from rfc3161_client import decode_timestamp_response

    gen = decode_timestamp_response(token).tst_info.gen_time
    return {"kind": TIMESTAMP_KIND, "seq": seq, "hash": hash_, "tsa": url,
            "gen_time": gen.isoformat(), "token": base64.b64encode(token).decode("ascii")}


# -- receipts -------------------------------------------------------------------------------------------
def armour(receipt: Mapping[str, Any]) -> str:
    """The receipt as printable text: a readable summary, then the receipt itself (base64 of its JSON)."""
    body = base64.b64encode(canonical(receipt)).decode("ascii")
    lines = [_BEGIN, *(body[i:i + 64] for i in range(0, len(body), 64)), _END]
    return "\n".join(lines) + "\n"


def receipt_text(receipt: Mapping[str, Any]) -> str:
    """The printable receipt: what a DPO reads, then the armoured receipt that ``verify --against`` reads."""
    h = str(receipt.get("hash", ""))
    stamp = receipt.get("rfc3161") or {}
    head = [
        "Observatoire audit log receipt",
        f"log:        {receipt.get('log')}",
        f"checkpoint: seq {receipt.get('seq')}, signed {receipt.get('at')}",
        f"hash:       {' '.join(h[i:i + 8] for i in range(0, len(h), 8))}",
        f"issued:     {receipt.get('issued_at')}",
        f"signed by:  {receipt.get('fingerprint')}",
        f"timestamp:  {stamp.get('gen_time')} by {stamp.get('tsa')}" if stamp else "timestamp:  none",
        "Keep this receipt apart from the system. To check that the log still extends it:",
        "  observatoire audit verify --against THIS-FILE",
        "",
    ]
    return "\n".join(head) + armour(receipt)


def unarmour(text: str) -> dict[str, Any]:
    """The receipt inside armoured text (:class:`ValueError` when there is none)."""
    start, end = text.index(_BEGIN) + len(_BEGIN), text.index(_END)
    obj = json.loads(base64.b64decode("".join(text[start:end].split()), validate=True))
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    return obj


def read_receipt(path: Path) -> dict[str, Any]:
    """A receipt file, JSON or printable text; :class:`InputError` (one line) when it is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"receipt {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"receipt {path}: cannot be read ({type(exc).__name__})") from None
    try:
        obj = unarmour(text) if _BEGIN in text else json.loads(text)
    except ValueError:
        raise InputError(f"receipt {path}: not an audit receipt (neither its JSON nor its printable form)") from None
    fields = {"receipt", "seq", "hash", "key_id", "sig"}
    if not isinstance(obj, dict) or obj.get("receipt") != RECEIPT_KIND or not fields <= obj.keys() \
            or as_int(obj.get("seq")) is None:
        raise InputError(f"receipt {path}: not an audit receipt (a field is missing)")
    return obj


def check_receipt(receipt: Mapping[str, Any], name: str, chain: Chain) -> tuple[list[Problem], list[str]]:
    """Whether the log still extends what ``receipt`` witnessed: (problems, notes)."""
    where = {"file": name}
    seq, h = int(receipt["seq"]), str(receipt["hash"])
    if not _head_signed(receipt, chain.keys):
        why = ("is signed by a key that is not pinned" if str(receipt["key_id"]) not in chain.keys
               else "does not verify (the receipt was altered)")
        return [Problem(f"the receipt's signature {why}", seq=seq, **where)], []
    stamp = receipt.get("rfc3161")
    notes = []
    if isinstance(stamp, dict):
        why = _stamp_problem({**stamp, "seq": seq, "hash": h}, chain.tsa_roots)
        if why:
            return [Problem(f"the receipt's timestamp does not hold: {why}", seq=seq, **where)], []
        notes.append(f"receipt {name}: timestamped {stamp.get('gen_time')} by {stamp.get('tsa')}"
                     + ("" if chain.tsa_roots else " (its signature not checked: no --tsa-cert given)"))
    if seq > chain.last_seq:
        return [Problem(f"the log ends at seq {chain.last_seq} but the receipt witnessed seq {seq}: entries were "
                        "removed from the tail, or the log was put back as it was before", seq=seq, **where)], notes
    if seq in chain.hashes:
        known, place = chain.hashes[seq]
    elif seq == chain.anchor and chain.anchor_hash:
        known, place = chain.anchor_hash, where
    elif seq < chain.anchor:
        return [], [*notes, f"receipt {name}: seq {seq} was purged (anchor at seq {chain.anchor}); not checkable"]
    else:
        return [Problem(f"the entry the receipt witnessed (seq {seq}) is missing from the log", seq=seq,
                        **where)], notes
    if known != h:
        return [Problem(f"entry differs from the receipt {name} (issued {receipt.get('issued_at')}): the log was "
                        "rewritten after the receipt", seq=seq, **place)], notes
    return [], [*notes, f"receipt {name}: seq {seq} found with the hash it witnessed"]
