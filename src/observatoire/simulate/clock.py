"""Time in the simulated year: UTC instants as int64 seconds, local calendars, export formats.

The simulated year is the *local* civil year (1 January 00:00 to 1 January
00:00, Europe/Paris for Marseille). Every instant is kept as int64 seconds
since the Unix epoch (UTC); the conversions to local time go through Arrow's
time-zone database, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY_S = 86_400
HOUR_S = 3_600


@dataclass(frozen=True, slots=True)
class Clock:
    """The local year ``year`` in time zone ``tz``: its first and last instants (UTC seconds)."""

    tz: str
    year: int
    start: int
    end: int

    @property
    def days(self) -> int:
        return int(round((_naive(self.year + 1) - _naive(self.year)) / DAY_S))

    @property
    def local_origin(self) -> int:
        """Naive local seconds of 1 January 00:00 (the origin of day indices)."""
        return _naive(self.year)


def _naive(year: int) -> int:
    return int(np.datetime64(f"{year}-01-01T00:00:00", "s").astype(np.int64))


def make_clock(tz: str, year: int) -> Clock:
    naive = np.array([_naive(year), _naive(year + 1)], dtype=np.int64)
    start, end = local_to_utc(naive, tz)
    return Clock(tz=tz, year=year, start=int(start), end=int(end))


def _ts(seconds: np.ndarray, tz: str | None) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), type=pa.timestamp("s", tz=tz))


def local_seconds(ts: np.ndarray, tz: str) -> np.ndarray:
    """Naive local wall-clock seconds of UTC instants ``ts``."""
    if len(ts) == 0:
        return np.zeros(0, dtype=np.int64)
    local = pc.local_timestamp(_ts(ts, tz))
    return local.cast(pa.int64()).to_numpy(zero_copy_only=False)


def local_to_utc(naive: np.ndarray, tz: str) -> np.ndarray:
    """UTC instants of naive local wall-clock seconds.

    An ambiguous time (autumn change) is read as the earlier instant and a
    non-existent one (spring change) as the change itself, the connectors'
    rule for the time of facts. The simulator only converts times it chose
    (shift starts, event times, commissioning days), none of them ambiguous.
    """
    if len(naive) == 0:
        return np.zeros(0, dtype=np.int64)
    utc = pc.assume_timezone(_ts(naive, None), timezone=tz, ambiguous="earliest", nonexistent="latest")
    return utc.cast(pa.int64()).to_numpy(zero_copy_only=False)


@dataclass(frozen=True, slots=True)
class LocalFields:
    """Calendar fields of local wall-clock instants."""

    day: np.ndarray     # day index in the year, 0 = 1 January
    hour: np.ndarray    # 0..23
    dow: np.ndarray     # 0 = Monday
    month: np.ndarray   # 0 = January


def local_fields(ts: np.ndarray, clock: Clock) -> LocalFields:
    loc = local_seconds(ts, clock.tz)
    days_since_epoch = loc // DAY_S
    months = loc.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12
    return LocalFields(
        day=(loc - clock.local_origin) // DAY_S,
        hour=(loc % DAY_S) // HOUR_S,
        dow=(days_since_epoch + 3) % 7,  # 1 January 1970 was a Thursday
        month=months,
    )


def hour_bins(clock: Clock) -> np.ndarray:
    """Start (UTC seconds) of every hour of the local year: 8,760 or 8,784 bins (± 1 at DST changes)."""
    return np.arange(clock.start, clock.end, HOUR_S, dtype=np.int64)


def format_local(ts: np.ndarray, tz: str, fmt: str) -> pa.Array:
    """UTC instants formatted in local time with a ``strftime`` pattern (date part, then time part).

    A year has at most 366 distinct days and 86,400 distinct times of day:
    each is formatted once and the rows take their labels, an order of
    magnitude faster than formatting every row.
    """
    ts = np.asarray(ts, dtype=np.int64)
    loc = local_seconds(ts, tz) if tz != "UTC" else ts
    cut = fmt.find("%H")
    if cut < 0:
        return _labels(loc // DAY_S * DAY_S, fmt)
    if cut == 0:
        return _labels(loc % DAY_S, fmt)
    date = _labels(loc // DAY_S * DAY_S, fmt[:cut - 1])
    time = _labels(loc % DAY_S, fmt[cut:])
    return pc.binary_join_element_wise(date, time, fmt[cut - 1])


def _labels(values: np.ndarray, fmt: str) -> pa.Array:
    uniq, inverse = np.unique(values, return_inverse=True)
    labels = pc.strftime(pa.array(uniq, type=pa.timestamp("s")), format=fmt)
    return labels.take(pa.array(inverse.ravel()))


def format_utc_z(ts: np.ndarray) -> pa.Array:
    """ISO 8601 UTC with a ``Z``: ``2025-03-01T13:05:12Z``."""
    return format_local(ts, "UTC", "%Y-%m-%dT%H:%M:%SZ")


def format_local_offset(ts: np.ndarray, tz: str) -> pa.Array:
    """ISO 8601 local time with its offset: ``2025-03-01T14:05:00+01:00``."""
    ts = np.asarray(ts, dtype=np.int64)
    offset = local_seconds(ts, tz) - ts
    # A zone has a handful of offsets: label each once, then index.
    uniq, inverse = np.unique(offset, return_inverse=True)
    labels = np.array([_offset_label(int(o)) for o in uniq], dtype=object)
    suffix = pa.array(labels[inverse.ravel()], type=pa.string())
    base = format_local(ts, tz, "%Y-%m-%dT%H:%M:%S")
    return pc.binary_join_element_wise(base, suffix, "")


def _offset_label(offset_s: int) -> str:
    sign = "-" if offset_s < 0 else "+"
    m = abs(offset_s) // 60
    return f"{sign}{m // 60:02d}:{m % 60:02d}"
