"""Word lists the name rules consult: first names, surnames, never-names, places.

The lists live in ``data/`` (plain text, comma- or line-separated, ``#``
comments) and are read when a :class:`Lexicon` is built, never at import time.
Keys are lower case; an ASCII spelling in a text also matches an accented entry
("Leila" finds "Leïla"), but an accented word in lower or title case must match
exactly ("marié" is not "Marie"). A word in capitals, or in a script without
case (Arabic), matches either way ("MZÉ" finds "Mze", "أحمد" finds "احمد"):
accents on capitals, and hamzas, are written or left out at will, and such a
word says nothing by its case either.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import Any, NamedTuple

# Particles inside names ("Da Silva", "Ben Youssef", "Le Van", "Aït Ali", "de Lesseps", "de los Santos",
# and in Arabic script "بن" (ben), "ابن" (ibn), "بنت" (bint), "أبو"/"ابو" (abou)).
PARTICLES = frozenset({"de", "du", "des", "da", "di", "del", "della", "van", "von", "der", "den", "el", "al", "ben",
                       "bou", "ait", "aït", "ould", "le", "la", "dos", "das", "mac", "ibn", "abou", "abu", "bin",
                       "ter", "ten", "d'", "l'", "y", "lo", "los", "las",
                       "بن", "ابن", "بنت", "أبو", "ابو"})


@lru_cache(maxsize=1 << 16)
def key(word: str) -> str:
    """The lookup key of a word: NFC, lower case, typographic apostrophe made plain."""
    return unicodedata.normalize("NFC", word).lower().replace("’", "'")


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """``key`` without accents: ``"Leïla"`` -> ``"leila"``."""
    decomposed = unicodedata.normalize("NFKD", key(word))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _entries(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        out.extend(e.strip() for e in line.split(",") if e.strip())
    return out


def _read(name: str) -> list[str]:
    data = resources.files("observatoire.gate.pii").joinpath("data")
    return _entries(data.joinpath(name).read_text(encoding="utf-8"))


class WordSet:
    """A set of words with the ASCII-folding rule of this module."""

    __slots__ = ("exact", "folded")

    def __init__(self, words: Iterable[str], *, parts: bool = False) -> None:
        exact: set[str] = set()
        for w in words:
            k = key(w)
            exact.add(k)
            if parts and " " in k:  # "Thi Lan", "Ait Ali": each part is also a name part
                exact.update(p for p in k.split() if p not in PARTICLES)
        self.exact = frozenset(exact)
        self.folded = frozenset(fold(w) for w in self.exact)

    def __contains__(self, word: str) -> bool:  # type: ignore[override]
        k = key(word)
        if k in self.exact:
            return True
        if k.isascii():
            return k in self.folded
        # accented: folded only in capitals ("MZÉ") or in a script without case ("أحمد"), see the module's doc
        return (word.isupper() or word.lower() == word.upper()) and fold(k) in self.folded

    def __len__(self) -> int:
        return len(self.exact)


class WordInfo(NamedTuple):
    first: bool        # a first name (a hyphenated one counts if each part is: "Jean-Baptistin")
    surname: bool
    ambiguous: bool    # also a common word, a month, a place or a brand
    never: bool        # never a name on its own ("Rixe", "RTM", "Janvier")
    name: bool         # first or surname


class Memo(dict):  # type: ignore[type-arg]
    """A dict that computes a missing value with ``fn`` (``memo[word]`` and ``map(memo.__getitem__, words)``
    run at C speed once a word is known); it forgets everything past ``limit`` entries."""

    __slots__ = ("fn", "limit")

    def __init__(self, fn: Callable[[Any], Any], limit: int = 200_000) -> None:
        super().__init__()
        self.fn, self.limit = fn, limit

    def __missing__(self, word: Any) -> Any:
        value = self.fn(word)
        if len(self) >= self.limit:
            self.clear()
        self[word] = value
        return value


class Lexicon:
    """The word lists, with a per-word cache of what a word is."""

    __slots__ = ("first_names", "surnames", "ambiguous", "never", "maybe_name", "folded_maybe_name", "infos",
                 "is_place_start", "place_index")

    def __init__(self, first_names: WordSet, surnames: WordSet, ambiguous: WordSet, never: WordSet,
                 places: tuple[tuple[str, ...], ...]) -> None:
        self.first_names, self.surnames, self.ambiguous, self.never = first_names, surnames, ambiguous, never
        # keys that may be (part of) a name, accented or folded: a cheap filter before ``info``
        self.maybe_name = first_names.exact | first_names.folded | surnames.exact | surnames.folded
        # whether a key, folded, is in ``maybe_name`` (an ASCII key folds to itself): one lookup a key, once known
        self.folded_maybe_name: Memo = Memo(lambda k: fold(k) in self.maybe_name)
        self.place_index: dict[str, list[tuple[str, ...]]] = {}   # places by their first word
        for place in places:
            self.place_index.setdefault(place[0], []).append(place)
        # what a word is, by its text: ``lex.infos[word]`` (computed once per word)
        self.infos: Memo = Memo(self._info)
        # whether a word's key (``key``) may start a place: exactly, or once folded
        self.is_place_start: Memo = Memo(self._place_start)

    def _info(self, word: str) -> WordInfo:
        first = word in self.first_names
        if not first and "-" in word:
            parts = [p for p in word.split("-") if p]
            first = len(parts) > 1 and all(p in self.first_names for p in parts)
        surname = word in self.surnames
        return WordInfo(first, surname, word in self.ambiguous, word in self.never, first or surname)

    def _place_start(self, k: str) -> bool:
        return k in self.place_index or (not k.isascii() and fold(k) in self.place_index)

    def is_name_word(self, word: str) -> bool:
        return self.infos[word].name

    def is_never(self, word: str) -> bool:
        return self.infos[word].never


def build_lexicon(extra_places: Iterable[str] = ()) -> Lexicon:
    """The packaged lists, plus ``extra_places`` (a city profile's zone names, for instance)."""
    places = {_without_article(tuple(fold(w) for w in _split_place(p))) for p in (*_packaged()[4], *extra_places)}
    first, sur, amb, never, _ = _packaged()
    return Lexicon(first, sur, amb, never, tuple(sorted(p for p in places if p)))


_ARTICLES = ("la", "le", "les", "l'")


def _without_article(words: tuple[str, ...]) -> tuple[str, ...]:
    """ "la belle de mai" -> "belle de mai": a place is looked up by its first significant word."""
    return words[1:] if len(words) > 1 and words[0] in _ARTICLES else words


def _split_place(name: str) -> list[str]:
    # "L'Estaque" -> ["l'", "estaque"]; "Notre-Dame de la Garde" -> one token per word (hyphenated kept)
    words = []
    for w in name.replace("’", "'").split():
        if "'" in w[:3] and len(w) > 2:
            head, _, tail = w.partition("'")
            words.extend((head + "'", tail))
        else:
            words.append(w)
    return words


@cache
def _packaged() -> tuple[WordSet, WordSet, WordSet, WordSet, tuple[str, ...]]:
    return (WordSet(_read("first_names.txt"), parts=True), WordSet(_read("surnames.txt"), parts=True),
            WordSet(_read("ambiguous.txt")),
            WordSet(_read("not_names.txt")), tuple(_read("places.txt")))
