"""The open-data sources against their registrations: policies, attribute struct, entry points, docs.

Until the lead registers them (``docs/opendata.md``, *Registration*), the checks that need the
registration are skipped with that reason; the ones that compare texts run now.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from observatoire.event.schema import ATTRIBUTES
from observatoire.gate.policy import load_policies
from observatoire.ingest.pipeline import ingest
from observatoire.sources import police_uk, ssmsi
from observatoire.city.west_yorkshire import west_yorkshire_profile
from observatoire.sources.police_uk import ATTRIBUTES_TYPE, PoliceUk
from observatoire.sources.registry import load_sources, resolve
from observatoire.sources.ssmsi import FIELDS, Ssmsi
from observatoire.store.parquet import ParquetStore

HERE = Path(__file__).resolve().parent
POLICIES = HERE / "policies_opendata.toml"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "opendata.md"
SOURCES = {"police_uk": PoliceUk(), "ssmsi": Ssmsi()}
EXAMPLE_NAMES = {
    "police_uk": ("2018-07-west-yorkshire-street.csv", "2018-07-west-yorkshire-street.csv.gz"),
    "ssmsi": ("donnee-data.gouv-2024-geographie2024-produit-le2025-03-14.csv", "ssmsi_marseille.csv"),
}
# Reasons the pipeline and the gate add for every source.
COMMON_REASONS = {"malformed_row", "formula_cell", "oversized_field", "duplicate_event", "invalid_value"}


def _reasons_in(module) -> set[str]:
    """Reason codes a connector can give: every ``reject(<mask>, "<code>", ...)`` of its source."""
    text = Path(module.__file__).read_text(encoding="utf-8")
    return set(re.findall(r'reject\(.*?,\s*"([a-z_]+)",\s*(?:#[^\n]*\n\s*)?"', text, flags=re.S))


def test_the_policies_name_exactly_the_fields_each_source_reads() -> None:
    policies = load_policies(POLICIES)
    assert set(policies.of("police_uk").fields) == set(PoliceUk.columns) | set(PoliceUk.optional)
    assert set(policies.of("ssmsi").fields) == set(FIELDS)
    assert not any(p.coarsen_time or p.coarsen_place for p in policies.sources.values())


def test_when_the_packaged_policies_have_the_open_data_sections_then_they_are_these_ones() -> None:
    packaged_text = (resources.files("observatoire.gate") / "policies.toml").read_text(encoding="utf-8")
    packaged, ours = tomllib.loads(packaged_text), tomllib.loads(POLICIES.read_text(encoding="utf-8"))
    for name, section in ours.items():
        if name in packaged:
            assert packaged[name] == section, f"policies.toml [{name}] differs from {POLICIES.name}"
        else:  # not added yet: it must merge with the packaged file as it stands
            tomllib.loads(packaged_text + "\n" + f"[{name}.fields]\n" + "\n".join(
                f'"{k}" = "{v}"' for k, v in section["fields"].items()))


def test_when_the_schema_registers_police_uk_then_its_struct_is_the_connectors() -> None:
    assert "ssmsi" not in ATTRIBUTES          # a reference table, not events: no attribute struct
    if "police_uk" not in ATTRIBUTES:
        pytest.skip("police_uk is not in event/schema.py ATTRIBUTES yet (docs/opendata.md, Registration)")
    assert ATTRIBUTES["police_uk"] == ATTRIBUTES_TYPE


@pytest.mark.skipif("police_uk" not in ATTRIBUTES, reason="police_uk is not in event/schema.py ATTRIBUTES yet")
def test_when_police_uk_attributes_are_registered_then_events_carry_them(
        tmp_path: Path, opendata_gate, west_yorkshire) -> None:
    path = tmp_path / "2018-07-x-street.csv"
    path.write_text("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
                    "Crime type,Last outcome category,Context\n"
                    "abc1,2018-07,West Yorkshire Police,West Yorkshire Police,-1.548567,53.797418,On or near Park Row,"
                    "E01033010,Leeds 111B,Shoplifting,Under investigation,\n", encoding="utf-8")
    store = ParquetStore(tmp_path / "store", zone_ids=west_yorkshire.zone_ids)
    ingest([path], store=store, city=west_yorkshire, sources=SOURCES, gate=opendata_gate)
    [event] = store.events().to_pyarrow().to_pylist()
    assert event["attributes"]["police_uk"] == {
        "crime_id": opendata_gate.keyring.record_digests(["abc1"])[0], "crime_type": "Shoplifting", "last_outcome": "Under investigation",
        "reported_by": "West Yorkshire Police", "falls_within": "West Yorkshire Police"}


def test_each_example_file_name_resolves_to_its_source_among_all_sources() -> None:
    every = {**load_sources(), **SOURCES}
    for name, examples in EXAMPLE_NAMES.items():
        for example in examples:
            assert resolve(Path(example), every).name == name


def test_when_the_entry_points_are_registered_then_they_give_these_classes() -> None:
    registered = load_sources()
    missing = [n for n in SOURCES if n not in registered]
    if missing:
        pytest.skip(f"entry point(s) {', '.join(missing)} not registered yet (pyproject.toml, then pip install -e .)")
    assert isinstance(registered["police_uk"], PoliceUk) and isinstance(registered["ssmsi"], Ssmsi)


def test_the_docs_name_every_field_and_every_quarantine_reason() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for field in [*PoliceUk.columns, *PoliceUk.optional, *FIELDS]:
        assert f"`{field}`" in docs, field
    reasons = _reasons_in(police_uk) | _reasons_in(ssmsi) | COMMON_REASONS | {
        "missing_timestamp", "future_date", "unknown_zone", "outside_city", "duplicate_in_file"}
    assert _reasons_in(police_uk) >= {"missing_location", "unmapped_crime_type"}
    for reason in reasons:
        assert f"`{reason}`" in docs, reason
    for code in {c for c in police_uk.CRIME_TYPES.values() if c} | {c for c in ssmsi.INDICATORS.values() if c}:
        assert f"`{code}`" in docs, code


def test_the_west_yorkshire_zones_are_distinct_codes_of_the_census() -> None:
    city = west_yorkshire_profile()
    assert all(re.fullmatch(r"E0\d{7}", z.zone_id) for z in city.zones)
