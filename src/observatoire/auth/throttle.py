"""Login throttling by clock: once a login (or a client address) has failed its allowance of
attempts, it is locked for ``base`` seconds, and each further failure doubles the lock (capped)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class _State:
    failures: int
    last: float
    locked_until: float


class Throttle:
    """Failure counters per key (``login:<name>``, ``addr:<ip>``), in memory for this process."""

    def __init__(self, clock: Callable[[], datetime], *, free_per_login: int = 5, free_per_address: int = 20,
                 base_s: float = 30, max_s: float = 3600, forget_s: float = 3600) -> None:
        self._clock = clock
        self._free = {"login": free_per_login, "addr": free_per_address}
        self._base, self._max, self._forget = base_s, max_s, forget_s
        self._state: dict[str, _State] = {}
        self._lock = threading.Lock()

    def _now(self) -> float:
        return self._clock().timestamp()

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds to wait before ``keys`` may try again (0 when none is locked)."""
        now = self._now()
        with self._lock:
            waits = [s.locked_until - now for k in keys if (s := self._state.get(k)) is not None]
        return max([0.0, *waits])

    def failure(self, keys: Iterable[str]) -> None:
        """Count one failed attempt against each key, and lock those past their free failures."""
        now = self._now()
        with self._lock:
            for key in keys:
                s = self._state.get(key)
                if s is None or now - s.last > self._forget:
                    s = self._state[key] = _State(0, now, 0.0)
                s.failures += 1
                s.last = now
                excess = s.failures - self._free[key.split(":", 1)[0]]
                if excess >= 0:
                    s.locked_until = now + min(self._max, self._base * 2 ** min(excess, 30))
            if len(self._state) > 100_000:        # bound memory: forget the stale keys
                self._state = {k: v for k, v in self._state.items() if now - v.last <= self._forget}

    def success(self, keys: Iterable[str]) -> None:
        """Forget the failures of ``keys`` (the login's, after a successful login)."""
        with self._lock:
            for key in keys:
                self._state.pop(key, None)

    def reset(self) -> None:
        """Forget every counter (an administrator's unlock; tests)."""
        with self._lock:
            self._state.clear()
