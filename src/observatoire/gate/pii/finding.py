"""The one record between detection and transformation: a :class:`Finding`.

Detectors only produce findings; the scrubber only consumes them. Each finding
carries its decision trace (``detector`` and ``reason``) for the audit, never
the text it covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Entity = Literal["PERSON", "PHONE", "PLATE", "NIR", "IBAN", "EMAIL", "ADDRESS", "BIRTH_DATE"]

ENTITIES: Final[tuple[Entity, ...]] = ("PERSON", "PHONE", "PLATE", "NIR", "IBAN", "EMAIL", "ADDRESS", "BIRTH_DATE")
STRUCTURED: Final[frozenset[Entity]] = frozenset({"PHONE", "PLATE", "NIR", "IBAN", "EMAIL"})

# What replaces a span of each type in scrubbed text.
PLACEHOLDERS: Final[dict[Entity, str]] = {
    "PERSON": "<PERSONNE>", "PHONE": "<TELEPHONE>", "PLATE": "<PLAQUE>", "NIR": "<NIR>", "IBAN": "<IBAN>",
    "EMAIL": "<EMAIL>", "ADDRESS": "<ADRESSE>", "BIRTH_DATE": "<DATE_NAISSANCE>",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """Personal data of type ``entity`` at ``text[start:end]``.

    ``detector`` names the detector (``"regex:phone_fr"``, ``"spacy:fr_core_news_sm"``,
    ``"gazetteer:first_names"``...) and ``reason`` says why it decided (pattern,
    validator, context word, model label): the decision trace kept by the audit.
    """

    entity: Entity
    start: int
    end: int
    score: float
    detector: str
    reason: str


def _priority(f: Finding) -> tuple[int, float, int, str, str]:
    return (-(f.end - f.start), -f.score, f.start, f.entity, f.detector)


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Non-overlapping findings in text order: the longest span wins, then the highest score.

    Ties are broken by position, entity and detector name, so the result does
    not depend on the order detectors ran in.
    """
    chosen: list[Finding] = []
    taken: list[tuple[int, int]] = []
    for f in sorted(set(findings), key=_priority):
        if f.end <= f.start:
            continue
        if any(f.start < e and s < f.end for s, e in taken):
            continue
        chosen.append(f)
        taken.append((f.start, f.end))
    chosen.sort(key=lambda f: f.start)
    return chosen
