"""The category taxonomy: English codes (stored), French labels (shown).

Every canonical event carries exactly one category code from this table. The
table is data, not code: a city may extend it, but codes are never reused with
another meaning. ``kind`` separates what happened (``incident``), what the
institutions did (``enforcement``, ``activity``), automated detections
(``detection``) and public posts (``post``), so that counts never mix an
incident with the enforcement it triggered unless a user asks for it.

The eight ``cctv_*`` codes are exactly the event types that decree
n° 2023-828 of 28 August 2023 allows algorithmic video analysis to report; no
other video-derived category exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["incident", "enforcement", "activity", "detection", "post", "context"]


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label_fr: str
    label_en: str
    kind: Kind
    description: str


CATEGORIES: tuple[Category, ...] = (
    # Incidents (what happened), whoever recorded them.
    Category("violence", "Atteinte volontaire à l'intégrité physique", "Violence against persons", "incident",
             "Assaults, fights, threats with violence."),
    Category("theft", "Vol sans violence", "Theft", "incident",
             "Theft from persons, shops or public places without violence."),
    Category("robbery", "Vol avec violence", "Robbery", "incident", "Theft with violence or threat."),
    Category("burglary", "Cambriolage", "Burglary", "incident", "Entry into a dwelling or premises to steal."),
    Category("vehicle_crime", "Vol lié aux véhicules", "Vehicle crime", "incident",
             "Theft of or from a vehicle."),
    Category("criminal_damage", "Dégradation", "Criminal damage", "incident",
             "Damage to property, vandalism, graffiti, arson of property."),
    Category("drugs", "Stupéfiants", "Drugs", "incident", "Drug dealing or use in public space."),
    Category("public_order", "Trouble à l'ordre public", "Public order", "incident",
             "Brawls, disorder, dangerous behaviour in public space."),
    Category("nuisance", "Nuisance, tapage", "Nuisance and noise", "incident",
             "Noise, neighbourhood disputes, antisocial nuisances."),
    Category("public_hygiene", "Atteinte à la salubrité", "Public hygiene", "incident",
             "Illegal dumping, waste, insalubrity."),
    Category("weapons", "Port ou détention d'arme prohibée", "Possession of weapons", "incident",
             "Carrying or possessing a prohibited weapon."),
    Category("other_crime", "Autre infraction", "Other crime", "incident",
             "Offences no other incident category covers (fraud, perjury, ...), as open data classes them."),
    Category("road_safety", "Sécurité routière", "Road safety", "incident",
             "Traffic accidents and dangerous driving."),
    Category("assault_injury", "Blessure par agression (urgences)", "Assault injury (emergency department)",
             "incident", "An emergency admission for an injury from an assault (Cardiff model)."),
    # What the institutions did.
    Category("parking_offence", "Infraction au stationnement", "Parking offence", "enforcement",
             "A fine for unlawful parking."),
    Category("traffic_offence", "Infraction à la circulation", "Traffic offence", "enforcement",
             "A fine for a moving-traffic offence (speed, red light, phone, no belt)."),
    Category("municipal_offence", "Infraction aux arrêtés municipaux", "Municipal by-law offence", "enforcement",
             "A fine for breaching a municipal by-law (noise, dumping, alcohol, dogs)."),
    Category("assistance", "Assistance à personne", "Assistance to a person", "activity",
             "Help given to a person in difficulty, lost child, vulnerable person."),
    Category("intervention", "Intervention", "Intervention", "activity",
             "A municipal police intervention not otherwise classified."),
    Category("operator_report", "Signalement opérateur CSU", "Supervision-centre operator report", "activity",
             "A report written by a supervision-centre (CSU) operator from a camera view."),
    # Automated video detections: exactly the 8 types of decree n° 2023-828, art. 3.
    Category("cctv_abandoned_object", "Présence d'objets abandonnés", "Abandoned object", "detection",
             "Decree 2023-828: presence of abandoned objects."),
    Category("cctv_weapon", "Présence ou utilisation d'armes", "Weapon", "detection",
             "Decree 2023-828: presence or use of weapons."),
    Category("cctv_wrong_way", "Non-respect du sens de circulation", "Wrong-way movement", "detection",
             "Decree 2023-828: a person or vehicle not respecting the direction of traffic."),
    Category("cctv_intrusion", "Franchissement ou présence en zone interdite", "Intrusion into a forbidden zone",
             "detection", "Decree 2023-828: crossing into or presence in a forbidden or sensitive zone."),
    Category("cctv_person_on_ground", "Personne au sol après une chute", "Person on the ground", "detection",
             "Decree 2023-828: presence of a person on the ground after a fall."),
    Category("cctv_crowd_movement", "Mouvement de foule", "Crowd movement", "detection",
             "Decree 2023-828: crowd movement."),
    Category("cctv_excessive_density", "Densité trop importante de personnes", "Excessive density", "detection",
             "Decree 2023-828: excessive density of persons."),
    Category("cctv_fire_start", "Départ de feu", "Fire start", "detection", "Decree 2023-828: start of a fire."),
    # Public social-media posts.
    Category("social_post", "Publication publique sur un réseau social", "Public social-media post", "post",
             "A public post: its author as a keyed token, its text scrubbed of personal data."),
    # Context.
    Category("planned_event", "Événement programmé", "Planned event", "context",
             "A planned public event (match, concert, festival) from the city's calendar."),
)

CCTV_DECREE_CODES: tuple[str, ...] = tuple(c.code for c in CATEGORIES if c.kind == "detection")

_BY_CODE = {c.code: c for c in CATEGORIES}


def category(code: str) -> Category:
    """The category of ``code``; ``KeyError`` names the unknown code."""
    return _BY_CODE[code]


def is_category(code: str) -> bool:
    return code in _BY_CODE


def codes() -> tuple[str, ...]:
    return tuple(_BY_CODE)
