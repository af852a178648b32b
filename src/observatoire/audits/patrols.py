"""Patrol hours per resident and per unit of independently measured need, by area group, zone by zone.

The estimand the need-adjusted flag is for: unlike a selection of cells (choosing the top cells concentrates
attention where need is high even when the choice is unbiased), hours are proportional, so an allocation in
proportion to need has a per-need ratio of 1, and one giving a group ``f`` times its share per unit of need has
ratio ``f``. Exposure: the patrol hours of the store's patrol records (source ``patrols``, a reference table) per
zone over the period; need: the configured independent reports per zone over the same days; units: the zones,
which are also the interval's independent draws. Called by ``GET /api/v1/audits/fairness?allocation=patrols``
and by the periodic control report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from observatoire.analytics.counts import filter_events
from observatoire.audits.config import AuditConfig, area_groups
from observatoire.audits.fairness import FairnessAudit, exposure_audit
from observatoire.city.profile import CityProfile
from observatoire.errors import InputError


@dataclass(frozen=True)
class PatrolAudit:
    audit: FairnessAudit
    start: date                  # the period audited, [start, end): clipped to the first patrol record
    end: date
    hours: float                 # patrol hours of the period
    need_events: int             # independent reports of the period
    zone_group: dict[str, str]


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def patrol_audit(patrols: Any, events: Any, city: CityProfile, config: AuditConfig, *, end: date | None,
                 days: int, rng: np.random.Generator) -> PatrolAudit:
    """The audit of the ``days`` before ``end`` (None: the day after the last shift), never before the first
    patrol record (days before the records are not days without patrols).

    ``patrols`` is the store's ``patrols`` reference table (None when it holds none), ``events`` its events.

    Raises
    ------
    InputError
        No patrol record, a period before the first record, no patrol hour in the period, or area groups the
        configuration cannot make.
    """
    if patrols is None:
        raise InputError("the store holds no patrol records (source patrols): there is no patrol allocation to audit")
    span = patrols.aggregate(first=patrols.shift_start.min(), last=patrols.shift_start.max()).to_pyarrow()
    if span["last"][0].as_py() is None:
        raise InputError("the patrol records are empty: there is no patrol allocation to audit")
    if end is None:
        end = span["last"][0].as_py().astimezone(UTC).date() + timedelta(days=1)
    records_start = span["first"][0].as_py().astimezone(UTC).date()
    if end <= records_start:
        raise InputError(f"the patrol records start on {records_start}: there is no patrol allocation before {end}")
    first = max(end - timedelta(days=days), records_start)
    in_period = patrols.filter((patrols.shift_start >= _day(first)) & (patrols.shift_start < _day(end)))
    out = in_period.group_by("zone_id").aggregate(hours=in_period.patrol_hours.sum()).to_pyarrow()
    hours = dict(zip(out["zone_id"].to_pylist(), out["hours"].to_pylist()))
    if not sum(h or 0.0 for h in hours.values()):
        raise InputError(f"no patrol hours between {first} and {end}: there is no patrol allocation to audit")
    kept = filter_events(events, start=first, end=end, categories=list(config.need_categories),
                         discoveries=list(config.need_discovery))
    counted = kept.group_by("zone_id").aggregate(n=kept.count()).to_pyarrow()
    needs = {z: int(n) for z, n in zip(counted["zone_id"].to_pylist(), counted["n"].to_pylist()) if z is not None}
    zone_group = area_groups(city, config.groups)
    zones = [z.zone_id for z in city.zones]
    audit = exposure_audit([zone_group[z] for z in zones], [z.population for z in city.zones],
                           [float(hours.get(z) or 0.0) for z in zones], [float(needs.get(z, 0)) for z in zones],
                           reference=config.groups.reference, rng=rng, band=config.band, level=config.level,
                           n_boot=config.bootstrap, cluster=zones)
    return PatrolAudit(audit, first, end, float(sum(h or 0.0 for h in hours.values())), sum(needs.values()),
                       zone_group)
