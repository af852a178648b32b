"""The city's calendar of planned events (matches, concerts, festivals, demonstrations, markets)."""

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
from observatoire.sources.formats import parse_decimal, parse_int, parse_local, read_csv

EVENT_TYPES = {"match": "match", "concert": "concert", "festival": "festival",
               "manifestation": "demonstration", "marche": "market"}
FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")
VENUE_PRECISION_M = 150.0   # a venue is an area, not a point


class PlannedEvents:
    name: ClassVar[str] = "planned_events"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("planned_events*.csv",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Événements programmés",
        fields={"id": "key", "nom": "free_text", "type": "data", "lieu": "free_text", "longitude": "data",
                "latitude": "data", "debut": "data", "fin": "data", "affluence_attendue": "data"},
        attributes=pa.struct([
            pa.field("name", pa.string()),               # public name of the event
            pa.field("event_type", pa.string()),         # match | concert | festival | demonstration | market
            pa.field("venue", pa.string()),
            pa.field("expected_attendance", pa.int32()),
            pa.field("ends_at", pa.timestamp("us", tz="UTC")),
        ]),
        discovery="planned",      # a calendar: known in advance, never an outcome
        retention=Retention(1825),
        processing=Processing(
            label="Calendrier des événements programmés",
            legal_basis="Code de la sécurité intérieure, art. L. 511-1 ; données publiques",
            data_subjects=(),
            recipients=("cellule d'analyse", "CSU")),
        sample=Sample(DOCS / "samples" / "planned_events_sample.csv"),
        doc=DOCS / "sources.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "type": Vocabulary(tuple(EVENT_TYPES), "unknown_event_type", "type is not one of " + "/".join(EVENT_TYPES))}
    columns = ("id", "nom", "type", "lieu", "longitude", "latitude", "debut", "fin", "affluence_attendue")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_csv(path, self.columns)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        start, bad_start = parse_local(t["debut"], ctx.city.timezone, FORMATS)
        end, bad_end = parse_local(t["fin"], ctx.city.timezone, FORMATS)
        lon, bad_lon = parse_decimal(t["longitude"])
        lat, bad_lat = parse_decimal(t["latitude"])
        attendance, bad_att = parse_int(t["affluence_attendue"])
        kind = np.array([EVENT_TYPES.get((x or "").strip().lower()) for x in t["type"].to_pylist()], dtype=object)
        rejects.reject(mask(pc.is_null(t["id"])), "missing_key",
                       "id is empty")
        rejects.reject(bad_start | bad_end, "bad_timestamp", "debut/fin are not dd/mm/yyyy HH:MM")
        rejects.reject(mask(pc.fill_null(pc.less(end, start), False)),
                       "ends_before_start", "fin precedes debut")
        rejects.reject(kind == None, "unknown_event_type", "type is not one of " + "/".join(EVENT_TYPES))  # noqa: E711
        rejects.reject(bad_lon | bad_lat, "bad_coordinates", "longitude/latitude are not numbers")
        rejects.reject(bad_att, "bad_attendance", "affluence_attendue is not an integer")
        attrs = attributes_for(self.name, name=t["nom"], event_type=pa.array(kind, pa.string()), venue=t["lieu"],
                               expected_attendance=attendance, ends_at=end)
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=pc.fill_null(t["id"], "").to_pylist(),
            category="planned_event", occurred_at=start, time_precision="minute", discovery="independent",
            attributes=attrs, lon=lon, lat=lat, precision_m=VENUE_PRECISION_M, admitted=t,
        )
        return Canonical(events, None, quarantine)
