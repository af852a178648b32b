"""The closed vocabulary of a rule document, and the words a rule may never use.

A rule document has exactly the keys below, at every level; a condition is one
of two kinds (a count anomaly per zone and window, or a planned-event clash);
categories are codes of :mod:`observatoire.event.taxonomy`. The word lists are
matched on normalised tokens (lower case, accents removed, split on anything
that is not a letter or a digit, camelCase split), in French and English.
"""

from __future__ import annotations

import re
import unicodedata

TOP_KEYS = ("id", "version", "title", "purpose", "legal_basis", "data_used", "owner", "condition",
            "review_date", "status")
DATA_KEYS = ("source", "fields")
STATUSES = ("active", "suspended", "retired")
KINDS = ("count_anomaly", "planned_event_clash")
CONDITION_KEYS = {
    "count_anomaly": ("kind", "stream", "unit", "window_hours", "method", "target_false_alarm", "parameters"),
    "planned_event_clash": ("kind", "unit", "planned", "watches"),
}
CONDITION_REQUIRED = {
    "count_anomaly": ("kind", "stream", "unit", "window_hours", "method", "target_false_alarm"),
    "planned_event_clash": ("kind", "unit", "planned", "watches"),
}
STREAM_KEYS = ("source", "categories")
UNITS = ("zone",)
PLANNED_SOURCE = "planned_events"
PLANNED_CATEGORY = "planned_event"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")

# Special categories of data (GDPR art. 9, loi Informatique et Libertés art. 6) and criteria of
# discrimination (code pénal art. 225-1): a rule may name none of them, anywhere.
PROTECTED: dict[str, tuple[str, ...]] = {
    "racial or ethnic origin": ("origine", "origines", "origin", "origins", "ethnie", "ethnique", "ethniques",
                                "ethnic", "ethnicity", "race", "races", "racial", "raciale", "nationalite",
                                "nationality", "nationalites", "peau", "skin", "couleur de peau"),
    "religion or belief": ("religion", "religions", "religious", "religieux", "religieuse", "confession",
                           "confessionnel", "croyance", "croyances", "belief", "beliefs", "faith", "culte"),
    "political opinion": ("politique", "politiques", "political", "politics", "opinion", "opinions", "partisan",
                          "militant", "militants"),
    "trade-union membership": ("syndicat", "syndicats", "syndical", "syndicale", "syndicales", "syndicaux", "syndique", "union", "unions",
                               "trade union"),
    "health": ("sante", "health", "medical", "medicale", "medicaux", "maladie", "disease", "handicap",
               "disability", "diagnostic", "diagnosis", "pathologie", "psychiatrique", "psychiatric", "vih", "hiv",
               "grossesse", "pregnancy"),
    "sex life or sexual orientation": ("sexe", "sex", "sexual", "sexuel", "sexuelle", "sexualite", "sexuality",
                                       "gender", "genre", "lgbt", "gay", "lesbienne", "lesbian", "homosexuel",
                                       "homosexual", "transgenre", "transgender", "orientation sexuelle",
                                       "sexual orientation", "vie sexuelle"),
    "biometric data": ("biometrie", "biometrique", "biometriques", "biometric", "biometrics", "visage", "visages",
                       "face", "faces", "facial", "faciale", "empreinte", "empreintes", "fingerprint",
                       "fingerprints", "iris", "gait", "voiceprint", "reconnaissance faciale"),
    "age": ("age", "ages", "tranche age", "age band"),
}

# What would make a rule score, follow or single out persons rather than count events per zone.
PERSONAL: tuple[str, ...] = (
    "personne", "personnes", "person", "persons", "people", "individu", "individus", "individuel",
    "individuelle", "individual", "individuals", "pseudonym", "pseudonyms", "pseudonyme", "pseudonymes",
    "pseudonymise", "token", "tokens", "identifiant", "identifier", "person id", "personid", "plaque", "plaques",
    "plate", "plates", "immatriculation", "matricule", "nom", "prenom", "name", "surname", "auteur", "author",
    "agent", "officer", "patient", "telephone", "phone", "handle", "followers", "profil", "profile", "profiling",
    "profilage", "score", "scores", "scoring", "notation", "suspect", "suspects", "watchlist", "fiche", "fiches",
    "recidive", "recidiviste", "recidivist", "par personne", "per person", "visage", "face",
)
# In free text (title, purpose, ...) "personne" is ordinary French ("densité excessive de personnes",
# a decree event type): only words that can only mean targeting somebody are refused there.
PERSONAL_IN_TEXT: tuple[str, ...] = (
    "individu", "individus", "individuel", "individuelle", "individual", "individuals", "pseudonym",
    "pseudonyms", "pseudonyme", "pseudonymes", "plaque d immatriculation", "immatriculation", "licence plate",
    "license plate", "score", "scores", "scoring", "notation", "suspect", "suspects", "watchlist", "profilage",
    "profiling", "par personne", "per person", "recidiviste", "recidivist", "person id", "identifiant personnel",
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Normalised tokens: camelCase split, accents removed, lower case, split on non-alphanumerics."""
    text = _CAMEL.sub(" ", str(text))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return [t for t in _SPLIT.split(text) if t]


def _found(words: tuple[str, ...], text: str) -> str | None:
    toks = tokens(text)
    joined = " " + " ".join(toks) + " "
    squashed = "".join(toks)
    for word in words:
        if " " in word:
            if f" {word} " in joined or word.replace(" ", "") == squashed:
                return word
        elif word in toks:
            return word
    return None


def protected_word(text: str) -> tuple[str, str] | None:
    """``(attribute, word)`` when ``text`` names a protected attribute, else None."""
    for attribute, words in PROTECTED.items():
        if (word := _found(words, text)) is not None:
            return attribute, word
    return None


def personal_word(text: str, *, free_text: bool = False) -> str | None:
    """The word of ``text`` that points at persons (a stricter list for structured values), else None."""
    return _found(PERSONAL_IN_TEXT if free_text else PERSONAL, text)
