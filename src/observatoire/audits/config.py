"""The audits' configuration (``audits.toml``): area groups, flag band, need, monitor, lawful group columns.

Read at the entry point (``load_audit_config()`` gives the packaged default)
and passed down; nothing is read at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from observatoire.city.profile import CityProfile
from observatoire.configfile import read_toml
from observatoire.errors import InputError


@dataclass(frozen=True, slots=True)
class GroupConfig:
    """Zones grouped by one covariate of the city profile, cut at ``cuts`` into ``labels``."""

    indicator: str
    cuts: tuple[float, ...]
    labels: tuple[str, ...]
    reference: str

    def label(self, value: float) -> str:
        """The group of a zone whose indicator is ``value``."""
        return self.labels[int(np.searchsorted(np.asarray(self.cuts), value, side="right"))]


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
    cuts = tuple(float(c) for c in _get(doc, "groups", "cuts"))
    labels = tuple(str(x) for x in _get(doc, "groups", "labels"))
    reference = str(_get(doc, "groups", "reference"))
    if len(labels) != len(cuts) + 1 or len(set(labels)) != len(labels) or list(cuts) != sorted(cuts):
        raise InputError("audit configuration: [groups] needs increasing cuts and one more distinct label than cuts")
    if reference not in labels:
        raise InputError("audit configuration: [groups] reference must be one of the labels")
    low, high = float(_get(doc, "fairness", "band_low")), float(_get(doc, "fairness", "band_high"))
    if not 0 < low < 1 < high:
        raise InputError("audit configuration: the band must satisfy 0 < band_low < 1 < band_high")
    level = float(_get(doc, "fairness", "level"))
    if not 0 < level < 1:
        raise InputError("audit configuration: [fairness] level must lie in (0, 1)")
    return AuditConfig(
        groups=GroupConfig(str(_get(doc, "groups", "indicator")), cuts, labels, reference),
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


def area_groups(city: CityProfile, groups: GroupConfig) -> dict[str, str]:
    """The area group of every zone of ``city`` (zone id → label).

    Raises
    ------
    InputError
        When a zone lacks the configured indicator.
    """
    missing = [z.zone_id for z in city.zones if groups.indicator not in z.covariates]
    if missing:
        raise InputError(f"city profile {city.name}: {len(missing)} zone(s) lack the covariate "
                         f"{groups.indicator!r} that [groups] indicator names")
    return {z.zone_id: groups.label(z.covariates[groups.indicator]) for z in city.zones}
