"""The source registry: built-in sources are registered through the same entry-point group as plug-ins.

A third-party package adds a source by declaring, in its ``pyproject.toml``::

    [project.entry-points."observatoire.sources"]
    my_source = "my_package.module:MySource"
"""

from __future__ import annotations

from fnmatch import fnmatch
from importlib.metadata import entry_points
from pathlib import Path

from observatoire.errors import UnknownSourceError
from observatoire.sources.base import Source

GROUP = "observatoire.sources"


def load_sources() -> dict[str, Source]:
    """Every registered source, by name (loaded now, not at import time)."""
    found: dict[str, Source] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        source = ep.load()()
        if source.name != ep.name:
            raise UnknownSourceError(f"entry point {ep.name!r} provides a source named {source.name!r}")
        found[source.name] = source
    return found


def resolve(path: Path, sources: dict[str, Source], name: str | None = None) -> Source:
    """The source of ``path``: the one named, or the one whose file pattern matches."""
    if name is not None:
        if name not in sources:
            raise UnknownSourceError(f"unknown source {name!r}; known: {', '.join(sorted(sources))}")
        return sources[name]
    # The most specific pattern wins: "hospital_counts*.csv" over "hospital*.csv".
    scored = sorted(((max(len(p) for p in s.patterns if fnmatch(path.name, p)), s.name) for s in sources.values()
                     if any(fnmatch(path.name, p) for p in s.patterns)), reverse=True)
    matches = [sources[name] for score, name in scored if score == scored[0][0]] if scored else []
    if len(matches) != 1:
        raise UnknownSourceError(
            f"{path}: no single source recognises this file name; name it with --source "
            f"(known: {', '.join(sorted(sources))})")
    return matches[0]
