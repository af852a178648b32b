"""The test plug-in ``noise311``, installed the way pip installs a distribution: a ``*.dist-info`` with an
``entry_points.txt`` in the ``observatoire.sources`` group, on ``sys.path``; the registry finds it through
``importlib.metadata`` as it finds any plug-in. Uninstalled (and the registry re-read) afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from observatoire.gate.admit import Gate
from observatoire.gate.policy import Policies, load_policies
from observatoire.sources.base import Source
from observatoire.sources.registry import GROUP, load_sources

PLUGIN_ROOT = Path(__file__).resolve().parent / "noise311"
PLUGIN_POLICY = PLUGIN_ROOT / "noise311_observatoire" / "policy.toml"
PACKAGED_POLICIES = Path(__file__).resolve().parents[2] / "src" / "observatoire" / "gate" / "policies.toml"


@contextmanager
def installed(site: Path, name: str = "noise311", target: str = "noise311_observatoire:Noise311",
              code: tuple[Path, ...] = (PLUGIN_ROOT,)) -> Iterator[dict[str, Source]]:
    """A distribution whose entry point ``name = target`` is in the sources group, on ``sys.path`` while the
    block runs (``code``: where its modules lie); yields the registry loaded with it."""
    dist = site / f"{name}_plugin-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-plugin\nVersion: 0.1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(f"[{GROUP}]\n{name} = {target}\n", encoding="utf-8")
    added = [str(site), *map(str, code)]
    sys.path[:0] = added
    try:
        yield load_sources()
    finally:
        for p in added:
            sys.path.remove(p)
        load_sources()      # the registry as installed again


@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[dict[str, Source]]:
    """The registry with ``noise311`` installed."""
    with installed(tmp_path / "site") as sources:
        yield sources


def plugin_policies(tmp_path: Path) -> Policies:
    """The packaged policies with the plug-in's section added, as a city would write its file."""
    path = tmp_path / "policies.toml"
    path.write_text(PACKAGED_POLICIES.read_text(encoding="utf-8") + "\n" + PLUGIN_POLICY.read_text(encoding="utf-8"),
                    encoding="utf-8")
    return load_policies(path)


@pytest.fixture
def plugin_gate(tmp_path: Path, keyring, scrubber) -> Gate:
    return Gate(plugin_policies(tmp_path), keyring, scrubber)
