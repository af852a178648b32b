"""Classes of persons' names the rules once missed, one table each (found, and not found), and the labelled
corpus of these classes (``tests/data/pii_classes_names.jsonl``) with the main one: recall on persons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from observatoire.gate.pii import ENTITIES, Scrubber
from observatoire.gate.pii.evaluation import Counts, Span, score
from observatoire.gate.pii.lexicon import WordSet

from pii_helpers import spans

DATA = Path(__file__).resolve().parents[1] / "data"
CLASSES = DATA / "pii_classes_names.jsonl"
MAIN = DATA / "pii_corpus.jsonl"
RECALL_PERSON = 0.99          # both corpora together, a name found only when no word of it is left
RECALL_PER_CLASS = 0.90
PRECISION_CLASSES = 0.95


# -- short upper-case surnames after a title, accents in capitals, "Le" as a surname ---------------------------
@pytest.mark.parametrize("text, names", [
    ("Interpellation de M. NG pour outrage à agent.", ["NG"]),
    ("Mme MZÉ a déposé une main courante.", ["MZÉ"]),              # "Mze" is listed: folded in capitals
    ("M. LE a été entendu en qualité de témoin.", ["LE"]),
    ("Monsieur Le se présente au poste.", ["Le"]),
    ("Le Dr OH a pris en charge la victime.", ["OH"]),
    ("Audition de M. LÊ par l'OPJ de permanence.", ["LÊ"]),
    ("Convocation de M. NG Van Minh pour le constat.", ["NG Van Minh"]),
    ("Mme MZÉ et M. NG se disputent la place.", ["MZÉ", "NG"]),
    ("Monsieur NGUYỄN remercie l'équipage.", ["NGUYỄN"]),
])
def test_when_a_short_or_accented_surname_in_capitals_follows_a_title_then_it_is_found(
        pii: Scrubber, text: str, names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


@pytest.mark.parametrize("text, names", [
    ("Réunion avec Monsieur Le Maire et ses adjoints.", []),      # a capitalised word after "Le": an office
    ("Monsieur le Maire a inauguré le poste.", []),
    ("MONSIEUR LE MAIRE EST ATTENDU À 10H.", []),
    ("Mme la Directrice de l'école signale des intrusions.", []),
    ("M. ET MME DUPONT SIGNALENT UN CAMBRIOLAGE.", ["DUPONT"]),   # "ET" before a capitalised word
    ("M. OK pour la réunion de demain.", []),                     # a never-name in capitals
    ("Me voici sur place, véhicule enlevé.", []),
])
def test_when_a_title_is_followed_by_an_office_or_a_common_word_then_it_is_not_a_name(
        pii: Scrubber, text: str, names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


@pytest.mark.parametrize("word, listed, expected", [
    ("MZÉ", "Mze", True), ("Mzé", "Mze", False), ("mzé", "Mze", False),   # folded in capitals only
    ("MZE", "Mzé", True), ("mze", "Mzé", True),                           # ASCII finds the accented entry
    ("احمد", "أحمد", True), ("أحمد", "احمد", True),                        # hamza written or not
])
def test_when_a_word_is_looked_up_then_accents_fold_both_ways_in_capitals_and_caseless_scripts(
        word: str, listed: str, expected: bool) -> None:
    assert (word in WordSet([listed])) is expected


# -- a role word without colon, weak cues, the words whose case says nothing --------------------------------
@pytest.mark.parametrize("text, names", [
    ("Sur place, le requérant olivier bodin déclare avoir été bousculé.", ["olivier bodin"]),
    ("Contrôle routier, conducteur zoubida castafiore (permis suspendu).", ["zoubida castafiore"]),
    ("Sur place, la requérante, ludivine ramdani, nous indique les faits.", ["ludivine ramdani"]),
    ("Le témoin, anatole brisset, confirme la version de la victime.", ["anatole brisset"]),
    ("Victime : مريم, voisine du dessous.", ["مريم"]),
])
def test_when_a_role_word_without_colon_precedes_a_lower_case_name_then_it_is_found(
        pii: Scrubber, text: str, names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


@pytest.mark.parametrize("text", [
    "Le conducteur ivre a été interpellé après un refus d'obtempérer.",
    "Le témoin oculaire est reparti avant notre arrivée.",
    "Individu louche signalé devant la supérette.",
    "Le client mécontent refuse de quitter le magasin.",
    "La victime, très choquée, refuse d'être transportée.",
    "La requérante, inquiète, rappelle à 23h.",                   # one word between commas: a word
    "Conducteur poids lourd verbalisé pour stationnement gênant.",
    "Individu identifié grâce aux images de vidéoprotection.",     # "Grâce" is a name, "grâce" a word
])
def test_when_a_role_word_precedes_common_words_then_no_person_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PERSON") == []


@pytest.mark.parametrize("text, names", [
    ("Nous sommes requis par castafiore zoubida pour un différend.", ["castafiore zoubida"]),
    ("Soirée au Cours Julien avec zoubida castafiore et ludivine ramdani !",
     ["zoubida castafiore", "ludivine ramdani"]),
    ("je suis zoubida castafiore, j'habite au 3e", ["zoubida castafiore"]),
    ("merci à ylona qui a rapporté mon portefeuille", ["ylona"]),
    ("Quelqu'un connaît maëlle thuillier ? elle a perdu ses clés", ["maëlle thuillier"]),
    ("c'est moi, ondine, je cherche mon chat", ["ondine"]),
    ("signalé par yanis bellahcène : encore un dépôt sauvage", ["yanis bellahcène"]),
    ("Le dénommé ben salah a été interpellé.", ["ben salah"]),
])
def test_when_a_weak_cue_precedes_a_lower_case_name_then_it_is_found(pii: Scrubber, text: str,
                                                                       names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


@pytest.mark.parametrize("text", [
    "Individu avec casquette noire et sweat gris, parti vers le métro.",
    "Il a frappé avec violence la porte du voisin.",
    "Nous sommes requis par le CIC pour un malaise.",
    "je suis choquée, encore une voiture brûlée cette nuit",
    "je suis infirmière libérale et je me gare où je peux",
    "je suis maman solo et je cherche une place en crèche",
    "merci à tous pour vos messages",
    "merci à celui qui a rapporté mon sac",
    "quelqu'un connaît un bon serrurier pas cher ?",
    "moi, perso, je trouve que ça va mieux",
    "Sommes requis par radio pour un renfort.",
    "Dossier de candidature transmis au service jeunesse.",
])
def test_when_a_weak_cue_precedes_common_words_then_no_person_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PERSON") == []


@pytest.mark.parametrize("text, names", [
    ("APPEL DE ZOUBIDA CASTAFIORE POUR TAPAGE NOCTURNE", ["ZOUBIDA CASTAFIORE"]),
    ("VICTIME ANFIATI MZÉ TRANSPORTÉE PAR LES MARINS-POMPIERS", ["ANFIATI MZÉ"]),
    ("LE TÉMOIN, NOÉ CASTAGNET, CONFIRME LES FAITS.", ["NOÉ CASTAGNET"]),
    ("appel de zoubida castafiore pour un tapage au 2e étage", ["zoubida castafiore"]),
    ("rixe entre karim haddad et yoann brisset devant le tabac", ["karim haddad", "yoann brisset"]),
    ("avec hugo bouzid et mathys ghezzal au bar", ["hugo bouzid", "mathys ghezzal"]),   # "et" after a name
])
def test_when_a_text_is_in_one_case_then_names_after_cues_are_found(pii: Scrubber, text: str,
                                                                     names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


@pytest.mark.parametrize("text, names", [
    ("APPEL DE RIVERAINS POUR NUISANCES SONORES", []),
    ("TAPAGE NOCTURNE RUE DE ROME, RAS À L'ARRIVÉE", []),
    ("AVIS DE RECHERCHE : SCOOTER NOIR VOLÉ", []),
    ("SOMMES REQUIS PAR LE CSU POUR UN FEU DE POUBELLES", []),
    ("la victime choquée refuse les soins", []),
    ("karim haddad et sa compagne ont été entendus", ["karim haddad"]),
    ("julie martin et deux amis ont été témoins", ["julie martin"]),
])
def test_when_a_text_in_one_case_has_no_name_after_a_cue_then_none_is_found(pii: Scrubber, text: str,
                                                                             names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


# -- a surname that is a common word, next to a known first name -------------------------------------------
@pytest.mark.parametrize("text, names", [
    ("vu jean-pierre couturier devant le tabac", ["jean-pierre couturier"]),
    ("yasmine boulanger a perdu son portefeuille", ["yasmine boulanger"]),     # a brand too: not a never-name
    ("julien potier s'est fait voler son téléphone", ["julien potier"]),
    ("Karim couturier s'est présenté à l'accueil.", ["Karim couturier"]),
    ("je suis capucine verdier et je confirme", ["capucine verdier"]),
])
def test_when_a_surname_is_a_common_word_after_a_first_name_then_it_is_found(pii: Scrubber, text: str,
                                                                             names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


@pytest.mark.parametrize("text, names", [
    ("le boulanger a signalé des vitres cassées", []),
    ("le couturier de la rue Paradis a été cambriolé", []),
    ("karim blessé au bras a été transporté", ["karim"]),
    ("M. Dupont habite au 3e étage.", ["Dupont"]),
    ("Karim premier arrivé sur les lieux.", ["Karim"]),        # "-ier", but a never-name
])
def test_when_a_common_word_is_no_surname_then_it_is_not_taken(pii: Scrubber, text: str,
                                                              names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


# -- particles in a row --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, names", [
    ("Victime : Marie-Laure de La Roche, 54 ans.", ["Marie-Laure de La Roche"]),
    ("Témoin : Pedro de los Santos, touriste espagnol.", ["Pedro de los Santos"]),
    ("Mme Sophie van der Meer a retrouvé son chien.", ["Sophie van der Meer"]),
    ("M. Mohamed Ben El Hadj conteste l'amende.", ["Mohamed Ben El Hadj"]),
    ("victime : marie-laure de la roche, 54 ans", ["marie-laure de la roche"]),
    ("Sommes requis par Mme soraya le van pour un tapage.", ["soraya le van"]),   # "van" is the name
])
def test_when_a_name_holds_several_particles_then_all_of_it_is_found(pii: Scrubber, text: str,
                                                                     names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


@pytest.mark.parametrize("text", [
    "Fête de la Musique sur le Vieux-Port, dispositif renforcé.",
    "Rendez-vous à la Belle de Mai pour la réunion de quartier.",
    "Direction de la Sécurité publique : note aux équipages.",
    "la voiture est garée dans le van de livraison",
])
def test_when_particles_follow_no_name_then_no_person_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PERSON") == []


# -- Arabic script --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, names", [
    ("Témoin : محمد بن علي, présent lors des faits.", ["محمد بن علي"]),
    ("merci à يوسف qui m'a aidé 🙏", ["يوسف"]),
    ("Mme خديجة العلوي signale un tapage.", ["خديجة العلوي"]),
    ("M. عبد الله المنصوري conteste l'amende.", ["عبد الله المنصوري"]),
    ("Repose en paix كريم بن سالم", ["كريم بن سالم"]),
    ("شكرا أحمد على المساعدة", ["أحمد"]),                    # "على" (on) is a never-name
    ("Le dénommé ابو بكر a pris la fuite.", ["ابو بكر"]),    # a particle starts the name
    ("tout le quartier pense à عائشة", ["عائشة"]),           # "à" before it: not a place in Latin script
    ("VICTIME : سليم الوهراني, NÉE EN 1980", ["سليم الوهراني"]),
])
def test_when_a_name_is_in_arabic_script_then_it_is_found(pii: Scrubber, text: str, names: list[str]) -> None:
    assert spans(pii, text, "PERSON") == names


@pytest.mark.parametrize("text", [
    "السلام عليكم، quelqu'un a vu un chat gris vers Noailles ?",
    "رمضان كريم à tous les habitants du quartier",          # "كريم" (generous) is a name too
    "ما شاء الله le nouveau parc est magnifique",
    "إن شاء الله les travaux finiront avant l'été",
    "بسم الله, on commence la maraude ce soir",
    "آمين",
    "شكرا للشرطة البلدية على سرعة التدخل",
])
def test_when_arabic_script_holds_no_name_then_no_person_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PERSON") == []


# -- the labelled corpus of these classes ----------------------------------------------------------------------
def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _score(pii: Scrubber, rows: list[dict]) -> dict[str, Counts]:
    found = pii.find_many([r["text"] for r in rows])
    gold = [[Span(s["entity"], s["start"], s["end"]) for s in r["spans"]] for r in rows]
    return score(gold, [[Span(f.entity, f.start, f.end) for f in fs] for fs in found])


@pytest.fixture(scope="module")
def class_rows() -> list[dict]:
    return _rows(CLASSES)


def test_when_the_class_corpus_is_read_then_it_is_large_and_well_labelled(class_rows: list[dict]) -> None:
    assert len(class_rows) >= 150
    assert len({r["id"] for r in class_rows}) == len(class_rows)
    for r in class_rows:
        assert r["genre"] == "names_class"
        for s in r["spans"]:
            piece = r["text"][s["start"]:s["end"]]
            assert s["entity"] in ENTITIES and piece and piece == piece.strip(), (r["id"], piece)
    classes = {r["id"].rsplit("-", 1)[0] for r in class_rows}
    for c in classes:   # each class has texts with persons and texts without
        rows = [r for r in class_rows if r["id"].startswith(c + "-")]
        assert any(r["spans"] for r in rows) and any(not r["spans"] for r in rows), c


def test_when_both_corpora_are_scrubbed_then_persons_are_found_to_the_target(
        pii: Scrubber, class_rows: list[dict], capsys: pytest.CaptureFixture[str]) -> None:
    main = _rows(MAIN)
    both = _score(pii, main + class_rows)["PERSON"]
    classes = _score(pii, class_rows)
    by_class: dict[str, list[int]] = {}
    missed = {(n, g) for n, g in classes["PERSON"].missed}
    for n, r in enumerate(class_rows):
        for s in r["spans"]:
            if s["entity"] == "PERSON":
                tally = by_class.setdefault(r["id"].rsplit("-", 1)[0], [0, 0])
                tally[0] += 1
                tally[1] += (n, Span("PERSON", s["start"], s["end"])) not in missed
    report = "\n".join(f"{c:16s} {f}/{n}" for c, (n, f) in sorted(by_class.items()))
    with capsys.disabled():
        print(f"\nPERSON, main + classes: recall={both.recall:.3f} precision={both.precision:.3f}\n{report}")
    assert both.recall >= RECALL_PERSON, report
    assert classes["PERSON"].precision >= PRECISION_CLASSES
    for c, (n, f) in by_class.items():
        assert f / n >= RECALL_PER_CLASS, f"{c}: {f}/{n}"
    for entity, counts in classes.items():
        if entity != "PERSON":
            assert counts.recall == 1.0 and counts.precision == 1.0, entity
