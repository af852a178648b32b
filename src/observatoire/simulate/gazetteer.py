"""Places of Marseille the simulator writes about: streets, main axes, venues (quartiers: city data).

Coordinates are approximate (to about a hundred metres) and only serve to make
the synthetic city look like Marseille: hotspot centres, the quartier a post
names, the streets of an address, where cameras and fines concentrate. Street
names are real streets of the arrondissement whose postcode they carry, but an
address is not geocoded: the simulator pairs a random street of the right
arrondissement with a point of that arrondissement.
"""

from __future__ import annotations

# Quartier names and points are city data, shared with ingest's gazetteer:
# ``observatoire/city/data/marseille_places.csv`` (``observatoire.city.gazetteer``).

# Streets by postcode (real streets of each arrondissement).
STREETS: dict[str, tuple[str, ...]] = {
    "13001": ("La Canebière", "rue de Rome", "cours Belsunce", "rue d'Aix", "rue Longue des Capucins",
              "rue du Musée", "boulevard d'Athènes", "rue Thubaneau", "rue des Dominicaines",
              "rue Saint-Ferréol", "rue Paradis", "quai des Belges", "rue Nationale", "rue de la Palud"),
    "13002": ("rue de la République", "quai du Port", "boulevard des Dames", "rue de l'Évêché",
              "rue Caisserie", "place de Lenche", "boulevard de Paris", "avenue Robert Schuman",
              "quai de la Joliette", "rue Mazenod", "place de la Joliette"),
    "13003": ("boulevard National", "rue Belle de Mai", "rue Loubon", "boulevard de Plombières",
              "rue Félix Pyat", "avenue Camille Pelletan", "rue de Crimée", "rue Clovis Hugues",
              "place Cadenat", "boulevard Guigou", "avenue Roger Salengro"),
    "13004": ("avenue du Maréchal Foch", "boulevard Françoise Duparc", "avenue des Chartreux",
              "boulevard de la Blancarde", "boulevard Boisson", "rue Chape", "place Sébastopol",
              "boulevard Longchamp", "rue Bénédit"),
    "13005": ("boulevard Baille", "rue Saint-Pierre", "boulevard Chave", "rue Ferrari",
              "boulevard Eugène Pierre", "rue Roger Brun", "avenue de la Timone", "boulevard Jean Moulin",
              "rue de l'Abbé de l'Épée"),
    "13006": ("rue de Rome", "rue Paradis", "cours Julien", "rue de Lodi", "place Castellane",
              "boulevard Notre-Dame", "rue Breteuil", "cours Pierre Puget", "rue Sainte-Victoire",
              "place Notre-Dame-du-Mont"),
    "13007": ("boulevard Charles Livon", "rue d'Endoume", "corniche du Président John Fitzgerald Kennedy",
              "rue des Catalans", "boulevard de la Corderie", "rue Sainte", "rue Sauveur Tobelem",
              "boulevard Tellène", "vallon des Auffes"),
    "13008": ("avenue du Prado", "avenue de Mazargues", "promenade Georges Pompidou", "boulevard Michelet",
              "avenue de la Pointe Rouge", "avenue d'Haïfa", "boulevard Périer", "avenue de Hambourg",
              "chemin du Roucas Blanc", "boulevard Rabatau", "avenue de Bonneveine"),
    "13009": ("boulevard du Redon", "avenue de Luminy", "chemin du Roy d'Espagne", "boulevard Paul Claudel",
              "avenue de la Jarre", "route de la Gineste", "boulevard Romain Rolland", "place Robespierre",
              "boulevard de Sainte-Marguerite"),
    "13010": ("boulevard Schloesing", "avenue de la Capelette", "boulevard Mireille Lauze",
              "boulevard de Saint-Loup", "rue Louis Merlino", "avenue Jean Lombard", "boulevard Lazer",
              "boulevard Rabatau"),
    "13011": ("route des Trois Lucs", "boulevard de la Valbarelle", "avenue de Saint-Menet",
              "traverse de la Penne", "boulevard Saint-Marcel", "chemin de la Valentine",
              "route de la Sablière", "avenue Emmanuel Allard"),
    "13012": ("avenue des Caillols", "boulevard des Libérateurs", "avenue de Montolivet", "boulevard Bouge",
              "avenue de Saint-Julien", "chemin de Saint-Jean-du-Désert", "rue Charles Kaddouz"),
    "13013": ("avenue de Château-Gombert", "avenue de Frais-Vallon", "avenue de la Croix-Rouge",
              "chemin des Jonquilles", "boulevard Charles Moretti", "avenue Jean-Paul Sartre",
              "traverse de la Rose", "avenue de Saint-Just"),
    "13014": ("chemin de Sainte-Marthe", "avenue du Merlan", "boulevard Jourdan", "chemin de Gibbes",
              "avenue Prosper Mérimée", "boulevard Danielle Casanova", "rue Le Chatelier",
              "avenue Alexandre Ansaldi"),
    "13015": ("chemin de la Madrague-Ville", "boulevard Henri Barnier", "boulevard de la Savine",
              "chemin du Littoral", "rue de Lyon", "boulevard Ferdinand de Lesseps", "avenue de la Viste",
              "boulevard Grawitz"),
    "13016": ("chemin du Littoral", "avenue André Roussin", "boulevard de l'Estaque", "chemin de la Nerthe",
              "place Raphel", "rue Rabelais"),
}
GENERIC_STREETS: tuple[str, ...] = ("rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo",
                                    "rue Pasteur", "place de la Mairie")

# Main axes (commercial streets, metro and tram corridors), as polylines of
# (lon, lat): cameras and fines concentrate along them.
CORRIDORS: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = (
    ("La Canebière", ((5.3745, 43.2953), (5.3830, 43.2980), (5.3866, 43.2992))),
    ("rue de la République", ((5.3722, 43.2965), (5.3672, 43.3028), (5.3655, 43.3065))),
    ("rue de Rome - avenue du Prado", ((5.3778, 43.2946), (5.3836, 43.2860), (5.3925, 43.2710),
                                      (5.3760, 43.2610))),
    ("rue Paradis", ((5.3765, 43.2940), (5.3800, 43.2840), (5.3850, 43.2750))),
    ("boulevard National", ((5.3830, 43.3050), (5.3920, 43.3120))),
    ("avenue de Mazargues", ((5.3925, 43.2710), (5.4010, 43.2490))),
    ("cours Julien - boulevard Baille", ((5.3830, 43.2930), (5.3930, 43.2900), (5.4000, 43.2890))),
    ("métro 1 est", ((5.3866, 43.2992), (5.4050, 43.2960), (5.4470, 43.2920), (5.4580, 43.2950))),
    ("métro 1 nord", ((5.4050, 43.2960), (5.4030, 43.3170), (5.4180, 43.3390))),
    ("métro 2 nord", ((5.3805, 43.3030), (5.3662, 43.3042), (5.3690, 43.3250), (5.3660, 43.3300))),
    ("chemin du Littoral", ((5.3640, 43.3150), (5.3450, 43.3400), (5.3200, 43.3610))),
    ("tram Noailles - Saint-Pierre", ((5.3805, 43.2960), (5.3900, 43.2950), (5.4000, 43.2890))),
)

# Venues of the planned-event calendar: name -> (lon, lat).
VENUES: dict[str, tuple[float, float]] = {
    "Orange Vélodrome": (5.3959, 43.2699),
    "Le Dôme": (5.3997, 43.3116),
    "Vieux-Port": (5.3745, 43.2952),
    "Parc Borély": (5.3800, 43.2590),
    "Plages du Prado": (5.3735, 43.2610),
    "Dock des Suds": (5.3670, 43.3140),
    "Palais Longchamp": (5.3950, 43.3045),
    "Cours Julien": (5.3830, 43.2928),
    "Place Castellane": (5.3836, 43.2860),
    "Le Panier": (5.3685, 43.2990),
    "La Canebière": (5.3800, 43.2972),
}

CITY_CENTRE: tuple[float, float] = (5.3790, 43.2960)


def with_preposition(name: str) -> str:
    """``"le Panier"`` -> ``"au Panier"``, ``"les Goudes"`` -> ``"aux Goudes"``, ``"Noailles"`` -> ``"à Noailles"``."""
    if name.startswith("le "):
        return "au " + name[3:]
    if name.startswith("les "):
        return "aux " + name[4:]
    return "à " + name
