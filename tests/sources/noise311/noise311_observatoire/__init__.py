"""A plug-in source for the tests: residents' noise complaints from a 311-style line (CSV). Format: README.md.

Installed by the tests as a third-party distribution would be (a ``*.dist-info`` with an
``entry_points.txt`` naming ``noise311 = noise311_observatoire:Noise311`` in the
``observatoire.sources`` group), it is four files: this connector, its privacy policy
(``policy.toml``, to add to the city's policies), its documented sample and its doc.
Its name has a digit: the event ids ``noise311:<24 hex>`` must pass the schema.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import ClassVar, Literal

import pyarrow as pa
import pyarrow.compute as pc

from observatoire.sources.base import (ROW, Canonical, Context, Processing, RawFile, Retention, Sample,
                                       SourceDescriptor, Vocabulary)
from observatoire.sources.canonical import Rejects, attributes_for, build_events, mask
from observatoire.sources.formats import parse_decimal, parse_local, read_csv

HERE = Path(__file__).parent
NATURES = ("musique", "travaux", "voisinage", "bar", "vehicule")
FORMATS = ("%d/%m/%Y %H:%M",)


class Noise311:
    name: ClassVar[str] = "noise311"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("noise311*.csv",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Plaintes pour bruit (311)",
        fields={"ticket": "key", "recu_le": "data", "longitude": "data", "latitude": "data", "nature": "data",
                "decibels": "data", "description": "free_text", "telephone": "identifier"},
        attributes=pa.struct([
            pa.field("ticket_ref", pa.string()),     # the line's ticket number (its keyed digest)
            pa.field("nature", pa.string()),         # musique | travaux | voisinage | bar | vehicule
            pa.field("decibels", pa.float32()),      # measured by the caller's app, when given
        ]),
        discovery="independent",                     # residents call whatever the patrols do
        retention=Retention(400),
        processing=Processing(
            label="Plaintes pour nuisances sonores reçues par la ligne 311",
            legal_basis="Code de la santé publique, art. R. 1336-5 ; RGPD art. 6(1)(e)",
            data_subjects=("requérants",),
            recipients=("cellule d'analyse", "DPO")),
        sample=Sample(HERE / "noise311_sample.csv"),
        doc=HERE / "README.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "nature": Vocabulary(NATURES, "unknown_nature", "nature is not one of " + "/".join(NATURES))}
    columns = ("ticket", "recu_le", "longitude", "latitude", "nature", "description")
    optional = ("decibels", "telephone")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_csv(path, self.columns, self.optional)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        occurred, bad_time = parse_local(t["recu_le"], ctx.city.timezone, FORMATS)
        lon, bad_lon = parse_decimal(t["longitude"])
        lat, bad_lat = parse_decimal(t["latitude"])
        db, bad_db = parse_decimal(t["decibels"])
        rejects.reject(bad_time, "bad_timestamp", "recu_le is not dd/mm/yyyy HH:MM")
        rejects.reject(bad_lon | bad_lat, "bad_coordinates", "longitude/latitude are not numbers")
        rejects.reject(bad_db, "bad_decibels", "decibels is not a number")
        rejects.reject(mask(pc.is_null(t["ticket"])), "missing_key", "ticket is empty")
        nature = pc.utf8_lower(pc.utf8_trim_whitespace(t["nature"]))
        attrs = attributes_for(self.name, ticket_ref=t["ticket"], nature=nature, decibels=db)
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=pc.fill_null(t["ticket"], "").to_pylist(),
            category="nuisance", occurred_at=occurred, time_precision="minute", discovery="independent",
            attributes=attrs, lon=lon, lat=lat, precision_m=30.0, admitted=t, text=t["description"])
        return Canonical(events, None, quarantine)
