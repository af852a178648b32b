"""Shared simulated city-years for the simulator tests (small scales, built once per session)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from observatoire.city.profile import CityProfile
from observatoire.simulate import SimulationSummary, simulate_city_year

SEED = 11
SCALE = 0.05


@dataclass(frozen=True)
class Run:
    summary: SimulationSummary
    params: dict

    @property
    def exports(self) -> dict[str, Path]:
        return self.summary.exports

    @property
    def truth(self) -> dict[str, Path]:
        return self.summary.truth


@pytest.fixture(scope="session")
def run(city: CityProfile, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """A city-year at scale 0.05 (about 10,000 true incidents)."""
    out = tmp_path_factory.mktemp("sim")
    steps: list[tuple[str, float]] = []
    summary = simulate_city_year(city, out, seed=SEED, year=2025, scale=SCALE,
                                 progress=lambda s, f: steps.append((s, f)))
    params = json.loads((out / "truth" / "parameters.json").read_text(encoding="utf-8"))
    params["_progress"] = steps
    return Run(summary=summary, params=params)
