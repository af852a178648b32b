"""What the name rules need to know about a text: its words, their shape, where sentences start.

One pass of a regular expression; no model. A word keeps internal hyphens and
apostrophes ("Saint-Just", "N'Diaye"), but a French elision is split off
("l'Estaque" -> "l'" + "Estaque").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from observatoire.gate.pii.finding import PLACEHOLDERS

Shape = Literal["UPPER", "CAP", "LOWER", "INITIAL", "OTHER"]
Mode = Literal["cased", "lower", "upper"]

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*['’]?")
_ELISION = re.compile(r"^(?:[lLdDjJnNsScCmMtT]|[qQ][uU]|[jJ]usqu|[lL]orsqu|[pP]uisqu)['’](?=.)")
_KEEP_JOINED = re.compile(r"^[NOD]['’]\w")   # N'Diaye, O'Brien, D'Angelo
PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in sorted(set(PLACEHOLDERS.values()))))
# Words after which a period does not end a sentence.
ABBREVIATIONS = frozenset({"m", "mme", "mlle", "mr", "dr", "pr", "me", "st", "ste", "av", "bd", "bld", "tél", "tel",
                           "n", "no", "ch", "pl", "imp", "trav", "rte", "fg", "cf", "etc", "vs", "réf", "ref"})


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    shape: Shape
    sentence_start: bool    # first word of the text or of a sentence (after . ! ? or a line break)
    clause_start: bool      # sentence start, or first word after a colon, a dash or a bracket
    gap: str                # the characters between the previous word and this one


@dataclass(frozen=True, slots=True)
class TextInfo:
    text: str
    tokens: tuple[Token, ...]
    mode: Mode
    placeholders: tuple[tuple[int, int], ...]

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


def _words(text: str) -> list[tuple[str, int, int]]:
    out = []
    for m in _WORD.finditer(text):
        word, start = m.group(), m.start()
        if word[-1] in "'’" and len(word) > 1 and not _ELISION.match(word):
            word = word[:-1]
        el = _ELISION.match(word)
        if el and not _KEEP_JOINED.match(word):
            cut = el.end()
            out.append((word[:cut], start, start + cut))
            word, start = word[cut:], start + cut
        out.append((word, start, start + len(word)))
    return out


_SENTENCE_END = re.compile(r"[.!?…]")
_CLAUSE = re.compile(r"[:;(\[«\"—–]|\s-\s")


def analyse(text: str) -> TextInfo:
    """Words with their shape and position, and the text's casing mode."""
    placeholders = tuple((m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)) if "<" in text else ()
    tokens: list[Token] = []
    prev_end, prev_word = 0, ""
    capitalised = 0
    for word, start, end in _words(text):
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
        sh = shape(word)
        capitalised += sh == "CAP"
        tokens.append(Token(word, start, end, sh, sentence_start, clause_start, gap))
        prev_end, prev_word = end, word
    upper = sum(map(str.isupper, text))
    lower = sum(map(str.islower, text))
    letters = upper + lower
    mode: Mode = "cased"
    if letters >= 12:
        if capitalised == 0 and upper <= letters // 10:
            mode = "lower"    # typed all in lower case (acronyms aside): casing tells nothing about names
        elif lower <= letters // 20:
            mode = "upper"
    return TextInfo(text, tuple(tokens), mode, placeholders)


def adjacent(a: Token, b: Token) -> bool:
    """``b`` follows ``a`` with only spaces between (no punctuation, no digit)."""
    return b.start >= a.end and (b.gap == "" or b.gap.isspace()) and "\n" not in b.gap
