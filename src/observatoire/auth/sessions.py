"""Server-side sessions: a random id in the cookie, its SHA-256 on disk with login, role and CSRF token.

A session ends ``absolute`` seconds after login, or ``idle`` seconds after the last request
(measured with the settings' clock). The file never holds a usable session id.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

from observatoire.statefiles import locked, read_json, write_json

COOKIE = "observatoire_session"


@dataclass(frozen=True, slots=True)
class Session:
    """One open session (``key`` is the SHA-256 of the cookie value)."""

    key: str
    login: str
    role: str
    csrf: str
    created: float        # POSIX seconds, from the clock
    seen: float
    via: str = "password"  # password | oidc


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


class Sessions:
    """Open, look up and close sessions in ``<auth_dir>/sessions.json``."""

    def __init__(self, auth_dir: Path, clock: Callable[[], datetime], *, absolute_s: float, idle_s: float,
                 touch_s: float = 60) -> None:
        self.path = auth_dir / "sessions.json"
        self._clock = clock
        self.absolute_s, self.idle_s, self._touch_s = absolute_s, idle_s, touch_s

    def _now(self) -> float:
        return self._clock().timestamp()

    def _load(self) -> dict[str, Session]:
        return {k: Session(**v) for k, v in read_json(self.path, {"sessions": {}})["sessions"].items()}

    def _save(self, sessions: dict[str, Session]) -> None:
        write_json(self.path, {"version": 1, "sessions": {k: asdict(v) for k, v in sessions.items()}})

    def _alive(self, s: Session, now: float) -> bool:
        return now - s.created < self.absolute_s and now - s.seen < self.idle_s

    def open(self, login: str, role: str, via: str = "password") -> tuple[str, Session]:
        """A new session (new id: no fixation); returns the cookie value and the record."""
        session_id = secrets.token_urlsafe(32)
        now = self._now()
        record = Session(_key(session_id), login, role, secrets.token_urlsafe(32), now, now, via)
        with locked(self.path):
            sessions = {k: v for k, v in self._load().items() if self._alive(v, now)}   # forget the expired
            sessions[record.key] = record
            self._save(sessions)
        return session_id, record

    def get(self, session_id: str | None) -> Session | None:
        """The live session of a cookie value (None when unknown, tampered with or expired); notes activity."""
        if not session_id:
            return None
        key, now = _key(session_id), self._now()
        record = self._load().get(key)
        if record is None or not self._alive(record, now):
            return None
        if now - record.seen >= self._touch_s:
            with locked(self.path):
                sessions = self._load()
                if key in sessions:
                    sessions[key] = replace(sessions[key], seen=now)
                    self._save(sessions)
        return record

    def close(self, session_id: str | None) -> bool:
        """End a session; True when one was open."""
        if not session_id:
            return False
        with locked(self.path):
            sessions = self._load()
            gone = sessions.pop(_key(session_id), None)
            if gone is not None:
                self._save(sessions)
        return gone is not None

    def close_login(self, login: str) -> int:
        """End every session of ``login`` (account disabled or role changed); how many were open."""
        with locked(self.path):
            sessions = self._load()
            kept = {k: v for k, v in sessions.items() if v.login != login}
            if len(kept) != len(sessions):
                self._save(kept)
        return len(sessions) - len(kept)
