"""Postal addresses, and the street names that must never be taken for persons.

A *street reference* is a street type followed by its name ("boulevard Charles
Moretti", "rue de la République"): not personal data by itself, but its words
are protected from the name rules. An *address* is a street reference with a
number before it ("12 bis rue de Rome"), and optionally a postcode and a city
after it ("..., 13006 Marseille"): that is personal data.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from itertools import compress
from dataclasses import dataclass

from observatoire.gate.pii.finding import Finding
from observatoire.gate.pii.lexicon import Lexicon, key
from observatoire.gate.pii.text import TextInfo

# precompiled (the module-level re functions look their pattern up in a cache at each call)
_ORDINAL_GAP = re.compile(r"\s*\d{1,3}(?:e|er|ème)?\s*").fullmatch
_DOT_GAP = re.compile(r"\.?\s*").fullmatch
_CITY_TAIL = re.compile(r"\s*(?:\d{1,2}(?:e|er|ème)\b|cedex(?:\s*\d{1,2})?\b)", re.IGNORECASE).match

STREET_TYPES = frozenset({
    "rue", "ruelle", "avenue", "av", "ave", "boulevard", "bd", "bld", "blvd", "bvd", "chemin", "ch", "traverse",
    "trav", "impasse", "imp", "montée", "montee", "place", "pl", "placette", "allée", "allee", "allées", "allees",
    "cours", "quai", "route", "rte", "promenade", "corniche", "square", "passage", "sentier", "chaussée", "faubourg",
    "fg", "esplanade", "parvis", "rond-point", "carrefour", "vallon", "voie", "descente", "escalier", "escaliers",
    "calade", "draille", "cité", "cite", "résidence", "residence", "lotissement", "venelle", "lieu-dit",
})
# Facilities whose proper names are often persons' names ("lycée Victor Hugo"): protected, never an address.
FACILITIES = frozenset({
    "lycée", "lycee", "collège", "college", "école", "ecole", "stade", "gymnase", "piscine", "hôpital", "hopital",
    "clinique", "gare", "station", "métro", "metro", "arrêt", "arret", "tram", "église", "eglise", "mosquée",
    "mosquee", "synagogue", "temple", "chapelle", "centre", "médiathèque", "mediatheque", "bibliothèque", "musée",
    "musee", "théâtre", "theatre", "salle", "espace", "maison", "foyer", "fondation", "institut", "université",
    "universite", "faculté", "fac", "campus", "crèche", "creche", "groupe", "pharmacie", "boulangerie", "bar",
    "restaurant", "snack", "brasserie", "café", "cafe", "tabac", "hôtel", "hotel", "supermarché", "magasin",
    "boutique", "bureau", "agence", "caserne", "commissariat", "mairie", "prison", "quartier", "domaine", "hameau",
    "villa", "galerie", "pont", "anse", "plage", "parc", "jardin", "jardins", "zac", "zone", "cinéma", "cinema",
    "club", "association", "stade", "marché", "marche", "halle", "port", "parking",
})
# Streets named without a street type ("12 La Canebière"), as folded word keys.
TYPELESS_STREETS = frozenset({"canebière", "canebiere", "croisette", "vieux-port"})   # "12 La Canebière"
_ARTICLES = frozenset({"la", "le", "les", "l'"})
_TRIGGERS = STREET_TYPES | FACILITIES | TYPELESS_STREETS
CONNECTORS = frozenset({"de", "du", "des", "d'", "la", "le", "les", "l'", "aux"})
_NUMBER_BEFORE = re.compile(r"(?<![\w:/.,°>])([1-9]\d{0,3})(?:\s*(?:bis|ter|quater|[abt])\b)?(?:\s*,\s*|\s+)$",
                            re.IGNORECASE)
_POSTCODE_AFTER = re.compile(r"\s*,?\s*(?:\d{5}|\d{2}\s\d{3})(?![\d])")
_STOP_LOWER = frozenset({"pour", "signalant", "et", "à", "a", "un", "une", "par", "avec", "sans", "vers", "où", "ou",
                         "qui", "que", "dont", "nous", "il", "elle", "ils", "on", "je", "ce", "cette", "est", "sont",
                         "a", "ont", "devant", "derrière", "face", "près", "depuis", "puis", "mais", "donc", "car",
                         "lors", "quand", "constatons", "constaté", "suite", "tél", "tel", "portable", "né", "née",
                         "demeurant", "domicilié", "domiciliée", "adresse", "contact", "victime", "témoin",
                         "immatriculé", "immatriculée", "le", "les", "des", "au", "aux", "en"})


# The address rule as one case-sensitive regular expression (used by the benchmark to give Presidio the
# same rule; the scrubber itself walks the words, which also handles texts typed in lower case).
_TYPES_RX = "|".join(sorted((re.escape(t) for t in STREET_TYPES), key=len, reverse=True))
ADDRESS_PATTERN = (r"(?<![\w:/.,°>])[1-9]\d{0,3}(?i:\s*(?:bis|ter|quater|[abt])\b)?(?:\s*,\s*|\s+)"
                   rf"(?i:{_TYPES_RX})\.?\s+(?:(?:de|du|des|la|le|les|aux|d['’]|l['’])\s*)*"
                   r"[A-ZÀ-Ýa-zà-ÿ][\w\-'’]*"
                   r"(?:\s+(?:(?:de|du|des|la|le|les|aux|d['’]|l['’])\s*)*[A-ZÀ-Ý][\w\-'’]*){0,5}"
                   r"(?:\s*,?\s*\d{5}(?:\s+[A-ZÀ-Ý][\w\-'’]*(?:\s+[A-ZÀ-Ý][\w\-'’]*)?)?)?")


@dataclass(frozen=True, slots=True)
class Street:
    start: int        # the street type word (or the number of an address)
    end: int
    has_number: bool
    reason: str


def _name_words(info: TextInfo, lex: Lexicon, i: int, lower_ok: bool) -> int:
    """Index after the last word of a street name that starts at token ``i`` (``i`` if none)."""
    size = len(info.words)
    j, last, words = i, i, 0
    while j < size and words < 7:
        if j > i and not info.spaced[j] and not _joined_by_apostrophe(info, j):
            # "rue du 141e RIA", "rue de l'Abbé": a number or apostrophe between is part of the name
            if not _ORDINAL_GAP(info.gaps[j]):
                break
        k = key(info.words[j])
        sh = info.shapes[j]
        if sh == "LOWER" and k in STREET_TYPES:
            break   # "la voie publique à hauteur de la place Sébastopol": a new street starts
        if k in CONNECTORS:
            j += 1
            continue
        if sh in ("CAP", "UPPER", "INITIAL") or (lower_ok and sh == "LOWER" and k not in _STOP_LOWER):
            j += 1
            last, words = j, words + 1
            if lower_ok and sh == "LOWER" and words >= 3 and info.mode == "cased":
                break
            continue
        break
    return last


def _typeless(info: TextInfo, i: int) -> int:
    """Index of the first word of a type-less street name ending at token ``i`` (its article included)."""
    if i > 0 and info.keys[i - 1] in _ARTICLES and info.spaced[i]:
        return i - 1
    return i


def _joined_by_apostrophe(info: TextInfo, j: int) -> bool:
    """Word ``j`` is stuck to an elision before it ("l'Abbé")."""
    return info.words[j - 1].endswith(("'", "’")) and info.starts[j] == info.ends[j - 1]


def streets(info: TextInfo, lex: Lexicon) -> list[Street]:
    """Street references and facility names, with a flag for those that are addresses (a number before)."""
    out: list[Street] = []
    starts, ends = info.starts, info.ends
    text = info.text
    keys = info.keys
    last = -1
    if _TRIGGERS.isdisjoint(keys):
        return out
    for i in list(compress(range(len(keys)), map(_TRIGGERS.__contains__, keys))):
        if i <= last:
            continue
        k = keys[i]
        if k in TYPELESS_STREETS:
            first = _typeless(info, i)
            number = _NUMBER_BEFORE.search(text, max(0, starts[first] - 16), starts[first])
            if number is not None:
                end = ends[i]
                tail = _POSTCODE_AFTER.match(text, end, min(len(text), end + 12))
                end = _city_after(info, lex, tail.end()) if tail else end
                out.append(Street(number.start(), end, True, "number + street named without type"
                                  + (" + postcode" if tail else "")))
                last = i
            continue
        is_street = k in STREET_TYPES
        if i + 1 >= len(keys):
            continue
        gap_ok = info.spaced[i + 1] or _DOT_GAP(info.gaps[i + 1]) is not None
        if not gap_ok:
            continue
        lower_ok = info.mode != "cased" or is_street
        end_i = _name_words(info, lex, i + 1, lower_ok)
        if end_i == i + 1:
            continue
        start, end = starts[i], ends[end_i - 1]
        number = _NUMBER_BEFORE.search(text, max(0, start - 16), start) if is_street else None
        if number is not None:
            start = number.start()
            tail = _POSTCODE_AFTER.match(text, end, min(len(text), end + 12))
            if tail:
                end = _city_after(info, lex, tail.end())
            reason = f"number + street type '{k}' + name{' + postcode' if tail else ''}"
        else:
            reason = f"{'street' if is_street else 'facility'} '{k}' + name"
        out.append(Street(start, end, number is not None, reason))
        last = end_i - 1
    return out


def _city_after(info: TextInfo, lex: Lexicon, end: int) -> int:
    """Extends an address over the city after its postcode ("13006 Marseille", "13600 La Ciotat", "Cedex 2")."""
    first = bisect_left(info.starts, end)
    last = min(first + 5, len(info.words))   # the next five words at most
    if first >= last or info.starts[first] - end > 2 or not info.text[end:info.starts[first]].isspace():
        return end
    out, n = end, first
    while n < last:
        if n > first and not info.spaced[n]:
            break
        word, sh = info.words[n], info.shapes[n]
        k = key(word)
        if k in CONNECTORS and n + 1 < last and info.spaced[n + 1] and info.shapes[n + 1] != "LOWER":
            n += 1   # "13600 La Ciotat", "Aix-en-Provence"
            continue
        cased_city = sh in ("CAP", "UPPER") and not lex.is_never(word)
        caseless_city = info.mode != "cased" and k not in _STOP_LOWER and not lex.is_never(word)
        if not (cased_city or caseless_city):
            break
        out = info.ends[n]
        n += 1
        if not cased_city:
            break   # caseless text: one word, we cannot tell where the city ends
    if out != end:
        m = _CITY_TAIL(info.text[out:out + 12])
        if m:
            out += m.end()
    return out


def find_addresses(info: TextInfo, found: list[Street]) -> Iterator[Finding]:
    for s in found:
        if s.has_number:
            yield Finding("ADDRESS", s.start, s.end, 0.9, "regex:address_fr", s.reason)
