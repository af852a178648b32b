"""A snapshot of the live configuration the regulator documents are written from.

Read at the moment a document is asked for (never a stored file): the gate's
policies (``settings.policy_path``), the registered sources and their descriptors
(label, data subjects, legal basis, recipients, retention declared or its absence
explained), retention per source (``settings.retention_days``, else the period the
source declares), the rule registry's active versions and operators' feedback
(``settings.registry_dir``), the forecast methods, the access table and declared
purposes, and ``processing.yaml`` (controller, purpose, risks: what no other
configuration holds; a city's copy may amend a source's entry).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from observatoire.errors import InputError

__all__ = ["Snapshot", "collect", "load_processing", "processing_entries"]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The configuration at ``generated_at``, as plain data."""

    generated_at: str
    version: str
    processing: Mapping[str, Any]
    sources: list[dict[str, Any]]          # one per source registered or with a policy: kind, fields by action,
    #                                        coarsening, retention, label, discovery nature, policy gaps
    rules: list[dict[str, Any]]            # the published registry (routes/rules.py: published)
    forecasters: list[dict[str, str]]
    access: list[dict[str, Any]]           # (method, path, roles, purpose) per route, when the access table exists
    purposes: list[dict[str, Any]]
    audit_retention_days: int | None


def load_processing(path: Path | None = None) -> Mapping[str, Any]:
    """``processing.yaml`` (packaged, or a city's ``path``); its ``sources`` (optional) amend the entries the
    registered sources declare (:func:`processing_entries`)."""
    try:
        text = (Path(path).read_text(encoding="utf-8") if path is not None
                else (resources.files("observatoire.regulator") / "processing.yaml").read_text(encoding="utf-8"))
        doc = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"processing file {path or 'processing.yaml'}: cannot be read ({type(exc).__name__})") \
            from exc
    if not isinstance(doc, Mapping):
        raise InputError("processing file: expected a mapping")
    amended = doc.get("sources")
    if amended is None:
        amended = {}
    if not isinstance(amended, Mapping) or not all(isinstance(v, Mapping) for v in amended.values()):
        raise InputError("processing file: 'sources' maps a source to the keys of its entry it amends")
    return {**doc, "sources": amended}


def processing_entries(amended: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The register's entry of every registered source, from its descriptor (``label``, ``data_subjects``,
    ``legal_basis``, ``recipients``), each amended by the keys ``amended[source]`` gives; an amended source
    that is not registered keeps its entry as given."""
    from observatoire.sources.registry import registered

    out: dict[str, dict[str, Any]] = {}
    for name, source in registered().sources.items():
        p = source.descriptor.processing
        out[name] = {"label": p.label, "data_subjects": list(p.data_subjects), "legal_basis": p.legal_basis,
                     "recipients": list(p.recipients)}
    for name, keys in (amended or {}).items():
        out[name] = {**out.get(name, {}), **keys}
    return out


def _sources(settings: Any) -> list[dict[str, Any]]:
    from observatoire.gate.policy import completeness, load_policies
    from observatoire.sources.registry import load_sources

    from observatoire.audits.stops import declared_group_columns

    policies = load_policies(settings.policy_path)
    registered = load_sources()
    lawful = declared_group_columns(settings.policy_path) if "stops" in policies.sources else {}
    gaps = completeness(policies, registered)
    retention = dict(settings.retention_days)
    out = []
    for name in sorted(set(policies.sources) | set(registered)):
        policy = policies.sources.get(name)
        by_action: dict[str, list[str]] = {}
        kinds: dict[str, str] = {}
        for field, rule in (policy.fields.items() if policy else ()):
            by_action.setdefault(rule.action, []).append(field)
            if rule.kind:
                kinds[field] = rule.kind
        source = registered.get(name)
        declared = source.descriptor.retention if source is not None else None
        out.append({
            "name": name, "kind": getattr(source, "kind", None), "registered": source is not None,
            "has_policy": policy is not None, "fields": by_action, "pseudonym_kinds": kinds,
            "coarsen_time": policy.coarsen_time if policy else None,
            "coarsen_place": policy.coarsen_place if policy else None,
            # the operator's period, else the one the source declares (what ingest stamps as retention_until)
            "retention_days": retention.get(name, declared.days if declared is not None else None),
            "retention_no_limit_reason": declared.reason if declared is not None and declared.days is None
            and name not in retention else None,
            "label": source.descriptor.label if source is not None else None,
            "discovery": source.descriptor.discovery if source is not None else None,
            "policy_gaps": gaps.get(name, []) if source is not None else [],
            # group columns (perceived origin, age band, sex) the deployment declares it lawfully keeps, with the
            # legal basis it gives ([stops.lawful]): column -> basis
            "lawful_group_columns": lawful if name == "stops" else {},
        })
    return out


def _access() -> list[dict[str, Any]]:
    from observatoire.governance.access import ACCESS

    return [{"method": m, "path": p, "roles": sorted(r.roles), "purpose": r.purpose, "dataset": r.dataset}
            for (m, p), r in sorted(ACCESS.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


def _purposes(settings: Any) -> list[dict[str, Any]]:
    from observatoire.auth.config import load_auth_config

    config = load_auth_config(settings.auth_dir)
    return [{"name": p.name, "description": p.description, "roles": sorted(p.roles)}
            for p in sorted(config.purposes.values(), key=lambda p: p.name)]


def collect(settings: Any, *, processing_path: Path | None = None, verdicts: bool = True) -> Snapshot:
    """Read the live configuration of ``settings`` now (``settings.clock()`` stamps it); ``verdicts=False``
    leaves out the operators' verdict counts (the public's copy)."""
    from importlib.metadata import PackageNotFoundError, version

    from observatoire.analytics.forecast.registry import load_forecasters
    from observatoire.registry.feedback import FeedbackLog
    from observatoire.registry.publish import published
    from observatoire.registry.versions import RuleRegistry

    try:
        package_version = version("observatoire")
    except PackageNotFoundError:
        package_version = "unknown"
    registry = RuleRegistry(settings.registry_dir, rules_dir=settings.rules_path, clock=settings.clock,
                            policy_path=settings.policy_path)   # read only: no audit log needed
    rules = published(registry, FeedbackLog(settings.registry_dir, clock=settings.clock) if verdicts else None)
    forecasters = [{"name": name, "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""}
                   for name, cls in load_forecasters().items()]
    from observatoire.governance.audit import RETENTION_DAYS as audit_days

    doc = load_processing(processing_path)
    processing = {**doc, "sources": processing_entries(doc["sources"])}
    return Snapshot(
        generated_at=settings.clock().astimezone(dt.UTC).isoformat(timespec="seconds"),
        version=package_version, processing=processing, sources=_sources(settings),
        rules=rules, forecasters=forecasters, access=_access(), purposes=_purposes(settings),
        audit_retention_days=audit_days,
    )
