"""CCTV: the camera registry (reference) and video-analytics events restricted to decree n° 2023-828.

No image, face, biometric template or person descriptor is ever stored: the
events connector reads only its declared fields, and the privacy gate
quarantines a line that carries any other (``refused_field`` for those the
policy names as never to be sent, ``undeclared_field`` otherwise). Event
types outside the decree are quarantined.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Collection, Mapping
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.city.geo import assign_zones, h3_cells
from observatoire.sources.base import (DOCS, ROW, Canonical, Context, Processing, RawFile, Retention, Sample,
                                       SourceDescriptor, Vocabulary)
from observatoire.sources.canonical import mask, Rejects, attributes_for, build_events
from observatoire.sources.formats import parse_decimal, parse_iso, parse_local, read_csv, read_jsonl

# Decree n° 2023-828, art. 3: the only events algorithmic video analysis may report.
DECREE_TYPES = {
    "objet_abandonne": "cctv_abandoned_object",
    "arme": "cctv_weapon",
    "sens_interdit": "cctv_wrong_way",
    "zone_interdite": "cctv_intrusion",
    "personne_au_sol": "cctv_person_on_ground",
    "mouvement_de_foule": "cctv_crowd_movement",
    "densite_excessive": "cctv_excessive_density",
    "depart_de_feu": "cctv_fire_start",
}
OWNERS = ("ville", "rtm", "amp", "bailleur")

CAMERA_SCHEMA = pa.schema([
    pa.field("camera_id", pa.string(), nullable=False),
    pa.field("lon", pa.float64(), nullable=False),
    pa.field("lat", pa.float64(), nullable=False),
    pa.field("zone_id", pa.string(), nullable=False),
    pa.field("h3_r9", pa.int64(), nullable=False),
    pa.field("owner", pa.string(), nullable=False),
    pa.field("heading_deg", pa.float64()),
    pa.field("field_of_view_deg", pa.float64()),
    pa.field("range_m", pa.float64(), nullable=False),
    pa.field("in_service_since", pa.timestamp("us", tz="UTC")),
])


class CctvCameras:
    name: ClassVar[str] = "cctv_cameras"
    kind: ClassVar[Literal["events", "reference"]] = "reference"
    patterns: ClassVar[tuple[str, ...]] = ("cctv_cameras*.csv",)
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Caméras de vidéoprotection",
        fields={"camera_id": "data", "longitude": "data", "latitude": "data", "proprietaire": "data",
                "orientation_deg": "data", "angle_champ_deg": "data", "portee_m": "data", "mise_en_service": "data"},
        retention=Retention.no_limit("registre d'équipements publics, sans donnée personnelle ; la dernière version "
                                     "remplace la précédente"),
        processing=Processing(
            label="Registre des caméras",
            legal_basis="Code de la sécurité intérieure, art. L. 251-2 et L. 252-1",
            data_subjects=(),
            recipients=("cellule d'analyse", "CSU")),
        sample=Sample(DOCS / "samples" / "cctv_cameras_sample.csv"),
        doc=DOCS / "sources.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "proprietaire": Vocabulary(OWNERS, "unknown_owner", "proprietaire is not one of " + "/".join(OWNERS))}
    columns = ("camera_id", "longitude", "latitude", "proprietaire", "portee_m")
    optional = ("orientation_deg", "angle_champ_deg", "mise_en_service")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_csv(path, self.columns, self.optional)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        lon, bad_lon = parse_decimal(t["longitude"])
        lat, bad_lat = parse_decimal(t["latitude"])
        rng, bad_rng = parse_decimal(t["portee_m"])
        heading, bad_heading = parse_decimal(t["orientation_deg"])
        fov, bad_fov = parse_decimal(t["angle_champ_deg"])
        since, bad_since = parse_local(t["mise_en_service"], ctx.city.timezone, ("%d/%m/%Y",))
        lon_a = pc.fill_null(lon, np.nan).to_numpy(zero_copy_only=False)
        lat_a = pc.fill_null(lat, np.nan).to_numpy(zero_copy_only=False)
        zone = assign_zones(ctx.city, lon_a, lat_a)
        owner = pc.utf8_lower(pc.fill_null(t["proprietaire"], ""))
        ids = t["camera_id"].to_pylist()
        _, first = np.unique(np.asarray([i or "" for i in ids]), return_index=True)
        repeated = np.ones(len(ids), bool)
        repeated[first] = False
        rejects.reject(np.array([i is None for i in ids]), "missing_key", "camera_id is empty")
        rejects.reject(bad_lon | bad_lat | ~np.isfinite(lon_a) | ~np.isfinite(lat_a), "bad_coordinates",
                       "a camera needs numeric longitude and latitude")
        rejects.reject(zone == None, "outside_city", "camera lies outside every zone of the city")  # noqa: E711
        rejects.reject(bad_rng | mask(pc.is_null(rng)), "bad_range",
                       "portee_m is not a number")
        rejects.reject(bad_heading | bad_fov, "bad_orientation", "orientation_deg/angle_champ_deg are not numbers")
        rejects.reject(bad_since, "bad_timestamp", "mise_en_service is not dd/mm/yyyy")
        rejects.reject(~np.isin(np.asarray(owner.to_pylist(), dtype=object), OWNERS), "unknown_owner",
                       "proprietaire is not one of " + "/".join(OWNERS))
        rejects.reject(repeated, "duplicate_in_file", "camera_id repeated within the file")
        ok = pa.array(rejects.ok)
        cells = h3_cells(lon_a, lat_a)[9]
        table = pa.table({
            "camera_id": t["camera_id"], "lon": lon, "lat": lat, "zone_id": pa.array(zone, pa.string()),
            "h3_r9": pa.array(cells, pa.int64()), "owner": owner, "heading_deg": heading,
            "field_of_view_deg": fov, "range_m": rng, "in_service_since": since,
        }).filter(ok)
        return Canonical(None, table.cast(CAMERA_SCHEMA), rejects.table(self.name, ctx))


class CctvEvents:
    name: ClassVar[str] = "cctv_events"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("cctv_events*.jsonl",)
    needs: ClassVar[tuple[str, ...]] = ("cctv_cameras",)
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Détections vidéo (CSU)",
        fields={"event_id": "key", "camera_id": "data", "detected_at": "data", "type": "data", "confidence": "data",
                # never admitted: anything that shows or describes a person (decree n° 2023-828, art. 3 and 5)
                **{f: "forbidden" for f in ("image", "frame", "thumbnail", "video", "face", "face_embedding",
                                            "biometric_template", "person_descriptor", "clothing", "gait")}},
        attributes=pa.struct([
            pa.field("camera_id", pa.string()),          # camera of the registry (infrastructure, not a person)
            pa.field("confidence", pa.float32()),        # detector confidence in [0, 1]
        ]),
        discovery="directed",     # a detector on the cameras the institutions placed
        retention=Retention(30),
        processing=Processing(
            label="Événements de vidéoprotection algorithmique (décret n° 2023-828)",
            legal_basis="Loi n° 2023-380 du 19 mai 2023, art. 10 ; décret n° 2023-828 du 28 août 2023 ; "
                        "RGPD art. 6(1)(e)",
            data_subjects=("personnes présentes dans le champ des caméras",),
            recipients=("opérateurs et superviseur du CSU", "DPO", "auditeurs")),
        sample=Sample(DOCS / "samples" / "cctv_events_sample.jsonl"),
        doc=DOCS / "sources.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {"type": Vocabulary(
        tuple(DECREE_TYPES), "type_not_in_decree", "type is not one of the 8 event types of decree n° 2023-828")}
    columns = ("event_id", "camera_id", "detected_at", "type", "confidence")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_jsonl(path, {f: f for f in self.columns})

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        cameras = ctx.references["cctv_cameras"]
        rejects = Rejects(t[ROW].to_numpy())
        occurred, bad_time = parse_iso(t["detected_at"])
        confidence, bad_conf = parse_decimal(t["confidence"])
        category = np.array([DECREE_TYPES.get(x) for x in t["type"].to_pylist()], dtype=object)
        where = pc.index_in(t["camera_id"], cameras["camera_id"])
        known = mask(pc.is_valid(where))
        rejects.reject(mask(pc.is_null(t["event_id"])),
                       "missing_key", "event_id is empty")
        rejects.reject(bad_time | mask(pc.is_null(occurred)),
                       "bad_timestamp", "detected_at is not ISO 8601 with an offset")
        rejects.reject(category == None, "type_not_in_decree",  # noqa: E711
                       "type is not one of the 8 event types of decree n° 2023-828")
        rejects.reject(~known, "unknown_camera", "camera_id is not in the camera registry")
        conf = pc.fill_null(confidence, 0.5)
        rejects.reject(bad_conf | ~np.asarray(pc.and_(pc.greater_equal(conf, 0), pc.less_equal(conf, 1))
                                              .to_numpy(zero_copy_only=False), bool),
                       "bad_confidence", "confidence is not a number in [0, 1]")
        pos = pc.fill_null(where, 0)
        attrs = attributes_for(self.name, camera_id=t["camera_id"], confidence=confidence)
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=pc.fill_null(t["event_id"], "").to_pylist(),
            category=category, occurred_at=occurred, time_precision="second", discovery="automated",
            attributes=attrs, lon=cameras["lon"].take(pos), lat=cameras["lat"].take(pos),
            precision_m=cameras["range_m"].take(pos).to_numpy(), admitted=t,
        )
        return Canonical(events, None, quarantine)

