"""Local accounts: login, role, disabled flag and argon2 password hash, in ``<auth_dir>/accounts.json``."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from observatoire.statefiles import locked, read_json, write_json
from observatoire.auth.passwords import Passwords
from observatoire.auth.roles import check_role
from observatoire.errors import InputError

LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True, slots=True)
class Account:
    """One local account (the hash is never shown)."""

    login: str
    role: str
    disabled: bool
    password_hash: str
    created_at: str
    changed_at: str


def check_login(login: str) -> str:
    """``login`` if it is 2-64 lowercase letters, digits, ``.``, ``_`` or ``-``, else InputError."""
    if not LOGIN_PATTERN.match(login):
        raise InputError("a login is 2 to 64 characters: lowercase letters, digits, '.', '_' or '-'")
    return login


class Accounts:
    """The account file: read for each login, rewritten atomically under a lock for each change."""

    def __init__(self, auth_dir: Path, passwords: Passwords, clock: Callable[[], datetime]) -> None:
        self.path = auth_dir / "accounts.json"
        self._passwords = passwords
        self._clock = clock

    def _load(self) -> dict[str, Account]:
        raw = read_json(self.path, {"accounts": {}})
        return {k: Account(**v) for k, v in raw["accounts"].items()}

    def _save(self, accounts: dict[str, Account]) -> None:
        write_json(self.path, {"version": 1, "accounts": {k: asdict(v) for k, v in sorted(accounts.items())}})

    def get(self, login: str) -> Account | None:
        """The account of ``login``, or None."""
        return self._load().get(login)

    def list(self) -> list[Account]:
        """Every account, by login."""
        return sorted(self._load().values(), key=lambda a: a.login)

    def add(self, login: str, role: str, password: str) -> Account:
        """Create an account (InputError when the login exists, the role is unknown or the password short)."""
        check_login(login)
        check_role(role)
        digest = self._passwords.hash(password)
        now = self._clock().isoformat()
        with locked(self.path):
            accounts = self._load()
            if login in accounts:
                raise InputError("this login already exists")
            accounts[login] = Account(login, role, False, digest, now, now)
            self._save(accounts)
        return accounts[login]

    def _change(self, login: str, **changes: object) -> Account:
        with locked(self.path):
            accounts = self._load()
            if login not in accounts:
                raise InputError("no such account")
            accounts[login] = replace(accounts[login], changed_at=self._clock().isoformat(), **changes)  # type: ignore[arg-type]
            self._save(accounts)
            return accounts[login]

    def set_password(self, login: str, password: str) -> Account:
        """Replace the password of ``login``."""
        return self._change(login, password_hash=self._passwords.hash(password))

    def set_role(self, login: str, role: str) -> Account:
        """Give ``login`` another role."""
        return self._change(login, role=check_role(role))

    def set_disabled(self, login: str, disabled: bool = True) -> Account:
        """Disable (or enable again) ``login``: a disabled account cannot log in and its sessions end."""
        return self._change(login, disabled=disabled)

    def authenticate(self, login: str, password: str) -> Account | None:
        """The account when ``login`` exists, is enabled and ``password`` matches; re-hashes when needed.

        An unknown login costs the same time as a wrong password.
        """
        account = self.get(login) if LOGIN_PATTERN.match(login) else None
        ok, new_hash = self._passwords.verify(account.password_hash if account else None, password)
        if not ok or account is None or account.disabled:
            return None
        if new_hash is not None:
            with locked(self.path):
                accounts = self._load()
                if accounts.get(login) == account:        # unchanged meanwhile
                    accounts[login] = replace(account, password_hash=new_hash)
                    self._save(accounts)
            account = replace(account, password_hash=new_hash)
        return account
