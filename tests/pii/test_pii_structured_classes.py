"""Classes of structured identifiers the scrubber once missed, table-driven, positive and negative: glued
lower-case plates, social-media handles, NIRs with a wrong key, phones and IBANs written other ways, dates of
birth in ISO form, with the year in words or next to a name; invisible characters and emoji inside values;
texts over spaCy's length limit; and the overlap resolution, against the quadratic algorithm it replaced."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from observatoire.gate.pii import PLACEHOLDERS, Finding, Scrubber, resolve_overlaps
from observatoire.gate.pii.finding import _priority, _resolve_few, _resolve_many
from observatoire.gate.pii.scrubber import _pieces, _Redacted
from observatoire.gate.pii.text import normalise
from observatoire.gate.pii.validators import nir_key, nir_reason, nir_typo_reason, phone_reason, plate_words_ok

from pii_helpers import spans

ZW = "\u200b"


# -- plates -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, plate", [
    ("véhicule de123et retrouvé incendié", "de123et"),          # letter pairs that are French words, glued
    ("scooter volé, plaque la456le", "la456le"),
    ("la voiture se123ta garée en double file", "se123ta"),
    ("le fourgon ta147ne a reculé", "ta147ne"),
    ("véhicule DE123ET", "DE123ET"),
    ("la moto es-852-la", "es-852-la"),                           # dashed: always a plate
    ("la 206 immatriculée se 258 me", "se 258 me"),               # spaced, but said to be a plate
    ("plaque : me 456 ta", "me 456 ta"),
    ("immat. le 159 de", "le 159 de"),
    ("véhicules AB-123-CD/EF-456-GH", "AB-123-CD"),
])
def test_when_a_plate_is_glued_or_announced_then_it_is_found(pii: Scrubber, text: str, plate: str) -> None:
    assert plate in spans(pii, text, "PLATE")


@pytest.mark.parametrize("text", [
    "saisie de 250 et quelques grammes",                          # running words, spaced, no plate word
    "la somme de 300 et des poussières",
    "le lot de 123 et les cartons restants",
    "une amende de 135 et une mise en fourrière",
    "il habite au 12 bis 13e étage",
    "code wifi ab12",
])
def test_when_words_around_a_number_only_look_like_a_plate_then_no_plate_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PLATE") == []


@pytest.mark.parametrize("letters, separators, ok", [
    (("de", "et"), ("", ""), True),       # glued: a plate
    (("de", "et"), (" ", " "), False),    # spaced short words: running text
    (("de", "et"), ("-", "-"), True),
    (("gt", "yy"), (" ", " "), True),
    (("de", "et"), (" ", ""), False),
])
def test_when_plate_letters_are_short_words_then_only_spaces_refuse_them(letters: tuple[str, ...],
                                                                         separators: tuple[str, ...], ok: bool) -> None:
    assert plate_words_ok(letters, separators) is ok


# -- social-media handles -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, handle", [
    ("suivez @karim_b13 pour les infos", "@karim_b13"),
    ("@lea.martin t'as vu ça ?", "@lea.martin"),
    ("merci @JulienRoux.", "@JulienRoux"),
    ("(@marseille_info)", "@marseille_info"),
    ("il se vante sur instagram.com/mehdi.du13 😡", "mehdi.du13"),
    ("https://www.instagram.com/hugo.g/?hl=fr", "hugo.g"),
    ("vidéo sur https://www.tiktok.com/@sofiane_13/video/7301", "@sofiane_13"),
    ("son profil m.facebook.com/karim.benali.90 !", "karim.benali.90"),
    ("facebook.com/profile.php?id=100078452136, il a disparu", "profile.php?id=100078452136"),
    ("https://x.com/ludo_moto83", "ludo_moto83"),
    ("t.me/bonsplans_marseille revend des vélos", "bonsplans_marseille"),
    ("linkedin.com/in/patrick-fabre-13", "patrick-fabre-13"),
    ("snapchat.com/add/camille_g84", "camille_g84"),
    ("contactez-moi en privé, snap : nadia.b13", "nadia.b13"),
    ("insta: @rania.nails", "@rania.nails"),
    ("ig : karim.b13 si tu le reconnais", "karim.b13"),
    ("TWITTER : @GIOVANNI_TRAVAUX RÉPOND PLUS", "@GIOVANNI_TRAVAUX"),
])
def test_when_a_social_media_account_is_named_then_it_is_a_handle(pii: Scrubber, text: str, handle: str) -> None:
    assert spans(pii, text, "HANDLE") == [handle]


@pytest.mark.parametrize("text", [
    "rdv @ 18h devant le métro",
    "RDV @18h30 au Vélodrome",
    "prochaine collecte @2025",
    "écrire à mairie.secteur4@marseille.fr",                      # an e-mail's at sign
    "infos sur www.marseille.fr/actualites/voirie",               # not a social-media platform
    "article sur laprovence.com/faits-divers",
    "#Marseille #Noailles sous l'eau",
    "fox.com/news en direct",                                     # "x.com/" inside another domain
    "pas besoin de passer par facebook",
])
def test_when_an_at_sign_or_a_link_is_no_account_then_no_handle_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "HANDLE") == []


def test_when_a_handle_is_scrubbed_then_its_platform_stays_and_the_trace_says_which_form(pii: Scrubber) -> None:
    out = pii.scrub("Vidéo sur instagram.com/mehdi.du13, relayée par @lea_b.")
    assert out.text == "Vidéo sur instagram.com/<PSEUDO>, relayée par <PSEUDO>."
    assert PLACEHOLDERS["HANDLE"] == "<PSEUDO>"
    assert [f.detector for f in out.findings] == ["regex:handle_link", "regex:handle"]
    assert "link" in out.findings[0].reason and "mention" in out.findings[1].reason
    assert pii.scrub(out.text or "").findings == ()


# -- NIR with a wrong key -----------------------------------------------------------------------------------
def _nir(body: str, valid: bool = True) -> str:
    key = nir_key(body)
    return body + f"{key if valid else key % 97 + 1:02d}"


def _card(nir: str, sep: str = " ") -> str:
    return sep.join((nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]))


@pytest.mark.parametrize("written", [
    _nir("1850513055123", False),                                 # in one piece
    _card(_nir("2611283529024", False)),                          # grouped as on the card
    _card(_nir("143042A640922", False)),                          # Corsica
    _card(_nir("1850513055123", False), "."),
    _card(_nir("1850513055123", False), "-"),
    _nir("1850513055123", False)[:13] + " " + _nir("1850513055123", False)[13:],   # the key apart
])
def test_when_a_nir_key_is_wrong_then_it_is_masked_as_a_mistyped_nir(pii: Scrubber, written: str) -> None:
    found = [f for f in pii.find(f"carte vitale n° {written}.") if f.entity == "NIR"]
    assert [f"carte vitale n° {written}."[f.start:f.end] for f in found] == [written]
    assert found[0].reason.startswith("NIR shape, key") and "mistyped" in found[0].reason
    assert nir_reason(written) is None and nir_typo_reason(written) is not None


@pytest.mark.parametrize("text", [
    "compte 1850 5130 5512 347 à vérifier",                       # 15 digits in fours: an account number
    "numéro de dossier 2025 0412 3456 789",
    "SIRET 123 456 789 00012",
    "scellé 000123456789012",
    "référence 5 85 05 13 055 123 46",                            # sex digit 5: no NIR
    "référence 1 85 13 13 055 123 46",                            # month 13: no NIR
    "référence 1 85 05 00 055 123 46",                            # département 00: no NIR
])
def test_when_digits_only_look_like_a_nir_then_no_nir_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "NIR") == []


def test_when_a_nir_key_checks_then_its_reason_is_unchanged() -> None:
    nir = _nir("1850513055123")
    assert nir_typo_reason(nir) is None and nir_reason(nir) == f"NIR key {nir[13:]} = 97 - (n mod 97)"


# -- phones -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, phone", [
    ("joignable au (+33) 6 12 34 56 78 en journée", "(+33) 6 12 34 56 78"),
    ("appel de (+33)6 12 98 76 54 signalant", "(+33)6 12 98 76 54"),
    ("son numéro : (+33) 06 12 34 56 78.", "(+33) 06 12 34 56 78"),     # the 0 kept after the country code
    ("tél. 6 12 34 56 78", "6 12 34 56 78"),                             # the 0 dropped
    ("portable du gérant : 7 55 12 34 56, ouvert", "7 55 12 34 56"),
    ("rappeler le 06 12 34 5678", "06 12 34 5678"),                      # the last pairs glued
    ("numéro laissé : 07 81 22 4590.", "07 81 22 4590"),
    ("le témoin a donné le 06 12 345678", "06 12 345678"),
    ("Tel : +336 12 34 56 78 (messagerie)", "+336 12 34 56 78"),
])
def test_when_a_phone_is_written_another_way_then_it_is_found(pii: Scrubber, text: str, phone: str) -> None:
    assert spans(pii, text, "PHONE") == [phone]


@pytest.mark.parametrize("text", [
    "compte 08 2853 8040 à effacer",                              # glued then spaced: an account number
    "n° 612345678 du procès-verbal",                             # nine digits in one piece
    "les lignes 1, 12, 34, 56 et 78 sont perturbées",
    "le bus 6 est passé à 12h34 puis à 12h56",
    "NIR 1 85 05 13 055 123 46",                                  # a NIR, spaced like a phone at its start
    "score 3 à 1",
    "fixe 4 91 55 12 34",                                         # a landline's nine digits alone: not taken
])
def test_when_digits_are_not_a_phone_then_no_phone_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "PHONE") == []


@pytest.mark.parametrize("raw, ok", [("06 12 34 5678", True), ("06 12 345678", True), ("6 12 34 56 78", True),
                                     ("(+33) 6 12 34 56 78", True), ("+33 06 12 34 56 78", True),
                                     ("08 2853 8040", False), ("0612 34 56 78", True), ("06 1234 56 78", False),
                                     ("0 12 34 56 78", False), ("4 91 55 12 34", False)])
def test_when_a_phone_is_checked_then_separators_may_end_glued_never_start_so(raw: str, ok: bool) -> None:
    assert (phone_reason(raw) is not None) is ok


# -- IBAN broken across lines -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, iban", [
    ("IBAN : FR92 5260 1815 9083\n0166 1318 609\nau nom du demandeur", "FR92 5260 1815 9083\n0166 1318 609"),
    ("RIB :\nFR82 1390 9960 3082 4628\r\n1948 219\nMerci", "FR82 1390 9960 3082 4628\r\n1948 219"),
    ("IBAN FR6793518190937865\n797543231 (copie)", "FR6793518190937865\n797543231"),
    ("compte DE24 0268 5995\n  2890 7866 66, frais", "DE24 0268 5995\n  2890 7866 66"),
])
def test_when_an_iban_is_broken_across_lines_then_it_is_found_whole(pii: Scrubber, text: str, iban: str) -> None:
    assert spans(pii, text, "IBAN") == [iban]


@pytest.mark.parametrize("text", [
    "IBAN erroné FR93 5260 1815 9083\n0166 1318 609, à corriger",        # wrong checksum
    "Référence : RG 2025 0412\n3456 7890",
])
def test_when_a_broken_line_holds_no_valid_iban_then_no_iban_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "IBAN") == []


# -- dates of birth -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, date", [
    ("Mis en cause : né le 1990-06-12, sans domicile fixe", "1990-06-12"),
    ("DDN : 2001-11-23", "2001-11-23"),
    ("date de naissance : 1978/04/02", "1978/04/02"),
    ("victime née le 1990.06.12", "1990.06.12"),
    ("née le 3 mars mille neuf cent quatre-vingt-sept", "3 mars mille neuf cent quatre-vingt-sept"),
    ("né le douze juin mil neuf cent soixante-dix à Oran", "douze juin mil neuf cent soixante-dix"),
    ("né le douze juin dix-neuf cent quatre-vingt-dix", "douze juin dix-neuf cent quatre-vingt-dix"),
    ("née le vingt et un mars mille-neuf-cent-quatre-vingt-dix-neuf",
     "vingt et un mars mille-neuf-cent-quatre-vingt-dix-neuf"),
    ("le mineur, né en deux mille huit, remis à sa mère", "deux mille huit"),
    ("né en mille neuf cent soixante-quinze", "mille neuf cent soixante-quinze"),
    ("né le 14 juillet deux mille trois", "14 juillet deux mille trois"),
])
def test_when_a_birth_date_is_iso_or_has_its_year_in_words_then_it_is_found(pii: Scrubber, text: str,
                                                                            date: str) -> None:
    assert spans(pii, text, "BIRTH_DATE") == [date]


@pytest.mark.parametrize("text, date", [
    ("Identité : BENALI Karim, 13/05/1950, demeurant 12 rue de Rome", "13/05/1950"),
    ("Victime : Mme Sophie MARTIN (03/04/1975), blessée", "03/04/1975"),
    ("Témoin : M. Thomas GIRARD - 15.09.1964 - employé", "15.09.1964"),
    ("Requérant : Julien FABRE (29 février 1980), aux Chartreux", "29 février 1980"),
    ("Conducteur : Nicolas LAMBERT, 1988-10-30, permis suspendu", "1988-10-30"),
    ("Mise en cause : Inès CHERIF, 11/12/87, connue des services", "11/12/87"),
    ("individu : karim benali, 2 février 1999, sdf", "2 février 1999"),
])
def test_when_a_full_date_stands_next_to_a_name_then_it_is_a_birth_date(pii: Scrubber, text: str, date: str) -> None:
    found = [f for f in pii.find(text) if f.entity == "BIRTH_DATE"]
    assert [text[f.start:f.end] for f in found] == [date]
    assert "right after a person's name" in found[0].reason


@pytest.mark.parametrize("text", [
    "M. Karim BENALI, le 12/03/2025, a déclaré avoir été bousculé",      # an article: the date of an event
    "Plainte de Mme Sophie MARTIN, 12/03/2025 à 14h30, pour vol",         # a time: the date of an event
    "Le 12 juin 2024, les faits se sont produits devant le bar",          # no person
    "Intervention du 1990-06-12 au domicile",
    "Rapport rédigé en deux mille vingt-cinq par l'agent",
    "M. Karim BENALI, 12 juin, a déclaré",                                # no year: not a full date
])
def test_when_a_date_is_not_a_birth_then_no_birth_date_is_found(pii: Scrubber, text: str) -> None:
    assert spans(pii, text, "BIRTH_DATE") == []


def test_when_the_name_before_a_date_was_scrubbed_then_the_date_is_scrubbed_alike(pii: Scrubber) -> None:
    assert spans(pii, "Identité : <PERSONNE>, 13/05/1950, demeurant", "BIRTH_DATE") == ["13/05/1950"]
    out = pii.scrub("Identité : BENALI Karim, 13/05/1950, demeurant")
    assert out.text == "Identité : <PERSONNE>, <DATE_NAISSANCE>, demeurant"
    assert pii.scrub(out.text or "").findings == ()


# -- invisible characters and emoji -------------------------------------------------------------------------
@pytest.mark.parametrize("text, entity, value", [
    (f"Rixe, M. Ka{ZW}rim BEN{ZW}ALI blessé", "PERSON", f"Ka{ZW}rim BEN{ZW}ALI"),
    ("Mme Sophie MAR\u200dTIN, témoin", "PERSON", "Sophie MAR\u200dTIN"),
    ("Mis en cause : HAD\u00adDAD Mehdi", "PERSON", "HAD\u00adDAD Mehdi"),
    ("trop bien la soirée avec Ka😊rim BENALI", "PERSON", "Ka😊rim BENALI"),
    ("merci à Sophie❤️MARTIN", "PERSON", "Sophie❤️MARTIN"),
    (f"tél. 06{ZW}12 34 56 78", "PHONE", f"06{ZW}12 34 56 78"),
    ("appelez le 06 12 34 😀56 78", "PHONE", "06 12 34 😀56 78"),
    (f"son numéro 07{ZW}55{ZW}21{ZW}43{ZW}09", "PHONE", f"07{ZW}55{ZW}21{ZW}43{ZW}09"),
    ("véhicule AB-1\u206023-CD", "PLATE", "AB-1\u206023-CD"),
    ("scooter GT-8🔥52-YY volé", "PLATE", "GT-8🔥52-YY"),
    ("la voiture de1🚗23et est garée", "PLATE", "de1🚗23et"),
    (f"courriel karim.{ZW}benali@gmail.com.", "EMAIL", f"karim.{ZW}benali@gmail.com"),
    (f"insta @lea_{ZW}martin svp", "HANDLE", f"@lea_{ZW}martin"),
    (f"né le 12/06/{ZW}1990", "BIRTH_DATE", f"12/06/{ZW}1990"),
    (f"carte vitale {_card(_nir('1850513055123'))[:9]}{ZW}{_card(_nir('1850513055123'))[9:]}",
     "NIR", f"{_card(_nir('1850513055123'))[:9]}{ZW}{_card(_nir('1850513055123'))[9:]}"),
])
def test_when_an_invisible_character_or_emoji_is_inside_a_value_then_the_whole_value_is_found(
        pii: Scrubber, text: str, entity: str, value: str) -> None:
    found = [f for f in pii.find(text) if f.entity == entity]
    assert [text[f.start:f.end] for f in found] == [value]     # offsets in the original text, what hid inside included
    once = pii.scrub(text)
    assert pii.scrub(once.text or "").text == once.text


@pytest.mark.parametrize("text, normalised", [
    (f"Ka{ZW}rim", "Karim"),
    ("merci😀Karim", "merci Karim"),            # an emoji between a word and a capital: a space
    ("Karim😊 BENALI", "Karim BENALI"),
    (f"x{ZW} y", "x y"),
    ("<PERSONNE>😡 a frappé", "<PERSONNE> a frappé"),
    ("chien 😢 appelez", None),                  # an emoji between spaces hides nothing: left
    ("Rien à signaler.", None),
])
def test_when_a_text_is_normalised_then_only_what_hides_a_value_goes(text: str, normalised: str | None) -> None:
    n = normalise(text)
    assert (n.text if n else None) == normalised
    if n:
        for i, c in enumerate(n.text):
            assert c == " " or text[n.original(i)] == c


# -- long texts ---------------------------------------------------------------------------------------------
def test_when_a_text_is_longer_than_spacy_allows_then_the_batch_is_scrubbed(pii: Scrubber) -> None:
    sentence = "Rien à signaler sur le secteur, patrouille de routine sans incident. "
    text = sentence * (1_000_000 // len(sentence) + 1) + "Merci à Séfora pour son aide, tél. 06 12 34 56 78."
    assert len(text) > 1_000_000
    out = pii.scrub_many([text, "Rixe, M. Karim BENALI blessé."])
    assert out[0].text is not None and out[0].text.endswith("tél. <TELEPHONE>.")
    assert out[1].text == "Rixe, M. <PERSONNE> blessé."


def test_when_a_window_is_longer_than_the_model_allows_then_it_is_cut(pii: Scrubber,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pii._nlp, "max_length", 300)             # spaCy raises over this length (E088)
    text = "Merci à Séfora et à Wiame pour leur aide " * 40         # one sentence of 1,640 characters
    found = pii.find(text)
    assert len(text) > 1000 and len([f for f in found if f.entity == "PERSON"]) >= 40


@pytest.mark.parametrize("text, sentences, limit, pieces", [
    ("aaaa bbbb cccc", [(0, 14)], 100, [(0, 14)]),
    ("aaaa. bbbb. cccc.", [(0, 6), (6, 12), (12, 17)], 12, [(0, 12), (12, 17)]),   # sentences joined up to the limit
    ("aaaa bbbb cccc dddd", [(0, 19)], 10, [(0, 9), (9, 19)]),                       # cut at a space
    ("aaaa\nbbbb cccc dddd", [(0, 19)], 12, [(0, 4), (4, 14), (14, 19)]),           # at a line break first
    ("abcdefghijkl", [(0, 12)], 5, [(0, 5), (5, 10), (10, 12)]),                     # no space: cut anyway
])
def test_when_windows_are_made_then_none_is_over_the_limit(text: str, sentences: list[tuple[int, int]], limit: int,
                                                            pieces: list[tuple[int, int]]) -> None:
    out = _pieces(text, sentences, limit)
    assert out == pieces and all(e - s <= limit for s, e in out)
    assert out[0][0] == sentences[0][0] and out[-1][1] == sentences[-1][1]
    assert all(a[1] == b[0] for a, b in zip(out, out[1:]))


# -- overlaps, and offsets through redaction ----------------------------------------------------------------
def _quadratic_resolve(findings: Iterable[Finding], text: str | None = None) -> list[Finding]:
    """The overlap resolution as it was before it was made O(n log n): every finding against every one kept."""
    def minus(s: int, e: int, cs: int, ce: int) -> list[tuple[int, int]]:
        if ce <= s or e <= cs:
            return [(s, e)]
        return [(a, b) for a, b in ((s, cs), (ce, e)) if b > a]

    chosen: list[Finding] = []
    key = (lambda f: (-(f.end - f.start), -f.score, f.start, f.entity, f.detector, f.reason))
    for f in sorted(set(findings), key=key):
        hits = [c for c in chosen if c.start < f.end and f.start < c.end]
        if not hits:
            chosen.append(f)
            continue
        pieces = [(f.start, f.end)]
        for c in hits:
            pieces = [p for s, e in pieces for p in minus(s, e, c.start, c.end)]
        for s, e in pieces:
            if text is not None:
                while s < e and not text[s].isalnum():
                    s += 1
                while e > s and not text[e - 1].isalnum():
                    e -= 1
            if e > s:
                chosen.append(Finding(f.entity, s, e, f.score, f.detector,
                                      f"{f.reason} (part left by a longer finding)"))
    return sorted(chosen, key=lambda f: f.start)


@pytest.mark.parametrize("seed", range(8))
def test_when_overlaps_are_resolved_then_the_result_is_the_quadratic_algorithms(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        n = rng.randrange(1, 80)
        text = "".join(rng.choice("ab1 ,.-é") for _ in range(n))
        findings = []
        for _ in range(rng.randrange(1, 50)):
            s = rng.randrange(n)
            e = rng.randrange(s + 1, n + 1)
            findings.append(Finding(rng.choice(("PERSON", "PHONE")), s, e, rng.choice((0.5, 0.9)),
                                    rng.choice(("a", "b")), rng.choice(("r", "s"))))
        findings += rng.sample(findings, k=rng.randrange(len(findings) + 1))   # repeats
        by_priority = sorted(set(findings), key=_priority)
        for t in (None, text):
            expected = _quadratic_resolve(findings, t)
            assert resolve_overlaps(findings, t) == expected
            # both ways, whatever the number of findings (a few are compared directly, more in O(n log n))
            assert sorted(_resolve_many(by_priority, t), key=lambda f: f.start) == expected
            assert sorted(_resolve_few(by_priority, t), key=lambda f: f.start) == expected


def test_when_a_finding_covers_nothing_then_it_is_dropped() -> None:
    kept = Finding("PHONE", 0, 10, 0.9, "a", "r")
    empty, backwards = Finding("PERSON", 12, 12, 0.9, "b", "s"), Finding("PERSON", 8, 3, 0.9, "b", "s")
    assert resolve_overlaps([kept, empty, backwards]) == resolve_overlaps([kept, kept, backwards]) == [kept]
    assert resolve_overlaps([empty]) == []


def test_when_offsets_cross_a_redaction_then_they_land_where_the_linear_walk_put_them() -> None:
    rng = random.Random(5)
    for _ in range(200):
        n = rng.randrange(5, 120)
        text = "x" * n
        cuts = sorted(rng.sample(range(n + 1), k=2 * rng.randrange(0, n // 4 + 1)))
        found = [Finding("PERSON", a, b, 0.9, "d", "r") for a, b in zip(cuts[::2], cuts[1::2]) if b > a]
        red = _Redacted.of(text, found)
        for o in range(n + 1):
            shift = 0
            for rs, re_, os_, oe in red.spans:    # the linear walk the bisection replaced
                if o >= oe:
                    shift = re_ - oe
                elif o > os_:
                    shift = rs - o
                    break
                else:
                    break
            assert red.to_redacted(o) == o + shift
        for o in range(len(red.text) + 1):
            shift = 0
            for rs, re_, os_, oe in red.spans:
                if o >= re_:
                    shift = oe - re_
                elif o > rs:
                    shift = os_ - o
                    break
                else:
                    break
            assert red.to_original(o) == o + shift
