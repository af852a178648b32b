"""Fixtures of the open-data sources: their gate (policies from this folder), the West Yorkshire profile.

The sources are passed to ``ingest`` directly, so these tests run whether or not the
entry points and packaged policies of ``docs/opendata.md`` are registered yet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from observatoire.city.profile import CityProfile
from observatoire.gate.admit import Gate
from observatoire.gate.policy import load_policies
from observatoire.gate.pseudonym import init_keyring
from observatoire.city.west_yorkshire import west_yorkshire_profile
from observatoire.sources.police_uk import PoliceUk
from observatoire.sources.ssmsi import Ssmsi
from observatoire.store.parquet import ParquetStore

HERE = Path(__file__).resolve().parent
POLICIES = HERE / "policies_opendata.toml"


@pytest.fixture(scope="session")
def opendata_gate(tmp_path_factory: pytest.TempPathFactory) -> Gate:
    """The gate with the open-data policies only; no free text is scrubbed, so no scrubber."""
    policy = tmp_path_factory.mktemp("policies") / "policies.toml"
    policy.write_text(POLICIES.read_text(encoding="utf-8"), encoding="utf-8")
    return Gate(load_policies(policy), init_keyring(tmp_path_factory.mktemp("keys") / "pseudonym.key"))


@pytest.fixture(scope="session")
def opendata_sources() -> dict:
    return {"police_uk": PoliceUk(), "ssmsi": Ssmsi()}


@pytest.fixture(scope="session")
def west_yorkshire() -> CityProfile:
    return west_yorkshire_profile()


@pytest.fixture
def wy_store(tmp_path: Path, west_yorkshire: CityProfile) -> ParquetStore:
    return ParquetStore(tmp_path / "store", zone_ids=west_yorkshire.zone_ids)
