"""Keyed pseudonyms: HMAC-SHA256 under a secret key kept outside the store.

Same value + same key -> same token, whatever the spelling ("AB-123-CD",
"ab 123 cd"); without the key the token reveals nothing, and, unlike plain or
salted hashing, the small spaces of plates and phone numbers cannot be
enumerated. A token carries the id of the key that made it (``<key id>:<24 hex>``),
so a rotation starts new tokens without rewriting old ones; tokens made under
different keys do not link, by design.

The ring also holds one *record key*, never rotated: the gate replaces a record's own key (a
logbook number, a post id; action ``key`` of the policy) by its HMAC under it, so that the event
id derived from it is stable across ingests and rotations yet cannot be recomputed from a public
post id by anyone without the ring. Rotating, even with ``forget_old``, keeps it: destroying it
would give every record a new id and defeat the de-duplication of re-ingested files.

The key ring is a JSON file created with mode 0600 in a directory of mode 0700.
Its keys never appear in ``repr``, logs or errors.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from observatoire.errors import InputError, ObservatoireError

KEY_ID_PATTERN = re.compile(r"^[a-z0-9_-]{1,16}$")
TOKEN_HEX = 24
RECORD_HEX = 32


class KeyRingError(ObservatoireError, PermissionError):
    """The key ring is missing, unreadable or too widely readable."""


def _fold(value: str) -> str:
    s = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return s.casefold()


def normalise(kind: str, value: str) -> str:
    """The canonical spelling of an identifier, so that spelling variants give one token."""
    v = _fold(value).strip()
    if kind == "plate":
        return re.sub(r"[^0-9a-z]", "", v)
    if kind == "phone":
        digits = re.sub(r"\D", "", v)
        if digits.startswith("0033"):
            digits = "0" + digits[4:]
        elif digits.startswith("33") and len(digits) == 11:
            digits = "0" + digits[2:]
        return digits
    if kind == "person":
        return " ".join(sorted(re.sub(r"[^a-z ]", " ", v.replace("-", " ")).split()))
    return re.sub(r"\s+", "", v)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Pseudonymisation keys by id; ``current`` makes new tokens."""

    current: str
    keys: dict[str, bytes] = field(repr=False)
    path: Path | None = None
    record: bytes = field(default=b"", repr=False)   # the record key (see the module's docstring)

    def __repr__(self) -> str:  # never the keys
        return f"KeyRing(current={self.current!r}, keys={len(self.keys)}, path={self.path})"

    def token(self, kind: str, value: str) -> str:
        token = self.tokens(kind, [value])[0]
        if token is None:
            raise InputError("an empty value has no pseudonym")
        return token

    def tokens(self, kind: str, values: Iterable[str | None]) -> list[str | None]:
        """Tokens of raw values (normalised here); None for a missing or blank value."""
        return self.tokens_of_normalised(kind, [None if v is None or not str(v).strip() else normalise(kind, str(v))
                                                for v in values])

    def tokens_of_normalised(self, kind: str, normalised: Iterable[str | None]) -> list[str | None]:
        """Tokens of values already in their :func:`normalise` spelling."""
        prefix = f"{self.current}:"
        # HMAC-SHA256(key, kind + 0x1f + value): the state after the key and the kind is computed once and
        # copied for each value (the standard library's HMAC.copy): a quarter less time than a fresh HMAC per value
        keyed = hmac.new(self.keys[self.current], f"{kind}\x1f".encode(), "sha256")
        out: list[str | None] = []
        for v in normalised:
            if v is None:
                out.append(None)
                continue
            h = keyed.copy()
            h.update(v.encode())
            out.append(prefix + h.hexdigest()[:TOKEN_HEX])
        return out


    def record_digests(self, values: Iterable[str | None]) -> list[str | None]:
        """Keyed digests of record keys (trimmed; None for a missing or blank key): ``r<32 hex>``."""
        if not self.record:
            raise KeyRingError("the key ring has no record key; load it with load_keyring")
        keyed = hmac.new(self.record, b"record\x1f", "sha256")
        out: list[str | None] = []
        for v in values:
            v = None if v is None else str(v).strip()
            if not v:
                out.append(None)
                continue
            h = keyed.copy()
            h.update(v.encode())
            out.append("r" + h.hexdigest()[:RECORD_HEX])
        return out


def normalise_array(kind: str, values: pa.Array) -> pa.Array:
    """:func:`normalise`, vectorised for the high-volume kinds (plates, phones, ids); same result."""
    if kind == "person":
        return pa.array([None if v is None else normalise(kind, v) for v in values.to_pylist()], pa.string())
    ascii_only = pc.all(pc.string_is_ascii(values)).as_py() in (True, None)
    if not ascii_only:  # accents to fold: the exact (slower) path
        return pa.array([None if v is None else normalise(kind, v) for v in values.to_pylist()], pa.string())
    v = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    if kind == "plate":
        return pc.replace_substring_regex(v, r"[^0-9a-z]", "")
    if kind == "phone":
        digits = pc.replace_substring_regex(v, r"\D", "")
        digits = pc.replace_substring_regex(digits, r"^0033", "0")
        eleven = pc.and_(pc.starts_with(digits, "33"), pc.equal(pc.utf8_length(digits), 11))
        return pc.if_else(eleven, pc.binary_join_element_wise("0", pc.utf8_slice_codeunits(digits, 2), ""), digits)
    return pc.replace_substring_regex(v, r"\s+", "")


def _new_key_id(existing: Iterable[str]) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    while True:
        kid = f"k{stamp}{secrets.token_hex(2)}"
        if kid not in existing:
            return kid


def _write(path: Path, current: str, keys: dict[str, bytes], retired: dict[str, str], record: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    doc = {"current": current, "keys": {k: v.hex() for k, v in keys.items()}, "retired": retired,
           "record": record.hex()}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def init_keyring(path: Path) -> KeyRing:
    """Create a key ring with one fresh 256-bit key; refuse to overwrite an existing one."""
    if path.exists():
        raise InputError(f"key ring {path} already exists; use `observatoire keys rotate` to add a key")
    kid = _new_key_id(())
    keys, record = {kid: secrets.token_bytes(32)}, secrets.token_bytes(32)
    _write(path, kid, keys, {}, record)
    return KeyRing(kid, keys, path, record)


def load_keyring(path: Path, *, create: bool = False) -> KeyRing:
    """Read the key ring; with ``create``, make one when absent. Refuse a ring others can read."""
    if not path.exists():
        if create:
            return init_keyring(path)
        raise KeyRingError(f"no pseudonymisation key ring at {path}; create it with `observatoire keys init`")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyRingError(f"key ring {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")
    try:
        doc = json.loads(path.read_text())
        keys = {k: bytes.fromhex(v) for k, v in doc["keys"].items()}
        current = doc["current"]
        record = bytes.fromhex(doc["record"]) if doc.get("record") else b""
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyRingError(f"key ring {path} is unreadable ({type(exc).__name__})") from None
    if current not in keys or not all(KEY_ID_PATTERN.match(k) for k in keys):
        raise KeyRingError(f"key ring {path} is inconsistent")
    if len(record) != 32:   # a ring written before record keys existed gets one, once
        record = secrets.token_bytes(32)
        _write(path, current, keys, dict(doc.get("retired", {})), record)
    return KeyRing(current, keys, path, record)


def rotate_keyring(path: Path, *, forget_old: bool = False) -> tuple[str, str]:
    """Add a fresh key and make it current; return (old id, new id).

    With ``forget_old`` the old keys are destroyed: their tokens can then never
    be linked to a value again (they become anonymous).
    """
    ring = load_keyring(path)
    doc = json.loads(path.read_text())
    retired: dict[str, str] = dict(doc.get("retired", {}))
    new = _new_key_id(ring.keys)
    keys = {new: secrets.token_bytes(32)} if forget_old else {**ring.keys, new: secrets.token_bytes(32)}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    retired[ring.current] = now + (" (destroyed)" if forget_old else "")
    _write(path, new, keys, retired, ring.record)
    return ring.current, new
