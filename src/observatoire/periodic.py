"""A task that ``serve`` runs in the background: once at start-up, then every ``interval_s`` seconds, in a daemon
thread (the scheduled purge, ``governance/purge.py``, and publication, ``release/schedule.py``)."""

from __future__ import annotations

import threading
from typing import Any


class Periodic:
    """Subclasses implement :meth:`run_once` (which must catch and log its own failures) and name the thread."""

    thread_name = "observatoire-periodic"

    def __init__(self, settings: Any, interval_s: float) -> None:
        self.settings = settings
        self.interval_s = float(interval_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Any:
        raise NotImplementedError

    def _loop(self) -> None:
        while True:
            self.run_once()
            if self._stop.wait(self.interval_s):
                return

    def start(self) -> "Periodic":
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
