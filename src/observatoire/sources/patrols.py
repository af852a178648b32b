"""The patrol allocation: officers and patrol hours per day, shift and zone (a reference dataset).

Enforcement data (logbook entries found on patrol, fines) depends on where
patrols are; keeping the allocation lets later audits separate deployment from need.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Collection, Mapping
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.sources.base import (DOCS, ROW, Canonical, Context, Processing, RawFile, Retention, Sample,
                                       SourceDescriptor, Vocabulary)
from observatoire.sources.canonical import mask, Rejects
from observatoire.sources.formats import parse_decimal, parse_int, parse_local, read_csv

SHIFTS = {"matin": 6, "apres-midi": 14, "nuit": 22}   # local start hour; each shift lasts 8 hours
SHIFT_HOURS = 8

PATROL_SCHEMA = pa.schema([
    pa.field("shift_start", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("shift_end", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("shift", pa.string(), nullable=False),
    pa.field("zone_id", pa.string(), nullable=False),
    pa.field("officers", pa.int32(), nullable=False),
    pa.field("patrol_hours", pa.float64(), nullable=False),
])


class Patrols:
    name: ClassVar[str] = "patrols"
    kind: ClassVar[Literal["events", "reference"]] = "reference"
    patterns: ClassVar[tuple[str, ...]] = ("patrols*.csv",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Heures de patrouille",
        fields={"date": "data", "creneau": "data", "code_insee": "data", "effectif": "data",
                "heures_patrouille": "data"},
        retention=Retention.no_limit("effectifs et heures agrégés par zone et créneau, sans donnée personnelle ; "
                                     "gardés pour séparer, dans les audits, le déploiement du besoin"),
        processing=Processing(
            label="Heures de patrouille par zone",
            legal_basis="Code de la sécurité intérieure, art. L. 511-1",
            data_subjects=(),
            recipients=("cellule d'analyse",)),
        sample=Sample(DOCS / "samples" / "patrols_sample.csv"),
        doc=DOCS / "sources.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "creneau": Vocabulary(tuple(SHIFTS), "unknown_shift", "creneau is not matin/apres-midi/nuit")}
    columns = ("date", "creneau", "code_insee", "effectif", "heures_patrouille")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_csv(path, self.columns)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        shift = np.asarray([(x or "").strip().lower() for x in t["creneau"].to_pylist()], dtype=object)
        hour = np.array([f"{SHIFTS.get(s, 0):02d}:00" for s in shift], dtype=object)
        start, bad_start = parse_local(
            pc.binary_join_element_wise(t["date"], pa.array(hour, pa.string()), " "), ctx.city.timezone,
            ("%d/%m/%Y %H:%M",))
        officers, bad_officers = parse_int(t["effectif"])
        hours, bad_hours = parse_decimal(t["heures_patrouille"])
        zone = pc.utf8_trim_whitespace(t["code_insee"])
        rejects.reject(~np.isin(shift, list(SHIFTS)), "unknown_shift", "creneau is not matin/apres-midi/nuit")
        rejects.reject(bad_start | mask(pc.is_null(start)),
                       "bad_timestamp", "date is not dd/mm/yyyy")
        rejects.reject(~np.isin(np.asarray(zone.to_pylist(), dtype=object), sorted(ctx.city.zone_ids)),
                       "unknown_zone", "code_insee is not a zone of the city profile")
        rejects.reject(bad_officers | bad_hours | np.asarray(pc.or_(pc.is_null(officers), pc.is_null(hours))
                                                             .to_numpy(zero_copy_only=False), bool),
                       "bad_number", "effectif/heures_patrouille are not numbers")
        ok = pa.array(rejects.ok)
        table = pa.table({
            "shift_start": start,
            "shift_end": pc.add(start, pa.scalar(SHIFT_HOURS * 3600 * 10**6, pa.duration("us"))),
            "shift": pa.array(shift, pa.string()), "zone_id": zone, "officers": officers, "patrol_hours": hours,
        }).filter(ok)
        return Canonical(None, table.cast(PATROL_SCHEMA), rejects.table(self.name, ctx))
