"""Counters every server process of one deployment shares: the login throttle's and the anonymous refusals'.

``serve --workers N`` runs N processes; counters kept in each process's memory would give an attacker N times
the allowance (each connection lands on any worker). They live instead in one SQLite file beside the accounts
(``<auth>/counters.sqlite``, WAL journal, mode 0600), each change one short ``BEGIN IMMEDIATE`` transaction,
so a failure counted by one worker locks the login in all of them. Without a path (a single process, tests)
the same tables live in memory.

The keys are stored as digests: a throttle key names a login that was tried (sometimes a password typed in the
wrong box) or an address; the file needs only to tell keys apart, not to show them.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from observatoire.statefiles import ensure_private_dir

COUNTERS_FILE = "counters.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS throttle (key TEXT PRIMARY KEY, failures INTEGER NOT NULL, last REAL NOT NULL,
                                     locked_until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS refusals (minute TEXT NOT NULL, network TEXT NOT NULL, n INTEGER NOT NULL,
                                     PRIMARY KEY (minute, network));
"""


def digest(key: str) -> str:
    """The stored form of a counter key."""
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


class Counters:
    """One SQLite database of counters (``path`` None: in memory, this process only), opened on first use."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._con: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._con is None or self._pid != os.getpid():       # a forked worker opens its own
            if self.path is None:
                con = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            else:
                ensure_private_dir(self.path.parent)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                os.close(fd)
                con = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=NORMAL")
            con.executescript(SCHEMA)
            self._con, self._pid = con, os.getpid()
        return self._con

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic change, serialised with every other process's (``BEGIN IMMEDIATE``)."""
        with self._lock:
            con = self._connection()
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._connection().execute(sql, params).fetchall()
