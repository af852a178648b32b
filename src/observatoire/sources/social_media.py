"""Public social-media posts (JSON Lines).

The author becomes a keyed token; the text is kept scrubbed (for the short
retention of this source), with its public-order topics; the place is the
geotag, or else the zone of the first quartier the text names (the city's
gazetteer). No follower graph, no profile: the policy refuses them.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.city.gazetteer import Gazetteer, load_places
from observatoire.sources.base import DOCS, ROW, Canonical, Context, Processing, RawFile, Retention, Sample, SourceDescriptor
from observatoire.sources.canonical import mask, Rejects, attributes_for, build_events
from observatoire.sources.formats import parse_decimal, parse_iso, read_jsonl
from observatoire.sources.social_topics import classify

# Geotags of phones are precise to a few metres in theory; platforms round them. 50 m is conservative.
GEOTAG_PRECISION_M = 50.0


class SocialMedia:
    name: ClassVar[str] = "social_media"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("social_media*.jsonl",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Réseaux sociaux",
        fields={"id": "key", "created_at": "data", "text": "free_text", "lang": "data", "author_id": "identifier",
                "author_handle": "identifier", "geo_lon": "data", "geo_lat": "data",
                # no follower graph, no profile
                "followers": "forbidden", "following": "forbidden", "profile": "forbidden"},
        attributes=pa.struct([
            pa.field("lang", pa.string()),               # ISO 639-1 language of the post
            pa.field("geotagged", pa.bool_()),           # whether the place came from a geotag
            pa.field("place_from", pa.string()),         # geotag | gazetteer (a quartier named in the text) | null
            pa.field("topics", pa.list_(pa.string())),   # public-order topics (sources/social_topics.py)
        ]),
        discovery="independent",  # residents post whatever the institutions do
        retention=Retention(30),
        processing=Processing(
            label="Publications publiques sur les réseaux sociaux",
            legal_basis=None,     # left to the DPO: the register flags it
            data_subjects=("auteurs de publications publiques",),
            recipients=("cellule d'analyse", "DPO", "auditeurs")),
        sample=Sample(DOCS / "samples" / "social_media_sample.jsonl"),
        doc=DOCS / "sources.md",
    )
    paths = {"id": "id", "created_at": "created_at", "text": "text", "lang": "lang", "author_id": "author.id",
             "author_handle": "author.handle", "geo_lon": "geo.lon", "geo_lat": "geo.lat"}

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_jsonl(path, self.paths)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        occurred, bad_time = parse_iso(t["created_at"])
        lon, bad_lon = parse_decimal(t["geo_lon"])
        lat, bad_lat = parse_decimal(t["geo_lat"])
        geotagged = pc.and_(pc.is_valid(lon), pc.is_valid(lat))
        # Without a geotag, the zone of the first quartier the (scrubbed) text names, if any.
        named = Gazetteer(load_places(ctx.city)).zones_named(t["text"].to_pylist())
        geo = np.asarray(geotagged.to_numpy(zero_copy_only=False), bool)
        zone = [None if g else z for g, z in zip(geo, named)]
        place_from = [("geotag" if g else "gazetteer" if z else None) for g, z in zip(geo, zone)]
        rejects.reject(mask(pc.is_null(t["id"])), "missing_key",
                       "id is empty")
        rejects.reject(bad_time | mask(pc.is_null(occurred)),
                       "bad_timestamp", "created_at is not ISO 8601 with an offset")
        rejects.reject(bad_lon | bad_lat, "bad_coordinates", "geo.lon/geo.lat are not numbers")
        attrs = attributes_for(self.name, lang=t["lang"], geotagged=geotagged,
                               place_from=pa.array(place_from, pa.string()),
                               topics=pa.array(classify(t["text"].to_pylist()), pa.list_(pa.string())))
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=pc.fill_null(t["id"], "").to_pylist(),
            category="social_post", occurred_at=occurred, time_precision="second", discovery="independent",
            attributes=attrs, lon=lon, lat=lat, precision_m=GEOTAG_PRECISION_M, zone_id=zone,
            admitted=t, text=t["text"],
        )
        return Canonical(events, None, quarantine)
