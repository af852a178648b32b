"""The checkpoint signing key and the public keys verification trusts.

The signing key is Ed25519, stored as PKCS#8 PEM, created at first use with mode 0600 in a 0700 directory
(``audit_dir/keys`` by default; in production give ``key_path`` elsewhere). Its public key is published
next to it as ``<key id>.pub`` (raw Ed25519, hex): verification trusts exactly the keys of that directory.
A key's id is the first 16 hex digits of SHA-256 of its raw public key.

>>> key = Ed25519PrivateKey.from_private_bytes(bytes(32))
>>> key_id(public_hex(key.public_key()))
'139e3940e64b5491'
>>> signature_ok(key.public_key(), sign(key, {"seq": 1}), {"seq": 1})
True
>>> signature_ok(key.public_key(), sign(key, {"seq": 1}), {"seq": 2}), signature_ok(None, "00", {"seq": 1})
(False, False)
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from observatoire.governance.audit.verification import AuditError, canonical


def public_hex(pub: Ed25519PublicKey) -> str:
    """The raw public key, hex."""
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def key_id(pub_hex: str) -> str:
    """The id of the public key ``pub_hex``: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(bytes.fromhex(pub_hex)).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, body: Mapping[str, Any]) -> str:
    """The signature (hex) of ``body``'s canonical JSON."""
    return key.sign(canonical(body)).hex()


def signature_ok(key: Ed25519PublicKey | None, sig: object, body: Mapping[str, Any]) -> bool:
    """Whether ``sig`` (hex) is ``key``'s signature of ``body``'s canonical JSON (False without a key)."""
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(str(sig)), canonical(body))
    except (InvalidSignature, ValueError):
        return False
    return True


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at ``path``; created (mode 0600, directory 0700) and published when absent.

    Raises :class:`AuditError` when the key is readable by others or is not an Ed25519 key.
    """
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
    publish_key(path.parent, public_hex(key.public_key()))
    return key


def publish_key(directory: Path, pub: str) -> str:
    """Put the public key ``pub`` (hex) among those verification trusts in ``directory``, once; its id."""
    kid = key_id(pub)
    path = directory / f"{kid}.pub"
    if not path.exists():
        path.write_text(pub + "\n", encoding="ascii")
    return kid


def public_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    """The public keys published in ``directory``, by id (unreadable files are left out)."""
    keys = {}
    if directory.exists():
        for p in directory.glob("*.pub"):
            try:
                keys[p.stem] = Ed25519PublicKey.from_public_bytes(bytes.fromhex(p.read_text().strip()))
            except ValueError:
                continue
    return keys
