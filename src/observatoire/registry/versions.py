"""Rule versions and their approval: proposals wait for a supervisor other than their author.

Version 1 of each rule is its YAML file (packaged in ``registry/rules/``, or a
city's directory given as ``settings.rules_path``). Later versions, and new
rules, are proposed by an analyst or a supervisor and stored *pending* under
``settings.registry_dir/rules/<id>.json``; one becomes *active* when a supervisor
who did not propose it approves it (the version it replaces becomes
*superseded*), or is *rejected*. Every proposal, approval, rejection and refused
attempt is written to the audit log (``rule_change``, ``rule_approval``); the
history of every version is kept. A rule whose active version has status
``suspended`` or ``retired`` raises no alert.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml

from observatoire.analytics.alerts import ClashRule, Rule
from observatoire.errors import InputError
from observatoire.registry.lint import LintContext, check, engine_rule, lint_document
from observatoire.statefiles import ensure_private_dir, locked, write_json

__all__ = ["AccessDenied", "RuleRegistry", "RuleVersion", "packaged_rules_dir"]

State = Literal["active", "pending", "superseded", "rejected"]
PROPOSERS = frozenset({"analyst", "supervisor"})
APPROVERS = frozenset({"supervisor"})
PACKAGE = "package"


class AccessDenied(InputError, PermissionError):
    """The actor's role may not do this, or a supervisor tried to approve their own proposal."""


class Recorder(Protocol):
    def record(self, action: str, **fields: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class RuleVersion:
    """One version of one rule and what became of it."""

    rule_id: str
    version: int
    state: State
    document: Mapping[str, Any]          # the YAML document, JSON-ready (dates as ISO text)
    proposed_by: str                     # "package" for the YAML files, else the audit actor
    proposed_role: str
    proposed_at: str | None
    decided_by: str | None = None
    decided_role: str | None = None
    decided_at: str | None = None

    def public(self) -> dict[str, Any]:
        """The version as published: roles, not the logins of the staff involved (those are in the audit log)."""
        return {"version": self.version, "state": self.state, "status": self.document.get("status"),
                "proposed_by_role": self.proposed_role, "proposed_at": self.proposed_at,
                "decided_by_role": self.decided_role, "decided_at": self.decided_at}


def packaged_rules_dir() -> Path:
    """The directory of the packaged YAML rules (version 1 of each)."""
    return Path(str(resources.files("observatoire.registry") / "rules"))


def _jsonable(doc: Any) -> Any:
    if isinstance(doc, Mapping):
        return {str(k): _jsonable(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_jsonable(v) for v in doc]
    if isinstance(doc, (dt.date, dt.datetime)):
        return doc.isoformat()
    return doc


class RuleRegistry:
    """The rules, their versions and their approval state.

    Parameters
    ----------
    state_dir
        ``settings.registry_dir``: proposals, decisions and alert feedback (created on first write);
        None: the YAML rules only, read-only.
    rules_dir
        The YAML rules that are version 1 (None: the packaged ones).
    clock
        ``settings.clock``: review dates are checked against its day; decisions are stamped with it.
    audit
        Where proposals and decisions are recorded (an ``AuditLog``); required for any change.
    context
        The linter's context; built from the packaged policies and sources when None.
    """

    def __init__(self, state_dir: Path | None, *, rules_dir: Path | None = None,
                 clock: Callable[[], dt.datetime] | None = None, audit: Recorder | None = None,
                 context: LintContext | None = None, policy_path: Path | None = None) -> None:
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.rules_dir = Path(rules_dir) if rules_dir is not None else packaged_rules_dir()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.audit = audit
        self._context = context
        self._policy_path = policy_path
        self._base: dict[str, dict[str, Any]] | None = None

    @classmethod
    def from_settings(cls, settings: Any, *, audit: Recorder | None = None) -> "RuleRegistry":
        """The registry of ``settings`` (``registry_dir``, ``rules_path``, ``clock``, the audit log)."""
        if audit is None:
            audit = _audit_log(settings)
        return cls(settings.registry_dir, rules_dir=settings.rules_path, clock=settings.clock, audit=audit,
                   policy_path=settings.policy_path)

    # -- reading ---------------------------------------------------------------------------------
    def context(self, known_rules: Any = None) -> LintContext:
        base = self._context or LintContext.build(self.clock().date(), policy_path=self._policy_path)
        self._context = base
        today = self.clock().date()
        return LintContext(today, base.fields, None if known_rules is None else frozenset(known_rules))

    def _packaged(self) -> dict[str, dict[str, Any]]:
        """Version 1 of each rule, from the YAML files (read once; each must pass the linter but the review date)."""
        if self._base is None:
            if not self.rules_dir.is_dir():
                raise InputError(f"rules directory {self.rules_dir} does not exist (OBSERVATOIRE_RULES is a "
                                 "directory of YAML rules)")
            base: dict[str, dict[str, Any]] = {}
            ctx = LintContext(dt.date.min, self.context().fields)  # an overdue review is reported, not fatal
            for path in sorted(self.rules_dir.glob("*.yaml")):
                try:
                    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
                except (OSError, yaml.YAMLError) as exc:
                    raise InputError(f"rule file {path.name}: cannot be read ({type(exc).__name__})") from exc
                findings = lint_document(doc, ctx)
                if findings:
                    raise InputError(f"rule file {path.name} refused: {findings[0]}")
                if doc["version"] != 1:
                    raise InputError(f"rule file {path.name}: a rule file is version 1 (later versions are "
                                     "proposed and approved)")
                if doc["id"] in base:
                    raise InputError(f"rule file {path.name}: rule id {doc['id']} is used twice")
                base[doc["id"]] = _jsonable(doc)
            self._base = base
        return self._base

    def _state_path(self, rule_id: str) -> Path:
        if self.state_dir is None:
            raise InputError("this registry is read-only (no registry directory)")
        return self.state_dir / "rules" / f"{rule_id}.json"

    def _stored(self, rule_id: str) -> list[dict[str, Any]]:
        if self.state_dir is None:
            return []
        path = self._state_path(rule_id)
        if not path.exists():
            return []
        try:
            return list(json.loads(path.read_text(encoding="utf-8"))["versions"])
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"registry state {path.name} cannot be read ({type(exc).__name__})") from exc

    def ids(self) -> list[str]:
        """Every rule id: the YAML files', then those proposed as new rules (sorted)."""
        folder = None if self.state_dir is None else self.state_dir / "rules"
        stored = sorted(p.stem for p in folder.glob("*.json")) if folder is not None and folder.is_dir() else []
        base = list(self._packaged())
        return base + [i for i in stored if i not in base]

    def versions(self, rule_id: str) -> list[RuleVersion]:
        """Every version of ``rule_id``, oldest first, each with its state."""
        records = []
        if (doc := self._packaged().get(rule_id)) is not None:
            records.append({"version": 1, "document": doc, "proposed_by": PACKAGE, "proposed_role": PACKAGE,
                            "proposed_at": None, "decision": "approved", "decided_by": PACKAGE,
                            "decided_role": PACKAGE, "decided_at": None})
        records += self._stored(rule_id)
        if not records:
            raise InputError(f"unknown rule {rule_id!r}")
        approved = [r["version"] for r in records if r.get("decision") == "approved"]
        active = max(approved) if approved else None
        out = []
        for r in records:
            decision = r.get("decision")
            state: State = ("pending" if decision is None else "rejected" if decision == "rejected"
                            else "active" if r["version"] == active else "superseded")
            out.append(RuleVersion(rule_id, r["version"], state, r["document"], r["proposed_by"],
                                   r["proposed_role"], r["proposed_at"], r.get("decided_by"),
                                   r.get("decided_role"), r.get("decided_at")))
        return out

    def active(self) -> list[RuleVersion]:
        """The active version of every rule that has one (whatever its status)."""
        out = []
        for rule_id in self.ids():
            out += [v for v in self.versions(rule_id) if v.state == "active"]
        return out

    def applied(self) -> tuple[list[Rule | ClashRule], list[dict[str, Any]]]:
        """What the alert engine runs: the active versions with status ``active`` whose review date has not
        passed; and those skipped for their review date (id, version, reason)."""
        rules: list[Rule | ClashRule] = []
        skipped: list[dict[str, Any]] = []
        for version in self.active():
            if version.document.get("status") != "active":
                continue
            if self.overdue(version):
                skipped.append({"id": version.rule_id, "version": version.version,
                                "reason": f"review date {version.document['review_date']} has passed"})
            else:
                rules.append(engine_rule(version.document))
        return rules, skipped

    def engine_rules(self) -> list[Rule | ClashRule]:
        """The rules :meth:`applied` runs."""
        return self.applied()[0]

    def overdue(self, version: RuleVersion) -> bool:
        """Whether the review date of ``version`` has passed (by the clock)."""
        return dt.date.fromisoformat(str(version.document["review_date"])) < self.clock().date()

    # -- changing --------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self.state_dir is None:
            raise InputError("this registry is read-only (no registry directory)")
        ensure_private_dir(self.state_dir / "rules")
        with locked(self.state_dir / "registry"):   # one writer at a time: read, change, write
            yield

    def _write(self, rule_id: str, records: list[dict[str, Any]]) -> None:
        write_json(self._state_path(rule_id), {"rule_id": rule_id, "versions": records})

    def _record(self, action: str, *, actor: str, role: str, rule_id: str, version: int | None, outcome: str,
                detail: dict[str, Any]) -> None:
        if self.audit is None:
            raise InputError("rule changes need the audit log: no audit log is configured")
        self.audit.record(action, actor=actor, role=role, dataset="rules",
                          filters={"rule": rule_id, "version": version}, rows=1 if outcome == "ok" else 0,
                          outcome=outcome, detail=detail)

    def _now(self) -> str:
        return self.clock().astimezone(dt.UTC).isoformat()

    def propose(self, document: Any, *, actor: str, role: str) -> RuleVersion:
        """Store ``document`` as a pending version (audited ``rule_change``).

        The document must pass the linter and carry the next version number of its rule
        (1 for a new rule); a rule has at most one pending version at a time.

        Raises
        ------
        AccessDenied
            ``role`` is neither analyst nor supervisor (the attempt is audited as denied).
        InputError
            The linter refuses the document, or its version is not the next one.
        """
        rule_id = str(document.get("id")) if isinstance(document, Mapping) else "?"
        version = document.get("version") if isinstance(document, Mapping) else None
        version = version if isinstance(version, int) and not isinstance(version, bool) else None
        if role not in PROPOSERS:
            self._record("rule_change", actor=actor, role=role, rule_id=rule_id, version=version,
                         outcome="denied", detail={"reason": "role may not propose rules"})
            raise AccessDenied(f"role {role} may not propose rules (analyst or supervisor)")
        with self._locked():
            known = set(self.ids()) | {rule_id}
            check(document, self.context(known_rules=known))
            try:
                existing = self.versions(rule_id)
            except InputError:
                existing = []
            expected = max((v.version for v in existing), default=0) + 1
            if any(v.state == "pending" for v in existing):
                raise InputError(f"rule {rule_id} already has a pending version: approve or reject it first")
            if document["version"] != expected:
                raise InputError(f"rule {rule_id}: the next version is {expected}, the document says "
                                 f"{document['version']}")
            records = self._stored(rule_id)
            records.append({"version": expected, "document": _jsonable(document), "proposed_by": actor,
                            "proposed_role": role, "proposed_at": self._now(), "decision": None})
            self._write(rule_id, records)
            self._record("rule_change", actor=actor, role=role, rule_id=rule_id, version=expected, outcome="ok",
                         detail={"state": "pending"})
        return self.versions(rule_id)[-1]

    def decide(self, rule_id: str, version: int, *, approve: bool, actor: str, role: str) -> RuleVersion:
        """Approve or reject a pending version (audited ``rule_approval``).

        Raises
        ------
        AccessDenied
            ``role`` is not supervisor, or ``actor`` proposed the version (both audited as denied).
        InputError
            No such pending version.
        """
        decision = "approved" if approve else "rejected"
        with self._locked():
            records = self._stored(rule_id)
            found = [r for r in records if r["version"] == version]
            reason = None
            if role not in APPROVERS:
                reason = "role may not decide on rules"
            elif found and found[0]["proposed_by"] == actor:
                reason = "the author of a version may not decide on it"
            if reason is not None:
                self._record("rule_approval", actor=actor, role=role, rule_id=rule_id, version=version,
                             outcome="denied", detail={"decision": decision, "reason": reason})
                raise AccessDenied(f"rule {rule_id} version {version}: {reason} (a supervisor other than the "
                                   "author decides)")
            if not found or found[0].get("decision") is not None:
                raise InputError(f"rule {rule_id} has no pending version {version}")
            if approve:  # the watched rules of a clash must still exist when it becomes active
                check(found[0]["document"], self.context(known_rules=set(self.ids())))
            found[0].update(decision=decision, decided_by=actor, decided_role=role, decided_at=self._now())
            self._write(rule_id, records)
            self._record("rule_approval", actor=actor, role=role, rule_id=rule_id, version=version, outcome="ok",
                         detail={"decision": decision})
        return next(v for v in self.versions(rule_id) if v.version == version)


def _audit_log(settings: Any) -> Recorder | None:
    """``settings.audit_log()`` when it exists, else an ``AuditLog`` over ``settings.audit_dir``."""
    maker = getattr(settings, "audit_log", None)
    if callable(maker):
        return maker()
    try:
        from observatoire.governance.audit import AuditLog
    except ImportError:
        return None
    return AuditLog(settings.audit_dir, clock=settings.clock)
