"""Structured identifiers: phones, plates, NIR, IBAN, e-mails (pattern + validator), table-driven."""

from __future__ import annotations

import pytest
from stdnum.fr import nir as stdnum_nir

from observatoire.gate.pii import Scrubber
from observatoire.gate.pii.validators import department_ok, nir_key, nir_reason, phone_reason

from pii_helpers import spans


@pytest.mark.parametrize("text, phone", [
    ("tél. 06 12 34 56 78", "06 12 34 56 78"),
    ("joignable au 06.12.34.56.78.", "06.12.34.56.78"),
    ("portable 0612345678", "0612345678"),
    ("Victime : Karim, 07-12-34-56-78.", "07-12-34-56-78"),
    ("appelez le +33 6 12 34 56 78 svp", "+33 6 12 34 56 78"),
    ("contact +33 (0)6 12 34 56 78", "+33 (0)6 12 34 56 78"),
    ("fixe 04 91 12 34 56", "04 91 12 34 56"),
    ("numéro 0033 6 12 34 56 78", "0033 6 12 34 56 78"),
    ("+33612345678", "+33612345678"),
    ("sans mot de contexte 0491123456 puis rien", "0491123456"),
])
def test_when_a_french_phone_number_is_written_then_it_is_found(pii: Scrubber, text: str, phone: str) -> None:
    assert spans(pii, text, "PHONE") == [phone]


@pytest.mark.parametrize("text", [
    "le 12.06.1990 à 23h15",                 # a date, a time
    "dossier 2025-000123",                   # a file number
    "code 00612345678",                      # 11 digits
    "n° 612345678",                          # 9 digits
    "SIRET 123 456 789 00012",
])
def test_when_digits_are_not_a_phone_number_then_no_phone_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PHONE") == []


def test_when_a_phone_has_a_context_word_then_the_trace_says_so(pii: Scrubber) -> None:
    [f] = [f for f in pii.find("tél. 06 12 34 56 78") if f.entity == "PHONE"]
    assert f.detector == "regex:phone_fr" and "context 'tél'" in f.reason and f.score > 0.9
    [g] = [f for f in pii.find("à rappeler plus tard 06 12 34 56 78") if f.entity == "PHONE"]
    assert "context" not in g.reason and g.score < f.score


@pytest.mark.parametrize("text, plate", [
    ("véhicule AB-123-CD stationné", "AB-123-CD"),
    ("le véhicule ab-123-cd", "ab-123-cd"),
    ("scooter AB 123 CD", "AB 123 CD"),
    ("voiture AB123CD", "AB123CD"),
    ("plaque Ab - 123 - cD", "Ab - 123 - cD"),
    ("immatriculé 1234 AB 13", "1234 AB 13"),
    ("ancienne plaque 123 ABC 75", "123 ABC 75"),
    ("véhicule 45 XY 2A", "45 XY 2A"),
    ("véhicule 812 KL 974", "812 KL 974"),
])
def test_when_a_plate_is_written_in_any_spacing_or_casing_then_it_is_found(pii: Scrubber, text: str,
                                                                            plate: str) -> None:
    assert spans(pii, text, "PLATE") == [plate]


@pytest.mark.parametrize("text", [
    "rendez-vous à 23h15 devant le bar",     # a time is not a plate
    "vers 23h15 rue de Rome",
    "AI-123-OU",                              # I, O, U are never used by SIV plates
    "1234 AB 00",                             # no département 00
    "1234 AB 96",
    "du 4 au 10 novembre",                    # running words that fit an old plate
    "le 12 de la rue",
    "il habite au 12 bis 13",
])
def test_when_text_only_looks_like_a_plate_then_no_plate_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PLATE") == []


def _nir(body: str) -> str:
    return body + f"{nir_key(body):02d}"


@pytest.mark.parametrize("body", ["1850513055123", "2950699126111", "185052A055123", "299122B012345",
                                  "1750999001002", "2880175115003"])
def test_when_a_nir_key_checks_then_it_is_found_and_python_stdnum_agrees(pii: Scrubber, body: str) -> None:
    nir = _nir(body)
    assert stdnum_nir.is_valid(nir)
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    for written in (nir, spaced, spaced.lower()):
        assert spans(pii, f"carte vitale n° {written}.", "NIR") == [written]


def test_when_a_nir_has_a_wrong_key_then_it_is_masked_as_a_mistyped_nir(pii: Scrubber) -> None:
    nir = _nir("1850513055123")
    wrong = nir[:13] + f"{(int(nir[13:]) % 97) + 1:02d}"
    assert nir_reason(nir) is not None and nir_reason(wrong) is None
    [found] = [f for f in pii.find(f"référence {wrong}") if f.entity == "NIR"]
    assert f"référence {wrong}"[found.start:found.end] == wrong
    assert "does not check" in found.reason and found.reason != nir_reason(nir)


def test_when_a_corsican_nir_is_checked_then_2a_counts_as_19_and_2b_as_18() -> None:
    assert nir_key("185052A055123") == 97 - int("1850519055123") % 97
    assert nir_key("185052B055123") == 97 - int("1850518055123") % 97


@pytest.mark.parametrize("text, iban", [
    ("IBAN FR76 3000 6000 0112 3456 7890 189 merci", "FR76 3000 6000 0112 3456 7890 189"),
    ("rib fr7630006000011234567890189.", "fr7630006000011234567890189"),
    ("compte DE89 3704 0044 0532 0130 00 au nom de", "DE89 3704 0044 0532 0130 00"),
    ("IBAN : GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),
])
def test_when_an_iban_checksum_holds_then_it_is_found_without_the_words_after(pii: Scrubber, text: str,
                                                                              iban: str) -> None:
    assert spans(pii, text, "IBAN") == [iban]


def test_when_an_iban_has_a_wrong_checksum_then_it_is_not_an_iban(pii: Scrubber) -> None:
    assert spans(pii, "IBAN FR77 3000 6000 0112 3456 7890 189", "IBAN") == []


@pytest.mark.parametrize("text, email", [
    ("courriel karim.haddad13@gmail.com.", "karim.haddad13@gmail.com"),
    ("écrire à Sophie_Martin@orange.fr svp", "Sophie_Martin@orange.fr"),
    ("mail: jean-pierre+pv@mairie-marseille.fr", "jean-pierre+pv@mairie-marseille.fr"),
])
def test_when_an_email_is_written_then_it_is_found(pii: Scrubber, text: str, email: str) -> None:
    assert spans(pii, text, "EMAIL") == [email]


def test_when_an_at_sign_is_not_an_email_then_no_email_is_found(pii: Scrubber) -> None:
    assert spans(pii, "rdv @ 18h au bar, @karim13 sur insta", "EMAIL") == []


@pytest.mark.parametrize("dept, ok", [("13", True), ("2A", True), ("2b", True), ("974", True), ("00", False),
                                      ("96", False), ("977", False), ("20", True)])
def test_when_a_plate_departement_is_checked_then_only_existing_ones_pass(dept: str, ok: bool) -> None:
    assert department_ok(dept) is ok


@pytest.mark.parametrize("raw, ok", [("06 12 34 56 78", True), ("+33 (0)6 12 34 56 78", True),
                                     ("00 12 34 56 78", False), ("0612 3456 789", False)])
def test_when_a_phone_is_checked_then_ten_french_digits_are_needed(raw: str, ok: bool) -> None:
    assert (phone_reason(raw) is not None) is ok
