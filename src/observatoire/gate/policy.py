"""Per-source privacy policies, declared in configuration and enforced by the gate.

Each source's policy names every field the source may send and what the gate
does with it:

``keep:<check>``         passes unchanged once checked: every kept value must be a ``number``, an
                         ``integer``, a ``time`` (digits and date/time separators only), a ``code`` matching
                         the rule's ``pattern``, or a word of a closed ``vocabulary`` (the rule's ``values``,
                         or the connector's ``vocabularies[field]``). A value that fails its check refuses
                         the row (``invalid_value``, the field named, never the value). ``values`` given
                         with another check are extra spellings it accepts ("NA", "s", "< 11").
                         There is no unchecked ``keep``: free text is ``scrub``.
``key``                  the record's own key (a logbook number, a post id): replaced by a keyed digest
                         under the key ring's record key, so that the event id derived from it is keyed
                         too and the raw key is never stored
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

Each connector declares the fields it reads with their privacy role (``sources/base.py``: ``ROLES``);
:func:`completeness` checks a policy file against the registered sources: every declared field has a rule,
every rule names a declared field, and the action fits the role (:data:`ROLE_ACTIONS`: an identifier is never
kept, free text is scrubbed or dropped, a forbidden field is refused, the record key is keyed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from observatoire.configfile import read_toml
from observatoire.errors import InputError

if TYPE_CHECKING:
    from observatoire.sources.base import Source

ACTIONS = ("keep", "key", "drop", "scrub", "pseudonymise", "refuse")
CHECKS = ("number", "integer", "time", "code", "vocabulary")
KINDS = ("plate", "phone", "person", "officer", "patient", "author", "id")
TIME_COARSENING = ("hour", "day")
# The actions a policy may give a field of each privacy role a connector declares.
ROLE_ACTIONS: Mapping[str, frozenset[str]] = MappingProxyType({
    "key": frozenset({"key"}),
    "data": frozenset({"keep", "drop"}),
    "identifier": frozenset({"pseudonymise", "drop", "refuse"}),
    "free_text": frozenset({"scrub", "drop", "refuse"}),
    "forbidden": frozenset({"refuse"}),
    "group": frozenset({"refuse", "keep", "drop"}),
})


@dataclass(frozen=True, slots=True)
class FieldRule:
    action: str
    kind: str | None = None        # for pseudonymise
    split: str | None = None       # for pseudonymise of a list field
    check: str | None = None       # for keep: one of CHECKS
    pattern: str | None = None     # for keep:code: the regular expression a whole value must match
    values: tuple[str, ...] | None = None   # for keep: the vocabulary, or extra spellings another check accepts


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
    where = f"policy {source}.{name}"
    if isinstance(spec, str):
        spec = {"action": spec}
    if not isinstance(spec, dict):
        raise InputError(f"{where}: expected a string or a table")
    action, _, kind = str(spec.get("action", "")).partition(":")
    if action not in ACTIONS:
        raise InputError(f"{where}: unknown action {action!r} (one of {', '.join(ACTIONS)})")
    if action == "pseudonymise" and kind not in KINDS:
        raise InputError(f"{where}: pseudonymise needs a kind among {', '.join(KINDS)}")
    pattern, values = spec.get("pattern"), spec.get("values")
    if action != "keep":
        if pattern is not None or values is not None:
            raise InputError(f"{where}: pattern and values belong to a keep rule")
        return FieldRule(action, kind or None, spec.get("split"))
    if kind not in CHECKS:
        raise InputError(f"{where}: keep needs a check, keep:<{'|'.join(CHECKS)}> (free text is scrub); "
                         "no field is kept unchecked")
    if (kind == "code") != (pattern is not None):
        raise InputError(f"{where}: a pattern goes with keep:code, and keep:code needs one")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InputError(f"{where}: pattern is not a regular expression ({exc})") from None
    if values is not None and not (isinstance(values, list) and all(isinstance(v, str) for v in values)):
        raise InputError(f"{where}: values is a list of strings")
    return FieldRule("keep", None, None, kind, pattern, tuple(values) if values is not None else None)


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


def completeness(policies: Policies, sources: Mapping[str, "Source"]) -> dict[str, list[str]]:
    """Per registered source, what its policy in ``policies`` lacks or contradicts (no entry: complete).

    A source without a policy, a declared field no rule names, a rule naming a field the connector does not
    declare, an action that does not fit the field's privacy role.
    """
    out: dict[str, list[str]] = {}
    for name, source in sorted(sources.items()):
        declared = source.descriptor.fields
        policy = policies.sources.get(name)
        if policy is None:
            out[name] = [f"no privacy policy for source {name} in {policies.path}"]
            continue
        problems = [f"{name}.{f}: declared ({role}) but named by no rule" for f, role in declared.items()
                    if f not in policy.fields]
        problems += [f"{name}.{f}: the policy names a field the connector does not declare" for f in policy.fields
                     if f not in declared]
        problems += [f"{name}.{f}: action {rule.action} does not fit the role {declared[f]} "
                     f"(one of {', '.join(sorted(ROLE_ACTIONS[declared[f]]))})"
                     for f, rule in policy.fields.items()
                     if f in declared and rule.action not in ROLE_ACTIONS.get(declared[f], frozenset())]
        if problems:
            out[name] = problems
    return out


def check_complete(policies: Policies, sources: Mapping[str, "Source"]) -> None:
    """Raise :class:`InputError` listing every gap :func:`completeness` finds."""
    gaps = completeness(policies, sources)
    if gaps:
        lines = [p for problems in gaps.values() for p in problems]
        raise InputError(f"policy file {policies.path}: incomplete for the registered sources: " + "; ".join(lines))
