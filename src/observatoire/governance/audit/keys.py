"""The checkpoint signing key, and the pinned public keys verification trusts.

The signing key is Ed25519, stored as PKCS#8 PEM, created at first use with mode 0600 in a 0700 directory.
It lives **outside the log's folder**: by default in ``<audit_dir>-signing/`` beside it (``var/audit-signing/``
for ``var/audit``), in production wherever ``audit_signing_key`` (``OBSERVATOIRE_AUDIT_SIGNING_KEY``,
``--signing-key``) says: another volume, a file handed over by a separate service account, a credential
provisioned from an HSM at start-up. Its public key is published next to it as ``<key id>.pub`` (raw
Ed25519, hex), and a copy in the log's ``keys/`` folder for whoever verifies by fingerprint.

Verification trusts **pinned** keys only (:func:`resolve_pins`): public key files or SHA-256 fingerprints
named in the configuration (``audit_trusted_keys``, ``OBSERVATOIRE_AUDIT_TRUSTED_KEYS``, ``--trusted-key``).
A key found in the log's folder is used only when its fingerprint is pinned. With nothing pinned, the public
half of the configured signing key is the pin, and only when that key lies outside the log's folder.

A key's id is the first 16 hex digits of SHA-256 of its raw public key; its fingerprint, all 64.

>>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
>>> key_id(public_hex(key.public_key()))
'139e3940e64b5491'
>>> fingerprint(public_hex(key.public_key()))[:23]
'sha256:139e3940e64b5491'
>>> signature_ok(key.public_key(), sign(key, {"seq": 1}), {"seq": 1})
True
>>> signature_ok(key.public_key(), sign(key, {"seq": 1}), {"seq": 2}), signature_ok(None, "00", {"seq": 1})
(False, False)
>>> parse_pin("sha256:" + "ab" * 32)[0], parse_pin("AB" * 32)
('fingerprint', ('fingerprint', 'abababababababababababababababababababababababababababababababab'))
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from observatoire.errors import InputError
from observatoire.governance.audit.verification import AuditError, canonical

KEY_NAME = "checkpoint.key"
_FINGERPRINT = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


def public_hex(pub: Ed25519PublicKey) -> str:
    """The raw public key, hex."""
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def key_id(pub_hex: str) -> str:
    """The id of the public key ``pub_hex``: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(bytes.fromhex(pub_hex)).hexdigest()[:16]


def fingerprint(pub_hex: str) -> str:
    """The fingerprint to pin: ``sha256:`` and the SHA-256 (hex) of the raw public key."""
    return "sha256:" + hashlib.sha256(bytes.fromhex(pub_hex)).hexdigest()


def sign(key: Ed25519PrivateKey, body: Mapping[str, Any]) -> str:
    """The signature (hex) of ``body``'s canonical JSON."""
    return key.sign(canonical(body)).hex()


def signature_ok(key: Ed25519PublicKey | None, sig: object, body: Mapping[str, Any]) -> bool:
    """Whether ``sig`` (hex) is ``key``'s signature of ``body``'s canonical JSON (False without a key)."""
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(str(sig)), canonical(body))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def inside(path: Path, directory: Path) -> bool:
    """Whether ``path`` lies in ``directory`` or below it (links resolved).

    >>> inside(Path("/a/b/c"), Path("/a/b")), inside(Path("/a/bc"), Path("/a/b"))
    (True, False)
    """
    p, d = os.path.realpath(path), os.path.realpath(directory)
    return os.path.commonpath([p, d]) == d


def default_key_path(audit_dir: Path) -> Path:
    """Where the signing key lives when none is configured: ``<audit_dir>-signing/checkpoint.key``, beside
    the log's folder and outside it.

    >>> default_key_path(Path("var/audit"))
    PosixPath('var/audit-signing/checkpoint.key')
    """
    d = audit_dir if audit_dir.name else Path(os.path.abspath(audit_dir))
    return d.parent / f"{d.name}-signing" / KEY_NAME


def load_signing_key(path: Path, *, create: bool = True) -> Ed25519PrivateKey:
    """The signing key at ``path``; created (mode 0600, directory 0700) and published when absent and ``create``.

    A key file of this account must be private (0600); one owned by another account (a separate service
    account that hands the key to this one) may be readable by its group, never by others.
    Raises :class:`AuditError` when the key is readable by others, unreadable, or not an Ed25519 key.
    """
    if path.exists():
        st = path.stat()
        if st.st_mode & (0o077 if st.st_uid == os.getuid() else 0o027):
            raise AuditError(f"checkpoint signing key {path} is readable or writable by others; chmod 600 it")
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise AuditError(f"checkpoint signing key {path} cannot be read ({type(exc).__name__})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditError(f"checkpoint signing key {path} is not an Ed25519 key")
        return key
    if not create:
        raise AuditError(f"checkpoint signing key {path} does not exist")
    try:
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
    except FileExistsError:                    # another writer created it first
        return load_signing_key(path, create=False)
    except OSError as exc:
        raise AuditError(f"cannot create the checkpoint signing key {path} ({type(exc).__name__})") from None
    publish_key(path.parent, public_hex(key.public_key()))
    return key


def publish_key(directory: Path, pub: str) -> str:
    """Write the public key ``pub`` (hex) as ``<key id>.pub`` in ``directory``, once; its id."""
    kid = key_id(pub)
    path = directory / f"{kid}.pub"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(pub + "\n", encoding="ascii")
    return kid


def read_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in ``path``: raw hex (``<key id>.pub``) or PEM; :class:`InputError` otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"trusted key {path}: cannot be read ({type(exc).__name__})") from None
    try:
        if b"-----BEGIN" in data:
            pub = serialization.load_pem_public_key(data)
            if not isinstance(pub, Ed25519PublicKey):
                raise ValueError("not Ed25519")
            return pub
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(data.decode("ascii").strip()))
    except (ValueError, UnicodeDecodeError, TypeError):
        raise InputError(f"trusted key {path}: not an Ed25519 public key (hex or PEM)") from None


def parse_pin(pin: str | Path) -> tuple[str, Any]:
    """A pin as given: ``("fingerprint", 64 hex)`` for ``sha256:<hex>`` or bare 64 hex, else ``("file", Path)``."""
    if not isinstance(pin, Path) and (m := _FINGERPRINT.fullmatch(str(pin).strip())):
        return "fingerprint", m.group(1).lower()
    return "file", Path(pin)


def resolve_pins(pins: Iterable[str | Path], *, audit_dir: Path,
                 search: Iterable[Path] = ()) -> tuple[dict[str, Ed25519PublicKey], list[str]]:
    """The pinned public keys by id, and the fingerprints pinned but not found.

    A file pin is read (and refused, :class:`InputError`, when missing, not a key, or inside the log's
    folder ``audit_dir``: whoever rewrites the log could rewrite it); a fingerprint pin takes the public key
    bytes from the ``.pub`` files of ``search`` (the log's ``keys/`` included) whose fingerprint matches.
    """
    keys: dict[str, Ed25519PublicKey] = {}
    wanted: set[str] = set()
    for pin in pins:
        kind, value = parse_pin(pin)
        if kind == "fingerprint":
            wanted.add(value)
            continue
        if not value.exists():
            raise InputError(f"trusted key {value}: no such file (give a public key file or a sha256: fingerprint)")
        if inside(value, audit_dir):
            raise InputError(f"trusted key {value} lies inside the audit folder {audit_dir}: whoever rewrites the "
                             "log could replace it; pin a copy kept elsewhere, or its sha256: fingerprint")
        pub = read_public_key(value)
        keys[key_id(public_hex(pub))] = pub
    found: set[str] = set()
    if wanted:
        for d in search:
            for p in sorted(d.glob("*.pub")) if d.is_dir() else []:
                try:
                    pub = read_public_key(p)
                except InputError:
                    continue
                raw = public_hex(pub)
                fp = fingerprint(raw)[len("sha256:"):]
                if fp in wanted:
                    keys[key_id(raw)] = pub
                    found.add(fp)
    return keys, sorted("sha256:" + w for w in wanted - found)
