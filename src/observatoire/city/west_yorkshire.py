"""West Yorkshire's 1,388 LSOAs as a zone-only city profile (no boundaries packaged).

The zones of the data.police.uk open data (``sources/police_uk.py``): zone id =
LSOA code, population = 2011 usual residents; ``city/data/west_yorkshire_lsoa.csv``
(ONS, Open Government Licence v3.0).
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import shapely

from observatoire.city.profile import CityProfile, Zone
from observatoire.errors import InputError

WEST_YORKSHIRE_COLUMNS = ("la_code", "la_name", "lsoa_code", "lsoa_name", "persons", "hectares", "households")
WEST_YORKSHIRE_ATTRIBUTION = ("ONS 2011 Census (LSOA usual residents, area, households); contains public sector "
                              "information licensed under the Open Government Licence v3.0")


def west_yorkshire_profile(path: Path | None = None) -> CityProfile:
    """The 1,388 LSOAs of West Yorkshire as a zone-only profile (no boundaries), Europe/London.

    Zones: ``zone_id`` = LSOA code, ``name`` = LSOA name, ``population`` = 2011 usual residents,
    covariates ``area_ha`` and ``households``; geometry and outline are empty.
    """
    if path is None:
        text = (resources.files("observatoire.city") / "data" / "west_yorkshire_lsoa.csv").read_text(encoding="utf-8")
        where = "observatoire/city/data/west_yorkshire_lsoa.csv"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"LSOA table {path}: cannot be read ({type(exc).__name__})") from exc
        where = str(path)
    reader = csv.DictReader(text.lstrip("\ufeff").splitlines())
    missing = [c for c in WEST_YORKSHIRE_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InputError(f"LSOA table {where}: missing column(s) {', '.join(missing)}")
    empty = shapely.GeometryCollection()
    zones = []
    for i, row in enumerate(reader, start=1):
        try:
            zones.append(Zone(
                zone_id=row["lsoa_code"].strip(), name=row["lsoa_name"].strip(), short_name=row["lsoa_name"].strip(),
                population=int(row["persons"]),
                covariates={"area_ha": float(row["hectares"]), "households": float(row["households"])},
                postcodes=(), geometry=empty,
            ))
        except (TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"LSOA table {where}: row {i} is incomplete ({type(exc).__name__})") from exc
    ids = [z.zone_id for z in zones]
    if not zones or len(set(ids)) != len(ids) or any(z.population < 0 for z in zones):
        raise InputError(f"LSOA table {where}: no zones, a repeated LSOA code or a negative population")
    return CityProfile(
        name="West Yorkshire", timezone="Europe/London", attribution=WEST_YORKSHIRE_ATTRIBUTION,
        zones=tuple(zones),
        covariate_notes={"area_ha": "area in hectares (2011 Census)", "households": "households (2011 Census)"},
        outline=empty,
    )
