"""What the name rules need to know about a text: its words, their shape, where sentences start.

One pass of a regular expression; no model. A word keeps internal hyphens and
apostrophes ("Saint-Just", "N'Diaye"), but a French elision is split off
("l'Estaque" -> "l'" + "Estaque").
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate, compress, filterfalse
from operator import itemgetter, or_
from typing import Literal, NamedTuple

from observatoire.gate.pii.finding import PLACEHOLDERS
from observatoire.gate.pii.lexicon import Memo, key

Shape = Literal["UPPER", "CAP", "LOWER", "INITIAL", "OTHER"]
Mode = Literal["cased", "lower", "upper"]

# Possessive (``++``, ``*+``): a word's letters are never given back, so a try keeps no backtracking state (the
# same words as with ``+`` and ``*``: no letter can stand where a separator must).
_WORD = re.compile(r"[^\W\d_]++(?:['’\-][^\W\d_]++)*+")
# A French elision is a word of its own ("l'" of "l'Estaque"), but "N'Diaye", "O'Brien", "D'Angelo" stay whole.
_ELISION = re.compile(r"(?![NOD]['’][A-ZÀ-ÖØ-Þ])(?:[lLdDjJnNsScCmMtT]|[qQ][uU]|[jJ]usqu|[lL]orsqu|[pP]uisqu)['’]"
                      r"(?=[^\W\d_])")


_WORD_SPLIT = re.compile("(" + _WORD.pattern + ")")
# The letters below U+0250 (what ``[^\W\d_]`` matches there: Latin letters, and "ª", "²", "µ", "¼"... which
# Python counts as alphanumeric), as a plain character set, which the regex engine tests by bitmap rather
# than by Unicode category: the same split, faster, for texts with no character beyond (nearly all).
_LATIN_LETTER = "[A-Za-z\xaa\xb2\xb3\xb5\xb9\xba\xbc-\xbe\xc0-\xd6\xd8-\xf6\xf8-\u024f]"
_LATIN_WORD_SPLIT = re.compile(f"({_LATIN_LETTER}++(?:['’\\-]{_LATIN_LETTER}++)*+)")
_BEYOND_LATIN = re.compile("[^\x00-\u024f]").search


PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(set(PLACEHOLDERS.values()))))
# Words after which a period does not end a sentence.
ABBREVIATIONS = frozenset({"m", "mme", "mlle", "mr", "dr", "pr", "me", "st", "ste", "av", "bd", "bld", "tél", "tel",
                           "n", "no", "ch", "pl", "imp", "trav", "rte", "fg", "cf", "etc", "vs", "réf", "ref"})


class TextInfo(NamedTuple):
    """A text's words as parallel tuples (word ``i`` is ``words[i]``, at ``starts[i]:ends[i]``...), and its
    casing mode. One tuple per fact rather than one object per word: the rules index them, and building
    them costs one pass at C speed each."""

    text: str
    mode: Mode
    placeholders: tuple[tuple[int, int], ...]
    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    shapes: tuple[Shape, ...]
    keys: tuple[str, ...]       # lookup keys (lexicon.key: NFC, lower case, plain apostrophe)
    breaks: tuple[bool, ...]    # first word of the text or of a sentence (after . ! ? or a line break)
    gaps: tuple[str, ...]       # the characters between the previous word and this one
    glued: tuple[bool, ...]     # stuck to a digit, "@", "_" or a placeholder ("AB123CD", "karim13@"): part of a code
    spaced: tuple[bool, ...]    # only spaces since the previous word (no punctuation, digit or line break)
    latin: bool                 # no character beyond U+024F (no Arabic letter, no caseless word)

    def in_placeholder(self, start: int, end: int) -> bool:
        return any(start < e and s < end for s, e in self.placeholders)


_GLUE_AFTER = frozenset(("@", "_", "<"))
_GLUE_BEFORE = frozenset(("@", "_", ">"))
_SENTENCE_END = re.compile(r"[.!?…]\s")   # "06.12.34.56.78" and ".BENALI" have periods but end no sentence


def analyse(text: str, masked: Sequence[tuple[int, int]] = ()) -> TextInfo:
    """Words with their shape and position, and the text's casing mode.

    Words inside placeholders, and inside ``masked`` spans (identifiers found
    already), are not words of the text: that way the text reads the same
    before scrubbing and after, when those spans have become placeholders.
    """
    placeholders = tuple((m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)) if "<" in text else ()
    skipped = tuple(sorted((*placeholders, *masked))) if placeholders or masked else ()
    # Each step below is one pass at C speed (``map`` over cached functions), not a Python loop over words.
    latin1 = text.isascii() or is_latin1(text)   # nearly always: a copy at C speed tells
    latin = latin1 or _BEYOND_LATIN(text) is None
    parts = (_LATIN_WORD_SPLIT if latin else _WORD_SPLIT).split(text)   # gap, word, gap, word, ..., gap
    if "'" in text or "’" in text:
        parts = _split_elisions(parts)
    words = parts[1::2]
    n = len(words)
    bounds = list(accumulate(map(len, parts), initial=0))
    starts, ends = bounds[1:-1:2], bounds[2::2]
    gaps = parts[0:-1:2]
    glued = tuple(map(or_, map(_GLUED_BEFORE.__getitem__, gaps), map(_GLUED_AFTER.__getitem__, parts[2::2])))
    if skipped and n:
        keep = _outside(skipped, starts, ends)
        if keep is not None:
            n = len(keep)
            if n:
                pick = itemgetter(*keep) if n > 1 else lambda xs: (xs[keep[0]],)
                words, starts, ends, glued = pick(words), pick(starts), pick(ends), pick(glued)
            else:
                words = starts = ends = glued = ()
            # a gap runs from the previous word kept
            gaps = list(map(text.__getitem__, map(slice, (0, *ends[:-1]), starts)))
    shapes = tuple(map(_SHAPES.__getitem__, words))
    breaks = list(map(_BREAKS.__getitem__, gaps))
    if n:
        breaks[0] = True
        for j in compress(range(n), breaks):
            # a period after an abbreviation ("M. Karim") ends no sentence
            gap = gaps[j]
            if j and gap[:1] == "." and words[j - 1].lower() in ABBREVIATIONS:
                breaks[j] = _SENTENCE_END.search(gap[1:]) is not None or "\n" in gap
    mode: Mode = "cased"
    if n and "CAP" not in shapes:
        # No capitalised word: a text typed all in lower case (acronyms aside) or all in capitals, where
        # casing tells nothing about names. Placeholders are left out of the count (they are capitals).
        bare = "".join(text[a:b] for a, b in _complement(skipped, len(text))) if skipped else text
        upper, lower = sum(map(str.isupper, bare)), sum(map(str.islower, bare))
        letters = upper + lower
        if letters and upper * 10 <= letters:
            mode = "lower"
        elif letters and lower * 20 <= letters:
            mode = "upper"
    if latin1 or unicodedata.is_normalized("NFC", text):   # Latin-1 holds no combining character: NFC
        keys = tuple(map(_LOWER_KEYS.__getitem__, words))
    else:
        keys = tuple(map(key, words))
    return TextInfo(text, mode, placeholders, tuple(words), tuple(starts), tuple(ends), shapes, keys,
                    tuple(breaks), tuple(gaps), glued, tuple(map(_SPACED.__getitem__, gaps)), latin)


def _split_elisions(parts: list[str]) -> list[str]:
    """``parts`` of a split with each French elision made a word of its own ("l'", "", "Estaque")."""
    out: list[str] = []
    last = 0
    # only the words with an apostrophe, picked at C speed (most words have none)
    for n in compress(range(1, len(parts), 2), map(_ELIDED.__getitem__, parts[1::2])):
        word = parts[n]
        cut = _ELIDED[word]
        out += parts[last:n]
        out += (word[:cut], "", word[cut:])
        last = n + 1
    return out + parts[last:] if out else parts


def _elided(word: str) -> int:
    """Where the French elision a word starts with ends ("l'Estaque" -> 2), 0 if none."""
    if "'" not in word and "’" not in word:
        return 0
    el = _ELISION.match(word)
    return el.end() if el else 0


def overlapping(spans: Iterable[tuple[int, int]], starts: Sequence[int], ends: Sequence[int]) -> set[int]:
    """Indices of the words (in text order, at ``starts[i]:ends[i]``) that overlap any of ``spans``."""
    inside: set[int] = set()
    for s, e in spans:
        # the words that end after the span starts and start before it ends (words are in order)
        inside.update(range(bisect_right(ends, s), bisect_left(starts, e)))
    return inside


def _outside(spans: Sequence[tuple[int, int]], starts: Sequence[int], ends: Sequence[int]) -> list[int] | None:
    """Indices of the words that overlap none of ``spans``; ``None`` when that is all of them."""
    inside = overlapping(spans, starts, ends)
    if not inside:
        return None
    return list(filterfalse(inside.__contains__, range(len(starts))))


def shape(word: str) -> Shape:
    """UPPER ("BENALI"), CAP ("Karim"), LOWER ("karim", "l'"), INITIAL ("K", "L'") or OTHER."""
    c0 = word[0]
    if c0.islower():
        return "LOWER"
    if len(word) == 1 or (len(word) == 2 and word[1] in "'’"):
        return "INITIAL" if c0.isupper() else "OTHER"
    if word.isupper():
        return "UPPER"
    return "CAP" if c0.isupper() else "OTHER"


def _lower_key(word: str) -> str:
    """``lexicon.key`` of a word of an NFC text."""
    return word.lower().replace("’", "'")


def _starts_sentence(gap: str) -> bool:
    """Whether the text between two words ends a sentence (a period after an abbreviation aside)."""
    return _SENTENCE_END.search(gap) is not None or "\n" in gap


def _glued_before(gap: str) -> bool:
    """Whether a word after this gap is stuck to a digit, "@", "_" or a placeholder's ">"."""
    c = gap[-1:]
    return c in _GLUE_BEFORE or c.isdigit()


def _glued_after(gap: str) -> bool:
    """Whether a word before this gap is stuck to a digit, "@", "_" or a placeholder's "<"."""
    c = gap[:1]
    return c in _GLUE_AFTER or c.isdigit()


def _complement(spans: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out, last = [], 0
    for s, e in spans:
        if s > last:
            out.append((last, s))
        last = max(last, e)
    if last < n:
        out.append((last, n))
    return out


def _spaced(gap: str) -> bool:
    """Whether a gap between two words holds only spaces (no punctuation, no digit, no line break)."""
    return gap == "" or (gap.isspace() and "\n" not in gap)


# What each word or gap gives, computed once per distinct word or gap (``memo[x]``, and ``map`` over
# ``memo.__getitem__``, run at C speed for those seen before).
_SHAPES = Memo(shape, 1 << 16)
_LOWER_KEYS = Memo(_lower_key, 1 << 16)
_BREAKS = Memo(_starts_sentence, 1 << 14)
_GLUED_BEFORE = Memo(_glued_before, 1 << 14)
_GLUED_AFTER = Memo(_glued_after, 1 << 14)
_SPACED = Memo(_spaced, 1 << 14)
_ELIDED = Memo(_elided, 1 << 16)


# Characters that hide a word or a number from the rules: format characters, invisible (zero-width space and
# joiners, soft hyphen, direction marks, BOM, tags), and emoji with their modifiers (variation selectors, skin
# tones, keycap). Arrows and the dingbat digits are left: they are punctuation and digits.
_INVISIBLE = ("\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
              "\U000e0001\U000e0020-\U000e007f")
_EMOJI = ("\ufe00-\ufe0f\u20e3\u2300-\u23ff\u2600-\u2775\u2794-\u27bf\u2b00-\u2bff\U0001f000-\U0001f0ff"
          "\U0001f10d-\U0001faff")
_IGNORABLE_RUN = re.compile(f"[{_INVISIBLE}{_EMOJI}]+")
_ONLY_INVISIBLE = re.compile(f"[{_INVISIBLE}]+").fullmatch


class Normalised(NamedTuple):
    """A text with its ignorable characters taken out (:func:`normalise`), and the way back: ``starts[k]``
    and ``origins[k]`` are where its ``k``-th stretch starts, in it and in the original text."""

    text: str
    starts: tuple[int, ...]
    origins: tuple[int, ...]

    def original(self, offset: int) -> int:
        """Where the character at ``offset`` of the normalised text is in the original one."""
        k = bisect_right(self.starts, offset) - 1
        return self.origins[k] + offset - self.starts[k]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A span of the normalised text in the original one, with what was taken out inside it."""
        return (self.original(start), self.original(end - 1) + 1) if end > start else (self.original(start),) * 2


def normalise(text: str) -> Normalised | None:
    """``text`` without the characters that hide a word or a number (``None`` when there are none, nearly
    always).

    A zero-width space or an emoji inside a name or a number ("Ka\\u200brim", "06😀12 34 56 78") hides it from
    the rules, and scrubbing would mask part of it, then more on a second pass. Invisible characters are
    taken out wherever they are: the text reads as it shows. An emoji is taken out where it sticks to a
    letter, a digit or a placeholder's angle bracket (so that a scrubbed text reads as its scrubber read it),
    and read as a space between a lower-case letter and a capital ("merci😀Karim"); with a space or
    punctuation on both sides it stays, a word of its own.
    """
    if text.isascii() or ("\u00ad" not in text and is_latin1(text)) or _IGNORABLE_RUN.search(text) is None:
        return None   # nearly every text, told by the first two tests at C speed: all Latin-1, no soft hyphen
    parts: list[str] = []
    starts, origins = [0], [0]
    last, pos = 0, 0
    for m in _IGNORABLE_RUN.finditer(text):
        a, b = m.span()
        left, right = text[a - 1:a], text[b:b + 1]
        near_left = left.isalnum() or left in ("<", ">")
        near_right = right.isalnum() or right in ("<", ">")
        invisible = _ONLY_INVISIBLE(m.group()) is not None
        if not (invisible or near_left or near_right):
            continue
        parts.append(text[last:a])
        pos += a - last
        if not invisible and near_left and near_right and (left.islower() or left == ">") \
                and (right.isupper() or right == "<"):
            parts.append(" ")
            starts.append(pos)
            origins.append(a)
            pos += 1
        starts.append(pos)
        origins.append(b)
        last = b
    if last == 0:
        return None
    parts.append(text[last:])
    return Normalised("".join(parts), tuple(starts), tuple(origins))


def is_latin1(text: str) -> bool:
    """Whether every character of ``text`` is below U+0100 (encoding such a text is a copy at C speed; a
    regular expression would test each character)."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
