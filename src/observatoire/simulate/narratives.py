"""French free text of the logbook (``recit``) and of municipal reports (``note``).

A narrative is assembled from an opening that depends on how the facts came
to the police, a statement of facts per category, the persons involved (with
their personal data, written the many ways officers write them) and a
closing. Every personal-data string inserted is returned with its kind, so
that the simulator can record it in ``truth/pii.parquet``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from observatoire.simulate import people
from observatoire.simulate.people import pick

FACTS: dict[str, tuple[str, ...]] = {
    "violence": ("une rixe entre deux individus", "une altercation ayant dégénéré en coups",
                 "des violences volontaires sur la voie publique",
                 "un homme frappé par deux individus qui prennent la fuite",
                 "une bagarre à la sortie d'un établissement de nuit", "des violences conjugales sur la voie publique"),
    "theft": ("un vol à l'étalage dans un commerce", "un vol de téléphone portable à la tire", "un vol de sac à main",
              "un vol de vélo pourtant attaché", "un vol de portefeuille dans le métro", "un vol dans un commerce"),
    "robbery": ("un vol avec violence d'un téléphone, la victime ayant été bousculée", "un arrachage de collier",
                "un vol à l'arraché commis par deux individus en scooter", "un vol de sac avec menaces"),
    "burglary": ("un cambriolage d'appartement, porte fracturée", "une tentative d'effraction d'un local commercial",
                 "un cambriolage de cave", "une intrusion dans un logement par la fenêtre"),
    "vehicle_crime": ("un vol à la roulotte sur le véhicule {plate}", "le véhicule {plate} fracturé",
                      "le vol du scooter immatriculé {plate}", "une tentative de vol du véhicule {plate}",
                      "le vol des roues du véhicule {plate}"),
    "criminal_damage": ("des tags sur une façade", "une dégradation de mobilier urbain", "un feu de poubelle",
                        "une vitrine brisée", "l'incendie du véhicule {plate}", "un abribus vandalisé"),
    "drugs": ("un point de vente de stupéfiants", "des individus consommant des stupéfiants dans un hall",
              "une transaction de stupéfiants", "la présence de guetteurs au pied d'un immeuble"),
    "public_order": ("un attroupement bruyant et agressif", "un individu ivre importunant les passants",
                     "un rodéo urbain de deux-roues", "des jets de projectiles sur les passants",
                     "un regroupement hostile à l'arrivée de l'équipage"),
    "nuisance": ("un tapage nocturne provenant d'un appartement", "de la musique à fort volume",
                 "des nuisances sonores d'un établissement de nuit", "un conflit de voisinage",
                 "des aboiements incessants"),
    "public_hygiene": ("un dépôt sauvage d'encombrants", "des déchets abandonnés sur le trottoir",
                       "des gravats déposés sur la voie publique", "un matelas et un réfrigérateur abandonnés"),
    "road_safety": ("un accident matériel entre le véhicule {plate} et le véhicule {plate2}",
                    "un accident corporel impliquant un deux-roues immatriculé {plate}",
                    "un piéton renversé par le véhicule {plate}",
                    "un refus de priorité du véhicule {plate}"),
    "assistance": ("une personne âgée désorientée", "une personne en malaise sur la voie publique", "un enfant égaré",
                   "une personne vulnérable sans domicile", "une personne chutée à domicile"),
    "intervention": ("un animal errant", "un véhicule gênant la circulation", "une demande de renseignement",
                     "la sécurisation d'un périmètre", "un objet trouvé", "une fuite d'eau sur la chaussée"),
    "operator_report": ("un comportement suspect devant un commerce", "un regroupement d'individus",
                        "un véhicule en stationnement prolongé", "une personne allongée sur un banc"),
}

CLOSINGS: dict[str, tuple[str, ...]] = {
    "violence": ("Les marins-pompiers ont pris en charge la victime.", "Rapport transmis à l'OPJ de permanence.",
                 "La victime a été invitée à déposer plainte."),
    "robbery": ("La victime a été invitée à déposer plainte.", "Signalement diffusé aux équipages.",
                "Rapport transmis à l'OPJ de permanence."),
    "theft": ("La victime a été invitée à déposer plainte.", "Pas de suite immédiate.",
              "Main courante pour information."),
    "burglary": ("Le propriétaire a été orienté vers le commissariat.", "Police technique sollicitée."),
    "vehicle_crime": ("Le propriétaire a été avisé.", "Fourrière sollicitée.", "Main courante pour information."),
    "criminal_damage": ("Les services techniques ont été avisés.", "Marins-pompiers sur place.",
                        "Main courante pour information."),
    "drugs": ("Les individus ont quitté les lieux à notre arrivée.", "Information transmise à la police nationale."),
    "public_order": ("Dispersion sans incident.", "Renfort police nationale demandé.",
                     "Retour au calme à notre départ."),
    "nuisance": ("Le responsable a été rappelé à la réglementation.", "Retour au calme.", "Verbalisation effectuée."),
    "public_hygiene": ("Enlèvement demandé auprès des services de propreté.", "Photos jointes au dossier."),
    "road_safety": ("Constat amiable rempli par les conducteurs.", "Les marins-pompiers ont pris en charge le blessé.",
                    "Dépistage d'alcoolémie négatif."),
    "assistance": ("Prise en charge par les marins-pompiers.", "Personne raccompagnée à son domicile.",
                   "Famille prévenue."),
    "intervention": ("Fin d'intervention.", "Services compétents avisés.", "Pas de suite."),
    "operator_report": ("Levée de doute effectuée.", "Équipage engagé.", "Pas de suite."),
}

OPENINGS: dict[str, tuple[str, ...]] = {
    "initiative": ("Lors d'une patrouille pédestre {street}, constatons {fact}.",
                   "En patrouille VL {street}, constatons les faits suivants : {fact}.",
                   "Au cours de l'îlotage du secteur, constatons {fact} {street}.",
                   "Patrouille de secteur : {fact} {street}."),
    "videoprotection": ("Sur indication du CSU ({camera}), nous rendons {street} pour {fact}.",
                        "Alertés par l'opérateur vidéo ({camera}) : {fact} {street}.",
                        "Le centre de supervision signale {fact} {street}, caméra {camera}."),
    "appel_usager": ("Sommes requis par {requester} pour {fact} {street}.",
                     "Appel de {requester} signalant {fact} {street}.",
                     "Requérant(e) {requester} nous contacte pour {fact} {street}."),
    "requisition": ("Sur réquisition du CIC police nationale, nous rendons {street} pour {fact}.",
                    "À la demande des marins-pompiers, intervention {street} pour {fact}.",
                    "Réquisition du bailleur social pour {fact} {street}.",
                    "Sur demande de la RTM, intervention {street} pour {fact}."),
}

ROLES = {"violence": ("Victime", "Mis en cause"), "robbery": ("Victime", "Mis en cause"),
         "theft": ("Victime", "Mis en cause"), "burglary": ("Victime", "Témoin"),
         "vehicle_crime": ("Propriétaire", "Témoin"), "criminal_damage": ("Témoin", "Mis en cause"),
         "drugs": ("Mis en cause", "Mis en cause"), "public_order": ("Mis en cause", "Témoin"),
         "nuisance": ("Requérant", "Mis en cause"), "public_hygiene": ("Témoin", "Contrevenant"),
         "road_safety": ("Conducteur", "Conducteur"), "assistance": ("Personne assistée", "Témoin"),
         "intervention": ("Requérant", "Témoin"), "operator_report": ("Témoin", "Témoin")}


@dataclass
class Written:
    """A text and the personal data it contains, as (kind, exact string) pairs."""

    text: str = ""
    pii: list[tuple[str, str]] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)


FEMININE = ("rue", "avenue", "place", "traverse", "route", "promenade", "corniche", "montée", "impasse")


def _of(street: str) -> str:
    """``"rue de Rome"`` -> ``"de la rue de Rome"``, ``"boulevard National"`` -> ``"du boulevard National"``."""
    if street.startswith(("La ", "la ")):
        return "de " + street[0].lower() + street[1:]
    if street[0].lower() in "aeiouéè":
        return "de l'" + street
    return ("de la " if street.split(" ", 1)[0].lower() in FEMININE else "du ") + street


def _street_at(rnd: random.Random, streets: tuple[str, ...]) -> str:
    """Where the facts took place, as an officer writes it (often a bare street name)."""
    street = pick(rnd, streets)
    u = rnd.random()
    if u < 0.35:
        return street
    if u < 0.55:
        return "au niveau " + _of(street)
    if u < 0.75:
        return "à hauteur " + _of(street)
    if u < 0.9:
        return "à proximité " + _of(street)
    if street.startswith("La "):
        return "sur la " + street[3:]
    head = street.split(" ", 1)[0].lower()
    return ("dans la " if head == "rue" else "sur la " if head in FEMININE else "sur le ") + street


def _without_plates(fact: str) -> str:
    for old, new in (("le véhicule {plate}", "un véhicule"), ("du véhicule {plate}", "d'un véhicule"),
                     ("le véhicule {plate2}", "un autre véhicule"), (" immatriculé {plate}", ""),
                     ("par le véhicule {plate}", "par un véhicule"), ("{plate}", "non identifié")):
        fact = fact.replace(old, new)
    return fact


def _fill_plates(rnd: random.Random, fact: str, out: Written) -> str:
    for slot in ("{plate}", "{plate2}"):
        if slot in fact:
            p = people.plate(rnd)
            out.pii.append(("plate", p))
            fact = fact.replace(slot, p, 1)
    return fact


def _person_detail(rnd: random.Random, role: str, p: people.Person, year: int, streets: tuple[str, ...],
                   postcode: str, out: Written) -> str:
    name = people.name_form(rnd, p)
    out.pii.append(("name", name))
    out.persons.append(f"{p.last.upper()} {p.first}")
    parts = [f"{role} : {people.civility(p) + ' ' if rnd.random() < 0.5 else ''}{name}"]
    if rnd.random() < 0.6:
        d = people.birth_date(rnd, year)
        out.pii.append(("birth_date", d))
        parts.append(people.born_phrase(rnd, p, d))
    if rnd.random() < 0.45:
        a = people.address(rnd, streets, postcode, with_city=rnd.random() < 0.7)
        out.pii.append(("address", a))
        parts.append(f"{pick(rnd, ('demeurant', 'domicilié' + ('e' if p.sex == 'F' else ''), 'adresse :'))} {a}")
    if rnd.random() < 0.5:
        ph = people.phone(rnd)
        out.pii.append(("phone", ph))
        parts.append(people.phone_phrase(rnd, ph))
    if rnd.random() < 0.06:
        e = people.email(rnd, p)
        out.pii.append(("email", e))
        parts.append(f"courriel {e}")
    return ", ".join(parts) + "."


def logbook_narrative(rnd: random.Random, code: str, origine: str, streets: tuple[str, ...], postcode: str,
                      year: int, camera: str | None, persons_max: int) -> Written:
    """The ``recit`` of a logbook entry, its persons involved and the personal data it holds."""
    out = Written()
    fact = _fill_plates(rnd, pick(rnd, FACTS[code]), out)
    opening = pick(rnd, OPENINGS[origine])
    requester = ""
    if "{requester}" in opening:
        p = people.person(rnd)
        name = people.name_form(rnd, p)
        out.pii.append(("name", name))
        out.persons.append(f"{p.last.upper()} {p.first}")
        requester = f"{people.civility(p)} {name}"
        if rnd.random() < 0.7:
            ph = people.phone(rnd)
            out.pii.append(("phone", ph))
            requester += f" ({people.phone_phrase(rnd, ph)})"
    text = opening.format(street=_street_at(rnd, streets), fact=fact, requester=requester,
                          camera=camera or "caméra du secteur")
    sentences = [text[0].upper() + text[1:]]
    u = rnd.random()  # 0, 1, 2 or 3 persons named, with probabilities 0.3, 0.4, 0.2, 0.1
    n_persons = min(persons_max, 0 if u < 0.3 else 1 if u < 0.7 else 2 if u < 0.9 else 3)
    roles = ROLES[code]
    for i in range(n_persons):
        sentences.append(_person_detail(rnd, roles[min(i, 1)], people.person(rnd), year, streets, postcode, out))
    sentences.append(pick(rnd, CLOSINGS[code]))
    text = " ".join(sentences)
    # Officers type fast: some entries are written all in lower case.
    if rnd.random() < 0.05:
        lowered = text.lower()
        out.pii = [(k, v.lower()) for k, v in out.pii]
        text = lowered
    out.text = text
    return out


def report_note(rnd: random.Random, code: str, report_type: str, streets: tuple[str, ...], postcode: str,
                year: int, with_pii: bool) -> Written:
    """The ``note`` of a municipal report; personal data only when ``with_pii``."""
    out = Written()
    fact = pick(rnd, FACTS[code])
    fact = _fill_plates(rnd, fact, out) if with_pii else _without_plates(fact)
    where = _street_at(rnd, streets)
    if report_type == "rapport_operateur":
        text = f"Opérateur CSU : {fact} {where}. {pick(rnd, CLOSINGS[code if code in CLOSINGS else 'operator_report'])}"
    else:
        text = f"Intervention pour {fact} {where}. {pick(rnd, CLOSINGS[code])}"
    if with_pii:
        p = people.person(rnd)
        name = people.name_form(rnd, p)
        out.pii.append(("name", name))
        extra = f" Contact : {name}"
        u = rnd.random()
        if u < 0.5:
            ph = people.phone(rnd)
            out.pii.append(("phone", ph))
            extra += f", {people.phone_phrase(rnd, ph)}"
        elif u < 0.7:
            a = people.address(rnd, streets, postcode)
            out.pii.append(("address", a))
            extra += f", {a}"
        elif u < 0.8:
            d = people.birth_date(rnd, year)
            out.pii.append(("birth_date", d))
            extra += f", {people.born_phrase(rnd, p, d)}"
        text += extra + "."
    out.text = text[0].upper() + text[1:]
    return out
