"""The layout of analytics/indicators and analytics/hotspots: pure statistics apart from the data access.

Checked on the source (every import, at module level or inside a function), so that
a pure module cannot start reading the store without this test saying which.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import observatoire.analytics.hotspots as hotspots
import observatoire.analytics.indicators as indicators

# What reads data: the engine, the store, and the analytics that build Ibis expressions.
DATA_ACCESS = ("ibis", "duckdb", "pyspark", "observatoire.store", "observatoire.analytics.aggregate",
               "observatoire.analytics.counts", "observatoire.analytics.places", "observatoire.ingest")

PURE = sorted([Path(indicators.__file__).with_name("stats.py"), Path(indicators.__file__).with_name("daily.py"),
               *Path(hotspots.__file__).parent.glob("*.py")])


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", PURE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_pure_module_imports_no_data_access(path: Path) -> None:
    bad = [name for name in _imports(path) if name.split(".")[0] in DATA_ACCESS
           or any(name == d or name.startswith(d + ".") for d in DATA_ACCESS)]
    assert bad == [], f"{path.name} imports data access: {bad}"


def test_the_indicators_read_data_in_queries() -> None:
    queries = Path(indicators.__file__).with_name("queries.py")
    assert any(name.startswith("observatoire.analytics.") and name.split(".")[2] in ("aggregate", "counts")
               for name in _imports(queries))


@pytest.mark.parametrize(("package", "modules"), [
    (indicators, ("stats", "daily", "queries")),
    (hotspots, ("kde", "getis_ord", "emerging", "fdr", "weights")),
])
def test_the_package_re_exports_each_public_name_of_its_modules_once(package: object, modules: tuple[str, ...]) -> None:
    seen: dict[str, str] = {}
    for name in modules:
        module = importlib.import_module(f"{package.__name__}.{name}")
        for public in module.__all__:
            assert public not in seen, f"{public} is in both {seen[public]} and {name}"
            seen[public] = name
            assert getattr(package, public) is getattr(module, public)
    assert sorted(seen) == sorted(package.__all__)
