"""Verbalisations: fines with their NATINF offence code (CSV export). Format: docs/sources.md."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.sources.base import DOCS, ROW, Canonical, Context, Processing, RawFile, Retention, Sample, SourceDescriptor
from observatoire.sources.canonical import mask, Rejects, attributes_for, build_events, zones_of_postcodes
from observatoire.sources.formats import extract_postcode, join_date_time, parse_decimal, parse_int, parse_local, read_csv
from observatoire.sources.natinf import NATINF

DATETIME_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y")


class Verbalisations:
    name: ClassVar[str] = "verbalisations"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("verbalisations*.csv",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Verbalisations",
        fields={"numero_avis": "key", "date_infraction": "data", "heure_infraction": "data", "natinf": "data",
                "libelle_infraction": "free_text", "lieu": "free_text", "longitude": "data", "latitude": "data",
                "immatriculation": "identifier", "montant_eur": "data", "matricule_agent": "identifier",
                "code_postal": "data"},                                 # derived at read time from lieu
        attributes=pa.struct([
            pa.field("natinf", pa.int32()),              # NATINF offence code
            pa.field("amount_eur", pa.float64()),        # fine amount in euros
        ]),
        discovery="directed",     # a fine is found by the officer who writes it
        retention=Retention(1095),
        processing=Processing(
            label="Verbalisations (avis de contravention)",
            legal_basis="Code de la sécurité intérieure, art. L. 511-1 ; code de procédure pénale, art. 21 et "
                        "R. 15-33-29-3 ; RGPD art. 6(1)(e)",
            data_subjects=("titulaires de véhicules", "agents verbalisateurs"),
            recipients=("cellule d'analyse", "DPO", "auditeurs")),
        sample=Sample(DOCS / "samples" / "verbalisations_sample.csv"),
        doc=DOCS / "sources.md",
    )
    columns = ("numero_avis", "date_infraction", "heure_infraction", "natinf", "longitude", "latitude",
               "montant_eur")
    optional = ("libelle_infraction", "lieu", "immatriculation", "matricule_agent")

    def read(self, path: Path, timezone: str) -> RawFile:
        raw = read_csv(path, self.columns, self.optional)
        return RawFile(raw.table.append_column("code_postal", extract_postcode(raw.table["lieu"])),
                       raw.malformed_rows)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        occurred, bad_time = parse_local(join_date_time(t["date_infraction"], t["heure_infraction"]),
                                         ctx.city.timezone, DATETIME_FORMATS)
        precision = np.where(mask(pc.is_null(t["heure_infraction"])),
                             "day", "minute").astype(object)
        natinf, bad_natinf = parse_int(t["natinf"])
        amount, bad_amount = parse_decimal(t["montant_eur"])
        lon, bad_lon = parse_decimal(t["longitude"])
        lat, bad_lat = parse_decimal(t["latitude"])
        codes = natinf.to_pylist()
        category = np.array([NATINF[c][1] if c in NATINF else None for c in codes], dtype=object)
        rejects.reject(mask(pc.is_null(t["numero_avis"])),
                       "missing_key", "numero_avis is empty")
        rejects.reject(bad_time, "bad_timestamp", "date_infraction/heure_infraction are not dd/mm/yyyy HH:MM")
        rejects.reject(bad_natinf | mask(pc.is_null(natinf)),
                       "bad_natinf", "natinf is not an integer code")
        rejects.reject(category == None, "unknown_natinf", "natinf code is not in the configured NATINF table")  # noqa: E711
        rejects.reject(bad_amount, "bad_amount", "montant_eur is not a number")
        rejects.reject(bad_lon | bad_lat, "bad_coordinates", "longitude/latitude are not numbers")
        attrs = attributes_for(self.name, natinf=natinf, amount_eur=amount)
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=pc.fill_null(t["numero_avis"], "").to_pylist(),
            category=category, occurred_at=occurred, time_precision=precision, discovery="directed",
            attributes=attrs, lon=lon, lat=lat, precision_m=25.0, zone_id=zones_of_postcodes(ctx, t["code_postal"]),
            admitted=t,
        )
        return Canonical(events, None, quarantine)
