"""Load a city profile from a GeoJSON file.

A profile is a GeoJSON ``FeatureCollection`` with a foreign member ``city``
(``name``, ``timezone``, ``attribution``, optional ``covariates`` descriptions)
and one feature per zone with properties ``zone_id``, ``name``, ``population``
and optional ``short_name``, ``postcodes`` and ``covariates`` (numbers). The commune's outline
is the union of the zones. Marseille's 16 arrondissements are packaged as the
default (see ``data/ATTRIBUTION.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from observatoire.errors import InputError


@dataclass(frozen=True, slots=True)
class Zone:
    zone_id: str
    name: str
    short_name: str
    population: int
    covariates: dict[str, float]
    postcodes: tuple[str, ...]
    geometry: BaseGeometry = field(repr=False)


@dataclass(frozen=True, slots=True)
class CityProfile:
    name: str
    timezone: str
    attribution: str
    zones: tuple[Zone, ...]
    covariate_notes: dict[str, str]
    outline: BaseGeometry = field(repr=False)

    @property
    def zone_ids(self) -> frozenset[str]:
        return frozenset(z.zone_id for z in self.zones)

    def zone(self, zone_id: str) -> Zone:
        for z in self.zones:
            if z.zone_id == zone_id:
                return z
        raise InputError(f"unknown zone {zone_id!r} in city {self.name}")

    def zone_of_postcode(self) -> dict[str, str]:
        return {p: z.zone_id for z in self.zones for p in z.postcodes}

    @property
    def has_boundaries(self) -> bool:
        """False for a zone-only profile: zones known by code and population, without geometry."""
        return not self.outline.is_empty

    @property
    def population(self) -> int:
        return sum(z.population for z in self.zones)

    def geojson(self) -> dict[str, Any]:
        """The zones as a GeoJSON FeatureCollection (geometry + id, name, population)."""
        return {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": z.zone_id,
                    "properties": {"zone_id": z.zone_id, "name": z.name, "short_name": z.short_name,
                                   "population": z.population},
                    "geometry": shapely.geometry.mapping(z.geometry),
                }
                for z in self.zones
            ],
        }


DEFAULT_CITY = "marseille"


def default_city_path() -> Path:
    return Path(str(resources.files("observatoire.city") / "data" / f"{DEFAULT_CITY}.geojson"))


def load_city(path: Path | None = None) -> CityProfile:
    """Read a city profile; ``None`` gives the packaged default (Marseille)."""
    path = path or default_city_path()
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"city profile {path}: cannot be read ({type(exc).__name__})") from exc
    meta = doc.get("city")
    if doc.get("type") != "FeatureCollection" or not isinstance(meta, dict) or not doc.get("features"):
        raise InputError(f"city profile {path}: expected a FeatureCollection with a 'city' member and zones")
    zones = []
    for i, feat in enumerate(doc["features"]):
        props = feat.get("properties") or {}
        try:
            # "geometry": null is a zone known by its code only (a zone-only profile, all zones alike).
            geom = shape(feat["geometry"]) if feat["geometry"] is not None else shapely.GeometryCollection()
            zone = Zone(
                zone_id=str(props["zone_id"]),
                name=str(props["name"]),
                short_name=str(props.get("short_name") or props["name"]),
                population=int(props["population"]),
                covariates={k: float(v) for k, v in (props.get("covariates") or {}).items()},
                postcodes=tuple(str(p) for p in props.get("postcodes") or ()),
                geometry=geom,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"city profile {path}: zone #{i} is incomplete ({exc})") from exc
        if not geom.is_valid or (geom.is_empty and feat["geometry"] is not None) or zone.population < 0:
            raise InputError(f"city profile {path}: zone {zone.zone_id} has an invalid geometry or population")
        zones.append(zone)
    ids = [z.zone_id for z in zones]
    if len(set(ids)) != len(ids):
        raise InputError(f"city profile {path}: duplicate zone ids")
    if len({z.geometry.is_empty for z in zones}) > 1:
        raise InputError(f"city profile {path}: some zones have a geometry and others none")
    for z in zones:
        shapely.prepare(z.geometry)
    outline = shapely.union_all([z.geometry for z in zones])
    return CityProfile(
        name=str(meta.get("name", "")),
        timezone=str(meta.get("timezone", "UTC")),
        attribution=str(meta.get("attribution", "")),
        zones=tuple(zones),
        covariate_notes=dict(meta.get("covariates") or {}),
        outline=outline,
    )
