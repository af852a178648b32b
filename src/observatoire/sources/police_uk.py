"""data.police.uk street-level crime (CSV, plain or gzip) and a zone-only West Yorkshire profile.

Format and privacy roles: ``docs/opendata.md``. One row is one crime or
anti-social behaviour incident reported in a month; police.uk has already
anonymised it: the month only, a point snapped to the nearest of its map
points, and the LSOA that point lies in. Anti-social behaviour rows carry no
``Crime ID``; their record key is a digest of the row's content and its rank
among identical rows of the file, so that a file re-published with its rows in
another order gives the same event ids.

The LSOA boundaries are not packaged: :func:`observatoire.city.west_yorkshire.west_yorkshire_profile` builds a
profile whose zones are known by code only (population, area, households from
the 2011 Census). With such a profile the zone comes from ``LSOA code`` and the
point is kept as published; with a profile that has boundaries the point is
placed by polygon, as for every other source.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.sources.base import (DOCS, ROW, Canonical, Context, Processing, RawFile, Retention, Sample,
                                       SourceDescriptor, Vocabulary)
from observatoire.sources.canonical import mask, Rejects, build_events
from observatoire.sources.formats import parse_decimal, read_csv

if TYPE_CHECKING:
    from observatoire.city.profile import CityProfile

# police.uk crime types (lower case) -> taxonomy code; None: no code fits, the row is quarantined.
CRIME_TYPES: Mapping[str, str | None] = {
    "anti-social behaviour": "nuisance",
    "bicycle theft": "theft",
    "burglary": "burglary",
    "criminal damage and arson": "criminal_damage",
    "drugs": "drugs",
    "other theft": "theft",
    "possession of weapons": "weapons",
    "public order": "public_order",
    "robbery": "robbery",
    "shoplifting": "theft",
    "theft from the person": "theft",
    "vehicle crime": "vehicle_crime",
    "violence and sexual offences": "violence",
    "other crime": "other_crime",       # a residual class (fraud, perjury, ...)
    # Labels of files before May 2013.
    "violent crime": "violence",
    "public disorder and weapons": None,   # mixes two codes: quarantined rather than guessed
}
# police.uk snaps each point to one of its anonymised map points (a street centre or public place
# with a catchment of at least eight postal addresses): the true place is within about this radius.
LOCATION_PRECISION_M = 200.0
# Fields whose content identifies a record that has no Crime ID (anti-social behaviour).
CONTENT_KEY_FIELDS = ("Month", "Reported by", "Falls within", "Longitude", "Latitude", "LSOA code",
                      "Crime type", "Last outcome category")

# "Reported by" / "Falls within": the forces that publish on police.uk (England, Wales, Northern Ireland).
FORCES = (
    "Avon and Somerset Constabulary", "Bedfordshire Police", "British Transport Police", "Cambridgeshire Constabulary",
    "Cheshire Constabulary", "City of London Police", "Cleveland Police", "Cumbria Constabulary",
    "Derbyshire Constabulary", "Devon & Cornwall Police", "Devon and Cornwall Police", "Dorset Police",
    "Durham Constabulary", "Dyfed-Powys Police", "Essex Police", "Gloucestershire Constabulary",
    "Greater Manchester Police", "Gwent Police", "Hampshire Constabulary", "Hampshire and Isle of Wight Constabulary",
    "Hertfordshire Constabulary", "Humberside Police", "Kent Police", "Lancashire Constabulary",
    "Leicestershire Police", "Lincolnshire Police", "Merseyside Police", "Metropolitan Police Service",
    "Norfolk Constabulary", "North Wales Police", "North Yorkshire Police", "Northamptonshire Police",
    "Northumbria Police", "Nottinghamshire Police", "Police Service of Northern Ireland", "South Wales Police",
    "South Yorkshire Police", "Staffordshire Police", "Suffolk Constabulary", "Surrey Police", "Sussex Police",
    "Thames Valley Police", "Warwickshire Police", "West Mercia Police", "West Midlands Police",
    "West Yorkshire Police", "Wiltshire Police",
)
# "Last outcome category": police.uk's outcome categories.
OUTCOMES = (
    "Action to be taken by another organisation", "Awaiting court outcome", "Court case unable to proceed",
    "Court result unavailable", "Defendant found not guilty", "Defendant sent to Crown Court",
    "Formal action is not in the public interest", "Further action is not in the public interest",
    "Further investigation is not in the public interest", "Investigation complete; no suspect identified",
    "Local resolution", "Offender deprived of property", "Offender fined", "Offender given a caution",
    "Offender given a drugs possession warning", "Offender given a penalty notice", "Offender given penalty notice",
    "Offender given absolute discharge", "Offender given community sentence", "Offender given conditional discharge",
    "Offender given suspended prison sentence", "Offender ordered to pay compensation",
    "Offender otherwise dealt with", "Offender sent to prison", "Status update unavailable", "Suspect charged",
    "Suspect charged as part of another case", "Unable to prosecute suspect", "Under investigation",
)
ATTRIBUTES_TYPE = pa.struct([
    pa.field("crime_id", pa.string()),           # police.uk's public record id (null for anti-social behaviour)
    pa.field("crime_type", pa.string()),         # the crime type as police.uk names it
    pa.field("last_outcome", pa.string()),       # last outcome category when the file was published
    pa.field("reported_by", pa.string()),        # force that reported the record
    pa.field("falls_within", pa.string()),       # force whose area the record falls within
])


def _sample_city() -> "CityProfile":
    """The sample's records refer to West Yorkshire LSOAs, not to the packaged city's zones."""
    from observatoire.city.west_yorkshire import west_yorkshire_profile

    return west_yorkshire_profile()


class PoliceUk:
    name: ClassVar[str] = "police_uk"
    kind: ClassVar[Literal["events", "reference"]] = "events"
    patterns: ClassVar[tuple[str, ...]] = ("*-street.csv", "*-street.csv.gz")
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Données ouvertes police.uk",
        fields={"Crime ID": "key", "Month": "data", "Reported by": "data", "Falls within": "data",
                "Longitude": "data", "Latitude": "data", "Location": "free_text", "LSOA code": "data",
                "LSOA name": "data", "Crime type": "data", "Last outcome category": "data", "Context": "free_text"},
        attributes=ATTRIBUTES_TYPE,
        discovery="mixed",        # reports and police-found crime, not told apart by police.uk
        retention=Retention(1825),   # published open data, kept like the logbook
        processing=Processing(
            label="Données ouvertes police.uk (profil West Yorkshire)",
            legal_basis="Open Government Licence v3.0 (données publiques)",
            data_subjects=(),
            recipients=("cellule d'analyse", "public")),
        sample=Sample(DOCS / "samples" / "police_uk_sample-street.csv", city=_sample_city),
        doc=DOCS / "opendata.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "Crime type": Vocabulary(tuple(CRIME_TYPES), "unknown_crime_type", "Crime type is not a police.uk crime type"),
        "Last outcome category": OUTCOMES, "Reported by": FORCES, "Falls within": FORCES}
    columns = ("Crime ID", "Month", "Longitude", "Latitude", "LSOA code", "Crime type")
    optional = ("Reported by", "Falls within", "Location", "LSOA name", "Last outcome category", "Context")

    def read(self, path: Path, timezone: str) -> RawFile:
        return read_csv(path, self.columns, self.optional)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rows = t[ROW].to_numpy()
        rejects = Rejects(rows)
        occurred, bad_month = parse_month(t["Month"])
        lon, bad_lon = parse_decimal(t["Longitude"])
        lat, bad_lat = parse_decimal(t["Latitude"])
        lon_a, lat_a = _floats(lon), _floats(lat)
        has_point = np.isfinite(lon_a) & np.isfinite(lat_a)
        half_point = np.isfinite(lon_a) ^ np.isfinite(lat_a)
        out_of_range = has_point & ((np.abs(lon_a) > 180) | (np.abs(lat_a) > 90))
        crime_type = _labels(t["Crime type"])
        known_type = np.isin(crime_type, list(CRIME_TYPES))
        category = np.array([CRIME_TYPES.get(c) for c in crime_type], dtype=object)
        lsoa = pc.utf8_trim_whitespace(t["LSOA code"])
        no_lsoa = _null_or_empty(lsoa)

        rejects.reject(bad_month, "bad_timestamp", "Month is not YYYY-MM")
        rejects.reject(~known_type, "unknown_crime_type", "Crime type is not a police.uk crime type")
        rejects.reject(category == None, "unmapped_crime_type",  # noqa: E711 - elementwise
                       "Crime type (possession of weapons, other crime) has no category in the taxonomy")
        rejects.reject(bad_lon | bad_lat | half_point | out_of_range, "bad_coordinates",
                       "Longitude/Latitude are not a WGS84 point")
        rejects.reject(~has_point & no_lsoa, "missing_location",
                       "no point and no LSOA code (police.uk publishes some records without a location)")
        if not ctx.city.has_boundaries:
            rejects.reject(no_lsoa, "missing_zone", "LSOA code is empty and the city profile has no zone boundaries")

        attrs = pa.StructArray.from_arrays(
            [_column(t, "Crime ID"), t["Crime type"], _column(t, "Last outcome category"),
             _column(t, "Reported by"), _column(t, "Falls within")],
            fields=list(ATTRIBUTES_TYPE),
        )
        point = has_point & ~out_of_range
        events, quarantine = build_events(
            source=self.name, ctx=ctx, rejects=rejects, keys=record_keys(t), category=category,
            occurred_at=occurred, time_precision="month", discovery="unknown", attributes=attrs,
            lon=np.where(point, lon_a, np.nan), lat=np.where(point, lat_a, np.nan),
            precision_m=LOCATION_PRECISION_M, zone_id=lsoa.to_pylist(), admitted=t,
        )
        return Canonical(events, None, quarantine)


# -- parsing ---------------------------------------------------------------------------------------

def parse_month(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``YYYY-MM`` -> the first instant of that month, UTC (so the stored month is the file's month)."""
    cleaned = pc.utf8_trim_whitespace(raw)
    ok = pc.fill_null(pc.match_substring_regex(cleaned, r"^\d{4}-(0[1-9]|1[0-2])$"), False)
    dated = pc.binary_join_element_wise(pc.if_else(ok, cleaned, pa.scalar(None, pa.string())), "01", "-")
    parsed = pc.strptime(dated, format="%Y-%m-%d", unit="us", error_is_null=True)
    parsed = pc.assume_timezone(parsed, timezone="UTC")
    present = ~_null_or_empty(cleaned)
    return parsed, present & mask(pc.is_null(parsed))


def record_keys(t: pa.RecordBatch) -> list[str]:
    """``crime:<Crime ID>``, or for a record without one ``content:<sha256 of its fields>#<rank>``.

    The rank counts identical rows (same month, place, type, ...) in file order: two identical
    anti-social behaviour reports stay two events, and re-ordering the file changes no key.
    """
    ids = _column(t, "Crime ID").to_pylist()
    content = list(zip(*(_column(t, c).to_pylist() for c in CONTENT_KEY_FIELDS)))
    seen: dict[str, int] = {}
    keys = []
    for crime_id, fields in zip(ids, content):
        if crime_id is not None and crime_id.strip():
            keys.append(f"crime:{crime_id.strip()}")
            continue
        digest = hashlib.sha256("\x1f".join((v or "").strip() for v in fields).encode()).hexdigest()
        seen[digest] = rank = seen.get(digest, 0) + 1
        keys.append(f"content:{digest}#{rank}")
    return keys


def _column(t: pa.RecordBatch, name: str) -> pa.Array:
    """A string column of the admitted batch, or nulls when the file or the policy left it out."""
    if name in t.schema.names:
        return t[name]
    return pa.nulls(t.num_rows, pa.string())


def _labels(raw: pa.Array) -> np.ndarray:
    folded = pc.utf8_lower(pc.utf8_trim_whitespace(pc.replace_substring_regex(raw, r"\s+", " ")))
    return np.asarray(pc.fill_null(folded, "").to_pylist(), dtype=object)


def _null_or_empty(a: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(a), ""), True).to_numpy(zero_copy_only=False),
                      bool)


def _floats(a: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(a, np.nan).to_numpy(zero_copy_only=False), dtype=float)


# -- the West Yorkshire profile --------------------------------------------------------------------

