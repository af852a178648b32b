"""The SSMSI communal base as a reference table: published figures kept, hidden ones null, hostile cells refused.

``ssmsi_illustrative_sample.csv`` has the layout of the 2025 edition (UTF-8 with a BOM, quoted
cells, decimal commas, ``NA``); its figures are invented, not official statistics.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from observatoire.city.profile import CityProfile, load_city
from observatoire.errors import InputError, SchemaError
from observatoire.ingest.pipeline import ingest
from observatoire.sources.ssmsi import INDICATORS, SSMSI_SCHEMA, Ssmsi, fold
from observatoire.store.parquet import ParquetStore

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parent / "ssmsi_illustrative_sample.csv"
HEADER_2025 = ("CODGEO_2025;annee;indicateur;unite_de_compte;nombre;taux_pour_mille;est_diffuse;insee_pop;"
               "insee_pop_millesime;insee_log;insee_log_millesime;complement_info_nombre;complement_info_taux")
# The 2023-2024 editions: other names, two-digit years, unquoted cells.
HEADER_2024 = ("CODGEO_2024;annee;classe;unité.de.compte;valeur.publiée;faits;tauxpourmille;complementinfoval;"
               "complementinfotaux;POP;millPOP;LOG;millLOG")


def _sample_text() -> str:
    return SAMPLE.read_bytes().decode("utf-8-sig")


def _as_2024_edition(text: str) -> str:
    """The sample rewritten with the 2023-2024 column names, order and two-digit years."""
    header, *lines = text.splitlines()
    out = [HEADER_2024]
    for line in lines:
        c = [v.strip('"') for v in line.split(";")]
        code, year, ind, unit, n, rate, flag, pop, pop_y, log, log_y, cn, ct = c
        out.append(";".join([code, year[2:], ind, unit, flag, n, rate, cn, ct, pop, pop_y[2:], log, log_y[2:]]))
    return "\n".join(out) + "\n"


def _write(directory: Path, name: str, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


@pytest.fixture(scope="module")
def marseille() -> CityProfile:
    return load_city()


@pytest.fixture
def store(tmp_path: Path, marseille: CityProfile) -> ParquetStore:
    return ParquetStore(tmp_path / "store", zone_ids=marseille.zone_ids)


def _ingest(paths, store, city, sources, gate):
    return ingest(paths, store=store, city=city, sources={"ssmsi": sources["ssmsi"]}, gate=gate, now=NOW)


def _reference(store: ParquetStore) -> pa.Table:
    return store.reference("ssmsi").to_pyarrow().sort_by([("commune_code", "ascending"), ("year", "ascending"),
                                                          ("indicator", "ascending")])


def _quarantine(store: ParquetStore) -> dict[int, str]:
    q = store.quarantine().to_pyarrow()
    return dict(zip(q["source_row"].to_pylist(), q["reason"].to_pylist()))


def test_when_the_sample_is_ingested_then_published_figures_are_kept_and_hidden_ones_stay_null(
        tmp_path: Path, store, marseille, opendata_sources, opendata_gate) -> None:
    [report] = _ingest([SAMPLE], store, marseille, opendata_sources, opendata_gate)
    lines = _sample_text().splitlines()[1:]
    assert report.source == "ssmsi" and report.rows_read == len(lines) == report.admitted and report.quarantined == 0
    assert report.dropped_fields == {"complement_info_nombre": "drop", "complement_info_taux": "drop"}
    ref = _reference(store)
    assert [(f.name, f.type) for f in ref.schema] == [(f.name, f.type) for f in SSMSI_SCHEMA]
    rows = {(r["commune_code"], r["year"], r["indicator"]): r for r in ref.to_pylist()}

    total = rows[("13055", 2024, "Cambriolages de logement")]
    assert total["count"] == 4055 and total["rate_per_mille"] == pytest.approx(8.7834633)
    assert total["rate_base"] == "dwellings" and total["category"] == "burglary" and total["unit"] == "Infraction"
    assert (total["population"], total["population_year"], total["dwellings"]) == (863310, 2021, 461663.0)
    assert total["zone_id"] is None            # the commune as a whole is not one of the profile's zones
    # The arrondissements are the zones of the Marseille profile.
    assert {r["zone_id"] for r in ref.to_pylist() if r["commune_code"].startswith("132")} == marseille.zone_ids
    hidden = rows[("13216", 2024, "Trafic de stupéfiants")]
    assert (hidden["published"], hidden["count"], hidden["rate_per_mille"]) == (False, None, None)
    assert hidden["category"] == "drugs" and hidden["population"] > 0
    assert ref.filter(pc.invert(ref["published"]))["count"].null_count == len(
        [line for line in lines if '"ndiff"' in line])
    assert rows[("13201", 2024, "Escroqueries et fraudes aux moyens de paiement")]["category"] is None
    assert rows[("2A004", 2024, "Cambriolages de logement")]["count"] > 0       # Corsica keeps its letter
    assert rows[("01001", 2024, "Vols avec armes")]["published"] is False      # leading zero kept
    assert rows[("13201", 2024, "Vols sans violence contre des personnes")]["rate_base"] == "inhabitants"
    # The departmental mean of hidden communes is nowhere in the store.
    stored = " ".join(str(v) for v in ref.to_pylist())
    assert "2.4117647" not in stored and "0.893211" not in stored


@pytest.mark.parametrize("variant", ["cp1252", "utf8_without_bom", "edition_2024"])
def test_when_the_sample_comes_in_another_encoding_or_edition_then_the_table_is_the_same(
        tmp_path: Path, variant: str, marseille, opendata_sources, opendata_gate) -> None:
    expected_store = ParquetStore(tmp_path / "a", zone_ids=marseille.zone_ids)
    _ingest([SAMPLE], expected_store, marseille, opendata_sources, opendata_gate)
    text = _sample_text()
    if variant == "edition_2024":
        path = _write(tmp_path / "in", "donnee-data.gouv-2024-geographie2024-produit-le2025-03-14.csv",
                      _as_2024_edition(text), encoding="cp1252")
    else:
        path = _write(tmp_path / "in", "ssmsi_variant.csv", text,
                      encoding="cp1252" if variant == "cp1252" else "utf-8")
    store = ParquetStore(tmp_path / "b", zone_ids=marseille.zone_ids)
    [report] = _ingest([path], store, marseille, opendata_sources, opendata_gate)
    assert report.quarantined == 0
    assert _reference(store).equals(_reference(expected_store))


HOSTILE_ROWS = {
    # row -> (line, reason or None)
    1: ('"13201";"2024";"Cambriolages de logement";"Infraction";"12";"0,5";"diff";"40919";"2021";"21881";"2021";NA;NA',
        None),
    2: ('"13201";"2024";"=HYPERLINK(""http://evil.example"",""Cambriolages"")";"Infraction";"12";"0,5";"diff";'
        '"40919";"2021";"21881";"2021";NA;NA', "formula_cell"),
    3: ('"13202";"2024";"' + "Vols" * 2000 + '";"Infraction";"1";"0,1";"diff";"1";"2021";"1";"2021";NA;NA',
        "oversized_field"),
    4: ('"Marseille";"2024";"Vols avec armes";"Infraction";"3";"0,1";"diff";"1";"2021";"1";"2021";NA;NA',
        "bad_commune"),
    5: ('"13203";"24x";"Vols avec armes";"Infraction";"3";"0,1";"diff";"1";"2021";"1";"2021";NA;NA', "bad_year"),
    6: ('"13203";"2031";"Vols avec armes";"Infraction";"3";"0,1";"diff";"1";"2021";"1";"2021";NA;NA', "future_year"),
    7: ('"13203";"2024";"";"Infraction";"3";"0,1";"diff";"1";"2021";"1";"2021";NA;NA', "missing_indicator"),
    8: ('"13203";"2024";"Vols avec armes";"Infraction";"3";"0,1";"publié";"1";"2021";"1";"2021";NA;NA',
        "bad_publication_flag"),
    9: ('"13204";"2024";"Vols avec armes";"Infraction";"-3";"0,1";"diff";"1";"2021";"1";"2021";NA;NA', "bad_count"),
    10: ('"13204";"2024";"Vols violents sans arme";"Infraction";"3,5";"0,1";"diff";"1";"2021";"1";"2021";NA;NA',
         "bad_count"),
    11: ('"13204";"2024";"Violences sexuelles";"Victime";NA;NA;"diff";"1";"2021";"1";"2021";NA;NA', "missing_count"),
    12: ('"13204";"2024";"Trafic de stupéfiants";"Mis en cause";"3";"beaucoup";"diff";"1";"2021";"1";"2021";NA;NA',
         "bad_rate"),
    13: ('"13205";"2024";"Trafic de stupéfiants";"Mis en cause";"3";"0,1";"diff";"mille";"2021";"1";"2021";NA;NA',
         "bad_denominator"),
    14: ('"13201";"2024";"Cambriolages  de logement";"infraction";"13";"0,6";"diff";"40919";"2021";"21881";"2021";'
         'NA;NA', "duplicate_in_file"),
    15: ('"13206";"2024";"Vols avec armes";"Infraction";"7";"1,3";"ndiff";"1";"2021";"1";"2021";"4,5";"1,1"', None),
    16: ('"1001";"2024";"Vols avec armes";"Infraction";"0";"0";"diff";"859";"2021";"402";"2021";NA;NA', None),
    17: ('"2a004";"2024";"Vols avec armes";"Infraction";NA;NA;"ndiff";"73787";"2021";"39458";"2021";"1";"0,1"', None),
    18: ('"13206";"2024";"Usage de stupéfiants";"Mis en cause";"4";', "malformed_row"),   # truncated last line
}


def test_when_rows_are_malformed_or_hostile_then_each_is_quarantined_with_its_reason(
        tmp_path: Path, store, marseille, opendata_sources, opendata_gate) -> None:
    text = HEADER_2025 + "\n" + "\n".join(line for line, _ in HOSTILE_ROWS.values())   # no final newline
    [report] = _ingest([_write(tmp_path / "in", "ssmsi_hostile.csv", text)], store, marseille, opendata_sources,
                       opendata_gate)
    assert report.rows_read == len(HOSTILE_ROWS) == report.admitted + report.quarantined
    assert _quarantine(store) == {row: reason for row, (_, reason) in HOSTILE_ROWS.items() if reason}
    ref = {r["commune_code"]: r for r in _reference(store).to_pylist()}
    assert set(ref) == {"13201", "13206", "01001", "2A004"}    # a lost leading zero restored, Corsica upper case
    # A row marked ndiff keeps no figure, even when its cells carry one.
    assert (ref["13206"]["published"], ref["13206"]["count"], ref["13206"]["rate_per_mille"]) == (False, None, None)
    tables = (store.quarantine(), store.reference("ssmsi"))
    stored = " ".join(str(v) for tbl in tables for v in tbl.to_pyarrow().to_pylist())
    assert "HYPERLINK" not in stored and "evil" not in stored


@pytest.mark.parametrize("header, message", [
    (HEADER_2025.replace("CODGEO_2025", "CODGEO_2024;CODGEO_2025"), "exactly one commune column"),
    (HEADER_2025.replace("CODGEO_2025", "Code.département"), "exactly one commune column"),
    (HEADER_2025.replace("taux_pour_mille", "taux_pour_mille;tauxpourmille"), "name the same field"),
    (HEADER_2025.replace("est_diffuse", "statut"), "missing column"),
])
def test_when_the_header_is_not_a_communal_base_then_the_file_is_refused(
        tmp_path: Path, header: str, message: str) -> None:
    path = _write(tmp_path, "ssmsi_bad.csv", header + "\n")
    with pytest.raises(SchemaError, match=message):
        Ssmsi().read(path, "Europe/Paris")


def test_when_a_column_is_named_by_no_policy_then_the_gate_refuses_the_file(
        tmp_path: Path, store, marseille, opendata_sources, opendata_gate) -> None:
    text = HEADER_2025 + ";commentaire\n" + HOSTILE_ROWS[1][0] + ';"appel de Mme Martin"\n'
    with pytest.raises(InputError, match="named by no privacy policy"):
        _ingest([_write(tmp_path / "in", "ssmsi_extra.csv", text)], store, marseille, opendata_sources, opendata_gate)


def test_when_a_newer_release_is_ingested_then_it_replaces_the_reference(
        tmp_path: Path, store, marseille, opendata_sources, opendata_gate) -> None:
    _ingest([SAMPLE], store, marseille, opendata_sources, opendata_gate)
    newer = _write(tmp_path / "in", "ssmsi_2025.csv", HEADER_2025 + "\n" + HOSTILE_ROWS[1][0] + "\n")
    _ingest([newer], store, marseille, opendata_sources, opendata_gate)
    assert store.reference("ssmsi").count().to_pyarrow().as_py() == 1


def test_every_indicator_of_the_sample_is_in_the_mapping_table() -> None:
    labels = {re.split(r'";"', line)[2] for line in _sample_text().splitlines()[1:]}
    assert {fold(label) for label in labels} <= set(INDICATORS)
