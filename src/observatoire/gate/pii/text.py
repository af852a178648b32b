"""What the name rules need to know about a text: its words, their shape, where sentences start.

One pass of a regular expression; no model. A word keeps internal hyphens and
apostrophes ("Saint-Just", "N'Diaye"), but a French elision is split off
("l'Estaque" -> "l'" + "Estaque").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal, NamedTuple

from observatoire.gate.pii.finding import PLACEHOLDERS
from observatoire.gate.pii.lexicon import key

Shape = Literal["UPPER", "CAP", "LOWER", "INITIAL", "OTHER"]
Mode = Literal["cased", "lower", "upper"]

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
# A French elision is a word of its own ("l'" of "l'Estaque"), but "N'Diaye", "O'Brien", "D'Angelo" stay whole.
_ELISION = re.compile(r"(?![NOD]['’][A-ZÀ-ÖØ-Þ])(?:[lLdDjJnNsScCmMtT]|[qQ][uU]|[jJ]usqu|[lL]orsqu|[pP]uisqu)['’]"
                      r"(?=[^\W\d_])")


_WORD_SPLIT = re.compile("(" + _WORD.pattern + ")")


def _words(text: str) -> list[tuple[str, int, int]]:
    # One ``split`` (words at odd indices, the text between them at even ones) instead of a match object a word.
    out = []
    append = out.append
    parts = _WORD_SPLIT.split(text)
    pos = len(parts[0])
    for n in range(1, len(parts), 2):
        word = parts[n]
        start = pos
        end = pos = start + len(word)
        pos += len(parts[n + 1])
        if "'" in word or "’" in word:
            el = _ELISION.match(word)
            if el:
                cut = el.end()
                append((word[:cut], start, start + cut))
                word, start = word[cut:], start + cut
        append((word, start, end))
    return out


PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(set(PLACEHOLDERS.values()))))
# Words after which a period does not end a sentence.
ABBREVIATIONS = frozenset({"m", "mme", "mlle", "mr", "dr", "pr", "me", "st", "ste", "av", "bd", "bld", "tél", "tel",
                           "n", "no", "ch", "pl", "imp", "trav", "rte", "fg", "cf", "etc", "vs", "réf", "ref"})


class Token(NamedTuple):
    text: str
    start: int
    end: int
    shape: Shape
    sentence_start: bool    # first word of the text or of a sentence (after . ! ? or a line break)
    gap: str                # the characters between the previous word and this one
    glued: bool             # stuck to a digit, "@", "_" or a placeholder ("AB123CD", "karim13@"): part of a code


class TextInfo(NamedTuple):
    text: str
    tokens: tuple[Token, ...]
    mode: Mode
    placeholders: tuple[tuple[int, int], ...]
    keys: tuple[str, ...]     # each token's lookup key (lexicon.key: NFC, lower case, plain apostrophe)

    def in_placeholder(self, start: int, end: int) -> bool:
        return any(start < e and s < end for s, e in self.placeholders)


def shape(word: str) -> Shape:
    if len(word) == 1 or (len(word) == 2 and word[1] in "'’"):
        return "INITIAL" if word[0].isupper() else "LOWER" if word[0].islower() else "OTHER"
    if word.isupper():
        return "UPPER"
    first = word[0]
    if first.isupper():
        return "CAP"
    return "LOWER" if first.islower() else "OTHER"


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
    skipped = tuple(sorted((*placeholders, *masked)))
    merged = _merged(skipped)
    n_merged, k = len(merged), 0
    tokens: list[Token] = []
    append = tokens.append
    make = tuple.__new__
    sentence_end = _SENTENCE_END.search
    glue_after, glue_before = _GLUE_AFTER, _GLUE_BEFORE
    prev_end, prev_word = 0, ""
    capitalised = 0
    for word, start, end in _words(text):
        if k < n_merged:
            # the masked spans, merged and in order, are walked along with the words (also in order)
            while k < n_merged and merged[k][1] <= start:
                k += 1
            if k < n_merged and merged[k][0] < end:
                continue
        gap = text[prev_end:start]
        if not tokens:
            sentence_start = True
        elif gap == " ":
            sentence_start = False
        else:
            rest = gap[1:] if gap[:1] == "." and prev_word.lower() in ABBREVIATIONS else gap
            sentence_start = sentence_end(rest) is not None or "\n" in gap
        c0 = word[0]
        if c0.islower():
            sh: Shape = "LOWER"
        elif len(word) == 1 or (len(word) == 2 and word[1] in "'’"):
            sh = "INITIAL" if c0.isupper() else "OTHER"
        elif word.isupper():
            sh = "UPPER"
        elif c0.isupper():
            sh = "CAP"
            capitalised += 1
        else:
            sh = "OTHER"
        after = text[end:end + 1]
        before = text[start - 1:start] if start else ""
        append(make(Token, (word, start, end, sh, sentence_start, gap,
                            after in glue_after or before in glue_before or after.isdigit() or before.isdigit())))
        prev_end, prev_word = end, word
    mode: Mode = "cased"
    if capitalised == 0 and tokens:
        # No capitalised word: a text typed all in lower case (acronyms aside) or all in capitals, where
        # casing tells nothing about names. Placeholders are left out of the count (they are capitals).
        bare = "".join(text[a:b] for a, b in _complement(skipped, len(text))) if skipped else text
        upper, lower = sum(map(str.isupper, bare)), sum(map(str.islower, bare))
        letters = upper + lower
        if letters and upper * 10 <= letters:
            mode = "lower"
        elif letters and lower * 20 <= letters:
            mode = "upper"
    if unicodedata.is_normalized("NFC", text):
        keys = tuple(t.text.lower().replace("’", "'") if "’" in t.text else t.text.lower() for t in tokens)
    else:
        keys = tuple(key(t.text) for t in tokens)
    return TextInfo(text, tuple(tokens), mode, placeholders, keys)


def _merged(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with the overlapping ones merged: a word overlaps one of them if and only if it overlaps
    one of ``spans``."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and s < out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _complement(spans: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out, last = [], 0
    for s, e in spans:
        if s > last:
            out.append((last, s))
        last = max(last, e)
    if last < n:
        out.append((last, n))
    return out


def adjacent(a: Token, b: Token) -> bool:
    """``b`` follows ``a`` with only spaces between (no punctuation, no digit)."""
    return b.start >= a.end and (b.gap == "" or b.gap.isspace()) and "\n" not in b.gap
