"""Dates of birth: only where the context says birth; numeric and in words."""

from __future__ import annotations

import pytest

from observatoire.gate.pii import Scrubber

from pii_helpers import spans


@pytest.mark.parametrize("text, date", [
    ("Victime : M. X, né le 12/06/1990, demeurant", "12/06/1990"),
    ("née le 1er mars 1987.", "1er mars 1987"),
    ("né le douze juin 1990", "douze juin 1990"),
    ("née le vingt et un mars 1970", "vingt et un mars 1970"),
    ("née vingt-cinq novembre 1985", "vingt-cinq novembre 1985"),
    ("DN : 5/7/1966", "5/7/1966"),
    ("DDN 22.10.1946", "22.10.1946"),
    ("D.N. 03-04-1975", "03-04-1975"),
    ("date de naissance : 3 mai 1980", "3 mai 1980"),
    ("né(e) le 14/02/2001", "14/02/2001"),
    ("né(e) en 1990", "1990"),
    ("né en juin 1990", "juin 1990"),
    ("né à Marseille le 3 mai 1980", "3 mai 1980"),
    ("NÉE LE 3 MARS 1987", "3 MARS 1987"),
    ("nee le 3 mars 87", "3 mars 87"),
])
def test_when_a_date_follows_a_birth_context_then_it_is_a_birth_date(pii: Scrubber, text: str, date: str) -> None:
    assert spans(pii, text, "BIRTH_DATE") == [date]


@pytest.mark.parametrize("text", [
    "le 12 juin 2024, les faits se sont produits",    # a date that is not a birth date
    "Intervention du 12/06/1990 au domicile",
    "Arrivée sur place à 23h15 le 3 mars 2025",
    "PV n° 2025-00123 du 1er mars 1987",
    "le nouveau-né va bien, 3 mars",                   # no date after the context
    "né le 45/13/1990",                                # not a calendar date
])
def test_when_a_date_is_not_said_to_be_a_birth_then_it_is_left(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "BIRTH_DATE") == []


def test_when_a_birth_date_is_scrubbed_then_its_context_words_stay(pii: Scrubber) -> None:
    out = pii.scrub("Mis en cause : né le 12/06/1990 à Toulon.")
    assert out.text == "Mis en cause : né le <DATE_NAISSANCE> à Toulon."
    [f] = out.findings
    assert f.detector == "regex:birth_date_fr" and "né le" in f.reason and "numeric" in f.reason
