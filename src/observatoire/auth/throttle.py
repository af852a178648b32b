"""Login throttling by clock: once a login (or a client address) has failed its allowance of
attempts, it is locked for ``base`` seconds, and each further failure doubles the lock (capped).

The counters are shared by every server process of the deployment (:mod:`observatoire.auth.counters`):
with ``serve --workers N`` a login locked by one worker is locked in all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from observatoire.auth.counters import Counters, digest

PRUNE_EVERY = 1_000          # failures between two removals of the keys not seen for ``forget_s``


class Throttle:
    """Failure counters per key (``login:<name>``, ``addr:<ip>``), in ``counters`` (memory when not given)."""

    def __init__(self, clock: Callable[[], datetime], *, free_per_login: int = 5, free_per_address: int = 20,
                 base_s: float = 30, max_s: float = 3600, forget_s: float = 3600,
                 counters: Counters | None = None) -> None:
        self._clock = clock
        self._free = {"login": free_per_login, "addr": free_per_address}
        self._base, self._max, self._forget = base_s, max_s, forget_s
        self._counters = counters or Counters()
        self._since_prune = 0

    def _now(self) -> float:
        return self._clock().timestamp()

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds to wait before ``keys`` may try again (0 when none is locked)."""
        digests = [digest(k) for k in keys]
        if not digests:
            return 0.0
        rows = self._counters.read(f"SELECT max(locked_until) FROM throttle WHERE key IN "
                                   f"({','.join('?' * len(digests))})", tuple(digests))
        until = rows[0][0] if rows and rows[0][0] is not None else 0.0
        return max(0.0, until - self._now())

    def failure(self, keys: Iterable[str]) -> None:
        """Count one failed attempt against each key, and lock those past their free failures."""
        now = self._now()
        with self._counters.transaction() as con:
            for key in keys:
                d = digest(key)
                row = con.execute("SELECT failures, last FROM throttle WHERE key = ?", (d,)).fetchone()
                failures = 1 if row is None or now - row[1] > self._forget else row[0] + 1
                excess = failures - self._free[key.split(":", 1)[0]]
                locked = now + min(self._max, self._base * 2 ** min(excess, 30)) if excess >= 0 else 0.0
                con.execute("INSERT INTO throttle VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
                            "failures = excluded.failures, last = excluded.last, locked_until = "
                            "excluded.locked_until", (d, failures, now, locked))
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY:       # bound the file: forget the stale keys
                self._since_prune = 0
                con.execute("DELETE FROM throttle WHERE last < ? AND locked_until < ?", (now - self._forget, now))

    def success(self, keys: Iterable[str]) -> None:
        """Forget the failures of ``keys`` (the login's, after a successful login)."""
        with self._counters.transaction() as con:
            con.executemany("DELETE FROM throttle WHERE key = ?", [(digest(k),) for k in keys])

    def reset(self) -> None:
        """Forget every counter (an administrator's unlock; tests)."""
        with self._counters.transaction() as con:
            con.execute("DELETE FROM throttle")
