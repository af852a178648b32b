"""French (and a few English) public posts: templates for chatter, incidents and planned events.

``{q}`` is a quartier with its preposition ("au Panier", "à Noailles"),
``{Q}`` the bare name, ``{street}`` a street, ``{name}`` an event's name.
"""

from __future__ import annotations

NOISE_WITH_PLACE: tuple[str, ...] = (
    "Le mistral souffle fort {q} aujourd'hui 🌬️", "Quelle chaleur {q}, 34 degrés à l'ombre",
    "Orage sur Marseille, ça tombe fort {q}", "Il pleut enfin, les rues sont vides {q}",
    "Meilleure pizza de Marseille {q}, je ne discute pas", "Bouillabaisse en famille {q} 😋",
    "Le petit marché {q} ce matin, des tomates incroyables", "Nouveau resto libanais {q}, foncez",
    "Impossible de se garer {q}, j'ai tourné 40 minutes", "Travaux {q}, ça bloque tout depuis ce matin",
    "Coucher de soleil magnifique {q} 🌅", "Balade {q} avec les enfants", "Ça sent l'été {q}",
    "Quelqu'un a perdu un chat tigré {q} ?", "Soirée tranquille entre amis {q}",
    "Les poubelles débordent encore {q}, c'est la honte", "Trop de bruit {q} ce soir",
    "Café en terrasse {q}, la vie est belle", "Le bus 49 est encore en retard {q}",
    "Premier bain de l'année {q} 🏊", "On cherche un appart {q}, des idées ?",
    "Fête des voisins {q} ce soir, venez !", "Les travaux du tram {q} n'en finissent plus",
)
NOISE_NO_PLACE: tuple[str, ...] = (
    "Bouchon monstre sur l'A7 ce matin", "Métro ligne 2 à l'arrêt, encore 🙄",
    "Le tram T3 ne passe plus, quelqu'un sait pourquoi ?", "Allez l'OM ! 💙🤍", "Ce mercato me rend fou",
    "Qui a des places pour samedi au Vélodrome ?", "Marseille sous le soleil, comme d'habitude ☀️",
    "Panisses et chichis à l'Estaque, le bonheur", "Le ferry pour la Corse est bondé",
    "Grève RTM demain, prévoyez le vélo", "Le mistral a tout emporté sur mon balcon",
    "Quelqu'un connaît un bon garagiste ?", "La rocade L2 est fermée cette nuit",
    "Vivement le week-end aux calanques", "Embouteillage sur le Jarret, comme tous les soirs",
)
INCIDENT: dict[str, tuple[str, ...]] = {
    "violence": ("Grosse bagarre {q} là maintenant 😳", "Ça se tape {q}, la police arrive",
                 "Encore une agression {q}, ça devient n'importe quoi", "Un homme blessé {q}, les pompiers sont là"),
    "robbery": ("Une dame s'est fait arracher son sac {q}", "Vol à l'arraché {q}, faites attention",
                "Mon voisin s'est fait braquer son téléphone {q}"),
    "public_order": ("C'est le chaos {q}, des jeunes partout", "Rodéo de motos {q} depuis une heure",
                     "Ça chauffe {q}, beaucoup de monde et des cris",
                     "Sirènes partout {q}, quelqu'un sait ce qui se passe ?"),
    "criminal_damage": ("Poubelles en feu {q}, grosse fumée", "Ils ont cassé l'abribus {q}",
                        "Une voiture brûle {q}, fumée noire partout"),
    "road_safety": ("Accident {q}, circulation bloquée", "Un scooter renversé {q}, les pompiers sont là",
                    "Carambolage {q}, évitez le secteur"),
    "drugs": ("Toujours les mêmes guetteurs {q}", "Le point de deal {q} tourne à plein régime"),
    "theft": ("On m'a volé mon téléphone {q} 😡", "Attention aux pickpockets {q}"),
    "nuisance": ("Musique à fond {q} à 2h du mat", "Impossible de dormir {q}, quel bruit"),
    "burglary": ("Cambriolage dans mon immeuble {q}", "Encore un appart cambriolé {q}"),
    "vehicle_crime": ("Encore une voiture fracturée {q}", "On a volé le scooter de mon frère {q}"),
    "public_hygiene": ("Dépôt sauvage énorme {q}, matelas, frigo, tout", "Les gravats s'entassent {q}"),
}
INCIDENT_NO_PLACE: tuple[str, ...] = ("Sirènes partout, quelqu'un sait ce qui se passe ?",
                                      "Hélico de la police au-dessus du quartier depuis 20 minutes",
                                      "Ça craint ce soir dans le quartier")
PLANNED: dict[str, tuple[str, ...]] = {
    "match": ("Allez l'OM ! Ambiance de folie au Vélodrome 🔥", "Direction le Vélodrome pour {name}",
              "Quel match ce soir au Vélodrome 💙", "Métro bondé pour aller au stade",
              "Le virage sud chante depuis une heure"),
    "concert": ("Concert incroyable à {venue} ce soir", "Quelle soirée à {venue} 🎶",
                "Queue interminable devant {venue}"),
    "festival": ("{name}, c'est parti !", "Monde fou pour {name}", "Meilleure soirée de l'année : {name}"),
    "manifestation": ("Beaucoup de monde au Vieux-Port pour la manif", "Le cortège descend la Canebière",
                      "{name} : on est nombreux !"),
    "marche": ("{name} ce matin, super ambiance", "Plein de monde au {name}"),
}
ENGLISH: tuple[str, ...] = ("Beautiful sunset at the Old Port", "Marseille is amazing", "Best fish soup ever",
                            "Crazy atmosphere at the Vélodrome tonight", "Lost in the Panier, loving it")
