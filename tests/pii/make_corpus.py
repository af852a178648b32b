"""Writes ``tests/data/pii_corpus.jsonl``: a labelled French corpus for the PII scrubber.

Seeded and deterministic: ``python tests/pii/make_corpus.py`` rewrites the same
file byte for byte. Three genres (police logbook entries, municipal notes,
public social-media posts), phrased independently of the simulator's
templates, with personal data of nine types written the many ways people
write them, and decoys that are *not* personal data (non-birth dates, times
like "23h15", street and place names made of persons' names, IBANs with a
wrong check key, incident words such as "Rixe" or "Vol"). A NIR with a wrong
key is a person's number mistyped: it is labelled a NIR. The last
``N_HANDLE_TEXTS`` texts are social-media posts naming accounts ("@lea_b13",
"instagram.com/karim.b"), drawn after the others so that adding them left the
first ``N_TEXTS`` as they were.

Each line: ``{"id", "genre", "text", "spans": [{"start", "end", "entity"}]}``.
A person's span covers the name only, never the title ("M.", "Mme").
The name lists below are this file's own: about one name in six is absent
from the scrubber's gazetteers, so that the other rules and the NER model are
measured too.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

SEED = 20251129
N_TEXTS = 1500
N_HANDLE_TEXTS = 120
OUT = Path(__file__).resolve().parents[1] / "data" / "pii_corpus.jsonl"

FIRST_F = ("Nadia", "Sophie", "Camille", "Inès", "Yasmine", "Fatoumata", "Chloé", "Léa", "Amel", "Rania", "Manon",
           "Samia", "Aurélie", "Giulia", "Carmen", "Anahit", "Linh", "Oksana", "Nour", "Maëlys", "Sabrina", "Josette",
           "Héloïse", "Aïcha", "Kenza", "Maryam", "Lucie", "Émilie", "Valérie", "Hawa", "Soraya", "Rose", "Jeanne",
           "Zineb", "Awa", "Mireille", "Dounia", "Ophélie", "Nathalie", "Bintou",
           # absent from the scrubber's gazetteer on purpose
           "Maïwenn", "Oumayma", "Tsiory", "Séfora", "Wiame", "Rayhana", "Nélia", "Ysoline", "Alienor", "Thyméa")
FIRST_M = ("Karim", "Thomas", "Mehdi", "Julien", "Moussa", "Nicolas", "Sofiane", "Kevin", "Rachid", "Antoine",
           "Yanis", "Mamadou", "Giovanni", "Jordan", "Bilal", "Hugo", "Vartan", "Minh", "Dimitri", "Ousmane",
           "Marius", "Christophe", "Farid", "Lucas", "Ilyes", "Enzo", "Samir", "Ludovic", "Hamza", "Pierre",
           "Jean-Marc", "Ayoub", "Patrick", "Rayan", "Tarik", "Sébastien", "Ibrahima", "Anis", "Gaëtan", "Walid",
           # absent from the scrubber's gazetteer on purpose
           "Kenan", "Lyès", "Tsanta", "Evrard", "Anouar", "Ilario", "Mathys", "Ylan", "Gwendal", "Ruslan")
SURNAMES = ("Benali", "Martin", "Haddad", "Nguyen", "Diallo", "Rossi", "Fernandes", "Girard", "Bouzid", "Lambert",
            "Mansouri", "Traoré", "Petrossian", "Garcia", "Cherif", "Moreau", "Bensaïd", "Esposito", "Lopez",
            "Dupuis",
            "Touré", "Rahmani", "Kasparian", "Leroy", "Fabre", "Ndiaye", "Belkacem", "Da Silva", "Ben Amor",
            "Ait Ouali", "Le Gall", "Mohamed Said", "Colombani", "Zerbib", "Kowalski", "Ivanova", "Pham", "Sow",
            "Bernard", "Roux", "Dubois", "Chevalier", "Blanc", "Amrani", "Ouali", "Sissoko", "Marino", "Rey",
            # absent from the scrubber's gazetteer on purpose
            "Bouchareb", "Tchoumba", "Vaillancourt", "Rakotomalala", "Ghezzal", "Pétrucci", "Andriamasy",
            "Kerjean", "Moussaoui", "Dellacasa", "Ferhani", "Lemarchal", "Abdelkefi", "Ouazzani", "Strzelecki")
STREETS = ("rue de la Loge", "boulevard Baille", "avenue des Chutes-Lavie", "rue Sainte-Cécile", "boulevard Sakakini",
           "rue Consolat", "avenue Jules Cantini", "boulevard de la Libération", "chemin de Château-Gombert",
           "traverse du Moulin de la Villette", "impasse des Peupliers", "montée des Accoules", "rue Jean Roque",
           "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gustave Ganay", "bd Vauban", "av. de la Corse",
           "allée Léon Gambetta", "place Jean Jaurès", "cours Lieutaud", "rue d'Aubagne", "quai de Rive-Neuve",
           "chemin de l'Argile", "rue Paul Bert", "boulevard Françoise Duparc", "rue du Docteur Escat",
           "avenue Joseph Vidal", "rue Émile Zola", "rue Sénac de Meilhan", "avenue de la Rose", "route des Camoins")
CITIES = (("13001", "Marseille"), ("13004", "Marseille"), ("13005", "Marseille"), ("13006", "Marseille"),
          ("13009", "Marseille"), ("13013", "Marseille"), ("13014", "Marseille"), ("13400", "Aubagne"),
          ("13127", "Vitrolles"), ("83000", "Toulon"), ("13090", "Aix-en-Provence"), ("13600", "La Ciotat"))
PLACES = ("à la Belle de Mai", "aux Chartreux", "à Noailles", "au Panier", "devant le Vélodrome", "à la Joliette",
          "vers Castellane", "à la Plaine", "au Vieux-Port", "à Saint-Just", "à la Timone", "sur la Canebière",
          "aux Goudes", "à Bonneveine", "près de la gare Saint-Charles", "au parc Borély", "à l'Estaque",
          "devant le lycée Victor Hugo", "à la station Jean Jaurès", "à la sortie du métro Castellane")
INCIDENTS = ("une rixe entre plusieurs jeunes", "un vol à l'arraché", "un tapage nocturne",
             "des dégradations sur un "
             "abribus", "un cambriolage", "une agression", "un accident entre un scooter et une voiture",
             "un individu menaçant des passants", "un feu de poubelles", "un dépôt sauvage d'encombrants",
             "une dispute de voisinage", "un vol de vélo", "un rodéo urbain")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
DAY_WORDS = ("premier", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze",
             "treize", "quatorze", "quinze", "seize", "dix-sept", "dix-huit", "dix-neuf", "vingt", "vingt et un",
             "vingt-deux", "vingt-trois", "vingt-quatre", "vingt-cinq", "vingt-six", "vingt-sept", "vingt-huit")
SIV = "ABCDEFGHJKLMNPQRSTVWXYZ"
EMAIL_DOMAINS = ("gmail.com", "yahoo.fr", "orange.fr", "free.fr", "hotmail.com", "laposte.net", "outlook.fr")


class Text:
    """A text under construction, with the spans of the personal data put in it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[dict] = []
        self.n = 0

    def add(self, s: str) -> Text:
        self.parts.append(s)
        self.n += len(s)
        return self

    def pii(self, s: str, entity: str) -> Text:
        self.spans.append({"start": self.n, "end": self.n + len(s), "entity": entity})
        return self.add(s)

    def done(self, lower: bool = False) -> tuple[str, list[dict]]:
        text = "".join(self.parts)
        if lower:
            assert len(text.lower()) == len(text)
            text = text.lower()
        return text, self.spans


class Gen:
    def __init__(self, rnd: random.Random) -> None:
        self.r = rnd

    def pick(self, seq):  # noqa: ANN001, ANN201
        return seq[self.r.randrange(len(seq))]

    # -- personal data --------------------------------------------------------------------
    def person(self) -> tuple[str, str, str]:
        sex = self.pick("FM")
        return self.pick(FIRST_F if sex == "F" else FIRST_M), self.pick(SURNAMES), sex

    def name(self, first: str, last: str, style: str | None = None) -> str:
        style = style or self.pick(("Prénom NOM", "Prénom NOM", "NOM Prénom", "NOM Prénom", "Prénom Nom",
                                    "prénom nom", "NOM PRÉNOM"))
        return {"Prénom NOM": f"{first} {last.upper()}", "NOM Prénom": f"{last.upper()} {first}",
                "Prénom Nom": f"{first} {last}", "prénom nom": f"{first.lower()} {last.lower()}",
                "NOM PRÉNOM": f"{last.upper()} {first.upper()}"}[style]

    def title(self, sex: str) -> str:
        return self.pick(("Mme", "Madame", "Mme")) if sex == "F" else self.pick(("M.", "Monsieur", "M."))

    def phone(self) -> str:
        lead = self.pick("6667749")
        pairs = [f"{self.r.randrange(100):02d}" for _ in range(4)]
        return self.pick((f"0{lead} {' '.join(pairs)}", f"0{lead}.{'.'.join(pairs)}", f"0{lead}{''.join(pairs)}",
                          f"+33 {lead} {' '.join(pairs)}", f"+33 (0){lead} {' '.join(pairs)}",
                          f"+33{lead}{''.join(pairs)}", f"0{lead}-{'-'.join(pairs)}", f"0033 {lead} {' '.join(pairs)}"))

    def siv(self) -> str:
        a, b = self.pick(SIV) + self.pick(SIV), self.pick(SIV) + self.pick(SIV)
        num = f"{self.r.randrange(1, 1000):03d}"
        form = self.pick((f"{a}-{num}-{b}", f"{a}-{num}-{b}", f"{a} {num} {b}", f"{a}{num}{b}",
                          f"{a.lower()}-{num}-{b.lower()}", f"{a} - {num} - {b}"))
        return form

    def fni(self) -> str:
        letters = "".join(self.pick(SIV) for _ in range(self.pick((2, 3))))
        dept = self.pick(("13", "13", "83", "84", "06", "75", "2A", "69"))
        return f"{self.r.randrange(1, 1000 if len(letters) == 3 else 10000)} {letters} {dept}"

    def plate(self) -> str:
        return self.fni() if self.r.random() < 0.2 else self.siv()

    def nir(self, valid: bool = True) -> str:
        sex = self.pick("12")
        yy, mm = f"{self.r.randrange(100):02d}", f"{self.r.randrange(1, 13):02d}"
        dept = self.pick(("13", "13", "83", "75", "2A", "2B", "69", "99"))
        commune, order = f"{self.r.randrange(1, 990):03d}", f"{self.r.randrange(1, 1000):03d}"
        body = sex + yy + mm + dept + commune + order
        n = int(body.replace("2A", "19").replace("2B", "18"))
        key = 97 - n % 97
        if not valid:
            key = key - 1 if key > 1 else key + 1
        parts = [sex, yy, mm, dept, commune, order, f"{key:02d}"]
        return " ".join(parts) if self.r.random() < 0.7 else "".join(parts)

    def iban(self, valid: bool = True) -> str:
        country, length = self.pick((("FR", 23), ("FR", 23), ("FR", 23), ("BE", 12), ("DE", 18), ("ES", 20)))
        bban = "".join(str(self.r.randrange(10)) for _ in range(length))
        num = "".join(str(int(c, 36)) for c in bban + country + "00")
        check = 98 - int(num) % 97
        if not valid:
            check = check + 1 if check < 98 else check - 1
        iban = f"{country}{check:02d}{bban}"
        if self.r.random() < 0.75:
            return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        return iban

    def email(self, first: str, last: str) -> str:
        def slug(s: str) -> str:
            import unicodedata
            return "".join(c for c in unicodedata.normalize("NFKD", s.lower()) if c.isalnum())
        return (f"{slug(first)}{self.pick(('.', '_', '', '-'))}{slug(last)}{self.pick(('', '13', '84', '2000'))}"
                f"@{self.pick(EMAIL_DOMAINS)}")

    def handle(self, first: str, last: str) -> str:
        """An account name made of a person's name, as people make them ("karim_b13", "lea.martin")."""
        def slug(s: str) -> str:
            import unicodedata
            return "".join(c for c in unicodedata.normalize("NFKD", s.lower()) if c.isalnum())
        a, b = slug(first), slug(last)
        return self.pick((f"{a}_{b}", f"{a}.{b}", f"{a}{b[:1]}{self.r.randrange(10, 99)}", f"{b}.{a}",
                          f"{a}_du{self.pick(('13', '83', '84'))}", f"{a.capitalize()}{b.capitalize()}",
                          f"{a}__{b[:3]}", f"the_{a}"))

    def address(self, with_city: float = 0.6) -> str:
        num = f"{self.r.randrange(1, 240)}{self.pick(('', '', '', '', ' bis', ' ter', 'B'))}"
        street = self.pick(STREETS)
        out = f"{num} {street}" if self.r.random() < 0.85 else f"{num}, {street}"
        if self.r.random() < with_city:
            cp, city = self.pick(CITIES)
            out += self.pick((f", {cp} {city}", f" {cp} {city}", f", {cp} {city.upper()}"))
        return out

    def dob(self) -> tuple[str, str]:
        """(context words, date)."""
        y, m, d = self.r.randrange(1935, 2011), self.r.randrange(1, 13), self.r.randrange(1, 29)
        date = self.pick((f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d:02d}-{m:02d}-{y}",
                          f"{'1er' if d == 1 else d} {MONTHS[m - 1]} {y}", f"{DAY_WORDS[d - 1]} {MONTHS[m - 1]} {y}"))
        ctx = self.pick(("né le ", "née le ", "né(e) le ", "date de naissance : ", "DDN ", "DDN : ",
                         "D.N. ", "né à Toulon le ", "née à Alger le "))
        if self.r.random() < 0.1:
            date, ctx = f"{y}", self.pick(("né en ", "née en ", "né(e) en "))
        return ctx, date

    def non_birth_date(self) -> str:
        d, m = self.r.randrange(1, 29), self.r.randrange(1, 13)
        return self.pick((f"le {d:02d}/{m:02d}/2025", f"le {d} {MONTHS[m - 1]} 2025", f"vers {self.r.randrange(24)}h"
                          f"{self.r.randrange(60):02d}", f"à {self.r.randrange(24)}h{self.r.randrange(60):02d}",
                          f"depuis le {d} {MONTHS[m - 1]}", f"PV n° 2025-{self.r.randrange(10000):05d}"))


# -- genres -------------------------------------------------------------------------------
def logbook(g: Gen) -> tuple[str, list[dict]]:
    t = Text()
    first, last, sex = g.person()
    kind = g.r.randrange(8)
    if kind == 0:
        t.add(f"{g.pick(('À', 'Vers'))} {g.r.randrange(24)}h{g.r.randrange(60):02d}, l'équipage est dépêché "
              f"{g.pick(PLACES)} suite à {g.pick(INCIDENTS)}. Sur place, ")
        t.add(g.pick(("la victime, ", "le témoin, ", "le requérant, "))).pii(g.name(first, last), "PERSON")
        ctx, date = g.dob()
        t.add(f", {ctx}").pii(date, "BIRTH_DATE").add(", déclare avoir été bousculée. ")
        if g.r.random() < 0.6:
            t.add(g.pick(("Joignable au ", "Tél. ", "Portable : ", "Numéro : ", ""))).pii(g.phone(), "PHONE").add(".")
    elif kind == 1:
        t.add(f"Intervention {g.pick(PLACES)} pour {g.pick(INCIDENTS)}. Individu interpellé : ")
        t.pii(g.name(first, last), "PERSON").add(", ")
        ctx, date = g.dob()
        t.add(ctx).pii(date, "BIRTH_DATE").add(", domicilié ").pii(g.address(), "ADDRESS")
        t.add(". Conduit au commissariat. " + g.pick(("Rixe signalée au préalable par la RTM.", "RAS par ailleurs.",
                                                      "PV transmis à l'OPJ.", "")))
    elif kind == 2:
        t.add(f"Signalement téléphonique de {g.title(sex)} ").pii(g.name(first, last), "PERSON")
        t.add(" (").pii(g.phone(), "PHONE").add(f") concernant {g.pick(INCIDENTS)} {g.pick(PLACES)} "
                                                f"{g.non_birth_date()}.")
    elif kind == 3:
        t.add("Véhicule ").pii(g.plate(), "PLATE").add(f" stationné {g.pick(PLACES)} depuis plusieurs jours. "
                                                        "Propriétaire identifié : ")
        t.pii(g.name(first, last), "PERSON").add(", ").pii(g.address(), "ADDRESS").add(". Mise en fourrière.")
    elif kind == 4:
        t.add("Contrôle routier : véhicule immatriculé ").pii(g.plate(), "PLATE").add(", conducteur ")
        t.pii(g.name(first, last), "PERSON")
        ctx, date = g.dob()
        t.add(f" ({ctx}").pii(date, "BIRTH_DATE")
        t.add(f"), défaut d'assurance. Contrôle effectué {g.non_birth_date()}.")
    elif kind == 5:
        t.add("Objet trouvé remis au poste : portefeuille au nom de ").pii(g.name(first, last), "PERSON")
        t.add(" contenant une carte vitale n° ").pii(g.nir(), "NIR")
        if g.r.random() < 0.7:
            t.add(" et un RIB ").pii(g.iban(), "IBAN")
        t.add(". Propriétaire avisé" + g.pick((" par téléphone.", " au ")))
        if t.parts[-1].endswith(" au "):
            t.pii(g.phone(), "PHONE").add(".")
    elif kind == 6:
        f2, l2, s2 = g.person()
        t.add(f"{g.pick(('Tapage', 'Rixe', 'Vol', 'Bagarre'))} {g.pick(PLACES)}. Mis en cause : {g.title(sex)} ")
        t.pii(last.upper() if g.r.random() < 0.5 else last, "PERSON").add(". Plaignante : ")
        t.pii(g.name(f2, l2), "PERSON").add(", ").pii(g.email(f2, l2), "EMAIL").add(".")
    else:
        t.add(f"Accident matériel {g.pick(PLACES)} {g.non_birth_date()} entre le véhicule ").pii(g.plate(), "PLATE")
        t.add(" et le véhicule ").pii(g.plate(), "PLATE").add(". Conducteur : ").pii(g.name(first, last), "PERSON")
        t.add(", tél ").pii(g.phone(), "PHONE").add(". Constat amiable rempli.")
    return t.done(lower=g.r.random() < 0.08)


def municipal(g: Gen) -> tuple[str, list[dict]]:
    t = Text()
    first, last, sex = g.person()
    kind = g.r.randrange(7)
    if kind == 0:
        t.add(f"Note de service : {g.pick(INCIDENTS)} {g.pick(PLACES)}, signalé par ")
        t.pii(g.name(first, last), "PERSON")
        t.add(", ").pii(g.phone(), "PHONE").add(". Services techniques avisés.")
    elif kind == 1:
        t.add("Réclamation de ").pii(g.name(first, last), "PERSON").add(" (").pii(g.email(first, last), "EMAIL")
        t.add(f") au sujet du bruit {g.pick(PLACES)} {g.non_birth_date()}.")
    elif kind == 2:
        t.add("Le service propreté est intervenu au ").pii(g.address(), "ADDRESS")
        t.add(f" à la demande du gardien, {g.title(sex)} ").pii(last, "PERSON").add(".")
    elif kind == 3:
        t.add("Demande de remboursement de fourrière : IBAN ").pii(g.iban(), "IBAN").add(" au nom de ")
        t.pii(g.name(first, last), "PERSON").add(". Pièce justificative : facture du ")
        t.add(g.non_birth_date().replace("le ", "") + ".")
    elif kind == 4:
        t.add("Dossier administratif de ").pii(g.name(first, last), "PERSON").add(", NIR ").pii(g.nir(), "NIR")
        ctx, date = g.dob()
        t.add(f", {ctx}").pii(date, "BIRTH_DATE").add(". Numéro de dossier 2025-").add(f"{g.r.randrange(10**6):06d}.")
    elif kind == 5:
        t.add(f"Arrêté de stationnement {g.pick(STREETS)} du {g.r.randrange(1, 29)} au {g.r.randrange(1, 29)} "
              f"{g.pick(MONTHS)} pour déménagement. Demandeur : ").pii(g.name(first, last), "PERSON").add(", ")
        t.pii(g.address(with_city=0.9), "ADDRESS").add(", ").pii(g.phone(), "PHONE").add(".")
    else:
        t.add(f"Rapport de l'opérateur vidéo : {g.pick(INCIDENTS)} {g.pick(PLACES)} vers "
              f"{g.r.randrange(24)}h{g.r.randrange(60):02d}. ")
        t.add("Le scooter ").pii(g.siv(), "PLATE").add(" a pris la fuite. Pas de suite.")
    return t.done(lower=g.r.random() < 0.05)


def social(g: Gen) -> tuple[str, list[dict]]:
    t = Text()
    first, last, sex = g.person()
    kind = g.r.randrange(10)
    if kind == 0:
        t.add("Quelqu'un connaît ").pii(g.name(first, last, g.pick(("Prénom Nom", "prénom nom", "Prénom NOM"))),
                                        "PERSON")
        t.add(f" ? il a perdu son chien {g.pick(PLACES)} 😢 appelez le ").pii(g.phone(), "PHONE")
    elif kind == 1:
        t.add("Mon scooter ").pii(g.siv(), "PLATE").add(f" a été volé cette nuit {g.pick(PLACES)} !! si vous le "
                                                          "voyez contactez moi ").pii(g.phone(), "PHONE")
    elif kind == 2:
        t.add("Merci à ").pii(first, "PERSON").add(f" qui m'a aidée après ma chute {g.pick(PLACES)} 🙏")
    elif kind == 3:
        f2, _, _ = g.person()
        t.add("trop bien la soirée avec ").pii(g.name(first, last, "prénom nom"), "PERSON").add(" et ")
        t.pii(g.name(f2, g.pick(SURNAMES), "prénom nom"), "PERSON").add(f" {g.pick(PLACES)} hier soir")
    elif kind == 4:
        t.add(f"{g.pick(('Rixe', 'Vol à l’arraché', 'Tapage', 'Bagarre'))} {g.pick(PLACES)} ce soir vers "
              f"{g.r.randrange(18, 24)}h{g.r.randrange(60):02d}, la police est là. Restez prudents !")
    elif kind == 5:
        t.pii(g.name(first, last, g.pick(("Prénom Nom", "Prénom NOM"))), "PERSON")
        t.add(" a encore garé sa voiture ").pii(g.plate(), "PLATE").add(" sur le trottoir devant chez moi 😡")
    elif kind == 6:
        t.add("Perdu ma carte vitale et mon RIB ").add(g.pick(PLACES)).add(", au nom de ")
        t.pii(g.name(first, last, "NOM Prénom"), "PERSON").add(". Si vous les trouvez écrivez à ")
        t.pii(g.email(first, last), "EMAIL")
        if g.r.random() < 0.5:
            t.add(" (IBAN du RIB : ").pii(g.iban(), "IBAN").add(", faites opposition svp)")
    elif kind == 7:
        t.add(f"Qui a des places pour samedi au Vélodrome ? Allez l'OM ! Le match est {g.non_birth_date()}.")
    elif kind == 8:
        t.add(f"Coucou c'est {g.pick(('moi', 'encore moi'))}, ").pii(first.lower() if g.r.random() < 0.3 else first,
                                                                        "PERSON")
        t.add(", je vends mon vélo, contact au ").pii(g.phone(), "PHONE").add(" ou ").pii(g.email(first, last),
                                                                                       "EMAIL")
    else:
        t.add(f"Embouteillage monstre {g.pick(('avenue du Prado', 'sur le Jarret', 'boulevard Michelet'))}, "
              f"encore des travaux {g.pick(PLACES)} depuis le {g.r.randrange(1, 29)} {g.pick(MONTHS)}")
    return t.done(lower=g.r.random() < 0.1)


def decoys(g: Gen) -> tuple[str, list[dict]]:
    """Texts whose look-alike identifiers are not personal data (wrong keys, plain numbers)."""
    t = Text()
    kind = g.r.randrange(4)
    if kind == 0:
        t.add("Référence relevée sur la carte : ").pii(g.nir(valid=False), "NIR")
        t.add(" (clé erronée, à vérifier).")
    elif kind == 1:
        t.add(f"Virement refusé : IBAN erroné {g.iban(valid=False)}, à vérifier par le service comptable.")
    elif kind == 2:
        t.add(f"Patrouille {g.pick(PLACES)} {g.non_birth_date()}, retour au calme à 23h15. Code porte 4521B.")
    else:
        t.add(f"Travaux {g.pick(STREETS)} jusqu'au {g.r.randrange(1, 29)} {g.pick(MONTHS)} 2025, ligne de bus "
              f"{g.r.randrange(1, 100)} déviée. Réunion publique à la mairie des 4e et 5e arrondissements.")
    return t.done()


def handles(g: Gen) -> tuple[str, list[dict]]:
    """Social-media posts naming accounts: mentions, profile links, "snap : name"; an "@" that is a time or
    an e-mail's is not an account."""
    t = Text()
    first, last, sex = g.person()
    account = g.handle(first, last)
    kind = g.r.randrange(8)
    if kind == 0:
        t.add(f"{g.pick(('Suivez', 'Abonnez-vous à', 'Allez voir'))} ").pii("@" + account, "HANDLE")
        t.add(f" pour les infos du quartier {g.pick(PLACES)} 👍")
    elif kind == 1:
        t.pii("@" + account, "HANDLE").add(f" t'as vu ce qui s'est passé {g.pick(PLACES)} hier soir ?? "
                                           f"{g.pick(('😱', '', '!!'))}")
    elif kind == 2:
        site = g.pick(("instagram.com/", "https://www.instagram.com/", "www.facebook.com/", "twitter.com/",
                       "https://x.com/", "https://www.tiktok.com/@", "tiktok.com/@", "youtube.com/@"))
        at = "@" if site.endswith("@") else ""
        t.add(f"{g.pick(INCIDENTS).capitalize()} {g.pick(PLACES)}, la vidéo est sur {site[:-1] if at else site}")
        t.pii(at + account, "HANDLE").add(g.pick(("", "/", "?hl=fr", " (à signaler)")))
    elif kind == 3:
        t.add(f"Mon {g.pick(('vélo', 'scooter', 'téléphone'))} a été volé {g.pick(PLACES)}, "
              f"contactez-moi en privé, {g.pick(('snap', 'insta', 'Snap', 'Insta'))}{g.pick((' : ', ': ', ' :'))}")
        t.pii(account, "HANDLE")
    elif kind == 4:
        t.add("Merci ").pii("@" + account, "HANDLE").add(" et ").pii("@" + g.handle(*g.person()[:2]), "HANDLE")
        t.add(f" d'avoir aidé la dame tombée {g.pick(PLACES)} 🙏")
    elif kind == 5:
        t.add(f"Rdv @ {g.r.randrange(17, 23)}h devant le métro pour la marche blanche, "
              f"RDV @{g.r.randrange(17, 23)}h{g.r.randrange(60):02d} {g.pick(PLACES)}.")
    elif kind == 6:
        t.add("Pour les objets trouvés écrivez à ").pii(g.email(first, last), "EMAIL")
        t.add(" ou sur insta ").pii("@" + account, "HANDLE")
    else:
        t.add("Profil du vendeur : facebook.com/").pii(f"profile.php?id=1000{g.r.randrange(10**8, 10**9)}", "HANDLE")
        t.add(", il a disparu avec l'argent.")
    return t.done(lower=g.r.random() < 0.1)


GENRES: tuple[tuple[str, Callable[[Gen], tuple[str, list[dict]]], float], ...] = (
    ("logbook", logbook, 0.45), ("municipal", municipal, 0.25), ("social", social, 0.25), ("decoy", decoys, 0.05))


def generate(n: int = N_TEXTS, seed: int = SEED) -> list[dict]:
    rnd = random.Random(seed)
    g = Gen(rnd)
    out = []
    for i in range(n):
        u, acc = rnd.random(), 0.0
        for name, fn, share in GENRES:
            acc += share
            if u < acc or name == GENRES[-1][0]:
                text, spans = fn(g)
                out.append({"id": f"pii-{i:05d}", "genre": name, "text": text, "spans": spans})
                break
    for i in range(n, n + N_HANDLE_TEXTS):
        text, spans = handles(g)
        out.append({"id": f"pii-{i:05d}", "genre": "social", "text": text, "spans": spans})
    return out


def main(path: Path = OUT) -> None:
    rows = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} texts written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
