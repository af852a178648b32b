"""Persons' names: titles, role words, gazetteers, NOM Prénom shapes, the NER model, and false positives."""

from __future__ import annotations

import pytest

from observatoire.gate.pii import Scrubber

from pii_helpers import spans


@pytest.mark.parametrize("text, name", [
    ("Appel de Mme Odette SANCHEZ signalant", "Odette SANCHEZ"),
    ("Victime : M. Antoine ESPOSITO, tél.", "Antoine ESPOSITO"),
    ("Requérant : Monsieur DUPONT Jean se plaint", "DUPONT Jean"),
    ("rencontré le Dr Martin", "Martin"),
    ("Mlle Rose est arrivée", "Rose"),
    ("Mme Thi Lan Mohamed Ali, DN : 5/7/1966", "Thi Lan Mohamed Ali"),
    ("Témoin : M. Walid SIMON.", "Walid SIMON"),
])
def test_when_a_title_precedes_a_name_then_the_name_is_found_without_the_title(pii: Scrubber, text: str,
                                                                               name: str) -> None:
    assert spans(pii, text, "PERSON") == [name]


@pytest.mark.parametrize("text, name", [
    ("Victime : LAURENT SERGUEÏ, demeurant", "LAURENT SERGUEÏ"),
    ("Contact : odette youssouf.", "odette youssouf"),
    ("Mis en cause : mai reynaud, demeurant", "mai reynaud"),
    ("le dénommé Wissem BOUAZIZ a pris la fuite", "Wissem BOUAZIZ"),
    ("Conducteur : DA SILVA Christophe, tél", "DA SILVA Christophe"),
    ("Propriétaire : AIT OUALI Hugo.", "AIT OUALI Hugo"),
])
def test_when_a_role_word_precedes_a_name_then_the_name_is_found(pii: Scrubber, text: str, name: str) -> None:
    assert spans(pii, text, "PERSON") == [name]


@pytest.mark.parametrize("text, name", [
    ("Hier soir Karim Haddad s'est fait agresser", "Karim Haddad"),
    ("BOUZID Nadia a été vue", "BOUZID Nadia"),
    ("j'ai croisé khadija boudjema hier", "khadija boudjema"),
    ("Kevin s'est fait voler son téléphone", "Kevin"),
    ("signalé par le voisin, LEROY Julie", "LEROY Julie"),
    ("le nommé HADDAD a été interpellé", "HADDAD"),
])
def test_when_a_known_name_stands_without_title_then_it_is_found(pii: Scrubber, text: str, name: str) -> None:
    assert spans(pii, text, "PERSON") == [name]


def test_when_a_text_is_all_lower_case_then_names_are_found_by_context_and_gazetteer(pii: Scrubber) -> None:
    text = "appel de mme odette sanchez. victime : antoine le van, né le 3/9/1948. témoin karim haddad."
    assert spans(pii, text, "PERSON") == ["odette sanchez", "antoine le van", "karim haddad"]


def test_when_a_text_is_all_upper_case_then_names_are_found_by_context_and_gazetteer(pii: Scrubber) -> None:
    text = "VICTIME : MME FATIMA BENALI, NÉE LE 03/04/1975. TAPAGE NOCTURNE RUE DE ROME."
    assert spans(pii, text, "PERSON") == ["FATIMA BENALI"]


@pytest.mark.parametrize("text", [
    "Rixe devant le bar, pas de blessé.",                 # "Rixe" is not a person
    "Vol à l'arraché boulevard National.",
    "Tapage nocturne à la Belle de Mai.",
    "Qui a des places pour samedi au Vélodrome ? Allez l'OM !",
    "Marseille sous le soleil, comme d'habitude",
    "Rendez-vous le 12 Mai à Castellane, PV dressé.",
    "Sur réquisition du CIC police nationale, nous rendons boulevard Ferdinand de Lesseps.",
    "Le mistral a tout emporté sur mon balcon",
    "Main courante pour information. Fin d'intervention.",
    "Opérateur CSU : un regroupement d'individus sur la place Jean Jaurès.",
    "Direction le Vélodrome pour OM – Paris Saint-Germain",
    "Une rose blanche déposée devant la mairie.",
])
def test_when_a_capitalised_word_is_not_a_person_then_no_person_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PERSON") == []


def test_when_a_name_is_unknown_to_the_rules_then_the_model_decides(pii: Scrubber, rules_only: Scrubber) -> None:
    text = "Les témoins ont vu Gwenhaël Kerbiriou courir vers le port."
    assert spans(rules_only, text, "PERSON") == []
    found = [f for f in pii.find(text) if f.entity == "PERSON"]
    assert [text[f.start:f.end] for f in found] == ["Gwenhaël Kerbiriou"]
    assert found[0].detector == "spacy:fr_core_news_sm" and "PER" in found[0].reason


def test_when_nothing_is_left_unexplained_then_the_model_is_not_run(pii: Scrubber) -> None:
    pending = pii._rules("Victime : M. Karim BENALI, tél. 06 12 34 56 78, rue de Rome.")
    assert pending.candidates == []
    pending = pii._rules("Les témoins ont vu Gwenhaël Kerbiriou courir.")
    assert [pending.info.words[i] for i in pending.candidates] == ["Gwenhaël", "Kerbiriou"]
