"""State files kept private and whole: mode 0600 in a 0700 folder, atomic replace, one writer at a time.

Used by the accounts, sessions and tokens (``auth/``), the legal holds and the
audit log (``governance/``) and the store's manifest (``fsync_dir``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from observatoire.errors import StoreError


def ensure_private_dir(root: Path) -> Path:
    """Create ``root`` (mode 0700) if needed and return it."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def read_json(path: Path, default: Any) -> Any:
    """The JSON content of ``path``, or ``default`` when the file does not exist."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path.name}: cannot be read as JSON ({type(exc).__name__})") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably, mode 0600: a temporary file in the same folder,
    fsync, rename over ``path``, fsync of the folder. A crash leaves the old content or the new, never a mix."""
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)   # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def write_json(path: Path, data: Any) -> None:
    """Replace ``path`` atomically with ``data`` as JSON, mode 0600 (see :func:`atomic_write`)."""
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in the folder ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (threads and processes) for a read-modify-write."""
    ensure_private_dir(path.parent)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
