"""The tables of a monthly release: one measured matrix, every published number a sum of its cells.

The measured matrix has one row per zone of the city profile plus one row for the events without a zone,
and one column per published category (group by group). From its noisy cells (post-processing: no
privacy cost), a release publishes

- ``zones``: per zone, each group and the zone's total, with rates per 1,000 residents;
- ``city``: per group and per category (of groups with several) the city's total, the events without a
  zone, and the grand total.

All are sums of the same noisy cells, so zones and the unlocated row add up to the city's totals and
categories to their group, exactly, and each number's error is the sum of its cells' noise: unbiased, with
the 95 % quantile of that sum as its margin of error. A number under ``k`` (negative ones included) is
suppressed, so every number shown is a positive integer.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np

from observatoire.city.profile import CityProfile
from observatoire.release.config import ReleaseConfig
from observatoire.release.mechanism import margin
from observatoire.release.suppression import PRIMARY, PUBLISHED, SECONDARY, protect

UNLOCATED = "hors_zone"


@dataclass(frozen=True, slots=True)
class Layout:
    """Rows (zone ids, then ``UNLOCATED``) and columns (categories) of the measured matrix."""

    zones: tuple[str, ...]
    categories: tuple[str, ...]

    @classmethod
    def of(cls, city: CityProfile, config: ReleaseConfig) -> "Layout":
        return cls(tuple(z.zone_id for z in city.zones) + (UNLOCATED,), config.categories)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.zones), len(self.categories)

    def cells(self, zones: tuple[str, ...], categories: tuple[str, ...]) -> tuple[int, ...]:
        nc = len(self.categories)
        zi = [self.zones.index(z) for z in zones]
        ci = [self.categories.index(c) for c in categories]
        return tuple(sorted(r * nc + c for r in zi for c in ci))


@dataclass(frozen=True, slots=True)
class Number:
    """One published number: which table, which row and column, which cells it sums."""

    table: str            # zones | city
    row: str              # a zone id, or "groupe", "categorie", "hors_zone", "total" in the city table
    column: str           # a group code, a category code, or "total"
    cells: tuple[int, ...]


def numbers(layout: Layout, config: ReleaseConfig) -> list[Number]:
    """Every number a release publishes, in a fixed order."""
    zones = layout.zones[:-1]
    every = layout.zones
    out: list[Number] = []
    for z in zones:
        for g in config.groups:
            out.append(Number("zones", z, g.code, layout.cells((z,), g.categories)))
        out.append(Number("zones", z, "total", layout.cells((z,), layout.categories)))
    for g in config.groups:
        out.append(Number("city", "groupe", g.code, layout.cells(every, g.categories)))
        if len(g.categories) > 1:
            for c in g.categories:
                out.append(Number("city", "categorie", c, layout.cells(every, (c,))))
    out.append(Number("city", UNLOCATED, "total", layout.cells((UNLOCATED,), layout.categories)))
    out.append(Number("city", "total", "total", layout.cells(every, layout.categories)))
    return out


def exact_matrix(events: ir.Table, layout: Layout, *, month: str, sources: tuple[str, ...]) -> np.ndarray:
    """Exact counts of ``events`` of one UTC month per zone (or none) and published category."""
    kept = events.filter(events.month == month, events.source.isin(list(sources)),
                         events.category.isin(list(layout.categories)))
    grouped = kept.group_by(["zone_id", "category"]).aggregate(n=kept.count()).to_pyarrow().to_pylist()
    matrix = np.zeros(layout.shape, dtype=np.int64)
    for row in grouped:
        zone = row["zone_id"] if row["zone_id"] in layout.zones[:-1] else UNLOCATED
        matrix[layout.zones.index(zone), layout.categories.index(row["category"])] += int(row["n"])
    return matrix


@dataclass(frozen=True, slots=True)
class Published:
    """A number as released: its value (None when suppressed), status and margin of error."""

    number: Number
    value: int | None
    status: str
    margin: int

    def shown(self, k: int) -> str:
        """How the public reads it: the value, "< k", or "masqué"."""
        if self.status == PUBLISHED:
            return str(self.value)
        return f"< {k}" if self.status == PRIMARY else "masqué"


def publish(noisy: np.ndarray, layout: Layout, config: ReleaseConfig, k: int, scale: float) -> list[Published]:
    """Post-process a noisy matrix: sum it into every number, suppress (primary and secondary)."""
    cells = np.asarray(noisy, dtype=np.int64).reshape(-1)
    nums = numbers(layout, config)
    values = [int(cells[list(n.cells)].sum()) for n in nums]
    status = protect([n.cells for n in nums], values, k, cells.size)
    return [Published(n, v if s == PUBLISHED else None, s, margin(len(n.cells), scale))
            for n, v, s in zip(nums, values, status)]

