"""Reading a TOML configuration file: a given path, or the copy packaged with Observatoire."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from observatoire.errors import InputError


def read_toml(path: Path | None, package: str, name: str, what: str) -> tuple[dict[str, Any], str]:
    """The document of ``path`` (``None``: the packaged ``package``/``name``) and where it was read.

    Raises :class:`InputError` naming ``what`` and the file when it cannot be read or is not TOML.
    """
    where = str(path) if path is not None else f"{package.replace('.', '/')}/{name}"
    try:
        text = (Path(path) if path is not None else resources.files(package) / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(f"{what} {where}: cannot be read ({reason})") from exc
    try:
        return tomllib.loads(text), where
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} {where}: not valid TOML ({exc})") from exc
