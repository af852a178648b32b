"""The source contract: what every registered source, packaged or plug-in, must do.

Parametrised over every source the registry loads, plus the test plug-in ``noise311`` (installed through
its entry point, ``conftest.py``). A new source passes this suite with its connector, its policy, its
sample and its doc:

- its declaration is complete and its name fits the event ids;
- its documented sample is admitted whole, and what it stores carries the source's own attributes, ids that
  match the schema and the retention it declares;
- a bad row is quarantined with a reason that names the field, never the value;
- every field it declares has a policy whose action fits the field's privacy role;
- it appears in the register, with its label, legal basis and retention, and in the labels;
- its doc names it and every field an export carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from observatoire.city.profile import CityProfile, load_city
from observatoire.event.schema import EVENT_ID_PATTERN, registered_schema
from observatoire.gate.admit import Gate
from observatoire.gate.policy import completeness
from observatoire.governance.retention import load_retention_days
from observatoire.ingest.pipeline import FileReport, ingest
from observatoire.regulator import document
from observatoire.regulator.documents import TO_COMPLETE
from observatoire.settings import Settings
from observatoire.sources.base import RawFile, Source, Vocabulary
from observatoire.sources.registry import check_source, load_sources, source_labels
from observatoire.store.parquet import ParquetStore
from tests.conftest import NOW

from .conftest import installed, plugin_policies

SOURCES = sorted(load_sources()) + ["noise311"]     # every registered source, and the test plug-in
FORMULA = '=HYPERLINK("http://exemple.invalid")'
NOT_A_VALUE = "Jean Dupont"                           # fails every check: a number, a time, a code, a word


@dataclass
class Case:
    name: str
    source: Source
    sources: dict[str, Source]
    gate: Gate
    city: CityProfile
    tmp: Path
    policy_path: Path | None                  # the city's policies file (None: the packaged one)

    def store(self, label: str) -> ParquetStore:
        return ParquetStore(self.tmp / label, zone_ids=self.city.zone_ids)

    def ingest(self, store: ParquetStore, name: str, source: Source | None = None) -> FileReport:
        """The documented sample of ``name`` (its needs' samples first), through the whole pipeline."""
        for need in self.sources[name].needs:
            self.ingest(store, need)
        used = source or self.sources[name]
        [report] = ingest([self.sources[name].descriptor.sample.path], store=store, city=self.city,
                          sources={**self.sources, name: used}, gate=self.gate, source_name=name, now=NOW)
        return report


@pytest.fixture(params=SOURCES)
def case(request: pytest.FixtureRequest, tmp_path: Path, gate: Gate, keyring, scrubber) -> Iterator[Case]:
    name = request.param

    def make(sources: dict[str, Source], g: Gate, policy_path: Path | None) -> Case:
        sample = sources[name].descriptor.sample
        city = sample.city() if sample.city is not None else load_city()
        return Case(name, sources[name], sources, g, city, tmp_path, policy_path)

    if name == "noise311":
        with installed(tmp_path / "site") as sources:
            policies = plugin_policies(tmp_path)
            yield make(sources, Gate(policies, keyring, scrubber), Path(str(policies.path)))
    else:
        yield make(load_sources(), gate, None)


def test_the_declaration_is_complete_and_the_name_fits_the_event_ids(case: Case) -> None:
    check_source(case.source)
    assert re.fullmatch(EVENT_ID_PATTERN, f"{case.name}:{'0' * 24}")
    d = case.source.descriptor
    if case.source.kind == "events":
        assert registered_schema().field("attributes").type.field(case.name).type == d.attributes
    else:
        assert case.name not in registered_schema().field("attributes").type.names


def test_the_documented_sample_is_admitted_whole(case: Case) -> None:
    store = case.store("sample")
    report = case.ingest(store, case.name)
    assert report.rows_read > 0 and report.quarantined == 0 and report.admitted == report.rows_read, report.reasons
    if case.source.kind == "reference":
        assert store.reference(case.name).to_pyarrow().num_rows == report.admitted
        return
    t = store.events()
    events = t.filter(t.source == case.name).to_pyarrow()
    assert events.num_rows == report.admitted
    ids = events["event_id"]
    assert pc.all(pc.match_substring_regex(ids, EVENT_ID_PATTERN)).as_py()
    assert all(i.startswith(f"{case.name}:") for i in ids.to_pylist())
    own = pc.struct_field(events["attributes"], case.name)
    assert own.null_count == 0                                    # the source's attributes reached the store
    assert own.type == case.source.descriptor.attributes
    days = case.source.descriptor.retention.days
    if days is not None:                                          # what it declares, without a retention table
        assert events["retention_until"].to_pylist() == [
            o.astimezone(UTC).date() + timedelta(days=days) for o in events["occurred_at"].to_pylist()]


class _Spoiling:
    """The source as registered, whose read spoils two rows as a careless or hostile export would: a formula in
    the first text field, and a value that fails its check in a field the policy keeps."""

    def __init__(self, inner: Source, gate: Gate) -> None:
        self.inner = inner
        self.name, self.kind, self.patterns, self.needs = inner.name, inner.kind, inner.patterns, inner.needs
        self.descriptor = inner.descriptor
        self.vocabularies = getattr(inner, "vocabularies", {})
        self.policy = gate.policies.of(inner.name)
        self.spoiled: dict[int, tuple[str, str]] = {}           # raw row -> (field, expected reason)

    def read(self, path: Path, timezone: str) -> RawFile:
        raw = self.inner.read(path, timezone)
        t = raw.table
        text = [c for c in t.column_names if not c.startswith("__") and pa.types.is_string(t[c].type)
                and self.policy.fields[c].action != "refuse"]
        checked = [c for c in text if self.policy.fields[c].action == "keep" and self.policy.fields[c].check]
        assert text and checked and t.num_rows >= 2, "the sample needs two rows, a text field and a checked one"
        rows = t["__row"].to_pylist()
        voc = self.vocabularies.get(checked[0])
        self.spoiled = {rows[0]: (text[0], "formula_cell"),
                        rows[1]: (checked[0], voc.reason if isinstance(voc, Vocabulary) else "invalid_value")}
        for i, (field, value) in ((0, (text[0], FORMULA)), (1, (checked[0], NOT_A_VALUE))):
            col = t[field].to_pylist()
            col[i] = value
            t = t.set_column(t.schema.get_field_index(field), field, pa.array(col, pa.string()))
        return RawFile(t, raw.malformed_rows)

    def canonicalise(self, admitted, ctx):
        return self.inner.canonicalise(admitted, ctx)


def test_a_bad_row_is_quarantined_with_a_reason_naming_the_field_never_the_value(case: Case) -> None:
    store = case.store("bad")
    spoiling = _Spoiling(case.source, case.gate)
    report = case.ingest(store, case.name, spoiling)
    assert report.rows_read == report.admitted + report.quarantined
    assert report.quarantined == 2, report.reasons
    q = store.quarantine()
    quarantine = q.filter(q.source == case.name).to_pyarrow().to_pylist()
    got = {q["source_row"]: q for q in quarantine}
    for row, (field, reason) in spoiling.spoiled.items():
        assert got[row]["reason"] == reason, got[row]
        assert field in got[row]["detail"]
        assert "HYPERLINK" not in got[row]["detail"] and "Jean" not in got[row]["detail"]


def test_every_declared_field_has_a_policy_that_fits_its_role(case: Case) -> None:
    assert completeness(case.gate.policies, {case.name: case.source}) == {}
    assert set(case.gate.policies.of(case.name).fields) == set(case.source.descriptor.fields)


def test_it_appears_in_the_register_the_retention_table_and_the_labels(case: Case) -> None:
    d = case.source.descriptor
    settings = Settings(store_dir=case.tmp / "store", registry_dir=case.tmp / "registry",
                        audit_dir=case.tmp / "audit", auth_dir=case.tmp / "auth", policy_path=case.policy_path,
                        retention_days=load_retention_days())
    register = document(settings, "register")
    section = next(s for s in register["sections"] if s["key"] == "data_and_sources")
    table = next(b["table"] for b in section["blocks"] if isinstance(b, dict) and "table" in b)
    [row] = [r for r in table["rows"] if r[0] == case.name]
    assert row[1] == d.processing.label and row[2] == case.source.kind
    if d.retention.days is not None:
        assert row[4] == f"{d.retention.days} jours"
        assert load_retention_days()[case.name] == d.retention.days
    else:
        assert d.retention.reason and case.name not in load_retention_days()
    aipd = document(settings, "aipd")
    inventory = next(s for s in aipd["sections"] if s["key"] == "inventory")["blocks"][0]["table"]["rows"]
    [line] = [r for r in inventory if r[0] == case.name]
    assert line[3] == (d.processing.legal_basis or TO_COMPLETE)
    assert source_labels()[case.name] == d.label


def test_its_doc_names_it_and_every_field_an_export_carries(case: Case) -> None:
    doc = case.source.descriptor.doc.read_text(encoding="utf-8")
    assert f"`{case.name}`" in doc
    carried = [*getattr(case.source, "columns", ()), *getattr(case.source, "optional", ()),
               *getattr(case.source, "paths", {}).values()]
    for field in carried:
        assert re.search(rf"(?<![\w.]){re.escape(field)}(?![\w])", doc), field
