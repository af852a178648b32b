"""The one record between detection and transformation: a :class:`Finding`.

Detectors only produce findings; the scrubber only consumes them. Each finding
carries its decision trace (``detector`` and ``reason``) for the audit, never
the text it covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import Final, Literal, NamedTuple

Entity = Literal["PERSON", "PHONE", "PLATE", "NIR", "IBAN", "EMAIL", "ADDRESS", "BIRTH_DATE"]

ENTITIES: Final[tuple[Entity, ...]] = ("PERSON", "PHONE", "PLATE", "NIR", "IBAN", "EMAIL", "ADDRESS", "BIRTH_DATE")
STRUCTURED: Final[frozenset[Entity]] = frozenset({"PHONE", "PLATE", "NIR", "IBAN", "EMAIL"})

# What replaces a span of each type in scrubbed text.
PLACEHOLDERS: Final[dict[Entity, str]] = {
    "PERSON": "<PERSONNE>", "PHONE": "<TELEPHONE>", "PLATE": "<PLAQUE>", "NIR": "<NIR>", "IBAN": "<IBAN>",
    "EMAIL": "<EMAIL>", "ADDRESS": "<ADRESSE>", "BIRTH_DATE": "<DATE_NAISSANCE>",
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
    ``text``, a left-over of only spaces or punctuation is dropped).
    """
    ordered = sorted(findings, key=_START)
    last = -1
    for f in ordered:
        if f.start < last or f.end <= f.start:
            break
        last = f.end
    else:
        return ordered   # nothing overlaps, nor repeats (the usual case): every finding is kept as it is
    chosen: list[Finding] = []
    for f in sorted(set(ordered), key=_priority):
        fs, fe = f.start, f.end
        hits = [c for c in chosen if c.start < fe and fs < c.end]
        if not hits:
            chosen.append(f)
            continue
        pieces = [(fs, fe)]
        for c in hits:
            pieces = [p for s, e in pieces for p in _minus(s, e, c.start, c.end)]
        for s, e in pieces:
            if text is not None:
                while s < e and not text[s].isalnum():
                    s += 1
                while e > s and not text[e - 1].isalnum():
                    e -= 1
            if e > s:
                chosen.append(Finding(f.entity, s, e, f.score, f.detector,
                                      f"{f.reason} (part left by a longer finding)"))
    chosen.sort(key=lambda f: f.start)
    return chosen


def _minus(s: int, e: int, cs: int, ce: int) -> list[tuple[int, int]]:
    """``[s, e)`` without ``[cs, ce)``."""
    if ce <= s or e <= cs:
        return [(s, e)]
    return [(a, b) for a, b in ((s, cs), (ce, e)) if b > a]
