"""Precision and recall of findings against labelled spans, per entity type.

A labelled span is *found* when predicted spans of the same type cover every
one of its characters (a name half removed is not removed). A predicted span
is *right* when it overlaps a labelled span of the same type. Recall is strict
because what is left of personal data is what leaks; precision is lenient on
boundaries because an over-long span costs only readability.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from observatoire.gate.pii.finding import ENTITIES


@dataclass(frozen=True, slots=True)
class Span:
    entity: str
    start: int
    end: int


@dataclass(slots=True)
class Counts:
    labelled: int = 0
    found: int = 0          # labelled spans fully covered
    predicted: int = 0
    right: int = 0          # predicted spans overlapping a labelled span of their type
    missed: list[tuple[int, Span]] = field(default_factory=list)       # (text index, span)
    wrong: list[tuple[int, Span]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 1.0


def score(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]]) -> dict[str, Counts]:
    """Counts per entity type over a corpus (``gold[i]`` and ``predicted[i]`` are the spans of text ``i``)."""
    out = {e: Counts() for e in ENTITIES}
    for n, (g_spans, p_spans) in enumerate(zip(gold, predicted, strict=True)):
        g_list, p_list = list(g_spans), list(p_spans)
        for g in g_list:
            c = out.setdefault(g.entity, Counts())
            c.labelled += 1
            covered = set()
            for p in p_list:
                if p.entity == g.entity:
                    covered.update(range(max(p.start, g.start), min(p.end, g.end)))
            if len(covered) == g.end - g.start:
                c.found += 1
            else:
                c.missed.append((n, g))
        for p in p_list:
            c = out.setdefault(p.entity, Counts())
            c.predicted += 1
            if any(g.entity == p.entity and g.start < p.end and p.start < g.end for g in g_list):
                c.right += 1
            else:
                c.wrong.append((n, p))
    return out
