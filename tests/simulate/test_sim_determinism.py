"""Same seed, year and scale: byte-identical files; another seed: other files."""

from __future__ import annotations

from pathlib import Path

import pytest

from observatoire.city.profile import CityProfile
from observatoire.errors import InputError
from observatoire.simulate import simulate_city_year


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def three_runs(city: CityProfile, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    roots = tuple(tmp_path_factory.mktemp(name) for name in ("a", "b", "c"))
    for root, seed in zip(roots, (5, 5, 6)):
        simulate_city_year(city, root, seed=seed, year=2025, scale=0.02)
    return roots


def test_when_same_seed_then_every_file_is_byte_identical(three_runs: tuple[Path, Path, Path]) -> None:
    a, b, _ = three_runs
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys()
    assert len(fa) == 10 + 6      # exports (stops included) + truth files (stops.parquet included)
    for name in fa:
        assert fa[name] == fb[name], name


def test_when_seed_differs_then_the_event_exports_differ(three_runs: tuple[Path, Path, Path]) -> None:
    a, _, c = three_runs
    fa, fc = _files(a), _files(c)
    for name in fa:
        if name.startswith("exports/") and not name.startswith("exports/planned_events"):
            assert fa[name] != fc[name], name


def test_when_scale_is_not_positive_then_input_error(city: CityProfile, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        simulate_city_year(city, tmp_path, scale=0.0)
