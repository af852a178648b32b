"""Hospital emergency admissions for assault injuries, pre-aggregated (Cardiff model), as a reference table.

Some hospitals share counts, not records: one row per period × zone × weapon ×
age band × sex. Small counts are protected at ingest: a count from 1 to
``SMALL_COUNT_MAX`` (the "petits effectifs" rule applied to hospital data) is
never stored exactly — it becomes null with ``suppressed = true``; a count the
hospital itself hid (``s``, ``<11``, ``NC``) is stored the same way.
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
from observatoire.sources.formats import parse_int, parse_local, read_csv
from observatoire.sources.hospital import AGE_BANDS, SEXES, WEAPONS, Hospital

SMALL_COUNT_MAX = 10
HIDDEN = ("s", "nc", "secret", "<11", "< 11", "<5", "< 5")
FORMATS = ("%d/%m/%Y",)

COUNTS_SCHEMA = pa.schema([
    pa.field("period_start", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("period_end", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("zone_id", pa.string(), nullable=False),
    pa.field("weapon", pa.string(), nullable=False),
    pa.field("age_band", pa.string(), nullable=False),
    pa.field("sex", pa.string(), nullable=False),
    pa.field("count", pa.int64()),                       # null when suppressed
    pa.field("suppressed", pa.bool_(), nullable=False),
])


class HospitalCounts:
    name: ClassVar[str] = "hospital_counts"
    kind: ClassVar[Literal["events", "reference"]] = "reference"
    patterns: ClassVar[tuple[str, ...]] = ("hospital_counts*.csv",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Comptages des urgences",
        fields={"debut_periode": "data", "fin_periode": "data", "code_insee_lieu": "data", "categorie_arme": "data",
                "tranche_age": "data", "sexe": "data", "nombre": "data"},
        retention=Retention.no_limit("comptages agrégés sans donnée personnelle (petits effectifs masqués à l'entrée)"),
        processing=Processing(
            label="Comptages agrégés des urgences (petits effectifs masqués)",
            legal_basis="Convention avec l'établissement de santé ; données agrégées",
            data_subjects=(),
            recipients=("cellule d'analyse", "public (agrégats)")),
        sample=Sample(DOCS / "samples" / "hospital_counts_sample.csv"),
        doc=DOCS / "sources.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        **Hospital.vocabularies,
        "nombre": HIDDEN}   # for nombre, the spellings of a hidden count beside integers
    columns = ("debut_periode", "fin_periode", "code_insee_lieu", "categorie_arme", "tranche_age", "sexe", "nombre")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_csv(path, self.columns)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        start, bad_start = parse_local(t["debut_periode"], ctx.city.timezone, FORMATS)
        end, bad_end = parse_local(t["fin_periode"], ctx.city.timezone, FORMATS)
        raw_count = pc.utf8_lower(pc.utf8_trim_whitespace(pc.fill_null(t["nombre"], "")))
        hidden = np.isin(np.asarray(raw_count.to_pylist(), dtype=object), HIDDEN)
        count, bad_count = parse_int(t["nombre"])
        counts = np.asarray(pc.fill_null(count, -1).to_numpy(zero_copy_only=False))
        small = (counts >= 1) & (counts <= SMALL_COUNT_MAX)
        weapon = np.array([WEAPONS.get((x or "").strip().lower()) for x in t["categorie_arme"].to_pylist()],
                          dtype=object)
        zone = pc.utf8_trim_whitespace(t["code_insee_lieu"])
        rejects.reject(bad_start | bad_end | np.asarray(pc.or_(pc.is_null(start), pc.is_null(end))
                                                        .to_numpy(zero_copy_only=False), bool),
                       "bad_timestamp", "debut_periode/fin_periode are not dd/mm/yyyy")
        rejects.reject(mask(pc.fill_null(pc.less(end, start), False)),
                       "ends_before_start", "fin_periode precedes debut_periode")
        rejects.reject(~np.isin(np.asarray(zone.to_pylist(), dtype=object), sorted(ctx.city.zone_ids)),
                       "unknown_zone", "code_insee_lieu is not a zone of the city profile")
        rejects.reject(weapon == None, "unknown_weapon", "categorie_arme is not documented")  # noqa: E711
        rejects.reject(~np.isin(np.asarray(t["tranche_age"].to_pylist(), dtype=object), AGE_BANDS),
                       "unknown_age_band", "tranche_age is not a documented band")
        rejects.reject(~np.isin(np.asarray(t["sexe"].to_pylist(), dtype=object), SEXES), "unknown_sex",
                       "sexe is not F/M/X")
        rejects.reject((bad_count & ~hidden) | (counts < 0) & ~hidden, "bad_count",
                       "nombre is not a count or a hidden-count mark")
        suppressed = hidden | small
        ok = pa.array(rejects.ok)
        table = pa.table({
            "period_start": start, "period_end": end, "zone_id": zone,
            "weapon": pa.array(weapon, pa.string()), "age_band": t["tranche_age"], "sex": t["sexe"],
            "count": pa.array(np.where(suppressed, 0, counts), pa.int64(), mask=suppressed),
            "suppressed": pa.array(suppressed),
        }).filter(ok)
        return Canonical(None, table.cast(COUNTS_SCHEMA), rejects.table(self.name, ctx))
