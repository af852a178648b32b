"""Anonymous traffic counted per minute, not logged request by request; refused anonymous callers rate-limited.

Every request of an identified caller is one entry of the audit log. An anonymous caller's are not: a public
page read by thousands, or a scanner hammering closed routes, would each write a signed, fsync'd entry (a
campaign wrote 10,400 in 30 s from 50 clients) — a denial of service on the log and noise that hides what
matters. Instead, per minute (UTC), the tally counts

- refusals of callers without any credential on closed routes, by route, status, reason and **network**
  (IPv4 /24, IPv6 /48: enough to see who scans, not a person's address);
- reads of the public edge, by route.

When the minute is over, each count becomes one audit entry (``authorisation_denied`` or ``consult``, detail
``{"aggregated": true, "count": n, "minute": ..., ...}``), written on the next request or at shutdown
(``flush``). Every refusal of an anonymous caller (a failed credential too, which keeps its own entry) counts
against its network: past ``refusals_per_minute`` in the current minute, it is answered 429 with
``Retry-After`` until the minute ends, and only counted. That allowance is counted in the deployment's shared
counters (:mod:`observatoire.auth.counters`), so ``serve --workers N`` does not multiply it by N; the audit
counts stay per process (each process writes its own aggregated entries for the minute).
"""

from __future__ import annotations

import ipaddress
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from observatoire.auth.counters import Counters

REFUSALS_PER_MINUTE = 120


def network_of(address: str | None) -> str:
    """The caller's network: IPv4 /24, IPv6 /48 (``unknown`` when the address is not one)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class Tally:
    """Per-minute counters of anonymous traffic, flushed to ``audit`` as one entry per key."""

    def __init__(self, audit: Any, clock: Callable[[], datetime], *,
                 refusals_per_minute: int = REFUSALS_PER_MINUTE, counters: Counters | None = None) -> None:
        self._audit, self._clock, self._limit = audit, clock, refusals_per_minute
        self._minute = self._now_minute()
        self._counts: Counter[tuple[str, ...]] = Counter()
        self._shared = counters or Counters()               # refusals per network and minute, all processes
        self._lock = threading.Lock()

    def _now_minute(self) -> str:
        return self._clock().strftime("%Y-%m-%dT%H:%MZ")

    def _roll(self) -> list[tuple[str, tuple[str, ...], int]]:
        """Under the lock: when the minute changed, take the past minute's counts out (to write them)."""
        now = self._now_minute()
        if now == self._minute:
            return []
        past = [(self._minute, key, n) for key, n in self._counts.items()]
        self._minute, self._counts = now, Counter()
        return past

    def limited(self, address: str | None) -> int:
        """Seconds until the caller's network may be refused again (0: not limited)."""
        with self._lock:
            past = self._roll()
            minute = self._minute
        rows = self._shared.read("SELECT n FROM refusals WHERE minute = ? AND network = ?",
                                 (minute, network_of(address)))
        over = bool(rows) and rows[0][0] >= self._limit
        self._write(past)
        return 60 - self._clock().second if over else 0

    def refusal(self, address: str | None, method: str, path: str, status: int, reason: str,
                dataset: str | None, *, aggregate: bool = True) -> None:
        """Count one refusal of an anonymous caller against its network's allowance, and (``aggregate``) in the
        minute's counts; without ``aggregate`` the caller writes its own entry."""
        network = network_of(address)
        with self._lock:
            past = self._roll()
            minute = self._minute
            if aggregate:
                self._counts[("authorisation_denied", method, path, str(status), reason, dataset or "api",
                              network)] += 1
        with self._shared.transaction() as con:
            con.execute("INSERT INTO refusals VALUES (?, ?, 1) ON CONFLICT (minute, network) DO UPDATE SET n = n + 1",
                        (minute, network))
            if past:                                        # a new minute: the older ones are done with
                con.execute("DELETE FROM refusals WHERE minute < ?", (minute,))
        self._write(past)

    def read(self, method: str, path: str, dataset: str) -> None:
        """Count one anonymous read of the public edge."""
        with self._lock:
            past = self._roll()
            self._counts[("consult", method, path, "200", "", dataset, "")] += 1
        self._write(past)

    def flush(self) -> None:
        """Write every count, the current minute's included (at shutdown)."""
        with self._lock:
            past = [(self._minute, key, n) for key, n in self._counts.items()]
            self._counts = Counter()
        self._write(past)

    def _write(self, entries: list[tuple[str, tuple[str, ...], int]]) -> None:
        for minute, (action, method, path, status, reason, dataset, network), n in entries:
            detail: dict[str, Any] = {"aggregated": True, "count": n, "minute": minute, "method": method,
                                      "path": path, "status": int(status)}
            if reason:
                detail["reason"] = reason
            if network:
                detail["network"] = network
            self._audit.record(action, actor="anonymous", role="public", dataset=dataset,
                               outcome="denied" if action == "authorisation_denied" else "ok", detail=detail)
