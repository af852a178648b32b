"""A documented French public-order topic classifier for public posts (multi-label, lexicon-based).

Transparent on purpose: each topic is a list of word stems matched on the
folded text (lower case, no accents), so anyone can read why a post got a
label, and an auditor can re-run it. It labels *topics of public order*, never
persons; it runs on the scrubbed text. Measured on the labelled examples of
``tests/test_social_topics.py``.

| code | label (fr) | stems (excerpt) |
| --- | --- | --- |
| violence | Violences, bagarre | bagarre, rixe, se tape, agress, frapp, tabass, coups, blesse, poignard |
| weapon | Armes, tirs | coups de feu, tirs, tire sur, fusillade, kalach, arme, couteau, pistolet |
| theft | Vols | vol, vole, arrach, pickpocket, braqu, cambriol, pique mon |
| fire | Feu, incendie | feu, incendie, brule, fumee, flammes |
| crowd | Foule, rassemblement | foule, rassemblement, bousculade, monde partout, manif, cortege, densite |
| drugs | Stupéfiants | point de deal, dealer, deal, shit, stup, charbonneur, guetteur |
| nuisance | Nuisances, rodéos | rodeo, tapage, bruit, musique a fond, petards, poubelles debordent |
| traffic | Circulation, accident | accident, bouchon, embouteillage, circulation, rocade, percute, renverse |
| event | Événement programmé | match, velodrome, concert, festival, supporters, derby |
| emergency | Secours, police | police, pompiers, samu, sirenes, gyrophares, crs, ambulance |
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from types import MappingProxyType
from typing import Mapping

TOPICS: Mapping[str, tuple[str, tuple[str, ...]]] = MappingProxyType({
    "violence": ("Violences, bagarre", ("bagarre", "rixe", "se tape", "se tapent", "agress", "frapp", "tabass",
                                         "coups de poing", "passe a tabac", "blesse", "poignard", "baston")),
    "weapon": ("Armes, tirs", ("coups de feu", "coup de feu", "tirs", "tire sur", "fusillade", "kalach",
                               "arme", "couteau", "pistolet", "machette")),
    "theft": ("Vols", ("vol ", "vols ", "vole ", "volee", "voler", "arrach", "pickpocket", "braqu", "cambriol",
                       "pique mon", "pique son")),
    "fire": ("Feu, incendie", ("feu", "incendie", "brule", "fumee", "flammes")),
    "crowd": ("Foule, rassemblement", ("foule", "rassemblement", "bousculade", "monde partout", "manif",
                                        "cortege", "noir de monde", "densite", "beaucoup de monde")),
    "drugs": ("Stupéfiants", ("point de deal", "dealer", "deal ", "shit", "stup", "charbonneur", "guetteur",
                               "cannabis", "cocaine")),
    "nuisance": ("Nuisances, rodéos", ("rodeo", "tapage", "bruit", "musique a fond", "petard", "hurle",
                                       "poubelles debordent", "cris")),
    "traffic": ("Circulation, accident", ("accident", "bouchon", "embouteillage", "circulation", "rocade",
                                          "percute", "renverse", "carambolage", "sens interdit")),
    "event": ("Événement programmé", ("match", "velodrome", "concert", "festival", "supporters", "derby",
                                       "fan zone", "spectacle")),
    "emergency": ("Secours, police", ("police", "pompiers", "samu", "sirene", "gyrophare", "crs", "ambulance",
                                      "flics", "keufs")),
})


def _fold(text: str) -> str:
    s = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode().casefold()
    return " " + re.sub(r"[^a-z0-9]+", " ", s) + " "


_PATTERNS = {code: re.compile("|".join(r"\b" + re.escape(stem.strip()) + (r"\b" if stem.endswith(" ") else "")
                                       for stem in stems))
             for code, (_, stems) in TOPICS.items()}


# Phrases that contain a topic's stem without meaning it ("coups de feu" is shooting, not fire).
EXCLUDE: Mapping[str, tuple[str, ...]] = MappingProxyType({"fire": ("coups de feu", "coup de feu", "cessez le feu")})


def topics_of(text: str | None) -> list[str]:
    """Topic codes of a post, in the table's order; [] when none (or no text)."""
    if not text:
        return []
    folded = _fold(text)
    found = []
    for code, pattern in _PATTERNS.items():
        probe = folded
        for phrase in EXCLUDE.get(code, ()):
            probe = probe.replace(phrase, " ")
        if pattern.search(probe):
            found.append(code)
    return found


def classify(texts: Sequence[str | None]) -> list[list[str]]:
    return [topics_of(t) for t in texts]
