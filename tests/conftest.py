"""Shared fixtures: the packaged city profile, registered sources, writing small export files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from observatoire.city.profile import CityProfile, load_city
from observatoire.gate.admit import Gate
from observatoire.gate.policy import load_policies
from observatoire.gate.pseudonym import KeyRing, init_keyring
from observatoire.sources.base import Source
from observatoire.sources.registry import load_sources
from observatoire.store.parquet import ParquetStore

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session", autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory):
    """No test writes governance state (audit log, accounts, holds...) into the working tree's var/: every
    ``Settings.from_env`` of this process and of the commands it starts defaults under a temporary home;
    a test that names a path still gets it."""
    home = tmp_path_factory.mktemp("observatoire-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("OBSERVATOIRE_HOME", str(home))
    yield home
    mp.undo()


@pytest.fixture(scope="session")
def city() -> CityProfile:
    return load_city()


@pytest.fixture(scope="session")
def sources() -> dict[str, Source]:
    return load_sources()


@pytest.fixture(scope="session")
def scrubber():
    from observatoire.gate.pii import Scrubber

    return Scrubber()


@pytest.fixture(scope="session")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> KeyRing:
    return init_keyring(tmp_path_factory.mktemp("keys") / "pseudonym.key")


@pytest.fixture(scope="session")
def gate(keyring: KeyRing, scrubber) -> Gate:
    return Gate(load_policies(), keyring, scrubber)


@pytest.fixture
def store(tmp_path: Path, city: CityProfile) -> ParquetStore:
    return ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)


def write(directory: Path, name: str, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path
