"""French personal data in free text: find it (:class:`Finding`) and scrub it (:class:`Scrubber`).

Importing this package loads nothing: the word lists and the spaCy model are
read when a :class:`Scrubber` is built. See ``docs/pii.md``.
"""

from observatoire.gate.pii.errors import MissingModelError
from observatoire.gate.pii.finding import ENTITIES, PLACEHOLDERS, STRUCTURED, Entity, Finding, resolve_overlaps
from observatoire.gate.pii.scrubber import DEFAULT_MODEL, Scrubbed, Scrubber

__all__ = ["DEFAULT_MODEL", "ENTITIES", "PLACEHOLDERS", "STRUCTURED", "Entity", "Finding", "MissingModelError",
           "Scrubbed", "Scrubber", "resolve_overlaps"]
