"""The period a control report covers: a quarter ``2026-Q4``, a month ``2026-11`` or a year ``2026`` (UTC)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from observatoire.errors import InputError

MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC calendar months from ``start`` (included) to ``end`` (excluded)."""

    label: str
    kind: str            # "quarter", "month" or "year"
    start: date
    end: date

    @property
    def months(self) -> tuple[str, ...]:
        """The ``YYYY-MM`` months of the period, in order (the ids of its monthly releases)."""
        out, y, m = [], self.start.year, self.start.month
        while date(y, m, 1) < self.end:
            out.append(f"{y:04d}-{m:02d}")
            y, m = y + (m == 12), m % 12 + 1
        return tuple(out)

    @property
    def start_at(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def title_fr(self) -> str:
        """``4e trimestre 2026``, ``novembre 2026`` or ``année 2026``."""
        if self.kind == "quarter":
            n = (self.start.month - 1) // 3 + 1
            return f"{n}{'er' if n == 1 else 'e'} trimestre {self.start.year}"
        if self.kind == "month":
            return month_fr(self.months[0])
        return f"année {self.start.year}"


def month_fr(month: str) -> str:
    """``2026-11`` as ``novembre 2026``."""
    return f"{MONTHS_FR[int(month[5:]) - 1]} {month[:4]}"


def parse_period(text: str) -> Period:
    """The period named by ``text``.

    Raises
    ------
    InputError
        When ``text`` is not ``YYYY-Qn``, ``YYYY-MM`` or ``YYYY`` (years 1900 to 9998).
    """
    value = (text or "").strip() if isinstance(text, str) else ""
    matched = _QUARTER.match(value) or _MONTH.match(value) or _YEAR.match(value)
    if matched and not 1900 <= int(matched.group(1)) <= 9998:
        raise InputError(f"a report period lies between 1900 and 9998, not {value[:20]!r}")
    if m := _QUARTER.match(value):
        year, q = int(m.group(1)), int(m.group(2))
        start = date(year, 3 * q - 2, 1)
        end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return Period(value, "quarter", start, end)
    if m := _MONTH.match(value):
        year, month = int(m.group(1)), int(m.group(2))
        return Period(value, "month", date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1))
    if m := _YEAR.match(value):
        year = int(m.group(1))
        return Period(value, "year", date(year, 1, 1), date(year + 1, 1, 1))
    shown = str(text)[:20] if text is not None else ""
    raise InputError(f"a report period is a quarter YYYY-Qn (2026-Q4), a month YYYY-MM (2026-11) or a year "
                     f"YYYY (2026), not {shown!r}")
