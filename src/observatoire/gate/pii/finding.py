"""The one record between detection and transformation: a :class:`Finding`.

Detectors only produce findings; the scrubber only consumes them. Each finding
carries its decision trace (``detector`` and ``reason``) for the audit, never
the text it covers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from operator import attrgetter
from typing import Final, Literal, NamedTuple

Entity = Literal["PERSON", "PHONE", "PLATE", "NIR", "IBAN", "EMAIL", "HANDLE", "ADDRESS", "BIRTH_DATE"]

ENTITIES: Final[tuple[Entity, ...]] = ("PERSON", "PHONE", "PLATE", "NIR", "IBAN", "EMAIL", "HANDLE", "ADDRESS",
                                       "BIRTH_DATE")
# The identifiers found by a pattern and a validator (``patterns.py``), held to the highest recall.
STRUCTURED: Final[frozenset[Entity]] = frozenset({"PHONE", "PLATE", "NIR", "IBAN", "EMAIL", "HANDLE"})

# What replaces a span of each type in scrubbed text.
PLACEHOLDERS: Final[dict[Entity, str]] = {
    "PERSON": "<PERSONNE>", "PHONE": "<TELEPHONE>", "PLATE": "<PLAQUE>", "NIR": "<NIR>", "IBAN": "<IBAN>",
    "EMAIL": "<EMAIL>", "HANDLE": "<PSEUDO>", "ADDRESS": "<ADRESSE>", "BIRTH_DATE": "<DATE_NAISSANCE>",
}


class Finding(NamedTuple):
    """Personal data of type ``entity`` at ``text[start:end]``.

    ``detector`` names the detector (``"regex:phone_fr"``, ``"spacy:fr_core_news_sm"``,
    ``"gazetteer:first_names"``...) and ``reason`` says why it decided (pattern,
    validator, context word, model label): the decision trace kept by the audit.
    Immutable; a named tuple because detectors make many of them (a third of the
    cost of a frozen dataclass).
    """

    entity: Entity
    start: int
    end: int
    score: float
    detector: str
    reason: str


_START = attrgetter("start")


def _priority(f: Finding) -> tuple[int, float, int, str, str, str]:
    return (-(f.end - f.start), -f.score, f.start, f.entity, f.detector, f.reason)


def resolve_overlaps(findings: Iterable[Finding], text: str | None = None) -> list[Finding]:
    """Non-overlapping findings in text order: the longest span wins, then the highest score.

    Ties are broken by position, entity and detector name, so the result does
    not depend on the order detectors ran in. A finding that loses to another
    but sticks out of it is not dropped: what sticks out is kept, with the same
    type, so that no part of a detected value is left in the text (with
    ``text``, a left-over of only spaces or punctuation is dropped). A finding
    that covers nothing (``end <= start``) is dropped.

    O(n log n) in the number of findings (see :func:`_resolve_many`); a few
    findings, the usual case, are compared with one another directly.
    """
    ordered = sorted(findings, key=_START)
    last = -1
    for f in ordered:
        if f.start < last or f.end <= f.start:
            break
        last = f.end
    else:
        return ordered   # nothing overlaps, nor repeats (the usual case): every finding is kept as it is
    unique = sorted({f for f in ordered if f.end > f.start}, key=_priority)
    chosen = _resolve_few(unique, text) if len(unique) <= _FEW else _resolve_many(unique, text)
    chosen.sort(key=_START)
    return chosen


_FEW = 32


def _resolve_few(unique: list[Finding], text: str | None) -> list[Finding]:
    """``resolve_overlaps`` of findings in order of priority, each compared with those kept before it (O(n²),
    the fastest for a few)."""
    chosen: list[Finding] = []
    for f in unique:
        hits = [c for c in chosen if c.start < f.end and f.start < c.end]
        if not hits:
            chosen.append(f)
            continue
        pieces = [(f.start, f.end)]
        for c in hits:
            pieces = [p for s, e in pieces for p in _minus(s, e, c.start, c.end)]
        chosen += _parts(f, pieces, text)
    return chosen


def _minus(s: int, e: int, cs: int, ce: int) -> list[tuple[int, int]]:
    """``[s, e)`` without ``[cs, ce)``."""
    if ce <= s or e <= cs:
        return [(s, e)]
    return [(a, b) for a, b in ((s, cs), (ce, e)) if b > a]


def _parts(f: Finding, pieces: list[tuple[int, int]], text: str | None) -> list[Finding]:
    """What is left of ``f`` (``pieces``), without the spaces and punctuation at their ends (with ``text``)."""
    out = []
    for s, e in pieces:
        if text is not None:
            while s < e and not text[s].isalnum():
                s += 1
            while e > s and not text[e - 1].isalnum():
                e -= 1
        if e > s:
            out.append(Finding(f.entity, s, e, f.score, f.detector, f"{f.reason} (part left by a longer finding)"))
    return out


def _resolve_many(unique: list[Finding], text: str | None) -> list[Finding]:
    """``resolve_overlaps`` of findings in order of priority, in O(n log n): each finding claims the elementary
    segments (between two consecutive boundaries) that no finding before it claimed; a union-find skips the
    claimed segments, and a Fenwick tree of the segments kept says whether a finding was cut at all. A part's
    spaces and punctuation, trimmed, are claimed but not kept: a later finding over them alone is kept."""
    grid = _grid(unique, text)
    at = {p: k for k, p in enumerate(grid)}
    n = len(grid) - 1                      # segment k is [grid[k], grid[k + 1])
    free = list(range(n + 1))              # union-find: the first unclaimed segment at or after k (n: none)
    taken = [0] * (n + 1)                  # Fenwick tree of the segments claimed by a kept finding

    def next_free(k: int) -> int:
        root = k
        while free[root] != root:
            root = free[root]
        while free[k] != root:
            free[k], k = root, free[k]
        return root

    def take(k: int) -> None:
        free[k] = k + 1
        i = k + 1
        while i <= n:
            taken[i] += 1
            i += i & -i

    def taken_before(k: int) -> int:
        total = 0
        while k > 0:
            total += taken[k]
            k -= k & -k
        return total

    chosen: list[Finding] = []
    for f in unique:
        a, b = at[f.start], at[f.end]
        if taken_before(b) == taken_before(a):      # nothing kept overlaps it: kept whole
            chosen.append(f)
            for k in range(a, b):
                take(k)
            continue
        k = next_free(a)
        while k < b:                                 # each run of unclaimed segments is a part left
            first = k
            while k < b and next_free(k) == k:
                free[k] = k + 1                      # claimed now: kept, or trimmed (spaces, punctuation)
                k += 1
            for part in _parts(f, [(grid[first], grid[k])], text):
                chosen.append(part)
                for j in range(at[part.start], at[part.end]):
                    take(j)
            k = next_free(k)
    return chosen


def _grid(findings: list[Finding], text: str | None) -> list[int]:
    """The boundaries of the findings and, with ``text``, wherever trimming a part of one can stop: the first
    letter or digit after each boundary and the end of the last one before it (within the next boundary)."""
    points = sorted({p for f in findings for p in (f.start, f.end)})
    if text is None:
        return points
    more = []
    for p, q in zip(points, points[1:]):
        m = _ALNUM(text, p, q)
        if m is not None:
            more.append(m.start())
            e = min(q, len(text))
            while not text[e - 1].isalnum():
                e -= 1
            more.append(e)
    return sorted({*points, *more})


_ALNUM = re.compile(r"[^\W_]").search   # what ``str.isalnum`` accepts
