"""The privacy gate's one way in: ``Gate.admit``.

What it does to a raw source table, field by field, is what the source's
policy says (``gate/policy.py``): keep once checked (``gate/checks.py``), key a
record's own key, drop, scrub free text of French personal data, replace direct
identifiers by keyed pseudonyms, or refuse.
A field no policy names refuses the file (tabular exports) or the row (JSON
Lines). Rows are refused with a reason code and the field's *name*, never its
value. After canonicalisation the gate also coarsens what the policy says
(``coarsen``).

Outputs beside the kept columns:
``__pseudonyms``  list<struct<role, token>> of every pseudonymised field of the row;
``__redactions``  list<struct<field, entity, detector, reason>>: the decision trace of the
                  scrubber for the audit (never the redacted text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.errors import InputError
from observatoire.event.schema import EVENT_SCHEMA
from observatoire.gate.checks import failing
from observatoire.gate.policy import Policies, SourcePolicy, completeness
from observatoire.gate.pseudonym import KeyRing, normalise_array
from observatoire.sources.base import EXTRA, ROW, RawFile, Source, Vocabulary

PSEUDONYMS = "__pseudonyms"
REDACTIONS = "__redactions"
PSEUDONYM_TYPE = EVENT_SCHEMA.field("pseudonyms").type
REDACTION_TYPE = EVENT_SCHEMA.field("redactions").type


class Finding(Protocol):
    entity: str
    detector: str
    reason: str


class Scrubbed(Protocol):
    text: str | None
    findings: Sequence[Finding]


class Scrubber(Protocol):
    """Removes French personal data from free text (``observatoire.gate.pii``)."""

    def scrub_many(self, texts: Sequence[str | None]) -> Sequence[Scrubbed]: ...


class LazyScrubber:
    """A scrubber built on first use: loading the French model takes seconds, and bad input must fail fast."""

    def __init__(self, factory: Callable[[], Scrubber]) -> None:
        self._factory = factory
        self._scrubber: Scrubber | None = None

    def scrub_many(self, texts: Sequence[str | None]) -> Sequence[Scrubbed]:
        if self._scrubber is None:
            self._scrubber = self._factory()
        return self._scrubber.scrub_many(texts)


@dataclass(frozen=True, slots=True)
class Admitted:
    table: pa.RecordBatch                       # what may go on, one contiguous batch
    refused: list[tuple[int, str, str]] = field(default_factory=list)   # (row, reason, detail)
    dropped: dict[str, str] = field(default_factory=dict)               # field -> action


# A cell a spreadsheet would run: "=HYPERLINK(...)", "+cmd(...)", "@SUM(...)". Negative numbers are fine.
FORMULA = r"^\s*(=|[+\-@]\s*[A-Za-z_]+\s*\()"
MAX_TEXT_CHARS = 20_000     # free text longer than this is not a narrative (and would stall the scrubber)
MAX_FIELD_CHARS = 1_000


@dataclass(frozen=True, slots=True)
class Gate:
    policies: Policies
    keyring: KeyRing
    scrubber: Scrubber | None = None

    def admit(self, connector: Source, raw: RawFile) -> Admitted:
        """``raw`` as ``connector`` read it, through the connector's policy; the connector's ``vocabularies``
        complete the ``keep`` rules that give no values (``gate/checks.py``)."""
        source = connector.name
        vocabularies: Mapping[str, Collection[str] | Vocabulary] = getattr(connector, "vocabularies", {})
        policy = self.policies.of(source)
        gaps = completeness(self.policies, {source: connector}).get(source)
        if gaps:  # a declared field without a rule, or a rule that does not fit its role: refused before any row
            raise InputError(f"source {source}: its privacy policy is incomplete ({'; '.join(gaps)}); "
                             "the gate refuses the file")
        table = raw.table
        columns = [c for c in table.column_names if c not in (ROW, EXTRA)]
        unnamed = [c for c in columns if not policy.named(c)]
        if unnamed:
            raise InputError(f"source {source}: {len(unnamed)} field(s) named by no privacy policy "
                             f"({', '.join(self._unknown(c) for c in unnamed)}); the gate refuses the file")
        refused = self._refused_rows(policy, table, vocabularies)
        if refused:  # refused rows go no further, not even to the scrubber
            bad = np.isin(table[ROW].to_numpy(), [r for r, _, _ in refused])
            table = table.filter(pa.array(~bad))
        keep: dict[str, pa.Array] = {ROW: table[ROW].combine_chunks()}
        dropped: dict[str, str] = {}
        pseudonyms: list[tuple[str, np.ndarray, pa.Array]] = []
        redactions = _empty_lists(table.num_rows, REDACTION_TYPE)
        for name in columns:
            rule = policy.fields[name]
            col = table[name].combine_chunks()
            if rule.action == "keep":
                keep[name] = col
            elif rule.action == "key":
                keep[name] = pa.array(self.keyring.record_digests(col.to_pylist()), pa.string())
            elif rule.action == "scrub":
                keep[name], trace = self._scrub(name, col)
                redactions = trace if redactions.offsets[-1].as_py() == 0 else _concat_lists(redactions, trace)
            elif rule.action == "pseudonymise":
                pseudonyms.append((rule.kind or "id", *self._pseudonymise(rule.kind or "id", col, rule.split)))
                dropped[name] = f"pseudonymise:{rule.kind}"
            else:  # drop, refuse (refused rows are quarantined above; the column never goes on)
                dropped[name] = rule.action
        keep[PSEUDONYMS] = _pseudonym_lists(pseudonyms, table.num_rows)
        keep[REDACTIONS] = redactions
        return Admitted(pa.RecordBatch.from_pydict(keep), refused, dropped)

    def _refused_rows(self, policy: SourcePolicy, table: pa.Table,
                      vocabularies: Mapping[str, Collection[str] | Vocabulary]) -> list[tuple[int, str, str]]:
        out: list[tuple[int, str, str]] = []
        rows = table[ROW].to_numpy()

        def flag(mask: pa.ChunkedArray | pa.Array | np.ndarray, reason: str, detail: str) -> None:
            if not isinstance(mask, np.ndarray):
                mask = np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), bool)
            hits = np.flatnonzero(mask)
            out.extend((int(rows[i]), reason, detail) for i in hits)

        for name, rule in policy.fields.items():
            if name not in table.column_names:
                continue
            col = table[name]
            if rule.action == "refuse":
                flag(pc.is_valid(col), "refused_field", f"field {name} must never be sent")
                continue
            if not pa.types.is_string(col.type):
                continue
            limit = MAX_TEXT_CHARS if rule.action == "scrub" else MAX_FIELD_CHARS
            flag(pc.greater(pc.utf8_length(col), limit), "oversized_field",
                 f"field {name} is longer than {limit} characters")
            flag(pc.match_substring_regex(col, FORMULA), "formula_cell", f"field {name} starts like a spreadsheet formula")
            if rule.action == "keep" and rule.check:
                given = vocabularies.get(name)
                voc = given if isinstance(given, Vocabulary) else Vocabulary(tuple(given or ()))
                values = rule.values if rule.values is not None else voc.values
                if rule.check == "vocabulary" and not values:
                    raise InputError(f"policy {policy.source}.{name}: keep:vocabulary needs values, in the policy "
                                     "or the connector's vocabularies")
                flag(failing(rule.check, col.combine_chunks(), pattern=rule.pattern, values=values),
                     voc.reason, voc.detail or f"field {name} is not {_CHECK_WORDS[rule.check]}")
        if EXTRA in table.column_names:
            extras = table[EXTRA].to_pylist()
            for i in np.flatnonzero(np.asarray(pc.is_valid(table[EXTRA]).to_numpy(zero_copy_only=False), bool)):
                names = extras[i].split(",")
                refused = [n for n in names if _refused(policy, n)]
                if refused:   # a name the policy knows (refused), fit to print
                    leaf = refused[0].rsplit(".", 1)[-1]
                    known = next(n for n in (refused[0], refused[0].replace(".", "_"), leaf) if n in policy.fields)
                    out.append((int(rows[i]), "refused_field", f"field {known} must never be sent"))
                else:
                    out.append((int(rows[i]), "undeclared_field",
                                f"{len(names)} field(s) named by no privacy policy ({self._unknown(names[0])})"))
        seen: set[int] = set()   # the first reason found for a row, in the order of the checks above
        return [x for x in sorted(out, key=lambda x: x[0]) if not (x[0] in seen or seen.add(x[0]))]

    def _unknown(self, name: str) -> str:
        """A field the policy does not know, named by a keyed digest, never its text: a hostile export can put
        anything in a header or a key (a phone number, a name)."""
        token = self.keyring.tokens_of_normalised("field_name", [name])[0] or "empty"
        return f"unknown field {token.split(':')[-1][:12]}"

    def _scrub(self, name: str, col: pa.Array) -> tuple[pa.Array, pa.Array]:
        if self.scrubber is None:
            raise InputError(f"the policy scrubs field {name} but no scrubber is configured")
        # Each distinct text is scrubbed once (exports repeat texts: templates, reposts).
        distinct = pc.unique(col)
        results = self.scrubber.scrub_many(distinct.to_pylist())
        index = pc.index_in(col, distinct)
        texts = pa.array([r.text for r in results], pa.string()).take(index)
        trace = pa.array([[{"field": name, "entity": f.entity, "detector": f.detector, "reason": f.reason}
                           for f in r.findings] for r in results], REDACTION_TYPE).take(index)
        return texts, trace

    def _pseudonymise(self, kind: str, col: pa.Array, split: str | None) -> tuple[np.ndarray, pa.Array]:
        """(row index, token) of every value of the field; each distinct value is keyed once."""
        if split:
            parts = pc.split_pattern(col, split)
            values, parents = pc.list_flatten(parts), pc.list_parent_indices(parts)
        else:
            values, parents = col, pa.array(np.arange(len(col)))
        values = normalise_array(kind, values)
        present = pc.and_(pc.is_valid(values), pc.not_equal(pc.fill_null(values, ""), ""))
        values, parents = values.filter(present), parents.filter(present)
        distinct = pc.unique(values)
        tokens = pa.array(self.keyring.tokens_of_normalised(kind, distinct.to_pylist()), pa.string())
        return np.asarray(parents.to_numpy(), dtype=np.int64), tokens.take(pc.index_in(values, distinct))


_CHECK_WORDS = {"number": "a number", "integer": "an integer", "time": "a date or time",
                "code": "a code of its pattern", "vocabulary": "a word of its vocabulary"}


def _refused(policy: SourcePolicy, path: str) -> bool:
    leaf = path.rsplit(".", 1)[-1]
    for name in (path, path.replace(".", "_"), leaf):
        rule = policy.fields.get(name)
        if rule is not None and rule.action == "refuse":
            return True
    return False


def _concat_lists(a: pa.ListArray, b: pa.ListArray) -> pa.ListArray:
    """Row by row, the items of ``a`` then those of ``b`` (the traces of two scrubbed fields)."""
    return pa.array([x + y for x, y in zip(a.to_pylist(), b.to_pylist())], a.type)


def _empty_lists(n: int, typ: pa.ListType) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], typ.value_type), type=typ)


def _pseudonym_lists(parts: list[tuple[str, np.ndarray, pa.Array]], n: int) -> pa.Array:
    """One list of (role, token) per row, from every pseudonymised field, in field order."""
    if not parts:
        return _empty_lists(n, PSEUDONYM_TYPE)
    rows = np.concatenate([r for _, r, _ in parts])
    roles = pa.concat_arrays([pa.array([kind] * len(r), pa.string()) for kind, r, _ in parts])
    tokens = pa.concat_arrays([t for _, _, t in parts])
    order = pa.array(np.argsort(rows, kind="stable"))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int32)
    values = pa.StructArray.from_arrays([roles.take(order), tokens.take(order)],
                                        fields=list(PSEUDONYM_TYPE.value_type))
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=PSEUDONYM_TYPE)
