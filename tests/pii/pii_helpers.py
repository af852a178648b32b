"""Helpers of the PII scrubber tests (a module of its own: conftest modules are not importable by name)."""

from __future__ import annotations

from observatoire.gate.pii import Scrubber


def spans(scrubber: Scrubber, text: str, entity: str) -> list[str]:
    """The substrings of ``text`` found as ``entity``."""
    return [text[f.start:f.end] for f in scrubber.find(text) if f.entity == entity]
