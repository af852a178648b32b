"""Postal addresses (number + street type + name, optional postcode and city) and street references."""

from __future__ import annotations

import pytest

from observatoire.gate.pii import Scrubber

from pii_helpers import spans


@pytest.mark.parametrize("text, address", [
    ("domicilié 12 bis rue de la République, 13002 Marseille.", "12 bis rue de la République, 13002 Marseille"),
    ("demeurant 3 bd National", "3 bd National"),
    ("au 145, avenue du Prado 13008 Marseille, tél", "145, avenue du Prado 13008 Marseille"),
    ("adresse : 7 chemin de la Madrague-Ville", "7 chemin de la Madrague-Ville"),
    ("habite 22 traverse de la Penne, 13011 MARSEILLE", "22 traverse de la Penne, 13011 MARSEILLE"),
    ("au 4 impasse des Peupliers", "4 impasse des Peupliers"),
    ("au 18 montée des Accoules", "18 montée des Accoules"),
    ("domiciliée 8 ter rue de l'Abbé de l'Épée, 13005 Marseille",
     "8 ter rue de l'Abbé de l'Épée, 13005 Marseille"),
    ("domiciliée 67 La Canebière, 13001 Marseille", "67 La Canebière, 13001 Marseille"),
    ("19 avenue Jean Jaurès 13600 La Ciotat", "19 avenue Jean Jaurès 13600 La Ciotat"),
    ("demeurant 174 bis rue nationale, 13001 marseille", "174 bis rue nationale, 13001 marseille"),
    ("domicilié 65 rue du musée, 13001 marseille.", "65 rue du musée, 13001 marseille"),
])
def test_when_a_number_precedes_a_street_then_it_is_an_address(pii: Scrubber, text: str, address: str) -> None:
    assert spans(pii, text, "ADDRESS") == [address]


@pytest.mark.parametrize("text", [
    "Patrouille rue de Rome, rien à signaler.",              # a street without a number is not an address
    "Rixe sur le boulevard National vers 23h15 rue de Rome",  # a time is not a street number
    "intervention au niveau de l'avenue du Prado",
    "2 individus devant le lycée Victor Hugo",
])
def test_when_a_street_has_no_number_then_it_is_not_an_address(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "ADDRESS") == []


@pytest.mark.parametrize("text", [
    "intervention boulevard Charles Moretti pour une rixe",
    "au niveau de l'avenue Jean Jaurès",
    "à hauteur de la rue Félix Pyat",
    "sur la place Jean Jaurès",
    "devant le collège Jean Moulin",
    "à la station Jean Jaurès",
    "promenade Georges Pompidou",
])
def test_when_a_person_name_is_a_street_name_then_it_is_not_a_person(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PERSON") == []
