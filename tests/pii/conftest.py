"""Fixtures of the PII scrubber tests: one scrubber per session (the spaCy model loads in seconds)."""

from __future__ import annotations

import pytest

from observatoire.gate.pii import Scrubber


@pytest.fixture(scope="session")
def pii(request: pytest.FixtureRequest) -> Scrubber:
    """The session's scrubber: the one the gate tests use when there is one, else a new one."""
    try:
        found = request.getfixturevalue("scrubber")
    except pytest.FixtureLookupError:
        found = None
    return found if isinstance(found, Scrubber) else Scrubber()


@pytest.fixture(scope="session")
def rules_only() -> Scrubber:
    """A scrubber without the NER model: the rules alone."""
    return Scrubber(model=None)

