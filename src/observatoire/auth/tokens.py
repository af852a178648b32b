"""API tokens for machines: ``obs_<id>_<secret>``, shown once; only the secret's SHA-256 is kept.

Each token carries a role, an expiry and, once revoked, its revocation time
(``<auth_dir>/tokens.json``). The secret has 256 bits of entropy, so a plain
SHA-256 is enough to store it (no password stretching needed).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from observatoire.statefiles import locked, read_json, write_json
from observatoire.auth.roles import check_role
from observatoire.errors import InputError

TOKEN_PATTERN = re.compile(r"^obs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class Token:
    """A token's record (never its secret)."""

    id: str
    name: str
    role: str
    issued_by: str
    issued_at: str
    expires_at: str
    revoked_at: str | None
    secret_sha256: str


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """The outcome of presenting a token: the record when valid, else why not."""

    token: Token | None
    reason: str | None      # None | malformed | unknown | expired | revoked


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Tokens:
    """Issue, check, revoke and list API tokens."""

    def __init__(self, auth_dir: Path, clock: Callable[[], datetime], *, default_days: int = 90,
                 max_days: int = 366) -> None:
        self.path = auth_dir / "tokens.json"
        self._clock = clock
        self._default, self._max = default_days, max_days

    def _load(self) -> dict[str, Token]:
        return {k: Token(**v) for k, v in read_json(self.path, {"tokens": {}})["tokens"].items()}

    def _save(self, tokens: dict[str, Token]) -> None:
        write_json(self.path, {"version": 1, "tokens": {k: asdict(v) for k, v in sorted(tokens.items())}})

    def issue(self, name: str, role: str, *, issued_by: str, days: int | None = None) -> tuple[Token, str]:
        """A new token; returns its record and the secret string (shown once, never stored)."""
        check_role(role)
        days = self._default if days is None else days
        if not 1 <= days <= self._max:
            raise InputError(f"a token lives 1 to {self._max} days")
        name = name.strip()
        if not name or len(name) > 80 or not name.isprintable():
            raise InputError("a token's name is 1 to 80 printable characters")
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = self._clock()
        record = Token(token_id, name, role, issued_by, now.isoformat(), (now + timedelta(days=days)).isoformat(),
                       None, _digest(secret))
        with locked(self.path):
            tokens = self._load()
            tokens[token_id] = record
            self._save(tokens)
        return record, f"obs_{token_id}_{secret}"

    def check(self, presented: str) -> TokenCheck:
        """Whether ``presented`` is a live token (constant-time comparison of the secret's hash)."""
        match = TOKEN_PATTERN.match(presented.strip())
        if not match:
            return TokenCheck(None, "malformed")
        record = self._load().get(match.group(1))
        if record is None or not hmac.compare_digest(record.secret_sha256, _digest(match.group(2))):
            return TokenCheck(None, "unknown")
        if record.revoked_at is not None:
            return TokenCheck(None, "revoked")
        if self._clock() >= datetime.fromisoformat(record.expires_at):
            return TokenCheck(None, "expired")
        return TokenCheck(record, None)

    def revoke(self, token_id: str) -> Token:
        """Revoke a token for good (InputError when there is no such token)."""
        with locked(self.path):
            tokens = self._load()
            if token_id not in tokens:
                raise InputError("no such token")
            if tokens[token_id].revoked_at is None:
                tokens[token_id] = replace(tokens[token_id], revoked_at=self._clock().isoformat())
                self._save(tokens)
            return tokens[token_id]

    def get(self, token_id: str) -> Token | None:
        """The record of ``token_id``, or None."""
        return self._load().get(token_id)

    def list(self) -> list[Token]:
        """Every token ever issued, oldest first."""
        return sorted(self._load().values(), key=lambda t: (t.issued_at, t.id))
