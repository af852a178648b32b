"""The store protocol: every backend has every member, with the protocol's very signature; no caller probes a store."""

from __future__ import annotations

import inspect
import re
import typing
from pathlib import Path
from typing import Any, Protocol

from observatoire.store.base import ReadStore, Store

READ_MEMBERS = {"retention", "manifest", "batch", "events", "quarantine", "reference", "existing_event_ids",
                "daily_counts", "cell_counts"}
WRITE_MEMBERS = {"collect_superseded", "root", "commit", "filter_rows"}
SRC = Path(__file__).resolve().parents[2] / "src" / "observatoire"


def members(proto: type) -> dict[str, Any]:
    """The members a protocol declares, its bases' included (methods, properties, annotated attributes)."""
    out: dict[str, Any] = {}
    for klass in reversed(proto.__mro__):
        if klass in (object, Protocol, typing.Generic) or not getattr(klass, "_is_protocol", False):
            continue
        for name in getattr(klass, "__annotations__", {}):
            out[name] = klass.__annotations__[name]
        for name, value in vars(klass).items():
            if not name.startswith("_"):
                out[name] = value
    return out


def signature_problems(proto: type, impl: type, instance: object) -> list[str]:
    """How ``impl`` (``instance`` one of its objects) departs from ``proto``: a member missing, a parameter
    missing, of another kind, default, position or type, an extra parameter without a default, another
    return type."""
    problems: list[str] = []
    for name, member in members(proto).items():
        if not hasattr(instance, name):
            problems.append(f"{name}: missing")
            continue
        if isinstance(member, property):
            want = typing.get_type_hints(member.fget)["return"]
            kinds = tuple(type(None) if a is None else a for a in typing.get_args(want)) or (want,)
            if not isinstance(getattr(instance, name), kinds):
                problems.append(f"{name}: not a {want}")
            continue
        if not callable(member):                                    # an annotated attribute
            continue
        got_fn = getattr(impl, name, None)
        if not callable(got_fn):
            problems.append(f"{name}: not a method")
            continue
        want_sig, got_sig = inspect.signature(member), inspect.signature(got_fn)
        want_hints, got_hints = typing.get_type_hints(member), typing.get_type_hints(got_fn)
        got_params = list(got_sig.parameters.values())
        for i, p in enumerate(want_sig.parameters.values()):
            q = got_sig.parameters.get(p.name)
            if q is None:
                problems.append(f"{name}: no parameter {p.name}")
                continue
            if q.kind != p.kind:
                problems.append(f"{name}({p.name}): {q.kind.description}, not {p.kind.description}")
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and got_params.index(q) != i:
                problems.append(f"{name}({p.name}): at position {got_params.index(q)}, not {i}")
            if q.default != p.default:
                problems.append(f"{name}({p.name}): default {q.default!r}, not {p.default!r}")
            if p.name != "self" and got_hints.get(p.name) != want_hints.get(p.name):
                problems.append(f"{name}({p.name}): {got_hints.get(p.name)}, not {want_hints.get(p.name)}")
        for q in got_params:
            if q.name not in want_sig.parameters and q.default is q.empty \
                    and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD):
                problems.append(f"{name}: extra parameter {q.name} without a default")
        if got_hints.get("return") != want_hints.get("return"):
            problems.append(f"{name} returns {got_hints.get('return')}, not {want_hints.get('return')}")
    return problems


def test_the_protocol_is_what_callers_use_and_documents_every_member() -> None:
    assert set(members(ReadStore)) == READ_MEMBERS
    assert set(members(Store)) == READ_MEMBERS | WRITE_MEMBERS
    for name, member in members(Store).items():
        doc = (member.fget if isinstance(member, property) else member).__doc__
        assert doc and doc.strip(), f"Store.{name} has no documentation"
    for name in ("daily_counts", "cell_counts"):           # the capabilities say what None means
        assert "None when the store cannot answer" in " ".join(members(Store)[name].__doc__.split())


def test_the_store_satisfies_the_protocol(store: Store) -> None:
    assert isinstance(store, Store) and isinstance(store, ReadStore)
    assert signature_problems(Store, type(store), store) == []


def test_the_signature_check_sees_a_departure() -> None:
    """The check above would catch a backend that drifts from the protocol."""

    class Drifted:
        root = "not a path"

        def manifest(self): ...

        def batch(self, batch_id: int) -> dict[str, Any] | None: ...       # another type

        def events(self, limit: int): ...                                   # an extra parameter, no default

        def quarantine(self): ...

        def reference(self, title: str): ...                                # another name

        def existing_event_ids(self, source: str, event_ids, extra: bool = False): ...   # untyped

        def daily_counts(self, tz: str, sources=None, categories=None): ...  # not keyword-only

        def commit(self, batch): ...

        def filter_rows(self, keep, *, dry_run: bool = True): ...           # another default

    problems = signature_problems(Store, Drifted, Drifted())
    expected = ["root: not a <class 'pathlib.Path'>", "retention: missing", "batch(batch_id)", "events: extra parameter limit",
                "reference: no parameter name", "daily_counts(tz): positional or keyword",
                "filter_rows(dry_run): default True", "cell_counts: missing", "commit returns"]
    for fragment in expected:
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)


def test_no_caller_probes_a_store_for_a_member() -> None:
    """Capabilities are in the protocol (None where a store cannot answer): no ``hasattr``/``getattr`` on a store."""
    probe = re.compile(r"\b(?:hasattr|getattr)\(\s*(?:self\.)?_?(?:store|backend)\b")
    found = [f"{path.relative_to(SRC)}:{n}: {line.strip()}"
             for path in sorted(SRC.rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if probe.search(line)]
    assert found == []
