"""Password hashing with argon2id (argon2-cffi); hashes are re-made at login when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from observatoire.auth.config import AuthConfig
from observatoire.errors import InputError


class Passwords:
    """Hash and verify passwords with the configured argon2id parameters."""

    def __init__(self, config: AuthConfig) -> None:
        self._min = config.password_min_length
        self._hasher = PasswordHasher(time_cost=config.argon2_time_cost, memory_cost=config.argon2_memory_kib,
                                      parallelism=config.argon2_parallelism)
        # Verified against when the login is unknown, so that both answers take the same time.
        self._dummy = self._hasher.hash("not a password of anyone")

    def hash(self, password: str) -> str:
        """The argon2id hash of ``password`` (InputError when it is too short)."""
        if len(password) < self._min:
            raise InputError(f"the password must have at least {self._min} characters")
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        """Whether ``password`` matches ``stored``, and a new hash when the parameters changed.

        Returns
        -------
        (ok, new_hash)
            ``new_hash`` is not None only when ``ok`` and the stored hash used other parameters.
        """
        try:
            self._hasher.verify(stored or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, None
        if stored is None:
            return False, None
        return True, (self._hasher.hash(password) if self._hasher.check_needs_rehash(stored) else None)
