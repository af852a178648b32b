"""Other municipal reports: interventions and supervision-centre operator reports (JSON Lines)."""

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
from observatoire.sources.formats import parse_decimal, parse_iso, read_jsonl
from observatoire.sources.labels import LABELS_FR, categories_of

REPORT_TYPES = {"intervention": "intervention", "rapport_operateur": "operator_report"}


class MunicipalReports:
    name: ClassVar[str] = "municipal_reports"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("municipal_reports*.jsonl",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Rapports d'intervention municipaux",
        fields={"id": "key", "type": "data", "horodatage": "data", "lon": "data", "lat": "data", "nature": "data",
                "note": "free_text", "agent": "identifier"},
        attributes=pa.struct([
            pa.field("report_type", pa.string()),        # intervention | operator_report
            pa.field("nature", pa.string()),             # the report's own type label (French)
        ]),
        discovery="directed",     # interventions and the cameras the supervision centre watches
        retention=Retention(1095),
        processing=Processing(
            label="Rapports d'intervention et signalements des opérateurs du CSU",
            legal_basis="Code de la sécurité intérieure, art. L. 511-1 et L. 251-2 ; RGPD art. 6(1)(e)",
            data_subjects=("agents", "personnes mentionnées dans les notes"),
            recipients=("cellule d'analyse", "opérateurs et superviseur du CSU", "DPO", "auditeurs")),
        sample=Sample(DOCS / "samples" / "municipal_reports_sample.jsonl"),
        doc=DOCS / "sources.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "type": Vocabulary(tuple(REPORT_TYPES), "unknown_type", "type is not intervention/rapport_operateur"),
        "nature": Vocabulary(tuple(LABELS_FR), "unknown_category", "nature is not a known category label")}
    columns = ("id", "type", "horodatage", "lon", "lat", "nature", "note", "agent")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_jsonl(path, {f: f for f in self.columns})

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        occurred, bad_time = parse_iso(t["horodatage"])
        lon, bad_lon = parse_decimal(t["lon"])
        lat, bad_lat = parse_decimal(t["lat"])
        report_type = np.array([REPORT_TYPES.get(x) for x in t["type"].to_pylist()], dtype=object)
        category = categories_of(t["nature"])
        rejects.reject(mask(pc.is_null(t["id"])), "missing_key",
                       "id is empty")
        rejects.reject(bad_time | mask(pc.is_null(occurred)),
                       "bad_timestamp", "horodatage is not ISO 8601 with an offset")
        rejects.reject(report_type == None, "unknown_type", "type is not intervention/rapport_operateur")  # noqa: E711
        rejects.reject(category == None, "unknown_category", "nature is not a known category label")  # noqa: E711
        rejects.reject(bad_lon | bad_lat, "bad_coordinates", "lon/lat are not numbers")
        attrs = attributes_for(self.name, report_type=pa.array(report_type, pa.string()), nature=t["nature"])
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=pc.fill_null(t["id"], "").to_pylist(),
            category=category, occurred_at=occurred, time_precision="second", discovery="directed",
            attributes=attrs, lon=lon, lat=lat, precision_m=25.0, admitted=t, text=t["note"],
        )
        return Canonical(events, None, quarantine)
