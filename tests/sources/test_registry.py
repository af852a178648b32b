"""One descriptor, one door: a source is registered whole or refused at load time, and everything the
observatory knows per source (event schema, policies' completeness, retention, register, labels, discovery
natures) follows from the registered descriptors, plug-ins included."""

from __future__ import annotations

import dataclasses
import re
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from observatoire.errors import InputError, SchemaError
from observatoire.evaluation.plans import check_outcome, discovery_natures
from observatoire.event import schema
from observatoire.event.schema import ATTRIBUTES, EVENT_ID_PATTERN, registered_schema, validate_events
from observatoire.gate.admit import Gate
from observatoire.gate.policy import check_complete, completeness, load_policies
from observatoire.governance.retention import load_retention_days, no_limit_reasons
from observatoire.ingest.pipeline import ingest
from observatoire.regulator.collect import load_processing, processing_entries
from observatoire.sources.base import Retention, SourceDescriptor
from observatoire.sources.canonical import NO_LIMIT_DAYS
from observatoire.sources.registry import (BUILTIN, NAME_PATTERN, SourceRegistrationError, builtin_sources,
                                           check_source, load_sources, registered, source_labels)
from observatoire.store.parquet import ParquetStore
from tests.conftest import NOW

from .conftest import PLUGIN_ROOT, installed, plugin_policies


def _plugin_class():
    from noise311_observatoire import Noise311   # importable while PLUGIN_ROOT is on sys.path

    return Noise311


def _variant(**changes):
    """The plug-in's connector with its descriptor changed (``descriptor=None``: no descriptor at all)."""
    base = _plugin_class()
    descriptor = changes.pop("descriptor", base.descriptor)
    if descriptor is not None and changes.get("descriptor_fields"):
        descriptor = dataclasses.replace(descriptor, **changes.pop("descriptor_fields"))
    changes.pop("descriptor_fields", None)
    return type("Variant", (base,), {"descriptor": descriptor, **changes})()


# -- the plug-in, end to end -----------------------------------------------------------------------------
def test_a_plugin_named_with_a_digit_is_registered_ingested_and_committed_with_its_attributes(
        plugin, tmp_path: Path, city, keyring, scrubber) -> None:
    assert "noise311" in plugin and "noise311" in ATTRIBUTES and "noise311" in load_sources()
    packaged = [n for n, s in builtin_sources().items() if s.kind == "events"]
    assert list(ATTRIBUTES)[:len(packaged)] == packaged
    assert list(ATTRIBUTES)[-1] == "noise311"                      # plug-ins after the packaged sources
    assert "noise311" not in schema.EVENT_SCHEMA.field("attributes").type.names   # the packaged schema
    gate = Gate(plugin_policies(tmp_path), keyring, scrubber)
    store = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)
    sample = plugin["noise311"].descriptor.sample.path
    [report] = ingest([sample], store=store, city=city, sources=plugin, gate=gate, now=NOW)
    assert report.committed and report.admitted == report.rows_read == 4 and report.quarantined == 0
    events = store.events().to_pyarrow().to_pylist()
    assert len(events) == 4
    for e in events:
        assert re.fullmatch(EVENT_ID_PATTERN, e["event_id"]) and e["event_id"].startswith("noise311:")
        assert e["source"] == "noise311" and e["category"] == "nuisance" and e["discovery"] == "independent"
        assert e["attributes"]["mains_courantes"] is None
        assert e["retention_until"] == e["occurred_at"].astimezone(UTC).date() + timedelta(days=400)
        assert not any(secret in str(e) for secret in ("311-0001", "06 12 34 56 78", "04 91 00 00 00"))
    by_nature = {e["attributes"]["noise311"]["nature"]: e["attributes"]["noise311"] for e in events}
    assert set(by_nature) == {"musique", "travaux", "bar", "voisinage"}
    assert by_nature["musique"]["decibels"] == pytest.approx(78.5) and by_nature["travaux"]["decibels"] is None
    assert by_nature["bar"]["ticket_ref"] == gate.keyring.record_digests(["311-0003"])[0]
    [phone] = [p for e in events for p in e["pseudonyms"] or []][:1]
    assert phone["role"] == "phone" and phone["token"].count(":") == 1


def test_a_plugin_gets_its_label_retention_register_entry_and_discovery_nature(plugin, tmp_path: Path) -> None:
    assert source_labels()["noise311"] == "Plaintes pour bruit (311)"
    assert load_retention_days()["noise311"] == 400
    entry = processing_entries()["noise311"]
    assert entry == {"label": "Plaintes pour nuisances sonores reçues par la ligne 311",
                     "legal_basis": "Code de la santé publique, art. R. 1336-5 ; RGPD art. 6(1)(e)",
                     "data_subjects": ["requérants"], "recipients": ["cellule d'analyse", "DPO"]}
    assert discovery_natures()["noise311"] == "independent"
    outcome, warnings = check_outcome({"source": "noise311", "categories": ["nuisance"]})
    assert outcome["source"] == "noise311" and warnings == []
    assert completeness(plugin_policies(tmp_path), plugin) == {}
    gaps = completeness(load_policies(), plugin)                   # the packaged file does not know it
    assert list(gaps) == ["noise311"] and "no privacy policy" in gaps["noise311"][0]
    with pytest.raises(InputError, match="noise311"):
        check_complete(load_policies(), plugin)


def test_once_uninstalled_the_plugin_leaves_no_trace_in_what_is_built_from_the_registry(tmp_path: Path) -> None:
    with installed(tmp_path / "site"):
        assert "noise311" in ATTRIBUTES and "noise311" in registered_schema().field("attributes").type.names
    assert "noise311" not in ATTRIBUTES and "noise311" not in load_retention_days()
    assert registered_schema().equals(schema.EVENT_SCHEMA, check_metadata=True)


def test_a_table_of_the_packaged_schema_validates_against_the_schema_with_plugins(plugin) -> None:
    row = {"event_id": "noise311:" + "a" * 24, "source": "noise311", "category": "nuisance",
           "occurred_at": datetime(2025, 3, 1, 13, tzinfo=UTC), "time_precision": "minute", "reported_at": None,
           "lon": None, "lat": None, "location_precision_m": None, "zone_id": None, "h3_r9": None, "h3_r8": None,
           "h3_r7": None, "discovery": "independent", "attributes": None, "pseudonyms": [], "text": None,
           "redactions": [], "batch_id": "b", "source_file": "f.csv", "source_row": 1,
           "ingested_at": datetime(2025, 3, 2, tzinfo=UTC), "retention_until": date(2026, 3, 1), "month": "2025-03"}
    out = validate_events(pa.Table.from_pylist([row], schema=schema.EVENT_SCHEMA))
    assert out.schema.equals(registered_schema()) and "noise311" in out.schema.field("attributes").type.names


def test_attributes_of_an_unregistered_source_are_refused_not_dropped() -> None:
    attrs = pa.struct([pa.field("ghost", pa.struct([pa.field("x", pa.int32())]))])
    fields = [pa.field("attributes", attrs) if f.name == "attributes" else f for f in registered_schema()]
    empty = pa.schema(fields).empty_table()
    with pytest.raises(SchemaError, match="unregistered source.*ghost"):
        validate_events(empty)


# -- refused at load time ----------------------------------------------------------------------------------
def _bad_plugin(tmp_path: Path, body: str) -> tuple[tuple[Path, ...], str]:
    """A module (its own name: each test imports its own) deriving a bad connector ``Bad`` from the plug-in's;
    the paths to put on ``sys.path`` and the entry point's target."""
    code = tmp_path / "code"
    code.mkdir()
    module = f"bad_plugin_{abs(hash(str(tmp_path))):x}"
    (code / f"{module}.py").write_text(textwrap.dedent('''
        import dataclasses
        from noise311_observatoire import Noise311
    ''') + textwrap.dedent(body), encoding="utf-8")
    return (code, PLUGIN_ROOT), f"{module}:Bad"


@pytest.mark.parametrize("name, body, message", [
    ("Noise-311", "class Bad(Noise311):\n    name = 'Noise-311'\n", r"'Noise-311'.*is not \[a-z\]\[a-z0-9_\]\*"),
    ("311noise", "class Bad(Noise311):\n    name = '311noise'\n", r"'311noise'.*is not \[a-z\]\[a-z0-9_\]\*"),
    ("noise311", "class Bad(Noise311):\n    descriptor = dataclasses.replace(Noise311.descriptor, retention=None)\n",
     r"'noise311'.*no retention declared"),
    ("noise311", "class Bad(Noise311):\n    name = 'other'\n", "entry point 'noise311' provides a source named 'other'"),
    ("hospital", "class Bad(Noise311):\n    name = 'hospital'\n", "'hospital'.*the name of a packaged source"),
])
def test_an_ill_named_or_incomplete_plugin_is_refused_when_the_registry_loads(
        tmp_path: Path, name: str, body: str, message: str) -> None:
    code, target = _bad_plugin(tmp_path, body)
    with pytest.raises(SourceRegistrationError, match=message):
        with installed(tmp_path / "site", name=name, target=target, code=code):
            pass
    assert not [p for p in sys.path if p.startswith(str(tmp_path))] and "noise311" not in load_sources()


@pytest.mark.parametrize("change, message", [
    ({"descriptor": None}, "no descriptor"),
    ({"descriptor_fields": {"label": " "}}, "label"),
    ({"descriptor_fields": {"retention": Retention(None)}}, "no limit without a reason"),
    ({"descriptor_fields": {"retention": Retention(0)}}, "days must be a positive integer"),
    ({"descriptor_fields": {"attributes": None}}, "an event source declares the typed struct"),
    ({"descriptor_fields": {"discovery": "sometimes"}}, "descriptor.discovery"),
    ({"descriptor_fields": {"processing": None}}, "no entry for the register"),
    ({"descriptor_fields": {"fields": {"ticket": "key", "recu_le": "data"}}},
     "reads without a privacy role: longitude, latitude, nature, description, decibels, telephone"),
    ({"descriptor_fields": {"fields": {"ticket": "secret"}}}, "role 'secret' is not one of"),
    ({"needs": ("cameras",)}, None),
])
def test_each_missing_piece_of_a_descriptor_is_named(plugin, change: dict, message: str | None) -> None:
    source = _variant(**change)
    if message is None:       # a need is checked against the other registered sources, when the registry loads
        check_source(source)
        return
    with pytest.raises(SourceRegistrationError, match=f"^source 'noise311'.*{re.escape(message)}"):
        check_source(source)


def test_a_need_that_is_no_registered_reference_refuses_the_registry(tmp_path: Path) -> None:
    code, target = _bad_plugin(tmp_path, "class Bad(Noise311):\n    needs = ('cameras',)\n")
    with pytest.raises(SourceRegistrationError, match="'noise311'.*needs cameras"):
        with installed(tmp_path / "site", target=target, code=code):
            pass


def test_the_names_the_registry_accepts_are_exactly_those_event_ids_accept() -> None:
    for name in ("noise311", "a", "mains_courantes", "x_1_2"):
        assert re.fullmatch(NAME_PATTERN, name) and re.fullmatch(EVENT_ID_PATTERN, f"{name}:{'f' * 24}")
    for name in ("Noise", "311", "_x", "a-b", "a.b", "é", ""):
        assert not re.fullmatch(NAME_PATTERN, name)


# -- the packaged sources ---------------------------------------------------------------------------------
def test_every_packaged_source_is_listed_once_and_passes_the_same_checks() -> None:
    sources = builtin_sources()
    assert len(sources) == len(BUILTIN) == 13
    for source in sources.values():
        check_source(source)
    assert list(registered().sources)[:13] == list(sources)


def test_retention_is_declared_by_every_source_and_a_city_file_that_omits_one_keeps_the_declared_period(
        tmp_path: Path, city, sources, gate) -> None:
    declared = {n: s.descriptor.retention for n, s in sources.items()}
    assert all(isinstance(r, Retention) for r in declared.values())
    assert dict(load_retention_days()) == {n: r.days for n, r in declared.items() if r.days is not None}
    assert set(no_limit_reasons()) == {"cctv_cameras", "hospital_counts", "patrols", "ssmsi"}
    # A city's table that names only the CCTV events: the logbook keeps its declared five years, not 100.
    store = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)
    sample = sources["mains_courantes"].descriptor.sample.path
    ingest([sample], store=store, city=city, sources=sources, gate=gate, now=NOW, retention_days={"cctv_events": 7})
    events = store.events().to_pyarrow().to_pylist()
    assert events and all(e["retention_until"] == e["occurred_at"].astimezone(UTC).date() + timedelta(days=1825)
                          for e in events)
    assert NO_LIMIT_DAYS == 365 * 100       # only for a source that declares no limit


def test_the_register_entries_come_from_the_descriptors_and_a_city_file_amends_them(tmp_path: Path) -> None:
    packaged = load_processing()
    assert packaged["sources"] == {}        # no per-source fact left in processing.yaml
    entries = processing_entries(packaged["sources"])
    assert set(entries) == set(load_sources())
    assert entries["social_media"]["legal_basis"] is None and entries["patrols"]["data_subjects"] == []
    city_file = tmp_path / "processing.yaml"
    city_file.write_text((PLUGIN_ROOT.parents[2] / "src" / "observatoire" / "regulator" / "processing.yaml")
                         .read_text(encoding="utf-8").replace(
                             "sources: {}", "sources:\n  social_media:\n    legal_basis: Délibération n° 12\n"),
                         encoding="utf-8")
    amended = processing_entries(load_processing(city_file)["sources"])
    assert amended["social_media"]["legal_basis"] == "Délibération n° 12"
    assert amended["social_media"]["label"] == entries["social_media"]["label"]


def test_labels_and_discovery_natures_come_from_the_descriptors() -> None:
    from observatoire.api.routes.meta import SOURCE_LABELS_FR

    assert SOURCE_LABELS_FR["mains_courantes"] == "Mains courantes (police municipale)"
    assert set(SOURCE_LABELS_FR) == set(load_sources()) and SOURCE_LABELS_FR.get("nope", "nope") == "nope"
    assert discovery_natures() == {"mains_courantes": "mixed", "verbalisations": "directed",
                                   "municipal_reports": "directed", "cctv_events": "directed",
                                   "hospital": "independent", "social_media": "independent", "police_uk": "mixed",
                                   "planned_events": "planned", "stops": "directed"}


def test_the_descriptor_type_is_frozen() -> None:
    d = builtin_sources()["hospital"].descriptor
    assert isinstance(d, SourceDescriptor)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.label = "x"  # type: ignore[misc]


def test_a_plugin_s_attributes_are_read_from_a_store_written_before_it_was_installed(
        tmp_path: Path, city, keyring, scrubber) -> None:
    """Files written before a source added its attributes lack them: the store reads its files by column name,
    not in the first file's layout (which would drop the newer files' attributes without a word)."""
    store = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)
    packaged = builtin_sources()
    gate = Gate(plugin_policies(tmp_path), keyring, scrubber)
    [before] = ingest([packaged["mains_courantes"].descriptor.sample.path], store=store, city=city,
                      sources=packaged, gate=gate, now=NOW)
    assert before.committed and before.admitted > 0
    with installed(tmp_path / "site"):
        sources = load_sources()
        [after] = ingest([sources["noise311"].descriptor.sample.path], store=ParquetStore(tmp_path / "store",
                         zone_ids=city.zone_ids), city=city, sources=sources, gate=gate, now=NOW)
        assert after.committed and after.admitted == 4
        events = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids).events().to_pyarrow().to_pylist()
        noise = [e["attributes"]["noise311"] for e in events if e["source"] == "noise311"]
        assert len(noise) == 4 and {n["nature"] for n in noise} == {"musique", "travaux", "bar", "voisinage"}
        assert len(events) == before.admitted + 4


def test_a_plugin_on_an_empty_store_reads_as_no_events_with_its_attributes_in_the_schema(
        plugin, tmp_path: Path, city) -> None:
    """Before any file is ingested, the store's views already carry the plug-in's attribute struct (the
    empty view is built from the registered schema), so a query on its attributes answers zero rows, not
    an unknown-column error."""
    store = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)
    events = store.events()
    assert "noise311" in events.schema()["attributes"].names
    assert events.filter(events.source == "noise311").count().to_pyarrow().as_py() == 0
    assert events.attributes["noise311"]["nature"].name("n").to_pyarrow().to_pylist() == []
    days = store.daily_counts(tz=city.timezone, sources=["noise311"])
    assert days is None or days.num_rows == 0


@pytest.mark.parametrize("edit, gap", [
    (lambda text: text.replace('decibels = "keep:number"\n', ""), r"noise311\.decibels: declared .* named by no rule"),
    (lambda text: text.replace('telephone = "pseudonymise:phone"', 'telephone = "keep:vocabulary"'),
     r"noise311\.telephone: action keep does not fit the role"),
])
def test_an_incomplete_policy_refuses_the_file_before_any_row_is_read(
        plugin, tmp_path: Path, city, keyring, scrubber, edit, gap) -> None:
    """A source's policy that misses a declared field, or gives it an action its privacy role forbids, is
    refused at the gate with the gap named; nothing is stored, nothing quarantined."""
    from .conftest import PACKAGED_POLICIES, PLUGIN_POLICY

    path = tmp_path / "policies.toml"
    path.write_text(PACKAGED_POLICIES.read_text(encoding="utf-8") + "\n"
                    + edit(PLUGIN_POLICY.read_text(encoding="utf-8")), encoding="utf-8")
    gate = Gate(load_policies(path), keyring, scrubber)
    store = ParquetStore(tmp_path / "store", zone_ids=city.zone_ids)
    with pytest.raises(InputError, match=gap):
        ingest([plugin["noise311"].descriptor.sample.path], store=store, city=city, sources=plugin, gate=gate,
               now=NOW)
    assert store.events().count().to_pyarrow().as_py() == 0
