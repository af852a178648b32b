"""NATINF offence codes known to the fines connector: code -> (French label, category, standard amount).

NATINF ("nature d'infraction") is the French Ministry of Justice's offence
nomenclature. This table is configuration data, not law: the codes and labels
below are the subset used by the demo city and its simulator, and a city
deploying the observatory replaces it with the extract of the official
nomenclature its fines system uses. A fine whose code is not in the table is
quarantined (``unknown_natinf``), never guessed.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping

NATINF: Mapping[int, tuple[str, str, float]] = MappingProxyType({
    # Parking (contraventions de 2e et 4e classe).
    11300: ("Stationnement gênant de véhicule sur un passage piéton", "parking_offence", 35.0),
    11302: ("Stationnement gênant de véhicule sur un trottoir", "parking_offence", 35.0),
    11303: ("Stationnement très gênant sur un emplacement réservé aux personnes handicapées", "parking_offence", 135.0),
    11305: ("Stationnement gênant en double file", "parking_offence", 35.0),
    11306: ("Stationnement très gênant sur une voie réservée aux transports en commun", "parking_offence", 135.0),
    11307: ("Arrêt ou stationnement dangereux", "parking_offence", 135.0),
    # Moving traffic.
    11203: ("Excès de vitesse inférieur à 20 km/h (limite ≤ 50 km/h)", "traffic_offence", 135.0),
    11208: ("Inobservation de l'arrêt imposé par un feu rouge", "traffic_offence", 135.0),
    11209: ("Usage d'un téléphone tenu en main par le conducteur", "traffic_offence", 135.0),
    11210: ("Défaut de port de la ceinture de sécurité", "traffic_offence", 135.0),
    11211: ("Circulation en sens interdit", "traffic_offence", 135.0),
    11212: ("Défaut de port du casque (deux-roues motorisé)", "traffic_offence", 135.0),
    # Municipal by-laws.
    11401: ("Bruit ou tapage troublant la tranquillité d'autrui", "municipal_offence", 68.0),
    11402: ("Dépôt ou abandon d'ordures sur la voie publique", "municipal_offence", 135.0),
    11403: ("Consommation d'alcool sur la voie publique en violation d'un arrêté municipal", "municipal_offence", 38.0),
    11404: ("Divagation d'animal ou chien non tenu en laisse", "municipal_offence", 38.0),
    11405: ("Épanchement d'urine sur la voie publique", "municipal_offence", 68.0),
})
