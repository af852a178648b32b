"""Per-source privacy policies, declared in configuration and enforced by the gate.

Each source's policy names every field the source may send and what the gate
does with it:

``keep``                 passes unchanged (structured data: dates, codes, coordinates)
``drop``                 read but never stored (e.g. an address once its postcode is derived)
``scrub``                free text: French personal data replaced by typed placeholders
``pseudonymise:<kind>``  a direct identifier, replaced by a keyed token (kinds: plate, phone,
                         person, officer, patient, author, id); ``split`` cuts a list field
``refuse``               a field that must never be sent (an image, a face, a biometric template):
                         a row carrying it is quarantined

A field that no policy names is refused: the whole file for a tabular export
(its columns are known up front), the row for JSON Lines. ``coarsen`` lowers
the precision of what is stored: ``time = "hour" | "day"``, ``place = "zone"``.
The packaged ``policies.toml`` is the default; a city may replace it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from observatoire.configfile import read_toml
from observatoire.errors import InputError

ACTIONS = ("keep", "drop", "scrub", "pseudonymise", "refuse")
KINDS = ("plate", "phone", "person", "officer", "patient", "author", "id")
TIME_COARSENING = ("hour", "day")


@dataclass(frozen=True, slots=True)
class FieldRule:
    action: str
    kind: str | None = None        # for pseudonymise
    split: str | None = None       # for pseudonymise of a list field


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    source: str
    fields: Mapping[str, FieldRule]
    coarsen_time: str | None = None
    coarsen_place: str | None = None

    def named(self, field_name: str) -> bool:
        return field_name in self.fields


@dataclass(frozen=True, slots=True)
class Policies:
    sources: Mapping[str, SourcePolicy] = field(default_factory=dict)
    path: Path | None = None

    def of(self, source: str) -> SourcePolicy:
        try:
            return self.sources[source]
        except KeyError:
            raise InputError(f"no privacy policy for source {source!r} in {self.path}; "
                             "the gate admits nothing without one") from None


def _rule(source: str, name: str, spec: object) -> FieldRule:
    if isinstance(spec, str):
        action, _, kind = spec.partition(":")
        split = None
    elif isinstance(spec, dict):
        action, _, kind = str(spec.get("action", "")).partition(":")
        split = spec.get("split")
    else:
        raise InputError(f"policy {source}.{name}: expected a string or a table")
    if action not in ACTIONS:
        raise InputError(f"policy {source}.{name}: unknown action {action!r} (one of {', '.join(ACTIONS)})")
    if action == "pseudonymise" and kind not in KINDS:
        raise InputError(f"policy {source}.{name}: pseudonymise needs a kind among {', '.join(KINDS)}")
    return FieldRule(action, kind or None, split)


def load_policies(path: Path | None = None) -> Policies:
    """Read a policy file; ``None`` gives the packaged default."""
    doc, where = read_toml(path, "observatoire.gate", "policies.toml", "policy file")
    sources = {}
    for source, spec in doc.items():
        fields = {name: _rule(source, name, rule) for name, rule in (spec.get("fields") or {}).items()}
        coarsen = spec.get("coarsen") or {}
        time, place = coarsen.get("time"), coarsen.get("place")
        if time not in (None, *TIME_COARSENING) or place not in (None, "zone"):
            raise InputError(f"policy {source}.coarsen: time in {TIME_COARSENING}, place 'zone'")
        sources[source] = SourcePolicy(source, MappingProxyType(fields), time, place)
    return Policies(MappingProxyType(sources), where)
