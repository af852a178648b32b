"""Fixed vocabularies of the exports, as ``docs/sources.md`` defines them.

These tuples are a contract with the connectors (written elsewhere): the
simulator may only emit the labels, codes and types listed here.
"""

from __future__ import annotations

from observatoire.event.taxonomy import category

# The incident categories the ground truth uses, in a fixed order: arrays of
# category indices refer to this tuple.
INCIDENT_CATEGORIES: tuple[str, ...] = (
    "violence", "theft", "robbery", "burglary", "vehicle_crime", "criminal_damage",
    "drugs", "public_order", "nuisance", "public_hygiene", "road_safety",
)

# `mains_courantes.categorie` and `municipal_reports.nature` labels (docs/sources.md,
# "French category labels"): category code -> French label.
FRENCH_LABELS: dict[str, str] = {
    "violence": "Violences",
    "theft": "Vol",
    "robbery": "Vol avec violence",
    "burglary": "Cambriolage",
    "vehicle_crime": "Vol lié aux véhicules",
    "criminal_damage": "Dégradations",
    "drugs": "Stupéfiants",
    "public_order": "Trouble à l'ordre public",
    "nuisance": "Tapage, nuisances",
    "public_hygiene": "Dépôt sauvage",
    "road_safety": "Accident de la circulation",
    "assistance": "Assistance à personne",
    "intervention": "Intervention diverse",
    "operator_report": "Signalement vidéo",
}

LOGBOOK_ORIGINS: tuple[str, ...] = ("initiative", "videoprotection", "appel_usager", "requisition")
DIRECTED_ORIGINS = frozenset({"initiative", "videoprotection"})

# Decree n° 2023-828 event types, French codes of the `cctv_events.type` field,
# in the order of the taxonomy's ``cctv_*`` categories.
DECREE_TYPES: dict[str, str] = {
    "objet_abandonne": "cctv_abandoned_object",
    "arme": "cctv_weapon",
    "sens_interdit": "cctv_wrong_way",
    "zone_interdite": "cctv_intrusion",
    "personne_au_sol": "cctv_person_on_ground",
    "mouvement_de_foule": "cctv_crowd_movement",
    "densite_excessive": "cctv_excessive_density",
    "depart_de_feu": "cctv_fire_start",
}

CAMERA_OWNERS: tuple[str, ...] = ("ville", "rtm", "amp", "bailleur")

# Patrol shifts: name, start hour (local), length in hours. The night shift of
# date d runs from 22 h on d to 06 h on d + 1.
SHIFTS: tuple[tuple[str, int], ...] = (("matin", 6), ("apres-midi", 14), ("nuit", 22))
SHIFT_HOURS = 8

WEAPONS: tuple[str, ...] = ("aucune", "contondant", "tranchant", "arme_a_feu", "autre", "inconnue")
AGE_BANDS: tuple[str, ...] = ("0-17", "18-24", "25-34", "35-49", "50-64", "65+")
SEXES: tuple[str, ...] = ("F", "M", "X")

PLANNED_EVENT_TYPES: tuple[str, ...] = ("match", "concert", "festival", "manifestation", "marche")

PII_KINDS: tuple[str, ...] = ("name", "phone", "plate", "address", "birth_date", "email")


def check_vocabularies() -> None:
    """Fail loudly if the taxonomy and these vocabularies drift apart (called by the tests)."""
    for code in INCIDENT_CATEGORIES:
        category(code)
    for code in DECREE_TYPES.values():
        if category(code).kind != "detection":
            raise AssertionError(f"{code} is not a decree detection category")
