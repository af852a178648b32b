"""Hospital emergency admissions for assault injuries: the Cardiff-model minimal dataset (CSV).

The place is only a zone; there is no patient identifier in the format at all.
Records have no key of their own: the event id is derived from the file's
content hash and the row, so re-ingesting the same file gives the same ids.
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
from observatoire.sources.canonical import mask, Rejects, attributes_for, build_events
from observatoire.sources.formats import join_date_time, parse_local, read_csv

WEAPONS = {"aucune": "none", "contondant": "blunt", "tranchant": "sharp", "arme_a_feu": "firearm",
           "autre": "other", "inconnue": "unknown"}
AGE_BANDS = ("0-17", "18-24", "25-34", "35-49", "50-64", "65+")
SEXES = ("F", "M", "X")
FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y")


class Hospital:
    name: ClassVar[str] = "hospital"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("hospital*.csv",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Urgences hospitalières",
        fields={"date_agression": "data", "heure_agression": "data", "code_insee_lieu": "data",
                "categorie_arme": "data", "tranche_age": "data", "sexe": "data", "date_admission": "data",
                "heure_admission": "data"},
        attributes=pa.struct([
            pa.field("weapon", pa.string()),             # none | blunt | sharp | firearm | other | unknown
            pa.field("age_band", pa.string()),           # 0-17 | 18-24 | 25-34 | 35-49 | 50-64 | 65+
            pa.field("sex", pa.string()),                # F | M | X (as recorded by the hospital)
        ]),
        discovery="independent",  # an admission does not depend on where patrols are
        retention=Retention(365),    # one year at event level
        processing=Processing(
            label="Admissions aux urgences pour blessure par agression (modèle de Cardiff)",
            legal_basis="Convention avec l'établissement de santé ; RGPD art. 6(1)(e) et 9(2)(i) ; données "
                        "pseudonymisées à la source",
            data_subjects=("patients admis aux urgences",),
            recipients=("cellule d'analyse (agrégats par zone)", "DPO", "auditeurs")),
        sample=Sample(DOCS / "samples" / "hospital_sample.csv"),
        doc=DOCS / "sources.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "categorie_arme": Vocabulary(tuple(WEAPONS), "unknown_weapon", "categorie_arme is not one of " + "/".join(WEAPONS)),
        "tranche_age": Vocabulary(AGE_BANDS, "unknown_age_band", "tranche_age is not a documented band"),
        "sexe": Vocabulary(SEXES, "unknown_sex", "sexe is not F/M/X")}
    columns = ("date_agression", "heure_agression", "code_insee_lieu", "categorie_arme", "tranche_age", "sexe")
    optional = ("date_admission", "heure_admission")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_csv(path, self.columns, self.optional)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rows = t[ROW].to_numpy()
        rejects = Rejects(rows)
        tz = ctx.city.timezone
        occurred, bad_time = parse_local(join_date_time(t["date_agression"], t["heure_agression"]), tz, FORMATS)
        admitted_at, bad_adm = parse_local(join_date_time(t["date_admission"], t["heure_admission"]), tz, FORMATS,
                                           ambiguous="latest")  # an admission follows the assault
        no_hour = mask(pc.is_null(t["heure_agression"]))
        weapon = np.array([WEAPONS.get((x or "").strip().lower()) for x in t["categorie_arme"].to_pylist()],
                          dtype=object)
        age = np.asarray(t["tranche_age"].to_pylist(), dtype=object)
        sex = np.asarray([(x or "").strip().upper() for x in t["sexe"].to_pylist()], dtype=object)
        zone = pc.utf8_trim_whitespace(t["code_insee_lieu"])
        rejects.reject(bad_time, "bad_timestamp", "date_agression/heure_agression are not dd/mm/yyyy HH:MM")
        rejects.reject(bad_adm, "bad_timestamp", "date_admission/heure_admission are not dd/mm/yyyy HH:MM")
        rejects.reject(mask(pc.is_null(zone)), "missing_zone",
                       "code_insee_lieu is empty")
        rejects.reject(weapon == None, "unknown_weapon", "categorie_arme is not one of " + "/".join(WEAPONS))  # noqa: E711
        rejects.reject(~np.isin(age, AGE_BANDS), "unknown_age_band", "tranche_age is not a documented band")
        rejects.reject(~np.isin(sex, SEXES), "unknown_sex", "sexe is not F/M/X")
        attrs = attributes_for(self.name, weapon=pa.array(weapon, pa.string()), age_band=t["tranche_age"],
                               sex=pa.array(sex, pa.string()))
        keys = [f"{ctx.source_file}#{r}" for r in rows]
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=keys, category="assault_injury",
            occurred_at=occurred, time_precision=np.where(no_hour, "day", "minute").astype(object),
            discovery="independent", attributes=attrs, reported_at=admitted_at, zone_id=zone.to_pylist(),
            admitted=t,
        )
        return Canonical(events, None, quarantine)
