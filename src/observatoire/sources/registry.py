"""The source registry: the packaged sources and the plug-ins, admitted through one door.

A third-party package adds a source by declaring, in its ``pyproject.toml``::

    [project.entry-points."observatoire.sources"]
    my_source = "my_package.module:MySource"

The packaged sources are listed in :data:`BUILTIN` (as datasette lists its default plug-ins beside the
entry points of the others) and go through the same checks as a plug-in: :func:`check_source` refuses, when
the registry is loaded and before anything is read, a source whose name is not ``[a-z][a-z0-9_]*`` (it
prefixes every event id and names a store partition) or whose descriptor (``sources/base.py``:
:class:`~observatoire.sources.base.SourceDescriptor`) is incomplete, naming the source and what is missing.

The registered descriptors are the one place per-source facts live: the event schema
(``event/schema.py``), the policies' completeness check (``gate/policy.py``), the retention table
(``governance/retention.py``), the register (``regulator/collect.py``), the labels and the evaluation plans'
discovery natures are built from them. Nothing is loaded at import time.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pyarrow as pa

from observatoire.errors import UnknownSourceError
from observatoire.event.schema import SOURCE_NAME_PATTERN
from observatoire.sources.base import DISCOVERY_NATURES, ROLES, Processing, Retention, Sample, Source, SourceDescriptor

GROUP = "observatoire.sources"
# A source name prefixes its event ids (``<source>:<24 hex>``, event/schema.py: EVENT_ID_PATTERN) and names a
# partition of the store (``events/source=<name>/``).
NAME_PATTERN = SOURCE_NAME_PATTERN

# The packaged sources. Their order is the order of the attribute struct that stores hold (event/schema.py):
# a new packaged source goes at the end; plug-ins follow, by name.
BUILTIN: tuple[str, ...] = (
    "observatoire.sources.mains_courantes:MainsCourantes",
    "observatoire.sources.verbalisations:Verbalisations",
    "observatoire.sources.municipal_reports:MunicipalReports",
    "observatoire.sources.cctv:CctvCameras",
    "observatoire.sources.cctv:CctvEvents",
    "observatoire.sources.hospital:Hospital",
    "observatoire.sources.hospital_counts:HospitalCounts",
    "observatoire.sources.social_media:SocialMedia",
    "observatoire.sources.police_uk:PoliceUk",
    "observatoire.sources.planned_events:PlannedEvents",
    "observatoire.sources.patrols:Patrols",
    "observatoire.sources.ssmsi:Ssmsi",
    "observatoire.sources.stops:Stops",
)


class SourceRegistrationError(UnknownSourceError):
    """A source that cannot be registered: an ill-formed name or an incomplete descriptor."""


@dataclass(frozen=True, slots=True)
class Registry:
    """The registered sources: ``sources`` by name, packaged ones first (in :data:`BUILTIN` order), then
    plug-ins by name: the order of the event schema's attribute struct."""

    sources: Mapping[str, Source]

    def descriptor(self, name: str) -> SourceDescriptor | None:
        source = self.sources.get(name)
        return None if source is None else source.descriptor

    def event_sources(self) -> list[str]:
        return [n for n, s in self.sources.items() if s.kind == "events"]

    def attributes(self) -> dict[str, pa.StructType]:
        """The typed attribute struct of every event source, in struct order."""
        return {n: s.descriptor.attributes for n, s in self.sources.items() if s.kind == "events"}

    def labels(self) -> dict[str, str]:
        return {n: s.descriptor.label for n, s in self.sources.items()}

    def retention(self) -> dict[str, Retention]:
        return {n: s.descriptor.retention for n, s in self.sources.items()}


_lock = threading.Lock()
_current: Registry | None = None


def _target(value: str) -> Any:
    module, _, attr = value.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _problems(source: Any) -> list[str]:
    """What keeps ``source`` (an instance) out of the registry; empty when it may be registered."""
    out: list[str] = []
    name = getattr(source, "name", None)
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        out.append(f"name {name!r} is not [a-z][a-z0-9_]* (at most 48 characters): it prefixes every event id "
                   "and names a store partition")
    kind = getattr(source, "kind", None)
    if kind not in ("events", "reference"):
        out.append(f"kind {kind!r} is not 'events' or 'reference'")
    patterns = getattr(source, "patterns", None)
    if not patterns or not isinstance(patterns, tuple) or not all(isinstance(p, str) and p for p in patterns):
        out.append("patterns: no file-name globs declared")
    if not isinstance(getattr(source, "needs", None), tuple):
        out.append("needs: a tuple of the reference tables it needs (empty if none) is required")
    for method in ("read", "canonicalise"):
        if not callable(getattr(source, method, None)):
            out.append(f"no {method}() method")
    d = getattr(source, "descriptor", None)
    if not isinstance(d, SourceDescriptor):
        out.append("no descriptor: declare descriptor = SourceDescriptor(label, fields, retention, processing, "
                   "sample, doc[, attributes, discovery]) on the connector")
        return out
    if not isinstance(d.label, str) or not d.label.strip():
        out.append("descriptor.label: the French display name is missing")
    out += _field_problems(source, d)
    out += _retention_problems(d.retention)
    out += _processing_problems(d)
    if not isinstance(d.sample, Sample) or not str(d.sample.path).strip():
        out.append("descriptor.sample: no documented sample (Sample(path[, city]))")
    elif d.sample.city is not None and not callable(d.sample.city):
        out.append("descriptor.sample.city: a function returning the sample's city profile, or None")
    if not isinstance(d.doc, Path):
        out.append("descriptor.doc: the path of the page that documents the format is missing")
    if kind == "events":
        if not isinstance(d.attributes, pa.StructType) or d.attributes.num_fields == 0:
            out.append("descriptor.attributes: an event source declares the typed struct of its own fields "
                       "(pa.struct([...]), at least one field)")
        elif len(set(d.attributes.names)) != d.attributes.num_fields:
            out.append("descriptor.attributes: a field name is repeated")
        if d.discovery not in DISCOVERY_NATURES:
            out.append(f"descriptor.discovery: how its incidents come to be known, one of "
                       f"{', '.join(DISCOVERY_NATURES)} (got {d.discovery!r})")
    elif kind == "reference":
        if d.attributes is not None or d.discovery is not None:
            out.append("descriptor: a reference table has no event attributes and no discovery nature")
    return out


def _field_problems(source: Any, d: SourceDescriptor) -> list[str]:
    if not isinstance(d.fields, Mapping) or not d.fields:
        return ["descriptor.fields: no field declared with its privacy role"]
    out = [f"descriptor.fields[{f!r}]: role {r!r} is not one of {', '.join(ROLES)}"
           for f, r in d.fields.items() if r not in ROLES]
    if sum(r == "key" for r in d.fields.values()) > 1:
        out.append("descriptor.fields: more than one field has the role 'key' (the record's own key)")
    read: list[str] = [*getattr(source, "columns", ()), *getattr(source, "optional", ()),
                       *getattr(source, "paths", {})]
    undeclared = [f for f in read if f not in d.fields]
    if undeclared:
        out.append(f"descriptor.fields: field(s) the connector reads without a privacy role: {', '.join(undeclared)}")
    unknown = [f for f in getattr(source, "vocabularies", {}) if f not in d.fields]
    if unknown:
        out.append(f"vocabularies name field(s) the descriptor does not declare: {', '.join(unknown)}")
    if "identifier" in d.fields.values() and isinstance(d.processing, Processing) \
            and not d.processing.data_subjects:
        out.append("descriptor.processing.data_subjects: the source reads identifiers, so it must say whom they "
                   "identify")
    return out


def _retention_problems(r: Any) -> list[str]:
    if not isinstance(r, Retention):
        return ["descriptor.retention: no retention declared: Retention(days) or Retention.no_limit(reason)"]
    if r.days is None:
        if not isinstance(r.reason, str) or not r.reason.strip():
            return ["descriptor.retention: no limit without a reason (Retention.no_limit(reason))"]
        return []
    if isinstance(r.days, bool) or not isinstance(r.days, int) or r.days <= 0:
        return [f"descriptor.retention: days must be a positive integer (got {r.days!r})"]
    return []


def _processing_problems(d: SourceDescriptor) -> list[str]:
    p = d.processing
    if not isinstance(p, Processing):
        return ["descriptor.processing: no entry for the register (Processing(label, legal_basis, data_subjects, "
                "recipients))"]
    out = []
    if not isinstance(p.label, str) or not p.label.strip():
        out.append("descriptor.processing.label: how the register names the data is missing")
    if p.legal_basis is not None and (not isinstance(p.legal_basis, str) or not p.legal_basis.strip()):
        out.append("descriptor.processing.legal_basis: a text, or None to leave it to the DPO")
    for attr in ("data_subjects", "recipients"):
        value = getattr(p, attr)
        if not isinstance(value, tuple) or not all(isinstance(v, str) and v.strip() for v in value):
            out.append(f"descriptor.processing.{attr}: a tuple of texts")
    if isinstance(p.recipients, tuple) and not p.recipients:
        out.append("descriptor.processing.recipients: no recipient named")
    return out


def check_source(source: Any, where: str = "") -> None:
    """Raise :class:`SourceRegistrationError` naming the source and everything its declaration lacks."""
    problems = _problems(source)
    if problems:
        name = getattr(source, "name", None) or type(source).__name__
        at = f" ({where})" if where else ""
        raise SourceRegistrationError(f"source {name!r}{at} cannot be registered: " + "; ".join(problems))


def _admit(found: dict[str, Source], source: Source, where: str) -> None:
    check_source(source, where)
    if source.name in found:
        raise SourceRegistrationError(f"source {source.name!r} ({where}) cannot be registered: another source has "
                                      "that name")
    found[source.name] = source


def _builtin(found: dict[str, Source]) -> dict[str, str]:
    targets = {}
    for value in BUILTIN:
        source = _target(value)()
        _admit(found, source, f"built-in {value}")
        targets[source.name] = value
    return targets


def _cross_check(found: Mapping[str, Source]) -> None:
    for source in found.values():
        missing = [n for n in source.needs if n not in found or found[n].kind != "reference"]
        if missing:
            raise SourceRegistrationError(f"source {source.name!r} cannot be registered: it needs "
                                          f"{', '.join(missing)}, which is not a registered reference source")


def builtin_sources() -> dict[str, Source]:
    """The packaged sources only, in :data:`BUILTIN` order (imports, no file read)."""
    found: dict[str, Source] = {}
    _builtin(found)
    return found


def _load(plugins: Iterable[Any]) -> Registry:
    found: dict[str, Source] = {}
    builtin = _builtin(found)
    extra: dict[str, Source] = {}
    for ep in sorted(plugins, key=lambda e: e.name):
        where = f"entry point {ep.name} = {ep.value}"
        if ep.name in builtin:
            if ep.value == builtin[ep.name]:
                continue                  # the packaged source, as installed metadata of an older release lists it
            raise SourceRegistrationError(f"source {ep.name!r} ({where}) cannot be registered: that is the name of a "
                                          "packaged source")
        source = ep.load()()
        if getattr(source, "name", None) != ep.name:
            raise SourceRegistrationError(f"entry point {ep.name!r} provides a source named "
                                          f"{getattr(source, 'name', None)!r}")
        _admit(extra, source, where)
    found.update(extra)
    _cross_check(found)
    return Registry(MappingProxyType(found))


def load_sources() -> dict[str, Source]:
    """Every registered source, by name, read now from the packaged list and the entry points (never at import
    time); the registry the schema, labels, retention and register are built from follows this reading."""
    global _current
    registry = _load(importlib.metadata.entry_points(group=GROUP))
    with _lock:
        _current = registry
    return {name: registry.sources[name] for name in sorted(registry.sources)}


def registered() -> Registry:
    """The registry as last loaded (loaded on first use)."""
    with _lock:
        current = _current
    if current is None:
        load_sources()
        with _lock:
            current = _current
    assert current is not None
    return current


class _Labels(Mapping[str, str]):
    """Source name -> French display name, read from the registered descriptors on first use."""

    def __getitem__(self, name: str) -> str:
        return registered().labels()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(registered().labels())

    def __len__(self) -> int:
        return len(registered().sources)


def source_labels() -> Mapping[str, str]:
    """The French display name of every registered source (its descriptor's ``label``), as a mapping that reads
    the registry when it is first looked into (never at import time)."""
    return _Labels()


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
