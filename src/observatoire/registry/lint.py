"""The rule linter: what a rule document may say, and one-line reasons for what it may not.

Refused: unknown keys (at any level), categories outside the taxonomy, a source
that is not an event source, a field the source's privacy policy does not store
or only stores as a pseudonym, any word naming a protected attribute (origin,
religion, political opinion, union membership, health, sex life or orientation,
biometrics, age), anything that scores, follows or counts persons (pseudonyms,
person ids, plates, faces, "individu", "par personne"...), a unit other than the
zone, a review date in the past, a missing legal basis.

``observatoire rules lint FILE...`` runs :func:`lint_file` on each file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from observatoire.analytics.alerts import PARAMETERS, ClashRule, Rule, Stream
from observatoire.errors import InputError
from observatoire.event.taxonomy import CCTV_DECREE_CODES, is_category
from observatoire.registry import vocabulary as V

__all__ = ["Finding", "LintContext", "lint_document", "lint_file", "lint_text"]

FREE_TEXT = ("title", "purpose")
# They name legal texts and services ("code de la santé publique"), not what the rule looks at.
UNSCANNED = ("legal_basis", "owner")


@dataclass(frozen=True, slots=True)
class Finding:
    """One refusal: where in the document (a dotted path) and why, in one line."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where or '(document)'}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LintContext:
    """What the linter checks a rule against.

    Parameters
    ----------
    today
        Review dates before it are refused (``settings.clock().date()``).
    fields
        Per event source, each field of its privacy policy and the policy's action
        (``keep``, ``scrub``, ``drop``, ``pseudonymise``, ``refuse``).
    known_rules
        Rule ids a clash rule may watch (None: not checked).
    """

    today: dt.date
    fields: Mapping[str, Mapping[str, str]]
    known_rules: frozenset[str] | None = None

    @classmethod
    def build(cls, today: dt.date, *, policy_path: Path | None = None,
              known_rules: Iterable[str] | None = None) -> "LintContext":
        """From the gate's policies (``policy_path``; None: packaged) and the registered event sources."""
        from observatoire.gate.policy import load_policies
        from observatoire.sources.registry import load_sources

        policies = load_policies(policy_path)
        events = {name for name, s in load_sources().items() if s.kind == "events"}
        fields = {name: {f: rule.action for f, rule in p.fields.items()}
                  for name, p in policies.sources.items() if name in events}
        return cls(today, fields, None if known_rules is None else frozenset(known_rules))


def _walk(node: Any, path: str, inside_categories: bool = False):
    """Yield ``(path, key_or_None, value)`` for every key and every scalar leaf."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            yield sub, str(key), None
            yield from _walk(value, sub, str(key) == "categories")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]", inside_categories)
    elif not inside_categories:
        yield path, None, node


class _Findings:
    def __init__(self) -> None:
        self.by_path: dict[str, str] = {}

    def add(self, where: str, reason: str) -> None:
        self.by_path.setdefault(where, reason)   # one reason per place: the first (most specific) wins

    def has(self, where: str) -> bool:
        return any(p == where or p.startswith(where + ".") or p.startswith(where + "[") for p in self.by_path)

    def list(self) -> list[Finding]:
        return [Finding(w, r) for w, r in self.by_path.items()]


def _words(doc: Mapping[str, Any], out: _Findings) -> None:
    for path, key, value in _walk(doc, ""):
        text = key if key is not None else value
        if not isinstance(text, str):
            continue
        top = path.split(".")[0].split("[")[0]
        if key is None and top in UNSCANNED:
            continue
        free = key is None and top in FREE_TEXT
        if (hit := V.protected_word(text)) is not None:
            out.add(path, f"names a protected attribute ({hit[0]}: {hit[1]!r})")
        elif (word := V.personal_word(text, free_text=free or top == "id")) is not None:
            out.add(path, f"targets or scores persons ({word!r}): rules count events per zone only")


def _keys(node: Any, allowed: tuple[str, ...], required: tuple[str, ...], where: str, out: _Findings) -> bool:
    if not isinstance(node, Mapping):
        out.add(where, "expected a mapping of keys")
        return False
    for key in node:
        if key not in allowed:
            out.add(f"{where}.{key}" if where else str(key), f"unknown key (allowed: {', '.join(allowed)})")
    for key in required:
        if key not in node:
            out.add(f"{where}.{key}" if where else str(key), "missing")
    return True


def _text(doc: Mapping[str, Any], key: str, out: _Findings, missing: str = "missing") -> None:
    value = doc.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        out.add(key, missing)
    elif not isinstance(value, str):
        out.add(key, "expected text")


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _categories(node: Any, source: str | None, where: str, out: _Findings) -> list[str]:
    if not isinstance(node, list) or not node or not all(isinstance(c, str) for c in node):
        out.add(where, "expected a non-empty list of taxonomy category codes")
        return []
    for c in node:
        if not is_category(c):
            out.add(where, f"category {c!r} is not in the taxonomy (event/taxonomy.py)")
            return []
    decree = set(CCTV_DECREE_CODES)
    if source == "cctv_events" and not set(node) <= decree:
        out.add(where, "video analytics may only count the event types of decree n° 2023-828 (cctv_*)")
    elif source != "cctv_events" and set(node) & decree:
        out.add(where, "cctv_* categories (decree n° 2023-828) come from the cctv_events source only")
    return list(node)


def _source(value: Any, where: str, ctx: LintContext, out: _Findings) -> str | None:
    if not isinstance(value, str) or value not in ctx.fields:
        out.add(where, f"unknown event source {value!r} (known: {', '.join(sorted(ctx.fields))})")
        return None
    return value


def _data_used(node: Any, ctx: LintContext, out: _Findings) -> set[str]:
    if not isinstance(node, list) or not node:
        out.add("data_used", "missing: list each source and the fields the rule uses")
        return set()
    seen = set()
    for i, item in enumerate(node):
        where = f"data_used[{i}]"
        if not _keys(item, V.DATA_KEYS, V.DATA_KEYS, where, out):
            continue
        source = _source(item.get("source"), f"{where}.source", ctx, out)
        fields = item.get("fields")
        if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
            out.add(f"{where}.fields", "expected a non-empty list of field names")
            continue
        if source is None:
            continue
        seen.add(source)
        policy = ctx.fields[source]
        for j, name in enumerate(fields):
            action = policy.get(name)
            if action is None:
                out.add(f"{where}.fields[{j}]", f"{name!r} is not a field of the {source} privacy policy")
            elif action == "pseudonymise":
                out.add(f"{where}.fields[{j}]", f"{name!r} is a pseudonymised identifier: a rule may not use one")
            elif action in ("drop", "refuse"):
                out.add(f"{where}.fields[{j}]", f"{name!r} is never stored (policy: {action})")
    return seen


def _count_anomaly(cond: Mapping[str, Any], ctx: LintContext, out: _Findings) -> str | None:
    source = None
    stream = cond.get("stream")
    if stream is not None and _keys(stream, V.STREAM_KEYS, V.STREAM_KEYS, "condition.stream", out):
        source = _source(stream.get("source"), "condition.stream.source", ctx, out)
        _categories(stream.get("categories"), source, "condition.stream.categories", out)
    method = cond.get("method")
    if method is not None and method not in PARAMETERS:
        out.add("condition.method", f"unknown method {method!r} (one of {', '.join(PARAMETERS)})")
    params = cond.get("parameters", {})
    if not isinstance(params, Mapping):
        out.add("condition.parameters", "expected a mapping of parameter names to numbers")
    elif method in PARAMETERS:
        for key, value in params.items():
            if key not in PARAMETERS[method]:
                out.add(f"condition.parameters.{key}",
                        f"method {method} has no such parameter (allowed: {', '.join(PARAMETERS[method])})")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                out.add(f"condition.parameters.{key}", "expected a number")
    window = cond.get("window_hours")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= 744):
        out.add("condition.window_hours", "expected a whole number of hours from 1 to 744")
    target = cond.get("target_false_alarm")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float))
                               or not 0 < target <= 0.5):
        out.add("condition.target_false_alarm", "expected a probability in (0, 0.5]")
    if not out.has("condition"):
        try:  # the engine's own checks (e.g. training_windows >= 2)
            Rule(id="lint", version=1, title="lint", stream=Stream(source, frozenset(stream["categories"])),
                 window_hours=window, method=method, target_false_alarm=float(target),
                 parameters=dict(params))
        except InputError as exc:
            out.add("condition", str(exc))
    return source


def _clash(cond: Mapping[str, Any], doc: Mapping[str, Any], ctx: LintContext, out: _Findings) -> str | None:
    planned = cond.get("planned")
    if planned is not None and _keys(planned, V.STREAM_KEYS, V.STREAM_KEYS, "condition.planned", out):
        if planned.get("source") != V.PLANNED_SOURCE or planned.get("categories") != [V.PLANNED_CATEGORY]:
            out.add("condition.planned", f"a clash compares alerts with the {V.PLANNED_SOURCE} source, category "
                                         f"[{V.PLANNED_CATEGORY}]")
    watches = cond.get("watches")
    if watches is not None:
        if not isinstance(watches, list) or not watches or not all(isinstance(w, str) for w in watches):
            out.add("condition.watches", "expected a non-empty list of rule ids")
        elif doc.get("id") in watches:
            out.add("condition.watches", "a clash rule cannot watch itself")
        elif ctx.known_rules is not None and (unknown := sorted(set(watches) - ctx.known_rules)):
            out.add("condition.watches", f"unknown rule id(s): {', '.join(unknown)}")
    return V.PLANNED_SOURCE


def lint_document(doc: Any, ctx: LintContext) -> list[Finding]:
    """Every refusal of a rule document (a parsed YAML mapping); an empty list means the rule is acceptable.

    Examples
    --------
    >>> ctx = LintContext(dt.date(2025, 1, 1), {"mains_courantes": {"categorie": "keep"}})
    >>> [str(f) for f in lint_document({"id": "abc"}, ctx)][:2]
    ['version: missing', 'title: missing']
    """
    out = _Findings()
    if not isinstance(doc, Mapping):
        return [Finding("", "a rule is a mapping of keys (YAML)")]
    _words(doc, out)
    _keys(doc, V.TOP_KEYS, (), "", out)
    rule_id = doc.get("id")
    if rule_id is None:
        out.add("id", "missing")
    elif not isinstance(rule_id, str) or not V.ID_PATTERN.match(rule_id):
        out.add("id", "expected 3-64 lower-case letters, digits or hyphens")
    version = doc.get("version")
    if version is None:
        out.add("version", "missing")
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        out.add("version", "expected a whole number >= 1")
    _text(doc, "title", out)
    _text(doc, "purpose", out)
    _text(doc, "legal_basis", out, "missing legal basis: name the text that allows this processing")
    _text(doc, "owner", out)
    status = doc.get("status")
    if status not in V.STATUSES:
        out.add("status", "missing" if status is None else f"unknown status {status!r} "
                                                         f"(one of {', '.join(V.STATUSES)})")
    review = doc.get("review_date")
    day = _date(review)
    if review is None:
        out.add("review_date", "missing")
    elif day is None:
        out.add("review_date", "expected a date YYYY-MM-DD")
    elif day < ctx.today:
        out.add("review_date", f"review date {day.isoformat()} has passed: review the rule and set a new one")
    used = _data_used(doc.get("data_used"), ctx, out)
    cond = doc.get("condition")
    if cond is None:
        out.add("condition", "missing")
    elif isinstance(cond, Mapping) and cond.get("kind") in V.KINDS:
        kind = cond["kind"]
        _keys(cond, V.CONDITION_KEYS[kind], V.CONDITION_REQUIRED[kind], "condition", out)
        unit = cond.get("unit")
        if unit is not None and unit not in V.UNITS:
            out.add("condition.unit", f"unknown unit {unit!r}: rules count events per zone only")
        source = _count_anomaly(cond, ctx, out) if kind == "count_anomaly" else _clash(cond, doc, ctx, out)
        if source is not None and used and source not in used:
            out.add("data_used", f"does not list the source the condition reads ({source})")
    else:
        out.add("condition.kind" if isinstance(cond, Mapping) else "condition",
                f"expected a condition of kind {' or '.join(V.KINDS)}")
    return out.list()


def lint_text(text: str, ctx: LintContext) -> list[Finding]:
    """:func:`lint_document` on YAML text (a YAML error is one finding, without the text)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        return [Finding(where, f"not valid YAML ({getattr(exc, 'problem', None) or type(exc).__name__})")]
    return lint_document(doc, ctx)


def lint_file(path: Path, ctx: LintContext) -> list[Finding]:
    """:func:`lint_text` on a file (an unreadable file is one finding)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding("", f"cannot be read ({type(exc).__name__})")]
    return lint_text(text, ctx)


def check(doc: Any, ctx: LintContext) -> None:
    """Raise :class:`InputError` with the first reasons when the document is refused."""
    findings = lint_document(doc, ctx)
    if findings:
        more = f" (+{len(findings) - 3} more)" if len(findings) > 3 else ""
        raise InputError("rule refused: " + "; ".join(str(f) for f in findings[:3]) + more)


def engine_rule(doc: Mapping[str, Any]) -> Rule | ClashRule:
    """The alert engine's record of a document that passed the linter."""
    cond = doc["condition"]
    if cond["kind"] == "planned_event_clash":
        return ClashRule(id=doc["id"], version=doc["version"], title=doc["title"], watches=frozenset(cond["watches"]))
    stream = cond["stream"]
    return Rule(id=doc["id"], version=doc["version"], title=doc["title"],
                stream=Stream(stream["source"], frozenset(stream["categories"])), window_hours=cond["window_hours"],
                method=cond["method"], target_false_alarm=float(cond["target_false_alarm"]),
                parameters=dict(cond.get("parameters") or {}))
