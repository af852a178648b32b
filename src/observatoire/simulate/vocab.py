"""Fixed vocabularies of the exports, as ``docs/sources.md`` defines them.

The vocabularies of the export formats are owned by the connectors
(``observatoire.sources``) and only re-exported here, so the simulator cannot
emit a label, code or type that the connectors do not read.
"""

from __future__ import annotations

from observatoire.event.taxonomy import category
from observatoire.sources.cctv import DECREE_TYPES as _DECREE_TYPES
from observatoire.sources.cctv import OWNERS
from observatoire.sources.hospital import AGE_BANDS as _AGE_BANDS
from observatoire.sources.hospital import SEXES as _SEXES
from observatoire.sources.hospital import WEAPONS as _WEAPONS
from observatoire.sources.labels import LABELS_FR
from observatoire.sources.mains_courantes import ORIGIN_DISCOVERY
from observatoire.sources.patrols import SHIFT_HOURS  # noqa: F401 - re-exported
from observatoire.sources.patrols import SHIFTS as _SHIFTS
from observatoire.sources.planned_events import EVENT_TYPES as _EVENT_TYPES

# The incident categories the ground truth uses, in a fixed order: arrays of
# category indices refer to this tuple.
INCIDENT_CATEGORIES: tuple[str, ...] = (
    "violence", "theft", "robbery", "burglary", "vehicle_crime", "criminal_damage",
    "drugs", "public_order", "nuisance", "public_hygiene", "road_safety",
)

# The export vocabularies are the connectors': the simulator may only emit what they read.
# category code -> French label of `mains_courantes.categorie` / `municipal_reports.nature`.
FRENCH_LABELS: dict[str, str] = {code: label for label, code in LABELS_FR.items()}
LOGBOOK_ORIGINS: tuple[str, ...] = tuple(ORIGIN_DISCOVERY)
DIRECTED_ORIGINS = frozenset(o for o, d in ORIGIN_DISCOVERY.items() if d == "directed")
# Decree n° 2023-828 event types: French code of `cctv_events.type` -> taxonomy category.
DECREE_TYPES: dict[str, str] = dict(_DECREE_TYPES)
CAMERA_OWNERS: tuple[str, ...] = tuple(OWNERS)
# Patrol shifts: (name, local start hour); the night shift of date d runs from 22 h on d to 06 h on d + 1.
SHIFTS: tuple[tuple[str, int], ...] = tuple(_SHIFTS.items())
WEAPONS: tuple[str, ...] = tuple(_WEAPONS)
AGE_BANDS: tuple[str, ...] = tuple(_AGE_BANDS)
SEXES: tuple[str, ...] = tuple(_SEXES)
PLANNED_EVENT_TYPES: tuple[str, ...] = tuple(_EVENT_TYPES)

PII_KINDS: tuple[str, ...] = ("name", "phone", "plate", "address", "birth_date", "email")


def check_vocabularies() -> None:
    """Fail loudly if the taxonomy and these vocabularies drift apart (called by the tests)."""
    for code in INCIDENT_CATEGORIES:
        category(code)
    for code in DECREE_TYPES.values():
        if category(code).kind != "detection":
            raise AssertionError(f"{code} is not a decree detection category")
