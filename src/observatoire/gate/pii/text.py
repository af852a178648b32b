"""What the name rules need to know about a text: its words, their shape, where sentences start.

One pass of a regular expression; no model. A word keeps internal hyphens and
apostrophes ("Saint-Just", "N'Diaye"), but a French elision is split off
("l'Estaque" -> "l'" + "Estaque").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, NamedTuple

from observatoire.gate.pii.finding import PLACEHOLDERS
from observatoire.gate.pii.lexicon import key

Shape = Literal["UPPER", "CAP", "LOWER", "INITIAL", "OTHER"]
Mode = Literal["cased", "lower", "upper"]

# A word, or a French elision on its own ("l'" of "l'Estaque"), but "N'Diaye", "O'Brien", "D'Angelo" stay whole.
_TOKEN = re.compile(r"(?![NOD]['’][A-ZÀ-ÖØ-Þ])(?:[lLdDjJnNsScCmMtT]|[qQ][uU]|[jJ]usqu|[lL]orsqu|[pP]uisqu)['’]"
                    r"(?=[^\W\d_])|[^\W\d_]+(?:['’\-][^\W\d_]+)*")
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
    clause_start: bool      # sentence start, or first word after a colon, a dash or a bracket
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


_GLUE_AFTER = frozenset("@_<")
_GLUE_BEFORE = frozenset("@_>")
_SENTENCE_END = re.compile(r"[.!?…](?:\s|$)")   # "06.12.34.56.78" has periods but ends no sentence
_CLAUSE = re.compile(r"[:;(\[«\"—–]|\s-\s")


def analyse(text: str) -> TextInfo:
    """Words with their shape and position, and the text's casing mode."""
    placeholders = tuple((m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)) if "<" in text else ()
    tokens: list[Token] = []
    append = tokens.append
    prev_end, prev_word = 0, ""
    capitalised = 0
    for m in _TOKEN.finditer(text):
        word = m.group()
        start, end = m.span()
        if placeholders and any(start < e and s < end for s, e in placeholders):
            continue
        gap = text[prev_end:start]
        if not tokens:
            sentence_start = clause_start = True
        elif gap == " ":
            sentence_start = clause_start = False
        else:
            rest = gap[1:] if gap[:1] == "." and prev_word.lower() in ABBREVIATIONS else gap
            sentence_start = _SENTENCE_END.search(rest) is not None or "\n" in gap
            clause_start = sentence_start or _CLAUSE.search(gap) is not None
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
        before = text[start - 1] if start else ""
        append(Token(word, start, end, sh, sentence_start, clause_start, gap,
                     after.isdigit() or after in _GLUE_AFTER or before.isdigit() or before in _GLUE_BEFORE))
        prev_end, prev_word = end, word
    mode: Mode = "cased"
    if capitalised == 0 and len(text) >= 12:
        bare = PLACEHOLDER_RE.sub("", text) if placeholders else text   # placeholders are upper case
        upper, lower = sum(map(str.isupper, bare)), sum(map(str.islower, bare))
        letters = upper + lower
        if letters >= 12 and upper * 10 <= letters:
            mode = "lower"    # typed all in lower case (acronyms aside): casing tells nothing about names
        elif letters >= 12 and lower * 20 <= letters:
            mode = "upper"
    if unicodedata.is_normalized("NFC", text):
        keys = tuple(t.text.lower().replace("’", "'") if "’" in t.text else t.text.lower() for t in tokens)
    else:
        keys = tuple(key(t.text) for t in tokens)
    return TextInfo(text, tuple(tokens), mode, placeholders, keys)


def adjacent(a: Token, b: Token) -> bool:
    """``b`` follows ``a`` with only spaces between (no punctuation, no digit)."""
    return b.start >= a.end and (b.gap == "" or b.gap.isspace()) and "\n" not in b.gap
