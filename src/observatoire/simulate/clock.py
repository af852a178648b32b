"""Time in the simulated period: UTC instants as int64 seconds, local calendars, export formats.

The simulated period is a run of whole *local* days (from the first day's
00:00 to the day after the last one, Europe/Paris for Marseille): a civil
year, or the years ending at a given date. Every instant is kept as int64
seconds since the Unix epoch (UTC); the conversions to local time go through
Arrow's time-zone database, vectorised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY_S = 86_400
HOUR_S = 3_600


@dataclass(frozen=True, slots=True)
class Clock:
    """The local days ``first`` to ``last`` (included) in time zone ``tz``, and their bounds (UTC seconds)."""

    tz: str
    first: dt.date
    last: dt.date
    start: int
    end: int

    @property
    def year(self) -> int:
        """The year of the last day: the run's "now" for ages and the like."""
        return self.last.year

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def local_origin(self) -> int:
        """Naive local seconds of the first day's 00:00 (the origin of day indices)."""
        return _naive_day(self.first)

    @property
    def years(self) -> float:
        """Length in years: for each civil year touched, its share of days in the period (a civil year: 1)."""
        total = 0.0
        for y in range(self.first.year, self.last.year + 1):
            lo, hi = max(self.first, dt.date(y, 1, 1)), min(self.last, dt.date(y, 12, 31))
            total += ((hi - lo).days + 1) / ((dt.date(y + 1, 1, 1) - dt.date(y, 1, 1)).days)
        return total

    def tail(self, days: int | None) -> "Clock":
        """The last ``days`` days of the period (the whole period when ``days`` is None or longer)."""
        if days is None or days >= self.days:
            return self
        return make_period(self.tz, self.last - dt.timedelta(days=days - 1), self.last)


def _naive_day(day: dt.date) -> int:
    return int(np.datetime64(day.isoformat(), "s").astype(np.int64))


def make_period(tz: str, first: dt.date, last: dt.date) -> Clock:
    """The local days ``first`` to ``last`` included."""
    naive = np.array([_naive_day(first), _naive_day(last + dt.timedelta(days=1))], dtype=np.int64)
    start, end = local_to_utc(naive, tz)
    return Clock(tz=tz, first=first, last=last, start=int(start), end=int(end))


def make_clock(tz: str, year: int) -> Clock:
    """The local civil year ``year``."""
    return make_period(tz, dt.date(year, 1, 1), dt.date(year, 12, 31))


def local_years(ts: np.ndarray, tz: str) -> np.ndarray:
    """Local civil year of UTC instants."""
    loc = local_seconds(np.asarray(ts, dtype=np.int64), tz)
    return loc.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970


def numbered(ts: np.ndarray, tz: str, pattern: str) -> tuple[str, ...]:
    """Record ids numbered from 1 within each local year, in array order: ``pattern.format(year=, n=)``.

    ``"MC-{year}-{n:06d}"`` gives ``MC-2025-000001``...; a period over
    several years restarts the numbering on each 1 January, as a city's does.
    """
    years = local_years(ts, tz)
    n = np.zeros(len(years), dtype=np.int64)
    for y in np.unique(years):
        idx = np.flatnonzero(years == y)
        n[idx] = np.arange(1, len(idx) + 1)
    return tuple(pattern.format(year=int(y), n=int(k)) for y, k in zip(years.tolist(), n.tolist()))


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

    day: np.ndarray     # day index in the period, 0 = its first day
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
    """Start (UTC seconds) of every hour of the period (a civil year: 8,760 or 8,784 bins, ± 1 at DST changes)."""
    return np.arange(clock.start, clock.end, HOUR_S, dtype=np.int64)


def format_local(ts: np.ndarray, tz: str, fmt: str) -> pa.Array:
    """UTC instants formatted in local time with a ``strftime`` pattern (date part, then time part).

    A period has few distinct days (366 a year) and at most 86,400 distinct times of day:
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
