"""The audits' configuration (``audits.toml``): area groups, flag band, need, monitor, lawful group columns.

Read at the entry point (``Settings.audit_config()``: the deployment's file, ``OBSERVATOIRE_AUDITS``, else the
packaged default) and passed down; nothing is read at import time.

Area groups cut one covariate of the city profile either at fixed ``cuts`` or at ``quantiles`` of the zones'
values (``quantiles = 3``: tertiles, each group about a third of the zones). A group must hold at least
:data:`MIN_ZONES_PER_GROUP` zones: its intervals treat zones as the independent draws (``audits/fairness.py``),
and fewer than that cannot carry an interval, so the audit is refused rather than flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from observatoire.city.profile import CityProfile
from observatoire.configfile import read_toml
from observatoire.errors import InputError

MIN_ZONES_PER_GROUP = 3     # zones an area group needs for its interval (the zones are its independent draws)


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """Zones grouped by one covariate of the city profile, cut at ``cuts`` (or at ``quantiles`` of the zones'
    values, when given: the cuts are then the city's) into ``labels``."""

    indicator: str
    cuts: tuple[float, ...]
    labels: tuple[str, ...]
    reference: str
    quantiles: int | None = None

    def label(self, value: float, cuts: tuple[float, ...] | None = None) -> str:
        """The group of a zone whose indicator is ``value`` (``cuts``: the city's, for quantile groups)."""
        return self.labels[int(np.searchsorted(np.asarray(self.cuts if cuts is None else cuts), value,
                                               side="right"))]

    def cuts_for(self, values: np.ndarray) -> tuple[float, ...]:
        """The cuts for zones whose indicator values are ``values``: the fixed cuts, or the quantiles'."""
        if self.quantiles is None:
            return self.cuts
        return tuple(float(q) for q in np.quantile(values, np.arange(1, self.quantiles) / self.quantiles))


@dataclass(frozen=True, slots=True)
class AuditConfig:
    groups: GroupConfig
    band: tuple[float, float]
    level: float
    bootstrap: int
    need_discovery: tuple[str, ...]
    need_categories: tuple[str, ...]
    monitor_alpha: float
    monitor_permutations: int
    top_share: float
    lawful_group_columns: tuple[str, ...]
    stop_sources: tuple[str, ...]


def _get(doc: dict[str, Any], table: str, key: str) -> Any:
    try:
        return doc[table][key]
    except (KeyError, TypeError):
        raise InputError(f"audit configuration: [{table}] {key} is missing") from None


def load_audit_config(path: Path | None = None) -> AuditConfig:
    """Read ``audits.toml`` (``None``: the packaged default) and check it.

    Raises
    ------
    InputError
        A missing key, labels that do not match the cuts, a reference that is not a label, or a bad band.
    """
    doc, _ = read_toml(path, "observatoire.audits", "audits.toml", "audit configuration")
    labels = tuple(str(x) for x in _get(doc, "groups", "labels"))
    reference = str(_get(doc, "groups", "reference"))
    groups = doc.get("groups") or {}
    if ("cuts" in groups) == ("quantiles" in groups):
        raise InputError("audit configuration: [groups] needs either cuts (fixed thresholds) or quantiles "
                         "(the number of groups of about equal numbers of zones), not both")
    quantiles = None
    if "quantiles" in groups:
        quantiles = groups["quantiles"]
        if not isinstance(quantiles, int) or isinstance(quantiles, bool) or quantiles < 2:
            raise InputError("audit configuration: [groups] quantiles must be an integer >= 2")
        cuts: tuple[float, ...] = tuple(float("nan") for _ in range(quantiles - 1))
        if len(labels) != quantiles or len(set(labels)) != len(labels):
            raise InputError("audit configuration: [groups] needs one distinct label per quantile group")
    else:
        cuts = tuple(float(c) for c in _get(doc, "groups", "cuts"))
        if len(labels) != len(cuts) + 1 or len(set(labels)) != len(labels) or list(cuts) != sorted(cuts):
            raise InputError("audit configuration: [groups] needs increasing cuts and one more distinct label "
                             "than cuts")
    if reference not in labels:
        raise InputError("audit configuration: [groups] reference must be one of the labels")
    low, high = float(_get(doc, "fairness", "band_low")), float(_get(doc, "fairness", "band_high"))
    if not 0 < low < 1 < high:
        raise InputError("audit configuration: the band must satisfy 0 < band_low < 1 < band_high")
    level = float(_get(doc, "fairness", "level"))
    if not 0 < level < 1:
        raise InputError("audit configuration: [fairness] level must lie in (0, 1)")
    return AuditConfig(
        groups=GroupConfig(str(_get(doc, "groups", "indicator")), cuts, labels, reference, quantiles),
        band=(low, high),
        level=level,
        bootstrap=int(_get(doc, "fairness", "bootstrap")),
        need_discovery=tuple(_get(doc, "need", "discovery")),
        need_categories=tuple(_get(doc, "need", "categories")),
        monitor_alpha=float(_get(doc, "feedback_loop", "alpha")),
        monitor_permutations=int(_get(doc, "feedback_loop", "permutations")),
        top_share=float(_get(doc, "feedback_loop", "top_share")),
        lawful_group_columns=tuple(str(c) for c in _get(doc, "stops", "lawful_group_columns")),
        stop_sources=tuple(str(s) for s in _get(doc, "stops", "sources")),
    )


def area_groups(city: CityProfile, groups: GroupConfig, *, min_zones: int = MIN_ZONES_PER_GROUP) -> dict[str, str]:
    """The area group of every zone of ``city`` (zone id → label).

    Raises
    ------
    InputError
        When a zone lacks the configured indicator, or a group holds fewer than ``min_zones`` zones (named, with
        how many it holds).
    """
    missing = [z.zone_id for z in city.zones if groups.indicator not in z.covariates]
    if missing:
        raise InputError(f"city profile {city.name}: {len(missing)} zone(s) lack the covariate "
                         f"{groups.indicator!r} that [groups] indicator names")
    cuts = zone_cuts(city, groups)
    values = [float(z.covariates[groups.indicator]) for z in city.zones]
    out = {z.zone_id: groups.label(v, cuts) for z, v in zip(city.zones, values)}
    sizes = {label: sum(1 for g in out.values() if g == label) for label in groups.labels}
    small = {label: n for label, n in sizes.items() if n < min_zones}
    if small:
        raise InputError(f"city profile {city.name}: the area group(s) "
                         + ", ".join(f"{label} ({n} zone{'s' if n != 1 else ''})" for label, n in small.items())
                         + f" hold fewer than {min_zones} zones; an audit by area needs at least {min_zones} per "
                         "group (change [groups] cuts or quantiles in the audit configuration)")
    return out


def zone_cuts(city: CityProfile, groups: GroupConfig) -> tuple[float, ...]:
    """The cuts that make ``groups`` on ``city``: the fixed ones, or the quantiles of its zones' values."""
    return groups.cuts_for(np.array([float(z.covariates.get(groups.indicator, np.nan)) for z in city.zones]))
