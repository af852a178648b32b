"""Retention per source, legal holds, and the one visibility rule every query applies.

The rule (:func:`visible`): a record is *expired* when the configured period of its
source has run out (``occurred_at + days <= now``, with ``now`` from ``settings.clock``),
or when the ``retention_until`` date stamped at ingest is past. An expired record is
never returned by a query, even before the purge removes it from disk, unless an active
legal hold covers it: held records stay on disk and stay visible (a hold exists so that
the records can still be produced). Quarantine rows follow the period of their source,
counted from ``quarantined_at``.

Periods are declared by each source on its connector (``descriptor.retention``: days, or no limit with a
reason; ``sources/registry.py`` refuses a source that declares neither). The packaged
``governance/retention.toml`` overrides them for the default table; a city's file (``settings.retention_path``)
replaces the table, and a source it does not name keeps its declared period at ingest (``retention_until``).
A shortened period applies at once to stored records (the rule is evaluated at query time).

Legal holds live in ``settings.holds_path`` (JSON). A hold names at least one of: a source,
a zone, a time range ``[start, end)`` of ``occurred_at``, a list of event ids (all given
criteria must match), plus a reason and a reference (kept in the holds file, never in the
audit log). Adding or lifting one is audited (action ``legal_hold``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from observatoire.configfile import read_toml
from observatoire.errors import InputError
from observatoire.statefiles import locked, write_json

if TYPE_CHECKING:  # ibis is imported where a query is built, not with the settings
    import ibis.expr.types as ir


# -- periods ------------------------------------------------------------------------------------------
def load_retention_days(path: Path | None = None) -> Mapping[str, int]:
    """Days of retention per source: the file at ``path`` as it stands (a city's table), or, with no path, the
    periods the registered sources declare (those without a limit are not listed) with the packaged
    ``retention.toml``'s overrides."""
    doc, where = read_toml(path, "observatoire.governance", "retention.toml", "retention file")
    days = doc.get("days")
    if not isinstance(days, dict):
        raise InputError(f"retention file {where}: a [days] table is required")
    for k, v in days.items():
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise InputError(f"retention file {where}: days.{k} must be a positive integer")
    if path is not None:
        return MappingProxyType(dict(days))
    return MappingProxyType({**declared_retention_days(), **days})


def declared_retention_days() -> dict[str, int]:
    """The period each registered source declares, in days; a source declared without limit is not listed."""
    from observatoire.sources.registry import registered

    return {name: r.days for name, r in registered().retention().items() if r.days is not None}


def no_limit_reasons() -> dict[str, str]:
    """Why each registered source declared without a time limit has none (for the register)."""
    from observatoire.sources.registry import registered

    return {name: r.reason or "" for name, r in registered().retention().items() if r.days is None}


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# -- legal holds -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Hold:
    """One legal hold: records matching every given criterion are kept past their retention."""

    hold_id: str
    reason: str
    reference: str
    created_at: str
    created_by: str
    source: str | None = None
    zone: str | None = None
    start: str | None = None          # ISO datetime (UTC), included
    end: str | None = None            # ISO datetime (UTC), excluded
    event_ids: tuple[str, ...] = ()
    lifted_at: str | None = None
    lifted_by: str | None = None

    @property
    def active(self) -> bool:
        return self.lifted_at is None

    def scope(self) -> dict[str, Any]:
        """The hold's criteria as audit parameters (no reason, no reference, ids counted only)."""
        return {"source": self.source, "zone": self.zone, "start": self.start, "end": self.end,
                "event_ids": len(self.event_ids)}


def _parse_time(name: str, value: str | datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    try:
        return _utc(datetime.fromisoformat(str(value))).isoformat()
    except ValueError as exc:
        raise InputError(f"legal hold {name} must be an ISO date or datetime") from exc


class Holds:
    """The legal holds file (``settings.holds_path``); re-read when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._cache: tuple[int, int, tuple[Hold, ...]] | None = None

    def all(self) -> tuple[Hold, ...]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return ()
        if self._cache and self._cache[:2] == (st.st_mtime_ns, st.st_size):
            return self._cache[2]
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            holds = tuple(Hold(**{**h, "event_ids": tuple(h.get("event_ids") or ())}) for h in doc["holds"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"legal holds file {self.path} is unreadable ({type(exc).__name__})") from exc
        self._cache = (st.st_mtime_ns, st.st_size, holds)
        return holds

    def active(self) -> tuple[Hold, ...]:
        return tuple(h for h in self.all() if h.active)

    def _write(self, holds: Iterable[Hold]) -> None:
        """Replace the file (private, atomic); callers hold :func:`~observatoire.statefiles.locked`."""
        write_json(self.path, {"holds": [{**asdict(h), "event_ids": list(h.event_ids)} for h in holds]})
        self._cache = None

    def add(self, *, reason: str, reference: str, actor: str, now: datetime, source: str | None = None,
            zone: str | None = None, start: str | datetime | date | None = None,
            end: str | datetime | date | None = None, event_ids: Iterable[str] = (),
            audit: Any | None = None, role: str = "admin") -> Hold:
        """Add a hold; at least one criterion, a reason and a reference are required.

        With ``audit`` (an :class:`~observatoire.governance.audit.AuditLog`) the addition is recorded
        as ``legal_hold`` with the hold's id and scope (never its reason or reference).
        """
        ids = tuple(str(i) for i in event_ids)
        if not (reason or "").strip() or not (reference or "").strip():
            raise InputError("a legal hold needs a reason and a reference")
        if source is None and zone is None and start is None and end is None and not ids:
            raise InputError("a legal hold needs at least one of: source, zone, start/end, event ids")
        s, e = _parse_time("start", start), _parse_time("end", end)
        if s and e and s >= e:
            raise InputError("legal hold start must be before its end")
        hold = Hold(hold_id=f"hold-{secrets.token_hex(4)}", reason=reason.strip(), reference=reference.strip(),
                    created_at=_utc(now).isoformat(), created_by=actor, source=source, zone=zone,
                    start=s, end=e, event_ids=ids)
        with locked(self.path):   # read, add, write: one writer at a time
            self._write([*self.all(), hold])
        if audit is not None:
            audit.record("legal_hold", actor=actor, role=role, dataset="events", filters=hold.scope(),
                         purpose="legal_hold", detail={"op": "add", "hold_id": hold.hold_id})
        return hold

    def lift(self, hold_id: str, *, actor: str, now: datetime, audit: Any | None = None,
             role: str = "admin") -> Hold:
        """Mark a hold lifted (it stays in the file, for the record); audited like :meth:`add`."""
        with locked(self.path):   # read, change, write: one writer at a time
            holds = list(self.all())
            i = next((i for i, h in enumerate(holds) if h.hold_id == hold_id), None)
            if i is None:
                raise InputError(f"no legal hold {hold_id}")
            h = holds[i]
            if not h.active:
                raise InputError(f"legal hold {hold_id} is already lifted")
            holds[i] = Hold(**{**asdict(h), "event_ids": h.event_ids,
                               "lifted_at": _utc(now).isoformat(), "lifted_by": actor})
            self._write(holds)
        if audit is not None:
            audit.record("legal_hold", actor=actor, role=role, dataset="events", filters=h.scope(),
                         purpose="legal_hold", detail={"op": "lift", "hold_id": hold_id})
        return holds[i]


# -- the visibility rule --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Retention:
    """Periods per source and the legal holds: decides which records a query may return."""

    days: Mapping[str, int] = field(default_factory=dict)
    holds: Holds | None = None

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """Per source, the instant at or before which a record has expired."""
        now = _utc(now)
        return {s: now - timedelta(days=d) for s, d in self.days.items()}

    def visible(self, t: ir.Table, now: datetime, *, time_col: str = "occurred_at") -> ir.Table:
        """``t`` without its expired, non-held rows."""
        keep = self.keep(t, now, time_col=time_col)
        return t if keep is None else t.filter(keep)

    def keep(self, t: ir.Table, now: datetime, *, time_col: str = "occurred_at") -> ir.BooleanValue | None:
        """The boolean expression "not expired, or held" over ``t`` (None: nothing can expire)."""
        expired, held = self.parts(t, now, time_col=time_col)
        if expired is None:
            return None
        keep = ~expired
        return keep if held is None else keep | held

    def parts(self, t: ir.Table, now: datetime, *,
              time_col: str = "occurred_at") -> tuple[ir.BooleanValue | None, ir.BooleanValue | None]:
        """(expired, held) as boolean expressions over ``t``, never null (None: no such rows possible)."""
        import ibis

        now = _utc(now)
        cols = set(t.columns)

        def either(a: ir.BooleanValue | None, b: ir.BooleanValue) -> ir.BooleanValue:
            return b if a is None else a | b

        expired: ir.BooleanValue | None = None
        for source, cut in self.cutoffs(now).items():
            expired = either(expired, (t.source == source) & (t[time_col] <= ibis.literal(cut)))
        if "retention_until" in cols:
            expired = either(expired, t.retention_until < ibis.literal(now.date()))
        held: ir.BooleanValue | None = None
        for h in (self.holds.active() if self.holds else ()):
            cond: ir.BooleanValue = ibis.literal(True)
            if h.source is not None:
                cond &= t.source == h.source
            if h.zone is not None:
                cond = cond & (t.zone_id == h.zone) if "zone_id" in cols else ibis.literal(False)
            if h.start is not None:
                cond &= t[time_col] >= ibis.literal(datetime.fromisoformat(h.start))
            if h.end is not None:
                cond &= t[time_col] < ibis.literal(datetime.fromisoformat(h.end))
            if h.event_ids:
                cond = cond & t.event_id.isin(list(h.event_ids)) if "event_id" in cols else ibis.literal(False)
            held = either(held, cond)
        return (None if expired is None else expired.fill_null(False),
                None if held is None else held.fill_null(False))
