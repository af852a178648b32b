"""Place names of a city (quartiers) and where text names them.

The gazetteer is city data (``data/<city>_places.csv``: ``name;longitude;latitude``);
a place's zone is the zone its point falls in. ``zones_named`` finds, in free
text, the first place name it mentions (case, accents, hyphens and a leading
article do not matter: "belle de mai", "la Belle-de-Mai") and returns its zone.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from collections.abc import Sequence

import numpy as np

from observatoire.city.geo import assign_zones
from observatoire.city.profile import CityProfile

ARTICLES = ("la ", "le ", "les ", "l'", "l’")


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    lon: float
    lat: float
    zone_id: str | None


def fold(text: str) -> str:
    s = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[\s\-]+", " ", s)


def load_places(city: CityProfile, path: Path | None = None) -> tuple[Place, ...]:
    """The city's places; ``None`` reads the packaged file named after the city (none: no places)."""
    if path is None:
        res = resources.files("observatoire.city") / "data" / f"{city.name.casefold()}_places.csv"
        if not res.is_file():
            return ()
        text = res.read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines(), delimiter=";"))
    lon = np.array([float(r["longitude"]) for r in rows])
    lat = np.array([float(r["latitude"]) for r in rows])
    zones = assign_zones(city, lon, lat)
    return tuple(Place(r["name"], x, y, z) for r, x, y, z in zip(rows, lon, lat, zones))


class Gazetteer:
    """Finds the first place a text names (longest names first, so "Saint-Marcel" beats "Marcel")."""

    def __init__(self, places: Sequence[Place]):
        self._zone: dict[str, str | None] = {}
        for p in places:
            name = fold(p.name)
            for article in ARTICLES:
                if name.startswith(article):
                    name = name[len(article):]
                    break
            self._zone[name] = p.zone_id
        names = sorted(self._zone, key=len, reverse=True)
        self._pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b") if names else None

    def zone_of(self, text: str | None) -> str | None:
        if not text or self._pattern is None:
            return None
        m = self._pattern.search(fold(text))
        return self._zone[m.group(1)] if m else None

    def zones_named(self, texts: Sequence[str | None]) -> list[str | None]:
        return [self.zone_of(t) for t in texts]
